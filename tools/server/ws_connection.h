// A WebSocket connection taken over from an HTTP upgrade request. It runs its own io_context on the
// connection's thread: one read at a time, an ordered queue of writes, a 50 ms tick for the protocol's
// housekeeping (shutdown, cancellation). Other threads (a synthesis) hand work to it with post(); everything
// else is called on the connection's thread only, so the protocols built on it need no locks.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <deque>
#include <functional>
#include <string>

#include "server/server_impl.h"

namespace vv::server {

namespace websocket = boost::beast::websocket;

class WsConnection {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_message(std::string message, bool is_text) = 0;
    // The peer closed the connection or it failed: stop generating (the session may still post its end).
    virtual void on_closed() = 0;
    virtual void on_tick() {}
    // Nothing is running that could still post: run() returns once the reading and writing are over too.
    virtual bool idle() const = 0;
  };

  // `socket` is borrowed: it is handed back (still open) when run() returns.
  WsConnection(tcp::socket& socket, size_t max_message_bytes, double idle_timeout_s);
  ~WsConnection();
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  // Answers the upgrade request (101) and serves the connection until it is closed and `handler` is idle.
  // `on_open` (optional) runs on the connection thread right after the handshake. Returns false (nothing
  // served) if the handshake failed.
  bool run(const Request& upgrade, Handler& handler, const std::function<void()>& on_open = {});

  // Connection thread only. Messages are sent in order; after close() nothing more is sent.
  void send_text(std::string message) { enqueue(std::move(message), true); }
  void send_binary(std::string message) { enqueue(std::move(message), false); }
  // Sends the close frame (after the queued messages) with `code` and `reason`.
  void close(websocket::close_code code, std::string_view reason = {});
  bool closing() const { return closing_ || gone_; }

  // Any thread: runs `fn` on the connection's thread.
  void post(std::function<void()> fn);

 private:
  void enqueue(std::string message, bool is_text);
  void read_next();
  void write_next();
  void tick();
  void finish_if_done();

  tcp::socket& borrowed_;
  boost::asio::io_context io_;
  websocket::stream<boost::beast::tcp_stream> ws_;
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  Handler* handler_ = nullptr;
  std::deque<std::pair<std::string, bool>> out_;
  bool reading_ = false, writing_ = false, closing_ = false, close_sent_ = false, gone_ = false;
  websocket::close_reason close_reason_;
};

}  // namespace vv::server
