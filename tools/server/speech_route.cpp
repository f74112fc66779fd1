// POST /v1/audio/speech: the OpenAI text-to-speech contract. The body is validated completely before
// anything is generated (400 naming the field); audio is streamed with chunked transfer as it is decoded,
// either as the audio file itself (stream_format "audio") or as server-sent events ("sse").
#include <boost/beast/core/detail/base64.hpp>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "server/audio_encoder.h"
#include "server/server_impl.h"

namespace vv::server {

namespace {

using json = nlohmann::json;

struct BadRequest {
  std::string message, param;
  http::status status = http::status::bad_request;
};

struct SpeechRequest {
  std::string model, input, voice;
  AudioFormat format = AudioFormat::kMp3;
  bool sse = false;
  SynthesisOptions options;
};

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

const json& field(const json& body, const char* name, json::value_t type, const char* type_name) {
  const json& v = body.at(name);
  const bool ok = v.type() == type || (type == json::value_t::number_float && v.is_number());
  if (!ok) throw BadRequest{std::string("'") + name + "' must be " + type_name, name};
  return v;
}

std::string voice_list(const Engine& engine) {
  std::string names;
  for (const VoiceDescription& v : engine.voices()) names += (names.empty() ? "" : ", ") + v.name;
  return names;
}

SpeechRequest parse_request(const Exchange& ex) {
  const auto type = ex.request.find(http::field::content_type);
  if (type == ex.request.end() || type->value().substr(0, 16) != "application/json")
    throw BadRequest{"Content-Type must be application/json", "", http::status::unsupported_media_type};
  json body;
  try {
    body = json::parse(ex.request.body());
  } catch (const json::parse_error& e) {
    throw BadRequest{std::string("the body is not valid JSON: ") + e.what(), ""};
  }
  if (!body.is_object()) throw BadRequest{"the body must be a JSON object", ""};
  // OpenAI's fields ("instructions" is accepted and ignored), then our extensions.
  static const char* kKnown[] = {"model",     "input",         "voice",        "response_format",
                                 "speed",     "stream_format", "instructions", "seed",
                                 "cfg_scale", "steps",         "max_seconds",  "ignore_eos"};
  for (const auto& [key, value] : body.items()) {
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
  if (chars > ex.server.options.max_input_chars) {
    throw BadRequest{"'input' has " + std::to_string(chars) + " characters; the limit is " +
                         std::to_string(ex.server.options.max_input_chars),
                     "input"};
  }
  if (!body.contains("voice")) throw BadRequest{"'voice' is required", "voice"};
  const json& voice = body.at("voice");
  if (voice.is_string()) {
    r.voice = voice.get<std::string>();
  } else if (voice.is_object() && voice.contains("id") && voice.at("id").is_string()) {
    r.voice = voice.at("id").get<std::string>();
  } else {
    throw BadRequest{"'voice' must be a voice name or {\"id\": name}", "voice"};
  }
  const std::vector<VoiceDescription> voices = ex.server.engine.voices();
  if (std::none_of(voices.begin(), voices.end(),
                   [&](const VoiceDescription& v) { return v.name == r.voice; }))
    throw BadRequest{"unknown voice '" + r.voice + "'; available voices: " + voice_list(ex.server.engine),
                     "voice"};
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
  if (body.contains("seed")) {
    const json& s = body.at("seed");
    if (!s.is_number_unsigned()) throw BadRequest{"'seed' must be a whole number in 0..2^64-1", "seed"};
    r.options.seed = s.get<uint64_t>();
  }
  if (body.contains("cfg_scale")) {
    const double cfg = field(body, "cfg_scale", json::value_t::number_float, "a number").get<double>();
    if (!(cfg >= 0 && cfg <= 100)) throw BadRequest{"'cfg_scale' must be in 0..100", "cfg_scale"};
    r.options.cfg_scale = static_cast<float>(cfg);
  }
  if (body.contains("steps")) {
    const json& s = body.at("steps");
    if (!s.is_number_integer() || s.get<int64_t>() < 1 || s.get<int64_t>() > 50)
      throw BadRequest{"'steps' must be a whole number in 1..50", "steps"};
    r.options.steps = s.get<int>();
  }
  if (body.contains("max_seconds")) {
    const double s = field(body, "max_seconds", json::value_t::number_float, "a number").get<double>();
    if (!(s > 0 && s <= 3600)) throw BadRequest{"'max_seconds' must be in (0, 3600]", "max_seconds"};
    const double frames = s * ex.server.engine.sample_rate() / ex.server.engine.samples_per_frame();
    r.options.max_frames = static_cast<int64_t>(std::ceil(frames));
  }
  if (body.contains("ignore_eos"))
    r.options.ignore_eos = field(body, "ignore_eos", json::value_t::boolean, "true or false").get<bool>();
  return r;
}

std::string base64(std::string_view bytes) {
  namespace b64 = boost::beast::detail::base64;
  std::string out(b64::encoded_size(bytes.size()), '\0');
  out.resize(b64::encode(out.data(), bytes.data(), bytes.size()));
  return out;
}

void send_event(Exchange& ex, const json& event) {
  ex.chunk("data: " + event.dump() + "\n\n");
}

void send_audio(Exchange& ex, const SpeechRequest& r, const std::string& bytes) {
  if (bytes.empty()) return;
  if (r.sse) {
    send_event(ex, {{"type", "speech.audio.delta"}, {"audio", base64(bytes)}});
  } else {
    ex.chunk(bytes);
  }
}

}  // namespace

void handle_speech(Exchange& ex) {
  Server& server = ex.server;
  SpeechRequest r;
  try {
    r = parse_request(ex);
  } catch (const BadRequest& bad) {
    ex.error(bad.status, bad.message, "invalid_request_error", bad.param);
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  auto abandon = [&] { return server.shutting_down.load() || ex.client_gone(); };
  const StreamLimiter::Admission admission =
      server.shutting_down ? StreamLimiter::Admission::kBusy : server.limiter.acquire(abandon);
  if (admission != StreamLimiter::Admission::kAdmitted) {
    if (admission == StreamLimiter::Admission::kAbandoned && !server.shutting_down) {
      ex.log_details = " client_gone_in_queue";
      return;
    }
    ex.set_header(http::field::retry_after, "1");
    ex.error(http::status::service_unavailable,
             server.shutting_down
                 ? std::string("the server is shutting down")
                 : "all " + std::to_string(server.limiter.max_active()) +
                       " streams are busy and the queue (" + std::to_string(server.limiter.max_queued()) +
                       ") is full; retry later",
             "server_error", {}, "server_busy");
    return;
  }
  StreamSlot slot(server.limiter);

  const int rate = server.engine.sample_rate();
  std::unique_ptr<AudioEncoder> encoder = AudioEncoder::create(r.format, rate);
  const char* type = r.sse ? "text/event-stream" : content_type(r.format);
  double first_audio_s = -1;
  r.options.should_abort = [&] { return server.cancel_all.load() || ex.client_gone(); };
  auto on_chunk = [&](const AudioChunk& chunk) {
    if (!ex.streaming()) {
      first_audio_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ex.begin_stream(http::status::ok, type);
    }
    send_audio(ex, r, encoder->encode(chunk.samples));
  };
  Audio audio;
  try {
    audio = server.engine.synthesize(r.input, r.options, on_chunk);
  } catch (const Error& e) {
    if (ex.streaming()) {  // after the headers: tell an SSE client, cut an audio stream short
      if (r.sse) send_event(ex, {{"type", "error"}, {"error", {{"message", e.what()}}}});
      ex.log_details += std::string(" error: ") + e.what();
      return;
    }
    const bool client_side = e.kind() != ErrorKind::kRuntime;
    ex.error(client_side ? http::status::bad_request : http::status::internal_server_error, e.what(),
             client_side ? "invalid_request_error" : "server_error",
             e.kind() == ErrorKind::kInput ? "input" : "");
    return;
  }
  if (!ex.streaming()) ex.begin_stream(http::status::ok, type);
  send_audio(ex, r, encoder->finish());
  const double audio_s = static_cast<double>(audio.samples.size()) / rate;
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (r.sse) {
    send_event(ex, {{"type", "speech.audio.done"},
                    {"model", r.model},
                    {"stop_reason", to_string(audio.stop_reason)},
                    {"frames", audio.frames},
                    {"audio_seconds", audio_s}});
  }
  ex.end_stream();
  const double rtf = audio_s > 0 ? wall_s / audio_s : -1;
  server.metrics.observe_synthesis(first_audio_s, rtf, audio_s);
  char details[256];
  std::snprintf(details, sizeof details,
                " voice=%s chars=%zu audio_s=%.2f first_audio_ms=%.0f rtf=%.3f stop=%s", r.voice.c_str(),
                code_points(r.input), audio_s, first_audio_s * 1000, rtf, to_string(audio.stop_reason));
  ex.log_details += details;
}

}  // namespace vv::server
