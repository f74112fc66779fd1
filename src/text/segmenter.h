// Long texts: split a text into segments that each fit the model's position budget, at the best boundary
// that fits — a sentence end (or paragraph break), else a clause boundary (, ; : and dashes), else a word
// boundary (whitespace), and only for a single "word" longer than the budget at a code point boundary.
// Never inside a word (unless it alone exceeds the budget) or a UTF-8 sequence. Deterministic.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

namespace vv {

struct TextSegment {
  size_t begin = 0, end = 0;  // byte span in the input text; segments are contiguous and cover it
  bool operator==(const TextSegment&) const = default;
};

// `count_tokens(piece)` gives the number of text tokens a piece of the text becomes when it is spoken as
// one utterance (its preparation included); a segment is at most `max_tokens` of them. Assumes the text is
// valid UTF-8 (validate it first). A text that fits is one segment.
std::vector<TextSegment> split_into_segments(std::string_view text, size_t max_tokens,
                                             const std::function<size_t(std::string_view)>& count_tokens);

}  // namespace vv
