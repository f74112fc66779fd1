// Internals shared by the server's parts: the Server (engine, limits, metrics, shutdown state) and the
// Exchange (one request and its response on a connection).
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "server/metrics.h"
#include "server/server.h"
#include "server/stream_limiter.h"
#include "vibevoice/vibevoice.hpp"

namespace vv::server {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using Request = http::request<http::string_body>;

class Server {
 public:
  Server(const ServerOptions& opts, Engine loaded, int max_streams, int max_queue)
      : options(opts), engine(std::move(loaded)), limiter(max_streams, max_queue) {}

  const ServerOptions options;
  const Engine engine;
  StreamLimiter limiter;
  Metrics metrics;
  std::atomic<bool> shutting_down{false};  // no new syntheses
  std::atomic<bool> cancel_all{false};     // running syntheses stop at the next frame

  // Open connections (socket descriptors) and whether each is between requests, so that shutdown can
  // close the idle ones at once and wait for the busy ones.
  void track(int fd, bool busy);
  void untrack(int fd);
  void close_idle_connections();
  int connections() const;

 private:
  mutable std::mutex connections_mutex_;
  std::map<int, bool> connections_;
};

// Thrown when the client went away while we were writing to it.
struct ClientGone {};

class Exchange {
 public:
  Exchange(Server& srv, tcp::socket& socket, const Request& req)
      : server(srv), request(req), socket_(socket) {}

  Server& server;
  const Request& request;

  // A complete response (Content-Length).
  void respond(http::status status, std::string body, std::string_view content_type = "application/json");
  // An OpenAI-style error: {"error": {"message", "type", "param", "code"}}.
  void error(http::status status, const std::string& message, std::string_view type = "invalid_request_error",
             std::string_view param = {}, std::string_view code = {});
  // Extra header for the next respond()/begin_stream() (e.g. Retry-After, Allow).
  void set_header(http::field field, std::string value) { extra_.emplace_back(field, std::move(value)); }

  // A chunked response, sent as it is produced; chunk() throws ClientGone when the client has gone.
  void begin_stream(http::status status, std::string_view content_type);
  void chunk(std::string_view data);
  void end_stream();
  bool streaming() const { return streaming_; }

  // Hands the connection over to a WebSocket protocol (the request was an upgrade): the access log says
  // 101 and the connection closes when the handler returns.
  tcp::socket& upgrade() {
    status_ = 101;
    keep_alive_ = false;
    return socket_;
  }

  // True once the peer closed its end (polled between frames, so a disconnect cancels within one frame).
  bool client_gone() const;

  bool keep_alive() const { return keep_alive_; }
  int status() const { return status_; }
  std::string route = "other";  // for metrics and the access log
  std::string log_details;      // appended to the access-log line

 private:
  template <class Response>
  void prepare(Response& res, http::status status, std::string_view content_type);

  tcp::socket& socket_;
  std::vector<std::pair<http::field, std::string>> extra_;
  bool streaming_ = false, keep_alive_ = true;
  int status_ = 0;
};

// Routes one request (routes.cpp).
void handle_request(Exchange& ex);
// POST /v1/audio/speech (speech_route.cpp).
void handle_speech(Exchange& ex);
// WS /v1/audio/stream (stream_route.cpp), WS /stream and GET /config of the official demo (demo_route.cpp),
// the web page (web_route.cpp).
void handle_stream(Exchange& ex);
void handle_demo_stream(Exchange& ex);
void handle_demo_config(Exchange& ex);
void handle_web(Exchange& ex);
// The voice the official demo's clients get when they name none (or an unknown one): the first by name.
std::string default_voice(const Engine& engine);
// Serves one accepted connection until it closes (http_connection.cpp).
void serve_connection(Server& server, tcp::socket socket);

}  // namespace vv::server
