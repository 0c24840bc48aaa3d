// Native batched GCN scoring: the forward pass of a trained GCN (exported from
// lib/models/gcn.ts) over whole search spaces, and the CTNAS comparator head. The addon
// validates every argument (shapes against V/F and layer widths, finiteness, masks,
// padding); errors name the argument, e.g. "gcnScore: graphs.mask[12] is 0.5; ...".
import { addon, named } from '../native'
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
}

export interface ComparatorOptions {
  /** Worker threads (default as for {@link gcnScore}). */
  threads?: number
}

const DEVICES = ['cpu', 'cuda'] as const

function gcnArgs (options: GcnOptions | undefined, fn: string) {
  const opts = checkOptions<GcnOptions>(options, fn, ['threads', 'device', 'dedup'])
  return [threadsOption(opts.threads, fn), oneOf(opts.device, 'cpu', DEVICES, fn, 'device'), boolean(opts.dedup, true, fn, 'dedup')] as const
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
 * Scores every graph of the batch with a trained GCN: per layer H ← ReLU(Â·H·W + b) with
 * Â = D̃^−½ Ã D̃^−½, Ã = A + diag(mask), then the mean over real vertices and the readout
 * fc. float32 compute (AVX2/FMA where available), double pooling and readout; one score per
 * graph. Agrees with {@link GcnModel}'s `score` to ~1e-6 relative.
 */
export function gcnScore (graphs: GraphBatch, weights: GcnWeights, options?: GcnOptions): Float64Array {
  return addon.gcnScore(graphs, weights, ...gcnArgs(options, 'gcnScore'))
}

/** {@link gcnScore} off the main thread (inputs are copied first). */
export function gcnScoreAsync (graphs: GraphBatch, weights: GcnWeights, options?: GcnOptions): Promise<Float64Array> {
  return rejecting(() => named('gcnScoreAsync').gcnScore(graphs, weights, ...gcnArgs(options, 'gcnScoreAsync'), true))
}

/**
 * The pooled GCN features (the CTNAS comparator's feature extractor): count × H row-major,
 * H the last layer's width. A readout in `weights` is ignored.
 */
export function gcnEmbed (graphs: GraphBatch, weights: GcnEmbedWeights, options?: GcnOptions): Float32Array {
  return addon.gcnEmbed(graphs, weights, ...gcnArgs(options, 'gcnEmbed'))
}

/** {@link gcnEmbed} off the main thread (inputs are copied first). */
export function gcnEmbedAsync (graphs: GraphBatch, weights: GcnEmbedWeights, options?: GcnOptions): Promise<Float32Array> {
  return rejecting(() => named('gcnEmbedAsync').gcnEmbed(graphs, weights, ...gcnArgs(options, 'gcnEmbedAsync'), true))
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
