// The official Microsoft demo's protocol (demo/web/app.py of microsoft/VibeVoice), so its web client and
// scripts work against this server unchanged:
//   GET /config -> {"voices": [sorted names], "default_voice": name}
//   WS /stream?text=...&cfg=...&steps=...&voice=...  -> binary PCM16LE 24 kHz mono chunks and JSON "log"
//     messages (backend_request_received, model_progress after every chunk, backend_first_chunk_sent,
//     backend_error, backend_stream_complete; backend_busy then close 1013 "Service busy").
// As there: an unknown or missing voice is the default voice, cfg <= 0 or unparsable is 1.5, steps <= 0 or
// unparsable is the model's default, and a chunk whose peak exceeds 1 is divided by its peak before the
// int16 conversion (clip to [-1, 1], x 32767, truncate). Timestamps are UTC (the official server uses UTC+8).
#include <algorithm>
#include <boost/url/parse.hpp>
#include <boost/url/src.hpp>  // Boost.URL is used header-only; this is its one translation unit
#include <chrono>
#include <cmath>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "server/server_impl.h"
#include "server/speech_request.h"
#include "server/ws_connection.h"
#include "server/ws_utterance.h"

namespace vv::server {

namespace {

using json = nlohmann::json;

constexpr float kDefaultCfg = 1.5f;  // the official server's default

std::string timestamp() {  // "%Y-%m-%d %H:%M:%S.mmm"
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03d", static_cast<int>(ms));
  return buf;
}

// The official conversion of one chunk.
std::string demo_pcm16(std::vector<float> x) {
  float peak = 0;
  for (const float v : x) peak = std::max(peak, std::fabs(v));
  if (peak > 1.0f)
    for (float& v : x) v /= peak;
  std::string out(x.size() * 2, '\0');
  for (size_t i = 0; i < x.size(); ++i) {
    const auto s = static_cast<int16_t>(std::clamp(x[i], -1.0f, 1.0f) * 32767.0f);  // truncates, as astype
    out[2 * i] = static_cast<char>(s & 0xFF);
    out[2 * i + 1] = static_cast<char>((s >> 8) & 0xFF);
  }
  return out;
}

struct DemoQuery {
  std::string text, voice;
  std::optional<std::string> voice_param, cfg_param, steps_param;
  float cfg = kDefaultCfg;
  std::optional<int> steps;
};

DemoQuery parse_query(std::string_view target, const Engine& engine) {
  DemoQuery q;
  if (auto url = boost::urls::parse_origin_form(target)) {
    for (const auto& p : url->params(boost::urls::encoding_opts(true))) {  // '+' is a space, as in Starlette
      if (p.key == "text") q.text = p.value;
      if (p.key == "voice") q.voice_param = p.value;
      if (p.key == "cfg") q.cfg_param = p.value;
      if (p.key == "steps") q.steps_param = p.value;
    }
  }
  if (q.cfg_param) {
    try {
      q.cfg = std::stof(*q.cfg_param);
    } catch (const std::exception&) {
      q.cfg = kDefaultCfg;
    }
    if (!(q.cfg > 0) || !std::isfinite(q.cfg)) q.cfg = kDefaultCfg;
  }
  if (q.steps_param) {
    try {
      const int s = std::stoi(*q.steps_param);
      if (s > 0) q.steps = s;
    } catch (const std::exception&) {
    }
  }
  const std::vector<VoiceDescription> voices = engine.voices();
  const bool known =
      q.voice_param && std::any_of(voices.begin(), voices.end(),
                                   [&](const VoiceDescription& v) { return v.name == *q.voice_param; });
  q.voice = known ? *q.voice_param : default_voice(engine);
  return q;
}

json or_null(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

class DemoSession final : public WsConnection::Handler {
 public:
  DemoSession(Server& server, WsConnection& ws, DemoQuery query)
      : server_(server), ws_(ws), query_(std::move(query)) {}

  // Called once the handshake is done: the whole text is known, so generation starts at once.
  void start() {
    SynthesisOptions o;
    o.voice = query_.voice;
    o.chunk_frames = 1;  // the official demo converts (and peak-normalises) each frame's audio on its own
    o.cfg_scale = query_.cfg;
    o.steps = query_.steps;
    try {
      if (!server_.shutting_down) {
        utterance_ = WsUtterance::start(
            server_, o, ws_,
            WsUtterance::Callbacks{[this](StreamEvent&& ev) { on_event(std::move(ev)); },
                                   [this](const Audio&, const std::exception_ptr& e) { on_end(e); }});
      }
      if (!utterance_) {
        log("backend_busy", {{"message", "Please wait for the other requests to complete."}});
        ws_.close(websocket::close_code::try_again_later, "Service busy");
        return;
      }
      log_request();
      utterance_->stream().push_text(query_.text);
      utterance_->stream().finish();
    } catch (const Error& e) {
      error_ = e.what();
      if (utterance_) {
        utterance_->stream().cancel();  // its end reports the error
      } else {
        log_request();
        on_end({});
      }
    }
  }

  void on_message(std::string, bool) override {}  // the official server reads nothing either
  void on_closed() override {
    if (utterance_) utterance_->stream().cancel();
    log("client_disconnected", json::object());  // (not delivered: the client is gone; for symmetry)
  }
  void on_tick() override {
    if (utterance_ && server_.cancel_all) utterance_->stream().cancel();
  }
  bool idle() const override { return !utterance_; }

 private:
  void log_request() {
    log("backend_request_received", {{"text_length", code_points(query_.text)},
                                     {"cfg_scale", query_.cfg},
                                     {"inference_steps", query_.steps ? json(*query_.steps) : json(nullptr)},
                                     {"voice", or_null(query_.voice_param)}});
  }

  void log(const char* event, json data) {
    ws_.send_text(
        json{{"type", "log"}, {"event", event}, {"data", std::move(data)}, {"timestamp", timestamp()}}
            .dump());
  }

  void on_event(StreamEvent&& ev) {
    if (ev.kind != StreamEvent::kAudio) return;
    const size_t n = ev.chunk.samples.size();
    ws_.send_binary(demo_pcm16(std::move(ev.chunk.samples)));
    generated_ += n;
    const double rate = server_.engine.sample_rate();
    log("model_progress", {{"generated_sec", static_cast<double>(generated_) / rate},
                           {"chunk_sec", static_cast<double>(n) / rate}});
    if (!first_sent_) {
      first_sent_ = true;
      log("backend_first_chunk_sent", json::object());
    }
  }

  void on_end(const std::exception_ptr& failure) {
    if (failure) {
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        error_ = e.what();
      }
    }
    if (!error_.empty()) log("backend_error", {{"message", error_}});
    log("backend_stream_complete", json::object());
    ws_.close(websocket::close_code::normal);
    utterance_.reset();
  }

  Server& server_;
  WsConnection& ws_;
  DemoQuery query_;
  std::unique_ptr<WsUtterance> utterance_;
  std::string error_;
  size_t generated_ = 0;
  bool first_sent_ = false;
};

}  // namespace

std::string default_voice(const Engine& engine) {
  std::vector<std::string> names;
  for (const VoiceDescription& v : engine.voices()) names.push_back(v.name);
  return names.empty() ? std::string() : *std::min_element(names.begin(), names.end());
}

void handle_demo_config(Exchange& ex) {
  std::vector<std::string> names;
  for (const VoiceDescription& v : ex.server.engine.voices()) names.push_back(v.name);
  std::sort(names.begin(), names.end());
  ex.respond(http::status::ok,
             json{{"voices", names}, {"default_voice", default_voice(ex.server.engine)}}.dump());
}

void handle_demo_stream(Exchange& ex) {
  if (!websocket::is_upgrade(ex.request)) {
    ex.set_header(http::field::upgrade, "websocket");
    ex.error(http::status::upgrade_required, "this is a WebSocket endpoint (connect with ws://)");
    return;
  }
  WsConnection ws(ex.upgrade(), 64 << 10, ex.server.options.idle_timeout_s);
  DemoSession session(ex.server, ws, parse_query(ex.request.target(), ex.server.engine));
  if (!ws.run(ex.request, session, [&] { session.start(); })) ex.log_details += " handshake_failed";
}

}  // namespace vv::server
