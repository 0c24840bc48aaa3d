// Triplet ranking loss (ReNAS Eq. 4):
//
//   L = sum_{i<j<k} phi((d_ij - d_ik) * sign(l_ij - l_ik)),  l_ij = |y_i - y_j|
//
// For a fixed anchor i this is exactly the pairwise loss over the elements j > i with
// prediction d_ij and target l_ij, so the fast path runs the sorted pairwise primitive
// (rank_loss_detail.h) once per anchor: O(n^2 log n) for hinge and exp, O(n^3) for
// logistic. The per-anchor target order comes from one global sort of y: the elements
// above y_i in ascending y and those below in descending y are each sorted by
// |y_i - y_j|, so a merge gives the order in O(n).
//
// Anchors are handed out one at a time (parallel_items); each anchor owns row i of the
// gradient and writes its loss/count into a per-anchor slot, and the slots are summed in
// anchor order, so the result does not depend on the number of threads.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels.h"
#include "parallel.h"
#include "rank_loss_detail.h"

namespace nasrank {

namespace {

using rankloss::CompensatedSum;
using rankloss::Scratch;
using rankloss::ScratchPool;

LossSums sum_anchors(const std::vector<double>& loss, const std::vector<uint64_t>& count) {
  LossSums out;
  CompensatedSum total;
  for (size_t i = 0; i < loss.size(); ++i) {
    total.add(loss[i]);
    out.comparable += count[i];
  }
  out.loss = total.value();
  return out;
}

// ---- brute force: the triple loop, one anchor per task ---------------------------------
template <Phi P>
void brute_anchor(const double* dist, const double* target, size_t n, double margin, size_t i,
                  double* grad, double* loss_out, uint64_t* count_out) {
  const double* row = dist + i * n;
  double* g = grad + i * n;
  const double yi = target[i];
  double loss = 0.0;
  uint64_t count = 0;
  for (size_t j = i + 1; j < n; ++j) {
    const double lj = std::fabs(yi - target[j]);
    const double dj = row[j];
    double gj = 0.0, lrow = 0.0;
    uint64_t crow = 0;
    for (size_t k = j + 1; k < n; ++k) {
      const double lk = std::fabs(yi - target[k]);
      const int sg = rankloss::cmp3(lj, lk);
      if (sg == 0) continue;
      ++crow;
      const double s = static_cast<double>(sg);
      const double z = (dj - row[k]) * s;
      double v, dz;
      rankloss::phi_eval(P, margin, z, &v, &dz);
      lrow += v;
      gj += dz * s;
      g[k] -= dz * s;
    }
    g[j] += gj;
    loss += lrow;
    count += crow;
  }
  *loss_out = loss;
  *count_out = count;
}

#if NASRANK_VECTOR_LOOPS
// The hinge triple loop, vectorised over k (4 lanes, hinge needs no transcendental):
// term by term the same arithmetic as brute_anchor<Hinge>, only summed lane-wise.
using rankloss::load4;
using rankloss::select;
using rankloss::splat;
using rankloss::store4;
using rankloss::vd;
using rankloss::vl;

NASRANK_TARGET_CLONES
void brute_anchor_hinge(const double* dist, const double* target, size_t n, double margin,
                        size_t i, double* grad, double* loss_out, uint64_t* count_out) {
  const double* row = dist + i * n;
  double* g = grad + i * n;
  const double yi = target[i];
  const vd vyi = splat(yi), vmargin = splat(margin), one = splat(1.0), zero = splat(0.0);
  double loss = 0.0;
  uint64_t count = 0;
  for (size_t j = i + 1; j < n; ++j) {
    const double lj = std::fabs(yi - target[j]);
    const double dj = row[j];
    const vd vlj = splat(lj), vdj = splat(dj);
    vd vloss = zero, vg = zero;
    vl vcount = vl{} + 0;
    size_t k = j + 1;
    for (; k + 4 <= n; k += 4) {
      vd diff = vyi - load4(target + k);
      vd lk = select(diff < 0.0, -diff, diff);
      vl gt = vlj > lk, lt = vlj < lk;
      vd s = select(gt, one, select(lt, -one, zero));
      vd z = (vdj - load4(row + k)) * s;
      vd d = vmargin - z;
      vl active = (d > 0.0) & (gt | lt);
      vloss += select(active, d, zero);
      vd gs = select(active, s, zero);  // -(dphi/dz) * s with dphi/dz = -1
      vg -= gs;
      store4(g + k, load4(g + k) + gs);
      vcount -= (gt | lt);  // masks are -1
    }
    double lrow = (vloss[0] + vloss[1]) + (vloss[2] + vloss[3]);
    double gj = (vg[0] + vg[1]) + (vg[2] + vg[3]);
    uint64_t crow = static_cast<uint64_t>(vcount[0] + vcount[1] + vcount[2] + vcount[3]);
    for (; k < n; ++k) {
      const double lk = std::fabs(yi - target[k]);
      const int sg = rankloss::cmp3(lj, lk);
      if (sg == 0) continue;
      ++crow;
      const double s = static_cast<double>(sg);
      const double d = margin - (dj - row[k]) * s;
      if (d > 0) {
        lrow += d;
        gj -= s;
        g[k] += s;
      }
    }
    g[j] += gj;
    loss += lrow;
    count += crow;
  }
  *loss_out = loss;
  *count_out = count;
}

#endif  // NASRANK_VECTOR_LOOPS

template <Phi P>
LossSums triplet_brute_impl(const double* dist, const double* target, size_t n, double margin,
                            double* grad, int threads) {
  std::vector<double> aloss(n, 0.0);
  std::vector<uint64_t> acount(n, 0);
  parallel_items(n, threads, [&](size_t i) {
#if NASRANK_VECTOR_LOOPS
    if (P == Phi::Hinge) {
      brute_anchor_hinge(dist, target, n, margin, i, grad, &aloss[i], &acount[i]);
      return;
    }
#endif
    brute_anchor<P>(dist, target, n, margin, i, grad, &aloss[i], &acount[i]);
  });
  return sum_anchors(aloss, acount);
}

}  // namespace

LossSums triplet_rank_loss(const double* dist, const double* target, size_t n, Phi phi,
                           double margin, double* grad, int threads) {
  if (n == 0) return LossSums{};
  std::fill(grad, grad + n * n, 0.0);
  if (n < 3) return LossSums{};

  // Global order by (y, index) and each element's position in it.
  std::vector<std::pair<double, uint32_t>> ord(n);
  for (size_t i = 0; i < n; ++i) ord[i] = {target[i], static_cast<uint32_t>(i)};
  std::sort(ord.begin(), ord.end());
  std::vector<uint32_t> pos(n);
  for (size_t r = 0; r < n; ++r) pos[ord[r].second] = static_cast<uint32_t>(r);

  std::vector<double> aloss(n, 0.0);
  std::vector<uint64_t> acount(n, 0);
  ScratchPool pool;
  parallel_items(n - 2, threads, [&](size_t i) {
    std::unique_ptr<Scratch> sp = pool.acquire();
    Scratch& s = *sp;
    const size_t m = n - 1 - i;
    const double yi = target[i];
    const double* row = dist + i * n;
    s.q.resize(m);
    s.key.resize(m);
    s.idx.resize(m);
    // Merge: "up" walks ord upward from pos[i] (y_j >= y_i, |y_i - y_j| = y_j - y_i
    // ascending), "down" walks downward (y_j <= y_i, y_i - y_j ascending). Elements with
    // j <= i are skipped. Ties of y with j > i all lie above pos[i] (stable order).
    size_t up = pos[i] + 1;
    size_t down = pos[i];  // next candidate is down - 1
    auto next_up = [&]() {
      while (up < n && ord[up].second <= i) ++up;
    };
    auto next_down = [&]() {
      while (down > 0 && ord[down - 1].second <= i) --down;
    };
    next_up();
    next_down();
    for (size_t a = 0; a < m; ++a) {
      bool take_up;
      double lu = 0.0, ld = 0.0;
      if (up < n) lu = std::fabs(yi - ord[up].first);
      if (down > 0) ld = std::fabs(yi - ord[down - 1].first);
      if (up >= n)
        take_up = false;
      else if (down == 0)
        take_up = true;
      else
        take_up = !(ld < lu);
      uint32_t j;
      if (take_up) {
        j = ord[up].second;
        s.key[a] = lu;
        ++up;
        next_up();
      } else {
        j = ord[down - 1].second;
        s.key[a] = ld;
        --down;
        next_down();
      }
      s.idx[a] = j;
      s.q[a] = row[j];
    }
    // Group boundaries of equal |y_i - y_j|.
    s.gb.clear();
    s.gb.push_back(0);
    for (size_t a = 1; a < m; ++a)
      if (s.key[a] != s.key[a - 1]) s.gb.push_back(static_cast<uint32_t>(a));
    s.gb.push_back(static_cast<uint32_t>(m));
    const size_t groups = s.gb.size() - 1;
    if (groups >= 2) {
      LossSums r = (phi == Phi::Logistic)
                       ? rankloss::sorted_rank_loss_logistic(m, groups, s)
                       : rankloss::sorted_rank_loss_fast(phi, margin, m, groups, s);
      double* grow = grad + i * n;
      for (size_t a = 0; a < m; ++a) grow[s.idx[a]] = s.g[a];
      aloss[i] = r.loss;
      acount[i] = r.comparable;
    }
    pool.release(std::move(sp));
  });
  return sum_anchors(aloss, acount);
}

LossSums triplet_rank_loss_brute(const double* dist, const double* target, size_t n, Phi phi,
                                 double margin, double* grad, int threads) {
  if (n == 0) return LossSums{};
  std::fill(grad, grad + n * n, 0.0);
  if (n < 3) return LossSums{};
  switch (phi) {
    case Phi::Hinge:
      return triplet_brute_impl<Phi::Hinge>(dist, target, n, margin, grad, threads);
    case Phi::Logistic:
      return triplet_brute_impl<Phi::Logistic>(dist, target, n, margin, grad, threads);
    case Phi::Exp:
      return triplet_brute_impl<Phi::Exp>(dist, target, n, margin, grad, threads);
  }
  return LossSums{};
}

}  // namespace nasrank
