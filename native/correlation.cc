#include <cmath>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "kernels.h"
#include "parallel.h"
#include "scratch.h"
#include "sort.h"

namespace nasrank {

namespace {

// Runs a() and b() concurrently when two threads are allowed (exceptions, e.g.
// std::bad_alloc on the helper thread, reach the caller; see parallel_pair).
template <class A, class B>
void both(int threads, A a, B b) {
  parallel_pair(threads, a, b);
}

// Average ranks (1-based, ties get the mean of their positions), as scipy.stats.rankdata.
void average_ranks(const double* v, const uint32_t* perm, size_t n, double* rank) {
  size_t start = 0;
  while (start < n) {
    size_t end = start + 1;
    while (end < n && sortable_key(v[perm[end]]) == sortable_key(v[perm[start]])) ++end;
    double avg = 0.5 * static_cast<double>(start + end - 1) + 1.0;
    for (size_t k = start; k < end; ++k) rank[perm[k]] = avg;
    start = end;
  }
}

}  // namespace

// kendall_tau is in kendall.cc.

double pearson(const double* x, const double* y, size_t n) {
  // Two passes (mean, then centred sums) in long double: no cancellation from raw moments.
  long double sx = 0, sy = 0;
  for (size_t i = 0; i < n; ++i) {
    sx += x[i];
    sy += y[i];
  }
  const long double mx = sx / n, my = sy / n;
  long double sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) {
    long double dx = x[i] - mx, dy = y[i] - my;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
  double r = static_cast<double>(sxy / std::sqrt(sxx) / std::sqrt(syy));
  return std::min(1.0, std::max(-1.0, r));
}

double spearman(const double* x, const double* y, size_t n, int threads) {
  // Temporaries from the scratch cache (see scratch.h): repeated calls reuse mapped memory.
  ScratchLayout layout;
  const size_t at_px = layout.add<uint32_t>(n), at_py = layout.add<uint32_t>(n);
  const size_t at_ax = layout.add<double>(n), at_ay = layout.add<double>(n);
  ScratchBlock block(layout.bytes());
  uint32_t* const px = scratch_at<uint32_t>(block, at_px);
  uint32_t* const py = scratch_at<uint32_t>(block, at_py);
  double* const ax = scratch_at<double>(block, at_ax);
  double* const ay = scratch_at<double>(block, at_ay);
  both(
      threads,
      [&] {
        argsort(x, n, px);
        average_ranks(x, px, n, ax);
      },
      [&] {
        argsort(y, n, py);
        average_ranks(y, py, n, ay);
      });
  return pearson(ax, ay, n);
}

}  // namespace nasrank
