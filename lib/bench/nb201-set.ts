// Several training budgets of one NAS-Bench-201 dataset as one bench. tools/export_nb201.py
// writes one table per dataset and schedule, `nb201-<dataset>-hp<hp>.csv` (or `.arrow`); a
// location naming such files opens them together, with `epochs` = the hp values ascending
// (e.g. [12, 200]), so a search can query `{ epochs: 12 }` and report the 200-epoch test:
//
//   nb201:<dir>                    every nb201-<dataset>-hp<hp>.csv|.arrow in the folder
//   nb201:<a.csv>,<b.csv>,…        exactly these files (comma-separated)
//   nb201:<dir>/nb201-cifar10-hp12.csv   one file: one budget (epochs [12])
//
// When the files hold several datasets, `dataset` picks one (else an error lists them). A
// folder with both a .csv and an .arrow of one (dataset, hp) uses the .arrow (the exporter's
// --format both). Rows: the union of the tables' architectures, in the largest budget's file
// order; a metric an architecture lacks at some budget is NaN there (queries say so).
// Costs: every numeric column other than index, *_accuracy and *_loss (params, flops,
// train_time, latency, latency_<device>, …) of the largest budget; a column of a smaller
// budget that the largest also has is added as <column>_hp<hp> (e.g. train_time_hp12).
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { BenchData, Metric, MetricColumn } from './bench'
import { loadNb201Table, type Nb201Table } from './table'
import { nb201, NB201_DATASETS, NB201_SIZE, type Nb201Dataset } from '../spaces/nb201'
import { describe } from '../validate'

export const NB201_TABLE_NAME = /^nb201-(.+)-hp(\d+)\.(csv|arrow)$/

const METRIC_COLUMNS: Record<Metric, string> = { train: 'train_accuracy', val: 'val_accuracy', test: 'test_accuracy' }

interface Found { file: string, dataset: string, hp: number, format: string }

/** Whether an nb201: location names a folder, a comma list, or one nb201-<dataset>-hp<hp> file. */
export function isNb201Set (location: string): boolean {
  if (fs.existsSync(location)) return fs.statSync(location).isDirectory() || NB201_TABLE_NAME.test(path.basename(location))
  return location.includes(',')
}

function parseName (file: string, fn: string): Found {
  const match = NB201_TABLE_NAME.exec(path.basename(file))
  if (match === null) {
    throw new RangeError(`${fn}: ${file}: a table in a list must be named nb201-<dataset>-hp<hp>.csv or .arrow (as tools/export_nb201.py writes it), so its dataset and budget are known`)
  }
  return { file, dataset: match[1], hp: Number(match[2]), format: match[3] }
}

/** The files a location names, grouped by dataset. */
function findTables (location: string, fn: string): Found[] {
  if (fs.existsSync(location) && fs.statSync(location).isDirectory()) {
    const names = fs.readdirSync(location).sort()
    const found = names.filter(n => NB201_TABLE_NAME.test(n)).map(n => parseName(path.join(location, n), fn))
    if (found.length === 0) {
      throw new RangeError(`${fn}: ${location} holds no nb201-<dataset>-hp<hp>.csv or .arrow table (files: ${names.slice(0, 10).join(', ') || 'none'}${names.length > 10 ? ', …' : ''})`)
    }
    // .arrow over .csv for the same (dataset, hp).
    const best = new Map<string, Found>()
    for (const f of found) {
      const key = `${f.dataset}\u0000${f.hp}`
      const prev = best.get(key)
      if (prev === undefined || (prev.format === 'csv' && f.format === 'arrow')) best.set(key, f)
    }
    return [...best.values()]
  }
  const files = fs.existsSync(location) ? [location] : location.split(',').map(s => s.trim())
  if (files.some(f => f === '')) throw new RangeError(`${fn}: the list ${JSON.stringify(location)} has an empty entry`)
  const found = files.map(f => parseName(f, fn))
  const seen = new Map<string, string>()
  for (const f of found) {
    const key = `${f.dataset}\u0000${f.hp}`
    if (seen.has(key)) throw new RangeError(`${fn}: ${seen.get(key)} and ${f.file} are both dataset ${f.dataset} at hp ${f.hp}; name one`)
    seen.set(key, f.file)
  }
  return found
}

/** One dataset's budgets as one bench (see the file comment). */
export function nb201Set (uri: string, options: { dataset?: string } = {}): BenchData {
  const fn = 'openBench'
  const location = uri.slice('nb201:'.length)
  if (location === '') throw new RangeError(`${fn}: '${uri}' names no file or folder (nb201:<dir>, nb201:<a.csv>,<b.csv>, nb201:<table.csv>)`)
  if (options.dataset !== undefined && typeof options.dataset !== 'string') throw new TypeError(`${fn}: options.dataset must be a string, got ${describe(options.dataset)}`)
  const found = findTables(location, fn)
  const datasets = [...new Set(found.map(f => f.dataset))].sort()
  let dataset: string
  if (options.dataset !== undefined) {
    if (!datasets.includes(options.dataset)) throw new RangeError(`${fn}: ${location} has no tables of dataset '${options.dataset}' (datasets: ${datasets.join(', ')})`)
    dataset = options.dataset
  } else if (datasets.length === 1) {
    dataset = datasets[0]
  } else {
    throw new RangeError(`${fn}: ${location} holds several datasets (${datasets.join(', ')}); choose one with the dataset option (CLI: --dataset)`)
  }
  const mine = found.filter(f => f.dataset === dataset).sort((a, b) => a.hp - b.hp)
  const epochs = mine.map(f => f.hp)
  const tables: Nb201Table[] = mine.map(f => loadNb201Table(f.file, { parseArch: s => nb201.parse(s) }))
  const E = epochs.length
  const largest = tables[E - 1]

  // Rows: the union of architectures, largest budget's order first.
  const rowByIndex = new Int32Array(NB201_SIZE).fill(-1)
  const archs: string[] = []
  const codes: number[] = []
  const rowsOf = tables.map(() => [] as number[]) // per table: file row → bench row
  for (const t of [largest, ...tables.slice(0, E - 1).reverse()]) {
    const map = rowsOf[tables.indexOf(t)]
    t.arch.forEach((s, k) => {
      const a = nb201.parse(s)
      const i = nb201.index(a)
      let row = rowByIndex[i]
      if (row < 0) {
        row = rowByIndex[i] = archs.length
        archs.push(s)
        for (const c of a) codes.push(c)
      }
      map[k] = row
    })
  }
  const size = archs.length
  const ops = Uint8Array.from(codes)

  const metrics: Partial<Record<Metric, MetricColumn>> = {}
  for (const [metric, column] of Object.entries(METRIC_COLUMNS) as Array<[Metric, string]>) {
    if (!tables.some(t => t.has(column))) continue
    const values = new Float64Array(size * E).fill(NaN)
    tables.forEach((t, ei) => {
      if (!t.has(column)) return
      const col = t.column(column)
      rowsOf[ei].forEach((row, k) => { values[row * E + ei] = col[k] })
    })
    metrics[metric] = values
  }
  if (Object.keys(metrics).length === 0) {
    throw new RangeError(`${fn}: the ${dataset} tables have none of the accuracy columns ${Object.values(METRIC_COLUMNS).join(', ')} (columns: ${largest.columns.join(', ')})`)
  }

  const isCost = (c: string): boolean => c !== 'index' && !c.endsWith('_accuracy') && !c.endsWith('_loss')
  const costs: Record<string, Float64Array> = {}
  for (let ei = E - 1; ei >= 0; ei--) {
    const t = tables[ei]
    for (const c of t.columns.filter(isCost)) {
      const name = ei === E - 1 || !largest.has(c) ? c : `${c}_hp${epochs[ei]}`
      if (costs[name] !== undefined) continue
      const col = t.column(c)
      const values = new Float64Array(size).fill(NaN)
      rowsOf[ei].forEach((row, k) => { values[row] = col[k] })
      costs[name] = values
    }
  }
  const space = ((NB201_DATASETS as readonly string[]).includes(dataset) ? dataset : 'cifar10') as Nb201Dataset
  if (costs.params === undefined) costs.params = nb201.paramsBatch(ops, space)
  if (costs.flops === undefined) costs.flops = nb201.flopsBatch(ops, space)

  return {
    uri,
    name: `NAS-Bench-201 ${dataset} (hp ${epochs.join(', ')})`,
    space: 'nb201',
    synthetic: false,
    scale: 'percent',
    size,
    epochs,
    repeats: 1,
    metrics,
    costs,
    archs: ops,
    rowOf: arch => {
      const i = nb201.index(arch as Parameters<typeof nb201.index>[0])
      const row = rowByIndex[i]
      if (row < 0) throw new RangeError(`${location}: architecture ${nb201.format(nb201.fromIndex(i))} is not in the ${dataset} tables`)
      return row
    },
    describeRow: row => archs[row]
  }
}
