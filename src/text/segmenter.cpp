#include "text/segmenter.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "text/text_prep.h"
#include "text/utf8.h"

namespace vv {

namespace {

enum Level { kWord = 0, kClause = 1, kSentence = 2 };

bool is_sentence_end(char32_t c) {
  return c == U'.' || c == U'!' || c == U'?' || c == U'\u2026' || c == U'\u3002' || c == U'\uFF01' ||
         c == U'\uFF1F';
}
bool is_clause_end(char32_t c) {
  return c == U',' || c == U';' || c == U':' || c == U'\u2014' || c == U'\u2013' || c == U'\u3001' ||
         c == U'\uFF0C';
}
bool is_closer(char32_t c) {  // may follow a sentence end: He said "stop." Then...
  return c == U'"' || c == U'\'' || c == U')' || c == U']' || c == U'\u201D' || c == U'\u2019' ||
         c == U'\u00BB';
}

struct Boundary {
  size_t at;  // byte offset: a segment may end here (the next one starts here)
  Level level;
};

// Every place a segment may end, in order, with the best level that applies there.
std::vector<Boundary> find_boundaries(const std::vector<char32_t>& cps,
                                      const std::vector<uint32_t>& offsets) {
  std::vector<Boundary> out;
  const size_t n = cps.size();
  for (size_t i = 1; i < n; ++i) {
    if (!is_python_whitespace(cps[i]) || is_python_whitespace(cps[i - 1])) continue;
    // the end of a non-space run, before whitespace: what ends the run decides the level
    size_t j = i;  // one past the last code point of the run
    while (j > 1 && is_closer(cps[j - 1])) --j;
    Level level = kWord;
    if (cps[i] == U'\n' || is_sentence_end(cps[j - 1])) {
      level = kSentence;
    } else if (is_clause_end(cps[j - 1])) {
      level = kClause;
    }
    out.push_back({offsets[i], level});
  }
  return out;
}

}  // namespace

std::vector<TextSegment> split_into_segments(std::string_view text, size_t max_tokens,
                                             const std::function<size_t(std::string_view)>& count_tokens) {
  std::vector<char32_t> cps;
  std::vector<uint32_t> offsets;
  utf8::decode(text, cps, &offsets);
  // Cutting where only whitespace follows would leave an empty segment: the content ends at `content_end`.
  size_t content_end = 0;
  for (size_t i = cps.size(); i > 0; --i) {
    if (!is_python_whitespace(cps[i - 1])) {
      content_end = offsets[i];
      break;
    }
  }
  const std::vector<Boundary> boundaries = find_boundaries(cps, offsets);
  auto fits = [&](size_t begin, size_t end) {
    return count_tokens(text.substr(begin, end - begin)) <= max_tokens;
  };
  // The last candidate in [first, last) that fits, by binary search (the count grows with the end).
  auto last_fitting = [&](size_t begin, const std::vector<size_t>& candidates) -> std::optional<size_t> {
    size_t lo = 0, hi = candidates.size();  // candidates[lo, hi) not yet decided; [0, lo) fit
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (fits(begin, candidates[mid])) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    if (lo == 0) return std::nullopt;
    return candidates[lo - 1];
  };

  std::vector<TextSegment> out;
  size_t pos = 0;
  while (pos < text.size()) {
    if (pos >= content_end || fits(pos, text.size())) {
      out.push_back({pos, text.size()});
      break;
    }
    std::optional<size_t> cut;
    for (const Level level : {kSentence, kClause, kWord}) {
      std::vector<size_t> candidates;
      for (const Boundary& b : boundaries)
        if (b.at > pos && b.at < content_end && b.level >= level) candidates.push_back(b.at);
      if ((cut = last_fitting(pos, candidates))) break;
    }
    if (!cut) {  // one "word" longer than the budget: cut it at a code point boundary
      std::vector<size_t> candidates;
      for (const uint32_t o : offsets)
        if (o > pos && o < content_end) candidates.push_back(o);
      cut = last_fitting(pos, candidates);
      if (!cut) cut = *std::upper_bound(offsets.begin(), offsets.end(), static_cast<uint32_t>(pos));
    }
    out.push_back({pos, *cut});
    pos = *cut;
  }
  if (out.empty()) out.push_back({0, text.size()});
  return out;
}

}  // namespace vv
