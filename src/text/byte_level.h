// The GPT-2 byte-to-unicode alphabet: every byte value is shown as one printable code point so that byte
// strings can be stored as text in tokenizer.json ("Ġ" is the space byte 0x20, "Ċ" is 0x0A, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vv::byte_level {

char32_t char_of_byte(uint8_t b);

// The byte shown as `c`, or -1 when `c` is not part of the alphabet.
int byte_of_char(char32_t c);

// Converts a token written in the alphabet (UTF-8) to its raw bytes; false if a code point is not part of
// the alphabet (or the text is not valid UTF-8).
bool token_to_bytes(std::string_view token, std::string& bytes);

// Raw bytes -> token text in the alphabet (UTF-8).
std::string bytes_to_token(std::string_view bytes);

}  // namespace vv::byte_level
