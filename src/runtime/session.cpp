#include "runtime/session.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "runtime/ort_env.h"

namespace vv {

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& item : items) s += (s.empty() ? "" : ", ") + item;
  return s.empty() ? "(none)" : s;
}

const char* provider_key(const std::string& provider) {
  if (provider == "cpu") return "CPUExecutionProvider";
  if (provider == "cuda") return "CUDAExecutionProvider";
  return nullptr;
}

}  // namespace

std::vector<std::string> available_providers() {
  try {
    return Ort::GetAvailableProviders();
  } catch (const Ort::Exception& e) {
    fail(ErrorKind::kRuntime, std::string("cannot list ONNX Runtime execution providers: ") + e.what());
  }
}

void check_provider(const std::string& provider) {
  const char* key = provider_key(provider);
  if (!key) fail(ErrorKind::kUsage, "unknown execution provider '" + provider + "' (expected cpu or cuda)");
  const auto available = available_providers();
  if (std::find(available.begin(), available.end(), key) == available.end()) {
    fail(ErrorKind::kRuntime,
         "execution provider '" + provider + "' (" + key +
             ") is not available in this ONNX Runtime build; available providers: " + join(available));
  }
}

namespace {

std::string dims_string(const std::vector<int64_t>& dims, const char* any) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + (dims[i] < 0 ? std::string(any) : std::to_string(dims[i]));
  return s + "]";
}

// Declared shape of a graph input/output; symbolic axes are -1. Empty with has_shape = false when the
// graph declares none (then nothing can be checked).
struct DeclaredShape {
  bool has_shape = false;
  std::vector<int64_t> dims;
};

DeclaredShape declared_shape(const Ort::TypeInfo& info) {
  DeclaredShape d;
  if (info.GetONNXType() != ONNX_TYPE_TENSOR) return d;
  const auto tensor = info.GetTensorTypeAndShapeInfo();
  d.dims = tensor.GetShape();
  d.has_shape = !d.dims.empty();  // no declared shape reads as rank 0; the engine has no scalar I/O
  return d;
}

}  // namespace

struct Session::Impl {
  std::string path;
  std::unique_ptr<Ort::Session> session;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<DeclaredShape> input_shapes, output_shapes;
};

Session::Session(const std::string& path, const RuntimeOptions& options) : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  check_provider(options.provider);
  if (!std::filesystem::is_regular_file(path)) fail(ErrorKind::kModel, "graph file not found: " + path);

  if (options.threads < 0)
    fail(ErrorKind::kUsage, "threads must be >= 0, got " + std::to_string(options.threads));
  Ort::Env& env = ort::env(options.threads);  // before any provider set-up: ORT's logger lives in the Env
  Ort::SessionOptions so;
  so.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
  so.SetExecutionMode(ExecutionMode::ORT_SEQUENTIAL);
  if (ort::global_pool_fits(options.threads)) {
    so.DisablePerSessionThreads();  // share the process-wide pool (see ort_env.h)
  } else {
    // Another thread count than the process pool's: an own pool, whose idle workers must not spin.
    so.SetInterOpNumThreads(1);
    if (options.threads > 0) so.SetIntraOpNumThreads(options.threads);
    so.AddConfigEntry("session.intra_op.allow_spinning", "0");
  }
  if (options.provider == "cuda") {
    try {
      OrtCUDAProviderOptions cuda{};
      so.AppendExecutionProvider_CUDA(cuda);
    } catch (const Ort::Exception& e) {
      fail(ErrorKind::kRuntime,
           std::string("cannot initialise the CUDA execution provider (this ONNX Runtime "
                       "build lists it but cannot load it; use a CUDA-enabled "
                       "ONNX Runtime): ") +
               e.what() + "; available providers: " + join(available_providers()));
    }
  }
  try {
    impl_->session = std::make_unique<Ort::Session>(env, path.c_str(), so);
  } catch (const Ort::Exception& e) {
    fail(ErrorKind::kModel, "cannot load graph " + path + ": " + e.what());
  }
  Ort::AllocatorWithDefaultOptions alloc;
  try {
    for (size_t i = 0; i < impl_->session->GetInputCount(); ++i) {
      impl_->inputs.emplace_back(impl_->session->GetInputNameAllocated(i, alloc).get());
      impl_->input_shapes.push_back(declared_shape(impl_->session->GetInputTypeInfo(i)));
    }
    for (size_t i = 0; i < impl_->session->GetOutputCount(); ++i) {
      impl_->outputs.emplace_back(impl_->session->GetOutputNameAllocated(i, alloc).get());
      impl_->output_shapes.push_back(declared_shape(impl_->session->GetOutputTypeInfo(i)));
    }
  } catch (const Ort::Exception& e) {
    fail(ErrorKind::kModel, "cannot read the inputs and outputs of graph " + path + ": " + e.what());
  }
}

Session::~Session() = default;

const std::string& Session::path() const {
  return impl_->path;
}
const std::vector<std::string>& Session::input_names() const {
  return impl_->inputs;
}
const std::vector<std::string>& Session::output_names() const {
  return impl_->outputs;
}

void Session::require_io(const std::vector<std::string>& inputs,
                         const std::vector<std::string>& outputs) const {
  auto check = [&](const std::vector<std::string>& want, const std::vector<std::string>& have,
                   const char* what) {
    for (const auto& name : want) {
      if (std::find(have.begin(), have.end(), name) == have.end()) {
        fail(ErrorKind::kModel, impl_->path + ": missing " + what + " '" + name + "' (graph has: " +
                                    join(have) + "); the model directory does not match this engine");
      }
    }
    for (const auto& name : have) {
      if (std::find(want.begin(), want.end(), name) == want.end()) {
        fail(ErrorKind::kModel, impl_->path + ": unexpected " + what + " '" + name +
                                    "'; the model directory does not match this engine");
      }
    }
  };
  check(inputs, impl_->inputs, "input");
  check(outputs, impl_->outputs, "output");
}

void Session::require_shape(const std::string& name, const std::vector<int64_t>& dims,
                            const std::string& meaning) const {
  const DeclaredShape* declared = nullptr;
  const char* what = "input";
  for (size_t i = 0; i < impl_->inputs.size(); ++i)
    if (impl_->inputs[i] == name) declared = &impl_->input_shapes[i];
  for (size_t i = 0; !declared && i < impl_->outputs.size(); ++i) {
    if (impl_->outputs[i] == name) {
      declared = &impl_->output_shapes[i];
      what = "output";
    }
  }
  if (!declared) fail(ErrorKind::kModel, impl_->path + ": no input or output named '" + name + "'");
  if (!declared->has_shape) return;
  bool ok = declared->dims.size() == dims.size();
  for (size_t i = 0; ok && i < dims.size(); ++i)
    ok = dims[i] == kAnyDim || declared->dims[i] < 0 || declared->dims[i] == dims[i];
  if (!ok) {
    fail(ErrorKind::kModel, impl_->path + ": " + what + " '" + name + "' has shape " +
                                dims_string(declared->dims, "?") + " but vibevoice.json implies " + meaning +
                                " = " + dims_string(dims, "*") +
                                "; the graph and the manifest do not belong to the same model");
  }
}

std::vector<Tensor> Session::run(std::span<const NamedTensor> inputs,
                                 std::span<const std::string> outputs) const {
  std::vector<const char*> in_names;
  std::vector<Ort::Value> in_values;
  in_names.reserve(inputs.size());
  in_values.reserve(inputs.size());
  for (const auto& in : inputs) {
    in_names.push_back(in.name);
    in_values.push_back(ort::view(*in.tensor));
  }
  std::vector<const char*> out_names;
  out_names.reserve(outputs.size());
  for (const auto& name : outputs) out_names.push_back(name.c_str());

  std::vector<Ort::Value> results;
  try {
    results = impl_->session->Run(Ort::RunOptions{nullptr}, in_names.data(), in_values.data(),
                                  in_values.size(), out_names.data(), out_names.size());
  } catch (const Ort::Exception& e) {
    fail(ErrorKind::kRuntime, "running " + impl_->path + " failed: " + e.what());
  }
  std::vector<Tensor> tensors;
  tensors.reserve(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    tensors.push_back(ort::adopt(std::move(results[i]), impl_->path + " output '" + outputs[i] + "'"));
  }
  return tensors;
}

}  // namespace vv
