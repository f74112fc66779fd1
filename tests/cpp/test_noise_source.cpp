// InjectedNoise (model-free): which values each frame and step reads, and the kInput errors for shapes that
// do not fit, missing step noise, NaN/Inf values and frames beyond the array (like the Python reference).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "generate/noise_source.h"

namespace {

std::vector<float> iota(size_t n) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}

// The kInput message of constructing InjectedNoise, or "" with a test failure when nothing is thrown.
std::string refused(std::vector<float> values, std::vector<int64_t> shape, int steps, bool needs_step_noise) {
  try {
    vv::InjectedNoise noise(std::move(values), std::move(shape), 3, steps, needs_step_noise);
    ADD_FAILURE() << "accepted";
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kInput) << e.what();
    return e.what();
  }
  return "";
}

}  // namespace

TEST(InjectedNoise, ReadsTheRowsOfEachFrameAndStep) {
  vv::InjectedNoise flat(iota(2 * 3), {2, 3}, 3, 5, false);  // [F, Z]
  EXPECT_EQ(flat.frames(), 2);
  std::vector<float> x(3);
  flat.initial(1, x);
  EXPECT_EQ(x, (std::vector<float>{3, 4, 5}));

  vv::InjectedNoise sde(iota(2 * 4 * 3), {2, 4, 3}, 3, 4, true);  // [F, N, Z]
  sde.initial(1, x);
  EXPECT_EQ(x, (std::vector<float>{12, 13, 14}));
  sde.step(1, 0, x);  // step k reads slot k + 1
  EXPECT_EQ(x, (std::vector<float>{15, 16, 17}));
  sde.step(0, 2, x);
  EXPECT_EQ(x, (std::vector<float>{9, 10, 11}));
  EXPECT_THROW(sde.step(0, 3, x), vv::Error);  // no slot for a 4th step's noise
}

TEST(InjectedNoise, FramesBeyondTheArrayAreAnInputError) {
  vv::InjectedNoise noise(iota(2 * 3), {2, 3}, 3, 5, false);
  std::vector<float> x(3);
  try {
    noise.initial(2, x);
    FAIL() << "frame 2 of 2 accepted";
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kInput);
    EXPECT_NE(std::string(e.what()).find("max_frames"), std::string::npos) << e.what();
  }
}

TEST(InjectedNoise, RefusesShapesThatDoNotFit) {
  EXPECT_NE(refused(iota(6), {2, 4}, 5, false).find("expected [frames, 3]"), std::string::npos);
  EXPECT_NE(refused(iota(6), {2, 3}, 5, true).find("step noise"), std::string::npos);
  EXPECT_NE(refused(iota(2 * 4 * 3), {2, 4, 3}, 5, true).find("steps=5"), std::string::npos);
  EXPECT_NE(refused({}, {0, 3}, 5, false).find("no frames"), std::string::npos);
  EXPECT_NE(refused(iota(5), {2, 3}, 5, false).find("holds 5 values"), std::string::npos);
}

TEST(InjectedNoise, RefusesNanAndInfinity) {
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()}) {
    std::vector<float> values = iota(2 * 4 * 3);
    values[13] = bad;
    const std::string msg = refused(values, {2, 4, 3}, 4, true);
    EXPECT_NE(msg.find("NaN or infinite"), std::string::npos) << msg;
    EXPECT_NE(msg.find("index 13"), std::string::npos) << msg;
  }
}
