#include "audio/chunk_schedule.h"

#include <algorithm>

namespace vv {

namespace {
constexpr double kSmoothing = 0.25;      // weight of a new timing sample in the moving averages
constexpr double kMarginShare = 0.25;    // safety margin: a quarter of the estimate ...
constexpr double kMarginSeconds = 0.02;  // ... plus 20 ms (scheduling noise, the listener's own buffering)

double smooth(double average, double sample) {
  return average <= 0 ? sample : average + kSmoothing * (sample - average);
}
}  // namespace

ChunkSchedule::ChunkSchedule(int fixed_frames, double frame_seconds)
    : fixed_(std::max(0, fixed_frames)), frame_seconds_(frame_seconds) {}

double ChunkSchedule::estimate(const Inputs& in, int k) {
  if (in.g <= 0 || in.d == nullptr) return -1;
  const std::vector<double>& d = *in.d;
  auto seen = [&](int j) {
    return j >= 1 && static_cast<size_t>(j) < d.size() && d[static_cast<size_t>(j)] > 0;
  };
  double decode = -1;
  if (seen(k)) {
    decode = d[static_cast<size_t>(k)];
  } else {
    for (int j = k - 1; j >= 1 && decode < 0; --j) {  // k/j times a smaller chunk's cost: an upper bound,
      if (seen(j)) decode = d[static_cast<size_t>(j)] * k / j;  // the decoder's cost per frame falls with k
    }
    for (int j = k + 1; decode < 0 && static_cast<size_t>(j) < d.size(); ++j) {
      if (seen(j)) decode = d[static_cast<size_t>(j)];  // a larger chunk's cost: an upper bound as well
    }
  }
  return decode < 0 ? -1 : k * in.g + decode;
}

int ChunkSchedule::choose(const Inputs& in) {
  const int left = std::max(1, in.window_left);
  if (in.previous == 0) return 1;  // first audio as early as possible
  const double one = estimate(in, 1);
  if (one < 0 || one > in.frame_seconds) return std::min(2 * in.previous, left);  // slower than real time
  int best = 1;
  for (int k = 2; k <= left; ++k) {
    const double e = estimate(in, k);
    if (e >= 0 && e + kMarginShare * e + kMarginSeconds <= in.lead) best = k;
  }
  return best;
}

int ChunkSchedule::next(int window_left, Clock::time_point now) {
  if (!adaptive()) return fixed_;
  std::lock_guard lock(mutex_);
  Inputs in;
  in.window_left = window_left;
  in.previous = previous_;
  in.g = g_;
  in.frame_seconds = frame_seconds_;
  in.d = &decode_;
  in.lead = play_end_ ? std::chrono::duration<double>(*play_end_ - now).count() : 0.0;
  previous_ = choose(in);
  return previous_;
}

void ChunkSchedule::on_generated(double seconds) {
  if (!adaptive()) return;
  std::lock_guard lock(mutex_);
  g_ = smooth(g_, seconds);
}

void ChunkSchedule::on_decoded(int frames, double decode_seconds, Clock::time_point emitted) {
  if (!adaptive() || frames < 1) return;
  std::lock_guard lock(mutex_);
  const auto k = static_cast<size_t>(frames);
  if (decode_.size() <= k) decode_.resize(k + 1, 0.0);
  decode_[k] = smooth(decode_[k], decode_seconds);
  // A real-time listener plays the chunks back to back; when one comes late it waits (starves) and goes on.
  const auto duration =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(frames * frame_seconds_));
  play_end_ = std::max(play_end_.value_or(emitted), emitted) + duration;
}

}  // namespace vv
