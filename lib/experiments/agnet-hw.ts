// AG-Net's Table 5 (hardware-aware search, Eq. 4–6) on the shared runner: per device and
// latency limit L, AG-Net with Joint 0 and Joint 1 rankings and random search, same seeds.
// Latencies are the bench's `latency_<device>` cost columns (ms; costs, not queries), or the
// `flops` column as a labelled proxy (`latency: 'flops'`). Each cell is one search; its row
// holds the incumbent (Joint 0 and random search: the best val with latency ≤ L; Joint 1: the
// least joint score), its test accuracy and latency, and the share of queried architectures
// that are feasible. The optimum under each limit comes from the table (the Pareto front of
// val against latency). Fig. 4: the best feasible accuracy against L on one device, and the
// feasible architectures queried per iteration for one setting.
import * as fs from 'node:fs'
import { createHash } from 'node:crypto'
import { Bench } from '../bench/bench'
import { openBench } from '../bench/open'
import { runSearch, searchMethod } from '../search'
import { agnetHwIncumbent, AGNET_NB201_WEIGHTS } from '../search/agnet'
import type { SearchMethod, SearchTrajectory } from '../search/types'
import type { ResultRow } from './results'
import { benchDigest, benchKey, benchRef, reopenBench, preflightOut, runExperiment, stableJson, PlanError, type BenchRef, type Cell, type ProgressFn, type ReportInput, type RunOptions } from './runner'
import { csvText, markdownTable, meanSd } from '../report/table'
import { paretoFrontIndices } from '../metrics/pareto'
import { lineSvg } from '../report/plots'
import { nb201 } from '../spaces/nb201'

export const AGNET_HW_OUTPUTS = ['report.md', 'results.csv', 'fig4-limits.svg', 'fig4-feasible.svg'] as const
const AGNET_HW_PROTOCOL = 2
export const AGNET_HW_METHODS = Object.freeze(['agnet-j0', 'agnet-j1', 'rs'] as const)

/** The paper's readable Table 5 figures (HW-NAS-Bench, ImageNet16-120; the rest is garbled in the issue). */
export const AGNET_HW_PAPER = Object.freeze({ device: 'edgegpu', limit: 2, bestJ0: [0.406, 1.90], bestRandom: [0.397, 1.78], meanJ0: [0.397, 0.29], meanJ1: [0.391, 0.31], meanRandom: [0.372, 0.05], optimum: [0.406, 1.90] })

/** The paper's Table 5 limits (ms, HW-NAS-Bench ImageNet16-120 latencies) per device (Raspi4 2…12 and Pixel3 2…10 in steps of 2). */
export const AGNET_HW_PAPER_LIMITS: Readonly<Record<string, readonly number[]>> = Object.freeze({
  edgegpu: [2, 4, 6, 8], raspi4: [2, 4, 6, 8, 10, 12], edgetpu: [1], pixel3: [2, 4, 6, 8, 10], eyeriss: [1, 2], fpga: [1, 2]
})

/**
 * The factor that maps the paper's limits (latencies of ImageNet16-120 inputs, 16×16) onto a
 * table of CIFAR inputs (32×32): the median over the bench's cells of FLOPs(dataset) /
 * FLOPs(ImageNet16-120) (nb201's cost model), two significant digits — 4.0 for CIFAR-10.
 * A compute proxy: latency need not scale with FLOPs on every device.
 */
export function agnetHwLimitScale (bench: Bench, dataset: 'cifar10' | 'cifar100' | 'ImageNet16-120'): number {
  if (dataset === 'ImageNet16-120') return 1
  const ops = bench.archs as Uint8Array
  const a = nb201.flopsBatch(ops, dataset)
  const b = nb201.flopsBatch(ops, 'ImageNet16-120')
  const r = Array.from(a, (x, i) => x / b[i]).filter(Number.isFinite).sort((x, y) => x - y)
  return round2(r[r.length >> 1])
}

export interface AgNetHwPlan extends RunOptions {
  /** An NB-201 bench (opened, or a uri opened with `dataset`). */
  bench: Bench | string
  dataset?: string
  /** 'table' (default): the bench's latency_<device> columns; 'flops': the flops column, a proxy. */
  latency?: 'table' | 'flops'
  /** Devices (names after latency_; default: every latency column). Not with latency 'flops'. */
  devices?: string[]
  /**
   * Latency limits L (> 0), the same for every device (default: per device, the 5%, 25% and 50%
   * quantiles of its column, 2 significant digits), or 'paper': per device the paper's limits
   * ({@link AGNET_HW_PAPER_LIMITS}) times {@link agnetHwLimitScale}.
   */
  limits?: number[] | 'paper'
  /** Queries per search (default 192; the paper: ≤ 200). */
  budget?: number
  /** Runs per (device, limit, method) (default 10, the paper's). */
  seeds?: number
  seedStart?: number
  /** Settings of AG-Net (e.g. { epochs: 5 }); recorded in each row. */
  agnet?: Record<string, unknown>
  progress?: ProgressFn
}

export interface AgNetHwSpec {
  bench: BenchRef
  /** Cost column, its label, limits (with the paper's limit it maps, for limits 'paper'). */
  settings: Array<{ device: string, column: string, limit: number, paperLimit?: number }>
  devices: string[]
  agnet: Record<string, unknown>
  budget: number
  seeds: number
  seedStart: number
}

function fail (message: string): never { throw new PlanError(`agnet: ${message}`) }

function integer (value: unknown, option: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(`${option} must be an integer >= ${min}, got ${JSON.stringify(value)}`)
  return value
}

function shortHash (value: unknown): string { return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 10) }

/** Two significant digits. */
function round2 (x: number): number { return Number(x.toPrecision(2)) }

/** The q-quantile of the finite values (nearest rank). */
function quantile (values: Float64Array, q: number): number {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b)
  return v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))]
}

/** Default limits of a latency column: its 5%, 25% and 50% quantiles, two significant digits, distinct. */
export function agnetHwDefaultLimits (column: Float64Array): number[] {
  return [...new Set([0.05, 0.25, 0.5].map(q => round2(quantile(column, q))))].filter(l => l > 0)
}

/** The devices of a bench: its latency_<device> cost columns. */
export function agnetHwDevices (bench: Bench): string[] {
  return bench.costs.filter(c => c.startsWith('latency_')).map(c => c.slice('latency_'.length)).sort()
}

/** The optimum under a limit: the best-val architecture with latency ≤ L, taken from the Pareto front of (val ↑, latency ↓). */
export function agnetHwOptimum (val: Float64Array, lat: Float64Array, limit: number): number {
  const rows: number[] = []
  const points: Array<{ val: number, lat: number }> = []
  for (let i = 0; i < val.length; i++) {
    if (Number.isFinite(val[i]) && Number.isFinite(lat[i])) { rows.push(i); points.push({ val: val[i], lat: lat[i] }) }
  }
  const front = paretoFrontIndices(points, { maximize: ['val'], minimize: ['lat'] })
  // On the front, under the limit: the best val (a tie in val and latency: the first row).
  let best = -1
  for (const k of front) {
    if (!(points[k].lat <= limit)) continue
    if (best < 0 || points[k].val > points[best].val || (points[k].val === points[best].val && (points[k].lat < points[best].lat || (points[k].lat === points[best].lat && k < best)))) best = k
  }
  return best < 0 ? -1 : rows[best]
}

/** A method wrapper that keeps the trajectory runSearch checked (the harness returns only incumbents). */
function recording (method: SearchMethod): { method: SearchMethod, last: () => SearchTrajectory } {
  let last: SearchTrajectory | null = null
  return {
    method: Object.freeze({ ...method, run: async (run: Parameters<SearchMethod['run']>[0]) => { last = await method.run(run); return last } }),
    last: () => { if (last === null) throw new Error('agnet Table 5: the search returned no trajectory'); return last }
  }
}

function planCells (spec: AgNetHwSpec, bench: Bench, signal?: AbortSignal): Cell[] {
  const test = bench.column({ metric: 'test' })
  // Queries per iteration of AG-Net (rs is blocked the same way for Fig. 4).
  const blockSize = searchMethod('agnet', { ...spec.agnet, latency: 'flops', limit: 1 }).settings.k as number
  bench.resetQueries()
  const cells: Cell[] = []
  for (const s of spec.settings) {
    const lat = bench.cost(s.column)
    for (const label of AGNET_HW_METHODS) {
      const joint: 0 | 1 = label === 'agnet-j1' ? 1 : 0
      const settings = label === 'rs' ? {} : { ...spec.agnet, latency: s.column, limit: s.limit, joint, devices: spec.devices }
      const method = searchMethod(label === 'rs' ? 'rs' : 'agnet', settings)
      const key = shortHash(method.settings)
      for (let seed = spec.seedStart; seed < spec.seedStart + spec.seeds; seed++) {
        cells.push({
          id: `agnet-hw/${benchKey(bench)}/${s.column}/L${s.limit}/${label}@${key}/budget${spec.budget}/seed${seed}/v${AGNET_HW_PROTOCOL}`,
          fields: { bench: bench.uri, bench_digest: benchDigest(bench), bench_synthetic: bench.synthetic },
          run: async () => {
            const started = Date.now()
            const rec = recording(method)
            const result = await runSearch(rec.method, bench, { budget: spec.budget, seed, ...(signal !== undefined ? { signal } : {}) })
            const seconds = (Date.now() - started) / 1000
            const t = rec.last()
            const lats = Float64Array.from(t.rows, r => lat[r])
            const best = agnetHwIncumbent(t.values, lats, s.limit, joint)
            let feasible = 0
            for (const l of lats) if (l <= s.limit) feasible++
            // Fig. 4: feasible architectures among each iteration's queries (the first block: the initial random draws).
            const blocks: number[] = []
            for (let at = 0; at < lats.length; at += blockSize) {
              let n = 0
              for (let i = at; i < Math.min(at + blockSize, lats.length); i++) if (lats[i] <= s.limit) n++
              blocks.push(n)
            }
            const row = best >= 0 ? t.rows[best] : -1
            return [{
              table: 5, method: label, device: s.device, latency_column: s.column, limit: s.limit, seed, budget: spec.budget,
              queried: result.queried, found: row >= 0, feasible: row >= 0 && lat[row] <= s.limit,
              val: row >= 0 ? t.values[best] : null, test: row >= 0 ? test[row] : null, latency: row >= 0 ? lat[row] : null,
              arch: row >= 0 ? bench.describeRow(row) : null, bench_row: row, feasible_share: feasible / t.rows.length, feasible_per_iteration: blocks,
              paper_limit: s.paperLimit ?? null,
              settings: method.settings, search_seconds: seconds
            }]
          }
        })
      }
    }
  }
  return cells
}

/** The worker-thread entry: the cells from the plan's data. */
export async function loadCells (spec: AgNetHwSpec): Promise<Cell[]> {
  return planCells(spec, await reopenBench(spec.bench))
}

export interface AgNetHwResult { ran: number, skipped: number, remaining: number, partial: boolean, reportFile: string, run: string }

/** Runs Table 5's cells not yet in out/results.jsonl and writes the report. */
export async function runAgNetHwExperiment (plan: AgNetHwPlan): Promise<AgNetHwResult> {
  const latency = plan.latency ?? 'table'
  if (latency !== 'table' && latency !== 'flops') fail(`--latency must be table or flops, got ${JSON.stringify(latency)}`)
  const seeds = integer(plan.seeds ?? 10, '--seeds', 1)
  const seedStart = integer(plan.seedStart ?? 0, '--seed-start', 0)
  const budget = integer(plan.budget ?? 192, '--budget', 17)
  if (plan.limits !== undefined && plan.limits !== 'paper') {
    if (!Array.isArray(plan.limits) || plan.limits.length === 0) fail(`--limits must be a non-empty list of numbers > 0, got ${JSON.stringify(plan.limits)}`)
    for (const l of plan.limits) if (typeof l !== 'number' || !Number.isFinite(l) || l <= 0) fail(`--limits: a latency limit L must be a number > 0, got ${JSON.stringify(l)}`)
  }
  const agnetSettings = plan.agnet ?? {}
  let resolved: Record<string, unknown>
  try { resolved = searchMethod('agnet', { ...agnetSettings, latency: 'flops', limit: 1 }).settings } catch (err) { fail((err as Error).message) }
  const k = resolved.k as number
  const init = resolved.init as number
  if ((budget - init) % k !== 0) fail(`--budget ${budget} must be ${init} + m·${k} (the initial draws plus whole iterations)`)
  preflightOut({ out: plan.out, outputs: AGNET_HW_OUTPUTS, force: plan.force })
  let bench: Bench
  if (typeof plan.bench === 'string') {
    try { bench = await openBench(plan.bench, plan.dataset !== undefined ? { dataset: plan.dataset } : {}) } catch (err) { fail(`--bench ${plan.bench}: ${(err as Error).message}`) }
  } else if (plan.bench instanceof Bench) bench = plan.bench
  else fail('--bench: give a Bench or a bench uri')
  if (bench.space !== 'nb201') fail(`--bench ${bench.uri}: AG-Net's Table 5 runs on NAS-Bench-201; ${bench.name} is ${bench.space}`)
  if (!bench.metrics.includes('test')) fail(`--bench ${bench.uri}: ${bench.name} has no test accuracy (metrics: ${bench.metrics.join(', ')})`)
  if (budget > bench.size) fail(`--budget ${budget} is above the size of the space (${bench.size})`)

  const known = agnetHwDevices(bench)
  let devices: string[]
  let columns: string[]
  if (latency === 'flops') {
    if (plan.devices !== undefined) fail('--device picks latency_<device> columns; with --latency flops the proxy is the only "device"')
    if (!bench.costs.includes('flops')) fail(`--latency flops: ${bench.name} has no flops column (cost columns: ${bench.costs.join(', ') || 'none'})`)
    devices = ['flops']
    columns = ['flops']
  } else {
    if (known.length === 0) fail(`--latency table: ${bench.name} has no latency_<device> column (cost columns: ${bench.costs.join(', ') || 'none'}); use --latency flops for the FLOPs proxy`)
    devices = plan.devices ?? known
    if (!Array.isArray(devices) || devices.length === 0) fail(`--device must be a non-empty list of devices (known: ${known.join(', ')})`)
    for (const d of devices) if (!known.includes(d)) fail(`--device: unknown device '${String(d)}' (known: ${known.join(', ')})`)
    columns = devices.map(d => `latency_${d}`)
  }
  const settings: AgNetHwSpec['settings'] = []
  if (plan.limits === 'paper') {
    if (latency === 'flops') fail('--limits paper maps the paper\'s latency limits (ms); with --latency flops give limits in MFLOPs')
    const ds = plan.dataset ?? (/cifar100/.test(bench.uri) ? 'cifar100' : /ImageNet16/i.test(bench.uri) ? 'ImageNet16-120' : 'cifar10')
    if (ds !== 'cifar10' && ds !== 'cifar100' && ds !== 'ImageNet16-120') fail(`--limits paper: no FLOPs model for the dataset '${ds}'`)
    const scale = agnetHwLimitScale(bench, ds)
    for (const d of devices) if (AGNET_HW_PAPER_LIMITS[d] === undefined) fail(`--limits paper: the paper has no limits for '${d}' (it has: ${Object.keys(AGNET_HW_PAPER_LIMITS).join(', ')})`)
    devices.forEach((d, i) => { for (const p of AGNET_HW_PAPER_LIMITS[d]) settings.push({ device: d, column: columns[i], limit: round2(p * scale), paperLimit: p }) })
  } else {
    devices.forEach((d, i) => {
      const limits = plan.limits as number[] | undefined ?? agnetHwDefaultLimits(bench.cost(columns[i]))
      for (const limit of limits) settings.push({ device: d, column: columns[i], limit })
    })
  }
  const spec: AgNetHwSpec = { bench: benchRef(bench, plan.dataset), settings, devices: latency === 'flops' ? ['flops'] : known.map(d => `latency_${d}`), agnet: agnetSettings, budget, seeds, seedStart }
  const weights = resolved.weights === 'shipped' || resolved.weights === null ? AGNET_NB201_WEIGHTS : String(resolved.weights)
  return await runExperiment({ ...plan, outputs: AGNET_HW_OUTPUTS }, () => ({
    cells: planCells(spec, bench, plan.signal),
    spec: { module: 'agnet-hw', data: spec },
    settings: { ...spec, latency, weightsSha256: fs.existsSync(weights) ? JSON.parse(fs.readFileSync(weights, 'utf8')).sha256 : null },
    report: async input => await writeReport(input, bench, spec, latency)
  }))
}

// ---- report ------------------------------------------------------------------------------

async function writeReport (input: ReportInput, bench: Bench, spec: AgNetHwSpec, latency: 'table' | 'flops'): Promise<string> {
  const rows = input.rows
  const pct = bench.scale === 'percent' ? 1 : 100
  const f = (x: number | null | undefined): string => typeof x === 'number' && Number.isFinite(x) ? (x * pct).toFixed(2) : '—'
  const l = (x: number | null | undefined): string => typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : '—'
  const val = bench.column({ metric: 'val' })
  const test = bench.column({ metric: 'test' })
  const unit = latency === 'flops' ? 'MFLOPs (a PROXY for latency, not a latency)' : 'ms'
  const lines = ['# AG-Net Table 5 — hardware-aware search', '', input.header,
    `Benchmark: **${bench.label}**${bench.synthetic ? ' — SYNTHETIC numbers' : ''} (digest ${benchDigest(bench).slice(0, 16)}); latency: ${latency === 'flops' ? '**flops column as a proxy**' : 'the table\'s latency_<device> columns'} (${unit}). ` +
    `Searched on val; accuracy = test % of the incumbent (Joint 0 and random search: best val with latency ≤ L; Joint 1: least joint rank). ` +
    `${spec.seeds} runs (seeds ${spec.seedStart}–${spec.seedStart + spec.seeds - 1}), ${spec.budget} queries each. ` +
    `AG-Net settings: ${JSON.stringify(spec.agnet)} (defaults otherwise: the HW variant's, searchMethod('agnet', { latency, limit }).settings).`, '',
    'Per limit: **best** of the runs (test %, latency of the incumbent with the best test among feasible incumbents), **mean** test % of the incumbents (n feasible of runs) and **feas.** the mean share of queried architectures with latency ≤ L; the optimum is the best-val architecture with latency ≤ L (val / test %, latency).', '']
  if (!bench.synthetic) lines.push(`The paper's Table 5 is on ImageNet16-120 (HW-NAS-Bench), not comparable with this table; its readable Edge GPU L = ${AGNET_HW_PAPER.limit} row: best J0 ${AGNET_HW_PAPER.bestJ0.join(' / ')}, random ${AGNET_HW_PAPER.bestRandom.join(' / ')}; mean J0 ${AGNET_HW_PAPER.meanJ0[0]} (feas. ${AGNET_HW_PAPER.meanJ0[1]}), J1 ${AGNET_HW_PAPER.meanJ1[0]} (${AGNET_HW_PAPER.meanJ1[1]}), random ${AGNET_HW_PAPER.meanRandom[0]} (${AGNET_HW_PAPER.meanRandom[1]}); optimum ${AGNET_HW_PAPER.optimum.join(' / ')}.`, '')
  for (const device of [...new Set(spec.settings.map(s => s.device))]) {
    lines.push(`## ${device}${latency === 'flops' ? ' (proxy)' : ''}`, '')
    const table: string[][] = []
    for (const s of spec.settings.filter(x => x.device === device)) {
      const lat = bench.cost(s.column)
      const opt = agnetHwOptimum(val, lat, s.limit)
      const cells = AGNET_HW_METHODS.map(m => {
        const rs = rows.filter(r => r.method === m && r.limit === s.limit && r.latency_column === s.column)
        if (rs.length === 0) return ['—', '—', '—']
        const feasible = rs.filter(r => r.feasible === true)
        const top = feasible.reduce<ResultRow | null>((a, r) => a === null || (r.test as number) > (a.test as number) ? r : a, null)
        const mean = meanSd(feasible.map(r => r.test as number)).mean
        const share = meanSd(rs.map(r => r.feasible_share as number)).mean
        return [top === null ? '—' : `${f(top.test as number)} / ${l(top.latency as number)}`, `${feasible.length > 0 ? f(mean) : '—'} (${feasible.length}/${rs.length})`, share.toFixed(2)]
      })
      table.push([s.paperLimit !== undefined ? `${s.limit} (paper ${s.paperLimit})` : String(s.limit), opt >= 0 ? `${f(val[opt])} / ${f(test[opt])} / ${l(lat[opt])}` : 'none', ...cells.flat()])
    }
    lines.push(markdownTable(['L', 'optimum (val / test / lat)', 'J0 best', 'J0 mean (n)', 'J0 feas.', 'J1 best', 'J1 mean (n)', 'J1 feas.', 'random best', 'random mean (n)', 'random feas.'], table), '')
  }
  lines.push(...await figure4(input, bench, spec, latency, pct))
  const times = AGNET_HW_METHODS.map(m => {
    const s = meanSd(rows.filter(r => r.method === m).map(r => r.search_seconds as number))
    return [m, s.n === 0 ? '—' : `${s.mean.toFixed(1)} s`]
  })
  lines.push('## Time per search', '', markdownTable(['method', `mean seconds per ${spec.budget}-query search`], times))
  input.write('results.csv', csvText(['method', 'device', 'limit', 'seed', 'val', 'test', 'latency', 'feasible', 'feasible_share', 'arch'],
    rows.map(r => [String(r.method), String(r.device), r.limit as number, r.seed as number, (r.val ?? NaN) as number, (r.test ?? NaN) as number, (r.latency ?? NaN) as number, String(r.feasible), r.feasible_share as number, String(r.arch)])))
  return input.write('report.md', lines.join('\n') + '\n')
}


/**
 * Fig. 4: (a) on one device (pixel3 when run, else the first with several limits), the mean
 * test accuracy of the feasible incumbents against L, beside the optimum under L; (b) for that
 * device's smallest limit, the mean number of feasible architectures among each iteration's
 * queries. Written as SVG, and as tables in the report.
 */
async function figure4 (input: ReportInput, bench: Bench, spec: AgNetHwSpec, latency: 'table' | 'flops', pct: number): Promise<string[]> {
  const rows = input.rows
  const devices = [...new Set(spec.settings.map(s => s.device))]
  const device = devices.includes('pixel3') ? 'pixel3' : devices.find(d => spec.settings.filter(s => s.device === d).length > 1) ?? devices[0]
  const settings = spec.settings.filter(s => s.device === device).sort((a, b) => a.limit - b.limit)
  if (settings.length === 0 || rows.length === 0) return []
  const val = bench.column({ metric: 'val' })
  const test = bench.column({ metric: 'test' })
  const lat = bench.cost(settings[0].column)
  const lines = ['## Fig. 4', '', `(a) ${device}: mean test % of the feasible incumbents against the limit L (n feasible of runs); the optimum is the best-val architecture under L.`, '']
  const points: Array<{ series: string, x: number, y: number }> = []
  const table: string[][] = []
  for (const s of settings) {
    const opt = agnetHwOptimum(val, lat, s.limit)
    if (opt >= 0) points.push({ series: 'optimum', x: s.limit, y: test[opt] * pct })
    const cells = AGNET_HW_METHODS.map(m => {
      const rs = rows.filter(r => r.method === m && r.limit === s.limit && r.latency_column === s.column)
      const feasible = rs.filter(r => r.feasible === true)
      if (feasible.length === 0) return rs.length === 0 ? '—' : `— (0/${rs.length})`
      const mean = meanSd(feasible.map(r => r.test as number)).mean * pct
      points.push({ series: m, x: s.limit, y: mean })
      return `${mean.toFixed(2)} (${feasible.length}/${rs.length})`
    })
    table.push([String(s.limit), opt >= 0 ? (test[opt] * pct).toFixed(2) : 'none', ...cells])
  }
  lines.push(markdownTable(['L', 'optimum test', ...AGNET_HW_METHODS], table), '')
  const unit = latency === 'flops' ? 'flops column, a proxy' : 'ms'
  if (points.length > 0) {
    input.write('fig4-limits.svg', await lineSvg({ title: `Fig. 4a: best feasible test accuracy against the limit (${device})`, subtitle: bench.label, xTitle: `latency limit L (${unit})`, yTitle: 'test accuracy % (mean of feasible runs)', points, zeroY: false }))
    lines.push('![Fig. 4a](fig4-limits.svg)', '')
  }
  const first = settings[0]
  const per = AGNET_HW_METHODS.map(m => rows.filter(r => r.method === m && r.limit === first.limit && r.latency_column === first.column && Array.isArray(r.feasible_per_iteration)).map(r => r.feasible_per_iteration as number[]))
  const iterations = Math.max(0, ...per.flat().map(b => b.length))
  if (iterations > 0) {
    lines.push(`(b) ${device}, L = ${first.limit}: feasible architectures among each iteration's queries (iteration 0: the initial random draws), mean over runs (runs that stopped short count 0 after their end).`, '')
    const fpts: Array<{ series: string, x: number, y: number }> = []
    const ftable: string[][] = []
    for (let it = 0; it < iterations; it++) {
      ftable.push([String(it), ...per.map((runs, k) => {
        if (runs.length === 0) return '—'
        const mean = runs.reduce((acc, b) => acc + (b[it] ?? 0), 0) / runs.length
        fpts.push({ series: AGNET_HW_METHODS[k], x: it, y: mean })
        return mean.toFixed(2)
      })])
    }
    lines.push(markdownTable(['iteration', ...AGNET_HW_METHODS], ftable), '')
    input.write('fig4-feasible.svg', await lineSvg({ title: `Fig. 4b: feasible architectures per iteration (${device}, L = ${first.limit})`, subtitle: bench.label, xTitle: 'iteration', yTitle: 'feasible of the queries (mean over runs)', points: fpts }))
    lines.push('![Fig. 4b](fig4-feasible.svg)', '')
  }
  return lines
}
