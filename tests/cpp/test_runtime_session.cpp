// Runtime smoke test: a tiny MatMul+Add graph (tests/tools/make_smoke_onnx.py, weights in external data)
// is opened through vv::Session, its I/O listed and validated, run, and checked against values computed here.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/error.h"
#include "runtime/session.h"
#include "test_env.h"

namespace {

// Path of the smoke graph, or empty (after GTEST_SKIP/FAIL) when the artifacts were not generated.
std::string smoke_graph() {
  const char* dir = std::getenv("VV_TEST_ARTIFACTS");
  const std::string path = dir ? std::string(dir) + "/smoke/matmul_add.onnx" : std::string();
  if (!path.empty() && std::filesystem::exists(path)) return path;
  return {};
}

#define REQUIRE_SMOKE_GRAPH(path)                                                                      \
  const std::string path = smoke_graph();                                                              \
  if (path.empty()) {                                                                                  \
    if (vv_test::in_ci())                                                                              \
      FAIL() << "VV_TEST_ARTIFACTS/smoke/matmul_add.onnx missing (tests/tools/make_smoke_onnx.py)";    \
    GTEST_SKIP() << "set VV_TEST_ARTIFACTS and run tests/tools/make_smoke_onnx.py $VV_TEST_ARTIFACTS"; \
  }

float weight(int i, int j) {
  return 0.5f * static_cast<float>(i + 1) - 0.25f * static_cast<float>(j);
}

}  // namespace

TEST(RuntimeSession, ListsInputsAndOutputs) {
  REQUIRE_SMOKE_GRAPH(path);
  vv::Session session(path, {1, "cpu"});
  EXPECT_EQ(session.input_names(), std::vector<std::string>{"x"});
  EXPECT_EQ(session.output_names(), std::vector<std::string>{"y"});
  EXPECT_NO_THROW(session.require_io({"x"}, {"y"}));
}

TEST(RuntimeSession, RunsWithDynamicBatchAndMatchesHandComputedValues) {
  REQUIRE_SMOKE_GRAPH(path);
  vv::Session session(path, {1, "cpu"});
  for (int64_t batch : {1, 4}) {
    std::vector<float> x(static_cast<size_t>(batch * 3));
    for (size_t i = 0; i < x.size(); ++i) x[i] = 0.3f * static_cast<float>(i) - 1.0f;
    const vv::Tensor input = vv::Tensor::from_floats(x, {batch, 3});
    const vv::NamedTensor inputs[] = {{"x", &input}};
    const std::string outputs[] = {"y"};
    auto result = session.run(inputs, outputs);
    ASSERT_EQ(result.size(), 1u);
    ASSERT_EQ(result[0].shape(), (std::vector<int64_t>{batch, 2}));
    const float bias[2] = {0.125f, -1.0f};
    for (int64_t r = 0; r < batch; ++r) {
      for (int j = 0; j < 2; ++j) {
        float expect = bias[j];
        for (int i = 0; i < 3; ++i) expect += x[static_cast<size_t>(r * 3 + i)] * weight(i, j);
        EXPECT_NEAR(result[0].floats()[static_cast<size_t>(r * 2 + j)], expect, 1e-6f) << "row " << r;
      }
    }
  }
}

TEST(RuntimeSession, ContractMismatchNamesFileAndTensor) {
  REQUIRE_SMOKE_GRAPH(path);
  vv::Session session(path, {1, "cpu"});
  try {
    session.require_io({"x", "position_ids"}, {"y"});
    FAIL() << "missing input accepted";
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kModel);
    EXPECT_NE(std::string(e.what()).find("position_ids"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("matmul_add.onnx"), std::string::npos) << e.what();
  }
  try {
    session.require_io({}, {"y"});
    FAIL() << "extra input accepted";
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kModel);
    EXPECT_NE(std::string(e.what()).find("unexpected input 'x'"), std::string::npos) << e.what();
  }
}

TEST(RuntimeSession, MissingOrCorruptGraphIsAModelError) {
  try {
    vv::Session session("/nonexistent/graph.onnx", {1, "cpu"});
    FAIL();
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kModel);
  }
  const auto corrupt = std::filesystem::temp_directory_path() / "vv_corrupt_graph.onnx";
  FILE* f = std::fopen(corrupt.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not a protobuf", f);
  std::fclose(f);
  try {
    vv::Session session(corrupt.string(), {1, "cpu"});
    FAIL();
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kModel);
    EXPECT_NE(std::string(e.what()).find("vv_corrupt_graph.onnx"), std::string::npos);
  }
  std::filesystem::remove(corrupt);
}

TEST(RuntimeSession, ProviderChoiceIsExplicit) {
  const auto providers = vv::available_providers();
  EXPECT_FALSE(providers.empty());
  EXPECT_NO_THROW(vv::check_provider("cpu"));
  try {
    vv::check_provider("tpu");
    FAIL();
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kUsage);
  }
  // CUDA either works or fails with a clear runtime error listing the providers; never a silent fallback.
  try {
    vv::check_provider("cuda");
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kRuntime);
    EXPECT_NE(std::string(e.what()).find("CPUExecutionProvider"), std::string::npos) << e.what();
  }
}

TEST(RuntimeTensor, OwnsAndClones) {
  vv::Tensor t = vv::Tensor::from_floats({1, 2, 3, 4, 5, 6}, {2, 3});
  vv::Tensor c = t.clone();
  t.floats()[0] = 42;
  EXPECT_EQ(c.floats()[0], 1.0f);
  EXPECT_EQ(c.shape_string(), "[2, 3]");
  EXPECT_THROW(vv::Tensor::from_floats({1, 2}, {3}), vv::Error);
  EXPECT_THROW((void)t.ints(), vv::Error);
  vv::Tensor empty = vv::Tensor::zeros(vv::DType::kF32, {1, 2, 0, 4});
  EXPECT_EQ(empty.size(), 0u);
}
