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

// The text from `pos` on: its boundaries (absolute offsets, in order, with the best level that applies),
// its code point starts and the end of its last non-whitespace character.
struct Scan {
  std::vector<Boundary> boundaries;
  std::vector<size_t> code_points;  // starts of the code points after pos
  size_t content_end = 0;           // pos when there is none
};

Scan scan(std::string_view text, size_t pos) {
  std::vector<char32_t> cps;
  std::vector<uint32_t> offsets;
  utf8::decode(text.substr(pos), cps, &offsets);
  Scan s;
  s.content_end = pos;
  for (size_t i = cps.size(); i > 0; --i) {
    if (!is_python_whitespace(cps[i - 1])) {
      s.content_end = pos + offsets[i];
      break;
    }
  }
  for (size_t i = 1; i < cps.size(); ++i) {
    s.code_points.push_back(pos + offsets[i]);
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
    s.boundaries.push_back({pos + offsets[i], level});
  }
  return s;
}

size_t tokens(std::string_view text, size_t begin, size_t end, const SegmentBudget& b) {
  return b.count(text.substr(begin, end - begin));
}

// The last of `candidates` (ascending offsets) whose segment [pos, c) has at most max_tokens, by binary
// search (the count grows with the end: words never share a token).
std::optional<size_t> last_fitting(std::string_view text, size_t pos, const std::vector<size_t>& candidates,
                                   const SegmentBudget& b) {
  size_t lo = 0, hi = candidates.size();  // [0, lo) fit, [hi, size) do not
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (tokens(text, pos, candidates[mid], b) <= b.max_tokens) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo == 0) return std::nullopt;
  return candidates[lo - 1];
}

}  // namespace

std::optional<size_t> segment_end(std::string_view text, size_t pos, const SegmentBudget& b, bool final) {
  if (tokens(text, pos, text.size(), b) <= b.max_tokens)
    return final ? std::optional(text.size()) : std::nullopt;
  // Decided: the text from pos no longer fits, so no boundary beyond `text` can end this segment.
  const Scan s = scan(text, pos);
  const size_t min = b.min();
  std::optional<size_t> word_cut;
  for (const Level level : {kSentence, kClause, kWord}) {
    std::vector<size_t> candidates;
    for (const Boundary& x : s.boundaries)
      if (x.at < s.content_end && x.level >= level) candidates.push_back(x.at);
    const std::optional<size_t> cut = last_fitting(text, pos, candidates, b);
    if (cut && tokens(text, pos, *cut, b) >= min) return cut;
    word_cut = cut;
  }
  // No boundary leaves min_tokens in the segment (a long word follows): the last word boundary that fits.
  if (word_cut) return word_cut;
  // One "word" longer than the budget: cut it at a code point boundary.
  std::vector<size_t> candidates;
  for (const size_t o : s.code_points)
    if (o < s.content_end) candidates.push_back(o);
  if (const std::optional<size_t> cut = last_fitting(text, pos, candidates, b)) return cut;
  return s.code_points.empty() ? text.size() : s.code_points.front();  // a single code point over budget
}

size_t segment_safe_end(std::string_view text, size_t pos, const SegmentBudget& b) {
  const Scan s = scan(text, pos);
  const size_t min = b.min();
  size_t safe = pos;
  // Every segment holds at least min tokens: text before that many is in this one.
  std::vector<size_t> all;
  for (const Boundary& x : s.boundaries) all.push_back(x.at);
  size_t lo = 0, hi = all.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (tokens(text, pos, all[mid], b) < min) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo > 0) safe = all[lo - 1];
  // A boundary of the best level present with at least min tokens: the end will be it or a later one.
  for (const Level level : {kSentence, kClause, kWord}) {
    for (auto it = s.boundaries.rbegin(); it != s.boundaries.rend(); ++it) {
      if (it->level < level) continue;
      if (tokens(text, pos, it->at, b) >= min) return std::max(safe, it->at);
      break;  // the last one of this level is short, so all of them are
    }
  }
  return safe;
}

std::vector<TextSegment> split_into_segments(std::string_view text, const SegmentBudget& budget) {
  std::vector<TextSegment> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = *segment_end(text, pos, budget, true);
    out.push_back({pos, end});
    pos = end;
  }
  if (out.empty()) out.push_back({0, text.size()});
  return out;
}

}  // namespace vv
