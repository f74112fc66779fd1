// Tokenizer throughput (bytes of UTF-8 per second) on the shared English texts. Goal: >= 5 MB/s on one core.
//   build/dev/bench/bench_tokenizer [--benchmark_filter=...]
// Needs ../shared/data (the real tokenizer.json and demo texts) beside the repository.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "text/tokenizer.h"

namespace {

namespace fs = std::filesystem;
const fs::path kShared = fs::path(VV_SOURCE_DIR) / ".." / "shared" / "data";

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Data {
  vv::Tokenizer tokenizer;
  std::string text;
};

const Data* data() {
  static const Data* d = []() -> const Data* {
    if (!fs::exists(kShared / "tokenizer" / "tokenizer.json")) return nullptr;
    std::string text;
    for (const char* name : {"1p_vibevoice.txt", "1p_abs.txt", "long_climate_45min.txt"})
      text += read_file(kShared / "text" / name);
    return new Data{vv::Tokenizer::load(kShared / "tokenizer" / "tokenizer.json"), std::move(text)};
  }();
  return d;
}

// Whole text per call (the word cache is warm after the first iteration, as in a long-running server).
void BM_EncodeEnglish(benchmark::State& state) {
  const Data* d = data();
  if (!d) return state.SkipWithError("../shared/data is missing");
  size_t tokens = 0;
  for (auto _ : state) tokens = d->tokenizer.encode(d->text).size();
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d->text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_EncodeEnglish)->Unit(benchmark::kMillisecond);

// Sentence-sized calls, the shape of streaming text input.
void BM_EncodeSentences(benchmark::State& state) {
  const Data* d = data();
  if (!d) return state.SkipWithError("../shared/data is missing");
  std::vector<std::string_view> sentences;
  std::string_view rest = d->text;
  while (!rest.empty()) {
    const size_t end = std::min(rest.size(), rest.find_first_of(".!?\n") == std::string_view::npos
                                                 ? rest.size()
                                                 : rest.find_first_of(".!?\n") + 1);
    sentences.push_back(rest.substr(0, end));
    rest.remove_prefix(end);
  }
  for (auto _ : state)
    for (std::string_view s : sentences) benchmark::DoNotOptimize(d->tokenizer.encode(s));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d->text.size()));
}
BENCHMARK(BM_EncodeSentences)->Unit(benchmark::kMillisecond);

void BM_EncodeWithOffsets(benchmark::State& state) {
  const Data* d = data();
  if (!d) return state.SkipWithError("../shared/data is missing");
  for (auto _ : state) benchmark::DoNotOptimize(d->tokenizer.encode_with_offsets(d->text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d->text.size()));
}
BENCHMARK(BM_EncodeWithOffsets)->Unit(benchmark::kMillisecond);

// First encode after load(): every word goes through BPE merges (no cache hits yet).
void BM_EncodeEnglishColdCache(benchmark::State& state) {
  const Data* d = data();
  if (!d) return state.SkipWithError("../shared/data is missing");
  for (auto _ : state) {
    state.PauseTiming();
    auto fresh =
        std::make_unique<vv::Tokenizer>(vv::Tokenizer::load(kShared / "tokenizer" / "tokenizer.json"));
    state.ResumeTiming();
    benchmark::DoNotOptimize(fresh->encode(d->text));
    state.PauseTiming();
    fresh.reset();
    state.ResumeTiming();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * d->text.size()));
}
BENCHMARK(BM_EncodeEnglishColdCache)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Load(benchmark::State& state) {
  if (!data()) return state.SkipWithError("../shared/data is missing");
  for (auto _ : state)
    benchmark::DoNotOptimize(vv::Tokenizer::load(kShared / "tokenizer" / "tokenizer.json"));
}
BENCHMARK(BM_Load)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
