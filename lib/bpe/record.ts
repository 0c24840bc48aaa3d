// Recorded evaluations: every (evaluator, setting, architecture) measurement is a cell of a
// results.jsonl (the runner's ResultStore), appended the moment it is measured (the wrapped
// evaluator is asked about one architecture at a time). Wrapping an
// evaluator in one makes any MIP run resumable at the level of single trainings: Alg. 1 is
// deterministic given its measurements, so a run interrupted mid-round and started again with
// the same folder replays the recorded ones and reaches the same decisions, measuring only
// what is missing. The evaluator's name must say everything its measurements depend on
// (data, training seed…): it is part of every cell id.
import { ResultStore } from '../experiments/results'
import type { BpeEvaluation, BpeEvaluator } from './mip'
import { settingKey } from './omega'

export interface RecordedEvaluator extends BpeEvaluator {
  /** Measurements made by the wrapped evaluator (not replayed) since this wrapper was made. */
  readonly measured: number
  /** Measurements replayed from the folder. */
  readonly replayed: number
}

/** `evaluator`, with every measurement recorded in `dir/results.jsonl` and replayed from it. */
export function recordedEvaluator (evaluator: BpeEvaluator, dir: string, warn?: (message: string) => void): RecordedEvaluator {
  const store = new ResultStore(dir, warn)
  let measured = 0
  let replayed = 0
  const cellOf = (what: string, arch: number): string => `bpe/${evaluator.name}/${what}/arch${arch}`
  const measure = async (what: string, archs: Int32Array, run: (missing: Int32Array) => Promise<BpeEvaluation>): Promise<BpeEvaluation> => {
    const missing = Int32Array.from([...new Set(archs)].filter(a => !store.has(cellOf(what, a))))
    // One architecture at a time, each appended as soon as it is measured: an interrupted
    // trainer loses at most the training in progress.
    for (const a of missing) {
      const e = await run(Int32Array.of(a))
      store.append({ cell: cellOf(what, a), evaluator: evaluator.name, setting: what, arch: a, accuracy: e.accuracy[0], cost: e.costs?.[0] ?? e.cost, ...(e.details?.[0] ?? {}) })
      measured++
    }
    replayed += archs.length - missing.length
    const rows = Array.from(archs, a => (store.get(cellOf(what, a)) as Array<Record<string, unknown>>)[0])
    const costs = Float64Array.from(rows, r => r.cost as number)
    return { accuracy: Float64Array.from(rows, r => r.accuracy as number), cost: costs.reduce((x, y) => x + y, 0) / costs.length, costs }
  }
  return {
    ...evaluator,
    get measured () { return measured },
    get replayed () { return replayed },
    full: async archs => await measure(evaluator.fullKey !== undefined ? `full=${evaluator.fullKey}` : 'full', archs, async m => await evaluator.full(m)),
    evaluate: async (setting, archs) => await measure(settingKey(evaluator.omega, setting), archs, async m => await evaluator.evaluate(setting, m))
  }
}
