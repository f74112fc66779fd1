// The adaptive decoder chunk schedule (audio/chunk_schedule.h): the decision rule on given timings, and the
// clocked object on a simulated timeline.
#include "audio/chunk_schedule.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace {

using vv::ChunkSchedule;
constexpr double kFrame = 3200.0 / 24000.0;  // 133 ms of audio per latent frame

ChunkSchedule::Inputs inputs(int window_left, int previous, double g, double lead,
                             const std::vector<double>& d) {
  ChunkSchedule::Inputs in;
  in.window_left = window_left;
  in.previous = previous;
  in.g = g;
  in.lead = lead;
  in.frame_seconds = kFrame;
  in.d = &d;
  return in;
}

TEST(ChunkSchedule, FirstChunkIsOneFrame) {
  const std::vector<double> none;
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 0, 0, 0, none)), 1);
  const std::vector<double> fast = {0, 0.005, 0.006};
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 0, 0.01, 10.0, fast)), 1);  // even with a huge lead
}

TEST(ChunkSchedule, EstimatesUseMeasuredOrUpperBoundDecoderTimes) {
  const std::vector<double> d = {0, 0.060, 0, 0, 0.100};  // seen: k = 1 (60 ms) and k = 4 (100 ms)
  const auto in = inputs(6, 1, 0.050, 0, d);
  EXPECT_DOUBLE_EQ(ChunkSchedule::estimate(in, 1), 0.050 + 0.060);
  EXPECT_DOUBLE_EQ(ChunkSchedule::estimate(in, 2), 2 * 0.050 + 2 * 0.060);  // k/j times the k = 1 cost
  EXPECT_DOUBLE_EQ(ChunkSchedule::estimate(in, 4), 4 * 0.050 + 0.100);      // measured
  EXPECT_DOUBLE_EQ(ChunkSchedule::estimate(in, 5), 5 * 0.050 + 0.100 * 5 / 4);
  const std::vector<double> only_large = {0, 0, 0, 0.080};
  EXPECT_DOUBLE_EQ(ChunkSchedule::estimate(inputs(6, 1, 0.05, 0, only_large), 2), 2 * 0.05 + 0.080);
  EXPECT_LT(ChunkSchedule::estimate(inputs(6, 1, 0, 0, d), 1), 0);  // g unknown
  const std::vector<double> none;
  EXPECT_LT(ChunkSchedule::estimate(inputs(6, 1, 0.05, 0, none), 1), 0);  // nothing decoded yet
}

TEST(ChunkSchedule, FasterThanRealTimeGrowsOnlyWithinTheLead) {
  // g = 40 ms, d(1) = 30 ms: est(1) = 70 ms < 133 ms, so K = 1 keeps up and growth must not starve.
  const std::vector<double> d = {0, 0.030};
  // est(k) = 0.04 k + 0.03 k; with the margin (1.25 est + 20 ms) k fits when 0.0875 k + 0.02 <= lead.
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 1, 0.040, 0.10, d)), 1);  // nothing larger fits: stay at 1
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 1, 0.040, 0.20, d)), 2);
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 2, 0.040, 0.40, d)), 4);
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 4, 0.040, 5.00, d)), 6);  // capped by the window
  EXPECT_EQ(ChunkSchedule::choose(inputs(3, 4, 0.040, 5.00, d)), 3);
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 6, 0.040, 0.0, d)), 1);  // the listener ran dry: back to 1
  for (int left = 1; left <= 6; ++left) {
    for (double lead = 0; lead < 1.0; lead += 0.01) {
      const int k = ChunkSchedule::choose(inputs(left, 2, 0.040, lead, d));
      ASSERT_GE(k, 1);
      ASSERT_LE(k, left);
      const double e = ChunkSchedule::estimate(inputs(left, 2, 0.040, lead, d), k);
      if (k > 1) {
        ASSERT_LE(e, lead) << "a chunk larger than 1 frame must arrive before the audio runs out";
      }
    }
  }
}

TEST(ChunkSchedule, SlowerThanRealTimeDoublesUpToTheWindow) {
  // g = 95 ms, d(1) = 61 ms: est(1) = 156 ms > 133 ms: a listener starves anyway; grow for throughput.
  const std::vector<double> d = {0, 0.061};
  EXPECT_EQ(ChunkSchedule::choose(inputs(5, 1, 0.095, 0.13, d)), 2);
  EXPECT_EQ(ChunkSchedule::choose(inputs(3, 2, 0.095, 0.10, d)), 3);
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 3, 0.095, 0.00, d)), 6);
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 6, 0.095, 0.00, d)), 6);
  const std::vector<double> unknown;  // no timing yet after the first chunk: also doubling
  EXPECT_EQ(ChunkSchedule::choose(inputs(6, 1, 0.0, 0.0, unknown)), 2);
}

TEST(ChunkSchedule, FixedScheduleIgnoresTimingAndWindows) {
  ChunkSchedule s(4, kFrame);
  EXPECT_FALSE(s.adaptive());
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(s.next(1 + i % 6), 4);
    s.on_generated(0.5);
    s.on_decoded(4, 0.5, ChunkSchedule::Clock::now());
  }
}

TEST(ChunkSchedule, SimulatedFastMachineReachesWholeWindows) {
  // A machine 2x faster than real time (g = 40 ms, decoder 30 ms + 5 ms per extra frame): the schedule
  // must start at 1 and reach whole windows (6) while the simulated listener is never starved.
  ChunkSchedule s(0, kFrame);
  using namespace std::chrono;
  auto t = ChunkSchedule::Clock::time_point{} + hours(1);
  auto secs = [](double x) { return duration_cast<ChunkSchedule::Clock::duration>(duration<double>(x)); };
  std::vector<int> sizes;
  double play_end = -1, now = 0;  // simulated listener, seconds since t
  int window_pos = 0;
  for (int chunk = 0; chunk < 40; ++chunk) {
    const int k = s.next(6 - window_pos, t + secs(now));
    sizes.push_back(k);
    for (int f = 0; f < k; ++f) {
      s.on_generated(0.040);
      now += 0.040;
    }
    const double dec = 0.030 + 0.005 * (k - 1);
    now += dec;
    if (chunk > 0) {
      EXPECT_LE(now, play_end) << "listener starved at chunk " << chunk;
    }
    s.on_decoded(k, dec, t + secs(now));
    play_end = std::max(play_end, now) + k * kFrame;
    window_pos = (window_pos + k) % 6;
  }
  EXPECT_EQ(sizes.front(), 1);
  EXPECT_EQ(sizes.back(), 6);
}

}  // namespace
