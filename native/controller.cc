// CTNAS's REINFORCE controller (lib/models/controller.ts is the reference): an LSTMCell of H
// units (PyTorch's gate layout i, f, g, o) takes T decisions among C choices; step 0 reads
// zeros, step t the H-d embedding of decision t−1; logits = Linear(H → C) of the hidden state,
// plain softmax. Parameters, one Float64Array, in the TypeScript layout:
//   [W_ih (4H×H) | b_ih (4H) | W_hh (4H×H) | b_hh (4H) | W_o (C×H) | b_o (C) | E (C×H)].
// The per-step cache has the TypeScript layout too (10H + C doubles per step):
//   [i f g o (activated) | c_prev | h_prev | c | tanh c | h | probs].
//
// Only the summation order (and, on AVX2 CPUs, fused multiply-adds) differs from the
// TypeScript: partial sums per dot product, weight gradients accumulated once per row after the
// backward sweep. Results agree to rounding, not bit for bit. Single-threaded: an iteration is
// ~6·10⁵ multiply-adds. The matrix-vector loops have an AVX2+FMA version picked at run time
// (NASRANK_NO_AVX2=1 forces the portable one, as in gcn.cc).
#include <cmath>
#include <cstring>
#include <vector>

#include "cpu.h"
#include "kernels.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NASRANK_CTRL_AVX2 1
#else
#define NASRANK_CTRL_AVX2 0
#endif

namespace nasrank {

namespace {

inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// The three matrix-vector shapes of an iteration, W row-major R×H:
//   gemv:    out[r] += W[r,:]·x                        (gates, logits)
//   gemv_t:  out[:] += Σ_r d[r]·W[r,:]                 (dh = Wᵀ dg)
//   ger_t:   G[r,:] += Σ_t d_t[r]·x_t[:]  and, when dx is given, dx_t[:] += d_t[r]·W[r,:]
//            for t in [t0, T)                          (weight and input gradients of all steps)
struct Portable {
  static double dot(const double* a, const double* b, size_t n) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t k = 0;
    for (; k + 4 <= n; k += 4) {
      s0 += a[k] * b[k];
      s1 += a[k + 1] * b[k + 1];
      s2 += a[k + 2] * b[k + 2];
      s3 += a[k + 3] * b[k + 3];
    }
    for (; k < n; ++k) s0 += a[k] * b[k];
    return (s0 + s2) + (s1 + s3);
  }
  static void gemv(const double* W, size_t R, size_t H, const double* x, double* out) {
    for (size_t r = 0; r < R; ++r) out[r] += dot(W + r * H, x, H);
  }
  static void gemv_t(const double* W, size_t R, size_t H, const double* d, double* out) {
    for (size_t r = 0; r < R; ++r) {
      const double a = d[r];
      if (a == 0) continue;
      const double* w = W + r * H;
      for (size_t k = 0; k < H; ++k) out[k] += a * w[k];
    }
  }
  static void ger_t(double* G, const double* W, size_t R, size_t H, size_t T, size_t t0, const double* d, size_t d_stride,
                    const double* const* xs, double* dx) {
    for (size_t r = 0; r < R; ++r) {
      double* g = G + r * H;
      const double* w = W + r * H;
      for (size_t t = t0; t < T; ++t) {
        const double a = d[t * d_stride + r];
        if (a == 0) continue;
        const double* x = xs[t];
        for (size_t k = 0; k < H; ++k) g[k] += a * x[k];
        if (dx) {
          double* o = dx + t * H;
          for (size_t k = 0; k < H; ++k) o[k] += a * w[k];
        }
      }
    }
  }
};

#if NASRANK_CTRL_AVX2
// Register-blocked: four rows at a time (independent FMA chains instead of one latency-bound
// chain per row), and a gradient row chunk stays in a register across all steps.
struct Avx2 {
  __attribute__((target("avx2,fma"))) static double hsum(__m256d s) {
    const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s), _mm256_extractf128_pd(s, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  }
  __attribute__((target("avx2,fma"))) static double dot(const double* a, const double* b, size_t n) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    size_t k = 0;
    for (; k + 8 <= n; k += 8) {
      s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + k), _mm256_loadu_pd(b + k), s0);
      s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + k + 4), _mm256_loadu_pd(b + k + 4), s1);
    }
    for (; k + 4 <= n; k += 4) s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + k), _mm256_loadu_pd(b + k), s0);
    double out = hsum(_mm256_add_pd(s0, s1));
    for (; k < n; ++k) out += a[k] * b[k];
    return out;
  }
  __attribute__((target("avx2,fma"))) static void gemv(const double* W, size_t R, size_t H, const double* x, double* out) {
    size_t r = 0;
    const size_t H4 = H & ~size_t{3};
    for (; r + 4 <= R; r += 4) {
      const double* w0 = W + r * H;
      const double* w1 = w0 + H;
      const double* w2 = w1 + H;
      const double* w3 = w2 + H;
      __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd(), a2 = _mm256_setzero_pd(), a3 = _mm256_setzero_pd();
      __m256d b0 = _mm256_setzero_pd(), b1 = _mm256_setzero_pd(), b2 = _mm256_setzero_pd(), b3 = _mm256_setzero_pd();
      size_t k = 0;
      for (; k + 8 <= H4; k += 8) {
        const __m256d x0 = _mm256_loadu_pd(x + k), x1 = _mm256_loadu_pd(x + k + 4);
        a0 = _mm256_fmadd_pd(_mm256_loadu_pd(w0 + k), x0, a0);
        a1 = _mm256_fmadd_pd(_mm256_loadu_pd(w1 + k), x0, a1);
        a2 = _mm256_fmadd_pd(_mm256_loadu_pd(w2 + k), x0, a2);
        a3 = _mm256_fmadd_pd(_mm256_loadu_pd(w3 + k), x0, a3);
        b0 = _mm256_fmadd_pd(_mm256_loadu_pd(w0 + k + 4), x1, b0);
        b1 = _mm256_fmadd_pd(_mm256_loadu_pd(w1 + k + 4), x1, b1);
        b2 = _mm256_fmadd_pd(_mm256_loadu_pd(w2 + k + 4), x1, b2);
        b3 = _mm256_fmadd_pd(_mm256_loadu_pd(w3 + k + 4), x1, b3);
      }
      for (; k < H4; k += 4) {
        const __m256d x0 = _mm256_loadu_pd(x + k);
        a0 = _mm256_fmadd_pd(_mm256_loadu_pd(w0 + k), x0, a0);
        a1 = _mm256_fmadd_pd(_mm256_loadu_pd(w1 + k), x0, a1);
        a2 = _mm256_fmadd_pd(_mm256_loadu_pd(w2 + k), x0, a2);
        a3 = _mm256_fmadd_pd(_mm256_loadu_pd(w3 + k), x0, a3);
      }
      a0 = _mm256_add_pd(a0, b0);
      a1 = _mm256_add_pd(a1, b1);
      a2 = _mm256_add_pd(a2, b2);
      a3 = _mm256_add_pd(a3, b3);
      // [Σa0, Σa1, Σa2, Σa3] by two horizontal adds and a lane swap.
      const __m256d h01 = _mm256_hadd_pd(a0, a1);  // a0₀+a0₁, a1₀+a1₁, a0₂+a0₃, a1₂+a1₃
      const __m256d h23 = _mm256_hadd_pd(a2, a3);
      const __m256d lo = _mm256_permute2f128_pd(h01, h23, 0x20);
      const __m256d hi = _mm256_permute2f128_pd(h01, h23, 0x31);
      __m256d sums = _mm256_add_pd(lo, hi);
      if (H4 < H) {
        alignas(32) double tail[4] = {0, 0, 0, 0};
        for (size_t j = H4; j < H; ++j) {
          tail[0] += w0[j] * x[j];
          tail[1] += w1[j] * x[j];
          tail[2] += w2[j] * x[j];
          tail[3] += w3[j] * x[j];
        }
        sums = _mm256_add_pd(sums, _mm256_load_pd(tail));
      }
      _mm256_storeu_pd(out + r, _mm256_add_pd(_mm256_loadu_pd(out + r), sums));
    }
    for (; r < R; ++r) out[r] += dot(W + r * H, x, H);
  }
  // out[:] += Σ_r d[r]·W[r,:], four rows per pass over out.
  __attribute__((target("avx2,fma"))) static void gemv_t(const double* W, size_t R, size_t H, const double* d, double* out) {
    const size_t H4 = H & ~size_t{3};
    size_t r = 0;
    for (; r + 4 <= R; r += 4) {
      const double* w0 = W + r * H;
      const double* w1 = w0 + H;
      const double* w2 = w1 + H;
      const double* w3 = w2 + H;
      const __m256d d0 = _mm256_set1_pd(d[r]), d1 = _mm256_set1_pd(d[r + 1]), d2 = _mm256_set1_pd(d[r + 2]), d3 = _mm256_set1_pd(d[r + 3]);
      for (size_t k = 0; k < H4; k += 4) {
        __m256d acc = _mm256_loadu_pd(out + k);
        acc = _mm256_fmadd_pd(d0, _mm256_loadu_pd(w0 + k), acc);
        acc = _mm256_fmadd_pd(d1, _mm256_loadu_pd(w1 + k), acc);
        acc = _mm256_fmadd_pd(d2, _mm256_loadu_pd(w2 + k), acc);
        acc = _mm256_fmadd_pd(d3, _mm256_loadu_pd(w3 + k), acc);
        _mm256_storeu_pd(out + k, acc);
      }
      for (size_t k = H4; k < H; ++k) out[k] += d[r] * w0[k] + d[r + 1] * w1[k] + d[r + 2] * w2[k] + d[r + 3] * w3[k];
    }
    for (; r < R; ++r) {
      const double* w = W + r * H;
      for (size_t k = 0; k < H; ++k) out[k] += d[r] * w[k];
    }
  }
  // G[r,:] += Σ_{t ≥ t0} d_t[r]·x_t[:]: each 4-wide chunk of a row stays in a register over t.
  // dx (when given): dx_t += W_ᵀ d_t for t ≥ t0, by gemv_t.
  __attribute__((target("avx2,fma"))) static void ger_t(double* G, const double* W, size_t R, size_t H, size_t T, size_t t0,
                                                         const double* d, size_t d_stride, const double* const* xs, double* dx) {
    const size_t H4 = H & ~size_t{3};
    for (size_t r = 0; r < R; ++r) {
      double* g = G + r * H;
      for (size_t k = 0; k < H4; k += 4) {
        __m256d acc = _mm256_loadu_pd(g + k);
        for (size_t t = t0; t < T; ++t) acc = _mm256_fmadd_pd(_mm256_set1_pd(d[t * d_stride + r]), _mm256_loadu_pd(xs[t] + k), acc);
        _mm256_storeu_pd(g + k, acc);
      }
      for (size_t k = H4; k < H; ++k) {
        for (size_t t = t0; t < T; ++t) g[k] += d[t * d_stride + r] * xs[t][k];
      }
    }
    if (dx) {
      for (size_t t = t0; t < T; ++t) gemv_t(W, R, H, d + t * d_stride, dx + t * H);
    }
  }
};

bool ctrl_use_avx2() { return avx2_fma_usable(); }
#endif

struct Offsets {
  size_t wih, bih, whh, bhh, wo, bo, emb, total;
  Offsets(size_t H, size_t C) {
    size_t at = 0;
    wih = at; at += 4 * H * H;
    bih = at; at += 4 * H;
    whh = at; at += 4 * H * H;
    bhh = at; at += 4 * H;
    wo = at; at += C * H;
    bo = at; at += C;
    emb = at; at += C * H;
    total = at;
  }
};

// One LSTM step: gates from x (null: zeros) and h_prev, then c, h. Writes the activated gates,
// c_prev, h_prev, c, tanh c, h into st (the cache layout).
template <class K>
void lstm_step(const double* P, const Offsets& o, size_t H, const double* x, const double* h_prev, const double* c_prev,
               double* st) {
  for (size_t r = 0; r < 4 * H; ++r) st[r] = P[o.bih + r] + P[o.bhh + r];
  if (x) K::gemv(P + o.wih, 4 * H, H, x, st);
  K::gemv(P + o.whh, 4 * H, H, h_prev, st);
  for (size_t r = 0; r < 4 * H; ++r) st[r] = (r >= 2 * H && r < 3 * H) ? std::tanh(st[r]) : sigmoid(st[r]);  // i f [g] o
  std::memcpy(st + 4 * H, c_prev, H * sizeof(double));
  std::memcpy(st + 5 * H, h_prev, H * sizeof(double));
  for (size_t k = 0; k < H; ++k) {
    const double c = st[H + k] * c_prev[k] + st[k] * st[2 * H + k];
    const double tc = std::tanh(c);
    st[6 * H + k] = c;
    st[7 * H + k] = tc;
    st[8 * H + k] = st[3 * H + k] * tc;
  }
}

// Softmax of the output layer at hidden state h into probs; writes logits, returns log Z.
template <class K>
double output_softmax(const double* P, const Offsets& o, size_t H, size_t C, const double* h, double* logits, double* probs) {
  for (size_t a = 0; a < C; ++a) logits[a] = P[o.bo + a];
  K::gemv(P + o.wo, C, H, h, logits);
  double mx = -INFINITY;
  for (size_t a = 0; a < C; ++a) mx = logits[a] > mx ? logits[a] : mx;
  double z = 0;
  for (size_t a = 0; a < C; ++a) z += std::exp(logits[a] - mx);
  const double lz = mx + std::log(z);
  for (size_t a = 0; a < C; ++a) probs[a] = std::exp(logits[a] - lz);
  return lz;
}

// The first a with r < Σ_{b≤a} p_b, else the last choice (lib/models/controller.ts's rule).
size_t pick_from(const double* p, size_t C, double r) {
  double acc = 0;
  for (size_t a = 0; a < C; ++a) {
    acc += p[a];
    if (r < acc) return a;
  }
  return C - 1;
}

template <class K>
ControllerSampleResult sample_impl(const double* P, size_t H, size_t C, size_t T, const double* draws, const uint8_t* forced,
                                   uint8_t* ops, double* cache) {
  const Offsets o(H, C);
  const size_t stride = 10 * H + C;
  std::vector<double> zeros(2 * H, 0.0), logits(C);
  const double* h = zeros.data();
  const double* c = zeros.data() + H;
  ControllerSampleResult out;
  for (size_t t = 0; t < T; ++t) {
    double* st = cache + t * stride;
    const double* x = t == 0 ? nullptr : P + o.emb + static_cast<size_t>(ops[t - 1]) * H;
    lstm_step<K>(P, o, H, x, h, c, st);
    double* probs = st + 10 * H;
    const double lz = output_softmax<K>(P, o, H, C, st + 8 * H, logits.data(), probs);
    double ent = 0;
    for (size_t a = 0; a < C; ++a) ent -= probs[a] * (logits[a] - lz);
    const size_t pick = forced ? forced[t] : pick_from(probs, C, draws[t]);
    ops[t] = static_cast<uint8_t>(pick);
    out.log_prob += logits[pick] - lz;
    out.entropy += ent;
    h = st + 8 * H;
    c = st + 6 * H;
  }
  return out;
}

template <class K>
void backward_impl(const double* P, double* G, size_t H, size_t C, size_t T, const uint8_t* ops, const double* cache,
                   double coef_log_prob, double coef_entropy) {
  const Offsets o(H, C);
  const size_t stride = 10 * H + C;
  // dg and dl of every step, kept for the weight gradients after the sweep.
  std::vector<double> dgs(T * 4 * H), dls(T * C, 0.0), dh(H), dc(H), dh_next(H, 0.0), dc_next(H, 0.0);
  for (size_t t = T; t-- > 0;) {
    const double* st = cache + t * stride;
    const double* probs = st + 10 * H;
    const size_t pick = ops[t];
    double ent = 0;
    for (size_t a = 0; a < C; ++a) {
      if (probs[a] > 0) ent -= probs[a] * std::log(probs[a]);
    }
    std::memcpy(dh.data(), dh_next.data(), H * sizeof(double));
    double* dl = dls.data() + t * C;
    for (size_t a = 0; a < C; ++a) {
      const double p = probs[a];
      // d(−A log p_pick)/dlogit_a = A (p_a − 1[a = pick]); d(−β H)/dlogit_a = β p_a (log p_a + H).
      dl[a] = coef_log_prob * (p - (a == pick ? 1.0 : 0.0)) + (coef_entropy != 0 && p > 0 ? coef_entropy * p * (std::log(p) + ent) : 0.0);
      G[o.bo + a] += dl[a];
    }
    K::gemv_t(P + o.wo, C, H, dl, dh.data());
    double* dg = dgs.data() + t * 4 * H;
    for (size_t k = 0; k < H; ++k) {
      const double i = st[k], f = st[H + k], g = st[2 * H + k], og = st[3 * H + k], tc = st[7 * H + k];
      dc[k] = dh[k] * og * (1 - tc * tc) + dc_next[k];
      dg[k] = dc[k] * g * i * (1 - i);
      dg[H + k] = dc[k] * st[4 * H + k] * f * (1 - f);
      dg[2 * H + k] = dc[k] * i * (1 - g * g);
      dg[3 * H + k] = dh[k] * tc * og * (1 - og);
    }
    // dh_prev = W_hhᵀ dg (the recurrence: needed before the previous step), dc_prev = dc ⊙ f.
    std::fill(dh_next.begin(), dh_next.end(), 0.0);
    K::gemv_t(P + o.whh, 4 * H, H, dg, dh_next.data());
    for (size_t k = 0; k < H; ++k) dc_next[k] = dc[k] * st[H + k];
  }
  // Weight gradients, one pass over each weight matrix: G_w[r] += Σ_t d_t[r]·input_t, and
  // the embedding rows' gradient Σ_t W_ihᵀ dg_t (the input of step t ≥ 1 is E[op_{t−1}]).
  std::vector<const double*> hs(T), xs(T), houts(T);
  for (size_t t = 0; t < T; ++t) {
    hs[t] = cache + t * stride + 5 * H;
    houts[t] = cache + t * stride + 8 * H;
    xs[t] = t == 0 ? nullptr : P + o.emb + static_cast<size_t>(ops[t - 1]) * H;
  }
  K::ger_t(G + o.wo, P + o.wo, C, H, T, 0, dls.data(), C, houts.data(), nullptr);
  K::ger_t(G + o.whh, P + o.whh, 4 * H, H, T, 0, dgs.data(), 4 * H, hs.data(), nullptr);
  std::vector<double> dx(T * H, 0.0);
  if (T > 1) K::ger_t(G + o.wih, P + o.wih, 4 * H, H, T, 1, dgs.data(), 4 * H, xs.data(), dx.data());
  for (size_t r = 0; r < 4 * H; ++r) {
    double db = 0;
    for (size_t t = 0; t < T; ++t) db += dgs[t * 4 * H + r];
    G[o.bih + r] += db;
    G[o.bhh + r] += db;
  }
  for (size_t t = 1; t < T; ++t) {
    double* ge = G + o.emb + static_cast<size_t>(ops[t - 1]) * H;
    for (size_t k = 0; k < H; ++k) ge[k] += dx[t * H + k];
  }
}

template <class K>
void sample_many_impl(const double* P, size_t H, size_t C, size_t T, size_t n, const double* draws, uint8_t* ops_out) {
  const Offsets o(H, C);
  // Groups at the current step: their state (h, c) and the op that led to them.
  std::vector<double> hs(2 * H, 0.0), next, hs2, logits(C), st(10 * H + C), probs;
  std::vector<int> group_of(n, 0), last_op(1, -1), child, new_group(n), next_last;
  size_t groups = 1;
  for (size_t t = 0; t < T; ++t) {
    probs.assign(groups * C, 0.0);
    next.assign(groups * 2 * H, 0.0);
    for (size_t g = 0; g < groups; ++g) {
      const double* h = hs.data() + g * 2 * H;
      const double* x = t == 0 ? nullptr : P + o.emb + static_cast<size_t>(last_op[g]) * H;
      lstm_step<K>(P, o, H, x, h, h + H, st.data());
      output_softmax<K>(P, o, H, C, st.data() + 8 * H, logits.data(), probs.data() + g * C);
      std::memcpy(next.data() + g * 2 * H, st.data() + 8 * H, H * sizeof(double));      // h
      std::memcpy(next.data() + g * 2 * H + H, st.data() + 6 * H, H * sizeof(double));  // c
    }
    // Draw, then regroup by (group, op).
    child.assign(groups * C, -1);
    hs2.clear();
    next_last.clear();
    for (size_t k = 0; k < n; ++k) {
      const size_t g = static_cast<size_t>(group_of[k]);
      const size_t pick = pick_from(probs.data() + g * C, C, draws[t * n + k]);
      ops_out[k * T + t] = static_cast<uint8_t>(pick);
      int& id = child[g * C + pick];
      if (id < 0) {
        id = static_cast<int>(next_last.size());
        next_last.push_back(static_cast<int>(pick));
        hs2.insert(hs2.end(), next.begin() + static_cast<std::ptrdiff_t>(g * 2 * H),
                   next.begin() + static_cast<std::ptrdiff_t>((g + 1) * 2 * H));
      }
      new_group[k] = id;
    }
    hs.swap(hs2);
    last_op = next_last;
    group_of.swap(new_group);
    groups = last_op.size();
  }
}

}  // namespace

size_t controller_param_count(size_t hidden, size_t choices) { return Offsets(hidden, choices).total; }

ControllerSampleResult controller_sample(const double* P, size_t H, size_t C, size_t T, const double* draws,
                                         const uint8_t* forced, uint8_t* ops, double* cache) {
#if NASRANK_CTRL_AVX2
  if (ctrl_use_avx2()) return sample_impl<Avx2>(P, H, C, T, draws, forced, ops, cache);
#endif
  return sample_impl<Portable>(P, H, C, T, draws, forced, ops, cache);
}

void controller_backward(const double* P, double* G, size_t H, size_t C, size_t T, const uint8_t* ops, const double* cache,
                         double coef_log_prob, double coef_entropy) {
#if NASRANK_CTRL_AVX2
  if (ctrl_use_avx2()) return backward_impl<Avx2>(P, G, H, C, T, ops, cache, coef_log_prob, coef_entropy);
#endif
  backward_impl<Portable>(P, G, H, C, T, ops, cache, coef_log_prob, coef_entropy);
}

void controller_sample_many(const double* P, size_t H, size_t C, size_t T, size_t n, const double* draws, uint8_t* ops_out) {
  if (n == 0) return;
#if NASRANK_CTRL_AVX2
  if (ctrl_use_avx2()) return sample_many_impl<Avx2>(P, H, C, T, n, draws, ops_out);
#endif
  sample_many_impl<Portable>(P, H, C, T, n, draws, ops_out);
}

namespace {

// Adam over [begin, end): returns false when a parameter came out non-finite. The bias
// corrections are applied as products with 1/c1 and 1/c2 (the TypeScript divides; the
// difference is rounding).
bool adam_portable(double* p, const double* grad, double* m, double* v, size_t n, double lr, double b1, double b2, double wd,
                   double eps, double ic1, double ic2) {
  bool finite = true;
  for (size_t k = 0; k < n; ++k) {
    const double g = grad[k] + wd * p[k];
    const double mk = m[k] = b1 * m[k] + (1 - b1) * g;
    const double vk = v[k] = b2 * v[k] + (1 - b2) * g * g;
    p[k] -= lr * (mk * ic1) / (std::sqrt(vk * ic2) + eps);
    finite &= std::fabs(p[k]) <= 1.7976931348623157e308;
  }
  return finite;
}

#if NASRANK_CTRL_AVX2
__attribute__((target("avx2,fma"))) bool adam_avx2(double* p, const double* grad, double* m, double* v, size_t n, double lr,
                                                   double b1, double b2, double wd, double eps, double ic1, double ic2) {
  const __m256d vb1 = _mm256_set1_pd(b1), vb1c = _mm256_set1_pd(1 - b1), vb2 = _mm256_set1_pd(b2),
                vb2c = _mm256_set1_pd(1 - b2), vwd = _mm256_set1_pd(wd), veps = _mm256_set1_pd(eps),
                vstep = _mm256_set1_pd(lr * ic1), vic2 = _mm256_set1_pd(ic2), vmax = _mm256_set1_pd(1.7976931348623157e308),
                vabs = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7FFFFFFFFFFFFFFFLL));
  __m256d ok = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    const __m256d pk = _mm256_loadu_pd(p + k);
    const __m256d g = _mm256_fmadd_pd(vwd, pk, _mm256_loadu_pd(grad + k));
    const __m256d mk = _mm256_fmadd_pd(vb1, _mm256_loadu_pd(m + k), _mm256_mul_pd(vb1c, g));
    const __m256d vk = _mm256_fmadd_pd(vb2, _mm256_loadu_pd(v + k), _mm256_mul_pd(vb2c, _mm256_mul_pd(g, g)));
    _mm256_storeu_pd(m + k, mk);
    _mm256_storeu_pd(v + k, vk);
    const __m256d denom = _mm256_add_pd(_mm256_sqrt_pd(_mm256_mul_pd(vk, vic2)), veps);
    const __m256d pn = _mm256_sub_pd(pk, _mm256_div_pd(_mm256_mul_pd(vstep, mk), denom));
    _mm256_storeu_pd(p + k, pn);
    ok = _mm256_and_pd(ok, _mm256_cmp_pd(_mm256_and_pd(pn, vabs), vmax, _CMP_LE_OQ));
  }
  bool finite = _mm256_movemask_pd(ok) == 0xF;
  if (k < n) finite &= adam_portable(p + k, grad + k, m + k, v + k, n - k, lr, b1, b2, wd, eps, ic1, ic2);
  return finite;
}
#endif

}  // namespace

bool adam_update(double* params, const double* grad, double* m, double* v, size_t n, double step, double lr, double beta1,
                 double beta2, double weight_decay, double eps) {
  const double ic1 = 1 / (1 - std::pow(beta1, step));
  const double ic2 = 1 / (1 - std::pow(beta2, step));
#if NASRANK_CTRL_AVX2
  if (ctrl_use_avx2()) return adam_avx2(params, grad, m, v, n, lr, beta1, beta2, weight_decay, eps, ic1, ic2);
#endif
  return adam_portable(params, grad, m, v, n, lr, beta1, beta2, weight_decay, eps, ic1, ic2);
}

}  // namespace nasrank
