// NFC normalization with the alignment rule of HF `tokenizers` (NormalizedString::transform): every output
// code point is aligned to one input code point, which is how token offsets are mapped back to the input.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vv {

struct NfcResult {
  std::vector<char32_t> text;    // normalized code points
  std::vector<uint32_t> source;  // source[i] = index of the input code point that output i aligns to
  std::vector<uint8_t> cut_ok;   // cut_ok[i] = 1 if a chunk starts at output i (text may be cut there);
                                 // size text.size()+1, last entry 1
  std::vector<uint8_t> flags;    // unicode::flags of every output code point
  bool identity = true;          // output == input; the vectors above are then left empty
};

// Normalizes `in` (with in_flags[i] = unicode::flags(in[i])) to NFC in independent chunks split at
// normalization boundaries; `out` is reused.
void nfc_normalize(std::span<const char32_t> in, std::span<const uint8_t> in_flags, NfcResult& out);

// The largest p such that NFC of in[0, p) is final whatever text follows: in.size() when the last code point
// has a boundary after it, else the last position with a boundary before it (0 if none).
size_t last_nfc_boundary(std::span<const uint8_t> in_flags);

}  // namespace vv
