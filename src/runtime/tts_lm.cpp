#include "runtime/tts_lm.h"

#include "core/error.h"

namespace vv {

TtsLm::TtsLm(const ModelManifest& manifest, const RuntimeOptions& options)
    : session_(std::make_unique<Session>(manifest.graph_path("tts_lm").string(), options)),
      kv_(manifest.tts_layers),
      hidden_(manifest.hidden_size) {
  std::vector<std::string> inputs = {"inputs_embeds", "type_id", "position_ids", "attention_mask"};
  inputs.insert(inputs.end(), kv_.past_names().begin(), kv_.past_names().end());
  output_names_ = {"last_hidden", "eos_logit"};
  output_names_.insert(output_names_.end(), kv_.present_names().begin(), kv_.present_names().end());
  session_->require_io(inputs, output_names_);
  constexpr int64_t kAny = Session::kAnyDim;
  session_->require_shape("inputs_embeds", {kAny, kAny, hidden_}, "[batch, seq, hidden_size]");
  session_->require_shape("last_hidden", {kAny, hidden_}, "[batch, hidden_size]");
  session_->require_shape("eos_logit", {kAny}, "[batch]");
  kv_.require_shapes(*session_, manifest, kAny);
}

TtsLmOutput TtsLm::run(std::span<const float> embeds, InputType type, KvCache& cache) const {
  if (embeds.empty() || embeds.size() % static_cast<size_t>(hidden_) != 0) {
    fail(ErrorKind::kRuntime, "TtsLm::run: embeds size " + std::to_string(embeds.size()) +
                                  " is not a positive multiple of hidden_size");
  }
  const auto t = static_cast<int64_t>(embeds.size()) / hidden_;
  const int64_t p = cache.length();
  std::vector<int64_t> positions(static_cast<size_t>(t));
  for (int64_t i = 0; i < t; ++i) positions[static_cast<size_t>(i)] = p + i;
  const std::vector<int64_t> mask(static_cast<size_t>(p + t), 1);
  const InputType types[] = {type};
  return run_batch(embeds, types, positions, mask, cache)[0];
}

std::vector<TtsLmOutput> TtsLm::run_batch(std::span<const float> embeds, std::span<const InputType> types,
                                          std::span<const int64_t> position_ids,
                                          std::span<const int64_t> attention_mask, KvCache& cache) const {
  const auto b = static_cast<int64_t>(types.size());
  const int64_t p = cache.length();
  if (b < 1 || embeds.empty() || embeds.size() % static_cast<size_t>(b * hidden_) != 0) {
    fail(ErrorKind::kRuntime, "TtsLm::run_batch: embeds size does not match the batch");
  }
  const auto t = static_cast<int64_t>(embeds.size()) / (b * hidden_);
  if (position_ids.size() != static_cast<size_t>(b * t) ||
      attention_mask.size() != static_cast<size_t>(b * (p + t))) {
    fail(ErrorKind::kRuntime, "TtsLm::run_batch: position_ids/attention_mask do not match the batch");
  }
  if (!cache.keys.empty() && cache.keys.front().dim(0) != b) {
    fail(ErrorKind::kRuntime, "TtsLm::run_batch: cache batch differs from the input batch");
  }
  const Tensor inputs_embeds = Tensor::from_floats({embeds.begin(), embeds.end()}, {b, t, hidden_});
  std::vector<int64_t> type_values;
  for (InputType type : types) type_values.push_back(static_cast<int64_t>(type));
  const Tensor type_id = Tensor::from_ints(std::move(type_values), {b});
  const Tensor positions = Tensor::from_ints({position_ids.begin(), position_ids.end()}, {b, t});
  const Tensor mask = Tensor::from_ints({attention_mask.begin(), attention_mask.end()}, {b, p + t});

  std::vector<NamedTensor> inputs = {{"inputs_embeds", &inputs_embeds},
                                     {"type_id", &type_id},
                                     {"position_ids", &positions},
                                     {"attention_mask", &mask}};
  kv_.bind(cache, inputs);
  auto out = session_->run(inputs, output_names_);
  kv_.update(out, 2, cache);
  const auto hidden = out[0].floats();
  const auto eos = out[1].floats();
  if (hidden.size() != static_cast<size_t>(b * hidden_) || eos.size() != static_cast<size_t>(b)) {
    fail(ErrorKind::kModel, "tts_lm.onnx returned last_hidden " + out[0].shape_string() + " / eos_logit " +
                                out[1].shape_string() + " for batch " + std::to_string(b));
  }
  std::vector<TtsLmOutput> results(static_cast<size_t>(b));
  for (int64_t r = 0; r < b; ++r) {
    const auto row = hidden.subspan(static_cast<size_t>(r * hidden_), static_cast<size_t>(hidden_));
    results[static_cast<size_t>(r)].last_hidden.assign(row.begin(), row.end());
    results[static_cast<size_t>(r)].eos_logit = eos[static_cast<size_t>(r)];
  }
  return results;
}

}  // namespace vv
