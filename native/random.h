// The package's one PRNG, xoshiro128** seeded through murmur3's fmix32 and splitmix32,
// bit-for-bit the same as lib/random.ts (`new Random(seed, stream)`), so native kernels that
// draw random numbers (ReNAS augmentation) reproduce what the TypeScript side computes.
#pragma once
#include <cstdint>

namespace nasrank {

class Random {
 public:
  // seed: a non-negative integer below 2^53 (split into low and high 32-bit words);
  // stream: any uint32, selecting an independent sequence for the same seed.
  Random(uint32_t seed_lo, uint32_t seed_hi, uint32_t stream) {
    uint32_t z = fmix32(seed_lo + 0x9E3779B9u);
    z = fmix32((z ^ seed_hi) + 0x7F4A7C15u);
    z = fmix32((z ^ stream) + 0x2545F491u);
    for (uint32_t& word : s_) {
      z += 0x9E3779B9u;
      word = fmix32(z);
    }
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
  }

  uint32_t next() {
    uint32_t result = rotl(s_[1] * 5u, 7) * 9u;
    uint32_t t = s_[1] << 9;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 11);
    return result;
  }

  // A generator continuing from a state of State() (lib/random.ts Random.state()).
  static Random FromState(const uint32_t state[4]) {
    Random r(0, 0, 0);
    for (int k = 0; k < 4; ++k) r.s_[k] = state[k];
    if ((r.s_[0] | r.s_[1] | r.s_[2] | r.s_[3]) == 0) r.s_[0] = 1;
    return r;
  }
  void State(uint32_t state[4]) const {
    for (int k = 0; k < 4; ++k) state[k] = s_[k];
  }

  // Uniform in [0, 1) with 53 random bits (two draws), as lib/random.ts float().
  double uniform() {
    const uint32_t a = next() >> 5;
    const uint32_t b = next() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  // Uniform integer in [0, n), n in [1, 2^32], by rejection (always draws at least once).
  uint32_t below(uint64_t n) {
    const uint64_t limit = (uint64_t{1} << 32) - ((uint64_t{1} << 32) % n);
    uint64_t x;
    do x = next();
    while (x >= limit);
    return static_cast<uint32_t>(x % n);
  }

  static uint32_t fmix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x85EBCA6Bu;
    h ^= h >> 13;
    h *= 0xC2B2AE35u;
    h ^= h >> 16;
    return h;
  }

 private:
  static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
  uint32_t s_[4];
};

}  // namespace nasrank
