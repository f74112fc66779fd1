// The progress line of `vibevoice synth` on stderr (updated in place on a terminal, once at the end
// otherwise): frames, audio seconds, elapsed time and RTF; for a text known in advance also the segment
// being spoken, the share of the text and an estimate of the time left.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vv::cli {

class Progress {
 public:
  Progress(bool enabled, int sample_rate);
  // The whole text is known: its length in bytes and the end of each segment (Engine::segments).
  void set_text(size_t bytes, std::vector<size_t> segment_ends);
  // `text_pos`: the end of the text spoken so far (AudioChunk::text_end).
  void update(int64_t frames, int64_t samples, size_t text_pos, bool final_line);

 private:
  bool enabled_, tty_;
  int sample_rate_;
  size_t text_bytes_ = 0;
  std::vector<size_t> segment_ends_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace vv::cli
