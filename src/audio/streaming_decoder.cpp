#include "audio/streaming_decoder.h"

#include <algorithm>

namespace vv {

StreamingDecoder::StreamingDecoder(const AcousticDecoder& decoder, int chunk_frames, int latent_dim,
                                   int sample_rate, std::function<void(AudioChunk&&)> emit)
    : decoder_(decoder),
      state_(decoder.initial_state()),
      chunk_frames_(static_cast<size_t>(chunk_frames)),
      latent_dim_(static_cast<size_t>(latent_dim)),
      sample_rate_(sample_rate),
      emit_(std::move(emit)) {}

void StreamingDecoder::push(std::span<const float> z, int64_t frame, size_t text_begin, size_t text_end) {
  if (pending_.empty()) {
    first_frame_ = frame;
    text_begin_ = text_begin;
    text_end_ = text_end;
  } else {
    text_begin_ = std::min(text_begin_, text_begin);
    text_end_ = std::max(text_end_, text_end);
  }
  pending_.insert(pending_.end(), z.begin(), z.end());
  if (pending_.size() >= chunk_frames_ * latent_dim_) flush();
}

void StreamingDecoder::flush() {
  if (pending_.empty()) return;
  AudioChunk chunk;
  chunk.samples = decoder_.run(pending_, state_);
  chunk.sample_rate = sample_rate_;
  chunk.first_frame = first_frame_;
  chunk.frame_count = static_cast<int64_t>(pending_.size() / latent_dim_);
  chunk.text_begin = text_begin_;
  chunk.text_end = text_end_;
  pending_.clear();
  emit_(std::move(chunk));
}

}  // namespace vv
