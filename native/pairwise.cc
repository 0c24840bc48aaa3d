// Pairwise ranking loss (ReNAS Eq. 3) and the sorted primitive shared with triplet.cc.
//
//   L = sum_{i<j, y_i != y_j} phi(z_ij),  z_ij = (p_i - p_j) * sign(y_i - y_j)
//
// Writing h for the element of the pair with the larger target and l for the other,
// z = p_h - p_l. After sorting by target the sign disappears and
//   hinge:    L = sum_h sum_{l below h, p_h - p_l < margin} (margin - p_h + p_l)
//   exp:      L = sum_h e^{-p_h} sum_{l below h} e^{p_l}
// both of which a sweep in target order (equal targets queried as a group before any of
// them is inserted) answers in O(n log n): a Fenwick tree of counts over prediction ranks
// for hinge, a rescaled running sum of exponentials for exp. Logistic has no such
// decomposition and is evaluated pair by pair, blocked, vectorised and threaded.
//
// Exactness: the hinge activity test uses the very expression of the brute force
// (fl(p_h - p_l) < margin, which is what margin - z > 0 reduces to), so the set of
// active pairs - and hence the hinge gradient, which is a count - is identical. The
// hinge loss is then margin * #active + sum_a grad_a p_a, accumulated in double-double
// with exact products (rescaled by a power of two when it could overflow), so it agrees
// with the term-by-term sum to rounding even when large predictions cancel.
// Determinism: every reduction is combined in a fixed order that does not depend on the
// number of threads (threaded loops use a fixed number of chunks, a function of n).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>

#include "kernels.h"
#include "parallel.h"
#include "rank_loss_detail.h"
#include "sort.h"

namespace nasrank {
namespace rankloss {

namespace {

// ---- double-double arithmetic (error-free transformations, no FMA needed) ----------
struct DD {
  double hi, lo;
};

inline void two_sum(double a, double b, double* s, double* e) {
  double t = a + b;
  double bb = t - a;
  *e = (a - (t - bb)) + (b - bb);
  *s = t;
}

inline DD dd_add(DD a, DD b) {
  double s, e;
  two_sum(a.hi, b.hi, &s, &e);
  e += a.lo + b.lo;
  double h = s + e;
  return {h, e - (h - s)};
}

// Dekker/Veltkamp exact product (valid while |a|,|b| < 2^996).
inline void split(double a, double* hi, double* lo) {
  double t = 134217729.0 * a;  // 2^27 + 1
  double h = t - (t - a);
  *hi = h;
  *lo = a - h;
}

inline DD two_prod(double a, double b) {
  double p = a * b;
  double ah, al, bh, bl;
  split(a, &ah, &al);
  split(b, &bh, &bl);
  double e = ((ah * bh - p) + ah * bl + al * bh) + al * bl;
  return {p, e};
}

// Running sum of e^{x} over inserted x, as (S + C) * e^{M}; query(x) = sum e^{x_i - x}.
// The reference M only moves when a new value exceeds it by more than 500, so in the
// common case the sum is a plain (Neumaier-compensated) sum of e^{x_i - M} with no
// repeated rescaling; S >= 1 always (the reference element itself), and the terms that
// underflow are below e^-745 of it.
struct ExpAccumulator {
  double M = 0.0;
  double S = 0.0;
  double C = 0.0;  // compensation of S
  void add(double x) {
    if (S == 0.0) {
      M = x;
      S = 1.0;
      return;
    }
    double d = x - M;
    if (d > 500.0) {
      double f = std::exp(-d);
      S = S * f + 1.0;
      C *= f;
      M = x;
    } else {
      double y = std::exp(d);
      double t = S + y;
      C += (S >= y) ? (S - t) + y : (y - t) + S;  // both are positive
      S = t;
    }
  }
  double query(double x) const {
    if (S == 0.0) return 0.0;
    double sum = S + C;
    double d = M - x;
    double e = std::exp(d);
    if (e > 1e-290) return sum * e;             // overflow to inf is the true answer
    return std::exp(std::log(sum) + d);         // avoid underflow of the factor alone
  }
};

// Fixed number of row chunks for the threaded O(n^2) loops: a function of n only, so
// that results are bit-identical whatever the thread count. Bounded so that the
// per-chunk gradient buffers stay below ~256 MB.
size_t row_chunks(size_t n) {
  size_t c = n / 256;
  size_t mem_cap = (size_t{1} << 25) / std::max<size_t>(n, 1);  // 2^25 doubles total
  c = std::min(c, mem_cap);
  c = std::min<size_t>(c, 32);
  return std::max<size_t>(c, 1);
}

// Runs row(r, buf, &loss, &count) for every row r in [0, n) in a fixed number of chunks,
// each with a private gradient buffer of length n. Rows are folded (r with n-1-r) so that
// triangular loops give every chunk the same amount of work. The buffers are summed in
// chunk order into grad (overwritten); chunk losses are summed in chunk order.
template <class RowFn>
LossSums threaded_rows(size_t n, int threads, double* grad, RowFn row) {
  size_t chunks = row_chunks(n);
  size_t half = (n + 1) / 2;
  std::unique_ptr<double[]> bufs(new double[chunks * n]);
  std::vector<double> closs(chunks, 0.0);
  std::vector<uint64_t> ccount(chunks, 0);
  parallel_chunks(half, chunks, threads, [&](size_t c, size_t r0, size_t r1) {
    double* buf = bufs.get() + c * n;
    std::fill(buf, buf + n, 0.0);
    CompensatedSum loss;
    uint64_t count = 0;
    for (size_t r = r0; r < r1; ++r) {
      double l = 0.0;
      row(r, buf, &l, &count);
      loss.add(l);
      size_t r2 = n - 1 - r;
      if (r2 != r) {
        l = 0.0;
        row(r2, buf, &l, &count);
        loss.add(l);
      }
    }
    closs[c] = loss.value();
    ccount[c] = count;
  });
  // Sum the buffers element-wise, always in chunk order.
  size_t red_chunks = std::max<size_t>(1, std::min<size_t>(64, n / 4096));
  parallel_chunks(n, red_chunks, threads, [&](size_t, size_t x0, size_t x1) {
    for (size_t x = x0; x < x1; ++x) {
      double acc = 0.0;
      for (size_t c = 0; c < chunks; ++c) acc += bufs[c * n + x];
      grad[x] = acc;
    }
  });
  LossSums out;
  CompensatedSum total;
  for (size_t c = 0; c < chunks; ++c) {
    total.add(closs[c]);
    out.comparable += ccount[c];
  }
  out.loss = total.value();
  return out;
}

// Stable argsort of key[0..m) into out (ties keep index order): LSD radix sort on the
// sortable bits, 8 bits per pass, skipping passes whose digit is the same for all keys.
// Uses the scratch buffers only (no allocation once they have grown).
void sort_indices(const double* key, size_t m, Scratch& s, uint32_t* out) {
  if (m == 0) return;
  s.rkeys.resize(m);
  s.rkeys2.resize(m);
  s.ridx2.resize(m);
  uint64_t* k0 = s.rkeys.data();
  uint64_t* k1 = s.rkeys2.data();
  uint32_t* i0 = out;
  uint32_t* i1 = s.ridx2.data();
  uint32_t hist[8][256];
  std::memset(hist, 0, sizeof hist);
  for (size_t a = 0; a < m; ++a) {
    uint64_t k = sortable_key(key[a]);
    k0[a] = k;
    i0[a] = static_cast<uint32_t>(a);
    for (int d = 0; d < 8; ++d) ++hist[d][(k >> (8 * d)) & 0xff];
  }
  for (int d = 0; d < 8; ++d) {
    uint32_t* h = hist[d];
    if (h[(k0[0] >> (8 * d)) & 0xff] == m) continue;  // every key has this digit
    uint32_t sum = 0;
    for (int b = 0; b < 256; ++b) {
      uint32_t c = h[b];
      h[b] = sum;
      sum += c;
    }
    for (size_t a = 0; a < m; ++a) {
      uint32_t pos = h[(k0[a] >> (8 * d)) & 0xff]++;
      k1[pos] = k0[a];
      i1[pos] = i0[a];
    }
    std::swap(k0, k1);
    std::swap(i0, i1);
  }
  if (i0 != out) std::memcpy(out, i0, m * sizeof(uint32_t));
}

// Group boundaries of a sorted key array; returns the number of groups.
size_t group_bounds(const double* key, size_t m, std::vector<uint32_t>& gb) {
  gb.clear();
  gb.push_back(0);
  for (size_t a = 1; a < m; ++a)
    if (key[a] != key[a - 1]) gb.push_back(static_cast<uint32_t>(a));
  gb.push_back(static_cast<uint32_t>(m));
  return gb.size() - 1;
}

uint64_t comparable_pairs(const std::vector<uint32_t>& gb, size_t groups) {
  uint64_t c = 0;
  for (size_t gi = 1; gi < groups; ++gi)
    c += static_cast<uint64_t>(gb[gi + 1] - gb[gi]) * gb[gi];
  return c;
}

// ---- hinge, O(m log m) -----------------------------------------------------------------
// With cnt_lo(h) = #{l below h active} and cnt_hi(l) = #{h above l active}, the gradient
// is g_a = cnt_hi(a) - cnt_lo(a) (exact integers), and since every active pair adds
// margin - p_h + p_l,
//   L = margin * (number of active pairs) + sum_a g_a p_a,
// which is accumulated in double-double (exact products), so no prediction sums are
// needed in the sweeps: both are counting sweeps over a Fenwick tree of prediction ranks.
LossSums sorted_hinge(double margin, size_t m, size_t groups, Scratch& s) {
  const double* q = s.q.data();
  const uint32_t* gb = s.gb.data();
  double* g = s.g.data();
  sort_by_prediction(m, s);
  const double* ps = s.ps.data();
  const uint32_t* rank = s.rank.data();
  s.thr.resize(m);
  uint32_t* thr = s.thr.data();
  s.fcnt.resize(m + 1);
  uint32_t* fc = s.fcnt.data();

  // Sweep 1 (ascending target): for each h, the lower-target l with p_h - p_l < margin
  // (exactly the brute force's margin - z > 0). In prediction order that set is a suffix
  // [thr, m), and thr is non-decreasing in p_h.
  {
    size_t t = 0;
    for (size_t r = 0; r < m; ++r) {
      while (t < m && !(ps[r] - ps[t] < margin)) ++t;
      thr[r] = static_cast<uint32_t>(t);
    }
  }
  std::fill(fc, fc + m + 1, 0u);
  uint64_t active = 0;
  size_t inserted = 0;
  for (size_t gi = 0; gi < groups; ++gi) {
    const size_t b0 = gb[gi], b1 = gb[gi + 1];
    if (gi > 0) {
      for (size_t a = b0; a < b1; ++a) {
        size_t below = 0;  // inserted elements at prediction ranks < thr
        for (size_t x = thr[rank[a]]; x > 0; x &= x - 1) below += fc[x];
        size_t cnt = inserted - below;
        active += cnt;
        g[a] = -static_cast<double>(cnt);
      }
    }
    for (size_t a = b0; a < b1; ++a)
      for (size_t x = rank[a] + 1; x <= m; x += x & (~x + 1)) ++fc[x];
    inserted += b1 - b0;
  }

  // Sweep 2 (descending target): for each l, the higher-target h with p_h - p_l < margin.
  // In prediction order that set is a prefix [0, thr), thr non-decreasing in p_l.
  {
    size_t u = 0;
    for (size_t r = 0; r < m; ++r) {
      while (u < m && ps[u] - ps[r] < margin) ++u;
      thr[r] = static_cast<uint32_t>(u);
    }
  }
  std::fill(fc, fc + m + 1, 0u);
  for (size_t gi = groups; gi-- > 0;) {
    const size_t b0 = gb[gi], b1 = gb[gi + 1];
    if (gi + 1 < groups) {
      for (size_t a = b0; a < b1; ++a) {
        size_t cnt = 0;
        for (size_t x = thr[rank[a]]; x > 0; x &= x - 1) cnt += fc[x];
        g[a] += static_cast<double>(cnt);
      }
    }
    for (size_t a = b0; a < b1; ++a)
      for (size_t x = rank[a] + 1; x <= m; x += x & (~x + 1)) ++fc[x];
  }

  // L = margin * active + sum_a g_a p_a, in double-double. |g_a| < m and active < m^2,
  // so every partial sum is below 2 * max(|margin|, |p|) * m^2: scale by 2^-k when that
  // could overflow (exact for normal values), and scale back at the end.
  double maxabs = std::max(std::fabs(margin), std::max(std::fabs(ps[0]), std::fabs(ps[m - 1])));
  int k = 0;
  if (maxabs > 0) {
    int bits = 0;
    for (size_t t = m; t; t >>= 1) ++bits;
    int e = std::ilogb(maxabs) + 1 + 2 + 2 * bits;
    if (e > 990) k = e - 990;  // also keeps Dekker's split (|x| < 2^996) safe
  }
  DD loss = two_prod(static_cast<double>(active), k ? std::ldexp(margin, -k) : margin);
  for (size_t a = 0; a < m; ++a) {
    if (g[a] == 0.0) continue;
    DD t = two_prod(g[a], k ? std::ldexp(q[a], -k) : q[a]);
    loss = dd_add(loss, t);
  }
  LossSums out;
  double l = loss.hi + loss.lo;
  out.loss = k ? std::ldexp(l, k) : l;
  out.comparable = comparable_pairs(s.gb, groups);
  return out;
}

// ---- exp, O(m) after sorting --------------------------------------------------------
LossSums sorted_exp(size_t groups, Scratch& s) {
  const double* q = s.q.data();
  const uint32_t* gb = s.gb.data();
  double* g = s.g.data();
  CompensatedSum loss;
  ExpAccumulator lo;  // e^{p_l} of the groups below
  for (size_t gi = 0; gi < groups; ++gi) {
    const size_t b0 = gb[gi], b1 = gb[gi + 1];
    if (gi > 0) {
      for (size_t a = b0; a < b1; ++a) {
        double v = lo.query(q[a]);  // sum_l e^{p_l - p_h}
        loss.add(v);
        g[a] = -v;
      }
    }
    for (size_t a = b0; a < b1; ++a) lo.add(q[a]);
  }
  ExpAccumulator hi;  // e^{-p_h} of the groups above
  for (size_t gi = groups; gi-- > 0;) {
    const size_t b0 = gb[gi], b1 = gb[gi + 1];
    if (gi + 1 < groups)
      for (size_t a = b0; a < b1; ++a) g[a] += hi.query(-q[a]);  // sum_h e^{p_l - p_h}
    for (size_t a = b0; a < b1; ++a) hi.add(-q[a]);
  }
  LossSums out;
  out.loss = loss.value();
  out.comparable = comparable_pairs(s.gb, groups);
  return out;
}

// ---- brute force rows ------------------------------------------------------------------
template <Phi P>
void brute_row(const double* pred, const double* target, size_t n, double margin, size_t i,
               double* buf, double* loss, uint64_t* count) {
  const double pi = pred[i], yi = target[i];
  double gi = 0.0, l = 0.0;
  uint64_t c = 0;
  for (size_t j = i + 1; j < n; ++j) {
    int sg = cmp3(yi, target[j]);
    if (sg == 0) continue;
    ++c;
    double s = static_cast<double>(sg);
    double z = (pi - pred[j]) * s;
    double v, dz;
    phi_eval(P, margin, z, &v, &dz);
    l += v;
    gi += dz * s;
    buf[j] -= dz * s;
  }
  buf[i] += gi;
  *loss += l;
  *count += c;
}

#if NASRANK_VECTOR_LOOPS
// The hinge row, vectorised over j (4 lanes; hinge needs no transcendental): term by term
// the same arithmetic as brute_row<Hinge>, only summed lane-wise.
NASRANK_TARGET_CLONES
void brute_row_hinge(const double* pred, const double* target, size_t n, double margin,
                     size_t i, double* buf, double* loss, uint64_t* count) {
  const double pi = pred[i], yi = target[i];
  const vd vpi = splat(pi), vyi = splat(yi), vmargin = splat(margin);
  const vd one = splat(1.0), zero = splat(0.0);
  vd vloss = zero, vg = zero;
  vl vcount = vl{} + 0;
  size_t j = i + 1;
  for (; j + 4 <= n; j += 4) {
    vd yj = load4(target + j);
    vl gt = vyi > yj, lt = vyi < yj;
    vd s = select(gt, one, select(lt, -one, zero));
    vd d = vmargin - (vpi - load4(pred + j)) * s;
    vl act = (d > 0.0) & (gt | lt);
    vloss += select(act, d, zero);
    vd gs = select(act, s, zero);  // -(dphi/dz) * s with dphi/dz = -1
    vg -= gs;
    store4(buf + j, load4(buf + j) + gs);
    vcount -= (gt | lt);  // masks are -1
  }
  double l = (vloss[0] + vloss[1]) + (vloss[2] + vloss[3]);
  double gi = (vg[0] + vg[1]) + (vg[2] + vg[3]);
  uint64_t c = static_cast<uint64_t>(vcount[0] + vcount[1] + vcount[2] + vcount[3]);
  for (; j < n; ++j) {
    int sg = cmp3(yi, target[j]);
    if (sg == 0) continue;
    ++c;
    double sj = static_cast<double>(sg);
    double d = margin - (pi - pred[j]) * sj;
    if (d > 0) {
      l += d;
      gi -= sj;
      buf[j] += sj;
    }
  }
  buf[i] += gi;
  *loss += l;
  *count += c;
}

#endif  // NASRANK_VECTOR_LOOPS

template <Phi P>
LossSums pairwise_brute_impl(const double* pred, const double* target, size_t n, double margin,
                             double* grad, int threads) {
  return threaded_rows(n, threads, grad, [&](size_t i, double* buf, double* l, uint64_t* c) {
#if NASRANK_VECTOR_LOOPS
    if (P == Phi::Hinge) {
      brute_row_hinge(pred, target, n, margin, i, buf, l, c);
      return;
    }
#endif
    brute_row<P>(pred, target, n, margin, i, buf, l, c);
  });
}

}  // namespace

// ---- shared entry points ------------------------------------------------------------
void sort_by_prediction(size_t m, Scratch& s) {
  s.by_pred.resize(m);
  s.ps.resize(m);
  s.rank.resize(m);
  sort_indices(s.q.data(), m, s, s.by_pred.data());
  for (size_t r = 0; r < m; ++r) {
    uint32_t a = s.by_pred[r];
    s.ps[r] = s.q[a];
    s.rank[a] = static_cast<uint32_t>(r);
  }
}

LossSums sorted_rank_loss_fast(Phi phi, double margin, size_t m, size_t groups, Scratch& s) {
  s.g.assign(m, 0.0);
  if (m < 2 || groups < 2) return LossSums{};
  if (phi == Phi::Hinge) return sorted_hinge(margin, m, groups, s);
  return sorted_exp(groups, s);
}

#if NASRANK_VECTOR_LOOPS
// ---- logistic pair loop, vectorised ---------------------------------------------------
// GCC vector extensions of 4 doubles (one AVX register), two per step, so the lane
// structure - and therefore the rounding - is the same on every CPU up to FMA
// contraction. NASRANK_TARGET_CLONES compiles the row for x86-64-v3 (AVX2 + FMA) and the
// x86-64 baseline, dispatching at load time; never -march=native. (An AVX-512 clone
// would run the same 4-lane code, so it is not worth a third untested variant.)
// exp and log1p are evaluated by the polynomials below (about 1 ulp); the brute-force
// path keeps libm, so the two cross-check each other.
namespace {

// 2^k for integer-valued k in [-1022, 1023].
NASRANK_INLINE vd pow2i(vd k) {
  const double magic = 6755399441055744.0;  // 1.5 * 2^52: k + magic holds k in its low bits
  vl bits = (vl)(k + magic);
  bits = (bits - (int64_t)0x4338000000000000LL + 1023) << 52;
  return (vd)bits;
}

// e^x for x <= 0 (any value down to -inf; below -746 the result is 0).
NASRANK_INLINE vd exp_nonpositive(vd x) {
  x = select(x < -746.0, splat(-746.0), x);
  const double magic = 6755399441055744.0;
  const double ln2_hi = 6.93147180369123816490e-01;  // trailing zeros: k * ln2_hi is exact
  const double ln2_lo = 1.90821492927058770002e-10;
  vd k = (x * 1.4426950408889634 + magic) - magic;  // round(x / ln 2)
  vd r = (x - k * ln2_hi) - k * ln2_lo;             // |r| <= 0.347
  // Taylor series to r^13 (truncation < 1e-17 relative on |r| <= 0.347).
  vd p = splat(1.0 / 6227020800.0);
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // Scale by 2^k in two normal factors so that subnormal results come out right.
  vd k1 = select(k < -1020.0, splat(-1020.0), k);
  return (p * pow2i(k1)) * pow2i(k - k1);
}

// log1p(e) for e in [0, 1], given u = 1 + e and inv_u = 1 / u.
NASRANK_INLINE vd log1p_unit(vd e, vd u, vd inv_u) {
  const double ln2_hi = 6.93147180369123816490e-01;
  const double ln2_lo = 1.90821492927058770002e-10;
  vd c = e - (u - 1.0);  // the rounding error of u = 1 + e, exactly
  vl big = u > 1.4142135623730951;
  vd m = select(big, u * 0.5, u);  // m in [sqrt(1/2), sqrt(2)], u = m * 2^big
  vd f = m - 1.0;                  // exact
  vd s = f / (2.0 + f);            // log(1 + f) = 2 atanh(s), |s| <= 0.1716
  vd z = s * s;
  vd p = splat(1.0 / 21.0);
  p = p * z + 1.0 / 19.0;
  p = p * z + 1.0 / 17.0;
  p = p * z + 1.0 / 15.0;
  p = p * z + 1.0 / 13.0;
  p = p * z + 1.0 / 11.0;
  p = p * z + 1.0 / 9.0;
  p = p * z + 1.0 / 7.0;
  p = p * z + 1.0 / 5.0;
  p = p * z + 1.0 / 3.0;  // truncation < 1e-18 relative
  vd hs = s + s;
  vd logm = hs + hs * (z * p);
  vd lg = (logm + select(big, splat(ln2_lo), splat(0.0))) + select(big, splat(ln2_hi), splat(0.0));
  return lg + c * inv_u;  // log(u + c) = log(u) + log1p(c / u), |c / u| <= 2^-53
}

// Four pairs: z = qb - qa. *term = phi(z) = log(1 + e^-z), *sig = -dphi/dz = sigmoid(-z).
NASRANK_INLINE void logistic4(vd qb, vd qa, vd* term, vd* sig) {
  vd z = qb - qa;
  vd negz = -z;
  vd az = select(z < 0.0, negz, z);
  vd e = exp_nonpositive(-az);
  vd u = 1.0 + e;
  vd inv_u = 1.0 / u;
  *term = select(negz > 0.0, negz, splat(0.0)) + log1p_unit(e, u, inv_u);
  *sig = select(z > 0.0, e, splat(1.0)) * inv_u;
}

NASRANK_INLINE double hsum(vd v) { return (v[0] + v[1]) + (v[2] + v[3]); }

}  // namespace

NASRANK_TARGET_CLONES
void logistic_row(const double* q, size_t lim, double qb, double* gcol, double* gb_acc,
                  double* loss) {
  const vd vqb = splat(qb);
  vd term0 = splat(0.0), term1 = splat(0.0), sig0 = splat(0.0), sig1 = splat(0.0);
  size_t a = 0;
  for (; a + 8 <= lim; a += 8) {
    vd t0, s0, t1, s1;
    logistic4(vqb, load4(q + a), &t0, &s0);
    logistic4(vqb, load4(q + a + 4), &t1, &s1);
    term0 += t0;
    sig0 += s0;
    term1 += t1;
    sig1 += s1;
    store4(gcol + a, load4(gcol + a) + s0);
    store4(gcol + a + 4, load4(gcol + a + 4) + s1);
  }
  for (; a < lim; a += 4) {
    // Tail: the same arithmetic on a padded block (padding z = 0), padding masked out.
    const size_t r = std::min<size_t>(4, lim - a);
    double tmp[4];
    for (size_t x = 0; x < 4; ++x) tmp[x] = x < r ? q[a + x] : qb;
    vd t0, s0;
    logistic4(vqb, load4(tmp), &t0, &s0);
    const vl lane = {0, 1, 2, 3};
    const vl keep = lane < static_cast<int64_t>(r);
    term0 += select(keep, t0, splat(0.0));
    sig0 += select(keep, s0, splat(0.0));
    for (size_t x = 0; x < r; ++x) gcol[a + x] += s0[x];
  }
  *gb_acc -= hsum(sig0) + hsum(sig1);
  *loss += hsum(term0) + hsum(term1);
}

#else  // !NASRANK_VECTOR_LOOPS: the scalar loop with libm

void logistic_row(const double* q, size_t lim, double qb, double* gcol, double* gb_acc,
                  double* loss) {
  double acc = 0.0, l = 0.0;
  for (size_t a = 0; a < lim; ++a) {
    double v, dz;
    phi_eval(Phi::Logistic, 0.0, qb - q[a], &v, &dz);
    l += v;
    acc += dz;
    gcol[a] -= dz;
  }
  *gb_acc += acc;
  *loss += l;
}

#endif  // NASRANK_VECTOR_LOOPS

LossSums sorted_rank_loss_logistic(size_t m, size_t groups, Scratch& s) {
  s.g.assign(m, 0.0);
  if (m < 2 || groups < 2) return LossSums{};
  const double* q = s.q.data();
  double* g = s.g.data();
  CompensatedSum loss;
  for (size_t gi = 1; gi < groups; ++gi) {
    const size_t lim = s.gb[gi];
    for (size_t b = s.gb[gi]; b < s.gb[gi + 1]; ++b) {
      double acc = 0.0, l = 0.0;
      logistic_row(q, lim, q[b], g, &acc, &l);
      g[b] += acc;
      loss.add(l);
    }
  }
  LossSums out;
  out.loss = loss.value();
  out.comparable = comparable_pairs(s.gb, groups);
  return out;
}

}  // namespace rankloss

using rankloss::Scratch;

LossSums pairwise_rank_loss(const double* pred, const double* target, size_t n, Phi phi,
                            double margin, double* grad, int threads) {
  if (n == 0) return LossSums{};
  std::fill(grad, grad + n, 0.0);
  if (n < 2) return LossSums{};
  Scratch s;
  s.idx.resize(n);
  rankloss::sort_indices(target, n, s, s.idx.data());
  s.q.resize(n);
  s.key.resize(n);
  for (size_t a = 0; a < n; ++a) {
    s.q[a] = pred[s.idx[a]];
    s.key[a] = target[s.idx[a]];
  }
  size_t groups = rankloss::group_bounds(s.key.data(), n, s.gb);
  if (groups < 2) return LossSums{};

  LossSums out;
  if (phi == Phi::Logistic) {
    // Row b (in target order) pairs with every a before its group: a triangle, threaded
    // by folded rows with per-chunk gradient buffers.
    std::vector<uint32_t> lim(n);
    for (size_t gi = 0; gi < groups; ++gi)
      for (size_t b = s.gb[gi]; b < s.gb[gi + 1]; ++b) lim[b] = s.gb[gi];
    s.g.assign(n, 0.0);
    const double* q = s.q.data();
    out = rankloss::threaded_rows(n, threads, s.g.data(),
                                  [&](size_t b, double* buf, double* l, uint64_t* c) {
                                    double acc = 0.0;
                                    rankloss::logistic_row(q, lim[b], q[b], buf, &acc, l);
                                    buf[b] += acc;
                                    *c += lim[b];
                                  });
  } else {
    out = rankloss::sorted_rank_loss_fast(phi, margin, n, groups, s);
  }
  for (size_t a = 0; a < n; ++a) grad[s.idx[a]] = s.g[a];
  return out;
}

LossSums pairwise_rank_loss_brute(const double* pred, const double* target, size_t n, Phi phi,
                                  double margin, double* grad, int threads) {
  if (n == 0) return LossSums{};
  std::fill(grad, grad + n, 0.0);
  if (n < 2) return LossSums{};
  switch (phi) {
    case Phi::Hinge:
      return rankloss::pairwise_brute_impl<Phi::Hinge>(pred, target, n, margin, grad, threads);
    case Phi::Logistic:
      return rankloss::pairwise_brute_impl<Phi::Logistic>(pred, target, n, margin, grad,
                                                          threads);
    case Phi::Exp:
      return rankloss::pairwise_brute_impl<Phi::Exp>(pred, target, n, margin, grad, threads);
  }
  return LossSums{};
}

}  // namespace nasrank
