// E2EPP-style baseline (Sun et al., 2019, as used in the ReNAS tables): a random forest
// regressor on the flattened feature tensor, fitted by the native CART forest
// (lib/models/forest.ts, native/forest.cc) with scikit-learn's RandomForestRegressor
// semantics: squared error, `maxFeatures` features drawn per split, bootstrap rows per
// tree, midpoint thresholds, leaves predict the mean, the trees' mean (or median).
//
// Speed: the split search sorts a node's samples by each drawn feature once (bucketed by
// value rank when the node has few distinct values), O(n log n) per feature per node, and
// the trees are built in parallel on the native threads; see README "Random forest".
//
// Fitting and prediction run on the libuv thread pool, so the event loop stays free. An
// AbortSignal is checked before the native call and honoured while it runs: fit rejects
// with an AbortError as soon as the signal aborts, and the native work, which cannot be
// interrupted, finishes in the background and is discarded.
import { checkOptions, describe, oneOf } from '../validate'
import { checkMaxFeatures, featuresPerSplit, forestFitAsync, forestHold, forestPredictAsync, type HeldForest, type RegressionForest } from '../models/forest'
import { abortError, checkFinite, checkTargets, encodeAll, encodedChunks, resolveHooks, sameShape, sizeOf, type ResolvedHooks } from './encoded'
import { expectKind, readPredictor, takeWeight, writePredictor, type LoadedPredictor } from './io'
import { checkFitOptions, positiveInteger, seedOption } from './neural'
import type { EncodedBatch, FitOptions, FitReport, Predictor, PredictorHooks } from './types'

export interface RandomForestConfig {
  /** Number of trees (default 100). */
  nEstimators?: number
  /**
   * Features drawn per split: a fraction in (0, 1] of the input columns (max(1, ⌊f·columns⌋),
   * as scikit-learn's float max_features; 1 means every column, scikit-learn's 1.0) or an
   * integer count ≥ 2 (capped at the columns). Default 1/3, the classical regression-forest
   * setting (scikit-learn's default is 1.0: pass maxFeatures 1 to match it).
   */
  maxFeatures?: number
  /** Seed of the bootstrap and feature draws (default 0). */
  seed?: number
  /** Maximum tree depth, the root at depth 0 (default null: unlimited). */
  maxDepth?: number | null
  /** A node with fewer distinct training rows is a leaf (default 2, scikit-learn's min_samples_split). */
  minSamplesSplit?: number
  /** Each child keeps at least this many distinct training rows (default 1, scikit-learn's min_samples_leaf). */
  minSamplesLeaf?: number
  /** Bootstrap the training rows for each tree (default true). */
  bootstrap?: boolean
  /** How the trees' predictions are combined: 'mean' (default) or 'median'. */
  selection?: 'mean' | 'median'
  /** Architectures per encoded chunk in predict (default 4096). */
  predictBatchSize?: number
}

type Resolved = { [K in keyof RandomForestConfig]-?: Exclude<RandomForestConfig[K], undefined> }

const CONFIG_KEYS = ['nEstimators', 'maxFeatures', 'seed', 'maxDepth', 'minSamplesSplit', 'minSamplesLeaf', 'bootstrap', 'selection', 'predictBatchSize'] as const

// Options of the ml-random-forest implementation (format 1), named in their error.
const REMOVED: Record<string, string> = {
  minNumSamples: 'use minSamplesSplit / minSamplesLeaf (scikit-learn\'s; ml-cart\'s minNumSamples n made nodes of ≤ n rows leaves, i.e. minSamplesSplit n + 1)',
  dropConstant: 'constant columns are skipped by the split search itself; maxFeatures counts every input column, as scikit-learn',
  thread: 'fitting always runs off the main thread (libuv thread pool)'
}

export function resolveRandomForestConfig (config: unknown, fn = 'RandomForestPredictor'): Resolved {
  if (config !== null && typeof config === 'object') {
    for (const key of Object.keys(config)) {
      if (key in REMOVED) throw new TypeError(`${fn}: option '${key}' was removed with the native forest: ${REMOVED[key]}`)
    }
  }
  const c = checkOptions<RandomForestConfig>(config, fn, [...CONFIG_KEYS, 'encode', 'count', 'augment'])
  let maxDepth: number | null = null
  if (c.maxDepth !== undefined && c.maxDepth !== null) maxDepth = positiveInteger(c.maxDepth, 0, fn, 'maxDepth')
  if (c.bootstrap !== undefined && typeof c.bootstrap !== 'boolean') throw new TypeError(`${fn}: bootstrap must be a boolean, got ${describe(c.bootstrap)}`)
  return {
    nEstimators: positiveInteger(c.nEstimators, 100, fn, 'nEstimators'),
    maxFeatures: checkMaxFeatures(c.maxFeatures, 1 / 3, fn),
    seed: seedOption(c.seed, fn),
    maxDepth,
    minSamplesSplit: positiveInteger(c.minSamplesSplit, 2, fn, 'minSamplesSplit', 2),
    minSamplesLeaf: positiveInteger(c.minSamplesLeaf, 1, fn, 'minSamplesLeaf'),
    bootstrap: c.bootstrap ?? true,
    selection: oneOf(c.selection, 'mean', ['mean', 'median'] as const, fn, 'selection'),
    predictBatchSize: positiveInteger(c.predictBatchSize, 4096, fn, 'predictBatchSize')
  }
}

interface RFState {
  /** Shape of one encoded item; the forest sees it flattened. */
  inputShape: number[]
  /** Features drawn per split (maxFeatures resolved against the input size). */
  featuresPerSplit: number
  trees: number
  nodes: number
}

const NODE_WEIGHTS = [
  ['feature', 'int32'], ['threshold', 'float64'], ['left', 'int32'], ['right', 'int32'], ['value', 'float64'], ['samples', 'int32']
] as const

/** E2EPP-style random-forest regressor on the flattened encoded input (any item shape). */
export class RandomForestPredictor<A = EncodedBatch> implements Predictor<A> {
  readonly kind = 'random-forest'
  readonly name = 'E2EPP-RF'
  private readonly cfg: Resolved
  private readonly hooks: ResolvedHooks<A>
  private forest: RegressionForest | null = null
  /** The forest held natively, made by the first predict after fit / load (see predict). */
  private held: HeldForest | null = null
  private state: RFState | null = null

  constructor (options: RandomForestConfig & PredictorHooks<A> = {}) {
    const fn = 'RandomForestPredictor'
    this.cfg = resolveRandomForestConfig(options, fn)
    this.hooks = resolveHooks<A>({ encode: options.encode, count: options.count }, fn)
    if (options.augment !== undefined) throw new TypeError(`${fn}: augment is not supported by the random forest (it trains on the encoded set once)`)
  }

  get trained (): boolean {
    return this.forest !== null
  }

  config (): Record<string, unknown> {
    return { ...this.cfg }
  }

  /** The fitted trees (flat arrays, see lib/models/forest.ts), or null before fit. */
  trees (): RegressionForest | null {
    return this.forest
  }

  async fit (archs: A, targets: ArrayLike<number>, options?: FitOptions): Promise<FitReport> {
    const fn = `${this.name}.fit`
    const opts = checkFitOptions(options, fn)
    const startMs = performance.now()
    const data = encodeAll(this.hooks, archs, fn)
    const encodeMs = performance.now() - startMs
    const y = checkTargets(targets, data.count, fn)
    if (data.count < 2) throw new RangeError(`${fn}: needs at least 2 architectures, got ${data.count}`)
    const size = sizeOf(data.shape)
    checkFinite(data.data, fn, 'encoded input', size)
    if (opts.signal?.aborted) throw abortError(opts.signal, fn)

    const t1 = performance.now()
    const work = forestFitAsync(data.data, y, size, {
      trees: this.cfg.nEstimators,
      maxFeatures: this.cfg.maxFeatures,
      minSamplesSplit: this.cfg.minSamplesSplit,
      minSamplesLeaf: this.cfg.minSamplesLeaf,
      maxDepth: this.cfg.maxDepth,
      bootstrap: this.cfg.bootstrap,
      seed: this.cfg.seed
    })
    const forest = await abortable(work, opts.signal, fn)
    const modelMs = performance.now() - t1
    this.forest = forest
    this.held = null
    this.state = { inputShape: [...data.shape], featuresPerSplit: featuresPerSplit(this.cfg.maxFeatures, size), trees: forest.sizes.length, nodes: forest.feature.length }
    if (opts.onEpoch) await opts.onEpoch(1, { loss: NaN, epochs: 1 })
    return {
      epochs: 1,
      steps: this.cfg.nEstimators,
      samples: data.count,
      loss: [],
      finalLoss: NaN,
      timing: { totalMs: performance.now() - startMs, encodeMs, dataMs: 0, nativeLossMs: 0, modelMs, optimizerMs: 0 },
      lossShare: 0
    }
  }

  async predict (archs: A): Promise<Float64Array> {
    const fn = `${this.name}.predict`
    const forest = this.forest
    const state = this.state
    if (forest === null || state === null) throw new Error(`${fn}: the predictor is not trained (call fit or loadPredictor first)`)
    // Held once per fit / load: every chunk's async prediction would copy the flat arrays.
    this.held ??= forestHold(forest)
    const held = this.held
    const parts: Array<{ start: number; values: Float64Array }> = []
    const chunks = encodedChunks(this.hooks, archs, this.cfg.predictBatchSize, fn)
    let total = 0
    for (;;) {
      const next = chunks.next()
      if (next.done === true) { total = next.value; break }
      const { batch, start } = next.value
      if (!sameShape(batch.shape, state.inputShape)) throw new RangeError(`${fn}: items have shape [${batch.shape.join(', ')}], but the forest was trained on [${state.inputShape.join(', ')}]`)
      checkFinite(batch.data, fn, 'encoded input', sizeOf(batch.shape), start)
      parts.push({ start, values: batch.count > 0 ? await forestPredictAsync(held, batch.data, { selection: this.cfg.selection }) : new Float64Array(0) })
    }
    const out = new Float64Array(total)
    for (const { start, values } of parts) out.set(values, start)
    return out
  }

  async save (dir: string): Promise<void> {
    const fn = `${this.name}.save`
    const forest = this.forest
    if (forest === null || this.state === null) throw new Error(`${fn}: the predictor is not trained; nothing to save`)
    await writePredictor(dir, this.kind, this.config(), { ...this.state }, [
      { name: 'tree/sizes', shape: [forest.sizes.length], data: forest.sizes },
      ...NODE_WEIGHTS.map(([name]) => ({ name: `node/${name}`, shape: [forest[name].length], data: forest[name] }))
    ])
  }

  dispose (): void {
    this.forest = null
    this.held = null
    this.state = null
  }

  static async load<A = EncodedBatch> (dir: string, hooks: PredictorHooks<A> = {}): Promise<RandomForestPredictor<A>> {
    return RandomForestPredictor.fromSaved<A>(await readPredictor(dir, 'RandomForestPredictor.load'), hooks)
  }

  /** @internal */
  static fromSaved<A> (loaded: LoadedPredictor, hooks: PredictorHooks<A>): RandomForestPredictor<A> {
    const fn = 'RandomForestPredictor.load'
    expectKind(loaded, 'random-forest', fn)
    if (loaded.file.formatVersion < 2) {
      throw new Error(`${fn}: ${loaded.path} is a random forest of formatVersion ${loaded.file.formatVersion} (ml-random-forest, nasrank ${loaded.file.packageVersion}); ` +
        'this nasrank reads random forests of formatVersion 2 (native CART trees) only: fit the forest again and save it')
    }
    const p = new RandomForestPredictor<A>({ ...(loaded.file.config as RandomForestConfig), encode: hooks.encode, count: hooks.count })
    const s = loaded.file.state as unknown as RFState
    const ints = ['featuresPerSplit', 'trees', 'nodes'] as const
    if (!Array.isArray(s.inputShape) || s.inputShape.length === 0 || !s.inputShape.every(d => Number.isInteger(d) && d >= 1) || ints.some(k => !Number.isInteger(s[k]) || s[k] < 1)) {
      throw new Error(`${fn}: ${loaded.path}: the saved state is invalid (${JSON.stringify(s).slice(0, 200)})`)
    }
    const sizes = takeWeight(loaded, 'tree/sizes', 'int32', [s.trees], fn) as Int32Array
    const node = (name: typeof NODE_WEIGHTS[number][0], dtype: 'int32' | 'float64'): Int32Array & Float64Array =>
      takeWeight(loaded, `node/${name}`, dtype, [s.nodes], fn) as Int32Array & Float64Array
    const forest: RegressionForest = {
      columns: sizeOf(s.inputShape),
      sizes,
      feature: node('feature', 'int32'),
      threshold: node('threshold', 'float64'),
      left: node('left', 'int32'),
      right: node('right', 'int32'),
      value: node('value', 'float64'),
      samples: node('samples', 'int32')
    }
    p.forest = forest
    p.state = { ...s, inputShape: [...s.inputShape] }
    return p
  }
}

/** Resolves with `work`, or rejects with an AbortError as soon as `signal` aborts. */
function abortable<T> (work: Promise<T>, signal: AbortSignal | undefined, fn: string): Promise<T> {
  if (signal === undefined) return work
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal, fn))
    if (signal.aborted) { onAbort(); return }
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(value => {
      signal.removeEventListener('abort', onAbort)
      if (signal.aborted) reject(abortError(signal, fn))
      else resolve(value)
    }, (err: unknown) => {
      signal.removeEventListener('abort', onAbort)
      reject(err)
    })
  })
}
