#include "generate/noise_source.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "model/npy.h"

namespace vv {

InjectedNoise::InjectedNoise(std::vector<float> values, std::vector<int64_t> shape, int latent_dim, int steps,
                             bool needs_step_noise)
    : values_(std::move(values)), latent_dim_(latent_dim) {
  const std::string got = shape_to_string(shape);
  if (shape.size() == 2 && shape[1] == latent_dim) {
    if (needs_step_noise) {
      fail(ErrorKind::kInput, "noise has shape " + got +
                                  " but the SDE solver needs [frames, steps=" + std::to_string(steps) + ", " +
                                  std::to_string(latent_dim) + "] (step noise)");
    }
    frames_ = shape[0];
  } else if (shape.size() == 3 && shape[2] == latent_dim && shape[1] == steps) {
    frames_ = shape[0];
    slots_ = shape[1];
  } else {
    fail(ErrorKind::kInput, "noise has shape " + got + ", expected [frames, " + std::to_string(latent_dim) +
                                "] or [frames, steps=" + std::to_string(steps) + ", " +
                                std::to_string(latent_dim) + "]");
  }
  if (frames_ < 1) fail(ErrorKind::kInput, "noise has no frames (shape " + got + ")");
  if (values_.size() != static_cast<size_t>(frames_ * slots_ * latent_dim_)) {
    fail(ErrorKind::kInput,
         "noise holds " + std::to_string(values_.size()) + " values, shape " + got + " needs more");
  }
  const auto bad = std::find_if(values_.begin(), values_.end(), [](float v) { return !std::isfinite(v); });
  if (bad != values_.end()) {
    fail(ErrorKind::kInput, "noise contains NaN or infinite values (first at flat index " +
                                std::to_string(bad - values_.begin()) + ")");
  }
}

const float* InjectedNoise::row(int64_t frame, int64_t slot) const {
  if (frame >= frames_) {
    fail(ErrorKind::kInput, "injected noise has " + std::to_string(frames_) + " frames but frame " +
                                std::to_string(frame) +
                                " is being generated (give more frames or set max_frames)");
  }
  return values_.data() + (frame * slots_ + slot) * latent_dim_;
}

void InjectedNoise::initial(int64_t frame, std::span<float> x) {
  const float* r = row(frame, 0);
  std::copy(r, r + latent_dim_, x.begin());
}

void InjectedNoise::step(int64_t frame, int k, std::span<float> xi) {
  if (k + 1 >= slots_)
    fail(ErrorKind::kInput, "injected noise has no SDE step noise for step " + std::to_string(k));
  const float* r = row(frame, k + 1);
  std::copy(r, r + latent_dim_, xi.begin());
}

}  // namespace vv
