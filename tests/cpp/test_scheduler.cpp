// DPM-Solver++ against two independent references: the N = 5 table of architecture.md 3.7 (schedule
// values and linear update coefficients) and full trajectories of diffusers' DPMSolverMultistepScheduler
// (tests/data/scheduler/dpm_fixture.json, written by tests/tools/make_scheduler_fixture.py) for the ODE
// and SDE variants with N in {1, 2, 3, 5, 10, 15, 20, 50}.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "generate/scheduler.h"

namespace {

using json = nlohmann::json;

vv::SchedulerConfig official_config() {
  return vv::SchedulerConfig{1000, "cosine", "v_prediction"};
}

void expect_rel(double got, double want, double rel, const char* what, int k) {
  EXPECT_LE(std::abs(got - want), rel * std::abs(want))
      << what << " k=" << k << " got " << got << " want " << want;
}

// architecture.md 3.7, N = 5 (tests/data/scheduler/spec_n5.json, shared with the Python test).
json load_json(const char* name) {
  std::ifstream in(std::string(VV_SOURCE_DIR) + "/tests/data/scheduler/" + name);
  EXPECT_TRUE(in.good()) << "missing tests/data/scheduler/" << name;
  return json::parse(in);
}

struct ScheduleRow {
  double sigma, alpha, s, lambda;
};
std::vector<ScheduleRow> spec_schedule5() {
  std::vector<ScheduleRow> rows;
  const json spec = load_json("spec_n5.json");
  for (const auto& r : spec.at("schedule"))
    rows.push_back(
        {r.at(2).get<double>(), r.at(3).get<double>(), r.at(4).get<double>(), r.at(5).get<double>()});
  return rows;
}

json load_fixture() {
  return load_json("dpm_fixture.json");
}

}  // namespace

TEST(Scheduler, TimestepsMatchSpec) {
  EXPECT_EQ(vv::DpmSolver(official_config(), 5, vv::Solver::kOde).timesteps(),
            (std::vector<int>{999, 799, 599, 400, 200}));
  EXPECT_EQ(vv::DpmSolver(official_config(), 10, vv::Solver::kOde).timesteps(),
            (std::vector<int>{999, 899, 799, 699, 599, 500, 400, 300, 200, 100}));
  EXPECT_EQ(vv::DpmSolver(official_config(), 20, vv::Solver::kSde).timesteps(),
            (std::vector<int>{999, 949, 899, 849, 799, 749, 699, 649, 599, 549,
                              500, 450, 400, 350, 300, 250, 200, 150, 100, 50}));
  EXPECT_EQ(vv::DpmSolver(official_config(), 1, vv::Solver::kOde).timesteps(), (std::vector<int>{999}));
  EXPECT_EQ(vv::DpmSolver(official_config(), 2, vv::Solver::kOde).timesteps(), (std::vector<int>{999, 500}));
}

TEST(Scheduler, ScheduleMatchesSpecTableForFiveSteps) {
  // architecture.md 3.7, N = 5: t, σ_k, α_k, s_k, λ_k. The table was computed from a float32 cumulative
  // product while torch (and this code) accumulates it in double, so the late entries differ by up to
  // ~2.5e-6 relative; 1e-5 still pins every formula (a wrong one is off by orders of magnitude).
  const std::vector<ScheduleRow> spec = spec_schedule5();
  ASSERT_EQ(spec.size(), 5u);
  const vv::DpmSolver s(official_config(), 5, vv::Solver::kOde);
  for (int k = 0; k < 5; ++k) {
    expect_rel(s.sigma_table(k), spec[k].sigma, 1e-5, "sigma_table", k);
    expect_rel(s.alpha(k), spec[k].alpha, 1e-5, "alpha", k);
    expect_rel(s.sigma(k), spec[k].s, 1e-5, "s", k);
    EXPECT_NEAR(s.lambda(k), spec[k].lambda, 1e-5) << "lambda k=" << k;
  }
  EXPECT_EQ(s.sigma_table(5), 0.0);
  EXPECT_EQ(s.alpha(5), 1.0);
  EXPECT_EQ(s.sigma(5), 0.0);
  EXPECT_TRUE(std::isinf(s.lambda(5)));
  EXPECT_THROW(s.alpha(6), vv::Error);
}

TEST(Scheduler, UpdateCoefficientsMatchSpecForFiveSteps) {
  // x_{k+1} = from_x·x + from_m·m_k + from_m_prev·m_{k−1} (architecture.md 3.7 "Resulting linear updates");
  // tolerance as in the schedule test above.
  const json updates = load_json("spec_n5.json").at("updates");
  const std::vector<ScheduleRow> schedule = spec_schedule5();
  ASSERT_EQ(updates.size(), 5u);
  double spec[5][3];
  for (size_t k = 0; k < 5; ++k)
    for (size_t j = 0; j < 3; ++j) spec[k][j] = updates.at(k).at(j).get<double>();
  const vv::DpmSolver s(official_config(), 5, vv::Solver::kOde);
  for (int k = 0; k < 5; ++k) {
    const auto& c = s.coefficients(k);
    EXPECT_NEAR(c.from_x, spec[k][0], 1e-5 * std::max(1e-2, std::abs(spec[k][0]))) << k;
    EXPECT_NEAR(c.from_m, spec[k][1], 1e-5 * std::max(1e-2, std::abs(spec[k][1]))) << k;
    EXPECT_NEAR(c.from_m_prev, spec[k][2], 1e-5 * std::max(1e-2, std::abs(spec[k][2]))) << k;
    EXPECT_EQ(c.from_noise, 0.0);
    expect_rel(c.x0_from_x, schedule[k].alpha, 1e-5, "x0_from_x", k);  // x0 = α·x − s·v
    expect_rel(c.x0_from_v, schedule[k].s, 1e-5, "x0_from_v", k);
  }
}

// The per-step coefficients of both variants and every fixture N against the formulas of 3.7, evaluated
// here in double from the σ tables that diffusers computed (the fixture), not from the solver's own schedule.
// The float32 σ entries may differ by 1 ulp (see MatchesDiffusersTrajectories): ~6e-8 in λ, amplified by
// 1/h in r (h ≈ 0.05 at N = 50) to a few 1e-6 relative; hence 2e-5 (a wrong formula is off by far more).
TEST(Scheduler, CoefficientsFollowTheSpecFormulasOnDiffusersSigmas) {
  const json f = load_fixture();
  int cases = 0;
  for (const json& c : f.at("cases")) {
    const int steps = c.at("steps").get<int>();
    const bool sde = c.at("solver").get<std::string>() == "sde";
    SCOPED_TRACE(c.at("solver").get<std::string>() + " N=" + std::to_string(steps));
    const std::vector<double> sig = c.at("sigmas").get<std::vector<double>>();
    ASSERT_EQ(sig.size(), static_cast<size_t>(steps + 1));
    auto alpha = [&](int k) {
      return 1.0 / std::sqrt(sig[static_cast<size_t>(k)] * sig[static_cast<size_t>(k)] + 1);
    };
    auto s_of = [&](int k) { return sig[static_cast<size_t>(k)] * alpha(k); };
    auto lambda = [&](int k) { return std::log(alpha(k)) - std::log(s_of(k)); };
    auto near = [](double got, double want, const char* what, int k) {
      EXPECT_NEAR(got, want, 2e-5 * std::max(std::abs(want), 1e-3)) << what << " k=" << k;
    };
    const vv::DpmSolver solver(official_config(), steps, sde ? vv::Solver::kSde : vv::Solver::kOde);
    for (int k = 0; k < steps; ++k) {
      const auto& got = solver.coefficients(k);
      near(got.x0_from_x, alpha(k), "x0_from_x", k);
      near(got.x0_from_v, s_of(k), "x0_from_v", k);
      EXPECT_EQ(solver.step_uses_noise(k), sde && k < steps - 1) << k;
      if (k == steps - 1) {  // final step: x_next = x0
        EXPECT_EQ(got.from_x, 0.0);
        EXPECT_EQ(got.from_m, 1.0);
        EXPECT_EQ(got.from_m_prev, 0.0);
        EXPECT_EQ(got.from_noise, 0.0);
        continue;
      }
      const double h = lambda(k + 1) - lambda(k);
      // Weight of x0_k in the first-order update; the midpoint adds ½·e·D1 with D1 = (x0_k − x0_{k−1}) / r.
      const double e = sde ? alpha(k + 1) * (1 - std::exp(-2 * h)) : -alpha(k + 1) * (std::exp(-h) - 1);
      const double half_d1 = k == 0 ? 0.0 : 0.5 * e / ((lambda(k) - lambda(k - 1)) / h);
      near(got.from_x, s_of(k + 1) / s_of(k) * (sde ? std::exp(-h) : 1.0), "from_x", k);
      near(got.from_m, e + half_d1, "from_m", k);
      near(got.from_m_prev, -half_d1, "from_m_prev", k);
      near(got.from_noise, sde ? s_of(k + 1) * std::sqrt(1 - std::exp(-2 * h)) : 0.0, "from_noise", k);
    }
    ++cases;
  }
  EXPECT_EQ(cases, 16);
}

TEST(Scheduler, MatchesDiffusersTrajectories) {
  const json f = load_fixture();
  const size_t dim = f.at("dim").get<size_t>();
  const std::vector<float> W = f.at("W").get<std::vector<float>>();
  const std::vector<float> x_init = f.at("x_init").get<std::vector<float>>();
  // The fixture's fake model, evaluated in double and rounded to float (as the generator did).
  auto model = [&](const std::vector<float>& x, int t) {
    std::vector<float> v(dim);
    for (size_t j = 0; j < dim; ++j) {
      double acc = 0;
      for (size_t i = 0; i < dim; ++i) acc += static_cast<double>(W[j * dim + i]) * static_cast<double>(x[i]);
      v[j] = static_cast<float>(acc + 0.5 * std::cos(0.001 * t * static_cast<double>(j + 1)));
    }
    return v;
  };
  int cases = 0;
  for (const json& c : f.at("cases")) {
    const int steps = c.at("steps").get<int>();
    const bool sde = c.at("solver").get<std::string>() == "sde";
    SCOPED_TRACE(c.at("solver").get<std::string>() + " N=" + std::to_string(steps));
    vv::DpmSolver s(official_config(), steps, sde ? vv::Solver::kSde : vv::Solver::kOde);
    EXPECT_EQ(s.timesteps(), c.at("timesteps").get<std::vector<int>>());
    const std::vector<float> sigmas = c.at("sigmas").get<std::vector<float>>();
    ASSERT_EQ(sigmas.size(), static_cast<size_t>(steps + 1));
    // The float32 σ table agrees with diffusers' to 1 ulp: torch's vectorised CPU sqrt is not correctly
    // rounded (off by 1 ulp for ~16% of inputs on AVX2), while this code uses IEEE sqrt everywhere.
    for (int k = 0; k <= steps; ++k) {
      const float ours = static_cast<float>(s.sigma_table(k)), theirs = sigmas[static_cast<size_t>(k)];
      EXPECT_TRUE(ours == theirs || std::nextafter(ours, theirs) == theirs)
          << "k=" << k << " " << ours << " vs " << theirs;
    }

    // Two samples through the same object: the second checks that completing a sample resets the state.
    for (int rep = 0; rep < 2; ++rep) {
      std::vector<float> x = x_init;
      for (int k = 0; k < steps; ++k) {
        const std::vector<float> v = model(x, s.timesteps()[static_cast<size_t>(k)]);
        std::vector<float> noise;
        if (sde) noise = c.at("noise")[static_cast<size_t>(k)].get<std::vector<float>>();
        s.step(k, x, v, s.step_uses_noise(k) ? std::span<const float>(noise) : std::span<const float>());
        const std::vector<float> want = c.at("trajectory")[static_cast<size_t>(k)].get<std::vector<float>>();
        float scale = 0;
        for (float w : want) scale = std::max(scale, std::abs(w));
        for (size_t i = 0; i < dim; ++i)
          ASSERT_NEAR(x[i], want[i], 1e-5f * std::max(1.0f, scale)) << "step " << k << " element " << i;
      }
    }
    ++cases;
  }
  EXPECT_EQ(cases, 16);
}

TEST(Scheduler, SingleStepReturnsX0) {
  vv::DpmSolver s(official_config(), 1, vv::Solver::kSde);
  EXPECT_FALSE(s.step_uses_noise(0));
  std::vector<float> x = {1.0f, -2.0f, 0.5f};
  const std::vector<float> v = {0.25f, 1.0f, -3.0f};
  const double a = s.alpha(0), sg = s.sigma(0);
  std::vector<float> want(3);
  for (size_t i = 0; i < 3; ++i) want[i] = static_cast<float>(a * x[i] - sg * v[i]);
  s.step(0, x, v, {});
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(x[i], want[i], 1e-6f);
}

TEST(Scheduler, RefusesBadConfigurationAndMisuse) {
  auto kind_of = [](auto&& fn) {
    try {
      fn();
    } catch (const vv::Error& e) {
      return static_cast<int>(e.kind());
    }
    return 0;
  };
  const int usage = static_cast<int>(vv::ErrorKind::kUsage), model = static_cast<int>(vv::ErrorKind::kModel);
  EXPECT_EQ(kind_of([] { vv::DpmSolver(official_config(), 0, vv::Solver::kOde); }), usage);
  EXPECT_EQ(kind_of([] { vv::DpmSolver(official_config(), 51, vv::Solver::kOde); }), usage);
  EXPECT_EQ(kind_of([] {
              vv::DpmSolver(vv::SchedulerConfig{1000, "linear", "v_prediction"}, 5, vv::Solver::kOde);
            }),
            model);
  EXPECT_EQ(kind_of([] {
              vv::DpmSolver(vv::SchedulerConfig{1000, "cosine", "epsilon"}, 5, vv::Solver::kOde);
            }),
            model);
  EXPECT_EQ(kind_of([] {
              vv::DpmSolver(vv::SchedulerConfig{10, "cosine", "v_prediction"}, 20, vv::Solver::kOde);
            }),
            usage);

  vv::DpmSolver s(official_config(), 5, vv::Solver::kSde);
  std::vector<float> x(4, 0.1f), v(4, 0.2f), noise(4, 0.3f), short_v(3);
  EXPECT_EQ(kind_of([&] { s.step(1, x, v, noise); }), usage);        // out of order
  EXPECT_EQ(kind_of([&] { s.step(0, x, short_v, noise); }), usage);  // size mismatch
  EXPECT_EQ(kind_of([&] { s.step(0, x, v, {}); }), usage);           // SDE step without noise
  s.step(0, x, v, noise);
  EXPECT_EQ(kind_of([&] { s.step(0, x, v, noise); }), usage);  // repeated step
  s.reset();
  s.step(0, x, v, noise);  // reset() allows a new sample
}

TEST(Scheduler, SolverNames) {
  EXPECT_EQ(vv::parse_solver("ode"), vv::Solver::kOde);
  EXPECT_EQ(vv::parse_solver("sde"), vv::Solver::kSde);
  EXPECT_STREQ(vv::solver_name(vv::Solver::kSde), "sde");
  EXPECT_STREQ(vv::solver_name(vv::Solver::kOde), "ode");
  try {
    vv::parse_solver("ODE");
    FAIL();
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kUsage);
    EXPECT_NE(std::string(e.what()).find("ODE"), std::string::npos);
  }
}
