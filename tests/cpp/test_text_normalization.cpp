// Text normalization in the engine (tiny model with the exported grammars, env VV_TEST_MODEL_DIR): the audio
// of synthesize() with normalize is that of the normalized text, bit for bit; the alignment spans of its
// chunks are spans of the original text; a stream refuses normalize; several threads normalize at once.
// The normalizer's output itself is checked against the Python package in tests/python/test_normalization.py.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "tiny_model.h"

namespace {

vv::SynthesisOptions options(bool normalize) {
  vv::SynthesisOptions o;
  o.voice = "synthetic";
  o.seed = 3;
  o.normalize = normalize;
  return o;
}

}  // namespace

TEST(TextNormalization, EngineSpeaksTheSpokenFormWithOriginalSpans) {
  REQUIRE_MODEL();
  const vv::Engine& engine = vv_test::engine();
  const std::string text = "On Jan. 5, 2023 it cost $5.50.\nThat is 25% more than 3 km away.";
  const vv::NormalizedText n = engine.normalize(text);
  EXPECT_EQ(n.text,
            "On january fifth, twenty twenty three it cost five dollars fifty cents.\nThat is twenty five "
            "percent more than three kilometers away.");
  ASSERT_EQ(n.source.size(), n.text.size());

  std::vector<vv::AudioChunk> chunks, spoken_chunks;
  const vv::Audio a =
      engine.synthesize(text, options(true), [&](const vv::AudioChunk& c) { chunks.push_back(c); });
  const vv::Audio b =
      engine.synthesize(n.text, options(false), [&](const vv::AudioChunk& c) { spoken_chunks.push_back(c); });
  EXPECT_EQ(a.samples, b.samples);
  EXPECT_EQ(a.latents, b.latents);
  ASSERT_FALSE(chunks.empty());
  ASSERT_EQ(chunks.size(), spoken_chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {  // each span of the spoken text, read back in the original
    const vv::AudioChunk& s = spoken_chunks[i];
    ASSERT_LE(s.text_end, n.source.size());
    const size_t begin =
        s.text_begin < n.source.size() ? n.source[s.text_begin].first : n.source.back().second;
    const size_t end = s.text_end > s.text_begin ? n.source[s.text_end - 1].second : begin;
    EXPECT_EQ(chunks[i].text_begin, begin) << i;
    EXPECT_EQ(chunks[i].text_end, end) << i;
    EXPECT_LE(end, text.size());
  }
  EXPECT_EQ(n.source[n.text.find("five dollars")].first, text.find("$5.50"));

  // segments() reports spans of the original text, too
  const auto segments = engine.segments(text, options(true));
  ASSERT_FALSE(segments.empty());
  EXPECT_EQ(segments.front().first, 0u);
  EXPECT_LE(segments.back().second, text.size());
}

TEST(TextNormalization, StreamRefusesNormalize) {
  REQUIRE_MODEL();
  try {
    (void)vv_test::engine().stream(options(true));
    FAIL() << "stream() accepted normalize";
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("normalize"), std::string::npos);
  }
}

TEST(TextNormalization, ConcurrentCallsAgree) {
  REQUIRE_MODEL();
  const vv::TextNormalizer normalizer = vv::TextNormalizer::load(vv_test::model_dir());
  EXPECT_NE(normalizer.source().find("nemo_text_processing"), std::string::npos);
  const std::vector<std::string> lines = {"Dr. Smith paid $1,200.", "Call 555-123-4567 at 10:45.",
                                          "It is 3.14 km long.", "The 21st of May 1999."};
  std::vector<std::string> expected;
  for (const std::string& l : lines) expected.push_back(normalizer.normalize(l).text);
  std::vector<std::thread> threads;
  std::vector<int> wrong(4, 0);
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i)
        for (size_t k = 0; k < lines.size(); ++k)
          if (normalizer.normalize(lines[(k + t) % lines.size()]).text != expected[(k + t) % lines.size()])
            ++wrong[t];
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong, std::vector<int>(4, 0));
}

TEST(TextNormalization, InvalidTextIsAnInputError) {
  REQUIRE_MODEL();
  try {
    (void)vv_test::engine().normalize(std::string("a\xff b"));
    FAIL();
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kInput);
  }
}
