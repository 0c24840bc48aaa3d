// `nasrank reproduce sampling`: the efficient-sampling predictor loop (Mauch et al.) beside
// the search baselines on one bench, on the shared runner. Rows (variants): pb-whole (every
// unevaluated architecture scored each iteration), uniform / ML / evolutionary pools at
// N′ = 100, and random search, aging evolution and BANANAS — one cell per (variant, seed),
// each a runSearch, so every row obeys the harness's query accounting. The report: test
// accuracy of the incumbent at the checkpoints (mean ± sd, ± se), paired differences against
// aging evolution, the issue's quality targets (G1: pb-whole; G2: ev − uniform), and the
// sample-efficiency gain of every row at the targets J where M_S = 1, 10, 100 (G3), pooled over
// seeds, with its split into sampling (S → S′) and predictor (S′ → C) parts for the pools.
import { createHash } from 'node:crypto'
import { Bench } from '../bench/bench'
import { openBench } from '../bench/open'
import { removeRunCheckpoint, runSearch, searchedMetric, searchMethod, samplingLoop, samplingSettings, type SearchMethod, type SearchTrajectory, type SamplingIteration } from '../search'
import { type ResultRow } from './results'
import { benchDigest, benchKey, benchRef, reopenBench, preflightOut, runExperiment, stableJson, PlanError, type BenchRef, type Cell, type ProgressFn, type ReportInput, type RunOptions } from './runner'
import { csvText, markdownTable, meanSd } from '../report/table'
import { histogramSvg, lineSvg } from '../report/plots'
import { Reach, accuracyOf, bestSoFarCurves, errorOf, gainCurve, histogram, oracles, targetGrid } from './sampling-figures'
import { figureRows, type CliGcnSettings } from './sampling-args'
import * as fs from 'node:fs'
import * as path from 'node:path'

/** The figures --figure draws (one SVG each). */
export const SAMPLING_FIGURES = [2, 3, 4, 5, 6, 7, 8, 9, 10] as const
export const SAMPLING_OUTPUTS = ['report.md', 'results.csv', 'best-so-far.svg', ...SAMPLING_FIGURES.map(n => `fig${n}.svg`)] as const
/** Bumped when a cell's computation or rows change, so an older --out recomputes. */
const SAMPLING_PROTOCOL = 2
/** Pools up to this size are stored in the rows (the gain's S′; the issue: "stored if N′ ≤ 1000"). */
const STORED_POOL = 1000

/** The rows of the experiment by name. */
export const SAMPLING_VARIANTS = ['whole', 'uniform', 'ml', 'ev', 'rs', 're', 'bananas'] as const
export type SamplingVariant = typeof SAMPLING_VARIANTS[number]

/** The predictor-loop settings a run may change from the paper's (recorded in every row). */
export type GcnRunSettings = CliGcnSettings

export interface SamplingPlan extends RunOptions {
  bench: Bench | string
  dataset?: string
  /** Rows to run (default all of SAMPLING_VARIANTS, or what the figures need). */
  variants?: SamplingVariant[]
  /** Pool size N′ of uniform, ml and ev (default 100); `pools` gives several. */
  pool?: number
  /** Pool sizes N′ of the uniform, ml and ev rows, one row each; 'all' adds the pb-whole row. */
  pools?: Array<number | 'all'>
  /** The paper's figures to draw (2..10); they pick rows and pools when variants / pools are not given. */
  figures?: number[]
  /** Distinct architectures per search (default 150). */
  budget?: number
  /** Query counts of the table (default 50, 100, 150 up to the budget). */
  checkpoints?: number[]
  seeds?: number
  seedStart?: number
  /** Settings of the predictor loop other than the paper's (default: the paper's). */
  gcn?: GcnRunSettings
  /** BANANAS settings (default its paper's). */
  bananas?: Record<string, unknown>
  /** Checkpoint every iteration of a predictor-loop run under out/checkpoints (default true). */
  iterationCheckpoints?: boolean
  progress?: ProgressFn
}

/** One row of the report: a variant, and for the pool rows its N′. */
export interface SamplingSeries { key: string, variant: SamplingVariant, pool: number | null }

export interface SamplingSpec {
  bench: BenchRef
  series: SamplingSeries[]
  budget: number
  rowCheckpoints: number[]
  seeds: number
  seedStart: number
  gcn: GcnRunSettings
  bananas: Record<string, unknown>
  figures: number[]
  /** Folder of the per-iteration checkpoints (null: none). */
  checkpointDir: string | null
}

function fail (message: string): never { throw new PlanError(`reproduce sampling: ${message}`) }

function integer (value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(`${option} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${JSON.stringify(value)}`)
  return value
}

const POOLED = new Set<SamplingVariant>(['uniform', 'ml', 'ev'])

/** The search method of a row. */
function seriesMethod (s: SamplingSeries, spec: Pick<SamplingSpec, 'gcn' | 'bananas'>): SearchMethod {
  const v = s.variant
  if (v === 'rs' || v === 're') return searchMethod(v)
  if (v === 'bananas') return searchMethod('bananas', spec.bananas)
  return searchMethod('sampling', { sampler: v, ...(s.pool !== null ? { pool: s.pool } : {}), ...spec.gcn })
}

export function seriesLabel (s: SamplingSeries): string {
  const v = s.variant
  return v === 'whole' ? 'pb-whole' : s.pool !== null ? `${v} N′=${s.pool}` : v === 're' ? 're (aging evolution)' : v === 'rs' ? 'rs (random search)' : v
}

/** The rows and pool sizes of a plan: given, or what its figures need (docs/sampling.md). */
export function planSeries (plan: Pick<SamplingPlan, 'variants' | 'pool' | 'pools' | 'figures'>, size: number): SamplingSeries[] {
  const need = plan.figures !== undefined && plan.figures.length > 0 ? figureRows(plan.figures) : null
  let variants: SamplingVariant[] = [...(plan.variants ?? need?.rows ?? SAMPLING_VARIANTS)]
  const given = plan.pools ?? (plan.pool !== undefined ? [plan.pool] : undefined)
  const pools = (given ?? [100]).filter((p): p is number => p !== 'all')
  // A figure's sizes per row, less those at or above |S| (10000 on NAS-Bench-201's 15,625 stays).
  const poolsOf = (v: SamplingVariant): number[] => given === undefined && need !== null ? (need.pools[v] ?? [100]).filter(p => p < size) : pools
  if (given?.includes('all') === true && !variants.includes('whole')) variants = ['whole', ...variants]
  if (given !== undefined && !given.some(p => p !== 'all') && plan.variants === undefined) variants = variants.filter(v => !POOLED.has(v))
  const out: SamplingSeries[] = []
  for (const v of SAMPLING_VARIANTS.filter(x => variants.includes(x))) {
    if (POOLED.has(v)) for (const n of poolsOf(v)) out.push({ key: `${v}@${n}`, variant: v, pool: n })
    else out.push({ key: v, variant: v, pool: null })
  }
  return out
}

function checkPlan (plan: SamplingPlan): void {
  const variants = plan.variants ?? [...SAMPLING_VARIANTS]
  if (!Array.isArray(variants) || variants.length === 0) fail(`--rows: give at least one of ${SAMPLING_VARIANTS.join(', ')}`)
  const seen = new Set<string>()
  for (const v of variants) {
    if (!(SAMPLING_VARIANTS as readonly string[]).includes(v)) fail(`--rows: unknown row ${JSON.stringify(v)} (known: ${SAMPLING_VARIANTS.join(', ')})`)
    if (seen.has(v)) fail(`--rows: '${v}' is given twice`)
    seen.add(v)
  }
  let loop: ReturnType<typeof samplingSettings>
  try { loop = samplingSettings({ ...(plan.gcn ?? {}) }) } catch (err) { fail((err as Error).message) }
  integer(plan.seeds ?? 20, '--seeds', 1)
  integer(plan.seedStart ?? 0, '--seed-start', 0)
  const budget = integer(plan.budget ?? 150, '--budget', loop.initial + loop.k)
  for (const p of plan.pools ?? (plan.pool !== undefined ? [plan.pool] : [])) if (p !== 'all') integer(p, '--pool', loop.k)
  if (plan.figures !== undefined) {
    if (!Array.isArray(plan.figures)) fail('--figure: give a list of figure numbers')
    for (const f of plan.figures) if (!(SAMPLING_FIGURES as readonly number[]).includes(f)) fail(`--figure must be an integer in [2, 10], got ${JSON.stringify(f)}`)
  }
  if (plan.checkpoints !== undefined) {
    if (!Array.isArray(plan.checkpoints) || plan.checkpoints.length === 0) fail('--checkpoints: give at least one query count')
    plan.checkpoints.forEach((c, i) => {
      integer(c, `--checkpoints[${i}]`, 1, budget)
      if (i > 0 && c <= plan.checkpoints![i - 1]) fail(`--checkpoints must be strictly ascending, got ${plan.checkpoints!.join(',')}`)
    })
  }
  try { searchMethod('bananas', plan.bananas) } catch (err) { fail((err as Error).message) }
}

function shortHash (value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 10)
}

/** Captures the trajectory a method returns (the gain needs every evaluation, not only incumbents). */
function capturing (method: SearchMethod, its: SamplingIteration[] | null): { method: SearchMethod, trajectory: () => SearchTrajectory } {
  let last: SearchTrajectory | null = null
  const wrapped: SearchMethod = {
    name: method.name,
    settings: method.settings,
    run: async run => {
      last = its !== null && method.name === 'sampling'
        ? await samplingLoop(run, method.settings as ReturnType<typeof samplingSettings>, { iteration: it => its.push(it) })
        : await method.run(run)
      return last
    }
  }
  return { method: wrapped, trajectory: () => { if (last === null) throw new Error('no trajectory'); return last } }
}

function planCells (spec: SamplingSpec, bench: Bench, signal?: AbortSignal): Cell[] {
  const cells: Cell[] = []
  const searched = bench.column({ metric: searchedMetric(bench) })
  const test = bench.column({ metric: 'test' })
  const initial = samplingSettings(spec.gcn).initial
  for (const series of spec.series) {
    const method = seriesMethod(series, spec)
    const key = shortHash(method.settings)
    for (let seed = spec.seedStart; seed < spec.seedStart + spec.seeds; seed++) {
      const id = `sampling/${benchKey(bench)}/${series.variant}@${key}/budget${spec.budget}/q${shortHash(spec.rowCheckpoints).slice(0, 8)}/seed${seed}/v${SAMPLING_PROTOCOL}`
      cells.push({
        id,
        fields: { bench: bench.uri, bench_digest: benchDigest(bench), bench_synthetic: bench.synthetic },
        run: async () => {
          const its: SamplingIteration[] = []
          const checkpoint = spec.checkpointDir !== null && method.name === 'sampling' ? path.join(spec.checkpointDir, `${createHash('sha256').update(id).digest('hex').slice(0, 24)}.json`) : undefined
          const cap = capturing(method, its)
          const started = Date.now()
          const result = await runSearch(cap.method, bench, { budget: spec.budget, seed, checkpoints: spec.rowCheckpoints, ...(signal !== undefined ? { signal } : {}), ...(checkpoint !== undefined ? { checkpointFile: checkpoint } : {}) })
          const seconds = (Date.now() - started) / 1000
          const traj = cap.trajectory()
          const cVals = Array.from(traj.values.slice(initial))
          const stored = method.name === 'sampling' && series.pool !== null && series.pool <= STORED_POOL
          const poolVals = stored ? its.flatMap(it => it.pool === undefined ? [] : Array.from(it.pool, r => searched[r])) : null
          const toppedUp = its.reduce((s, it) => s + it.toppedUp, 0)
          if (checkpoint !== undefined) {
            removeRunCheckpoint(checkpoint)
            try { fs.rmdirSync(path.dirname(checkpoint)) } catch { /* other cells' checkpoints are still there */ }
          }
          return result.checkpoints.map((c, i) => ({
            variant: series.variant,
            pool: series.pool,
            method: result.method,
            seed,
            budget: spec.budget,
            queries: c.queries,
            val: c.val,
            test: c.test,
            searched_on: result.searchedOn,
            arch: c.arch,
            bench_row: c.row,
            settings: result.settings,
            search_seconds: seconds,
            // The gain's multisets and the figures' trajectories, once per cell (on its last row).
            ...(i === result.checkpoints.length - 1
              ? {
                  c_vals: cVals,
                  traj_val: Array.from(traj.values),
                  traj_test: Array.from(traj.rows, r => test[r]),
                  ...(method.name === 'sampling' ? { pool_vals: poolVals, topped_up: toppedUp, iterations: its.length } : {})
                }
              : {})
          }))
        }
      })
    }
  }
  return cells
}

export async function loadCells (spec: SamplingSpec): Promise<Cell[]> {
  return planCells(spec, await reopenBench(spec.bench))
}

export interface SamplingExperimentResult { ran: number, skipped: number, remaining: number, partial: boolean, reportFile: string, run: string }

/** Runs every (row, seed) cell not yet in `out/results.jsonl` and writes the report (resumable; jobs > 1 in worker threads). */
export async function runSamplingExperiment (plan: SamplingPlan): Promise<SamplingExperimentResult> {
  checkPlan(plan)
  preflightOut({ out: plan.out, outputs: SAMPLING_OUTPUTS, force: plan.force })
  let bench: Bench
  if (typeof plan.bench === 'string') {
    try { bench = await openBench(plan.bench, plan.dataset !== undefined ? { dataset: plan.dataset } : {}) } catch (err) { fail(`--bench ${plan.bench}: ${(err as Error).message}`) }
  } else if (plan.bench instanceof Bench) bench = plan.bench
  else fail('--bench: give a Bench or a bench uri')
  if (!bench.metrics.includes('test')) fail(`--bench ${bench.uri}: ${bench.name} has no test accuracy`)
  const budget = plan.budget ?? 150
  if (budget > bench.size) fail(`--budget ${budget} is above the size of the space (${bench.size})`)
  for (const p of plan.pools ?? (plan.pool !== undefined ? [plan.pool] : [])) if (p !== 'all' && p >= bench.size) fail(`--pool ${p} must be below the size of the space (${bench.size}); --pool all is the pb-whole row`)
  const series = planSeries(plan, bench.size)
  if (series.length === 0) fail('no rows to run (--pool sizes all at or above the size of the space?)')
  const checkpoints = plan.checkpoints !== undefined ? [...plan.checkpoints] : [...[50, 100, 150].filter(c => c < budget), budget]
  const curve = Array.from({ length: 15 }, (_, k) => Math.max(1, Math.round((budget * (k + 1)) / 15)))
  const spec: SamplingSpec = {
    bench: benchRef(bench, plan.dataset),
    series,
    budget,
    rowCheckpoints: [...new Set([...checkpoints, ...curve])].sort((a, b) => a - b),
    seeds: plan.seeds ?? 20,
    seedStart: plan.seedStart ?? 0,
    gcn: { ...(plan.gcn ?? {}) },
    bananas: { ...(plan.bananas ?? {}) },
    figures: [...(plan.figures ?? [])].sort((a, b) => a - b),
    checkpointDir: plan.iterationCheckpoints === false ? null : path.resolve(plan.out, 'checkpoints')
  }
  return await runExperiment({ ...plan, outputs: SAMPLING_OUTPUTS }, () => ({
    cells: planCells(spec, bench, plan.signal),
    spec: { module: 'sampling', data: spec },
    settings: { ...spec, checkpointDir: undefined, checkpoints }, // the checkpoint folder is not a setting: results do not depend on it
    report: async input => await writeReport(input, bench, spec, checkpoints)
  }))
}

// ---- gains ---------------------------------------------------------------------------------

/**
 * Gain of Eq. 15 over pooled multisets (values: higher is better): E[τ] = (n + 1)/(M + 1) with
 * M the members reaching the target; 10·log10(E_S / E_C) in dB. Pooling over runs makes C and
 * S′ multisets that may hold an architecture more often than S does, which
 * sampleEfficiencyGain refuses; the formula is the same (a test checks it against the native one).
 */
export function pooledGainDb (space: ArrayLike<number>, candidates: ArrayLike<number>, target: number): number {
  return 10 * Math.log10(expectedTrials(space, target) / expectedTrials(candidates, target))
}

export function expectedTrials (values: ArrayLike<number>, target: number): number {
  return (values.length + 1) / (reaching(values, target) + 1)
}

/** How many values reach the target (≥). */
export function reaching (values: ArrayLike<number>, target: number): number {
  let m = 0
  for (let i = 0; i < values.length; i++) if (values[i] >= target) m++
  return m
}

/** Targets (accuracies) reached by exactly the best M architectures of S, for each M (ties: the M-th value). */
export function targetsAt (space: ArrayLike<number>, counts: number[]): number[] {
  const sorted = Float64Array.from(space).filter(Number.isFinite).sort().reverse()
  return counts.map(m => sorted[Math.min(m, sorted.length) - 1])
}

// ---- report --------------------------------------------------------------------------------

/** The report row of a result row: its variant, and N′ for the pool rows. */
function rowKey (r: ResultRow): string {
  return typeof r.pool === 'number' ? `${String(r.variant)}@${r.pool}` : String(r.variant)
}

function stats (values: number[]): { mean: number, sd: number, se: number, n: number } {
  const { mean, sd, n } = meanSd(values)
  return { mean, sd, se: n > 0 ? sd / Math.sqrt(n) : NaN, n }
}

/** G1 targets of pb-whole (test accuracy at q = 50 and 100) per dataset. */
const G1: Record<string, { q50: number, q100: number, re: [number, number] }> = {
  cifar10: { q50: 94.25, q100: 94.30, re: [93.87, 94.10] },
  cifar100: { q50: 73.0, q100: 73.4, re: [71.81, 72.58] }
}

function datasetOf (bench: Bench, given: string | undefined): string {
  if (given !== undefined) return given
  if (bench.synthetic) return 'synthetic'
  return /nb201-(.+?)-hp\d+/.exec(bench.uri)?.[1] ?? /\((cifar10|cifar100|ImageNet16-120)\)/.exec(bench.name)?.[1] ?? 'unknown'
}

async function writeReport (input: ReportInput, bench: Bench, spec: SamplingSpec, checkpoints: number[]): Promise<string> {
  const rows = input.rows
  const f = (x: number, d = 2): string => Number.isFinite(x) ? x.toFixed(d) : '—'
  const at = (v: string, q: number): ResultRow[] => rows.filter(r => rowKey(r) === v && r.queries === q)
  const shown = spec.series.filter(s => rows.some(r => rowKey(r) === s.key))
  const variants = shown.map(s => s.key)
  const labelOf = new Map(spec.series.map(s => [s.key, seriesLabel(s)]))
  const label = (key: string): string => labelOf.get(key) ?? key
  const initial = samplingSettings(spec.gcn).initial
  const dataset = datasetOf(bench, spec.bench.dataset)
  const gcn = samplingSettings(spec.gcn)
  const paperGcn = samplingSettings({})
  const changed = (Object.keys(spec.gcn) as Array<keyof GcnRunSettings>).filter(k => spec.gcn[k] !== undefined && spec.gcn[k] !== paperGcn[k])
  const lines = ['# Efficient sampling for predictor-based NAS (Mauch et al.)', '', input.header,
    `Benchmark: **${bench.label}**${bench.synthetic ? ' — SYNTHETIC numbers, not comparable to published results.' : ''} (bench digest ${benchDigest(bench).slice(0, 16)}); ` +
    `budget ${spec.budget} distinct architectures per search, searched on ${String(rows[0]?.searched_on ?? searchedMetric(bench))} accuracy, reported: test accuracy of the incumbent; seeds ${spec.seedStart}–${spec.seedStart + spec.seeds - 1}.`, '',
    `Predictor loop: T₀ = ${gcn.initial}, K = ${gcn.k}; GCN ${gcn.layers} × ${gcn.width} units, ${gcn.epochs} SGD steps per iteration (lr ${gcn.lr}, momentum ${gcn.momentum}, cosine), ML ${gcn.mlSteps} Adam steps at ${gcn.mlLr}, ev P = ${gcn.parents}, α = ${gcn.alpha}, p_mutate = ${gcn.pMutate}.` +
    (changed.length > 0 ? ` **Not the paper's settings:** ${changed.map(k => `${k} ${String(spec.gcn[k])} (paper ${String(paperGcn[k])})`).join(', ')} — chosen for CPU time; the paper's are the defaults.` : ' These are the paper\'s settings.'), '']
  const cols = checkpoints.map(q => `${q} queries`)
  lines.push('## Test accuracy of the incumbent', '', 'Mean ± sd (± se) over seeds; s/run: mean wall time of one search.', '')
  lines.push(markdownTable(['Row', 'Seeds', ...cols, 's/run'], variants.map(v => [
    label(v), String(new Set(rows.filter(r => rowKey(r) === v).map(r => r.seed)).size),
    ...checkpoints.map(q => { const s = stats(at(v, q).map(r => r.test as number)); return s.n === 0 ? '—' : `${f(s.mean)} ± ${f(s.sd)} (± ${f(s.se)})` }),
    f(stats(at(v, checkpoints[0]).map(r => r.search_seconds as number)).mean, 1)
  ])))

  const paired = (a: string, b: string, q: number): { mean: number, se: number, n: number } => {
    const mine = new Map(at(a, q).map(r => [r.seed, r.test as number]))
    const diffs = at(b, q).filter(r => mine.has(r.seed)).map(r => (mine.get(r.seed) as number) - (r.test as number))
    return stats(diffs)
  }
  const fmtDiff = (s: { mean: number, se: number, n: number }): string => s.n === 0 ? '—' : `${s.mean >= 0 ? '+' : ''}${f(s.mean)} ± ${f(s.se)} (${s.n})`
  if (variants.includes('re')) {
    lines.push('## Paired differences against aging evolution', '', 'Test accuracy minus re\'s on the same seed; mean ± se (seeds).', '')
    lines.push(markdownTable(['Row', ...cols], variants.filter(v => v !== 're').map(v => [`${label(v)} − re`, ...checkpoints.map(q => fmtDiff(paired(v, 're', q)))])))
  }

  lines.push('## Quality targets', '')
  const g1 = G1[dataset]
  if (variants.includes('whole') && g1 !== undefined) {
    const q50 = stats(at('whole', 50).map(r => r.test as number))
    const q100 = stats(at('whole', 100).map(r => r.test as number))
    lines.push(`- **G1** (pb-whole well above aging evolution; the issue's re figures ${g1.re[0]} / ${g1.re[1]} at 50 / 100): target ≥ ${g1.q50} at q = 50 and ≥ ${g1.q100} at q = 100. ` +
      `Measured ${f(q50.mean)} ± ${f(q50.se)} and ${f(q100.mean)} ± ${f(q100.se)} → ${q50.n === 0 || q100.n === 0 ? 'not measured' : q50.mean >= g1.q50 && q100.mean >= g1.q100 ? 'met' : 'not met'}.`)
  } else lines.push(`- G1: the targets are for real NB-201 CIFAR-10 / CIFAR-100 with the pb-whole row (this run: ${dataset}${variants.includes('whole') ? '' : ', no pb-whole'}).`)
  const g2 = shown.filter(s => s.variant === 'ev' && variants.includes(`uniform@${String(s.pool)}`))
  if (g2.length > 0) {
    const q2 = [...spec.rowCheckpoints].reverse().find(q => q <= 100) ?? spec.rowCheckpoints[0]
    lines.push(`- **G2** (the paper: ev ≥ uniform at equal N′; the issue's q = 100): ev − uniform at q = ${q2} (paired, mean ± se): ${g2.map(s => `N′ = ${String(s.pool)}: ${fmtDiff(paired(s.key, `uniform@${String(s.pool)}`, q2))}`).join('; ')}.`)
  }
  lines.push('- Anchors (other papers, search on validation): AG-Net 94.24 (CIFAR-10, 96 queries) / 73.12 (CIFAR-100); random search 93.89 / 72.07 at 192; optimum 94.37 / 73.51.', '')

  // G3: gains at the targets J where M_S = 1, 10, 100.
  const space = bench.column({ metric: searchedMetric(bench) })
  const ms = [1, 10, 100]
  const targets = targetsAt(space, ms)
  lines.push('## Sample-efficiency gain (G3)', '',
    `Eq. 15 at the targets J (validation accuracy reached by the best M_S architectures of S, |S| = ${space.length}): gain = 10·log10(E_S[τ]/E_C[τ]) dB, E[τ] = (n+1)/(M+1); ` +
    `C = every evaluation after the first ${initial} of each run, pooled over seeds; for the pools, the split S → S′ (sampling) + S′ → C (predictor), S′ = the pooled pools; M_C = evaluations in C reaching J. ` +
    `With M_C = 0 the gain is not 0 but 10·log10(E_S/(|C|+1)) — read it as "J not reached". ` +
    `Ceiling 10·log10((|S|+1)/(M_S+1)): ${ms.map(m => f(10 * Math.log10((space.length + 1) / (m + 1)), 1)).join(' / ')} dB. ` +
    'The paper (NB-101, text only): about 50 dB for J < 0.05 error with N′ = |S|, about 25 dB lower at N′ = 100; ML about 30, uniform about 25 and ev approaching 50 dB for J < 0.05 at N′ ≤ 1000.', '')
  const gainRows: string[][] = []
  for (const v of variants) {
    const last = rows.filter(r => rowKey(r) === v && Array.isArray(r.c_vals))
    if (last.length === 0) continue
    const c = last.flatMap(r => r.c_vals as number[])
    const pools = last.flatMap(r => Array.isArray(r.pool_vals) ? r.pool_vals as number[] : [])
    gainRows.push([label(v), String(last.length), String(c.length), ...targets.map(t => {
      const g = pooledGainDb(space, c, t)
      const split = pools.length > 0 ? ` (${f(pooledGainDb(space, pools, t), 1)} + ${f(10 * Math.log10(expectedTrials(pools, t) / expectedTrials(c, t)), 1)})` : ''
      return `${f(g, 1)}${split} [M_C = ${reaching(c, t)}]`
    })])
  }
  lines.push(markdownTable(['Row', 'Runs', '|C|', ...targets.map((t, i) => `J: val ≥ ${f(t, 2)} (M_S = ${ms[i]})`)], gainRows), '')
  const toppedUp = rows.filter(r => typeof r.topped_up === 'number' && (r.topped_up as number) > 0)
  if (toppedUp.length > 0) lines.push(`Pools topped up uniformly (sampler short of K): ${toppedUp.map(r => `${String(r.variant)} seed ${String(r.seed)}: ${String(r.topped_up)}`).join('; ')}.`, '')

  const points = variants.flatMap(v => spec.rowCheckpoints.map(q => {
    const s = stats(at(v, q).map(r => r.test as number))
    return s.n === 0 ? undefined : { series: label(v), x: q, y: s.mean, sd: s.n > 1 ? s.se : 0 }
  })).filter((p): p is { series: string, x: number, y: number, sd: number } => p !== undefined)
  if (points.length > 0) {
    input.write('best-so-far.svg', await lineSvg({ title: 'Best-so-far test accuracy (mean ± se over seeds)', subtitle: bench.label, xTitle: 'queries (distinct architectures)', yTitle: 'test accuracy of the incumbent', points }))
    lines.push('## Best-so-far curves', '', '![Best-so-far test accuracy vs queries](best-so-far.svg)', '')
  }
  lines.push(...await writeFigures(input, bench, spec, label, rowKey))
  input.write('results.csv', csvText(['variant', 'pool', 'seed', 'queries', 'val', 'test', 'arch', 'search_seconds'],
    rows.map(r => [String(r.variant), typeof r.pool === 'number' ? r.pool : '', r.seed as number, r.queries as number, r.val as number, r.test as number, String(r.arch), r.search_seconds as number])))
  return input.write('report.md', lines.join('\n') + '\n')
}

// ---- figures (--figure) ----------------------------------------------------------------------

/** The paper's text figures (no numbers tables in the paper), printed beside ours. */
const PAPER_TEXT: Record<number, string> = {
  2: 'Paper (NB-101): q(J_v) of uniform pools moves towards low error as N′ grows; the whole space (N′ = |S|) concentrates C at the lowest errors.',
  3: 'Paper (NB-101, Fig 3): about 50 dB for J < 0.05 at N′ = |S|; gain(0.05) about 25 dB lower at N′ = 100 (a factor of 300); unchanged for J > 0.07.',
  4: 'Paper (Figs 4/5): N′ = |S| and 10000 approach the validation oracle, 1000 and 100 do not; "all runs converged to the validation oracle after … about 1400" evaluations.',
  5: 'Paper (Figs 4/5): N′ = |S| and 10000 approach the validation oracle, 1000 and 100 do not.',
  6: 'Paper (Fig 6): the ML and ev pools put more of C at low error than a uniform pool of the same N′.',
  7: 'Paper (Fig 7): for J < 0.05, ML about 30 dB, uniform about 25, ev approaching 50; ML slightly below uniform for J > 0.05.',
  8: 'Paper (Fig 8): gain_e (sampling, S → S′) high for J > 0.05; gain_p (predictor, S′ → C) large below it.',
  9: 'Paper (Figs 9/10): ML ≈ uniform, ev ≈ N′ = |S| in best validation error vs evaluations.',
  10: 'Paper (Figs 9/10): ML ≈ uniform, ev ≈ N′ = |S| in test error at the best validation.'
}

/** The report rows a figure shows (by key), among those with trajectories. */
function figureKeys (fig: number, spec: SamplingSpec, have: Set<string>): string[] {
  const s = spec.series.filter(x => have.has(x.key))
  if (fig <= 5) return s.filter(x => x.variant === 'whole' || x.variant === 'uniform' || x.variant === 'rs').map(x => x.key)
  if (fig === 8) return s.filter(x => x.pool !== null && x.pool <= STORED_POOL).map(x => x.key)
  const pools = new Set(s.filter(x => x.variant === 'ml' || x.variant === 'ev').map(x => x.pool))
  return s.filter(x => x.variant === 'ml' || x.variant === 'ev' || x.variant === 'rs' || (x.variant === 'uniform' && pools.has(x.pool))).map(x => x.key)
}

/** The figures section of report.md (and its SVGs) for the figures of the plan. */
async function writeFigures (input: ReportInput, bench: Bench, spec: SamplingSpec, label: (key: string) => string, rowKeyOf: (r: ResultRow) => string): Promise<string[]> {
  const lines: string[] = []
  if (spec.figures.length === 0) return lines
  const scale = bench.scale
  const searched = searchedMetric(bench)
  const valCol = bench.column({ metric: searched })
  const testCol = bench.column({ metric: 'test' })
  const S = new Reach(valCol)
  const initial = samplingSettings(spec.gcn).initial
  const runsOf = new Map<string, ResultRow[]>()
  for (const r of input.rows) {
    if (!Array.isArray(r.traj_val)) continue
    const k = rowKeyOf(r)
    runsOf.set(k, [...(runsOf.get(k) ?? []), r])
  }
  const have = new Set(runsOf.keys())
  const f = (x: number, d = 1): string => Number.isFinite(x) ? x.toFixed(d) : '—'
  const orc = oracles(valCol, testCol, scale)
  // The targets of the tables: J where M_S = 1, 10, …, 10⁴ (within |S|), then 0.05 and 0.07.
  const msList = [1, 10, 100, 1000, 10000].filter(m => m <= S.size)
  const targets = [...msList.map(m => ({ head: `M_S=${m}`, j: errorOf(S.atRank(m), scale) })), { head: 'J=0.05', j: 0.05 }, { head: 'J=0.07', j: 0.07 }]
  const grid = targetGrid(S, scale)
  const reaches = (rows: ResultRow[]): { c: Reach, pools: Reach | null } => {
    const pooled = rows.flatMap(r => Array.isArray(r.pool_vals) ? r.pool_vals as number[] : [])
    return { c: new Reach(rows.flatMap(r => (r.traj_val as number[]).slice(initial))), pools: pooled.length > 0 ? new Reach(pooled) : null }
  }
  lines.push('## Figures (Mauch et al. Figs 2–10)', '',
    `J = 1 − ${searched} accuracy (error). S = the whole ${searched} column (|S| = ${S.size}); C = every evaluation after the first ${initial} of each run, pooled over seeds as a multiset; S′ = the pooled pools (stored for N′ ≤ ${STORED_POOL}). ` +
    `Oracles: best ${searched} error ${f(orc.valOracleVal, 4)} (its test error ${f(orc.valOracleTest, 4)}); best test error ${f(orc.testOracleTest, 4)} (its ${searched} error ${f(orc.testOracleVal, 4)}). ` +
    `Table columns: J where M_S (architectures of S reaching J) = ${msList.join(', ')}, and J = 0.05, 0.07: ${targets.map(t => `${t.head}: J = ${f(t.j, 4)}`).join('; ')}. Ceiling 10·log10((|S|+1)/(M_S+1)) dB: ${targets.map(t => f(10 * Math.log10((S.size + 1) / (S.count(accuracyOf(t.j, scale)) + 1)))).join(' / ')}.`, '')
  for (const fig of spec.figures) {
    const keys = figureKeys(fig, spec, have)
    const head = `### Fig ${fig}`
    if (keys.length === 0) { lines.push(head, '', `No rows for this figure in this run (it needs ${fig <= 5 ? 'pb-whole, uniform or rs' : fig === 8 ? 'uniform, ml or ev rows with N′ ≤ ' + String(STORED_POOL) : 'ml or ev'} rows).`, ''); continue }
    const file = `fig${fig}.svg`
    const sub = `${bench.label}${bench.synthetic ? ' (SYNTHETIC)' : ''}; ${spec.seeds} seeds, budget ${spec.budget}`
    if (fig === 2 || fig === 6) {
      const hi = errorOf(S.atRank(Math.ceil(S.size / 2)), scale)
      const lo = errorOf(S.atRank(1), scale)
      const series = [{ series: 'S (whole space)', ...histogram(Array.from(valCol, v => errorOf(v, scale)), lo, hi, 30), total: S.size }]
      const tab: string[][] = [['S (whole space)', String(S.size), ...[0.05, 0.07].map(j => f(100 * S.count(accuracyOf(j, scale)) / S.size, 2)), f(100 * (1 - series[0].outside / S.size), 1)]]
      for (const k of keys) {
        const c = runsOf.get(k)!.flatMap(r => (r.traj_val as number[]).slice(initial))
        const h = histogram(c.map(v => errorOf(v, scale)), lo, hi, 30)
        series.push({ series: label(k), ...h, total: c.length })
        const cr = new Reach(c)
        tab.push([label(k), String(c.length), ...[0.05, 0.07].map(j => f(100 * cr.count(accuracyOf(j, scale)) / Math.max(1, c.length), 2)), f(100 * (1 - h.outside / Math.max(1, c.length)), 1)])
      }
      input.write(file, await histogramSvg({ title: `Fig ${fig}: q(J_v) of the evaluated architectures`, subtitle: sub, xTitle: `J_v (${searched} error)`, yTitle: 'fraction', series, normalize: true }))
      lines.push(head, '', `![Fig ${fig}](${file})`, '', markdownTable(['Set', 'n', '% with J_v ≤ 0.05', '% ≤ 0.07', `% in the plotted range (the better half of S, J_v ≤ ${f(hi, 4)})`], tab), '')
    } else if (fig === 3 || fig === 7 || fig === 8) {
      const points: Array<{ series: string, x: number, y: number }> = []
      const tab: string[][] = []
      for (const k of keys) {
        const runs = runsOf.get(k)!
        const { c, pools } = reaches(runs)
        for (const p of gainCurve(S, c, pools, grid, scale)) {
          if (fig === 8) {
            if (p.gainE !== undefined) points.push({ series: `${label(k)} gain_e`, x: p.j, y: p.gainE }, { series: `${label(k)} gain_p`, x: p.j, y: p.gainP! })
          } else points.push({ series: label(k), x: p.j, y: p.gain })
        }
        const at = gainCurve(S, c, pools, targets.map(t => t.j), scale)
        if (fig === 8) {
          tab.push([label(k), ...at.map(p => p.gainE === undefined ? '—' : `${f(p.gainE)} + ${f(p.gainP!)} = ${f(p.gain)}`)])
        } else {
          // Per run: one run's C against S (mean ± sd over runs).
          const per = targets.map(t => meanSd(runs.map(r => gainCurve(S, new Reach((r.traj_val as number[]).slice(initial)), null, [t.j], scale)[0].gain)))
          tab.push([label(k), ...at.map((p, i) => `${f(p.gain)} (${f(per[i].mean)} ± ${f(per[i].sd)}) [M_C ${p.mc}]`)])
        }
      }
      if (fig !== 8) {
        for (const j of grid) points.push({ series: 'ceiling', x: j, y: 10 * Math.log10((S.size + 1) / (S.count(accuracyOf(j, scale)) + 1)) })
        tab.push(['ceiling', ...targets.map(t => f(10 * Math.log10((S.size + 1) / (S.count(accuracyOf(t.j, scale)) + 1))))])
      }
      input.write(file, await lineSvg({ title: fig === 8 ? 'Fig 8: gain_e (S → S′) and gain_p (S′ → C) vs J' : `Fig ${fig}: sample-efficiency gain vs J (pooled)`, subtitle: sub, xTitle: `J (${searched} error)`, yTitle: 'gain (dB)', points }))
      lines.push(head, '', `![Fig ${fig}](${file})`, '',
        fig === 8 ? 'gain_e + gain_p = gain (Eq. 16–17), dB, pooled; "—": pools not stored.' : 'Pooled gain in dB (per-run gain, mean ± sd over runs) [M_C: evaluations in C reaching J].', '',
        markdownTable(['Row', ...targets.map(t => `${t.head} (J ${f(t.j, 4)})`)], tab), '')
    } else {
      const which = fig === 4 || fig === 9 ? 'val' : 'test'
      const points: Array<{ series: string, x: number, y: number, sd?: number }> = []
      const at = [...new Set([initial, Math.round(spec.budget / 4), Math.round(spec.budget / 2), spec.budget])].filter(e => e >= 1)
      const tab: string[][] = []
      for (const k of keys) {
        const runs = runsOf.get(k)!.map(r => ({ val: r.traj_val as number[], test: r.traj_test as number[] }))
        const curve = bestSoFarCurves(runs, scale)[which]
        const step = Math.max(1, Math.floor(curve.length / 60))
        for (const p of curve) if ((p.x - 1) % step === 0 || p.x === curve.length) points.push({ series: label(k), x: p.x, y: p.mean, sd: p.sd })
        tab.push([label(k), ...at.map(e => { const p = curve[e - 1]; return p === undefined ? '—' : `${f(p.mean, 4)} ± ${f(p.sd, 4)}` })])
      }
      const oracleLines: Array<[string, number]> = which === 'val'
        ? [['validation oracle', orc.valOracleVal], ['test oracle (its val error)', orc.testOracleVal]]
        : [['validation oracle (its test error)', orc.valOracleTest], ['test oracle', orc.testOracleTest]]
      for (const [name, y] of oracleLines) { points.push({ series: name, x: 1, y }, { series: name, x: spec.budget, y }); tab.push([name, ...at.map(() => f(y, 4))]) }
      input.write(file, await lineSvg({ title: which === 'val' ? `Fig ${fig}: best ${searched} error vs evaluations (mean ± sd)` : `Fig ${fig}: test error at the best ${searched} vs evaluations (mean ± sd)`, subtitle: sub, xTitle: 'evaluations', yTitle: which === 'val' ? `best ${searched} error` : 'test error at the best validation', points }))
      lines.push(head, '', `![Fig ${fig}](${file})`, '', markdownTable(['Row', ...at.map(e => `${e} evaluations`)], tab), '')
    }
    lines.push(`- ${PAPER_TEXT[fig]}${bench.synthetic ? ' (Ours above is SYNTHETIC: compare shapes, not levels.)' : bench.space === 'nb201' ? ' (Ours above is NAS-Bench-201: compare shapes, not levels.)' : ''}`, '')
  }
  return lines
}
