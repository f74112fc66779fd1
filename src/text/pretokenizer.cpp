#include "text/pretokenizer.h"

#include "text/unicode_props.h"

namespace vv {
namespace {

// Cursor over the text that remembers whether the matcher ever looked at the end of the text: only then can
// appending more text change the decision (used for streaming).
class Matcher {
 public:
  Matcher(std::span<const char32_t> text, std::span<const uint8_t> flags) : text_(text), flags_(flags) {}

  // The end of the match starting at `i` (alternatives tried in pattern order, first success wins).
  size_t match(size_t i) {
    touched_end_ = false;
    if (text_[i] == U'\'') {
      if (const size_t e = contraction(i)) return e;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (is(i, unicode::kLetter)) return letters_from(i + 1);
    if (!is(i, unicode::kNumber) && !is_newline(i) && is(i + 1, unicode::kLetter)) return letters_from(i + 2);
    // \p{N}
    if (is(i, unicode::kNumber)) return i + 1;
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    size_t k = i;
    if (text_[i] == U' ' && is_other(i + 1)) k = i + 1;
    if (is_other(k)) {
      size_t e = k + 1;
      while (is_other(e)) ++e;
      while (is_newline(e)) ++e;
      return e;
    }
    // text_[i] is whitespace from here on.
    size_t run_end = i + 1;
    size_t last_newline = is_newline(i) ? i + 1 : 0;
    while (is(run_end, unicode::kWhitespace)) {
      if (is_newline(run_end)) last_newline = run_end + 1;
      ++run_end;
    }
    // \s*[\r\n]+ : backtracking stops right after the last line break of the run.
    if (last_newline) return last_newline;
    // \s+(?!\S) : the whole run at the end of text, else the run minus its last character.
    if (run_end == text_.size()) return run_end;
    if (run_end - i >= 2) return run_end - 1;
    return i + 1;  // \s+
  }

  bool touched_end() const { return touched_end_; }

 private:
  bool at_end(size_t i) {
    if (i < text_.size()) return false;
    touched_end_ = true;
    return true;
  }
  bool is(size_t i, uint8_t flag) { return !at_end(i) && (flags_[i] & flag); }
  bool is_newline(size_t i) { return !at_end(i) && (text_[i] == U'\r' || text_[i] == U'\n'); }
  bool is_other(size_t i) {
    return !at_end(i) && !(flags_[i] & (unicode::kLetter | unicode::kNumber | unicode::kWhitespace));
  }
  size_t letters_from(size_t e) {
    while (is(e, unicode::kLetter)) ++e;
    return e;
  }
  // (?i:'s|'t|'re|'ve|'m|'ll|'d). Case-insensitive matching in Oniguruma also lets U+017F LATIN SMALL
  // LETTER LONG S match 's' (simple case folding); verified against tokenizers.
  size_t contraction(size_t i) {
    if (at_end(i + 1)) return 0;
    const char32_t c1 = lower(text_[i + 1]);
    if (c1 == U's' || c1 == U't' || c1 == U'm' || c1 == U'd') return i + 2;
    if (c1 != U'r' && c1 != U'v' && c1 != U'l') return 0;
    if (at_end(i + 2)) return 0;
    const char32_t c2 = lower(text_[i + 2]);
    if ((c1 == U'r' || c1 == U'v') && c2 == U'e') return i + 3;
    if (c1 == U'l' && c2 == U'l') return i + 3;
    return 0;
  }
  static char32_t lower(char32_t c) {
    if (c >= U'A' && c <= U'Z') return c + 32;
    if (c == 0x017F) return U's';
    return c;
  }

  std::span<const char32_t> text_;
  std::span<const uint8_t> flags_;
  bool touched_end_ = false;
};

}  // namespace

void pretokenize(std::span<const char32_t> text, std::span<const uint8_t> flags, std::vector<PreToken>& out) {
  out.clear();
  Matcher m(text, flags);
  size_t i = 0;
  while (i < text.size()) {
    const size_t e = m.match(i);
    out.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(e), !m.touched_end()});
    i = e;
  }
}

}  // namespace vv
