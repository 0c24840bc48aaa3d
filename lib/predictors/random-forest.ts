// E2EPP-style baseline (Sun et al., 2019, as used in the ReNAS tables): a random forest
// regressor on the flattened feature tensor, via the maintained `ml-random-forest` package
// (RandomForestRegression: bootstrap samples, per-tree feature bagging, CART trees, mean of
// the trees).
//
// Speed: ml-cart evaluates every candidate threshold of every feature with an O(n) pass, so a
// tree costs O(features · n²) per level: for 424 cells × 931 features (about 530 of them not
// constant) 2.9 s per tree with every column, 0.93 s with a third, on one core of the shared
// development machine (100 trees: ~95 s with the defaults). Two defaults keep this usable: columns that are
// constant over the training set are dropped before fitting (they cannot split the data),
// and each tree sees a third of the remaining columns (maxFeatures 1/3, the classical
// regression-forest setting; ml-random-forest samples features once per tree, not per split).
// Training runs in a worker thread by default, so the event loop stays free and an
// AbortSignal can stop it.
import { Worker } from 'node:worker_threads'
import { checkOptions, describe, oneOf } from '../validate'
import { Random } from '../random'
import { abortError, checkFinite, checkTargets, encodeAll, forEachChunk, resolveHooks, sameShape, sizeOf, type ResolvedHooks } from './encoded'
import { readPredictor, takeWeight, writePredictor, type LoadedPredictor, type NamedWeight } from './io'
import { checkFitOptions, numberIn, positiveInteger, seedOption } from './neural'
import type { EncodedBatch, FitOptions, FitReport, Predictor, PredictorHooks } from './types'

export interface RandomForestConfig {
  /** Number of trees (default 100). */
  nEstimators?: number
  /**
   * Features per tree: a fraction in (0, 1] of the (non-constant) columns, or an integer ≥ 2
   * count (default 1/3). At least one feature is always used.
   */
  maxFeatures?: number
  /** Seed of the bootstrap and feature sampling (default 0). */
  seed?: number
  /** Maximum tree depth (default null: unlimited). */
  maxDepth?: number | null
  /** Nodes with at most this many samples become leaves (default 3, ml-cart's). */
  minNumSamples?: number
  /** Bootstrap the training rows for each tree (default true). */
  bootstrap?: boolean
  /** How the trees' predictions are combined: 'mean' (default) or 'median'. */
  selection?: 'mean' | 'median'
  /** Drop columns that are constant over the training set (default true). */
  dropConstant?: boolean
  /**
   * 'worker' (default): train in a worker thread (the event loop stays free; an AbortSignal
   * terminates it). 'main': on the calling thread (blocks; the signal is checked only before).
   */
  thread?: 'worker' | 'main'
  /** Architectures per encoded chunk in predict (default 4096). */
  predictBatchSize?: number
}

type Resolved = { [K in keyof RandomForestConfig]-?: Exclude<RandomForestConfig[K], undefined> }

const CONFIG_KEYS = ['nEstimators', 'maxFeatures', 'seed', 'maxDepth', 'minNumSamples', 'bootstrap', 'selection', 'dropConstant', 'thread', 'predictBatchSize'] as const

export function resolveRandomForestConfig (config: unknown, fn = 'RandomForestPredictor'): Resolved {
  const c = checkOptions<RandomForestConfig>(config, fn, [...CONFIG_KEYS, 'encode', 'count', 'augment'])
  const maxFeatures = numberIn(c.maxFeatures, 1 / 3, fn, 'maxFeatures', v => (v > 0 && v <= 1) || (Number.isInteger(v) && v >= 2), 'a fraction in (0, 1] or an integer ≥ 2')
  let maxDepth: number | null = null
  if (c.maxDepth !== undefined && c.maxDepth !== null) maxDepth = positiveInteger(c.maxDepth, 0, fn, 'maxDepth')
  for (const key of ['bootstrap', 'dropConstant'] as const) {
    if (c[key] !== undefined && typeof c[key] !== 'boolean') throw new TypeError(`${fn}: ${key} must be a boolean, got ${describe(c[key])}`)
  }
  return {
    nEstimators: positiveInteger(c.nEstimators, 100, fn, 'nEstimators'),
    maxFeatures,
    seed: seedOption(c.seed, fn),
    maxDepth,
    minNumSamples: positiveInteger(c.minNumSamples, 3, fn, 'minNumSamples'),
    bootstrap: c.bootstrap ?? true,
    selection: oneOf(c.selection, 'mean', ['mean', 'median'] as const, fn, 'selection'),
    dropConstant: c.dropConstant ?? true,
    thread: oneOf(c.thread, 'worker', ['worker', 'main'] as const, fn, 'thread'),
    predictBatchSize: positiveInteger(c.predictBatchSize, 4096, fn, 'predictBatchSize')
  }
}

// The parts of ml-random-forest / ml-cart we use (the package ships loose typings).
interface TreeNodeJson {
  splitValue?: number
  splitColumn?: number
  gain?: number
  numberSamples?: number
  distribution?: number
  left?: TreeNodeJson
  right?: TreeNodeJson
}
interface ForestJson {
  name: 'RFRegression'
  selectionMethod: 'mean' | 'median'
  baseModel: {
    indexes: number[][]
    n: number
    replacement: boolean
    maxFeatures: number
    nEstimators: number
    treeOptions: Record<string, unknown>
    isClassifier: boolean
    seed: number
    useSampleBagging: boolean
    estimators: Array<{ name: 'DTRegression'; options: Record<string, unknown>; root: TreeNodeJson }>
  }
}
interface Forest {
  train(x: number[][], y: number[]): void
  predict(x: number[][]): number[]
  toJSON(): ForestJson
}
interface ForestModule {
  RandomForestRegression: { new (options: Record<string, unknown>): Forest; load(json: ForestJson): Forest }
}

function loadForestModule (): ForestModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('ml-random-forest') as ForestModule
}

/** The options handed to ml-random-forest for `columns` usable features. */
function forestOptions (cfg: Resolved, columns: number): Record<string, unknown> {
  let count = cfg.maxFeatures <= 1 ? Math.floor(columns * cfg.maxFeatures) : cfg.maxFeatures
  count = Math.max(1, Math.min(columns, count))
  // ml-random-forest reads values in (0, 1] as fractions, so a count of 1 must be passed as a
  // fraction that floors to 1, and "all columns" as 1.0.
  const maxFeatures = count === columns ? 1.0 : count === 1 ? 1.5 / columns : count
  const treeOptions: Record<string, unknown> = { minNumSamples: cfg.minNumSamples }
  if (cfg.maxDepth !== null) treeOptions.maxDepth = cfg.maxDepth
  return {
    nEstimators: cfg.nEstimators,
    maxFeatures,
    replacement: false,
    seed: new Random(cfg.seed).uint32() | 0,
    useSampleBagging: cfg.bootstrap,
    noOOB: true,
    selectionMethod: cfg.selection,
    treeOptions
  }
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const { RandomForestRegression } = require(workerData.modulePath)
const { rows, cols } = workerData
const flat = new Float64Array(workerData.x)
const x = new Array(rows)
for (let i = 0; i < rows; i++) x[i] = Array.from(flat.subarray(i * cols, (i + 1) * cols))
const rf = new RandomForestRegression(workerData.options)
rf.train(x, Array.from(new Float64Array(workerData.y)))
parentPort.postMessage(JSON.parse(JSON.stringify(rf.toJSON())))
`

function trainInWorker (x: Float64Array, rows: number, cols: number, y: Float64Array, options: Record<string, unknown>, signal: AbortSignal | undefined, fn: string): Promise<ForestJson> {
  return new Promise((resolve, reject) => {
    const xb = x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength)
    const yb = y.buffer.slice(y.byteOffset, y.byteOffset + y.byteLength)
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { modulePath: require.resolve('ml-random-forest'), x: xb, y: yb, rows, cols, options },
      transferList: [xb as ArrayBuffer, yb as ArrayBuffer]
    })
    let settled = false
    const onAbort = (): void => {
      if (settled) return
      settled = true
      void worker.terminate()
      reject(abortError(signal, fn))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const finish = (err: Error | null, value?: ForestJson): void => {
      signal?.removeEventListener('abort', onAbort)
      if (settled) return
      settled = true
      if (err) reject(err)
      else resolve(value as ForestJson)
    }
    worker.once('message', (json: ForestJson) => {
      finish(null, json)
      void worker.terminate()
    })
    worker.once('error', err => finish(new Error(`${fn}: random-forest worker failed: ${err.message}`)))
    worker.once('exit', code => finish(new Error(`${fn}: random-forest worker exited with code ${code} before returning a model`)))
  })
}

interface RFState {
  inputShape: number[]
  /** Columns of the flattened input the forest sees (after dropping constant ones). */
  columns: number
  n: number
  nEstimators: number
  seed: number
  maxFeatures: number
  replacement: boolean
  useSampleBagging: boolean
  selectionMethod: 'mean' | 'median'
  treeOptions: Record<string, unknown>
}

/** Flattens the forest into typed arrays (trees in preorder: left child = next node). */
function flattenForest (json: ForestJson, kept: Int32Array): NamedWeight[] {
  const features: number[] = []
  const values: number[] = []
  const gains: number[] = []
  const samples: number[] = []
  const rights: number[] = []
  const sizes: number[] = []
  const indexes: number[] = []
  for (const [t, est] of json.baseModel.estimators.entries()) {
    const start = features.length
    const visit = (node: TreeNodeJson): void => {
      const at = features.length
      const leaf = node.distribution !== undefined && node.distribution !== null
      features.push(leaf ? -1 : (node.splitColumn as number))
      values.push(leaf ? (node.distribution as number) : (node.splitValue as number))
      gains.push(leaf ? NaN : (node.gain ?? NaN))
      samples.push(leaf ? -1 : (node.numberSamples ?? -1))
      rights.push(-1)
      if (!leaf) {
        if (node.left === undefined || node.right === undefined) throw new Error(`internal: tree ${t} has an inner node without two children`)
        visit(node.left)
        rights[at] = features.length - start
        visit(node.right)
      }
    }
    visit(est.root)
    sizes.push(features.length - start)
    indexes.push(...json.baseModel.indexes[t])
  }
  const nodes = features.length
  return [
    { name: 'columns', shape: [kept.length], data: kept },
    { name: 'tree/sizes', shape: [sizes.length], data: Int32Array.from(sizes) },
    { name: 'tree/features', shape: [json.baseModel.estimators.length, json.baseModel.n], data: Int32Array.from(indexes) },
    { name: 'node/feature', shape: [nodes], data: Int32Array.from(features) },
    { name: 'node/value', shape: [nodes], data: Float64Array.from(values) },
    { name: 'node/gain', shape: [nodes], data: Float64Array.from(gains) },
    { name: 'node/samples', shape: [nodes], data: Int32Array.from(samples) },
    { name: 'node/right', shape: [nodes], data: Int32Array.from(rights) }
  ]
}

/** Rebuilds ml-random-forest's JSON model from the flat arrays (inverse of flattenForest). */
function unflattenForest (loaded: LoadedPredictor, s: RFState, fn: string): { json: ForestJson; kept: Int32Array } {
  const kept = takeWeight(loaded, 'columns', 'int32', [s.columns], fn) as Int32Array
  const sizes = takeWeight(loaded, 'tree/sizes', 'int32', [s.nEstimators], fn) as Int32Array
  const idx = takeWeight(loaded, 'tree/features', 'int32', [s.nEstimators, s.n], fn) as Int32Array
  let total = 0
  for (const v of sizes) total += v
  const feature = takeWeight(loaded, 'node/feature', 'int32', [total], fn) as Int32Array
  const value = takeWeight(loaded, 'node/value', 'float64', [total], fn) as Float64Array
  const gain = takeWeight(loaded, 'node/gain', 'float64', [total], fn) as Float64Array
  const samples = takeWeight(loaded, 'node/samples', 'int32', [total], fn) as Int32Array
  const right = takeWeight(loaded, 'node/right', 'int32', [total], fn) as Int32Array
  const inputSize = sizeOf(s.inputShape)
  for (const c of kept) if (c < 0 || c >= inputSize) throw new Error(`${fn}: saved column ${c} is outside the input (${inputSize} values)`)
  for (const c of idx) if (c < 0 || c >= s.columns) throw new Error(`${fn}: a tree uses feature ${c}, but only ${s.columns} columns were kept`)
  const estimators: ForestJson['baseModel']['estimators'] = []
  let start = 0
  for (let t = 0; t < s.nEstimators; t++) {
    const size = sizes[t]
    const build = (i: number, depth: number): TreeNodeJson => {
      if (i < 0 || i >= size || depth > size) throw new Error(`${fn}: tree ${t} is malformed (node ${i} of ${size})`)
      const g = start + i
      if (feature[g] < 0) return { distribution: value[g] }
      if (feature[g] >= s.n) throw new Error(`${fn}: tree ${t} node ${i} splits on feature ${feature[g]} of ${s.n}`)
      const node: TreeNodeJson = { splitValue: value[g], splitColumn: feature[g], gain: gain[g], left: build(i + 1, depth + 1), right: build(right[g], depth + 1) }
      if (samples[g] >= 0) node.numberSamples = samples[g]
      return node
    }
    estimators.push({ name: 'DTRegression', options: { ...s.treeOptions, kind: 'regression' }, root: build(0, 0) })
    start += size
  }
  const indexes: number[][] = []
  for (let t = 0; t < s.nEstimators; t++) indexes.push(Array.from(idx.subarray(t * s.n, (t + 1) * s.n)))
  return {
    kept,
    json: {
      name: 'RFRegression',
      selectionMethod: s.selectionMethod,
      baseModel: { indexes, n: s.n, replacement: s.replacement, maxFeatures: s.maxFeatures, nEstimators: s.nEstimators, treeOptions: s.treeOptions, isClassifier: false, seed: s.seed, useSampleBagging: s.useSampleBagging, estimators }
    }
  }
}

/** E2EPP-style random-forest regressor on the flattened encoded input (any item shape). */
export class RandomForestPredictor<A = EncodedBatch> implements Predictor<A> {
  readonly kind = 'random-forest'
  readonly name = 'E2EPP-RF'
  private readonly cfg: Resolved
  private readonly hooks: ResolvedHooks<A>
  private forest: Forest | null = null
  private kept: Int32Array | null = null
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

    const t0 = performance.now()
    const keptList: number[] = []
    for (let j = 0; j < size; j++) {
      if (!this.cfg.dropConstant) { keptList.push(j); continue }
      const first = data.data[j]
      for (let i = 1; i < data.count; i++) {
        if (data.data[i * size + j] !== first) { keptList.push(j); break }
      }
    }
    if (keptList.length === 0) keptList.push(0) // every column constant: one (useless) column keeps ml-cart working
    const kept = Int32Array.from(keptList)
    const cols = kept.length
    const x = new Float64Array(data.count * cols)
    for (let i = 0; i < data.count; i++) {
      for (let k = 0; k < cols; k++) x[i * cols + k] = data.data[i * size + kept[k]]
    }
    const options_ = forestOptions(this.cfg, cols)
    const dataMs = performance.now() - t0

    const t1 = performance.now()
    const mod = loadForestModule()
    let forest: Forest
    if (this.cfg.thread === 'worker') {
      forest = mod.RandomForestRegression.load(await trainInWorker(x, data.count, cols, y, options_, opts.signal, fn))
    } else {
      const rows: number[][] = []
      for (let i = 0; i < data.count; i++) rows.push(Array.from(x.subarray(i * cols, (i + 1) * cols)))
      const trainedForest = new mod.RandomForestRegression(options_)
      trainedForest.train(rows, Array.from(y))
      forest = mod.RandomForestRegression.load(JSON.parse(JSON.stringify(trainedForest.toJSON())) as ForestJson)
    }
    const modelMs = performance.now() - t1
    const json = forest.toJSON()
    this.forest = forest
    this.kept = kept
    this.state = {
      inputShape: [...data.shape],
      columns: cols,
      n: json.baseModel.n,
      nEstimators: json.baseModel.nEstimators,
      seed: json.baseModel.seed,
      maxFeatures: json.baseModel.maxFeatures,
      replacement: json.baseModel.replacement,
      useSampleBagging: json.baseModel.useSampleBagging,
      selectionMethod: json.selectionMethod,
      treeOptions: { ...json.baseModel.treeOptions }
    }
    if (opts.onEpoch) await opts.onEpoch(1, { loss: NaN, epochs: 1 })
    return {
      epochs: 1,
      steps: this.cfg.nEstimators,
      samples: data.count,
      loss: [],
      finalLoss: NaN,
      timing: { totalMs: performance.now() - startMs, encodeMs, dataMs, nativeLossMs: 0, modelMs, optimizerMs: 0 },
      lossShare: 0
    }
  }

  async predict (archs: A): Promise<Float64Array> {
    const fn = `${this.name}.predict`
    const forest = this.forest
    const kept = this.kept
    const state = this.state
    if (forest === null || kept === null || state === null) throw new Error(`${fn}: the predictor is not trained (call fit or loadPredictor first)`)
    const parts: Array<{ start: number; values: number[] }> = []
    const total = forEachChunk(this.hooks, archs, this.cfg.predictBatchSize, fn, (batch, start) => {
      if (!sameShape(batch.shape, state.inputShape)) throw new RangeError(`${fn}: items have shape [${batch.shape.join(', ')}], but the forest was trained on [${state.inputShape.join(', ')}]`)
      const size = sizeOf(batch.shape)
      checkFinite(batch.data, fn, 'encoded input', size, start)
      const rows: number[][] = []
      for (let i = 0; i < batch.count; i++) {
        const row = new Array<number>(kept.length)
        for (let k = 0; k < kept.length; k++) row[k] = batch.data[i * size + kept[k]]
        rows.push(row)
      }
      parts.push({ start, values: rows.length > 0 ? forest.predict(rows) : [] })
    })
    const out = new Float64Array(total)
    for (const { start, values } of parts) out.set(values, start)
    return out
  }

  async save (dir: string): Promise<void> {
    const fn = `${this.name}.save`
    if (this.forest === null || this.kept === null || this.state === null) throw new Error(`${fn}: the predictor is not trained; nothing to save`)
    await writePredictor(dir, this.kind, this.config(), { ...this.state }, flattenForest(this.forest.toJSON(), this.kept))
  }

  dispose (): void {
    this.forest = null
    this.kept = null
    this.state = null
  }

  static async load<A = EncodedBatch> (dir: string, hooks: PredictorHooks<A> = {}): Promise<RandomForestPredictor<A>> {
    return RandomForestPredictor.fromSaved<A>(await readPredictor(dir, 'RandomForestPredictor.load'), hooks)
  }

  /** @internal */
  static fromSaved<A> (loaded: LoadedPredictor, hooks: PredictorHooks<A>): RandomForestPredictor<A> {
    const fn = 'RandomForestPredictor.load'
    if (loaded.file.kind !== 'random-forest') throw new Error(`${fn}: the saved predictor is of kind '${loaded.file.kind}', not 'random-forest'`)
    const p = new RandomForestPredictor<A>({ ...(loaded.file.config as RandomForestConfig), encode: hooks.encode, count: hooks.count })
    const s = loaded.file.state as unknown as RFState
    const ints = ['columns', 'n', 'nEstimators', 'seed'] as const
    if (!Array.isArray(s.inputShape) || !s.inputShape.every(d => Number.isInteger(d) && d >= 1) || ints.some(k => !Number.isInteger(s[k])) ||
      s.n < 1 || s.n > s.columns || s.nEstimators < 1 || (s.selectionMethod !== 'mean' && s.selectionMethod !== 'median') || s.treeOptions === null || typeof s.treeOptions !== 'object') {
      throw new Error(`${fn}: the saved state is invalid (${JSON.stringify(s).slice(0, 200)})`)
    }
    const { json, kept } = unflattenForest(loaded, s, fn)
    p.forest = loadForestModule().RandomForestRegression.load(json)
    p.kept = kept
    p.state = { ...s, inputShape: [...s.inputShape] }
    return p
  }
}
