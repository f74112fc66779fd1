// Thread helpers of the C++ tests.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

namespace vv_test {

// Waits until `counter` (advanced by another thread) has not changed for `quiet` (or `limit` has passed),
// i.e. until that thread is blocked or done; returns the value.
inline int settled(const std::atomic<int>& counter,
                   std::chrono::milliseconds quiet = std::chrono::milliseconds(200),
                   std::chrono::seconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  int last = -1;
  while (counter.load() != last && std::chrono::steady_clock::now() < deadline) {
    last = counter.load();
    std::this_thread::sleep_for(quiet);
  }
  return last;
}

}  // namespace vv_test
