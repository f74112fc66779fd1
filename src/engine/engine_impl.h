// Internal state of vv::Engine shared by engine.cpp (load, synthesize) and stream.cpp (Stream): the
// manifest, the loaded graphs, the tokenizer, the voice list with a cache of loaded voice prompts, and the
// validation of SynthesisOptions into generation settings.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/text_normalization.h"
#include "generate/generator.h"
#include "generate/noise_source.h"
#include "model/manifest.h"
#include "model/voice.h"
#include "runtime/model_graphs.h"
#include "text/tokenizer.h"
#include "vibevoice/vibevoice.hpp"

namespace vv {

// A validated SynthesisOptions.
struct ResolvedSynthesis {
  GenerationSettings settings;
  std::shared_ptr<const VoicePreset> voice;
  std::unique_ptr<NoiseSource> noise;  // of the first segment (all of them for injected noise)
  uint64_t seed = 0;
  bool injected_noise = false;
  int max_segment_tokens = 0;
};

struct Engine::Impl {
  ModelManifest manifest;
  std::unique_ptr<ModelGraphs> graphs;
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<VoiceInfo> voice_list;

  // kModel (unknown voice, listing the available ones), kUsage (option values), kInput (noise shape).
  ResolvedSynthesis resolve(const SynthesisOptions& options) const;
  // kInput when the voice prompt plus `text_tokens` exceed max_positions.
  void check_length(const VoicePreset& voice, size_t text_tokens) const;
  // The model directory's text normalizer, loaded on first use (kUsage without grammars).
  const TextNormalizer::Impl& text_normalizer() const;

 private:
  std::shared_ptr<const VoicePreset> voice(const std::string& name) const;
  mutable std::mutex voice_mutex_;
  mutable std::map<std::string, std::shared_ptr<const VoicePreset>> voice_cache_;
  mutable std::mutex normalizer_mutex_;
  mutable std::shared_ptr<const TextNormalizer::Impl> normalizer_;
};

}  // namespace vv
