// One synthesis behind a WebSocket connection: the engine's Stream is fed text on the connection thread
// (the producer side) while a pump thread pulls its events (the consumer side, Stream's documented
// two-thread split) and posts each one to the connection thread. Holds its stream slot until destroyed.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <thread>

#include "server/stream_limiter.h"
#include "server/ws_connection.h"
#include "vibevoice/vibevoice.hpp"

namespace vv::server {

class WsUtterance {
 public:
  // Called on the connection thread: each audio/underrun event in order, then exactly one end with the
  // result (frames, stop reason; no samples) or the error that ended the generation.
  struct Callbacks {
    std::function<void(StreamEvent&&)> on_event;
    std::function<void(const Audio& result, const std::exception_ptr& error)> on_end;
  };

  // Takes a stream slot of `server` (nullptr when none is free: WebSockets do not queue), starts the stream
  // with the server's cancel-all flag as its abort (throws vv::Error for invalid options, like
  // Engine::stream) and the pump.
  static std::unique_ptr<WsUtterance> start(Server& server, SynthesisOptions options,
                                            WsConnection& connection, Callbacks callbacks);

  WsUtterance(const Engine& engine, const SynthesisOptions& options, std::unique_ptr<StreamSlot> slot,
              WsConnection& connection, Callbacks callbacks);
  ~WsUtterance();  // cancels, joins the pump, frees the slot
  WsUtterance(const WsUtterance&) = delete;
  WsUtterance& operator=(const WsUtterance&) = delete;

  Stream& stream() { return stream_; }   // push_text/finish/cancel; on the connection thread
  bool ended() const { return ended_; }  // on_end was delivered

 private:
  void pump();

  Stream stream_;
  std::unique_ptr<StreamSlot> slot_;
  WsConnection& connection_;
  Callbacks callbacks_;
  bool ended_ = false;
  std::thread pump_;  // last: started after everything above
};

}  // namespace vv::server
