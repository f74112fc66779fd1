#include "generate/segmented_text.h"

#include <utility>

#include "text/text_prep.h"

namespace vv {

SegmentedText::SegmentedText(const Tokenizer& tokenizer, SegmentBudget budget)
    : tokenizer_(tokenizer),
      budget_(std::move(budget)),
      segment_(std::make_unique<IncrementalText>(tokenizer)) {}

std::vector<Token> SegmentedText::shifted(std::vector<Token> tokens) const {
  for (Token& t : tokens) {
    t.begin += seg_start_;
    t.end += seg_start_;
  }
  return tokens;
}

void SegmentedText::feed(size_t upto, Sink& sink) {
  if (upto <= fed_) return;
  std::vector<Token> tokens = segment_->push(std::string_view(raw_).substr(fed_, upto - fed_));
  fed_ = upto;
  if (!tokens.empty()) sink.tokens(shifted(std::move(tokens)));
}

void SegmentedText::push(std::string_view raw, Sink& sink) {
  const size_t before = raw_.size();
  raw_ += raw;
  try {
    complete_ += validate_text(std::string_view(raw_).substr(complete_), true);
  } catch (...) {
    raw_.resize(before);  // the refused piece is not part of the text
    throw;
  }
  advance(sink, false);
}

size_t SegmentedText::finish(Sink& sink) {
  validate_text(std::string_view(raw_).substr(complete_));  // an incomplete sequence at the very end
  complete_ = raw_.size();
  advance(sink, true);
  feed(raw_.size(), sink);
  std::vector<Token> rest = segment_->finish();
  if (!rest.empty()) sink.tokens(shifted(std::move(rest)));
  return seg_start_ + segment_->text_end();
}

void SegmentedText::advance(Sink& sink, bool final) {
  const std::string_view text = std::string_view(raw_).substr(0, complete_);
  // Fast path, no counting: a piece becomes at most one token per byte plus the final "\n", so while the
  // open segment's text is shorter than half the budget all of it surely belongs to the segment.
  if (!final && complete_ - seg_start_ + 1 < budget_.min()) {
    feed(complete_, sink);
    return;
  }
  for (;;) {
    const std::optional<size_t> end = segment_end(text, seg_start_, budget_, final);
    if (!end) {  // open: tokenize what surely belongs to it
      feed(segment_safe_end(text, seg_start_, budget_), sink);
      return;
    }
    if (*end == text.size()) return;  // the last segment (final): finish() completes it
    feed(*end, sink);
    std::vector<Token> rest = segment_->finish();
    if (!rest.empty()) sink.tokens(shifted(std::move(rest)));
    sink.end_segment(seg_start_ + segment_->text_end());
    seg_start_ = fed_ = *end;
    segment_ = std::make_unique<IncrementalText>(tokenizer_);
  }
}

}  // namespace vv
