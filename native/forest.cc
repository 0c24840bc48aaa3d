// Regression random forest with scikit-learn's RandomForestRegressor semantics (CART,
// squared error), trees built in parallel, prediction in parallel.
//
// A tree is grown depth first from a node's segment of the tree's sample list. At a node:
//   - it is a leaf when depth >= max_depth (max_depth > 0), when it holds fewer than
//     min_samples_split or fewer than 2 * min_samples_leaf distinct samples, or when every
//     target in it is equal (sklearn: impurity <= eps; here exactly equal);
//   - otherwise features are drawn uniformly without replacement until max_features have
//     been drawn and at least one of them is not constant over the node (sklearn's
//     BestSplitter: constant features count as drawn, but the draw goes on while every
//     drawn feature was constant; features constant in an ancestor are known and counted
//     without being scanned);
//   - for each drawn feature the node's samples are ordered by the feature's value rank
//     (bucketed when the node spans few distinct values, else sorted: O(m log m)) and
//     every boundary between consecutive distinct values leaving >= min_samples_leaf
//     distinct samples on each side is scored by sklearn's proxy of the variance reduction,
//     sum_left^2 / w_left + sum_right^2 / w_right (weighted sums: w = bootstrap counts);
//   - the threshold is the midpoint a/2 + b/2 of the two values (a when that rounds to b),
//     and a row goes left when x <= threshold;
//   - TIE-BREAK (deterministic, independent of the order in which features were drawn):
//     the largest proxy wins; among equal proxies the lowest feature index, then the lowest
//     threshold. A split is made whenever one is valid, even with zero gain (as sklearn).
// A leaf predicts the (bootstrap-weighted) mean target of its samples.
//
// Bootstrap (sklearn's way): n draws with replacement; a row drawn k times carries weight k,
// and min_samples_split / min_samples_leaf count distinct rows (sklearn's n_node_samples).
// Differences from sklearn, all deliberate: features are compared exactly (sklearn treats
// values within 1e-7 as equal), a node is pure only when its targets are exactly equal, and
// the random streams differ (same distribution, not the same draws).
//
// Randomness: tree t draws from Random(seed, stream = t) and is built by one thread from
// read-only shared inputs, so the forest is bit-identical for any thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels.h"
#include "parallel.h"
#include "random.h"

namespace nasrank {

namespace {

// Per feature, its distinct values in ascending order. Splits are searched on value ranks:
// x <= threshold exactly when rank(x) <= rank(a), a the lower of the two values.
struct Levels {
  size_t rows = 0, cols = 0, max_distinct = 1;
  std::vector<size_t> start;  // cols + 1 offsets into values
  std::vector<float> values;
};

Levels distinct_values(const float* x, size_t rows, size_t cols, int threads) {
  Levels lv;
  lv.rows = rows;
  lv.cols = cols;
  std::vector<std::vector<float>> uniq(cols);
  parallel_chunks(cols, std::min<size_t>(cols, 64), threads, [&](size_t, size_t begin, size_t end) {
    std::vector<float> column(rows);
    for (size_t f = begin; f < end; ++f) {
      for (size_t i = 0; i < rows; ++i) column[i] = x[i * cols + f] + 0.0f;  // -0 -> +0
      std::sort(column.begin(), column.end());
      uniq[f].assign(column.begin(), std::unique(column.begin(), column.end()));
    }
  });
  lv.start.assign(cols + 1, 0);
  for (size_t f = 0; f < cols; ++f) {
    lv.start[f + 1] = lv.start[f] + uniq[f].size();
    lv.max_distinct = std::max(lv.max_distinct, uniq[f].size());
  }
  lv.values.reserve(lv.start[cols]);
  for (auto& u : uniq) lv.values.insert(lv.values.end(), u.begin(), u.end());
  return lv;
}

// Every row's dense rank among its feature's distinct values, in the narrowest type R that
// holds them (fewer bytes gathered per sample), twice: column-major, which a large node
// streams one feature at a time, and row-major, where a small node's rows are a few cache
// lines each that stay cached across the node's feature draws (in a column every sample
// of a small node is a cache miss).
template <class R>
struct Ranks {
  std::vector<R> by_col;  // cols * rows
  std::vector<R> by_row;  // rows * cols
};

template <class R>
Ranks<R> rank_rows(const float* x, const Levels& lv, int threads) {
  const size_t rows = lv.rows, cols = lv.cols;
  Ranks<R> rk;
  rk.by_col.resize(rows * cols);
  rk.by_row.resize(rows * cols);
  parallel_chunks(cols, std::min<size_t>(cols, 64), threads, [&](size_t, size_t begin, size_t end) {
    for (size_t f = begin; f < end; ++f) {
      const float* lo = lv.values.data() + lv.start[f];
      const float* hi = lv.values.data() + lv.start[f + 1];
      R* col = rk.by_col.data() + f * rows;
      for (size_t i = 0; i < rows; ++i) col[i] = static_cast<R>(std::lower_bound(lo, hi, x[i * cols + f] + 0.0f) - lo);
    }
  });
  constexpr size_t kBlock = 64;  // rows per transposed block
  parallel_chunks(rows, (rows + kBlock - 1) / kBlock, threads, [&](size_t, size_t begin, size_t end) {
    for (size_t f = 0; f < cols; ++f) {
      const R* col = rk.by_col.data() + f * rows;
      for (size_t i = begin; i < end; ++i) rk.by_row[i * cols + f] = col[i];
    }
  });
  return rk;
}

struct Tree {
  std::vector<int32_t> feature, left, right, samples;
  std::vector<double> threshold, value;
};

struct Split {
  bool found = false;
  double proxy = 0;
  uint32_t feature = 0;
  uint32_t rank = 0;  // rows with rank <= this go left
  double threshold = 0;
};

// Is candidate (proxy, f, rank) better than best under the documented tie-break? (Within a
// feature a lower rank is a lower threshold.)
inline bool better(double proxy, uint32_t f, uint32_t rank, const Split& best) {
  if (!best.found || proxy > best.proxy) return true;
  if (proxy < best.proxy) return false;
  if (f != best.feature) return f < best.feature;
  return rank < best.rank;
}

// A node of at most this many rank bytes (samples * cols * sizeof(R)) gathers its ranks
// from the row-major copy: its rows then stay in L2 across the feature draws.
constexpr size_t kRowMajorBytes = 512 << 10;

template <class R>
class TreeBuilder {
 public:
  TreeBuilder(const Levels& levels, const Ranks<R>& ranks, const double* y, const ForestParams& p, size_t tree)
      : d_(levels), rk_(ranks), y_(y), p_(p),
        rng_(static_cast<uint32_t>(p.seed), static_cast<uint32_t>(p.seed >> 32), static_cast<uint32_t>(tree)) {}

  Tree Build() {
    const size_t rows = d_.rows, cols = d_.cols;
    // The tree's samples: distinct rows with their bootstrap counts as weights.
    if (p_.bootstrap) {
      std::vector<uint32_t> counts(rows, 0);
      for (size_t i = 0; i < rows; ++i) counts[rng_.below(rows)]++;
      for (size_t r = 0; r < rows; ++r) {
        if (counts[r] == 0) continue;
        row_.push_back(static_cast<uint32_t>(r));
        w_.push_back(counts[r]);
      }
    } else {
      row_.resize(rows);
      for (size_t r = 0; r < rows; ++r) row_[r] = static_cast<uint32_t>(r);
      w_.assign(rows, 1);
    }
    const size_t m = row_.size();
    ys_.resize(m);
    for (size_t i = 0; i < m; ++i) ys_[i] = y_[row_[i]];
    features_.resize(cols);
    for (size_t f = 0; f < cols; ++f) features_[f] = static_cast<uint32_t>(f);
    keys_.resize(m);
    ranks_.resize(m);
    tmp_row_.resize(m);
    tmp_w_.resize(m);
    tmp_y_.resize(m);
    hist_count_.assign(d_.max_distinct, 0);
    hist_w_.assign(d_.max_distinct, 0);
    hist_y_.assign(d_.max_distinct, 0.0);

    struct Pending {
      size_t start, end, depth, known_constants;
      int32_t parent;
      bool is_left;
    };
    std::vector<Pending> stack;
    stack.push_back({0, m, 0, 0, -1, false});
    while (!stack.empty()) {
      Pending node = stack.back();
      stack.pop_back();
      const int32_t id = static_cast<int32_t>(tree_.feature.size());
      if (node.parent >= 0) (node.is_left ? tree_.left : tree_.right)[node.parent] = id;
      double wsum = 0, ysum = 0, ymin = ys_[node.start], ymax = ys_[node.start];
      for (size_t i = node.start; i < node.end; ++i) {
        wsum += w_[i];
        ysum += w_[i] * ys_[i];
        ymin = std::min(ymin, ys_[i]);
        ymax = std::max(ymax, ys_[i]);
      }
      tree_.feature.push_back(-1);
      tree_.threshold.push_back(0.0);
      tree_.left.push_back(-1);
      tree_.right.push_back(-1);
      tree_.value.push_back(ysum / wsum);
      tree_.samples.push_back(static_cast<int32_t>(wsum));
      const size_t count = node.end - node.start;
      bool leaf = (p_.max_depth > 0 && node.depth >= p_.max_depth) || count < p_.min_samples_split ||
                  count < 2 * p_.min_samples_leaf || ymin == ymax;
      if (leaf) continue;
      size_t constants = node.known_constants;
      Split best = FindSplit(node.start, node.end, wsum, ysum, constants);
      if (!best.found) continue;
      size_t mid = Partition(node.start, node.end, best.feature, best.rank);
      tree_.feature[id] = static_cast<int32_t>(best.feature);
      tree_.threshold[id] = best.threshold;
      // Right first, so the left child is popped next: preorder numbering, left = id + 1.
      stack.push_back({mid, node.end, node.depth + 1, constants, id, false});
      stack.push_back({node.start, mid, node.depth + 1, constants, id, true});
    }
    return std::move(tree_);
  }

 private:
  // Draws features and returns the best split of [start, end). `constants` enters as the
  // number of features known to be constant here (features_[0, constants): constant in an
  // ancestor, hence here) and leaves as that number plus the constants found at this node
  // (moved to features_[known, known + found)), which the children inherit. The children
  // only reorder features_ beyond that prefix, so a sibling finds its prefix intact.
  //
  // The draw is uniform without replacement over all features: a drawn known constant
  // counts as visited without being scanned (as sklearn's BestSplitter); the node's swaps
  // inside the known prefix are undone before returning. Layout while drawing: [0, drawn_known) known constants drawn, [drawn_known, known) known undrawn,
  // [known, known + found) found constant, [known + found, end_free) undrawn,
  // [end_free, cols) drawn and not constant.
  Split FindSplit(size_t start, size_t end, double wsum, double ysum, size_t& constants) {
    Split best;
    const size_t m = end - start, cols = d_.cols, known = constants;
    size_t drawn_known = 0, found = 0, end_free = cols, visited = 0;
    while (end_free > known + found && (visited < p_.max_features || visited <= drawn_known + found)) {
      ++visited;
      // Undrawn: (known - drawn_known) known constants, then (end_free - known - found) others.
      size_t j = drawn_known + rng_.below(end_free - found - drawn_known);
      if (j < known) {
        std::swap(features_[drawn_known], features_[j]);
        known_swaps_.push_back(static_cast<uint32_t>(j));
        ++drawn_known;
        continue;
      }
      j += found;
      const uint32_t f = features_[j];
      const auto [base, stride] = RankOf(f, m);
      uint32_t rmin = 0xFFFFFFFFu, rmax = 0;
      for (size_t i = 0; i < m; ++i) {
        const uint32_t r = base[row_[start + i] * stride];
        ranks_[i] = r;
        rmin = std::min(rmin, r);
        rmax = std::max(rmax, r);
      }
      if (rmin == rmax) {
        std::swap(features_[j], features_[known + found]);
        ++found;
        continue;
      }
      --end_free;
      std::swap(features_[j], features_[end_free]);
      const float* values = d_.values.data() + d_.start[f];
      const uint32_t* w = w_.data() + start;
      const double* ys = ys_.data() + start;
      // Candidate after the samples of rank a, with rank b the next one present.
      auto consider = [&](size_t nl, double wl, double sl, uint32_t a, uint32_t b) {
        const double wr = wsum - wl, sr = ysum - sl;
        const double proxy = sl * sl / wl + sr * sr / wr;
        if (!better(proxy, f, a, best)) return;
        const double va = values[a], vb = values[b];
        double thr = va / 2.0 + vb / 2.0;
        if (thr >= vb || !std::isfinite(thr)) thr = va;
        best = {true, proxy, f, a, thr};
        (void)nl;
      };
      const size_t span = static_cast<size_t>(rmax - rmin) + 1;
      if (span <= 2 * m + 16) {
        // Few distinct ranks for the node's size: bucket the samples by rank (no sort).
        uint32_t* hc = hist_count_.data() + rmin;
        uint32_t* hw = hist_w_.data() + rmin;
        double* hy = hist_y_.data() + rmin;
        if (span <= 4) {
          SmallBuckets<4>(ranks_.data(), rmin, w, ys, m, span, hc, hw, hy);
        } else {
          for (size_t i = 0; i < m; ++i) {
            const uint32_t r = ranks_[i] - rmin;
            hc[r]++;
            hw[r] += w[i];
            hy[r] += w[i] * ys[i];
          }
        }
        size_t nl = 0;
        double wl = 0, sl = 0;
        uint32_t prev = 0;
        bool have_prev = false;
        for (size_t r = 0; r < span; ++r) {
          if (hc[r] == 0) continue;
          if (have_prev && nl >= p_.min_samples_leaf && m - nl >= p_.min_samples_leaf) consider(nl, wl, sl, rmin + prev, rmin + static_cast<uint32_t>(r));
          nl += hc[r];
          wl += hw[r];
          sl += hy[r];
          prev = static_cast<uint32_t>(r);
          have_prev = true;
          hc[r] = 0;
          hw[r] = 0;
          hy[r] = 0;
        }
      } else {
        uint64_t* keys = keys_.data();
        for (size_t i = 0; i < m; ++i) keys[i] = (static_cast<uint64_t>(ranks_[i] - rmin) << 32) | static_cast<uint32_t>(i);
        SortKeys(keys, m, rmax - rmin);
        double wl = 0, sl = 0;
        for (size_t i = 0; i + 1 < m; ++i) {
          const uint32_t pos = static_cast<uint32_t>(keys[i]);
          wl += w[pos];
          sl += w[pos] * ys[pos];
          const uint32_t a = static_cast<uint32_t>(keys[i] >> 32) + rmin, b = static_cast<uint32_t>(keys[i + 1] >> 32) + rmin;
          if (a == b) continue;
          const size_t nl = i + 1;
          if (nl < p_.min_samples_leaf) continue;
          if (m - nl < p_.min_samples_leaf) break;
          consider(nl, wl, sl, a, b);
        }
      }
    }
    // Undo the swaps inside the known prefix, in reverse: a descendant's prefix is longer
    // than its ancestors' and its swaps would otherwise mix constants found in it (not
    // constant for its siblings) into the prefix the siblings inherit.
    for (size_t k = known_swaps_.size(); k-- > 0;) std::swap(features_[k], features_[known_swaps_[k]]);
    known_swaps_.clear();
    constants = known + found;
    return best;
  }

  // Buckets m samples whose ranks span at most K values: the per-rank sums are kept in
  // registers, as the memory histogram's read-modify-write chains stall when consecutive
  // samples share a rank. A rank's double sum is still its samples' in position order:
  // adding -0.0 (the other ranks' lanes) leaves a sum unchanged, and a sum started at -0.0
  // rather than +0.0 differs at most in the sign of a zero, which the scan's sl += hy[r]
  // (sl starts at +0.0) discards.
  template <size_t K>
  static void SmallBuckets(const uint32_t* ranks, uint32_t rmin, const uint32_t* w, const double* ys, size_t m,
                           size_t span, uint32_t* hc, uint32_t* hw, double* hy) {
    uint32_t c[K] = {}, s[K] = {};
    double sy[K];
    for (size_t k = 0; k < K; ++k) sy[k] = -0.0;
    for (size_t i = 0; i < m; ++i) {
      const uint32_t r = ranks[i] - rmin;
      const double v = w[i] * ys[i];
      for (size_t k = 0; k < K; ++k) {
        const bool hit = r == k;
        c[k] += hit;
        s[k] += hit ? w[i] : 0;
        sy[k] += hit ? v : -0.0;
      }
    }
    for (size_t k = 0; k < span; ++k) {
      hc[k] = c[k];
      hw[k] = s[k];
      hy[k] = sy[k];
    }
  }

  // Sorts keys (rank offset << 32 | position, positions ascending on entry) by rank offset,
  // ties by position: std::sort for small inputs, else a stable LSD radix sort on the rank
  // bytes (positions stay ascending within a rank). Same result either way.
  void SortKeys(uint64_t* keys, size_t m, uint32_t max_offset) {
    if (m < 192) {
      std::sort(keys, keys + m);
      return;
    }
    radix_tmp_.resize(m);
    uint64_t* src = keys;
    uint64_t* dst = radix_tmp_.data();
    for (int shift = 32; shift < 64 && (static_cast<uint64_t>(max_offset) >> (shift - 32)) != 0; shift += 8) {
      size_t count[257] = {0};
      for (size_t i = 0; i < m; ++i) count[((src[i] >> shift) & 0xFF) + 1]++;
      for (size_t b = 1; b < 257; ++b) count[b] += count[b - 1];
      for (size_t i = 0; i < m; ++i) dst[count[(src[i] >> shift) & 0xFF]++] = src[i];
      std::swap(src, dst);
    }
    if (src != keys) std::copy(src, src + m, keys);
  }

  // Stable partition of [start, end) into rank_f <= rank (left) and the rest; returns the middle.
  size_t Partition(size_t start, size_t end, uint32_t f, uint32_t rank) {
    const auto [base, stride] = RankOf(f, end - start);
    size_t l = start, r = 0;
    for (size_t i = start; i < end; ++i) {
      if (base[row_[i] * stride] <= rank) {
        row_[l] = row_[i];
        w_[l] = w_[i];
        ys_[l] = ys_[i];
        ++l;
      } else {
        tmp_row_[r] = row_[i];
        tmp_w_[r] = w_[i];
        tmp_y_[r] = ys_[i];
        ++r;
      }
    }
    std::copy(tmp_row_.begin(), tmp_row_.begin() + r, row_.begin() + l);
    std::copy(tmp_w_.begin(), tmp_w_.begin() + r, w_.begin() + l);
    std::copy(tmp_y_.begin(), tmp_y_.begin() + r, ys_.begin() + l);
    return l;
  }

  // Feature f's rank of row i is base[i * stride], from the layout that suits m samples.
  std::pair<const R*, size_t> RankOf(uint32_t f, size_t m) const {
    if (m * d_.cols * sizeof(R) <= kRowMajorBytes) return {rk_.by_row.data() + f, d_.cols};
    return {rk_.by_col.data() + static_cast<size_t>(f) * d_.rows, 1};
  }

  const Levels& d_;
  const Ranks<R>& rk_;
  const double* y_;
  const ForestParams& p_;
  Random rng_;
  std::vector<uint32_t> row_, features_, tmp_row_, ranks_, hist_count_, known_swaps_;
  std::vector<uint32_t> w_, tmp_w_, hist_w_;  // bootstrap counts: their sums are exact
  std::vector<double> ys_, tmp_y_, hist_y_;
  std::vector<uint64_t> keys_, radix_tmp_;
  Tree tree_;
};

}  // namespace

void forest_fit(const float* x, size_t rows, size_t cols, const double* y, const ForestParams& params, int threads,
                FlatForest& out) {
  const Levels levels = distinct_values(x, rows, cols, threads);
  std::vector<Tree> trees(params.trees);
  auto build = [&](auto rank_type) {
    using R = decltype(rank_type);
    const Ranks<R> ranks = rank_rows<R>(x, levels, threads);
    parallel_items(params.trees, threads, [&](size_t t) { trees[t] = TreeBuilder<R>(levels, ranks, y, params, t).Build(); });
  };
  if (levels.max_distinct <= 0x100) build(uint8_t{});
  else if (levels.max_distinct <= 0x10000) build(uint16_t{});
  else build(uint32_t{});
  size_t total = 0;
  for (const Tree& t : trees) total += t.feature.size();
  out = FlatForest();
  out.sizes.reserve(params.trees);
  for (auto* v : {&out.feature, &out.left, &out.right, &out.samples}) v->reserve(total);
  for (auto* v : {&out.threshold, &out.value}) v->reserve(total);
  for (Tree& t : trees) {
    out.sizes.push_back(static_cast<int32_t>(t.feature.size()));
    out.feature.insert(out.feature.end(), t.feature.begin(), t.feature.end());
    out.left.insert(out.left.end(), t.left.begin(), t.left.end());
    out.right.insert(out.right.end(), t.right.begin(), t.right.end());
    out.samples.insert(out.samples.end(), t.samples.begin(), t.samples.end());
    out.threshold.insert(out.threshold.end(), t.threshold.begin(), t.threshold.end());
    out.value.insert(out.value.end(), t.value.begin(), t.value.end());
    t = Tree();
  }
}

std::string forest_check(const ForestView& f, size_t cols) {
  size_t total = 0;
  for (size_t t = 0; t < f.trees; ++t) {
    if (f.sizes[t] < 1) return "sizes[" + std::to_string(t) + "] is " + std::to_string(f.sizes[t]) + "; every tree has at least one node";
    total += static_cast<size_t>(f.sizes[t]);
    if (total > f.nodes) break;
  }
  if (total != f.nodes) return "the tree sizes add up to " + std::to_string(total) + " nodes, but the node arrays have " + std::to_string(f.nodes);
  size_t start = 0;
  for (size_t t = 0; t < f.trees; ++t) {
    const int32_t size = f.sizes[t];
    for (int32_t i = 0; i < size; ++i) {
      const size_t g = start + static_cast<size_t>(i);
      // The message is built only on failure (this loop runs over millions of nodes).
      auto where = [&]() { return "tree " + std::to_string(t) + " node " + std::to_string(i); };
      if (!std::isfinite(f.value[g])) return "value of " + where() + " is not finite";
      if (f.feature[g] == -1) {
        if (f.left[g] != -1 || f.right[g] != -1) return where() + " is a leaf (feature -1) but has children";
        continue;
      }
      if (f.feature[g] < 0 || static_cast<size_t>(f.feature[g]) >= cols) {
        return where() + " splits on feature " + std::to_string(f.feature[g]) + ", outside [0, " + std::to_string(cols) + ")";
      }
      if (std::isnan(f.threshold[g])) return "threshold of " + where() + " is NaN";
      // Children after their parent: every path ends, no cycles.
      if (f.left[g] <= i || f.left[g] >= size || f.right[g] <= i || f.right[g] >= size) {
        return where() + " has children " + std::to_string(f.left[g]) + " and " + std::to_string(f.right[g]) +
               "; they must lie in (" + std::to_string(i) + ", " + std::to_string(size) + ")";
      }
    }
    start += static_cast<size_t>(size);
  }
  return "";
}

void forest_predict(const ForestView& f, const float* x, size_t rows, size_t cols, bool median, double* out, int threads) {
  std::vector<size_t> offset(f.trees);
  for (size_t t = 0, s = 0; t < f.trees; ++t) {
    offset[t] = s;
    s += static_cast<size_t>(f.sizes[t]);
  }
  constexpr size_t kBlock = 256;  // rows per task: tree-outer loop keeps one tree in cache
  const size_t blocks = (rows + kBlock - 1) / kBlock;
  parallel_items(blocks, threads, [&](size_t b) {
    const size_t r0 = b * kBlock, r1 = std::min(rows, r0 + kBlock);
    std::vector<double> leaf((r1 - r0) * f.trees);
    for (size_t t = 0; t < f.trees; ++t) {
      const int32_t* feature = f.feature + offset[t];
      const double* threshold = f.threshold + offset[t];
      const int32_t* left = f.left + offset[t];
      const int32_t* right = f.right + offset[t];
      const double* value = f.value + offset[t];
      for (size_t r = r0; r < r1; ++r) {
        const float* row = x + r * cols;
        int32_t node = 0;
        while (feature[node] >= 0) node = static_cast<double>(row[feature[node]]) <= threshold[node] ? left[node] : right[node];
        leaf[(r - r0) * f.trees + t] = value[node];
      }
    }
    for (size_t r = r0; r < r1; ++r) {
      double* v = leaf.data() + (r - r0) * f.trees;
      if (!median) {
        double sum = 0;
        for (size_t t = 0; t < f.trees; ++t) sum += v[t];  // tree order: deterministic
        out[r] = sum / static_cast<double>(f.trees);
      } else {
        std::sort(v, v + f.trees);
        const size_t h = f.trees / 2;
        out[r] = f.trees % 2 == 1 ? v[h] : (v[h - 1] + v[h]) / 2.0;
      }
    }
  });
}

}  // namespace nasrank
