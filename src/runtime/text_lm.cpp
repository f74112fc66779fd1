#include "runtime/text_lm.h"

#include "core/error.h"

namespace vv {

TextLm::TextLm(const ModelManifest& manifest, const RuntimeOptions& options)
    : session_(std::make_unique<Session>(manifest.graph_path("text_lm").string(), options)),
      layers_(manifest.text_layers) {
  std::vector<std::string> inputs = {"input_ids", "position_ids"};
  output_names_ = {"hidden"};
  for (int l = 0; l < layers_; ++l) {
    for (const char* kind : {"key", "value"}) {
      past_names_.push_back("past_" + std::string(kind) + "_" + std::to_string(l));
      output_names_.push_back("present_" + std::string(kind) + "_" + std::to_string(l));
    }
  }
  inputs.insert(inputs.end(), past_names_.begin(), past_names_.end());
  session_->require_io(inputs, output_names_);
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
  for (int l = 0; l < layers_; ++l) {
    inputs.push_back({past_names_[2 * l].c_str(), &cache.keys[l]});
    inputs.push_back({past_names_[2 * l + 1].c_str(), &cache.values[l]});
  }
  auto out = session_->run(inputs, output_names_);
  for (int l = 0; l < layers_; ++l) {
    cache.keys[l] = std::move(out[1 + 2 * l]);
    cache.values[l] = std::move(out[2 + 2 * l]);
  }
  return std::move(out[0]);
}

}  // namespace vv
