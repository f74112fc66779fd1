// Drives the stateful acoustic decoder during generation: latents are pushed one frame at a time and
// decoded K (chunk_frames) at a time; each decoder call becomes one AudioChunk handed to `emit` at once.
// Decoding K frames per call is exact (architecture.md 2.8), so K only trades latency for throughput.
// flush() decodes what is pending (end of utterance, or when generation has to wait for text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "runtime/acoustic_decoder.h"
#include "vibevoice/vibevoice.hpp"

namespace vv {

class StreamingDecoder {
 public:
  StreamingDecoder(const AcousticDecoder& decoder, int chunk_frames, int latent_dim, int sample_rate,
                   std::function<void(AudioChunk&&)> emit);

  // Adds the latent of frame `frame` (frames arrive in order), produced for the text span [begin, end).
  void push(std::span<const float> z, int64_t frame, size_t text_begin, size_t text_end);
  void flush();

 private:
  const AcousticDecoder& decoder_;
  DecoderState state_;
  size_t chunk_frames_, latent_dim_;
  int sample_rate_;
  std::function<void(AudioChunk&&)> emit_;
  std::vector<float> pending_;
  int64_t first_frame_ = 0;
  size_t text_begin_ = 0, text_end_ = 0;
};

}  // namespace vv
