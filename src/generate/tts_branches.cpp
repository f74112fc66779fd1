#include "generate/tts_branches.h"

#include <algorithm>
#include <memory>

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

namespace {

// Row 0 of a [2, KVH, P, D] tensor as a [1, KVH, P, D] tensor sharing its memory.
Tensor first_row(const Tensor& joint) {
  std::vector<int64_t> shape = joint.shape();
  shape[0] = 1;
  return Tensor::adopt(joint.dtype(), std::move(shape), joint.raw(), std::make_shared<Tensor>(joint));
}

// [2, KVH, P + n, D]: row 0 = `row0` [1, KVH, P + n, D], row 1 = row 1 of `joint` [2, KVH, P, D] followed by
// n zero positions per head.
Tensor rejoin(const Tensor& row0, const Tensor& joint) {
  const int64_t kvh = joint.dim(1), p = joint.dim(2), d = joint.dim(3), total = row0.dim(2);
  Tensor out = Tensor::zeros(DType::kF32, {2, kvh, total, d});
  const auto src0 = row0.floats(), old = joint.floats();
  auto dst = out.floats();
  std::copy(src0.begin(), src0.end(), dst.begin());
  for (int64_t h = 0; h < kvh; ++h) {
    const auto from = old.begin() + ((kvh + h) * p) * d;
    std::copy(from, from + p * d, dst.begin() + (kvh + h) * total * d);
  }
  return out;
}

}  // namespace

void TtsBranches::feed_text(std::span<const float> lm_hidden) {
  const auto n = static_cast<int64_t>(lm_hidden.size()) / hidden_;
  if (!joint_) {
    h_pos_ = tts_lm_.run(lm_hidden, InputType::kText, cache_).last_hidden;
    pos_len_ += n;
    return;
  }
  // The negative row never sees text: only row 0 runs (its cache positions are all valid, so run() with
  // its plain positions and all-ones mask applies); row 1 gets n zero entries, masked holes that no later
  // query attends to.
  KvCache pos;
  for (size_t l = 0; l < cache_.keys.size(); ++l) {
    pos.keys.push_back(first_row(cache_.keys[l]));
    pos.values.push_back(first_row(cache_.values[l]));
  }
  h_pos_ = tts_lm_.run(lm_hidden, InputType::kText, pos).last_hidden;
  for (size_t l = 0; l < cache_.keys.size(); ++l) {
    cache_.keys[l] = rejoin(pos.keys[l], cache_.keys[l]);
    cache_.values[l] = rejoin(pos.values[l], cache_.values[l]);
  }
  pos_mask_.insert(pos_mask_.end(), static_cast<size_t>(n), 1);
  neg_mask_.insert(neg_mask_.end(), static_cast<size_t>(n), 0);
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
