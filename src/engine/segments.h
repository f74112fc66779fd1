// What synthesize() and Stream share for texts of any length: the segment budget of a voice (from the
// position limit, or SynthesisOptions::max_segment_tokens) and the noise of each segment.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/engine_impl.h"
#include "generate/text_windows.h"
#include "text/segmenter.h"

namespace vv {

// Text tokens per segment: max_segment_tokens (at most what fits beside the voice prompt), or by default
// (max_positions - voice prompt) / 4 — the TTS LM holds the prompt, the text and the speech frames, and
// speech takes about 2-2.5 frames per text token (7.5 frames/s, ~3 tokens/s of English), so 3 frames per
// token leaves a margin. Tokens are counted as the text is spoken (prepare_text + encode).
SegmentBudget segment_budget(const Engine::Impl& engine, const VoicePreset& voice, int max_segment_tokens);

// The noise of segment `index` > 0, whose first frame is frame `first_frame` of the whole text: the
// injected noise continued, or the RNG seeded with segment_seed(seed, index).
std::unique_ptr<NoiseSource> segment_noise(size_t index, const ResolvedSynthesis& r, int64_t first_frame);

// The text windows of a Stream, one queue per segment: the producer appends to the open segment and ends
// it (opening the next); the worker takes segment after segment. Thread-safe.
class SegmentQueues {
 public:
  explicit SegmentQueues(int text_window) : text_window_(text_window) { open(); }

  TextWindowQueue& open_segment();    // producer
  void end_segment(size_t text_end);  // producer: ends the open one, opens the next
  void finish(size_t text_end);       // producer: ends the open one, the last
  void cancel();                      // any thread
  // Worker: whether segment(index) returns without waiting.
  bool ready(size_t index);
  // Worker: segment `index`, waiting until it exists; nullptr when there is none (finished, or cancelled).
  TextWindowQueue* segment(size_t index);

 private:
  void open();
  const int text_window_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<TextWindowQueue>> queues_;
  bool finished_ = false, cancelled_ = false;
};

}  // namespace vv
