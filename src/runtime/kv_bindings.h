// The per-layer cache inputs and outputs of a transformer graph (past_key_{l}, past_value_{l} in,
// present_key_{l}, present_value_{l} out; docs/model-format.md) and the plumbing between them and a
// KvCache, shared by TextLm and TtsLm.
#pragma once

#include <string>
#include <vector>

#include "model/manifest.h"
#include "runtime/kv_cache.h"
#include "runtime/session.h"

namespace vv {

class KvBindings {
 public:
  explicit KvBindings(int layers) : layers_(layers) {
    for (int l = 0; l < layers; ++l) {
      for (const char* kind : {"key", "value"}) {
        past_.push_back("past_" + std::string(kind) + "_" + std::to_string(l));
        present_.push_back("present_" + std::string(kind) + "_" + std::to_string(l));
      }
    }
  }

  const std::vector<std::string>& past_names() const { return past_; }        // k0, v0, k1, v1, ...
  const std::vector<std::string>& present_names() const { return present_; }  // same order

  // Checks the declared cache shapes [batch, kv_heads, seq, head_dim] against the manifest.
  void require_shapes(const Session& session, const ModelManifest& m, int64_t batch) const {
    const std::vector<int64_t> dims = {batch, m.num_key_value_heads, Session::kAnyDim, m.head_dim};
    const char* meaning = "[batch, num_key_value_heads, seq, head_dim]";
    for (const auto& name : past_) session.require_shape(name, dims, meaning);
    for (const auto& name : present_) session.require_shape(name, dims, meaning);
  }

  // Appends the cache as graph inputs (pointers into `cache`: keep it alive until the run returns).
  void bind(const KvCache& cache, std::vector<NamedTensor>& inputs) const {
    for (size_t l = 0; l < static_cast<size_t>(layers_); ++l) {
      inputs.push_back({past_[2 * l].c_str(), &cache.keys[l]});
      inputs.push_back({past_[2 * l + 1].c_str(), &cache.values[l]});
    }
  }

  // Moves the present tensors, outputs[first], outputs[first + 1], ..., into `cache` (no copy).
  void update(std::vector<Tensor>& outputs, size_t first, KvCache& cache) const {
    for (size_t l = 0; l < static_cast<size_t>(layers_); ++l) {
      cache.keys[l] = std::move(outputs[first + 2 * l]);
      cache.values[l] = std::move(outputs[first + 2 * l + 1]);
    }
  }

 private:
  int layers_;
  std::vector<std::string> past_, present_;
};

}  // namespace vv
