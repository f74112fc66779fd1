#include "engine/event_queue.h"

#include <algorithm>

namespace vv {

void EventQueue::push(StreamEvent&& event) {
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return abandoned_ || events_.size() < capacity_; });
    if (abandoned_) return;
    events_.push_back(std::move(event));
    high_water_ = std::max(high_water_, events_.size());
  }
  cv_.notify_all();
}

void EventQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::optional<StreamEvent> EventQueue::pop() {
  std::optional<StreamEvent> event;
  {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return closed_ || !events_.empty(); });
    if (events_.empty()) return std::nullopt;
    event = std::move(events_.front());
    events_.pop_front();
  }
  cv_.notify_all();  // room for a blocked push()
  return event;
}

void EventQueue::abandon() {
  {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
    events_.clear();
  }
  cv_.notify_all();
}

size_t EventQueue::high_water() const {
  std::lock_guard lock(mutex_);
  return high_water_;
}

}  // namespace vv
