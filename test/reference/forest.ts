// A slow, obvious CART regression tree for testing the native forest: every feature, every
// threshold between consecutive distinct values, children counted and summed from scratch
// (O(features · n²) per node). Same rules as native/forest.cc: a node is a leaf at
// maxDepth, below minSamplesSplit or 2 · minSamplesLeaf rows, or when its targets are all
// equal; the score of a split is sumL²/nL + sumR²/nR; ties go to the lowest feature, then
// the lowest threshold (features ascending, thresholds ascending, strictly better only);
// nodes are numbered in preorder. Without bootstrap every row has weight 1.

export interface RefTree {
  feature: number[]
  threshold: number[]
  left: number[]
  right: number[]
  value: number[]
  samples: number[]
}

export interface RefOptions {
  minSamplesSplit: number
  minSamplesLeaf: number
  /** 0: unlimited. */
  maxDepth: number
}

type Split = { score: number, f: number, thr: number }
/** The best split of a node's rows (null: none allowed), by the rules above. */
type FindSplit = (rows: number[], at: (r: number, f: number) => number) => Split | null

/** Grows a tree in preorder: leaf rules, node values and counts; `find` picks each split. */
function growTree (x: Float32Array, cols: number, y: ArrayLike<number>, opts: RefOptions, find: FindSplit): RefTree {
  const tree: RefTree = { feature: [], threshold: [], left: [], right: [], value: [], samples: [] }
  const at = (r: number, f: number): number => x[r * cols + f]
  const grow = (rows: number[], depth: number): number => {
    const id = tree.feature.length
    tree.feature.push(-1)
    tree.threshold.push(0)
    tree.left.push(-1)
    tree.right.push(-1)
    tree.value.push(rows.reduce((s, r) => s + y[r], 0) / rows.length)
    tree.samples.push(rows.length)
    const pure = rows.every(r => y[r] === y[rows[0]])
    if ((opts.maxDepth > 0 && depth >= opts.maxDepth) || rows.length < opts.minSamplesSplit || rows.length < 2 * opts.minSamplesLeaf || pure) return id
    const best = find(rows, at)
    if (best === null) return id
    tree.feature[id] = best.f
    tree.threshold[id] = best.thr
    tree.left[id] = grow(rows.filter(r => at(r, best.f) <= best.thr), depth + 1)
    tree.right[id] = grow(rows.filter(r => !(at(r, best.f) <= best.thr)), depth + 1)
    return id
  }
  grow(Array.from({ length: y.length }, (_, i) => i), 0)
  return tree
}

/** Midpoint threshold between consecutive distinct values a < b (a when it rounds to b). */
function midpoint (a: number, b: number): number {
  const thr = a / 2 + b / 2
  return thr >= b || !Number.isFinite(thr) ? a : thr
}

/** x: rows × cols row-major (float32 values), y: rows targets. */
export function referenceTree (x: Float32Array, cols: number, y: ArrayLike<number>, opts: RefOptions): RefTree {
  const sum = (rows: number[]): number => rows.reduce((s, r) => s + y[r], 0)
  return growTree(x, cols, y, opts, (rows, at) => {
    let best: Split | null = null
    for (let f = 0; f < cols; f++) {
      const values = [...new Set(rows.map(r => at(r, f)))].sort((a, b) => a - b)
      for (let k = 0; k + 1 < values.length; k++) {
        const thr = midpoint(values[k], values[k + 1])
        const left = rows.filter(r => at(r, f) <= thr)
        const right = rows.filter(r => !(at(r, f) <= thr))
        if (left.length < opts.minSamplesLeaf || right.length < opts.minSamplesLeaf) continue
        const sl = sum(left)
        const sr = sum(right)
        const score = sl * sl / left.length + sr * sr / right.length
        if (best === null || score > best.score) best = { score, f, thr }
      }
    }
    return best
  })
}

/**
 * referenceTree by a sweep (for inputs too large for it): per node and feature the rows
 * sorted by value, candidates scored from running sums at each change of value. Equal to
 * referenceTree when every sum is exact (integer targets).
 */
export function sweepTree (x: Float32Array, cols: number, y: ArrayLike<number>, opts: RefOptions): RefTree {
  return growTree(x, cols, y, opts, (rows, at) => {
    const total = rows.reduce((s, r) => s + y[r], 0)
    let best: Split | null = null
    for (let f = 0; f < cols; f++) {
      const sorted = [...rows].sort((a, b) => at(a, f) - at(b, f))
      let sl = 0
      for (let k = 0; k + 1 < sorted.length; k++) {
        sl += y[sorted[k]]
        const a = at(sorted[k], f)
        const b = at(sorted[k + 1], f)
        const nl = k + 1
        if (a === b || nl < opts.minSamplesLeaf || rows.length - nl < opts.minSamplesLeaf) continue
        const sr = total - sl
        const score = sl * sl / nl + sr * sr / (rows.length - nl)
        if (best !== null && !(score > best.score)) continue
        best = { score, f, thr: midpoint(a, b) }
      }
    }
    return best
  })
}

/** The leaf value tree `t` of a flat forest gives row `row` of x (cols columns). */
export function leafValue (forest: { sizes: Int32Array, feature: Int32Array, threshold: Float64Array, left: Int32Array, right: Int32Array, value: Float64Array },
  t: number, x: Float32Array, cols: number, row: number): number {
  let start = 0
  for (let k = 0; k < t; k++) start += forest.sizes[k]
  let node = 0
  while (forest.feature[start + node] >= 0) {
    const f = forest.feature[start + node]
    node = x[row * cols + f] <= forest.threshold[start + node] ? forest.left[start + node] : forest.right[start + node]
  }
  return forest.value[start + node]
}
