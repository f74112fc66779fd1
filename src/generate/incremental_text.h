// Text that arrives in pieces (e.g. LLM tokens), turned into final model tokens as early as possible while
// guaranteeing the same tokens as preparing + tokenizing the whole text at once (architecture.md 3.3):
// typographic quotes are normalised per code point, leading whitespace is dropped as it arrives, and only
// the stable prefix (Tokenizer::encode_stable_prefix) of the text up to its last non-whitespace character
// is tokenized — trailing whitespace may still be stripped by finish(). finish() prepares the whole text
// with prepare_text() (strip + "\n") and returns the remaining tokens. Token spans are raw input bytes.
// Not thread-safe (one producer).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace vv {

// The whole text at once: prepare_text() + tokenization, spans in raw bytes. `text_end` receives the end
// of the stripped text. Throws kInput for invalid UTF-8 or a text that is empty after preparation.
std::vector<Token> prepare_and_tokenize(const Tokenizer& tokenizer, std::string_view raw, size_t* text_end);

class IncrementalText {
 public:
  explicit IncrementalText(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

  // Appends raw UTF-8 bytes (a code point may be split across calls) and returns the newly final tokens.
  // Throws kInput on invalid UTF-8.
  std::vector<Token> push(std::string_view raw);
  // Returns the rest of the tokens of prepare_text(whole raw text). Throws kInput when the text is
  // invalid UTF-8 (e.g. ends inside a sequence) or empty after preparation.
  std::vector<Token> finish();

  size_t raw_size() const { return raw_.size(); }
  size_t tokens_emitted() const { return emitted_.size(); }
  // End of the stripped text in raw bytes (valid after finish()).
  size_t text_end() const { return text_end_; }

 private:
  const Tokenizer& tokenizer_;
  std::string raw_;
  size_t scanned_ = 0;           // raw bytes turned into prepared text so far (complete code points)
  std::string prepared_;         // quote-normalised, left-stripped text so far
  std::vector<size_t> offsets_;  // raw offset of each prepared byte, plus one entry for the end
  size_t content_end_ = 0;       // prepared bytes up to the last non-whitespace code point
  size_t tokenized_ = 0;         // prepared bytes covered by emitted tokens
  std::vector<int32_t> emitted_;
  size_t text_end_ = 0;
};

}  // namespace vv
