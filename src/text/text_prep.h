// The model's own text preparation (architecture.md §3.3): the demo replaces ’ with ' and “ ” with ", then
// the processor does `text.strip() + "\n"` (Python's strip: Unicode whitespace as str.isspace defines it).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vv {

struct PreparedText {
  std::string text;
  // source_offsets[i] = byte offset in the raw input of prepared byte i (a replaced quote's one byte maps to
  // the quote's first byte; the appended "\n" maps to the end of the stripped content). Size text.size()+1;
  // the last entry is the end of the stripped content in the raw input.
  std::vector<size_t> source_offsets;
};

// Input text check shared by whole-text and streaming synthesis: well-formed UTF-8 (an incomplete last
// sequence is allowed with allow_incomplete_tail; the length of the complete part is returned) and no NUL
// characters (a NUL means binary data, not text). kInput otherwise.
size_t validate_text(std::string_view s, bool allow_incomplete_tail = false);

// Throws vv::Error(kInput) on invalid UTF-8 or a NUL character (validate_text).
PreparedText prepare_text(std::string_view raw);

// Only the quote replacement. Works on any split of a stream at code point boundaries.
std::string normalize_quotes(std::string_view raw);

// Python str.isspace() for one code point (Unicode White_Space plus U+001C..U+001F, as CPython defines it).
bool is_python_whitespace(char32_t c);

}  // namespace vv
