// One connection: read requests (size and time limits), hand each to the router, write its response.
#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <nlohmann/json.hpp>

#include "server/server_impl.h"

namespace vv::server {

namespace {

constexpr size_t kMaxBody = 1 << 20;  // 1 MiB (413 beyond)
constexpr size_t kMaxHeader = 16 << 10;

void set_receive_timeout(tcp::socket& socket, double seconds) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(seconds);
  tv.tv_usec = static_cast<suseconds_t>((seconds - static_cast<double>(tv.tv_sec)) * 1e6);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

}  // namespace

void Server::track(int fd, bool busy) {
  std::lock_guard lock(connections_mutex_);
  connections_[fd] = busy;
}

void Server::untrack(int fd) {
  std::lock_guard lock(connections_mutex_);
  connections_.erase(fd);
}

void Server::close_idle_connections() {
  std::lock_guard lock(connections_mutex_);
  for (const auto& [fd, busy] : connections_)
    if (!busy) ::shutdown(fd, SHUT_RDWR);  // wakes the blocked read; the connection thread closes it
}

int Server::connections() const {
  std::lock_guard lock(connections_mutex_);
  return static_cast<int>(connections_.size());
}

template <class Response>
void Exchange::prepare(Response& res, http::status status, std::string_view content_type) {
  status_ = static_cast<int>(status);
  res.result(status);
  res.version(request.version());
  res.set(http::field::server, "vibevoice-onnx");
  res.set(http::field::content_type, content_type);
  if (!server.options.cors_origin.empty())
    res.set(http::field::access_control_allow_origin, server.options.cors_origin);
  for (const auto& [field, value] : extra_) res.set(field, value);
  extra_.clear();
  keep_alive_ = keep_alive_ && request.keep_alive() && !server.shutting_down;
  res.keep_alive(keep_alive_);
}

void Exchange::respond(http::status status, std::string body, std::string_view content_type) {
  http::response<http::string_body> res;
  prepare(res, status, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  boost::system::error_code ec;
  http::write(socket_, res, ec);
  if (ec) keep_alive_ = false;
}

void Exchange::error(http::status status, const std::string& message, std::string_view type,
                     std::string_view param, std::string_view code) {
  const nlohmann::json body = {{"error",
                                {{"message", message},
                                 {"type", type},
                                 {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
                                 {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}}}};
  respond(status, body.dump());
}

void Exchange::begin_stream(http::status status, std::string_view content_type) {
  http::response<http::empty_body> res;
  prepare(res, status, content_type);
  res.set(http::field::cache_control, "no-cache");
  res.chunked(true);
  http::response_serializer<http::empty_body> sr(res);
  boost::system::error_code ec;
  http::write_header(socket_, sr, ec);
  streaming_ = true;
  if (ec) {
    keep_alive_ = false;
    throw ClientGone{};
  }
}

void Exchange::chunk(std::string_view data) {
  if (data.empty()) return;
  boost::system::error_code ec;
  boost::asio::write(socket_, http::make_chunk(boost::asio::const_buffer(data.data(), data.size())), ec);
  if (ec) {
    keep_alive_ = false;
    throw ClientGone{};
  }
}

void Exchange::end_stream() {
  boost::system::error_code ec;
  boost::asio::write(socket_, http::make_chunk_last(), ec);
  if (ec) keep_alive_ = false;
}

bool Exchange::client_gone() const {
  pollfd p{socket_.native_handle(), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void serve_connection(Server& server, tcp::socket socket) {
  const int fd = socket.native_handle();
  server.track(fd, false);
  set_receive_timeout(socket, server.options.idle_timeout_s);
  boost::beast::flat_buffer buffer;
  for (;;) {
    if (server.shutting_down) break;
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBody);
    parser.header_limit(kMaxHeader);
    boost::system::error_code ec;
    http::read(socket, buffer, parser, ec);
    if (ec == http::error::end_of_stream || ec == boost::asio::error::eof ||
        ec == boost::asio::error::connection_reset || ec == boost::asio::error::would_block ||
        ec == boost::asio::error::try_again || ec == boost::asio::error::timed_out) {
      break;  // closed, or idle past the timeout
    }
    server.track(fd, true);
    Request request = parser.release();
    Exchange ex(server, socket, request);
    if (ec) {
      const bool too_big = ec == http::error::body_limit || ec == http::error::header_limit;
      ex.route = "malformed";
      if (too_big) {
        ex.error(http::status::payload_too_large,
                 "request too large (the body limit is 1 MiB): " + ec.message());
      } else if (!server.shutting_down) {
        ex.error(http::status::bad_request, "malformed HTTP request: " + ec.message());
      }
      server.metrics.count_request(ex.route, ex.status());
      break;
    }
    handle_request(ex);
    if (!ex.keep_alive()) break;
    server.track(fd, false);
  }
  server.untrack(fd);
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace vv::server
