#include "generate/tts_branches.h"

#include <algorithm>

namespace vv {

TtsBranches::TtsBranches(const ModelManifest& m, const TtsLm& tts_lm, const VoicePreset& voice,
                         bool with_negative)
    : tts_lm_(tts_lm),
      hidden_(m.hidden_size),
      joint_(with_negative),
      pos_len_(voice.info.tts_len),
      neg_len_(1),
      h_neg_(voice.neg_last_hidden) {
  const int64_t kvh = m.num_key_value_heads, d = m.head_dim, len = voice.info.tts_len;
  if (!joint_) {
    cache_ = KvCache::copy_of(voice.tts_k, voice.tts_v, kvh, len, d);
    return;
  }
  // Row 0: the voice prompt; row 1: the negative prompt in the last slot, left-padded with zeros.
  const auto row = static_cast<size_t>(len * d);
  auto joint = [&](const std::vector<float>& pos, const std::vector<float>& neg) {
    std::vector<float> v(static_cast<size_t>(2 * kvh) * row, 0.0f);
    for (int64_t h = 0; h < kvh; ++h) {
      std::copy_n(pos.begin() + h * static_cast<int64_t>(row), row,
                  v.begin() + h * static_cast<int64_t>(row));
      std::copy_n(neg.begin() + h * d, d, v.begin() + (kvh + h) * static_cast<int64_t>(row) + (len - 1) * d);
    }
    return Tensor::from_floats(std::move(v), {2, kvh, len, d});
  };
  for (size_t l = 0; l < voice.tts_k.size(); ++l) {
    cache_.keys.push_back(joint(voice.tts_k[l], voice.neg_k[l]));
    cache_.values.push_back(joint(voice.tts_v[l], voice.neg_v[l]));
  }
  pos_mask_.assign(static_cast<size_t>(len), 1);
  neg_mask_.assign(static_cast<size_t>(len), 0);
  neg_mask_.back() = 1;
}

void TtsBranches::feed_text(std::span<const float> lm_hidden) {
  const auto n = static_cast<int64_t>(lm_hidden.size()) / hidden_;
  if (!joint_) {
    h_pos_ = tts_lm_.run(lm_hidden, InputType::kText, cache_).last_hidden;
    pos_len_ += n;
    return;
  }
  // The negative row never sees text: it runs along (same call) but its new entries are masked holes that
  // no later query attends to; its outputs for this call are discarded.
  std::vector<float> embeds(lm_hidden.begin(), lm_hidden.end());
  embeds.insert(embeds.end(), lm_hidden.begin(), lm_hidden.end());
  std::vector<int64_t> positions;
  for (int64_t i = 0; i < n; ++i) positions.push_back(pos_len_ + i);
  for (int64_t i = 0; i < n; ++i) positions.push_back(neg_len_);
  pos_mask_.insert(pos_mask_.end(), static_cast<size_t>(n), 1);
  neg_mask_.insert(neg_mask_.end(), static_cast<size_t>(n), 0);
  std::vector<int64_t> mask = pos_mask_;
  mask.insert(mask.end(), neg_mask_.begin(), neg_mask_.end());
  const InputType types[] = {InputType::kText, InputType::kText};
  h_pos_ = tts_lm_.run_batch(embeds, types, positions, mask, cache_)[0].last_hidden;
  pos_len_ += n;
}

float TtsBranches::feed_speech(std::span<const float> embed) {
  if (!joint_) {
    TtsLmOutput out = tts_lm_.run(embed, InputType::kSpeech, cache_);
    h_pos_ = std::move(out.last_hidden);
    ++pos_len_;
    return out.eos_logit;
  }
  std::vector<float> embeds(embed.begin(), embed.end());
  embeds.insert(embeds.end(), embed.begin(), embed.end());
  const int64_t positions[] = {pos_len_, neg_len_};
  pos_mask_.push_back(1);
  neg_mask_.push_back(1);
  std::vector<int64_t> mask = pos_mask_;
  mask.insert(mask.end(), neg_mask_.begin(), neg_mask_.end());
  const InputType types[] = {InputType::kSpeech, InputType::kSpeech};
  std::vector<TtsLmOutput> out = tts_lm_.run_batch(embeds, types, positions, mask, cache_);
  h_pos_ = std::move(out[0].last_hidden);
  h_neg_ = std::move(out[1].last_hidden);
  ++pos_len_;
  ++neg_len_;
  return out[0].eos_logit;
}

}  // namespace vv
