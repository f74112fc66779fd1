#include "runtime/connector.h"

#include <string>

#include "core/error.h"

namespace vv {

Connector::Connector(const ModelManifest& manifest, const RuntimeOptions& options)
    : session_(std::make_unique<Session>(manifest.graph_path("connector").string(), options)),
      latent_dim_(manifest.latent_dim),
      hidden_(manifest.hidden_size) {
  session_->require_io({"speech_latent"}, {"embeds"});
  constexpr int64_t kAny = Session::kAnyDim;
  session_->require_shape("speech_latent", {kAny, latent_dim_}, "[batch, latent_dim]");
  session_->require_shape("embeds", {kAny, hidden_}, "[batch, hidden_size]");
}

std::vector<float> Connector::run(std::span<const float> z) const {
  if (z.size() != static_cast<size_t>(latent_dim_))
    fail(ErrorKind::kRuntime, "Connector::run: wrong latent size");
  const Tensor latent = Tensor::from_floats({z.begin(), z.end()}, {1, latent_dim_});
  static const std::string kOutputs[] = {"embeds"};
  const NamedTensor inputs[] = {{"speech_latent", &latent}};
  auto out = session_->run(inputs, kOutputs);
  const auto e = out[0].floats();
  if (e.size() != static_cast<size_t>(hidden_)) {
    fail(ErrorKind::kModel,
         "connector.onnx returned " + out[0].shape_string() + ", expected [1, hidden_size]");
  }
  return {e.begin(), e.end()};
}

}  // namespace vv
