// Audio formats of the speech API, encoded incrementally so a response can be streamed as it is generated.
// wav and pcm are written here (the same s16le samples as `vibevoice synth --raw -`; the WAV header has the
// "unknown length" sizes of streaming WAV); flac, mp3 and Ogg Opus are encoded by libsndfile through its
// virtual-I/O interface, fed the same 16-bit samples.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace vv::server {

enum class AudioFormat { kWav, kPcm, kMp3, kOpus, kFlac };

// nullopt for an unknown name.
std::optional<AudioFormat> parse_audio_format(std::string_view name);
const char* format_name(AudioFormat format);
const char* content_type(AudioFormat format);

class AudioEncoder {
 public:
  // Throws vv::Error(kRuntime) if the encoder cannot be created.
  static std::unique_ptr<AudioEncoder> create(AudioFormat format, int sample_rate);
  virtual ~AudioEncoder() = default;
  // Encodes more samples; returns the bytes that are ready to be sent (may be empty).
  virtual std::string encode(std::span<const float> samples) = 0;
  // Ends the stream; returns the remaining bytes.
  virtual std::string finish() = 0;
};

}  // namespace vv::server
