// CUDA twin of gcn_forward (gcn.cc): the same layer, pooling and FC, written to be plainly
// correct rather than clever. Unlike the CPU kernel it stays dense over the padded vertices,
// exactly like the tfjs model: padded rows of Â are zero, so their (ReLU(b)) activations
// never reach a real vertex or the masked mean.
//
// Per device batch of graphs (sized to bound device memory):
//   1. norm_kernel     s[g,i] = real_i ? 1/sqrt(1 + Σ_j A[g,i,j]) : 0      (thread per vertex)
//   2. ahat_kernel     Â[g,i,j] = s_i (A_ij + [i == j] real_i) s_j  (norm 'sym'), or
//                      s_i (A_ij + [i == j] real_i)  (norm 'row')        (thread per entry)
//   3. per layer: aggregate_kernel Z[g,i,:] = Σ_j Â[g,i,j] H[g,j,:]  (thread per output)
//                 gemm_kernel      H'[r,:] = ReLU(Z[r,:] W + b)  (16×16 shared-memory tiles)
//   4. pool_kernel     e[g,c] = Σ_i real_i H[g,i,c] / max(Σ real, 1)  (double accumulation)
// real_i = mask_i != 0, or 1 for every vertex with pool 'all' (GcnVariant, as on the CPU).
//      score_kernel    score[g] = e[g,:] · fc_w + fc_b                 (double)
// float32 compute like the CPU kernel; every launch is checked. No atomics: each output is
// written by one thread, so results are run-to-run identical.
//
// Built only when CMake finds a CUDA compiler (it then defines NASRANK_WITH_CUDA and leaves
// out cuda_stub.cc).
#ifndef NASRANK_WITH_CUDA
#define NASRANK_WITH_CUDA 1
#endif

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "../kernels.h"

namespace nasrank {

namespace {

constexpr int kTile = 16;      // gemm tile edge (kTile × kTile threads per block)
constexpr int kThreads = 256;  // elementwise kernels
// Device memory budget per batch: floats in one activation buffer (four such buffers live).
constexpr size_t kBatchFloats = size_t(1) << 26;  // 256 MiB each

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("nasrank CUDA (gcn): ") + what + " failed: " + cudaGetErrorString(err));
  }
}

template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count_ > 0) check(cudaMalloc(reinterpret_cast<void**>(&ptr_), count_ * sizeof(T)), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return ptr_; }
  void upload(const T* host, size_t n) {
    if (n > 0) check(cudaMemcpy(ptr_, host, n * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy (to device)");
  }
  void download(T* host, size_t n) const {
    if (n > 0) check(cudaMemcpy(host, ptr_, n * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy (to host)");
  }

 private:
  T* ptr_ = nullptr;
  size_t count_;
};

unsigned blocks_for(size_t n) {
  size_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::min<size_t>(std::max<size_t>(b, 1), 1u << 30));
}

void launched(const char* what) {
  check(cudaGetLastError(), what);
}

// s[v] for every vertex v of the batch (v = g*V + i).
__global__ void norm_kernel(const float* __restrict__ adj, const float* __restrict__ mask, long long vertices_total, int V,
                            int pool_all, float* __restrict__ s) {
  for (long long v = blockIdx.x * (long long)blockDim.x + threadIdx.x; v < vertices_total; v += (long long)gridDim.x * blockDim.x) {
    if (!pool_all && mask[v] == 0.0f) {
      s[v] = 0.0f;
      continue;
    }
    const float* row = adj + v * V;  // row i of graph g: adj + (g*V + i)*V
    double d = 1.0;
    for (int j = 0; j < V; ++j) d += row[j];
    s[v] = static_cast<float>(1.0 / sqrt(d));
  }
}

// Â for every entry e = (g*V + i)*V + j.
__global__ void ahat_kernel(const float* __restrict__ adj, const float* __restrict__ mask, const float* __restrict__ s,
                            long long entries, int V, int norm_row, int pool_all, float* __restrict__ ahat) {
  for (long long e = blockIdx.x * (long long)blockDim.x + threadIdx.x; e < entries; e += (long long)gridDim.x * blockDim.x) {
    const long long row = e / V;  // g*V + i
    const int j = static_cast<int>(e % V);
    const int i = static_cast<int>(row % V);
    const long long g = row / V;
    const float real_i = pool_all ? 1.0f : (mask[row] != 0.0f ? 1.0f : 0.0f);
    const float t = adj[e] + (i == j ? real_i : 0.0f);
    ahat[e] = norm_row ? t * s[row] : s[row] * t * s[g * V + j];
  }
}

// Z[g,i,k] = Σ_j Â[g,i,j] H[g,j,k], for every output o = (g*V + i)*K + k.
__global__ void aggregate_kernel(const float* __restrict__ ahat, const float* __restrict__ h, long long outputs, int V, int K,
                                 float* __restrict__ z) {
  for (long long o = blockIdx.x * (long long)blockDim.x + threadIdx.x; o < outputs; o += (long long)gridDim.x * blockDim.x) {
    const long long row = o / K;  // g*V + i
    const int k = static_cast<int>(o % K);
    const long long g = row / V;
    const float* arow = ahat + row * V;
    const float* hg = h + g * V * K;
    float acc = 0.0f;
    for (int j = 0; j < V; ++j) acc = fmaf(arow[j], hg[(long long)j * K + k], acc);
    z[o] = acc;
  }
}

// out[r, n] = ReLU(Σ_k z[r, k] w[k, n] + b[n]); rows on grid.x, column tiles on grid.y.
__global__ void gemm_kernel(const float* __restrict__ z, const float* __restrict__ w, const float* __restrict__ b, long long rows,
                            int K, int N, float* __restrict__ out) {
  __shared__ float zs[kTile][kTile];
  __shared__ float ws[kTile][kTile];
  const long long r = blockIdx.x * (long long)kTile + threadIdx.y;
  const int n = blockIdx.y * kTile + threadIdx.x;
  float acc = 0.0f;
  for (int k0 = 0; k0 < K; k0 += kTile) {
    const int kz = k0 + threadIdx.x;  // column of z loaded by this thread
    const int kw = k0 + threadIdx.y;  // row of w loaded by this thread
    zs[threadIdx.y][threadIdx.x] = (r < rows && kz < K) ? z[r * K + kz] : 0.0f;
    ws[threadIdx.y][threadIdx.x] = (kw < K && n < N) ? w[(long long)kw * N + n] : 0.0f;
    __syncthreads();
    for (int t = 0; t < kTile; ++t) acc = fmaf(zs[threadIdx.y][t], ws[t][threadIdx.x], acc);
    __syncthreads();
  }
  if (r < rows && n < N) {
    const float v = acc + b[n];
    out[r * N + n] = v > 0.0f ? v : 0.0f;
  }
}

// e[g, c] = Σ_i mask[g,i] h[g,i,c] / max(Σ_i mask[g,i], 1), for every o = g*H + c.
__global__ void pool_kernel(const float* __restrict__ h, const float* __restrict__ mask, long long outputs, int V, int H,
                            int pool_all, double* __restrict__ pooled) {
  for (long long o = blockIdx.x * (long long)blockDim.x + threadIdx.x; o < outputs; o += (long long)gridDim.x * blockDim.x) {
    const long long g = o / H;
    const int c = static_cast<int>(o % H);
    double sum = 0.0, real = 0.0;
    for (int i = 0; i < V; ++i) {
      if (pool_all || mask[g * V + i] != 0.0f) {
        sum += static_cast<double>(h[(g * V + i) * H + c]);
        real += 1.0;
      }
    }
    pooled[o] = real > 0.0 ? sum / real : 0.0;
  }
}

__global__ void embed_kernel(const double* __restrict__ pooled, long long outputs, float* __restrict__ embed) {
  for (long long o = blockIdx.x * (long long)blockDim.x + threadIdx.x; o < outputs; o += (long long)gridDim.x * blockDim.x) {
    embed[o] = static_cast<float>(pooled[o]);
  }
}

__global__ void score_kernel(const double* __restrict__ pooled, const float* __restrict__ fc_w, float fc_b, long long graphs, int H,
                             double* __restrict__ score) {
  for (long long g = blockIdx.x * (long long)blockDim.x + threadIdx.x; g < graphs; g += (long long)gridDim.x * blockDim.x) {
    double s = 0.0;
    for (int c = 0; c < H; ++c) s += pooled[g * H + c] * static_cast<double>(fc_w[c]);
    score[g] = s + static_cast<double>(fc_b);
  }
}

}  // namespace

void cuda_gcn_forward(const GcnGraphs& g, const GcnDense* layers, size_t n_layers, const float* fc_w, float fc_b,
                      float* embed_out, double* score_out, GcnVariant variant) {
  const int norm_row = variant.norm_row ? 1 : 0, pool_all = variant.pool_all ? 1 : 0;
  if (g.count == 0 || n_layers == 0) return;
  int devices = 0;
  check(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
  if (devices == 0) throw std::runtime_error("nasrank CUDA (gcn): no CUDA device is present");

  const size_t V = g.vertices, F = g.features, H = layers[n_layers - 1].out;
  size_t widest = F;
  for (size_t l = 0; l < n_layers; ++l) widest = std::max(widest, layers[l].out);
  const size_t batch = std::max<size_t>(1, std::min(g.count, kBatchFloats / (V * std::max(widest, V))));

  // Weights, once.
  std::vector<std::unique_ptr<DeviceBuffer<float>>> dw, db;
  for (size_t l = 0; l < n_layers; ++l) {
    dw.emplace_back(new DeviceBuffer<float>(layers[l].in * layers[l].out));
    dw.back()->upload(layers[l].w, layers[l].in * layers[l].out);
    db.emplace_back(new DeviceBuffer<float>(layers[l].out));
    db.back()->upload(layers[l].b, layers[l].out);
  }
  DeviceBuffer<float> d_fc(fc_w ? H : 0);
  if (fc_w) d_fc.upload(fc_w, H);

  DeviceBuffer<float> d_adj(batch * V * V), d_mask(batch * V), d_s(batch * V), d_ahat(batch * V * V);
  DeviceBuffer<float> d_h(batch * V * widest), d_z(batch * V * widest), d_hn(batch * V * widest);
  DeviceBuffer<double> d_pooled(batch * H), d_score(batch);
  DeviceBuffer<float> d_embed(embed_out ? batch * H : 0);

  for (size_t g0 = 0; g0 < g.count; g0 += batch) {
    const size_t nb = std::min(batch, g.count - g0);
    const long long verts = static_cast<long long>(nb * V);
    d_adj.upload(g.adjacency + g0 * V * V, nb * V * V);
    d_mask.upload(g.mask + g0 * V, nb * V);
    d_h.upload(g.x + g0 * V * F, nb * V * F);

    norm_kernel<<<blocks_for(nb * V), kThreads>>>(d_adj.get(), d_mask.get(), verts, static_cast<int>(V), pool_all, d_s.get());
    launched("norm kernel launch");
    ahat_kernel<<<blocks_for(nb * V * V), kThreads>>>(d_adj.get(), d_mask.get(), d_s.get(), verts * static_cast<long long>(V),
                                                       static_cast<int>(V), norm_row, pool_all, d_ahat.get());
    launched("ahat kernel launch");

    float* h = d_h.get();
    float* hn = d_hn.get();
    size_t k = F;
    for (size_t l = 0; l < n_layers; ++l) {
      const size_t n = layers[l].out;
      aggregate_kernel<<<blocks_for(nb * V * k), kThreads>>>(d_ahat.get(), h, verts * static_cast<long long>(k), static_cast<int>(V),
                                                             static_cast<int>(k), d_z.get());
      launched("aggregate kernel launch");
      dim3 block(kTile, kTile);
      dim3 grid(static_cast<unsigned>((nb * V + kTile - 1) / kTile), static_cast<unsigned>((n + kTile - 1) / kTile));
      gemm_kernel<<<grid, block>>>(d_z.get(), dw[l]->get(), db[l]->get(), verts, static_cast<int>(k), static_cast<int>(n), hn);
      launched("gemm kernel launch");
      std::swap(h, hn);
      k = n;
    }
    pool_kernel<<<blocks_for(nb * H), kThreads>>>(h, d_mask.get(), static_cast<long long>(nb * H), static_cast<int>(V),
                                                  static_cast<int>(H), pool_all, d_pooled.get());
    launched("pool kernel launch");
    if (embed_out) {
      embed_kernel<<<blocks_for(nb * H), kThreads>>>(d_pooled.get(), static_cast<long long>(nb * H), d_embed.get());
      launched("embed kernel launch");
    }
    if (score_out) {
      score_kernel<<<blocks_for(nb), kThreads>>>(d_pooled.get(), d_fc.get(), fc_b, static_cast<long long>(nb), static_cast<int>(H),
                                                 d_score.get());
      launched("score kernel launch");
    }
    check(cudaDeviceSynchronize(), "gcn kernels");
    if (embed_out) d_embed.download(embed_out + g0 * H, nb * H);
    if (score_out) d_score.download(score_out + g0, nb);
  }
}

}  // namespace nasrank
