// The benchmark protocol pieces every experiment shares: seeded training splits, the metric
// a method may train or search on, and how a picked architecture is scored against the space.
import { type Bench } from '../bench/bench'
import { Random } from '../random'
import { type Predictor, type FitReport } from '../predictors/types'

/** A seeded random sample of `count` distinct rows of [0, size), and the rest: every table's training set. */
export function split (size: number, count: number, seed: number): { train: Uint32Array, rest: Uint32Array } {
  const all = new Uint32Array(size)
  for (let i = 0; i < size; i++) all[i] = i
  new Random(seed).shuffle(all)
  return { train: all.slice(0, count), rest: all.slice(count) }
}

/** Training architectures for a fraction of the space (at least 2). */
export function trainingCount (size: number, fraction: number): number {
  return Math.max(2, Math.round(size * fraction))
}

/** The training (or searched) metric: validation accuracy when the benchmark has it (the papers'), else test. */
export function trainMetric (bench: Bench): 'val' | 'test' {
  return bench.metrics.includes('val') ? 'val' : 'test'
}

/** Best true test accuracy among the top-10 predicted, and its rank percentile in the space. */
export function top10 (scores: Float64Array, rows: Uint32Array, truth: Float64Array, sortedTruth: Float64Array): { best: number, rankPercent: number } {
  const order = Array.from(rows.keys()).sort((a, b) => scores[b] - scores[a]).slice(0, 10)
  let best = -Infinity
  for (const k of order) best = Math.max(best, truth[rows[k]])
  return { best, rankPercent: rankPercent(best, sortedTruth) }
}

/** Share of the space (in %) at least as good as `value`: 0.01 % means top 1 in 10,000. `sortedTruth` ascending. */
export function rankPercent (value: number, sortedTruth: Float64Array): number {
  let lo = 0; let hi = sortedTruth.length
  while (lo < hi) { const mid = (lo + hi) >> 1; if (sortedTruth[mid] < value) lo = mid + 1; else hi = mid }
  return (100 * (sortedTruth.length - lo)) / sortedTruth.length
}

/**
 * Fits a predictor on the training rows' training metric; counts only those queries. `note`
 * hears 'epoch k/n' (at most about 20 times a fit) for a status line.
 */
export async function fitAndScore<P extends Predictor<Uint32Array>> (predictor: P, bench: Bench, train: Uint32Array, signal?: AbortSignal, note?: (text: string) => void): Promise<{ report: FitReport, queries: number, trainSeconds: number }> {
  bench.resetQueries()
  const targets = bench.lookup(train, { metric: trainMetric(bench) })
  const started = Date.now()
  const onEpoch = note === undefined
    ? undefined
    : (epoch: number, info: { epochs: number }): void => {
        if (epoch === info.epochs || epoch % Math.max(1, Math.round(info.epochs / 20)) === 0) note(`epoch ${epoch}/${info.epochs}`)
      }
  const report = await predictor.fit(train, targets, { signal, onEpoch })
  return { report, queries: bench.queries, trainSeconds: (Date.now() - started) / 1000 }
}
