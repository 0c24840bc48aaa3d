// openBench(uri): the one entry point to every benchmark.
//   synthetic-101, synthetic-201   the synthetic teacher over the real spaces (no files needed)
//   nb201:<table.csv|table.arrow>  a NAS-Bench-201 table (docs/bench-data.md)
//   nb201:<dir> | nb201:<a.csv>,<b.csv>  one dataset's nb201-<dataset>-hp<hp> tables as one
//                                  bench with several budgets (lib/bench/nb201-set.ts)
//   nb101:<store.arrow|.tfrecord>  NAS-Bench-101 (the official tfrecord is converted once)
import * as path from 'node:path'
import { Bench, type BenchData, type Metric, type MetricColumn } from './bench'
import { synthetic101, synthetic201 } from './synthetic'
import { loadNb101, type Nb101CellHasher, type Nb101RunMetric } from './nb101-store'
import { loadNb201Table } from './table'
import { DataFileError } from './errors'
import { clip, listNames } from './file'
import { isNb201Set, nb201Set } from './nb201-set'
import * as nb101 from '../spaces/nb101'
import { nb201 } from '../spaces/nb201'

export const BENCH_URIS = ['synthetic-101', 'synthetic-201', 'nb101:<path>', 'nb201:<path>', 'nb201:<dir>', 'nb201:<a.csv>,<b.csv>'] as const

export interface OpenBenchOptions {
  /** Seed of the generator behind `repeat: 'sample'` queries (default 0). */
  seed?: number
  /** Show a progress bar while converting an official NAS-Bench-101 file (default: when stderr is a TTY). */
  progress?: boolean
  /** NAS-Bench-201 folder or list holding several datasets: the one to open (e.g. 'cifar100'). */
  dataset?: string
}

/** The official module hash of one packed cell (the tfrecord reader checks every record with it). */
export const hashPackedCell: Nb101CellHasher = (adjacency, ops, vertices) => {
  const padded = new Uint8Array(7).fill(255)
  padded.set(ops.subarray(0, vertices))
  const digest = nb101.hashBatch({ count: 1, vertices: Uint8Array.of(vertices), adjacency: Uint32Array.of(adjacency), ops: padded })
  return Buffer.from(digest).toString('hex')
}

export async function openBench (uri: string, options: OpenBenchOptions = {}): Promise<Bench> {
  if (typeof uri !== 'string') throw new TypeError(`openBench: uri must be a string, got ${typeof uri}`)
  const seed = options.seed ?? 0
  if (uri === 'synthetic-201') return new Bench(synthetic201(), seed)
  if (uri === 'synthetic-101') return new Bench(await synthetic101(), seed)
  try {
    if (uri.startsWith('nb201:')) {
      const location = uri.slice('nb201:'.length)
      if (options.dataset !== undefined || isNb201Set(location)) return new Bench(nb201Set(uri, { dataset: options.dataset }), seed)
      return new Bench(nb201Table(uri), seed)
    }
    if (uri.startsWith('nb101:')) return new Bench(await nb101Store(uri, options), seed)
  } catch (err) {
    // Name the function the caller called, then the file and where in it.
    if (err instanceof DataFileError) {
      const where = err.line !== undefined ? `:${err.line}` : err.offset !== undefined ? ` (byte offset ${err.offset})` : ''
      const rowPart = /\(row [0-9]+\)|row [0-9]+:/.exec(err.message)
      const reason = rowPart && !err.reason.includes(rowPart[0]) ? `${rowPart[0].replace(/[():]/g, '')}: ${err.reason}` : err.reason
      throw new DataFileError(`openBench: ${err.file}${where}: ${reason}`, { code: err.code, file: err.file, reason, offset: err.offset, line: err.line })
    }
    throw err
  }
  throw new RangeError(`openBench: unknown benchmark '${clip(uri)}' (known: ${BENCH_URIS.join(', ')})`)
}

const NB201_METRIC_COLUMNS: Record<Metric, string> = { train: 'train_accuracy', val: 'val_accuracy', test: 'test_accuracy' }

/** A NAS-Bench-201 table: one row per architecture (file order), one repeat (the table's mean), one budget. */
function nb201Table (uri: string): BenchData {
  const file = uri.slice('nb201:'.length)
  const table = loadNb201Table(file, { parseArch: s => nb201.parse(s) })
  const n = table.count
  const ops = new Uint8Array(6 * n)
  const rowByIndex = new Map<number, number>()
  table.arch.forEach((s, row) => {
    const codes = nb201.parse(s)
    ops.set(codes, 6 * row)
    rowByIndex.set(nb201.index(codes), row)
  })
  const metrics: Partial<Record<Metric, MetricColumn>> = {}
  for (const [metric, column] of Object.entries(NB201_METRIC_COLUMNS) as Array<[Metric, string]>) {
    if (table.has(column)) metrics[metric] = table.column(column)
  }
  if (Object.keys(metrics).length === 0) {
    throw new RangeError(`openBench: ${file} has none of the accuracy columns ${Object.values(NB201_METRIC_COLUMNS).join(', ')} (columns: ${listNames(table.columns) || 'none'})`)
  }
  const dataset = (table.dataset ?? 'cifar10') as Parameters<typeof nb201.paramsBatch>[1]
  return {
    uri,
    name: `NAS-Bench-201 table ${path.basename(file)}${table.dataset !== null ? ` (${table.dataset})` : ''}`,
    space: 'nb201',
    synthetic: false,
    scale: 'percent',
    size: n,
    epochs: [200],
    repeats: 1,
    metrics,
    costs: {
      params: table.has('params') ? table.column('params') : nb201.paramsBatch(ops, dataset),
      flops: table.has('flops') ? table.column('flops') : nb201.flopsBatch(ops, dataset),
      // Latencies (ms; e.g. HW-NAS-Bench's latency_<device>) are costs too, read without queries.
      ...Object.fromEntries(table.columns.filter(c => c === 'latency' || c.startsWith('latency_')).map(c => [c, table.column(c)]))
    },
    archs: ops,
    rowOf: arch => {
      const index = nb201.index(arch as Parameters<typeof nb201.index>[0])
      const row = rowByIndex.get(index)
      if (row === undefined) throw new RangeError(`${file}: architecture ${nb201.format(nb201.fromIndex(index))} is not in this table`)
      return row
    },
    describeRow: row => table.arch[row]
  }
}

const NB101_METRIC_COLUMNS: Record<Metric, Nb101RunMetric> = { train: 'final_train_accuracy', val: 'final_validation_accuracy', test: 'final_test_accuracy' }

/** NAS-Bench-101 from the official tfrecord (converted once, every record's hash checked) or a store. */
async function nb101Store (uri: string, options: OpenBenchOptions): Promise<BenchData> {
  const file = uri.slice('nb101:'.length)
  const store = await loadNb101(file, { verifyHash: hashPackedCell, hashCell: hashPackedCell, progress: options.progress ?? 'auto' })
  const E = store.epochs.length
  const R = store.repeats
  const metrics: Partial<Record<Metric, MetricColumn>> = {}
  for (const [metric, column] of Object.entries(NB101_METRIC_COLUMNS) as Array<[Metric, Nb101RunMetric]>) {
    const values = new Float64Array(store.count * E * R)
    store.epochs.forEach((epochs, ei) => {
      for (let r = 0; r < R; r++) {
        const col = store.column(column, { epochs, repeat: r })
        for (let row = 0; row < store.count; row++) values[(row * E + ei) * R + r] = col[row]
      }
    })
    metrics[metric] = values
  }
  const cells = { ...store.cells } as nb101.Nb101Cells
  let costs: ReturnType<typeof nb101.costBatch>
  try {
    costs = nb101.costBatch(cells)
  } catch (err) {
    const msg = (err as Error).message ?? String(err)
    const row = /\b(?:cell|row) ([0-9]+)/.exec(msg)
    const reason = `${row ? `row ${row[1]}: ` : ''}the cell is not a valid NAS-Bench-101 cell (${msg.slice(0, 160)})`
    throw new DataFileError(`openBench: ${store.file}: ${reason}`, { code: 'ERR_STORE_CELL', file: store.file, reason })
  }
  const { params, flops } = costs
  return {
    uri,
    name: `NAS-Bench-101 ${path.basename(file)}`,
    space: 'nb101',
    synthetic: false,
    scale: 'fraction',
    size: store.count,
    epochs: store.epochs,
    repeats: R,
    metrics,
    costs: { params: Float64Array.from(store.trainableParameters), flops, modelParams: params },
    archs: cells,
    rowOf: arch => {
      const key = typeof arch === 'object' && arch !== null && 'matrix' in arch
        ? nb101.hash(nb101.spec((arch as nb101.Nb101Spec).matrix, (arch as nb101.Nb101Spec).ops))
        : arch as string
      const row = store.indexOf(key)
      if (row < 0) throw new RangeError(`${file}: no cell with module hash ${String(key)}`)
      return row
    },
    describeRow: row => store.hashAt(row)
  }
}
