// G5 acoustic_decoder.onnx: the stateful causal acoustic decoder. K latent frames in, hop_length * K
// samples out; the convolution caches are explicit state carried from call to call (zeros at the start of
// every utterance). The graph applies z / scale - bias itself, so callers pass raw diffusion outputs.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/manifest.h"
#include "runtime/session.h"

namespace vv {

struct DecoderState {
  std::vector<Tensor> tensors;  // in manifest decoder_states order
};

class AcousticDecoder {
 public:
  AcousticDecoder(const ModelManifest& manifest, const RuntimeOptions& options);

  DecoderState initial_state() const;  // all zeros

  // latents: K frames of Z values, frame after frame ([K, Z] row-major). Returns hop_length * K samples
  // and advances `state`.
  std::vector<float> run(std::span<const float> latents, DecoderState& state) const;

 private:
  std::unique_ptr<Session> session_;
  int64_t latent_dim_, hop_;
  std::vector<std::vector<int64_t>> state_shapes_;
  std::vector<std::string> state_in_names_, output_names_;
};

}  // namespace vv
