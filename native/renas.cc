// ReNAS feature tensor of a NAS-Bench-101 cell (Xu et al., CVPR 2021): a type matrix and,
// per cell of the network, a FLOP matrix and a parameter matrix, each the padded adjacency
// matrix with every edge i -> j carrying the value of its destination vertex j.
#include <algorithm>

#include "nb101.h"
#include "random.h"

namespace nasrank {
namespace nb101 {

void renas_order(const Cell& cell, bool augment, uint32_t seed_lo, uint32_t seed_hi, uint32_t stream,
                 uint8_t order[kMaxVertices]) {
  const int v = cell.v;
  // Longest-path depth from the input: every edge goes from a smaller to a larger depth,
  // so ordering by depth keeps the matrix upper triangular.
  int depth[kMaxVertices] = {0};
  for (int j = 1; j < v; ++j) {
    for (int i = 0; i < j; ++i) {
      if (cell.edge(i, j)) depth[j] = std::max(depth[j], depth[i] + 1);
    }
  }
  uint8_t sorted[kMaxVertices];
  for (int u = 0; u < v; ++u) sorted[u] = static_cast<uint8_t>(u);
  std::stable_sort(sorted, sorted + v, [&](uint8_t a, uint8_t b) { return depth[a] < depth[b]; });
  if (augment) {
    // Fisher-Yates inside every run of equal depth (the input and output are alone in theirs).
    Random rng(seed_lo, seed_hi, stream);
    int start = 0;
    while (start < v) {
      int end = start + 1;
      while (end < v && depth[sorted[end]] == depth[sorted[start]]) ++end;
      for (int i = end - start - 1; i >= 1; --i) {
        int j = static_cast<int>(rng.below(static_cast<uint64_t>(i) + 1));
        std::swap(sorted[start + i], sorted[start + j]);
      }
      start = end;
    }
  }
  for (int p = 0; p < kMaxVertices; ++p) order[p] = kNoVertex;
  for (int p = 0; p < v - 1; ++p) order[p] = sorted[p];
  order[kMaxVertices - 1] = sorted[v - 1];  // the output, always last
}

void renas_encode(const Cell& cell, const RenasOptions& options, uint32_t stream, float* out) {
  uint8_t order[kMaxVertices];
  renas_order(cell, options.augment, options.seed_lo, options.seed_hi, stream, order);
  const int channels = options.channels;
  double vparams[kCells * kMaxVertices], vflops[kCells * kMaxVertices];
  if (channels > 1) cell_cost(cell, vparams, vflops, nullptr, nullptr);
  auto at = [&](int c, int i, int j) -> float& {
    return options.nhwc ? out[(i * kMaxVertices + j) * channels + c] : out[(c * kMaxVertices + i) * kMaxVertices + j];
  };
  for (int k = 0; k < channels * kMaxVertices * kMaxVertices; ++k) out[k] = 0.0f;
  for (int i = 0; i < kMaxVertices; ++i) {
    const int a = order[i];
    if (a == kNoVertex) continue;
    for (int j = i + 1; j < kMaxVertices; ++j) {
      const int b = order[j];
      if (b == kNoVertex || !cell.edge(a, b)) continue;
      at(0, i, j) = static_cast<float>(cell.ops[b] + 1);  // ReNAS type code of the destination
      for (int k = 1; k < channels && k <= kCells; ++k) {
        at(k, i, j) = static_cast<float>(vflops[(k - 1) * kMaxVertices + b] * options.flops_scale);
        at(k + kCells, i, j) = static_cast<float>(vparams[(k - 1) * kMaxVertices + b] * options.params_scale);
      }
    }
  }
}

}  // namespace nb101
}  // namespace nasrank
