// The positive and negative (CFG) TTS LM branches of one utterance (architecture.md 3.4-3.5). The positive
// branch starts from the voice prompt and sees text windows and speech frames; the negative branch starts
// from the 1-token negative prompt and sees only speech frames. With guidance on, both live in ONE
// [2, KVH, P, D] cache so each speech frame costs a single B = 2 graph call (the weights are read once for
// both rows): the shorter negative row is left-padded, and the positions where the positive row received
// text are holes in the negative row, all masked out by the attention mask (exact: masked entries get
// zero attention weight). Text windows run the positive row alone (B = 1 on a view of row 0) and re-join
// the cache with zero holes in row 1: the T-token step costs in proportion to its rows (int8 MatMulNBits,
// T = 5: 104 ms at B = 2), and the negative row's outputs would be discarded anyway.
// Without guidance (cfg == 1) only the positive branch runs, with B = 1.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/manifest.h"
#include "model/voice.h"
#include "runtime/tts_lm.h"

namespace vv {

class TtsBranches {
 public:
  TtsBranches(const ModelManifest& manifest, const TtsLm& tts_lm, const VoicePreset& voice,
              bool with_negative);

  // Text LM hidden states of one text window ([n, H]) into the positive branch.
  void feed_text(std::span<const float> lm_hidden);
  // One speech frame's connector embedding [H] into both branches; returns the positive EOS logit.
  float feed_speech(std::span<const float> embed);

  const std::vector<float>& h_pos() const { return h_pos_; }  // empty until the first text window
  const std::vector<float>& h_neg() const { return h_neg_; }
  int64_t positive_length() const { return pos_len_; }
  int64_t negative_length() const { return neg_len_; }
  // The cache and (joint only) the attention-mask row of each branch over its positions; read by
  // bench/batch_streams.cpp to build cross-stream batches.
  const KvCache& cache() const { return cache_; }
  const std::vector<int64_t>& mask_row(int row) const { return row == 0 ? pos_mask_ : neg_mask_; }

 private:
  const TtsLm& tts_lm_;
  int64_t hidden_;
  bool joint_;
  KvCache cache_;                             // [2, ...] when joint_, else the positive branch [1, ...]
  std::vector<int64_t> pos_mask_, neg_mask_;  // joint_ only: attention mask rows over the cache positions
  int64_t pos_len_, neg_len_;                 // positions (= tokens seen) of each branch
  std::vector<float> h_pos_, h_neg_;
};

}  // namespace vv
