// Per-code-point properties the tokenizer needs, from ICU, adjusted to the Unicode versions that the
// Hugging Face `tokenizers` pipeline (0.23.x) actually uses so that our output is identical:
//   - the pre-tokenizer regex runs on Oniguruma 6.9.10 = Unicode 16.0 (\p{L}, \p{N}, \s = White_Space);
//   - the NFC normalizer (crate unicode-normalization-alignments) carries Unicode 9.0 data, so characters
//     assigned later are never decomposed, composed or reordered.
#pragma once

#include <cstdint>

namespace vv::unicode {

enum Flag : uint8_t {
  kLetter = 1 << 0,             // \p{L}
  kNumber = 1 << 1,             // \p{N}
  kWhitespace = 1 << 2,         // \s of the regex engine (Unicode White_Space)
  kNfcBoundaryBefore = 1 << 3,  // NFC(text before) + NFC(text from here) == NFC(text)
  kNfcInert = 1 << 4,           // a chunk made of this single code point is unchanged by NFC
  kNfcFrozen = 1 << 5,          // unknown to the Unicode 9.0 normalizer: passed through untouched
  kNfcBoundaryAfter = 1 << 6,   // nothing that follows can change NFC of the text up to here
};

// Flags of `cp` (0 for values above U+10FFFF). Thread-safe; the table is built on first use.
uint8_t flags(char32_t cp);

// Unicode version (major, minor) of ICU's character data and the one we emulate for the regex classes.
struct Version {
  int major, minor;
};
Version icu_unicode_version();

}  // namespace vv::unicode
