// Decoder chunking on the tiny random model: the adaptive default schedule gives the audio of every fixed
// chunk size bit for bit, starts with a one-frame chunk, never lets a chunk cross a speech window (so the
// timestamps equal those of one-frame chunks), and is used only for chunk-invariant model directories.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/manifest.h"
#include "text/timestamps.h"
#include "tiny_model.h"
#include "vibevoice/vibevoice.hpp"

namespace {

using vv_test::engine;
using vv_test::model_dir;

const char* kText =
    "The adaptive schedule starts small. Later chunks grow, while the listener has audio left to play, "
    "and they never cross the end of a speech window.";

vv::SynthesisOptions options(int chunk, bool decode_thread = false) {
  vv::SynthesisOptions o;
  o.voice = "synthetic";
  o.seed = 5;
  o.max_frames = 40;
  o.ignore_eos = true;
  o.chunk_frames = chunk;
  o.decode_thread = decode_thread;
  return o;
}

struct Synth {
  vv::Audio audio;
  std::vector<vv::AudioChunk> chunks;
};

Synth run(const vv::Engine& e, const vv::SynthesisOptions& o) {
  Synth r;
  r.audio = e.synthesize(kText, o, [&](const vv::AudioChunk& c) { r.chunks.push_back(c); });
  return r;
}

std::vector<vv::TimedSpan> words(const Synth& r) {
  vv::TimestampBuilder t(r.audio.sample_rate);
  for (const auto& c : r.chunks) t.add(c);
  return t.words(kText);
}

}  // namespace

TEST(EngineChunks, DefaultIsAdaptive) {
  EXPECT_EQ(vv::SynthesisOptions{}.chunk_frames, 0);
}

TEST(EngineChunks, AdaptiveScheduleGivesTheAudioOfEveryFixedChunkSize) {
  REQUIRE_MODEL();
  const int window = vv::ModelManifest::load(model_dir()).speech_window;
  ASSERT_TRUE(vv::ModelManifest::load(model_dir()).decoder_chunk_invariant);
  const Synth k1 = run(engine(), options(1));
  const auto k1_words = words(k1);
  for (int k : {2, 5}) EXPECT_EQ(run(engine(), options(k)).audio.samples, k1.audio.samples) << "K = " << k;
  for (bool decode_thread : {false, true}) {
    const Synth a = run(engine(), options(0, decode_thread));
    EXPECT_EQ(a.audio.samples, k1.audio.samples) << "decode thread " << decode_thread;
    EXPECT_EQ(a.audio.latents, k1.audio.latents);
    ASSERT_FALSE(a.chunks.empty());
    EXPECT_EQ(a.chunks.front().frame_count, 1) << "the first chunk is one frame (earliest first audio)";
    int64_t next = 0, largest = 0;
    for (const auto& c : a.chunks) {
      EXPECT_EQ(c.first_frame, next);
      EXPECT_EQ(c.first_frame / window, (c.first_frame + c.frame_count - 1) / window)
          << "chunk [" << c.first_frame << ", +" << c.frame_count << ") crosses a speech window";
      next += c.frame_count;
      largest = std::max(largest, c.frame_count);
    }
    EXPECT_EQ(next, 40);
    // The tiny model is far faster than real time: the chunks grow (fewer decoder calls than frames).
    EXPECT_GT(largest, 1);
    EXPECT_LT(a.chunks.size(), k1.chunks.size());
    const auto w = words(a);
    ASSERT_EQ(w.size(), k1_words.size());
    for (size_t i = 0; i < w.size(); ++i) {
      EXPECT_EQ(w[i].begin, k1_words[i].begin);
      EXPECT_DOUBLE_EQ(w[i].start_s, k1_words[i].start_s) << "word " << i;
      EXPECT_DOUBLE_EQ(w[i].end_s, k1_words[i].end_s) << "word " << i;
    }
  }
}

TEST(EngineChunks, StreamsUseTheAdaptiveScheduleToo) {
  REQUIRE_MODEL();
  const Synth k1 = run(engine(), options(1));
  vv::Stream s = engine().stream(options(0));
  s.push_text(kText);
  s.finish();
  std::vector<float> samples;
  std::vector<int64_t> sizes;
  for (auto ev = s.pull(); ev.kind != vv::StreamEvent::kEnd; ev = s.pull()) {
    if (ev.kind != vv::StreamEvent::kAudio) continue;
    samples.insert(samples.end(), ev.chunk.samples.begin(), ev.chunk.samples.end());
    sizes.push_back(ev.chunk.frame_count);
  }
  (void)s.wait();
  EXPECT_EQ(samples, k1.audio.samples);
  ASSERT_FALSE(sizes.empty());
  EXPECT_EQ(sizes.front(), 1);
  EXPECT_LT(sizes.size(), k1.chunks.size());
}

// A model directory exported before the decoder was chunk-invariant (no "decoder_chunk_invariant"): the
// default falls back to one-frame chunks, whose audio is that directory's reference.
TEST(EngineChunks, OlderExportsKeepOneFrameChunks) {
  REQUIRE_MODEL();
  namespace fs = std::filesystem;
  const fs::path src(model_dir());
  const fs::path dir = fs::temp_directory_path() / ("vv-old-export-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(src)) {  // the same graphs, voices and tokenizer
    const fs::path link = dir / entry.path().filename();
    if (entry.path().filename() == "vibevoice.json") continue;
    if (entry.is_directory()) {
      fs::create_directory_symlink(fs::absolute(entry.path()), link);
    } else {
      fs::create_symlink(fs::absolute(entry.path()), link);
    }
  }
  nlohmann::json j = nlohmann::json::parse(std::ifstream(src / "vibevoice.json"));
  j.erase("decoder_chunk_invariant");
  std::ofstream(dir / "vibevoice.json") << j.dump();
  {
    const vv::Engine old = vv::Engine::load({dir.string(), 1, "cpu"});
    const Synth r = run(old, options(0));
    for (const auto& c : r.chunks) EXPECT_EQ(c.frame_count, 1);
    EXPECT_EQ(r.chunks.size(), 40u);
  }
  fs::remove_all(dir);
}
