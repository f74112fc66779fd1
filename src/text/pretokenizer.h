// The Qwen2 / GPT-4 style pre-tokenizer, as a hand-written matcher equivalent to the Oniguruma regex
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|
//   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// applied with "Isolated" split behaviour (every match is a piece; the pattern matches every code point,
// so nothing falls between matches).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vv {

// The only pattern we implement, spelled as in tokenizer.json.
inline constexpr std::string_view kQwen2PretokenizerPattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct PreToken {
  uint32_t begin;  // code point index, inclusive
  uint32_t end;    // exclusive
  bool final;      // decided without looking at the end of the text (appending text cannot change it)
};

// Splits `text` (code points, with flags[i] = unicode::flags(text[i])) into pre-tokens appended to `out`
// (cleared first).
void pretokenize(std::span<const char32_t> text, std::span<const uint8_t> flags, std::vector<PreToken>& out);

}  // namespace vv
