// vv_bench: end-to-end and per-stage benchmark of the engine (driven by bench/run.sh).
//
//   vv_bench e2e    --model DIR --voice V --text-file F [--frames 150 --steps 5 --cfg 1.5 --seed 0
//                   --threads 0 --chunk 0(adaptive)|K --decode-thread 0|1 --noise N.npy --out-audio A.npy
//                   --json OUT.json]
//   vv_bench stages --model DIR --voice V [--steps 5 --threads 0 --chunk 1 --frames 150 --windows W
//                   --reps 10 --json OUT.json]
//   vv_bench membw  [--threads N --json OUT.json]     memory read bandwidth, 1..N threads
//   vv_bench q8     --model Q8MODELS [--reps 200 --json OUT.json]   q8_0 GEMM vs MatMulNBits (kernels_q8.cpp)
//   vv_bench batch  --model DIR --voice V [--streams 4 --frames 150 --steps 5 --threads 0 --reps 10
//                   --json OUT.json]   cross-stream batching of speech steps and head calls
//                   (batch_streams.cpp)
//
// e2e uses only the public C++ API (vibevoice/vibevoice.hpp): Engine::load time, one warm-up frame, then
// one timed synthesize() of exactly --frames frames (EOS ignored) with an on_chunk callback that timestamps
// the first chunk. Peak RSS is getrusage(RUSAGE_SELF).ru_maxrss of this process.
//
// stages times each graph in isolation through the internal runtime layer (src/runtime), because the
// public API has no per-stage timings: text LM (T=5), TTS LM text step (T=5) and speech step (T=1) with
// the CFG branches batched as in the loop (B=2, src/generate/tts_branches), diffusion head (B=2, one solver
// step), connector, acoustic decoder (K=--chunk frames), and composes them into ms per frame with the loop's
// call counts (architecture.md 5.3):
//   text_lm  = windows/frames * t(text_lm)
//   tts_lm   = windows/frames * t(tts text) + t(tts speech)   (both CFG branches in one B=2 call)
//   diffusion= steps * t(head)      decoder = t(decoder K) / K      connector = t(connector)
// Run it in its own process (it loads the graphs a second time).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "batch_streams.h"
#include "common.h"
#include "generate/tts_branches.h"
#include "kernels_q8.h"
#include "model/manifest.h"
#include "model/npy.h"
#include "model/voice.h"
#include "runtime/model_graphs.h"
#include "vibevoice/vibevoice.hpp"

namespace {

using vv::bench::Clock;
using vv::bench::median_ms;
using vv::bench::ms_since;

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;  // Linux: KiB
}

struct Args {
  std::string mode, model, voice, text_file, noise, out_audio, json;
  int frames = 150, steps = 5, threads = 0, chunk = -1, reps = 10, windows = -1, decode_thread = 0,
      streams = 4;
  float cfg = 1.5f;
  uint64_t seed = 0;
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2)
    throw std::runtime_error("usage: vv_bench e2e|stages|batch|membw|q8 --model DIR --voice V ...");
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) throw std::runtime_error("missing value for " + k);
    std::string v = argv[++i];
    if (k == "--model")
      a.model = v;
    else if (k == "--voice")
      a.voice = v;
    else if (k == "--text-file")
      a.text_file = v;
    else if (k == "--noise")
      a.noise = v;
    else if (k == "--out-audio")
      a.out_audio = v;
    else if (k == "--json")
      a.json = v;
    else if (k == "--frames")
      a.frames = std::stoi(v);
    else if (k == "--steps")
      a.steps = std::stoi(v);
    else if (k == "--threads")
      a.threads = std::stoi(v);
    else if (k == "--chunk")
      a.chunk = std::stoi(v);
    else if (k == "--reps")
      a.reps = std::stoi(v);
    else if (k == "--decode-thread")
      a.decode_thread = std::stoi(v);
    else if (k == "--windows")
      a.windows = std::stoi(v);
    else if (k == "--streams")
      a.streams = std::stoi(v);
    else if (k == "--cfg")
      a.cfg = std::stof(v);
    else if (k == "--seed")
      a.seed = std::stoull(v);
    else
      throw std::runtime_error("unknown option " + k);
  }
  if (a.mode != "membw" && a.mode != "q8" && (a.model.empty() || a.voice.empty()))
    throw std::runtime_error("--model and --voice are required");
  return a;
}

void emit(const Args& a, const std::string& json) {
  std::cout << json << "\n";
  if (!a.json.empty()) std::ofstream(a.json) << json << "\n";
}

int run_e2e(const Args& a) {
  std::ifstream in(a.text_file);
  if (!in) throw std::runtime_error("cannot read --text-file " + a.text_file);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();

  const auto t_load = Clock::now();
  vv::Engine engine = vv::Engine::load({.model_dir = a.model, .threads = a.threads});
  const double load_s = ms_since(t_load) / 1000.0;

  vv::SynthesisOptions opts;
  opts.voice = a.voice;
  opts.steps = a.steps;
  opts.cfg_scale = a.cfg;
  opts.seed = a.seed;
  if (a.chunk >= 0) opts.chunk_frames = a.chunk;  // -1: the library's default (adaptive)
  opts.decode_thread = a.decode_thread != 0;
  opts.ignore_eos = true;

  // Warm-up: one frame (first-run allocations, lazy kernel set-up) — a server pays this once.
  opts.max_frames = 1;
  const auto t_warm = Clock::now();
  (void)engine.synthesize(text, opts);
  const double warmup_ms = ms_since(t_warm);

  opts.max_frames = a.frames;
  if (!a.noise.empty()) {
    const vv::NpyArray n = vv::read_npy(a.noise);
    opts.noise = vv::NoiseArray{n.to_f32(), n.shape};
  }
  const int hop = engine.samples_per_frame();
  double first_chunk_ms = -1;
  size_t got = 0, chunks = 0;
  std::vector<std::pair<size_t, size_t>> spans;  // distinct text spans = text windows used
  const auto t0 = Clock::now();
  vv::Audio audio = engine.synthesize(text, opts, [&](const vv::AudioChunk& c) {
    got += c.samples.size();
    ++chunks;
    if (first_chunk_ms < 0 && got >= static_cast<size_t>(hop)) first_chunk_ms = ms_since(t0);
    if (c.text_end > c.text_begin && (spans.empty() || spans.back() != std::pair{c.text_begin, c.text_end}))
      spans.emplace_back(c.text_begin, c.text_end);
  });
  const double total_ms = ms_since(t0);
  const double audio_s = static_cast<double>(audio.samples.size()) / engine.sample_rate();
  if (!a.out_audio.empty()) {
    const int64_t n = static_cast<int64_t>(audio.samples.size());
    vv::write_npy(a.out_audio, audio.samples, std::vector<int64_t>{n});
  }
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"load_s\": %.3f, \"warmup_ms\": %.1f, \"first_chunk_ms\": %.1f, \"total_ms\": %.1f, "
                "\"frames\": %lld, \"audio_s\": %.3f, \"rtf\": %.4f, \"ms_per_frame\": %.2f, "
                "\"peak_rss_mb\": %.1f, \"text_windows\": %zu, \"chunks\": %zu, \"stop_reason\": \"%s\"}",
                load_s, warmup_ms, first_chunk_ms, total_ms, static_cast<long long>(audio.frames), audio_s,
                total_ms / 1000.0 / audio_s, total_ms / static_cast<double>(audio.frames), peak_rss_mb(),
                spans.size(), chunks, vv::to_string(audio.stop_reason));
  emit(a, buf);
  return 0;
}

int run_stages(const Args& a) {
  const vv::ModelManifest m = vv::ModelManifest::load(a.model);
  const vv::RuntimeOptions ro{.threads = a.threads};
  const auto t_load = Clock::now();
  const vv::ModelGraphs g(m, ro);
  const double load_s = ms_since(t_load) / 1000.0;
  const vv::VoicePreset voice = vv::bench::load_voice(m, a.voice);
  const int64_t kvh = m.num_key_value_heads, d = m.head_dim, H = m.hidden_size, Z = m.latent_dim;

  vv::KvCache lm = vv::KvCache::copy_of(voice.lm_k, voice.lm_v, kvh, voice.info.lm_len, d);
  const std::vector<int32_t> ids(m.text_window, 785);
  const std::vector<float> hid5(static_cast<size_t>(m.text_window * H), 0.01f);
  const std::vector<float> hid1(static_cast<size_t>(H), 0.01f), z(static_cast<size_t>(Z), 0.1f);

  std::map<std::string, double> call;
  call["text_lm"] = median_ms(a.reps, [&] { (void)g.text_lm.run(ids, lm); });
  // The TTS LM exactly as the loop drives it: both CFG branches in one B=2 call (B=1 when cfg = 1).
  vv::TtsBranches tts(m, g.tts_lm, voice, a.cfg != 1.0f);
  call["tts_lm_text"] = median_ms(a.reps, [&] { tts.feed_text(hid5); });
  // speech steps at the mid-utterance length (prompt + frames/2 positions)
  while (tts.positive_length() < voice.info.tts_len + a.frames / 2) (void)tts.feed_speech(hid1);
  call["tts_lm_speech"] = median_ms(a.reps, [&] { (void)tts.feed_speech(hid1); });
  const std::vector<float> noisy(static_cast<size_t>(2 * Z), 0.1f), t{999.0f, 999.0f},
      cond(static_cast<size_t>(2 * H), 0.01f);
  call["diffusion_head_b2"] = median_ms(a.reps * 2, [&] { (void)g.diffusion_head.run(noisy, t, cond); });
  call["connector"] = median_ms(a.reps * 2, [&] { (void)g.connector.run(z); });
  vv::DecoderState st = g.acoustic_decoder.initial_state();
  const int K = std::max(1, a.chunk);  // decoder frames per call (-1: the default, 1)
  const std::vector<float> lat(static_cast<size_t>(Z * K), 0.1f);
  call["decoder"] = median_ms(a.reps, [&] { (void)g.acoustic_decoder.run(lat, st); });
  // A whole speech window per call (the adaptive schedule's steady state): with t(K) = a + b K, the
  // per-call part a is the low-resolution stages' weight reading, b the per-frame compute.
  const std::vector<float> lat_w(static_cast<size_t>(Z * m.speech_window), 0.1f);
  call["decoder_window"] = median_ms(a.reps, [&] { (void)g.acoustic_decoder.run(lat_w, st); });

  const double F = a.frames;
  const double W = a.windows >= 0 ? a.windows : (a.frames + m.speech_window - 1) / m.speech_window;
  std::map<std::string, double> per_frame{
      {"text_lm", W / F * call["text_lm"]},
      {"tts_lm", W / F * call["tts_lm_text"] + call["tts_lm_speech"]},
      {"diffusion", a.steps * call["diffusion_head_b2"]},
      {"decoder", call["decoder"] / K},
      {"connector", call["connector"]},
  };
  double sum = 0;
  for (auto& [k, v] : per_frame) sum += v;
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(3);
  o << "{\"load_s\": " << load_s << ", \"windows\": " << W << ", \"ms_per_call\": {";
  bool first = true;
  for (auto& [k, v] : call) o << (first ? "" : ", ") << "\"" << k << "\": " << v, first = false;
  o << "}, \"stages_ms_per_frame\": {";
  first = true;
  for (auto& [k, v] : per_frame) o << (first ? "" : ", ") << "\"" << k << "\": " << v, first = false;
  o << "}, \"sum_ms_per_frame\": " << sum << ", \"peak_rss_mb\": " << peak_rss_mb() << "}";
  emit(a, o.str());
  return 0;
}

}  // namespace

// Read bandwidth of this machine (GB/s) with 1 and --threads threads: the floor every bandwidth-bound stage
// is measured against (docs/PERFORMANCE.md). Sums a 512 MiB buffer of 64-bit words, best of 3.
int run_membw(const Args& a) {
  const size_t n = (size_t{512} << 20) / sizeof(uint64_t);
  std::vector<uint64_t> buf(n, 1);
  const int max_threads = a.threads > 0 ? a.threads : static_cast<int>(std::thread::hardware_concurrency());
  std::ostringstream o;
  o << "{\"read_gb_s\": {";
  for (int t = 1; t <= max_threads; t = t == max_threads ? t + 1 : std::min(2 * t, max_threads)) {
    double best = 0;
    std::vector<uint64_t> sums(static_cast<size_t>(t));
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = Clock::now();
      std::vector<std::thread> pool;
      for (int i = 0; i < t; ++i) {
        pool.emplace_back([&, i] {
          const size_t b = n / static_cast<size_t>(t) * static_cast<size_t>(i);
          const size_t e = i + 1 == t ? n : b + n / static_cast<size_t>(t);
          uint64_t s = 0;
          for (size_t j = b; j < e; ++j) s += buf[j];
          sums[static_cast<size_t>(i)] = s;
        });
      }
      for (auto& th : pool) th.join();
      best = std::max(best, static_cast<double>(n * sizeof(uint64_t)) / (ms_since(t0) * 1e6));
    }
    uint64_t total = 0;
    for (uint64_t s : sums) total += s;
    if (total != n) throw std::runtime_error("membw: wrong sum");
    o << (t == 1 ? "" : ", ") << "\"" << t << "\": " << std::fixed << std::setprecision(1) << best;
  }
  o << "}}";
  emit(a, o.str());
  return 0;
}

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    if (a.mode == "e2e") return run_e2e(a);
    if (a.mode == "stages") return run_stages(a);
    if (a.mode == "membw") return run_membw(a);
    if (a.mode == "q8") return vv::bench::run_q8(a.model, a.reps, a.json);
    if (a.mode == "batch")
      return vv::bench::run_batch({.model = a.model,
                                   .voice = a.voice,
                                   .json = a.json,
                                   .threads = a.threads,
                                   .reps = a.reps,
                                   .frames = a.frames,
                                   .steps = a.steps,
                                   .max_streams = a.streams});
    throw std::runtime_error("mode must be e2e, stages, batch, membw or q8");
  } catch (const std::exception& e) {
    std::cerr << "vv_bench: error: " << e.what() << "\n";
    return 1;
  }
}
