// Internal to src/runtime: the process-wide ONNX Runtime environment and Tensor <-> Ort::Value bridges.
// Only runtime .cpp files include this (it pulls in the ONNX Runtime headers).
#pragma once

#include <onnxruntime_cxx_api.h>

#include "runtime/tensor.h"

namespace vv::ort {

// One Ort::Env for the whole process, created on first use (thread-safe static initialisation).
Ort::Env& env();

// A view of `t` for ONNX Runtime; no copy, `t` must outlive the returned value.
Ort::Value view(const Tensor& t);

// Takes ownership of an ONNX Runtime output tensor (float32 or int64) without copying it.
Tensor adopt(Ort::Value&& value, const std::string& what);

}  // namespace vv::ort
