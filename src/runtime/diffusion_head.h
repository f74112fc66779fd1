// G4 diffusion_head.onnx: v-prediction for B noisy latents at a float timestep, each with its condition.
// The sampler calls it with B = 2 (row 0 positive, row 1 negative condition, same noisy latent) for CFG.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "model/manifest.h"
#include "runtime/session.h"

namespace vv {

class DiffusionHead {
 public:
  DiffusionHead(const ModelManifest& manifest, const RuntimeOptions& options);
  // noisy [B, Z], timestep [B], condition [B, H] (row-major) -> v [B, Z].
  std::vector<float> run(std::span<const float> noisy, std::span<const float> timestep,
                         std::span<const float> condition) const;

 private:
  std::unique_ptr<Session> session_;
  int64_t latent_dim_, hidden_;
};

}  // namespace vv
