// Engine::synthesize: the whole text at once, in the calling thread. A text too long for one utterance's
// position budget is split into segments (text/segmenter.h), each generated from the voice prompt as the
// official pipeline generates one utterance; frames, chunks and alignment spans continue across segments.
#include <algorithm>

#include "engine/engine_impl.h"
#include "generate/incremental_text.h"
#include "text/segmenter.h"
#include "text/text_prep.h"

namespace vv {

namespace {

// Text tokens per segment when the caller sets none: the TTS LM holds the voice prompt, the text tokens
// and the speech frames; speech takes about 2-2.5 frames per text token (7.5 frames/s, ~3 tokens/s of
// English), so 3 frames per token leaves a margin.
constexpr int64_t kPositionsPerTextToken = 1 + 3;

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

// Injected noise for a later segment: its frame f is frame offset + f of the whole text.
class OffsetNoise final : public NoiseSource {
 public:
  OffsetNoise(NoiseSource& inner, int64_t offset) : inner_(inner), offset_(offset) {}
  void initial(int64_t frame, std::span<float> x) override { inner_.initial(offset_ + frame, x); }
  void step(int64_t frame, int k, std::span<float> xi) override { inner_.step(offset_ + frame, k, xi); }

 private:
  NoiseSource& inner_;
  int64_t offset_;
};

}  // namespace

uint64_t segment_seed(uint64_t seed, size_t index) {
  if (index == 0) return seed;
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(index);  // SplitMix64 of seed + i * phi
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

Audio Engine::synthesize(std::string_view text, const SynthesisOptions& options,
                         const std::function<void(const AudioChunk&)>& on_chunk) const {
  ResolvedSynthesis r = impl_->resolve(options);
  validate_text(text);
  const Tokenizer& tokenizer = *impl_->tokenizer;
  const int64_t room = impl_->manifest.max_positions - r.voice->info.tts_len;
  const int64_t budget = options.max_segment_tokens > 0 ? std::min<int64_t>(options.max_segment_tokens, room)
                                                        : room / kPositionsPerTextToken;
  const std::vector<TextSegment> segments = split_into_segments(
      text, static_cast<size_t>(std::max<int64_t>(1, budget)), [&](std::string_view piece) {
        const std::string prepared = prepare_text(piece).text;  // as prepare_and_tokenize() speaks it
        return prepared.size() <= 1 ? size_t{0} : tokenizer.encode(prepared).size();
      });

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
    std::unique_ptr<NoiseSource> noise;
    if (i > 0) {
      noise = options.noise
                  ? std::unique_ptr<NoiseSource>(std::make_unique<OffsetNoise>(*r.noise, audio.frames))
                  : std::make_unique<SeededNoise>(segment_seed(options.seed, i));
    }
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
