// NAS-Bench-101: validity, pruning, module hash, enumeration and cost model. See nb101.h.
#include "nb101.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "md5.h"
#include "parallel.h"
#include "sort.h"

namespace nasrank {
namespace nb101 {

namespace {

const char* op_label(int code) {
  switch (code) {
    case kInput: return "'input'";
    case kConv1x1: return "'conv1x1-bn-relu'";
    case kConv3x3: return "'conv3x3-bn-relu'";
    case kMaxPool: return "'maxpool3x3'";
    case kOutput: return "'output'";
    default: return "an unknown op";
  }
}

// The integer labels of nasbench's hash: canonical_ops = available_ops =
// [conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3] at their list index, input -1, output -2.
int official_label(int code) {
  switch (code) {
    case kInput: return -1;
    case kOutput: return -2;
    case kConv3x3: return 0;
    case kConv1x1: return 1;
    default: return 2;  // kMaxPool
  }
}

// Vertices reachable from the input and vertices reaching the output, as bit masks over
// 0..v-1. In an upper-triangular matrix index order is a topological order, so one pass
// each way equals the official DFS.
template <class Edge>
void reachability(int v, Edge edge, uint32_t* from_input, uint32_t* to_output) {
  uint32_t fwd = 1u;
  for (int j = 1; j < v; ++j) {
    for (int i = 0; i < j; ++i) {
      if (((fwd >> i) & 1u) && edge(i, j)) {
        fwd |= 1u << j;
        break;
      }
    }
  }
  uint32_t bwd = 1u << (v - 1);
  for (int i = v - 2; i >= 0; --i) {
    for (int j = i + 1; j < v; ++j) {
      if (((bwd >> j) & 1u) && edge(i, j)) {
        bwd |= 1u << i;
        break;
      }
    }
  }
  *from_input = fwd;
  *to_output = bwd;
}

Verdict fail(Rule rule, std::string detail) { return Verdict{rule, std::move(detail)}; }

std::string idx2(int i, int j) { return "[" + std::to_string(i) + "][" + std::to_string(j) + "]"; }

Verdict check_labels(int v, const uint8_t* ops) {
  if (ops[0] != kInput) return fail(Rule::Labels, std::string("ops[0] must be 'input', got ") + op_label(ops[0]));
  if (ops[v - 1] != kOutput) {
    return fail(Rule::Labels, "ops[" + std::to_string(v - 1) + "] (the last vertex) must be 'output', got " + op_label(ops[v - 1]));
  }
  for (int k = 1; k < v - 1; ++k) {
    if (ops[k] != kConv1x1 && ops[k] != kConv3x3 && ops[k] != kMaxPool) {
      return fail(Rule::Labels, "ops[" + std::to_string(k) + "] must be 'conv3x3-bn-relu', 'conv1x1-bn-relu' or 'maxpool3x3', got " + op_label(ops[k]));
    }
  }
  return {};
}

}  // namespace

const char* rule_name(Rule rule) {
  switch (rule) {
    case Rule::Ok: return "ok";
    case Rule::Shape: return "shape";
    case Rule::Entries: return "entries";
    case Rule::UpperTriangular: return "upper-triangular";
    case Rule::Labels: return "labels";
    case Rule::Disconnected: return "disconnected";
    case Rule::MaxEdges: return "max-edges";
    case Rule::NotPruned: return "not-pruned";
  }
  return "unknown";
}

Verdict analyze(int v, const uint8_t* matrix, const uint8_t* ops, Cell* out) {
  if (v < 2 || v > kMaxVertices) {
    return fail(Rule::Shape, "the matrix has " + std::to_string(v) + " vertices; a cell has 2 to 7 (input, up to 5 ops, output)");
  }
  for (int i = 0; i < v; ++i) {
    for (int j = 0; j < v; ++j) {
      uint8_t e = matrix[i * v + j];
      if (e > 1) return fail(Rule::Entries, "matrix" + idx2(i, j) + " is " + std::to_string(e) + "; entries must be 0 or 1");
    }
  }
  for (int i = 0; i < v; ++i) {
    for (int j = 0; j <= i; ++j) {
      if (matrix[i * v + j]) {
        return fail(Rule::UpperTriangular, "matrix" + idx2(i, j) + " is 1 but the matrix must be strictly upper triangular (edges go from a lower to a higher vertex)");
      }
    }
  }
  Verdict labels = check_labels(v, ops);
  if (!labels.ok()) return labels;

  uint32_t fwd, bwd;
  reachability(v, [&](int i, int j) { return matrix[i * v + j] != 0; }, &fwd, &bwd);
  uint32_t keep = fwd & bwd;
  // Official: when fewer than 2 vertices survive (the input does not reach the output).
  if (!(keep & 1u)) {
    return fail(Rule::Disconnected, "no path leads from the input (vertex 0) to the output (vertex " + std::to_string(v - 1) + ")");
  }
  int map[kMaxVertices];
  int pv = 0;
  for (int i = 0; i < v; ++i) map[i] = ((keep >> i) & 1u) ? pv++ : -1;
  Cell cell;
  cell.v = static_cast<uint8_t>(pv);
  for (int i = 0; i < v; ++i) {
    if (map[i] < 0) continue;
    cell.ops[map[i]] = ops[i];
    for (int j = i + 1; j < v; ++j) {
      if (map[j] >= 0 && matrix[i * v + j]) cell.adj |= 1u << edge_bit(map[i], map[j]);
    }
  }
  int edges = popcount32(cell.adj);
  if (edges > kMaxEdges) {
    return fail(Rule::MaxEdges, std::to_string(edges) + " edges remain after pruning; at most " + std::to_string(kMaxEdges) + " are allowed");
  }
  if (out) *out = cell;
  return {};
}

Verdict check_cell(const Cell& cell) {
  int v = cell.v;
  if (v < 2 || v > kMaxVertices) return fail(Rule::Shape, "vertices is " + std::to_string(v) + "; a cell has 2 to 7");
  Verdict labels = check_labels(v, cell.ops);
  if (!labels.ok()) return labels;
  for (int k = v; k < kMaxVertices; ++k) {
    if (cell.ops[k] != kNoVertex) {
      return fail(Rule::Shape, "ops[" + std::to_string(k) + "] is " + std::to_string(cell.ops[k]) + " but the cell has " + std::to_string(v) + " vertices; op codes beyond them must be 255");
    }
  }
  if (cell.adj >> 21) return fail(Rule::Shape, "adjacency has bits above bit 20; only the 21 upper-triangle bits of a 7x7 matrix are used");
  for (int i = 0; i < kMaxVertices; ++i) {
    for (int j = i + 1; j < kMaxVertices; ++j) {
      if ((j >= v) && cell.edge(i, j)) {
        return fail(Rule::Shape, "adjacency has the edge " + std::to_string(i) + " -> " + std::to_string(j) + " but the cell has " + std::to_string(v) + " vertices");
      }
    }
  }
  uint32_t fwd, bwd;
  reachability(v, [&](int i, int j) { return cell.edge(i, j); }, &fwd, &bwd);
  if (!(fwd & bwd & 1u)) return fail(Rule::Disconnected, "no path leads from the input to the output");
  uint32_t all = (1u << v) - 1;
  if ((fwd & bwd) != all) {
    uint32_t off = all & ~(fwd & bwd);
    return fail(Rule::NotPruned, "vertex " + std::to_string(ctz32(off)) + " is not on a path from the input to the output (cells must be pruned)");
  }
  int edges = popcount32(cell.adj);
  if (edges > kMaxEdges) return fail(Rule::MaxEdges, std::to_string(edges) + " edges; at most " + std::to_string(kMaxEdges) + " are allowed");
  return {};
}

// ---- module hash -----------------------------------------------------------------------

void module_hash(const Cell& cell, uint8_t digest[16]) {
  const int v = cell.v;
  uint8_t h[kMaxVertices][16], nh[kMaxVertices][16];
  int in_deg[kMaxVertices] = {0}, out_deg[kMaxVertices] = {0};
  for (int i = 0; i < v; ++i) {
    for (int j = i + 1; j < v; ++j) {
      if (cell.edge(i, j)) {
        ++out_deg[i];
        ++in_deg[j];
      }
    }
  }
  // str((out_degree, in_degree, label)) of Python ints, e.g. "(2, 0, -1)".
  for (int u = 0; u < v; ++u) {
    char text[48];
    int n = std::snprintf(text, sizeof text, "(%d, %d, %d)", out_deg[u], in_deg[u], official_label(cell.ops[u]));
    md5(reinterpret_cast<const uint8_t*>(text), static_cast<size_t>(n), h[u]);
  }
  // Sorting hex strings equals sorting the digests bytewise (insertion sort: at most 7).
  auto sort = [](const uint8_t** first, int n) {
    for (int k = 1; k < n; ++k) {
      const uint8_t* x = first[k];
      int j = k;
      for (; j > 0 && std::memcmp(first[j - 1], x, 16) > 0; --j) first[j] = first[j - 1];
      first[j] = x;
    }
  };
  char text[(2 * kMaxVertices + 1) * 32 + 8];
  for (int round = 0; round < v; ++round) {
    for (int u = 0; u < v; ++u) {
      const uint8_t* in[kMaxVertices];
      const uint8_t* out[kMaxVertices];
      int nin = 0, nout = 0;
      for (int w = 0; w < v; ++w) {
        if (cell.edge(w, u)) in[nin++] = h[w];
        if (cell.edge(u, w)) out[nout++] = h[w];
      }
      sort(in, nin);
      sort(out, nout);
      size_t len = 0;
      for (int k = 0; k < nin; ++k, len += 32) hex32(in[k], text + len);
      text[len++] = '|';
      for (int k = 0; k < nout; ++k, len += 32) hex32(out[k], text + len);
      text[len++] = '|';
      hex32(h[u], text + len);
      len += 32;
      md5(reinterpret_cast<const uint8_t*>(text), len, nh[u]);
    }
    std::memcpy(h, nh, sizeof h);
  }
  // str(sorted(hashes)): "['<hex>', '<hex>', ...]".
  const uint8_t* sorted[kMaxVertices];
  for (int u = 0; u < v; ++u) sorted[u] = h[u];
  sort(sorted, v);
  char list[kMaxVertices * 36 + 4];
  size_t len = 0;
  list[len++] = '[';
  for (int u = 0; u < v; ++u) {
    if (u) {
      list[len++] = ',';
      list[len++] = ' ';
    }
    list[len++] = '\'';
    hex32(sorted[u], list + len);
    len += 32;
    list[len++] = '\'';
  }
  list[len++] = ']';
  md5(reinterpret_cast<const uint8_t*>(list), len, digest);
}

// ---- many module hashes at once ----------------------------------------------------------

namespace {

// md5 of str((out_degree, in_degree, label)) for every degree 0..6 and label -2..2.
struct TupleHashes {
  uint8_t digest[7][7][5][16];
  TupleHashes() {
    for (int o = 0; o < 7; ++o) {
      for (int i = 0; i < 7; ++i) {
        for (int l = -2; l <= 2; ++l) {
          char text[48];
          int n = std::snprintf(text, sizeof text, "(%d, %d, %d)", o, i, l);
          md5(reinterpret_cast<const uint8_t*>(text), static_cast<size_t>(n), digest[o][i][l + 2]);
        }
      }
    }
  }
};

const TupleHashes& tuple_hashes() {
  static const TupleHashes table;
  return table;
}

// One cell being hashed in one lane: the official algorithm as a sequence of messages
// (v rounds of v vertex messages, then the final list), each padded into `buf`.
struct HashLane {
  bool active = false;
  size_t index = 0;
  int v = 0, round = 0, vertex = 0;  // vertex == v: the final message
  uint8_t in[kMaxVertices][kMaxVertices], out[kMaxVertices][kMaxVertices];
  int nin[kMaxVertices], nout[kMaxVertices];
  uint8_t h[kMaxVertices][16], nh[kMaxVertices][16];
  char hex[kMaxVertices][32];  // h in hex, encoded once per round
  int blocks = 0, block = 0;
  alignas(64) uint8_t buf[576];  // longest message: 13 digests in hex + 2 bars = 418 bytes

  void pad(size_t len) {
    buf[len] = 0x80;
    blocks = static_cast<int>((len + 9 + 63) / 64);
    size_t total = static_cast<size_t>(blocks) * 64;
    std::memset(buf + len + 1, 0, total - len - 1);
    uint64_t bits = static_cast<uint64_t>(len) * 8;
    for (int i = 0; i < 8; ++i) buf[total - 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
    block = 0;
  }

  void start(const Cell& cell, size_t i) {
    active = true;
    index = i;
    v = cell.v;
    for (int u = 0; u < v; ++u) nin[u] = nout[u] = 0;
    for (int a = 0; a < v; ++a) {
      for (int b = a + 1; b < v; ++b) {
        if (cell.edge(a, b)) {
          out[a][nout[a]++] = static_cast<uint8_t>(b);
          in[b][nin[b]++] = static_cast<uint8_t>(a);
        }
      }
    }
    const TupleHashes& table = tuple_hashes();
    for (int u = 0; u < v; ++u) std::memcpy(h[u], table.digest[nout[u]][nin[u]][official_label(cell.ops[u]) + 2], 16);
    encode_round();
    round = 0;
    vertex = 0;
    vertex_message();
  }

  void encode_round() {
    for (int u = 0; u < v; ++u) hex32(h[u], hex[u]);
  }

  // order[0..count) = vertices sorted by their current digest (= by their hex strings).
  void sorted_by_digest(const uint8_t* vertices, int count, uint8_t* order) const {
    for (int k = 0; k < count; ++k) {
      uint8_t x = vertices[k];
      int j = k;
      for (; j > 0 && std::memcmp(h[order[j - 1]], h[x], 16) > 0; --j) order[j] = order[j - 1];
      order[j] = x;
    }
  }

  // Appends the hex digests of `vertices`, sorted.
  size_t append_sorted(const uint8_t* vertices, int count, size_t len) {
    uint8_t order[kMaxVertices];
    sorted_by_digest(vertices, count, order);
    for (int k = 0; k < count; ++k, len += 32) std::memcpy(buf + len, hex[order[k]], 32);
    return len;
  }

  void vertex_message() {
    const int u = vertex;
    size_t len = append_sorted(in[u], nin[u], 0);
    buf[len++] = '|';
    len = append_sorted(out[u], nout[u], len);
    buf[len++] = '|';
    std::memcpy(buf + len, hex[u], 32);
    pad(len + 32);
  }

  void final_message() {
    // str(sorted(hashes)): "['<hex>', '<hex>', ...]".
    static const uint8_t kAll[kMaxVertices] = {0, 1, 2, 3, 4, 5, 6};
    uint8_t order[kMaxVertices];
    sorted_by_digest(kAll, v, order);
    size_t len = 0;
    buf[len++] = '[';
    for (int k = 0; k < v; ++k) {
      if (k) {
        buf[len++] = ',';
        buf[len++] = ' ';
      }
      buf[len++] = '\'';
      std::memcpy(buf + len, hex[order[k]], 32);
      len += 32;
      buf[len++] = '\'';
    }
    buf[len++] = ']';
    pad(len);
  }

  // The message just finished with `digest`; returns true when the cell's hash is complete.
  bool finished(const uint8_t digest[16], uint8_t* result) {
    if (vertex == v) {
      std::memcpy(result, digest, 16);
      return true;
    }
    std::memcpy(nh[vertex], digest, 16);
    if (++vertex == v) {
      std::memcpy(h, nh, sizeof h);
      encode_round();
      vertex = 0;
      if (++round == v) {
        vertex = v;
        final_message();
        return false;
      }
    }
    vertex_message();
    return false;
  }
};

}  // namespace

void module_hashes(const Cell* cells, size_t n, uint8_t* digests) {
  // Every lane works through its own cells message by message, so lanes stay busy although
  // messages differ in length; each step compresses one block in every lane.
  HashLane lanes[kMd5Lanes];
  uint32_t state[4][kMd5Lanes];
  alignas(64) static const uint8_t kIdle[64] = {0};
  size_t next = 0;
  auto reset = [&](int l) {
    for (int w = 0; w < 4; ++w) state[w][l] = kMd5Init[w];
  };
  for (int l = 0; l < kMd5Lanes && next < n; ++l) {
    lanes[l].start(cells[next], next);
    ++next;
    reset(l);
  }
  const uint8_t* blocks[kMd5Lanes];
  for (;;) {
    bool any = false;
    for (int l = 0; l < kMd5Lanes; ++l) {
      blocks[l] = lanes[l].active ? lanes[l].buf + 64 * lanes[l].block : kIdle;
      any = any || lanes[l].active;
    }
    if (!any) break;
    md5_compress_lanes(state, blocks);
    for (int l = 0; l < kMd5Lanes; ++l) {
      HashLane& lane = lanes[l];
      if (!lane.active || ++lane.block < lane.blocks) continue;
      uint8_t digest[16];
      for (int w = 0; w < 4; ++w) {
        for (int k = 0; k < 4; ++k) digest[4 * w + k] = static_cast<uint8_t>(state[w][l] >> (8 * k));
      }
      reset(l);
      if (lane.finished(digest, digests + 16 * lane.index)) {
        lane.active = false;
        if (next < n) {
          lane.start(cells[next], next);
          ++next;
        }
      }
    }
  }
}

// ---- enumeration -----------------------------------------------------------------------

namespace {

uint64_t mix64(uint64_t x) {  // splitmix64's finaliser: a bijection with full avalanche
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

// An unlabelled full DAG: predecessor / successor masks.
struct Dag {
  int v;
  uint8_t in[kMaxVertices], out[kMaxVertices];
  uint8_t in_deg[kMaxVertices], out_deg[kMaxVertices];
};

// The same refinement as the official hash (start from (out-degree, in-degree, label);
// v rounds of (multiset of in-neighbour values, multiset of out-neighbour values, own
// value); the multiset of final values), with a 64-bit mixer and sums of mixed values as
// multiset hashes instead of MD5 over sorted hex strings. Graphs the official hash equates
// get the same key; distinct ones collide with probability ~2^-64 per pair. Used only to
// find the groups; every representative then gets its MD5 hash, and enumerate() checks
// the MD5 hashes too.
uint64_t refinement_key(const Dag& g, const int* label) {
  const int v = g.v;
  uint64_t h[kMaxVertices], a[kMaxVertices], b[kMaxVertices], nh[kMaxVertices];
  for (int u = 0; u < v; ++u) {
    h[u] = mix64(0x51ED270B27A3A5C1ull + (static_cast<uint64_t>(g.out_deg[u]) << 32) + (static_cast<uint64_t>(g.in_deg[u]) << 16) +
                 static_cast<uint64_t>(label[u] + 8));
  }
  for (int round = 0; round < v; ++round) {
    for (int u = 0; u < v; ++u) {
      a[u] = mix64(h[u] ^ 0x243F6A8885A308D3ull);
      b[u] = mix64(h[u] ^ 0x13198A2E03707344ull);
    }
    for (int u = 0; u < v; ++u) {
      uint64_t sin = 0, sout = 0;
      for (uint32_t m = g.in[u]; m; m &= m - 1) sin += a[ctz32(m)];
      for (uint32_t m = g.out[u]; m; m &= m - 1) sout += b[ctz32(m)];
      nh[u] = mix64(mix64(h[u] ^ sin) + sout);
    }
    std::memcpy(h, nh, sizeof(uint64_t) * static_cast<size_t>(v));
  }
  uint64_t key = mix64(static_cast<uint64_t>(v) * 0xA4093822299F31D0ull);
  for (int u = 0; u < v; ++u) key += mix64(h[u] ^ 0x082EFA98EC4E6C89ull);
  return key;
}

// generate_graphs.py's bit order: edge x -> y (x < y) is bit x + y(y-1)/2.
inline int official_bit(int x, int y) { return x + y * (y - 1) / 2; }

// Ordinal in generate_graphs.py's loop order: vertices, bits, labelling index (the
// labelling as a base-3 number, first interior vertex most significant).
inline uint64_t ordinal(int v, uint32_t bits, uint32_t labelling) {
  return (static_cast<uint64_t>(v) << 40) | (static_cast<uint64_t>(bits) << 8) | labelling;
}

bool full_dag(int v, uint32_t bits, Dag* g) {
  g->v = v;
  for (int u = 0; u < v; ++u) g->in[u] = g->out[u] = g->in_deg[u] = g->out_deg[u] = 0;
  for (int y = 1; y < v; ++y) {
    for (int x = 0; x < y; ++x) {
      if ((bits >> official_bit(x, y)) & 1u) {
        g->out[x] |= static_cast<uint8_t>(1u << y);
        g->in[y] |= static_cast<uint8_t>(1u << x);
        ++g->out_deg[x];
        ++g->in_deg[y];
      }
    }
  }
  // is_full_dag: only the output lacks out-edges, only the input lacks in-edges.
  for (int u = 0; u < v - 1; ++u) if (!g->out[u]) return false;
  for (int u = 1; u < v; ++u) if (!g->in[u]) return false;
  return true;
}

Cell decode(uint64_t ord) {
  int v = static_cast<int>(ord >> 40);
  uint32_t bits = static_cast<uint32_t>((ord >> 8) & 0xFFFFFFFFull);
  uint32_t labelling = static_cast<uint32_t>(ord & 0xFF);
  Cell c;
  c.v = static_cast<uint8_t>(v);
  for (int y = 1; y < v; ++y) {
    for (int x = 0; x < y; ++x) {
      if ((bits >> official_bit(x, y)) & 1u) c.adj |= 1u << edge_bit(x, y);
    }
  }
  c.ops[0] = kInput;
  c.ops[v - 1] = kOutput;
  static const uint8_t kFromOfficial[3] = {kConv3x3, kConv1x1, kMaxPool};
  for (int k = v - 2; k >= 1; --k) {
    c.ops[k] = kFromOfficial[labelling % 3];
    labelling /= 3;
  }
  return c;
}

}  // namespace

Enumeration enumerate(int threads) {
  // Tasks: one per vertex count below 7, 64 slices of the 2^21 bit strings for 7.
  struct Task {
    int v;
    uint32_t begin, end;
  };
  std::vector<Task> tasks;
  for (int v = 2; v <= kMaxVertices; ++v) {
    uint32_t total = 1u << (v * (v - 1) / 2);
    uint32_t slices = v == kMaxVertices ? 64 : 1;
    for (uint32_t s = 0; s < slices; ++s) tasks.push_back({v, total / slices * s, total / slices * (s + 1)});
  }
  std::vector<std::vector<KeyPair>> found(tasks.size());
  parallel_items(tasks.size(), threads, [&](size_t t) {
    const Task& task = tasks[t];
    const int v = task.v;
    const int interior = v - 2;
    uint32_t labellings = 1;
    for (int k = 0; k < interior; ++k) labellings *= 3;
    std::vector<KeyPair>& out = found[t];
    Dag g;
    int label[kMaxVertices];
    for (uint32_t bits = task.begin; bits < task.end; ++bits) {
      if (popcount32(bits) > kMaxEdges || !full_dag(v, bits, &g)) continue;
      label[0] = -1;
      label[v - 1] = -2;
      for (int k = 1; k <= interior; ++k) label[k] = 0;
      for (uint32_t l = 0; l < labellings; ++l) {
        out.push_back({refinement_key(g, label), ordinal(v, bits, l)});
        // next labelling in itertools.product order (last position fastest)
        for (int k = interior; k >= 1; --k) {
          if (++label[k] < 3) break;
          label[k] = 0;
        }
      }
    }
  });
  size_t total = 0;
  for (auto& f : found) total += f.size();
  std::vector<KeyPair> all;
  all.reserve(total);
  for (auto& f : found) {
    all.insert(all.end(), f.begin(), f.end());
    std::vector<KeyPair>().swap(f);
  }
  {
    std::vector<KeyPair> scratch(all.size());
    sort_pairs(all.data(), scratch.data(), all.size(), threads);
  }
  // First (smallest ordinal) of every group of equal keys.
  std::vector<uint64_t> reps;
  for (size_t k = 0; k < all.size(); ++k) {
    if (k == 0 || all[k].key != all[k - 1].key) reps.push_back(all[k].payload);
  }
  Enumeration e;
  e.labelled_graphs = all.size();
  std::vector<KeyPair>().swap(all);

  const size_t n = reps.size();
  std::vector<Cell> cells(n);
  std::vector<uint8_t> hashes(n * 16);
  parallel_chunks(n, 64, threads, [&](size_t, size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      cells[k] = decode(reps[k]);
    }
    module_hashes(&cells[begin], end - begin, &hashes[begin * 16]);
  });
  // Sort by hash; equal MD5 hashes (which would be an MD5 collision between groups the
  // refinement tells apart) keep the first representative, as the official dict does.
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    int c = std::memcmp(&hashes[a * 16], &hashes[b * 16], 16);
    return c != 0 ? c < 0 : reps[a] < reps[b];
  });
  e.cells.reserve(n);
  e.hashes.reserve(n * 16);
  for (size_t k = 0; k < n; ++k) {
    uint32_t i = order[k];
    if (k > 0 && std::memcmp(&hashes[i * 16], &hashes[order[k - 1] * 16], 16) == 0) continue;
    e.cells.push_back(cells[i]);
    e.hashes.insert(e.hashes.end(), &hashes[i * 16], &hashes[i * 16] + 16);
  }
  return e;
}

// ---- cost model ------------------------------------------------------------------------

namespace {

// nasbench model_builder.compute_vertex_channels for the output channel counts 128, 256 and
// 512 at once (ch[s][u] for stack s; the input vertex's entry is left 0): the output's
// channels split evenly over the interior vertices feeding it, the first C mod fan-in of
// them (in vertex order) one more; every other interior vertex, from the last backwards,
// the maximum over its interior successors.
void stack_channels(const Cell& cell, int ch[3][kMaxVertices]) {
  const int v = cell.v;
  uint32_t succ[kMaxVertices] = {0};
  for (int i = 0; i < v; ++i) {
    for (int j = i + 1; j < v; ++j) succ[i] |= static_cast<uint32_t>(cell.edge(i, j)) << j;
  }
  const uint32_t to_output = 1u << (v - 1);
  int fan_in = 0;
  for (int u = 1; u < v - 1; ++u) fan_in += (succ[u] & to_output) != 0;
  for (int s = 0; s < 3; ++s) {
    const int c_out = 128 << s;
    for (int u = 0; u < kMaxVertices; ++u) ch[s][u] = 0;
    ch[s][v - 1] = c_out;
    if (v == 2) continue;
    const int share = c_out / fan_in;
    int correction = c_out % fan_in;
    for (int u = 1; u < v - 1; ++u) {
      if (succ[u] & to_output) {
        ch[s][u] = share + (correction > 0);
        if (correction > 0) --correction;
      }
    }
    for (int u = v - 3; u > 0; --u) {
      if (succ[u] & to_output) continue;
      int c = 0;
      for (uint32_t m = succ[u]; m; m &= m - 1) c = std::max(c, ch[s][ctz32(m)]);
      ch[s][u] = c;
    }
  }
}

}  // namespace

void cell_cost(const Cell& cell, double* vparams, double* vflops, double* params, double* flops) {
  const int v = cell.v;
  // Vertex channels depend only on the cell's output channels (128, 256, 512 per stack);
  // the input channels only enter through the projections.
  int ch[3][kMaxVertices];
  stack_channels(cell, ch);
  bool from_input[kMaxVertices];
  for (int u = 0; u < v; ++u) from_input[u] = cell.edge(0, u);
  double total_params = kStemParams + kDenseParams;
  double total_flops = kStemFlops + kDenseFlops;
  if (!vparams && !vflops) {
    // Totals only: per stack, the op costs are the same in its 3 cells and the projections
    // are linear in the cell's input channels. All terms are integers below 2^53, so any
    // summation order gives the same doubles as the per-vertex path.
    const bool direct = from_input[v - 1];
    for (int stack = 0; stack < 3; ++stack) {
      const double c_out = 128 << stack;
      const double side = 32 >> stack;
      const double pixels = side * side;
      double proj = 0, op_params = 0, op_macs = 0;  // proj: channels of vertices the input feeds
      for (int u = 1; u < v - 1; ++u) {
        const double c = ch[stack][u];
        if (from_input[u]) proj += c;
        if (cell.ops[u] == kConv1x1) {
          op_params += c * c + 2 * c;
          op_macs += c * c;
        } else if (cell.ops[u] == kConv3x3) {
          op_params += 9 * c * c + 2 * c;
          op_macs += 9 * c * c;
        }
      }
      const double c_in_first = stack == 0 ? 128 : c_out / 2;
      for (int m = 0; m < 3; ++m) {
        const double c_in = m == 0 ? c_in_first : c_out;
        double p = op_params + c_in * proj + 2 * proj;
        double f = pixels * (op_macs + c_in * proj);
        if (direct) {
          p += c_in * c_out + 2 * c_out;
          f += pixels * c_in * c_out;
        }
        total_params += p;
        total_flops += f;
      }
    }
    if (params) *params = total_params;
    if (flops) *flops = total_flops;
    return;
  }
  for (int k = 0; k < kCells; ++k) {
    const int stack = k / 3;
    const double c_out = 128 << stack;
    const double c_in = (k % 3 != 0) ? c_out : (stack == 0 ? 128 : c_out / 2);
    const double side = 32 >> stack;
    const double pixels = side * side;
    double* vp = vparams ? vparams + k * kMaxVertices : nullptr;
    double* vf = vflops ? vflops + k * kMaxVertices : nullptr;
    if (vp) vp[0] = 0;
    if (vf) vf[0] = 0;
    for (int u = 1; u < v - 1; ++u) {
      const double c = ch[stack][u];
      double p = 0, f = 0;
      if (from_input[u]) {  // 1x1 conv-BN-ReLU projection of the cell input
        p += c_in * c + 2 * c;
        f += pixels * c_in * c;
      }
      if (cell.ops[u] == kConv1x1) {
        p += c * c + 2 * c;
        f += pixels * c * c;
      } else if (cell.ops[u] == kConv3x3) {
        p += 9 * c * c + 2 * c;
        f += pixels * 9 * c * c;
      }
      if (vp) vp[u] = p;
      if (vf) vf[u] = f;
      total_params += p;
      total_flops += f;
    }
    double p = 0, f = 0;
    if (from_input[v - 1]) {  // input -> output projection
      p = c_in * c_out + 2 * c_out;
      f = pixels * c_in * c_out;
    }
    if (vp) vp[v - 1] = p;
    if (vf) vf[v - 1] = f;
    total_params += p;
    total_flops += f;
    for (int u = v; u < kMaxVertices; ++u) {
      if (vp) vp[u] = 0;
      if (vf) vf[u] = 0;
    }
  }
  if (params) *params = total_params;
  if (flops) *flops = total_flops;
}

}  // namespace nb101
}  // namespace nasrank
