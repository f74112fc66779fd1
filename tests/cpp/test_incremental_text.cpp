// IncrementalText with the real tokenizer (../shared/data/tokenizer/tokenizer.json): text pushed in random
// pieces (inside words, inside UTF-8 sequences, whitespace at the seams) yields exactly the tokens of the
// whole prepared text — ids against the Python text preparation (tests/data/tokenizer/text_prep.jsonl) and
// the tokenizer corpus, spans against the batch path and covering the stripped text without gaps — and
// never emits a token that later text could still change.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "generate/incremental_text.h"
#include "test_env.h"
#include "text/text_prep.h"
#include "text/tokenizer.h"
#include "text/utf8.h"

namespace {

using nlohmann::json;

const vv::Tokenizer& tokenizer() {
  static const vv::Tokenizer tok = vv::Tokenizer::load(vv_test::real_tokenizer_path());
  return tok;
}

struct Case {
  std::string raw, prepared;  // prepared: Python's strip + "\n" with quote replacement
};

// text_prep.jsonl ([raw, prepared] from Python) plus corpus lines (prepared here, prepare_text is tested
// against Python in test_text_prep), without the texts that are empty after preparation.
std::vector<Case> cases() {
  std::vector<Case> out;
  const std::string dir = std::string(VV_SOURCE_DIR) + "/tests/data/tokenizer/";
  std::ifstream prep(dir + "text_prep.jsonl");
  EXPECT_TRUE(prep) << "missing tests/data/tokenizer/text_prep.jsonl";
  for (std::string line; std::getline(prep, line);) {
    const json row = json::parse(line);
    if (row[1].get<std::string>() != "\n")
      out.push_back({row[0].get<std::string>(), row[1].get<std::string>()});
  }
  std::ifstream corpus(dir + "corpus.jsonl");
  EXPECT_TRUE(corpus) << "missing tests/data/tokenizer/corpus.jsonl";
  int n = 0;
  for (std::string line; std::getline(corpus, line) && n < 400; ++n) {
    const std::string raw = json::parse(line).get<std::string>();
    if (raw.size() > 600) continue;
    const vv::PreparedText p = vv::prepare_text(raw);
    if (p.text != "\n") out.push_back({raw, p.text});
  }
  return out;
}

std::vector<int32_t> ids_of(const std::vector<vv::Token>& tokens) {
  std::vector<int32_t> ids;
  for (const vv::Token& t : tokens) ids.push_back(t.id);
  return ids;
}

// Pushes `raw` in pieces cut at `cuts`; returns the tokens of all push() calls and finish().
std::vector<vv::Token> stream(const std::string& raw, const std::vector<size_t>& cuts, size_t* text_end,
                              size_t* emitted_before_finish = nullptr) {
  vv::IncrementalText text(tokenizer());
  std::vector<vv::Token> all;
  size_t prev = 0;
  for (size_t cut : cuts) {
    const auto t = text.push(std::string_view(raw).substr(prev, cut - prev));
    all.insert(all.end(), t.begin(), t.end());
    prev = cut;
  }
  const auto t = text.push(std::string_view(raw).substr(prev));
  all.insert(all.end(), t.begin(), t.end());
  if (emitted_before_finish) *emitted_before_finish = all.size();
  const auto rest = text.finish();
  all.insert(all.end(), rest.begin(), rest.end());
  EXPECT_EQ(text.tokens_emitted(), all.size());
  *text_end = text.text_end();
  return all;
}

// Bytes of Python-whitespace code points at the start of `raw` (what str.strip() removes on the left).
size_t leading_whitespace(std::string_view raw) {
  size_t pos = 0, len = 0;
  while (pos < raw.size() && vv::is_python_whitespace(vv::utf8::decode_at(raw, pos, len))) pos += len;
  return pos;
}

class IncrementalText : public ::testing::Test {
 protected:
  void SetUp() override { REQUIRE_SHARED(vv_test::real_tokenizer_path()); }
};

}  // namespace

TEST_F(IncrementalText, RandomSplitsGiveTheTokensOfTheWholeText) {
  std::mt19937 rng(2024);
  const std::vector<Case> all = cases();
  ASSERT_GT(all.size(), 300u);
  for (const Case& c : all) {
    SCOPED_TRACE(json(c.raw).dump());
    const std::vector<int32_t> want = tokenizer().encode(c.prepared);
    size_t batch_end = 0;
    const std::vector<vv::Token> batch = vv::prepare_and_tokenize(tokenizer(), c.raw, &batch_end);
    ASSERT_EQ(ids_of(batch), want);

    // Spans of the whole-text path: monotonic, no gaps, exactly the stripped content.
    const size_t content_begin = batch.front().begin;
    EXPECT_EQ(content_begin, leading_whitespace(c.raw));
    size_t covered = content_begin, prev_begin = content_begin;
    for (const vv::Token& t : batch) {
      EXPECT_LE(t.begin, t.end);
      EXPECT_GE(t.begin, prev_begin);
      EXPECT_LE(t.begin, covered);  // no gap
      covered = std::max(covered, t.end);
      prev_begin = t.begin;
    }
    EXPECT_EQ(covered, batch_end);  // the appended "\n" adds nothing: it maps to the end of the content

    for (int trial = 0; trial < 4; ++trial) {
      std::vector<size_t> cuts;
      const size_t max_step = trial == 0 ? 1 : static_cast<size_t>(3 * trial);  // trial 0: byte by byte
      for (size_t p = 1 + rng() % max_step; p < c.raw.size(); p += 1 + rng() % max_step) cuts.push_back(p);
      size_t end = 0;
      const std::vector<vv::Token> got = stream(c.raw, cuts, &end);
      ASSERT_EQ(ids_of(got), want) << "trial " << trial;
      ASSERT_EQ(got.size(), batch.size());
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].begin, batch[i].begin) << "token " << i;
        EXPECT_EQ(got[i].end, batch[i].end) << "token " << i;
      }
      EXPECT_EQ(end, batch_end);
    }
  }
}

TEST_F(IncrementalText, EmitsTokensAsSoonAsTheyAreFinal) {
  vv::IncrementalText text(tokenizer());
  EXPECT_TRUE(text.push("  Hello").empty());  // leading whitespace dropped; "Hello" may continue
  const auto t = text.push(" wor");           // "Hello" is final now, " wor" is not
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].id, tokenizer().encode("Hello")[0]);
  EXPECT_EQ(t[0].begin, 2u);  // raw bytes, before the stripped leading whitespace
  EXPECT_EQ(t[0].end, 7u);
  EXPECT_TRUE(text.push("ld   ").empty());  // trailing whitespace may still be stripped by finish()
  const auto rest = text.finish();
  EXPECT_EQ(ids_of(rest), tokenizer().encode(" world\n"));
  EXPECT_EQ(text.text_end(), 13u);  // "  Hello world" without the trailing spaces
}

TEST_F(IncrementalText, TypographicQuotesAreNormalisedWithRawSpans) {
  const std::string raw = "\xE2\x80\x9CHi\xE2\x80\x9D it\xE2\x80\x99s";  // “Hi” it’s
  size_t end = 0;
  const auto got = stream(raw, {1, 2, 4, 6, 11}, &end);  // cuts inside the 3-byte quotes
  EXPECT_EQ(ids_of(got), tokenizer().encode("\"Hi\" it's\n"));
  EXPECT_EQ(got.front().begin, 0u);
  EXPECT_EQ(end, raw.size());
}

TEST_F(IncrementalText, InvalidUtf8IsRejectedAndTheStreamGoesOn) {
  vv::IncrementalText text(tokenizer());
  std::vector<vv::Token> got = text.push("Good ");
  try {
    text.push("b\xFF");
    FAIL() << "invalid UTF-8 accepted";
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kInput);
  }
  EXPECT_EQ(text.raw_size(), 5u);  // the bad piece is dropped
  for (const auto& part : {text.push("day"), text.finish()}) got.insert(got.end(), part.begin(), part.end());
  EXPECT_EQ(ids_of(got), tokenizer().encode("Good day\n"));
}

TEST_F(IncrementalText, FinishRefusesIncompleteOrEmptyText) {
  {
    vv::IncrementalText text(tokenizer());
    text.push("cut \xE2\x80");  // fine while more bytes may come
    EXPECT_THROW(text.finish(), vv::Error);
  }
  {
    vv::IncrementalText text(tokenizer());
    text.push(" \n\t ");
    try {
      text.finish();
      FAIL() << "empty text accepted";
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kInput);
    }
  }
}
