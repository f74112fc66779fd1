// The client messages of WS /v1/audio/stream, parsed and validated apart from the connection so they can
// be fuzzed: session.config, input.text, input.done, cancel (JSON text frames).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/speech_request.h"
#include "vibevoice/vibevoice.hpp"

namespace vv::server {

enum class SampleFormat { kPcm16, kF32 };  // binary audio frames: s16le (as the speech API's pcm) or f32le

// A message the server refuses: the `error` message's code and text; `fatal` closes the connection (1008).
struct ProtocolError {
  std::string code, message;
  bool fatal = false;
};

// Settings for the next utterances; session.config overrides the fields it names.
struct StreamConfig {
  SynthesisOptions options;  // voice, seed, cfg_scale, steps, max_frames, ignore_eos
  SampleFormat format = SampleFormat::kPcm16;
};

struct ClientMessage {
  enum Kind { kConfig, kText, kDone, kCancel } kind = kCancel;
  std::string text;     // kText
  StreamConfig config;  // kConfig: `current` with the message's fields applied
};

// Throws ProtocolError: bad JSON, not an object or an unknown "type" ("bad_message", fatal); a field of
// session.config or input.text that is wrong ("invalid_config" / "bad_message", not fatal).
ClientMessage parse_client_message(std::string_view json_text, const StreamConfig& current,
                                   const SpeechLimits& limits);

const char* format_name(SampleFormat format);

}  // namespace vv::server
