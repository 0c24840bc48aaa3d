// All-pairs work of a comparator with a linear head, p(i ≻ j) = σ(u_i + v_j + b) (CTNAS's NAC:
// u = E·w_a, v = E·w_b), in the native addon without an n×n buffer:
//   comparatorRowMeans — Eq. 5, s_i = mean_{j≠i} p(i ≻ j);
//   baselineUpdate — Alg. 2: the row means and β = argmax (≥: the last maximum wins);
//   linearComparatorKendall — Eq. 12 from exact integer counts, both tie rules.
// Each row is one thread's fixed-order sum: the result does not depend on the thread count.
import { addon, named } from '../native'
import { checkOptions, describe, oneOf, threadsOption, toFloat64, type NumericArray } from '../validate'
import type { KendallTies } from '../metrics/comparator-kendall'

export interface LinearHeads {
  /** u_i = z_i·w_a, the head's first half (one value per architecture). */
  u: NumericArray
  /** v_j = z_j·w_b, the second half. */
  v: NumericArray
  /** The head's bias (default 0: the paper's NAC has none). */
  bias?: number
}

export interface LinearComparatorOptions {
  /** Worker threads (default: setThreads / NASRANK_THREADS / the CPU count). */
  threads?: number
}

function readHeads (heads: unknown, fn: string): { u: Float64Array, v: Float64Array, bias: number } {
  if (heads === null || typeof heads !== 'object') throw new TypeError(`${fn}: heads must be {u, v, bias?}, got ${describe(heads)}`)
  // Every property first (a getter may run user code), then the data.
  const { u: uIn, v: vIn, bias: biasIn } = heads as LinearHeads
  const u = toFloat64(uIn, fn, 'heads.u')
  const v = toFloat64(vIn, fn, 'heads.v')
  if (u.length !== v.length) throw new RangeError(`${fn}: heads.u has ${u.length} values but heads.v has ${v.length}; they must be equal`)
  const bias = biasIn ?? 0
  if (typeof bias !== 'number' || !Number.isFinite(bias)) throw new TypeError(`${fn}: heads.bias must be a finite number, got ${describe(bias)}`)
  return { u, v, bias }
}

/** s_i = mean_{j≠i} σ(u_i + v_j + b) (Eq. 5); one architecture: [0]; none: RangeError. */
export function comparatorRowMeans (heads: LinearHeads, options?: LinearComparatorOptions): Float64Array {
  const fn = 'comparatorRowMeans'
  const o = checkOptions<LinearComparatorOptions>(options, fn, ['threads'])
  const { u, v, bias } = readHeads(heads, fn)
  if (u.length === 0) throw new RangeError(`${fn}: the candidate set is empty (heads.u and heads.v have no values)`)
  return addon.comparatorRowMeans(u, v, bias, threadsOption(o.threads, fn))
}

/**
 * The baseline curriculum (Alg. 2) over H: scores s (Eq. 5), the winner (≥: the last maximum
 * wins) and its score. |H| = 1: that architecture with score null. Empty: RangeError.
 */
export function baselineUpdate (heads: LinearHeads, options?: LinearComparatorOptions): { scores: Float64Array, best: number, bestScore: number | null } {
  const fn = 'baselineUpdate'
  const { u } = readHeads(heads, fn)
  if (u.length === 0) throw new RangeError(`${fn}: the candidate set H is empty`)
  if (u.length === 1) return { scores: new Float64Array(1), best: 0, bestScore: null }
  const scores = comparatorRowMeans(heads, options)
  let best = 0
  for (let i = 1; i < scores.length; i++) if (scores[i] >= scores[best]) best = i
  return { scores, best, bestScore: scores[best] }
}

/**
 * Eq. 12 of a linear-head comparator over the pairs i < j: the mean of
 * sgn(p_ij − 0.5)·sgn(truth_i − truth_j), with sgn(p_ij − 0.5) decided on the logit
 * u_i + v_j + b (σ(0) = 0.5). Ties: the paper's sgn(0) = 0 or the code's +1. The counts are
 * exact integers; tau = (concordant − discordant) / C(n, 2).
 */
export function linearComparatorKendall (heads: LinearHeads, truth: NumericArray, ties: KendallTies = 'paper', options?: LinearComparatorOptions):
{ tau: number, concordant: number, discordant: number, zero: number, pairs: number } {
  const fn = 'linearComparatorKendall'
  const o = checkOptions<LinearComparatorOptions>(options, fn, ['threads'])
  const { u, v, bias } = readHeads(heads, fn)
  const t = toFloat64(truth, fn, 'truth')
  if (t.length !== u.length) throw new RangeError(`${fn}: truth has ${t.length} values but heads.u has ${u.length}; they must be equal`)
  if (u.length < 2) throw new RangeError(`${fn}: needs at least 2 architectures, got ${u.length}`)
  const rule = oneOf(ties, 'paper', ['paper', 'code'] as const, fn, 'ties')
  const c = named(fn).comparatorKendallCounts(u, v, bias, t, rule, threadsOption(o.threads, fn))
  const pairs = u.length * (u.length - 1) / 2
  return { tau: (c.concordant - c.discordant) / pairs, ...c, pairs }
}
