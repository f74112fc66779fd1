// `vv_bench q8`: the q8_0 GEMM kernel against ONNX Runtime's MatMulNBits and fp32 MatMul (kernels_q8.cpp).
#pragma once

#include <string>

namespace vv::bench {

// model_dir: the one-node models of bench/make_q8_models.py. Prints a table; writes JSON to json_path
// unless it is empty. Returns the process exit code.
int run_q8(const std::string& model_dir, int reps, const std::string& json_path);

}  // namespace vv::bench
