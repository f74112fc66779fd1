// How a Stream hands out its events, on the tiny random model (env VV_TEST_MODEL_DIR): every sample once
// (callback, pull() or wait()), a bounded pull() queue that stalls a generation running ahead of a slow
// consumer, exceptions from the event callback (also on kEnd) reaching wait(), and cancel() from another
// thread while the owner pushes text (run under ThreadSanitizer in CI).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "stream_fixture.h"
#include "test_threads.h"
#include "vibevoice/vibevoice.hpp"

namespace {

using vv_test::engine;
using vv_test::kStreamFrames;
using vv_test::kStreamText;
using vv_test::stream_options;
using vv_test::whole_text_audio;

void append(std::vector<float>& to, const vv::StreamEvent& ev) {
  if (ev.kind == vv::StreamEvent::kAudio)
    to.insert(to.end(), ev.chunk.samples.begin(), ev.chunk.samples.end());
}

// kStreamText four times (about 100 tokens): far more final windows than the frames of the tests below,
// so generation never waits for text that was pushed but not finished.
std::string long_text() {
  return kStreamText + kStreamText + kStreamText + kStreamText;
}

// should_abort polls of a callback stream on long_text() (pushed, not finished) that stops at max_frames.
int polls_until(int64_t max_frames) {
  std::atomic<int> polls{0};
  auto o = stream_options();
  o.max_frames = max_frames;
  o.should_abort = [&] {
    ++polls;
    return false;
  };
  vv::Stream s = engine().stream(o, [](const vv::StreamEvent&) {});
  s.push_text(long_text());
  EXPECT_EQ(s.wait().frames, max_frames);
  return polls.load();
}

}  // namespace

TEST(StreamDelivery, WaitReturnsTheAudioThatWasNotPulled) {
  REQUIRE_MODEL();
  vv::Stream s = engine().stream(stream_options());
  s.push_text(kStreamText);
  s.finish();
  std::vector<float> pulled;
  for (int audio_events = 0; audio_events < 5;) {
    const vv::StreamEvent ev = s.pull();
    ASSERT_NE(ev.kind, vv::StreamEvent::kEnd);
    if (ev.kind == vv::StreamEvent::kAudio) ++audio_events;
    append(pulled, ev);
  }
  const vv::Audio rest = s.wait();  // drains the remaining events
  EXPECT_EQ(rest.frames, kStreamFrames);
  EXPECT_EQ(rest.latents, whole_text_audio().latents);
  std::vector<float> all = pulled;
  all.insert(all.end(), rest.samples.begin(), rest.samples.end());
  EXPECT_EQ(all, whole_text_audio().samples);
  EXPECT_EQ(pulled.size(), 5u * 2u * static_cast<size_t>(engine().samples_per_frame()));
  EXPECT_EQ(s.pull().kind, vv::StreamEvent::kEnd);
  EXPECT_TRUE(s.wait().samples.empty());  // handed out already
}

TEST(StreamDelivery, WaitWithoutPullReturnsEverything) {
  REQUIRE_MODEL();
  vv::Stream s = engine().stream(stream_options(true));
  s.push_text(kStreamText);
  s.finish();
  const vv::Audio a = s.wait();
  EXPECT_EQ(a.samples, whole_text_audio().samples);
  EXPECT_EQ(a.latents, whole_text_audio().latents);
  EXPECT_EQ(a.stop_reason, vv::StopReason::kMaxFrames);
}

// Without pulling, the generation fills the queue (kMaxPendingEvents chunks of 2 frames) and then waits
// inside the delivery of the next chunk: it stops between the polls of a run limited to
// kMaxPendingEvents * 2 frames and one limited to (kMaxPendingEvents + 1) * 2 frames, far from the end.
// Pulled slowly afterwards, the audio is still exactly the whole text's.
TEST(StreamDelivery, SlowConsumerStallsTheGenerationAtTheQueueBound) {
  REQUIRE_MODEL();
  const int64_t cap = vv::Stream::kMaxPendingEvents, k = stream_options().chunk_frames;
  ASSERT_LT((cap + 1) * k, kStreamFrames);
  const int lower = polls_until(cap * k), upper = polls_until((cap + 1) * k);

  std::atomic<int> polls{0};
  auto o = stream_options();
  o.should_abort = [&] {
    ++polls;
    return false;
  };
  vv::Stream s = engine().stream(o);
  s.push_text(long_text());  // finish() only later: no underrun event can take a place in the queue
  const int stalled = vv_test::settled(polls);
  EXPECT_GE(stalled, lower);
  EXPECT_LE(stalled, upper);
  s.finish();

  std::vector<float> samples;
  for (;;) {
    const vv::StreamEvent ev = s.pull();
    if (ev.kind == vv::StreamEvent::kEnd) break;
    append(samples, ev);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const vv::Audio whole = engine().synthesize(long_text(), stream_options());
  EXPECT_EQ(samples, whole.samples);
  EXPECT_EQ(s.wait().latents, whole.latents);
}

TEST(StreamDelivery, DestroyingAStalledStreamReturns) {
  REQUIRE_MODEL();
  std::atomic<int> polls{0};
  auto o = stream_options();
  o.max_frames = 0;
  o.should_abort = [&] {
    ++polls;
    return false;
  };
  {
    vv::Stream s = engine().stream(o);
    s.push_text(kStreamText);
    s.finish();
    vv_test::settled(polls);  // the worker waits on the full queue
  }                           // joins the worker: would hang if it stayed blocked
  SUCCEED();
}

TEST(StreamDelivery, ExceptionFromTheEndCallbackReachesWait) {
  REQUIRE_MODEL();
  int ends = 0;
  vv::Stream s = engine().stream(stream_options(), [&](const vv::StreamEvent& ev) {
    if (ev.kind == vv::StreamEvent::kEnd) {
      ++ends;
      throw std::runtime_error("end callback failed");
    }
  });
  s.push_text(kStreamText);
  s.finish();
  try {
    s.wait();
    FAIL() << "wait() did not rethrow";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "end callback failed");
  }
  EXPECT_EQ(ends, 1);
  EXPECT_THROW(s.wait(), std::runtime_error);  // stays failed
}

TEST(StreamDelivery, ExceptionFromAnAudioCallbackEndsTheStream) {
  REQUIRE_MODEL();
  for (bool decode_thread : {false, true}) {
    int audio = 0, ends = 0;
    vv::Stream s = engine().stream(stream_options(decode_thread), [&](const vv::StreamEvent& ev) {
      if (ev.kind == vv::StreamEvent::kEnd) ++ends;
      if (ev.kind == vv::StreamEvent::kAudio && ++audio == 3)
        throw std::runtime_error("audio callback failed");
    });
    s.push_text(kStreamText);
    s.finish();
    EXPECT_THROW(s.wait(), std::runtime_error) << decode_thread;
    EXPECT_EQ(audio, 3) << decode_thread;  // nothing delivered after the failure
    EXPECT_EQ(ends, 0) << decode_thread;
  }
}

// cancel() from another thread while the owner keeps pushing text: no data race (ThreadSanitizer), the
// owner's next push_text() after the cancel throws kUsage, and the stream ends with kCancelled.
TEST(StreamDelivery, CancelFromAnotherThreadWhileTheOwnerPushes) {
  REQUIRE_MODEL();
  auto o = stream_options();
  o.max_frames = 0;
  std::atomic<int> chunks{0};
  vv::Stream s = engine().stream(o, [&](const vv::StreamEvent& ev) {
    if (ev.kind == vv::StreamEvent::kAudio) ++chunks;
  });
  std::atomic<bool> cancelled{false};
  std::thread canceller([&] {
    while (chunks.load() < 2) std::this_thread::yield();
    cancelled = true;
    s.cancel();
  });
  int pushes = 0;
  bool refused = false;
  while (pushes < 6000) {  // 6000 one-token words stay below the length limit
    try {
      s.push_text("word ");
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kUsage) << e.what();
      refused = true;
      break;
    }
    ++pushes;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  canceller.join();
  EXPECT_TRUE(refused) << "push_text() went on after cancel()";
  EXPECT_TRUE(cancelled.load());
  const vv::Audio a = s.wait();
  EXPECT_EQ(a.stop_reason, vv::StopReason::kCancelled);
  EXPECT_GE(chunks.load(), 2);
  EXPECT_THROW(s.finish(), vv::Error);
}

// The documented producer/consumer split: one thread pushes the text piece by piece (an LLM) while another
// pulls the audio and finally waits; the audio is that of the whole text (run under ThreadSanitizer in CI).
TEST(StreamDelivery, ProducerAndConsumerOnTwoThreads) {
  REQUIRE_MODEL();
  vv::Stream s = engine().stream(stream_options());
  std::thread producer([&] {
    for (size_t i = 0; i < kStreamText.size(); i += 3) {
      s.push_text(std::string_view(kStreamText).substr(i, 3));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    s.finish();
  });
  std::vector<float> pulled;
  for (vv::StreamEvent ev = s.pull(); ev.kind != vv::StreamEvent::kEnd; ev = s.pull()) append(pulled, ev);
  producer.join();
  const vv::Audio rest = s.wait();
  EXPECT_TRUE(rest.samples.empty());
  EXPECT_EQ(rest.frames, kStreamFrames);
  EXPECT_EQ(pulled, whole_text_audio().samples);
}
