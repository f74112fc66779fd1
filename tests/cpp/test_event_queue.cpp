// EventQueue (model-free): the bounded queue between a Stream's worker and pull()/wait(): FIFO, the
// producer blocks at exactly `capacity` queued events until the consumer takes one, close() ends the
// consumer after the last event, abandon() releases a blocked producer and drops what comes later.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/event_queue.h"
#include "test_threads.h"

namespace {

vv::StreamEvent event(int64_t frame) {
  vv::StreamEvent ev;
  ev.kind = vv::StreamEvent::kAudio;
  ev.frame = frame;
  return ev;
}

// Pushes events 0..count-1, counting them in `pushed`, then closes the queue if `close`.
std::thread producer(vv::EventQueue& q, int count, std::atomic<int>& pushed, bool close) {
  return std::thread([&q, count, &pushed, close] {
    for (int i = 0; i < count; ++i) {
      q.push(event(i));
      ++pushed;
    }
    if (close) q.close();
  });
}

}  // namespace

TEST(EventQueue, ProducerBlocksAtCapacityUntilTheConsumerPops) {
  vv::EventQueue q(4);
  std::atomic<int> pushed{0};
  std::thread t = producer(q, 10, pushed, true);
  EXPECT_EQ(vv_test::settled(pushed, std::chrono::milliseconds(100)), 4);  // the 5th push waits
  auto first = q.pop();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->frame, 0);
  EXPECT_EQ(vv_test::settled(pushed, std::chrono::milliseconds(100)), 5);  // one slot freed, one more event
  for (int i = 1; i < 10; ++i) {
    auto ev = q.pop();
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->frame, i);  // in order
  }
  EXPECT_FALSE(q.pop());  // closed and drained
  EXPECT_FALSE(q.pop());
  t.join();
  EXPECT_EQ(q.high_water(), 4u);
  EXPECT_EQ(q.capacity(), 4u);
}

TEST(EventQueue, CloseWakesAWaitingConsumer) {
  vv::EventQueue q(2);
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q.push(event(1));
    q.close();
  });
  auto ev = q.pop();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->frame, 1);
  EXPECT_FALSE(q.pop());
  t.join();
}

TEST(EventQueue, AbandonReleasesABlockedProducer) {
  vv::EventQueue q(1);
  std::atomic<int> pushed{0};
  std::thread t = producer(q, 5, pushed, false);
  EXPECT_EQ(vv_test::settled(pushed, std::chrono::milliseconds(100)), 1);
  q.abandon();
  t.join();  // would hang if push() still blocked
  EXPECT_EQ(pushed.load(), 5);
  EXPECT_EQ(q.high_water(), 1u);
}

TEST(EventQueue, CapacityIsAtLeastOne) {
  vv::EventQueue q(0);
  EXPECT_EQ(q.capacity(), 1u);
  q.push(event(3));
  q.close();
  EXPECT_EQ(q.pop()->frame, 3);
}
