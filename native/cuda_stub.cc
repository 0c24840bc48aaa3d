// CPU-only build: the CUDA twins (native/cuda/losses.cu, native/cuda/gcn.cu) are absent.
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

void cuda_gcn_forward(const GcnGraphs&, const GcnDense*, size_t, const float*, float, float*, double*, GcnVariant) {
  throw std::runtime_error("nasrank was built without CUDA: gcnScore/gcnEmbed with device 'cuda' need `npm run build:cuda` on a machine with nvcc");
}

}  // namespace nasrank

#endif  // NASRANK_WITH_CUDA
