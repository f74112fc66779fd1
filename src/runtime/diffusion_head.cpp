#include "runtime/diffusion_head.h"

#include <string>

#include "core/error.h"

namespace vv {

DiffusionHead::DiffusionHead(const ModelManifest& manifest, const RuntimeOptions& options)
    : session_(std::make_unique<Session>(manifest.graph_path("diffusion_head").string(), options)),
      latent_dim_(manifest.latent_dim),
      hidden_(manifest.hidden_size) {
  session_->require_io({"noisy", "timestep", "condition"}, {"v"});
  constexpr int64_t kAny = Session::kAnyDim;
  session_->require_shape("noisy", {kAny, latent_dim_}, "[batch, latent_dim]");
  session_->require_shape("timestep", {kAny}, "[batch]");
  session_->require_shape("condition", {kAny, hidden_}, "[batch, hidden_size]");
  session_->require_shape("v", {kAny, latent_dim_}, "[batch, latent_dim]");
}

std::vector<float> DiffusionHead::run(std::span<const float> noisy, std::span<const float> timestep,
                                      std::span<const float> condition) const {
  const auto batch = static_cast<int64_t>(timestep.size());
  if (batch < 1 || noisy.size() != static_cast<size_t>(batch * latent_dim_) ||
      condition.size() != static_cast<size_t>(batch * hidden_)) {
    fail(ErrorKind::kRuntime, "DiffusionHead::run: inconsistent batch sizes");
  }
  const Tensor x = Tensor::from_floats({noisy.begin(), noisy.end()}, {batch, latent_dim_});
  const Tensor t = Tensor::from_floats({timestep.begin(), timestep.end()}, {batch});
  const Tensor c = Tensor::from_floats({condition.begin(), condition.end()}, {batch, hidden_});
  static const std::string kOutputs[] = {"v"};
  const NamedTensor inputs[] = {{"noisy", &x}, {"timestep", &t}, {"condition", &c}};
  auto out = session_->run(inputs, kOutputs);
  const auto v = out[0].floats();
  if (v.size() != noisy.size()) {
    fail(ErrorKind::kModel,
         "diffusion_head.onnx returned " + out[0].shape_string() + ", expected [B, latent_dim]");
  }
  return {v.begin(), v.end()};
}

}  // namespace vv
