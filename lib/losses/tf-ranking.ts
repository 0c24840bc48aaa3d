// The ReNAS ranking losses as tfjs ops: the native kernels inside tf.customGrad (forward: the
// native loss, backward: its exact native gradient), never an O(n²)/O(n³) tensor broadcast.
//
// Each op reads its input tensor synchronously (dataSync), calls the native kernel once for
// loss and gradient together, and hands the gradient to tfjs as the op's backward pass, so it
// composes with autodiff (tf.grad, tf.variableGrads, optimizer.minimize). The values cross to
// the native side in float64; the gradient comes back as float32.
//
// Memory: like any tfjs op, the returned scalar and the tensors created in the backward pass
// belong to the caller's tf.tidy / tf.variableGrads scope.
import { matMul2d } from '../models/matmul'
import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs'
import { pairwiseRankLoss, tripletRankLoss, type RankLossOptions } from './ranking'
import { checkTf, type Tf } from '../models/tf'
import { checkOptions, finiteNumber, toFloat64, describe, type NumericArray } from '../validate'

/** Accumulates the time spent in the native kernels (forward and backward are one call). */
export interface NativeLossTiming {
  /** Milliseconds in the native loss calls, including the float32 → float64 input copy and the float64 → float32 gradient copy. */
  ms: number
  /** Number of native calls. */
  calls: number
}

export interface TfRankLossOptions extends RankLossOptions {
  /** If given, each native call adds its wall time to `timing.ms` and increments `timing.calls`. */
  timing?: NativeLossTiming
}

export interface TfTripletLossOptions extends TfRankLossOptions {
  /**
   * Floor under the squared distance before the square root: d_ij = sqrt(max(‖η_i − η_j‖², eps))
   * (default 1e-6). The square root's derivative is infinite at 0, and the diagonal (and any
   * two identical feature vectors) has distance 0: without the floor the backward pass would
   * compute 0 · ∞ = NaN there. The native loss never reads the diagonal (only j > i), so the
   * floor only changes distances below sqrt(eps) = 1e-3, which is also the float32 rounding
   * floor of the Gram-matrix computation for features of unit scale.
   */
  eps?: number
}

const RANK_KEYS = ['phi', 'margin', 'reduction', 'algorithm', 'device', 'timing'] as const
const TRIPLET_KEYS = [...RANK_KEYS, 'eps'] as const

function isTensor (tf: Tf, value: unknown): value is Tensor {
  return value instanceof tf.Tensor
}

function nativeOptions (opts: Partial<TfRankLossOptions>): RankLossOptions {
  const out: RankLossOptions = {}
  if (opts.phi !== undefined) out.phi = opts.phi
  if (opts.margin !== undefined) out.margin = opts.margin
  if (opts.reduction !== undefined) out.reduction = opts.reduction
  if (opts.algorithm !== undefined) out.algorithm = opts.algorithm
  if (opts.device !== undefined) out.device = opts.device
  return out
}

function checkTiming (timing: unknown, fn: string): NativeLossTiming | undefined {
  if (timing === undefined) return undefined
  const t = timing as NativeLossTiming
  if (t === null || typeof t !== 'object' || typeof t.ms !== 'number' || typeof t.calls !== 'number') {
    throw new TypeError(`${fn}: timing must be an object { ms: number, calls: number }, got ${describe(timing)}`)
  }
  return t
}

function now (): number {
  return performance.now()
}

function toFloat32 (grad: Float64Array): Float32Array {
  return Float32Array.from(grad)
}

/**
 * @internal (published through index.ts with the structural tfjs types)
 * ReNAS Eq. 3 on a tfjs vector: Σ_{i<j} φ((p_i − p_j)·sign(y_i − y_j)) (reduced by `reduction`,
 * default 'mean' over the comparable pairs). `pred` is a rank-1 float tensor of length n,
 * `target` n finite numbers. Returns a scalar whose gradient with respect to `pred` is the
 * native kernel's exact (sub)gradient.
 */
export function pairwiseRankLossTf (tf: Tf, pred: Tensor, target: NumericArray, options?: TfRankLossOptions): Scalar {
  const fn = 'pairwiseRankLossTf'
  tf = checkTf(tf, fn)
  const opts = checkOptions<TfRankLossOptions>(options, fn, RANK_KEYS)
  const timing = checkTiming(opts.timing, fn)
  const y = toFloat64(target, fn, 'target')
  if (!isTensor(tf, pred)) throw new TypeError(`${fn}: pred must be a tfjs Tensor, got ${describe(pred)}`)
  if (pred.rank !== 1 || pred.shape[0] !== y.length) {
    throw new RangeError(`${fn}: pred must have shape [${y.length}] (one score per target), got [${pred.shape.join(', ')}]`)
  }
  const native = nativeOptions(opts)
  const op = tf.customGrad((p: Tensor | unknown) => {
    const values = (p as Tensor).dataSync()
    const t0 = now()
    const r = pairwiseRankLoss(values as Float32Array, y, native)
    const grad = toFloat32(r.grad)
    if (timing) { timing.ms += now() - t0; timing.calls++ }
    return {
      value: tf.scalar(r.loss),
      gradFunc: (dy: Tensor) => tf.mul(dy, tf.tensor1d(grad))
    }
  })
  return op(pred) as Scalar
}

/**
 * @internal (published through index.ts with the structural tfjs types)
 * ReNAS Eq. 4 on a precomputed n×n distance matrix (only its strict upper triangle is read;
 * the gradient is zero elsewhere): Σ_{i<j<k} φ((d_ij − d_ik)·sign(l_ij − l_ik)), l_ij = |y_i − y_j|.
 */
export function tripletRankLossOnDistancesTf (tf: Tf, dist: Tensor, target: NumericArray, options?: TfRankLossOptions): Scalar {
  const fn = 'tripletRankLossOnDistancesTf'
  tf = checkTf(tf, fn)
  const opts = checkOptions<TfRankLossOptions>(options, fn, RANK_KEYS)
  return tripletOnDistances(tf, dist, toFloat64(target, fn, 'target'), nativeOptions(opts), checkTiming(opts.timing, fn), fn)
}

function tripletOnDistances (tf: Tf, dist: Tensor, y: Float64Array, native: RankLossOptions, timing: NativeLossTiming | undefined, fn: string): Scalar {
  const n = y.length
  if (!isTensor(tf, dist)) throw new TypeError(`${fn}: dist must be a tfjs Tensor, got ${describe(dist)}`)
  if (dist.rank !== 2 || dist.shape[0] !== n || dist.shape[1] !== n) {
    throw new RangeError(`${fn}: dist must have shape [${n}, ${n}] (n = target length), got [${dist.shape.join(', ')}]`)
  }
  const op = tf.customGrad((d: Tensor | unknown) => {
    const values = (d as Tensor).dataSync()
    const t0 = now()
    const r = tripletRankLoss(values as Float32Array, y, native)
    const grad = toFloat32(r.grad)
    if (timing) { timing.ms += now() - t0; timing.calls++ }
    return {
      value: tf.scalar(r.loss),
      gradFunc: (dy: Tensor) => tf.mul(dy, tf.tensor2d(grad, [n, n]))
    }
  })
  return op(dist) as Scalar
}

/**
 * @internal (published through index.ts with the structural tfjs types)
 * Euclidean distances between the rows of `features` [n, k]:
 * d_ij = sqrt(max(‖η_i − η_j‖², eps)), computed from the Gram matrix of the column-centred
 * features (‖a‖² + ‖b‖² − 2a·b; centring leaves distances unchanged and reduces float32
 * cancellation). Differentiable; O(n²k) in one matMul.
 */
export function pairwiseDistancesTf (tf: Tf, features: Tensor, eps = 1e-6): Tensor2D {
  const fn = 'pairwiseDistancesTf'
  tf = checkTf(tf, fn)
  if (!isTensor(tf, features)) throw new TypeError(`${fn}: features must be a tfjs Tensor, got ${describe(features)}`)
  if (features.rank !== 2) throw new RangeError(`${fn}: features must be a 2-D tensor [n, k], got shape [${features.shape.join(', ')}]`)
  const e = finiteNumber(eps, 1e-6, fn, 'eps')
  if (!(e > 0)) throw new RangeError(`${fn}: eps must be > 0, got ${e}`)
  const x = features as Tensor2D
  const centred = tf.sub(x, tf.mean(x, 0, true))
  const gram = matMul2d(tf, centred, tf.transpose(centred))
  const norms = tf.sum(tf.square(centred), 1, true) // [n, 1]
  const sq = tf.sub(tf.add(norms, tf.transpose(norms)), tf.mul(gram, 2))
  return tf.sqrt(tf.maximum(sq, e)) as Tensor2D
}

/**
 * @internal (published through index.ts with the structural tfjs types)
 * ReNAS Eq. 4 on features: the n×n distance matrix of the rows of `features` [n, k] (the
 * predictor's penultimate features η) is computed in tfjs ({@link pairwiseDistancesTf}),
 * the triplet loss and its gradient with respect to the distances come from the native
 * kernel, and tfjs autodiff carries that gradient back through the distance computation.
 */
export function tripletRankLossTf (tf: Tf, features: Tensor, target: NumericArray, options?: TfTripletLossOptions): Scalar {
  const fn = 'tripletRankLossTf'
  tf = checkTf(tf, fn)
  const opts = checkOptions<TfTripletLossOptions>(options, fn, TRIPLET_KEYS)
  const timing = checkTiming(opts.timing, fn)
  const y = toFloat64(target, fn, 'target')
  if (!isTensor(tf, features)) throw new TypeError(`${fn}: features must be a tfjs Tensor, got ${describe(features)}`)
  if (features.rank !== 2 || features.shape[0] !== y.length) {
    throw new RangeError(`${fn}: features must have shape [${y.length}, k] (one row per target), got [${features.shape.join(', ')}]`)
  }
  const eps = finiteNumber(opts.eps, 1e-6, fn, 'eps')
  if (!(eps > 0)) throw new RangeError(`${fn}: eps must be > 0, got ${eps}`)
  const dist = pairwiseDistancesTf(tf, features, eps)
  return tripletOnDistances(tf, dist, y, nativeOptions(opts), timing, fn)
}
