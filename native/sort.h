#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nasrank {

// Order-preserving map of a finite double onto uint64 (so integer radix passes sort
// doubles); -0.0 and +0.0 map to the same key because they compare equal.
inline uint64_t sortable_key(double v) {
  v += 0.0;  // turns -0.0 into +0.0
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits & 0x8000000000000000ull) ? ~bits : (bits | 0x8000000000000000ull);
}

inline double from_sortable_key(uint64_t k) {
  uint64_t bits = (k & 0x8000000000000000ull) ? (k & ~0x8000000000000000ull) : ~k;
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

struct KeyPair {
  uint64_t key;      // sortable_key of the primary value
  uint64_t payload;  // secondary sort key, carried along
};

// Sorts pairs ascending by (key, payload) without random memory access: one parallel
// scatter into value-range buckets sized for the L2 cache, then LSD radix passes inside
// each bucket (in parallel). `scratch` must hold n pairs; its contents are clobbered.
void sort_pairs(KeyPair* pairs, KeyPair* scratch, size_t n, int threads);

// Stable ascending argsort of `values` (n < 2^32): perm[k] is the index of the k-th
// smallest. LSD radix sort on sortable keys; passes whose digit is constant are skipped.
void argsort(const double* values, size_t n, uint32_t* perm);

}  // namespace nasrank
