// The sample-efficiency gain's counting and validation (Mauch et al. Eq. 11-17). Every set
// (S, S', C) is sorted once, as the order-preserving uint64 keys of sort.h, by an LSD radix
// sort; the sub-multiset checks and the counts M(J) then share those sorted keys (earlier
// each set was sorted twice with std::sort, once per use).
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels.h"
#include "sort.h"

namespace nasrank {

void sorted_keys(const double* values, size_t n, std::vector<uint64_t>& keys) {
  keys.resize(n);
  for (size_t i = 0; i < n; ++i) keys[i] = sortable_key(values[i]);
  if (n < 2) return;
  if (n < 256) {
    std::sort(keys.begin(), keys.end());
    return;
  }
  // 11-bit digits, six passes; the histograms of all passes come from one read, and a pass
  // whose digit is the same for every key (one bucket holds all n) is skipped.
  constexpr int kBits = 11, kPasses = 6;
  constexpr size_t kBuckets = size_t(1) << kBits;
  std::vector<uint32_t> hist(kPasses * kBuckets, 0);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = keys[i];
    for (int p = 0; p < kPasses; ++p) ++hist[p * kBuckets + ((k >> (p * kBits)) & (kBuckets - 1))];
  }
  std::vector<uint64_t> tmp(n);
  uint64_t* src = keys.data();
  uint64_t* dst = tmp.data();
  for (int p = 0; p < kPasses; ++p) {
    uint32_t* h = hist.data() + p * kBuckets;
    const uint64_t first = (src[0] >> (p * kBits)) & (kBuckets - 1);
    if (h[first] == n) continue;
    uint32_t sum = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      const uint32_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; ++i) {
      const uint64_t k = src[i];
      dst[h[(k >> (p * kBits)) & (kBuckets - 1)]++] = k;
    }
    std::swap(src, dst);
  }
  if (src != keys.data()) std::memcpy(keys.data(), src, n * sizeof(uint64_t));
}

void count_reaching_sorted(const uint64_t* keys, size_t n, const double* targets, size_t t, bool higher_is_better,
                           double* counts) {
  for (size_t k = 0; k < t; ++k) {
    const uint64_t j = sortable_key(targets[k]);
    const size_t m = higher_is_better ? static_cast<size_t>(keys + n - std::lower_bound(keys, keys + n, j))
                                      : static_cast<size_t>(std::upper_bound(keys, keys + n, j) - keys);
    counts[k] = static_cast<double>(m);
  }
}

bool is_sub_multiset_sorted(const double* sub, const uint64_t* sub_keys, size_t m, const uint64_t* super_keys, size_t n,
                            size_t* missing) {
  size_t j = 0;
  for (size_t k = 0; k < m; ++k) {
    const uint64_t key = sub_keys[k];
    while (j < n && super_keys[j] < key) ++j;
    if (j == n || super_keys[j] != key) {
      // The smallest uncovered value; report its first occurrence in `sub` beyond the
      // number of copies `super` has (index order, as a stable sort of `sub` would).
      const size_t have = static_cast<size_t>(std::upper_bound(super_keys, super_keys + n, key) -
                                              std::lower_bound(super_keys, super_keys + n, key));
      size_t seen = 0;
      for (size_t i = 0; i < m; ++i) {
        if (sortable_key(sub[i]) != key) continue;
        if (seen++ == have) {
          *missing = i;
          break;
        }
      }
      return false;
    }
    ++j;  // each occurrence in super covers one occurrence in sub
  }
  return true;
}

void count_reaching(const double* values, size_t n, const double* targets, size_t t,
                    bool higher_is_better, double* counts) {
  std::vector<uint64_t> keys;
  sorted_keys(values, n, keys);
  count_reaching_sorted(keys.data(), n, targets, t, higher_is_better, counts);
}

bool is_sub_multiset(const double* sub, size_t m, const double* super, size_t n, size_t* missing) {
  std::vector<uint64_t> a, b;
  sorted_keys(sub, m, a);
  sorted_keys(super, n, b);
  return is_sub_multiset_sorted(sub, a.data(), m, b.data(), n, missing);
}

}  // namespace nasrank
