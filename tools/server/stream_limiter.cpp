#include "server/stream_limiter.h"

#include <chrono>

namespace vv::server {

StreamLimiter::Admission StreamLimiter::acquire(const std::function<bool()>& abandon) {
  std::unique_lock lock(mutex_);
  if (active_ < max_active_) {
    ++active_;
    return Admission::kAdmitted;
  }
  if (queued_ >= max_queued_) return Admission::kBusy;
  ++queued_;
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return active_ < max_active_; });
    if (active_ < max_active_) {
      --queued_;
      ++active_;
      return Admission::kAdmitted;
    }
    lock.unlock();
    const bool give_up = abandon && abandon();
    lock.lock();
    if (give_up) {
      --queued_;
      return Admission::kAbandoned;
    }
  }
}

bool StreamLimiter::try_acquire() {
  std::lock_guard lock(mutex_);
  if (active_ >= max_active_ || queued_ > 0) return false;  // queued requests go first
  ++active_;
  return true;
}

void StreamLimiter::release() {
  {
    std::lock_guard lock(mutex_);
    --active_;
  }
  cv_.notify_one();
}

int StreamLimiter::active() const {
  std::lock_guard lock(mutex_);
  return active_;
}

int StreamLimiter::queued() const {
  std::lock_guard lock(mutex_);
  return queued_;
}

}  // namespace vv::server
