// Plain C++ kernels: no N-API here (addon.cc is the only file that knows N-API).
// Inputs are assumed validated by the caller (finite values, consistent sizes).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <stdexcept>
#include <string>
#include <vector>

namespace nasrank {

// ---- correlations (correlation.cc) -------------------------------------------------
enum class TauVariant { B, A };
// Kendall tau in O(n log n). Variant B matches scipy.stats.kendalltau (NaN when either
// input is constant); variant A is ReNAS's 2*concordant/C(n,2) - 1. Requires n >= 2.
double kendall_tau(const double* x, const double* y, size_t n, TauVariant variant, int threads);
// Spearman's rho with average ranks for ties (scipy.stats.spearmanr); NaN if constant.
double spearman(const double* x, const double* y, size_t n, int threads);
// Pearson's r (scipy.stats.pearsonr); NaN if either input is constant.
double pearson(const double* x, const double* y, size_t n);

// ---- ranking losses (pairwise.cc, triplet.cc) --------------------------------------
enum class Phi { Hinge, Logistic, Exp };

// phi(z) and dphi/dz: hinge (margin - z)+ (subgradient 0 at z == margin),
// logistic log(1 + e^-z), exp e^-z.
struct LossSums {
  double loss = 0;          // sum of phi over comparable pairs / triplets
  uint64_t comparable = 0;  // number of terms with sign != 0 (the 'mean' denominator)
};

// ReNAS Eq. 3: sum_{i<j} phi((p_i - p_j) * sign(y_i - y_j)). grad (length n) receives
// d(sum)/d(pred), overwritten. Fast: O(n log n) for hinge/exp, blocked O(n^2) for logistic.
LossSums pairwise_rank_loss(const double* pred, const double* target, size_t n, Phi phi,
                            double margin, double* grad, int threads);
// The obvious O(n^2) double loop (benchmark baseline and cross-check).
LossSums pairwise_rank_loss_brute(const double* pred, const double* target, size_t n, Phi phi,
                                  double margin, double* grad, int threads);

// ReNAS Eq. 4: sum_{i<j<k} phi((d_ij - d_ik) * sign(l_ij - l_ik)), l_ij = |y_i - y_j|, dist
// n x n row-major (only the strict upper triangle is read). grad (n*n) receives
// d(sum)/d(dist), overwritten. Fast: O(n^2 log n) for hinge/exp.
LossSums triplet_rank_loss(const double* dist, const double* target, size_t n, Phi phi,
                           double margin, double* grad, int threads);
// The O(n^3) triple loop, one anchor per task (the shape of the CUDA kernel).
LossSums triplet_rank_loss_brute(const double* dist, const double* target, size_t n, Phi phi,
                                 double margin, double* grad, int threads);

// ---- pairwise cross-entropy (logloss.cc) -------------------------------------------
// Sony Eq. 5-7 / CTNAS: logit = a_k - b_k, loss_k = softplus(logit) - label_k * logit.
// Returns the sum; grad_a (length n) = sigmoid(logit) - label, grad_b = -grad_a.
double pairwise_log_loss(const double* a, const double* b, const double* label, size_t n,
                         double* grad_a, double* grad_b);

// ---- sample-efficiency gain (gain.cc) ----------------------------------------------
// M(J) for every target J: how many values of `values` are <= J (>= J when
// higher_is_better). O((n + t) log n). counts has length t.
void count_reaching(const double* values, size_t n, const double* targets, size_t t,
                    bool higher_is_better, double* counts);
// True when every value of `sub` occurs in `super` at least as often (multiset subset).
// On failure *missing receives the index into `sub` of a value that is not covered.
bool is_sub_multiset(const double* sub, size_t m, const double* super, size_t n, size_t* missing);
// The same on sorted keys (sort.h's sortable_key), each set sorted once by sorted_keys (LSD
// radix) and shared between the check and the counts.
void sorted_keys(const double* values, size_t n, std::vector<uint64_t>& keys);
void count_reaching_sorted(const uint64_t* keys, size_t n, const double* targets, size_t t, bool higher_is_better,
                           double* counts);
bool is_sub_multiset_sorted(const double* sub, const uint64_t* sub_keys, size_t m, const uint64_t* super_keys, size_t n,
                            size_t* missing);

// ---- GCN scoring and the CTNAS comparator head (gcn.cc, cuda/gcn.cu) ---------------
// A batch of graphs in the contract's padded form: adjacency count*V*V (A[i*V+j] != 0 for
// an edge i -> j, non-negative, zero wherever i or j is padding), x count*V*F, mask
// count*V (1 real, 0 padding).
struct GcnGraphs {
  const float* adjacency = nullptr;
  const float* x = nullptr;
  const float* mask = nullptr;
  size_t count = 0, vertices = 0, features = 0;
};
// A dense layer: w is in*out row-major (y = x W + b), b has `out` entries.
struct GcnDense {
  const float* w = nullptr;
  const float* b = nullptr;
  size_t in = 0, out = 0;
};
// H' = ReLU(Â H W + b) per layer, Â = D̃^-1/2 Ã D̃^-1/2, Ã = A + diag(mask), D̃ the row sums
// of Ã; then the mean over real vertices (zeros for a graph without any). embed_out
// (count * layers[n-1].out floats) and score_out (count doubles: mean · fc_w + fc_b) may
// each be null. float32 compute, double pooling and FC. Requires n_layers >= 1, chained
// widths (layers[0].in == features, layers[l].in == layers[l-1].out). With dedup, rows
// whose computation is identical (same features / same Â entries over the same inputs) are
// computed once per sub-batch; the results are bit-identical either way.
// The GCN's variant: norm_row uses D̃^-1/2 Ã (left-only, Mauch et al.) instead of the
// symmetric D̃^-1/2 Ã D̃^-1/2; pool_all treats every vertex as real (mask ignored: a padded
// vertex's Ã row is its self-loop) and pools the mean over all V rows. Defaults: the
// symmetric, real-vertex GCN (gcnScore's original contract).
struct GcnVariant {
  bool norm_row = false;
  bool pool_all = false;
};
void gcn_forward(const GcnGraphs& graphs, const GcnDense* layers, size_t n_layers,
                 const float* fc_w, float fc_b, float* embed_out, double* score_out, int threads,
                 bool dedup = true, GcnVariant variant = GcnVariant());

// ---- the ranking GCN trainer and input gradients (gcn.cc), float64 ---------------------
// The same layers as gcn_forward (any GcnVariant, bias optional), dense over the V padded
// vertices, in double. Parameters are updated in place by gcn_train.
struct RankGcnParams {
  size_t vertices = 0, features = 0;
  std::vector<size_t> dims;   // dims[0] = features, dims[l + 1] = width of layer l
  std::vector<double*> w;     // layer l: dims[l] x dims[l + 1], row-major
  std::vector<double*> b;     // layer l: dims[l + 1] entries; empty = no bias
  double* fc = nullptr;       // dims.back() entries
  double fc_b = 0.0;          // never trained (a pairwise loss gives it no gradient)
  GcnVariant variant;
};
struct RankTrainSettings {
  size_t epochs = 0;
  double lr = 0.01, momentum = 0.9;
  bool ties_ignore = false;
};
// Thrown by gcn_train when *abort became non-zero (checked before every epoch).
struct TrainAborted : std::runtime_error {
  TrainAborted() : std::runtime_error("aborted") {}
};
// Thrown by gcn_train on a non-finite loss.
struct TrainDiverged : std::runtime_error {
  size_t epoch;
  explicit TrainDiverged(size_t e, const std::string& m) : std::runtime_error(m), epoch(e) {}
};
// Eq. 5-7 of Mauch et al.: mean over ordered pairs i != j of -ln p_ij, p = sigma(f_i - f_j)
// when acc_i >= acc_j (y = 1), else 1 - sigma; ties y = 1 both ways or dropped. grad (n)
// receives dL/df; returns the loss (0 with no pairs); *pairs the pairs counted.
double ordered_pair_loss(const double* f, const double* acc, size_t n, bool ties_ignore, double* grad, size_t* pairs);
// Full-batch training on graphs idx[0..n) with accuracies acc (higher is better): `epochs`
// steps of momentum SGD (v <- mu v + g, w <- w - lr_t v) with lr_t = lr/2 (1 + cos(pi t/T)).
// losses (epochs) gets the loss before each update. Work is split into fixed chunks of
// graphs whose gradient partials are summed in chunk order: bit-identical for any thread
// count. abort may be null.
void gcn_train(const GcnGraphs& graphs, const uint32_t* idx, size_t n, const double* acc, RankGcnParams& params,
               const RankTrainSettings& settings, double* losses, int threads, const volatile int32_t* abort);
// Scores f (count) and their input gradients dA = df/dA (count*V*V, through Ã and D̃) and
// dX = df/dX (count*V*F) of every graph. float32: activations and products in float (N,
// pooling, f and dA in double); dedup: rows with identical forward / backward inputs computed
// once (exact: the same results as without). Bit-identical for any thread count.
void gcn_score_grad(const GcnGraphs& graphs, const RankGcnParams& params, double* f, double* dA, double* dX, int threads,
                    bool float32, bool dedup);
// CTNAS comparator head: p_i = sigmoid(dense_out(ReLU(... ReLU([a_i, b_i] W_0 + b_0) ...))),
// hidden[0].in == 2*dim, out_w has hidden[n-1].out entries (2*dim without hidden layers).
// count_a == count_b, or either is 1 (broadcast against the other); prob has max(count)
// entries (none when either count is 0).
void comparator_head(const float* emb_a, size_t count_a, const float* emb_b, size_t count_b,
                     size_t dim, const GcnDense* hidden, size_t n_hidden, const float* out_w,
                     float out_b, double* prob, int threads);

// ---- regression random forest (forest.cc) ------------------------------------------
// scikit-learn RandomForestRegressor semantics (squared error, max_features drawn per split,
// bootstrap as per-row counts, midpoint thresholds, x <= threshold goes left); the exact
// rules, the tie-break and the differences from sklearn are documented in forest.cc.
struct ForestParams {
  size_t trees = 100;
  size_t max_features = 1;       // features drawn per split, in [1, cols]
  size_t min_samples_split = 2;  // >= 2, distinct samples
  size_t min_samples_leaf = 1;   // >= 1, distinct samples
  size_t max_depth = 0;          // 0: unlimited; the root has depth 0
  bool bootstrap = true;
  uint64_t seed = 0;             // < 2^53; tree t draws from Random(seed, stream t)
};
// Trees one after another, nodes of a tree in preorder (the left child of an inner node is
// the next node); left/right are indices within the tree, -1 at leaves; feature is -1 at
// leaves; value is the node's weighted mean target (the prediction at a leaf); samples is
// its weighted sample count (sum of bootstrap counts), threshold 0 at leaves.
struct FlatForest {
  std::vector<int32_t> sizes, feature, left, right, samples;
  std::vector<double> threshold, value;
};
// x: rows*cols row-major, finite; y: rows finite targets; rows >= 1, cols >= 1.
// Bit-identical for any thread count.
void forest_fit(const float* x, size_t rows, size_t cols, const double* y, const ForestParams& params, int threads,
                FlatForest& out);
// A read-only view of a flat forest (sizes has `trees` entries, node arrays `nodes`).
struct ForestView {
  size_t trees = 0, nodes = 0;
  const int32_t* sizes = nullptr;
  const int32_t* feature = nullptr;
  const int32_t* left = nullptr;
  const int32_t* right = nullptr;
  const double* threshold = nullptr;
  const double* value = nullptr;
};
// Empty when the view is a well-formed forest over `cols` features (children after their
// parent and inside the tree, features in range, finite values); else what is wrong.
std::string forest_check(const ForestView& forest, size_t cols);
// out[r] = mean (or median) over trees of the leaf value row r reaches; forest checked.
void forest_predict(const ForestView& forest, const float* x, size_t rows, size_t cols, bool median, double* out,
                    int threads);

// ---- CUDA twins (cuda/*.cu), present when built with NASRANK_WITH_CUDA -------------
bool cuda_available();  // compiled with CUDA and a device is present
LossSums cuda_pairwise_rank_loss(const double* pred, const double* target, size_t n, Phi phi,
                                 double margin, double* grad);
LossSums cuda_triplet_rank_loss(const double* dist, const double* target, size_t n, Phi phi,
                                double margin, double* grad);
// gcn_forward on the device (same contract, any GcnVariant; no thread count). Dense over
// padded vertices.
void cuda_gcn_forward(const GcnGraphs& graphs, const GcnDense* layers, size_t n_layers,
                      const float* fc_w, float fc_b, float* embed_out, double* score_out, GcnVariant variant);


// ---- CTNAS comparator with a linear head (comparator.cc) ---------------------------
// p(i ≻ j) = σ(u_i + v_j + bias). out[i] = mean_{j≠i} p(i ≻ j) (Eq. 5); n == 1: out[0] = 0.
void comparator_row_means(const double* u, const double* v, size_t n, double bias, double* out, int threads);
// Eq. 12 over i < j: the sign product sgn(p_ij − 0.5)·sgn(truth_i − truth_j) counted exactly;
// ties sgn(0) = 0 (paper) or +1 (code_ties, both sides).
struct ComparatorKendallCounts {
  int64_t concordant = 0, discordant = 0, zero = 0;
};
ComparatorKendallCounts comparator_kendall(const double* u, const double* v, size_t n, double bias, const double* truth, bool code_ties,
                                           int threads);

// ---- CTNAS REINFORCE controller (controller.cc; lib/models/controller.ts is the reference) ----
// An LSTMCell of `hidden` units over `steps` decisions among `choices`; parameter and cache
// layouts are the TypeScript ones (10·hidden + choices doubles of cache per step).
size_t controller_param_count(size_t hidden, size_t choices);
struct ControllerSampleResult {
  double log_prob = 0, entropy = 0;
};
// One sequence: decision t is the first a with draws[t] < Σ_{b≤a} p_b (else the last), or
// forced[t] when forced is not null. Writes ops[steps] and cache[steps·(10H + C)].
ControllerSampleResult controller_sample(const double* params, size_t hidden, size_t choices, size_t steps,
                                         const double* draws, const uint8_t* forced, uint8_t* ops, double* cache);
// Adds to grad the gradient of −coef_log_prob·log π − coef_entropy·H of one sample.
void controller_backward(const double* params, double* grad, size_t hidden, size_t choices, size_t steps,
                         const uint8_t* ops, const double* cache, double coef_log_prob, double coef_entropy);
// n sequences (forward only), draws step-major (draws[t·n + k] for sample k at step t); samples
// sharing a prefix share its LSTM state. ops_out[k·steps + t].
void controller_sample_many(const double* params, size_t hidden, size_t choices, size_t steps, size_t n,
                            const double* draws, uint8_t* ops_out);
// ---- CTNAS NB-101 controller (controller.cc; lib/models/controller-nb101.ts is the reference) ----
// 18 decisions (the code's NASBenchController); seq[0] = n in 1..5, then the code's arch_seq.
// Parameter layout as the TypeScript; the cache holds 18 × nb101_controller_stride(hidden) doubles.
size_t nb101_controller_param_count(size_t hidden);
size_t nb101_controller_stride(size_t hidden);
// "" when seq (18 decisions) is a valid sequence, else "[t] must be …" naming the decision.
std::string nb101_controller_check_seq(const uint8_t* seq);
// One sequence: decision t is the first a with draws[t] < Σ_{b≤a} p_b (else the last), or
// forced[t] (a valid seq) when forced is not null. Writes seq[18] and cache.
ControllerSampleResult nb101_controller_sample(const double* params, size_t hidden, const double* draws, const uint8_t* forced,
                                               uint8_t* seq, double* cache);
// Adds to grad the gradient of −coef_log_prob·log π − coef_entropy·H of one sample (seq, cache).
void nb101_controller_backward(const double* params, double* grad, size_t hidden, const uint8_t* seq, const double* cache,
                               double coef_log_prob, double coef_entropy);
// n sequences (forward only), draws sample-major (draws[18k + t]); seqs[18k + t], log π and entropy per sample.
void nb101_controller_sample_many(const double* params, size_t hidden, size_t n, const double* draws, uint8_t* seqs,
                                  double* log_prob, double* entropy);
// Adam with coupled weight decay (g + wd·p), bias-corrected at `step` (≥ 1): lib/models/nac.ts's Adam.
// Returns false when a parameter came out non-finite.
bool adam_update(double* params, const double* grad, double* m, double* v, size_t n, double step, double lr,
                 double beta1, double beta2, double weight_decay, double eps);

}  // namespace nasrank
