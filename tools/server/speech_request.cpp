#include "server/speech_request.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace vv::server {

namespace {

using json = nlohmann::json;

const json& field(const json& body, const char* name, json::value_t type, const char* type_name) {
  const json& v = body.at(name);
  const bool ok = v.type() == type || (type == json::value_t::number_float && v.is_number());
  if (!ok) throw BadRequest{std::string("'") + name + "' must be " + type_name, name};
  return v;
}

}  // namespace

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string parse_voice(const json& voice, const std::vector<std::string>& voices) {
  std::string name;
  if (voice.is_string()) {
    name = voice.get<std::string>();
  } else if (voice.is_object() && voice.contains("id") && voice.at("id").is_string()) {
    name = voice.at("id").get<std::string>();
  } else {
    throw BadRequest{"'voice' must be a voice name or {\"id\": name}", "voice"};
  }
  if (std::find(voices.begin(), voices.end(), name) == voices.end()) {
    std::string names;
    for (const std::string& v : voices) names += (names.empty() ? "" : ", ") + v;
    throw BadRequest{"unknown voice '" + name + "'; available voices: " + names, "voice"};
  }
  return name;
}

void parse_generation_fields(const json& body, SynthesisOptions& options, int sample_rate,
                             int samples_per_frame) {
  if (body.contains("seed")) {
    const json& s = body.at("seed");
    if (!s.is_number_unsigned()) throw BadRequest{"'seed' must be a whole number in 0..2^64-1", "seed"};
    options.seed = s.get<uint64_t>();
  }
  if (body.contains("cfg_scale")) {
    const double cfg = field(body, "cfg_scale", json::value_t::number_float, "a number").get<double>();
    if (!(cfg >= 0 && cfg <= 100)) throw BadRequest{"'cfg_scale' must be in 0..100", "cfg_scale"};
    options.cfg_scale = static_cast<float>(cfg);
  }
  if (body.contains("steps")) {
    const json& s = body.at("steps");
    if (!s.is_number_integer() || s.get<int64_t>() < 1 || s.get<int64_t>() > 50)
      throw BadRequest{"'steps' must be a whole number in 1..50", "steps"};
    options.steps = s.get<int>();
  }
  if (body.contains("max_seconds")) {
    const double s = field(body, "max_seconds", json::value_t::number_float, "a number").get<double>();
    if (!(s > 0 && s <= 3600)) throw BadRequest{"'max_seconds' must be in (0, 3600]", "max_seconds"};
    const double frames = s * sample_rate / samples_per_frame;
    options.max_frames = static_cast<int64_t>(std::ceil(frames));
  }
  if (body.contains("ignore_eos"))
    options.ignore_eos = field(body, "ignore_eos", json::value_t::boolean, "true or false").get<bool>();
}

// Extension: "script": true (the input is "Name: text" lines), "voices": {"Name": voice} (a speaker not
// listed gets "voice"), "pause": seconds between turns.
void parse_script_fields(const json& body, SpeechRequest& r, const SpeechLimits& limits) {
  if (body.contains("script"))
    r.script = field(body, "script", json::value_t::boolean, "true or false").get<bool>();
  if (!r.script) {
    for (const char* name : {"voices", "pause"})
      if (body.contains(name)) throw BadRequest{std::string("'") + name + "' needs \"script\": true", name};
    return;
  }
  r.script_options.default_voice = r.voice;
  if (body.contains("voices")) {
    const json& v = body.at("voices");
    if (!v.is_object()) throw BadRequest{"'voices' must be an object {\"Name\": voice}", "voices"};
    for (const auto& item : v.items())
      r.script_options.voices.emplace_back(item.key(), parse_voice(item.value(), limits.voices));
  }
  if (body.contains("pause")) {
    const double p = field(body, "pause", json::value_t::number_float, "a number").get<double>();
    if (!(p >= 0 && p <= 10)) throw BadRequest{"'pause' must be in 0..10 seconds", "pause"};
    r.script_options.pause_seconds = p;
  }
}

SpeechRequest parse_speech_request(std::string_view content_type, std::string_view body_text,
                                   const SpeechLimits& limits) {
  if (content_type.substr(0, 16) != "application/json")
    throw BadRequest{"Content-Type must be application/json", "", 415};
  json body;
  try {
    body = json::parse(body_text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e400
    throw BadRequest{std::string("the body is not valid JSON: ") + e.what(), ""};
  }
  if (!body.is_object()) throw BadRequest{"the body must be a JSON object", ""};
  // OpenAI's fields ("instructions" is accepted and ignored), then our extensions.
  static const char* kKnown[] = {"model",         "input",        "voice",  "response_format", "speed",
                                 "stream_format", "instructions", "seed",   "cfg_scale",       "steps",
                                 "max_seconds",   "ignore_eos",   "script", "voices",          "pause",
                                 "timestamps",    "normalize"};
  for (const auto& item : body.items()) {
    const std::string& key = item.key();
    if (std::find_if(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return key == k; }) ==
        std::end(kKnown))
      throw BadRequest{"unknown field '" + key + "'", key};
  }
  SpeechRequest r;
  if (body.contains("model"))
    r.model = field(body, "model", json::value_t::string, "a string").get<std::string>();
  if (!body.contains("input")) throw BadRequest{"'input' is required", "input"};
  r.input = field(body, "input", json::value_t::string, "a string").get<std::string>();
  const size_t chars = code_points(r.input);
  if (chars == 0) throw BadRequest{"'input' is empty", "input"};
  if (chars > limits.max_input_chars) {
    throw BadRequest{"'input' has " + std::to_string(chars) + " characters; the limit is " +
                         std::to_string(limits.max_input_chars),
                     "input"};
  }
  if (!body.contains("voice")) throw BadRequest{"'voice' is required", "voice"};
  r.voice = parse_voice(body.at("voice"), limits.voices);
  if (body.contains("response_format")) {
    const std::string f =
        field(body, "response_format", json::value_t::string, "a string").get<std::string>();
    if (f == "aac") {
      throw BadRequest{
          "response_format 'aac' is not supported (no acceptable AAC encoder is available); use "
          "mp3, opus, flac, wav or pcm",
          "response_format"};
    }
    const auto format = parse_audio_format(f);
    if (!format)
      throw BadRequest{"response_format must be one of mp3, opus, flac, wav, pcm", "response_format"};
    r.format = *format;
  }
  if (body.contains("speed")) {
    const double speed = field(body, "speed", json::value_t::number_float, "a number").get<double>();
    if (speed != 1.0)
      throw BadRequest{"only speed 1.0 is supported (the model has no speed control)", "speed"};
  }
  if (body.contains("stream_format")) {
    const std::string f = field(body, "stream_format", json::value_t::string, "a string").get<std::string>();
    if (f != "audio" && f != "sse")
      throw BadRequest{"stream_format must be 'audio' or 'sse'", "stream_format"};
    r.sse = f == "sse";
  }
  if (body.contains("instructions")) field(body, "instructions", json::value_t::string, "a string");
  r.options.voice = r.voice;
  parse_generation_fields(body, r.options, limits.sample_rate, limits.samples_per_frame);
  parse_script_fields(body, r, limits);
  if (body.contains("normalize"))  // extension: read numbers, money, dates, ... as words
    r.options.normalize = field(body, "normalize", json::value_t::boolean, "true or false").get<bool>();
  if (body.contains("timestamps")) {
    r.timestamps = field(body, "timestamps", json::value_t::boolean, "true or false").get<bool>();
    if (r.timestamps && !r.sse)
      throw BadRequest{"'timestamps' needs \"stream_format\": \"sse\" (they come as an event)", "timestamps"};
  }
  return r;
}

}  // namespace vv::server
