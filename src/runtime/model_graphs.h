// The five graphs of a model directory, loaded once per Engine and shared (read-only, thread-safe) by
// every utterance.
#pragma once

#include <memory>

#include "model/manifest.h"
#include "runtime/acoustic_decoder.h"
#include "runtime/connector.h"
#include "runtime/diffusion_head.h"
#include "runtime/text_lm.h"
#include "runtime/tts_lm.h"

namespace vv {

struct ModelGraphs {
  // Loads the graphs on two threads: session creation is dominated by ONNX Runtime's weight pre-packing,
  // which is single-threaded per session (docs/PERFORMANCE.md, "Load time").
  ModelGraphs(const ModelManifest& m, const RuntimeOptions& o);

  TextLm text_lm;
  TtsLm tts_lm;
  Connector connector;
  DiffusionHead diffusion_head;
  AcousticDecoder acoustic_decoder;

 private:
  struct Loaded;
  explicit ModelGraphs(Loaded&& loaded);
};

}  // namespace vv
