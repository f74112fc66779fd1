// Helpers shared by vv_bench's modes (vv_bench.cpp, kernels_q8.cpp, batch_streams.cpp): wall-clock
// timing with a median over repeated calls, and the voice lookup of the internal-layer benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/manifest.h"
#include "model/voice.h"

namespace vv::bench {

using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Median wall time of call(prepare()) over reps runs after one warm-up run (ORT's first Run allocates);
// prepare() is not timed. The median is robust against the shared machine's noise.
template <class Prepare, class Call>
double median_ms(int reps, Prepare&& prepare, Call&& call) {
  auto warm = prepare();
  call(warm);
  std::vector<double> t;
  t.reserve(static_cast<size_t>(reps));
  for (int i = 0; i < reps; ++i) {
    auto in = prepare();
    const auto t0 = Clock::now();
    call(in);
    t.push_back(ms_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Median wall time of f() over reps runs after one warm-up run.
template <class F>
double median_ms(int reps, F&& f) {
  return median_ms(
      reps, [] { return 0; }, [&](int) { f(); });
}

// The preset of voice `name` of the model directory (its voices manifest), or an error naming it.
inline VoicePreset load_voice(const ModelManifest& m, const std::string& name) {
  const auto voices = load_voice_list(m.voices_manifest_path);
  auto it = std::find_if(voices.begin(), voices.end(), [&](const VoiceInfo& v) { return v.name == name; });
  if (it == voices.end()) throw std::runtime_error("unknown voice " + name);
  return VoicePreset::load(m, *it);
}

}  // namespace vv::bench
