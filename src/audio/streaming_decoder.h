// Drives the stateful acoustic decoder during generation: latents are pushed one frame at a time and
// decoded K (chunk_frames) at a time; each decoder call becomes one AudioChunk handed to `emit`.
// Decoding K frames per call is exact (architecture.md 2.8), so K only trades latency for throughput.
// flush() decodes what is pending (end of utterance, or when generation has to wait for text).
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
#include <span>
#include <thread>
#include <vector>

#include "runtime/acoustic_decoder.h"
#include "vibevoice/vibevoice.hpp"

namespace vv {

class StreamingDecoder {
 public:
  StreamingDecoder(const AcousticDecoder& decoder, int chunk_frames, int latent_dim, int sample_rate,
                   bool background, std::function<void(AudioChunk&&)> emit);
  ~StreamingDecoder();  // stops the decoding thread; chunks not yet decoded are dropped
  StreamingDecoder(const StreamingDecoder&) = delete;
  StreamingDecoder& operator=(const StreamingDecoder&) = delete;

  // Adds the latent of frame `frame` (frames arrive in order), produced for the text span [begin, end).
  void push(std::span<const float> z, int64_t frame, size_t text_begin, size_t text_end);
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
  size_t chunk_frames_, latent_dim_;
  int sample_rate_;
  std::function<void(AudioChunk&&)> emit_;
  Job pending_;
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
