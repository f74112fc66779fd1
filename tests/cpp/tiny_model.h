// The tiny random model shared by the model-backed tests (env VV_TEST_MODEL_DIR, set by scripts/test.sh
// from scripts/make_test_model.sh). Locally a missing model skips the test; under CI=true it fails.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_env.h"
#include "vibevoice/vibevoice.hpp"

namespace vv_test {

inline std::string model_dir() {
  const char* dir = std::getenv("VV_TEST_MODEL_DIR");
  return dir ? dir : "";
}

// A model directory that scripts/make_test_model.sh writes under $VV_TEST_ARTIFACTS/tiny ("model",
// "model-int8", "model-int4", "model-fp16"), or "" when the variable is unset or the directory has no
// vibevoice.json.
inline std::string artifact_model_dir(const std::string& name) {
  const char* root = std::getenv("VV_TEST_ARTIFACTS");
  if (!root) return "";
  const std::filesystem::path dir = std::filesystem::path(root) / "tiny" / name;
  return std::filesystem::is_regular_file(dir / "vibevoice.json") ? dir.string() : "";
}

// One engine for the whole test binary (loading is the slow part).
inline const vv::Engine& engine() {
  static const vv::Engine instance = vv::Engine::load({model_dir(), 1, "cpu"});
  return instance;
}

}  // namespace vv_test

#define REQUIRE_MODEL()                                                                          \
  if (vv_test::model_dir().empty()) {                                                            \
    if (vv_test::in_ci()) FAIL() << "VV_TEST_MODEL_DIR is not set (scripts/make_test_model.sh)"; \
    GTEST_SKIP() << "set VV_TEST_MODEL_DIR to the tiny model (scripts/make_test_model.sh)";      \
  }

#define REQUIRE_ARTIFACT_MODEL(name)                                                           \
  if (vv_test::artifact_model_dir(name).empty()) {                                             \
    const std::string what = std::string("$VV_TEST_ARTIFACTS/tiny/") + (name);                 \
    if (vv_test::in_ci()) FAIL() << what << " is missing (scripts/make_test_model.sh)";        \
    GTEST_SKIP() << what << " is missing: set VV_TEST_ARTIFACTS (scripts/make_test_model.sh)"; \
  }
