// NAS-Bench-101 search space in plain C++ (no N-API): validity and pruning as the official
// nasbench ModelSpec / NASBench._check_spec, the official graph-invariant module hash, the
// enumeration of all unique cells (as nasbench's generate_graphs.py), the cost model of the
// official network (trainable parameters as in the dataset, multiply-accumulates), and the
// ReNAS feature tensor encoding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace nasrank {
namespace nb101 {

constexpr int kMaxVertices = 7;
constexpr int kMaxEdges = 9;
constexpr int kCells = 9;  // 3 stacks x 3 cells in the official network

// nasrank op codes (the contract's; the official hash uses other labels, see module_hash).
enum Op : uint8_t { kInput = 0, kConv1x1 = 1, kConv3x3 = 2, kMaxPool = 3, kOutput = 4, kNoVertex = 255 };

// Bit helpers (GCC/Clang builtins, a loop elsewhere).
inline int popcount32(uint32_t x) {
#if defined(__GNUC__)
  return __builtin_popcount(x);
#else
  int n = 0;
  for (; x; x &= x - 1) ++n;
  return n;
#endif
}
inline int ctz32(uint32_t x) {  // x != 0
#if defined(__GNUC__)
  return __builtin_ctz(x);
#else
  int n = 0;
  for (; !(x & 1u); x >>= 1) ++n;
  return n;
#endif
}

// Bit of edge i -> j (i < j) in the packed upper triangle of a 7x7 matrix.
constexpr int edge_bit(int i, int j) { return i * 7 - i * (i + 1) / 2 + (j - i - 1); }

// One cell in the columnar form: vertices 0..v-1, output at v-1.
struct Cell {
  uint8_t v = 0;
  uint32_t adj = 0;
  uint8_t ops[kMaxVertices] = {kNoVertex, kNoVertex, kNoVertex, kNoVertex, kNoVertex, kNoVertex, kNoVertex};
  bool edge(int i, int j) const { return i < j && ((adj >> edge_bit(i, j)) & 1u); }
};

// Why a spec is invalid. Names (rule_name) are part of the public error messages.
enum class Rule : int {
  Ok = 0,
  Shape = 1,            // not square, fewer than 2 or more than 7 vertices, ops length differs
  Entries = 2,          // a matrix entry other than 0/1
  UpperTriangular = 3,  // an edge on or below the diagonal
  Labels = 4,           // ops[0] not input, ops[V-1] not output, or an interior op not one of the three
  Disconnected = 5,     // no path from input to output
  MaxEdges = 6,         // more than 9 edges after pruning
  NotPruned = 7,        // (columnar cells only) a vertex not on an input -> output path
};
const char* rule_name(Rule rule);

struct Verdict {
  Rule rule = Rule::Ok;
  std::string detail;  // human-readable, names the offending entry
  bool ok() const { return rule == Rule::Ok; }
};

// A raw spec: v x v row-major 0/1 matrix (entries as given, any byte) and v op codes.
// Checks shape, entries, upper-triangularity and labels, then prunes exactly as
// ModelSpec._prune (keep the vertices both reachable from the input and reaching the output,
// in order), then the edge limit on the pruned matrix. On success writes the pruned cell.
Verdict analyze(int v, const uint8_t* matrix, const uint8_t* ops, Cell* out);

// A cell of a columnar batch: v in 2..7, ops valid and 255 beyond v, no adjacency bits
// outside the v x v upper triangle, already pruned, at most 9 edges.
Verdict check_cell(const Cell& cell);

// The official hash (nasbench graph_util.hash_module of the pruned matrix with labels
// input -1, output -2, conv3x3 0, conv1x1 1, maxpool 2): raw MD5 bytes.
void module_hash(const Cell& cell, uint8_t digest[16]);

// module_hash of n cells (16 bytes each into digests), through multi-lane MD5.
void module_hashes(const Cell* cells, size_t n, uint8_t* digests);

// All unique valid cells, sorted by hash bytes ascending. The representative of each hash
// is the first one generate_graphs.py meets (vertices, then its matrix bit string, then its
// labelling in itertools.product order), i.e. the one the official dataset stores.
struct Enumeration {
  std::vector<Cell> cells;
  std::vector<uint8_t> hashes;  // 16 bytes per cell
  uint64_t labelled_graphs = 0; // labelled full DAGs with <= 9 edges examined
};
Enumeration enumerate(int threads);

// ---- cost model of the official network (CIFAR-10, 32x32 input) ------------------------
// stem 3x3 conv 3->128 + BN + ReLU; 3 stacks x 3 cells, 2x2 max-pool and channel doubling
// before stacks 2 and 3 (128, 256, 512 channels at 32, 16, 8 pixels); global average pool;
// dense 512 -> 10 with bias. Params count every trainable variable (convs without bias, 2
// per BN channel, dense weights + bias); FLOPs count multiply-accumulates of convs and the
// dense layer.
constexpr double kStemParams = 3 * 3 * 3 * 128 + 2 * 128;
constexpr double kStemFlops = 32.0 * 32.0 * 3 * 3 * 3 * 128;
constexpr double kDenseParams = 512 * 10 + 10;
constexpr double kDenseFlops = 512 * 10;

// Per-vertex costs of the 9 cells (cell k, vertex u at [k * 7 + u]; input 0; an interior
// vertex carries its op plus the 1x1 projection of the cell input when the input feeds it;
// the output vertex carries the input -> output projection), and the network totals.
// vparams / vflops may be null.
void cell_cost(const Cell& cell, double* vparams, double* vflops, double* params, double* flops);

// ---- ReNAS feature tensor --------------------------------------------------------------
// Vertex order: by longest-path depth from the input (stable), optionally with vertices of
// equal depth shuffled; cells with fewer than 7 vertices padded before the output.
// order[p] = original vertex at padded position p (255 for padding).
void renas_order(const Cell& cell, bool augment, uint32_t seed_lo, uint32_t seed_hi, uint32_t stream,
                 uint8_t order[kMaxVertices]);

struct RenasOptions {
  int channels = 19;  // 19 (type + 9 FLOP + 9 param matrices) or 1 (type matrix only)
  bool nhwc = false;  // layout of one cell: [c][i][j] (false) or [i][j][c] (true)
  bool augment = false;
  uint32_t seed_lo = 0, seed_hi = 0;
  double flops_scale = 1, params_scale = 1;
};
// Writes channels * 49 floats for one cell; stream selects the augmentation sequence.
void renas_encode(const Cell& cell, const RenasOptions& options, uint32_t stream, float* out);

}  // namespace nb101
}  // namespace nasrank
