#include "audio/streaming_decoder.h"

#include <algorithm>

namespace vv {

StreamingDecoder::StreamingDecoder(const AcousticDecoder& decoder, int chunk_frames, int latent_dim,
                                   int sample_rate, bool background, std::function<void(AudioChunk&&)> emit)
    : decoder_(decoder),
      state_(decoder.initial_state()),
      chunk_frames_(static_cast<size_t>(chunk_frames)),
      latent_dim_(static_cast<size_t>(latent_dim)),
      sample_rate_(sample_rate),
      emit_(std::move(emit)) {
  if (background) thread_ = std::thread([this] { worker(); });
}

StreamingDecoder::~StreamingDecoder() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StreamingDecoder::push(std::span<const float> z, int64_t frame, size_t text_begin, size_t text_end) {
  rethrow_error();
  AudioChunk& c = pending_.chunk;
  if (pending_.latents.empty()) {
    c.first_frame = frame;
    c.text_begin = text_begin;
    c.text_end = text_end;
  } else {
    c.text_begin = std::min(c.text_begin, text_begin);
    c.text_end = std::max(c.text_end, text_end);
  }
  pending_.latents.insert(pending_.latents.end(), z.begin(), z.end());
  if (pending_.latents.size() < chunk_frames_ * latent_dim_) return;
  submit();
  // The first chunk is waited for: with nothing running beside it, it is decoded (and heard) sooner.
  if (thread_.joinable() && ++submitted_ == 1) flush();
}

void StreamingDecoder::flush() {
  submit();
  if (!thread_.joinable()) return;
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return (jobs_.empty() && !busy_) || error_; });
  lock.unlock();
  rethrow_error();
}

void StreamingDecoder::submit() {
  if (pending_.latents.empty()) return;
  pending_.chunk.sample_rate = sample_rate_;
  pending_.chunk.frame_count = static_cast<int64_t>(pending_.latents.size() / latent_dim_);
  Job job = std::move(pending_);
  pending_ = Job{};
  if (!thread_.joinable()) {
    decode(job);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_all();
}

void StreamingDecoder::decode(Job& job) {
  job.chunk.samples = decoder_.run(job.latents, state_);
  emit_(std::move(job.chunk));
}

void StreamingDecoder::worker() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
    if (stop_) return;
    if (error_) {  // a chunk queued after a failure: its decoder state is lost
      jobs_.clear();
      continue;
    }
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    std::exception_ptr error;
    try {
      decode(job);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    busy_ = false;
    if (error) {
      error_ = error;
      jobs_.clear();  // later chunks depend on the lost decoder state
    }
    cv_.notify_all();
  }
}

void StreamingDecoder::rethrow_error() {
  if (!thread_.joinable()) return;
  std::lock_guard lock(mutex_);
  if (error_) std::rethrow_exception(error_);
}

}  // namespace vv
