// The TTS LM position limit (architecture.md 3.10) on the tiny random model: a copy of its directory whose
// manifest lowers max_positions (the graphs are shared by symbolic links) makes the limit reachable in a
// few frames, where the stop frame follows from the manifest and voice lengths alone. (The model's own
// 8192 positions take 8127 frames for "Hello", 26 s: the same arithmetic, too slow for the suite.)
#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <system_error>

#include "model/manifest.h"
#include "text/text_prep.h"
#include "text/tokenizer.h"
#include "tiny_model.h"
#include "vibevoice/vibevoice.hpp"

namespace {

namespace fs = std::filesystem;

// The tiny model with max_positions = `max_positions`, in a temporary directory removed at the end.
class LimitedModel {
 public:
  explicit LimitedModel(int max_positions)
      : dir_(fs::temp_directory_path() / ("vv_limited_model_" + std::to_string(::getpid()))) {
    const fs::path source = vv_test::model_dir();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const auto& entry : fs::directory_iterator(source))
      if (entry.path().filename() != "vibevoice.json")
        fs::create_symlink(fs::absolute(entry.path()), dir_ / entry.path().filename());
    nlohmann::json manifest = nlohmann::json::parse(std::ifstream(source / "vibevoice.json"));
    manifest["max_positions"] = max_positions;
    std::ofstream(dir_ / "vibevoice.json") << manifest.dump(2);
  }
  ~LimitedModel() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  LimitedModel(const LimitedModel&) = delete;
  LimitedModel& operator=(const LimitedModel&) = delete;
  std::string dir() const { return dir_.string(); }

 private:
  fs::path dir_;
};

vv::SynthesisOptions unlimited() {
  vv::SynthesisOptions o;
  o.voice = "synthetic";
  o.seed = 3;
  o.ignore_eos = true;  // only the position limit can stop it
  o.chunk_frames = 4;
  o.max_segment_tokens = 1 << 30;  // one segment as long as the text fits the positions at all
  return o;
}

size_t token_count(const vv::Tokenizer& tok, const std::string& text) {
  return tok.encode(vv::prepare_text(text).text).size();
}

}  // namespace

// With L = the voice's TTS prompt length, w = text_window, s = speech_window and M = L + 2w + s - 1:
//  - a text of T <= w tokens is fed whole (L + T positions); then every frame is fed until one would take
//    position M + 1: that frame is still generated (3.10: "not fed"), so frames = M - L - T + 1;
//  - a text of at least 2w tokens: window 1 (w) and its s frames fit (L + w + s <= M), window 2 would need
//    L + 2w + s > M positions and is not fed: generation stops at the window boundary after s frames.
TEST(EngineLimits, StopsAtThePositionLimitOnTheExactFrame) {
  REQUIRE_MODEL();
  const vv::ModelManifest base = vv::ModelManifest::load(vv_test::model_dir());
  const vv::Tokenizer tok = vv::Tokenizer::load(base.tokenizer_path);
  const int64_t w = base.text_window, s = base.speech_window;
  const int64_t L = vv_test::engine().voices().at(0).tts_len;
  const int64_t M = L + 2 * w + s - 1;
  const LimitedModel model(static_cast<int>(M));
  const vv::Engine engine = vv::Engine::load({model.dir(), 1, "cpu"});

  const std::string short_text = "Hello";
  const auto t_short = static_cast<int64_t>(token_count(tok, short_text));
  ASSERT_LE(t_short, w);
  const vv::Audio a = engine.synthesize(short_text, unlimited());
  EXPECT_EQ(a.stop_reason, vv::StopReason::kMaxLength);
  EXPECT_EQ(a.frames, M - L - t_short + 1);
  EXPECT_EQ(a.samples.size(), static_cast<size_t>(a.frames * engine.samples_per_frame()));

  const std::string long_text = "One two three four five six seven eight nine ten.";
  const auto t_long = static_cast<int64_t>(token_count(tok, long_text));
  ASSERT_GE(t_long, 2 * w);
  ASSERT_LE(L + t_long, M);  // short enough to be accepted
  const vv::Audio b = engine.synthesize(long_text, unlimited());
  EXPECT_EQ(b.stop_reason, vv::StopReason::kMaxLength);
  EXPECT_EQ(b.frames, s);

  // The same through a Stream.
  vv::Stream st = engine.stream(unlimited());
  st.push_text(short_text);
  st.finish();
  vv::StreamEvent ev;
  while ((ev = st.pull()).kind != vv::StreamEvent::kEnd) {
  }
  EXPECT_EQ(ev.stop_reason, vv::StopReason::kMaxLength);
  EXPECT_EQ(ev.frame, M - L - t_short + 1);

  // Text beyond one utterance's positions is no longer refused: a stream speaks it in segments, as
  // synthesize() does (test_engine_long_text.cpp), each segment within the limit.
  const std::string too_long = long_text + " " + long_text + " more";
  vv::SynthesisOptions capped = unlimited();
  capped.max_frames = 4 * s;
  vv::Stream st2 = engine.stream(capped);
  st2.push_text(too_long);
  st2.finish();
  const vv::Audio streamed = st2.wait();
  const vv::Audio whole = engine.synthesize(too_long, capped);
  EXPECT_EQ(streamed.frames, whole.frames);
  EXPECT_EQ(streamed.latents, whole.latents);
  EXPECT_GT(whole.frames, s);  // more than the first segment's window
}
