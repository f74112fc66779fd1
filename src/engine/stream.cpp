// vv::Stream: incremental text in, audio events out. The generation loop runs on a worker thread and
// blocks at text-window boundaries until push_text()/finish() make the next window final.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <thread>

#include "engine/engine_impl.h"
#include "generate/incremental_text.h"

namespace vv {

struct Stream::Impl final : GenerationObserver {
  Impl(std::shared_ptr<const Engine::Impl> e, ResolvedSynthesis r, std::function<void(const StreamEvent&)> cb,
       std::function<bool()> abort)
      : engine(std::move(e)),
        resolved(std::move(r)),
        text(*engine->tokenizer),
        queue(engine->manifest.text_window),
        on_event(std::move(cb)),
        should_abort(std::move(abort)) {
    audio.sample_rate = engine->manifest.sample_rate;
    worker = std::thread([this] { run(); });
  }

  ~Impl() override {
    cancel();
    if (worker.joinable()) worker.join();
  }

  void run() {
    GenerationResult result;
    std::exception_ptr failure;
    try {
      result = generate_speech(engine->manifest, *engine->graphs, *resolved.voice, resolved.settings, queue,
                               *resolved.noise, *this);
    } catch (...) {
      failure = std::current_exception();
    }
    StreamEvent end;
    end.kind = StreamEvent::kEnd;
    end.frame = result.frames;
    end.stop_reason = result.stop_reason;
    {
      std::lock_guard lock(mutex);
      audio.latents = std::move(result.latents);
      audio.frames = result.frames;
      audio.stop_reason = result.stop_reason;
      error = failure;
    }
    if (!failure) deliver(std::move(end));
    {
      std::lock_guard lock(mutex);
      ended = true;
    }
    cv.notify_all();
  }

  void deliver(StreamEvent&& event) {
    if (on_event) {
      on_event(event);
      return;
    }
    {
      std::lock_guard lock(mutex);
      events.push_back(std::move(event));
    }
    cv.notify_all();
  }

  // GenerationObserver (worker thread)
  void on_chunk(AudioChunk&& chunk) override {
    {
      std::lock_guard lock(mutex);
      audio.samples.insert(audio.samples.end(), chunk.samples.begin(), chunk.samples.end());
    }
    StreamEvent ev;
    ev.kind = StreamEvent::kAudio;
    ev.frame = chunk.first_frame + chunk.frame_count;
    ev.chunk = std::move(chunk);
    deliver(std::move(ev));
  }
  void on_underrun(int64_t frames) override {
    StreamEvent ev;
    ev.kind = StreamEvent::kUnderrun;
    ev.frame = frames;
    deliver(std::move(ev));
  }
  bool should_stop() override { return cancelled.load() || (should_abort && should_abort()); }

  void cancel() {
    cancelled = true;
    queue.cancel();
  }

  std::shared_ptr<const Engine::Impl> engine;
  ResolvedSynthesis resolved;
  IncrementalText text;  // producer side (caller's thread)
  TextWindowQueue queue;
  std::function<void(const StreamEvent&)> on_event;
  std::function<bool()> should_abort;
  bool text_closed = false;

  std::mutex mutex;
  std::condition_variable cv;
  std::deque<StreamEvent> events;
  Audio audio;
  std::exception_ptr error;
  bool ended = false;
  bool end_pulled = false;
  std::atomic<bool> cancelled{false};
  std::thread worker;  // last: started after everything above is constructed
};

Stream::Stream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Stream::Stream(Stream&&) noexcept = default;
Stream& Stream::operator=(Stream&&) noexcept = default;
Stream::~Stream() = default;

void Stream::push_text(std::string_view text) {
  if (impl_->text_closed) fail(ErrorKind::kUsage, "push_text() after finish() or cancel()");
  const std::vector<Token> tokens = impl_->text.push(text);
  impl_->engine->check_length(*impl_->resolved.voice, impl_->text.tokens_emitted());
  impl_->queue.append(tokens);
}

void Stream::finish() {
  if (impl_->text_closed) fail(ErrorKind::kUsage, "finish() after finish() or cancel()");
  impl_->text_closed = true;
  try {
    const std::vector<Token> tokens = impl_->text.finish();
    impl_->engine->check_length(*impl_->resolved.voice, impl_->text.tokens_emitted());
    impl_->queue.append(tokens);
    impl_->queue.finish(impl_->text.text_end());
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
  std::unique_lock lock(impl_->mutex);
  impl_->cv.wait(lock, [&] { return !impl_->events.empty() || impl_->ended; });
  if (!impl_->events.empty()) {
    StreamEvent ev = std::move(impl_->events.front());
    impl_->events.pop_front();
    return ev;
  }
  if (impl_->error) std::rethrow_exception(impl_->error);
  StreamEvent end;
  end.kind = StreamEvent::kEnd;
  end.frame = impl_->audio.frames;
  end.stop_reason = impl_->audio.stop_reason;
  return end;
}

Audio Stream::wait() {
  std::unique_lock lock(impl_->mutex);
  impl_->cv.wait(lock, [&] { return impl_->ended; });
  if (impl_->error) std::rethrow_exception(impl_->error);
  return impl_->audio;
}

Stream Engine::stream(const SynthesisOptions& options,
                      std::function<void(const StreamEvent&)> on_event) const {
  ResolvedSynthesis r = impl_->resolve(options);
  return Stream(
      std::make_unique<Stream::Impl>(impl_, std::move(r), std::move(on_event), options.should_abort));
}

}  // namespace vv
