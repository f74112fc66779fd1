// Internal to src/runtime: the process-wide ONNX Runtime environment and Tensor <-> Ort::Value bridges.
// Only runtime .cpp files include this (it pulls in the ONNX Runtime headers).
#pragma once

#include <onnxruntime_cxx_api.h>

#include "runtime/tensor.h"

namespace vv::ort {

// One Ort::Env for the whole process, created on first use (thread-safe static initialisation) with ONE
// global intra-op thread pool of `threads` threads (0 = ONNX Runtime's default, the physical cores). The
// pool's size is fixed by the first call; `global_pool_fits(threads)` says whether a later request can
// share it.
//
// Why a shared pool: an engine runs 5 sessions one after another ~10 times per frame. With a pool per
// session, each pool's workers keep spinning after their Run() returns and steal the cores from the next
// session's workers: on 2 cores, int8 end to end was 1.8x slower with 2 threads than one shared pool
// (docs/PERFORMANCE.md, "Thread pools").
Ort::Env& env(int threads);
bool global_pool_fits(int threads);

// A view of `t` for ONNX Runtime; no copy, `t` must outlive the returned value.
Ort::Value view(const Tensor& t);

// Takes ownership of an ONNX Runtime output tensor (float32 or int64) without copying it.
Tensor adopt(Ort::Value&& value, const std::string& what);

}  // namespace vv::ort
