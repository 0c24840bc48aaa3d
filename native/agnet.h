// The AG-Net generator (lib/models/agnet.ts) in C++: forward, manual backward of Eq. 1 (or of
// any output gradient), Adam, and candidate generation (sampling with the package's Random
// stream, decoding, validity, dedup). Float64 throughout; parameters are one flat array in the
// order of AgNetGenerator.params (each weight [in × out] row-major, then its bias).
// No N-API here; inputs are validated by addon.cc.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace nasrank {

struct AgNetDims {
  int nodes = 8;    // M
  int classes = 7;  // C
  int edges() const { return nodes * (nodes - 1) / 2; }
  int length() const { return nodes * classes + edges(); }
};

// Number of parameters of the generator (NB-201: 42,474).
size_t agnet_param_count(const AgNetDims& dims);

// Eq. 1 targets: per row M classes and E edge bits; per-row weights w; the seeded gradient is
// ∂ Σ_b w_b·(ceScale·CE_b + BCE_b) / ∂out (CE mean over nodes, BCE mean over edge slots).
struct AgNetTarget {
  const uint8_t* classes = nullptr;
  const uint8_t* edges = nullptr;
  const double* weights = nullptr;
  double ce_scale = 1;
};

struct AgNetAdam {
  double* m = nullptr;
  double* v = nullptr;
  double step = 0;  // steps taken before this one
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
};

// Generator output for `rows` latent codes z [rows × 32] into out [rows × length].
void agnet_forward(const AgNetDims& dims, const double* params, const double* z, size_t rows, double* out, int threads);

// Forward + backward. The output gradient is the Eq. 1 gradient of `target` (when not null)
// plus `dout` (when not null). ce/bce (per row; may be null) receive Eq. 1's parts when target
// is given. grad (param_count) receives the parameter gradient (overwritten). Rows are split
// into fixed chunks whose gradients are summed in chunk order: the result does not depend on
// `threads`.
void agnet_gradient(const AgNetDims& dims, const double* params, const double* z, size_t rows, const AgNetTarget* target,
                    const double* dout, double* out, double* ce, double* bce, double* grad, int threads);

// One Adam step (PyTorch form; lib/models/autodiff.ts Adam.update) over n values.
void agnet_adam(double* params, const double* grad, size_t n, AgNetAdam& adam);

// What agnet_generate decodes a sampled graph into: a valid graph has `nodes` nodes, node 0 of
// class `input`, the last of class `output`, the others classes with op code class_ops[c] >= 0,
// and edge bits equal to `dag`; its index is Σ op_v · base^(M−2−v) over v = 1 … M−2.
struct AgNetDecode {
  const uint8_t* dag = nullptr;     // E bits
  const int32_t* class_ops = nullptr;  // C op codes (−1: not an op)
  int base = 5;
  int input = 1, output = 0;
};

// Forward on z [rows × 32], then per row in order (one Random stream, state in/out): node
// classes ~ softmax (the last forced to the output, the graph cut at the first output), edges
// thresholded (σ > 0.5) or ~ Bernoulli(σ), decoded by `decode`. length[r] nodes, classes
// [rows × M] and edges [rows × E] (zero past the graph), index[r] (−1: invalid), fresh[r] = 1
// for a valid index not yet marked in `seen` (which it then marks; seen has base^(M−2) flags).
void agnet_generate(const AgNetDims& dims, const double* params, const double* z, size_t rows, uint32_t state[4], bool threshold,
                    const AgNetDecode& decode, uint8_t* seen, double* out, int32_t* length, uint8_t* classes, uint8_t* edges,
                    int32_t* index, uint8_t* fresh, int threads);

}  // namespace nasrank
