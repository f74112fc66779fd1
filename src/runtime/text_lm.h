// G1 text_lm.onnx: token embedding + the text LM layers (no final norm), with an explicit KV cache.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/manifest.h"
#include "runtime/kv_bindings.h"
#include "runtime/kv_cache.h"
#include "runtime/session.h"

namespace vv {

class TextLm {
 public:
  TextLm(const ModelManifest& manifest, const RuntimeOptions& options);

  // Runs `ids` at positions cache.length() ... and appends them to `cache`. Returns hidden [1, T, H].
  Tensor run(std::span<const int32_t> ids, KvCache& cache) const;

 private:
  std::unique_ptr<Session> session_;
  KvBindings kv_;
  std::vector<std::string> output_names_;  // hidden, then the present cache
};

}  // namespace vv
