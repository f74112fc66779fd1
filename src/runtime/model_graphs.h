// The five graphs of a model directory, loaded once per Engine and shared (read-only, thread-safe) by
// every utterance.
#pragma once

#include "model/manifest.h"
#include "runtime/acoustic_decoder.h"
#include "runtime/connector.h"
#include "runtime/diffusion_head.h"
#include "runtime/text_lm.h"
#include "runtime/tts_lm.h"

namespace vv {

struct ModelGraphs {
  ModelGraphs(const ModelManifest& m, const RuntimeOptions& o)
      : text_lm(m, o), tts_lm(m, o), connector(m, o), diffusion_head(m, o), acoustic_decoder(m, o) {}
  TextLm text_lm;
  TtsLm tts_lm;
  Connector connector;
  DiffusionHead diffusion_head;
  AcousticDecoder acoustic_decoder;
};

}  // namespace vv
