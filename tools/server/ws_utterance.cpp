#include "server/ws_utterance.h"

#include <utility>

namespace vv::server {

std::unique_ptr<WsUtterance> WsUtterance::start(Server& server, SynthesisOptions options,
                                                WsConnection& connection, Callbacks callbacks) {
  if (!server.limiter.try_acquire()) return nullptr;
  auto slot = std::make_unique<StreamSlot>(server.limiter);
  options.should_abort = [&server] { return server.cancel_all.load(); };
  return std::make_unique<WsUtterance>(server.engine, options, std::move(slot), connection,
                                       std::move(callbacks));
}

WsUtterance::WsUtterance(const Engine& engine, const SynthesisOptions& options,
                         std::unique_ptr<StreamSlot> slot, WsConnection& connection, Callbacks callbacks)
    : stream_(engine.stream(options)),
      slot_(std::move(slot)),
      connection_(connection),
      callbacks_(std::move(callbacks)),
      pump_([this] { pump(); }) {}

WsUtterance::~WsUtterance() {
  stream_.cancel();
  pump_.join();
}

void WsUtterance::pump() {
  Audio result;
  std::exception_ptr error;
  try {
    for (StreamEvent ev = stream_.pull(); ev.kind != StreamEvent::kEnd; ev = stream_.pull())
      connection_.post([this, e = std::move(ev)]() mutable { callbacks_.on_event(std::move(e)); });
    result = stream_.wait();
  } catch (...) {
    error = std::current_exception();
  }
  // The owner may destroy this object inside on_end: nothing may touch `this` after it.
  connection_.post([this, r = std::move(result), error] {
    ended_ = true;
    const auto on_end = std::move(callbacks_.on_end);  // survives this object
    on_end(r, error);
  });
}

}  // namespace vv::server
