// The body of POST /v1/audio/speech (the OpenAI contract plus our extensions), parsed and validated
// completely before anything is generated. Kept apart from the HTTP plumbing so it can be fuzzed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/audio_encoder.h"
#include "vibevoice/vibevoice.hpp"

namespace vv::server {

// A request the client got wrong: HTTP `status` (400 or 415) and the offending field (`param`, may be empty).
struct BadRequest {
  std::string message, param;
  int status = 400;
};

struct SpeechRequest {
  std::string model, input, voice;
  AudioFormat format = AudioFormat::kMp3;
  bool sse = false;
  SynthesisOptions options;  // voice, seed, cfg_scale, steps, max_frames, ignore_eos
};

struct SpeechLimits {
  size_t max_input_chars = 4096;
  std::vector<std::string> voices;  // the names a request may ask for
  int sample_rate = 24000, samples_per_frame = 3200;
};

// Throws BadRequest for anything but a valid request.
SpeechRequest parse_speech_request(std::string_view content_type, std::string_view body,
                                   const SpeechLimits& limits);

// Unicode code points of valid UTF-8 (what "characters" means for the input limit).
size_t code_points(std::string_view utf8);

}  // namespace vv::server
