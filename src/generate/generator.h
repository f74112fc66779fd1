// The realtime generation loop of architecture.md 3.4-3.10: text windows interleaved with speech windows,
// a positive TTS branch (voice prompt + text + speech) and a negative CFG branch (1-token negative prompt +
// speech only), one diffusion sample per frame, immediate streaming decode, connector feedback with the raw
// latent, EOS on the positive branch, and the max_positions cap. All constants come from the manifest.
#pragma once

#include <cstdint>
#include <vector>

#include "generate/noise_source.h"
#include "generate/scheduler.h"
#include "generate/text_windows.h"
#include "model/manifest.h"
#include "model/voice.h"
#include "runtime/model_graphs.h"
#include "vibevoice/vibevoice.hpp"

namespace vv {

struct GenerationSettings {
  int steps = 5;
  Solver solver = Solver::kOde;
  float cfg_scale = 1.5f;
  int chunk_frames = 1;    // 0 = adaptive (audio/chunk_schedule.h)
  int64_t max_frames = 0;  // 0 = unlimited
  bool ignore_eos = false;
  bool background_decode = false;  // decoder on its own thread; on_chunk is then called from that thread
};

// Receives what the loop produces, on the thread running generate_speech() (on_chunk: on the decoding
// thread with background_decode; calls never overlap and arrive in order).
class GenerationObserver {
 public:
  virtual ~GenerationObserver() = default;
  virtual void on_chunk(AudioChunk&& chunk) = 0;
  // Called (after flushing pending audio) when the next text window is not available yet.
  virtual void on_underrun(int64_t /*frames_so_far*/) {}
  // Polled between model calls; true stops generation with kCancelled.
  virtual bool should_stop() { return false; }
};

struct GenerationResult {
  StopReason stop_reason = StopReason::kEos;
  int64_t frames = 0;
  std::vector<float> latents;  // frames * latent_dim
};

GenerationResult generate_speech(const ModelManifest& manifest, const ModelGraphs& graphs,
                                 const VoicePreset& voice, const GenerationSettings& settings,
                                 TextWindowQueue& text, NoiseSource& noise, GenerationObserver& observer);

}  // namespace vv
