// Forward-only GCN scoring (Sony Eq. 3 / the contract's layer) and the CTNAS comparator
// head, for whole search spaces at once. Plain C++ (no N-API); inputs validated by the
// caller (addon.cc).
//
// Per graph, with the real vertices r (mask 1) only:
//   Ã = A + I,  d_i = Σ_j Ã_ij,  Â_ij = Ã_ij / sqrt(d_i d_j),
//   H_0 = X,  H_{l+1} = ReLU(Â H_l W_l + b_l),  e = mean_i H_L[i],  score = e·w_fc + b_fc.
// Padded vertices have zero rows/columns in Â (validated), so their rows never reach a real
// vertex or the pooled mean and are skipped entirely: only real rows are computed.
//
// Work layout. Graphs are cut into chunks (sub-batches of up to 16384 real rows) spread over
// threads (parallel.h); within a sub-batch, rows whose computation is identical are computed
// once (exact row dedup, see gcn_forward). For each layer, Z = Â H is computed from a sparse
// Â (CSR over the sub-batch's rows) straight into the "packed A" layout of the GEMM (panels
// of 6 rows, k-major), in blocks of 192 rows, then H' = ReLU(Z W + b) is a blocked GEMM: a
// 6×16 register tile (12 accumulators), W packed once per call into 16-column panels that
// stay in L1 while the block's row panels stream from L2. A row's result depends only on
// its own inputs, never on the chunking, so any thread count gives bit-identical results on
// a given CPU.
//
// SIMD: the 6×16 micro-kernel has an AVX2+FMA version (intrinsics in a function compiled
// with __attribute__((target("avx2,fma")))) picked at run time when the CPU supports it
// (never -march=native), and a portable version the compiler vectorises for the baseline
// target. (target_clones over GCC vector extensions was tried first: GCC materialised each
// broadcast through a scalar add or an insert chain, 40-50 GFLOP/s against 94 for the
// intrinsics on the same Zen 3 core.) NASRANK_NO_AVX2=1 in the environment forces the
// portable kernel (tests use it to cover both). The helper loops (aggregation, pooling) are
// target_clones'd like rank_loss_detail.h's vector loops.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "cpu.h"
#include "kernels.h"
#include "parallel.h"
#include "scratch.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define NASRANK_GCN_AVX2 1
#else
#define NASRANK_GCN_AVX2 0
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) && \
    !defined(NASRANK_NO_TARGET_CLONES)
#define NASRANK_GCN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NASRANK_GCN_CLONES
#endif

namespace nasrank {

namespace {

constexpr size_t kMR = 6;            // rows per register tile / packed row panel
constexpr size_t kNR = 16;           // columns per register tile / packed W panel
constexpr size_t kRowsTarget = 192;  // rows per GEMM block (packed Z of a block fits in L2)

size_t round_up(size_t n, size_t m) { return (n + m - 1) / m * m; }

// ---- packed operands ----------------------------------------------------------------------

// W (K×N, row-major) and bias (N) packed into ceil(N/16) panels of K×16, zero-padded.
struct PackedB {
  size_t k = 0, n = 0, panels = 0;
  std::vector<float> data;  // panels × k × 16
  std::vector<float> bias;  // panels × 16
};

// Packs rows [row0, row0 + k) of a row-major matrix with `n` columns (a slice of W's rows:
// the comparator's first layer uses only one half of W when one side is broadcast).
PackedB pack_b(const float* w, size_t row0, size_t k, size_t n, const float* bias) {
  PackedB p;
  p.k = k;
  p.n = n;
  p.panels = (n + kNR - 1) / kNR;
  p.data.assign(p.panels * k * kNR, 0.0f);
  p.bias.assign(p.panels * kNR, 0.0f);
  for (size_t q = 0; q < p.panels; ++q) {
    const size_t c0 = q * kNR, cn = std::min(kNR, n - c0);
    float* dst = p.data.data() + q * k * kNR;
    for (size_t kk = 0; kk < k; ++kk) {
      const float* src = w + (row0 + kk) * n + c0;
      for (size_t c = 0; c < cn; ++c) dst[kk * kNR + c] = src[c];
    }
    if (bias) for (size_t c = 0; c < cn; ++c) p.bias[q * kNR + c] = bias[c0 + c];
  }
  return p;
}

// ---- the 6×16 micro-kernel -----------------------------------------------------------------

// acc[r][c] = Σ_k a[k*6 + r] * b[k*16 + c]  (a: one packed row panel, b: one packed W panel)
inline void tile_portable(const float* a, const float* b, size_t k, float acc[kMR][kNR]) {
  for (size_t r = 0; r < kMR; ++r)
    for (size_t c = 0; c < kNR; ++c) acc[r][c] = 0.0f;
  for (size_t kk = 0; kk < k; ++kk) {
    const float* bk = b + kk * kNR;
    const float* ak = a + kk * kMR;
    for (size_t r = 0; r < kMR; ++r) {
      const float ar = ak[r];
      for (size_t c = 0; c < kNR; ++c) acc[r][c] += ar * bk[c];
    }
  }
}

// Stores rows [0, rows) and columns [0, cols) of relu?(acc + bias) into out (leading dim ld).
inline void tile_store(float acc[kMR][kNR], const float* bias, bool relu, size_t rows, size_t cols,
                       float* out, size_t ld) {
  for (size_t r = 0; r < rows; ++r) {
    float* o = out + r * ld;
    for (size_t c = 0; c < cols; ++c) {
      const float v = acc[r][c] + bias[c];
      o[c] = relu ? (v > 0.0f ? v : 0.0f) : v;
    }
  }
}

// C (rows × n, leading dim ld) = relu?(Ap · B + bias), Ap packed in ceil(rows/6) panels.
void gemm_portable(const float* ap, size_t rows, const PackedB& b, bool relu, float* out, size_t ld) {
  float acc[kMR][kNR];
  const size_t row_panels = (rows + kMR - 1) / kMR;
  for (size_t q = 0; q < b.panels; ++q) {
    const float* bp = b.data.data() + q * b.k * kNR;
    const size_t c0 = q * kNR, cols = std::min(kNR, b.n - c0);
    for (size_t p = 0; p < row_panels; ++p) {
      tile_portable(ap + p * b.k * kMR, bp, b.k, acc);
      tile_store(acc, b.bias.data() + c0, relu, std::min(kMR, rows - p * kMR), cols,
                 out + p * kMR * ld + c0, ld);
    }
  }
}

#if NASRANK_GCN_AVX2
__attribute__((target("avx2,fma"))) void gemm_avx2(const float* ap, size_t rows, const PackedB& b,
                                                    bool relu, float* out, size_t ld) {
  const size_t row_panels = (rows + kMR - 1) / kMR;
  const size_t k = b.k;
  const __m256 zero = _mm256_setzero_ps();
  for (size_t q = 0; q < b.panels; ++q) {
    const float* bp = b.data.data() + q * k * kNR;
    const size_t c0 = q * kNR, cols = std::min(kNR, b.n - c0);
    const __m256 bias0 = _mm256_loadu_ps(b.bias.data() + c0);
    const __m256 bias1 = _mm256_loadu_ps(b.bias.data() + c0 + 8);
    for (size_t p = 0; p < row_panels; ++p) {
      const float* a = ap + p * k * kMR;
      __m256 c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero;
      __m256 c30 = zero, c31 = zero, c40 = zero, c41 = zero, c50 = zero, c51 = zero;
      for (size_t kk = 0; kk < k; ++kk) {
        const __m256 b0 = _mm256_loadu_ps(bp + kk * kNR);
        const __m256 b1 = _mm256_loadu_ps(bp + kk * kNR + 8);
        const float* ak = a + kk * kMR;
        __m256 x = _mm256_broadcast_ss(ak + 0);
        c00 = _mm256_fmadd_ps(x, b0, c00);
        c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(ak + 1);
        c10 = _mm256_fmadd_ps(x, b0, c10);
        c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(ak + 2);
        c20 = _mm256_fmadd_ps(x, b0, c20);
        c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(ak + 3);
        c30 = _mm256_fmadd_ps(x, b0, c30);
        c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(ak + 4);
        c40 = _mm256_fmadd_ps(x, b0, c40);
        c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(ak + 5);
        c50 = _mm256_fmadd_ps(x, b0, c50);
        c51 = _mm256_fmadd_ps(x, b1, c51);
      }
      const __m256 acc[kMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
      const size_t nrows = std::min(kMR, rows - p * kMR);
      float* o = out + p * kMR * ld + c0;
      if (cols == kNR) {
        for (size_t r = 0; r < nrows; ++r) {
          __m256 v0 = _mm256_add_ps(acc[r][0], bias0), v1 = _mm256_add_ps(acc[r][1], bias1);
          if (relu) {
            v0 = _mm256_max_ps(v0, zero);
            v1 = _mm256_max_ps(v1, zero);
          }
          _mm256_storeu_ps(o + r * ld, v0);
          _mm256_storeu_ps(o + r * ld + 8, v1);
        }
      } else {
        alignas(32) float tmp[kMR][kNR];
        for (size_t r = 0; r < kMR; ++r) {
          _mm256_store_ps(tmp[r], acc[r][0]);
          _mm256_store_ps(tmp[r] + 8, acc[r][1]);
        }
        tile_store(tmp, b.bias.data() + c0, relu, nrows, cols, o, ld);
      }
    }
  }
}
#endif

bool use_avx2() { return NASRANK_GCN_AVX2 && avx2_fma_usable(); }

void gemm(const float* ap, size_t rows, const PackedB& b, bool relu, float* out, size_t ld) {
  if (rows == 0 || b.n == 0) return;
#if NASRANK_GCN_AVX2
  if (use_avx2()) return gemm_avx2(ap, rows, b, relu, out, ld);
#endif
  gemm_portable(ap, rows, b, relu, out, ld);
}

// ---- packing rows and aggregating neighbours ---------------------------------------------

// Writes a contiguous row of k values as row i of the packed layout (panels of 6 rows).
inline void put_packed_row(const float* row, size_t i, size_t k, float* ap) {
  float* dst = ap + (i / kMR) * k * kMR + (i % kMR);
  for (size_t kk = 0; kk < k; ++kk) dst[kk * kMR] = row[kk];
}

// Zeroes the packed rows [rows, round_up(rows, 6)) so the spare tile rows compute zeros.
inline void zero_packed_tail(size_t rows, size_t k, float* ap) {
  for (size_t i = rows; i % kMR != 0; ++i) {
    float* dst = ap + (i / kMR) * k * kMR + (i % kMR);
    for (size_t kk = 0; kk < k; ++kk) dst[kk * kMR] = 0.0f;
  }
}

double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

// parallel_chunks with exceptions kept off the worker threads (an exception escaping a
// std::thread would terminate the process): the first one (e.g. std::bad_alloc for scratch
// memory) is captured, the remaining chunks are skipped, and it is rethrown on the caller.
template <class Fn>
void parallel_chunks_safe(size_t n, size_t chunks, int threads, Fn fn) {
  std::mutex mu;
  std::exception_ptr error;
  std::atomic<bool> failed{false};
  parallel_chunks(n, chunks, threads, [&](size_t c, size_t begin, size_t end) {
    if (failed.load()) return;
    try {
      fn(c, begin, end);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
      failed.store(true);
    }
  });
  if (error) std::rethrow_exception(error);
}

// Chunks for parallel_chunks: enough for load balance on a shared machine, few enough that
// each chunk's scratch allocation is amortised over many sub-batches.
size_t chunk_count(size_t items, size_t per_chunk_min, int threads) {
  if (items == 0) return 0;
  size_t by_size = (items + per_chunk_min - 1) / per_chunk_min;
  size_t by_threads = static_cast<size_t>(std::max(threads, 1)) * 8;
  return std::max<size_t>(1, std::min(by_size, by_threads));
}

}  // namespace

// ---- GCN forward ---------------------------------------------------------------------------

namespace {

constexpr uint32_t kEmpty = 0xFFFFFFFFu;

inline uint64_t mix64(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}

inline uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// Exact interning of row computations. Rows whose keys are equal get the same id; the first
// row with a key is its representative. hash(r) must agree for equal keys; eq(a, b) compares
// the keys of rows a and b exactly. Returns the number of distinct keys.
template <class Hash, class Eq>
size_t intern_rows(size_t rows, Hash hash, Eq eq, std::vector<uint32_t>& table, std::vector<uint64_t>& hashes,
                   uint32_t* id, uint32_t* rep) {
  size_t cap = 16;
  while (cap < 2 * rows) cap <<= 1;
  table.assign(cap, kEmpty);
  hashes.resize(rows);
  const size_t mask = cap - 1;
  size_t unique = 0;
  for (size_t r = 0; r < rows; ++r) {
    const uint64_t h = hash(r);
    for (size_t slot = static_cast<size_t>(h) & mask;; slot = (slot + 1) & mask) {
      const uint32_t t = table[slot];
      if (t == kEmpty) {
        table[slot] = static_cast<uint32_t>(unique);
        hashes[unique] = h;
        rep[unique] = static_cast<uint32_t>(r);
        id[r] = static_cast<uint32_t>(unique++);
        break;
      }
      if (hashes[t] == h && eq(rep[t], r)) {
        id[r] = t;
        break;
      }
    }
  }
  return unique;
}

// Z rows for the distinct rows [u0, u1) of a layer, packed: Z_u = Σ_e Â_e H[src_id[col_e]] over
// the CSR entries of u's representative row (in CSR order, so equal keys give equal bits).
NASRANK_GCN_CLONES
void aggregate(const uint32_t* row_ptr, const uint32_t* col, const float* val, const uint32_t* rep,
               const uint32_t* src_id, size_t u0, size_t u1, const float* h, size_t k, float* ap, float* tmp) {
  for (size_t u = u0; u < u1; ++u) {
    const uint32_t r = rep[u];
    for (size_t kk = 0; kk < k; ++kk) tmp[kk] = 0.0f;
    for (uint32_t e = row_ptr[r]; e < row_ptr[r + 1]; ++e) {
      const float a = val[e];
      const float* src = h + static_cast<size_t>(src_id[col[e]]) * k;
      for (size_t kk = 0; kk < k; ++kk) tmp[kk] += a * src[kk];
    }
    put_packed_row(tmp, u - u0, k, ap);
  }
  zero_packed_tail(u1 - u0, k, ap);
}

// out[c] = mean over rows [r0, r1) of h[id[r]][c] (double accumulation, in row order).
NASRANK_GCN_CLONES
void pool_mean(const float* h, const uint32_t* id, size_t r0, size_t r1, size_t n, double* out) {
  for (size_t c = 0; c < n; ++c) out[c] = 0.0;
  for (size_t r = r0; r < r1; ++r) {
    const float* row = h + static_cast<size_t>(id[r]) * n;
    for (size_t c = 0; c < n; ++c) out[c] += static_cast<double>(row[c]);
  }
  const double inv = r1 > r0 ? 1.0 / static_cast<double>(r1 - r0) : 0.0;
  for (size_t c = 0; c < n; ++c) out[c] *= inv;
}

// Σ a[c]·b[c] in double with four interleaved partial sums (a fixed order, so the result is
// deterministic; four chains instead of one latency-bound chain).
inline double dot4(const double* a, const float* b, size_t n) {
  double p[4] = {0.0, 0.0, 0.0, 0.0};
  size_t c = 0;
  for (; c + 4 <= n; c += 4)
    for (size_t q = 0; q < 4; ++q) p[q] += a[c + q] * static_cast<double>(b[c + q]);
  for (; c < n; ++c) p[c % 4] += a[c] * static_cast<double>(b[c]);
  return (p[0] + p[1]) + (p[2] + p[3]);
}

// Per-worker memory, reused across the sub-batches a worker takes (released with the call).
// A grow-only array left uninitialised (only the part a sub-batch writes is touched).
struct FloatBuffer {
  std::unique_ptr<float[]> data;
  size_t size = 0;
  float* get(size_t n) {
    if (n > size) {
      data.reset(new float[n]);
      size = n;
    }
    return data.get();
  }
};

struct ForwardScratch {
  FloatBuffer ha, hb;
  std::vector<float> xrows, val, inv_sqrt_deg, zp, tmp;
  std::vector<uint32_t> row_ptr, col, graph_row, real, ida, idb, rep, table;
  std::vector<uint64_t> hashes;
  std::vector<double> pooled;
};

class ScratchPool {
 public:
  std::unique_ptr<ForwardScratch> acquire() {
    std::lock_guard<std::mutex> lock(mu_);
    if (free_.empty()) return std::unique_ptr<ForwardScratch>(new ForwardScratch());
    auto s = std::move(free_.back());
    free_.pop_back();
    return s;
  }
  void release(std::unique_ptr<ForwardScratch> s) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(s));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<ForwardScratch>> free_;
};

// Rows per sub-batch with dedup: the bigger, the more often repeated row computations (the
// output vertex, the vertices near it) recur within one. Measured on random NB-101-like
// cells (benchmarks/gcn.js), distinct rows of layers 2 / 3: 45% / 46% within 28 graphs,
// 19% / 24% within 4096, 6% / 14% within 100k. Only distinct rows touch the activation
// buffers, which are allocated without initialisation, so a big cap costs address space,
// not memory traffic. Without dedup, sub-batches stay cache-sized (192 rows).
constexpr size_t kSubBatchRows = 65536;
constexpr size_t kSubBatchFloats = size_t(1) << 24;
constexpr size_t kPlainSubBatchRows = 192;

}  // namespace

// Sub-batch pipeline (one per chunk of graphs, on one worker):
//   1. CSR of Â over the real rows; layer-0 input rows = the real vertices' features.
//   2. Row dedup (unless disabled): a row's layer-l activation is a function of its key —
//      layer 0: its feature bits; layer l: the ordered list of (Â_ij bits, layer-(l−1) id of
//      j) — so rows with equal keys get one id and are computed once. Exact: equal keys mean
//      the same float operations on the same values, hence the same bits as without dedup.
//      In NB-101-like spaces most rows repeat (the output vertex never has successors, so
//      its rows are identical in every cell; vertices near it have few variants).
//   3. Per layer: Z of the distinct rows, packed, in blocks of 192 rows; H' = ReLU(Z W + b)
//      by the GEMM.
//   4. Masked mean of each graph's rows (through their ids), embedding and/or FC score.
void gcn_forward(const GcnGraphs& g, const GcnDense* layers, size_t n_layers, const float* fc_w,
                 float fc_b, float* embed_out, double* score_out, int threads, bool dedup, GcnVariant variant) {
  if (g.count == 0 || n_layers == 0) return;
  const size_t V = g.vertices, F = g.features;
  const size_t H = layers[n_layers - 1].out;

  std::vector<PackedB> packed;
  packed.reserve(n_layers);
  size_t widest = F;
  for (size_t l = 0; l < n_layers; ++l) {
    packed.push_back(pack_b(layers[l].w, 0, layers[l].in, layers[l].out, layers[l].b));
    widest = std::max(widest, layers[l].out);
  }
  // Without dedup nothing is gained from big sub-batches: keep them cache-sized.
  const size_t row_cap = std::max(V, dedup ? std::min(kSubBatchRows, kSubBatchFloats / widest) : kPlainSubBatchRows);
  // Graphs per chunk: a full sub-batch, but at least ~4 chunks per thread when there are few.
  const size_t workers = static_cast<size_t>(std::max(threads, 1));
  const size_t per_chunk = std::max<size_t>(1, std::min(row_cap / V, (g.count + 4 * workers - 1) / (4 * workers)));
  const size_t chunks = (g.count + per_chunk - 1) / per_chunk;
  const size_t block = round_up(kRowsTarget, kMR);
  ScratchPool pool;

  auto run = [&](size_t, size_t begin, size_t end) {
    auto scratch = pool.acquire();
    ForwardScratch& s = *scratch;
    // 1. CSR of Â and the layer-0 rows.
    s.row_ptr.assign(1, 0);
    s.col.clear();
    s.val.clear();
    s.graph_row.assign(1, 0);
    s.xrows.resize((end - begin) * V * F);
    size_t rows = 0;
    for (size_t gi = begin; gi < end; ++gi) {
      const float* mask = g.mask + gi * V;
      const float* adj = g.adjacency + gi * V * V;
      s.real.clear();
      for (size_t v = 0; v < V; ++v)
        if (variant.pool_all || mask[v] != 0.0f) s.real.push_back(static_cast<uint32_t>(v));
      const size_t nv = s.real.size();
      s.inv_sqrt_deg.resize(nv);
      for (size_t a = 0; a < nv; ++a) {
        double d = 1.0;
        const float* arow = adj + s.real[a] * V;
        for (size_t b = 0; b < nv; ++b) d += arow[s.real[b]];
        s.inv_sqrt_deg[a] = static_cast<float>(1.0 / std::sqrt(d));
      }
      for (size_t a = 0; a < nv; ++a) {
        const float* arow = adj + s.real[a] * V;
        for (size_t b = 0; b < nv; ++b) {
          const float t = arow[s.real[b]] + (a == b ? 1.0f : 0.0f);
          if (t != 0.0f) {
            s.col.push_back(static_cast<uint32_t>(rows + b));
            s.val.push_back(variant.norm_row ? t * s.inv_sqrt_deg[a] : s.inv_sqrt_deg[a] * t * s.inv_sqrt_deg[b]);
          }
        }
        s.row_ptr.push_back(static_cast<uint32_t>(s.col.size()));
        std::memcpy(s.xrows.data() + (rows + a) * F, g.x + (gi * V + s.real[a]) * F, F * sizeof(float));
      }
      rows += nv;
      s.graph_row.push_back(static_cast<uint32_t>(rows));
    }
    s.ida.resize(rows);
    s.idb.resize(rows);
    s.rep.resize(rows);
    s.zp.resize(block * widest);
    s.tmp.resize(widest);
    s.pooled.resize(H);
    uint32_t* id_prev = s.ida.data();
    uint32_t* id_cur = s.idb.data();
    float* h_prev = s.ha.get(std::max<size_t>(rows, 1) * widest);
    float* h_cur = s.hb.get(std::max<size_t>(rows, 1) * widest);

    // 2. Layer-0 ids and distinct input rows.
    size_t unique;
    if (dedup) {
      const float* xr = s.xrows.data();
      unique = intern_rows(
          rows,
          [&](size_t r) {
            uint64_t h = F;
            for (size_t f = 0; f < F; ++f) h = mix64(h, float_bits(xr[r * F + f]));
            return h;
          },
          [&](size_t a, size_t b) { return std::memcmp(xr + a * F, xr + b * F, F * sizeof(float)) == 0; },
          s.table, s.hashes, id_prev, s.rep.data());
      for (size_t u = 0; u < unique; ++u) std::memcpy(h_prev + u * F, xr + static_cast<size_t>(s.rep[u]) * F, F * sizeof(float));
    } else {
      for (size_t r = 0; r < rows; ++r) id_prev[r] = static_cast<uint32_t>(r);
      std::memcpy(h_prev, s.xrows.data(), rows * F * sizeof(float));
      unique = rows;
    }

    // 3. Layers.
    size_t k = F;
    const uint32_t* row_ptr = s.row_ptr.data();
    const uint32_t* col = s.col.data();
    const float* val = s.val.data();
    for (size_t l = 0; l < n_layers; ++l) {
      if (dedup) {
        unique = intern_rows(
            rows,
            [&](size_t r) {
              uint64_t h = row_ptr[r + 1] - row_ptr[r];
              for (uint32_t e = row_ptr[r]; e < row_ptr[r + 1]; ++e) h = mix64(mix64(h, float_bits(val[e])), id_prev[col[e]]);
              return h;
            },
            [&](size_t a, size_t b) {
              const uint32_t la = row_ptr[a + 1] - row_ptr[a];
              if (la != row_ptr[b + 1] - row_ptr[b]) return false;
              for (uint32_t i = 0; i < la; ++i) {
                const uint32_t ea = row_ptr[a] + i, eb = row_ptr[b] + i;
                if (float_bits(val[ea]) != float_bits(val[eb]) || id_prev[col[ea]] != id_prev[col[eb]]) return false;
              }
              return true;
            },
            s.table, s.hashes, id_cur, s.rep.data());
      } else {
        for (size_t r = 0; r < rows; ++r) id_cur[r] = s.rep[r] = static_cast<uint32_t>(r);
        unique = rows;
      }
      const size_t n = packed[l].n;
      for (size_t u0 = 0; u0 < unique; u0 += block) {
        const size_t u1 = std::min(unique, u0 + block);
        aggregate(row_ptr, col, val, s.rep.data(), id_prev, u0, u1, h_prev, k, s.zp.data(), s.tmp.data());
        gemm(s.zp.data(), u1 - u0, packed[l], true, h_cur + u0 * n, n);
      }
      std::swap(h_prev, h_cur);
      std::swap(id_prev, id_cur);
      k = n;
    }

    // 4. Pooling, embedding, score.
    for (size_t j = 0; j + begin < end; ++j) {
      pool_mean(h_prev, id_prev, s.graph_row[j], s.graph_row[j + 1], H, s.pooled.data());
      const size_t gg = begin + j;
      if (embed_out) {
        float* e = embed_out + gg * H;
        for (size_t c = 0; c < H; ++c) e[c] = static_cast<float>(s.pooled[c]);
      }
      if (score_out) score_out[gg] = dot4(s.pooled.data(), fc_w, H) + static_cast<double>(fc_b);
    }
    pool.release(std::move(scratch));
  };
  parallel_chunks_safe(g.count, chunks, threads, run);
}

// ---- comparator head -----------------------------------------------------------------------

void comparator_head(const float* emb_a, size_t count_a, const float* emb_b, size_t count_b,
                     size_t dim, const GcnDense* hidden, size_t n_hidden, const float* out_w,
                     float out_b, double* prob, int threads) {
  const size_t count = std::max(count_a, count_b);
  if (count == 0 || count_a == 0 || count_b == 0) return;
  // One side broadcast (count 1 against many): its half of the first layer is folded into
  // that layer's bias (or into the output bias when there is no hidden layer), and only the
  // other side's half of the weights multiplies rows.
  const bool fold_b = count_b == 1 && count_a != 1;
  const bool fold_a = count_a == 1 && count_b != 1;
  const bool folded = fold_a || fold_b;
  const float* fixed = fold_a ? emb_a : emb_b;
  const size_t fixed_off = fold_a ? 0 : dim;   // rows of W that multiply the fixed side
  const size_t var_off = fold_a ? dim : 0;     // rows of W that multiply the varying side
  const float* var = fold_a ? emb_b : emb_a;

  if (n_hidden == 0) {
    // logit = [a, b] · w + bias: a dot product per pair, in double.
    double fixed_part = 0.0;
    if (folded) for (size_t c = 0; c < dim; ++c) fixed_part += static_cast<double>(fixed[c]) * out_w[fixed_off + c];
    for (size_t i = 0; i < count; ++i) {
      double z = static_cast<double>(out_b);
      if (folded) {
        const float* v = var + i * dim;
        z += fixed_part;
        for (size_t c = 0; c < dim; ++c) z += static_cast<double>(v[c]) * out_w[var_off + c];
      } else {
        const float* a = emb_a + i * dim;
        const float* b = emb_b + i * dim;
        for (size_t c = 0; c < dim; ++c) z += static_cast<double>(a[c]) * out_w[c] + static_cast<double>(b[c]) * out_w[dim + c];
      }
      prob[i] = sigmoid(z);
    }
    return;
  }

  std::vector<PackedB> packed;
  packed.reserve(n_hidden);
  size_t widest = 2 * dim;
  if (folded) {
    // bias' = b + fixed · W[fixed rows]
    const GcnDense& l0 = hidden[0];
    std::vector<float> bias(l0.out);
    for (size_t c = 0; c < l0.out; ++c) {
      double s = l0.b[c];
      for (size_t kk = 0; kk < dim; ++kk) s += static_cast<double>(fixed[kk]) * l0.w[(fixed_off + kk) * l0.out + c];
      bias[c] = static_cast<float>(s);
    }
    packed.push_back(pack_b(l0.w, var_off, dim, l0.out, bias.data()));
  } else {
    packed.push_back(pack_b(hidden[0].w, 0, 2 * dim, hidden[0].out, hidden[0].b));
  }
  for (size_t l = 1; l < n_hidden; ++l) packed.push_back(pack_b(hidden[l].w, 0, hidden[l].in, hidden[l].out, hidden[l].b));
  for (size_t l = 0; l < n_hidden; ++l) widest = std::max(widest, hidden[l].out);
  const size_t last = hidden[n_hidden - 1].out;
  const size_t row_cap = round_up(kRowsTarget, kMR);

  auto run = [&](size_t, size_t begin, size_t end) {
    std::vector<float> ap(row_cap * widest), h(row_cap * widest), row(2 * dim);
    for (size_t r0 = begin; r0 < end; r0 += row_cap) {
      const size_t rows = std::min(row_cap, end - r0);
      const size_t k0 = folded ? dim : 2 * dim;
      for (size_t i = 0; i < rows; ++i) {
        if (folded) {
          put_packed_row(var + (r0 + i) * dim, i, dim, ap.data());
        } else {
          std::memcpy(row.data(), emb_a + (r0 + i) * dim, dim * sizeof(float));
          std::memcpy(row.data() + dim, emb_b + (r0 + i) * dim, dim * sizeof(float));
          put_packed_row(row.data(), i, 2 * dim, ap.data());
        }
      }
      zero_packed_tail(rows, k0, ap.data());
      for (size_t l = 0; l < n_hidden; ++l) {
        if (l > 0) {
          const size_t k = packed[l].k;
          for (size_t i = 0; i < rows; ++i) put_packed_row(h.data() + i * k, i, k, ap.data());
          zero_packed_tail(rows, k, ap.data());
        }
        gemm(ap.data(), rows, packed[l], true, h.data(), packed[l].n);
      }
      for (size_t i = 0; i < rows; ++i) {
        const float* hr = h.data() + i * last;
        double z = static_cast<double>(out_b);
        for (size_t c = 0; c < last; ++c) z += static_cast<double>(hr[c]) * out_w[c];
        prob[r0 + i] = sigmoid(z);
      }
    }
  };
  parallel_chunks_safe(count, chunk_count(count, 256, threads), threads, run);
}

// ---- the ranking GCN in float64: training (Mauch et al.) and input gradients -------------
// Dense over the V padded vertices of each graph (V <= a few dozen): per graph the
// normalised adjacency N (V x V), then per layer P = N H, H' = ReLU(P W + b). With
// pool_all every vertex is real; otherwise padded vertices have zero rows and columns in N
// and are left out of the mean, so they never reach the score. The work is split into fixed
// chunks of kTrainChunk graphs; gradient partials are per chunk and summed in chunk order,
// so results do not depend on the thread count.

namespace {

constexpr size_t kTrainChunk = 32;

// The per-graph inputs of a set of graphs, in double: N, X and the pooling weight per row.
struct RankInputs {
  size_t n = 0, V = 0, F = 0;
  std::vector<double> norm, x, pool, deg;  // n*V*V, n*V*F, n*V (1/count or 0), n*V (d_i, 0 for padding)
  std::vector<uint8_t> real;               // n*V
};

void rank_inputs(const GcnGraphs& g, const uint32_t* idx, size_t n, const GcnVariant& variant, RankInputs& in) {
  const size_t V = g.vertices, F = g.features;
  in.n = n;
  in.V = V;
  in.F = F;
  in.norm.assign(n * V * V, 0.0);
  in.x.assign(n * V * F, 0.0);
  in.pool.assign(n * V, 0.0);
  in.deg.assign(n * V, 0.0);
  in.real.assign(n * V, 0);
  std::vector<double> s(V);
  for (size_t k = 0; k < n; ++k) {
    const size_t gi = idx ? idx[k] : k;
    const float* mask = g.mask + gi * V;
    const float* adj = g.adjacency + gi * V * V;
    uint8_t* real = in.real.data() + k * V;
    size_t count = 0;
    for (size_t v = 0; v < V; ++v) {
      real[v] = (variant.pool_all || mask[v] != 0.0f) ? 1 : 0;
      count += real[v];
    }
    double* N = in.norm.data() + k * V * V;
    for (size_t i = 0; i < V; ++i) {
      if (!real[i]) continue;
      double d = 1.0;
      for (size_t j = 0; j < V; ++j)
        if (real[j]) d += adj[i * V + j];
      in.deg[k * V + i] = d;
      s[i] = 1.0 / std::sqrt(d);
    }
    for (size_t i = 0; i < V; ++i) {
      if (!real[i]) continue;
      for (size_t j = 0; j < V; ++j) {
        if (!real[j]) continue;
        const double a = static_cast<double>(adj[i * V + j]) + (i == j ? 1.0 : 0.0);
        N[i * V + j] = variant.norm_row ? a * s[i] : a * s[i] * s[j];
      }
    }
    for (size_t v = 0; v < V; ++v) {
      in.pool[k * V + v] = real[v] ? 1.0 / static_cast<double>(count) : 0.0;
      for (size_t f = 0; f < F; ++f) in.x[(k * V + v) * F + f] = g.x[(gi * V + v) * F + f];
    }
  }
}

// Activations of all n graphs: h[l] (n*V*dims[l]) for l = 0..layers (h[0] = X), p[l] =
// N h[l] (n*V*dims[l]) for l < layers, r (n*width) the pooled readout, f (n).
// base: the first graph held (activations of graph k live at k − base; gcnTrain holds all n,
// base 0).
struct RankActs {
  std::vector<std::vector<double>> h, p;
  std::vector<double> r, f;
  size_t base = 0;
};

void rank_alloc(const RankGcnParams& m, size_t n, RankActs& a) {
  const size_t V = m.vertices, L = m.dims.size() - 1;
  a.h.resize(L + 1);
  a.p.resize(L);
  for (size_t l = 0; l <= L; ++l) a.h[l].resize(n * V * m.dims[l]);
  for (size_t l = 0; l < L; ++l) a.p[l].resize(n * V * m.dims[l]);
  a.r.resize(n * m.dims.back());
  a.f.resize(n);
}

// ---- float64 GEMM with a packed AVX2/FMA micro-kernel -------------------------------------
// C (m×n, row-major, ldc) = [C +] A·B, A (m×k) read through strides (A(i, kk) = a[i·ars +
// kk·acs], so Aᵀ of a row-major matrix is just other strides), B (k×n) row-major (ldb).
// B is packed into 8-column panels (k×8, zero-padded), A into 6-row panels (k-major) in
// blocks of 96 rows; a 6×8 register tile (12 ymm accumulators) runs the whole k loop with
// FMAs, then stores (or adds to C). Every output is one fixed-order sum over k, so the
// result depends on the operands only, never on how callers split the work across threads.
//
// Zero work is skipped exactly: rows of A that are all zero (padded vertices with pool
// 'all', rows ReLU cut entirely) are left out of the packed panels and their C rows set to
// zero (or left as they are when accumulating), and a caller may restrict the k range to a
// list of indices (kidx; the weight gradient skips graph rows whose dZ is zero). A skipped
// term is a product with a zero factor, so the sums are the same.
constexpr size_t kDMR = 6;    // rows per register tile / packed A panel
constexpr size_t kDNR = 8;    // columns per register tile / packed B panel
constexpr size_t kDMC = 96;   // rows of A packed at a time (96 × 256 doubles = 192 KiB, in L2)

// B(kk, j) = b[kidx(kk)·brs + j·bcs] (bcs = 1: row-major; brs = 1: the transpose of a
// row-major matrix, so Wᵀ is packed straight from W); kidx(kk) = kk without a list.
void pack_db(const double* b, size_t brs, size_t bcs, size_t k, size_t n, double* bp, const uint32_t* kidx = nullptr) {
  const size_t panels = (n + kDNR - 1) / kDNR;
  for (size_t q = 0; q < panels; ++q) {
    const size_t c0 = q * kDNR, cn = std::min(kDNR, n - c0);
    double* dst = bp + q * k * kDNR;
    for (size_t kk = 0; kk < k; ++kk) {
      const double* src = b + (kidx ? kidx[kk] : kk) * brs + c0 * bcs;
      size_t c = 0;
      for (; c < cn; ++c) dst[kk * kDNR + c] = src[c * bcs];
      for (; c < kDNR; ++c) dst[kk * kDNR + c] = 0.0;
    }
  }
}

// Packs the rows of [i0, i0 + m) that are not all zero, in order, into 6-row panels (the last
// zero-padded); their indices go to rows. Returns how many.
size_t pack_da_live(const double* a, size_t ars, size_t acs, const uint32_t* kidx, size_t i0, size_t m, size_t k,
                    double* ap, uint32_t* rows) {
  size_t live = 0;
  for (size_t i = i0; i < i0 + m; ++i) {
    double* dst = ap + (live / kDMR) * k * kDMR + (live % kDMR);
    bool nz = false;
    if (acs == 1 && !kidx) {
      const double* src = a + i * ars;
      for (size_t kk = 0; kk < k; ++kk) {
        dst[kk * kDMR] = src[kk];
        nz |= src[kk] != 0.0;
      }
    } else {
      const double* src = a + i * ars;
      for (size_t kk = 0; kk < k; ++kk) {
        const double v = src[(kidx ? kidx[kk] : kk) * acs];
        dst[kk * kDMR] = v;
        nz |= v != 0.0;
      }
    }
    if (nz) rows[live++] = static_cast<uint32_t>(i);
  }
  for (size_t r = live; r % kDMR != 0; ++r) {
    double* dst = ap + (r / kDMR) * k * kDMR + (r % kDMR);
    for (size_t kk = 0; kk < k; ++kk) dst[kk * kDMR] = 0.0;
  }
  return live;
}

#if NASRANK_GCN_AVX2
// One 6×8 tile: rows r < `rows` of the result go to out[r] + col0.
__attribute__((target("avx2,fma"))) void dtile_avx2(const double* a, const double* b, size_t k, double* const* out,
                                                    size_t col0, size_t rows, size_t cols, bool accumulate) {
  __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256d c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  for (size_t kk = 0; kk < k; ++kk) {
    const __m256d b0 = _mm256_loadu_pd(b + kk * kDNR);
    const __m256d b1 = _mm256_loadu_pd(b + kk * kDNR + 4);
    const double* ak = a + kk * kDMR;
    __m256d x = _mm256_broadcast_sd(ak + 0);
    c00 = _mm256_fmadd_pd(x, b0, c00);
    c01 = _mm256_fmadd_pd(x, b1, c01);
    x = _mm256_broadcast_sd(ak + 1);
    c10 = _mm256_fmadd_pd(x, b0, c10);
    c11 = _mm256_fmadd_pd(x, b1, c11);
    x = _mm256_broadcast_sd(ak + 2);
    c20 = _mm256_fmadd_pd(x, b0, c20);
    c21 = _mm256_fmadd_pd(x, b1, c21);
    x = _mm256_broadcast_sd(ak + 3);
    c30 = _mm256_fmadd_pd(x, b0, c30);
    c31 = _mm256_fmadd_pd(x, b1, c31);
    x = _mm256_broadcast_sd(ak + 4);
    c40 = _mm256_fmadd_pd(x, b0, c40);
    c41 = _mm256_fmadd_pd(x, b1, c41);
    x = _mm256_broadcast_sd(ak + 5);
    c50 = _mm256_fmadd_pd(x, b0, c50);
    c51 = _mm256_fmadd_pd(x, b1, c51);
  }
  const __m256d acc[kDMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (cols == kDNR) {
    for (size_t r = 0; r < rows; ++r) {
      double* o = out[r] + col0;
      __m256d v0 = acc[r][0], v1 = acc[r][1];
      if (accumulate) {
        v0 = _mm256_add_pd(_mm256_loadu_pd(o), v0);
        v1 = _mm256_add_pd(_mm256_loadu_pd(o + 4), v1);
      }
      _mm256_storeu_pd(o, v0);
      _mm256_storeu_pd(o + 4, v1);
    }
  } else {
    alignas(32) double tmp[kDMR][kDNR];
    for (size_t r = 0; r < kDMR; ++r) {
      _mm256_store_pd(tmp[r], acc[r][0]);
      _mm256_store_pd(tmp[r] + 4, acc[r][1]);
    }
    for (size_t r = 0; r < rows; ++r) {
      double* o = out[r] + col0;
      for (size_t j = 0; j < cols; ++j) o[j] = accumulate ? o[j] + tmp[r][j] : tmp[r][j];
    }
  }
}

// C = [C +] A·B with B already packed (pack_db: ceil(n/8) panels of k×8, over the same kidx).
__attribute__((target("avx2,fma"))) void dgemm_avx2_packed(size_t m, size_t n, size_t k, const double* a, size_t ars,
                                                           size_t acs, const uint32_t* kidx, const double* bp, double* c,
                                                           size_t ldc, bool accumulate) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (size_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0);
    return;
  }
  static thread_local std::vector<double> ap;
  static thread_local std::vector<uint32_t> rows;
  if (ap.size() < round_up(kDMC, kDMR) * k) ap.resize(round_up(kDMC, kDMR) * k);
  rows.resize(kDMC);
  const size_t npanels = (n + kDNR - 1) / kDNR;
  for (size_t i0 = 0; i0 < m; i0 += kDMC) {
    const size_t mc = std::min(kDMC, m - i0);
    const size_t live = pack_da_live(a, ars, acs, kidx, i0, mc, k, ap.data(), rows.data());
    if (!accumulate && live < mc) {
      for (size_t i = i0, r = 0; i < i0 + mc; ++i) {
        if (r < live && rows[r] == i) {
          ++r;
          continue;
        }
        std::fill(c + i * ldc, c + i * ldc + n, 0.0);
      }
    }
    const size_t mpanels = (live + kDMR - 1) / kDMR;
    for (size_t p = 0; p < mpanels; ++p) {
      const size_t rn = std::min(kDMR, live - p * kDMR);
      double* out[kDMR];
      for (size_t r = 0; r < rn; ++r) out[r] = c + static_cast<size_t>(rows[p * kDMR + r]) * ldc;
      for (size_t q = 0; q < npanels; ++q)
        dtile_avx2(ap.data() + p * k * kDMR, bp + q * k * kDNR, k, out, q * kDNR, rn, std::min(kDNR, n - q * kDNR), accumulate);
    }
  }
}

// The same, packing B (rows kidx(kk) of a row-major matrix, ldb) first into a per-thread buffer.
void dgemm_avx2(size_t m, size_t n, size_t k, const double* a, size_t ars, size_t acs, const uint32_t* kidx, const double* b,
                size_t ldb, double* c, size_t ldc, bool accumulate) {
  static thread_local std::vector<double> bp;
  const size_t need = round_up(n, kDNR) * k;
  if (bp.size() < need) bp.resize(need);
  pack_db(b, ldb, 1, k, n, bp.data(), kidx);
  dgemm_avx2_packed(m, n, k, a, ars, acs, kidx, bp.data(), c, ldc, accumulate);
}
#endif

// out (rows x n) = a (rows x k) · b (k x n), four rows at a time (each row of b is loaded once
// per four output rows); every output sums over k in order, so the blocking does not change
// the result. A k-step where all four a entries are zero is skipped (ReLU / one-hot zeros).
NASRANK_GCN_CLONES
void gemm_rows_portable(const double* a, size_t rows, size_t k, const double* b, size_t n, double* out) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    double* o0 = out + r * n;
    double* o1 = o0 + n;
    double* o2 = o1 + n;
    double* o3 = o2 + n;
    for (size_t c = 0; c < n; ++c) o0[c] = o1[c] = o2[c] = o3[c] = 0.0;
    const double* a0 = a + r * k;
    for (size_t kk = 0; kk < k; ++kk) {
      const double x0 = a0[kk], x1 = a0[k + kk], x2 = a0[2 * k + kk], x3 = a0[3 * k + kk];
      if (x0 == 0.0 && x1 == 0.0 && x2 == 0.0 && x3 == 0.0) continue;
      const double* br = b + kk * n;
      for (size_t c = 0; c < n; ++c) {
        const double bv = br[c];
        o0[c] += x0 * bv;
        o1[c] += x1 * bv;
        o2[c] += x2 * bv;
        o3[c] += x3 * bv;
      }
    }
  }
  for (; r < rows; ++r) {
    double* o = out + r * n;
    for (size_t c = 0; c < n; ++c) o[c] = 0.0;
    for (size_t kk = 0; kk < k; ++kk) {
      const double x = a[r * k + kk];
      if (x == 0.0) continue;
      const double* br = b + kk * n;
      for (size_t c = 0; c < n; ++c) o[c] += x * br[c];
    }
  }
}

// g (k x n) += aᵀ (k x rows) · d (rows x n), four rows at a time.
NASRANK_GCN_CLONES
void gemm_at_b_add_portable(const double* a, size_t rows, size_t k, const double* d, size_t n, double* g) {
  size_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const double* a0 = a + r * k;
    const double* d0 = d + r * n;
    const double* d1 = d0 + n;
    const double* d2 = d1 + n;
    const double* d3 = d2 + n;
    for (size_t kk = 0; kk < k; ++kk) {
      const double x0 = a0[kk], x1 = a0[k + kk], x2 = a0[2 * k + kk], x3 = a0[3 * k + kk];
      if (x0 == 0.0 && x1 == 0.0 && x2 == 0.0 && x3 == 0.0) continue;
      double* gr = g + kk * n;
      for (size_t c = 0; c < n; ++c) gr[c] += x0 * d0[c] + x1 * d1[c] + x2 * d2[c] + x3 * d3[c];
    }
  }
  for (; r < rows; ++r) {
    const double* dr = d + r * n;
    for (size_t kk = 0; kk < k; ++kk) {
      const double x = a[r * k + kk];
      if (x == 0.0) continue;
      double* gr = g + kk * n;
      for (size_t c = 0; c < n; ++c) gr[c] += x * dr[c];
    }
  }
}

// The dispatchers: the AVX2/FMA packed GEMM when the CPU has it (and NASRANK_NO_AVX2 is not
// set), else the portable loops above (a different summation order, the same on any thread
// count either way).
// Every layer's W and Wᵀ packed for the AVX2 GEMM, once per call (gcnScoreGrad) or epoch
// (gcnTrain) instead of once per chunk. Empty without AVX2.
struct RankPacked {
  std::vector<std::vector<double>> w, wt;
};

void pack_rank_weights(const RankGcnParams& m, RankPacked& pk) {
  if (!use_avx2()) return;
  const size_t L = m.dims.size() - 1;
  pk.w.resize(L);
  pk.wt.resize(L);
  for (size_t l = 0; l < L; ++l) {
    const size_t din = m.dims[l], dout = m.dims[l + 1];
    pk.w[l].resize(round_up(dout, kDNR) * din);
    pack_db(m.w[l], dout, 1, din, dout, pk.w[l].data());
    pk.wt[l].resize(round_up(din, kDNR) * dout);
    pack_db(m.w[l], 1, dout, dout, din, pk.wt[l].data());
  }
}

// b_packed: b packed by pack_db (or null).
void gemm_rows(const double* a, size_t rows, size_t k, const double* b, size_t n, double* out, const double* b_packed = nullptr) {
#if NASRANK_GCN_AVX2
  if (use_avx2()) {
    if (b_packed) return dgemm_avx2_packed(rows, n, k, a, k, 1, nullptr, b_packed, out, n, false);
    return dgemm_avx2(rows, n, k, a, k, 1, nullptr, b, n, out, n, false);
  }
#endif
  gemm_rows_portable(a, rows, k, b, n, out);
}

void gemm_at_b_add(const double* a, size_t rows, size_t k, const double* d, size_t n, double* g) {
#if NASRANK_GCN_AVX2
  if (use_avx2()) {
    // Only the graph rows whose dZ is not all zero contribute.
    static thread_local std::vector<uint32_t> live;
    live.clear();
    for (size_t r = 0; r < rows; ++r) {
      const double* dr = d + r * n;
      bool nz = false;
      for (size_t c = 0; c < n; ++c) nz |= dr[c] != 0.0;
      if (nz) live.push_back(static_cast<uint32_t>(r));
    }
    return dgemm_avx2(k, n, live.size(), a, 1, k, live.data(), d, n, g, n, true);
  }
#endif
  gemm_at_b_add_portable(a, rows, k, d, n, g);
}

NASRANK_GCN_CLONES
void rank_forward_chunk(const RankGcnParams& m, const RankInputs& in, RankActs& a, size_t k0, size_t k1, const RankPacked& pk) {
  const size_t V = m.vertices, L = m.dims.size() - 1, W = m.dims.back();
  std::memcpy(a.h[0].data() + (k0 - a.base) * V * m.features, in.x.data() + k0 * V * m.features, (k1 - k0) * V * m.features * sizeof(double));
  for (size_t l = 0; l < L; ++l) {
    const size_t din = m.dims[l], dout = m.dims[l + 1];
    const double* Wl = m.w[l];
    const double* bl = m.b.empty() ? nullptr : m.b[l];
    for (size_t k = k0; k < k1; ++k) {
      const double* N = in.norm.data() + k * V * V;
      const double* H = a.h[l].data() + (k - a.base) * V * din;
      double* P = a.p[l].data() + (k - a.base) * V * din;
      for (size_t i = 0; i < V; ++i) {
        double* pr = P + i * din;
        for (size_t c = 0; c < din; ++c) pr[c] = 0.0;
        for (size_t j = 0; j < V; ++j) {
          const double nij = N[i * V + j];
          if (nij == 0.0) continue;
          const double* hr = H + j * din;
          for (size_t c = 0; c < din; ++c) pr[c] += nij * hr[c];
        }
      }
    }
    double* Z = a.h[l + 1].data() + (k0 - a.base) * V * dout;
    const size_t rows = (k1 - k0) * V;
    gemm_rows(a.p[l].data() + (k0 - a.base) * V * din, rows, din, Wl, dout, Z, pk.w.empty() ? nullptr : pk.w[l].data());
    for (size_t r = 0; r < rows; ++r) {
      double* zr = Z + r * dout;
      if (bl)
        for (size_t c = 0; c < dout; ++c) zr[c] += bl[c];
      for (size_t c = 0; c < dout; ++c) zr[c] = zr[c] > 0.0 ? zr[c] : 0.0;
    }
  }
  for (size_t k = k0; k < k1; ++k) {
    const double* H = a.h[L].data() + (k - a.base) * V * W;
    double* r = a.r.data() + (k - a.base) * W;
    for (size_t c = 0; c < W; ++c) r[c] = 0.0;
    double inv = 0.0;
    for (size_t i = 0; i < V; ++i) {
      if (in.pool[k * V + i] == 0.0) continue;
      inv = in.pool[k * V + i];
      for (size_t c = 0; c < W; ++c) r[c] += H[i * W + c];
    }
    double s = 0.0;
    for (size_t c = 0; c < W; ++c) {
      r[c] *= inv;
      s += r[c] * m.fc[c];
    }
    a.f[k - a.base] = s + m.fc_b;
  }
}

// Gradient partials of one chunk: w[l], b[l] (empty without bias), fc.
struct RankGrads {
  std::vector<std::vector<double>> w, b;
  std::vector<double> fc;
  void init(const RankGcnParams& m) {
    const size_t L = m.dims.size() - 1;
    w.resize(L);
    b.resize(m.b.empty() ? 0 : L);
    for (size_t l = 0; l < L; ++l) w[l].assign(m.dims[l] * m.dims[l + 1], 0.0);
    for (size_t l = 0; l < b.size(); ++l) b[l].assign(m.dims[l + 1], 0.0);
    fc.assign(m.dims.back(), 0.0);
  }
  void zero() {
    for (auto& v : w) std::fill(v.begin(), v.end(), 0.0);
    for (auto& v : b) std::fill(v.begin(), v.end(), 0.0);
    std::fill(fc.begin(), fc.end(), 0.0);
  }
};

// Backward of graphs [k0, k1) from df: weight gradients into g (gcnTrain; the input gradients
// are gcnScoreGrad's, score_grad below).
NASRANK_GCN_CLONES
void rank_backward_chunk(const RankGcnParams& m, const std::vector<const double*>& wt, const RankPacked& pk, const RankInputs& in, const RankActs& a,
                         const double* df, size_t k0, size_t k1, RankGrads* g) {
  const size_t V = m.vertices, L = m.dims.size() - 1, W = m.dims.back();
  const size_t cn = k1 - k0;
  size_t widest = m.features;
  for (size_t d : m.dims) widest = std::max(widest, d);
  std::vector<double> dH(cn * V * widest), dP(cn * V * widest);
  if (g)
    for (size_t k = k0; k < k1; ++k)
      for (size_t c = 0; c < W; ++c) g->fc[c] += df[k] * a.r[(k - a.base) * W + c];
  for (size_t k = k0; k < k1; ++k)
    for (size_t i = 0; i < V; ++i) {
      const double pw = in.pool[k * V + i];
      double* d = dH.data() + ((k - k0) * V + i) * W;
      for (size_t c = 0; c < W; ++c) d[c] = pw == 0.0 ? 0.0 : df[k] * m.fc[c] * pw;
    }
  for (size_t l = L; l-- > 0;) {
    const size_t din = m.dims[l], dout = m.dims[l + 1];
    const double* Hn = a.h[l + 1].data() + (k0 - a.base) * V * dout;
    const double* P = a.p[l].data() + (k0 - a.base) * V * din;
    const size_t rows = cn * V;
    for (size_t t = 0; t < rows * dout; ++t)
      if (Hn[t] <= 0.0) dH[t] = 0.0;
    if (g) {
      gemm_at_b_add(P, rows, din, dH.data(), dout, g->w[l].data());
      if (!g->b.empty()) {
        double* gb = g->b[l].data();
        for (size_t r = 0; r < rows; ++r) {
          const double* dz = dH.data() + r * dout;
          for (size_t c = 0; c < dout; ++c) gb[c] += dz[c];
        }
      }
    }
    if (l == 0) break;
    // dP = dZ Wᵀ (Wᵀ prepared by the caller: dout x din)
    gemm_rows(dH.data(), rows, dout, wt[l], din, dP.data(), pk.wt.empty() ? nullptr : pk.wt[l].data());
    // dH_prev = Nᵀ dP
    for (size_t t = 0; t < rows * din; ++t) dH[t] = 0.0;
    for (size_t k = 0; k < cn; ++k) {
      const double* N = in.norm.data() + (k0 + k) * V * V;
      for (size_t i = 0; i < V; ++i) {
        const double* dp = dP.data() + (k * V + i) * din;
        for (size_t j = 0; j < V; ++j) {
          const double nij = N[i * V + j];
          if (nij == 0.0) continue;
          double* o = dH.data() + (k * V + j) * din;
          for (size_t c = 0; c < din; ++c) o[c] += nij * dp[c];
        }
      }
    }
  }
}

// Wᵀ of every layer (dout x din), into storage; returns the pointers.
std::vector<const double*> transposes(const RankGcnParams& m, std::vector<std::vector<double>>& storage) {
  const size_t L = m.dims.size() - 1;
  storage.resize(L);
  std::vector<const double*> out(L);
  for (size_t l = 0; l < L; ++l) {
    const size_t din = m.dims[l], dout = m.dims[l + 1];
    storage[l].resize(din * dout);
    for (size_t i = 0; i < din; ++i)
      for (size_t c = 0; c < dout; ++c) storage[l][c * din + i] = m.w[l][i * dout + c];
    out[l] = storage[l].data();
  }
  return out;
}

// ---- gcnScoreGrad: input gradients with exact row dedup, in float64 or float32 -----------
// f_g and ∂f_g/∂(A, X) of every graph, over the real rows of a sub-batch of graphs (all rows
// with pool 'all'). Forward per layer l, in the order multiply-then-aggregate: Y_l = H_l W_l,
// H_{l+1} = ReLU(N Y_l + b_l). Backward from dH_L = fc ⊙ pool: dZ_l = dH_{l+1} ⊙ [H_{l+1} > 0],
// dP_l = dZ_l W_lᵀ, dN_ij += dZ_l,i · Y_l,j (= dP_l,i · H_l,j), dH_l,j = Σ_i N_ij dP_l,i (over
// the predecessors i of j, and j), dX = dH_0; then dA from dN through Ã and D̃ (in double).
//
// Exact dedup, both ways. Forward: a row's H_{l+1} is a function of its key, the ordered list
// of (N_ij bits, the H_l id of j) over its CSR row (as gcnScore), and Y_l is computed once per
// distinct H_l row. Backward: a row's dZ_l is a function of its key — at the last layer (H_L
// id, pool weight bits); below (H_l id, the ordered list of (N_ij bits, the dZ_l id of i) over
// its CSC column) — so dZ_l Wᵀ runs once per distinct key. A row's result depends on its key
// only, never on the sub-batch it is in, so any thread count (any chunking) gives
// bit-identical results. On 1000 random NB-201 cells (pool 'all', 8000 rows) one sub-batch
// has 175 / 1139 distinct rows for the two 256-wide forward products and 1188 / 3713 for the
// two backward ones.
//
// The lowest layer (when it is cheaper, as with few input features): dP_0 = (dH_1 ⊙ m_j) W_0ᵀ
// with dH_1 = dY_1 W_1ᵀ, dY_1,j = Σ_i N_ij dZ_1,i, is dY_1,j · M_u with M_u = W_1ᵀ diag(m_u) W_0ᵀ
// (din_1 × F) for the ReLU mask m_u of each distinct H_1 row u: one product of the U·F rows
// m_u ⊙ W_0ᵀ with W_1 replaces dZ_1 W_1ᵀ over every distinct dZ_1 row (1050 rows instead of
// 3713 above). Exact algebra; the rounding differs from the direct order.
//
// float32 (precision 'float32') runs the products through gcnScore's 6×16 AVX2/FMA tile (W
// and Wᵀ packed once per call), float64 through gcnTrain's 6×8 tile; the normalisation, the
// pooling, f, dN's sums and dA are in double.

template <class T>
inline uint64_t value_bits(T v) {
  if (sizeof(T) == 4) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return u;
  }
  uint64_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

// Work (multiply-adds) below which a loop stays on one thread: starting a thread costs
// ~30–50 µs, about 2^18 multiply-adds, so a loop is split from 2^20 on.
// NASRANK_GRAD_SPLIT_WORK=n in the environment (read per loop) sets it, so that tests can
// make every loop split on small batches.
constexpr size_t kGradParallelWork = size_t(1) << 20;
size_t grad_parallel_work() {
  const char* e = std::getenv("NASRANK_GRAD_SPLIT_WORK");
  if (e == nullptr || *e == '\0') return kGradParallelWork;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(e, &end, 10);
  return (end != nullptr && *end == '\0') ? static_cast<size_t>(v) : kGradParallelWork;
}

// With threads > 1 and enough work, runs fn(r0, r1) over contiguous row ranges in parallel
// and returns true; else false (the caller runs it alone). The rows are cut into 4 pieces
// per thread, handed out as threads come free, so a thread the OS deschedules on a loaded
// machine holds up the others by one small piece, not by half the work. Each row's result
// depends on the row only, so the split never changes a bit.
template <class Fn>
bool split_rows(size_t rows, size_t work_per_row, int threads, Fn fn) {
  if (threads <= 1 || rows < 2 || rows * work_per_row < grad_parallel_work()) return false;
  const size_t pieces = std::min(rows, 4 * static_cast<size_t>(threads));
  parallel_chunks_safe(rows, pieces, threads, [&](size_t, size_t r0, size_t r1) { fn(r0, r1); });
  return true;
}

// fn(r0, r1) over [0, rows): split as split_rows, or fn(0, rows) on this thread.
template <class Fn>
void for_rows(size_t rows, size_t work_per_row, int threads, Fn fn) {
  if (!split_rows(rows, work_per_row, threads, fn)) fn(0, rows);
}

// The layers' products per precision: rows (U × k, row-major) → U × n; `threads` split the rows.
template <class T> struct GradProducts;

template <> struct GradProducts<float> {
  std::vector<PackedB> w, wt;  // W_l, W_lᵀ (no bias: it is added after the aggregation)
  void init(const RankGcnParams& m) {
    const size_t L = m.dims.size() - 1;
    for (size_t l = 0; l < L; ++l) {
      const size_t din = m.dims[l], dout = m.dims[l + 1];
      std::vector<float> wf(din * dout), wtf(din * dout);
      for (size_t i = 0; i < din; ++i)
        for (size_t c = 0; c < dout; ++c) {
          wf[i * dout + c] = static_cast<float>(m.w[l][i * dout + c]);
          wtf[c * din + i] = wf[i * dout + c];
        }
      w.push_back(pack_b(wf.data(), 0, din, dout, nullptr));
      wt.push_back(pack_b(wtf.data(), 0, dout, din, nullptr));
    }
  }
  static void run(const PackedB& b, const float* a, size_t rows, float* out, std::vector<float>& ap, int threads) {
    if (split_rows(rows, b.k * b.n, threads, [&](size_t r0, size_t r1) {
          std::vector<float> local;
          run(b, a + r0 * b.k, r1 - r0, out + r0 * b.n, local, 1);
        }))
      return;
    const size_t k = b.k, n = b.n, block = round_up(kRowsTarget, kMR);
    ap.resize(block * k);
    for (size_t u0 = 0; u0 < rows; u0 += block) {
      const size_t u1 = std::min(rows, u0 + block);
      for (size_t u = u0; u < u1; ++u) put_packed_row(a + u * k, u - u0, k, ap.data());
      zero_packed_tail(u1 - u0, k, ap.data());
      gemm(ap.data(), u1 - u0, b, false, out + u0 * n, n);
    }
  }
  // Y = H W_l
  void forward(size_t l, const float* h, size_t rows, float* out, std::vector<float>& ap, int threads) const { run(w[l], h, rows, out, ap, threads); }
  // dP = dZ W_lᵀ
  void backward(size_t l, const float* dz, size_t rows, float* out, std::vector<float>& ap, int threads) const { run(wt[l], dz, rows, out, ap, threads); }
};

template <> struct GradProducts<double> {
  const RankGcnParams* m = nullptr;
  RankPacked pk;
  std::vector<std::vector<double>> wt_storage;
  std::vector<const double*> wt;
  void init(const RankGcnParams& params) {
    m = &params;
    pack_rank_weights(params, pk);
    // Wᵀ itself only for the portable loops (the AVX2 GEMM reads the packed Wᵀ).
    if (pk.wt.empty())
      wt = transposes(params, wt_storage);
    else
      wt.assign(params.dims.size() - 1, nullptr);
  }
  void forward(size_t l, const double* h, size_t rows, double* out, std::vector<double>& ap, int threads) const {
    const size_t din = m->dims[l], dout = m->dims[l + 1];
    if (split_rows(rows, din * dout, threads, [&](size_t r0, size_t r1) { forward(l, h + r0 * din, r1 - r0, out + r0 * dout, ap, 1); })) return;
    gemm_rows(h, rows, m->dims[l], m->w[l], m->dims[l + 1], out, pk.w.empty() ? nullptr : pk.w[l].data());
  }
  void backward(size_t l, const double* dz, size_t rows, double* out, std::vector<double>& ap, int threads) const {
    const size_t din = m->dims[l], dout = m->dims[l + 1];
    if (split_rows(rows, din * dout, threads, [&](size_t r0, size_t r1) { backward(l, dz + r0 * dout, r1 - r0, out + r0 * din, ap, 1); })) return;
    gemm_rows(dz, rows, m->dims[l + 1], wt[l], m->dims[l], out, pk.wt.empty() ? nullptr : pk.wt[l].data());
  }
};

// out[j] = Σ_c a[c]·b_j[c] for nb rows b_j. Each dot keeps 8 partial sums (lane c mod 8) in
// a fixed order, then ((p0 + p4) + (p1 + p5)) + ((p2 + p6) + (p3 + p7)) and the tail in order,
// so a dot's value depends on its two rows only; the AVX2 version runs four (float) or two
// (double) rows at a time for independent accumulator chains (one dot alone is bound by the
// FMA latency).
template <class T>
inline double dot_finish(const T* p, const T* a, const T* b, size_t c, size_t n) {
  T sum = ((p[0] + p[4]) + (p[1] + p[5])) + ((p[2] + p[6]) + (p[3] + p[7]));
  for (; c < n; ++c) sum += a[c] * b[c];
  return static_cast<double>(sum);
}
template <class T>
NASRANK_GCN_CLONES void dots_row_portable(const T* a, const T* const* b, size_t nb, size_t n, double* out) {
  const size_t n8 = n & ~size_t(7);
  for (size_t j = 0; j < nb; ++j) {
    const T* bj = b[j];
    T p[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t c = 0; c < n8; c += 8)
      for (size_t q = 0; q < 8; ++q) p[q] += a[c + q] * bj[c + q];
    out[j] = dot_finish(p, a, bj, n8, n);
  }
}

#if NASRANK_GCN_AVX2
// p0..p7 in one (float) or two (double: p0..p3, p4..p7) registers; t = low + high half
// gives (p0 + p4, p1 + p5, p2 + p6, p3 + p7), then (t0 + t1) + (t2 + t3) and the tail.
__attribute__((target("avx2,fma"))) inline double dot_finish_avx2(__m256 acc, const float* a, const float* b, size_t c, size_t n) {
  alignas(16) float t[4];
  _mm_store_ps(t, _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1)));
  float sum = (t[0] + t[1]) + (t[2] + t[3]);
  for (; c < n; ++c) sum += a[c] * b[c];
  return static_cast<double>(sum);
}
__attribute__((target("avx2,fma"))) inline double dot_finish_avx2(__m256d lo, __m256d hi, const double* a, const double* b, size_t c, size_t n) {
  alignas(32) double t[4];
  _mm256_store_pd(t, _mm256_add_pd(lo, hi));
  double sum = (t[0] + t[1]) + (t[2] + t[3]);
  for (; c < n; ++c) sum += a[c] * b[c];
  return sum;
}
__attribute__((target("avx2,fma"))) void dots_row_avx2(const float* a, const float* const* b, size_t nb, size_t n, double* out) {
  const size_t n8 = n & ~size_t(7);
  size_t j = 0;
  for (; j + 4 <= nb; j += 4) {
    const float *b0 = b[j], *b1 = b[j + 1], *b2 = b[j + 2], *b3 = b[j + 3];
    __m256 p0 = _mm256_setzero_ps(), p1 = p0, p2 = p0, p3 = p0;
    for (size_t c = 0; c < n8; c += 8) {
      const __m256 x = _mm256_loadu_ps(a + c);
      p0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b0 + c), p0);
      p1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b1 + c), p1);
      p2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b2 + c), p2);
      p3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b3 + c), p3);
    }
    out[j] = dot_finish_avx2(p0, a, b0, n8, n);
    out[j + 1] = dot_finish_avx2(p1, a, b1, n8, n);
    out[j + 2] = dot_finish_avx2(p2, a, b2, n8, n);
    out[j + 3] = dot_finish_avx2(p3, a, b3, n8, n);
  }
  for (; j < nb; ++j) {
    __m256 p = _mm256_setzero_ps();
    for (size_t c = 0; c < n8; c += 8) p = _mm256_fmadd_ps(_mm256_loadu_ps(a + c), _mm256_loadu_ps(b[j] + c), p);
    out[j] = dot_finish_avx2(p, a, b[j], n8, n);
  }
}
__attribute__((target("avx2,fma"))) void dots_row_avx2(const double* a, const double* const* b, size_t nb, size_t n, double* out) {
  const size_t n8 = n & ~size_t(7);
  size_t j = 0;
  for (; j + 2 <= nb; j += 2) {
    const double *b0 = b[j], *b1 = b[j + 1];
    __m256d l0 = _mm256_setzero_pd(), h0 = l0, l1 = l0, h1 = l0;
    for (size_t c = 0; c < n8; c += 8) {
      const __m256d xl = _mm256_loadu_pd(a + c), xh = _mm256_loadu_pd(a + c + 4);
      l0 = _mm256_fmadd_pd(xl, _mm256_loadu_pd(b0 + c), l0);
      h0 = _mm256_fmadd_pd(xh, _mm256_loadu_pd(b0 + c + 4), h0);
      l1 = _mm256_fmadd_pd(xl, _mm256_loadu_pd(b1 + c), l1);
      h1 = _mm256_fmadd_pd(xh, _mm256_loadu_pd(b1 + c + 4), h1);
    }
    out[j] = dot_finish_avx2(l0, h0, a, b0, n8, n);
    out[j + 1] = dot_finish_avx2(l1, h1, a, b1, n8, n);
  }
  for (; j < nb; ++j) {
    __m256d l = _mm256_setzero_pd(), h = l;
    for (size_t c = 0; c < n8; c += 8) {
      l = _mm256_fmadd_pd(_mm256_loadu_pd(a + c), _mm256_loadu_pd(b[j] + c), l);
      h = _mm256_fmadd_pd(_mm256_loadu_pd(a + c + 4), _mm256_loadu_pd(b[j] + c + 4), h);
    }
    out[j] = dot_finish_avx2(l, h, a, b[j], n8, n);
  }
}
#endif

template <class T>
void dots_row(const T* a, const T* const* b, size_t nb, size_t n, double* out) {
#if NASRANK_GCN_AVX2
  if (use_avx2()) return dots_row_avx2(a, b, nb, n, out);
#endif
  dots_row_portable(a, b, nb, n, out);
}

// out = Σ over entries e in [e0, e1): w[e] · src[id[idx[e]]] (k wide), in entry order.
template <class T>
NASRANK_GCN_CLONES void gather_sum(const uint32_t* idx, const T* w, uint32_t e0, uint32_t e1, const uint32_t* id, const T* src,
                                   size_t k, T* out) {
  for (size_t c = 0; c < k; ++c) out[c] = T(0);
  for (uint32_t e = e0; e < e1; ++e) {
    const T a = w[e];
    const T* s = src + static_cast<size_t>(id[idx[e]]) * k;
    for (size_t c = 0; c < k; ++c) out[c] += a * s[c];
  }
}

// d[c] = keep[c] > 0 ? d[c] : 0 (the ReLU mask); optionally d += bias first and keep = d.
template <class T>
NASRANK_GCN_CLONES void relu_mask(T* d, const T* keep, size_t n) {
  for (size_t c = 0; c < n; ++c) d[c] = keep[c] > T(0) ? d[c] : T(0);
}
template <class T>
NASRANK_GCN_CLONES void bias_relu(T* d, const double* bias, size_t n) {
  if (bias)
    for (size_t c = 0; c < n; ++c) d[c] += static_cast<T>(bias[c]);
  for (size_t c = 0; c < n; ++c) d[c] = d[c] > T(0) ? d[c] : T(0);
}
template <class T>
bool all_zero(const T* d, size_t n) {
  for (size_t c = 0; c < n; ++c)
    if (d[c] != T(0)) return false;
  return true;
}

// Whether the lowest layer's backward takes the M_u form: decided by the widths alone (never by
// the data or the sub-batch), so results do not depend on chunking or dedup. It costs U_1·F
// rows of the layer-1 product against one row per distinct dZ_1 (at least U_1, in practice
// several times more), so it pays when F is small against the width.
bool lowest_form(const RankGcnParams& m) { return m.dims.size() >= 3 && 4 * m.dims[0] <= m.dims[1]; }

constexpr size_t kMaxGradV = 32;  // dA's per-graph N and degrees on the stack up to this V
// Entries per CSR row assumed when sizing an aggregation's work for for_rows (only decides
// whether a loop is split, never a result).
constexpr size_t kAggWork = 4;

// An uninitialised array in a ScratchBlock: the blocks go back to the process-wide scratch
// cache (scratch.h) when the call ends, so repeated calls (the ML pools call once per ascent
// step) reuse memory that is already mapped instead of faulting in fresh pages.
template <class T>
struct ScratchArray {
  std::unique_ptr<ScratchBlock> block;
  // At least n elements; the previous contents are not kept.
  T* get(size_t n) {
    const size_t bytes = std::max<size_t>(n, 1) * sizeof(T);
    if (!block || block->capacity() < bytes) {
      block.reset();
      block.reset(new ScratchBlock(bytes));
    }
    return data();
  }
  T* data() const { return reinterpret_cast<T*>(block->data()); }
  T& operator[](size_t i) const { return data()[i]; }
};

template <class T>
struct GradScratch {
  std::vector<uint32_t> row_ptr, col, col_ptr, crow, graph_row, vert, table, rep, fill, at;
  std::vector<T> val, cval, ap;
  ScratchArray<T> dz, dp, tmp, wb, mt;
  std::vector<double> pool, r, sq;
  ScratchArray<double> dn;
  std::vector<uint64_t> hashes;
  std::vector<std::vector<uint32_t>> fid;  // per level 0..L: H_l id of each row
  std::vector<ScratchArray<T>> h, y;       // per level: distinct rows of H_l; Y_l = H_l W_l
  std::vector<std::vector<uint8_t>> yzero; // per level: Y_l row all zero
  std::vector<uint8_t> dzero;              // dZ row all zero
  std::vector<uint32_t> bz, bz_next;
  std::vector<uint8_t> real;
};

// Interns rows [0, rows): equal keys → one id (dedup), or every row its own id.
template <class Hash, class Eq, class S>
size_t intern_or_identity(bool dedup, size_t rows, Hash hash, Eq eq, S& s, uint32_t* id) {
  s.rep.resize(std::max<size_t>(rows, 1));
  if (dedup) return intern_rows(rows, hash, eq, s.table, s.hashes, id, s.rep.data());
  for (size_t r = 0; r < rows; ++r) id[r] = s.rep[r] = static_cast<uint32_t>(r);
  return rows;
}

// dN_ij += a_i · b_j over each graph's real pairs (a rows by ida, b rows by idb, k wide);
// pairs where either row is all zero are skipped (their dot is 0).
template <class T>
void add_pair_dots(const GradScratch<T>& s, size_t cn, size_t V, const T* a, const uint32_t* ida, const uint8_t* zero_a,
                   const T* b, const uint32_t* idb, const uint8_t* zero_b, size_t k, double* dn_all, int threads, size_t g0 = 0,
                   size_t g1 = SIZE_MAX) {
  if (g1 == SIZE_MAX) {
    g1 = cn;
    if (split_rows(cn, V * V * k, threads, [&](size_t r0, size_t r1) {
          add_pair_dots(s, cn, V, a, ida, zero_a, b, idb, zero_b, k, dn_all, 1, r0, r1);
        }))
      return;
  }
  std::vector<const T*> bj(V);
  std::vector<uint32_t> vj(V);
  std::vector<double> d(V);
  for (size_t g = g0; g < g1; ++g) {
    const size_t r0 = s.graph_row[g], r1 = s.graph_row[g + 1];
    double* dn = dn_all + g * V * V;
    size_t nb = 0;
    for (size_t j = r0; j < r1; ++j)
      if (!zero_b[idb[j]]) {
        bj[nb] = b + static_cast<size_t>(idb[j]) * k;
        vj[nb++] = s.vert[j];
      }
    if (nb == 0) continue;
    for (size_t i = r0; i < r1; ++i) {
      if (zero_a[ida[i]]) continue;
      dots_row(a + static_cast<size_t>(ida[i]) * k, bj.data(), nb, k, d.data());
      double* dr = dn + s.vert[i] * V;
      for (size_t q = 0; q < nb; ++q) dr[vj[q]] += d[q];
    }
  }
}

template <class T>
NASRANK_GCN_CLONES void score_grad_chunk(const GcnGraphs& g, const RankGcnParams& m, const GradProducts<T>& prod, size_t begin,
                                         size_t end, bool dedup, double* f, double* dA, double* dX, GradScratch<T>& s, int threads) {
  const size_t V = g.vertices, F = g.features, L = m.dims.size() - 1, W = m.dims.back();
  const bool row_norm = m.variant.norm_row;
  const size_t cn = end - begin;
  // 1. Real rows, N (CSR by row, CSC by column; both in index order), pooling weights.
  s.row_ptr.assign(1, 0);
  s.col.clear();
  s.val.clear();
  s.graph_row.assign(1, 0);
  s.vert.clear();
  s.pool.clear();
  s.real.resize(V);
  s.sq.resize(V);
  s.at.resize(V);
  size_t rows = 0;
  for (size_t gi = begin; gi < end; ++gi) {
    const float* mask = g.mask + gi * V;
    const float* adj = g.adjacency + gi * V * V;
    size_t count = 0;
    for (size_t v = 0; v < V; ++v) {
      s.real[v] = (m.variant.pool_all || mask[v] != 0.0f) ? 1 : 0;
      if (s.real[v]) s.at[v] = static_cast<uint32_t>(rows + count++);
    }
    for (size_t i = 0; i < V; ++i) {
      if (!s.real[i]) continue;
      double d = 1.0;
      for (size_t j = 0; j < V; ++j)
        if (s.real[j]) d += adj[i * V + j];
      s.sq[i] = 1.0 / std::sqrt(d);
    }
    for (size_t i = 0; i < V; ++i) {
      if (!s.real[i]) continue;
      for (size_t j = 0; j < V; ++j) {
        if (!s.real[j]) continue;
        const double a = static_cast<double>(adj[i * V + j]) + (i == j ? 1.0 : 0.0);
        if (a == 0.0) continue;
        s.col.push_back(s.at[j]);
        s.val.push_back(static_cast<T>(row_norm ? a * s.sq[i] : a * s.sq[i] * s.sq[j]));
      }
      s.row_ptr.push_back(static_cast<uint32_t>(s.col.size()));
      s.vert.push_back(static_cast<uint32_t>(i));
      s.pool.push_back(1.0 / static_cast<double>(count));
    }
    rows += count;
    s.graph_row.push_back(static_cast<uint32_t>(rows));
  }
  const size_t nnz = s.col.size();
  s.col_ptr.assign(rows + 1, 0);
  for (size_t e = 0; e < nnz; ++e) ++s.col_ptr[s.col[e] + 1];
  for (size_t r = 0; r < rows; ++r) s.col_ptr[r + 1] += s.col_ptr[r];
  s.crow.resize(nnz);
  s.cval.resize(nnz);
  s.fill.assign(s.col_ptr.begin(), s.col_ptr.end() - 1);
  for (size_t i = 0; i < rows; ++i)
    for (uint32_t e = s.row_ptr[i]; e < s.row_ptr[i + 1]; ++e) {
      const uint32_t q = s.fill[s.col[e]]++;
      s.crow[q] = static_cast<uint32_t>(i);
      s.cval[q] = s.val[e];
    }
  const uint32_t* row_ptr = s.row_ptr.data();
  const uint32_t* col = s.col.data();
  const T* val = s.val.data();
  const uint32_t* col_ptr = s.col_ptr.data();
  const uint32_t* crow = s.crow.data();
  const T* cval = s.cval.data();

  // 2. Forward: distinct rows per level.
  s.fid.resize(L + 1);
  s.h.resize(L + 1);
  s.y.resize(L);
  s.yzero.resize(L + 1);
  std::vector<size_t> distinct(L + 1);
  for (auto& v : s.fid) v.resize(std::max<size_t>(rows, 1));
  {
    s.tmp.get(rows * F);
    for (size_t r = 0, k = 0; k < cn; ++k)
      for (; r < s.graph_row[k + 1]; ++r)
        for (size_t c = 0; c < F; ++c) s.tmp[r * F + c] = static_cast<T>(g.x[((begin + k) * V + s.vert[r]) * F + c]);
    const T* xr = s.tmp.data();
    const size_t u = intern_or_identity(
        dedup, rows,
        [&](size_t q) {
          uint64_t hsh = F;
          for (size_t c = 0; c < F; ++c) hsh = mix64(hsh, value_bits(xr[q * F + c]));
          return hsh;
        },
        [&](size_t a, size_t b) { return std::memcmp(xr + a * F, xr + b * F, F * sizeof(T)) == 0; }, s, s.fid[0].data());
    distinct[0] = u;
    s.h[0].get(u * F);
    for (size_t q = 0; q < u; ++q) std::memcpy(s.h[0].data() + q * F, xr + static_cast<size_t>(s.rep[q]) * F, F * sizeof(T));
  }
  for (size_t l = 0; l < L; ++l) {
    const size_t din = m.dims[l], dout = m.dims[l + 1];
    const size_t ul = distinct[l];
    s.y[l].get(ul * dout);
    prod.forward(l, s.h[l].data(), ul, s.y[l].data(), s.ap, threads);
    s.yzero[l].resize(std::max<size_t>(ul, 1));
    for (size_t q = 0; q < ul; ++q) s.yzero[l][q] = all_zero(s.y[l].data() + q * dout, dout);
    const uint32_t* prev = s.fid[l].data();
    const size_t u = intern_or_identity(
        dedup, rows,
        [&](size_t q) {
          uint64_t hsh = row_ptr[q + 1] - row_ptr[q];
          for (uint32_t e = row_ptr[q]; e < row_ptr[q + 1]; ++e) hsh = mix64(mix64(hsh, value_bits(val[e])), prev[col[e]]);
          return hsh;
        },
        [&](size_t a, size_t b) {
          const uint32_t la = row_ptr[a + 1] - row_ptr[a];
          if (la != row_ptr[b + 1] - row_ptr[b]) return false;
          for (uint32_t i = 0; i < la; ++i) {
            const uint32_t ea = row_ptr[a] + i, eb = row_ptr[b] + i;
            if (value_bits(val[ea]) != value_bits(val[eb]) || prev[col[ea]] != prev[col[eb]]) return false;
          }
          return true;
        },
        s, s.fid[l + 1].data());
    distinct[l + 1] = u;
    s.h[l + 1].get(u * dout);
    const double* bl = m.b.empty() ? nullptr : m.b[l];
    const uint32_t* reps = s.rep.data();
    const T* yl = s.y[l].data();
    T* hn = s.h[l + 1].data();
    for_rows(u, kAggWork * dout, threads, [&](size_t q0, size_t q1) {
      for (size_t q = q0; q < q1; ++q) {
        const uint32_t rr = reps[q];
        T* hq = hn + q * dout;
        gather_sum(col, val, row_ptr[rr], row_ptr[rr + 1], prev, yl, dout, hq);
        bias_relu(hq, bl, dout);
      }
    });
    (void)din;
  }

  // 3. Scores: the pooled mean (double, in vertex order), then the FC.
  for_rows(cn, V * W, threads, [&](size_t k0, size_t k1) {
    std::vector<double> r(W);
    for (size_t k = k0; k < k1; ++k) {
      const size_t r0 = s.graph_row[k], r1 = s.graph_row[k + 1];
      for (size_t c = 0; c < W; ++c) r[c] = 0.0;
      for (size_t q = r0; q < r1; ++q) {
        const T* hr = s.h[L].data() + static_cast<size_t>(s.fid[L][q]) * W;
        for (size_t c = 0; c < W; ++c) r[c] += static_cast<double>(hr[c]);
      }
      const double inv = r1 > r0 ? s.pool[r0] : 0.0;
      double sc = 0.0;
      for (size_t c = 0; c < W; ++c) {
        r[c] *= inv;
        sc += r[c] * m.fc[c];
      }
      f[begin + k] = sc + m.fc_b;
    }
  });

  // 4. Backward.
  s.bz.resize(std::max<size_t>(rows, 1));
  s.bz_next.resize(std::max<size_t>(rows, 1));
  const uint32_t* top = s.fid[L].data();
  size_t ub = intern_or_identity(
      dedup, rows, [&](size_t q) { return mix64(top[q], value_bits(s.pool[q])); },
      [&](size_t a, size_t b) { return top[a] == top[b] && s.pool[a] == s.pool[b]; }, s, s.bz.data());
  s.dz.get(ub * W);
  s.dzero.resize(std::max<size_t>(ub, 1));
  for_rows(ub, 2 * W, threads, [&](size_t q0, size_t q1) {
    for (size_t q = q0; q < q1; ++q) {
      const uint32_t rr = s.rep[q];
      T* d = s.dz.data() + q * W;
      for (size_t c = 0; c < W; ++c) d[c] = static_cast<T>(m.fc[c] * s.pool[rr]);
      relu_mask(d, s.h[L].data() + static_cast<size_t>(top[rr]) * W, W);
      s.dzero[q] = all_zero(d, W);
    }
  });
  double* dn0 = s.dn.get(cn * V * V);
  for_rows(cn, V * V, threads, [&](size_t k0, size_t k1) { std::fill(dn0 + k0 * V * V, dn0 + k1 * V * V, 0.0); });
  bool have_dp0 = false;  // dP_0 of the distinct rows (bz) already computed (the lowest-layer form)
  for (size_t l = L; l-- > 0;) {
    const size_t din = m.dims[l], dout = m.dims[l + 1];
    const uint32_t* fl = s.fid[l].data();
    if (!have_dp0) {
      // dN_ij += dZ_l,i · Y_l,j
      add_pair_dots(s, cn, V, s.dz.data(), s.bz.data(), s.dzero.data(), s.y[l].data(), fl, s.yzero[l].data(), dout, s.dn.data(), threads);
    }
    if (l == 0) {
      const uint32_t* bz = s.bz.data();
      if (!have_dp0) {
        s.dp.get(ub * din);
        prod.backward(0, s.dz.data(), ub, s.dp.data(), s.ap, threads);
      } else {
        // dN_ij += dP_0,i · X_j (dP_0 from the lowest-layer form)
        std::vector<uint8_t>& xzero = s.yzero[L];  // (level L has no Y)
        xzero.resize(std::max<size_t>(distinct[0], 1));
        for (size_t q = 0; q < distinct[0]; ++q) xzero[q] = all_zero(s.h[0].data() + q * din, din);
        s.dzero.resize(std::max<size_t>(ub, 1));
        for (size_t q = 0; q < ub; ++q) s.dzero[q] = all_zero(s.dp.data() + q * din, din);
        add_pair_dots(s, cn, V, s.dp.data(), bz, s.dzero.data(), s.h[0].data(), fl, xzero.data(), din, s.dn.data(), threads);
      }
      // dX_j = Σ_i N_ij dP_0,i
      for_rows(cn, kAggWork * V * F, threads, [&](size_t k0, size_t k1) {
        std::vector<T> t(F);
        std::fill(dX + (begin + k0) * V * F, dX + (begin + k1) * V * F, 0.0);  // padding rows
        for (size_t k = k0; k < k1; ++k)
          for (size_t j = s.graph_row[k]; j < s.graph_row[k + 1]; ++j) {
            gather_sum(crow, cval, col_ptr[j], col_ptr[j + 1], bz, s.dp.data(), F, t.data());
            double* out = dX + ((begin + k) * V + s.vert[j]) * F;
            for (size_t c = 0; c < F; ++c) out[c] = static_cast<double>(t[c]);
          }
      });
      break;
    }
    // The next level's keys: (H_l id, the ordered (N_ij, dZ_l id of i) over column j).
    const uint32_t* bz = s.bz.data();
    const size_t un = intern_or_identity(
        dedup, rows,
        [&](size_t q) {
          uint64_t hsh = mix64(col_ptr[q + 1] - col_ptr[q], fl[q]);
          for (uint32_t e = col_ptr[q]; e < col_ptr[q + 1]; ++e) hsh = mix64(mix64(hsh, value_bits(cval[e])), bz[crow[e]]);
          return hsh;
        },
        [&](size_t a, size_t b) {
          if (fl[a] != fl[b]) return false;
          const uint32_t la = col_ptr[a + 1] - col_ptr[a];
          if (la != col_ptr[b + 1] - col_ptr[b]) return false;
          for (uint32_t i = 0; i < la; ++i) {
            const uint32_t ea = col_ptr[a] + i, eb = col_ptr[b] + i;
            if (value_bits(cval[ea]) != value_bits(cval[eb]) || bz[crow[ea]] != bz[crow[eb]]) return false;
          }
          return true;
        },
        s, s.bz_next.data());
    const size_t F0 = m.dims[0];
    if (l == 1 && lowest_form(m)) {
      // The lowest-layer form: Mt[(u, f)] = (m_u ⊙ W_0ᵀ[f]) W_1, dP_0,j = [dY_1,j · Mt[(u_j, f)]]_f.
      const size_t u1 = distinct[1];
      s.wb.get(u1 * F0 * din);
      for (size_t u = 0; u < u1; ++u) {
        const T* hu = s.h[1].data() + u * din;
        for (size_t ff = 0; ff < F0; ++ff) {
          T* row = s.wb.data() + (u * F0 + ff) * din;
          for (size_t c = 0; c < din; ++c) row[c] = hu[c] > T(0) ? static_cast<T>(m.w[0][ff * din + c]) : T(0);
        }
      }
      const T* mt = s.mt.get(u1 * F0 * dout);
      prod.forward(1, s.wb.data(), u1 * F0, s.mt.data(), s.ap, threads);
      s.dp.get(un * F0);
      for_rows(un, (kAggWork + F0) * dout, threads, [&](size_t q0, size_t q1) {
        std::vector<T> t(dout);
        std::vector<const T*> mrows(F0);
        std::vector<double> mdots(F0);
        for (size_t q = q0; q < q1; ++q) {
          const uint32_t j = s.rep[q];
          gather_sum(crow, cval, col_ptr[j], col_ptr[j + 1], bz, s.dz.data(), dout, t.data());
          const T* mu = mt + static_cast<size_t>(fl[j]) * F0 * dout;
          for (size_t ff = 0; ff < F0; ++ff) mrows[ff] = mu + ff * dout;
          dots_row(t.data(), mrows.data(), F0, dout, mdots.data());
          for (size_t ff = 0; ff < F0; ++ff) s.dp[q * F0 + ff] = static_cast<T>(mdots[ff]);
        }
      });
      std::swap(s.bz, s.bz_next);
      ub = un;
      have_dp0 = true;
      continue;
    }
    s.dp.get(ub * din);
    prod.backward(l, s.dz.data(), ub, s.dp.data(), s.ap, threads);
    s.tmp.get(un * din);  // dZ_{l−1} of the distinct rows
    s.dzero.resize(std::max<size_t>(un, 1));
    for_rows(un, (kAggWork + 2) * din, threads, [&](size_t q0, size_t q1) {
      for (size_t q = q0; q < q1; ++q) {
        const uint32_t j = s.rep[q];
        T* d = s.tmp.data() + q * din;
        gather_sum(crow, cval, col_ptr[j], col_ptr[j + 1], bz, s.dp.data(), din, d);
        relu_mask(d, s.h[l].data() + static_cast<size_t>(fl[j]) * din, din);
        s.dzero[q] = all_zero(d, din);
      }
    });
    std::swap(s.dz, s.tmp);
    std::swap(s.bz, s.bz_next);
    ub = un;
  }

  // 5. dA from dN through Ã and D̃ (double), per graph.
  for_rows(cn, 4 * V * V, threads, [&](size_t k0, size_t k1) {
    std::vector<uint8_t> real(V);
    std::vector<double> sq(V);
    for (size_t k = k0; k < k1; ++k) {
      const size_t gi = begin + k;
      const float* mask = g.mask + gi * V;
      const float* adj = g.adjacency + gi * V * V;
      for (size_t v = 0; v < V; ++v) real[v] = (m.variant.pool_all || mask[v] != 0.0f) ? 1 : 0;
      double nn[kMaxGradV * kMaxGradV], deg[kMaxGradV];
      const bool small = V <= kMaxGradV;
      std::vector<double> nn_big(small ? 0 : V * V), deg_big(small ? 0 : V);
      double* N = small ? nn : nn_big.data();
      double* D = small ? deg : deg_big.data();
      for (size_t i = 0; i < V; ++i) {
        D[i] = 0.0;
        if (!real[i]) continue;
        double d = 1.0;
        for (size_t j = 0; j < V; ++j)
          if (real[j]) d += adj[i * V + j];
        D[i] = d;
        sq[i] = 1.0 / std::sqrt(d);
      }
      for (size_t i = 0; i < V; ++i)
        for (size_t j = 0; j < V; ++j) {
          const double a = static_cast<double>(adj[i * V + j]) + (i == j ? 1.0 : 0.0);
          N[i * V + j] = (real[i] && real[j]) ? (row_norm ? a * sq[i] : a * sq[i] * sq[j]) : 0.0;
        }
      const double* dn = s.dn.data() + k * V * V;
      double* out = dA + gi * V * V;
      for (size_t t = 0; t < V * V; ++t) out[t] = 0.0;
      for (size_t i = 0; i < V; ++i) {
        if (!real[i]) continue;
        const double si = sq[i];
        double rs = 0.0;
        for (size_t b = 0; b < V; ++b) rs += dn[i * V + b] * N[i * V + b];
        if (row_norm) {
          // N_ij = Ã_ij s_i: dÃ_ij = dN_ij s_i − ½ s_i² Σ_b dN_ib N_ib
          for (size_t j = 0; j < V; ++j)
            if (real[j]) out[i * V + j] = dn[i * V + j] * si - 0.5 * si * si * rs;
        } else {
          double cs = 0.0;
          for (size_t q = 0; q < V; ++q) cs += dn[q * V + i] * N[q * V + i];
          for (size_t j = 0; j < V; ++j)
            if (real[j]) out[i * V + j] = dn[i * V + j] * si / std::sqrt(D[j]) - 0.5 * si * si * (rs + cs);
        }
      }
    }
  });
}

// Graphs per sub-batch (the bigger, the more rows repeat), capped for memory.
constexpr size_t kGradChunkGraphs = 4096;

template <class T>
void score_grad(const GcnGraphs& graphs, const RankGcnParams& m, double* f, double* dA, double* dX, int threads, bool dedup) {
  const size_t n = graphs.count;
  GradProducts<T> prod;
  prod.init(m);
  const size_t workers = static_cast<size_t>(std::max(threads, 1));
  const size_t chunks = (n + kGradChunkGraphs - 1) / kGradChunkGraphs;
  if (chunks >= workers) {
    // Many graphs: whole sub-batches per thread.
    parallel_chunks_safe(n, chunks, threads, [&](size_t, size_t begin, size_t end) {
      GradScratch<T> s;
      score_grad_chunk<T>(graphs, m, prod, begin, end, dedup, f, dA, dX, s, 1);
    });
    return;
  }
  // Fewer sub-batches than threads (the ML pools: 100 or 1000 graphs): one sub-batch at a time,
  // its products and pair dots split over the threads (more rows repeat within one sub-batch
  // than within per-thread ones).
  for (size_t c = 0; c < chunks; ++c) {
    GradScratch<T> s;
    score_grad_chunk<T>(graphs, m, prod, n * c / chunks, n * (c + 1) / chunks, dedup, f, dA, dX, s, threads);
  }
}


}  // namespace

namespace {
#if NASRANK_GCN_AVX2
// exp(x) for x in [−708, 0] (callers clamp; lanes below are zeroed by them): x = k ln2 + r,
// |r| ≤ ½ ln2, e^r by its Taylor polynomial of degree 13 (truncation < 4e-18 relative),
// times 2^k built in the exponent bits. Within a few ulp of std::exp.
__attribute__((target("avx2,fma"))) inline __m256d exp_neg_avx2(__m256d x) {
  const __m256d k = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(1.4426950408889634)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(k, _mm256_set1_pd(6.93147180369123816490e-01), x);
  r = _mm256_fnmadd_pd(k, _mm256_set1_pd(1.90821492927058770002e-10), r);
  // Estrin's scheme (a short dependency chain; the loss loop is latency-bound otherwise).
  const __m256d r2 = _mm256_mul_pd(r, r), r4 = _mm256_mul_pd(r2, r2), r8 = _mm256_mul_pd(r4, r4);
  const __m256d q0 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0), _mm256_set1_pd(1.0));
  const __m256d q1 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 6.0), _mm256_set1_pd(0.5));
  const __m256d q2 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 120.0), _mm256_set1_pd(1.0 / 24.0));
  const __m256d q3 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 5040.0), _mm256_set1_pd(1.0 / 720.0));
  const __m256d q4 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 362880.0), _mm256_set1_pd(1.0 / 40320.0));
  const __m256d q5 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 39916800.0), _mm256_set1_pd(1.0 / 3628800.0));
  const __m256d q6 = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 6227020800.0), _mm256_set1_pd(1.0 / 479001600.0));
  const __m256d s0 = _mm256_fmadd_pd(q1, r2, q0), s1 = _mm256_fmadd_pd(q3, r2, q2), s2 = _mm256_fmadd_pd(q5, r2, q4);
  const __m256d t0 = _mm256_fmadd_pd(s1, r4, s0), t1 = _mm256_fmadd_pd(q6, r4, s2);
  const __m256d p = _mm256_fmadd_pd(t1, r8, t0);
  // 2^k for k in [−1021, 0]: biased exponent k + 1023 ≥ 2, a normal number.
  const __m256i ki = _mm256_cvtepi32_epi64(_mm256_cvtpd_epi32(k));
  const __m256i bits = _mm256_slli_epi64(_mm256_add_epi64(ki, _mm256_set1_epi64x(1023)), 52);
  return _mm256_mul_pd(p, _mm256_castsi256_pd(bits));
}

// log(u) for u in [1, 2] (fdlibm's e_log.c for exponent 0 or, above √2, u/2 with k = 1:
// f = u − 1 exactly, s = f/(2 + f), the minimax polynomial Lg1..Lg7 in s²; < 1 ulp).
__attribute__((target("avx2,fma"))) inline __m256d log_1_2_avx2(__m256d u) {
  const __m256d one = _mm256_set1_pd(1.0);
  const __m256d big = _mm256_cmp_pd(u, _mm256_set1_pd(1.41421356237309504880), _CMP_GT_OQ);
  const __m256d kf = _mm256_and_pd(big, one);
  const __m256d f = _mm256_sub_pd(_mm256_blendv_pd(u, _mm256_mul_pd(u, _mm256_set1_pd(0.5)), big), one);
  const __m256d s = _mm256_div_pd(f, _mm256_add_pd(_mm256_set1_pd(2.0), f));
  const __m256d z = _mm256_mul_pd(s, s), w = _mm256_mul_pd(z, z);
  __m256d t1 = _mm256_fmadd_pd(w, _mm256_set1_pd(1.531383769920937332e-01), _mm256_set1_pd(2.222219843214978396e-01));
  t1 = _mm256_fmadd_pd(w, t1, _mm256_set1_pd(3.999999999940941908e-01));
  t1 = _mm256_mul_pd(w, t1);
  __m256d t2 = _mm256_fmadd_pd(w, _mm256_set1_pd(1.479819860511658591e-01), _mm256_set1_pd(1.818357216161805012e-01));
  t2 = _mm256_fmadd_pd(w, t2, _mm256_set1_pd(2.857142874366239149e-01));
  t2 = _mm256_fmadd_pd(w, t2, _mm256_set1_pd(6.666666666666735130e-01));
  t2 = _mm256_mul_pd(z, t2);
  const __m256d R = _mm256_add_pd(t2, t1);
  const __m256d hfsq = _mm256_mul_pd(_mm256_set1_pd(0.5), _mm256_mul_pd(f, f));
  // k ln2_hi − ((hfsq − (s (hfsq + R) + k ln2_lo)) − f)
  const __m256d inner = _mm256_fmadd_pd(kf, _mm256_set1_pd(1.90821492927058770002e-10), _mm256_mul_pd(s, _mm256_add_pd(hfsq, R)));
  return _mm256_sub_pd(_mm256_mul_pd(kf, _mm256_set1_pd(6.93147180369123816490e-01)), _mm256_sub_pd(_mm256_sub_pd(hfsq, inner), f));
}

// ordered_pair_loss with four j per step: e = exp(−|d|) and log1p(e) = log(u) + c/u (u = 1 + e
// rounded, c = e − (u − 1) its exact rounding error, as fdlibm's log1p corrects), σ from
// 1/u. exp(−|d|) without a per-pair exp: with x_k = exp(f_k − max f) and 1/x_k computed once
// per item, exp(−|d|) = min(x_i, x_j) / max(x_i, x_j), one product; lanes where either
// f − max f < −700 (x subnormal or zero) take exp_neg_avx2 instead. Per-pair values agree with the scalar path to a few ulp; the sums run in four lanes
// (a fixed order). f, acc are padded to a multiple of 4 (the padding lanes are masked out).
__attribute__((target("avx2,fma"))) double ordered_pair_loss_avx2(const double* f, const double* acc, size_t n, bool ties_ignore,
                                                                  double* grad, size_t* pairs) {
  const size_t np = round_up(n, 4);
  std::vector<double> fp(np, 0.0), ap(np, 0.0), gp(np, 0.0), xp(np, 1.0), ip(np, 1.0);
  std::memcpy(fp.data(), f, n * sizeof(double));
  std::memcpy(ap.data(), acc, n * sizeof(double));
  const double fmax = *std::max_element(f, f + n);
  for (size_t k = 0; k < n; ++k) {
    if (f[k] - fmax >= -700.0) {
      xp[k] = std::exp(f[k] - fmax);
      ip[k] = 1.0 / xp[k];
    } else {
      xp[k] = 0.0;  // marks the exp fallback
    }
  }
  const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
  const __m256d sign = _mm256_set1_pd(-0.0), lo = _mm256_set1_pd(-708.0);
  const __m256d lane = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
  __m256d loss = zero;
  size_t count = 0;
  for (size_t i = 0; i + 1 < n; ++i) {
    const __m256d fi = _mm256_set1_pd(fp[i]), ai = _mm256_set1_pd(ap[i]);
    const __m256d xi = _mm256_set1_pd(xp[i]), ii = _mm256_set1_pd(ip[i]);
    __m256d gi = zero;
    const size_t j0 = (i + 1) & ~size_t(3);
    for (size_t j = j0; j < n; j += 4) {
      // lanes j' with i < j' < n
      const __m256d idx = _mm256_add_pd(_mm256_set1_pd(static_cast<double>(j)), lane);
      __m256d valid = _mm256_and_pd(_mm256_cmp_pd(idx, _mm256_set1_pd(static_cast<double>(i)), _CMP_GT_OQ),
                                    _mm256_cmp_pd(idx, _mm256_set1_pd(static_cast<double>(n)), _CMP_LT_OQ));
      const __m256d aj = _mm256_loadu_pd(ap.data() + j);
      if (ties_ignore) valid = _mm256_and_pd(valid, _mm256_cmp_pd(ai, aj, _CMP_NEQ_UQ));
      const int vm = _mm256_movemask_pd(valid);
      if (vm == 0) continue;
      count += 2 * static_cast<size_t>(__builtin_popcount(static_cast<unsigned>(vm)));
      const __m256d d = _mm256_sub_pd(fi, _mm256_loadu_pd(fp.data() + j));
      const __m256d xj = _mm256_loadu_pd(xp.data() + j);
      const __m256d dge = _mm256_cmp_pd(d, zero, _CMP_GE_OQ);
      // d ≥ 0: x_j / x_i; else x_i / x_j.
      __m256d e = _mm256_blendv_pd(_mm256_mul_pd(xi, _mm256_loadu_pd(ip.data() + j)), _mm256_mul_pd(xj, ii), dge);
      const __m256d slow = _mm256_or_pd(_mm256_cmp_pd(xi, zero, _CMP_EQ_OQ), _mm256_cmp_pd(xj, zero, _CMP_EQ_OQ));
      if (_mm256_movemask_pd(_mm256_and_pd(slow, valid)) != 0) {
        const __m256d nad = _mm256_or_pd(d, sign);  // −|d|
        const __m256d under = _mm256_cmp_pd(nad, lo, _CMP_LT_OQ);
        e = _mm256_blendv_pd(e, _mm256_andnot_pd(under, exp_neg_avx2(_mm256_max_pd(nad, lo))), slow);
      }
      const __m256d u = _mm256_add_pd(one, e);
      const __m256d r = _mm256_div_pd(one, u);
      const __m256d c = _mm256_sub_pd(e, _mm256_sub_pd(u, one));
      const __m256d lp = _mm256_fmadd_pd(c, r, log_1_2_avx2(u));
      const __m256d sp_pos = _mm256_add_pd(_mm256_max_pd(d, zero), lp);                       // softplus(d)
      const __m256d sp_neg = _mm256_add_pd(_mm256_max_pd(_mm256_sub_pd(zero, d), zero), lp);  // softplus(−d)
      const __m256d er = _mm256_mul_pd(e, r);
      const __m256d dneg = _mm256_cmp_pd(d, zero, _CMP_LE_OQ);
      const __m256d sig = _mm256_blendv_pd(er, r, dge);       // σ(d)
      const __m256d sig_neg = _mm256_blendv_pd(er, r, dneg);  // σ(−d)
      const __m256d yij = _mm256_cmp_pd(ai, aj, _CMP_GE_OQ), yji = _mm256_cmp_pd(aj, ai, _CMP_GE_OQ);
      const __m256d l = _mm256_add_pd(_mm256_blendv_pd(sp_pos, sp_neg, yij), _mm256_blendv_pd(sp_neg, sp_pos, yji));
      loss = _mm256_add_pd(loss, _mm256_and_pd(valid, l));
      const __m256d gij = _mm256_sub_pd(sig, _mm256_and_pd(yij, one));
      const __m256d gji = _mm256_sub_pd(sig_neg, _mm256_and_pd(yji, one));
      const __m256d diff = _mm256_and_pd(valid, _mm256_sub_pd(gij, gji));
      gi = _mm256_add_pd(gi, diff);
      _mm256_storeu_pd(gp.data() + j, _mm256_sub_pd(_mm256_loadu_pd(gp.data() + j), diff));
    }
    alignas(32) double g4[4];
    _mm256_store_pd(g4, gi);
    gp[i] += (g4[0] + g4[1]) + (g4[2] + g4[3]);
  }
  alignas(32) double l4[4];
  _mm256_store_pd(l4, loss);
  if (pairs) *pairs = count;
  if (count == 0) {
    for (size_t i = 0; i < n; ++i) grad[i] = 0.0;
    return 0.0;
  }
  const double inv = static_cast<double>(count);
  for (size_t i = 0; i < n; ++i) grad[i] = gp[i] / inv;
  return ((l4[0] + l4[1]) + (l4[2] + l4[3])) / inv;
}
#endif
}  // namespace

double ordered_pair_loss(const double* f, const double* acc, size_t n, bool ties_ignore, double* grad, size_t* pairs) {
#if NASRANK_GCN_AVX2
  if (use_avx2()) return ordered_pair_loss_avx2(f, acc, n, ties_ignore, grad, pairs);
#endif
  // Each unordered pair {i, j} once: both orders share d = f_i − f_j up to sign, so one
  // e = exp(−|d|) and one log1p(e) give softplus(±d) = max(±d, 0) + log1p(e) and σ(d)
  // (the same values, bit for bit, as computing each order on its own).
  for (size_t i = 0; i < n; ++i) grad[i] = 0.0;
  double loss = 0.0;
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    const double fi = f[i], ai = acc[i];
    double gi = 0.0;
    for (size_t j = i + 1; j < n; ++j) {
      const double aj = acc[j];
      if (ties_ignore && ai == aj) continue;
      const double d = fi - f[j];
      const double e = std::exp(-std::fabs(d));
      const double lp = std::log1p(e);
      const double sp_pos = (d > 0 ? d : 0.0) + lp;   // softplus(d) = −ln(1 − σ(d))
      const double sp_neg = (d < 0 ? -d : 0.0) + lp;  // softplus(−d) = −ln σ(d)
      const double sig = d >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
      const double sig_neg = d <= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);  // σ(−d)
      // (i, j): y = [acc_i ≥ acc_j]; (j, i): y = [acc_j ≥ acc_i].
      const bool yij = ai >= aj, yji = aj >= ai;
      loss += (yij ? sp_neg : sp_pos) + (yji ? sp_pos : sp_neg);
      const double gij = sig - (yij ? 1.0 : 0.0);
      const double gji = sig_neg - (yji ? 1.0 : 0.0);
      gi += gij - gji;
      grad[j] += gji - gij;
      count += 2;
    }
    grad[i] += gi;
  }
  if (pairs) *pairs = count;
  if (count == 0) return 0.0;
  const double inv = static_cast<double>(count);
  for (size_t i = 0; i < n; ++i) grad[i] /= inv;
  return loss / inv;
}

void gcn_train(const GcnGraphs& graphs, const uint32_t* idx, size_t n, const double* acc, RankGcnParams& m,
               const RankTrainSettings& s, double* losses, int threads, const volatile int32_t* abort) {
  if (n < 2) throw std::invalid_argument("the pairwise loss needs at least 2 graphs");
  RankInputs in;
  rank_inputs(graphs, idx, n, m.variant, in);
  RankActs a;
  rank_alloc(m, n, a);
  const size_t chunks = (n + kTrainChunk - 1) / kTrainChunk;
  std::vector<RankGrads> part(chunks);
  for (auto& p : part) p.init(m);
  RankGrads vel;
  vel.init(m);
  std::vector<double> df(n);
  std::vector<std::vector<double>> wt_storage;
  const size_t L = m.dims.size() - 1;
  auto bounds = [&](size_t c) { return std::min(n, c * kTrainChunk); };
  RankPacked pk;
  for (size_t t = 0; t < s.epochs; ++t) {
    if (abort && *abort != 0) throw TrainAborted();
    pack_rank_weights(m, pk);  // this epoch's weights
    parallel_chunks_safe(chunks, chunks, threads, [&](size_t, size_t c0, size_t c1) {
      for (size_t c = c0; c < c1; ++c) rank_forward_chunk(m, in, a, bounds(c), bounds(c + 1), pk);
    });
    const double loss = ordered_pair_loss(a.f.data(), acc, n, s.ties_ignore, df.data(), nullptr);
    const std::vector<const double*> wt = transposes(m, wt_storage);
    if (!std::isfinite(loss)) throw TrainDiverged(t, "the loss is " + std::string(std::isnan(loss) ? "NaN" : "infinite") + " at epoch " + std::to_string(t));
    losses[t] = loss;
    parallel_chunks_safe(chunks, chunks, threads, [&](size_t, size_t c0, size_t c1) {
      for (size_t c = c0; c < c1; ++c) {
        part[c].zero();
        rank_backward_chunk(m, wt, pk, in, a, df.data(), bounds(c), bounds(c + 1), &part[c]);
      }
    });
    const double lr = 0.5 * s.lr * (1.0 + std::cos(3.141592653589793 * static_cast<double>(t) / static_cast<double>(s.epochs)));
    auto update = [&](double* p, double* v, size_t size, auto grad_of) {
      for (size_t q = 0; q < size; ++q) {
        double g = 0.0;
        for (size_t c = 0; c < chunks; ++c) g += grad_of(c)[q];
        v[q] = s.momentum * v[q] + g;
        p[q] -= lr * v[q];
      }
    };
    for (size_t l = 0; l < L; ++l) {
      update(m.w[l], vel.w[l].data(), vel.w[l].size(), [&](size_t c) { return part[c].w[l].data(); });
      if (!m.b.empty()) update(m.b[l], vel.b[l].data(), vel.b[l].size(), [&](size_t c) { return part[c].b[l].data(); });
    }
    update(m.fc, vel.fc.data(), vel.fc.size(), [&](size_t c) { return part[c].fc.data(); });
  }
}

void gcn_score_grad(const GcnGraphs& graphs, const RankGcnParams& m, double* f, double* dA, double* dX, int threads,
                    bool float32, bool dedup) {
  if (graphs.count == 0) return;
  if (float32) return score_grad<float>(graphs, m, f, dA, dX, threads, dedup);
  score_grad<double>(graphs, m, f, dA, dX, threads, dedup);
}

}  // namespace nasrank
