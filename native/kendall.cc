// Kendall's tau in O(n log n): Knight's algorithm (sort by x, count the inversions of y)
// arranged so that almost all work happens on cache-sized pieces.
//
//  1. Value buckets. x and y are each split into about n / 8192 buckets by value (a
//     monotone map chosen on a sample, see Buckets). The (x, y) pairs are scattered into
//     x-buckets ("x order" is then bucket order plus the order inside a bucket).
//  2. Per x-bucket, in cache: sort by (x, y), count ties in x and in (x, y), count the
//     discordant pairs inside the bucket (the inversions of y in that order), and sort the
//     bucket's y values. Walking that sorted run adds the pairs with an earlier x-bucket
//     and a higher y-bucket (a running per-y-bucket count, O(y-buckets) per x-bucket), and
//     appends the run to its y-buckets, so every y-bucket ends up holding one sorted piece
//     per x-bucket, in x-bucket order.
//  3. Per y-bucket, in cache: the inversions of that sequence are the remaining discordant
//     pairs (earlier x-bucket, same y-bucket, larger y); ties in y are counted there too.
//
// Every count is an exact integer, so the result does not depend on the bucketing, the
// thread count or the code path. Inside a bucket the inversions are counted either by a
// merge sort (portable) or, on CPUs with AVX2, by ranking the values (a radix sort) and
// counting the inversions of the rank permutation one bit at a time with 8-lane vectors.
// Scratch memory (24 bytes a pair) comes from the cache in scratch.h, so repeated calls
// do not pay first-touch page faults again.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(NASRANK_NO_AVX2)
#include <immintrin.h>
#define NASRANK_KENDALL_AVX2 1
#else
#define NASRANK_KENDALL_AVX2 0
#endif

#include "cpu.h"
#include "kernels.h"
#include "parallel.h"
#include "scratch.h"
#include "sort.h"

namespace nasrank {

namespace {

constexpr size_t kBucketTarget = 8192;    // elements per value bucket, on average
constexpr size_t kMaxBuckets = 65536;
constexpr size_t kSlotCap = size_t{1} << 16;  // largest bucket handled with per-thread buffers
constexpr size_t kPerThread = size_t{1} << 14;  // at least this many pairs per thread
constexpr size_t kStreamThreads = 8;   // threads for the streaming passes (per-piece histograms)
constexpr size_t kMaxChunks = 256;     // chunks of x-buckets (per-chunk y-bucket tables)
constexpr size_t kRankSlack = 16;          // the vector rank kernel pads and overruns a little
constexpr size_t kBlockOf = 256;           // values bucketed at a time in the streaming passes

// ---- value buckets -----------------------------------------------------------------

// A monotone map of finite doubles onto [0, count): linear, clamped, either in the value
// or in its sortable key (linear in the key is roughly linear in log |v|, for values
// spread over many orders of magnitude). Which of the two, and over which range, is
// chosen on a sample: the range leaves out the few most extreme sampled values (they go
// to the end buckets), so a lone outlier does not squeeze everything else into one
// bucket, and the map that spreads the sample more evenly wins. Any monotone map gives
// the same counts; this one only keeps buckets near their intended size.
// (v - lo) * scale has no multiply-add a compiler could fuse differently in different
// places, so every pass computes the same bucket for the same value.
class Buckets {
 public:
  Buckets(const double* v, size_t n, size_t want) {
    if (want < 2 || n < 2) return;  // one bucket
    // A strided sample, about 16 values per bucket (the first and last values included).
    const size_t s = std::min(n, 16 * want + 1024);
    std::vector<double> sample(s);
    for (size_t k = 0; k < s; ++k) sample[k] = v[k * (n - 1) / (s - 1)];
    double lo = *std::min_element(sample.begin(), sample.end()), hi = *std::max_element(sample.begin(), sample.end());
    const size_t trim = s / (8 * want);
    if (trim > 0) {
      std::nth_element(sample.begin(), sample.begin() + trim, sample.end());
      const double qlo = sample[trim];
      std::nth_element(sample.begin(), sample.end() - 1 - trim, sample.end());
      const double qhi = sample[s - 1 - trim];
      if (qlo < qhi) {
        lo = qlo;
        hi = qhi;
      }
    }
    if (!(lo < hi)) return;  // the sample is constant: one bucket
    Buckets by_value, by_key;
    by_value.set_value(lo, hi, want);
    by_key.set_key(sortable_key(lo), sortable_key(hi), want);
    *this = by_key.max_load(sample) < by_value.max_load(sample) ? by_key : by_value;
  }
  size_t count() const { return count_; }
  Buckets(const Buckets&) = default;
  Buckets& operator=(const Buckets&) = default;
  size_t of(double v) const { return key_mode_ ? of_key(sortable_key(v)) : clamp((v - lo_) * scale_); }
  // of() for v[0, count) into out, in a loop the compiler vectorises in value mode (the
  // same operations, so the same buckets; counts are at most 65536, so int32 is exact).
  void of_block(const double* v, size_t count, uint32_t* out) const {
    if (key_mode_) {
      for (size_t k = 0; k < count; ++k) out[k] = static_cast<uint32_t>(of(v[k]));
      return;
    }
    const double lo = lo_, scale = scale_, top = top_;
    for (size_t k = 0; k < count; ++k) {
      double t = (v[k] - lo) * scale;
      t = t > 0 ? t : 0;
      t = t < top ? t : top;
      out[k] = static_cast<uint32_t>(static_cast<int32_t>(t));
    }
  }
  size_t of_key(uint64_t key) const {
    if (key_mode_) return clamp(key < klo_ ? 0.0 : static_cast<double>(key - klo_) * scale_);
    return clamp((from_sortable_key(key) - lo_) * scale_);
  }

  // thr[j] = the smallest key in [kmin, kmax] whose bucket is >= j (kmax + 1 if none),
  // for j = 0..count; thr[count] = UINT64_MAX. A sorted run is cut at these keys.
  std::vector<uint64_t> thresholds(uint64_t kmin, uint64_t kmax) const {
    std::vector<uint64_t> thr(count_ + 1);
    thr[0] = kmin;
    for (size_t j = 1; j < count_; ++j) {
      uint64_t lo = thr[j - 1], hi = kmax + 1;  // answer in [lo, hi]
      while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (of_key(mid) >= j) hi = mid;
        else lo = mid + 1;
      }
      thr[j] = lo;
    }
    thr[count_] = std::numeric_limits<uint64_t>::max();
    return thr;
  }

 private:
  Buckets() = default;
  size_t clamp(double t) const {
    t = t > 0 ? t : 0;  // also NaN (not produced, but never cast)
    t = t < top_ ? t : top_;
    return static_cast<size_t>(t);
  }
  void set_count(size_t count) {
    count_ = count;
    if (count_ < 2 || !(scale_ < 1e300) || !(scale_ > 0)) {  // constant (or subnormal-range) values
      count_ = 1;
      scale_ = 0;
    }
    top_ = static_cast<double>(count_ - 1);
  }
  void set_value(double lo, double hi, size_t want) {
    key_mode_ = false;
    lo_ = lo;
    const double range = hi - lo;
    scale_ = static_cast<double>(want) / range;
    if (std::isinf(range)) scale_ = static_cast<double>(want) / (0.5 * hi - 0.5 * lo) * 0.5;  // v - lo may overflow: clamped
    set_count(want);
  }
  void set_key(uint64_t klo, uint64_t khi, size_t want) {
    key_mode_ = true;
    klo_ = klo;
    scale_ = static_cast<double>(want) / static_cast<double>(khi - klo);
    set_count(want);
  }
  size_t max_load(const std::vector<double>& sample) const {
    std::vector<uint32_t> load(count_, 0);
    uint32_t most = 0;
    for (double v : sample) most = std::max(most, ++load[of(v)]);
    return most;
  }

  bool key_mode_ = false;
  double lo_ = 0, scale_ = 0, top_ = 0;
  uint64_t klo_ = 0;
  size_t count_ = 1;
};

// ---- sorting pairs inside a bucket -----------------------------------------------------

constexpr size_t kInsertionSort = 24;
constexpr int kMaxDigitBits = 11;

inline bool pair_before(const KeyPair& a, const KeyPair& b) {
  return a.key < b.key || (a.key == b.key && a.payload < b.payload);
}

void insertion_sort(KeyPair* a, size_t n) {
  for (size_t i = 1; i < n; ++i) {
    KeyPair v = a[i];
    size_t j = i;
    while (j > 0 && pair_before(v, a[j - 1])) {
      a[j] = a[j - 1];
      --j;
    }
    a[j] = v;
  }
}

template <bool kPayload>
inline uint64_t field(const KeyPair& p) {
  return kPayload ? p.payload : p.key;
}

// Digit counts → each digit's first output slot (the scatter offsets of a radix pass).
inline void exclusive_prefix_sum(uint32_t* counts, size_t size) {
  uint32_t offset = 0;
  for (size_t d = 0; d < size; ++d) {
    const uint32_t c = counts[d];
    counts[d] = offset;
    offset += c;
  }
}

// A lower bound on the trailing zero bits of key - lo for keys whose bitwise or is
// bits_or (lo among them): ctz(a - b) >= min(ctz a, ctz b).
inline int common_zeros(uint64_t bits_or) { return bits_or == 0 ? 63 : __builtin_ctzll(bits_or); }

// Range [lo, hi] of a field, and the common zero bits of field - lo.
template <bool kPayload>
void field_range(const KeyPair* a, size_t n, uint64_t& lo, uint64_t& hi, int& zeros) {
  uint64_t bits_or = 0;
  lo = hi = field<kPayload>(a[0]);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = field<kPayload>(a[i]);
    lo = k < lo ? k : lo;
    hi = k > hi ? k : hi;
    bits_or |= k;
  }
  zeros = common_zeros(bits_or);
}

// Radix sort of a[0, n) (n < 2^32) by (key, payload), the sorted field (key, or payload
// where all keys are equal: kPayload) lying in [lo, hi] with field - lo a multiple of
// 2^zeros; result in a, tmp holds n pairs. Two stable LSD passes order the pairs by the
// top varying D <= 22 bits of (field - lo), with D about 2 log2(n) so that few pairs share
// them; runs that do are finished by insertion (short) or recursively (long). No
// data-dependent branches in the passes, unlike an MSD split into tiny buckets finished
// by insertion sort. (Skipping the known zero bits keeps, e.g., small integers from all
// landing in one digit, which would serialise the histogram counts.)
template <bool kPayload = false>
void radix_sort_range(KeyPair* a, KeyPair* tmp, size_t n, uint64_t lo, uint64_t hi, int zeros) {
  if (n <= kInsertionSort) {
    insertion_sort(a, n);
    return;
  }
  if (lo == hi) {
    if (!kPayload) {
      uint64_t plo, phi;
      int pzeros;
      field_range<true>(a, n, plo, phi, pzeros);
      radix_sort_range<true>(a, tmp, n, plo, phi, pzeros);
    }
    return;
  }
  const int bits = 64 - __builtin_clzll(hi - lo);  // > zeros, as hi > lo
  const int per_pass = std::min(kMaxDigitBits, 64 - __builtin_clzll(static_cast<unsigned long long>(n - 1)));
  const int shift = std::max(bits - 2 * per_pass, zeros);  // the prefix is (field - lo) >> shift
  const bool exact = shift <= zeros;                      // equal prefix, equal field
  const int total = bits - shift;
  const int low_bits = total > per_pass ? total / 2 : 0, high_bits = total - low_bits;
  const uint64_t low_mask = (uint64_t{1} << low_bits) - 1;
  constexpr size_t kDigits = size_t{1} << kMaxDigitBits;
  uint32_t low[kDigits], high[kDigits];
  std::memset(low, 0, (size_t{1} << low_bits) * sizeof(uint32_t));
  std::memset(high, 0, (size_t{1} << high_bits) * sizeof(uint32_t));
  for (size_t i = 0; i < n; ++i) {
    const uint64_t p = (field<kPayload>(a[i]) - lo) >> shift;
    ++low[p & low_mask];
    ++high[p >> low_bits];
  }
  const uint64_t first = (field<kPayload>(a[0]) - lo) >> shift;
  const bool low_pass = low[first & low_mask] != n, high_pass = high[first >> low_bits] != n;
  exclusive_prefix_sum(low, size_t{1} << low_bits);
  exclusive_prefix_sum(high, size_t{1} << high_bits);
  // A pass whose digit is the same for all would only copy.
  if (low_pass) {
    for (size_t i = 0; i < n; ++i) tmp[low[((field<kPayload>(a[i]) - lo) >> shift) & low_mask]++] = a[i];
  } else {
    std::memcpy(tmp, a, n * sizeof(KeyPair));
  }
  if (high_pass) {
    for (size_t i = 0; i < n; ++i) a[high[(field<kPayload>(tmp[i]) - lo) >> (shift + low_bits)]++] = tmp[i];
  } else {
    std::memcpy(a, tmp, n * sizeof(KeyPair));
  }
  // Runs sharing the prefix.
  if (exact && kPayload) return;
  size_t start = 0;
  uint64_t prefix = (field<kPayload>(a[0]) - lo) >> shift;
  for (size_t i = 1; i <= n; ++i) {
    const uint64_t p = i < n ? (field<kPayload>(a[i]) - lo) >> shift : ~uint64_t{0};
    if (p == prefix) continue;
    const size_t len = i - start;
    if (len > kInsertionSort) {
      const uint64_t run_lo = lo + (prefix << shift);
      const uint64_t run_hi = exact ? run_lo : run_lo + std::min(hi - run_lo, (uint64_t{1} << shift) - 1);
      radix_sort_range<kPayload>(a + start, tmp + start, len, run_lo, run_hi, zeros);
    } else if (len > 1) {
      insertion_sort(a + start, len);
    }
    start = i;
    prefix = p;
  }
}

// ---- sorting positions by key ------------------------------------------------------------

// Keys of the elements being ordered, by position: a primary key and, for the pairs of an
// x-bucket, a secondary one (y) that orders equal primaries.
struct PairKeys {
  static constexpr bool kHasSecondary = true;
  const KeyPair* p;
  uint64_t primary(uint32_t i) const { return p[i].key; }
  uint64_t secondary(uint32_t i) const { return p[i].payload; }
};
struct ValueKeys {
  static constexpr bool kHasSecondary = false;
  const uint64_t* v;
  uint64_t primary(uint32_t i) const { return v[i]; }
  uint64_t secondary(uint32_t) const { return 0; }
};

template <class Keys, bool kSecond>
inline bool position_before(const Keys& keys, uint32_t p, uint32_t q) {
  if (kSecond) return keys.secondary(p) < keys.secondary(q);
  const uint64_t a = keys.primary(p), b = keys.primary(q);
  return a < b || (Keys::kHasSecondary && a == b && keys.secondary(p) < keys.secondary(q));
}

// Stable insertion sort of packed positions (low 32 bits) by their keys.
template <class Keys, bool kSecond>
void insertion_sort_positions(uint64_t* a, size_t n, const Keys& keys) {
  for (size_t i = 1; i < n; ++i) {
    const uint64_t v = a[i];
    size_t j = i;
    while (j > 0 && position_before<Keys, kSecond>(keys, static_cast<uint32_t>(v), static_cast<uint32_t>(a[j - 1]))) {
      a[j] = a[j - 1];
      --j;
    }
    a[j] = v;
  }
}

// Sorts the positions in the low 32 bits of a[0, n) (high bits ignored) stably by their
// keys (primary, then secondary where Keys has one); the sorted key (primary, or secondary
// when kSecond) of every position lies in [lo, hi], and key - lo is a multiple of 2^zeros;
// tmp holds n values. Like radix_sort_range, but the radix passes move 8-byte words (the
// top varying bits of the key above the position) instead of 16-byte pairs: only runs
// sharing those bits look at the keys. (Skipping the known zero bits keeps, e.g., small
// integers from landing all in one digit, which serialises the histogram counts.)
// kIdentity: the positions are 0..n-1 in order, and a is not read.
template <class Keys, bool kSecond = false, bool kIdentity = false>
void sort_positions(uint64_t* a, uint64_t* tmp, size_t n, uint64_t lo, uint64_t hi, const Keys& keys, int zeros = 0) {
  if (kIdentity && (n <= kInsertionSort || lo == hi)) {
    for (size_t i = 0; i < n; ++i) a[i] = i;
    sort_positions<Keys, kSecond>(a, tmp, n, lo, hi, keys, zeros);
    return;
  }
  if (n <= kInsertionSort) {
    insertion_sort_positions<Keys, kSecond>(a, n, keys);
    return;
  }
  auto key = [&](uint32_t i) { return kSecond ? keys.secondary(i) : keys.primary(i); };
  if (lo == hi) {
    if (Keys::kHasSecondary && !kSecond) {
      uint64_t slo = keys.secondary(static_cast<uint32_t>(a[0])), shi = slo, bits_or = 0;
      for (size_t i = 0; i < n; ++i) {
        const uint64_t k = keys.secondary(static_cast<uint32_t>(a[i]));
        slo = k < slo ? k : slo;
        shi = k > shi ? k : shi;
        bits_or |= k;
      }
      sort_positions<Keys, true>(a, tmp, n, slo, shi, keys, common_zeros(bits_or));
    }
    return;
  }
  const int bits = 64 - __builtin_clzll(hi - lo);  // > zeros, as hi > lo
  const int per_pass = std::min(kMaxDigitBits, 64 - __builtin_clzll(static_cast<unsigned long long>(n - 1)));
  const int shift = std::max(bits - 2 * per_pass, zeros);
  const bool exact = shift <= zeros;  // the prefix holds every varying bit: equal prefix, equal key
  const int total = bits - shift;
  const int low_bits = total > per_pass ? total / 2 : 0, high_bits = total - low_bits;
  const uint64_t low_mask = (uint64_t{1} << low_bits) - 1;
  constexpr size_t kDigits = size_t{1} << kMaxDigitBits;
  uint32_t low[kDigits], high[kDigits];
  std::memset(low, 0, (size_t{1} << low_bits) * sizeof(uint32_t));
  std::memset(high, 0, (size_t{1} << high_bits) * sizeof(uint32_t));
  for (size_t i = 0; i < n; ++i) {
    const uint32_t pos = kIdentity ? static_cast<uint32_t>(i) : static_cast<uint32_t>(a[i]);
    const uint64_t prefix = (key(pos) - lo) >> shift;
    a[i] = prefix << 32 | pos;
    ++low[prefix & low_mask];
    ++high[prefix >> low_bits];
  }
  // A pass whose digit is the same for all (common with ties) would only copy.
  const bool low_pass = low[(a[0] >> 32) & low_mask] != n, high_pass = high[a[0] >> (32 + low_bits)] != n;
  exclusive_prefix_sum(low, size_t{1} << low_bits);
  exclusive_prefix_sum(high, size_t{1} << high_bits);
  if (low_pass && high_pass) {
    for (size_t i = 0; i < n; ++i) tmp[low[(a[i] >> 32) & low_mask]++] = a[i];
    for (size_t i = 0; i < n; ++i) a[high[tmp[i] >> (32 + low_bits)]++] = tmp[i];
  } else if (low_pass || high_pass) {
    for (size_t i = 0; i < n; ++i) tmp[i] = a[i];
    if (low_pass) for (size_t i = 0; i < n; ++i) a[low[(tmp[i] >> 32) & low_mask]++] = tmp[i];
    else for (size_t i = 0; i < n; ++i) a[high[tmp[i] >> (32 + low_bits)]++] = tmp[i];
  }
  if (exact && (!Keys::kHasSecondary || kSecond)) return;
  size_t start = 0;
  for (size_t i = 1; i <= n; ++i) {
    if (i < n && (a[i] >> 32) == (a[start] >> 32)) continue;
    const size_t len = i - start;
    if (len > kInsertionSort) {
      const uint64_t run_lo = lo + ((a[start] >> 32) << shift);
      const uint64_t run_hi = exact ? run_lo : run_lo + std::min(hi - run_lo, (uint64_t{1} << shift) - 1);
      sort_positions<Keys, kSecond>(a + start, tmp + start, len, run_lo, run_hi, keys, zeros);
    } else if (len > 1) {
      insertion_sort_positions<Keys, kSecond>(a + start, len, keys);
    }
    start = i;
  }
}

// Sorts a[0, n) by (key, payload) for any n, using tmp (cap pairs) only for pieces of at
// most cap pairs: larger pieces are first split in place (American flag sort).
template <bool kPayload = false>
void sort_bucket_pairs(KeyPair* a, size_t n, KeyPair* tmp, size_t cap) {
  if (n < 2) return;
  uint64_t lo, hi;
  int zeros;
  field_range<kPayload>(a, n, lo, hi, zeros);
  if (n <= cap) {
    radix_sort_range<kPayload>(a, tmp, n, lo, hi, zeros);
    return;
  }
  if (lo == hi) {
    if (!kPayload) sort_bucket_pairs<true>(a, n, tmp, cap);
    return;
  }
  const int bits = 64 - __builtin_clzll(hi - lo);
  const int digit = std::min(bits, kMaxDigitBits);
  const int shift = bits - digit;
  const size_t nb = size_t{1} << digit;
  size_t head[size_t{1} << kMaxDigitBits], tail[size_t{1} << kMaxDigitBits];
  std::memset(tail, 0, nb * sizeof(size_t));
  for (size_t i = 0; i < n; ++i) ++tail[(field<kPayload>(a[i]) - lo) >> shift];
  size_t offset = 0;
  for (size_t b = 0; b < nb; ++b) {
    head[b] = offset;
    offset += tail[b];
    tail[b] = offset;
  }
  for (size_t b = 0; b < nb; ++b) {
    while (head[b] < tail[b]) {
      KeyPair v = a[head[b]];
      size_t t = (field<kPayload>(v) - lo) >> shift;
      while (t != b) {
        std::swap(v, a[head[t]++]);
        t = (field<kPayload>(v) - lo) >> shift;
      }
      a[head[b]++] = v;
    }
  }
  size_t start = 0;
  for (size_t b = 0; b < nb; ++b) {
    const size_t end = tail[b];
    if (end - start > 1) sort_bucket_pairs<kPayload>(a + start, end - start, tmp, cap);
    start = end;
  }
}

// ---- inversion counting: portable merge sort ------------------------------------------

constexpr size_t kInsertionBlock = 32;

// Sorts seq[0, n) by insertion, returning the number of inversions (each shift is one).
uint64_t insertion_sort_count(uint64_t* seq, size_t n) {
  uint64_t inv = 0;
  for (size_t i = 1; i < n; ++i) {
    uint64_t v = seq[i];
    size_t j = i;
    while (j > 0 && seq[j - 1] > v) {
      seq[j] = seq[j - 1];
      --j;
    }
    inv += i - j;
    seq[j] = v;
  }
  return inv;
}

// Merges sorted a[0, na) and b[0, nb) into out, returning the cross inversions
// (pairs a[i] > b[j]). Branch-free, since the comparison outcome is unpredictable.
uint64_t merge_count(const uint64_t* a, size_t na, const uint64_t* b, size_t nb, uint64_t* out) {
  uint64_t inv = 0;
  size_t i = 0, j = 0, k = 0;
  while (i < na && j < nb) {
    uint64_t x = a[i], y = b[j];
    bool take_b = y < x;
    out[k++] = take_b ? y : x;
    inv += take_b ? (na - i) : 0;
    j += take_b;
    i += !take_b;
  }
  while (i < na) out[k++] = a[i++];
  while (j < nb) out[k++] = b[j++];
  return inv;
}

// Counts the inversions of seq[0, n) (pairs k < l with seq[k] > seq[l]) by a bottom-up
// merge sort, leaving seq sorted; tmp holds n values.
uint64_t merge_sort_count(uint64_t* seq, uint64_t* tmp, size_t n) {
  uint64_t inv = 0;
  for (size_t s = 0; s < n; s += kInsertionBlock) inv += insertion_sort_count(seq + s, std::min(kInsertionBlock, n - s));
  uint64_t* src = seq;
  uint64_t* dst = tmp;
  for (size_t width = kInsertionBlock; width < n; width *= 2) {
    for (size_t s = 0; s < n; s += 2 * width) {
      size_t mid = std::min(s + width, n), end = std::min(s + 2 * width, n);
      inv += merge_count(src + s, mid - s, src + mid, end - mid, dst + s);
    }
    std::swap(src, dst);
  }
  if (src != seq) std::memcpy(seq, src, n * sizeof(uint64_t));
  return inv;
}

// ---- inversion counting: rank permutation, AVX2 ---------------------------------------

#if NASRANK_KENDALL_AVX2
struct BitTables {
  alignas(32) uint32_t compress[256][8];  // lanes whose mask bit is set, moved to the front
  uint8_t inversions[256];                // pairs (set bit, later clear bit) in a mask
  BitTables() {
    for (int m = 0; m < 256; ++m) {
      int k = 0, ones = 0, inv = 0;
      for (int i = 0; i < 8; ++i) {
        if (m >> i & 1) {
          compress[m][k++] = static_cast<uint32_t>(i);
          ++ones;
        } else {
          inv += ones;
        }
      }
      for (; k < 8; ++k) compress[m][k] = 0;
      inversions[m] = static_cast<uint8_t>(inv);
    }
  }
};

const BitTables& bit_tables() {
  static const BitTables tables;
  return tables;
}

// Pairs i < j inside the 8 lanes with v[i] > v[j].
__attribute__((target("avx2,popcnt"))) inline uint64_t lane_inversions(__m256i v) {
  uint64_t c = 0;
  for (int r = 1; r < 8; ++r) {
    const __m256i rot = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(r));
    const __m256i w = _mm256_permutevar8x32_epi32(v, _mm256_and_si256(rot, _mm256_set1_epi32(7)));  // w[i] = v[i + r]
    const unsigned gt = static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(v, w))));
    c += static_cast<uint64_t>(__builtin_popcount(gt & ((1u << (8 - r)) - 1)));
  }
  return c;
}

// Inversions of p[0, m), a permutation of 0..m-1 (m <= 2^30). p and tmp hold m + 16
// values; both are clobbered. MSD over the bits of the value: at the level of bit s,
// the values sharing their higher bits form one aligned group (a permutation makes the
// groups exactly [g 2^(s+1), (g+1) 2^(s+1))), and a stable split of each group by bit s
// meets every pair that first differs at bit s; a 1 before a 0 is an inversion. Eight
// values at a time: a movemask, a table for the pairs inside the vector, and two lane
// compressions. Groups of eight are finished with direct comparisons.
__attribute__((target("avx2,popcnt"))) uint64_t permutation_inversions(uint32_t* p, uint32_t* tmp, size_t m) {
  if (m < 2) return 0;
  const BitTables& tab = bit_tables();
  const size_t mp = (m + 7) & ~size_t{7};
  for (size_t k = m; k < mp; ++k) p[k] = static_cast<uint32_t>(k);  // larger values at the end: no new inversions
  const int levels = mp > 1 ? 64 - __builtin_clzll(mp - 1) : 0;
  uint64_t inv = 0;
  uint32_t* src = p;
  uint32_t* dst = tmp;
  for (int l = 0; l + 3 < levels; ++l) {
    const int s = levels - 1 - l;
    const size_t group = size_t{2} << s, half_size = group / 2;
    const __m128i to_sign = _mm_cvtsi32_si128(31 - s);
    for (size_t g = 0; g < mp; g += group) {
      const size_t end = std::min(g + group, mp), half = std::min(g + half_size, end);
      uint32_t* zeros = dst + g;
      uint32_t* ones = dst + half;
      uint32_t* const zeros_end = dst + half;
      uint64_t ones_seen = 0;
      for (size_t k = g; k < end; k += 8) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + k));
        const unsigned mask = static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_sll_epi32(v, to_sign))));
        const unsigned c1 = static_cast<unsigned>(__builtin_popcount(mask)), c0 = 8 - c1;
        inv += ones_seen * c0 + tab.inversions[mask];
        ones_seen += c1;
        const __m256i z = _mm256_permutevar8x32_epi32(v, _mm256_load_si256(reinterpret_cast<const __m256i*>(tab.compress[~mask & 255])));
        const __m256i o = _mm256_permutevar8x32_epi32(v, _mm256_load_si256(reinterpret_cast<const __m256i*>(tab.compress[mask])));
        // The ones may overrun into the next group (written later) or the slack; the
        // zeros must not overrun into the ones already written.
        if (zeros + 8 <= zeros_end) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(zeros), z);
        } else {
          alignas(32) uint32_t lanes[8];
          _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), z);
          for (unsigned q = 0; q < c0; ++q) zeros[q] = lanes[q];
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(ones), o);
        zeros += c0;
        ones += c1;
      }
    }
    std::swap(src, dst);
  }
  for (size_t g = 0; g < mp; g += 8) inv += lane_inversions(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + g)));
  return inv;
}
#endif

bool use_avx2() {
#if NASRANK_KENDALL_AVX2
  static const bool yes = [] {
    if (avx2_disabled_by_env()) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
  }();
  return yes;
#else
  return false;
#endif
}

// Buffers one thread uses for buckets of at most `cap` elements.
struct SlotBuffers {
  KeyPair* pairs;    // cap: sort scratch; on the vector path two arrays of cap words
  uint64_t* values;  // cap (vector path only)
  uint32_t* rank;    // cap + kRankSlack (vector path only)
  uint32_t* rank2;   // cap + kRankSlack (vector path only)
  uint64_t* words() const { return reinterpret_cast<uint64_t*>(pairs); }
};

#if NASRANK_KENDALL_AVX2
// Inversions of keys[0, m) (m <= cap; values in [lo, hi], value - lo a multiple of
// 2^zeros), ties never counted: rank the values (a stable sort, so equal values keep
// their order) and count the inversions of the ranks. On return buf.words()[k] holds the
// position of the k-th smallest (in its low 32 bits).
template <class Keys>
uint64_t ranked_inversions(const Keys& keys, size_t m, uint64_t lo, uint64_t hi, int zeros, const SlotBuffers& buf) {
  uint64_t* order = buf.words();
  sort_positions<Keys, false, true>(order, order + m, m, lo, hi, keys, zeros);
  for (size_t k = 0; k < m; ++k) buf.rank[static_cast<uint32_t>(order[k])] = static_cast<uint32_t>(k);
  return permutation_inversions(buf.rank, buf.rank2, m);
}
#endif

// Tie pairs among equal neighbours of sorted values.
uint64_t tie_pairs(const uint64_t* sorted, size_t m) {
  uint64_t ties = 0, run = 1;
  for (size_t k = 1; k < m; ++k) {
    if (sorted[k] == sorted[k - 1]) {
      ++run;
    } else {
      ties += run * (run - 1) / 2;
      run = 1;
    }
  }
  return ties + run * (run - 1) / 2;
}

struct TauCounts {
  uint64_t xtie = 0, ytie = 0, ntie = 0, dis = 0;
  bool constant = false;  // x or y constant: no pair is concordant or discordant (counts not filled)
  void add(const TauCounts& o) {
    xtie += o.xtie;
    ytie += o.ytie;
    ntie += o.ntie;
    dis += o.dis;
  }
};

// Ties in x and in (x, y) of pairs sorted by (x, y).
TauCounts pair_ties(const KeyPair* a, size_t m) {
  TauCounts t;
  uint64_t xrun = 1, jrun = 1;
  for (size_t k = 1; k < m; ++k) {
    if (a[k].key == a[k - 1].key) {
      ++xrun;
      if (a[k].payload == a[k - 1].payload) {
        ++jrun;
        continue;
      }
    } else {
      t.xtie += xrun * (xrun - 1) / 2;
      xrun = 1;
    }
    t.ntie += jrun * (jrun - 1) / 2;
    jrun = 1;
  }
  t.xtie += xrun * (xrun - 1) / 2;
  t.ntie += jrun * (jrun - 1) / 2;
  return t;
}

struct alignas(64) SlotCounts {
  TauCounts c;
};

// A zeroed table of rows, each starting on its own 128-byte block (the unit some CPUs
// fetch in pairs of lines), so that threads writing different rows never share a cache
// line with each other or with data allocated nearby: the histogram pass ran slower on
// two threads than on one when a row shared a line with a shared read-only table.
template <class T>
class RowTable {
 public:
  RowTable(size_t rows, size_t cols)
      : stride_((cols * sizeof(T) + kBlock - 1) / kBlock * kBlock / sizeof(T)),
        data_(static_cast<T*>(::operator new(std::max<size_t>(rows * stride_, 1) * sizeof(T), std::align_val_t{kBlock}))) {
    std::fill(data_, data_ + rows * stride_, T{});
  }
  ~RowTable() { ::operator delete(data_, std::align_val_t{kBlock}); }
  RowTable(const RowTable&) = delete;
  RowTable& operator=(const RowTable&) = delete;
  T* row(size_t r) const { return data_ + r * stride_; }

 private:
  static constexpr size_t kBlock = 128;
  size_t stride_;
  T* data_;
};

TauCounts count_tau_pairs(const double* x, const double* y, size_t n, int threads) {
  TauCounts total;
  if (n < 2) return total;
  const size_t T = std::min(std::max<size_t>(n / kPerThread, 1), static_cast<size_t>(std::max(threads, 1)));
  // The streaming passes run on TS threads over K contiguous pieces of the input, handed
  // out dynamically (one virtual CPU of this VM is at times much slower than the other).
  const size_t TS = std::min(T, kStreamThreads);
  const size_t K = TS > 1 ? 4 * TS : 1;
  const bool simd = use_avx2();

  // Bucket maps from a sample; then one pass over the data for the exact value ranges and
  // the histograms.
  const size_t want = std::min(std::max<size_t>(n / kBucketTarget, 1), kMaxBuckets);
  const Buckets bx(x, n, want), by(y, n, want);
  const size_t nx = bx.count(), ny = by.count();
  // x-buckets are processed in C chunks of consecutive buckets, each by one thread in
  // order; a chunk's y-bucket histogram must be known before it starts (for the cursors).
  // Enough chunks to balance the threads; the (chunk, y-bucket) tables stay small.
  const size_t C = T > 1 ? std::min({nx, 4 * T, kMaxChunks, std::max<size_t>(16, (size_t{1} << 20) / ny)}) : 1;
  std::vector<uint32_t> chunk_of(nx);
  std::vector<size_t> chunk_first(C + 1, nx);
  for (size_t b = nx; b-- > 0;) {
    chunk_of[b] = static_cast<uint32_t>(b * C / nx);
    chunk_first[chunk_of[b]] = b;
  }

  // Per input piece: value ranges, histograms of x-buckets and of (chunk, y-bucket).
  const RowTable<uint32_t> hx(K, nx), hy(K, C * ny);
  const RowTable<double> range(K, 4);
  parallel_chunks(n, K, static_cast<int>(TS), [&](size_t t, size_t b, size_t e) {
    uint32_t* h = hx.row(t);
    uint32_t* g = hy.row(t);
    double xl = x[b], xh = xl, yl = y[b], yh = yl;
    uint32_t xbs[kBlockOf], ybs[kBlockOf];
    for (size_t s0 = b; s0 < e; s0 += kBlockOf) {
      const size_t len = std::min(kBlockOf, e - s0);
      for (size_t k = 0; k < len; ++k) {
        xl = x[s0 + k] < xl ? x[s0 + k] : xl;
        xh = x[s0 + k] > xh ? x[s0 + k] : xh;
        yl = y[s0 + k] < yl ? y[s0 + k] : yl;
        yh = y[s0 + k] > yh ? y[s0 + k] : yh;
      }
      bx.of_block(x + s0, len, xbs);
      by.of_block(y + s0, len, ybs);
      for (size_t k = 0; k < len; ++k) {
        ++h[xbs[k]];
        ++g[chunk_of[xbs[k]] * ny + ybs[k]];
      }
    }
    double* r = range.row(t);
    r[0] = xl;
    r[1] = xh;
    r[2] = yl;
    r[3] = yh;
  });
  double xmin = range.row(0)[0], xmax = range.row(0)[1], ymin = range.row(0)[2], ymax = range.row(0)[3];
  for (size_t t = 1; t < K; ++t) {
    xmin = std::min(xmin, range.row(t)[0]);
    xmax = std::max(xmax, range.row(t)[1]);
    ymin = std::min(ymin, range.row(t)[2]);
    ymax = std::max(ymax, range.row(t)[3]);
  }
  if (xmin == xmax || ymin == ymax) {
    total.constant = true;
    return total;
  }
  std::vector<size_t> xstart(nx + 1);
  const RowTable<size_t> xoff(K, nx);
  size_t max_len = 0;
  {
    size_t offset = 0;
    for (size_t b = 0; b < nx; ++b) {
      xstart[b] = offset;
      for (size_t t = 0; t < K; ++t) {
        xoff.row(t)[b] = offset;
        offset += hx.row(t)[b];
      }
      max_len = std::max(max_len, offset - xstart[b]);
    }
    xstart[nx] = offset;
  }
  std::vector<uint64_t> Hy(C * ny, 0);
  for (size_t t = 0; t < K; ++t)
    for (size_t k = 0; k < C * ny; ++k) Hy[k] += hy.row(t)[k];
  std::vector<size_t> ystart(ny + 1);
  const RowTable<size_t> cursor(C, ny);
  {
    size_t offset = 0;
    for (size_t j = 0; j < ny; ++j) {
      ystart[j] = offset;
      for (size_t c = 0; c < C; ++c) {
        cursor.row(c)[j] = offset;
        offset += Hy[c * ny + j];
      }
      max_len = std::max(max_len, offset - ystart[j]);
    }
    ystart[ny] = offset;
  }
  // Discordant pairs between chunks in different y-buckets: c1 < c2, y-bucket of the c1
  // element above that of the c2 element.
  {
    std::vector<uint64_t> earlier(ny, 0);
    for (size_t c2 = 1; c2 < C; ++c2) {
      for (size_t j = 0; j < ny; ++j) earlier[j] += Hy[(c2 - 1) * ny + j];
      uint64_t above = 0;
      for (size_t j = ny; j-- > 0;) {
        total.dis += Hy[c2 * ny + j] * above;
        above += earlier[j];
      }
    }
  }
  const uint64_t ykmax = sortable_key(ymax);
  const std::vector<uint64_t> ythr = by.thresholds(sortable_key(ymin), ykmax);

  // Scratch: the pairs by x-bucket, the y values by y-bucket, per-thread buffers.
  const size_t cap = std::min(max_len, kSlotCap);
  ScratchLayout layout;
  const size_t at_pairs = layout.add<KeyPair>(n);
  const size_t at_y = layout.add<uint64_t>(n);
  // Threads (and their buffers) for the bucket phases: no more than there are chunks, and
  // buffers of at most about a third of the main arrays.
  size_t slots = std::min(T, C);
  const size_t slot_bytes = cap * (sizeof(KeyPair) + (simd ? sizeof(uint64_t) + 2 * sizeof(uint32_t) : 0)) + 256;
  slots = std::max<size_t>(std::min(slots, (size_t{32} << 20) / slot_bytes + n * 8 / slot_bytes), 1);
  std::vector<size_t> at_slot(slots * 4);
  for (size_t t = 0; t < slots; ++t) {
    at_slot[4 * t] = layout.add<KeyPair>(cap);
    at_slot[4 * t + 1] = layout.add<uint64_t>(simd ? cap : 0);
    at_slot[4 * t + 2] = layout.add<uint32_t>(simd ? cap + kRankSlack : 0);
    at_slot[4 * t + 3] = layout.add<uint32_t>(simd ? cap + kRankSlack : 0);
  }
  ScratchBlock block(layout.bytes());
  KeyPair* const pairs = scratch_at<KeyPair>(block, at_pairs);
  uint64_t* const ys = scratch_at<uint64_t>(block, at_y);
  auto slot_buffers = [&](size_t t) {
    return SlotBuffers{scratch_at<KeyPair>(block, at_slot[4 * t]), scratch_at<uint64_t>(block, at_slot[4 * t + 1]),
                       scratch_at<uint32_t>(block, at_slot[4 * t + 2]), scratch_at<uint32_t>(block, at_slot[4 * t + 3])};
  };

  // Scatter the pairs into x-buckets.
  parallel_chunks(n, K, static_cast<int>(TS), [&](size_t t, size_t b, size_t e) {
    size_t* off = xoff.row(t);
    uint32_t xbs[kBlockOf];
    for (size_t s0 = b; s0 < e; s0 += kBlockOf) {
      const size_t len = std::min(kBlockOf, e - s0);
      bx.of_block(x + s0, len, xbs);
      for (size_t k = 0; k < len; ++k) pairs[off[xbs[k]]++] = {sortable_key(x[s0 + k]), sortable_key(y[s0 + k])};
    }
  });

  // Per x-bucket work, chunk by chunk.
  std::vector<SlotCounts> counts(slots);
  const RowTable<uint64_t> above_all(C, ny);  // per chunk: earlier elements above each y-bucket
  const RowTable<uint32_t> run_hist(slots, ny);
  std::atomic<size_t> next_chunk{0};
  parallel_chunks(slots, slots, static_cast<int>(slots), [&](size_t t, size_t, size_t) {
    TauCounts& out = counts[t].c;
    const SlotBuffers buf = slot_buffers(t);
    uint32_t* h = run_hist.row(t);
    for (size_t c = next_chunk++; c < C; c = next_chunk++) {
      uint64_t* above = above_all.row(c);
      size_t* cur = cursor.row(c);
      for (size_t xb = chunk_first[c]; xb < chunk_first[c + 1]; ++xb) {
        KeyPair* seg = pairs + xstart[xb];
        const size_t m = xstart[xb + 1] - xstart[xb];
        if (m == 0) continue;
        // Ties in x and in (x, y), discordant pairs inside the bucket, and its y values
        // sorted (run[0, m)).
        const uint64_t* run;
#if NASRANK_KENDALL_AVX2
        if (simd && m <= cap) {
          // x order: positions sorted by (x, y); then y in that order, ranked.
          uint64_t* order = buf.words();
          uint64_t lo = seg[0].key, hi = lo, bits_or = 0;
          for (size_t k = 0; k < m; ++k) {
            lo = seg[k].key < lo ? seg[k].key : lo;
            hi = seg[k].key > hi ? seg[k].key : hi;
            bits_or |= seg[k].key;
          }
          sort_positions<PairKeys, false, true>(order, order + m, m, lo, hi, PairKeys{seg}, common_zeros(bits_or));
          uint64_t* yx = buf.values;
          KeyPair prev = seg[static_cast<uint32_t>(order[0])];
          yx[0] = prev.payload;
          uint64_t ylo = prev.payload, yhi = ylo, yor = ylo, xrun = 1, jrun = 1;
          for (size_t k = 1; k < m; ++k) {
            const KeyPair cur_pair = seg[static_cast<uint32_t>(order[k])];
            yx[k] = cur_pair.payload;
            yor |= cur_pair.payload;
            ylo = cur_pair.payload < ylo ? cur_pair.payload : ylo;
            yhi = cur_pair.payload > yhi ? cur_pair.payload : yhi;
            if (cur_pair.key == prev.key) {
              ++xrun;
              if (cur_pair.payload == prev.payload) ++jrun;
              else {
                out.ntie += jrun * (jrun - 1) / 2;
                jrun = 1;
              }
            } else {
              out.xtie += xrun * (xrun - 1) / 2;
              out.ntie += jrun * (jrun - 1) / 2;
              xrun = jrun = 1;
            }
            prev = cur_pair;
          }
          out.xtie += xrun * (xrun - 1) / 2;
          out.ntie += jrun * (jrun - 1) / 2;
          out.dis += ranked_inversions(ValueKeys{yx}, m, ylo, yhi, common_zeros(yor), buf);
          uint64_t* sorted = order + m;
          for (size_t k = 0; k < m; ++k) sorted[k] = yx[static_cast<uint32_t>(order[k])];
          run = sorted;
        } else
#endif
        {
          sort_bucket_pairs(seg, m, buf.pairs, cap);
          out.add(pair_ties(seg, m));
          uint64_t* seq = reinterpret_cast<uint64_t*>(seg);  // 2m slots: values, then merge scratch
          for (size_t k = 0; k < m; ++k) seq[k] = seg[k].payload;
          if (!std::is_sorted(seq, seq + m)) out.dis += merge_sort_count(seq, seq + m, m);
          run = seq;
        }

        // Pairs with earlier buckets of this chunk whose y-bucket is higher; append the
        // run to its y-buckets.
        size_t j = by.of_key(run[0]);
        for (size_t k = 0; k < m;) {
          const uint64_t v = run[k];
          while (v >= ythr[j + 1]) ++j;
          const uint64_t limit = ythr[j + 1];
          size_t e = k, pos = cur[j];
          do {
            ys[pos++] = run[e];
            ++e;
          } while (e < m && run[e] < limit);
          out.dis += above[j] * (e - k);
          h[j] = static_cast<uint32_t>(e - k);
          cur[j] = pos;
          k = e;
        }
        uint64_t acc = 0;
        for (size_t i = j + 1; i-- > 0;) {
          above[i] += acc;
          acc += h[i];
          h[i] = 0;
        }
      }
    }
  });

  // Per y-bucket: the inversions left (pieces from different x-buckets), ties in y.
  std::atomic<size_t> next_bucket{0};
  uint64_t* const merge_scratch = reinterpret_cast<uint64_t*>(pairs);  // 2n values, free now
  parallel_chunks(slots, slots, static_cast<int>(slots), [&](size_t t, size_t, size_t) {
    TauCounts& out = counts[t].c;
    const SlotBuffers buf = slot_buffers(t);
    for (size_t j = next_bucket++; j < ny; j = next_bucket++) {
      uint64_t* seg = ys + ystart[j];
      const size_t m = ystart[j + 1] - ystart[j];
      if (m == 0) continue;
      if (nx == 1) {  // one x-bucket: the bucket is a single sorted run
        out.ytie += tie_pairs(seg, m);
        continue;
      }
#if NASRANK_KENDALL_AVX2
      if (simd && m <= cap) {
        uint64_t lo = seg[0], hi = lo, bits_or = 0;
        for (size_t k = 0; k < m; ++k) {
          lo = seg[k] < lo ? seg[k] : lo;
          hi = seg[k] > hi ? seg[k] : hi;
          bits_or |= seg[k];
        }
        out.dis += ranked_inversions(ValueKeys{seg}, m, lo, hi, common_zeros(bits_or), buf);
        const uint64_t* order = buf.words();
        uint64_t* sorted = buf.values;
        for (size_t k = 0; k < m; ++k) sorted[k] = seg[static_cast<uint32_t>(order[k])];
        out.ytie += tie_pairs(sorted, m);
        continue;
      }
#endif
      if (!std::is_sorted(seg, seg + m)) out.dis += merge_sort_count(seg, merge_scratch + ystart[j], m);
      out.ytie += tie_pairs(seg, m);
    }
  });
  for (const SlotCounts& s : counts) total.add(s.c);
  return total;
}

}  // namespace

double kendall_tau(const double* x, const double* y, size_t n, TauVariant variant, int threads) {
  const TauCounts c = count_tau_pairs(x, y, n, threads);
  if (n < 2) return std::numeric_limits<double>::quiet_NaN();
  // tau-b is undefined (scipy: NaN) for a constant input; tau-a is -1 (nothing concordant).
  if (c.constant) return variant == TauVariant::A ? -1.0 : std::numeric_limits<double>::quiet_NaN();
  const uint64_t tot = static_cast<uint64_t>(n) * (n - 1) / 2;
  if (variant == TauVariant::A) {
    uint64_t concordant = tot - c.xtie - c.ytie + c.ntie - c.dis;
    return 2.0 * static_cast<double>(concordant) / static_cast<double>(tot) - 1.0;
  }
  if (c.xtie == tot || c.ytie == tot) return std::numeric_limits<double>::quiet_NaN();
  // Same arithmetic as scipy.stats.kendalltau, so results agree to the last bit.
  int64_t con_minus_dis = static_cast<int64_t>(tot - c.xtie - c.ytie + c.ntie) - 2 * static_cast<int64_t>(c.dis);
  double tau = static_cast<double>(con_minus_dis) / std::sqrt(static_cast<double>(tot - c.xtie)) /
               std::sqrt(static_cast<double>(tot - c.ytie));
  return std::min(1.0, std::max(-1.0, tau));
}

}  // namespace nasrank
