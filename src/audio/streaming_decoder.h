// Drives the stateful acoustic decoder during generation: latents are pushed one frame at a time and
// decoded a chunk at a time, the chunk sizes chosen by a ChunkSchedule (fixed K, or adaptive); each decoder
// call becomes one AudioChunk handed to `emit`. Decoding in chunks is exact (architecture.md 2.8), so the
// schedule only trades latency for throughput. flush() decodes what is pending (end of utterance, or when
// generation has to wait for text).
//
// Background mode: the decoder graph runs on an own thread, overlapping the generation of the next frames
// (architecture.md 3.11: decoding never feeds back into generation). The chunks and decoder calls are
// exactly those of the foreground mode, so the audio is bit-identical; only `emit` then runs on the
// decoding thread (in order, one call at a time). The first chunk is waited for (first-audio latency: it
// does not compete with the next frame for the cores), later ones overlap. A decoding error (or an exception
// thrown by `emit`) is rethrown by the next push() or flush().
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "audio/chunk_schedule.h"
#include "runtime/acoustic_decoder.h"
#include "vibevoice/vibevoice.hpp"

namespace vv {

class StreamingDecoder {
 public:
  // chunk_frames >= 1: fixed chunks of that many frames; 0: adaptive (ChunkSchedule).
  StreamingDecoder(const AcousticDecoder& decoder, int chunk_frames, int latent_dim, int hop_length,
                   int sample_rate, bool background, std::function<void(AudioChunk&&)> emit);
  ~StreamingDecoder();  // stops the decoding thread; chunks not yet decoded are dropped
  StreamingDecoder(const StreamingDecoder&) = delete;
  StreamingDecoder& operator=(const StreamingDecoder&) = delete;

  // Adds the latent of frame `frame` (frames arrive in order), produced for the text span [begin, end),
  // `window_left` (>= 1) frames before the end of its speech window (this one included).
  void push(std::span<const float> z, int64_t frame, size_t text_begin, size_t text_end, int window_left);
  // Decodes what is pending and returns once every chunk so far has been emitted.
  void flush();

 private:
  struct Job {
    std::vector<float> latents;
    AudioChunk chunk;  // everything but the samples
  };
  void submit();
  void decode(Job& job);  // runs the graph (advancing state_) and emits the chunk
  void worker();
  void rethrow_error();

  const AcousticDecoder& decoder_;
  DecoderState state_;  // touched only by whichever thread decodes
  ChunkSchedule schedule_;
  size_t latent_dim_;
  int sample_rate_;
  std::function<void(AudioChunk&&)> emit_;
  Job pending_;
  size_t target_frames_ = 0;  // size of the pending chunk, chosen at its first frame
  std::optional<ChunkSchedule::Clock::time_point>
      last_push_;          // end of the previous push(); none after flush()
  int64_t submitted_ = 0;  // chunks handed to the decoding thread

  // background mode
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;
};

}  // namespace vv
