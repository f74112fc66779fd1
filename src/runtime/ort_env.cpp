#include "runtime/ort_env.h"

#include <cstdlib>

#include "core/error.h"

namespace vv::ort {

namespace {

int g_pool_threads = -1;  // written once, inside the static initialisation of env()

}  // namespace

Ort::Env& env(int threads) {
  static Ort::Env instance = [threads] {
    // The npm build of ONNX Runtime 1.30 starts Microsoft's 1DS telemetry uploader when the first
    // OrtEnv is created (onnxruntime/core/platform/posix/telemetry.cc): it leaves an empty
    // $TMPDIR/mat-debug-<pid>.log and a .ses file per process, a device id and event cache under
    // ~/.cache/Microsoft/DeveloperTools/.onnxruntime, and uploads events. The library reads
    // ORT_DISABLE_TELEMETRY only at that moment, so it is set here, before the first OrtEnv; an explicit
    // value in the environment is kept (overwrite = 0).
    setenv("ORT_DISABLE_TELEMETRY", "1", 0);
    Ort::ThreadingOptions pools;
    pools.SetGlobalIntraOpNumThreads(threads);
    pools.SetGlobalInterOpNumThreads(1);  // sessions run sequentially (ORT_SEQUENTIAL)
    pools.SetGlobalSpinControl(1);        // one pool: its spinning workers compete with nobody
    g_pool_threads = threads;
    return Ort::Env(pools, ORT_LOGGING_LEVEL_WARNING, "vibevoice");
  }();
  return instance;
}

bool global_pool_fits(int threads) {
  return g_pool_threads == threads;
}

Ort::Value view(const Tensor& t) {
  static const Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  const auto& shape = t.shape();
  if (t.dtype() == DType::kF32) {
    return Ort::Value::CreateTensor<float>(cpu, static_cast<float*>(t.raw()), t.size(), shape.data(),
                                           shape.size());
  }
  return Ort::Value::CreateTensor<int64_t>(cpu, static_cast<int64_t*>(t.raw()), t.size(), shape.data(),
                                           shape.size());
}

Tensor adopt(Ort::Value&& value, const std::string& what) {
  if (!value.IsTensor()) fail(ErrorKind::kModel, what + " is not a tensor");
  auto info = value.GetTensorTypeAndShapeInfo();
  DType dtype;
  switch (info.GetElementType()) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      dtype = DType::kF32;
      break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      dtype = DType::kI64;
      break;
    default:
      fail(ErrorKind::kModel, what + " has an unsupported element type (expected float32 or int64)");
  }
  std::vector<int64_t> shape = info.GetShape();
  auto owner = std::make_shared<Ort::Value>(std::move(value));
  void* data = owner->GetTensorMutableRawData();
  return Tensor::adopt(dtype, std::move(shape), data, std::move(owner));
}

}  // namespace vv::ort
