// Pairwise cross-entropy (Mauch et al. Eq. 5-7; the CTNAS comparator's BCE).
import { addon } from '../native'
import { checkOptions, oneOf, toFloat64, type NumericArray } from '../validate'

export interface PairwiseLogLossOptions {
  /** 'mean' (default) over the pairs, or 'sum'. */
  reduction?: 'mean' | 'sum'
}

export interface PairwiseLogLossResult {
  loss: number
  /** ∂loss/∂scoreA = σ(a − b) − label (scaled by 1/n for 'mean'). */
  gradA: Float64Array
  /** ∂loss/∂scoreB = −gradA. */
  gradB: Float64Array
}

/**
 * For each pair k, P(A ≻ B) = σ(scoreA_k − scoreB_k) and the loss is the binary cross-entropy
 * with label_k ∈ [0, 1] (1: A is better), computed stably from the logit. For a comparator
 * that outputs one logit per pair (CTNAS), pass the logits as scoreA and zeros as scoreB.
 */
export function pairwiseLogLoss (scoreA: NumericArray, scoreB: NumericArray, label: NumericArray, options?: PairwiseLogLossOptions): PairwiseLogLossResult {
  const fn = 'pairwiseLogLoss'
  const opts = checkOptions<PairwiseLogLossOptions>(options, fn, ['reduction'])
  return addon.pairwiseLogLoss(
    toFloat64(scoreA, fn, 'scoreA'),
    toFloat64(scoreB, fn, 'scoreB'),
    toFloat64(label, fn, 'label'),
    oneOf(opts.reduction, 'mean', ['mean', 'sum'] as const, fn, 'reduction'))
}
