// q8_0 GEMM for few rows (the speech steps' GEMVs, M = 1..8): Y[M, N] = X[M, K] · W^T (+ bias), with W
// quantized like llama.cpp's q8_0 — int8 with one fp32 scale per block of 32 along K — and the activations
// quantized the same way once per call (int8 + one fp32 scale per block of 32 of each row).
//
// Arithmetic. Per block b: dot_b = Σ_k qx[k]·qw[k] (exact int32: |q| <= 127, 32 terms), then
//   y = fma(float(dot_b), sw_b * sx_b, y)   for b = 0, 1, ... in order,   y += bias at the end.
// Every path (scalar, AVX2, AVX-VNNI) computes exactly this sequence of fp32 operations, so their results
// are bit-identical (tests/cpp/test_q8_gemm.cpp checks it). The error against a float GEMM is the
// quantization error of the two operands (each value off by at most half its block's scale).
//
// Packed layout (Q8Packed). K is padded with zeros to Kp = 32·nb, N to Np = 8·ng. Column group g holds
// output columns 8g..8g+7; its block b is 256 bytes: for each quad q of 4 consecutive k (8 per block),
// 8 columns × 4 bytes: byte[b][q][j][t] = W[8g + j][32b + 4q + t]. One 256-bit load is then 4 k of 8
// columns: the kernel broadcasts 4 activation bytes and gets 8 columns' partial dot products in the lanes
// of one register (no horizontal sums), and reads each weight once for all M rows of a pass.
// scales[(g·nb + b)·8 + j] = scale of column 8g + j, block b (0 for padding columns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace vv::kernels {

inline constexpr int64_t kQ8Block = 32;  // values per scale along K
inline constexpr int64_t kQ8Cols = 8;    // output columns per packed group

constexpr int64_t q8_blocks(int64_t k) {
  return (k + kQ8Block - 1) / kQ8Block;
}
constexpr int64_t q8_groups(int64_t n) {
  return (n + kQ8Cols - 1) / kQ8Cols;
}
// Sizes of the packed tensors for a K x N weight: int8 bytes and fp32 scales.
constexpr int64_t q8_packed_bytes(int64_t k, int64_t n) {
  return q8_groups(n) * q8_blocks(k) * 256;
}
constexpr int64_t q8_packed_scales(int64_t k, int64_t n) {
  return q8_groups(n) * q8_blocks(k) * kQ8Cols;
}

// A view of packed weights (the custom op's B and scales inputs; or a Q8Packed).
struct Q8View {
  const int8_t* data = nullptr;   // q8_packed_bytes(K, N)
  const float* scales = nullptr;  // q8_packed_scales(K, N)
  int64_t k = 0, n = 0;
};

struct Q8Packed {
  std::vector<int8_t> data;
  std::vector<float> scales;
  int64_t k = 0, n = 0;
  Q8View view() const { return {data.data(), scales.data(), k, n}; }
};

// Row-wise q8_0 quantization of W [N, K] (row-major, the transposed weight): q [N, Kp], scales [N, nb];
// scale = max|w| / 127 of the block, q = round-to-nearest-even(w / scale) (0 for an all-zero block).
struct Q8Rows {
  std::vector<int8_t> q;
  std::vector<float> scales;
  int64_t k = 0, n = 0;
};
Q8Rows q8_quantize_rows(const float* w, int64_t n, int64_t k);

// Packs row-quantized weights into the kernel's layout.
Q8Packed q8_pack(const Q8Rows& rows);
// Quantizes and packs W [N, K] (row-major) in one go.
inline Q8Packed q8_pack(const float* w, int64_t n, int64_t k) {
  return q8_pack(q8_quantize_rows(w, n, k));
}
// Quantizes and packs a weight stored as MatMul's B [K, N] (row-major).
Q8Packed q8_pack_kn(const float* b, int64_t k, int64_t n);

// Instruction set used by q8_gemm. kAuto = AVX2 where the CPU has it, else scalar. AVX-VNNI is opt-in: on
// the one VNNI CPU measured (a Xeon with AVX-VNNI) it was faster only from M = 4 rows and 1.8x slower at
// M = 1 (`vv_bench q8`), for reasons not found (vpdpbusd alone runs at 2/cycle there).
enum class Q8Isa { kAuto, kScalar, kAvx2, kAvxVnni };
bool q8_isa_supported(Q8Isa isa);  // kAuto and kScalar: always
Q8Isa q8_best_isa();
const char* q8_isa_name(Q8Isa isa);

// Quantized activations of one call: q [M, Kp] (padding 0), |q| [M, Kp], scales [M, nb].
struct Q8Activations {
  std::vector<int8_t> q, abs_q;
  std::vector<float> scales;
  int64_t m = 0, k = 0;
};
void q8_quantize_activations(const float* x, int64_t m, int64_t k, Q8Activations& out);

// Y[M, N] for the column groups [g_begin, g_end) only (a caller's parallel-for splits the groups across
// threads; each call writes only its own columns of Y). Y has row stride N. bias may be null.
void q8_gemm_groups(const Q8Activations& x, const Q8View& w, const float* bias, float* y, int64_t g_begin,
                    int64_t g_end, Q8Isa isa = Q8Isa::kAuto);

// Y[M, N] = X[M, K] · W^T + bias, one thread. Throws std::invalid_argument for an unsupported isa.
void q8_gemm(const float* x, int64_t m, const Q8View& w, const float* bias, float* y,
             Q8Isa isa = Q8Isa::kAuto);

// The same with the column groups split into `tasks` contiguous ranges of (nearly) equal size:
// parallel_for(tasks, fn) must call fn(i) once for every i in [0, tasks), on any threads, and return when
// all have returned (e.g. ORT's KernelContext::ParallelFor). The activations are quantized once, here;
// the result is bit-identical to q8_gemm for any split.
using Q8ParallelFor = std::function<void(int64_t tasks, const std::function<void(int64_t)>& fn)>;
void q8_gemm_parallel(const float* x, int64_t m, const Q8View& w, const float* bias, float* y, int64_t tasks,
                      const Q8ParallelFor& parallel_for, Q8Isa isa = Q8Isa::kAuto);

}  // namespace vv::kernels
