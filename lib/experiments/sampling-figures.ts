// The data of the paper's Figs 2–10 (Mauch et al.) from the rows of `reproduce sampling`:
// histograms q(J_v) of the validation error of what a row evaluated, the sample-efficiency
// gain as a function of the target J (Eq. 15) with its split into gain_e (S → S′, the
// sampling) and gain_p (S′ → C, the predictor; Eq. 16–17), and the best-so-far curves
// (best validation error, and the test error at the best validation, vs evaluations, mean ±
// sd over runs) with both oracles. Pure functions of numbers: the report draws them
// (sampling.ts) and the tests check them, not the pixels.

/** J = 1 − accuracy, for accuracies in [0, 1] ('fraction') or [0, 100] ('percent'). */
export function errorOf (acc: number, scale: 'fraction' | 'percent'): number {
  return 1 - (scale === 'percent' ? acc / 100 : acc)
}

/** The accuracy whose error is J (inverse of errorOf). */
export function accuracyOf (j: number, scale: 'fraction' | 'percent'): number {
  return scale === 'percent' ? 100 * (1 - j) : 1 - j
}

/** Values sorted descending, for counting how many reach a target by binary search. */
export class Reach {
  private readonly sorted: Float64Array
  constructor (values: ArrayLike<number>) {
    this.sorted = Float64Array.from(values).filter(Number.isFinite).sort().reverse()
  }

  get size (): number { return this.sorted.length }

  /** How many values are ≥ target. */
  count (target: number): number {
    let lo = 0; let hi = this.sorted.length
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.sorted[mid] >= target) lo = mid + 1; else hi = mid }
    return lo
  }

  /** The value reached by exactly the best m (the m-th largest; m clamped to [1, size]). */
  atRank (m: number): number { return this.sorted[Math.min(Math.max(m, 1), this.sorted.length) - 1] }

  /** E[τ] of Eq. 14: (n + 1)/(M + 1). */
  trials (target: number): number { return (this.sorted.length + 1) / (this.count(target) + 1) }
}

export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[]
  counts: number[]
  /** Values outside [edges[0], edges[bins]] (not counted in a bin). */
  outside: number
}

/** Counts of `values` in `bins` equal bins over [lo, hi] (the last bin closed). */
export function histogram (values: ArrayLike<number>, lo: number, hi: number, bins: number): Histogram {
  if (!(Number.isInteger(bins) && bins >= 1)) throw new RangeError(`histogram: bins must be an integer >= 1, got ${bins}`)
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && hi > lo)) throw new RangeError(`histogram: need finite lo < hi, got [${lo}, ${hi}]`)
  const counts = new Array<number>(bins).fill(0)
  const width = (hi - lo) / bins
  let outside = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!(v >= lo && v <= hi)) { outside++; continue }
    counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++
  }
  return { edges: Array.from({ length: bins + 1 }, (_, k) => lo + k * width), counts, outside }
}

export interface GainPoint {
  /** Target error J (validation). */
  j: number
  /** M_S(J): architectures of S reaching J. */
  ms: number
  /** M_C(J). */
  mc: number
  /** Eq. 15, dB. */
  gain: number
  /** Eq. 16 (S → S′) and Eq. 17 (S′ → C), dB, when the pools are stored. */
  gainE?: number
  gainP?: number
  /** The ceiling 10·log10((|S|+1)/(M_S+1)): the gain if C reached J every time. */
  ceiling: number
}

/**
 * gain(J) at each target error J: S = `space` (accuracies of the whole column), C and S′
 * pooled multisets of accuracies (S′ null when not stored). Reaching J means accuracy ≥ 1 − J.
 */
export function gainCurve (space: Reach, c: Reach, pools: Reach | null, targets: readonly number[], scale: 'fraction' | 'percent'): GainPoint[] {
  return targets.map(j => {
    const acc = accuracyOf(j, scale)
    const es = space.trials(acc)
    const ec = c.trials(acc)
    const point: GainPoint = { j, ms: space.count(acc), mc: c.count(acc), gain: 10 * Math.log10(es / ec), ceiling: 10 * Math.log10((space.size + 1) / (space.count(acc) + 1)) }
    if (pools !== null && pools.size > 0) {
      const ep = pools.trials(acc)
      point.gainE = 10 * Math.log10(es / ep)
      point.gainP = 10 * Math.log10(ep / ec)
    }
    return point
  })
}

/**
 * The targets J of the gain curves: the errors reached by exactly the best M_S architectures,
 * M_S log-spaced from 1 to |S| (`count` points, duplicates dropped), ascending in J.
 */
export function targetGrid (space: Reach, scale: 'fraction' | 'percent', count = 40): number[] {
  const js = new Set<number>()
  const top = Math.log10(space.size)
  for (let k = 0; k < count; k++) js.add(errorOf(space.atRank(Math.round(10 ** (top * k / (count - 1)))), scale))
  return [...js].sort((a, b) => a - b)
}

export interface CurvePoint { x: number, mean: number, sd: number, n: number }

function meanSdOf (xs: number[]): { mean: number, sd: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1)) : 0
  return { mean, sd }
}

/**
 * Fig 4/5's curves over runs: after e = 1…max evaluations, the best validation error so far
 * and the test error of the architecture with the best validation so far (earliest on ties,
 * as the harness's incumbent), mean ± sd over the runs that made e evaluations.
 */
export function bestSoFarCurves (runs: ReadonlyArray<{ val: readonly number[], test: readonly number[] }>, scale: 'fraction' | 'percent'): { val: CurvePoint[], test: CurvePoint[] } {
  const max = Math.max(0, ...runs.map(r => r.val.length))
  const perVal: number[][] = Array.from({ length: max }, () => [])
  const perTest: number[][] = Array.from({ length: max }, () => [])
  for (const r of runs) {
    let best = -Infinity; let testAtBest = NaN
    for (let e = 0; e < r.val.length; e++) {
      if (r.val[e] > best) { best = r.val[e]; testAtBest = r.test[e] }
      perVal[e].push(errorOf(best, scale))
      perTest[e].push(errorOf(testAtBest, scale))
    }
  }
  const curve = (per: number[][]): CurvePoint[] => per.map((xs, e) => ({ x: e + 1, ...meanSdOf(xs), n: xs.length }))
  return { val: curve(perVal), test: curve(perTest) }
}

export interface Oracles {
  /** Best validation error in S, and the test error of that architecture (best test on ties). */
  valOracleVal: number
  valOracleTest: number
  /** Best test error in S, and the validation error of that architecture. */
  testOracleTest: number
  testOracleVal: number
}

/** The validation and test oracles of a bench's columns (accuracies). */
export function oracles (val: ArrayLike<number>, test: ArrayLike<number>, scale: 'fraction' | 'percent'): Oracles {
  let bv = -1; let bt = -1
  for (let r = 0; r < val.length; r++) {
    if (!Number.isFinite(val[r]) || !Number.isFinite(test[r])) continue
    if (bv < 0 || val[r] > val[bv] || (val[r] === val[bv] && test[r] > test[bv])) bv = r
    if (bt < 0 || test[r] > test[bt] || (test[r] === test[bt] && val[r] > val[bt])) bt = r
  }
  return { valOracleVal: errorOf(val[bv], scale), valOracleTest: errorOf(test[bv], scale), testOracleTest: errorOf(test[bt], scale), testOracleVal: errorOf(val[bt], scale) }
}
