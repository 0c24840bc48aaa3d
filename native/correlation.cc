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

double kendall_tau(const double* x, const double* y, size_t n, TauVariant variant, int threads) {
  // Knight's algorithm, arranged for sequential memory access: sort (x, y) pairs by x
  // then y, count x ties and joint ties in that order, then count discordant pairs as
  // the inversions of the y sequence while merge-sorting it, and y ties once it is sorted.
  std::unique_ptr<KeyPair[]> pairs(new KeyPair[n]), scratch(new KeyPair[n]);
  for (size_t i = 0; i < n; ++i) pairs[i] = {sortable_key(x[i]), sortable_key(y[i])};
  sort_pairs(pairs.get(), scratch.get(), n, threads);

  uint64_t xtie = 0, ntie = 0, xrun = 1, jrun = 1;
  for (size_t k = 1; k < n; ++k) {
    if (pairs[k].key == pairs[k - 1].key) {
      ++xrun;
      if (pairs[k].payload == pairs[k - 1].payload) {
        ++jrun;
        continue;
      }
    } else {
      xtie += xrun * (xrun - 1) / 2;
      xrun = 1;
    }
    ntie += jrun * (jrun - 1) / 2;
    jrun = 1;
  }
  xtie += xrun * (xrun - 1) / 2;
  ntie += jrun * (jrun - 1) / 2;

  // The y sequence and its merge scratch reuse the pair scratch buffer (16 bytes a pair).
  uint64_t* seq = reinterpret_cast<uint64_t*>(scratch.get());
  uint64_t* seq_scratch = seq + n;
  for (size_t k = 0; k < n; ++k) seq[k] = pairs[k].payload;
  pairs.reset();
  const uint64_t dis = count_inversions(seq, seq_scratch, n, threads);
  uint64_t ytie = 0, yrun = 1;
  for (size_t k = 1; k < n; ++k) {
    if (seq[k] == seq[k - 1]) {
      ++yrun;
    } else {
      ytie += yrun * (yrun - 1) / 2;
      yrun = 1;
    }
  }
  ytie += yrun * (yrun - 1) / 2;

  const uint64_t tot = static_cast<uint64_t>(n) * (n - 1) / 2;
  if (variant == TauVariant::A) {
    uint64_t concordant = tot - xtie - ytie + ntie - dis;
    return 2.0 * static_cast<double>(concordant) / static_cast<double>(tot) - 1.0;
  }
  if (xtie == tot || ytie == tot) return std::numeric_limits<double>::quiet_NaN();
  // Same arithmetic as scipy.stats.kendalltau, so results agree to the last bit.
  int64_t con_minus_dis = static_cast<int64_t>(tot - xtie - ytie + ntie) - 2 * static_cast<int64_t>(dis);
  double tau = static_cast<double>(con_minus_dis) / std::sqrt(static_cast<double>(tot - xtie)) /
               std::sqrt(static_cast<double>(tot - ytie));
  return std::min(1.0, std::max(-1.0, tau));
}

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
