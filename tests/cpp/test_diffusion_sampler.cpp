// DiffusionSampler (model-free) with a fake diffusion head: the batch it sends to the head (B = 2 with the
// same x and timestep, positive then negative condition; B = 1 without guidance), the noise it draws, and
// the sample against an independent double-precision evaluation of v = v_neg + cfg·(v_pos − v_neg) and the
// DPM-Solver++ updates x_next = from_x·x + from_m·x0_k + from_m_prev·x0_{k−1} + from_noise·ξ with
// x0_k = α_k·x − s_k·v (coefficients checked against the spec and diffusers in test_scheduler).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "generate/diffusion_sampler.h"

namespace {

constexpr size_t kZ = 8, kH = 4;

vv::SchedulerConfig config() {
  return vv::SchedulerConfig{1000, "cosine", "v_prediction"};
}

// v for one row, in double: a linear map of x, a condition term and a timestep term.
std::vector<double> fake_v(const std::vector<double>& x, double t, const std::vector<double>& cond) {
  std::vector<double> v(kZ);
  for (size_t j = 0; j < kZ; ++j) {
    double acc = 0;
    for (size_t i = 0; i < kZ; ++i) acc += 0.05 * std::sin(static_cast<double>(3 * j + i + 1)) * x[i];
    v[j] = acc + 0.3 * cond[j % kH] + 0.5 * std::cos(0.001 * t * static_cast<double>(j + 1));
  }
  return v;
}

struct HeadCall {
  size_t rows;
  std::vector<float> noisy, t, cond;
};

// The fake head as the sampler sees it (float in, float out), recording every call.
vv::DiffusionSampler::HeadFn recording_head(std::vector<HeadCall>& calls) {
  return [&calls](std::span<const float> noisy, std::span<const float> t, std::span<const float> cond) {
    const size_t rows = t.size();
    EXPECT_EQ(noisy.size(), rows * kZ);
    EXPECT_EQ(cond.size(), rows * kH);
    calls.push_back({rows, {noisy.begin(), noisy.end()}, {t.begin(), t.end()}, {cond.begin(), cond.end()}});
    std::vector<float> out;
    for (size_t r = 0; r < rows; ++r) {
      const std::vector<double> x(noisy.begin() + static_cast<std::ptrdiff_t>(r * kZ),
                                  noisy.begin() + static_cast<std::ptrdiff_t>((r + 1) * kZ));
      const std::vector<double> c(cond.begin() + static_cast<std::ptrdiff_t>(r * kH),
                                  cond.begin() + static_cast<std::ptrdiff_t>((r + 1) * kH));
      for (double v : fake_v(x, t[r], c)) out.push_back(static_cast<float>(v));
    }
    return out;
  };
}

// Deterministic noise that records what was asked: initial x of frame f and SDE noise of step k.
class RecordingNoise final : public vv::NoiseSource {
 public:
  static float initial_value(int64_t f, size_t i) {
    return std::sin(static_cast<float>(f * 31 + static_cast<int64_t>(i)));
  }
  static float step_value(int64_t f, int k, size_t i) {
    return 0.7f * std::cos(static_cast<float>(f * 131 + k * 17 + static_cast<int64_t>(i)));
  }
  void initial(int64_t frame, std::span<float> x) override {
    draws.push_back("x" + std::to_string(frame));
    for (size_t i = 0; i < x.size(); ++i) x[i] = initial_value(frame, i);
  }
  void step(int64_t frame, int k, std::span<float> xi) override {
    draws.push_back("xi" + std::to_string(frame) + "." + std::to_string(k));
    for (size_t i = 0; i < xi.size(); ++i) xi[i] = step_value(frame, k, i);
  }
  std::vector<std::string> draws;
};

// The sample, computed here in double from the solver's coefficients.
std::vector<double> reference(int steps, vv::Solver solver, double cfg, const std::vector<double>& pos,
                              const std::vector<double>& neg, int64_t frame) {
  const vv::DpmSolver s(config(), steps, solver);
  std::vector<double> x(kZ), m_prev(kZ, 0.0);
  for (size_t i = 0; i < kZ; ++i) x[i] = RecordingNoise::initial_value(frame, i);
  for (int k = 0; k < steps; ++k) {
    const double t = s.timesteps()[static_cast<size_t>(k)];
    const std::vector<double> vp = fake_v(x, t, pos), vn = fake_v(x, t, neg);
    const auto& c = s.coefficients(k);
    std::vector<double> m(kZ);
    for (size_t i = 0; i < kZ; ++i) {
      const double v = vn[i] + cfg * (vp[i] - vn[i]);
      m[i] = c.x0_from_x * x[i] - c.x0_from_v * v;
    }
    for (size_t i = 0; i < kZ; ++i) {
      const double xi = s.step_uses_noise(k) ? RecordingNoise::step_value(frame, k, i) : 0.0;
      x[i] = c.from_x * x[i] + c.from_m * m[i] + c.from_m_prev * m_prev[i] + c.from_noise * xi;
    }
    m_prev = m;
  }
  return x;
}

struct Params {
  int steps;
  vv::Solver solver;
  float cfg;
};

class Sampler : public ::testing::TestWithParam<Params> {};

INSTANTIATE_TEST_SUITE_P(
    DiffusionSampler, Sampler,
    ::testing::Values(Params{5, vv::Solver::kOde, 1.5f}, Params{10, vv::Solver::kOde, 3.0f},
                      Params{5, vv::Solver::kSde, 1.5f}, Params{1, vv::Solver::kOde, 1.5f},
                      Params{5, vv::Solver::kOde, 1.0f}, Params{4, vv::Solver::kSde, 1.0f},
                      Params{5, vv::Solver::kOde, 0.0f}),
    [](const auto& p) {
      std::string cfg = std::to_string(static_cast<int>(p.param.cfg * 10));
      return std::string(vv::solver_name(p.param.solver)) + std::to_string(p.param.steps) + "_cfg" + cfg;
    });

}  // namespace

TEST_P(Sampler, MatchesAnIndependentEvaluation) {
  const Params p = GetParam();
  const std::vector<float> pos = {0.5f, -1.0f, 0.25f, 2.0f}, neg = {-0.75f, 0.1f, 1.5f, -0.3f};
  const std::vector<double> pos_d(pos.begin(), pos.end()), neg_d(neg.begin(), neg.end());
  std::vector<HeadCall> calls;
  vv::DiffusionSampler sampler(recording_head(calls), config(), p.steps, p.solver, p.cfg,
                               static_cast<int>(kZ));
  EXPECT_EQ(sampler.uses_negative(), p.cfg != 1.0f);
  const vv::DpmSolver solver(config(), p.steps, p.solver);

  for (int64_t frame : {0, 1, 7}) {  // several frames through one sampler: the solver state resets
    SCOPED_TRACE("frame " + std::to_string(frame));
    calls.clear();
    RecordingNoise noise;
    const std::vector<float> z = sampler.sample(pos, neg, noise, frame);

    // One head call per step; B = 2 (same x, same t, positive then negative condition) with guidance.
    ASSERT_EQ(calls.size(), static_cast<size_t>(p.steps));
    const size_t rows = p.cfg != 1.0f ? 2 : 1;
    for (size_t k = 0; k < calls.size(); ++k) {
      const HeadCall& c = calls[k];
      ASSERT_EQ(c.rows, rows);
      for (size_t r = 0; r < rows; ++r) {
        EXPECT_EQ(c.t[r], static_cast<float>(solver.timesteps()[k]));
        EXPECT_TRUE(std::equal(c.noisy.begin(), c.noisy.begin() + kZ,
                               c.noisy.begin() + static_cast<std::ptrdiff_t>(r * kZ)));
      }
      EXPECT_TRUE(std::equal(pos.begin(), pos.end(), c.cond.begin()));
      if (rows == 2) {
        EXPECT_TRUE(std::equal(neg.begin(), neg.end(), c.cond.begin() + kH));
      }
    }
    for (size_t i = 0; i < kZ; ++i) EXPECT_EQ(calls[0].noisy[i], RecordingNoise::initial_value(frame, i));

    // Noise: the initial x, then one vector per step that uses noise (SDE, all steps but the last).
    std::vector<std::string> want_draws = {"x" + std::to_string(frame)};
    for (int k = 0; k < p.steps; ++k) {
      if (p.solver == vv::Solver::kSde && k < p.steps - 1)
        want_draws.push_back("xi" + std::to_string(frame) + "." + std::to_string(k));
    }
    EXPECT_EQ(noise.draws, want_draws);

    const std::vector<double> want = reference(p.steps, p.solver, p.cfg, pos_d, neg_d, frame);
    ASSERT_EQ(z.size(), kZ);
    for (size_t i = 0; i < kZ; ++i)
      EXPECT_NEAR(z[i], want[i], 2e-5 * std::max(1.0, std::abs(want[i]))) << "element " << i;
  }
}

// Guidance matters: with cfg != 1 the negative condition changes the sample, with cfg == 1 it cannot.
TEST(DiffusionSampler, NegativeConditionOnlyMattersWithGuidance) {
  const std::vector<float> pos = {0.5f, -1.0f, 0.25f, 2.0f}, neg_a = {-0.75f, 0.1f, 1.5f, -0.3f},
                           neg_b(kH, 0.0f);
  for (float cfg : {1.5f, 1.0f}) {
    std::vector<HeadCall> calls;
    vv::DiffusionSampler sampler(recording_head(calls), config(), 5, vv::Solver::kOde, cfg,
                                 static_cast<int>(kZ));
    RecordingNoise n1, n2;
    const auto a = sampler.sample(pos, neg_a, n1, 0), b = sampler.sample(pos, neg_b, n2, 0);
    if (cfg == 1.0f) {
      EXPECT_EQ(a, b);
    } else {
      EXPECT_NE(a, b);
    }
  }
}
