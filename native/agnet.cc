// The AG-Net generator in C++ (see agnet.h and lib/models/agnet.ts, whose forward this mirrors
// op for op). Rows are processed in fixed chunks of kChunk; within a chunk every layer is a
// small dense product over the chunk's rows, and the per-sample propagation graph (thresholded
// edges) enters as per-row 0/1 factors on the messages, as on the JS tape. The backward pass
// runs a recorded list of closures in reverse (a tape), with the hot products in AVX2/FMA when
// the CPU has them (NASRANK_NO_AVX2 forces the portable path).
#include "agnet.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "cpu.h"
#include "parallel.h"
#include "random.h"

namespace nasrank {
namespace {

constexpr int kHidden = 32;
constexpr int kHalf = 16;
constexpr int kLatent = 32;
constexpr double kConstLogit = 20;
constexpr double kEdgeThreshold = 0.5;
constexpr size_t kChunk = 8;

// ---- dense products ---------------------------------------------------------------------
// fwd: y[R × out] (row stride ys) += x[R × n] (stride xs) · W[n × out] (row stride ws)
// wt:  g[n × out] (row stride gs) += x[R × n]ᵀ (stride xs) · d[R × out] (stride ds)
using FwdFn = void (*)(const double*, size_t, int, int, const double*, int, int, double*, int);
using WtFn = void (*)(const double*, size_t, int, int, const double*, int, int, double*, int);

#define NASRANK_AGNET_KERNELS(SUFFIX, ATTR)                                                                   \
  ATTR void fwd_##SUFFIX(const double* __restrict x, size_t R, int n, int xs, const double* __restrict W,      \
                         int out, int ws, double* __restrict y, int ys) {                                      \
    typedef double v4 __attribute__((vector_size(32)));                                                        \
    for (size_t r = 0; r < R; ++r) {                                                                           \
      const double* xr = x + r * xs;                                                                           \
      double* yr = y + r * ys;                                                                                 \
      int j = 0;                                                                                               \
      for (; j + 16 <= out; j += 16) {                                                                         \
        v4 a0, a1, a2, a3;                                                                                     \
        std::memcpy(&a0, yr + j, 32);                                                                          \
        std::memcpy(&a1, yr + j + 4, 32);                                                                      \
        std::memcpy(&a2, yr + j + 8, 32);                                                                      \
        std::memcpy(&a3, yr + j + 12, 32);                                                                     \
        for (int i = 0; i < n; ++i) {                                                                          \
          const double v = xr[i];                                                                              \
          const double* w = W + static_cast<size_t>(i) * ws + j;                                              \
          v4 w0, w1, w2, w3;                                                                                   \
          std::memcpy(&w0, w, 32);                                                                             \
          std::memcpy(&w1, w + 4, 32);                                                                         \
          std::memcpy(&w2, w + 8, 32);                                                                         \
          std::memcpy(&w3, w + 12, 32);                                                                        \
          a0 += v * w0;                                                                                        \
          a1 += v * w1;                                                                                        \
          a2 += v * w2;                                                                                        \
          a3 += v * w3;                                                                                        \
        }                                                                                                      \
        std::memcpy(yr + j, &a0, 32);                                                                          \
        std::memcpy(yr + j + 4, &a1, 32);                                                                      \
        std::memcpy(yr + j + 8, &a2, 32);                                                                      \
        std::memcpy(yr + j + 12, &a3, 32);                                                                     \
      }                                                                                                        \
      for (; j + 4 <= out; j += 4) {                                                                           \
        v4 a0;                                                                                                 \
        std::memcpy(&a0, yr + j, 32);                                                                          \
        for (int i = 0; i < n; ++i) {                                                                          \
          v4 w0;                                                                                               \
          std::memcpy(&w0, W + static_cast<size_t>(i) * ws + j, 32);                                          \
          a0 += xr[i] * w0;                                                                                    \
        }                                                                                                      \
        std::memcpy(yr + j, &a0, 32);                                                                          \
      }                                                                                                        \
      for (; j < out; ++j) {                                                                                   \
        double a = yr[j];                                                                                      \
        for (int i = 0; i < n; ++i) a += xr[i] * W[static_cast<size_t>(i) * ws + j];                           \
        yr[j] = a;                                                                                             \
      }                                                                                                        \
    }                                                                                                          \
  }                                                                                                            \
  ATTR void wt_##SUFFIX(const double* __restrict x, size_t R, int n, int xs, const double* __restrict d,       \
                        int out, int ds, double* __restrict g, int gs) {                                       \
    typedef double v4 __attribute__((vector_size(32)));                                                        \
    for (int i = 0; i < n; ++i) {                                                                              \
      double* gi = g + static_cast<size_t>(i) * gs;                                                            \
      int j = 0;                                                                                               \
      for (; j + 16 <= out; j += 16) {                                                                         \
        v4 a0, a1, a2, a3;                                                                                     \
        std::memcpy(&a0, gi + j, 32);                                                                          \
        std::memcpy(&a1, gi + j + 4, 32);                                                                      \
        std::memcpy(&a2, gi + j + 8, 32);                                                                      \
        std::memcpy(&a3, gi + j + 12, 32);                                                                     \
        for (size_t r = 0; r < R; ++r) {                                                                       \
          const double v = x[r * xs + i];                                                                      \
          const double* dr = d + r * ds + j;                                                                   \
          v4 d0, d1, d2, d3;                                                                                   \
          std::memcpy(&d0, dr, 32);                                                                            \
          std::memcpy(&d1, dr + 4, 32);                                                                        \
          std::memcpy(&d2, dr + 8, 32);                                                                        \
          std::memcpy(&d3, dr + 12, 32);                                                                       \
          a0 += v * d0;                                                                                        \
          a1 += v * d1;                                                                                        \
          a2 += v * d2;                                                                                        \
          a3 += v * d3;                                                                                        \
        }                                                                                                      \
        std::memcpy(gi + j, &a0, 32);                                                                          \
        std::memcpy(gi + j + 4, &a1, 32);                                                                      \
        std::memcpy(gi + j + 8, &a2, 32);                                                                      \
        std::memcpy(gi + j + 12, &a3, 32);                                                                     \
      }                                                                                                        \
      for (; j + 4 <= out; j += 4) {                                                                           \
        v4 a0;                                                                                                 \
        std::memcpy(&a0, gi + j, 32);                                                                          \
        for (size_t r = 0; r < R; ++r) {                                                                       \
          v4 d0;                                                                                               \
          std::memcpy(&d0, d + r * ds + j, 32);                                                                \
          a0 += x[r * xs + i] * d0;                                                                            \
        }                                                                                                      \
        std::memcpy(gi + j, &a0, 32);                                                                          \
      }                                                                                                        \
      for (; j < out; ++j) {                                                                                   \
        double a = gi[j];                                                                                      \
        for (size_t r = 0; r < R; ++r) a += x[r * xs + i] * d[r * ds + j];                                     \
        gi[j] = a;                                                                                             \
      }                                                                                                        \
    }                                                                                                          \
  }

NASRANK_AGNET_KERNELS(portable, )
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
NASRANK_AGNET_KERNELS(avx2, __attribute__((target("avx2,fma"))))
#define NASRANK_AGNET_HAVE_AVX2 1
#endif

struct Kernels {
  FwdFn fwd = fwd_portable;
  WtFn wt = wt_portable;
};

Kernels pick_kernels() {
  Kernels k;
#ifdef NASRANK_AGNET_HAVE_AVX2
  if (avx2_fma_usable()) {
    k.fwd = fwd_avx2;
    k.wt = wt_avx2;
  }
#endif
  return k;
}

// ---- parameter layout (AgNetGenerator.params order) -----------------------------------------
struct Lin {
  size_t W = 0, b = 0;  // offsets
  int in = 0, out = 0;
};
struct Gru {
  Lin i, h;  // Wi/bi [32 × 48], Wh/bh [16 × 48]
};
struct Layout {
  Lin emb1, emb2, init1, init2, msg[4];
  Gru upd[4];
  Lin readG, gateG, readGi, gateGi, node1, node2, hv1, hv2, edge1, edge2;
  size_t total = 0;
  std::vector<Lin> all;  // every linear part (weights to transpose)

  explicit Layout(const AgNetDims& d) {
    const int C = d.classes, h = kHidden, zd = kLatent;
    emb1 = lin(C, h);
    emb2 = lin(h, h);
    init1 = lin(h + zd, 2 * h);
    init2 = lin(2 * h, h);
    for (int l = 0; l < 4; ++l) {
      msg[l] = lin(2 * kHalf, h);
      upd[l].i = lin(h, 3 * kHalf);
      upd[l].h = lin(kHalf, 3 * kHalf);
    }
    readG = lin(h, h);
    gateG = lin(h, 1);
    readGi = lin(h, h);
    gateGi = lin(h, 1);
    node1 = lin(h + zd, h);
    node2 = lin(h, C);
    hv1 = lin(2 * h + zd, 2 * h);
    hv2 = lin(2 * h, h);
    edge1 = lin(3 * h + zd, 2 * h);
    edge2 = lin(2 * h, 1);
  }

 private:
  Lin lin(int in, int out) {
    Lin l;
    l.in = in;
    l.out = out;
    l.W = total;
    total += static_cast<size_t>(in) * out;
    l.b = total;
    total += out;
    all.push_back(l);
    return l;
  }
};

// ---- a bump allocator reused across chunks of one call ----------------------------------
class Arena {
 public:
  double* alloc(size_t n) {
    if (n == 0) n = 1;
    while (block_ < blocks_.size() && pos_ + n > sizes_[block_]) {
      ++block_;
      pos_ = 0;
    }
    if (block_ == blocks_.size()) {
      size_t size = std::max<size_t>(n, size_t{1} << 18);
      blocks_.emplace_back(new double[size]);
      sizes_.push_back(size);
      pos_ = 0;
    }
    double* p = blocks_[block_].get() + pos_;
    pos_ += n;
    std::memset(p, 0, n * sizeof(double));
    return p;
  }
  void reset() {
    block_ = 0;
    pos_ = 0;
  }

 private:
  std::vector<std::unique_ptr<double[]>> blocks_;
  std::vector<size_t> sizes_;
  size_t block_ = 0, pos_ = 0;
};

// One arena per thread, kept between calls (no page faults on every training step).
Arena& thread_arena() {
  thread_local Arena arena;
  return arena;
}

// A [rows × cols] value on the tape; g is null when no gradient flows into it.
struct T {
  double* v = nullptr;
  double* g = nullptr;
  int cols = 0;
};

inline double sigmoid(double v) { return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v)); }
inline double log_sigmoid(double v) { return v >= 0 ? -std::log1p(std::exp(-v)) : v - std::log1p(std::exp(v)); }

class Tape {
 public:
  Tape(bool record, Arena& arena, const Kernels& k, const double* params, double* grad, const double* wt, size_t rows)
      : record_(record), arena_(arena), k_(k), p_(params), grad_(grad), wt_(wt), R_(rows) {}

  T value(int cols, bool needs_grad) {
    T t;
    t.cols = cols;
    t.v = arena_.alloc(R_ * cols);
    if (record_ && needs_grad) t.g = arena_.alloc(R_ * cols);
    return t;
  }
  T constant(int cols) { return value(cols, false); }

  // Σ_k x_k · W[rowStart + offset_k …] (+ b): a Linear over the concatenated inputs.
  T lin(std::initializer_list<T> list, const Lin& l, bool bias, int row_start = 0) {
    std::vector<T> xs(list);
    bool ng = record_;
    T y = value(l.out, ng);
    const size_t R = R_;
    if (bias) {
      for (size_t r = 0; r < R; ++r) std::memcpy(y.v + r * l.out, p_ + l.b, l.out * sizeof(double));
    }
    int off = row_start;
    for (const T& x : xs) {
      k_.fwd(x.v, R, x.cols, x.cols, p_ + l.W + static_cast<size_t>(off) * l.out, l.out, l.out, y.v, l.out);
      off += x.cols;
    }
    if (ng) {
      steps_.push_back([this, xs, l, bias, row_start, y, R]() {
        int o = row_start;
        for (const T& x : xs) {
          // dW[o …] += xᵀ·dy; dx += dy·W[o …]ᵀ (Wᵀ is [out × in], row stride in).
          k_.wt(x.v, R, x.cols, x.cols, y.g, l.out, l.out, grad_ + l.W + static_cast<size_t>(o) * l.out, l.out);
          if (x.g != nullptr) k_.fwd(y.g, R, l.out, l.out, wt_ + l.W + o, x.cols, l.in, x.g, x.cols);
          o += x.cols;
        }
        if (bias) {
          double* gb = grad_ + l.b;
          for (size_t r = 0; r < R; ++r)
            for (int j = 0; j < l.out; ++j) gb[j] += y.g[r * l.out + j];
        }
      });
    }
    return y;
  }

  T relu(const T& x) {
    T y = value(x.cols, x.g != nullptr);
    const size_t n = R_ * x.cols;
    for (size_t i = 0; i < n; ++i) y.v[i] = x.v[i] > 0 ? x.v[i] : 0;
    if (y.g != nullptr) {
      steps_.push_back([x, y, n]() {
        for (size_t i = 0; i < n; ++i)
          if (x.v[i] > 0) x.g[i] += y.g[i];
      });
    }
    return y;
  }

  T sigm(const T& x) {
    T y = value(x.cols, x.g != nullptr);
    const size_t n = R_ * x.cols;
    for (size_t i = 0; i < n; ++i) y.v[i] = sigmoid(x.v[i]);
    if (y.g != nullptr) {
      steps_.push_back([x, y, n]() {
        for (size_t i = 0; i < n; ++i) x.g[i] += y.g[i] * y.v[i] * (1 - y.v[i]);
      });
    }
    return y;
  }

  T add(const std::vector<T>& xs) {
    bool ng = false;
    for (const T& x : xs) ng = ng || x.g != nullptr;
    T y = value(xs[0].cols, ng);
    const size_t n = R_ * y.cols;
    for (const T& x : xs)
      for (size_t i = 0; i < n; ++i) y.v[i] += x.v[i];
    if (ng) {
      steps_.push_back([xs, y, n]() {
        for (const T& x : xs)
          if (x.g != nullptr)
            for (size_t i = 0; i < n; ++i) x.g[i] += y.g[i];
      });
    }
    return y;
  }

  // x[r, :] · s[r] for constant factors s (copied).
  T scale_const(const T& x, const double* s) {
    T y = value(x.cols, x.g != nullptr);
    const size_t R = R_;
    const int c = x.cols;
    double* sc = arena_.alloc(R);
    std::memcpy(sc, s, R * sizeof(double));
    for (size_t r = 0; r < R; ++r)
      for (int j = 0; j < c; ++j) y.v[r * c + j] = x.v[r * c + j] * sc[r];
    if (y.g != nullptr) {
      steps_.push_back([x, y, sc, R, c]() {
        for (size_t r = 0; r < R; ++r)
          for (int j = 0; j < c; ++j) x.g[r * c + j] += y.g[r * c + j] * sc[r];
      });
    }
    return y;
  }

  // x[r, :] · s[r, 0] (s a [R × 1] value with a gradient).
  T scale_rows(const T& x, const T& s) {
    T y = value(x.cols, x.g != nullptr || s.g != nullptr);
    const size_t R = R_;
    const int c = x.cols;
    for (size_t r = 0; r < R; ++r)
      for (int j = 0; j < c; ++j) y.v[r * c + j] = x.v[r * c + j] * s.v[r];
    if (y.g != nullptr) {
      steps_.push_back([x, s, y, R, c]() {
        for (size_t r = 0; r < R; ++r) {
          double acc = 0;
          for (int j = 0; j < c; ++j) {
            if (x.g != nullptr) x.g[r * c + j] += y.g[r * c + j] * s.v[r];
            acc += y.g[r * c + j] * x.v[r * c + j];
          }
          if (s.g != nullptr) s.g[r] += acc;
        }
      });
    }
    return y;
  }

  T cols(const T& x, int start, int end) {
    const int n = end - start;
    T y = value(n, x.g != nullptr);
    const size_t R = R_;
    const int c = x.cols;
    for (size_t r = 0; r < R; ++r) std::memcpy(y.v + r * n, x.v + r * c + start, n * sizeof(double));
    if (y.g != nullptr) {
      steps_.push_back([x, y, R, c, n, start]() {
        for (size_t r = 0; r < R; ++r)
          for (int j = 0; j < n; ++j) x.g[r * c + start + j] += y.g[r * n + j];
      });
    }
    return y;
  }

  T concat(const std::vector<T>& xs) {
    int c = 0;
    bool ng = false;
    for (const T& x : xs) {
      c += x.cols;
      ng = ng || x.g != nullptr;
    }
    T y = value(c, ng);
    const size_t R = R_;
    int off = 0;
    for (const T& x : xs) {
      for (size_t r = 0; r < R; ++r) std::memcpy(y.v + r * c + off, x.v + r * x.cols, x.cols * sizeof(double));
      off += x.cols;
    }
    if (ng) {
      steps_.push_back([xs, y, R, c]() {
        int o = 0;
        for (const T& x : xs) {
          if (x.g != nullptr)
            for (size_t r = 0; r < R; ++r)
              for (int j = 0; j < x.cols; ++j) x.g[r * x.cols + j] += y.g[r * c + o + j];
          o += x.cols;
        }
      });
    }
    return y;
  }

  // PyTorch's GRUCell (gates r, z, n): x [R × 32], h [R × 16].
  T gru(const T& x, const T& h, const Gru& g) {
    T gi = lin({x}, g.i, true);
    T gh = lin({h}, g.h, true);
    const int H = kHalf;
    const size_t R = R_;
    T y = value(H, true);
    double* rz = arena_.alloc(R * 3 * H);  // r, z, n per row
    for (size_t r = 0; r < R; ++r) {
      const double* a = gi.v + r * 3 * H;
      const double* b = gh.v + r * 3 * H;
      double* s = rz + r * 3 * H;
      for (int j = 0; j < H; ++j) {
        const double rr = sigmoid(a[j] + b[j]);
        const double zz = sigmoid(a[H + j] + b[H + j]);
        const double nn = std::tanh(a[2 * H + j] + rr * b[2 * H + j]);
        s[j] = rr;
        s[H + j] = zz;
        s[2 * H + j] = nn;
        y.v[r * H + j] = (1 - zz) * nn + zz * h.v[r * H + j];
      }
    }
    if (y.g != nullptr) {
      steps_.push_back([gi, gh, h, y, rz, R, H]() {
        for (size_t r = 0; r < R; ++r) {
          const double* b = gh.v + r * 3 * H;
          const double* s = rz + r * 3 * H;
          double* da = gi.g + r * 3 * H;
          double* db = gh.g + r * 3 * H;
          for (int j = 0; j < H; ++j) {
            const double gy = y.g[r * H + j];
            const double rr = s[j], zz = s[H + j], nn = s[2 * H + j];
            const double dn = gy * (1 - zz);
            const double dz = gy * (h.v[r * H + j] - nn);
            if (h.g != nullptr) h.g[r * H + j] += gy * zz;
            const double dan = dn * (1 - nn * nn);
            da[2 * H + j] += dan;
            db[2 * H + j] += dan * rr;
            const double dr = dan * b[2 * H + j];
            const double daz = dz * zz * (1 - zz);
            da[H + j] += daz;
            db[H + j] += daz;
            const double dar = dr * rr * (1 - rr);
            da[j] += dar;
            db[j] += dar;
          }
        }
      });
    }
    return y;
  }

  void backward() {
    for (size_t i = steps_.size(); i-- > 0;) steps_[i]();
    steps_.clear();
  }

  size_t rows() const { return R_; }

 private:
  bool record_;
  Arena& arena_;
  const Kernels& k_;
  const double* p_;
  double* grad_;
  const double* wt_;
  size_t R_;
  std::vector<std::function<void()>> steps_;
};

inline int edge_index(int j, int i) { return i * (i - 1) / 2 + j; }

class Generator {
 public:
  Generator(const AgNetDims& d, const Layout& L) : d_(d), L_(L) {}

  // The generator's output [R × length] for z [R × 32] (copied onto the tape).
  T forward(Tape& t, const double* z) const {
    const int M = d_.nodes, C = d_.classes, E = d_.edges();
    const size_t R = t.rows();
    T zt = t.constant(kLatent);
    std::memcpy(zt.v, z, R * kLatent * sizeof(double));
    T onehot = t.constant(C);
    T node0 = t.constant(C);
    for (size_t r = 0; r < R; ++r) {
      onehot.v[r * C + 1] = 1;
      node0.v[r * C + 1] = kConstLogit;
    }
    T h0 = t.lin({t.relu(t.lin({emb(t, onehot), zt}, L_.init1, true))}, L_.init2, true);
    std::vector<T> hs{h0};
    std::vector<T> outs{node0};
    std::vector<T> edge_logits(E);
    std::vector<std::vector<double>> mask(E, std::vector<double>(R, 0.0));
    for (int s = 1; s < M; ++s) {
      T hG, hGi;
      if (s == 1) {
        hG = t.lin({h0}, L_.readG, true);
        hGi = t.lin({h0}, L_.readGi, true);
      } else {
        hs = propagate(t, hs, 0, mask, false);
        hs = propagate(t, hs, 1, mask, false);
        hs = propagate(t, hs, 2, mask, true);
        hs = propagate(t, hs, 3, mask, true);
        hG = readout(t, hs, L_.readG, L_.gateG);
        hGi = readout(t, hs, L_.readGi, L_.gateGi);
      }
      T logits = t.lin({t.relu(t.lin({hG, zt}, L_.node1, true))}, L_.node2, true);
      outs.push_back(logits);
      T hv = t.lin({t.relu(t.lin({emb(t, logits), hGi, zt}, L_.hv1, true))}, L_.hv2, true);
      if (s == 1) {
        T c = t.constant(1);
        for (size_t r = 0; r < R; ++r) c.v[r] = kConstLogit;
        edge_logits[0] = c;
      } else {
        T shared = t.lin({hv, hG, zt}, L_.edge1, true, kHidden);
        for (int u = 0; u < s; ++u) {
          T pre = t.add({t.lin({hs[u]}, L_.edge1, false, 0), shared});
          edge_logits[edge_index(u, s)] = t.lin({t.relu(pre)}, L_.edge2, true);
        }
      }
      for (int u = 0; u < s; ++u) {
        const int k = edge_index(u, s);
        for (size_t r = 0; r < R; ++r) mask[k][r] = edge_logits[k].v[r] > kEdgeThreshold ? 1.0 : 0.0;
      }
      hs.push_back(hv);
    }
    for (int k = 0; k < E; ++k) outs.push_back(edge_logits[k]);
    return t.concat(outs);
  }

 private:
  T emb(Tape& t, const T& x) const { return t.lin({t.relu(t.lin({x}, L_.emb1, true))}, L_.emb2, true); }

  T readout(Tape& t, const std::vector<T>& hs, const Lin& read, const Lin& gate) const {
    std::vector<T> terms;
    for (const T& h : hs) terms.push_back(t.scale_rows(t.lin({h}, read, true), t.sigm(t.lin({h}, gate, true))));
    return terms.size() == 1 ? terms[0] : t.add(terms);
  }

  std::vector<T> propagate(Tape& t, const std::vector<T>& hs, int layer, const std::vector<std::vector<double>>& mask, bool reverse) const {
    const size_t R = t.rows();
    const int n = static_cast<int>(hs.size());
    const int start = reverse ? kHalf : 0;
    std::vector<T> halves, sent;
    for (const T& h : hs) halves.push_back(t.cols(h, start, start + kHalf));
    const Lin& W = L_.msg[layer];
    for (const T& h : halves) sent.push_back(t.lin({h}, W, false, 0));
    std::vector<T> next;
    std::vector<double> degree(R);
    for (int i = 0; i < n; ++i) {
      std::vector<T> msgs;
      std::fill(degree.begin(), degree.end(), 0.0);
      for (int j = 0; j < n; ++j) {
        if (j == i) continue;
        const int k = reverse ? (i < j ? edge_index(i, j) : -1) : (j < i ? edge_index(j, i) : -1);
        if (k < 0) continue;
        const std::vector<double>& m = mask[k];
        bool any = false;
        for (size_t r = 0; r < R; ++r)
          if (m[r] == 1) {
            degree[r] += 1;
            any = true;
          }
        if (!any) continue;
        msgs.push_back(t.scale_const(sent[j], m.data()));
      }
      if (!msgs.empty()) msgs.push_back(t.scale_const(t.lin({halves[i]}, W, true, kHalf), degree.data()));
      T message = msgs.empty() ? t.constant(kHidden) : msgs.size() == 1 ? msgs[0] : t.add(msgs);
      T updated = t.gru(message, halves[i], L_.upd[layer]);
      T other = t.cols(hs[i], reverse ? 0 : kHalf, reverse ? kHalf : 2 * kHalf);
      next.push_back(reverse ? t.concat({other, updated}) : t.concat({updated, other}));
    }
    return next;
  }

  AgNetDims d_;
  const Layout& L_;
};

// Eq. 1 for rows [0, R) of a chunk: per-row CE/BCE, gradient added into dout.
void reconstruction(const AgNetDims& d, const double* out, size_t R, const uint8_t* classes, const uint8_t* edges, const double* weights,
                    double ce_scale, double* ce, double* bce, double* dout) {
  const int M = d.nodes, C = d.classes, E = d.edges(), D = d.length();
  std::vector<double> p(C);
  for (size_t r = 0; r < R; ++r) {
    const double w = weights[r];
    double c_sum = 0, b_sum = 0;
    for (int v = 0; v < M; ++v) {
      const double* o = out + r * D + v * C;
      double max = -INFINITY;
      for (int c = 0; c < C; ++c) max = std::max(max, o[c]);
      double sum = 0;
      for (int c = 0; c < C; ++c) {
        p[c] = std::exp(o[c] - max);
        sum += p[c];
      }
      const int target = classes[r * M + v];
      c_sum -= (o[target] - max - std::log(sum)) / M;
      for (int c = 0; c < C; ++c) dout[r * D + v * C + c] += w * ce_scale * (p[c] / sum - (c == target ? 1 : 0)) / M;
    }
    for (int k = 0; k < E; ++k) {
      const double x = out[r * D + M * C + k];
      const double y = edges[r * E + k];
      b_sum -= (y * log_sigmoid(x) + (1 - y) * log_sigmoid(-x)) / E;
      dout[r * D + M * C + k] += w * (sigmoid(x) - y) / E;
    }
    if (ce != nullptr) ce[r] = c_sum;
    if (bce != nullptr) bce[r] = b_sum;
  }
}

const Kernels& kernels() {
  static const Kernels k = pick_kernels();
  return k;
}

// Wᵀ of every weight (same offsets; W [in × out] stored as [out × in]); biases left zero.
std::vector<double> transposed(const Layout& L, const double* params) {
  std::vector<double> wt(L.total, 0.0);
  for (const Lin& l : L.all) {
    for (int i = 0; i < l.in; ++i)
      for (int j = 0; j < l.out; ++j) wt[l.W + static_cast<size_t>(j) * l.in + i] = params[l.W + static_cast<size_t>(i) * l.out + j];
  }
  return wt;
}

}  // namespace

size_t agnet_param_count(const AgNetDims& dims) { return Layout(dims).total; }

void agnet_forward(const AgNetDims& dims, const double* params, const double* z, size_t rows, double* out, int threads) {
  const Layout L(dims);
  const Generator gen(dims, L);
  const size_t D = dims.length();
  const size_t chunks = (rows + kChunk - 1) / kChunk;
  const size_t groups = std::min<size_t>(chunks, 64);
  parallel_chunks(chunks, groups, threads, [&](size_t, size_t begin, size_t end) {
    Arena& arena = thread_arena();
    for (size_t c = begin; c < end; ++c) {
      const size_t r0 = c * kChunk, R = std::min(kChunk, rows - r0);
      arena.reset();
      Tape t(false, arena, kernels(), params, nullptr, nullptr, R);
      T y = gen.forward(t, z + r0 * kLatent);
      std::memcpy(out + r0 * D, y.v, R * D * sizeof(double));
    }
  });
}

void agnet_gradient(const AgNetDims& dims, const double* params, const double* z, size_t rows, const AgNetTarget* target,
                    const double* dout, double* out, double* ce, double* bce, double* grad, int threads) {
  const Layout L(dims);
  const Generator gen(dims, L);
  const size_t P = L.total;
  const size_t D = dims.length();
  const int M = dims.nodes, E = dims.edges();
  const std::vector<double> wt = transposed(L, params);
  const size_t chunks = (rows + kChunk - 1) / kChunk;
  std::vector<std::vector<double>> grads(chunks);
  parallel_chunks(chunks, chunks, threads, [&](size_t, size_t begin, size_t end) {
    Arena& arena = thread_arena();
    for (size_t c = begin; c < end; ++c) {
      const size_t r0 = c * kChunk, R = std::min(kChunk, rows - r0);
      grads[c].assign(P, 0.0);
      arena.reset();
      Tape t(true, arena, kernels(), params, grads[c].data(), wt.data(), R);
      T y = gen.forward(t, z + r0 * kLatent);
      std::memcpy(out + r0 * D, y.v, R * D * sizeof(double));
      if (target != nullptr) {
        reconstruction(dims, y.v, R, target->classes + r0 * M, target->edges + r0 * E, target->weights + r0, target->ce_scale,
                       ce != nullptr ? ce + r0 : nullptr, bce != nullptr ? bce + r0 : nullptr, y.g);
      }
      if (dout != nullptr)
        for (size_t i = 0; i < R * D; ++i) y.g[i] += dout[r0 * D + i];
      t.backward();
    }
  });
  std::fill(grad, grad + P, 0.0);
  for (size_t c = 0; c < chunks; ++c)
    for (size_t i = 0; i < P; ++i) grad[i] += grads[c][i];
}

void agnet_adam(double* params, const double* grad, size_t n, AgNetAdam& a) {
  a.step += 1;
  const double c1 = 1 - std::pow(a.beta1, a.step);
  const double c2 = 1 - std::pow(a.beta2, a.step);
  for (size_t i = 0; i < n; ++i) {
    const double gi = grad[i] + a.weight_decay * params[i];
    a.m[i] = a.beta1 * a.m[i] + (1 - a.beta1) * gi;
    a.v[i] = a.beta2 * a.v[i] + (1 - a.beta2) * gi * gi;
    params[i] -= a.lr * (a.m[i] / c1) / (std::sqrt(a.v[i] / c2) + a.eps);
  }
}

void agnet_generate(const AgNetDims& dims, const double* params, const double* z, size_t rows, uint32_t state[4], bool threshold,
                    const AgNetDecode& decode, uint8_t* seen, double* out, int32_t* length, uint8_t* classes, uint8_t* edges,
                    int32_t* index, uint8_t* fresh, int threads) {
  agnet_forward(dims, params, z, rows, out, threads);
  const int M = dims.nodes, C = dims.classes, E = dims.edges(), D = dims.length();
  Random random = Random::FromState(state);
  std::vector<double> p(C);
  for (size_t r = 0; r < rows; ++r) {
    const double* row = out + r * D;
    uint8_t* cls = classes + r * M;
    uint8_t* edg = edges + r * E;
    std::memset(cls, 0, M);
    std::memset(edg, 0, E);
    int n = M;
    for (int v = 0; v < M; ++v) {
      int c_out = decode.output;
      if (v < M - 1) {
        double max = -INFINITY;
        for (int c = 0; c < C; ++c) max = std::max(max, row[v * C + c]);
        double sum = 0;
        for (int c = 0; c < C; ++c) {
          p[c] = std::exp(row[v * C + c] - max);
          sum += p[c];
        }
        double u = random.uniform() * sum;
        c_out = C - 1;
        for (int c = 0; c < C; ++c) {
          u -= p[c];
          if (u < 0) {
            c_out = c;
            break;
          }
        }
      }
      cls[v] = static_cast<uint8_t>(c_out);
      if (c_out == decode.output) {
        n = v + 1;
        break;
      }
    }
    const int En = n * (n - 1) / 2;
    for (int k = 0; k < En; ++k) {
      const double x = row[M * C + k];
      edg[k] = threshold ? (x > 0 ? 1 : 0) : (random.uniform() < sigmoid(x) ? 1 : 0);
    }
    length[r] = n;
    fresh[r] = 0;
    index[r] = -1;
    bool ok = n == M && cls[0] == decode.input && cls[M - 1] == decode.output;
    int64_t idx = 0;
    for (int v = 1; ok && v < M - 1; ++v) {
      const int op = decode.class_ops[cls[v]];
      if (op < 0) ok = false;
      idx = idx * decode.base + op;
    }
    for (int k = 0; ok && k < E; ++k) ok = edg[k] == decode.dag[k];
    if (!ok) continue;
    index[r] = static_cast<int32_t>(idx);
    if (seen != nullptr && seen[idx] == 0) {
      seen[idx] = 1;
      fresh[r] = 1;
    }
  }
  random.State(state);
}

}  // namespace nasrank
