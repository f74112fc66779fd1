// Stream tests on the tiny random model (env VV_TEST_MODEL_DIR): incremental text split anywhere (inside
// words, inside UTF-8 sequences, whitespace at the seams) gives exactly the audio of synthesize() on the
// whole text; pull-style events with underruns; cancel; errors.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>

#include "stream_fixture.h"
#include "vibevoice/vibevoice.hpp"

namespace {

using vv_test::engine;
using vv_test::kStreamFrames;
using vv_test::kStreamText;

constexpr int64_t kFrames = kStreamFrames;
const std::string& kText = kStreamText;

vv::SynthesisOptions options(bool decode_thread = false) {
  return vv_test::stream_options(decode_thread);
}

const vv::Audio& whole() {
  return vv_test::whole_text_audio();
}

// Streams the text cut at `cuts`; the samples are those the event callback received (wait() then has
// none: every sample is handed out once).
vv::Audio stream_in_pieces(const std::vector<size_t>& cuts) {
  std::vector<float> samples;
  vv::Stream s = engine().stream(options(), [&](const vv::StreamEvent& ev) {
    if (ev.kind == vv::StreamEvent::kAudio)
      samples.insert(samples.end(), ev.chunk.samples.begin(), ev.chunk.samples.end());
  });
  size_t prev = 0;
  for (size_t cut : cuts) {
    s.push_text(std::string_view(kText).substr(prev, cut - prev));
    prev = cut;
  }
  s.push_text(std::string_view(kText).substr(prev));
  s.finish();
  vv::Audio a = s.wait();
  EXPECT_TRUE(a.samples.empty()) << "the callback received the samples";
  a.samples = std::move(samples);
  return a;
}

}  // namespace

TEST(Stream, ByteByByteEqualsWholeText) {
  REQUIRE_MODEL();
  std::vector<size_t> cuts;
  for (size_t i = 1; i < kText.size(); ++i) cuts.push_back(i);
  const vv::Audio a = stream_in_pieces(cuts);
  ASSERT_EQ(a.frames, kFrames);
  EXPECT_EQ(a.latents, whole().latents);
  EXPECT_EQ(a.samples, whole().samples);
}

TEST(Stream, RandomSplitsEqualWholeText) {
  REQUIRE_MODEL();
  std::mt19937 gen(1234);
  for (int trial = 0; trial < 3; ++trial) {
    std::vector<size_t> cuts;
    std::uniform_int_distribution<size_t> step(1, 9);
    for (size_t c = step(gen); c < kText.size(); c += step(gen)) cuts.push_back(c);
    const vv::Audio a = stream_in_pieces(cuts);
    EXPECT_EQ(a.latents, whole().latents) << "trial " << trial;
    EXPECT_EQ(a.samples, whole().samples) << "trial " << trial;
  }
}

// With the decoder on its own thread too: every chunk is delivered before the underrun event.
class StreamDecode : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Stream, StreamDecode, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "DecodeThread" : "Inline"; });

TEST_P(StreamDecode, PullReportsUnderrunAndResumesExactly) {
  REQUIRE_MODEL();
  vv::Stream s = engine().stream(options(GetParam()));
  s.push_text(std::string_view(kText).substr(0, 20));  // a few tokens: at most one window is final
  std::vector<float> samples;
  int64_t next_frame = 0;
  bool underrun = false;
  for (;;) {  // drain until generation waits for text
    vv::StreamEvent ev = s.pull();
    ASSERT_NE(ev.kind, vv::StreamEvent::kEnd);
    if (ev.kind == vv::StreamEvent::kUnderrun) {
      underrun = true;
      EXPECT_EQ(ev.frame, next_frame);  // all frames generated so far were delivered before waiting
      break;
    }
    EXPECT_EQ(ev.chunk.first_frame, next_frame);
    next_frame += ev.chunk.frame_count;
    samples.insert(samples.end(), ev.chunk.samples.begin(), ev.chunk.samples.end());
  }
  EXPECT_TRUE(underrun);
  s.push_text(std::string_view(kText).substr(20));
  s.finish();
  for (;;) {
    vv::StreamEvent ev = s.pull();
    if (ev.kind == vv::StreamEvent::kEnd) {
      EXPECT_EQ(ev.stop_reason, vv::StopReason::kMaxFrames);
      break;
    }
    if (ev.kind != vv::StreamEvent::kAudio) continue;
    EXPECT_EQ(ev.chunk.first_frame, next_frame);
    next_frame += ev.chunk.frame_count;
    samples.insert(samples.end(), ev.chunk.samples.begin(), ev.chunk.samples.end());
  }
  EXPECT_EQ(next_frame, kFrames);
  EXPECT_EQ(samples, whole().samples);
  EXPECT_EQ(s.pull().kind, vv::StreamEvent::kEnd);  // stays at the end
}

// cancel() from the event callback right after the 2nd chunk: generation polls for cancellation before
// every frame and the chunk of frames 2..3 is delivered while frame 3 is pushed (no decoding thread), so
// exactly 2 chunks = 4 frames are generated.
TEST(Stream, CancelStopsBeforeTheNextFrame) {
  REQUIRE_MODEL();
  auto o = options();
  o.max_frames = 0;  // would run to the length limit
  int chunks = 0;
  vv::Stream* self = nullptr;
  vv::Stream s = engine().stream(o, [&](const vv::StreamEvent& ev) {
    if (ev.kind == vv::StreamEvent::kAudio && ++chunks == 2) self->cancel();
  });
  self = &s;  // set before any text, hence before any event
  s.push_text(kText);
  try {
    s.finish();  // generation runs while the text is pushed: the callback may have cancelled already
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kUsage) << e.what();
  }
  const vv::Audio a = s.wait();
  EXPECT_EQ(a.stop_reason, vv::StopReason::kCancelled);
  EXPECT_EQ(chunks, 2);
  EXPECT_EQ(a.frames, 2 * o.chunk_frames);
  EXPECT_EQ(a.latents,
            std::vector<float>(whole().latents.begin(), whole().latents.begin() + 4 * engine().latent_dim()));
  EXPECT_THROW(s.push_text("more"), vv::Error);
}

TEST(Stream, CancelWhileWaitingForText) {
  REQUIRE_MODEL();
  vv::Stream s = engine().stream(options(), [](const vv::StreamEvent&) {});
  s.push_text("Hello");  // not a final window yet ("Hello" may continue): nothing can be generated
  s.cancel();
  const vv::Audio a = s.wait();
  EXPECT_EQ(a.stop_reason, vv::StopReason::kCancelled);
  EXPECT_EQ(a.frames, 0);
}

TEST(Stream, Errors) {
  REQUIRE_MODEL();
  {
    vv::Stream s = engine().stream(options(), [](const vv::StreamEvent&) {});
    try {
      s.push_text("ok \xff");
      FAIL();
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kInput);
    }
    s.push_text("still usable");  // the bad piece was rejected, the stream goes on
    s.finish();
    EXPECT_EQ(s.wait().frames, kFrames);
  }
  {
    vv::Stream s = engine().stream(options(), [](const vv::StreamEvent&) {});
    s.push_text(" \n ");
    try {
      s.finish();
      FAIL();
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kInput);
    }
    EXPECT_EQ(s.wait().stop_reason, vv::StopReason::kCancelled);
  }
  {
    vv::Stream s = engine().stream(options(), [](const vv::StreamEvent&) {});
    s.push_text("cut \xe2\x80");  // incomplete sequence at the end is fine until finish()
    EXPECT_THROW(s.finish(), vv::Error);
  }
  auto o = options();
  o.voice = "nobody";
  EXPECT_THROW(engine().stream(o), vv::Error);
}

TEST(Stream, MaxFramesEndsWithoutWaitingForMoreText) {
  REQUIRE_MODEL();
  auto o = options();
  o.max_frames = 6;  // exactly one speech window
  vv::Stream s = engine().stream(o);
  s.push_text(kText);  // not finished: more text could come
  for (;;) {
    const vv::StreamEvent ev = s.pull();
    if (ev.kind == vv::StreamEvent::kEnd) {
      EXPECT_EQ(ev.stop_reason, vv::StopReason::kMaxFrames);
      EXPECT_EQ(ev.frame, 6);
      break;
    }
  }
}
