// DPM-Solver++ (2M) multistep sampler of the diffusion head, from the explicit math of architecture.md
// 3.7: the 1000-step squaredcos_cap_v2 ("cosine") schedule, linspace timesteps, v-prediction, order 2
// midpoint with a first-order first step and a final step that returns the data prediction x0, in the
// deterministic (ODE, "dpmsolver++") or stochastic (SDE, "sde-dpmsolver++") variant.
//
// Numerics follow the original where it matters: betas are rounded to float32, their cumulative product
// is accumulated in double and rounded to float32 per entry (what torch.cumprod does on CPU), the sigma
// table is float32. Per-step coefficients are then derived in double once, and applied in float.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "model/manifest.h"

namespace vv {

enum class Solver { kOde, kSde };

// "ode" -> kOde, "sde" -> kSde (the names used by vibevoice.json, the CLI and the APIs); anything else
// throws kUsage listing the accepted names.
Solver parse_solver(std::string_view name);
const char* solver_name(Solver solver);

class DpmSolver {
 public:
  // x_next = from_x·x + from_m·x0_k + from_m_prev·x0_{k−1} + from_noise·ξ, with x0_k = x0_from_x·x −
  // x0_from_v·v.
  struct StepCoefficients {
    double x0_from_x = 0, x0_from_v = 0;  // α_k, s_k
    double from_x = 0, from_m = 0, from_m_prev = 0, from_noise = 0;
  };

  // kUsage if steps is not in 1..50 or not below num_train_timesteps; kModel for an unsupported schedule
  // or prediction type.
  DpmSolver(const SchedulerConfig& cfg, int steps, Solver solver);

  int steps() const { return steps_; }
  Solver solver() const { return solver_; }
  const std::vector<int>& timesteps() const { return timesteps_; }  // t_k, k = 0..N-1
  // k = 0..N; k = N is the final σ = 0 (α = 1, s = 0, λ = +inf).
  double sigma_table(int k) const;                    // σ_k (the float32 table value)
  double alpha(int k) const;                          // α_k = 1/sqrt(σ²+1)
  double sigma(int k) const;                          // s_k = σ_k·α_k
  double lambda(int k) const;                         // λ_k = ln α_k − ln s_k
  const StepCoefficients& coefficients(int k) const;  // k = 0..N-1

  // Starts a new sample (forgets the previous x0). Completing step N-1 also resets.
  void reset();

  // Step k (in order 0..N-1; kUsage otherwise): x (updated in place) is the current sample, v the guided
  // v-prediction for x at timesteps()[k]. `noise` (same size as x) is read only when step_uses_noise(k).
  void step(int k, std::span<float> x, std::span<const float> v, std::span<const float> noise);
  bool step_uses_noise(int k) const { return solver_ == Solver::kSde && k < steps_ - 1; }

 private:
  void check_k(int k, int last) const;

  int steps_;
  Solver solver_;
  std::vector<int> timesteps_;
  std::vector<double> sigma_table_, alpha_, sigma_, lambda_;  // N+1 entries
  std::vector<StepCoefficients> coefficients_;                // N entries
  std::vector<float> prev_x0_, x0_;
  int next_k_ = 0;
};

}  // namespace vv
