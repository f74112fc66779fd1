// Where the diffusion noise of each frame comes from: the seeded RNG (normal use, identical on every
// platform) or an injected array (parity tests against the PyTorch reference, whose RNG cannot be
// reproduced). Draw order per frame: the initial x, then one vector per solver step that uses noise.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "generate/rng.h"

namespace vv {

class NoiseSource {
 public:
  virtual ~NoiseSource() = default;
  // Initial sample x of frame `frame`.
  virtual void initial(int64_t frame, std::span<float> x) = 0;
  // SDE noise of solver step k (0-based) of frame `frame`.
  virtual void step(int64_t frame, int k, std::span<float> xi) = 0;
};

class SeededNoise final : public NoiseSource {
 public:
  explicit SeededNoise(uint64_t seed) : rng_(seed) {}
  void initial(int64_t, std::span<float> x) override { rng_.fill_normal(x); }
  void step(int64_t, int, std::span<float> xi) override { rng_.fill_normal(xi); }

 private:
  Rng rng_;
};

// values/shape as in vv::NoiseArray: [F, Z] or [F, N, Z] (N = steps). Throws kInput when the shape does not
// fit (Z, N, SDE without step noise) or a value is NaN/Inf, and when a frame beyond F is requested.
class InjectedNoise final : public NoiseSource {
 public:
  InjectedNoise(std::vector<float> values, std::vector<int64_t> shape, int latent_dim, int steps,
                bool needs_step_noise);
  void initial(int64_t frame, std::span<float> x) override;
  void step(int64_t frame, int k, std::span<float> xi) override;
  int64_t frames() const { return frames_; }

 private:
  const float* row(int64_t frame, int64_t slot) const;
  std::vector<float> values_;
  int64_t frames_ = 0, slots_ = 1, latent_dim_ = 0;
};

}  // namespace vv
