// Internal: the x86 SIMD paths of q8_gemm (q8_gemm_avx2.cpp), compiled for their instruction sets with
// function target attributes (the rest of the build stays baseline x86-64). Call only when
// q8_isa_supported() says the CPU has the instruction set. Not part of the kernel's API.
#pragma once

#include <cstdint>

#include "runtime/kernels/q8_gemm.h"

namespace vv::kernels::detail {

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define VV_Q8_X86 1
// vnni = true: AVX-VNNI (vpdpbusd on 256-bit registers) instead of vpmaddubsw + vpmaddwd + vpaddd.
void q8_gemm_groups_avx2(const Q8Activations& x, const Q8View& w, const float* bias, float* y,
                         int64_t g_begin, int64_t g_end, bool vnni);
// AVX2 version of q8_quantize_activations (bit-identical results); `out` is already sized.
void q8_quantize_activations_avx2(const float* x, int64_t m, int64_t k, Q8Activations& out);
#endif

}  // namespace vv::kernels::detail
