#include "audio/streaming_decoder.h"

#include <algorithm>

namespace vv {

StreamingDecoder::StreamingDecoder(const AcousticDecoder& decoder, int chunk_frames, int latent_dim,
                                   int hop_length, int sample_rate, bool background,
                                   std::function<void(AudioChunk&&)> emit)
    : decoder_(decoder),
      state_(decoder.initial_state()),
      schedule_(chunk_frames, static_cast<double>(hop_length) / sample_rate),
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

void StreamingDecoder::push(std::span<const float> z, int64_t frame, size_t text_begin, size_t text_end,
                            int window_left) {
  rethrow_error();
  const auto now = ChunkSchedule::Clock::now();
  if (last_push_) schedule_.on_generated(std::chrono::duration<double>(now - *last_push_).count());
  AudioChunk& c = pending_.chunk;
  if (pending_.latents.empty()) {
    target_frames_ = static_cast<size_t>(schedule_.next(window_left, now));
    c.first_frame = frame;
    c.text_begin = text_begin;
    c.text_end = text_end;
  } else {
    c.text_begin = std::min(c.text_begin, text_begin);
    c.text_end = std::max(c.text_end, text_end);
  }
  pending_.latents.insert(pending_.latents.end(), z.begin(), z.end());
  if (pending_.latents.size() >= target_frames_ * latent_dim_) {
    submit();
    // The first chunk is waited for: with nothing running beside it, it is decoded (and heard) sooner.
    if (thread_.joinable() && ++submitted_ == 1) flush();
  }
  last_push_ = ChunkSchedule::Clock::now();  // after any decoding done here: g excludes decoder time
}

void StreamingDecoder::flush() {
  last_push_.reset();  // the caller may now wait (for text): that time is not generation time
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
  const auto start = ChunkSchedule::Clock::now();
  job.chunk.samples = decoder_.run(job.latents, state_);
  const auto done = ChunkSchedule::Clock::now();
  schedule_.on_decoded(static_cast<int>(job.chunk.frame_count),
                       std::chrono::duration<double>(done - start).count(), done);
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
