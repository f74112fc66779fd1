// Sampling one speech latent (architecture.md 3.6): DPM-Solver++ over the diffusion head's v-predictions
// with classifier-free guidance v = v_neg + cfg * (v_pos - v_neg). Each solver step is ONE head call with
// B = 2 (row 0 positive condition, row 1 negative, same x). With cfg == 1 the negative row cannot change
// the result (3.11), so the head runs with B = 1 on the positive condition only.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "generate/noise_source.h"
#include "generate/scheduler.h"

namespace vv {

class DiffusionSampler {
 public:
  // The diffusion head (DiffusionHead::run): noisy [B, Z], timestep [B], condition [B, H] -> v [B, Z].
  using HeadFn = std::function<std::vector<float>(
      std::span<const float> noisy, std::span<const float> timestep, std::span<const float> condition)>;

  DiffusionSampler(HeadFn head, const SchedulerConfig& scheduler, int steps, Solver solver, float cfg_scale,
                   int latent_dim);

  bool uses_negative() const { return cfg_scale_ != 1.0f; }

  // Returns z [Z] for frame `frame` given the positive and negative conditions [H].
  std::vector<float> sample(std::span<const float> cond_pos, std::span<const float> cond_neg,
                            NoiseSource& noise, int64_t frame);

 private:
  HeadFn head_;
  DpmSolver solver_;
  float cfg_scale_;
  size_t latent_dim_;
  std::vector<float> x_, xi_, v_, noisy_, cond_;
};

}  // namespace vv
