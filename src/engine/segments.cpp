#include "engine/segments.h"

#include <algorithm>

#include "text/text_prep.h"

namespace vv {

namespace {

constexpr int64_t kPositionsPerTextToken = 1 + 3;

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

SegmentBudget segment_budget(const Engine::Impl& engine, const VoicePreset& voice, int max_segment_tokens) {
  const int64_t room = engine.manifest.max_positions - voice.info.tts_len;
  const int64_t max =
      max_segment_tokens > 0 ? std::min<int64_t>(max_segment_tokens, room) : room / kPositionsPerTextToken;
  const Tokenizer& tokenizer = *engine.tokenizer;
  return {static_cast<size_t>(std::max<int64_t>(1, max)), 0, [&tokenizer](std::string_view piece) {
            const std::string prepared = prepare_text(piece).text;  // as prepare_and_tokenize() speaks it
            return prepared.size() <= 1 ? size_t{0} : tokenizer.encode(prepared).size();
          }};
}

std::unique_ptr<NoiseSource> segment_noise(size_t index, const ResolvedSynthesis& r, int64_t first_frame) {
  if (r.injected_noise) return std::make_unique<OffsetNoise>(*r.noise, first_frame);
  return std::make_unique<SeededNoise>(segment_seed(r.seed, index));
}

void SegmentQueues::open() {
  queues_.push_back(std::make_unique<TextWindowQueue>(text_window_));
}

TextWindowQueue& SegmentQueues::open_segment() {
  std::lock_guard lock(mutex_);
  return *queues_.back();
}

void SegmentQueues::end_segment(size_t text_end) {
  {
    std::lock_guard lock(mutex_);
    queues_.back()->finish(text_end);
    open();
  }
  cv_.notify_all();
}

void SegmentQueues::finish(size_t text_end) {
  {
    std::lock_guard lock(mutex_);
    queues_.back()->finish(text_end);
    finished_ = true;
  }
  cv_.notify_all();
}

void SegmentQueues::cancel() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    for (auto& q : queues_) q->cancel();
  }
  cv_.notify_all();
}

bool SegmentQueues::ready(size_t index) {
  std::lock_guard lock(mutex_);
  return cancelled_ || finished_ || index < queues_.size();
}

TextWindowQueue* SegmentQueues::segment(size_t index) {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return cancelled_ || finished_ || index < queues_.size(); });
  if (cancelled_ || index >= queues_.size()) return nullptr;
  return queues_[index].get();
}

}  // namespace vv
