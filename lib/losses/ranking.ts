// ReNAS ranking losses (Eq. 3 pairwise, Eq. 4 triplet) with their exact gradients.
import { addon, named } from '../native'
import { checkOptions, finiteNumber, oneOf, toFloat64, type NumericArray } from '../validate'

export interface RankLossOptions {
  /** φ(z): 'hinge' (margin − z)+ (default), 'logistic' log(1 + e^−z), 'exp' e^−z. */
  phi?: 'hinge' | 'logistic' | 'exp'
  /** Hinge margin a (default 1); ignored by the other φ. */
  margin?: number
  /**
   * 'mean' (default): the sum divided by the number of comparable terms (pairs with
   * different targets, triplets with different target distances); 0 when there are none.
   * 'sum': the plain sum of the paper's equation.
   */
  reduction?: 'mean' | 'sum'
  /** 'fast' (default): O(n log n) per anchor for hinge/exp. 'brute': the exhaustive loop. */
  algorithm?: 'fast' | 'brute'
  /** 'cpu' (default) or 'cuda' (exhaustive kernel on the GPU; needs a CUDA build). */
  device?: 'cpu' | 'cuda'
}

export interface RankLossResult {
  loss: number
  /** ∂loss/∂input, same length as the input (n for pairwise, n·n for triplet). */
  grad: Float64Array
  /** Number of comparable pairs / triplets (the 'mean' denominator). */
  comparable: number
}

const OPTION_KEYS = ['phi', 'margin', 'reduction', 'algorithm', 'device'] as const
const PHIS = ['hinge', 'logistic', 'exp'] as const
const REDUCTIONS = ['mean', 'sum'] as const
const ALGORITHMS = ['fast', 'brute'] as const
const DEVICES = ['cpu', 'cuda'] as const

function lossArgs (values: NumericArray, target: NumericArray, options: RankLossOptions | undefined, fn: string, valuesName: string) {
  const opts = checkOptions<RankLossOptions>(options, fn, OPTION_KEYS)
  return [
    toFloat64(values, fn, valuesName),
    toFloat64(target, fn, 'target'),
    oneOf(opts.phi, 'hinge', PHIS, fn, 'phi'),
    finiteNumber(opts.margin, 1, fn, 'margin'),
    oneOf(opts.reduction, 'mean', REDUCTIONS, fn, 'reduction'),
    oneOf(opts.algorithm, 'fast', ALGORITHMS, fn, 'algorithm'),
    oneOf(opts.device, 'cpu', DEVICES, fn, 'device')
  ] as const
}

/**
 * ReNAS Eq. 3: Σ_{i<j} φ((p_i − p_j)·sign(y_i − y_j)) over all n(n−1)/2 pairs, exactly.
 * Pairs with equal targets contribute nothing. Hinge and exp run in O(n log n).
 */
export function pairwiseRankLoss (pred: NumericArray, target: NumericArray, options?: RankLossOptions): RankLossResult {
  return addon.pairwiseRankLoss(...lossArgs(pred, target, options, 'pairwiseRankLoss', 'pred'))
}

/** {@link pairwiseRankLoss} off the main thread. */
export function pairwiseRankLossAsync (pred: NumericArray, target: NumericArray, options?: RankLossOptions): Promise<RankLossResult> {
  try {
    return named('pairwiseRankLossAsync').pairwiseRankLoss(...lossArgs(pred, target, options, 'pairwiseRankLossAsync', 'pred'), true)
  } catch (err) {
    return Promise.reject(err)
  }
}

/**
 * ReNAS Eq. 4: Σ_{i<j<k} φ((d_ij − d_ik)·sign(l_ij − l_ik)) with l_ij = |y_i − y_j|, over all
 * C(n,3) triplets, exactly. `dist` is the n×n row-major distance matrix; only its strict
 * upper triangle (j > i) is read, and the gradient is zero elsewhere. Hinge and exp run in
 * O(n² log n).
 */
export function tripletRankLoss (dist: NumericArray, target: NumericArray, options?: RankLossOptions): RankLossResult {
  return addon.tripletRankLoss(...lossArgs(dist, target, options, 'tripletRankLoss', 'dist'))
}

/** {@link tripletRankLoss} off the main thread. */
export function tripletRankLossAsync (dist: NumericArray, target: NumericArray, options?: RankLossOptions): Promise<RankLossResult> {
  try {
    return named('tripletRankLossAsync').tripletRankLoss(...lossArgs(dist, target, options, 'tripletRankLossAsync', 'dist'), true)
  } catch (err) {
    return Promise.reject(err)
  }
}
