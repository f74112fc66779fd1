// vv_bench batch: K = 1..max_streams concurrent streams on one engine, each at its own point of an utterance
// (their cache lengths differ, as in a server). For each K it times
//   separate: K speech steps (B = 2: both CFG rows of one stream, as the engine runs them) and K
//             diffusion-head calls (B = 2);
//   batched:  ONE speech step over a [2K, KVH, Pmax, D] cache (each stream's rows left-padded to the longest
//             and the padding masked out: the mechanism the engine already uses for the shorter negative
//             row) and ONE head call with B = 2K;
// and compares each stream's outputs of the batched call with those of its own call (bitwise, max |diff|).
// "aligned" repeats the speech-step comparison with K streams of equal length (no padding at all).
// Projected aggregate gain for K streams, per frame of every stream, with rest = what batching cannot share
// (measured here: a text window, text LM + TTS LM at T = 5, per speech_window frames; the decoder at one
// speech window per call; the connector):
//   both batched:    K (s1 + steps h1 + rest) / (sK + steps hK + K rest)
//   head calls only: K (s1 + steps h1 + rest) / (K s1 + steps hK + K rest)
#include "batch_streams.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <span>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "common.h"
#include "generate/tts_branches.h"
#include "model/manifest.h"
#include "model/voice.h"
#include "runtime/model_graphs.h"

namespace vv::bench {
namespace {

// One stream just before a speech step: its [2, KVH, P, D] cache (shared storage: a call replaces the
// tensors of its own copy, never writes into them), the mask rows over P + 1 positions, the rows'
// positions and the embedding fed to both rows.
struct Stream {
  KvCache cache;
  std::vector<int64_t> mask;  // [2, P + 1]
  std::vector<int64_t> positions;
  std::vector<float> embeds;  // [2, H]
};

Stream snapshot(const TtsBranches& b, const std::vector<float>& embed) {
  Stream s{b.cache(), {}, {b.positive_length(), b.negative_length()}, embed};
  for (int r = 0; r < 2; ++r) {
    s.mask.insert(s.mask.end(), b.mask_row(r).begin(), b.mask_row(r).end());
    s.mask.push_back(1);
  }
  s.embeds.insert(s.embeds.end(), embed.begin(), embed.end());
  return s;
}

// Rows 2i, 2i + 1 = stream i, left-padded with masked zeros to the longest cache.
Stream join(const std::vector<Stream>& streams) {
  int64_t pmax = 0;
  for (const Stream& s : streams) pmax = std::max(pmax, s.cache.length());
  const Tensor& t0 = streams.front().cache.keys.front();
  const int64_t kvh = t0.dim(1), d = t0.dim(3), rows = 2 * static_cast<int64_t>(streams.size());
  Stream out;
  auto joined = [&](auto pick) {
    Tensor j = Tensor::zeros(DType::kF32, {rows, kvh, pmax, d});
    auto dst = j.floats();
    for (size_t i = 0; i < streams.size(); ++i) {
      const Tensor& src_t = pick(streams[i]);
      const int64_t p = src_t.dim(2);
      const auto src = src_t.floats();
      for (int64_t r = 0; r < 2; ++r)
        for (int64_t h = 0; h < kvh; ++h)
          std::copy_n(
              src.begin() + (r * kvh + h) * p * d, p * d,
              dst.begin() + ((2 * static_cast<int64_t>(i) + r) * kvh + h) * pmax * d + (pmax - p) * d);
    }
    return j;
  };
  for (size_t l = 0; l < streams.front().cache.keys.size(); ++l) {
    out.cache.keys.push_back(joined([l](const Stream& s) -> const Tensor& { return s.cache.keys[l]; }));
    out.cache.values.push_back(joined([l](const Stream& s) -> const Tensor& { return s.cache.values[l]; }));
  }
  for (const Stream& s : streams) {
    const int64_t p = s.cache.length();
    for (int64_t r = 0; r < 2; ++r) {
      out.mask.insert(out.mask.end(), static_cast<size_t>(pmax - p), 0);
      out.mask.insert(out.mask.end(), s.mask.begin() + r * (p + 1), s.mask.begin() + (r + 1) * (p + 1));
    }
    out.positions.insert(out.positions.end(), s.positions.begin(), s.positions.end());
    out.embeds.insert(out.embeds.end(), s.embeds.begin(), s.embeds.end());
  }
  return out;
}

struct Diff {
  bool identical = true;
  double max_abs = 0;
  void add(std::span<const float> a, std::span<const float> b) {
    identical = identical && a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
      max_abs = std::max(max_abs, static_cast<double>(std::fabs(a[i] - b[i])));
  }
};

std::vector<TtsLmOutput> speech_step(const TtsLm& tts, const Stream& s) {
  KvCache cache = s.cache;
  const std::vector<InputType> types(s.positions.size(), InputType::kSpeech);
  return tts.run_batch(s.embeds, types, s.positions, s.mask, cache);
}

// Each stream's rows of the batched step against its own step.
Diff compare_steps(const TtsLm& tts, const std::vector<Stream>& streams) {
  const std::vector<TtsLmOutput> batched = speech_step(tts, join(streams));
  Diff diff;
  for (size_t i = 0; i < streams.size(); ++i) {
    const std::vector<TtsLmOutput> own = speech_step(tts, streams[i]);
    for (size_t r = 0; r < 2; ++r) {
      diff.add(own[r].last_hidden, batched[2 * i + r].last_hidden);
      diff.add(std::span<const float>(&own[r].eos_logit, 1),
               std::span<const float>(&batched[2 * i + r].eos_logit, 1));
    }
  }
  return diff;
}

std::vector<float> pattern(size_t n, double seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(0.05 * std::sin(seed + 0.37 * static_cast<double>(i)));
  return v;
}

std::string diff_json(const Diff& d) {
  std::ostringstream o;
  o << "{\"identical\": " << (d.identical ? "true" : "false") << ", \"max_abs_diff\": " << d.max_abs << "}";
  return o.str();
}

}  // namespace

int run_batch(const BatchArgs& a) {
  const ModelManifest m = ModelManifest::load(a.model);
  const ModelGraphs g(m, RuntimeOptions{.threads = a.threads});
  const VoicePreset voice = load_voice(m, a.voice);
  const int64_t H = m.hidden_size, Z = m.latent_dim;
  const auto window = static_cast<size_t>(m.text_window);

  // K streams at different points: stream i has seen i + 1 text windows and frames / 2 + 7 i speech frames.
  std::vector<Stream> streams;
  for (int i = 0; i < a.max_streams; ++i) {
    TtsBranches b(m, g.tts_lm, voice, true);
    for (int w = 0; w <= i; ++w) b.feed_text(pattern(window * static_cast<size_t>(H), 0.1 * w));
    for (int f = 0; f < a.frames / 2 + 7 * i; ++f) (void)b.feed_speech(pattern(static_cast<size_t>(H), f));
    streams.push_back(snapshot(b, pattern(static_cast<size_t>(H), 100.0 + i)));
  }

  // What batching cannot share, per frame of one stream.
  KvCache lm = KvCache::copy_of(voice.lm_k, voice.lm_v, m.num_key_value_heads, voice.info.lm_len, m.head_dim);
  const std::vector<int32_t> ids(window, 785);
  TtsBranches text_branch(m, g.tts_lm, voice, true);
  const double text_ms = median_ms(a.reps, [&] { (void)g.text_lm.run(ids, lm); }) + median_ms(a.reps, [&] {
                           text_branch.feed_text(pattern(window * static_cast<size_t>(H), 0.5));
                         });
  DecoderState st = g.acoustic_decoder.initial_state();
  const std::vector<float> lat(static_cast<size_t>(Z * m.speech_window), 0.1f),
      z(static_cast<size_t>(Z), 0.1f);
  const double decoder_ms = median_ms(a.reps, [&] { (void)g.acoustic_decoder.run(lat, st); });
  const double connector_ms = median_ms(a.reps, [&] { (void)g.connector.run(z); });
  const double rest = (text_ms + decoder_ms) / static_cast<double>(m.speech_window) + connector_ms;

  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(3);
  o << "{\"mode\": \"batch\", \"threads\": " << a.threads << ", \"steps\": " << a.steps
    << ", \"rest_ms_per_frame\": " << rest << ", \"streams\": [";
  double s1 = 0, h1 = 0;
  for (int k = 1; k <= a.max_streams; ++k) {
    const std::vector<Stream> group(streams.begin(), streams.begin() + k);
    const double separate = median_ms(a.reps, [&] {
      for (const Stream& s : group) (void)speech_step(g.tts_lm, s);
    });
    const double batched = median_ms(
        a.reps, [&] { return join(group); },
        [&](const Stream& joint) { (void)speech_step(g.tts_lm, joint); });
    const Diff ragged = compare_steps(g.tts_lm, group);
    std::vector<Stream> same(static_cast<size_t>(k), streams.front());
    for (int i = 0; i < k; ++i)
      same[static_cast<size_t>(i)].embeds = pattern(static_cast<size_t>(2 * H), 200.0 + i);
    const Diff aligned = compare_steps(g.tts_lm, same);

    // Head: stream i's noisy latent (both rows), timestep, conditions.
    std::vector<std::vector<float>> noisy, cond;
    for (int i = 0; i < k; ++i) {
      const std::vector<float> x = pattern(static_cast<size_t>(Z), 300.0 + i);
      std::vector<float> xx = x;
      xx.insert(xx.end(), x.begin(), x.end());
      noisy.push_back(std::move(xx));
      cond.push_back(pattern(static_cast<size_t>(2 * H), 400.0 + i));
    }
    std::vector<float> all_noisy, all_cond;
    for (size_t i = 0; i < noisy.size(); ++i) {
      all_noisy.insert(all_noisy.end(), noisy[i].begin(), noisy[i].end());
      all_cond.insert(all_cond.end(), cond[i].begin(), cond[i].end());
    }
    const std::vector<float> t2(2, 500.0f), tk(static_cast<size_t>(2 * k), 500.0f);
    const double head_separate = median_ms(a.reps * 2, [&] {
      for (size_t i = 0; i < noisy.size(); ++i) (void)g.diffusion_head.run(noisy[i], t2, cond[i]);
    });
    const double head_batched =
        median_ms(a.reps * 2, [&] { (void)g.diffusion_head.run(all_noisy, tk, all_cond); });
    Diff head;
    const std::vector<float> hb = g.diffusion_head.run(all_noisy, tk, all_cond);
    for (size_t i = 0; i < noisy.size(); ++i) {
      const std::vector<float> own = g.diffusion_head.run(noisy[i], t2, cond[i]);
      head.add(own, std::span<const float>(hb).subspan(2 * static_cast<size_t>(Z) * i,
                                                       2 * static_cast<size_t>(Z)));
    }
    if (k == 1) s1 = separate, h1 = head_separate;
    const double unbatched = k * (s1 + a.steps * h1 + rest);
    const double gain = unbatched / (batched + a.steps * head_batched + k * rest);
    const double gain_head = unbatched / (k * s1 + a.steps * head_batched + k * rest);
    o << (k > 1 ? ", " : "") << "{\"k\": " << k << ", \"speech_step_ms\": {\"separate\": " << separate
      << ", \"batched\": " << batched << "}, \"head_ms\": {\"separate\": " << head_separate
      << ", \"batched\": " << head_batched << "}, \"speech_step\": " << diff_json(ragged)
      << ", \"speech_step_aligned\": " << diff_json(aligned) << ", \"head\": " << diff_json(head)
      << ", \"projected_gain\": " << gain << ", \"projected_gain_head_only\": " << gain_head << "}";
  }
  o << "]}";
  std::cout << o.str() << "\n";
  if (!a.json.empty()) std::ofstream(a.json) << o.str() << "\n";
  return 0;
}

}  // namespace vv::bench
