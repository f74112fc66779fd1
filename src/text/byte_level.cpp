#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace vv::byte_level {
namespace {

struct Tables {
  std::array<char32_t, 256> to_char{};
  std::array<int16_t, 512> to_byte{};  // every alphabet code point is below 0x144
};

// Bytes that are printable Latin-1 map to themselves; the others are shifted to 256, 257, ... in order.
constexpr Tables make_tables() {
  Tables t;
  for (auto& b : t.to_byte) b = -1;
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    const char32_t c = printable ? static_cast<char32_t>(b) : next++;
    t.to_char[static_cast<size_t>(b)] = c;
    t.to_byte[c] = static_cast<int16_t>(b);
  }
  return t;
}

constexpr Tables kTables = make_tables();

}  // namespace

char32_t char_of_byte(uint8_t b) {
  return kTables.to_char[b];
}

int byte_of_char(char32_t c) {
  return c < kTables.to_byte.size() ? kTables.to_byte[c] : -1;
}

bool token_to_bytes(std::string_view token, std::string& bytes) {
  bytes.clear();
  size_t pos = 0;
  while (pos < token.size()) {
    const size_t len = utf8::sequence_length(static_cast<unsigned char>(token[pos]));
    if (len == 0 || pos + len > token.size()) return false;
    size_t used = 0;
    const int b = byte_of_char(utf8::decode_at(token, pos, used));
    if (b < 0) return false;
    bytes.push_back(static_cast<char>(b));
    pos += used;
  }
  return true;
}

std::string bytes_to_token(std::string_view bytes) {
  std::string out;
  for (char b : bytes) utf8::append(out, char_of_byte(static_cast<uint8_t>(b)));
  return out;
}

}  // namespace vv::byte_level
