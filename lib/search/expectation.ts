// The exact expectation of random search: the expected reported value (e.g. test accuracy) of
// the architecture with the best searched value (e.g. val) among q architectures drawn
// uniformly without replacement from N. With distinct searched values v_1 < … < v_m and c_k
// rows at or below v_k, P(best = v_k) = [C(c_k, q) − C(c_{k−1}, q)] / C(N, q). Ties at the
// best value are resolved as runSearch does (the first queried of them), which under a uniform
// random order is uniform over the tied rows: their mean reported value counts.
import { toFloat64 } from '../validate'

/**
 * Expected `reported` value of random search's incumbent after each of `queries` draws, and
 * the expected searched value. Rows whose searched value is NaN are not in the space.
 */
export function randomSearchExpectation (searched: ArrayLike<number>, reported: ArrayLike<number>, queries: readonly number[]): Array<{ queries: number, searched: number, reported: number }> {
  const fn = 'randomSearchExpectation'
  const s = toFloat64(searched, fn, 'searched')
  const r = toFloat64(reported, fn, 'reported')
  if (r.length !== s.length) throw new RangeError(`${fn}: searched has ${s.length} values but reported has ${r.length}`)
  const rows: number[] = []
  for (let i = 0; i < s.length; i++) if (!Number.isNaN(s[i])) rows.push(i)
  const N = rows.length
  rows.sort((a, b) => s[a] - s[b])
  // Groups of tied searched values, ascending: (count at or below, mean searched, mean reported).
  const upto: number[] = []
  const meanS: number[] = []
  const meanR: number[] = []
  for (let k = 0; k < N;) {
    let j = k
    let sum = 0
    while (j < N && s[rows[j]] === s[rows[k]]) { sum += r[rows[j]]; j++ }
    upto.push(j)
    meanS.push(s[rows[k]])
    meanR.push(sum / (j - k))
    k = j
  }
  const logFact = new Float64Array(N + 1)
  for (let i = 1; i <= N; i++) logFact[i] = logFact[i - 1] + Math.log(i)
  // C(a, q) / C(N, q).
  const ratio = (a: number, q: number): number => a < q ? 0 : Math.exp(logFact[a] - logFact[a - q] - logFact[N] + logFact[N - q])
  return queries.map((q, i) => {
    if (!Number.isInteger(q) || q < 1 || q > N) throw new RangeError(`${fn}: queries[${i}] must be an integer in [1, ${N}], got ${q}`)
    let es = 0
    let er = 0
    let below = 0
    for (let g = 0; g < upto.length; g++) {
      const at = ratio(upto[g], q)
      const p = at - below
      below = at
      if (p > 0) { es += p * meanS[g]; er += p * meanR[g] }
    }
    return { queries: q, searched: es, reported: er }
  })
}
