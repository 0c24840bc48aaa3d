// Native batched GCN scoring: the forward pass of a trained GCN (exported from
// lib/models/gcn.ts) over whole search spaces, and the CTNAS comparator head. The addon
// validates every argument (shapes against V/F and layer widths, finiteness, masks,
// padding); errors name the argument, e.g. "gcnScore: graphs.mask[12] is 0.5; ...".
import { addon, named, type HeldGraphsHandle } from '../native'
import { boolean, checkOptions, describe, oneOf, threadsOption } from '../validate'
import type { ComparatorHeadWeights, ComparatorWeights, GcnEmbedWeights, GcnWeights, GraphBatch } from './types'

export interface GcnOptions {
  /** Worker threads (default: {@link setThreads} / NASRANK_THREADS / the CPU count). */
  threads?: number
  /** 'cpu' (default) or 'cuda' (needs an addon built with `npm run build:cuda`). */
  device?: 'cpu' | 'cuda'
  /**
   * CPU: compute repeated rows once (default true). Rows with identical inputs (the same
   * features, or the same Â entries over the same previous-layer rows, e.g. every cell's
   * output vertex) are computed once per sub-batch; results are bit-identical either way.
   */
  dedup?: boolean
  /** Normalisation: 'sym' D̃^−½ÃD̃^−½ (default) or 'row' D̃^−½Ã (left-only, Mauch et al.). */
  norm?: 'sym' | 'row'
  /** Readout: 'real' the mean over real vertices (default), or 'all' every vertex real (mask ignored) and the mean over all V rows. */
  pool?: 'real' | 'all'
}

export interface ComparatorOptions {
  /** Worker threads (default as for {@link gcnScore}). */
  threads?: number
}

const DEVICES = ['cpu', 'cuda'] as const

const NORMS = ['sym', 'row'] as const
const POOLS = ['real', 'all'] as const

function gcnArgs (options: GcnOptions | undefined, fn: string) {
  const opts = checkOptions<GcnOptions>(options, fn, ['threads', 'device', 'dedup', 'norm', 'pool'])
  return [threadsOption(opts.threads, fn), oneOf(opts.device, 'cpu', DEVICES, fn, 'device'), boolean(opts.dedup, true, fn, 'dedup')] as const
}
function variantArgs (options: GcnOptions | undefined, fn: string): [string, string] {
  const opts = checkOptions<GcnOptions>(options, fn, ['threads', 'device', 'dedup', 'norm', 'pool'])
  return [oneOf(opts.norm, 'sym', NORMS, fn, 'norm'), oneOf(opts.pool, 'real', POOLS, fn, 'pool')]
}

function comparatorArgs (options: ComparatorOptions | undefined, fn: string) {
  const opts = checkOptions<ComparatorOptions>(options, fn, ['threads'])
  return threadsOption(opts.threads, fn)
}

function rejecting<T> (run: () => Promise<T>): Promise<T> {
  try {
    return run()
  } catch (err) {
    return Promise.reject(err)
  }
}

/**
 * A GraphBatch checked and copied into native memory once ({@link gcnGraphsHold}), so that
 * repeated {@link gcnScore} / {@link gcnScoreAsync} / {@link gcnEmbed} / {@link gcnEmbedAsync}
 * calls on it neither check nor copy it again (a plain GraphBatch is checked on every call,
 * and copied for an async one, as the caller could change it meanwhile). An immutable
 * snapshot: later changes to the arrays it was made from do not reach it. Freed when garbage
 * collected.
 */
export class HeldGraphBatch {
  readonly count: number
  readonly vertices: number
  readonly features: number
  /** @internal */
  readonly handle: HeldGraphsHandle

  /** @internal */
  constructor (count: number, vertices: number, features: number, handle: HeldGraphsHandle) {
    this.count = count
    this.vertices = vertices
    this.features = features
    this.handle = handle
  }
}

/** Checks `graphs` (as gcnScore does: shapes, finite values, 0/1 mask, no edge into padding) and copies it into native memory. */
export function gcnGraphsHold (graphs: GraphBatch): HeldGraphBatch {
  const h = addon.gcnGraphsHold(graphs)
  return new HeldGraphBatch(h.count, h.vertices, h.features, h.handle)
}

function graphsArg (graphs: GraphBatch | HeldGraphBatch): GraphBatch | HeldGraphsHandle {
  return graphs instanceof HeldGraphBatch ? graphs.handle : graphs
}

/**
 * Scores every graph of the batch with a trained GCN: per layer H ← ReLU(Â·H·W + b) with
 * Â = D̃^−½ Ã D̃^−½ (options.norm 'row': D̃^−½ Ã), Ã = A + diag(mask), then the mean over real
 * vertices (options.pool 'all': every vertex, padding included) and the readout
 * fc. float32 compute (AVX2/FMA where available), double pooling and readout; one score per
 * graph. Agrees with {@link GcnModel}'s `score` to ~1e-6 relative.
 */
export function gcnScore (graphs: GraphBatch | HeldGraphBatch, weights: GcnWeights, options?: GcnOptions): Float64Array {
  return addon.gcnScore(graphsArg(graphs), weights, ...gcnArgs(options, 'gcnScore'), false, ...variantArgs(options, 'gcnScore'))
}

/** {@link gcnScore} off the main thread (inputs are copied first). */
export function gcnScoreAsync (graphs: GraphBatch | HeldGraphBatch, weights: GcnWeights, options?: GcnOptions): Promise<Float64Array> {
  return rejecting(() => named('gcnScoreAsync').gcnScore(graphsArg(graphs), weights, ...gcnArgs(options, 'gcnScoreAsync'), true, ...variantArgs(options, 'gcnScoreAsync')))
}

/**
 * The pooled GCN features (the CTNAS comparator's feature extractor): count × H row-major,
 * H the last layer's width. A readout in `weights` is ignored.
 */
export function gcnEmbed (graphs: GraphBatch | HeldGraphBatch, weights: GcnEmbedWeights, options?: GcnOptions): Float32Array {
  return addon.gcnEmbed(graphsArg(graphs), weights, ...gcnArgs(options, 'gcnEmbed'), false, ...variantArgs(options, 'gcnEmbed'))
}

/** {@link gcnEmbed} off the main thread (inputs are copied first). */
export function gcnEmbedAsync (graphs: GraphBatch | HeldGraphBatch, weights: GcnEmbedWeights, options?: GcnOptions): Promise<Float32Array> {
  return rejecting(() => named('gcnEmbedAsync').gcnEmbed(graphsArg(graphs), weights, ...gcnArgs(options, 'gcnEmbedAsync'), true, ...variantArgs(options, 'gcnEmbedAsync')))
}

/**
 * The CTNAS comparator head on embeddings (count × D row-major, D implied by `head`):
 * P(a_i better than b_i) = σ(out(ReLU(…ReLU([a_i, b_i]·W₀ + b₀)…))). The two batches hold
 * equally many embeddings, or one of them exactly one (compared with every embedding of
 * the other, e.g. a baseline architecture).
 */
export function comparatorProbability (embA: Float32Array, embB: Float32Array, head: ComparatorHeadWeights, options?: ComparatorOptions): Float64Array {
  return addon.comparatorProbability(embA, embB, head, comparatorArgs(options, 'comparatorProbability'))
}

/** {@link comparatorProbability} off the main thread. */
export function comparatorProbabilityAsync (embA: Float32Array, embB: Float32Array, head: ComparatorHeadWeights, options?: ComparatorOptions): Promise<Float64Array> {
  return rejecting(() => named('comparatorProbabilityAsync').comparatorProbability(embA, embB, head, comparatorArgs(options, 'comparatorProbabilityAsync'), true))
}

// gcnCompare makes three native calls; a getter in an argument read by a later call could
// change an array an earlier call already used. So every property of all three arguments is
// read here, once, before the first call (the addon checks the values themselves).
function fields<T> (value: T, keys: readonly string[]): T {
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const k of keys) out[k] = (value as Record<string, unknown>)[k]
  return out as T
}
const DENSE = ['w', 'b'] as const
function layers (value: unknown): unknown {
  return Array.isArray(value) ? Array.from(value as unknown[], l => fields(l, DENSE)) : value
}
function compareArgs (graphsA: GraphBatch, graphsB: GraphBatch, weights: ComparatorWeights, fn: string) {
  if (weights === null || typeof weights !== 'object') throw new TypeError(`${fn}: weights must be an object {gcn, head}, got ${describe(weights)}`)
  const graphKeys = ['count', 'vertices', 'features', 'adjacency', 'x', 'mask'] as const
  const a = fields(graphsA, graphKeys)
  const b = fields(graphsB, graphKeys)
  const { gcn, head } = weights
  const g = gcn !== null && typeof gcn === 'object' ? { layers: layers(gcn.layers) } as GcnEmbedWeights : gcn
  const h = head !== null && typeof head === 'object' ? { layers: layers(head.layers), out: fields(head.out, DENSE) } as ComparatorHeadWeights : head
  return { a, b, w: { gcn: g, head: h } }
}

/**
 * The whole comparator: embeds both batches with `weights.gcn`, then applies the head.
 * graphsB may hold a single graph (compared with every graph of graphsA) or as many as A.
 */
export function gcnCompare (graphsA: GraphBatch, graphsB: GraphBatch, weights: ComparatorWeights, options?: GcnOptions): Float64Array {
  const fn = 'gcnCompare'
  const { a: gA, b: gB, w } = compareArgs(graphsA, graphsB, weights, fn)
  const [threads, device, dedup] = gcnArgs(options, fn)
  const a = named(fn, { graphs: 'graphsA', weights: 'weights.gcn' }).gcnEmbed(gA, w.gcn, threads, device, dedup)
  const b = named(fn, { graphs: 'graphsB', weights: 'weights.gcn' }).gcnEmbed(gB, w.gcn, threads, device, dedup)
  return named(fn, { head: 'weights.head' }).comparatorProbability(a, b, w.head, threads)
}

/** {@link gcnCompare} off the main thread. */
export function gcnCompareAsync (graphsA: GraphBatch, graphsB: GraphBatch, weights: ComparatorWeights, options?: GcnOptions): Promise<Float64Array> {
  return rejecting(async () => {
    const fn = 'gcnCompareAsync'
    const { a: gA, b: gB, w } = compareArgs(graphsA, graphsB, weights, fn)
    const [threads, device, dedup] = gcnArgs(options, fn)
    // Both embeddings start now (each copies its inputs at once), so a caller that changes
    // graphsB while A is embedded cannot change what is compared.
    const pa = named(fn, { graphs: 'graphsA', weights: 'weights.gcn' }).gcnEmbed(gA, w.gcn, threads, device, dedup, true)
    pa.catch(() => {})
    const pb = named(fn, { graphs: 'graphsB', weights: 'weights.gcn' }).gcnEmbed(gB, w.gcn, threads, device, dedup, true)
    pb.catch(() => {})
    const a = await pa
    const b = await pb
    return named(fn, { head: 'weights.head' }).comparatorProbability(a, b, w.head, threads, true)
  })
}

// ---- the ranking GCN in float64 (Mauch et al.): training and input gradients ------------

/** Float64 GCN parameters for {@link gcnTrain} / {@link gcnScoreGrad}: layers w (in × out row-major), optional biases (all or none), readout fc (no trained bias). */
export interface RankGcnParams {
  layers: Array<{ w: Float64Array, b?: Float64Array }>
  fc: Float64Array
  /** A constant added to every score (default 0; not trained: the pairwise loss gives it no gradient). */
  fcBias?: number
  norm?: 'sym' | 'row'
  pool?: 'real' | 'all'
}

export interface GcnTrainSettings {
  /** Full-batch steps (one per epoch). */
  epochs: number
  /** Initial learning rate of the cosine-by-step schedule (> 0). */
  lr: number
  /** SGD momentum in [0, 1) (PyTorch form v ← μv + g, w ← w − η v). */
  momentum: number
  /** Tied accuracies: y = 1 in both orders ('positive') or the pair dropped ('ignore'). */
  ties: 'positive' | 'ignore'
}

export interface GcnTrainOptions {
  /** Worker threads (default as for {@link gcnScore}); results are bit-identical for any count. */
  threads?: number
  /** Async only: stops training before the next epoch; the promise rejects with the signal's reason. */
  signal?: AbortSignal
}

export interface GcnTrainResult {
  layers: Array<{ w: Float64Array, b?: Float64Array }>
  fc: Float64Array
  /** The loss before each update. */
  losses: Float64Array
}

function trainArgs (indices: ArrayLike<number>, options: GcnTrainOptions | undefined, fn: string) {
  const opts = checkOptions<GcnTrainOptions>(options, fn, ['threads', 'signal'])
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw new TypeError(`${fn}: options.signal must be an AbortSignal, got ${describe(opts.signal)}`)
  if (indices === null || typeof indices !== 'object' || typeof indices.length !== 'number') throw new TypeError(`${fn}: indices must be an array of graph indices, got ${describe(indices)}`)
  const idx = new Uint32Array(indices.length)
  for (let k = 0; k < indices.length; k++) {
    const v = indices[k]
    if (!Number.isInteger(v) || v < 0 || v > 0xFFFFFFFF) throw new RangeError(`${fn}: indices[${k}] is ${describe(v)}; graph indices must be non-negative integers`)
    idx[k] = v
  }
  return { idx, threads: threadsOption(opts.threads, fn), signal: opts.signal }
}

/**
 * Trains the ranking GCN of Mauch et al. on the graphs at `indices` with accuracies `acc`
 * (higher is better): `epochs` full-batch steps of the ordered-pair logistic loss (Eq. 5–7),
 * momentum SGD, cosine-by-step learning rate. Float64, bit-identical for any thread count.
 * Returns new parameters (the inputs are not changed) and the loss per step. A non-finite
 * loss is an Error naming the epoch.
 */
export function gcnTrain (graphs: GraphBatch, indices: ArrayLike<number>, acc: Float64Array, params: RankGcnParams, settings: GcnTrainSettings, options?: Omit<GcnTrainOptions, 'signal'>): GcnTrainResult {
  const { idx, threads } = trainArgs(indices, options, 'gcnTrain')
  return addon.gcnTrain(graphs, idx, acc, params, settings, threads, undefined)
}

/** {@link gcnTrain} off the main thread (inputs are copied first); `signal` aborts between epochs. */
export function gcnTrainAsync (graphs: GraphBatch, indices: ArrayLike<number>, acc: Float64Array, params: RankGcnParams, settings: GcnTrainSettings, options?: GcnTrainOptions): Promise<GcnTrainResult> {
  return rejecting(async () => {
    const fn = 'gcnTrainAsync'
    const { idx, threads, signal } = trainArgs(indices, options, fn)
    if (signal?.aborted === true) throw signal.reason ?? new Error(`${fn}: aborted`)
    const flag = new Int32Array(new SharedArrayBuffer(4))
    const onAbort = (): void => { Atomics.store(flag, 0, 1) }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      return await named(fn).gcnTrain(graphs, idx, acc, params, settings, threads, flag, true)
    } catch (err) {
      if (Atomics.load(flag, 0) === 1 && signal !== undefined) throw signal.reason ?? new Error(`${fn}: aborted`)
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  })
}

/** Options of {@link gcnScoreGrad}. */
export interface GcnScoreGradOptions {
  /** Worker threads (default as for {@link gcnScore}); results are bit-identical for any count. */
  threads?: number
  /**
   * 'float32' (default, as gcnScore) or 'float64'. float32: activations and the layer products
   * in float (gcnScore's AVX2 tile); the normalisation, pooling, f, the dN sums and dA in
   * double; agrees with float64 to float32 rounding (~1e-7 of the gradient's scale at width
   * 256). float64: every step in double (equal to the JS RankGcn.inputGradient to ~1e-12).
   */
  precision?: 'float64' | 'float32'
  /**
   * Compute rows with identical inputs once (default true): forward rows as in gcnScore, and
   * backward rows whose adjoint inputs are identical (the same activation and the same
   * weighted adjoints of the same rows). Exact: the results are the same bits either way.
   */
  dedup?: boolean
}

const PRECISIONS = ['float64', 'float32'] as const

/**
 * Scores f and input gradients of every graph: dA[g·V² + i·V + j] = ∂f_g/∂A_ij (through Ã
 * and D̃), dX[g·V·F + v·F + c] = ∂f_g/∂X_vc. float32 unless `precision: 'float64'`; rows
 * with identical inputs are computed once (exact); bit-identical for any thread count.
 */
export function gcnScoreGrad (graphs: GraphBatch, params: RankGcnParams, options?: GcnScoreGradOptions): { f: Float64Array, dA: Float64Array, dX: Float64Array } {
  const fn = 'gcnScoreGrad'
  const opts = checkOptions<GcnScoreGradOptions>(options, fn, ['threads', 'precision', 'dedup'])
  return addon.gcnScoreGrad(graphs, params, threadsOption(opts.threads, fn), false, oneOf(opts.precision, 'float32', PRECISIONS, fn, 'precision'), boolean(opts.dedup, true, fn, 'dedup'))
}

/**
 * gcnTrain's loss on its own (Eq. 5–7 of Mauch et al.): the mean over ordered pairs i ≠ j of
 * −ln p_ij, p = σ(f_i − f_j) when acc_i ≥ acc_j, else 1 − σ; ties y = 1 both ways
 * ('positive') or dropped ('ignore'). Returns the loss, dL/df and the pairs counted; the
 * same arithmetic as {@link orderedPairLoss} in lib/models/rank-gcn.ts.
 */
export function rankPairLoss (f: Float64Array, acc: Float64Array, ties: 'positive' | 'ignore' = 'positive'): { loss: number, grad: Float64Array, pairs: number } {
  return addon.rankPairLoss(f, acc, oneOf(ties, 'positive', ['positive', 'ignore'] as const, 'rankPairLoss', 'ties'))
}
