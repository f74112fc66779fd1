// Encodes a stretch of text that contains no added token: NFC -> pre-tokenizer -> byte-level BPE, with the
// byte span of every token in the original text.
#pragma once

#include <string_view>
#include <vector>

#include "text/bpe.h"
#include "text/tokenizer.h"

namespace vv {

class SegmentEncoder {
 public:
  SegmentEncoder(const BpeModel& bpe, bool nfc) : bpe_(bpe), nfc_(nfc) {}

  // Encodes text[begin, end) (valid UTF-8) and appends the tokens to `out`; spans are offsets into `text`.
  // With `open` the text is still growing past `end`: only tokens that no continuation can change are
  // emitted, and the returned byte offset is where they stop. Otherwise everything is emitted and `end` is
  // returned. Without `with_offsets` token spans are left 0.
  size_t encode(std::string_view text, size_t begin, size_t end, bool open, bool with_offsets,
                std::vector<Token>& out) const;

 private:
  const BpeModel& bpe_;
  bool nfc_;
};

}  // namespace vv
