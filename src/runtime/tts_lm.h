// G2 tts_lm.onnx: type embedding + TTS LM layers + final norm + EOS head, with an explicit KV cache.
// run() feeds one branch (B = 1); run_batch() feeds B rows at once over a [B, KVH, P, D] cache whose rows
// may be ragged (left-padded or with holes, described by the attention mask), which is how the positive
// and negative CFG branches share one call per speech frame.
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

enum class InputType : int64_t { kSpeech = 0, kText = 1 };

struct TtsLmOutput {
  std::vector<float> last_hidden;  // [H]: final-normed hidden of the last new position
  float eos_logit = 0;             // EOS classifier logit of last_hidden
};

class TtsLm {
 public:
  TtsLm(const ModelManifest& manifest, const RuntimeOptions& options);

  // Feeds `embeds` ([T, H] row-major) at positions cache.length() ... and appends them to `cache`.
  TtsLmOutput run(std::span<const float> embeds, InputType type, KvCache& cache) const;

  // B rows of T tokens: embeds [B, T, H], type per row, position_ids [B, T], attention_mask [B, P+T]
  // (1 = attend). Appends T entries to every row of `cache` (P = cache.length()); one output per row.
  std::vector<TtsLmOutput> run_batch(std::span<const float> embeds, std::span<const InputType> types,
                                     std::span<const int64_t> position_ids,
                                     std::span<const int64_t> attention_mask, KvCache& cache) const;

 private:
  std::unique_ptr<Session> session_;
  KvBindings kv_;
  int64_t hidden_;
  std::vector<std::string> output_names_;  // last_hidden, eos_logit, then the present cache
};

}  // namespace vv
