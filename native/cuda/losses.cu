// CUDA twins of the exhaustive ranking-loss kernels (pairwise.cc / triplet.cc, brute):
// double precision, one thread block per element i (pairwise) or per anchor i (triplet).
//
// Determinism: no atomics. Each thread owns the gradient entries it writes, evaluating
// every pair from both sides (pairwise: grad_i = sum_{j != i} phi'(z_ij) * s_ij; triplet:
// grad_ij = sum_{k != j} phi'(z_jk) * s_jk within row i), which costs twice the phi
// evaluations of the CPU loop but gives run-to-run identical results. Losses and counts
// are reduced per block in a fixed tree order and the per-block partial sums are added
// on the host in block order.
//
// Built only when CMake finds a CUDA compiler (it then defines NASRANK_WITH_CUDA and
// leaves out cuda_stub.cc).
#ifndef NASRANK_WITH_CUDA
#define NASRANK_WITH_CUDA 1
#endif

#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "../kernels.h"

namespace nasrank {

namespace {

constexpr int kThreads = 256;

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("nasrank CUDA: ") + what + " failed: " +
                             cudaGetErrorString(err));
  }
}

// Device memory owned for the duration of one call.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t count) : count_(count) {
    if (count_ > 0) check(cudaMalloc(reinterpret_cast<void**>(&ptr_), count_ * sizeof(T)), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);  // errors ignored: nothing useful to do in a destructor
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return ptr_; }
  void upload(const T* host) {
    if (count_ > 0) check(cudaMemcpy(ptr_, host, count_ * sizeof(T), cudaMemcpyHostToDevice), "cudaMemcpy (to device)");
  }
  void download(T* host) const {
    if (count_ > 0) check(cudaMemcpy(host, ptr_, count_ * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy (to host)");
  }
  void zero() {
    if (count_ > 0) check(cudaMemset(ptr_, 0, count_ * sizeof(T)), "cudaMemset");
  }

 private:
  T* ptr_ = nullptr;
  size_t count_;
};

__device__ __forceinline__ int cmp3(double a, double b) { return (a > b) - (a < b); }

// phi(z) and dphi/dz, as in rank_loss_detail.h (0: hinge, 1: logistic, 2: exp).
__device__ __forceinline__ void phi_eval(int phi, double margin, double z, double* value,
                                         double* dz) {
  if (phi == 0) {
    double d = margin - z;
    if (d > 0) {
      *value = d;
      *dz = -1.0;
    } else {
      *value = 0.0;
      *dz = 0.0;
    }
  } else if (phi == 1) {
    double e = exp(-fabs(z));
    *value = fmax(-z, 0.0) + log1p(e);
    *dz = -((z > 0 ? e : 1.0) / (1.0 + e));
  } else {
    double v = exp(-z);
    *value = v;
    *dz = -v;
  }
}

// Fixed-order tree reduction over the block (blockDim.x == kThreads, a power of two).
// Every thread receives nothing; thread 0's out arguments hold the totals.
__device__ void block_reduce(double* a, double* b, unsigned long long* c) {
  __shared__ double sa[kThreads];
  __shared__ double sb[kThreads];
  __shared__ unsigned long long sc[kThreads];
  const int t = threadIdx.x;
  sa[t] = *a;
  sb[t] = *b;
  sc[t] = *c;
  __syncthreads();
  for (int stride = kThreads / 2; stride > 0; stride >>= 1) {
    if (t < stride) {
      sa[t] += sa[t + stride];
      sb[t] += sb[t + stride];
      sc[t] += sc[t + stride];
    }
    __syncthreads();
  }
  if (t == 0) {
    *a = sa[0];
    *b = sb[0];
    *c = sc[0];
  }
}

// Block i: grad[i] = sum_{j != i} phi'(z_ij) s_ij; loss/count over j > i only.
__global__ void pairwise_kernel(const double* __restrict__ pred, const double* __restrict__ target,
                                long long n, int phi, double margin, double* __restrict__ grad,
                                double* __restrict__ block_loss,
                                unsigned long long* __restrict__ block_count) {
  const long long i = blockIdx.x;
  const double pi = pred[i], yi = target[i];
  double g = 0.0, loss = 0.0;
  unsigned long long count = 0;
  for (long long j = threadIdx.x; j < n; j += blockDim.x) {
    if (j == i) continue;
    const int sg = cmp3(yi, target[j]);
    if (sg == 0) continue;
    const double s = static_cast<double>(sg);
    const double z = (pi - pred[j]) * s;  // the same value the pair (min, max) would give
    double v, dz;
    phi_eval(phi, margin, z, &v, &dz);
    g += dz * s;
    if (j > i) {
      loss += v;
      ++count;
    }
  }
  block_reduce(&g, &loss, &count);
  if (threadIdx.x == 0) {
    grad[i] = g;
    block_loss[i] = loss;
    block_count[i] = count;
  }
}

// Block i (anchor): thread-strided over j > i; grad[i][j] = sum_{k > i, k != j}
// phi'(z_jk) s_jk with s_jk = sign(l_ij - l_ik); loss/count over k > j only.
__global__ void triplet_kernel(const double* __restrict__ dist, const double* __restrict__ target,
                               long long n, int phi, double margin, double* __restrict__ grad,
                               double* __restrict__ block_loss,
                               unsigned long long* __restrict__ block_count) {
  const long long i = blockIdx.x;
  const double* row = dist + i * n;
  const double yi = target[i];
  double loss = 0.0, unused = 0.0;
  unsigned long long count = 0;
  for (long long j = i + 1 + threadIdx.x; j < n; j += blockDim.x) {
    const double lj = fabs(yi - target[j]);
    const double dj = row[j];
    double g = 0.0;
    for (long long k = i + 1; k < n; ++k) {
      if (k == j) continue;
      const int sg = cmp3(lj, fabs(yi - target[k]));
      if (sg == 0) continue;
      const double s = static_cast<double>(sg);
      const double z = (dj - row[k]) * s;
      double v, dz;
      phi_eval(phi, margin, z, &v, &dz);
      g += dz * s;
      if (k > j) {
        loss += v;
        ++count;
      }
    }
    grad[i * n + j] = g;
  }
  block_reduce(&loss, &unused, &count);
  if (threadIdx.x == 0) {
    block_loss[i] = loss;
    block_count[i] = count;
  }
}

int phi_code(Phi phi) {
  switch (phi) {
    case Phi::Hinge: return 0;
    case Phi::Logistic: return 1;
    case Phi::Exp: return 2;
  }
  return 0;
}

// Sums the per-block results on the host, in block order (compensated).
LossSums combine(const std::vector<double>& loss, const std::vector<unsigned long long>& count) {
  LossSums out;
  double s = 0.0, c = 0.0;
  for (size_t b = 0; b < loss.size(); ++b) {
    const double x = loss[b];
    const double t = s + x;
    if (std::isfinite(t)) c += (std::fabs(s) >= std::fabs(x)) ? (s - t) + x : (x - t) + s;
    s = t;
    out.comparable += count[b];
  }
  out.loss = std::isfinite(s) ? s + c : s;
  return out;
}

void require_device() {
  int devices = 0;
  check(cudaGetDeviceCount(&devices), "cudaGetDeviceCount");
  if (devices == 0) throw std::runtime_error("nasrank CUDA: no CUDA device is present");
}

}  // namespace

bool cuda_available() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess) {
    cudaGetLastError();  // reset the runtime's last-error state
    return false;
  }
  return devices > 0;
}

LossSums cuda_pairwise_rank_loss(const double* pred, const double* target, size_t n, Phi phi,
                                 double margin, double* grad) {
  if (n == 0) return LossSums{};
  std::fill(grad, grad + n, 0.0);
  if (n < 2) return LossSums{};
  if (n > static_cast<size_t>(INT_MAX)) throw std::runtime_error("nasrank CUDA: n is too large");
  require_device();
  DeviceBuffer<double> d_pred(n), d_target(n), d_grad(n), d_loss(n);
  DeviceBuffer<unsigned long long> d_count(n);
  d_pred.upload(pred);
  d_target.upload(target);
  pairwise_kernel<<<static_cast<unsigned>(n), kThreads>>>(
      d_pred.get(), d_target.get(), static_cast<long long>(n), phi_code(phi), margin, d_grad.get(),
      d_loss.get(), d_count.get());
  check(cudaGetLastError(), "pairwise kernel launch");
  check(cudaDeviceSynchronize(), "pairwise kernel");
  std::vector<double> loss(n);
  std::vector<unsigned long long> count(n);
  d_grad.download(grad);
  d_loss.download(loss.data());
  d_count.download(count.data());
  return combine(loss, count);
}

LossSums cuda_triplet_rank_loss(const double* dist, const double* target, size_t n, Phi phi,
                                double margin, double* grad) {
  if (n == 0) return LossSums{};
  std::fill(grad, grad + n * n, 0.0);
  if (n < 3) return LossSums{};
  if (n > 65535) throw std::runtime_error("nasrank CUDA: n is too large for the triplet kernel");
  require_device();
  DeviceBuffer<double> d_dist(n * n), d_target(n), d_grad(n * n), d_loss(n);
  DeviceBuffer<unsigned long long> d_count(n);
  d_dist.upload(dist);
  d_target.upload(target);
  d_grad.zero();  // the kernel writes only the strict upper triangle
  triplet_kernel<<<static_cast<unsigned>(n), kThreads>>>(
      d_dist.get(), d_target.get(), static_cast<long long>(n), phi_code(phi), margin, d_grad.get(),
      d_loss.get(), d_count.get());
  check(cudaGetLastError(), "triplet kernel launch");
  check(cudaDeviceSynchronize(), "triplet kernel");
  std::vector<double> loss(n);
  std::vector<unsigned long long> count(n);
  d_grad.download(grad);
  d_loss.download(loss.data());
  d_count.download(count.data());
  return combine(loss, count);
}

}  // namespace nasrank
