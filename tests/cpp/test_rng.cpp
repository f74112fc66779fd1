// Deterministic RNG: the raw Philox4x64-10 stream equals NumPy's numpy.random.Philox for the same key and
// counter, the Box-Muller normals equal a Python re-implementation of the transform documented in rng.h
// on that stream (tests/data/rng/philox_fixture.json from tests/tools/make_rng_fixture.py), and the
// normals have the statistics of a standard normal.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "generate/rng.h"

namespace {

using json = nlohmann::json;

json load_fixture() {
  std::ifstream in(std::string(VV_SOURCE_DIR) + "/tests/data/rng/philox_fixture.json");
  EXPECT_TRUE(in.good()) << "missing tests/data/rng/philox_fixture.json";
  return json::parse(in);
}

uint64_t u64(const json& s) {
  return std::stoull(s.get<std::string>());
}

}  // namespace

TEST(Rng, RawStreamMatchesNumpyPhilox) {
  const json f = load_fixture();
  int cases = 0;
  for (const json& c : f.at("raw")) {
    const std::array<uint64_t, 4> counter = {u64(c["counter"][0]), u64(c["counter"][1]), u64(c["counter"][2]),
                                             u64(c["counter"][3])};
    vv::Rng rng(u64(c["key_lo"]), u64(c["key_hi"]), counter);
    const bool default_state = u64(c["key_hi"]) == 0 && counter == std::array<uint64_t, 4>{0, 0, 0, 0};
    vv::Rng seeded(u64(c["key_lo"]));
    for (size_t i = 0; i < c["raw"].size(); ++i) {
      const uint64_t want = u64(c["raw"][i]);
      EXPECT_EQ(rng.next_u64(), want) << "case " << cases << " output " << i;
      if (default_state) {
        EXPECT_EQ(seeded.next_u64(), want) << "seed constructor, case " << cases;
      }
    }
    ++cases;
  }
  EXPECT_EQ(cases, 7);
}

TEST(Rng, NormalsMatchDocumentedBoxMuller) {
  const json f = load_fixture();
  for (const json& c : f.at("normal")) {
    const std::vector<float> want = c.at("normals").get<std::vector<float>>();
    // Whole request at once, and the same stream split into odd-sized pieces (spare value carried over).
    vv::Rng whole(u64(c["seed"]));
    std::vector<float> got(want.size());
    whole.fill_normal(got);
    vv::Rng pieces(u64(c["seed"]));
    std::vector<float> split(want.size());
    size_t at = 0, len = 1;
    while (at < split.size()) {
      const size_t n = std::min(len, split.size() - at);
      pieces.fill_normal(std::span<float>(split).subspan(at, n));
      at += n;
      len = len % 7 + 2;
    }
    for (size_t i = 0; i < want.size(); ++i) {
      // libm cos/sin/log may differ by an ulp in double across platforms; after rounding to float that
      // is at most one float ulp.
      EXPECT_NEAR(got[i], want[i], 2e-7f * std::max(1.0f, std::abs(want[i])))
          << "seed " << c["seed"] << " i " << i;
      EXPECT_EQ(split[i], got[i]) << i;
    }
  }
}

TEST(Rng, UniformIsInHalfOpenUnitIntervalWith53Bits) {
  vv::Rng a(9), b(9);
  for (int i = 0; i < 1000; ++i) {
    const uint64_t raw = a.next_u64();
    const double u = b.next_uniform();
    EXPECT_EQ(u, static_cast<double>((raw >> 11) + 1) / 9007199254740992.0);
    EXPECT_GT(u, 0.0);
    EXPECT_LE(u, 1.0);
  }
}

TEST(Rng, NormalStatistics) {
  vv::Rng rng(2024);
  std::vector<float> z(200000);
  rng.fill_normal(z);
  double sum = 0, sq = 0, within1 = 0, fourth = 0;
  for (float v : z) {
    sum += v;
    sq += static_cast<double>(v) * v;
    fourth += std::pow(static_cast<double>(v), 4);
    within1 += std::abs(v) < 1.0f;
  }
  const double n = static_cast<double>(z.size());
  const double mean = sum / n, var = sq / n - mean * mean;
  // Standard errors: mean 1/sqrt(n) = 0.0022, variance sqrt(2/n) = 0.0032, P(|z|<1) 0.001; bounds ~5 sigma.
  EXPECT_NEAR(mean, 0.0, 0.012);
  EXPECT_NEAR(var, 1.0, 0.016);
  EXPECT_NEAR(within1 / n, 0.682689, 0.005);
  EXPECT_NEAR(fourth / n, 3.0, 0.1);  // kurtosis of a normal
}

TEST(Rng, SeedsGiveDistinctStreams) {
  vv::Rng a(1), b(2);
  std::vector<float> x(64), y(64);
  a.fill_normal(x);
  b.fill_normal(y);
  EXPECT_NE(x, y);
  vv::Rng c(1);
  std::vector<float> x2(64);
  c.fill_normal(x2);
  EXPECT_EQ(x, x2);
}
