// Kendall's tau as CTNAS computes it (Eq. 12, Supp. F): over the pairs i < j of n held-out
// architectures, the mean of sgn(NAC(α_i, α_j) − 0.5)·sgn(R_i − R_j) (a comparator), or of
// sgn(f_i − f_j)·sgn(R_i − R_j) (a scalar predictor), divided once by C(n, 2) (Eq. 12 divides
// twice: a typo). Ties: the paper's sgn(0) = 0, or the code's +1 on both sides. Exact integer
// counts. Not kendallTau's 'a' variant, which counts ties as discordant.
import { describe } from '../validate'

export type KendallTies = 'paper' | 'code'

function sgn (x: number, ties: KendallTies): number {
  return x > 0 ? 1 : x < 0 ? -1 : ties === 'code' ? 1 : 0
}

function check (truth: ArrayLike<number>, fn: string, ties: unknown): number {
  if (truth === null || typeof truth !== 'object' || typeof truth.length !== 'number') throw new TypeError(`${fn}: truth must be an array of numbers, got ${describe(truth)}`)
  if (ties !== 'paper' && ties !== 'code') throw new TypeError(`${fn}: ties must be 'paper' or 'code', got ${describe(ties)}`)
  const n = truth.length
  if (n < 2) throw new RangeError(`${fn}: needs at least 2 architectures, got ${n}`)
  for (let i = 0; i < n; i++) if (!Number.isFinite(truth[i])) throw new RangeError(`${fn}: truth[${i}] is ${truth[i]}, not a finite number`)
  return n
}

/** Eq. 12 of a comparator: prob is n×n row-major with prob[i*n + j] = p(i ≻ j); only i < j is read. */
export function comparatorKendall (prob: ArrayLike<number>, truth: ArrayLike<number>, ties: KendallTies = 'paper'): number {
  const fn = 'comparatorKendall'
  const n = check(truth, fn, ties)
  if (prob === null || typeof prob !== 'object' || prob.length !== n * n) throw new RangeError(`${fn}: prob must hold n×n = ${n * n} values for ${n} architectures, got ${describe(prob)}`)
  let sum = 0
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const p = prob[i * n + j]
      if (!Number.isFinite(p)) throw new RangeError(`${fn}: prob[${i * n + j}] is ${p}, not a finite number`)
      sum += sgn(p - 0.5, ties) * sgn(truth[i] - truth[j], ties)
    }
  }
  return sum / (n * (n - 1) / 2)
}

/** Eq. 12 of a scalar predictor: sgn(f_i − f_j)·sgn(R_i − R_j) averaged over i < j. */
export function scalarKendall (scores: ArrayLike<number>, truth: ArrayLike<number>, ties: KendallTies = 'paper'): number {
  const fn = 'scalarKendall'
  const n = check(truth, fn, ties)
  if (scores === null || typeof scores !== 'object' || scores.length !== n) throw new RangeError(`${fn}: scores must hold ${n} values (one per architecture), got ${describe(scores)}`)
  let sum = 0
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(scores[i])) throw new RangeError(`${fn}: scores[${i}] is ${scores[i]}, not a finite number`)
    for (let j = i + 1; j < n; j++) sum += sgn(scores[i] - scores[j], ties) * sgn(truth[i] - truth[j], ties)
  }
  return sum / (n * (n - 1) / 2)
}
