// `vibevoice synth --timestamps FILE`: word/sentence timings (text/timestamps.h) as .srt, .vtt or .json,
// chosen by the file's extension.
#pragma once

#include <string>
#include <string_view>

#include "text/timestamps.h"

namespace vv::cli {

// kUsage for an extension other than .srt/.vtt/.json or a target that cannot be written (nothing is created).
void check_timestamps_target(const std::string& path);
// Writes the file (kRuntime when that fails). `script`: the text is a script (its labels are not words).
void write_timestamps(const std::string& path, std::string_view text, const TimestampBuilder& timings,
                      bool script);

}  // namespace vv::cli
