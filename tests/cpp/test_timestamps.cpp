// TimestampBuilder (model-free, with hand-made chunks): a window's time is spread over its bytes, the frames
// after a segment's text go to its last word, a pause takes time but no text, and the subtitle formats.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "text/timestamps.h"

namespace {

// A chunk of `seconds` at 10 samples per second for the text span [b, e).
vv::AudioChunk chunk(double seconds, size_t b, size_t e, int64_t frames = 1) {
  vv::AudioChunk c;
  c.samples.assign(static_cast<size_t>(seconds * 10), 0.0f);
  c.frame_count = frames;
  c.text_begin = b;
  c.text_end = e;
  return c;
}

}  // namespace

TEST(Timestamps, WindowsTailsAndPauses) {
  const std::string text = "aaaa bbbb. cccc dddd.";  // words at [0,4) [5,10) [11,15) [16,21)
  vv::TimestampBuilder t(10);
  t.add(chunk(1.0, 0, 10));  // window 1: "aaaa bbbb." during 0..2 s (two chunks)
  t.add(chunk(1.0, 0, 10));
  t.add(chunk(1.0, 10, 10));     // after segment 1's text: its last word is still being spoken
  t.add(chunk(0.5, 10, 10, 0));  // a pause
  t.add(chunk(2.0, 10, 21));     // window 2: " cccc dddd." during 3.5..5.5 s
  const auto w = t.words(text);
  ASSERT_EQ(w.size(), 4u);
  EXPECT_DOUBLE_EQ(w[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(w[0].end_s, 0.8);  // 4 of 10 bytes of a 2 s window
  EXPECT_DOUBLE_EQ(w[1].start_s, 1.0);
  EXPECT_DOUBLE_EQ(w[1].end_s, 3.0);  // extended over the tail, not the pause
  EXPECT_NEAR(w[2].start_s, 3.5 + 2.0 * 1 / 11, 1e-12);
  EXPECT_DOUBLE_EQ(w[3].end_s, 5.5);
  const auto s = t.sentences(text);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(
      vv::to_srt(text, s),
      "1\n00:00:00,000 --> 00:00:03,000\naaaa bbbb.\n\n2\n00:00:03,682 --> 00:00:05,500\ncccc dddd.\n\n");
  EXPECT_EQ(vv::to_vtt(text, s).substr(0, 8), "WEBVTT\n\n");
}

TEST(Timestamps, ScriptPartsLeaveTheLabelsOut) {
  const std::string text = "A: one two\nB: three";
  vv::TimestampBuilder t(10);
  t.add(chunk(1.0, 2, 11));
  t.add(chunk(1.0, 13, 19));
  const auto w = t.words(text, {{2, 11}, {13, 19}});
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(text.substr(w[2].begin, w[2].end - w[2].begin), "three");
  EXPECT_EQ(t.sentences(text, {{2, 11}, {13, 19}}).size(), 2u);  // a turn ends a sentence
}
