#include "text/utf8.h"

#include "core/error.h"

namespace vv::utf8 {
namespace {

// Length of the maximal well-formed prefix of a sequence starting at `pos` (Unicode 3.9, table 3-7):
// returns {consumed, complete}. `consumed` is 0 when the lead byte is invalid.
struct Probe {
  size_t consumed;
  bool complete;
};

Probe probe(std::string_view s, size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  const size_t need = sequence_length(b0);
  if (need == 0) return {0, false};
  if (need == 1) return {1, true};
  size_t got = 1;
  for (; got < need && pos + got < s.size(); ++got) {
    const auto b = static_cast<unsigned char>(s[pos + got]);
    unsigned char lo = 0x80, hi = 0xBF;
    if (got == 1) {  // the second byte has narrower ranges that exclude overlongs and surrogates
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    }
    if (b < lo || b > hi) return {got, false};
  }
  return {got, got == need};
}

}  // namespace

size_t sequence_length(unsigned char b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

char32_t decode_at(std::string_view s, size_t pos, size_t& length) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    length = 1;
    return b0;
  }
  length = sequence_length(b0);
  char32_t cp = b0 & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + i]) & 0x3F);
  return cp;
}

size_t validate(std::string_view s, bool allow_incomplete_tail) {
  size_t pos = 0;
  while (pos < s.size()) {
    if (static_cast<unsigned char>(s[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Probe p = probe(s, pos);
    if (p.complete) {
      pos += p.consumed;
      continue;
    }
    const bool at_end = p.consumed > 0 && pos + p.consumed == s.size();
    if (at_end && allow_incomplete_tail) return pos;
    fail(ErrorKind::kInput, "invalid UTF-8 at byte " + std::to_string(at_end ? pos : pos + p.consumed));
  }
  return pos;
}

void decode(std::string_view s, std::vector<char32_t>& out, std::vector<uint32_t>* offsets) {
  out.clear();
  if (offsets) offsets->clear();
  size_t pos = 0;
  while (pos < s.size()) {
    size_t len = 0;
    out.push_back(decode_at(s, pos, len));
    if (offsets) offsets->push_back(static_cast<uint32_t>(pos));
    pos += len;
  }
  if (offsets) offsets->push_back(static_cast<uint32_t>(s.size()));
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string sanitize_lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    if (static_cast<unsigned char>(bytes[pos]) < 0x80) {
      out.push_back(bytes[pos++]);
      continue;
    }
    const Probe p = probe(bytes, pos);
    if (p.complete) {
      out.append(bytes.substr(pos, p.consumed));
      pos += p.consumed;
    } else {
      out.append("\xEF\xBF\xBD");  // U+FFFD for the maximal subpart (at least the offending byte)
      pos += p.consumed == 0 ? 1 : p.consumed;
    }
  }
  return out;
}

}  // namespace vv::utf8
