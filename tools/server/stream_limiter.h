// Admission control for syntheses: at most `max_active` run at once and at most `max_queued` wait for a
// slot; a request beyond that is refused at once (the server answers 503 with Retry-After).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

namespace vv::server {

class StreamLimiter {
 public:
  StreamLimiter(int max_active, int max_queued) : max_active_(max_active), max_queued_(max_queued) {}

  enum class Admission { kAdmitted, kBusy, kAbandoned };
  // Takes a slot, waiting in the queue if there is room; `abandon` is polled while waiting (e.g. the client
  // disconnected, the server shuts down). kAdmitted must be paired with release().
  Admission acquire(const std::function<bool()>& abandon);
  // Takes a slot only if one is free now (the WebSocket routes do not queue). true must be paired with
  // release().
  bool try_acquire();
  void release();

  int active() const;
  int queued() const;
  int max_active() const { return max_active_; }
  int max_queued() const { return max_queued_; }

 private:
  const int max_active_, max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  int active_ = 0, queued_ = 0;
};

// RAII holder of an admitted slot.
class StreamSlot {
 public:
  explicit StreamSlot(StreamLimiter& limiter) : limiter_(&limiter) {}
  StreamSlot(const StreamSlot&) = delete;
  StreamSlot& operator=(const StreamSlot&) = delete;
  ~StreamSlot() { limiter_->release(); }

 private:
  StreamLimiter* limiter_;
};

}  // namespace vv::server
