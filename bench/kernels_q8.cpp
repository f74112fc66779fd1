// `vv_bench q8`: one-thread micro-benchmark of the q8_0 GEMM (src/runtime/kernels/q8_gemm.h) against ONNX
// Runtime's 8-bit MatMulNBits (block 32 and 64, accuracy level 4) and an fp32 MatMul, for the speech steps'
// weight shapes at M = 1, 2, 4, 8 rows. The ORT models are one node each, made by bench/make_q8_models.py:
//
//   build/venv/bin/python bench/make_q8_models.py build/q8models
//   vv_bench q8 --model build/q8models [--reps 200 --json OUT.json]
//
// Each number is the median of --reps calls on the same input (weights stay cache-resident, as in the
// engine's back-to-back steps); the q8 times include the per-call activation quantization. GB/s = weight
// bytes (int8 + scales, or fp32) / time.
#include "kernels_q8.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "common.h"
#include "runtime/kernels/q8_gemm.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

namespace vv::bench {

namespace {

struct Row {
  std::string impl;
  int64_t k, n, m;
  double ms, weight_bytes;
};

double ort_ms(const std::string& path, int64_t m, int64_t k, int reps) {
  const Session s(path, RuntimeOptions{.threads = 1});
  const Tensor a = Tensor::from_floats(std::vector<float>(static_cast<size_t>(m * k), 0.5f), {m, k});
  const std::vector<NamedTensor> in{{"A", &a}};
  const std::vector<std::string> out{"Y"};
  return median_ms(reps, [&] { (void)s.run(in, out); });
}

}  // namespace

int run_q8(const std::string& model_dir, int reps, const std::string& json_path) {
  namespace fs = std::filesystem;
  using kernels::Q8Isa;
  const std::vector<std::pair<int64_t, int64_t>> shapes{{896, 4864}, {4864, 896}, {896, 896}};
  const std::vector<int64_t> ms{1, 2, 4, 8};
  std::vector<Q8Isa> isas{kernels::q8_best_isa()};
  if (kernels::q8_isa_supported(Q8Isa::kAvxVnni)) isas.push_back(Q8Isa::kAvxVnni);  // the opt-in path
  std::vector<Row> rows;
  std::mt19937 rng(0);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (const auto& [k, n] : shapes) {
    std::vector<float> w(static_cast<size_t>(n * k));
    for (float& v : w) v = dist(rng);
    const kernels::Q8Packed p = kernels::q8_pack(w.data(), n, k);
    const double q8_bytes = static_cast<double>(p.data.size() + p.scales.size() * sizeof(float));
    const auto model = [&](const std::string& name) {
      const fs::path f =
          fs::path(model_dir) / (name + "_" + std::to_string(k) + "x" + std::to_string(n) + ".onnx");
      if (!fs::exists(f))
        throw std::runtime_error("missing " + f.string() + " (run bench/make_q8_models.py)");
      return f.string();
    };
    for (int64_t m : ms) {
      std::vector<float> x(static_cast<size_t>(m * k)), y(static_cast<size_t>(m * n));
      for (float& v : x) v = dist(rng);
      for (Q8Isa isa : isas)
        rows.push_back(
            {std::string("q8_") + kernels::q8_isa_name(isa), k, n, m,
             median_ms(reps, [&] { kernels::q8_gemm(x.data(), m, p.view(), nullptr, y.data(), isa); }),
             q8_bytes});
      for (int block : {32, 64}) {
        const double bytes =
            static_cast<double>(n * k) + 4.0 * static_cast<double>(n * ((k + block - 1) / block));
        rows.push_back({"nbits8_b" + std::to_string(block), k, n, m,
                        ort_ms(model("nbits8_b" + std::to_string(block)), m, k, reps), bytes});
      }
      rows.push_back({"fp32", k, n, m, ort_ms(model("fp32"), m, k, reps), 4.0 * static_cast<double>(n * k)});
    }
  }
  std::printf("%-16s %-10s %3s %9s %8s\n", "impl", "KxN", "M", "ms", "GB/s");
  std::ostringstream js;
  js << "{\"threads\": 1, \"reps\": " << reps << ", \"rows\": [";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    const std::string shape = std::to_string(r.k) + "x" + std::to_string(r.n);
    const double gbs = r.weight_bytes / (r.ms * 1e6);
    std::printf("%-16s %-10s %3lld %9.4f %8.1f\n", r.impl.c_str(), shape.c_str(), static_cast<long long>(r.m),
                r.ms, gbs);
    js << (i ? ", " : "") << "{\"impl\": \"" << r.impl << "\", \"k\": " << r.k << ", \"n\": " << r.n
       << ", \"m\": " << r.m << ", \"ms\": " << r.ms << ", \"weight_gb_s\": " << gbs << "}";
  }
  js << "]}";
  if (!json_path.empty()) std::ofstream(json_path) << js.str() << "\n";
  return 0;
}

}  // namespace vv::bench
