#include <cmath>
#include <limits>
#include <memory>
#include <thread>
#include <vector>

#include "kernels.h"
#include "sort.h"

namespace nasrank {

namespace {

// Runs a() and b() concurrently when two threads are allowed.
template <class A, class B>
void both(int threads, A a, B b) {
  if (threads < 2) {
    a();
    b();
    return;
  }
  std::thread t(a);
  b();
  t.join();
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
  std::unique_ptr<uint32_t[]> px(new uint32_t[n]), py(new uint32_t[n]);
  std::unique_ptr<double[]> ax(new double[n]), ay(new double[n]);
  both(
      threads,
      [&] {
        argsort(x, n, px.get());
        average_ranks(x, px.get(), n, ax.get());
      },
      [&] {
        argsort(y, n, py.get());
        average_ranks(y, py.get(), n, ay.get());
      });
  return pearson(ax.get(), ay.get(), n);
}

}  // namespace nasrank
