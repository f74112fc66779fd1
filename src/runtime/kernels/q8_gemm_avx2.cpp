// AVX2 and AVX-VNNI paths of q8_gemm (layout and arithmetic in q8_gemm.h). Only the functions marked with
// VV_AVX2 / VV_AVXVNNI are compiled for those instruction sets; callers check the CPU first.
//
// Inner step (4 k of 8 output columns, one activation row): the 4 activation bytes are broadcast to all 8
// lanes, w' = sign(w, x) moves the activation's sign onto the weight, and vpmaddubsw(|x|, w') +
// vpmaddwd(·, 1) give each lane's 4-term dot product (|x|, |w| <= 127: the int16 pair sums stay below
// 32767, nothing saturates). AVX-VNNI does both and the add in one vpdpbusd. Each 256-bit weight load serves
// all rows of a pass (up to 4; with M <= 2 each broadcast also serves two column groups), and a block's 8
// steps are summed in int32 before the one fp32 fma per block.
#include "runtime/kernels/q8_gemm_simd.h"

#ifdef VV_Q8_X86

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define VV_AVX2 __attribute__((target("avx2,fma")))
#define VV_AVXVNNI __attribute__((target("avx2,fma,avxvnni")))

namespace vv::kernels::detail {

namespace {

inline int32_t load4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

#define VV_Q8_TARGET VV_AVX2
#define VV_Q8_VNNI 0
namespace avx2 {
#include "runtime/kernels/q8_gemm_x86.inc"
}  // namespace avx2
#undef VV_Q8_TARGET
#undef VV_Q8_VNNI
#define VV_Q8_TARGET VV_AVXVNNI
#define VV_Q8_VNNI 1
namespace vnni {
#include "runtime/kernels/q8_gemm_x86.inc"
}  // namespace vnni
#undef VV_Q8_TARGET
#undef VV_Q8_VNNI

VV_AVX2 void groups_avx2(const Q8Activations& x, const Q8View& w, const float* bias, float* y,
                         int64_t g_begin, int64_t g_end) {
  avx2::all_rows(x, w, bias, y, g_begin, g_end);
}

VV_AVXVNNI void groups_avxvnni(const Q8Activations& x, const Q8View& w, const float* bias, float* y,
                               int64_t g_begin, int64_t g_end) {
  vnni::all_rows(x, w, bias, y, g_begin, g_end);
}

// 32 values (zero padded) -> 32 int8 codes, their absolute values and the block's scale; the same fp32
// operations as quantize_block in q8_gemm.cpp (max|v| is exact in any order, v * inv rounds the same,
// vcvtps2dq rounds to nearest even like std::nearbyint in the default rounding mode).
VV_AVX2 float quantize_block_avx2(const float* v, int8_t* q, int8_t* a) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 x[4];
  for (int64_t i = 0; i < 4; ++i) x[i] = _mm256_loadu_ps(v + 8 * i);
  __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(sign, x[0]), _mm256_andnot_ps(sign, x[1])),
                           _mm256_max_ps(_mm256_andnot_ps(sign, x[2]), _mm256_andnot_ps(sign, x[3])));
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  const float amax = _mm_cvtss_f32(h);
  const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
  const __m256 iv = _mm256_set1_ps(inv);
  const __m256i lo = _mm256_set1_epi32(-127), hi = _mm256_set1_epi32(127);
  __m256i c[4];
  for (int i = 0; i < 4; ++i)
    c[i] = _mm256_min_epi32(_mm256_max_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(x[i], iv)), lo), hi);
  const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(c[0], c[1]), _mm256_packs_epi32(c[2], c[3]));
  const __m256i codes = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), codes);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(a), _mm256_abs_epi8(codes));
  return amax / 127.0f;
}

}  // namespace

void q8_gemm_groups_avx2(const Q8Activations& x, const Q8View& w, const float* bias, float* y,
                         int64_t g_begin, int64_t g_end, bool vnni) {
  if (vnni)
    groups_avxvnni(x, w, bias, y, g_begin, g_end);
  else
    groups_avx2(x, w, bias, y, g_begin, g_end);
}

void q8_quantize_activations_avx2(const float* x, int64_t m, int64_t k, Q8Activations& out) {
  const int64_t nb = q8_blocks(k), kp = nb * kQ8Block;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t b = 0; b < nb; ++b) {
      const float* src = x + r * k + b * kQ8Block;
      const int64_t n = std::min(kQ8Block, k - b * kQ8Block);
      float pad[kQ8Block] = {};
      if (n < kQ8Block) {
        std::memcpy(pad, src, static_cast<size_t>(n) * sizeof(float));
        src = pad;
      }
      const int64_t off = r * kp + b * kQ8Block;
      out.scales[static_cast<size_t>(r * nb + b)] =
          quantize_block_avx2(src, out.q.data() + off, out.abs_q.data() + off);
    }
}

}  // namespace vv::kernels::detail

#endif  // VV_Q8_X86
