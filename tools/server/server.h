// `vibevoice serve`: the engine behind an HTTP/1.1 server (Boost.Beast): the OpenAI speech API
// (POST /v1/audio/speech, streamed), voice and model lists, health, readiness and Prometheus metrics.
#pragma once

#include <cstddef>
#include <string>

namespace vv::server {

struct ServerOptions {
  std::string model_dir;
  std::string host = "127.0.0.1";
  int port = 8000;      // 0 = any free port (printed when ready)
  int max_streams = 0;  // syntheses at once; 0 = from the core count
  int max_queue = -1;   // waiting syntheses; -1 = 2 x max_streams
  std::string api_key;  // non-empty: /v1/* require "Authorization: Bearer KEY"
  int threads = 0;      // intra-op threads of the engine (0 = all cores)
  size_t max_input_chars = 4096;
  std::string cors_origin;       // non-empty: Access-Control-Allow-Origin for browsers
  double shutdown_grace_s = 10;  // on SIGINT/SIGTERM: let running syntheses finish this long, then cancel
  double idle_timeout_s = 30;    // a connection waiting this long for (the rest of) a request is closed
  bool quiet = false;            // no access log
};

// Loads the model, serves until SIGINT/SIGTERM, returns the process exit code. Throws vv::Error for
// model and option problems found before serving.
int run_server(const ServerOptions& options);

}  // namespace vv::server
