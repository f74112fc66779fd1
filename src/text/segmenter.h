// Long texts: split a text into segments that each fit the model's position budget. Policy, from the start
// `pos` of a segment: if the rest of the text fits (at most max_tokens), it is the last segment; otherwise
// the segment ends at the last sentence end (or line break) whose segment has between min_tokens and
// max_tokens tokens, else the last such clause boundary (, ; : and dashes), else the last such word
// boundary (whitespace), else the last word boundary that fits at all (a long word follows), else — one
// "word" longer than the budget — at the last code point that fits. Never inside a word that fits or
// inside a UTF-8 sequence. Deterministic.
//
// Because of min_tokens the policy can be applied while the text is still arriving (a Stream): the text
// that surely belongs to the open segment is known early (segment_safe_end: up to the last boundary below
// min_tokens, or the last boundary of the best level already in range), and the segment's end is decided
// as soon as the text from `pos` exceeds max_tokens (segment_end), exactly where split_into_segments()
// puts it on the whole text.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace vv {

struct TextSegment {
  size_t begin = 0, end = 0;  // byte span in the input text; segments are contiguous and cover it
  bool operator==(const TextSegment&) const = default;
};

// `count(piece)` gives the number of text tokens a piece of the text becomes when it is spoken as one
// utterance (its preparation included). min_tokens = max_tokens / 2 unless given.
struct SegmentBudget {
  size_t max_tokens = 0, min_tokens = 0;
  std::function<size_t(std::string_view)> count;
  size_t min() const { return min_tokens ? min_tokens : max_tokens / 2; }
};

// The text must be valid UTF-8 (validate it first). A text that fits is one segment.
std::vector<TextSegment> split_into_segments(std::string_view text, const SegmentBudget& budget);

// Streaming: `text` is the text so far (complete code points), `final` whether more can follow. The end of
// the segment starting at `pos`, or nullopt while it is not decided (the text from `pos` still fits and
// more may come).
std::optional<size_t> segment_end(std::string_view text, size_t pos, const SegmentBudget& budget, bool final);

// Streaming, while segment_end() is undecided: the text up to the returned offset belongs to the segment
// starting at `pos` whatever follows (it may be `pos` itself).
size_t segment_safe_end(std::string_view text, size_t pos, const SegmentBudget& budget);

}  // namespace vv
