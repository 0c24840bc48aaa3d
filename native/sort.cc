#include "sort.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "parallel.h"
#include "scratch.h"

namespace nasrank {

namespace {

constexpr int kDigitBits = 8;
constexpr size_t kBuckets = size_t{1} << kDigitBits;
constexpr int kPasses = (64 + kDigitBits - 1) / kDigitBits;
constexpr size_t kSmallSort = 256;  // below this, a comparison sort is faster

}  // namespace

void argsort(const double* values, size_t n, uint32_t* perm) {
  if (n < kSmallSort) {
    uint64_t keys[kSmallSort];
    for (size_t i = 0; i < n; ++i) {
      keys[i] = sortable_key(values[i]);
      perm[i] = static_cast<uint32_t>(i);
    }
    std::stable_sort(perm, perm + n, [&](uint32_t a, uint32_t b) { return keys[a] < keys[b]; });
    return;
  }
  // Temporaries from the scratch cache: no zero-fill, and no page faults on repeated calls.
  ScratchLayout layout;
  const size_t at_keys = layout.add<uint64_t>(n), at_keys_tmp = layout.add<uint64_t>(n), at_idx_tmp = layout.add<uint32_t>(n);
  ScratchBlock block(layout.bytes());
  uint64_t* const keys = scratch_at<uint64_t>(block, at_keys);
  // One read pass builds every digit's histogram.
  std::vector<size_t> hist(kPasses * kBuckets, 0);
  for (size_t i = 0; i < n; ++i) {
    uint64_t k = sortable_key(values[i]);
    keys[i] = k;
    perm[i] = static_cast<uint32_t>(i);
    for (int p = 0; p < kPasses; ++p) ++hist[p * kBuckets + ((k >> (p * kDigitBits)) & (kBuckets - 1))];
  }
  uint64_t* src_k = keys;
  uint64_t* dst_k = scratch_at<uint64_t>(block, at_keys_tmp);
  uint32_t* src_i = perm;
  uint32_t* dst_i = scratch_at<uint32_t>(block, at_idx_tmp);
  for (int p = 0; p < kPasses; ++p) {
    size_t* h = &hist[p * kBuckets];
    const int shift = p * kDigitBits;
    // A digit shared by every key does not reorder anything.
    if (h[(src_k[0] >> shift) & (kBuckets - 1)] == n) continue;
    size_t offset = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      size_t c = h[b];
      h[b] = offset;
      offset += c;
    }
    for (size_t i = 0; i < n; ++i) {
      uint64_t k = src_k[i];
      size_t pos = h[(k >> shift) & (kBuckets - 1)]++;
      dst_k[pos] = k;
      dst_i[pos] = src_i[i];
    }
    std::swap(src_k, dst_k);
    std::swap(src_i, dst_i);
  }
  if (src_i != perm) std::memcpy(perm, src_i, n * sizeof(uint32_t));
}

namespace {

// Splits the value range of a set of sortable keys linearly into about n / 8192 buckets
// (a few hundred KiB each, so work inside one stays in the L2 cache). The map is monotone
// in the value, so sorted buckets concatenate to a sorted whole.
struct ValueBuckets {
  size_t count = 1;
  double lo = 0, scale = 0;
  ValueBuckets(const uint64_t* keys, size_t stride, size_t n) {
    uint64_t kmin = keys[0], kmax = keys[0];
    for (size_t i = 1; i < n; ++i) {
      kmin = std::min(kmin, keys[i * stride]);
      kmax = std::max(kmax, keys[i * stride]);
    }
    // Halving keeps hi - lo finite for any finite inputs.
    lo = from_sortable_key(kmin) / 2;
    const double hi = from_sortable_key(kmax) / 2;
    count = std::min<size_t>(std::max<size_t>(n / 8192, 1), 65536);
    scale = static_cast<double>(count) / (hi - lo);
    if (!(scale < 1e300)) count = 1;  // constant (or subnormal-range) values: one bucket
  }
  size_t operator()(uint64_t key) const {
    if (count == 1) return 0;
    size_t b = static_cast<size_t>((from_sortable_key(key) / 2 - lo) * scale);
    return b < count ? b : count - 1;
  }
};

// ---- sort_pairs --------------------------------------------------------------------

constexpr size_t kPairSmallSort = 4096;

bool pair_less(const KeyPair& a, const KeyPair& b) {
  return a.key < b.key || (a.key == b.key && a.payload < b.payload);
}

// LSD radix sort of a[0, n) by one 64-bit field, stable; result in a, tmp is scratch.
template <uint64_t KeyPair::*Field>
void lsd_sort(KeyPair* a, KeyPair* tmp, size_t n) {
  constexpr int kBits = 8, kPassCount = 8;
  constexpr size_t kRadix = size_t{1} << kBits;
  size_t hist[kPassCount][kRadix] = {};
  for (size_t i = 0; i < n; ++i) {
    uint64_t k = a[i].*Field;
    for (int p = 0; p < kPassCount; ++p) ++hist[p][(k >> (p * kBits)) & (kRadix - 1)];
  }
  KeyPair* src = a;
  KeyPair* dst = tmp;
  for (int p = 0; p < kPassCount; ++p) {
    const int shift = p * kBits;
    if (hist[p][(src[0].*Field >> shift) & (kRadix - 1)] == n) continue;  // constant digit
    size_t offset = 0;
    for (size_t b = 0; b < kRadix; ++b) {
      size_t c = hist[p][b];
      hist[p][b] = offset;
      offset += c;
    }
    for (size_t i = 0; i < n; ++i) dst[hist[p][(src[i].*Field >> shift) & (kRadix - 1)]++] = src[i];
    std::swap(src, dst);
  }
  if (src != a) std::memcpy(a, src, n * sizeof(KeyPair));
}

// Sorts one bucket by key, then each run of equal keys by payload.
void sort_bucket(KeyPair* a, KeyPair* tmp, size_t n) {
  if (n < 64) {
    std::sort(a, a + n, pair_less);
    return;
  }
  lsd_sort<&KeyPair::key>(a, tmp, n);
  size_t start = 0;
  while (start < n) {
    size_t end = start + 1;
    while (end < n && a[end].key == a[start].key) ++end;
    size_t run = end - start;
    if (run > 1) {
      if (run < 64) std::sort(a + start, a + end, pair_less);
      else lsd_sort<&KeyPair::payload>(a + start, tmp + start, run);
    }
    start = end;
  }
}

}  // namespace

void sort_pairs(KeyPair* pairs, KeyPair* scratch, size_t n, int threads) {
  if (n < kPairSmallSort) {
    std::sort(pairs, pairs + n, pair_less);
    return;
  }
  const ValueBuckets bucket_of(&pairs[0].key, sizeof(KeyPair) / sizeof(uint64_t), n);
  const size_t buckets = bucket_of.count;

  // Parallel scatter: each chunk counts its own histogram, then writes to its own
  // slice of every bucket.
  const size_t chunks = static_cast<size_t>(std::max(threads, 1));
  std::vector<size_t> hist(chunks * buckets, 0);
  parallel_chunks(n, chunks, threads, [&](size_t c, size_t b, size_t e) {
    size_t* h = &hist[c * buckets];
    for (size_t i = b; i < e; ++i) ++h[bucket_of(pairs[i].key)];
  });
  std::vector<size_t> bucket_start(buckets + 1, 0);
  {
    size_t offset = 0;
    for (size_t b = 0; b < buckets; ++b) {
      bucket_start[b] = offset;
      for (size_t c = 0; c < chunks; ++c) {
        size_t count = hist[c * buckets + b];
        hist[c * buckets + b] = offset;
        offset += count;
      }
    }
    bucket_start[buckets] = offset;
  }
  parallel_chunks(n, chunks, threads, [&](size_t c, size_t b, size_t e) {
    size_t* h = &hist[c * buckets];
    for (size_t i = b; i < e; ++i) scratch[h[bucket_of(pairs[i].key)]++] = pairs[i];
  });
  parallel_items(buckets, threads, [&](size_t b) {
    size_t s = bucket_start[b], e = bucket_start[b + 1];
    if (e - s > 1) sort_bucket(scratch + s, pairs + s, e - s);
  });
  std::memcpy(pairs, scratch, n * sizeof(KeyPair));
}

}  // namespace nasrank
