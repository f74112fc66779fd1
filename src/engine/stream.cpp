// vv::Stream: incremental text in, audio events out. The generation loop runs on a worker thread and
// blocks at text-window boundaries until push_text()/finish() make the next window final. Every sample is
// handed out once: to the event callback, to pull() (through a bounded EventQueue), or to wait().
#include <atomic>
#include <condition_variable>
#include <exception>
#include <thread>

#include "engine/engine_impl.h"
#include "engine/event_queue.h"
#include "engine/segments.h"
#include "generate/segmented_text.h"

namespace vv {

struct Stream::Impl final : GenerationObserver, SegmentedText::Sink {
  Impl(std::shared_ptr<const Engine::Impl> e, ResolvedSynthesis r, std::function<void(const StreamEvent&)> cb,
       std::function<bool()> abort)
      : engine(std::move(e)),
        resolved(std::move(r)),
        text(*engine->tokenizer, segment_budget(*engine, *resolved.voice, resolved.max_segment_tokens)),
        queues(engine->manifest.text_window),
        on_event(std::move(cb)),
        should_abort(std::move(abort)),
        events(static_cast<size_t>(Stream::kMaxPendingEvents)) {
    result.sample_rate = engine->manifest.sample_rate;
    worker = std::thread([this] { run(); });
  }

  ~Impl() override {
    cancel();
    events.abandon();  // nobody pulls any more: a worker blocked on a full queue goes on
    if (worker.joinable()) worker.join();
  }

  // Segment after segment (one for a text that fits), as synthesize() speaks them.
  GenerationResult generate() {
    GenerationResult all;
    GenerationSettings settings = resolved.settings;
    for (size_t i = 0;; ++i) {
      frame_offset = all.frames;
      if (!queues.ready(i)) on_underrun_local(0);  // the previous segment ended before its text did
      TextWindowQueue* q = queues.segment(i);
      if (!q) {
        if (i == 0 || cancelled) all.stop_reason = StopReason::kCancelled;
        break;
      }
      if (resolved.settings.max_frames > 0) settings.max_frames = resolved.settings.max_frames - all.frames;
      const std::unique_ptr<NoiseSource> noise = i > 0 ? segment_noise(i, resolved, all.frames) : nullptr;
      GenerationResult r = generate_speech(engine->manifest, *engine->graphs, *resolved.voice, settings, *q,
                                           noise ? *noise : *resolved.noise, *this);
      all.latents.insert(all.latents.end(), r.latents.begin(), r.latents.end());
      all.frames += r.frames;
      all.stop_reason = r.stop_reason;
      if (r.stop_reason == StopReason::kCancelled || r.stop_reason == StopReason::kMaxFrames) break;
    }
    return all;
  }

  void run() {
    std::exception_ptr failure;
    try {
      GenerationResult r = generate();
      StreamEvent end;
      end.kind = StreamEvent::kEnd;
      end.frame = r.frames;
      end.stop_reason = r.stop_reason;
      {
        std::lock_guard lock(mutex);
        result.latents = std::move(r.latents);
        result.frames = r.frames;
        result.stop_reason = r.stop_reason;
      }
      if (on_event) on_event(end);  // pull() makes its kEnd from `result`
    } catch (...) {
      failure = std::current_exception();  // from the generation or from the event callback
    }
    {
      std::lock_guard lock(mutex);
      error = failure;
      ended = true;
    }
    events.close();
    cv.notify_all();
  }

  void deliver(StreamEvent&& event) {
    if (on_event) {
      on_event(event);
    } else {
      events.push(std::move(event));  // blocks while kMaxPendingEvents are waiting (backpressure)
    }
  }

  // GenerationObserver (worker thread, or the decoding thread for on_chunk)
  void on_chunk(AudioChunk&& chunk) override {
    chunk.first_frame += frame_offset;
    StreamEvent ev;
    ev.kind = StreamEvent::kAudio;
    ev.frame = chunk.first_frame + chunk.frame_count;
    ev.chunk = std::move(chunk);
    deliver(std::move(ev));
  }
  void on_underrun(int64_t frames) override { on_underrun_local(frames); }
  void on_underrun_local(int64_t frames) {  // frames of the current segment
    StreamEvent ev;
    ev.kind = StreamEvent::kUnderrun;
    ev.frame = frame_offset + frames;
    deliver(std::move(ev));
  }

  // SegmentedText::Sink (the producer's thread)
  void tokens(std::vector<Token>&& t) override { queues.open_segment().append(t); }
  void end_segment(size_t text_end) override { queues.end_segment(text_end); }
  bool should_stop() override { return cancelled.load() || (should_abort && should_abort()); }

  void cancel() {  // any thread
    cancelled = true;
    queues.cancel();
  }

  // Blocks until the worker is done; rethrows its error.
  void wait_ended(std::unique_lock<std::mutex>& lock) {
    cv.wait(lock, [&] { return ended; });
    if (error) std::rethrow_exception(error);
  }

  std::shared_ptr<const Engine::Impl> engine;
  ResolvedSynthesis resolved;
  SegmentedText text;  // producer side (the owner's thread)
  SegmentQueues queues;
  int64_t frame_offset = 0;  // worker: the first frame of the current segment
  std::function<void(const StreamEvent&)> on_event;
  std::function<bool()> should_abort;
  std::atomic<bool> text_closed{false};  // finish() (owner) or cancel() (any thread)
  std::atomic<bool> cancelled{false};
  EventQueue events;  // pull() mode only

  std::mutex mutex;  // guards what follows
  std::condition_variable cv;
  Audio result;  // everything but the samples, set when generation is over
  std::exception_ptr error;
  bool ended = false;
  std::thread worker;  // last: started after everything above is constructed
};

Stream::Stream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Stream::Stream(Stream&&) noexcept = default;
Stream& Stream::operator=(Stream&&) noexcept = default;
Stream::~Stream() = default;

void Stream::push_text(std::string_view text) {
  if (impl_->text_closed.load()) fail(ErrorKind::kUsage, "push_text() after finish() or cancel()");
  impl_->text.push(text, *impl_);
}

void Stream::finish() {
  if (impl_->text_closed.exchange(true)) fail(ErrorKind::kUsage, "finish() after finish() or cancel()");
  try {
    impl_->queues.finish(impl_->text.finish(*impl_));
  } catch (...) {
    impl_->cancel();  // nothing sensible can be spoken; end the stream
    throw;
  }
}

void Stream::cancel() {
  impl_->text_closed = true;
  impl_->cancel();
}

StreamEvent Stream::pull() {
  if (impl_->on_event) fail(ErrorKind::kUsage, "pull() on a stream created with an event callback");
  if (std::optional<StreamEvent> ev = impl_->events.pop()) return std::move(*ev);
  std::unique_lock lock(impl_->mutex);
  impl_->wait_ended(lock);
  StreamEvent end;
  end.kind = StreamEvent::kEnd;
  end.frame = impl_->result.frames;
  end.stop_reason = impl_->result.stop_reason;
  return end;
}

Audio Stream::wait() {
  std::vector<float> samples;  // the audio nobody pulled yet
  if (!impl_->on_event) {
    while (std::optional<StreamEvent> ev = impl_->events.pop()) {
      if (ev->kind == StreamEvent::kAudio)
        samples.insert(samples.end(), ev->chunk.samples.begin(), ev->chunk.samples.end());
    }
  }
  std::unique_lock lock(impl_->mutex);
  impl_->wait_ended(lock);
  Audio out = impl_->result;
  out.samples = std::move(samples);
  return out;
}

Stream Engine::stream(const SynthesisOptions& options,
                      std::function<void(const StreamEvent&)> on_event) const {
  ResolvedSynthesis r = impl_->resolve(options);
  if (options.normalize) {
    fail(ErrorKind::kUsage,
         "text normalization needs whole lines and is not available for a stream; "
         "normalize the text first (Engine::normalize) or use synthesize()");
  }
  return Stream(
      std::make_unique<Stream::Impl>(impl_, std::move(r), std::move(on_event), options.should_abort));
}

}  // namespace vv
