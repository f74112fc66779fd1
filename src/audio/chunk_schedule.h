// How many latent frames each acoustic-decoder call (= audio chunk) takes.
//
// Fixed: every chunk has K frames (SynthesisOptions::chunk_frames = K), running across speech windows.
//
// Adaptive (chunk_frames = 0, the default, for model directories whose decoder is chunk-invariant): the
// first chunk of an utterance is one frame (first audio as early as possible), later chunks grow while
// that costs a listener nothing, and never cross the end of a speech window (a chunk's text span is then
// one window's, so alignment and timestamps equal those of K = 1). Larger chunks are cheaper per frame:
// the decoder's low-resolution stages read their weights once per call, not once per frame. The rule,
// with g = measured generation time per frame (diffusion + TTS LM + text windows, without decoding),
// d(k) = measured (or, before it was seen, extrapolated) decoder time for k frames, est(k) = k g + d(k),
// and lead = how much decoded audio a real-time listener still has to play:
//   - if est(1) > one frame of audio (even K = 1 is slower than real time, so a listener starves whatever
//     the chunk size), the chunk doubles (capped at the window's remaining frames): the highest
//     throughput, and thus the shortest total wait, is reached soonest;
//   - otherwise the largest k <= remaining frames with est(k) + margin(k) <= lead (at least 1): the next
//     chunk arrives before the listener runs out, so a listener fed once is never starved by growth.
// The decoder's output does not depend on the chunk sizes (ModelManifest::decoder_chunk_invariant), so the
// timing-dependent schedule changes when audio arrives, never what it is.
//
// Thread-safe: next() and on_generated() are called by the generation thread, on_decoded() by whichever
// thread decodes.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

namespace vv {

class ChunkSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  // fixed_frames >= 1: fixed schedule; 0: adaptive, with `frame_seconds` of audio per frame.
  ChunkSchedule(int fixed_frames, double frame_seconds);

  bool adaptive() const { return fixed_ == 0; }
  // Adaptive chunks end at speech-window boundaries; fixed ones do not.
  bool cuts_at_windows() const { return adaptive(); }

  // Size of the chunk whose first frame is pushed now, `window_left` (>= 1) frames before the end of the
  // current speech window (this frame included).
  int next(int window_left, Clock::time_point now = Clock::now());
  // Time the generation loop spent producing one frame (measured between two pushes, decoding excluded).
  void on_generated(double seconds);
  // A chunk of `frames` frames was decoded in `decode_seconds` and handed out at `emitted`.
  void on_decoded(int frames, double decode_seconds, Clock::time_point emitted);

  // The decision itself, without clocks (tests). d[k] = decoder seconds for k frames, <= 0 when unknown;
  // g <= 0 when unknown.
  struct Inputs {
    int window_left = 1;
    int previous = 0;  // frames of the previous chunk, 0 = this is the first chunk
    double g = 0, lead = 0, frame_seconds = 0;
    const std::vector<double>* d = nullptr;
  };
  static int choose(const Inputs& in);
  static double estimate(const Inputs& in, int k);  // est(k); < 0 when unknown

 private:
  const int fixed_;
  const double frame_seconds_;
  std::mutex mutex_;
  int previous_ = 0;
  double g_ = 0;                // exponential moving average, 0 = no sample yet
  std::vector<double> decode_;  // [k] = moving average of the decoder time for k frames, 0 = unseen
  std::optional<Clock::time_point> play_end_;  // when a real-time listener finishes the audio so far
};

}  // namespace vv
