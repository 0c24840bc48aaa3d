// runSearch: one run of a search method on a bench, checked and turned into the report's
// view. The protocol (NAS-Bench-201 paper, Sec. 5; NASLib): a search reads the validation
// accuracy ('val', or 'test' on a bench that has no val), every distinct architecture it
// asks about counts once, and the report reads, at each budget checkpoint, the incumbent
// (best searched value so far; ties keep the first seen) and its test accuracy, read
// without counting.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Bench, type Metric } from '../bench/bench'
import { checkSeed } from '../random'
import { checkOptions, describe } from '../validate'
import type { SearchMethod, SearchTrajectory } from './types'

export interface RunSearchOptions {
  /** Distinct architectures the search may query (1 … bench.size). */
  budget: number
  seed: number
  /** Query counts at which the incumbent is reported, ascending, each ≤ budget (default [budget]). */
  checkpoints?: number[]
  /** Training budget of the searched results (default: the bench's largest). */
  epochs?: number
  signal?: AbortSignal
  /** A file the method may save its state to and resume from (SearchRun.checkpoint; ctnas uses it). */
  checkpointFile?: string
}

export interface SearchCheckpoint {
  /** The checkpoint: the incumbent is the best of the first min(queries, queried) queries. */
  queries: number
  /** The incumbent's bench row. */
  row: number
  /** bench.describeRow(row). */
  arch: string
  /** The incumbent's searched value (the metric named by searchedOn, at the searched epochs). */
  val: number
  /** The incumbent's test accuracy at the bench's largest budget, read uncounted; NaN if the bench has no test. */
  test: number
}

export interface SearchResult {
  method: string
  settings: Readonly<Record<string, unknown>>
  seed: number
  searchedOn: 'val' | 'test'
  budget: number
  /** Distinct architectures the method queried (≤ budget). */
  queried: number
  checkpoints: SearchCheckpoint[]
}

const OPTION_KEYS = ['budget', 'seed', 'checkpoints', 'epochs', 'signal', 'checkpointFile'] as const
const COLUMNS = new WeakMap<Bench, Map<string, Float64Array>>()

/** A whole metric column, read once per bench (uncounted) and cached; NaN where the bench has no value. */
function column (bench: Bench, metric: Metric, epochs: number): Float64Array {
  let cache = COLUMNS.get(bench)
  if (cache === undefined) { cache = new Map(); COLUMNS.set(bench, cache) }
  const key = `${metric}@${epochs}`
  let col = cache.get(key)
  if (col === undefined) {
    try {
      col = bench.column({ metric, epochs })
    } catch {
      col = rowByRow(bench, metric, epochs)
    }
    cache.set(key, col)
  }
  return col
}

/** Column values one row at a time (a bench missing some rows at some budget); the query counter is restored. */
function rowByRow (bench: Bench, metric: Metric, epochs: number): Float64Array {
  const out = new Float64Array(bench.size).fill(NaN)
  for (let row = 0; row < bench.size; row++) {
    try { out[row] = bench.lookup([row], { metric, epochs }, 'runSearch')[0] } catch { /* not measured */ }
  }
  bench.resetQueries()
  return out
}

/** The metric a search reads on this bench: 'val', else 'test'. */
export function searchedMetric (bench: Bench, fn = 'runSearch'): 'val' | 'test' {
  if (bench.metrics.includes('val')) return 'val'
  if (bench.metrics.includes('test')) return 'test'
  throw new RangeError(`${fn}: ${bench.name} has neither a 'val' nor a 'test' metric to search on (metrics: ${bench.metrics.join(', ') || 'none'})`)
}

/**
 * Runs `method` on `bench` with a query budget and a seed, checks its trajectory (distinct
 * rows, at most `budget`, the bench's own values, the bench counted exactly those queries)
 * and reports the incumbent at each checkpoint. Options are validated before any work.
 */
export async function runSearch (method: SearchMethod, bench: Bench, options: RunSearchOptions): Promise<SearchResult> {
  const fn = 'runSearch'
  if (method === null || typeof method !== 'object' || typeof method.run !== 'function' || typeof method.name !== 'string') {
    throw new TypeError(`${fn}: method must be a SearchMethod ({ name, settings, run }), e.g. searchMethod('rs'); got ${describe(method)}`)
  }
  if (!(bench instanceof Bench)) throw new TypeError(`${fn}: bench must be a Bench (openBench(uri)), got ${describe(bench)}`)
  if (method.spaces !== undefined && !method.spaces.includes(bench.space)) {
    throw new RangeError(`${fn}: method '${method.name}' runs on ${method.spaces.join(', ')} benches; ${bench.name} is ${bench.space}`)
  }
  if (options === undefined) throw new TypeError(`${fn}: options { budget, seed } are required`)
  const opts = checkOptions<RunSearchOptions>(options, fn, OPTION_KEYS)
  const budget = opts.budget
  if (typeof budget !== 'number') throw new TypeError(`${fn}: options.budget must be a number, got ${describe(budget)}`)
  if (!Number.isInteger(budget) || budget < 1 || budget > bench.size) {
    throw new RangeError(`${fn}: options.budget must be an integer in [1, ${bench.size}] (${bench.name} has ${bench.size} architectures), got ${budget}`)
  }
  if (opts.seed === undefined) throw new TypeError(`${fn}: options.seed is required (a non-negative integer)`)
  const seed = checkSeed(opts.seed, fn, 'options.seed')
  let checkpoints: number[] = [budget]
  if (opts.checkpoints !== undefined) {
    if (!Array.isArray(opts.checkpoints) || opts.checkpoints.length === 0) {
      throw new TypeError(`${fn}: options.checkpoints must be a non-empty array of query counts, got ${describe(opts.checkpoints)}`)
    }
    checkpoints = [...opts.checkpoints]
    checkpoints.forEach((c, i) => {
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 1 || c > budget) {
        throw new RangeError(`${fn}: options.checkpoints[${i}] must be an integer in [1, budget = ${budget}], got ${typeof c === 'number' ? c : describe(c)}`)
      }
      if (i > 0 && c <= checkpoints[i - 1]) throw new RangeError(`${fn}: options.checkpoints must be strictly ascending, but [${i - 1}] = ${checkpoints[i - 1]} and [${i}] = ${c}`)
    })
  }
  const largest = bench.epochs[bench.epochs.length - 1]
  const epochs = opts.epochs ?? largest
  if (typeof epochs !== 'number' || !bench.epochs.includes(epochs)) {
    throw new RangeError(`${fn}: options.epochs: ${bench.name} has no results at epochs ${typeof epochs === 'number' ? epochs : describe(epochs)} (available: ${bench.epochs.join(', ')})`)
  }
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw new TypeError(`${fn}: options.signal must be an AbortSignal, got ${describe(opts.signal)}`)
  if (opts.checkpointFile !== undefined && (typeof opts.checkpointFile !== 'string' || opts.checkpointFile === '')) {
    throw new TypeError(`${fn}: options.checkpointFile must be a non-empty path, got ${describe(opts.checkpointFile)}`)
  }
  const metric = searchedMetric(bench, fn)
  const searched = column(bench, metric, epochs)
  const test = bench.metrics.includes('test') ? column(bench, 'test', largest) : new Float64Array(bench.size).fill(NaN)
  if (opts.signal?.aborted === true) throw opts.signal.reason ?? new Error(`${fn}: aborted`)

  bench.resetQueries(seed)
  const trajectory = await method.run({ bench, budget, seed, metric, ...(opts.epochs !== undefined ? { epochs } : {}), ...(opts.signal !== undefined ? { signal: opts.signal } : {}), ...(opts.checkpointFile !== undefined ? { checkpoint: opts.checkpointFile } : {}) })
  const n = checkTrajectory(trajectory, method.name, bench, budget, searched)

  const out: SearchCheckpoint[] = []
  let best = -1
  let k = 0
  for (const q of checkpoints) {
    const upto = Math.min(q, n)
    for (; k < upto; k++) if (best < 0 || trajectory.values[k] > trajectory.values[best]) best = k
    if (best < 0) throw new RangeError(`${fn}: method '${method.name}' queried nothing`)
    const row = trajectory.rows[best]
    out.push({ queries: q, row, arch: bench.describeRow(row), val: trajectory.values[best], test: test[row] })
  }
  return { method: method.name, settings: method.settings, seed, searchedOn: metric, budget, queried: n, checkpoints: out }
}

/** A method that returns anything but the truth fails loudly here. */
function checkTrajectory (t: SearchTrajectory, name: string, bench: Bench, budget: number, searched: Float64Array): number {
  const fn = `runSearch: method '${name}'`
  if (t === null || typeof t !== 'object' || !(t.rows instanceof Int32Array) || !(t.values instanceof Float64Array)) {
    throw new TypeError(`${fn} must return { rows: Int32Array, values: Float64Array }, got ${describe(t)}`)
  }
  const n = t.rows.length
  if (t.values.length !== n) throw new RangeError(`${fn} returned ${n} rows but ${t.values.length} values`)
  if (n > budget) throw new RangeError(`${fn} returned ${n} rows, over its budget of ${budget}`)
  const seen = new Set<number>()
  for (let k = 0; k < n; k++) {
    const row = t.rows[k]
    if (row < 0 || row >= bench.size) throw new RangeError(`${fn}: rows[${k}] = ${row} is not a row of ${bench.name} [0, ${bench.size})`)
    if (seen.has(row)) throw new RangeError(`${fn}: rows[${k}] = ${row} repeats an earlier query (a trajectory lists distinct rows)`)
    seen.add(row)
    if (!Object.is(t.values[k], searched[row])) {
      throw new RangeError(`${fn}: values[${k}] = ${t.values[k]} but the bench's value of row ${row} (${bench.describeRow(row)}) is ${searched[row]}`)
    }
  }
  if (bench.queries !== n) {
    throw new RangeError(`${fn} returned ${n} distinct rows but the bench counted ${bench.queries} distinct queries (every query must be in the trajectory, and every trajectory row queried)`)
  }
  return n
}

/**
 * Removes a run's checkpoint (SearchRun.checkpoint) once its result is stored: the file and the
 * side files a method keeps beside it, named `<file>.<suffix>` (e.g. the sampling loop's S′ log
 * `<file>.pools.jsonl`).
 */
export function removeRunCheckpoint (file: string): void {
  fs.rmSync(file, { force: true })
  const dir = path.dirname(file)
  const base = path.basename(file) + '.'
  let names: string[] = []
  try { names = fs.readdirSync(dir) } catch { return }
  for (const n of names) if (n.startsWith(base)) fs.rmSync(path.join(dir, n), { force: true })
}
