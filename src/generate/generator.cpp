#include "generate/generator.h"

#include "audio/streaming_decoder.h"
#include "core/error.h"
#include "generate/diffusion_sampler.h"
#include "generate/tts_branches.h"

namespace vv {

GenerationResult generate_speech(const ModelManifest& manifest, const ModelGraphs& graphs,
                                 const VoicePreset& voice, const GenerationSettings& settings,
                                 TextWindowQueue& text, NoiseSource& noise, GenerationObserver& observer) {
  const int64_t max_positions = manifest.max_positions;
  DiffusionSampler sampler(
      [&head = graphs.diffusion_head](std::span<const float> noisy, std::span<const float> t,
                                      std::span<const float> cond) { return head.run(noisy, t, cond); },
      manifest.scheduler, settings.steps, settings.solver, settings.cfg_scale, manifest.latent_dim);
  // Per-utterance state (3.4): copies of the voice caches, which grow as the utterance proceeds.
  KvCache lm = KvCache::copy_of(voice.lm_k, voice.lm_v, manifest.num_key_value_heads, voice.info.lm_len,
                                manifest.head_dim);
  TtsBranches tts(manifest, graphs.tts_lm, voice, sampler.uses_negative());
  StreamingDecoder decoder(graphs.acoustic_decoder, settings.chunk_frames, manifest.latent_dim,
                           manifest.hop_length, manifest.sample_rate, settings.background_decode,
                           [&](AudioChunk&& c) { observer.on_chunk(std::move(c)); });
  GenerationResult result;
  bool done = false;

  auto loop = [&] {
    while (!done) {
      if (observer.should_stop()) {
        result.stop_reason = StopReason::kCancelled;
        break;
      }
      if (settings.max_frames > 0 && result.frames >= settings.max_frames) {  // before waiting for more text
        result.stop_reason = StopReason::kMaxFrames;
        break;
      }
      if (!text.window_ready()) {
        decoder
            .flush();  // deliver everything generated so far before waiting (exact: decoding is chunk-free)
        observer.on_underrun(result.frames);
      }
      std::optional<TextWindow> window = text.next_window();
      if (!window) {
        result.stop_reason = StopReason::kCancelled;
        break;
      }
      if (!window->ids.empty()) {
        const auto n = static_cast<int64_t>(window->ids.size());
        if (tts.positive_length() + n > max_positions) {
          result.stop_reason = StopReason::kMaxLength;
          break;
        }
        const Tensor lm_hidden = graphs.text_lm.run(window->ids, lm);
        tts.feed_text(lm_hidden.floats());
      }
      if (tts.h_pos().empty()) fail(ErrorKind::kInput, "text is empty: nothing to speak");

      for (int i = 0; i < manifest.speech_window; ++i) {
        if (settings.max_frames > 0 && result.frames >= settings.max_frames) {
          result.stop_reason = StopReason::kMaxFrames;
          done = true;
          break;
        }
        if (observer.should_stop()) {
          result.stop_reason = StopReason::kCancelled;
          done = true;
          break;
        }
        const std::vector<float> z = sampler.sample(tts.h_pos(), tts.h_neg(), noise, result.frames);
        result.latents.insert(result.latents.end(), z.begin(), z.end());
        decoder.push(z, result.frames, window->text_begin, window->text_end, manifest.speech_window - i);
        ++result.frames;

        const std::vector<float> embed = graphs.connector.run(z);  // the raw z, not the decoder-scaled one
        if (tts.positive_length() + 1 > max_positions) {
          result.stop_reason = StopReason::kMaxLength;
          done = true;
          break;
        }
        const float eos_logit = tts.feed_speech(embed);
        if (!settings.ignore_eos && eos_logit > 0.0f) {
          result.stop_reason = StopReason::kEos;
          done = true;
          break;
        }
      }
    }
  };
  try {
    loop();
  } catch (...) {
    // What was generated before a failure is still delivered (e.g. to the WAV published with the error).
    try {
      decoder.flush();
    } catch (...) {  // the original error is the one to report
    }
    throw;
  }
  decoder.flush();
  return result;
}

}  // namespace vv
