// The body of POST /v1/audio/speech (the OpenAI contract plus our extensions), parsed and validated
// completely before anything is generated. Kept apart from the HTTP plumbing so it can be fuzzed.
#pragma once

#include <nlohmann/json_fwd.hpp>
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
  bool script = false;       // extension: the input is a multi-voice script
  bool timestamps = false;   // extension (sse only): a speech.timestamps event with word/sentence times
  ScriptOptions script_options;
};

struct SpeechLimits {
  size_t max_input_chars = 4096;
  std::vector<std::string> voices;  // the names a request may ask for
  int sample_rate = 24000, samples_per_frame = 3200;
};

// Throws BadRequest for anything but a valid request.
SpeechRequest parse_speech_request(std::string_view content_type, std::string_view body,
                                   const SpeechLimits& limits);

// Fields every synthesis request shares, with one set of rules (the speech body, the WebSocket
// session.config); BadRequest names the field. A voice is a name or {"id": name} and must be in `voices`.
std::string parse_voice(const nlohmann::json& voice, const std::vector<std::string>& voices);
// "seed" (0..2^64-1), "cfg_scale" (0..100), "steps" (1..50), "max_seconds" (0..3600, as frames) and
// "ignore_eos", when present.
void parse_generation_fields(const nlohmann::json& body, SynthesisOptions& options, int sample_rate,
                             int samples_per_frame);

// Unicode code points of valid UTF-8 (what "characters" means for the input limit).
size_t code_points(std::string_view utf8);

}  // namespace vv::server
