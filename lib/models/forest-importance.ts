// What a fitted regression forest (lib/models/forest.ts) says about its input columns:
//
//  - forestImportance: mean decrease in impurity (MDI; Zheng et al. Eq. 7–8, scikit-learn's
//    feature_importances_). For an inner node m with children l and r, with bootstrap-
//    weighted counts W and mean targets ȳ (the forest's `samples` and `value`),
//        I_m = W_m·H_m − W_l·H_l − W_r·H_r = W_l·W_r / W_m · (ȳ_l − ȳ_r)²
//    (H the weighted variance), summed per split feature. 'forest' normalisation (default,
//    the paper's Eq. 8) divides by the sum over the whole forest; 'tree' normalises each tree
//    to 1 and averages the trees that split at all, then renormalises (scikit-learn). A
//    forest without any split (all targets equal) has importance 0 for every column.
//
//  - forestMarginals: fANOVA (Hutter et al. 2014) computed exactly over a discrete grid (one
//    list of values per column): per tree, the leaves are boxes of the grid, so the mean
//    prediction over the grid, its variance, and the marginal prediction of column i at each
//    of its values (the mean over every grid point with that value) are sums over leaves.
//    Reported per column: the marginal at each value (mean and sd over trees) and the main
//    effect's share of the variance (per tree, then mean and sd over the trees whose
//    prediction varies on the grid).
import { describe } from '../validate'
import type { RegressionForest } from './forest'

export type ImportanceNormalisation = 'forest' | 'tree'

function checkForest (forest: unknown, fn: string): RegressionForest {
  const f = forest as RegressionForest
  if (f === null || typeof f !== 'object' || !(f.sizes instanceof Int32Array) || !(f.feature instanceof Int32Array) ||
    !(f.left instanceof Int32Array) || !(f.right instanceof Int32Array) || !(f.value instanceof Float64Array) ||
    !(f.samples instanceof Int32Array) || !(f.threshold instanceof Float64Array) || !Number.isInteger(f.columns) || f.columns < 1) {
    throw new TypeError(`${fn}: forest must be a fitted forest (forestFit's result), got ${describe(forest)}`)
  }
  let total = 0
  for (const s of f.sizes) total += s
  for (const name of ['feature', 'left', 'right', 'value', 'samples', 'threshold'] as const) {
    if (f[name].length !== total) throw new RangeError(`${fn}: forest.${name} has ${f[name].length} entries, the trees ${total} nodes`)
  }
  return f
}

/** Per-column mean decrease in impurity of a fitted forest, summing to 1 (or all 0 without splits). */
export function forestImportance (forest: RegressionForest, options: { normalise?: ImportanceNormalisation } = {}): Float64Array {
  const fn = 'forestImportance'
  const f = checkForest(forest, fn)
  const mode = options.normalise ?? 'forest'
  if (mode !== 'forest' && mode !== 'tree') throw new RangeError(`${fn}: normalise must be 'forest' or 'tree', got ${describe(mode)}`)
  const d = f.columns
  const total = new Float64Array(d)
  const perTree = new Float64Array(d)
  let base = 0
  for (let t = 0; t < f.sizes.length; t++) {
    perTree.fill(0)
    const size = f.sizes[t]
    for (let k = 0; k < size; k++) {
      const m = base + k
      const feature = f.feature[m]
      if (feature < 0) continue
      if (feature >= d) throw new RangeError(`${fn}: node ${m} splits on column ${feature}, the forest has ${d}`)
      const l = base + f.left[m]; const r = base + f.right[m]
      const wl = f.samples[l]; const wr = f.samples[r]; const wm = f.samples[m]
      const diff = f.value[l] - f.value[r]
      perTree[feature] += (wl * wr / wm) * diff * diff
    }
    if (mode === 'forest') {
      for (let j = 0; j < d; j++) total[j] += perTree[j]
    } else if (size > 1) {
      let s = 0
      for (let j = 0; j < d; j++) s += perTree[j]
      if (s > 0) for (let j = 0; j < d; j++) total[j] += perTree[j] / s
    }
    base += size
  }
  let s = 0
  for (let j = 0; j < d; j++) s += total[j]
  if (s > 0) for (let j = 0; j < d; j++) total[j] /= s
  return total
}

export interface ColumnMarginal {
  /** The column's grid values, as given. */
  values: number[]
  /** Marginal prediction at each value: mean over trees. */
  mean: number[]
  /** … and its sd over trees (population sd; 0 with one tree). */
  sd: number[]
  /** Share of the prediction's variance over the grid explained by this column alone (mean over trees). */
  fraction: number
  /** sd of that share over trees. */
  fractionSd: number
}

export interface ForestMarginals {
  columns: ColumnMarginal[]
  /** Mean prediction over the grid (mean over trees). */
  mean: number
  /** Trees whose prediction varies on the grid (those the fractions average). */
  treesVarying: number
}

interface TreeMarginal { mean: number, variance: number, marginal: Float64Array[] }

/** Exact per-tree marginals over the grid (the leaves as boxes of grid points). */
function treeMarginals (f: RegressionForest, base: number, grid: number[][]): TreeMarginal {
  const d = grid.length
  const g32 = grid.map(vals => vals.map(v => Math.fround(v)))
  const marginal = grid.map(vals => new Float64Array(vals.length))
  let mean = 0
  let second = 0
  const masks: Uint8Array[] = grid.map(vals => new Uint8Array(vals.length).fill(1))
  const frac = new Float64Array(d)
  const visit = (node: number): void => {
    const m = base + node
    const feature = f.feature[m]
    if (feature < 0) {
      let volume = 1
      for (let i = 0; i < d; i++) {
        let c = 0
        for (const bit of masks[i]) c += bit
        frac[i] = c / masks[i].length
        volume *= frac[i]
      }
      if (volume === 0) return
      const v = f.value[m]
      mean += v * volume
      second += v * v * volume
      for (let i = 0; i < d; i++) {
        let others = 1
        for (let k = 0; k < d; k++) if (k !== i) others *= frac[k]
        const row = marginal[i]
        const mask = masks[i]
        for (let j = 0; j < mask.length; j++) if (mask[j] === 1) row[j] += v * others
      }
      return
    }
    const saved = masks[feature]
    const th = f.threshold[m]
    masks[feature] = saved.map((bit, j) => (bit === 1 && g32[feature][j] <= th ? 1 : 0))
    visit(f.left[m])
    masks[feature] = saved.map((bit, j) => (bit === 1 && g32[feature][j] > th ? 1 : 0))
    visit(f.right[m])
    masks[feature] = saved
  }
  visit(0)
  return { mean, variance: Math.max(0, second - mean * mean), marginal }
}

function meanAndSd (xs: number[]): { mean: number, sd: number } {
  if (xs.length === 0) return { mean: NaN, sd: NaN }
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) * (b - mean), 0) / xs.length)
  return { mean, sd }
}

/**
 * fANOVA main effects of every column over the grid `grid[column]` (the values each column
 * takes; the grid is their Cartesian product), exact: see the module comment.
 */
export function forestMarginals (forest: RegressionForest, grid: ReadonlyArray<readonly number[]>): ForestMarginals {
  const fn = 'forestMarginals'
  const f = checkForest(forest, fn)
  if (!Array.isArray(grid) || grid.length !== f.columns) throw new RangeError(`${fn}: grid must hold one list of values per forest column (${f.columns}), got ${Array.isArray(grid) ? grid.length : describe(grid)}`)
  const g = grid.map((vals, i) => {
    if (!Array.isArray(vals) || vals.length === 0) throw new RangeError(`${fn}: grid[${i}] must be a non-empty array of numbers`)
    vals.forEach((v, j) => { if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${fn}: grid[${i}][${j}] must be a finite number, got ${describe(v)}`) })
    return [...vals]
  })
  const perTree: TreeMarginal[] = []
  let base = 0
  for (let t = 0; t < f.sizes.length; t++) {
    perTree.push(treeMarginals(f, base, g))
    base += f.sizes[t]
  }
  const varying = perTree.filter(t => t.variance > 1e-300)
  const columns: ColumnMarginal[] = g.map((vals, i) => {
    const stats = vals.map((_, j) => meanAndSd(perTree.map(t => t.marginal[i][j])))
    const fractions = varying.map(t => {
      let s = 0
      for (let j = 0; j < vals.length; j++) s += (t.marginal[i][j] - t.mean) ** 2
      return (s / vals.length) / t.variance
    })
    const fr = meanAndSd(fractions)
    return { values: vals, mean: stats.map(s => s.mean), sd: stats.map(s => s.sd), fraction: varying.length > 0 ? fr.mean : 0, fractionSd: varying.length > 0 ? fr.sd : 0 }
  })
  return { columns, mean: meanAndSd(perTree.map(t => t.mean)).mean, treesVarying: varying.length }
}
