#include "generate/incremental_text.h"

#include "core/error.h"
#include "text/text_prep.h"
#include "text/utf8.h"

namespace vv {

std::vector<Token> IncrementalText::push(std::string_view raw) {
  raw_.append(raw);
  const std::string_view pending = std::string_view(raw_).substr(scanned_);
  size_t complete;
  try {
    complete = validate_text(pending, /*allow_incomplete_tail=*/true);
  } catch (const Error& e) {
    raw_.resize(raw_.size() - raw.size());  // keep the stream usable without the bad piece
    fail(ErrorKind::kInput, std::string("text: ") + e.what());
  }
  if (offsets_.empty()) offsets_.push_back(scanned_);
  size_t pos = 0;
  while (pos < complete) {
    size_t len = 0;
    const char32_t cp = utf8::decode_at(pending, pos, len);
    const size_t raw_pos = scanned_ + pos;
    const bool space = is_python_whitespace(cp);
    if (!(space && prepared_.empty())) {  // leading whitespace is stripped as it arrives
      offsets_.pop_back();
      if (cp == 0x2019) {
        prepared_ += '\'';
        offsets_.push_back(raw_pos);
      } else if (cp == 0x201C || cp == 0x201D) {
        prepared_ += '"';
        offsets_.push_back(raw_pos);
      } else {
        prepared_.append(pending.substr(pos, len));
        for (size_t i = 0; i < len; ++i) offsets_.push_back(raw_pos + i);
      }
      offsets_.push_back(raw_pos + len);
      if (!space) content_end_ = prepared_.size();
    } else {
      offsets_.back() = raw_pos + len;
    }
    pos += len;
  }
  scanned_ += complete;

  // Only text up to the last non-whitespace character: trailing whitespace may be stripped at finish().
  const std::string_view candidate =
      std::string_view(prepared_).substr(tokenized_, content_end_ - tokenized_);
  const Tokenizer::StablePrefix stable = tokenizer_.encode_stable_prefix(candidate);
  std::vector<Token> tokens;
  tokens.reserve(stable.tokens.size());
  for (const Token& t : stable.tokens) {
    tokens.push_back({t.id, offsets_[tokenized_ + t.begin], offsets_[tokenized_ + t.end]});
    emitted_.push_back(t.id);
  }
  tokenized_ += stable.consumed;
  return tokens;
}

std::vector<Token> prepare_and_tokenize(const Tokenizer& tokenizer, std::string_view raw, size_t* text_end) {
  const PreparedText prepared = prepare_text(raw);  // throws kInput on invalid/incomplete UTF-8
  if (prepared.text.size() <= 1) fail(ErrorKind::kInput, "text is empty (nothing but whitespace)");
  std::vector<Token> tokens = tokenizer.encode_with_offsets(prepared.text);
  for (Token& t : tokens) {
    t.begin = prepared.source_offsets[t.begin];
    t.end = prepared.source_offsets[t.end];
  }
  if (text_end) *text_end = prepared.source_offsets.back();
  return tokens;
}

std::vector<Token> IncrementalText::finish() {
  const std::vector<Token> all = prepare_and_tokenize(tokenizer_, raw_, &text_end_);
  if (all.size() < emitted_.size()) {
    fail(ErrorKind::kRuntime, "internal error: streamed tokens are not a prefix of the whole text's tokens");
  }
  for (size_t i = 0; i < emitted_.size(); ++i) {
    if (all[i].id != emitted_[i]) {
      fail(ErrorKind::kRuntime, "internal error: streamed token " + std::to_string(i) +
                                    " differs from the whole text's tokenization");
    }
  }
  std::vector<Token> rest(all.begin() + static_cast<std::ptrdiff_t>(emitted_.size()), all.end());
  for (const Token& t : rest) emitted_.push_back(t.id);
  return rest;
}

}  // namespace vv
