// Per-layer key/value caches of one transformer branch, as the graphs exchange them: past_key_{l} /
// past_value_{l} of shape [B, KVH, P, D]. Each call returns present tensors of length P+T that replace the
// cache (no copy: the graph output becomes the next input).
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/tensor.h"

namespace vv {

struct KvCache {
  std::vector<Tensor> keys, values;  // one per layer, [B, KVH, P, D]

  int64_t length() const { return keys.empty() ? 0 : keys.front().dim(2); }

  // A [1, KVH, len, D] cache holding a copy of per-layer [KVH, len, D] arrays (a voice prompt).
  static KvCache copy_of(const std::vector<std::vector<float>>& k, const std::vector<std::vector<float>>& v,
                         int64_t kv_heads, int64_t len, int64_t head_dim) {
    KvCache cache;
    for (size_t l = 0; l < k.size(); ++l) {
      cache.keys.push_back(Tensor::from_floats(k[l], {1, kv_heads, len, head_dim}));
      cache.values.push_back(Tensor::from_floats(v[l], {1, kv_heads, len, head_dim}));
    }
    return cache;
  }
};

}  // namespace vv
