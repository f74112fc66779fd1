#include "generate/diffusion_sampler.h"

#include <algorithm>
#include <utility>

namespace vv {

DiffusionSampler::DiffusionSampler(HeadFn head, const SchedulerConfig& scheduler, int steps, Solver solver,
                                   float cfg_scale, int latent_dim)
    : head_(std::move(head)),
      solver_(scheduler, steps, solver),
      cfg_scale_(cfg_scale),
      latent_dim_(static_cast<size_t>(latent_dim)),
      x_(latent_dim_),
      xi_(latent_dim_),
      v_(latent_dim_) {}

std::vector<float> DiffusionSampler::sample(std::span<const float> cond_pos, std::span<const float> cond_neg,
                                            NoiseSource& noise, int64_t frame) {
  const bool guided = uses_negative();
  const size_t rows = guided ? 2 : 1;
  // Conditions are constant over the steps of a frame; build the [B, H] batch once.
  cond_.assign(cond_pos.begin(), cond_pos.end());
  if (guided) cond_.insert(cond_.end(), cond_neg.begin(), cond_neg.end());
  noisy_.resize(rows * latent_dim_);

  solver_.reset();
  noise.initial(frame, x_);
  for (int k = 0; k < solver_.steps(); ++k) {
    for (size_t r = 0; r < rows; ++r) std::copy(x_.begin(), x_.end(), noisy_.begin() + r * latent_dim_);
    const std::vector<float> t(rows, static_cast<float>(solver_.timesteps()[k]));
    const std::vector<float> v = head_(noisy_, t, cond_);
    if (guided) {
      for (size_t i = 0; i < latent_dim_; ++i) {
        const float v_pos = v[i], v_neg = v[latent_dim_ + i];
        v_[i] = v_neg + cfg_scale_ * (v_pos - v_neg);
      }
    } else {
      std::copy(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(latent_dim_), v_.begin());
    }
    if (solver_.step_uses_noise(k)) noise.step(frame, k, xi_);
    solver_.step(k, x_, v_, xi_);
  }
  return x_;
}

}  // namespace vv
