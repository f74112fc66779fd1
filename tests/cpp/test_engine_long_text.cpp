// Long texts on the tiny random model (env VV_TEST_MODEL_DIR): a text beyond the segment budget is spoken
// as consecutive segments, each exactly the audio of that segment's text synthesized on its own (from the
// voice prompt, with segment_seed(seed, i)); frames, chunks and alignment spans run on across segments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "model/manifest.h"
#include "text/segmenter.h"
#include "text/text_prep.h"
#include "text/tokenizer.h"
#include "tiny_model.h"

namespace {

const std::string kText =
    "The first sentence is short. The second one, with a clause, is a little longer! "
    "A third sentence follows; and then a fourth one ends the paragraph.\n\nA new paragraph starts here.";

vv::SynthesisOptions options(int max_segment_tokens) {
  vv::SynthesisOptions o;
  o.voice = "synthetic";
  o.seed = 11;
  o.ignore_eos = true;  // the random EOS head could end a segment at any frame; make the lengths fixed
  o.max_frames = 0;
  o.max_segment_tokens = max_segment_tokens;
  return o;
}

}  // namespace

TEST(EngineLongText, ChunksRunOnAcrossSegments) {
  REQUIRE_MODEL();
  const vv::Engine& engine = vv_test::engine();
  // Segments as the engine cuts them: 16 tokens each at most (the tiny model's budget is much larger).
  vv::SynthesisOptions o = options(16);
  o.ignore_eos = false;
  std::vector<vv::AudioChunk> chunks;
  const vv::Audio whole = engine.synthesize(kText, o, [&](const vv::AudioChunk& c) { chunks.push_back(c); });

  int64_t frame = 0;
  size_t text_end = 0;
  for (const vv::AudioChunk& c : chunks) {
    EXPECT_EQ(c.first_frame, frame);  // frames run on across segments
    frame += c.frame_count;
    EXPECT_LE(c.text_begin, c.text_end);
    EXPECT_GE(c.text_end, text_end);  // spans are offsets into the whole text, in order
    text_end = c.text_end;
  }
  EXPECT_GT(text_end, kText.size() / 2);  // later segments were spoken
  EXPECT_EQ(frame, whole.frames);
  EXPECT_EQ(whole.samples.size(), static_cast<size_t>(whole.frames * engine.samples_per_frame()));
  EXPECT_EQ(whole.latents.size(), static_cast<size_t>(whole.frames * engine.latent_dim()));
}

TEST(EngineLongText, EachSegmentEqualsItsOwnSynthesis) {
  REQUIRE_MODEL();
  const vv::Engine& engine = vv_test::engine();
  vv::SynthesisOptions o = options(16);
  o.max_frames = 0;
  o.ignore_eos = false;
  // The segmentation the engine uses, re-derived here with the same token counter (prepare + encode).
  const vv::ModelManifest m = vv::ModelManifest::load(vv_test::model_dir());
  const vv::Tokenizer tok = vv::Tokenizer::load(m.tokenizer_path);
  const std::vector<vv::TextSegment> segs =
      vv::split_into_segments(kText, {16, 0, [&](std::string_view p) {
                                        const std::string prepared = vv::prepare_text(p).text;
                                        return prepared.size() <= 1 ? size_t{0} : tok.encode(prepared).size();
                                      }});
  ASSERT_GE(segs.size(), 3u);
  const auto planned = engine.segments(kText, o);  // what the engine reports is what it does
  ASSERT_EQ(planned.size(), segs.size());
  for (size_t i = 0; i < segs.size(); ++i) {
    EXPECT_EQ(planned[i].first, segs[i].begin);
    EXPECT_EQ(planned[i].second, segs[i].end);
  }

  const vv::Audio whole = engine.synthesize(kText, o);
  std::vector<float> joined;
  std::vector<float> latents;
  std::vector<size_t> joins;  // first sample of segments 1..n-1
  int64_t frames = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    vv::SynthesisOptions oi = o;
    oi.seed = vv::segment_seed(o.seed, i);
    oi.max_segment_tokens = 1 << 30;
    const vv::Audio a = engine.synthesize(kText.substr(segs[i].begin, segs[i].end - segs[i].begin), oi);
    if (i > 0 && !joined.empty()) joins.push_back(joined.size());
    joined.insert(joined.end(), a.samples.begin(), a.samples.end());
    latents.insert(latents.end(), a.latents.begin(), a.latents.end());
    frames += a.frames;
  }
  EXPECT_EQ(whole.frames, frames);
  EXPECT_EQ(whole.latents, latents);
  EXPECT_EQ(whole.samples, joined);

  // Join discontinuity (the method README states): a segment is a whole utterance — it ends at its end of
  // speech and the next starts from the decoder's zero state — so nothing is cut mid-waveform. Measured: the
  // sample step |x[j] - x[j-1]| across each join against the largest step inside the segments; a click would
  // stand out above it. (Real weights end and start in silence; the random model's audio is noise.)
  ASSERT_FALSE(joins.empty());
  float inside = 0;
  for (size_t k = 1, next = 0; k < joined.size(); ++k) {
    if (next < joins.size() && k == joins[next]) {
      ++next;
      continue;
    }
    inside = std::max(inside, std::abs(joined[k] - joined[k - 1]));
  }
  for (const size_t j : joins) {
    const float step = std::abs(joined[j] - joined[j - 1]);
    EXPECT_LE(step, inside) << "join at sample " << j;
    std::printf("join at sample %zu: step %.4f, largest step inside %.4f (ratio %.2f)\n", j, step, inside,
                step / inside);
  }
  EXPECT_EQ(vv::segment_seed(o.seed, 0), o.seed);  // a text that fits is spoken exactly as before
  EXPECT_NE(vv::segment_seed(o.seed, 1), vv::segment_seed(o.seed, 2));
}

TEST(EngineLongText, MaxFramesCountsTheWholeText) {
  REQUIRE_MODEL();
  vv::SynthesisOptions o = options(16);
  o.max_frames = 25;
  const vv::Audio a = vv_test::engine().synthesize(kText, o);
  EXPECT_EQ(a.frames, 25);
  EXPECT_EQ(a.stop_reason, vv::StopReason::kMaxFrames);
}

// A Stream over a long text, fed in any pieces (byte by byte, inside UTF-8 sequences), decides the same
// segments as synthesize() on the whole text and gives the same audio, frame for frame.
TEST(EngineLongText, StreamEqualsSynthesizeForAnySplit) {
  REQUIRE_MODEL();
  const vv::Engine& engine = vv_test::engine();
  vv::SynthesisOptions o = options(16);
  o.ignore_eos = false;
  const std::string text = kText + " Ünïcödé wörds end it — with a dash, and a close.";
  const vv::Audio whole = engine.synthesize(text, o);
  for (const size_t piece : {size_t{1}, size_t{7}, text.size()}) {
    std::vector<float> samples;
    int64_t next_frame = 0;
    vv::Stream s = engine.stream(o, [&](const vv::StreamEvent& ev) {
      if (ev.kind != vv::StreamEvent::kAudio) return;
      EXPECT_EQ(ev.chunk.first_frame, next_frame);
      next_frame += ev.chunk.frame_count;
      samples.insert(samples.end(), ev.chunk.samples.begin(), ev.chunk.samples.end());
    });
    for (size_t i = 0; i < text.size(); i += piece) s.push_text(std::string_view(text).substr(i, piece));
    s.finish();
    const vv::Audio a = s.wait();
    EXPECT_EQ(a.frames, whole.frames) << "piece " << piece;
    EXPECT_EQ(a.latents, whole.latents) << "piece " << piece;
    EXPECT_EQ(samples, whole.samples) << "piece " << piece;
  }
}
