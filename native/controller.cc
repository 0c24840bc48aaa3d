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
//
// The NB-101 controller (the code's NASBenchController, lib/models/controller-nb101.ts is the
// reference; layouts below at Nb101Offsets) shares the LSTM kernels. On AVX2 CPUs its exp,
// sigmoid and tanh are vectorised (vexp: ~1 ulp; tanh to ~1e-16 absolute), the input part of
// the gates is computed once per call for the 15 embedding rows, and the backward sums the dg of
// steps that share an input row before W_ih's gradient. Values agree with the TypeScript to
// rounding; decisions are the same for the same draws.
#include <cmath>
#include <algorithm>
#include <cstring>
#include <string>
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
  // The LSTM's activations in place: st[0..4H) pre-activation gates → i f g o; then c, tanh c, h
  // into st[6H..9H) from c_prev.
  static void lstm_act(double* st, const double* c_prev, size_t H) {
    for (size_t r = 0; r < 4 * H; ++r) st[r] = (r >= 2 * H && r < 3 * H) ? std::tanh(st[r]) : sigmoid(st[r]);
    for (size_t k = 0; k < H; ++k) {
      const double c = st[H + k] * c_prev[k] + st[k] * st[2 * H + k];
      const double tc = std::tanh(c);
      st[6 * H + k] = c;
      st[7 * H + k] = tc;
      st[8 * H + k] = st[3 * H + k] * tc;
    }
  }
  // u[r] = tanh(a[r] + q[r]).
  static void tanh_sum(const double* a, const double* q, double* u, size_t H) {
    for (size_t r = 0; r < H; ++r) u[r] = std::tanh(a[r] + q[r]);
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
      size_t k = 0;
      // Eight chunks at a time: eight independent FMA chains over t instead of one (latency-bound).
      for (; k + 32 <= H4; k += 32) {
        __m256d a0 = _mm256_loadu_pd(g + k), a1 = _mm256_loadu_pd(g + k + 4), a2 = _mm256_loadu_pd(g + k + 8), a3 = _mm256_loadu_pd(g + k + 12);
        __m256d a4 = _mm256_loadu_pd(g + k + 16), a5 = _mm256_loadu_pd(g + k + 20), a6 = _mm256_loadu_pd(g + k + 24), a7 = _mm256_loadu_pd(g + k + 28);
        for (size_t t = t0; t < T; ++t) {
          const __m256d dt = _mm256_set1_pd(d[t * d_stride + r]);
          const double* x = xs[t] + k;
          a0 = _mm256_fmadd_pd(dt, _mm256_loadu_pd(x), a0);
          a1 = _mm256_fmadd_pd(dt, _mm256_loadu_pd(x + 4), a1);
          a2 = _mm256_fmadd_pd(dt, _mm256_loadu_pd(x + 8), a2);
          a3 = _mm256_fmadd_pd(dt, _mm256_loadu_pd(x + 12), a3);
          a4 = _mm256_fmadd_pd(dt, _mm256_loadu_pd(x + 16), a4);
          a5 = _mm256_fmadd_pd(dt, _mm256_loadu_pd(x + 20), a5);
          a6 = _mm256_fmadd_pd(dt, _mm256_loadu_pd(x + 24), a6);
          a7 = _mm256_fmadd_pd(dt, _mm256_loadu_pd(x + 28), a7);
        }
        _mm256_storeu_pd(g + k, a0);
        _mm256_storeu_pd(g + k + 4, a1);
        _mm256_storeu_pd(g + k + 8, a2);
        _mm256_storeu_pd(g + k + 12, a3);
        _mm256_storeu_pd(g + k + 16, a4);
        _mm256_storeu_pd(g + k + 20, a5);
        _mm256_storeu_pd(g + k + 24, a6);
        _mm256_storeu_pd(g + k + 28, a7);
      }
      for (; k < H4; k += 4) {
        __m256d acc = _mm256_loadu_pd(g + k);
        for (size_t t = t0; t < T; ++t) acc = _mm256_fmadd_pd(_mm256_set1_pd(d[t * d_stride + r]), _mm256_loadu_pd(xs[t] + k), acc);
        _mm256_storeu_pd(g + k, acc);
      }
      for (size_t k = H4; k < H; ++k) {
        for (size_t t = t0; t < T; ++t) g[k] += d[t * d_stride + r] * xs[t][k];
      }
    }
    if (dx) {
      // Blocks of 16 rows of W (L1-resident) against every step, instead of one pass over all of
      // W per step; each dx_t still sums its rows in ascending order, four at a time (the same
      // result as one gemv_t per step).
      for (size_t r0 = 0; r0 < R; r0 += 16) {
        const size_t rows = R - r0 < 16 ? R - r0 : 16;
        for (size_t t = t0; t < T; ++t) gemv_t(W + r0 * H, rows, H, d + t * d_stride + r0, dx + t * H);
      }
    }
  }
  // exp to ~1 ulp: x = n ln2 + r, |r| ≤ ln2/2, e^r by its Taylor polynomial to degree 13
  // (remainder < 1e-17), times 2^n through the exponent bits; x clamped to [−708, 709].
  __attribute__((target("avx2,fma"))) static __m256d vexp(__m256d x) {
    // min/max return their second operand when one is NaN: NaN stays NaN.
    x = _mm256_max_pd(_mm256_set1_pd(-708.0), _mm256_min_pd(_mm256_set1_pd(709.0), x));
    const __m256d n = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(n, _mm256_set1_pd(6.93147180369123816490e-01), x);
    r = _mm256_fnmadd_pd(n, _mm256_set1_pd(1.90821492927058770002e-10), r);
    static const double inv_fact[14] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880,
                                        1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800};
    __m256d p = _mm256_set1_pd(inv_fact[13]);
    for (int k = 12; k >= 0; --k) p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(inv_fact[k]));
    const __m128i ni = _mm256_cvtpd_epi32(n);
    const __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(_mm256_cvtepi32_epi64(ni), _mm256_set1_epi64x(1023)), 52);
    return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
  }
  __attribute__((target("avx2,fma"))) static __m256d vsigmoid(__m256d x) {
    const __m256d one = _mm256_set1_pd(1.0);
    return _mm256_div_pd(one, _mm256_add_pd(one, vexp(_mm256_sub_pd(_mm256_setzero_pd(), x))));
  }
  // tanh |x| = (1 − e^−2|x|)/(1 + e^−2|x|), the sign put back: absolute error ~1e-16 (relative
  // error grows as |x| → 0, where tanh x is small).
  __attribute__((target("avx2,fma"))) static __m256d vtanh(__m256d x) {
    const __m256d sign = _mm256_set1_pd(-0.0);
    const __m256d ax = _mm256_andnot_pd(sign, x);
    const __m256d one = _mm256_set1_pd(1.0);
    const __m256d t = vexp(_mm256_mul_pd(ax, _mm256_set1_pd(-2.0)));
    const __m256d y = _mm256_div_pd(_mm256_sub_pd(one, t), _mm256_add_pd(one, t));
    return _mm256_or_pd(y, _mm256_and_pd(sign, x));
  }
  __attribute__((target("avx2,fma"))) static void lstm_act(double* st, const double* c_prev, size_t H) {
    const size_t H4 = H & ~size_t{3};
    for (size_t k = 0; k < H4; k += 4) {
      const __m256d i = vsigmoid(_mm256_loadu_pd(st + k));
      const __m256d f = vsigmoid(_mm256_loadu_pd(st + H + k));
      const __m256d g = vtanh(_mm256_loadu_pd(st + 2 * H + k));
      const __m256d o = vsigmoid(_mm256_loadu_pd(st + 3 * H + k));
      _mm256_storeu_pd(st + k, i);
      _mm256_storeu_pd(st + H + k, f);
      _mm256_storeu_pd(st + 2 * H + k, g);
      _mm256_storeu_pd(st + 3 * H + k, o);
      const __m256d c = _mm256_add_pd(_mm256_mul_pd(f, _mm256_loadu_pd(c_prev + k)), _mm256_mul_pd(i, g));
      const __m256d tc = vtanh(c);
      _mm256_storeu_pd(st + 6 * H + k, c);
      _mm256_storeu_pd(st + 7 * H + k, tc);
      _mm256_storeu_pd(st + 8 * H + k, _mm256_mul_pd(o, tc));
    }
    for (size_t k = H4; k < H; ++k) {
      st[k] = sigmoid(st[k]);
      st[H + k] = sigmoid(st[H + k]);
      st[2 * H + k] = std::tanh(st[2 * H + k]);
      st[3 * H + k] = sigmoid(st[3 * H + k]);
      const double c = st[H + k] * c_prev[k] + st[k] * st[2 * H + k];
      const double tc = std::tanh(c);
      st[6 * H + k] = c;
      st[7 * H + k] = tc;
      st[8 * H + k] = st[3 * H + k] * tc;
    }
  }
  __attribute__((target("avx2,fma"))) static void tanh_sum(const double* a, const double* q, double* u, size_t H) {
    const size_t H4 = H & ~size_t{3};
    for (size_t r = 0; r < H4; r += 4) _mm256_storeu_pd(u + r, vtanh(_mm256_add_pd(_mm256_loadu_pd(a + r), _mm256_loadu_pd(q + r))));
    for (size_t r = H4; r < H; ++r) u[r] = std::tanh(a[r] + q[r]);
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
template <class K, class O>
void lstm_step(const double* P, const O& o, size_t H, const double* x, const double* h_prev, const double* c_prev,
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


// ---- NB-101 (lib/models/controller-nb101.ts is the reference) -------------------------------
// The code's NASBenchController: 18 decisions; step 0 picks n ∈ {1..5} (Linear H→5), node
// k = 1..n picks its predecessor in 0..k−1 by pointer attention logit_j = v·tanh(W_e e_j + W_h h)
// then its op (Linear H→3), the output picks one of 0..n, then 8 − n extra edges of two picks in
// 0..n+1. Inputs: zeros, then the n-embedding (after step 0), the node embedding (after a
// pointer pick) or the op embedding (after an op). Parameters in the TypeScript layout:
//   [LSTM | n-emb (5×H) | node-emb (7×H) | op-emb (3×H) | W_e (H×H) | W_h (H×H) | v (H) |
//    W_op (3×H) | b_op (3) | W_n (5×H) | b_n (5)].
// Cache per step (16H + 7 doubles): [LSTM state (9H) | probs (7) | tanh rows u_j (7×H)].
constexpr size_t kNb101Steps = 18, kNb101MaxNodes = 5, kNb101Ops = 3, kNb101Choices = 7;

struct Nb101Offsets {
  size_t wih, bih, whh, bhh, n_emb, node_emb, op_emb, we, wh, v, wop, bop, wn, bn, total;
  explicit Nb101Offsets(size_t H) {
    size_t at = 0;
    auto take = [&at](size_t n) { const size_t o = at; at += n; return o; };
    wih = take(4 * H * H);
    bih = take(4 * H);
    whh = take(4 * H * H);
    bhh = take(4 * H);
    n_emb = take(kNb101MaxNodes * H);
    node_emb = take(kNb101Choices * H);
    op_emb = take(kNb101Ops * H);
    we = take(H * H);
    wh = take(H * H);
    v = take(H);
    wop = take(kNb101Ops * H);
    bop = take(kNb101Ops);
    wn = take(kNb101MaxNodes * H);
    bn = take(kNb101MaxNodes);
    total = at;
  }
};

inline size_t nb101_stride(size_t H) { return 16 * H + kNb101Choices; }

// Step t's kind (0: n, 1: op, 2: pointer) and number of choices for a cell of n nodes.
struct Nb101Shape {
  int kind;
  size_t choices;
};
inline Nb101Shape nb101_shape(size_t t, size_t n) {
  if (t == 0) return {0, kNb101MaxNodes};
  if (t <= 2 * n) return (t & 1) ? Nb101Shape{2, (t + 1) / 2} : Nb101Shape{1, kNb101Ops};
  if (t == 2 * n + 1) return {2, n + 1};
  return {2, n + 2};
}

// Step t's input row among the 15 embedding rows (n-emb 0..4, node-emb 5..11, op-emb 12..14:
// consecutive in the parameters), or kNb101ZeroRow at step 0; prev = the previous decision (the
// sequence's value: n at t = 1).
constexpr size_t kNb101Rows = kNb101MaxNodes + kNb101Choices + kNb101Ops, kNb101ZeroRow = kNb101Rows;
inline size_t nb101_input_row(size_t t, size_t n, size_t prev) {
  if (t == 0) return kNb101ZeroRow;
  if (t == 1) return n - 1;
  return nb101_shape(t - 1, n).kind == 1 ? kNb101MaxNodes + kNb101Choices + prev : kNb101MaxNodes + prev;
}

// The input part of the gates for every input row: xw[row] = b_ih + b_hh + W_ih e_row (16 rows of
// 4H, the last the zero input's). W_ih is read in blocks of 16 rows that stay in L1 across the
// 15 embeddings (one pass over it instead of one per step).
template <class K>
void nb101_input_gates(const double* P, const Nb101Offsets& o, size_t H, double* xw) {
  const size_t G4 = 4 * H;
  for (size_t j = 0; j <= kNb101Rows; ++j) {
    for (size_t r = 0; r < G4; ++r) xw[j * G4 + r] = P[o.bih + r] + P[o.bhh + r];
  }
  const double* E = P + o.n_emb;
  for (size_t r0 = 0; r0 < G4; r0 += 16) {
    const size_t R = G4 - r0 < 16 ? G4 - r0 : 16;
    for (size_t j = 0; j < kNb101Rows; ++j) K::gemv(P + o.wih + r0 * H, R, H, E + j * H, xw + j * G4 + r0);
  }
}

// lstm_step with the input part of the gates given (xw: 4H).
template <class K, class O>
void lstm_step_pre(const double* P, const O& o, size_t H, const double* xw, const double* h_prev, const double* c_prev, double* st) {
  std::memcpy(st, xw, 4 * H * sizeof(double));
  K::gemv(P + o.whh, 4 * H, H, h_prev, st);
  std::memcpy(st + 4 * H, c_prev, H * sizeof(double));
  std::memcpy(st + 5 * H, h_prev, H * sizeof(double));
  K::lstm_act(st, c_prev, H);
}

// Softmax of logits[0..n) into probs; returns log Z and writes the entropy (lstm.ts softmaxInto).
inline double softmax_entropy(const double* logits, size_t n, double* probs, double* entropy) {
  double mx = -INFINITY;
  for (size_t a = 0; a < n; ++a) mx = logits[a] > mx ? logits[a] : mx;
  double z = 0;
  for (size_t a = 0; a < n; ++a) z += std::exp(logits[a] - mx);
  const double lz = mx + std::log(z);
  double ent = 0;
  for (size_t a = 0; a < n; ++a) {
    const double lp = logits[a] - lz;
    const double p = std::exp(lp);
    probs[a] = p;
    ent -= p * lp;
  }
  *entropy = ent;
  return lz;
}

// keys[j] = W_e e_j for the 7 node-embedding rows (7×H).
template <class K>
void nb101_keys(const double* P, const Nb101Offsets& o, size_t H, double* keys) {
  std::fill(keys, keys + kNb101Choices * H, 0.0);
  for (size_t j = 0; j < kNb101Choices; ++j) K::gemv(P + o.we, H, H, P + o.node_emb + j * H, keys + j * H);
}

// One step's forward: the LSTM, the logits of its kind, the softmax. Writes the state, probs and
// (pointer steps) the tanh rows into st; q (H) and logits (7) are scratch. Returns log Z.
template <class K>
double nb101_step(const double* P, const Nb101Offsets& o, size_t H, const Nb101Shape& sh, const double* xw, const double* h_prev,
                  const double* c_prev, const double* keys, double* st, double* q, double* logits, double* entropy) {
  lstm_step_pre<K>(P, o, H, xw, h_prev, c_prev, st);
  const double* h = st + 8 * H;
  if (sh.kind == 2) {
    std::fill(q, q + H, 0.0);
    K::gemv(P + o.wh, H, H, h, q);
    const double* v = P + o.v;
    double* u = st + 9 * H + kNb101Choices;
    for (size_t j = 0; j < sh.choices; ++j) {
      const double* a = keys + j * H;
      double* uj = u + j * H;
      K::tanh_sum(a, q, uj, H);
      logits[j] = K::dot(v, uj, H);
    }
  } else {
    const size_t w = sh.kind == 0 ? o.wn : o.wop, b = sh.kind == 0 ? o.bn : o.bop;
    for (size_t a = 0; a < sh.choices; ++a) logits[a] = P[b + a];
    K::gemv(P + w, sh.choices, H, h, logits);
  }
  return softmax_entropy(logits, sh.choices, st + 9 * H, entropy);
}

// One sequence; `cache` holds 18 strides (keep) or 2 (a ping-pong scratch, sampling only).
template <class K>
ControllerSampleResult nb101_sample_one(const double* P, const Nb101Offsets& o, size_t H, const double* keys, const double* xw, const double* draws,
                                        const uint8_t* forced, uint8_t* seq, double* cache, bool keep, double* scratch) {
  const size_t stride = nb101_stride(H);
  double* zeros = scratch;       // 2H
  double* q = scratch + 2 * H;   // H
  double* logits = q + H;        // 7
  std::fill(zeros, zeros + 2 * H, 0.0);
  const double* h = zeros;
  const double* c = zeros + H;
  ControllerSampleResult out;
  size_t n = 0;
  for (size_t t = 0; t < kNb101Steps; ++t) {
    const Nb101Shape sh = nb101_shape(t, n);
    double* st = cache + (keep ? t : (t & 1)) * stride;
    const double* x = xw + nb101_input_row(t, n, t == 0 ? 0 : seq[t - 1]) * 4 * H;
    double ent = 0;
    const double lz = nb101_step<K>(P, o, H, sh, x, h, c, keys, st, q, logits, &ent);
    const size_t pick = forced ? (t == 0 ? static_cast<size_t>(forced[0]) - 1 : forced[t]) : pick_from(st + 9 * H, sh.choices, draws[t]);
    seq[t] = static_cast<uint8_t>(t == 0 ? pick + 1 : pick);
    if (t == 0) n = pick + 1;
    out.log_prob += logits[pick] - lz;
    out.entropy += ent;
    h = st + 8 * H;
    c = st + 6 * H;
  }
  return out;
}

template <class K>
ControllerSampleResult nb101_sample_impl(const double* P, size_t H, const double* draws, const uint8_t* forced, uint8_t* seq,
                                         double* cache) {
  const Nb101Offsets o(H);
  std::vector<double> keys(kNb101Choices * H), scratch(3 * H + kNb101Choices), xw((kNb101Rows + 1) * 4 * H);
  nb101_keys<K>(P, o, H, keys.data());
  nb101_input_gates<K>(P, o, H, xw.data());
  return nb101_sample_one<K>(P, o, H, keys.data(), xw.data(), draws, forced, seq, cache, true, scratch.data());
}

template <class K>
void nb101_sample_many_impl(const double* P, size_t H, size_t n, const double* draws, uint8_t* seqs, double* log_prob,
                            double* entropy) {
  const Nb101Offsets o(H);
  std::vector<double> keys(kNb101Choices * H), scratch(3 * H + kNb101Choices), cache(2 * nb101_stride(H)), xw((kNb101Rows + 1) * 4 * H);
  nb101_keys<K>(P, o, H, keys.data());
  nb101_input_gates<K>(P, o, H, xw.data());
  for (size_t k = 0; k < n; ++k) {
    const auto r = nb101_sample_one<K>(P, o, H, keys.data(), xw.data(), draws + k * kNb101Steps, nullptr, seqs + k * kNb101Steps, cache.data(),
                                       false, scratch.data());
    log_prob[k] = r.log_prob;
    entropy[k] = r.entropy;
  }
}

template <class K>
void nb101_backward_impl(const double* P, double* G, size_t H, const uint8_t* seq, const double* cache, double coef_log_prob,
                         double coef_entropy) {
  const Nb101Offsets o(H);
  const size_t stride = nb101_stride(H);
  const size_t T = kNb101Steps;
  const size_t n = seq[0];
  std::vector<double> dgs(T * 4 * H), dh(H), dc(H), dh_next(H, 0.0), dc_next(H, 0.0), dl(kNb101Choices), dA(kNb101Choices * H, 0.0),
      dqs(T * H, 0.0);
  std::vector<const double*> qh(T);  // the hidden state of each pointer step, in the order of dqs
  size_t m = 0;                      // pointer steps so far
  for (size_t t = T; t-- > 0;) {
    const double* st = cache + t * stride;
    const Nb101Shape sh = nb101_shape(t, n);
    const size_t pick = t == 0 ? static_cast<size_t>(seq[0]) - 1 : seq[t];
    const double* probs = st + 9 * H;
    const double* h = st + 8 * H;
    double ent = 0;
    for (size_t a = 0; a < sh.choices; ++a) {
      if (probs[a] > 0) ent -= probs[a] * std::log(probs[a]);
    }
    for (size_t a = 0; a < sh.choices; ++a) {
      const double p = probs[a];
      // d(−A log p_pick)/dlogit_a = A (p_a − 1[a = pick]); d(−β H)/dlogit_a = β p_a (log p_a + H).
      dl[a] = coef_log_prob * (p - (a == pick ? 1.0 : 0.0)) + (coef_entropy != 0 && p > 0 ? coef_entropy * p * (std::log(p) + ent) : 0.0);
    }
    std::memcpy(dh.data(), dh_next.data(), H * sizeof(double));
    if (sh.kind == 2) {
      double* dq = dqs.data() + m * H;
      qh[m++] = h;
      const double* u = st + 9 * H + kNb101Choices;
      const double* v = P + o.v;
      double* gv = G + o.v;
      for (size_t j = 0; j < sh.choices; ++j) {
        const double d = dl[j];
        if (d == 0) continue;
        const double* uj = u + j * H;
        double* daj = dA.data() + j * H;
        for (size_t r = 0; r < H; ++r) {
          gv[r] += d * uj[r];
          const double dpre = d * v[r] * (1 - uj[r] * uj[r]);
          dq[r] += dpre;
          daj[r] += dpre;
        }
      }
      K::gemv_t(P + o.wh, H, H, dq, dh.data());
    } else {
      const size_t w = sh.kind == 0 ? o.wn : o.wop, b = sh.kind == 0 ? o.bn : o.bop;
      for (size_t a = 0; a < sh.choices; ++a) {
        const double d = dl[a];
        if (d == 0) continue;
        G[b + a] += d;
        double* g = G + w + a * H;
        for (size_t k = 0; k < H; ++k) g[k] += d * h[k];
      }
      K::gemv_t(P + w, sh.choices, H, dl.data(), dh.data());
    }
    double* dg = dgs.data() + t * 4 * H;
    for (size_t k = 0; k < H; ++k) {
      const double i = st[k], f = st[H + k], g = st[2 * H + k], og = st[3 * H + k], tc = st[7 * H + k];
      dc[k] = dh[k] * og * (1 - tc * tc) + dc_next[k];
      dg[k] = dc[k] * g * i * (1 - i);
      dg[H + k] = dc[k] * st[4 * H + k] * f * (1 - f);
      dg[2 * H + k] = dc[k] * i * (1 - g * g);
      dg[3 * H + k] = dh[k] * tc * og * (1 - og);
    }
    std::fill(dh_next.begin(), dh_next.end(), 0.0);
    K::gemv_t(P + o.whh, 4 * H, H, dg, dh_next.data());
    for (size_t k = 0; k < H; ++k) dc_next[k] = dc[k] * st[H + k];
  }
  // Weight gradients, one pass over each matrix (as backward_impl). Steps with the same input row
  // share it: their dg are summed first, so W_ih's gradient and the embeddings' take one outer
  // product and one W_ihᵀ product per distinct row (≤ 11 of the 17).
  std::vector<const double*> hs(T);
  for (size_t t = 0; t < T; ++t) hs[t] = cache + t * stride + 5 * H;
  K::ger_t(G + o.whh, P + o.whh, 4 * H, H, T, 0, dgs.data(), 4 * H, hs.data(), nullptr);
  std::vector<double> dgsum(kNb101Rows * 4 * H, 0.0);
  int slot[kNb101Rows];
  for (size_t j = 0; j < kNb101Rows; ++j) slot[j] = -1;
  std::vector<const double*> rows;
  std::vector<size_t> row_ids;
  for (size_t t = 1; t < T; ++t) {
    const size_t row = nb101_input_row(t, n, seq[t - 1]);
    if (slot[row] < 0) {
      slot[row] = static_cast<int>(rows.size());
      rows.push_back(P + o.n_emb + row * H);
      row_ids.push_back(row);
    }
    double* acc = dgsum.data() + static_cast<size_t>(slot[row]) * 4 * H;
    const double* dg = dgs.data() + t * 4 * H;
    for (size_t r = 0; r < 4 * H; ++r) acc[r] += dg[r];
  }
  std::vector<double> dx(rows.size() * H, 0.0);
  K::ger_t(G + o.wih, P + o.wih, 4 * H, H, rows.size(), 0, dgsum.data(), 4 * H, rows.data(), dx.data());
  for (size_t r = 0; r < 4 * H; ++r) {
    double db = 0;
    for (size_t t = 0; t < T; ++t) db += dgs[t * 4 * H + r];
    G[o.bih + r] += db;
    G[o.bhh + r] += db;
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    double* ge = G + o.n_emb + row_ids[i] * H;
    for (size_t k = 0; k < H; ++k) ge[k] += dx[i * H + k];
  }
  if (m > 0) K::ger_t(G + o.wh, P + o.wh, H, H, m, 0, dqs.data(), H, qh.data(), nullptr);
  // keys_j = W_e e_j: ∂W_e += Σ_j dA_j e_jᵀ, ∂e_j += W_eᵀ dA_j.
  std::vector<const double*> es(kNb101Choices);
  for (size_t j = 0; j < kNb101Choices; ++j) es[j] = P + o.node_emb + j * H;
  std::vector<double> de(kNb101Choices * H, 0.0);
  K::ger_t(G + o.we, P + o.we, H, H, kNb101Choices, 0, dA.data(), H, es.data(), de.data());
  for (size_t k = 0; k < kNb101Choices * H; ++k) G[o.node_emb + k] += de[k];
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


size_t nb101_controller_param_count(size_t hidden) { return Nb101Offsets(hidden).total; }
size_t nb101_controller_stride(size_t hidden) { return nb101_stride(hidden); }

std::string nb101_controller_check_seq(const uint8_t* seq) {
  const size_t n = seq[0];
  if (n < 1 || n > kNb101MaxNodes) return "[0] (the node count) must be in 1.." + std::to_string(kNb101MaxNodes) + ", got " + std::to_string(n);
  for (size_t t = 1; t < kNb101Steps; ++t) {
    const size_t c = nb101_shape(t, n).choices;
    if (seq[t] >= c) return "[" + std::to_string(t) + "] must be in 0.." + std::to_string(c - 1) + " (n = " + std::to_string(n) + "), got " + std::to_string(seq[t]);
  }
  return "";
}

ControllerSampleResult nb101_controller_sample(const double* P, size_t H, const double* draws, const uint8_t* forced, uint8_t* seq,
                                               double* cache) {
#if NASRANK_CTRL_AVX2
  if (ctrl_use_avx2()) return nb101_sample_impl<Avx2>(P, H, draws, forced, seq, cache);
#endif
  return nb101_sample_impl<Portable>(P, H, draws, forced, seq, cache);
}

void nb101_controller_backward(const double* P, double* G, size_t H, const uint8_t* seq, const double* cache, double coef_log_prob,
                               double coef_entropy) {
#if NASRANK_CTRL_AVX2
  if (ctrl_use_avx2()) return nb101_backward_impl<Avx2>(P, G, H, seq, cache, coef_log_prob, coef_entropy);
#endif
  nb101_backward_impl<Portable>(P, G, H, seq, cache, coef_log_prob, coef_entropy);
}

void nb101_controller_sample_many(const double* P, size_t H, size_t n, const double* draws, uint8_t* seqs, double* log_prob,
                                  double* entropy) {
  if (n == 0) return;
#if NASRANK_CTRL_AVX2
  if (ctrl_use_avx2()) return nb101_sample_many_impl<Avx2>(P, H, n, draws, seqs, log_prob, entropy);
#endif
  nb101_sample_many_impl<Portable>(P, H, n, draws, seqs, log_prob, entropy);
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
