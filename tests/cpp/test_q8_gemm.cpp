// q8_0 GEMM kernel (src/runtime/kernels/q8_gemm.h): the SIMD paths against the scalar reference (bit-exact:
// the same int32 block dot products and the same fp32 fma sequence), and the scalar reference against a
// float GEMM within the quantization error.
#include "runtime/kernels/q8_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

namespace vv::kernels {
namespace {

std::vector<float> random_values(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

struct Case {
  int64_t m, k, n;
};

// Shapes: odd K (padding), N not a multiple of 8, M across the 4-row passes, and the model's shapes.
const Case kCases[] = {{1, 33, 1},  {2, 33, 1},    {3, 33, 7},    {4, 33, 9},    {1, 1, 1},
                       {5, 31, 17}, {1, 64, 8},    {2, 96, 24},   {7, 100, 13},  {8, 128, 16},
                       {3, 65, 31}, {2, 896, 128}, {1, 896, 896}, {2, 4864, 40}, {9, 257, 11}};

std::vector<Q8Isa> simd_isas() {
  std::vector<Q8Isa> out;
  for (Q8Isa isa : {Q8Isa::kAvx2, Q8Isa::kAvxVnni})
    if (q8_isa_supported(isa)) out.push_back(isa);
  return out;
}

TEST(Q8Gemm, SimdPathsAreBitIdenticalToTheScalarReference) {
  const auto isas = simd_isas();
  if (isas.empty()) GTEST_SKIP() << "no AVX2 on this CPU: only the scalar path exists";
  for (const Case& c : kCases) {
    const auto w = random_values(static_cast<size_t>(c.n * c.k), 1);
    const auto x = random_values(static_cast<size_t>(c.m * c.k), 2);
    const auto bias = random_values(static_cast<size_t>(c.n), 3);
    const Q8Packed p = q8_pack(w.data(), c.n, c.k);
    for (const float* b : {static_cast<const float*>(nullptr), bias.data()}) {
      std::vector<float> ref(static_cast<size_t>(c.m * c.n), NAN);
      q8_gemm(x.data(), c.m, p.view(), b, ref.data(), Q8Isa::kScalar);
      for (Q8Isa isa : isas) {
        std::vector<float> got(ref.size(), NAN);
        q8_gemm(x.data(), c.m, p.view(), b, got.data(), isa);
        ASSERT_EQ(0, std::memcmp(ref.data(), got.data(), ref.size() * sizeof(float)))
            << q8_isa_name(isa) << " M=" << c.m << " K=" << c.k << " N=" << c.n << " bias=" << (b != nullptr);
      }
    }
  }
}

TEST(Q8Gemm, ActivationQuantizationEqualsTheRowQuantizer) {
  for (const Case& c : kCases) {
    const auto x = random_values(static_cast<size_t>(c.m * c.k), 4, 3.0f);
    Q8Activations a;
    q8_quantize_activations(x.data(), c.m, c.k, a);
    const Q8Rows r = q8_quantize_rows(x.data(), c.m, c.k);
    ASSERT_EQ(a.q, r.q) << "K=" << c.k;
    ASSERT_EQ(a.scales, r.scales) << "K=" << c.k;
    for (size_t i = 0; i < a.q.size(); ++i) ASSERT_EQ(a.abs_q[i], static_cast<int8_t>(std::abs(a.q[i])));
    for (int8_t v : a.q) ASSERT_GE(v, -127);
  }
}

// |y_q - y| <= Σ_k (|x_k| e_w + |w_k| e_x + e_x e_w), e = half the block's scale (round to nearest).
TEST(Q8Gemm, MatchesFloatGemmWithinTheQuantizationError) {
  for (const Case& c : kCases) {
    const auto w = random_values(static_cast<size_t>(c.n * c.k), 5);
    const auto x = random_values(static_cast<size_t>(c.m * c.k), 6, 2.0f);
    const auto bias = random_values(static_cast<size_t>(c.n), 7);
    const Q8Rows wr = q8_quantize_rows(w.data(), c.n, c.k);
    const Q8Rows xr = q8_quantize_rows(x.data(), c.m, c.k);
    const int64_t nb = q8_blocks(c.k);
    std::vector<float> y(static_cast<size_t>(c.m * c.n));
    q8_gemm(x.data(), c.m, q8_pack(wr).view(), bias.data(), y.data());
    double worst = 0;  // error / bound
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j) {
        double exact = bias[static_cast<size_t>(j)], bound = 0, mag = 0;
        for (int64_t k = 0; k < c.k; ++k) {
          const double xv = x[static_cast<size_t>(i * c.k + k)], wv = w[static_cast<size_t>(j * c.k + k)];
          const double ex = 0.5 * xr.scales[static_cast<size_t>(i * nb + k / 32)];
          const double ew = 0.5 * wr.scales[static_cast<size_t>(j * nb + k / 32)];
          exact += xv * wv;
          bound += std::fabs(xv) * ew + std::fabs(wv) * ex + ex * ew;
          mag += std::fabs(xv * wv);
        }
        bound += 1e-5 * (mag + std::fabs(exact)) + 1e-6;  // fp32 accumulation
        const double err = std::fabs(y[static_cast<size_t>(i * c.n + j)] - exact);
        ASSERT_LE(err, bound) << "M=" << c.m << " K=" << c.k << " N=" << c.n << " at " << i << "," << j;
        worst = std::max(worst, err / bound);
      }
    EXPECT_GT(worst, 0.0);  // the quantization is not a no-op
  }
}

TEST(Q8Gemm, ExactForValuesOnTheQuantizationGrid) {
  // Weights and activations that are multiples of their block scale quantize exactly: y equals the float
  // GEMM.
  const int64_t m = 3, k = 70, n = 11;
  std::vector<float> w(static_cast<size_t>(n * k)), x(static_cast<size_t>(m * k));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(static_cast<int>(i % 255) - 127) / 8.0f;
  for (size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(127 - static_cast<int>((i * 7) % 255)) / 4.0f;
  // make every block's max |value| 127 units so the scale is exactly 1/8 (w) or 1/4 (x)
  for (int64_t r = 0; r < n; ++r)
    for (int64_t b = 0; b < k; b += 32) w[static_cast<size_t>(r * k + b)] = 127.0f / 8.0f;
  for (int64_t r = 0; r < m; ++r)
    for (int64_t b = 0; b < k; b += 32) x[static_cast<size_t>(r * k + b)] = -127.0f / 4.0f;
  std::vector<float> y(static_cast<size_t>(m * n));
  q8_gemm(x.data(), m, q8_pack(w.data(), n, k).view(), nullptr, y.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double exact = 0;
      for (int64_t t = 0; t < k; ++t)
        exact += double{x[static_cast<size_t>(i * k + t)]} * w[static_cast<size_t>(j * k + t)];
      EXPECT_NEAR(y[static_cast<size_t>(i * n + j)], exact, 1e-6 * std::fabs(exact) + 1e-6) << i << "," << j;
    }
}

TEST(Q8Gemm, ColumnGroupRangesWriteOnlyTheirColumns) {
  const int64_t m = 2, k = 40, n = 20;  // 3 groups: 8, 8, 4 columns
  const auto w = random_values(static_cast<size_t>(n * k), 8),
             x = random_values(static_cast<size_t>(m * k), 9);
  const Q8Packed p = q8_pack(w.data(), n, k);
  std::vector<float> whole(static_cast<size_t>(m * n));
  q8_gemm(x.data(), m, p.view(), nullptr, whole.data());
  Q8Activations a;
  q8_quantize_activations(x.data(), m, k, a);
  std::vector<float> split(whole.size(), -1.0f);
  q8_gemm_groups(a, p.view(), nullptr, split.data(), 1, 2);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const size_t at = static_cast<size_t>(i * n + j);
      if (j >= 8 && j < 16)
        EXPECT_EQ(split[at], whole[at]);
      else
        EXPECT_EQ(split[at], -1.0f);
    }
  q8_gemm_groups(a, p.view(), nullptr, split.data(), 2, 3);
  q8_gemm_groups(a, p.view(), nullptr, split.data(), 0, 1);
  EXPECT_EQ(split, whole);
}

TEST(Q8Gemm, ParallelSplitsAreBitIdenticalToOneThread) {
  const int64_t m = 2, k = 96, n = 100;  // 13 column groups
  const auto w = random_values(static_cast<size_t>(n * k), 11),
             x = random_values(static_cast<size_t>(m * k), 12);
  const auto bias = random_values(static_cast<size_t>(n), 13);
  const Q8Packed p = q8_pack(w.data(), n, k);
  std::vector<float> one(static_cast<size_t>(m * n));
  q8_gemm(x.data(), m, p.view(), bias.data(), one.data());
  const Q8ParallelFor threads = [](int64_t tasks, const std::function<void(int64_t)>& fn) {
    std::vector<std::thread> pool;
    for (int64_t i = 0; i < tasks; ++i) pool.emplace_back(fn, i);
    for (auto& t : pool) t.join();
  };
  for (int64_t tasks : {1, 2, 3, 5, 13, 40}) {
    std::vector<float> par(one.size(), NAN);
    int64_t calls = 0;
    const Q8ParallelFor counting = [&](int64_t t, const std::function<void(int64_t)>& fn) {
      calls = t;
      threads(t, fn);
    };
    q8_gemm_parallel(x.data(), m, p.view(), bias.data(), par.data(), tasks, counting);
    EXPECT_EQ(0, std::memcmp(one.data(), par.data(), one.size() * sizeof(float))) << tasks << " tasks";
    EXPECT_EQ(calls, tasks == 1 ? 0 : std::min<int64_t>(tasks, 13)) << "tasks are capped at the groups";
  }
}

TEST(Q8Gemm, PackKnEqualsPackOfTheTranspose) {
  const int64_t k = 45, n = 10;
  const auto b = random_values(static_cast<size_t>(k * n), 10);
  std::vector<float> t(b.size());
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) t[static_cast<size_t>(j * k + i)] = b[static_cast<size_t>(i * n + j)];
  const Q8Packed a = q8_pack_kn(b.data(), k, n), c = q8_pack(t.data(), n, k);
  EXPECT_EQ(a.data, c.data);
  EXPECT_EQ(a.scales, c.scales);
  EXPECT_EQ(a.data.size(), static_cast<size_t>(q8_packed_bytes(k, n)));
  EXPECT_EQ(a.scales.size(), static_cast<size_t>(q8_packed_scales(k, n)));
}

TEST(Q8Gemm, RejectsBadInput) {
  Q8Rows r = q8_quantize_rows(std::vector<float>(64, 1.0f).data(), 2, 32);
  r.q[3] = -128;
  EXPECT_THROW((void)q8_pack(r), std::invalid_argument);
  const Q8Packed p = q8_pack(std::vector<float>(64, 1.0f).data(), 2, 32);
  std::vector<float> y(2);
  EXPECT_THROW(q8_gemm(std::vector<float>(32).data(), -1, p.view(), nullptr, y.data()),
               std::invalid_argument);
  if (!q8_isa_supported(Q8Isa::kAvxVnni)) {
    EXPECT_THROW(q8_gemm(std::vector<float>(32).data(), 1, p.view(), nullptr, y.data(), Q8Isa::kAvxVnni),
                 std::invalid_argument);
  }
}

}  // namespace
}  // namespace vv::kernels
