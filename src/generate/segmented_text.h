// The producer side of a Stream over a text of any length: text pieces in (any split, even inside a UTF-8
// sequence), final tokens out, segment after segment. Segments are those split_into_segments() makes of the
// whole text (text/segmenter.h): a segment's end is decided as soon as its text exceeds the budget, and only
// text that surely belongs to the open segment is tokenized (IncrementalText per segment), so each segment
// gets exactly the tokens prepare_and_tokenize() gives its text. Token spans are bytes of the whole raw text.
// Not thread-safe (one producer).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "generate/incremental_text.h"
#include "text/segmenter.h"

namespace vv {

class SegmentedText {
 public:
  class Sink {
   public:
    virtual ~Sink() = default;
    virtual void tokens(std::vector<Token>&& tokens) = 0;  // more final tokens of the open segment
    virtual void end_segment(size_t text_end) = 0;         // the open segment is complete; the next opens
  };

  SegmentedText(const Tokenizer& tokenizer, SegmentBudget budget);

  // Throws kInput on invalid UTF-8 or a NUL character.
  void push(std::string_view raw, Sink& sink);
  // Ends the text: the rest of the tokens, segment by segment; returns the text end of the last segment
  // (its end_segment is not called). Throws kInput when the whole text is empty after preparation.
  size_t finish(Sink& sink);

 private:
  void advance(Sink& sink, bool final);
  void feed(size_t upto, Sink& sink);
  std::vector<Token> shifted(std::vector<Token> tokens) const;

  const Tokenizer& tokenizer_;
  const SegmentBudget budget_;
  std::string raw_;
  size_t complete_ = 0;   // raw_[0, complete_) is whole code points
  size_t seg_start_ = 0;  // the open segment starts here
  size_t fed_ = 0;        // raw_[seg_start_, fed_) went to `segment_`
  std::unique_ptr<IncrementalText> segment_;
};

}  // namespace vv
