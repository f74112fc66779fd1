// split_into_segments (model-free, with stand-in token counters): segments cover the text in order, fit the
// budget, and end at the best boundary that fits — sentence, then clause, then word, then code point —
// never inside a word that fits or inside a UTF-8 sequence; random texts check the same properties.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "text/segmenter.h"

namespace {

using vv::segment_end;
using vv::segment_safe_end;
using vv::SegmentBudget;
using vv::split_into_segments;
using vv::TextSegment;

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t';
}

// One "token" per whitespace-separated word.
size_t words(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) n += !is_space(s[i]) && (i == 0 || is_space(s[i - 1]));
  return n;
}

// One "token" per non-space code point.
size_t code_points(std::string_view s) {
  size_t n = 0;
  for (const char c : s) n += !is_space(c) && (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> pieces(std::string_view text, const std::vector<TextSegment>& segs) {
  std::vector<std::string> out;
  for (const TextSegment& s : segs) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

// 1..max_words words of `vocab`, separated by spaces (none before a line break).
std::string random_text(const std::vector<std::string>& vocab, int max_words, std::mt19937& rng) {
  std::string t;
  const int n = std::uniform_int_distribution<int>(1, max_words)(rng);
  for (int i = 0; i < n; ++i) {
    const std::string& w = vocab[std::uniform_int_distribution<size_t>(0, vocab.size() - 1)(rng)];
    t += (t.empty() || w[0] == '\n' ? "" : " ") + w;
  }
  return t;
}

}  // namespace

TEST(Segmenter, ATextThatFitsIsOneSegment) {
  const std::string t = "One sentence. Another one.";
  const auto segs = split_into_segments(t, {4, 0, words});
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].begin, 0u);
  EXPECT_EQ(segs[0].end, t.size());
}

TEST(Segmenter, CutsAtSentenceEndsWhenSentencesFit) {
  const std::string t = "A b c. D e f! G h i? \"J k l.\" M n o.\n\nP q r.";
  EXPECT_EQ(pieces(t, split_into_segments(t, {7, 0, words})),
            (std::vector<std::string>{"A b c. D e f!", " G h i? \"J k l.\"", " M n o.\n\nP q r."}));
  EXPECT_EQ(
      pieces(t, split_into_segments(t, {3, 0, words})),
      (std::vector<std::string>{"A b c.", " D e f!", " G h i?", " \"J k l.\"", " M n o.", "\n\nP q r."}));
}

TEST(Segmenter, ALongSentenceIsCutAtClausesThenWords) {
  const std::string t = "Alpha beta gamma, delta epsilon zeta; eta theta iota kappa lambda mu nu.";
  EXPECT_EQ(pieces(t, split_into_segments(t, {4, 0, words})),
            (std::vector<std::string>{"Alpha beta gamma,", " delta epsilon zeta;", " eta theta iota kappa",
                                      " lambda mu nu."}));
}

TEST(Segmenter, AWordLongerThanTheBudgetIsCutAtCodePoints) {
  const std::string t = "ab ééééé cd";  // é is two bytes
  const auto segs = split_into_segments(t, {3, 0, code_points});
  EXPECT_EQ(pieces(t, segs), (std::vector<std::string>{"ab", " ééé", "éé", " cd"}));
}

TEST(Segmenter, TrailingWhitespaceStaysWithTheLastSegment) {
  const std::string t = "One two. Three four.   \n ";
  const auto p = pieces(t, split_into_segments(t, {2, 0, words}));
  EXPECT_EQ(p, (std::vector<std::string>{"One two.", " Three four.   \n "}));
}

TEST(Segmenter, ASegmentHoldsAtLeastHalfTheBudget) {
  // The sentence end after "A." would fit, but its segment is below min_tokens (2 of 6): the segment ends at
  // the clause boundary instead, which has 5.
  const std::string t = "Aa. b c d, e f g h i.";
  EXPECT_EQ(pieces(t, split_into_segments(t, {6, 3, words})),
            (std::vector<std::string>{"Aa. b c d,", " e f g h i."}));
  EXPECT_EQ(pieces(t, split_into_segments(t, {6, 1, words})),
            (std::vector<std::string>{"Aa.", " b c d,", " e f g h i."}));
}

// A stream sees the text in pieces: deciding each segment's end as soon as it is decided, from the text so
// far, gives exactly split_into_segments() of the whole text; the safe end never passes the real end.
TEST(Segmenter, StreamingDecidesTheSameSegments) {
  const std::vector<std::string> vocab = {
      "word", "a", "naïve", "日本語", "x,", "end.", "why?", "so;", "\n", "lo" + std::string(12, 'o') + "ng"};
  std::mt19937 rng(11);
  for (int trial = 0; trial < 200; ++trial) {
    const std::string t = random_text(vocab, 120, rng);
    const SegmentBudget b{std::uniform_int_distribution<size_t>(2, 40)(rng), 0, code_points};
    const std::vector<TextSegment> whole = split_into_segments(t, b);
    std::vector<TextSegment> streamed;
    size_t pos = 0, fed = 0;
    while (fed < t.size()) {
      fed = std::min(t.size(), fed + std::uniform_int_distribution<size_t>(1, 9)(rng));
      while (fed < t.size() && (static_cast<unsigned char>(t[fed]) & 0xC0) == 0x80) ++fed;  // code points
      const std::string_view so_far(t.data(), fed);
      const bool final = fed == t.size();
      while (pos < so_far.size()) {
        const std::optional<size_t> end = segment_end(so_far, pos, b, final);
        if (!end) {
          const size_t safe = segment_safe_end(so_far, pos, b);
          const size_t k = streamed.size();
          ASSERT_LT(k, whole.size());
          EXPECT_GE(safe, pos);
          EXPECT_LE(safe, whole[k].end) << "safe end beyond the segment's end";
          break;
        }
        streamed.push_back({pos, *end});
        pos = *end;
      }
    }
    EXPECT_EQ(streamed, whole) << t << " budget " << b.max_tokens;
  }
}

TEST(Segmenter, RandomTextsKeepEveryProperty) {
  const std::vector<std::string> vocab = {"word",
                                          "a",
                                          "naïve",
                                          "日本語",
                                          "x,",
                                          "end.",
                                          "why?",
                                          "—",
                                          "so;",
                                          "\"quote.\"",
                                          "\n",
                                          "\n\n",
                                          "l" + std::string(30, 'o') + "ng"};
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    const std::string t = random_text(vocab, 200, rng);
    const size_t budget = std::uniform_int_distribution<size_t>(1, 40)(rng);
    const auto segs = split_into_segments(t, {budget, 0, code_points});
    ASSERT_EQ(segs, split_into_segments(t, {budget, 0, code_points})) << "not deterministic";
    ASSERT_FALSE(segs.empty());
    EXPECT_EQ(segs.front().begin, 0u);
    EXPECT_EQ(segs.back().end, t.size());
    for (size_t i = 0; i < segs.size(); ++i) {
      const std::string p = t.substr(segs[i].begin, segs[i].end - segs[i].begin);
      if (i > 0) {
        EXPECT_EQ(segs[i].begin, segs[i - 1].end);
      }
      EXPECT_LE(code_points(p), std::max<size_t>(budget, 1)) << p;
      EXPECT_GT(code_points(p), 0u) << "a segment without content";
      if (i + 1 == segs.size()) continue;
      const size_t cut = segs[i].end;
      EXPECT_NE(static_cast<unsigned char>(t[cut]) & 0xC0, 0x80) << "cut inside a UTF-8 sequence";
      if (is_space(t[cut])) continue;  // a word boundary (or better)
      // inside a word: only when the word alone exceeds the budget
      size_t b = cut, e = cut;
      while (b > 0 && !is_space(t[b - 1])) --b;
      while (e < t.size() && !is_space(t[e])) ++e;
      EXPECT_GT(code_points(t.substr(b, e - b)), budget)
          << "cut inside a word that fits: " << t.substr(b, e - b);
    }
  }
}
