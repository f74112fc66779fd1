// GET / (index.html), /app.js, /style.css: the web page, served from the copies embedded in the binary.
#include <string>

#include "server/server_impl.h"
#include "server/web_files.h"

namespace vv::server {

namespace {

std::string_view type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

void handle_web(Exchange& ex) {
  const std::string_view target = ex.request.target();
  std::string_view name = target.substr(0, target.find('?'));
  name = name == "/" ? "index.html" : name.substr(1);
  for (const WebFile& f : web_files()) {
    if (f.name != name) continue;
    ex.set_header(http::field::cache_control, "no-cache");
    ex.respond(http::status::ok, std::string(f.bytes), type_of(f.name));
    return;
  }
  ex.error(http::status::not_found, "the web page is not part of this build", "invalid_request_error", {},
           "not_found");
}

}  // namespace vv::server
