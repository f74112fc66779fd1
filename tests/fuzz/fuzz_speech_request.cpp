// Fuzz target: the server's POST /v1/audio/speech body parser (tools/server/speech_request.cpp) on arbitrary
// bytes. Only BadRequest is a clean refusal; an accepted request must satisfy every documented limit.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "server/speech_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const vv::server::SpeechLimits limits = [] {
    vv::server::SpeechLimits l;
    l.max_input_chars = 64;
    l.voices = {"synthetic", "en-Emma_woman"};
    return l;
  }();
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    const vv::server::SpeechRequest r = vv::server::parse_speech_request("application/json", body, limits);
    const size_t chars = vv::server::code_points(r.input);
    if (chars == 0 || chars > limits.max_input_chars) vv::fuzz::mismatch("input length outside the limit");
    if (r.voice != "synthetic" && r.voice != "en-Emma_woman") vv::fuzz::mismatch("unknown voice accepted");
    if (r.options.steps && (*r.options.steps < 1 || *r.options.steps > 50)) vv::fuzz::mismatch("bad steps");
    if (r.options.cfg_scale && !(*r.options.cfg_scale >= 0)) vv::fuzz::mismatch("bad cfg_scale");
    if (r.options.max_frames < 0) vv::fuzz::mismatch("negative max_frames");
    for (const auto& [speaker, voice] : r.script_options.voices)
      if (voice != "synthetic" && voice != "en-Emma_woman")
        vv::fuzz::mismatch("unknown script voice accepted");
    if (!(r.script_options.pause_seconds >= 0 && r.script_options.pause_seconds <= 10))
      vv::fuzz::mismatch("bad pause");
  } catch (const vv::server::BadRequest&) {
  }
  return 0;
}
