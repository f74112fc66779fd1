// Helpers shared by the fuzz targets (tests/fuzz/README in docs/TESTING.md): a per-process scratch
// directory for the parsers that read files, and the real tokenizer, loaded once.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "text/tokenizer.h"

namespace vv::fuzz {

// A scratch directory of this process (removed at exit), e.g. /tmp/vv-fuzz-<pid>.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("vv-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    static const struct Cleanup {
      std::filesystem::path p;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(p, ec);
      }
    } cleanup{d};
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
}

// The real Qwen2.5 tokenizer: $VV_FUZZ_TOKENIZER or ../shared/data/tokenizer/tokenizer.json.
inline const Tokenizer& real_tokenizer() {
  static const Tokenizer tok = [] {
    const char* env = std::getenv("VV_FUZZ_TOKENIZER");
    const std::filesystem::path path = env ? std::filesystem::path(env)
                                           : std::filesystem::path(VV_SOURCE_DIR) / ".." / "shared" / "data" /
                                                 "tokenizer" / "tokenizer.json";
    return Tokenizer::load(path);
  }();
  return tok;
}

[[noreturn]] inline void mismatch(const char* what) {
  std::fprintf(stderr, "fuzz: invariant violated: %s\n", what);
  std::abort();
}

}  // namespace vv::fuzz
