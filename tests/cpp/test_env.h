// Environment of the C++ tests, shared by every test file: whether they run under CI (CI=true), where a
// missing input is a failure instead of a skip (DEVELOPERS.md), and the real data in ../shared.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>

namespace vv_test {

inline bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && std::string_view(ci) == "true";
}

// The real Qwen2.5 tokenizer.json of the model (../shared beside the repository).
inline std::filesystem::path real_tokenizer_path() {
  return std::filesystem::path(VV_SOURCE_DIR) / ".." / "shared" / "data" / "tokenizer" / "tokenizer.json";
}

}  // namespace vv_test

// Skips the test (fails it under CI) when the file `path` of ../shared is missing.
#define REQUIRE_SHARED(path)                                                                     \
  do {                                                                                           \
    if (!std::filesystem::exists(path)) {                                                        \
      if (vv_test::in_ci()) FAIL() << "required test data is missing: " << (path);               \
      GTEST_SKIP() << "required test data is missing: " << (path) << " (../shared beside repo)"; \
    }                                                                                            \
  } while (0)
