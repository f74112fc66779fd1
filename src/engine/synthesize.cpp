// Engine::synthesize: the whole text at once, in the calling thread. A text too long for one utterance's
// position budget is split into segments (text/segmenter.h), each generated from the voice prompt as the
// official pipeline generates one utterance; frames, chunks and alignment spans continue across segments.
#include <algorithm>
#include <tuple>

#include "engine/segments.h"
#include "generate/incremental_text.h"
#include "text/segmenter.h"
#include "text/text_prep.h"

namespace vv {

namespace {

class SegmentObserver final : public GenerationObserver {
 public:
  SegmentObserver(Audio& audio, const std::function<void(const AudioChunk&)>& on_chunk,
                  const std::function<bool()>& should_abort, bool keep_samples)
      : audio_(audio), on_chunk_(on_chunk), should_abort_(should_abort), keep_samples_(keep_samples) {}
  void on_chunk(AudioChunk&& chunk) override {
    chunk.first_frame += frame_offset;  // spans are already in the whole text's bytes
    if (keep_samples_)
      audio_.samples.insert(audio_.samples.end(), chunk.samples.begin(), chunk.samples.end());
    if (on_chunk_) on_chunk_(chunk);
  }
  bool should_stop() override { return should_abort_ && should_abort_(); }
  int64_t frame_offset = 0;

 private:
  Audio& audio_;
  const std::function<void(const AudioChunk&)>& on_chunk_;
  const std::function<bool()>& should_abort_;
  const bool keep_samples_;
};

}  // namespace

std::vector<std::pair<size_t, size_t>> Engine::segments(std::string_view text,
                                                        const SynthesisOptions& options) const {
  const ResolvedSynthesis r = impl_->resolve(options);
  validate_text(text);
  if (options.normalize) {  // the cuts of the spoken text, as spans of the original
    const NormalizedText n = normalize(text);
    SynthesisOptions o = options;
    o.normalize = false;
    std::vector<std::pair<size_t, size_t>> out = segments(n.text, o);
    for (auto& [b, e] : out) std::tie(b, e) = original_span(n, b, e);
    return out;
  }
  std::vector<std::pair<size_t, size_t>> out;
  for (const TextSegment& s :
       split_into_segments(text, segment_budget(*impl_, *r.voice, r.max_segment_tokens)))
    out.emplace_back(s.begin, s.end);
  return out;
}

Audio Engine::synthesize(std::string_view text, const SynthesisOptions& options,
                         const std::function<void(const AudioChunk&)>& on_chunk) const {
  ResolvedSynthesis r = impl_->resolve(options);
  validate_text(text);
  if (options.normalize) {  // the spoken form is synthesized; the spans go back to the original text
    const NormalizedText n = normalize(text);
    SynthesisOptions o = options;
    o.normalize = false;
    if (!on_chunk) return synthesize(n.text, o);
    return synthesize(n.text, o, [&](const AudioChunk& chunk) {
      AudioChunk c = chunk;
      std::tie(c.text_begin, c.text_end) = original_span(n, chunk.text_begin, chunk.text_end);
      on_chunk(c);
    });
  }
  const Tokenizer& tokenizer = *impl_->tokenizer;
  const std::vector<TextSegment> segments =
      split_into_segments(text, segment_budget(*impl_, *r.voice, r.max_segment_tokens));

  Audio audio;
  audio.sample_rate = impl_->manifest.sample_rate;
  SegmentObserver observer(audio, on_chunk, options.should_abort, options.keep_samples || !on_chunk);
  for (size_t i = 0; i < segments.size(); ++i) {
    const TextSegment& seg = segments[i];
    size_t text_end = 0;
    std::vector<Token> tokens =
        prepare_and_tokenize(tokenizer, text.substr(seg.begin, seg.end - seg.begin), &text_end);
    impl_->check_length(*r.voice, tokens.size());
    for (Token& t : tokens) {
      t.begin += seg.begin;
      t.end += seg.begin;
    }
    TextWindowQueue queue(impl_->manifest.text_window);
    queue.append(tokens);
    queue.finish(seg.begin + text_end);

    GenerationSettings settings = r.settings;
    if (settings.max_frames > 0) settings.max_frames -= audio.frames;
    const std::unique_ptr<NoiseSource> noise = i > 0 ? segment_noise(i, r, audio.frames) : nullptr;
    observer.frame_offset = audio.frames;
    GenerationResult result = generate_speech(impl_->manifest, *impl_->graphs, *r.voice, settings, queue,
                                              noise ? *noise : *r.noise, observer);
    audio.latents.insert(audio.latents.end(), result.latents.begin(), result.latents.end());
    audio.frames += result.frames;
    audio.stop_reason = result.stop_reason;
    if (result.stop_reason == StopReason::kCancelled || result.stop_reason == StopReason::kMaxFrames) break;
  }
  return audio;
}

}  // namespace vv
