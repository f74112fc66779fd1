// TextWindowQueue (model-free): full windows of text_window tokens with the byte span they cover, the
// partial and then empty windows after finish(), blocking until tokens arrive, and cancel().
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "generate/text_windows.h"

namespace {

// Token i covers bytes [3i, 3i + 3) and has id 100 + i.
std::vector<vv::Token> tokens(size_t first, size_t count) {
  std::vector<vv::Token> out;
  for (size_t i = first; i < first + count; ++i)
    out.push_back({static_cast<int32_t>(100 + i), 3 * i, 3 * i + 3});
  return out;
}

}  // namespace

TEST(TextWindows, FullWindowsThenTheRestThenEmptyWindowsAtTheTextEnd) {
  vv::TextWindowQueue q(5);
  q.append(tokens(0, 7));
  ASSERT_TRUE(q.window_ready());
  const auto w1 = q.next_window();
  ASSERT_TRUE(w1);
  EXPECT_EQ(w1->ids, (std::vector<int32_t>{100, 101, 102, 103, 104}));
  EXPECT_EQ(w1->text_begin, 0u);
  EXPECT_EQ(w1->text_end, 15u);
  EXPECT_FALSE(q.window_ready());  // 2 tokens left: the window is not complete and the text not finished
  q.finish(40);
  ASSERT_TRUE(q.window_ready());
  const auto w2 = q.next_window();
  ASSERT_TRUE(w2);
  EXPECT_EQ(w2->ids, (std::vector<int32_t>{105, 106}));
  EXPECT_EQ(w2->text_begin, 15u);
  EXPECT_EQ(w2->text_end, 21u);
  for (int i = 0; i < 3; ++i) {  // exhausted: empty windows, empty span at the end of the text
    const auto w = q.next_window();
    ASSERT_TRUE(w);
    EXPECT_TRUE(w->ids.empty());
    EXPECT_EQ(w->text_begin, 40u);
    EXPECT_EQ(w->text_end, 40u);
  }
  EXPECT_EQ(q.token_count(), 7u);
}

TEST(TextWindows, SpanIsTheUnionOfItsTokensSpans) {
  // Two tokens made of one character's bytes share that character's span (tokenizer offset semantics).
  vv::TextWindowQueue q(3);
  const std::vector<vv::Token> t = {{1, 4, 8}, {2, 4, 8}, {3, 8, 9}, {4, 9, 12}};
  q.append(t);
  const auto w = q.next_window();
  ASSERT_TRUE(w);
  EXPECT_EQ(w->ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(w->text_begin, 4u);
  EXPECT_EQ(w->text_end, 9u);
}

TEST(TextWindows, AppendsInPiecesFormTheSameWindows) {
  vv::TextWindowQueue q(4);
  q.append(tokens(0, 1));
  q.append({});  // nothing
  q.append(tokens(1, 2));
  EXPECT_FALSE(q.window_ready());
  q.append(tokens(3, 2));
  const auto w = q.next_window();
  ASSERT_TRUE(w);
  EXPECT_EQ(w->ids, (std::vector<int32_t>{100, 101, 102, 103}));
  EXPECT_EQ(q.token_count(), 5u);
}

TEST(TextWindows, NextWindowWaitsForTheProducer) {
  vv::TextWindowQueue q(5);
  q.append(tokens(0, 3));
  std::atomic<bool> appended{false};
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    appended = true;
    q.append(tokens(3, 2));
  });
  const auto w = q.next_window();  // blocks until the window is complete
  EXPECT_TRUE(appended.load());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->ids.size(), 5u);
  producer.join();
}

TEST(TextWindows, FinishWakesAWaitingConsumer) {
  vv::TextWindowQueue q(5);
  q.append(tokens(0, 2));
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    q.finish(6);
  });
  const auto w = q.next_window();
  ASSERT_TRUE(w);
  EXPECT_EQ(w->ids, (std::vector<int32_t>{100, 101}));
  producer.join();
}

TEST(TextWindows, CancelWakesAWaitingConsumerAndEndsTheQueue) {
  vv::TextWindowQueue q(5);
  std::atomic<bool> cancelled{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    cancelled = true;
    q.cancel();
  });
  EXPECT_FALSE(q.next_window());
  EXPECT_TRUE(cancelled.load());
  canceller.join();
  q.append(tokens(0, 10));  // full windows after cancel() are not handed out
  EXPECT_TRUE(q.window_ready());
  EXPECT_FALSE(q.next_window());
}
