// Audio output: float samples -> 16-bit PCM, as a streaming RIFF/WAVE file or as raw s16le.
//
// The WAV writer is built for streaming: the header is written at open with size fields that are patched
// on close(). On a seekable file the sizes are also patched (and the file flushed) after every write(), so
// a process killed mid-utterance leaves a valid WAV holding everything written so far. On a non-seekable
// stream (pipe, stdout) the sizes cannot be patched and are written as 0xFFFFFFFF, the "unknown length"
// convention of streaming WAV that ffmpeg, sox and browsers accept.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace vv {

// Clamp to [-1, 1] then round(x * 32767) (half away from zero); NaN becomes 0.
std::vector<int16_t> float_to_pcm16(std::span<const float> samples);

// The same samples as little-endian s16 bytes, whatever the host byte order.
std::vector<uint8_t> float_to_pcm16_le(std::span<const float> samples);

// Raw little-endian s16 mono for piping (e.g. to stdout). Throws kRuntime if the write fails.
void write_pcm16(std::FILE* out, std::span<const float> samples);

class WavWriter {  // mono, 16-bit PCM
 public:
  // Creates/truncates `path`; throws Error(kRuntime) naming the path if it cannot be opened or written.
  WavWriter(const std::filesystem::path& path, int sample_rate);
  // Writes to a stream the caller owns and keeps open (e.g. stdout); close() flushes but does not fclose.
  // `name` is used in error messages.
  WavWriter(std::FILE* stream, int sample_rate, std::string name = "<output stream>");
  ~WavWriter();  // closes; never throws
  WavWriter(const WavWriter&) = delete;
  WavWriter& operator=(const WavWriter&) = delete;

  void write(std::span<const float> samples);  // kRuntime on I/O failure or past the 4 GiB WAV limit
  void close();                                // patches the header; idempotent
  int64_t samples_written() const { return samples_written_; }
  int sample_rate() const { return sample_rate_; }
  bool seekable() const { return seekable_; }

 private:
  void write_header();
  void patch_sizes();
  [[noreturn]] void io_failure(const char* what) const;

  std::string name_;
  std::FILE* file_ = nullptr;
  bool owns_file_ = false;
  bool seekable_ = false;
  int sample_rate_ = 0;
  int64_t samples_written_ = 0;
};

}  // namespace vv
