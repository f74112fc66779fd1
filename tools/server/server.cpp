// The accept loop (Boost.Asio), one thread per connection, and graceful shutdown on SIGINT/SIGTERM: stop
// accepting, close idle connections, let running syntheses finish for the grace period, then cancel them.
#include "server/server.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <thread>

#include "core/error.h"
#include "server/server_impl.h"

namespace vv::server {

namespace {

void accept_next(Server& server, tcp::acceptor& acceptor) {
  acceptor.async_accept([&server, &acceptor](boost::system::error_code ec, tcp::socket socket) {
    if (!acceptor.is_open()) return;
    if (!ec) std::thread(serve_connection, std::ref(server), std::move(socket)).detach();
    accept_next(server, acceptor);
  });
}

void wait_for_connections(const Server& server, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (server.connections() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

int run_server(const ServerOptions& o) {
  if (o.port < 0 || o.port > 65535) fail(ErrorKind::kUsage, "--port must be in 0..65535");
  if (o.max_streams < 0) fail(ErrorKind::kUsage, "--max-streams must be >= 0 (0 = from the core count)");
  if (o.max_queue < -1) fail(ErrorKind::kUsage, "--max-queue must be >= 0");
  if (o.max_input_chars < 1) fail(ErrorKind::kUsage, "--max-input-chars must be >= 1");
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(o.host, ec);
  if (ec) fail(ErrorKind::kUsage, "--host '" + o.host + "' is not an IP address: " + ec.message());

  // One synthesis keeps about two cores busy (the language models and the decoder).
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int streams = o.max_streams > 0 ? o.max_streams : std::max(1, cores / 2);
  const int queue = o.max_queue >= 0 ? o.max_queue : 2 * streams;
  Server server(o, Engine::load({o.model_dir, o.threads, "cpu"}), streams, queue);

  boost::asio::io_context io;
  tcp::acceptor acceptor(io);
  acceptor.open(address.is_v6() ? tcp::v6() : tcp::v4(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind({address, static_cast<unsigned short>(o.port)}, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) {
    fail(ErrorKind::kUsage,
         "cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  int received = 0;
  signals.async_wait([&](const boost::system::error_code& error, int sig) {
    if (error) return;
    received = sig;
    server.shutting_down = true;
    acceptor.close();
  });
  accept_next(server, acceptor);
  const auto endpoint = acceptor.local_endpoint();
  std::printf("vibevoice serve: listening on http://%s:%u (%d streams, queue %d, %zu voices)\n",
              endpoint.address().to_string().c_str(), endpoint.port(), streams, queue,
              server.engine.voices().size());
  std::fflush(stdout);
  io.run();

  std::fprintf(stderr, "vibevoice serve: signal %d, shutting down (grace %.0f s)\n", received,
               o.shutdown_grace_s);
  server.close_idle_connections();
  wait_for_connections(server, o.shutdown_grace_s);
  server.cancel_all = true;  // whatever still runs stops at its next frame
  server.close_idle_connections();
  wait_for_connections(server, 5);
  return 0;
}

}  // namespace vv::server
