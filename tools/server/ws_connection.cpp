#include "server/ws_connection.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <chrono>

namespace vv::server {

namespace {

constexpr auto kTick = std::chrono::milliseconds(50);

}  // namespace

WsConnection::WsConnection(tcp::socket& socket, size_t max_message_bytes, double idle_timeout_s)
    : borrowed_(socket), ws_(io_), timer_(io_) {
  const auto protocol = socket.local_endpoint().protocol();
  ws_.next_layer().socket().assign(protocol, socket.release());
  ws_.read_message_max(max_message_bytes);  // beyond: the read fails and Beast closes with 1009
  websocket::stream_base::timeout t =
      websocket::stream_base::timeout::suggested(boost::beast::role_type::server);
  t.idle_timeout = std::chrono::milliseconds(static_cast<int64_t>(idle_timeout_s * 1000));
  t.keep_alive_pings = true;  // a silent but live client answers the pings; a dead one is dropped
  ws_.set_option(t);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, "vibevoice-onnx"); }));
}

WsConnection::~WsConnection() {
  // Hand the descriptor back: the HTTP connection code closes it after it has stopped tracking it.
  auto& socket = ws_.next_layer().socket();
  if (socket.is_open()) {
    const auto protocol = socket.local_endpoint().protocol();
    boost::system::error_code ec;
    borrowed_.assign(protocol, socket.release(), ec);
  }
}

bool WsConnection::run(const Request& upgrade, Handler& handler, const std::function<void()>& on_open) {
  boost::system::error_code ec;
  ws_.accept(upgrade, ec);
  if (ec) return false;
  handler_ = &handler;
  if (on_open) on_open();
  read_next();
  tick();
  io_.run();
  handler_ = nullptr;
  return true;
}

void WsConnection::post(std::function<void()> fn) {
  boost::asio::post(io_, std::move(fn));
}

void WsConnection::enqueue(std::string message, bool is_text) {
  if (closing()) return;
  out_.emplace_back(std::move(message), is_text);
  write_next();
}

void WsConnection::close(websocket::close_code code, std::string_view reason) {
  if (closing()) return;
  closing_ = true;
  close_reason_ = websocket::close_reason(code, reason);
  write_next();
}

void WsConnection::read_next() {
  reading_ = true;
  ws_.async_read(buffer_, [this](boost::system::error_code ec, size_t) {
    if (ec) {
      reading_ = false;
      if (!close_sent_)
        gone_ = true;  // the peer closed or failed (or a message was too big: Beast sent 1009)
      out_.clear();
      handler_->on_closed();
      finish_if_done();
      return;
    }
    std::string message = boost::beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    const bool is_text = ws_.got_text();
    handler_->on_message(std::move(message), is_text);
    if (!gone_) read_next();
  });
}

void WsConnection::write_next() {
  if (writing_ || gone_) return;
  if (out_.empty()) {
    if (closing_ && !close_sent_) {
      writing_ = close_sent_ = true;
      ws_.async_close(close_reason_, [this](boost::system::error_code) {
        writing_ = false;  // the read completes when the peer answers (or the timeout drops it)
        finish_if_done();
      });
    }
    return;
  }
  writing_ = true;
  ws_.text(out_.front().second);
  ws_.async_write(boost::asio::buffer(out_.front().first), [this](boost::system::error_code ec, size_t) {
    writing_ = false;
    if (ec) {
      gone_ = true;
      out_.clear();
      finish_if_done();  // the pending read fails too and reports the close
      return;
    }
    out_.pop_front();
    write_next();
  });
}

void WsConnection::tick() {
  if (handler_) handler_->on_tick();
  finish_if_done();
  if (!reading_ && !writing_ && handler_ && handler_->idle()) return;  // the timer stops; run() returns
  timer_.expires_after(kTick);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) tick();
  });
}

void WsConnection::finish_if_done() {
  if (reading_ || writing_ || !handler_ || !handler_->idle()) return;
  timer_.cancel();
}

}  // namespace vv::server
