// Internal helpers shared by the ranking-loss kernels (pairwise.cc, triplet.cc).
// Not part of the kernel contract (kernels.h); plain C++, no N-API.
//
// Both losses reduce to one primitive: a list of m elements already sorted by target
// (ascending), cut into groups of equal target, each with a prediction q. Every pair of
// elements from different groups contributes phi(z), z = q_hi - q_lo, where "hi" is the
// element with the larger target. The pairwise loss is this primitive once; the triplet
// loss is this primitive once per anchor i over the row d_i. (j > i) with targets |y_i - y_j|.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "kernels.h"

// SIMD loops (logistic pair row, brute-force hinge rows) are written with GCC vector
// extensions and compiled only by GCC (NASRANK_VECTOR_LOOPS); other compilers, or a build
// with NASRANK_NO_VECTOR_LOOPS, get the plain scalar loops, which compute the same terms.
// On x86-64 Linux they are compiled twice, for x86-64-v3 (AVX2 + FMA) and the x86-64
// baseline, and dispatched at load time (target_clones / ifunc); never -march=native.
// NASRANK_NO_TARGET_CLONES builds them for the compiler's target only.
#if defined(__GNUC__) && !defined(__clang__) && !defined(NASRANK_NO_VECTOR_LOOPS)
#define NASRANK_VECTOR_LOOPS 1
#else
#define NASRANK_VECTOR_LOOPS 0
#endif

#if NASRANK_VECTOR_LOOPS && defined(__x86_64__) && defined(__linux__) && \
    !defined(NASRANK_NO_TARGET_CLONES)
#define NASRANK_TARGET_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NASRANK_TARGET_CLONES
#endif

#if NASRANK_VECTOR_LOOPS
// The 32-byte vector helpers below are always inlined, so their calling convention never
// materialises; silence GCC's note about the AVX ABI.
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace nasrank {
namespace rankloss {

#if NASRANK_VECTOR_LOOPS
// ---- 4-lane double vectors (GCC vector extensions) ----------------------------------------
typedef double vd __attribute__((vector_size(32)));
typedef int64_t vl __attribute__((vector_size(32)));

#define NASRANK_INLINE static inline __attribute__((always_inline))

NASRANK_INLINE vd splat(double x) { return vd{} + x; }
NASRANK_INLINE vd select(vl mask, vd a, vd b) { return mask ? a : b; }
NASRANK_INLINE vd load4(const double* p) {
  vd v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
NASRANK_INLINE void store4(double* p, vd v) { std::memcpy(p, &v, sizeof v); }
#endif

// Three-way comparison without subtraction (no overflow, no NaN from inf - inf).
inline int cmp3(double a, double b) { return (a > b) - (a < b); }

// phi(z) and dphi/dz. Hinge is active only when margin - z > 0 (subgradient 0 at the
// kink); logistic is softplus(-z) computed stably; exp is e^-z.
inline void phi_eval(Phi phi, double margin, double z, double* value, double* dz) {
  switch (phi) {
    case Phi::Hinge: {
      double d = margin - z;
      if (d > 0) {
        *value = d;
        *dz = -1.0;
      } else {
        *value = 0.0;
        *dz = 0.0;
      }
      return;
    }
    case Phi::Logistic: {
      double e = std::exp(-std::fabs(z));
      *value = std::fmax(-z, 0.0) + std::log1p(e);
      *dz = -((z > 0 ? e : 1.0) / (1.0 + e));  // -sigmoid(-z)
      return;
    }
    case Phi::Exp: {
      double v = std::exp(-z);
      *value = v;
      *dz = -v;
      return;
    }
  }
}

// Neumaier-compensated running sum; degrades to the plain sum once it is not finite.
struct CompensatedSum {
  double s = 0.0, c = 0.0;
  void add(double x) {
    double t = s + x;
    if (std::isfinite(t)) c += (std::fabs(s) >= std::fabs(x)) ? (s - t) + x : (x - t) + s;
    s = t;
  }
  double value() const { return std::isfinite(s) ? s + c : s; }
};

// Per-worker scratch memory for the sorted primitive (grown, never shrunk, per call).
struct Scratch {
  std::vector<double> q;            // predictions in target order
  std::vector<double> g;            // gradient in target order
  std::vector<double> key;          // targets in target order (triplet: |y_i - y_j|)
  std::vector<uint32_t> gb;         // group boundaries, gb[0] = 0 ... gb[G] = m
  std::vector<uint32_t> idx;        // original index of each sorted element
  std::vector<uint32_t> by_pred;    // target-order positions sorted by prediction
  std::vector<uint32_t> rank;       // target-order position -> prediction rank
  std::vector<uint32_t> thr;        // per prediction rank: Fenwick threshold
  std::vector<double> ps;           // predictions sorted ascending
  std::vector<uint32_t> fcnt;       // Fenwick tree of counts over prediction ranks
  std::vector<uint64_t> rkeys, rkeys2;  // radix sort: keys
  std::vector<uint32_t> ridx2;          // radix sort: second index buffer
};

// A small pool so that each worker reuses one Scratch for all its items without
// thread_local state (memory is released when the call returns).
class ScratchPool {
 public:
  std::unique_ptr<Scratch> acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return std::unique_ptr<Scratch>(new Scratch());
    std::unique_ptr<Scratch> s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  void release(std::unique_ptr<Scratch> s) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(s));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<Scratch>> free_;
};

// Fills s.by_pred / s.ps / s.rank from s.q[0..m).
void sort_by_prediction(size_t m, Scratch& s);

// The sorted primitive for hinge and exp, O(m log m), single-threaded.
// Reads s.q[0..m) and s.gb[0..G]; writes s.g[0..m) (overwritten). Returns the loss sum
// and the number of comparable pairs.
LossSums sorted_rank_loss_fast(Phi phi, double margin, size_t m, size_t groups, Scratch& s);

// The sorted primitive for logistic, O(m^2), single-threaded (same inputs/outputs).
LossSums sorted_rank_loss_logistic(size_t m, size_t groups, Scratch& s);

// One row of the logistic pair loop: for every a < lim, z = qb - q[a];
// accumulates phi into *loss, dphi/dz into *gb_acc (the row element) and subtracts it
// from gcol[a]. Vectorised where the CPU allows.
void logistic_row(const double* q, size_t lim, double qb, double* gcol, double* gb_acc,
                  double* loss);

}  // namespace rankloss
}  // namespace nasrank
