// Helpers shared by the predictors: checking encoder output and targets, the identity
// encoder, gathering batches, chunked encoding for prediction.
import { describe, toFloat64 } from '../validate'
import type { EncodedBatch, Encoder, PredictorHooks } from './types'

/** Product of a shape's dimensions. */
export function sizeOf (shape: readonly number[]): number {
  let s = 1
  for (const d of shape) s *= d
  return s
}

export function sameShape (a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

/** Validates an encoded batch (e.g. what an encoder returned); names `what` in errors. */
export function checkBatch (batch: unknown, fn: string, what: string): EncodedBatch {
  const b = batch as EncodedBatch
  if (b === null || typeof b !== 'object') throw new TypeError(`${fn}: ${what} must be an encoded batch { count, shape, data }, got ${describe(batch)}`)
  if (!Number.isInteger(b.count) || b.count < 0) throw new TypeError(`${fn}: ${what}.count must be a non-negative integer, got ${describe(b.count)}`)
  if (!Array.isArray(b.shape) || b.shape.length === 0 || !b.shape.every(d => Number.isInteger(d) && d >= 1)) {
    throw new TypeError(`${fn}: ${what}.shape must be a non-empty array of positive integers, got ${describe(b.shape)}`)
  }
  if (!(b.data instanceof Float32Array)) throw new TypeError(`${fn}: ${what}.data must be a Float32Array, got ${describe(b.data)}`)
  const want = b.count * sizeOf(b.shape)
  if (b.data.length !== want) {
    throw new RangeError(`${fn}: ${what}.data has length ${b.data.length}, expected count · Π shape = ${b.count} · ${b.shape.join('·')} = ${want}`)
  }
  return b
}

/** Throws a RangeError naming the first non-finite element of `data`. */
export function checkFinite (data: Float32Array, fn: string, what: string, itemSize: number, offsetItems = 0): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]
    if (!(v - v === 0)) {
      const item = Math.floor(i / itemSize) + offsetItems
      throw new RangeError(`${fn}: ${what} item ${item} holds a non-finite value (${v}) at element ${i % itemSize}`)
    }
  }
}

/** Checks targets: `count` finite numbers; returns them as a fresh Float64Array. */
export function checkTargets (targets: unknown, count: number, fn: string): Float64Array {
  const y = Float64Array.from(toFloat64(targets, fn, 'targets'))
  if (y.length !== count) throw new RangeError(`${fn}: targets has length ${y.length}, but ${count} architectures were given`)
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i])) throw new RangeError(`${fn}: targets[${i}] must be finite, got ${y[i]}`)
  }
  return y
}

/** The default encoder: the architectures already are an {@link EncodedBatch}. */
export const identityEncoder: Encoder<EncodedBatch> = (batch, start, end) => {
  const b = checkBatch(batch, 'encode', 'archs')
  if (start === undefined && end === undefined) return b
  const s = start ?? 0
  const e = end ?? b.count
  const size = sizeOf(b.shape)
  return { count: e - s, shape: b.shape, data: b.data.subarray(s * size, e * size) }
}

export const identityCount = (batch: EncodedBatch): number => checkBatch(batch, 'count', 'archs').count

export interface ResolvedHooks<A> {
  encode: Encoder<A>
  count?: (archs: A) => number
  augment?: PredictorHooks<A>['augment']
}

/** Validates the hooks; without an encoder, the identity encoder (and its count) are used. */
export function resolveHooks<A> (hooks: PredictorHooks<A> | undefined, fn: string): ResolvedHooks<A> {
  const h = hooks ?? {}
  for (const key of ['encode', 'count', 'augment'] as const) {
    if (h[key] !== undefined && typeof h[key] !== 'function') throw new TypeError(`${fn}: ${key} must be a function, got ${describe(h[key])}`)
  }
  if (h.encode === undefined) {
    return { encode: identityEncoder as unknown as Encoder<A>, count: (h.count ?? identityCount) as (archs: A) => number, augment: h.augment }
  }
  return { encode: h.encode, count: h.count, augment: h.augment }
}

/** Encodes everything at once and validates the result. */
export function encodeAll<A> (hooks: ResolvedHooks<A>, archs: A, fn: string): EncodedBatch {
  return checkBatch(hooks.encode(archs), fn, 'the encoded batch')
}

/**
 * Successive encoded chunks of at most `chunk` items (one chunk holding everything when no
 * `count` hook is available), each with the index of its first item.
 */
export function * encodedChunks<A> (hooks: ResolvedHooks<A>, archs: A, chunk: number, fn: string): Generator<{ batch: EncodedBatch; start: number }, number> {
  if (hooks.count === undefined) {
    const b = encodeAll(hooks, archs, fn)
    yield { batch: b, start: 0 }
    return b.count
  }
  const total = hooks.count(archs)
  if (!Number.isInteger(total) || total < 0) throw new TypeError(`${fn}: count(archs) must return a non-negative integer, got ${describe(total)}`)
  if (total <= chunk) {
    const b = encodeAll(hooks, archs, fn)
    if (b.count !== total) throw new RangeError(`${fn}: the encoder returned ${b.count} items, but count(archs) is ${total}`)
    yield { batch: b, start: 0 }
    return total
  }
  for (let s = 0; s < total; s += chunk) {
    const e = Math.min(total, s + chunk)
    const b = checkBatch(hooks.encode(archs, s, e), fn, `the encoded chunk ${s}..${e - 1}`)
    if (b.count !== e - s) throw new RangeError(`${fn}: encode(archs, ${s}, ${e}) returned ${b.count} items, expected ${e - s} (an encoder used with count() must honour start and end)`)
    yield { batch: b, start: s }
  }
  return total
}

/** Calls `consume` on each of {@link encodedChunks}; returns the number of items. */
export function forEachChunk<A> (hooks: ResolvedHooks<A>, archs: A, chunk: number, fn: string, consume: (batch: EncodedBatch, start: number) => void): number {
  const chunks = encodedChunks(hooks, archs, chunk, fn)
  for (;;) {
    const next = chunks.next()
    if (next.done === true) return next.value
    consume(next.value.batch, next.value.start)
  }
}

/** Copies the items `indices` of `batch` into `out` (consecutively). */
export function gather (batch: EncodedBatch, indices: ArrayLike<number>, out: Float32Array): Float32Array {
  const size = sizeOf(batch.shape)
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]
    out.set(batch.data.subarray(i * size, (i + 1) * size), k * size)
  }
  return out
}

/** Targets standardisation (z-score) for regression losses; std 0 becomes 1. */
export function standardize (y: Float64Array): { mean: number; std: number; z: Float64Array } {
  let mean = 0
  for (const v of y) mean += v
  mean /= Math.max(1, y.length)
  let ss = 0
  for (const v of y) ss += (v - mean) * (v - mean)
  let std = Math.sqrt(ss / Math.max(1, y.length))
  if (!(std > 0)) std = 1
  const z = new Float64Array(y.length)
  for (let i = 0; i < y.length; i++) z[i] = (y[i] - mean) / std
  return { mean, std, z }
}

export function abortError (signal: AbortSignal | undefined, fn: string): Error {
  const reason = signal?.reason
  const err = new Error(`${fn}: aborted${reason instanceof Error ? ` (${reason.message})` : reason !== undefined ? ` (${String(reason)})` : ''}`)
  err.name = 'AbortError'
  return err
}
