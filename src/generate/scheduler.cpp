#include "generate/scheduler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

#include "core/error.h"

namespace vv {
namespace {

constexpr int kMaxSteps = 50;
constexpr double kMaxBeta = 0.999;

// ᾱ(u) of the squaredcos_cap_v2 schedule (Nichol & Dhariwal), in double like Python's math module.
double alpha_bar(double u) {
  const double c = std::cos((u + 0.008) / 1.008 * std::numbers::pi / 2.0);
  return c * c;
}

// σ̃_i = sqrt((1 − Ā_i)/Ā_i) for i = 0..T-1, reproducing diffusers/torch rounding: β_i computed in double
// and stored as float32; α_i = 1 − β_i in float32; Ā_i = running product accumulated in double and rounded
// to float32 per entry (torch's CPU cumprod accumulates in double); the ratio and sqrt in float32.
std::vector<float> train_sigmas(int num_train_timesteps) {
  const int n = num_train_timesteps;
  std::vector<float> sigmas(static_cast<size_t>(n));
  double running = 1.0;
  for (int i = 0; i < n; ++i) {
    const double t1 = static_cast<double>(i) / n, t2 = static_cast<double>(i + 1) / n;
    const float beta = static_cast<float>(std::min(1.0 - alpha_bar(t2) / alpha_bar(t1), kMaxBeta));
    const float alpha = 1.0f - beta;
    running *= static_cast<double>(alpha);
    const float cumprod = static_cast<float>(running);
    sigmas[static_cast<size_t>(i)] = std::sqrt((1.0f - cumprod) / cumprod);
  }
  return sigmas;
}

// linspace(0, T−1, N+1), rounded half-to-even, reversed, last element dropped. The linspace points are
// computed as NumPy does (start + i·step with step = (T−1)/N) so ties round the same way.
std::vector<int> linspace_timesteps(int steps, int num_train_timesteps) {
  const double stop = num_train_timesteps - 1;
  const double step = stop / steps;
  std::vector<int> out;
  for (int k = 0; k < steps; ++k) {
    const int i = steps - k;
    const double point = i == steps ? stop : static_cast<double>(i) * step;
    out.push_back(static_cast<int>(std::nearbyint(point)));  // default rounding mode: half to even
  }
  return out;
}

}  // namespace

Solver parse_solver(std::string_view name) {
  if (name == "ode") return Solver::kOde;
  if (name == "sde") return Solver::kSde;
  fail(ErrorKind::kUsage, "unknown solver \"" + std::string(name) + "\" (expected ode or sde)");
}

const char* solver_name(Solver solver) {
  return solver == Solver::kSde ? "sde" : "ode";
}

DpmSolver::DpmSolver(const SchedulerConfig& cfg, int steps, Solver solver) : steps_(steps), solver_(solver) {
  if (cfg.beta_schedule != "cosine" && cfg.beta_schedule != "squaredcos_cap_v2")
    fail(ErrorKind::kModel, "scheduler: unsupported beta_schedule \"" + cfg.beta_schedule +
                                "\" (supported: cosine / squaredcos_cap_v2)");
  if (cfg.prediction_type != "v_prediction")
    fail(ErrorKind::kModel,
         "scheduler: unsupported prediction_type \"" + cfg.prediction_type + "\" (supported: v_prediction)");
  if (cfg.num_train_timesteps < 2)
    fail(ErrorKind::kModel,
         "scheduler: num_train_timesteps must be >= 2 (got " + std::to_string(cfg.num_train_timesteps) + ")");
  if (steps < 1 || steps > kMaxSteps)
    fail(ErrorKind::kUsage, "diffusion steps must be in 1.." + std::to_string(kMaxSteps) + " (got " +
                                std::to_string(steps) + ")");
  if (steps >= cfg.num_train_timesteps)
    fail(ErrorKind::kUsage, "diffusion steps (" + std::to_string(steps) +
                                ") must be below num_train_timesteps (" +
                                std::to_string(cfg.num_train_timesteps) + ")");

  timesteps_ = linspace_timesteps(steps, cfg.num_train_timesteps);
  const std::vector<float> train = train_sigmas(cfg.num_train_timesteps);
  const size_t n = static_cast<size_t>(steps);
  sigma_table_.resize(n + 1);
  alpha_.resize(n + 1);
  sigma_.resize(n + 1);
  lambda_.resize(n + 1);
  for (size_t k = 0; k <= n; ++k) {
    const double s = k < n ? static_cast<double>(train[static_cast<size_t>(timesteps_[k])]) : 0.0;
    sigma_table_[k] = s;
    alpha_[k] = 1.0 / std::sqrt(s * s + 1.0);
    sigma_[k] = s * alpha_[k];
    lambda_[k] = k < n ? std::log(alpha_[k]) - std::log(sigma_[k]) : std::numeric_limits<double>::infinity();
  }

  coefficients_.resize(n);
  for (size_t k = 0; k < n; ++k) {
    StepCoefficients& c = coefficients_[k];
    c.x0_from_x = alpha_[k];
    c.x0_from_v = sigma_[k];
    if (k + 1 == n) {  // σ_N = 0: every form of the update reduces to x_next = x0 (written out: no ∞·0)
      c.from_m = 1.0;
      continue;
    }
    const double h = lambda_[k + 1] - lambda_[k];
    // Second-order midpoint: D1 = (m_k − m_{k−1})/r folded into the two x0 coefficients.
    const double half_over_r = k == 0 ? 0.0 : 0.5 * h / (lambda_[k] - lambda_[k - 1]);
    double e;  // weight of m_k in the first-order update
    if (solver == Solver::kOde) {
      c.from_x = sigma_[k + 1] / sigma_[k];
      e = -alpha_[k + 1] * std::expm1(-h);
    } else {
      c.from_x = sigma_[k + 1] / sigma_[k] * std::exp(-h);
      e = -alpha_[k + 1] * std::expm1(-2.0 * h);
      c.from_noise = sigma_[k + 1] * std::sqrt(-std::expm1(-2.0 * h));
    }
    c.from_m = e * (1.0 + half_over_r);
    c.from_m_prev = -e * half_over_r;
  }
}

void DpmSolver::check_k(int k, int last) const {
  if (k < 0 || k > last)
    fail(ErrorKind::kUsage,
         "scheduler: index " + std::to_string(k) + " out of range 0.." + std::to_string(last));
}

double DpmSolver::sigma_table(int k) const {
  check_k(k, steps_);
  return sigma_table_[static_cast<size_t>(k)];
}
double DpmSolver::alpha(int k) const {
  check_k(k, steps_);
  return alpha_[static_cast<size_t>(k)];
}
double DpmSolver::sigma(int k) const {
  check_k(k, steps_);
  return sigma_[static_cast<size_t>(k)];
}
double DpmSolver::lambda(int k) const {
  check_k(k, steps_);
  return lambda_[static_cast<size_t>(k)];
}
const DpmSolver::StepCoefficients& DpmSolver::coefficients(int k) const {
  check_k(k, steps_ - 1);
  return coefficients_[static_cast<size_t>(k)];
}

void DpmSolver::reset() {
  next_k_ = 0;
  prev_x0_.clear();
}

void DpmSolver::step(int k, std::span<float> x, std::span<const float> v, std::span<const float> noise) {
  if (k != next_k_)
    fail(ErrorKind::kUsage, "scheduler: step " + std::to_string(k) + " called, expected step " +
                                std::to_string(next_k_) +
                                " (steps run in order; reset() starts a new sample)");
  if (v.size() != x.size())
    fail(ErrorKind::kUsage,
         "scheduler: v has " + std::to_string(v.size()) + " values, x has " + std::to_string(x.size()));
  const bool uses_noise = step_uses_noise(k);
  if (uses_noise && noise.size() != x.size())
    fail(ErrorKind::kUsage, "scheduler: SDE step " + std::to_string(k) + " needs " +
                                std::to_string(x.size()) + " noise values, got " +
                                std::to_string(noise.size()));
  const StepCoefficients& c = coefficients_[static_cast<size_t>(k)];
  const size_t n = x.size();
  const float ax = static_cast<float>(c.x0_from_x), av = static_cast<float>(c.x0_from_v);
  x0_.resize(n);
  for (size_t i = 0; i < n; ++i) x0_[i] = ax * x[i] - av * v[i];

  if (k + 1 == steps_) {
    std::copy(x0_.begin(), x0_.end(), x.begin());
    reset();
    return;
  }
  const float fx = static_cast<float>(c.from_x), fm = static_cast<float>(c.from_m);
  const float fp = static_cast<float>(c.from_m_prev), fn = static_cast<float>(c.from_noise);
  if (k > 0 && prev_x0_.size() != n) fail(ErrorKind::kUsage, "scheduler: sample size changed between steps");
  for (size_t i = 0; i < n; ++i) {
    float next = fx * x[i] + fm * x0_[i];
    if (k > 0) next += fp * prev_x0_[i];
    if (uses_noise) next += fn * noise[i];
    x[i] = next;
  }
  prev_x0_.swap(x0_);
  next_k_ = k + 1;
}

}  // namespace vv
