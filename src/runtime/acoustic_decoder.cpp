#include "runtime/acoustic_decoder.h"

#include <cstdio>

#include "core/error.h"

namespace vv {

namespace {
std::string state_suffix(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02zu", i);
  return buf;
}
}  // namespace

AcousticDecoder::AcousticDecoder(const ModelManifest& manifest, const RuntimeOptions& options)
    : session_(std::make_unique<Session>(manifest.graph_path("acoustic_decoder").string(), options)),
      latent_dim_(manifest.latent_dim),
      hop_(manifest.hop_length) {
  std::vector<std::string> inputs = {"latent"};
  output_names_ = {"audio"};
  for (size_t i = 0; i < manifest.decoder_states.size(); ++i) {
    state_shapes_.push_back(manifest.decoder_states[i].shape);
    state_in_names_.push_back("state_in_" + state_suffix(i));
    output_names_.push_back("state_out_" + state_suffix(i));
  }
  inputs.insert(inputs.end(), state_in_names_.begin(), state_in_names_.end());
  session_->require_io(inputs, output_names_);
  constexpr int64_t kAny = Session::kAnyDim;
  session_->require_shape("latent", {1, latent_dim_, kAny}, "[1, latent_dim, frames]");
  session_->require_shape("audio", {1, 1, kAny}, "[1, 1, samples]");
  for (size_t i = 0; i < state_shapes_.size(); ++i) {
    const std::string meaning = "decoder_states[" + std::to_string(i) + "].shape";
    session_->require_shape(state_in_names_[i], state_shapes_[i], meaning);
    session_->require_shape(output_names_[1 + i], state_shapes_[i], meaning);
  }
}

DecoderState AcousticDecoder::initial_state() const {
  DecoderState state;
  for (const auto& shape : state_shapes_) state.tensors.push_back(Tensor::zeros(DType::kF32, shape));
  return state;
}

std::vector<float> AcousticDecoder::run(std::span<const float> latents, DecoderState& state) const {
  const auto frames = static_cast<int64_t>(latents.size()) / latent_dim_;
  if (frames < 1 || latents.size() != static_cast<size_t>(frames * latent_dim_)) {
    fail(ErrorKind::kRuntime, "AcousticDecoder::run: latents must be K >= 1 frames of latent_dim values");
  }
  if (state.tensors.size() != state_shapes_.size()) fail(ErrorKind::kRuntime, "AcousticDecoder: bad state");
  // The graph takes [1, Z, K] (channels first); callers hold frames one after the other.
  std::vector<float> channels_first(latents.size());
  for (int64_t k = 0; k < frames; ++k) {
    for (int64_t c = 0; c < latent_dim_; ++c) {
      channels_first[static_cast<size_t>(c * frames + k)] = latents[static_cast<size_t>(k * latent_dim_ + c)];
    }
  }
  const Tensor latent = Tensor::from_floats(std::move(channels_first), {1, latent_dim_, frames});
  std::vector<NamedTensor> inputs = {{"latent", &latent}};
  for (size_t i = 0; i < state.tensors.size(); ++i)
    inputs.push_back({state_in_names_[i].c_str(), &state.tensors[i]});
  auto out = session_->run(inputs, output_names_);
  for (size_t i = 0; i < state.tensors.size(); ++i) state.tensors[i] = std::move(out[1 + i]);
  const auto audio = out[0].floats();
  if (audio.size() != static_cast<size_t>(frames * hop_)) {
    fail(ErrorKind::kModel, "acoustic_decoder.onnx returned " + out[0].shape_string() + " for " +
                                std::to_string(frames) + " frames, expected [1, 1, " +
                                std::to_string(frames * hop_) + "]");
  }
  return {audio.begin(), audio.end()};
}

}  // namespace vv
