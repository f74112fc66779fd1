// `vibevoice serve`: the HTTP server (tools/server).
#include "cli/commands.h"
#include "server/server.h"

namespace vv::cli {

void add_serve_command(CLI::App& app, Runner& run) {
  auto o = std::make_shared<server::ServerOptions>();
  auto* sub = app.add_subcommand("serve", "serve the OpenAI speech API over HTTP");
  sub->add_option("--model", o->model_dir, "model directory (vibevoice.json)")->required();
  sub->add_option("--host", o->host, "address to listen on (default 127.0.0.1)");
  sub->add_option("--port", o->port, "TCP port; 0 = any free port (printed when ready)")
      ->check(CLI::Range(0, 65535));
  sub->add_option("--max-streams", o->max_streams, "syntheses at once (default: cores / 2)")
      ->check(CLI::Range(1, 1024));
  sub->add_option("--max-queue", o->max_queue, "syntheses waiting for a slot (default: 2 x streams)")
      ->check(CLI::Range(0, 65536));
  sub->add_option("--api-key", o->api_key, "require 'Authorization: Bearer KEY' on /v1/*");
  sub->add_option("--threads", o->threads, "intra-op threads, at most the hardware threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--max-input-chars", o->max_input_chars, "longest 'input' accepted (default 4096)")
      ->check(CLI::Range(1, 1 << 24));
  sub->add_option("--cors-origin", o->cors_origin, "allow browsers from this origin (e.g. '*')");
  sub->add_option("--shutdown-grace", o->shutdown_grace_s, "seconds running syntheses may finish on SIGTERM")
      ->check(CLI::Range(0.0, 3600.0));
  sub->add_option("--idle-timeout", o->idle_timeout_s,
                  "close connections idle this many seconds (default 30)")
      ->check(CLI::Range(0.1, 3600.0));
  sub->add_flag("-q,--quiet", o->quiet, "no access log");
  sub->callback([&run, o] { run = [o] { return server::run_server(*o); }; });
}

}  // namespace vv::cli
