// CTNAS's comparator over all pairs of n architectures with a linear head (Chen et al.,
// CVPR 2021): p(i ≻ j) = σ(u_i + v_j + b), u = E·w_a, v = E·w_b. Nothing n×n is stored.
//   comparator_row_means: Eq. 5, s_i = mean_{j≠i} p(i ≻ j) (the baseline curriculum, Alg. 2).
//   comparator_kendall: Eq. 12's sign products over i < j as exact integer counts.
// Each row is computed by one thread in a fixed order: results do not depend on the number
// of threads.
#include <algorithm>
#include <cmath>

#include "kernels.h"
#include "parallel.h"

namespace nasrank {

namespace {
// Rows per chunk: enough to amortise the hand-out, small enough to balance two threads.
constexpr size_t kRowsPerChunk = 64;

inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}
}  // namespace

void comparator_row_means(const double* u, const double* v, size_t n, double bias, double* out, int threads) {
  if (n == 0) return;
  if (n == 1) {
    out[0] = 0;
    return;
  }
  // σ(u_i + b + v_j) = 1 / (1 + a_i·c_j) with a_i = e^−(u_i + b), c_j = e^−v_j: no exp in the
  // inner loop. Exact as long as neither factor overflows (|logit parts| ≤ 350: the product
  // stays within double range, and 1/(1 + ∞) = 0, 1/(1 + 0) = 1 are the right limits).
  bool fast = true;
  for (size_t i = 0; i < n && fast; ++i) fast = std::fabs(u[i] + bias) <= 350 && std::fabs(v[i]) <= 350;
  std::vector<double> a, c;
  if (fast) {
    a.resize(n);
    c.resize(n);
    for (size_t i = 0; i < n; ++i) {
      a[i] = std::exp(-(u[i] + bias));
      c[i] = std::exp(-v[i]);
    }
  }
  const double inv = 1.0 / static_cast<double>(n - 1);
  const size_t chunks = (n + kRowsPerChunk - 1) / kRowsPerChunk;
  parallel_chunks(n, chunks, threads, [&](size_t, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      // Four partial sums (fixed order), skipping j = i.
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      if (fast) {
        const double ai = a[i];
        const double* cj = c.data();
        auto span = [&](size_t lo, size_t hi) {
          size_t j = lo;
          for (; j + 4 <= hi; j += 4) {
            s0 += 1.0 / (1.0 + ai * cj[j]);
            s1 += 1.0 / (1.0 + ai * cj[j + 1]);
            s2 += 1.0 / (1.0 + ai * cj[j + 2]);
            s3 += 1.0 / (1.0 + ai * cj[j + 3]);
          }
          for (; j < hi; ++j) s0 += 1.0 / (1.0 + ai * cj[j]);
        };
        span(0, i);
        span(i + 1, n);
      } else {
        const double ui = u[i] + bias;
        for (size_t j = 0; j < n; ++j) {
          if (j == i) continue;
          s0 += sigmoid(ui + v[j]);
        }
      }
      out[i] = ((s0 + s1) + (s2 + s3)) * inv;
    }
  });
}

namespace {
// One row of Eq. 12, branch-free (the signs of random logits defeat branch prediction):
// Σ_j sgn(x_j)·sgn(d_j) and the number of zero products, over j in (i, n).
template <bool kCodeTies>
void kendall_row(double ui, double ri, const double* v, const double* truth, size_t begin, size_t n, int64_t& sum, int64_t& zero) {
  // int32 partial sums (they vectorise) over blocks short enough never to overflow.
  for (size_t lo = begin; lo < n; lo += (size_t{1} << 30)) {
  const size_t hi = std::min(n, lo + (size_t{1} << 30));
  int32_t s = 0, z = 0;
  for (size_t j = lo; j < hi; ++j) {
    const double x = ui + v[j];
    const double d = ri - truth[j];
    int32_t a, b;
    if (kCodeTies) {
      a = 2 * static_cast<int32_t>(x >= 0) - 1;
      b = 2 * static_cast<int32_t>(d >= 0) - 1;
    } else {
      a = static_cast<int32_t>(x > 0) - static_cast<int32_t>(x < 0);
      b = static_cast<int32_t>(d > 0) - static_cast<int32_t>(d < 0);
    }
    const int32_t prod = a * b;
    s += prod;
    z += static_cast<int32_t>(prod == 0);
  }
  sum += s;
  zero += z;
  }
}
}  // namespace

ComparatorKendallCounts comparator_kendall(const double* u, const double* v, size_t n, double bias, const double* truth, bool code_ties,
                                           int threads) {
  ComparatorKendallCounts total;
  if (n < 2) return total;
  // sgn(p_ij − 0.5) = sgn(u_i + b + v_j) (σ is increasing, σ(0) = 0.5): decided on the logit.
  // Row i has n − 1 − i pairs: rows k and n − 1 − k go together, so every chunk holds about
  // the same number of pairs.
  const size_t half = (n + 1) / 2;
  const size_t chunks = (half + kRowsPerChunk - 1) / kRowsPerChunk;
  std::vector<int64_t> sums(chunks, 0), zeros(chunks, 0);
  parallel_chunks(half, chunks, threads, [&](size_t chunk, size_t begin, size_t end) {
    int64_t sum = 0, zero = 0;
    for (size_t k = begin; k < end; ++k) {
      // k < ⌈n/2⌉, so n − 1 − k ≥ k; the two are one row only in the middle of an odd n.
      const size_t rows[2] = {k, n - 1 - k};
      for (size_t r = 0; r < (rows[1] == k ? 1u : 2u); ++r) {
        const size_t i = rows[r];
        if (code_ties) kendall_row<true>(u[i] + bias, truth[i], v, truth, i + 1, n, sum, zero);
        else kendall_row<false>(u[i] + bias, truth[i], v, truth, i + 1, n, sum, zero);
      }
    }
    sums[chunk] = sum;
    zeros[chunk] = zero;
  });
  int64_t sum = 0, zero = 0;
  for (size_t c = 0; c < chunks; ++c) {
    sum += sums[c];
    zero += zeros[c];
  }
  const int64_t pairs = static_cast<int64_t>(n) * static_cast<int64_t>(n - 1) / 2;
  const int64_t nonzero = pairs - zero;
  total.concordant = (nonzero + sum) / 2;
  total.discordant = (nonzero - sum) / 2;
  total.zero = zero;
  return total;
}

}  // namespace nasrank
