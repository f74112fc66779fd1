// The web page's files (tools/server/web/), embedded into the binary at build time (cmake/embed_files.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace vv::server {

struct WebFile {
  std::string_view name;  // base name, e.g. "index.html"
  std::string_view bytes;
};

const std::vector<WebFile>& web_files();

}  // namespace vv::server
