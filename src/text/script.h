// Multi-voice scripts (podcasts, dialogues): lines "Name: text". A line that does not start with a speaker
// label continues the turn before it; blank lines separate nothing. A label is 1..40 characters before the
// first ':' of the line, with no ':' in it, not starting with whitespace, and followed by a space or the end.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vv {

struct ScriptTurn {
  std::string speaker;
  size_t text_begin = 0, text_end = 0;  // byte span of the turn's text in the script (without the label)
};

// Each labelled line starts a turn. Throws kInput when the text has content before its first
// label (nobody to speak it) or no label at all.
std::vector<ScriptTurn> parse_script(std::string_view script);

}  // namespace vv
