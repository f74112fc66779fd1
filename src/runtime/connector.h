// G3 connector.onnx: maps a raw (unscaled) speech latent z to the TTS LM input embedding.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "model/manifest.h"
#include "runtime/session.h"

namespace vv {

class Connector {
 public:
  Connector(const ModelManifest& manifest, const RuntimeOptions& options);
  // z: [Z] -> embedding [H].
  std::vector<float> run(std::span<const float> z) const;

 private:
  std::unique_ptr<Session> session_;
  int64_t latent_dim_, hidden_;
};

}  // namespace vv
