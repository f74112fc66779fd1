// The events of a pull()-mode vv::Stream between the worker thread (producer) and the caller (consumer).
// Bounded: push() blocks while `capacity` events are waiting, so a slow consumer stalls the generation
// (backpressure) instead of growing memory. Thread-safe for one producer and one consumer.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

#include "vibevoice/vibevoice.hpp"

namespace vv {

class EventQueue {
 public:
  explicit EventQueue(size_t capacity) : capacity_(capacity > 0 ? capacity : 1) {}  // at least 1

  // Producer: waits while `capacity` events are queued, then appends. Discards the event after abandon().
  void push(StreamEvent&& event);
  // Producer: no more events will come (pop() returns nullopt once the queue is empty).
  void close();

  // Consumer: the next event, blocking until one is queued; nullopt once closed and drained.
  std::optional<StreamEvent> pop();
  // Consumer: nobody will pop any more (the Stream is being destroyed); a blocked push() returns and
  // later ones discard their event.
  void abandon();

  size_t capacity() const { return capacity_; }
  size_t high_water() const;  // the most events ever queued at once

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<StreamEvent> events_;
  size_t high_water_ = 0;
  bool closed_ = false, abandoned_ = false;
};

}  // namespace vv
