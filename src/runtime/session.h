// One ONNX Runtime inference session over one graph file, without exposing ONNX Runtime types.
// The typed graph wrappers (TextLm, TtsLm, ...) are built on top of it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/tensor.h"

namespace vv {

struct RuntimeOptions {
  int threads = 0;               // intra-op threads per session; 0 = ONNX Runtime's default
  std::string provider = "cpu";  // "cpu" or "cuda"; never silently replaced by another provider
};

// Execution providers compiled into the loaded ONNX Runtime library, e.g. "CPUExecutionProvider".
std::vector<std::string> available_providers();

// Throws kUsage for an unknown provider name and kRuntime when the provider is not in this build.
void check_provider(const std::string& provider);

struct NamedTensor {
  const char* name;  // null-terminated graph input name
  const Tensor* tensor;
};

class Session {
 public:
  // Loads `path` (external data files are resolved next to it). Throws kModel if the file is missing or
  // is not a valid graph, kRuntime/kUsage for provider problems.
  Session(const std::string& path, const RuntimeOptions& options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& path() const;
  const std::vector<std::string>& input_names() const;
  const std::vector<std::string>& output_names() const;

  // Checks that the graph has exactly these inputs and outputs (order-independent); throws kModel
  // naming the file and the first missing or unexpected name.
  void require_io(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs) const;

  // Checks the declared shape of input or output `name` against what the manifest implies: `dims` has one
  // entry per axis, kAnyDim where the engine does not fix the size. Symbolic (dynamic) graph axes match
  // anything. Throws kModel naming the file, the tensor, both shapes and `meaning` (e.g.
  // "[batch, latent_dim]"), so a manifest that does not belong to its graphs fails at load, not mid-run.
  static constexpr int64_t kAnyDim = -1;
  void require_shape(const std::string& name, const std::vector<int64_t>& dims,
                     const std::string& meaning) const;

  // Runs the graph. Inputs are passed as views (no copy); outputs are returned in the order asked for and
  // own their memory. Thread-safe (ONNX Runtime sessions may run concurrently).
  std::vector<Tensor> run(std::span<const NamedTensor> inputs, std::span<const std::string> outputs) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vv
