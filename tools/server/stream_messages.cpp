#include "server/stream_messages.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/speech_request.h"

namespace vv::server {

namespace {

using json = nlohmann::json;

void check_known(const json& msg, std::initializer_list<const char*> known) {
  for (const auto& item : msg.items()) {
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return item.key() == k; }))
      throw ProtocolError{"bad_message",
                          "unknown field '" + item.key() + "' in " + msg.at("type").get<std::string>()};
  }
}

StreamConfig apply_config(const json& msg, const StreamConfig& current, const SpeechLimits& limits) {
  check_known(msg, {"type", "voice", "seed", "cfg_scale", "steps", "max_seconds", "ignore_eos", "format"});
  StreamConfig c = current;
  try {
    if (msg.contains("voice")) c.options.voice = parse_voice(msg.at("voice"), limits.voices);
    parse_generation_fields(msg, c.options, limits.sample_rate, limits.samples_per_frame);
  } catch (const BadRequest& bad) {
    throw ProtocolError{"invalid_config", "session.config: " + bad.message};
  }
  if (msg.contains("format")) {
    const json& f = msg.at("format");
    if (f == "pcm16") {
      c.format = SampleFormat::kPcm16;
    } else if (f == "f32") {
      c.format = SampleFormat::kF32;
    } else {
      throw ProtocolError{"invalid_config", "session.config: 'format' must be \"pcm16\" or \"f32\""};
    }
  }
  return c;
}

}  // namespace

const char* format_name(SampleFormat format) {
  return format == SampleFormat::kF32 ? "f32" : "pcm16";
}

ClientMessage parse_client_message(std::string_view json_text, const StreamConfig& current,
                                   const SpeechLimits& limits) {
  json msg;
  try {
    msg = json::parse(json_text);
  } catch (const json::exception& e) {
    throw ProtocolError{"bad_message", std::string("the message is not valid JSON: ") + e.what(), true};
  }
  if (!msg.is_object() || !msg.contains("type") || !msg.at("type").is_string())
    throw ProtocolError{"bad_message", "a message must be a JSON object with a string \"type\"", true};
  const std::string type = msg.at("type").get<std::string>();
  ClientMessage m;
  if (type == "session.config") {
    m.kind = ClientMessage::kConfig;
    m.config = apply_config(msg, current, limits);
  } else if (type == "input.text") {
    check_known(msg, {"type", "text"});
    if (!msg.contains("text") || !msg.at("text").is_string())
      throw ProtocolError{"bad_message", "input.text needs a string \"text\""};
    m.kind = ClientMessage::kText;
    m.text = msg.at("text").get<std::string>();
  } else if (type == "input.done" || type == "cancel") {
    check_known(msg, {"type"});
    m.kind = type == "cancel" ? ClientMessage::kCancel : ClientMessage::kDone;
  } else {
    throw ProtocolError{
        "bad_message",
        "unknown message type '" + type + "' (expected session.config, input.text, input.done or cancel)",
        true};
  }
  return m;
}

}  // namespace vv::server
