// The engine's deterministic random number generator: a seed gives the same noise, hence the same audio,
// on every platform and build.
//
// Bits: Philox4x64-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), a
// counter-based generator, with exactly NumPy's conventions so the raw stream equals
// numpy.random.Philox(key=seed).random_raw(): 128-bit key = {seed, 0} (low word first), 256-bit counter
// starting at 0 and incremented (with carry, low word first) *before* each block, each block yielding four
// 64-bit outputs in order. (NumPy has no 4x32 variant; 4x64 is what it verifies against.)
//
// Uniforms: next_uniform() = ((next_u64() >> 11) + 1) · 2^-53, in (0, 1] (never 0, so log() is finite).
// Normals (Box–Muller, computed in double, rounded to float):
//   u1 = next_uniform(), u2 = next_uniform(), r = sqrt(−2·ln u1), θ = 2π·u2,
//   z0 = r·cos θ, z1 = r·sin θ, emitted in the order z0, z1.
// An odd-length request keeps z1 for the next fill_normal() call, so the normal stream does not depend on
// how it is split into calls. next_u64()/next_uniform() draw from the same underlying stream.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace vv {

class Rng {
 public:
  explicit Rng(uint64_t seed);  // key = {seed, 0}, counter = 0
  // Full Philox state, as numpy.random.Philox(key=key_lo + 2^64·key_hi, counter=Σ counter[i]·2^(64·i)).
  Rng(uint64_t key_lo, uint64_t key_hi, const std::array<uint64_t, 4>& counter);

  uint64_t next_u64();
  double next_uniform();                   // (0, 1], 53-bit
  void fill_normal(std::span<float> out);  // standard normal floats

 private:
  void refill();

  std::array<uint64_t, 2> key_;
  std::array<uint64_t, 4> counter_;
  std::array<uint64_t, 4> block_{};
  int block_pos_ = 4;  // 4 = block used up
  bool has_spare_ = false;
  double spare_ = 0;
};

}  // namespace vv
