// CPU-only build: the CUDA twins of the ranking losses (native/cuda/losses.cu) are absent.
// cuda_available() answers false and the kernels throw, so a caller asking for
// device: 'cuda' gets a clear error instead of a crash. Compiled out of CUDA builds.
#ifndef NASRANK_WITH_CUDA

#include <stdexcept>

#include "kernels.h"

namespace nasrank {

bool cuda_available() { return false; }

LossSums cuda_pairwise_rank_loss(const double*, const double*, size_t, Phi, double, double*) {
  throw std::runtime_error("nasrank was built without CUDA");
}

LossSums cuda_triplet_rank_loss(const double*, const double*, size_t, Phi, double, double*) {
  throw std::runtime_error("nasrank was built without CUDA");
}

}  // namespace nasrank

#endif  // NASRANK_WITH_CUDA
