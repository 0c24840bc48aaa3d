// AG-Net's tables (Lukasik, Jung & Keuper, ECCV 2022) on the shared runner: Table 1 (AG-Net
// against the harness's baselines on NAS-Bench-101), Table 2 (the same on NAS-Bench-201) and
// Table 6 (the ablations no LSO / no backprop, either space), with Fig. 3 (best-so-far against
// queries). One cell per (method, seed) on one
// bench runs runSearch; its rows are the incumbent at each checkpoint (val searched, test
// reported), as the search experiment writes them. The generator is pretrained once per plan
// (query-free) and saved in --out with its SHA-256; every AG-Net cell loads that file, so
// worker threads and resumed runs use the same weights.
//
// Not covered here: Table 5 and Fig. 4 (hardware latency: agnet-hw.ts), the XGB variant.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import { Bench } from '../bench/bench'
import { openBench } from '../bench/open'
import { runSearch, searchMethod, SEARCH_METHODS } from '../search'
import { agnetPretrain, agnetSaveWeights, agnetLoadWeights, agnetSpaceOf, agnetWeightsFile, type AgNetSpace } from '../search/agnet'
import type { ResultRow } from './results'
import { benchDigest, benchKey, benchRef, reopenBench, preflightOut, runExperiment, stableJson, PlanError, type BenchRef, type Cell, type ProgressFn, type ReportInput, type RunOptions } from './runner'
import { csvText, markdownTable, meanSd } from '../report/table'
import { lineSvg } from '../report/plots'

export const AGNET_TABLES = Object.freeze([1, 2, 6] as const)
export type AgNetTable = typeof AGNET_TABLES[number]
export const AGNET_OUTPUTS = ['report.md', 'results.csv', 'best-so-far.svg'] as const
const AGNET_PROTOCOL = 1
/** Baselines of the harness run beside AG-Net in Table 2 (same seeds, same first draws). */
export const AGNET_BASELINES = Object.freeze(['rs', 're', 'bananas'])

/** The paper's figures (val / test %, mean of 10 runs) by dataset (NB-101: the key 'nb101'). */
export const AGNET_PAPER = Object.freeze({
  table1: {
    optimum: { nb101: [95.06, 94.32] },
    'agnet@192': { nb101: [94.90, 94.18] },
    'bananas@192': { nb101: [94.73, 94.09] },
    'ls@192': { nb101: [94.57, 93.97] },
    'rs@192': { nb101: [94.31, 93.61] },
    're@192': { nb101: [94.47, 93.89] }
  },
  table2: {
    optimum: { cifar10: [91.61, 94.37], cifar100: [73.49, 73.51], 'ImageNet16-120': [46.77, 47.31] },
    'agnet@96': { cifar10: [91.55, 94.24], cifar100: [73.2, 73.12], 'ImageNet16-120': [46.31, 46.2] },
    'agnet@192': { cifar10: [91.60, 94.37], cifar100: [73.49, 73.51], 'ImageNet16-120': [46.64, 46.43] },
    'agnet-top1@100': { cifar10: [91.41, 94.16], cifar100: [73.14, 73.15], 'ImageNet16-120': [46.42, 46.43] },
    'rs@192': { cifar10: [91.12, 93.89], cifar100: [72.08, 72.07], 'ImageNet16-120': [45.87, 45.98] }
  },
  table6: {
    'no-lso': { nb101: [94.38, 93.78], cifar10: [91.15, 93.84], cifar100: [71.72, 71.83], 'ImageNet16-120': [45.33, 45.04] },
    'no-backprop': { nb101: [94.71, 94.12], cifar10: [91.60, 94.30], cifar100: [73.38, 73.22], 'ImageNet16-120': [46.62, 46.13] },
    agnet: { nb101: [94.90, 94.18], cifar10: [91.60, 94.37], cifar100: [73.49, 73.51], 'ImageNet16-120': [46.64, 46.43] }
  }
}) as { table1: Record<string, Record<string, [number, number]>>, table2: Record<string, Record<string, [number, number]>>, table6: Record<string, Record<string, [number, number]>> }

export interface AgNetPlan extends RunOptions {
  /** An NB-201 bench (Tables 2, 6) or an NB-101 bench (Tables 1, 6): opened, or a uri opened with `dataset`. */
  bench: Bench | string
  dataset?: string
  /** Tables to run (default: 2 and 6 on NB-201, 1 and 6 on NB-101). */
  tables?: AgNetTable[]
  /** Queries per search (default 192). */
  budget?: number
  /** Seeds per method (default 20), from seedStart (default 0). */
  seeds?: number
  seedStart?: number
  /** Baselines of Table 2 (default rs, re, bananas). */
  baselines?: string[]
  /** Settings of every AG-Net variant (e.g. { epochs: 10 }); recorded in each row. */
  agnet?: Record<string, unknown>
  /** Table 1/2: also the paper's top-1 row ("AG-Net, top-1, 100": one query per iteration, 16 + 84 = 100 queries). */
  top1?: boolean
  progress?: ProgressFn
}

/** The top-1 row's budget: 16 random draws, then 84 iterations of one query. */
export const AGNET_TOP1_BUDGET = 100

export interface AgNetSpec {
  bench: BenchRef
  /** label → method name and settings (the weights file included); `budget`/`checkpoints` where the method has its own (the top-1 row). */
  methods: Array<{ label: string, name: string, settings: Record<string, unknown>, budget?: number, checkpoints?: number[] }>
  budget: number
  checkpoints: number[]
  seeds: number
  seedStart: number
  tables: AgNetTable[]
}

function fail (message: string): never { throw new PlanError(`agnet: ${message}`) }

function integer (value: unknown, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(`${option} must be an integer >= ${min}, got ${JSON.stringify(value)}`)
  return value
}

function datasetOf (bench: Bench, given: string | undefined): string {
  if (given !== undefined) return given
  if (bench.synthetic) return 'synthetic'
  if (bench.space === 'nb101') return 'nb101'
  const m = /nb201-(.+?)-hp\d+\.(?:csv|arrow)/.exec(bench.uri) ?? /\((cifar10|cifar100|ImageNet16-120)\)/.exec(bench.name)
  return m?.[1] ?? bench.space
}

function shortHash (value: unknown): string { return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 10) }

function best (bench: Bench, metric: 'val' | 'test'): number {
  if (!bench.metrics.includes(metric)) return NaN
  let m = -Infinity
  const column = bench.column({ metric })
  for (let i = 0; i < column.length; i++) if (column[i] > m) m = column[i]
  return m
}

function planCells (spec: AgNetSpec, bench: Bench, signal?: AbortSignal): Cell[] {
  const dataset = datasetOf(bench, spec.bench.dataset)
  const optimum = best(bench, 'test')
  bench.resetQueries()
  const cells: Cell[] = []
  for (const m of spec.methods) {
    const method = searchMethod(m.name, m.settings)
    const key = shortHash(method.settings)
    const budget = m.budget ?? spec.budget
    const checkpoints = m.checkpoints ?? spec.checkpoints
    for (let seed = spec.seedStart; seed < spec.seedStart + spec.seeds; seed++) {
      cells.push({
        id: `agnet/${benchKey(bench)}/${m.label}@${key}/budget${budget}/q${shortHash(checkpoints).slice(0, 8)}/seed${seed}/v${AGNET_PROTOCOL}`,
        fields: { bench: bench.uri, bench_digest: benchDigest(bench), bench_synthetic: bench.synthetic },
        run: async () => {
          const started = Date.now()
          const result = await runSearch(method, bench, { budget, seed, checkpoints: checkpoints.filter(c => c <= budget), ...(signal !== undefined ? { signal } : {}) })
          const seconds = (Date.now() - started) / 1000
          return result.checkpoints.map(c => ({
            method: m.label, seed, dataset, budget, queries: c.queries,
            val: c.val, test: c.test, regret: optimum - c.test, arch: c.arch, bench_row: c.row,
            queried: result.queried, settings: result.settings, search_seconds: seconds
          }))
        }
      })
    }
  }
  return cells
}

/** The worker-thread entry: the cells from the plan's data. */
export async function loadCells (spec: AgNetSpec): Promise<Cell[]> {
  return planCells(spec, await reopenBench(spec.bench))
}

/** The pretrained generator of the plan: read from --out when there (SHA-256 checked), else pretrained and written. */
function pretrained (out: string, settings: Record<string, unknown>, space: AgNetSpace): string {
  const resolved = searchMethod('agnet', settings).settings.weights
  if (typeof resolved === 'string') {
    // A given file, or the space's shipped weights: checked (shape, SHA-256) before any cell runs.
    agnetLoadWeights(agnetWeightsFile(resolved, space), space.shape)
    return resolved === 'shipped' ? 'shipped' : path.resolve(resolved)
  }
  const steps = (settings.pretrainSteps as number | undefined) ?? searchMethod('agnet').settings.pretrainSteps as number
  const seed = (settings.pretrainSeed as number | undefined) ?? 0
  fs.mkdirSync(out, { recursive: true })
  const file = path.resolve(out, `agnet-pretrained-${space.name}-steps${steps}-seed${seed}.json`)
  if (fs.existsSync(file)) { agnetLoadWeights(file, space.shape); return file }
  const gen = agnetPretrain(space, steps, seed)
  agnetSaveWeights(file, gen, { space: space.name, steps, seed, batch: 32, lr: 2e-4, betas: [0.5, 0.999], made: 'agnetPretrain' })
  return file
}

export interface AgNetExperimentResult { ran: number, skipped: number, remaining: number, partial: boolean, reportFile: string, run: string }

/** Runs the planned (method, seed) cells not yet in out/results.jsonl and writes the report. */
export async function runAgNetExperiment (plan: AgNetPlan): Promise<AgNetExperimentResult> {
  if (plan.tables !== undefined && (!Array.isArray(plan.tables) || plan.tables.length === 0 || plan.tables.some(t => !(AGNET_TABLES as readonly number[]).includes(t)))) fail(`--table must be among ${AGNET_TABLES.join(', ')}, got ${JSON.stringify(plan.tables)}`)
  const seeds = integer(plan.seeds ?? 20, '--seeds', 1)
  const seedStart = integer(plan.seedStart ?? 0, '--seed-start', 0)
  const budget = integer(plan.budget ?? 192, '--budget', 17)
  const baselines = plan.baselines ?? [...AGNET_BASELINES]
  for (const b of baselines) if (!Object.prototype.hasOwnProperty.call(SEARCH_METHODS, b) || b === 'agnet') fail(`--baselines: unknown baseline '${b}' (known: rs, re, ls, bananas)`)
  const agnetSettings = plan.agnet ?? {}
  try { searchMethod('agnet', agnetSettings) } catch (err) { fail((err as Error).message) }
  const k = (searchMethod('agnet', agnetSettings).settings.k as number)
  const init = (searchMethod('agnet', agnetSettings).settings.init as number)
  if ((budget - init) % k !== 0) fail(`--budget ${budget} must be ${init} + m·${k} (the initial draws plus whole iterations)`)
  preflightOut({ out: plan.out, outputs: AGNET_OUTPUTS, force: plan.force })
  let bench: Bench
  if (typeof plan.bench === 'string') {
    try { bench = await openBench(plan.bench, plan.dataset !== undefined ? { dataset: plan.dataset } : {}) } catch (err) { fail(`--bench ${plan.bench}: ${(err as Error).message}`) }
  } else if (plan.bench instanceof Bench) bench = plan.bench
  else fail('--bench: give a Bench or a bench uri')
  if (bench.space !== 'nb201' && bench.space !== 'nb101') fail(`--bench ${bench.uri}: AG-Net's tables run on NAS-Bench-101 (Table 1) or NAS-Bench-201 (Table 2); ${bench.name} is ${bench.space}`)
  const tables: AgNetTable[] = plan.tables ?? (bench.space === 'nb101' ? [1, 6] : [2, 6])
  if (bench.space === 'nb101' && tables.includes(2)) fail(`--bench ${bench.uri}: Table 2 runs on NAS-Bench-201; ${bench.name} is NAS-Bench-101 (Table 1)`)
  if (bench.space === 'nb201' && tables.includes(1)) fail(`--bench ${bench.uri}: Table 1 runs on NAS-Bench-101; ${bench.name} is NAS-Bench-201 (Table 2)`)
  const space = agnetSpaceOf(bench.space)
  if (!bench.metrics.includes('test')) fail(`--bench ${bench.uri}: ${bench.name} has no test accuracy (metrics: ${bench.metrics.join(', ')})`)
  if (budget > bench.size) fail(`--budget ${budget} is above the size of the space (${bench.size})`)

  const weights = pretrained(plan.out, agnetSettings, space)
  const withWeights = { ...agnetSettings, weights }
  const methods: AgNetSpec['methods'] = [{ label: 'agnet', name: 'agnet', settings: withWeights }]
  if (tables.includes(6)) {
    methods.push({ label: 'no-lso', name: 'agnet', settings: { ...withWeights, variant: 'no-lso' } })
    methods.push({ label: 'no-backprop', name: 'agnet', settings: { ...withWeights, variant: 'no-backprop' } })
  }
  if (plan.top1 === true) {
    if (!tables.includes(1) && !tables.includes(2)) fail('--top-k 1 adds a row to Table 1 or 2; give --table 1 or 2')
    if (AGNET_TOP1_BUDGET > bench.size) fail(`--top-k 1: the top-1 row's ${AGNET_TOP1_BUDGET} queries are above the size of the space (${bench.size})`)
    const top1: number[] = [init]
    for (let q = init + 16; q < AGNET_TOP1_BUDGET; q += 16) top1.push(q)
    top1.push(AGNET_TOP1_BUDGET)
    methods.push({ label: 'agnet-top1', name: 'agnet', settings: { ...withWeights, k: 1 }, budget: AGNET_TOP1_BUDGET, checkpoints: top1 })
  }
  if (tables.includes(1) || tables.includes(2)) for (const b of baselines) methods.push({ label: b, name: b, settings: {} })
  const checkpoints: number[] = []
  for (let q = init; q <= budget; q += k) checkpoints.push(q)
  const spec: AgNetSpec = { bench: benchRef(bench, plan.dataset), methods, budget, checkpoints, seeds, seedStart, tables }
  return await runExperiment({ ...plan, outputs: AGNET_OUTPUTS }, () => ({
    cells: planCells(spec, bench, plan.signal),
    spec: { module: 'agnet', data: spec },
    settings: { ...spec, weightsSha256: JSON.parse(fs.readFileSync(agnetWeightsFile(weights, space), 'utf8')).sha256 },
    report: async input => await writeReport(input, bench, spec)
  }))
}

// ---- report ------------------------------------------------------------------------------

function stats (values: number[]): { mean: number, se: number, n: number } {
  const { mean, sd, n } = meanSd(values)
  return { mean, se: n > 1 ? sd / Math.sqrt(n) : NaN, n }
}

async function writeReport (input: ReportInput, bench: Bench, spec: AgNetSpec): Promise<string> {
  const rows = input.rows
  const pct = bench.scale === 'percent' ? 1 : 100
  const f = (x: number): string => Number.isFinite(x) ? (x * pct).toFixed(2) : '—'
  const dataset = datasetOf(bench, spec.bench.dataset)
  const paperOn = !bench.synthetic && ['nb101', 'cifar10', 'cifar100', 'ImageNet16-120'].includes(dataset)
  const at = (label: string, q: number): ResultRow[] => rows.filter(r => r.method === label && r.queries === q)
  const cell = (label: string, q: number): string => {
    const v = stats(at(label, q).map(r => r.val as number))
    const t = stats(at(label, q).map(r => r.test as number))
    return t.n === 0 ? '—' : `${f(v.mean)} / ${f(t.mean)} ± ${f(t.se)} (${t.n})`
  }
  const paper = (pair: [number, number] | undefined): string => paperOn && pair !== undefined ? `${pair[0].toFixed(2)} / ${pair[1].toFixed(2)}` : '—'
  const qs = [96, 192].filter(q => spec.checkpoints.includes(q))
  const agnetSettings = spec.methods[0].settings
  const lines = ['# AG-Net (Lukasik, Jung & Keuper, ECCV 2022)', '', input.header,
    `Benchmark: **${bench.label}**${bench.synthetic ? ' — SYNTHETIC numbers, not comparable to the paper' : ''} (digest ${benchDigest(bench).slice(0, 16)}); ` +
    `dataset ${dataset}; searched on val, reported: val / test % of the best-val architecture; mean over seeds ${spec.seedStart}–${spec.seedStart + spec.seeds - 1}, test ± se (n). ` +
    `AG-Net settings: ${JSON.stringify({ ...agnetSettings, weights: path.basename(String(agnetSettings.weights)) })} (defaults otherwise: searchMethod('agnet').settings).`, '',
    `Optimum of the table: ${f(best(bench, 'val'))} / ${f(best(bench, 'test'))} (best val / best test)${paperOn ? `; paper ${paper((bench.space === 'nb101' ? AGNET_PAPER.table1 : AGNET_PAPER.table2).optimum[dataset])}` : ''}.`, '']
  const comparison = spec.tables.includes(1) ? 1 : spec.tables.includes(2) ? 2 : null
  if (comparison !== null) {
    const paperTable = comparison === 1 ? AGNET_PAPER.table1 : AGNET_PAPER.table2
    lines.push(`## Table ${comparison}${comparison === 1 ? ' (NAS-Bench-101)' : ''}`, '', 'val / test ± se (n) at each query count; "paper" is the paper\'s row for this dataset (mean of 10 runs).', '')
    const labels = spec.methods.filter(m => m.label !== 'no-lso' && m.label !== 'no-backprop' && m.label !== 'agnet-top1').map(m => m.label)
    const table = labels.map(l => [l, ...qs.map(q => cell(l, q)), ...qs.map(q => paper(paperTable[`${l}@${q}`]?.[dataset]))])
    lines.push(markdownTable(['method', ...qs.map(q => `${q} queries`), ...qs.map(q => `paper @${q}`)], table))
    const baseline = labels.includes('re') ? 're' : labels[1]
    if (baseline !== undefined) {
      lines.push(`### AG-Net − ${baseline}, paired over seeds`, '', 'Test accuracy difference on the same seed (the methods share the first random draws of a seed); mean ± se (n).', '')
      lines.push(markdownTable(['queries', 'difference'], qs.map(q => {
        const mine = new Map(at('agnet', q).map(r => [r.seed, r.test as number]))
        const d = at(baseline, q).filter(r => mine.has(r.seed)).map(r => (mine.get(r.seed) as number) - (r.test as number))
        const s = stats(d)
        return [String(q), s.n === 0 ? '—' : `${s.mean >= 0 ? '+' : ''}${f(s.mean)} ± ${f(s.se)} (${s.n})`]
      })))
    }
  }
  if (spec.tables.includes(6)) {
    const q = spec.budget
    lines.push('## Table 6 — ablations', '', `val / test ± se (n) at ${q} queries; paper at 192.`, '')
    lines.push(markdownTable(['variant', `${q} queries`, 'paper'], ['no-lso', 'no-backprop', 'agnet'].map(l => [l, cell(l, q), paper(AGNET_PAPER.table6[l]?.[dataset])])))
  }
  if (spec.methods.some(m => m.label === 'agnet-top1')) {
    const q = AGNET_TOP1_BUDGET
    lines.push(`### AG-Net, top-1 (one query per iteration), ${q} queries`, '', markdownTable(['row', `${q} queries`, 'paper'], [['agnet-top1', cell('agnet-top1', q), paper(AGNET_PAPER.table2[`agnet-top1@${q}`]?.[dataset])]]), '')
  }
  const points = spec.methods.flatMap(m => (m.checkpoints ?? spec.checkpoints).map(q => {
    const s = stats(at(m.label, q).map(r => r.test as number))
    return s.n === 0 ? undefined : { series: m.label, x: q, y: s.mean * pct, sd: Number.isFinite(s.se) ? s.se * pct : 0 }
  })).filter((p): p is { series: string, x: number, y: number, sd: number } => p !== undefined)
  if (points.length > 0) {
    input.write('best-so-far.svg', await lineSvg({ title: 'Fig. 3: best-so-far test accuracy (mean ± se)', subtitle: bench.label, xTitle: 'queries', yTitle: 'test accuracy % of the incumbent', points }))
    lines.push('## Fig. 3', '', '![best-so-far](best-so-far.svg)', '')
  }
  const times = spec.methods.map(m => {
    const b = m.budget ?? spec.budget
    const s = stats(rows.filter(r => r.method === m.label && r.queries === b).map(r => r.search_seconds as number))
    return [b === spec.budget ? m.label : `${m.label} (${b} queries)`, s.n === 0 ? '—' : `${s.mean.toFixed(1)} s`]
  })
  lines.push('## Time per search', '', markdownTable(['method', `mean seconds per ${spec.budget}-query search`], times))
  input.write('results.csv', csvText(['method', 'seed', 'queries', 'val', 'test', 'regret', 'arch'],
    rows.map(r => [String(r.method), r.seed as number, r.queries as number, r.val as number, r.test as number, r.regret as number, String(r.arch)])))
  return input.write('report.md', lines.join('\n') + '\n')
}
