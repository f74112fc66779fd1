#include "text/text_prep.h"

#include <cstdint>

#include "core/error.h"
#include "text/utf8.h"

namespace vv {
namespace {

// The replacement of a curly quote, or 0 to keep the code point.
char replacement_of(char32_t c) {
  switch (c) {
    case 0x2019:  // ’ RIGHT SINGLE QUOTATION MARK
      return '\'';
    case 0x201C:  // “ LEFT DOUBLE QUOTATION MARK
    case 0x201D:  // ” RIGHT DOUBLE QUOTATION MARK
      return '"';
    default:
      return 0;
  }
}

}  // namespace

bool is_python_whitespace(char32_t c) {
  // CPython's _PyUnicode_IsWhitespace: bidirectional type WS, B or S, or general category Zs.
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::string normalize_quotes(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  size_t pos = 0;
  while (pos < raw.size()) {
    // Curly quotes are E2 80 99 / 9C / 9D; everything else is copied byte for byte, so incomplete or invalid
    // sequences pass through unchanged and a split stream gives the same result.
    if (pos + 2 < raw.size() && raw[pos] == '\xE2' && raw[pos + 1] == '\x80') {
      const auto b = static_cast<unsigned char>(raw[pos + 2]);
      if (const char r = (b >= 0x80 && b <= 0xBF) ? replacement_of(0x2000 + (b & 0x3F)) : 0) {
        out.push_back(r);
        pos += 3;
        continue;
      }
    }
    out.push_back(raw[pos++]);
  }
  return out;
}

size_t validate_text(std::string_view s, bool allow_incomplete_tail) {
  const size_t complete = utf8::validate(s, allow_incomplete_tail);
  if (const size_t nul = s.find('\0'); nul != std::string_view::npos) {
    fail(ErrorKind::kInput,
         "text contains a NUL character at byte " + std::to_string(nul) + " (binary data is not text)");
  }
  return complete;
}

PreparedText prepare_text(std::string_view raw) {
  if (raw.size() >= UINT32_MAX)
    fail(ErrorKind::kInput, "text of " + std::to_string(raw.size()) + " bytes is too long");
  validate_text(raw);
  std::vector<char32_t> cps;
  std::vector<uint32_t> offsets;
  utf8::decode(raw, cps, &offsets);
  size_t first = 0;
  size_t last = cps.size();
  while (first < last && is_python_whitespace(cps[first])) ++first;
  while (last > first && is_python_whitespace(cps[last - 1])) --last;

  PreparedText out;
  for (size_t i = first; i < last; ++i) {
    const size_t start = out.text.size();
    if (const char r = replacement_of(cps[i]))
      out.text.push_back(r);
    else
      utf8::append(out.text, cps[i]);
    out.source_offsets.resize(out.text.size(), offsets[i]);
    // Continuation bytes of a multi-byte character map to the matching raw byte.
    for (size_t b = start; b < out.text.size(); ++b) out.source_offsets[b] = offsets[i] + (b - start);
  }
  const size_t content_end = offsets[last];
  out.text.push_back('\n');
  out.source_offsets.push_back(content_end);
  out.source_offsets.push_back(content_end);
  return out;
}

}  // namespace vv
