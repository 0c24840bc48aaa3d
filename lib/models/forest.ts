// Native regression random forest (native/forest.cc): scikit-learn RandomForestRegressor
// semantics — CART on squared error, `maxFeatures` features drawn per split, bootstrap rows
// per tree, midpoint thresholds (a row goes left when x ≤ threshold), leaves predict the
// mean. Features are float32 (as scikit-learn's trees); targets float64. Trees are built in
// parallel, each from its own stream of the seed, so the result is bit-identical for any
// thread count. Ties between equally good splits go to the lowest feature index, then the
// lowest threshold.
//
// A fitted forest is flat: trees one after another (`sizes[t]` nodes each), nodes of a tree
// in preorder (an inner node's left child is the next node), `left`/`right` indices within
// the tree (-1 at leaves), `feature` -1 at leaves, `value` the node's mean target (the
// prediction at a leaf), `samples` its bootstrap-weighted sample count, `threshold` 0 at
// leaves.
import { addon, named, type HeldForestHandle } from '../native'
import { boolean, checkOptions, describe, integerIn, oneOf, threadsOption, toFloat64 } from '../validate'

export interface RegressionForest {
  /** Input columns (features) the forest was fitted on. */
  columns: number
  sizes: Int32Array
  feature: Int32Array
  threshold: Float64Array
  left: Int32Array
  right: Int32Array
  value: Float64Array
  samples: Int32Array
}

export interface ForestFitOptions {
  /** Number of trees (default 100). */
  trees?: number
  /**
   * Features drawn per split: a fraction in (0, 1] of the columns (max(1, ⌊f·columns⌋), as
   * scikit-learn's float max_features; 1 = every column) or an integer count ≥ 2 (capped at
   * the columns). Default 1 (scikit-learn's regression default, 1.0).
   */
  maxFeatures?: number
  /** A node with fewer distinct samples is a leaf (default 2; ≥ 2). */
  minSamplesSplit?: number
  /** Each child keeps at least this many distinct samples (default 1). */
  minSamplesLeaf?: number
  /** Maximum depth, the root at depth 0 (default null: unlimited). */
  maxDepth?: number | null
  /** Bootstrap the rows of each tree (default true). */
  bootstrap?: boolean
  /** Seed, an integer in [0, 2^53 − 1] (default 0). */
  seed?: number
  /** Worker threads (default: setThreads / NASRANK_THREADS / the CPU count). */
  threads?: number
}

export interface ForestPredictOptions {
  /** How the trees' predictions are combined: 'mean' (default, scikit-learn's) or 'median'. */
  selection?: 'mean' | 'median'
  /** Worker threads (default as for fitting). */
  threads?: number
}

const FIT_KEYS = ['trees', 'maxFeatures', 'minSamplesSplit', 'minSamplesLeaf', 'maxDepth', 'bootstrap', 'seed', 'threads']

/** The number of features drawn per split for `maxFeatures` over `columns` columns. */
export function featuresPerSplit (maxFeatures: number, columns: number): number {
  const count = maxFeatures <= 1 ? Math.floor(maxFeatures * columns) : maxFeatures
  return Math.max(1, Math.min(columns, count))
}

/** Validates maxFeatures: a fraction in (0, 1] or an integer ≥ 2. */
export function checkMaxFeatures (value: unknown, fallback: number, fn: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${fn}: maxFeatures must be a number, got ${describe(value)}`)
  if (!Number.isFinite(value) || !((value > 0 && value <= 1) || (Number.isInteger(value) && value >= 2))) {
    throw new RangeError(`${fn}: maxFeatures must be a fraction in (0, 1] or an integer ≥ 2, got ${value}`)
  }
  return value
}

function asFloat32 (value: unknown, fn: string, name: string): Float32Array {
  if (value instanceof Float32Array) return value
  return Float32Array.from(toFloat64(value, fn, name))
}

function fitArgs (x: unknown, y: unknown, columns: unknown, options: ForestFitOptions | undefined, fn: string) {
  const xs = asFloat32(x, fn, 'x')
  const ys = toFloat64(y, fn, 'y')
  const cols = integerIn(columns, 0, fn, 'columns', 1, 2 ** 31 - 1)
  const o = checkOptions<ForestFitOptions>(options, fn, FIT_KEYS)
  let maxDepth = 0
  if (o.maxDepth !== undefined && o.maxDepth !== null) maxDepth = integerIn(o.maxDepth, 0, fn, 'maxDepth', 1, 2 ** 31 - 1)
  const params = {
    trees: integerIn(o.trees, 100, fn, 'trees', 1, 1e6),
    maxFeatures: featuresPerSplit(checkMaxFeatures(o.maxFeatures, 1, fn), cols),
    minSamplesSplit: integerIn(o.minSamplesSplit, 2, fn, 'minSamplesSplit', 2, 2 ** 31 - 1),
    minSamplesLeaf: integerIn(o.minSamplesLeaf, 1, fn, 'minSamplesLeaf', 1, 2 ** 31 - 1),
    maxDepth,
    bootstrap: boolean(o.bootstrap, true, fn, 'bootstrap'),
    seed: integerIn(o.seed, 0, fn, 'seed', 0)
  }
  return { xs, ys, cols, params, threads: threadsOption(o.threads, fn) }
}

/**
 * A fitted forest checked and copied into native memory once ({@link forestHold}), so that
 * repeated predictions neither check nor copy it again (an async prediction from flat arrays
 * copies them, as the caller could change them while it runs). Later changes to the arrays
 * it was made from do not reach it. Freed when garbage collected.
 */
export class HeldForest {
  /** Input columns (features) the forest was fitted on. */
  readonly columns: number
  /** Number of trees. */
  readonly trees: number
  /** @internal */
  readonly handle: HeldForestHandle

  /** @internal */
  constructor (columns: number, trees: number, handle: HeldForestHandle) {
    this.columns = columns
    this.trees = trees
    this.handle = handle
  }
}

function checkForest (forest: unknown, fn: string): number {
  if (forest === null || typeof forest !== 'object') throw new TypeError(`${fn}: forest must be a fitted forest object, got ${describe(forest)}`)
  return integerIn((forest as RegressionForest).columns, 0, fn, 'forest.columns', 1, 2 ** 31 - 1)
}

/** Checks `forest` and copies it into native memory for {@link forestPredict} / {@link forestPredictAsync}. */
export function forestHold (forest: RegressionForest): HeldForest {
  const cols = checkForest(forest, 'forestHold')
  const handle = addon.forestHold(forest, cols)
  return new HeldForest(cols, forest.sizes.length, handle)
}

function predictArgs (forest: RegressionForest | HeldForest, x: unknown, options: ForestPredictOptions | undefined, fn: string) {
  const cols = forest instanceof HeldForest ? forest.columns : checkForest(forest, fn)
  const o = checkOptions<ForestPredictOptions>(options, fn, ['selection', 'threads'])
  return { xs: asFloat32(x, fn, 'x'), cols, selection: oneOf(o.selection, 'mean', ['mean', 'median'] as const, fn, 'selection'), threads: threadsOption(o.threads, fn) }
}

/**
 * Fits a regression forest on `x` (rows × columns, row-major; rows = y.length). Blocks the
 * calling thread: use {@link forestFitAsync} for anything but small inputs.
 */
export function forestFit (x: ArrayLike<number>, y: ArrayLike<number>, columns: number, options?: ForestFitOptions): RegressionForest {
  const a = fitArgs(x, y, columns, options, 'forestFit')
  return { columns: a.cols, ...addon.forestFit(a.xs, a.ys, a.cols, a.params, a.threads, false) }
}

/** {@link forestFit} on the libuv thread pool (inputs are copied first). */
export async function forestFitAsync (x: ArrayLike<number>, y: ArrayLike<number>, columns: number, options?: ForestFitOptions): Promise<RegressionForest> {
  const a = fitArgs(x, y, columns, options, 'forestFitAsync')
  return { columns: a.cols, ...await named('forestFitAsync').forestFit(a.xs, a.ys, a.cols, a.params, a.threads, true) }
}

/**
 * Predicts rows of `x` (row-major, forest.columns per row): mean (or median) over trees.
 * `forest` is the flat arrays (checked on every call) or a {@link HeldForest}.
 */
export function forestPredict (forest: RegressionForest | HeldForest, x: ArrayLike<number>, options?: ForestPredictOptions): Float64Array {
  const a = predictArgs(forest, x, options, 'forestPredict')
  return addon.forestPredict(forest instanceof HeldForest ? forest.handle : forest, a.xs, a.cols, a.selection, a.threads, false)
}

/** {@link forestPredict} on the libuv thread pool (hold a forest predicted from repeatedly: flat arrays are copied per call). */
export async function forestPredictAsync (forest: RegressionForest | HeldForest, x: ArrayLike<number>, options?: ForestPredictOptions): Promise<Float64Array> {
  const a = predictArgs(forest, x, options, 'forestPredictAsync')
  return await named('forestPredictAsync').forestPredict(forest instanceof HeldForest ? forest.handle : forest, a.xs, a.cols, a.selection, a.threads, true)
}
