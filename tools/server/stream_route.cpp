// WS /v1/audio/stream: text in as it is written (e.g. LLM tokens), audio and alignment out as it is decoded.
// Each utterance: optional session.config, input.text messages (any split), input.done; the audio is that of
// the whole text (Stream's exact policy), ended by exactly one audio.done. The protocol is in the README.
#include <chrono>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "server/audio_encoder.h"
#include "server/speech_request.h"
#include "server/stream_messages.h"
#include "server/ws_connection.h"
#include "server/ws_utterance.h"

namespace vv::server {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxMessage = 64 << 10;  // bytes per client message (close 1009 beyond)

std::string f32_bytes(const std::vector<float>& samples) {
  std::string out(samples.size() * sizeof(float), '\0');
  std::memcpy(out.data(), samples.data(), out.size());  // little-endian hosts only (x86-64, arm64)
  return out;
}

class StreamSession final : public WsConnection::Handler {
 public:
  StreamSession(Server& server, WsConnection& ws) : server_(server), ws_(ws) {
    for (const VoiceDescription& v : server.engine.voices()) limits_.voices.push_back(v.name);
    limits_.sample_rate = server.engine.sample_rate();
    limits_.samples_per_frame = server.engine.samples_per_frame();
    config_.options.voice = default_voice(server.engine);
  }

  void on_message(std::string message, bool is_text) override {
    if (ws_.closing()) return;  // closing: nothing new starts
    if (!is_text) {
      error("unsupported_data", "binary messages are not part of the protocol; send JSON text messages");
      ws_.close(websocket::close_code::unknown_data, "binary message");
      return;
    }
    ClientMessage m;
    try {
      m = parse_client_message(message, config_, limits_);
    } catch (const ProtocolError& e) {
      error(e.code, e.message);
      if (e.fatal) ws_.close(websocket::close_code::policy_error, e.code);
      return;
    }
    switch (m.kind) {
      case ClientMessage::kConfig:
        if (utterance_) {
          error("invalid_state", "session.config during an utterance; send it after audio.done");
        } else {
          config_ = m.config;
        }
        break;
      case ClientMessage::kText:
        push(m.text);
        break;
      case ClientMessage::kDone:
        done();
        break;
      case ClientMessage::kCancel:
        if (utterance_) {
          client_ended_ = true;  // the client ended it: its next input.text starts the next utterance
          utterance_->stream().cancel();
        }
        break;
    }
  }

  void on_closed() override {
    if (utterance_) utterance_->stream().cancel();  // the end still arrives (posted) and frees the slot
  }

  void on_tick() override {
    if (utterance_ && server_.cancel_all) utterance_->stream().cancel();
    if (!utterance_ && server_.shutting_down)
      ws_.close(websocket::close_code::going_away, "server shutting down");
  }

  bool idle() const override { return !utterance_; }

 private:
  void send(const json& msg) { ws_.send_text(msg.dump()); }
  void error(const std::string& code, const std::string& message) {
    send({{"type", "error"}, {"code", code}, {"message", message}});
  }

  bool start() {
    if (server_.shutting_down) {
      ws_.close(websocket::close_code::going_away, "server shutting down");
      return false;
    }
    try {
      utterance_ = WsUtterance::start(
          server_, config_.options, ws_,
          WsUtterance::Callbacks{[this](StreamEvent&& ev) { on_event(std::move(ev)); },
                                 [this](const Audio& r, const std::exception_ptr& e) { on_end(r, e); }});
    } catch (const Error& e) {
      error("invalid_config", e.what());
      return false;
    }
    if (!utterance_) {
      ws_.close(websocket::close_code::try_again_later, "Service busy");
      return false;
    }
    started_ = Clock::now();
    text_.clear();
    first_audio_ms_ = -1;
    samples_ = 0;
    encoder_ = AudioEncoder::create(AudioFormat::kPcm, server_.engine.sample_rate());
    send({{"type", "audio.start"},
          {"sample_rate", server_.engine.sample_rate()},
          {"format", format_name(config_.format)},
          {"voice", config_.options.voice}});
    return true;
  }

  void push(const std::string& text) {
    if (draining_ || (utterance_ && finished_ && !client_ended_)) return;  // the rest of an ended utterance
    if (utterance_ && finished_) {
      error("text_after_done",
            "input.text after input.done; wait for audio.done to start the next utterance");
      return;
    }
    if (!utterance_ && !start()) return;
    const size_t chars = code_points(text_) + code_points(text);
    try {
      if (chars > server_.options.max_input_chars) {
        fail(ErrorKind::kInput, "the text has " + std::to_string(chars) + " characters; the limit is " +
                                    std::to_string(server_.options.max_input_chars));
      }
      utterance_->stream().push_text(text);
      text_ += text;
    } catch (const Error& e) {
      abort_utterance(e);
    }
  }

  void done() {
    if (draining_) {  // the end of the text of an utterance that has already ended
      draining_ = false;
      return;
    }
    if (!utterance_) {
      error("input", "input.done without any input.text");
      return;
    }
    if (client_ended_) return;
    client_ended_ = true;
    if (finished_) return;
    finished_ = true;
    try {
      utterance_->stream().finish();
    } catch (const Error& e) {
      abort_utterance(e);
    }
  }

  // The text cannot be spoken (invalid UTF-8, too long, empty): say why; the utterance ends cancelled.
  void abort_utterance(const Error& e) {
    error("input", e.what());
    failed_ = true;
    finished_ = true;
    utterance_->stream().cancel();
  }

  void on_event(StreamEvent&& ev) {
    if (ev.kind == StreamEvent::kUnderrun) {
      send({{"type", "underrun"}, {"frame", ev.frame}});
      return;
    }
    const AudioChunk& c = ev.chunk;
    if (first_audio_ms_ < 0)
      first_audio_ms_ = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
    const double hop = static_cast<double>(server_.engine.samples_per_frame()) / c.sample_rate;
    send({{"type", "alignment"},
          {"first_frame", c.first_frame},
          {"frame_count", c.frame_count},
          {"text_begin", code_points(std::string_view(text_).substr(0, c.text_begin))},
          {"text_end", code_points(std::string_view(text_).substr(0, c.text_end))},
          {"start_s", static_cast<double>(c.first_frame) * hop},
          {"end_s", static_cast<double>(c.first_frame + c.frame_count) * hop}});
    samples_ += c.samples.size();
    ws_.send_binary(config_.format == SampleFormat::kF32 ? f32_bytes(c.samples)
                                                         : encoder_->encode(c.samples));
  }

  void on_end(const Audio& result, const std::exception_ptr& failure) {
    std::string stop = failed_ ? "error" : to_string(result.stop_reason);
    if (failure) {
      stop = "error";
      try {
        std::rethrow_exception(failure);
      } catch (const std::exception& e) {
        error("generation", e.what());
      }
    }
    const int rate = server_.engine.sample_rate();
    const double audio_s = static_cast<double>(samples_) / rate;
    const double wall_s = std::chrono::duration<double>(Clock::now() - started_).count();
    const double rtf = audio_s > 0 ? wall_s / audio_s : -1;
    send({{"type", "audio.done"},
          {"stop_reason", stop},
          {"frames", result.frames},
          {"audio_s", audio_s},
          {"first_audio_ms", audio_s > 0 ? json(first_audio_ms_) : json(nullptr)},
          {"rtf", audio_s > 0 ? json(rtf) : json(nullptr)}});
    if (audio_s > 0) server_.metrics.observe_synthesis(first_audio_ms_ / 1000, rtf, audio_s);
    // An utterance that ended by itself (EOS, a limit, an error) before the client's input.done: the text
    // still on its way belongs to it and is dropped until that input.done.
    draining_ = !client_ended_;
    utterance_.reset();
    failed_ = false;
    finished_ = false;
    client_ended_ = false;
  }

  Server& server_;
  WsConnection& ws_;
  SpeechLimits limits_;
  StreamConfig config_;
  std::unique_ptr<WsUtterance> utterance_;
  std::unique_ptr<AudioEncoder> encoder_;
  std::string text_;  // the utterance's text so far (alignment offsets are counted in it)
  Clock::time_point started_;
  double first_audio_ms_ = -1;
  size_t samples_ = 0;
  bool finished_ = false;      // no more text for the stream: finish() called or the text was refused
  bool client_ended_ = false;  // the client sent input.done or cancel for this utterance
  bool failed_ = false;        // the text was refused (audio.done says "error")
  bool draining_ = false;      // dropping the rest of an ended utterance's text until its input.done
};

}  // namespace

void handle_stream(Exchange& ex) {
  if (!websocket::is_upgrade(ex.request)) {
    ex.set_header(http::field::upgrade, "websocket");
    ex.error(http::status::upgrade_required, "this is a WebSocket endpoint (connect with ws://)");
    return;
  }
  WsConnection ws(ex.upgrade(), kMaxMessage, ex.server.options.idle_timeout_s);
  StreamSession session(ex.server, ws);
  if (!ws.run(ex.request, session)) ex.log_details += " handshake_failed";
}

}  // namespace vv::server
