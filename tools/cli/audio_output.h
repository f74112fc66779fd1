// Where `vibevoice synth` puts its audio, and the promise it keeps about the user's files:
//   - nothing is created or truncated before the first audio chunk exists (so every validation error,
//     which comes earlier, leaves the disk as it was);
//   - a WAV target is written to a temporary file beside it (".NAME.part-XXXXXX", same directory, so the
//     rename is atomic) whose header is valid after every chunk, and renamed over the target by commit();
//   - commit() after an error or an interruption still publishes the audio produced so far as a valid WAV;
//     discard() (or destruction without commit) removes the temporary file and leaves the target untouched.
// An existing target that is not a regular file (a FIFO, /dev/stdout) is written in place, as a stream.
#pragma once

#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "audio/wav.h"

namespace vv::cli {

class AudioOutput {
 public:
  // Checks the target now (kUsage: a directory, a missing or unwritable parent directory); creates nothing.
  static AudioOutput wav_file(const std::filesystem::path& target, int sample_rate);
  static AudioOutput raw_stdout();  // s16le PCM on stdout, flushed after every chunk

  AudioOutput(AudioOutput&&) noexcept;
  AudioOutput& operator=(AudioOutput&&) noexcept;
  ~AudioOutput();  // discards an uncommitted temporary file; never throws

  void write(std::span<const float> samples);  // kRuntime on I/O failure
  // Publishes the output (a WAV with no samples if none were written). Idempotent.
  void commit();
  void discard();
  bool started() const { return samples_ > 0; }
  int64_t samples() const { return samples_; }
  const std::filesystem::path& target() const { return target_; }

  // Validates a path that will be written at the end (e.g. --dump-latents) without touching it.
  static void check_writable_target(const std::filesystem::path& target, const char* option);

 private:
  AudioOutput() = default;
  void open();

  enum class Mode { kWavFile, kWavInPlace, kRawStdout } mode_ = Mode::kRawStdout;
  std::filesystem::path target_, temp_;
  int sample_rate_ = 0;
  unsigned file_mode_ = 0644;  // permissions of the published file: the existing target's, else 0666 & ~umask
  std::FILE* file_ = nullptr;
  std::unique_ptr<WavWriter> wav_;
  int64_t samples_ = 0;
  bool done_ = false;
};

}  // namespace vv::cli
