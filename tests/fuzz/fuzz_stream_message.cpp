// Fuzz target: the client messages of WS /v1/audio/stream (tools/server/stream_messages.cpp) on arbitrary
// bytes. Only ProtocolError is a clean refusal, with a known code; an accepted config keeps every limit.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "server/stream_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const vv::server::SpeechLimits limits = [] {
    vv::server::SpeechLimits l;
    l.voices = {"synthetic", "en-Emma_woman"};
    return l;
  }();
  vv::server::StreamConfig current;
  current.options.voice = "synthetic";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const vv::server::ClientMessage m = vv::server::parse_client_message(text, current, limits);
    if (m.kind == vv::server::ClientMessage::kConfig) {
      const vv::SynthesisOptions& o = m.config.options;
      if (o.voice != "synthetic" && o.voice != "en-Emma_woman") vv::fuzz::mismatch("unknown voice accepted");
      if (o.steps && (*o.steps < 1 || *o.steps > 50)) vv::fuzz::mismatch("bad steps");
      if (o.cfg_scale && !(*o.cfg_scale >= 0)) vv::fuzz::mismatch("bad cfg_scale");
      if (o.max_frames < 0) vv::fuzz::mismatch("negative max_frames");
    }
  } catch (const vv::server::ProtocolError& e) {
    if (e.code != "bad_message" && e.code != "invalid_config") vv::fuzz::mismatch("unknown error code");
    if (e.fatal && e.code != "bad_message") vv::fuzz::mismatch("a fatal error that is not bad_message");
  }
  return 0;
}
