// q8_0 GEMM: quantization, packing, CPU dispatch and the portable scalar path (the reference the SIMD paths
// are tested against). The arithmetic is specified in q8_gemm.h.
#include "runtime/kernels/q8_gemm.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "runtime/kernels/q8_gemm_simd.h"

#ifdef VV_Q8_X86
#include <cpuid.h>
#endif

namespace vv::kernels {

namespace {

#ifdef VV_Q8_X86
// CPUID.(EAX=7, ECX=1):EAX bit 4 (clang 14's __builtin_cpu_supports does not know "avxvnni"). The OS's
// saving of the YMM registers is already implied by __builtin_cpu_supports("avx2").
bool cpu_has_avxvnni() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  return __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0 && ((a >> 4) & 1U) != 0;
}
#endif

size_t sz(int64_t v) {
  return static_cast<size_t>(v);
}

// One block of q8_0: scale = max|v| / 127, q = round-to-nearest-even(v * (127 / max|v|)), clamped to
// [-127, 127] (never -128: the SIMD paths' sign trick needs |q| <= 127). `n` <= 32 values; the rest of
// the 32 outputs are 0. The activation path of q8_gemm_avx2.cpp computes the same fp32 operations.
float quantize_block(const float* v, int64_t n, int8_t* q) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(v[i]));
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  for (int64_t i = 0; i < kQ8Block; ++i) {
    const float r = i < n ? std::nearbyint(v[i] * inv) : 0.0f;
    q[i] = static_cast<int8_t>(std::clamp(r, -127.0f, 127.0f));
  }
  return amax / 127.0f;
}

void check_shape(int64_t m, int64_t k, int64_t n) {
  if (m < 0 || k <= 0 || n <= 0)
    throw std::invalid_argument("q8_gemm: bad shape M=" + std::to_string(m) + " K=" + std::to_string(k) +
                                " N=" + std::to_string(n));
}

void q8_gemm_groups_scalar(const Q8Activations& x, const Q8View& w, const float* bias, float* y,
                           int64_t g_begin, int64_t g_end) {
  const int64_t nb = q8_blocks(w.k), kp = nb * kQ8Block;
  for (int64_t r = 0; r < x.m; ++r) {
    const int8_t* qx = x.q.data() + sz(r * kp);
    const float* sx = x.scales.data() + sz(r * nb);
    for (int64_t g = g_begin; g < g_end; ++g) {
      for (int64_t j = 0; j < kQ8Cols; ++j) {
        const int64_t col = g * kQ8Cols + j;
        if (col >= w.n) break;
        float acc = 0.0f;
        for (int64_t b = 0; b < nb; ++b) {
          const int8_t* wb = w.data + sz((g * nb + b) * 256);
          int32_t dot = 0;
          for (int64_t q = 0; q < 8; ++q)
            for (int64_t t = 0; t < 4; ++t)
              dot += int32_t{qx[b * kQ8Block + 4 * q + t]} * int32_t{wb[q * 32 + j * 4 + t]};
          const float d = w.scales[sz((g * nb + b) * kQ8Cols + j)] * sx[b];
          acc = std::fma(static_cast<float>(dot), d, acc);
        }
        y[sz(r * w.n + col)] = bias != nullptr ? acc + bias[col] : acc;
      }
    }
  }
}

}  // namespace

Q8Rows q8_quantize_rows(const float* w, int64_t n, int64_t k) {
  check_shape(0, k, n);
  Q8Rows out;
  out.k = k;
  out.n = n;
  const int64_t nb = q8_blocks(k), kp = nb * kQ8Block;
  out.q.assign(sz(n * kp), 0);
  out.scales.assign(sz(n * nb), 0.0f);
  for (int64_t row = 0; row < n; ++row)
    for (int64_t b = 0; b < nb; ++b)
      out.scales[sz(row * nb + b)] =
          quantize_block(w + row * k + b * kQ8Block, std::min(kQ8Block, k - b * kQ8Block),
                         out.q.data() + sz(row * kp + b * kQ8Block));
  return out;
}

Q8Packed q8_pack(const Q8Rows& rows) {
  check_shape(0, rows.k, rows.n);
  const int64_t nb = q8_blocks(rows.k), kp = nb * kQ8Block, ng = q8_groups(rows.n);
  if (rows.q.size() != sz(rows.n * kp) || rows.scales.size() != sz(rows.n * nb))
    throw std::invalid_argument("q8_pack: rows do not match their K x N");
  Q8Packed p;
  p.k = rows.k;
  p.n = rows.n;
  p.data.assign(sz(q8_packed_bytes(rows.k, rows.n)), 0);
  p.scales.assign(sz(q8_packed_scales(rows.k, rows.n)), 0.0f);
  for (int64_t g = 0; g < ng; ++g)
    for (int64_t j = 0; j < kQ8Cols && g * kQ8Cols + j < rows.n; ++j) {
      const int64_t row = g * kQ8Cols + j;
      for (int64_t b = 0; b < nb; ++b) {
        int8_t* dst = p.data.data() + sz((g * nb + b) * 256);
        for (int64_t q = 0; q < 8; ++q)
          for (int64_t t = 0; t < 4; ++t) {
            const int8_t v = rows.q[sz(row * kp + b * kQ8Block + 4 * q + t)];
            if (v == -128) throw std::invalid_argument("q8_pack: -128 is not a q8_0 value");
            dst[q * 32 + j * 4 + t] = v;
          }
        p.scales[sz((g * nb + b) * kQ8Cols + j)] = rows.scales[sz(row * nb + b)];
      }
    }
  return p;
}

Q8Packed q8_pack_kn(const float* b, int64_t k, int64_t n) {
  check_shape(0, k, n);
  std::vector<float> t(sz(n * k));
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) t[sz(j * k + i)] = b[i * n + j];
  return q8_pack(t.data(), n, k);
}

bool q8_isa_supported(Q8Isa isa) {
  switch (isa) {
    case Q8Isa::kAuto:
    case Q8Isa::kScalar:
      return true;
#ifdef VV_Q8_X86
    case Q8Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Q8Isa::kAvxVnni:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_avxvnni();
#else
    case Q8Isa::kAvx2:
    case Q8Isa::kAvxVnni:
      return false;
#endif
  }
  return false;
}

Q8Isa q8_best_isa() {
  static const Q8Isa best = q8_isa_supported(Q8Isa::kAvx2) ? Q8Isa::kAvx2 : Q8Isa::kScalar;
  return best;
}

const char* q8_isa_name(Q8Isa isa) {
  switch (isa) {
    case Q8Isa::kAuto:
      return "auto";
    case Q8Isa::kScalar:
      return "scalar";
    case Q8Isa::kAvx2:
      return "avx2";
    case Q8Isa::kAvxVnni:
      return "avxvnni";
  }
  return "?";
}

void q8_quantize_activations(const float* x, int64_t m, int64_t k, Q8Activations& out) {
  check_shape(m, k, 1);
  const int64_t nb = q8_blocks(k), kp = nb * kQ8Block;
  out.m = m;
  out.k = k;
  out.q.resize(sz(m * kp));
  out.abs_q.resize(sz(m * kp));
  out.scales.resize(sz(m * nb));
#ifdef VV_Q8_X86
  if (q8_isa_supported(Q8Isa::kAvx2)) {
    detail::q8_quantize_activations_avx2(x, m, k, out);
    return;
  }
#endif
  for (int64_t r = 0; r < m; ++r)
    for (int64_t b = 0; b < nb; ++b) {
      int8_t* q = out.q.data() + sz(r * kp + b * kQ8Block);
      out.scales[sz(r * nb + b)] =
          quantize_block(x + r * k + b * kQ8Block, std::min(kQ8Block, k - b * kQ8Block), q);
      for (int64_t i = 0; i < kQ8Block; ++i)
        out.abs_q[sz(r * kp + b * kQ8Block + i)] = static_cast<int8_t>(std::abs(q[i]));
    }
}

void q8_gemm_groups(const Q8Activations& x, const Q8View& w, const float* bias, float* y, int64_t g_begin,
                    int64_t g_end, Q8Isa isa) {
  check_shape(x.m, w.k, w.n);
  if (x.k != w.k) throw std::invalid_argument("q8_gemm: activations and weights differ in K");
  if (isa == Q8Isa::kAuto) isa = q8_best_isa();
  if (!q8_isa_supported(isa))
    throw std::invalid_argument(std::string("q8_gemm: this CPU lacks ") + q8_isa_name(isa));
  g_begin = std::max<int64_t>(g_begin, 0);
  g_end = std::min(g_end, q8_groups(w.n));
  if (g_begin >= g_end || x.m == 0) return;
#ifdef VV_Q8_X86
  if (isa != Q8Isa::kScalar) {
    detail::q8_gemm_groups_avx2(x, w, bias, y, g_begin, g_end, isa == Q8Isa::kAvxVnni);
    return;
  }
#endif
  q8_gemm_groups_scalar(x, w, bias, y, g_begin, g_end);
}

void q8_gemm(const float* x, int64_t m, const Q8View& w, const float* bias, float* y, Q8Isa isa) {
  check_shape(m, w.k, w.n);
  Q8Activations a;
  q8_quantize_activations(x, m, w.k, a);
  q8_gemm_groups(a, w, bias, y, 0, q8_groups(w.n), isa);
}

void q8_gemm_parallel(const float* x, int64_t m, const Q8View& w, const float* bias, float* y, int64_t tasks,
                      const Q8ParallelFor& parallel_for, Q8Isa isa) {
  check_shape(m, w.k, w.n);
  const int64_t ng = q8_groups(w.n);
  tasks = std::clamp<int64_t>(tasks, 1, ng);
  Q8Activations a;
  q8_quantize_activations(x, m, w.k, a);
  if (tasks == 1) {
    q8_gemm_groups(a, w, bias, y, 0, ng, isa);
    return;
  }
  parallel_for(tasks,
               [&](int64_t i) { q8_gemm_groups(a, w, bias, y, ng * i / tasks, ng * (i + 1) / tasks, isa); });
}

}  // namespace vv::kernels
