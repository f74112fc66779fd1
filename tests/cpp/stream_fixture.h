// Shared by the Stream tests: a text of several windows, the options they synthesize it with, and the
// reference result of synthesize() on the whole text.
#pragma once

#include <cstdint>
#include <string>

#include "tiny_model.h"
#include "vibevoice/vibevoice.hpp"

namespace vv_test {

// Enough text for several windows; multi-byte characters, typographic quotes, inner newline, digits.
inline const std::string kStreamText =
    "  \u201cStreaming\u201d text, caf\u00e9 na\u00efve \u2014 it\u2019s 42 items.\nSecond line: \U0001F600 "
    "ok, done.  \n";
constexpr int64_t kStreamFrames = 48;  // covers every text window of kStreamText

inline vv::SynthesisOptions stream_options(bool decode_thread = false) {
  vv::SynthesisOptions o;
  o.decode_thread = decode_thread;
  o.voice = "synthetic";
  o.seed = 5;
  o.max_frames = kStreamFrames;
  o.ignore_eos = true;
  o.chunk_frames = 2;
  return o;
}

// synthesize() on the whole text with stream_options().
inline const vv::Audio& whole_text_audio() {
  static const vv::Audio audio = engine().synthesize(kStreamText, stream_options());
  return audio;
}

}  // namespace vv_test
