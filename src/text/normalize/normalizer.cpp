#include "text/normalize/normalizer.h"

#include <algorithm>
#include <optional>

#include "text/normalize/tagged_tokens.h"
#include "text/text_prep.h"
#include "text/utf8.h"

namespace vv::tn {

namespace {

using Span = std::pair<size_t, size_t>;

// Python's str.strip(): the byte range of `s` without leading and trailing Unicode whitespace.
Span strip(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    size_t len = 0;
    const char32_t c = utf8::decode_at(s, b, len);
    if (!is_python_whitespace(c)) break;
    b += len;
  }
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t len = 0;
    if (!is_python_whitespace(utf8::decode_at(s, start, len))) break;
    e = start;
  }
  return {b, e};
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The text unchanged: every byte reads itself.
Normalized identity(std::string_view s, size_t offset) {
  Normalized n{std::string(s), {}};
  for (size_t i = 0; i < s.size(); ++i) n.source.emplace_back(offset + i, offset + i + 1);
  return n;
}

// Where each byte of `after` comes from in `before`, for a rewrite that mostly adds or drops spaces (the
// post-processing grammar moves spaces around punctuation): a greedy monotone match.
std::vector<size_t> align_rewrite(std::string_view before, std::string_view after) {
  std::vector<size_t> from(after.size());
  size_t i = 0;
  const size_t last = before.empty() ? 0 : before.size() - 1;
  for (size_t j = 0; j < after.size();) {
    if (i < before.size() && before[i] == after[j]) {
      from[j++] = i++;
    } else if (after[j] == ' ') {
      from[j++] = std::min(i, last);
    } else if (i < before.size() && before[i] == ' ') {
      ++i;
    } else {
      from[j++] = std::min(i, last);
      if (i < before.size()) ++i;
    }
  }
  return from;
}

}  // namespace

Normalizer::Normalizer(const GrammarFiles& files)
    : tagger_(Grammar::load(files.tagger)),
      verbalizer_(Grammar::load(files.verbalizer)),
      post_(files.post_processor.empty() ? nullptr
                                         : std::make_unique<Grammar>(Grammar::load(files.post_processor))),
      max_permutations_(files.max_permutations) {}

// The verbalized text of the tagged tokens, run after run (nemo joins runs with a space), and in `spans`
// the input span of each output byte (a separator gets the span of the byte before it).
std::string Normalizer::verbalize(const std::string& tagged, const std::vector<size_t>& tag_consumed,
                                  std::vector<Span>& spans) const {
  const std::vector<TaggedToken> tokens = parse_tagged(tagged);
  // the input bytes each token reads: from where its tagged text starts to where the next one's starts
  std::vector<Span> token_span(tokens.size());
  for (size_t k = 0; k < tokens.size(); ++k) token_span[k] = {tag_consumed[tokens[k].offset], SIZE_MAX};
  for (size_t k = 0; k + 1 < tokens.size(); ++k) token_span[k].second = token_span[k + 1].first;

  std::string out;
  for (const std::vector<const TaggedToken*>& run : split_for_permutations(tokens, max_permutations_)) {
    std::optional<Rewrite> best;
    std::vector<size_t> starts;
    const bool ok =
        for_each_serialization(run, [&](const std::string& candidate, const std::vector<size_t>& s) {
          best = verbalizer_.best_path(candidate);
          starts = s;
          return best.has_value();
        });
    if (!ok) throw TagParseError{};
    const Span before = spans.empty() ? Span{0, 0} : Span{spans.back().second, spans.back().second};
    out.push_back(' ');
    spans.push_back(before);
    for (size_t j = 0; j < best->output.size(); ++j) {
      const auto it = std::upper_bound(starts.begin(), starts.end(), best->consumed[j]);
      const size_t in_run = it == starts.begin() ? 0 : static_cast<size_t>(it - starts.begin()) - 1;
      const auto k = static_cast<size_t>(run[in_run] - tokens.data());
      out.push_back(best->output[j]);
      spans.push_back(token_span[k]);
    }
  }
  return out;
}

Normalized Normalizer::normalize_line(std::string_view line) const {
  const auto [b, e] = strip(line);
  if (b == e) return {};
  const std::string_view s = line.substr(b, e - b);
  const std::optional<Rewrite> tagged = tagger_.best_path(s);
  if (!tagged) return identity(s, b);

  std::vector<Span> spans;
  std::string text;
  try {
    text = verbalize(tagged->output, tagged->consumed, spans);
  } catch (const TagParseError&) {
    return identity(s, b);
  }
  for (Span& sp : spans) {  // token spans in line bytes, without the whitespace around them
    sp.second = std::min(sp.second, s.size());
    while (sp.first < sp.second && is_space(s[sp.first])) ++sp.first;
    while (sp.second > sp.first && is_space(s[sp.second - 1])) --sp.second;
    sp = {b + sp.first, b + sp.second};
  }
  // nemo: output[1:] (the first run's separator), then two or more spaces become one
  Normalized n;
  for (size_t i = 1; i < text.size(); ++i) {
    if (text[i] == ' ' && !n.text.empty() && n.text.back() == ' ' && i >= 2 && text[i - 1] == ' ') continue;
    n.text.push_back(text[i]);
    n.source.push_back(spans[i]);
  }
  if (!post_) return n;
  const auto [pb, pe] = strip(n.text);
  std::string pre = n.text.substr(pb, pe - pb);
  std::vector<Span> pre_source(n.source.begin() + static_cast<std::ptrdiff_t>(pb),
                               n.source.begin() + static_cast<std::ptrdiff_t>(pe));
  if (pre.empty()) return {};
  std::optional<std::string> post = post_->top_rewrite(pre);
  if (!post) return {std::move(pre), std::move(pre_source)};
  Normalized out{std::move(*post), {}};
  for (const size_t i : align_rewrite(pre, out.text)) out.source.push_back(pre_source[i]);
  return out;
}

Normalized Normalizer::normalize(std::string_view text) const {
  Normalized all;
  size_t pos = 0;
  while (true) {
    const size_t nl = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    Normalized n = normalize_line(line);
    for (Span& sp : n.source) sp = {sp.first + pos, sp.second + pos};
    all.text += n.text;
    all.source.insert(all.source.end(), n.source.begin(), n.source.end());
    if (nl == std::string_view::npos) break;
    all.text.push_back('\n');
    all.source.emplace_back(nl, nl + 1);
    pos = nl + 1;
  }
  // the spans of the separators and of bytes after a shortened token keep both ends non-decreasing
  for (size_t i = 1; i < all.source.size(); ++i) {
    all.source[i].first = std::max(all.source[i].first, all.source[i - 1].first);
    all.source[i].second = std::max(all.source[i].second, all.source[i - 1].second);
  }
  return all;
}

}  // namespace vv::tn
