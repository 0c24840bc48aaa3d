// Rank and linear correlation between two equally long numeric arrays.
import { addon, named } from '../native'
import { checkOptions, oneOf, toFloat64, type NumericArray } from '../validate'

export interface KendallTauOptions {
  /**
   * 'b' (default): tau-b with tie correction, identical to `scipy.stats.kendalltau`
   * (NaN when x or y is constant). 'a': the ReNAS paper's 2·concordant/C(n,2) − 1, where
   * concordant counts strictly concordant pairs (with ties this is not (C − D)/C(n,2)).
   */
  variant?: 'a' | 'b'
}

const TAU_VARIANTS = ['a', 'b'] as const

function tauArgs (x: NumericArray, y: NumericArray, options: KendallTauOptions | undefined, fn: string) {
  const opts = checkOptions<KendallTauOptions>(options, fn, ['variant'])
  return [toFloat64(x, fn, 'x'), toFloat64(y, fn, 'y'), oneOf(opts.variant, 'b', TAU_VARIANTS, fn, 'variant')] as const
}

/**
 * Kendall rank correlation in O(n log n) (radix sorts plus a parallel merge-sort
 * inversion count). Needs n ≥ 2; every value must be finite.
 */
export function kendallTau (x: NumericArray, y: NumericArray, options?: KendallTauOptions): number {
  return addon.kendallTau(...tauArgs(x, y, options, 'kendallTau'))
}

/** {@link kendallTau} off the main thread (inputs are copied first). */
export function kendallTauAsync (x: NumericArray, y: NumericArray, options?: KendallTauOptions): Promise<number> {
  try {
    return named('kendallTauAsync').kendallTau(...tauArgs(x, y, options, 'kendallTauAsync'), true)
  } catch (err) {
    return Promise.reject(err)
  }
}

/** Spearman's rho: Pearson's r of the average ranks (ties share their mean rank), as scipy. */
export function spearman (x: NumericArray, y: NumericArray): number {
  return addon.spearman(toFloat64(x, 'spearman', 'x'), toFloat64(y, 'spearman', 'y'))
}

/** {@link spearman} off the main thread. */
export function spearmanAsync (x: NumericArray, y: NumericArray): Promise<number> {
  try {
    return named('spearmanAsync').spearman(toFloat64(x, 'spearmanAsync', 'x'), toFloat64(y, 'spearmanAsync', 'y'), true)
  } catch (err) {
    return Promise.reject(err)
  }
}

/** Pearson's r (NaN when either input is constant, as scipy). */
export function pearson (x: NumericArray, y: NumericArray): number {
  return addon.pearson(toFloat64(x, 'pearson', 'x'), toFloat64(y, 'pearson', 'y'))
}
