#include "runtime/text_lm.h"

#include "core/error.h"

namespace vv {

TextLm::TextLm(const ModelManifest& manifest, const RuntimeOptions& options)
    : session_(std::make_unique<Session>(manifest.graph_path("text_lm").string(), options)),
      kv_(manifest.text_layers) {
  std::vector<std::string> inputs = {"input_ids", "position_ids"};
  inputs.insert(inputs.end(), kv_.past_names().begin(), kv_.past_names().end());
  output_names_ = {"hidden"};
  output_names_.insert(output_names_.end(), kv_.present_names().begin(), kv_.present_names().end());
  session_->require_io(inputs, output_names_);
  constexpr int64_t kAny = Session::kAnyDim;
  session_->require_shape("hidden", {1, kAny, manifest.hidden_size}, "[1, seq, hidden_size]");
  kv_.require_shapes(*session_, manifest, 1);
}

Tensor TextLm::run(std::span<const int32_t> ids, KvCache& cache) const {
  const auto t = static_cast<int64_t>(ids.size());
  if (t == 0) fail(ErrorKind::kRuntime, "TextLm::run called with no tokens");
  const int64_t p = cache.length();
  std::vector<int64_t> id_values(ids.begin(), ids.end()), positions(ids.size());
  for (int64_t i = 0; i < t; ++i) positions[static_cast<size_t>(i)] = p + i;
  const Tensor input_ids = Tensor::from_ints(std::move(id_values), {1, t});
  const Tensor position_ids = Tensor::from_ints(std::move(positions), {1, t});

  std::vector<NamedTensor> inputs = {{"input_ids", &input_ids}, {"position_ids", &position_ids}};
  kv_.bind(cache, inputs);
  auto out = session_->run(inputs, output_names_);
  kv_.update(out, 1, cache);
  return std::move(out[0]);
}

}  // namespace vv
