// CTNAS's comparator over all pairs of n architectures with a linear head (Chen et al.,
// CVPR 2021): p(i ≻ j) = σ(u_i + v_j + b), u = E·w_a, v = E·w_b. Nothing n×n is stored.
//   comparator_row_means: Eq. 5, s_i = mean_{j≠i} p(i ≻ j) (the baseline curriculum, Alg. 2).
//   comparator_kendall: Eq. 12's sign products over i < j as exact integer counts.
// Each row is computed by one thread in a fixed order: results do not depend on the number
// of threads.
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

ComparatorKendallCounts comparator_kendall(const double* u, const double* v, size_t n, double bias, const double* truth, bool code_ties,
                                           int threads) {
  ComparatorKendallCounts total;
  if (n < 2) return total;
  // sgn(p_ij − 0.5) = sgn(u_i + b + v_j) (σ is increasing, σ(0) = 0.5): decided on the logit.
  const size_t chunks = (n + kRowsPerChunk - 1) / kRowsPerChunk;
  std::vector<ComparatorKendallCounts> part(chunks);
  parallel_chunks(n, chunks, threads, [&](size_t chunk, size_t begin, size_t end) {
    int64_t plus = 0, minus = 0, zero = 0;
    for (size_t i = begin; i < end; ++i) {
      const double ui = u[i] + bias;
      const double ri = truth[i];
      for (size_t j = i + 1; j < n; ++j) {
        const double x = ui + v[j];
        const double d = ri - truth[j];
        int sp = x > 0 ? 1 : x < 0 ? -1 : (code_ties ? 1 : 0);
        int sr = d > 0 ? 1 : d < 0 ? -1 : (code_ties ? 1 : 0);
        const int prod = sp * sr;
        plus += prod > 0;
        minus += prod < 0;
        zero += prod == 0;
      }
    }
    part[chunk].concordant = plus;
    part[chunk].discordant = minus;
    part[chunk].zero = zero;
  });
  for (const auto& p : part) {
    total.concordant += p.concordant;
    total.discordant += p.discordant;
    total.zero += p.zero;
  }
  return total;
}

}  // namespace nasrank
