// The route table: authentication, CORS preflight, the small JSON routes, 404/405, the access log.
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/version.h"
#include "server/server_impl.h"

namespace vv::server {

namespace {

using json = nlohmann::json;

constexpr const char* kModelId = "vibevoice-realtime-0.5b";

// "Authorization: Bearer KEY"; a WebSocket handshake may pass ?api_key=KEY instead (browsers cannot set
// headers on a WebSocket).
bool authorized(const Exchange& ex) {
  const std::string& key = ex.server.options.api_key;
  if (key.empty()) return true;
  const auto it = ex.request.find(http::field::authorization);
  if (it != ex.request.end() && it->value() == "Bearer " + key) return true;
  if (!boost::beast::websocket::is_upgrade(ex.request)) return false;
  const auto url = boost::urls::parse_origin_form(ex.request.target());
  if (!url) return false;
  const auto p = url->params().find("api_key");
  return p != url->params().end() && (*p).value == key;
}

void voices(Exchange& ex) {
  json list = json::array();
  for (const VoiceDescription& v : ex.server.engine.voices())
    list.push_back({{"id", v.name}, {"name", v.name}, {"language", v.language}, {"gender", v.gender}});
  ex.respond(http::status::ok, json{{"voices", list}}.dump());
}

void models(Exchange& ex) {
  const json model = {{"id", kModelId}, {"object", "model"}, {"created", 0}, {"owned_by", "vibevoice-onnx"}};
  ex.respond(http::status::ok, json{{"object", "list"}, {"data", json::array({model})}}.dump());
}

void metrics(Exchange& ex) {
  const StreamLimiter& l = ex.server.limiter;
  ex.respond(http::status::ok,
             ex.server.metrics.render(l.active(), l.queued(), l.max_active(), l.max_queued()),
             "text/plain; version=0.0.4");
}

struct Route {
  const char* path;
  http::verb method;
  bool needs_auth;
  void (*handler)(Exchange&);
};

const Route kRoutes[] = {
    {"/v1/audio/speech", http::verb::post, true, handle_speech},
    {"/v1/audio/voices", http::verb::get, true, voices},
    {"/v1/models", http::verb::get, true, models},
    {"/health", http::verb::get, false,
     [](Exchange& ex) {
       ex.respond(http::status::ok, json{{"status", "ok"}}.dump());
     }},
    {"/ready", http::verb::get, false,
     [](Exchange& ex) {
       if (ex.server.shutting_down) {
         ex.error(http::status::service_unavailable, "shutting down", "server_error");
       } else {
         ex.respond(http::status::ok, json{{"status", "ready"}, {"version", version_string()}}.dump());
       }
     }},
    {"/metrics", http::verb::get, false, metrics},
    {"/v1/audio/stream", http::verb::get, true, handle_stream},
    {"/stream", http::verb::get, true, handle_demo_stream},
    {"/config", http::verb::get, false, handle_demo_config},
    {"/", http::verb::get, false, handle_web},
    {"/app.js", http::verb::get, false, handle_web},
    {"/style.css", http::verb::get, false, handle_web},
};

void dispatch(Exchange& ex) {
  const std::string_view target = ex.request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  std::string allowed;
  for (const Route& r : kRoutes) {
    if (path != r.path) continue;
    ex.route = r.path;
    if (ex.request.method() == http::verb::options && !ex.server.options.cors_origin.empty()) {
      ex.set_header(http::field::access_control_allow_methods, std::string(http::to_string(r.method)));
      ex.set_header(http::field::access_control_allow_headers, "Authorization, Content-Type");
      ex.respond(http::status::no_content, "", "text/plain");
      return;
    }
    if (ex.request.method() != r.method) {
      allowed = std::string(http::to_string(r.method));
      break;
    }
    if (r.needs_auth && !authorized(ex)) {
      ex.set_header(http::field::www_authenticate, "Bearer");
      ex.error(http::status::unauthorized, "missing or wrong API key (send 'Authorization: Bearer KEY')",
               "invalid_request_error", {}, "invalid_api_key");
      return;
    }
    r.handler(ex);
    return;
  }
  if (!allowed.empty()) {
    ex.set_header(http::field::allow, allowed);
    ex.error(http::status::method_not_allowed, std::string(ex.request.method_string()) +
                                                   " is not allowed on " + std::string(path) + " (use " +
                                                   allowed + ")");
    return;
  }
  ex.error(http::status::not_found, "no route " + std::string(path), "invalid_request_error", {},
           "not_found");
}

}  // namespace

void handle_request(Exchange& ex) {
  const auto start = std::chrono::steady_clock::now();
  try {
    dispatch(ex);
  } catch (const ClientGone&) {
    ex.log_details += " client_gone";
  } catch (const std::exception& e) {
    if (!ex.streaming()) ex.error(http::status::internal_server_error, e.what(), "server_error");
  }
  ex.server.metrics.count_request(ex.route, ex.status());
  if (!ex.server.options.quiet) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "%s %s %d %.1fms%s\n", std::string(ex.request.method_string()).c_str(),
                 std::string(ex.request.target()).substr(0, 200).c_str(), ex.status(), ms,
                 ex.log_details.c_str());
  }
}

}  // namespace vv::server
