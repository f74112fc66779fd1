// UTF-8 decoding, validation and encoding used by the text pipeline. Invalid input is reported as
// vv::Error(kInput, "invalid UTF-8 at byte N") so callers never see undefined behaviour on bad text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vv::utf8 {

// Length of the sequence announced by lead byte `b` (1..4), or 0 if `b` cannot start a sequence.
size_t sequence_length(unsigned char b);

// Decodes one well-formed code point at `pos` (caller guarantees validity, e.g. after validate()).
char32_t decode_at(std::string_view s, size_t pos, size_t& length);

// Returns the byte length of the longest prefix of `s` that is well-formed UTF-8 when the rest is an
// incomplete (but so far valid) sequence at the very end; throws kInput on any ill-formed byte.
// With allow_incomplete_tail = false an incomplete tail is an error too.
size_t validate(std::string_view s, bool allow_incomplete_tail = false);

// Decodes validated UTF-8 into code points; `offsets` (if given) gets the byte offset of every code point
// plus a final entry s.size().
void decode(std::string_view s, std::vector<char32_t>& out, std::vector<uint32_t>* offsets = nullptr);

void append(std::string& out, char32_t cp);

// Rust's String::from_utf8_lossy: every maximal ill-formed subpart becomes one U+FFFD.
std::string sanitize_lossy(std::string_view bytes);

}  // namespace vv::utf8
