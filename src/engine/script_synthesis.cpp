// Engine::synthesize_script: a multi-voice script, turn after turn with each speaker's voice.
#include <cmath>

#include "engine/engine_impl.h"
#include "text/script.h"
#include "text/text_prep.h"

namespace vv {

namespace {

std::string voice_of(const ScriptOptions& o, const std::string& speaker) {
  for (const auto& [name, voice] : o.voices)
    if (name == speaker) return voice;
  if (!o.default_voice.empty()) return o.default_voice;
  std::string known;
  for (const auto& entry : o.voices) known += (known.empty() ? "" : ", ") + entry.first;
  fail(ErrorKind::kUsage, "script: no voice for speaker '" + speaker + "' (voices are given for: " +
                              (known.empty() ? std::string("nobody") : known) + ")");
}

}  // namespace

Audio Engine::synthesize_script(std::string_view script, const ScriptOptions& script_options,
                                const SynthesisOptions& options,
                                const std::function<void(const AudioChunk&)>& on_chunk) const {
  if (options.noise) fail(ErrorKind::kUsage, "injected noise is not supported for scripts");
  if (!(script_options.pause_seconds >= 0 && script_options.pause_seconds <= 10))
    fail(ErrorKind::kUsage, "the pause between turns must be in 0..10 seconds");
  validate_text(script);
  const std::vector<ScriptTurn> turns = parse_script(script);
  std::vector<SynthesisOptions> per_turn;
  for (size_t i = 0; i < turns.size(); ++i) {  // every speaker's voice and the options, before any audio
    SynthesisOptions o = options;
    o.voice = voice_of(script_options, turns[i].speaker);
    o.seed = segment_seed(options.seed, i);
    (void)impl_->resolve(o);
    per_turn.push_back(std::move(o));
  }

  Audio audio;
  audio.sample_rate = impl_->manifest.sample_rate;
  const bool keep = options.keep_samples || !on_chunk;
  auto deliver = [&](AudioChunk& c) {
    if (keep) audio.samples.insert(audio.samples.end(), c.samples.begin(), c.samples.end());
    if (on_chunk) on_chunk(c);
  };
  const auto pause =
      static_cast<size_t>(std::lround(script_options.pause_seconds * impl_->manifest.sample_rate));
  for (size_t i = 0; i < turns.size(); ++i) {
    const ScriptTurn& turn = turns[i];
    if (prepare_text(script.substr(turn.text_begin, turn.text_end - turn.text_begin)).text.size() <= 1)
      continue;  // a label without text
    if (i > 0 && pause > 0 && audio.frames > 0) {
      AudioChunk silence;
      silence.samples.assign(pause, 0.0f);
      silence.sample_rate = audio.sample_rate;
      silence.first_frame = audio.frames;
      silence.text_begin = silence.text_end = turn.text_begin;
      deliver(silence);
    }
    SynthesisOptions o = per_turn[i];
    if (options.max_frames > 0) o.max_frames = options.max_frames - audio.frames;
    o.keep_samples = false;
    const int64_t offset = audio.frames;
    const Audio a = synthesize(script.substr(turn.text_begin, turn.text_end - turn.text_begin), o,
                               [&](const AudioChunk& chunk) {
                                 AudioChunk c = chunk;
                                 c.first_frame += offset;
                                 c.text_begin += turn.text_begin;
                                 c.text_end += turn.text_begin;
                                 deliver(c);
                               });
    audio.latents.insert(audio.latents.end(), a.latents.begin(), a.latents.end());
    audio.frames += a.frames;
    audio.stop_reason = a.stop_reason;
    if (a.stop_reason == StopReason::kCancelled || a.stop_reason == StopReason::kMaxFrames) break;
  }
  return audio;
}

}  // namespace vv
