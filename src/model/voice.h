// A converted voice prompt (docs/model-format.md, voices/<dir>/*.npy): the text-LM and TTS-LM KV caches of
// the voice prompt plus the voice-independent negative (CFG) prompt, as float32 (fp16 files are widened).
// Loading checks every file's shape against the manifest and the voice list, and refuses NaN/Inf.
#pragma once

#include <vector>

#include "model/manifest.h"

namespace vv {

struct VoicePreset {
  VoiceInfo info;
  std::vector<std::vector<float>> lm_k, lm_v;    // text_layers entries, each [KVH, lm_len, D]
  std::vector<std::vector<float>> tts_k, tts_v;  // tts_layers entries, each [KVH, tts_len, D]
  std::vector<std::vector<float>> neg_k, neg_v;  // tts_layers entries, each [KVH, 1, D]
  std::vector<float> neg_last_hidden;            // [hidden]: negative condition of the first frame
  std::vector<float> tts_last_hidden;            // [hidden] when tts.last_hidden.npy exists, else empty

  // Reads m.voices_manifest_path.parent_path() / v.dir / *.npy. Missing, corrupt, wrongly shaped or typed
  // files throw Error(kModel, ...) naming the file.
  static VoicePreset load(const ModelManifest& m, const VoiceInfo& v);
};

}  // namespace vv
