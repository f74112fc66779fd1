#include "generate/rng.h"

#include <cmath>
#include <numbers>

namespace vv {
namespace {

constexpr uint64_t kMul0 = 0xD2E7470EE14C6C93ull;   // PHILOX_M4x64_0
constexpr uint64_t kMul1 = 0xCA5A826395121157ull;   // PHILOX_M4x64_1
constexpr uint64_t kWeyl0 = 0x9E3779B97F4A7C15ull;  // PHILOX_W64_0 (golden ratio)
constexpr uint64_t kWeyl1 = 0xBB67AE8584CAA73Bull;  // PHILOX_W64_1 (sqrt(3) - 1)
constexpr int kRounds = 10;

// 64x64 -> 128-bit product split into high and low words. Portable 32-bit limbs: noise is a few
// hundred numbers per frame, so one code path everywhere beats a compiler-specific __int128.
inline uint64_t mulhilo(uint64_t a, uint64_t b, uint64_t& hi) {
  const uint64_t a_lo = a & 0xFFFFFFFFu, a_hi = a >> 32, b_lo = b & 0xFFFFFFFFu, b_hi = b >> 32;
  const uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
  const uint64_t mid = (ll >> 32) + (lh & 0xFFFFFFFFu) + (hl & 0xFFFFFFFFu);
  hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
  return (mid << 32) | (ll & 0xFFFFFFFFu);
}

std::array<uint64_t, 4> philox4x64(std::array<uint64_t, 4> ctr, std::array<uint64_t, 2> key) {
  for (int round = 0; round < kRounds; ++round) {
    if (round > 0) {
      key[0] += kWeyl0;
      key[1] += kWeyl1;
    }
    uint64_t hi0, hi1;
    const uint64_t lo0 = mulhilo(kMul0, ctr[0], hi0);
    const uint64_t lo1 = mulhilo(kMul1, ctr[2], hi1);
    ctr = {hi1 ^ ctr[1] ^ key[0], lo1, hi0 ^ ctr[3] ^ key[1], lo0};
  }
  return ctr;
}

}  // namespace

Rng::Rng(uint64_t seed) : key_{seed, 0}, counter_{0, 0, 0, 0} {}

Rng::Rng(uint64_t key_lo, uint64_t key_hi, const std::array<uint64_t, 4>& counter)
    : key_{key_lo, key_hi}, counter_(counter) {}

void Rng::refill() {
  // Increment first (NumPy's order): counter 0 is never used as a block input.
  for (uint64_t& word : counter_)
    if (++word != 0) break;
  block_ = philox4x64(counter_, key_);
  block_pos_ = 0;
}

uint64_t Rng::next_u64() {
  if (block_pos_ == 4) refill();
  return block_[static_cast<size_t>(block_pos_++)];
}

double Rng::next_uniform() {
  return static_cast<double>((next_u64() >> 11) + 1) * 0x1.0p-53;
}

void Rng::fill_normal(std::span<float> out) {
  size_t i = 0;
  if (has_spare_ && i < out.size()) {
    out[i++] = static_cast<float>(spare_);
    has_spare_ = false;
  }
  while (i < out.size()) {
    const double u1 = next_uniform(), u2 = next_uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * std::numbers::pi * u2;
    out[i++] = static_cast<float>(r * std::cos(theta));
    const double z1 = r * std::sin(theta);
    if (i < out.size()) {
      out[i++] = static_cast<float>(z1);
    } else {
      spare_ = z1;
      has_spare_ = true;
    }
  }
}

}  // namespace vv
