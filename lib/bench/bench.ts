// One interface for every benchmark (synthetic default, NAS-Bench-101 store, NAS-Bench-201
// tables): architectures of one search space, each with measured metrics per training
// budget (epochs) and repeat, plus cost columns. Searches ask it "what did this
// architecture score?" and it counts the distinct architectures they asked about.
import { Random } from '../random'
import { checkOptions, describe, oneOf } from '../validate'
import type { Nb101Cells } from '../spaces/nb101'

export type SpaceName = 'nb101' | 'nb201'
export type Metric = 'train' | 'val' | 'test'
export const METRICS: readonly Metric[] = Object.freeze(['train', 'val', 'test'] as const)

export interface QueryOptions {
  /** Which accuracy (default 'val', what a search may look at; 'test' is for reporting). */
  metric?: Metric
  /** Training budget; default the largest the benchmark has. */
  epochs?: number
  /** 'mean' over repeats (default), 'sample' one repeat at random, or a repeat index. */
  repeat?: 'mean' | 'sample' | number
}

/**
 * One value per bench row, in the bench's row order (the order of `bench.archs`; for an
 * nb201:<table>, the file's order, not `nb201.all()`'s). `Bench.columnFor` gathers by
 * architecture instead.
 */
export type BenchRowColumn = Float64Array

/** Metric values, index [(row * epochs.length + epochIndex) * repeats + repeat]; NaN = not measured. */
export type MetricColumn = Float32Array | Float64Array

export interface BenchData {
  uri: string
  /** Human-readable name, shown in reports and CLI output. */
  name: string
  space: SpaceName
  /** True for the synthetic teacher: its numbers are never real benchmark results. */
  synthetic: boolean
  /** 'fraction' (0..1) or 'percent' (0..100). */
  scale: 'fraction' | 'percent'
  size: number
  epochs: readonly number[]
  repeats: number
  metrics: Partial<Record<Metric, MetricColumn>>
  costs: Record<string, Float64Array>
  /** The architectures of the rows: NAS-Bench-101 cells (columnar) or NAS-Bench-201 op codes (count*6). */
  archs: Nb101Cells | Uint8Array
  /** Row of an architecture in any form the space accepts; throws a clear error if unknown. */
  rowOf: (arch: unknown) => number
  /** A short printable identity of a row (hash or string form). */
  describeRow: (row: number) => string
}

export class Bench {
  readonly uri: string
  readonly name: string
  readonly space: SpaceName
  readonly synthetic: boolean
  readonly scale: 'fraction' | 'percent'
  readonly size: number
  readonly epochs: readonly number[]
  readonly repeats: number
  readonly metrics: readonly Metric[]
  readonly costs: readonly string[]
  private readonly data: BenchData
  private readonly asked = new Set<number>()
  private random: Random

  constructor (data: BenchData, seed = 0) {
    this.data = data
    this.uri = data.uri
    this.name = data.name
    this.space = data.space
    this.synthetic = data.synthetic
    this.scale = data.scale
    this.size = data.size
    this.epochs = Object.freeze([...data.epochs])
    this.repeats = data.repeats
    this.metrics = Object.freeze(METRICS.filter(m => data.metrics[m] !== undefined))
    this.costs = Object.freeze(Object.keys(data.costs))
    this.random = new Random(seed)
  }

  /** "name (SYNTHETIC)" for the synthetic teacher, so no output mistakes it for real data. */
  get label (): string { return this.synthetic ? `${this.name} (SYNTHETIC — not real benchmark results)` : this.name }

  /** Distinct architectures whose metrics were queried since the last reset. */
  get queries (): number { return this.asked.size }
  resetQueries (seed?: number): void {
    this.asked.clear()
    if (seed !== undefined) this.random = new Random(seed)
  }

  /** The architectures of all rows (NAS-Bench-101: columnar cells; NAS-Bench-201: op codes, count*6). */
  get archs (): Nb101Cells | Uint8Array { return this.data.archs }

  /** The row of an architecture (spec, hash or string form, as the space allows). */
  rowOf (arch: unknown): number { return this.data.rowOf(arch) }
  describeRow (row: number): string { return this.data.describeRow(this.checkRow(row, 'describeRow')) }

  /** One architecture's metric; counts a query. */
  async query (arch: unknown, options?: QueryOptions): Promise<number> {
    return this.lookup([this.rowOf(arch)], options, 'query')[0]
  }

  /** Metrics of many rows at once; counts each distinct row as a query. */
  lookup (rows: ArrayLike<number>, options?: QueryOptions, fn = 'lookup'): Float64Array {
    const read = this.reader(options, fn)
    const out = new Float64Array(rows.length)
    for (let k = 0; k < rows.length; k++) {
      const row = this.checkRow(rows[k], fn)
      out[k] = read(row)
      this.asked.add(row)
    }
    return out
  }

  /**
   * A counting query function with fixed options, for searches that ask one row at a time:
   * the options are checked once here, not on every call. Each distinct row counts once.
   */
  queryFunction (options?: QueryOptions, fn = 'query'): (row: number) => number {
    const read = this.reader(options, fn)
    return (row: number): number => {
      const r = this.checkRow(row, fn)
      const value = read(r)
      this.asked.add(r)
      return value
    }
  }

  /**
   * The metric of every architecture, for evaluating predictors and reporting (for instance
   * Kendall tau over the whole space); NOT counted as queries — a search must not use it.
   *
   * Row order: the bench's own, that of `bench.archs` (synthetic-201: nasrank index order,
   * as `nb201.all()`; an nb201:<table>: the file's order; NAS-Bench-101: sorted by module
   * hash). To pair it with architectures in another order (`nb201.all()` and a table bench,
   * a predictor's candidates), use {@link columnFor}, which gathers by architecture.
   */
  column (options?: QueryOptions): BenchRowColumn {
    const read = this.reader({ ...options, repeat: options?.repeat === 'sample' ? 'mean' : options?.repeat }, 'column')
    const out = new Float64Array(this.size)
    for (let row = 0; row < this.size; row++) out[row] = read(row)
    return out
  }

  /**
   * The metric of the given architectures, in their order; NOT counted as queries (like
   * {@link column}). `archs`: an array of architectures in any form {@link rowOf} accepts, or
   * the packed forms — NAS-Bench-201 op codes, 6 per architecture (`nb201.all()`), or
   * NAS-Bench-101 columnar cells with their hashes (`nb101.enumerate()`). An architecture
   * that is not in the bench is an error that names it.
   */
  columnFor (archs: readonly unknown[] | Uint8Array | Nb101Cells, options?: QueryOptions): Float64Array {
    const read = this.reader({ ...options, repeat: options?.repeat === 'sample' ? 'mean' : options?.repeat }, 'columnFor')
    const fn = `${this.name} columnFor`
    let count: number
    let archAt: (k: number) => unknown
    if (Array.isArray(archs)) {
      count = archs.length
      archAt = k => archs[k]
    } else if (archs instanceof Uint8Array) {
      if (this.space !== 'nb201') throw new TypeError(`${fn}: packed op codes are NAS-Bench-201 architectures; this is a ${this.space} bench (pass an array of architectures)`)
      if (archs.length % 6 !== 0) throw new RangeError(`${fn}: packed NAS-Bench-201 op codes come 6 per architecture, got ${archs.length} bytes`)
      count = archs.length / 6
      archAt = k => archs.subarray(6 * k, 6 * k + 6)
    } else if (archs !== null && typeof archs === 'object' && 'count' in archs && 'ops' in archs) {
      const hash = (archs as Partial<Nb101Cells>).hash
      if (this.space !== 'nb101') throw new TypeError(`${fn}: columnar cells are NAS-Bench-101 architectures; this is a ${this.space} bench`)
      if (!(hash instanceof Uint8Array) || hash.length !== 16 * archs.count) throw new TypeError(`${fn}: NAS-Bench-101 cells need their module hashes (cells.hash, 16 bytes each), as nb101.enumerate() returns them`)
      count = archs.count
      archAt = k => Buffer.from(hash.buffer, hash.byteOffset + 16 * k, 16).toString('hex')
    } else {
      throw new TypeError(`${fn}: archs must be an array of architectures, packed NAS-Bench-201 op codes or NAS-Bench-101 cells, got ${describe(archs)}`)
    }
    const out = new Float64Array(count)
    for (let k = 0; k < count; k++) out[k] = read(this.data.rowOf(archAt(k)))
    return out
  }

  /** A cost column (e.g. 'params', 'flops') over all rows. */
  cost (name: string): Float64Array {
    const column = this.data.costs[name]
    if (column === undefined) {
      throw new RangeError(`${this.name}: no cost column '${name}' (available: ${this.costs.length > 0 ? this.costs.join(', ') : 'none'})`)
    }
    return column
  }

  private checkRow (row: number, fn: string): number {
    if (!Number.isInteger(row) || row < 0 || row >= this.size) {
      throw new RangeError(`${this.name} ${fn}: row ${typeof row === 'number' ? row : describe(row)} is not in [0, ${this.size})`)
    }
    return row
  }

  private reader (options: QueryOptions | undefined, fn: string): (row: number) => number {
    const opts = checkOptions<QueryOptions>(options, `${this.name} ${fn}`, ['metric', 'epochs', 'repeat'])
    const metric = oneOf(opts.metric, 'val', METRICS, `${this.name} ${fn}`, 'metric')
    const column = this.data.metrics[metric]
    if (column === undefined) {
      throw new RangeError(`${this.name} has no '${metric}' metric (available: ${this.metrics.join(', ')})`)
    }
    const epochs = opts.epochs ?? this.epochs[this.epochs.length - 1]
    const ei = this.epochs.indexOf(epochs)
    if (ei < 0) throw new RangeError(`${this.name} has no results at epochs ${typeof epochs === 'number' ? epochs : describe(epochs)} (available: ${this.epochs.join(', ')})`)
    const E = this.epochs.length
    const R = this.repeats
    const repeat = opts.repeat ?? 'mean'
    if (typeof repeat === 'number' && !(Number.isInteger(repeat) && repeat >= 0 && repeat < R)) {
      throw new RangeError(`${this.name} ${fn}: repeat must be 'mean', 'sample' or an integer in [0, ${R}), got ${repeat}`)
    }
    if (typeof repeat !== 'number' && repeat !== 'mean' && repeat !== 'sample') {
      throw new TypeError(`${this.name} ${fn}: repeat must be 'mean', 'sample' or an integer, got ${describe(repeat)}`)
    }
    const missing = (row: number): never => {
      throw new RangeError(`${this.name}: no '${metric}' result for ${this.data.describeRow(row)} at epochs ${epochs}`)
    }
    return (row: number): number => {
      const base = (row * E + ei) * R
      if (repeat === 'mean') {
        let sum = 0; let n = 0
        for (let r = 0; r < R; r++) { const v = column[base + r]; if (!Number.isNaN(v)) { sum += v; n++ } }
        return n > 0 ? sum / n : missing(row)
      }
      const r = repeat === 'sample' ? this.random.int(R) : repeat
      const v = column[base + r]
      return Number.isNaN(v) ? missing(row) : v
    }
  }
}
