#include "text/normalize/tagged_tokens.h"

#include <algorithm>
#include <numeric>
#include <optional>

namespace vv::tn {

namespace {

constexpr std::string_view kPreserveOrder = "preserve_order";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// TokenParser: one character of lookahead, "EOS" after the last one.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {
    if (text_.empty()) throw TagParseError{};
  }

  // A -> space F space F ... ; `top` records each token's offset.
  std::vector<TaggedToken> parse_list() {
    std::vector<TaggedToken> list;
    while (skip_ws()) {
      const size_t at = pos_;
      std::optional<Field> f = parse_token();
      if (!f) break;
      list.push_back({std::move(*f), at});
    }
    return list;
  }

 private:
  bool eos() const { return pos_ >= text_.size(); }
  char ch() const { return text_[pos_]; }
  bool read() {  // false at the end (the parser then sees EOS)
    ++pos_;
    return !eos();
  }
  bool skip_ws() {
    while (!eos() && ch() == ' ') read();
    return !eos();
  }
  void expect(char c) {
    if (eos() || ch() != c) throw TagParseError{};
    read();
  }

  std::optional<Field> parse_token() {
    if (eos() || is_space(ch())) throw TagParseError{};
    std::string key;
    while (is_key_char(ch())) {
      key.push_back(ch());
      if (!read()) throw TagParseError{};
    }
    if (key.empty()) return std::nullopt;
    skip_ws();
    Field f;
    f.key = std::move(key);
    if (f.key == kPreserveOrder) {
      expect(':');
      skip_ws();
      for (const char c : std::string_view("true")) expect(c);
      f.kind = Field::kTrue;
      return f;
    }
    if (eos()) throw TagParseError{};
    if (ch() == ':') {
      read();
      skip_ws();
      expect('"');
      // a value ends at a quote followed by a space
      while (eos() || ch() != '"' || pos_ + 1 >= text_.size() || text_[pos_ + 1] != ' ') {
        if (eos() || pos_ + 1 >= text_.size()) throw TagParseError{};
        f.value.push_back(ch());
        read();
      }
      if (f.value.empty()) throw TagParseError{};  // nemo parses it as None, which it cannot serialize
      expect('"');
      f.kind = Field::kString;
      return f;
    }
    if (ch() == '{') {
      read();
      f.kind = Field::kGroup;
      for (TaggedToken& t : parse_list()) {
        auto same = std::find_if(f.children.begin(), f.children.end(),
                                 [&](const Field& c) { return c.key == t.field.key; });
        if (same != f.children.end())
          *same = std::move(t.field);
        else
          f.children.push_back(std::move(t.field));
      }
      expect('}');
      return f;
    }
    throw TagParseError{};
  }

  std::string_view text_;
  size_t pos_ = 0;
};

uint64_t saturating_mul(uint64_t a, uint64_t b) {
  if (a != 0 && b > UINT64_MAX / a) return UINT64_MAX;
  return a * b;
}

uint64_t group_estimate(const std::vector<Field>& fields) {
  uint64_t n = 1;
  for (const Field& f : fields)
    if (f.kind == Field::kGroup) n = saturating_mul(n, group_estimate(f.children));
  for (uint64_t k = 2; k <= fields.size(); ++k) n = saturating_mul(n, k);
  return n;
}

// nemo's _permute on a group's fields: every order of the fields (itertools.permutations, i.e. the
// lexicographic order of index sequences) unless the group holds preserve_order, each with every
// serialization of its subgroups (itertools.product: earlier fields vary slowest).
std::vector<std::string> serializations(const std::vector<Field>& fields) {
  std::vector<size_t> order(fields.size());
  std::iota(order.begin(), order.end(), 0);
  const bool keep =
      std::any_of(fields.begin(), fields.end(), [](const Field& f) { return f.key == kPreserveOrder; });
  std::vector<std::string> out;
  do {
    std::vector<std::string> partial{""};
    for (const size_t i : order) {
      const Field& f = fields[i];
      std::vector<std::string> next;
      if (f.kind == Field::kGroup) {
        const std::vector<std::string> inner = serializations(f.children);
        for (const std::string& p : partial)
          for (const std::string& r : inner) next.push_back(p + " " + f.key + " { " + r + " } ");
      } else {
        const std::string s = f.kind == Field::kString ? f.key + ": \"" + f.value + "\" " : f.key + ": true ";
        for (const std::string& p : partial) next.push_back(p + s);
      }
      partial = std::move(next);
    }
    out.insert(out.end(), partial.begin(), partial.end());
  } while (!keep && std::next_permutation(order.begin(), order.end()));
  return out;
}

}  // namespace

std::vector<TaggedToken> parse_tagged(std::string_view tagged) {
  return Parser(tagged).parse_list();
}

uint64_t permutation_estimate(const Field& token) {
  return group_estimate({token});
}

std::vector<std::vector<const TaggedToken*>> split_for_permutations(const std::vector<TaggedToken>& tokens,
                                                                    uint64_t max_permutations) {
  std::vector<std::vector<const TaggedToken*>> runs(1);
  uint64_t current = 1;
  for (const TaggedToken& t : tokens) {
    const uint64_t n = permutation_estimate(t.field);
    if (saturating_mul(n, current) > max_permutations) {
      runs.emplace_back();
      current = 1;
    }
    if (n > max_permutations) throw TagParseError{};
    current = saturating_mul(current, n);
    runs.back().push_back(&t);
  }
  return runs;
}

bool for_each_serialization(const std::vector<const TaggedToken*>& run,
                            const std::function<bool(const std::string& candidate,
                                                     const std::vector<size_t>& starts)>& try_candidate) {
  std::vector<std::vector<std::string>> options;
  options.reserve(run.size());
  for (const TaggedToken* t : run) options.push_back(serializations({t->field}));
  std::vector<size_t> pick(run.size(), 0);  // an odometer: the last token varies fastest
  std::vector<size_t> starts(run.size());
  while (true) {
    std::string candidate;
    for (size_t i = 0; i < run.size(); ++i) {
      starts[i] = candidate.size();
      candidate += options[i][pick[i]];
    }
    if (try_candidate(candidate, starts)) return true;
    size_t i = run.size();
    while (i > 0 && ++pick[i - 1] == options[i - 1].size()) pick[--i] = 0;
    if (i == 0) return false;
  }
}

}  // namespace vv::tn
