// What a search method holds during one run: the bench as an oracle that counts distinct
// rows, remembers what was asked (a repeat costs nothing and is not a query) and records the
// trajectory the harness checks.
import type { Metric, QueryOptions } from '../bench/bench'
import type { SearchRun, SearchTrajectory } from './types'

export class Oracle {
  readonly run: SearchRun
  readonly budget: number
  private readonly read: (row: number) => number
  private readonly seen: Uint8Array
  private readonly known = new Map<number, number>()
  private readonly rows: number[] = []
  private readonly values: number[] = []

  constructor (run: SearchRun) {
    this.run = run
    this.budget = run.budget
    const options: QueryOptions = { metric: run.metric as Metric, ...(run.epochs !== undefined ? { epochs: run.epochs } : {}) }
    this.read = run.bench.queryFunction(options, 'search')
    this.seen = new Uint8Array(run.bench.size)
  }

  /** Distinct rows queried so far. */
  get count (): number { return this.rows.length }
  /** True when the budget is spent. */
  get done (): boolean { return this.rows.length >= this.budget }
  /** Whether a row was already queried. */
  has (row: number): boolean { return this.seen[row] === 1 }
  /** The value of a row already queried (undefined otherwise). */
  value (row: number): number | undefined { return this.known.get(row) }

  /**
   * The searched metric of a row: a repeat returns the known value without counting; a new
   * row counts one query. Throws when the budget is spent or the run was aborted.
   */
  query (row: number): number {
    const v = this.known.get(row)
    if (v !== undefined) return v
    const signal = this.run.signal
    if (signal?.aborted === true) throw signal.reason ?? new Error('search aborted')
    if (this.rows.length >= this.budget) throw new RangeError(`search: budget of ${this.budget} queries is spent`)
    const value = this.read(row)
    this.seen[row] = 1
    this.known.set(row, value)
    this.rows.push(row)
    this.values.push(value)
    return value
  }

  /** The queried rows in order, with their values. */
  queried (): { rows: readonly number[], values: readonly number[] } { return { rows: this.rows, values: this.values } }

  trajectory (): SearchTrajectory {
    return { rows: Int32Array.from(this.rows), values: Float64Array.from(this.values) }
  }

  /** A uniformly random row not queried yet (rejection; the budget keeps this far from the whole bench in practice). */
  randomUnqueried (random: { int: (n: number) => number }): number {
    const size = this.run.bench.size
    if (this.rows.length >= size) throw new RangeError('search: every row of the bench is queried')
    if (this.rows.length * 2 < size) {
      for (;;) { const r = random.int(size); if (this.seen[r] === 0) return r }
    }
    // Dense case: draw among the remaining rows exactly.
    let k = random.int(size - this.rows.length)
    for (let r = 0; r < size; r++) if (this.seen[r] === 0 && k-- === 0) return r
    throw new Error('unreachable')
  }
}
