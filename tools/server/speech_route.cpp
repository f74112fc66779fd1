// POST /v1/audio/speech: the OpenAI text-to-speech contract. The body is validated completely before
// anything is generated (400 naming the field); audio is streamed with chunked transfer as it is decoded,
// either as the audio file itself (stream_format "audio") or as server-sent events ("sse").
#include <boost/beast/core/detail/base64.hpp>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "server/audio_encoder.h"
#include "server/server_impl.h"
#include "server/speech_request.h"
#include "text/script.h"
#include "text/timestamps.h"

namespace vv::server {

namespace {

using json = nlohmann::json;

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

// {"type": "speech.timestamps", "words": [...], "sentences": [...]}: text/timestamps.h (for a script, its
// labels are not words).
json timestamps_event(const SpeechRequest& r, const TimestampBuilder& timings) {
  TimestampBuilder::Parts parts;
  if (r.script)
    for (const ScriptTurn& t : parse_script(r.input)) parts.emplace_back(t.text_begin, t.text_end);
  json event =
      json::parse(to_json(r.input, timings.words(r.input, parts), timings.sentences(r.input, parts)));
  event["type"] = "speech.timestamps";
  return event;
}

}  // namespace

void handle_speech(Exchange& ex) {
  Server& server = ex.server;
  SpeechRequest r;
  try {
    SpeechLimits limits;
    limits.max_input_chars = server.options.max_input_chars;
    for (const VoiceDescription& v : server.engine.voices()) limits.voices.push_back(v.name);
    limits.sample_rate = server.engine.sample_rate();
    limits.samples_per_frame = server.engine.samples_per_frame();
    const auto type = ex.request.find(http::field::content_type);
    r = parse_speech_request(type == ex.request.end() ? std::string_view() : std::string_view(type->value()),
                             ex.request.body(), limits);
  } catch (const BadRequest& bad) {
    ex.error(static_cast<http::status>(bad.status), bad.message, "invalid_request_error", bad.param);
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
  size_t samples = 0;
  TimestampBuilder timings(rate);
  r.options.should_abort = [&] { return server.cancel_all.load() || ex.client_gone(); };
  r.options.keep_samples = false;  // streamed to the client as they come
  auto on_chunk = [&](const AudioChunk& chunk) {
    if (!ex.streaming()) {
      first_audio_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      ex.begin_stream(http::status::ok, type);
    }
    samples += chunk.samples.size();
    if (r.timestamps) timings.add(chunk);
    send_audio(ex, r, encoder->encode(chunk.samples));
  };
  Audio audio;
  try {
    audio = r.script ? server.engine.synthesize_script(r.input, r.script_options, r.options, on_chunk)
                     : server.engine.synthesize(r.input, r.options, on_chunk);
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
  const double audio_s = static_cast<double>(samples) / rate;
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (r.timestamps) send_event(ex, timestamps_event(r, timings));
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
