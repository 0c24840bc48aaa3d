// The search experiment (issue 17, section 4): search methods (rs, re, ls, bananas) × seeds on
// one bench, on the shared runner. One cell per (method, seed) runs runSearch; its rows are
// the incumbent at each checkpoint (one row per method, seed and checkpoint). The report:
// test accuracy of the incumbent per method and checkpoint (mean ± sd, ± se over seeds),
// paired differences against the first method, regret against the bench's best test
// accuracy, and best-so-far curves (mean ± se bands) of all methods in one SVG.
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Bench } from '../bench/bench'
import { openBench } from '../bench/open'
import { removeRunCheckpoint, runSearch, searchedMetric, searchMethod, SEARCH_METHODS } from '../search'
import { type ResultRow } from './results'
import { benchDigest, benchKey, benchRef, reopenBench, preflightOut, runExperiment, stableJson, PlanError, type BenchRef, type Cell, type RunResult, type ProgressFn, type ReportInput, type RunOptions } from './runner'
import { csvText, markdownTable, meanSd } from '../report/table'
import { lineSvg } from '../report/plots'

/** Default checkpoints (query counts), clipped to the budget, which is always one. */
export const DEFAULT_CHECKPOINTS = Object.freeze([25, 50, 100, 150, 200])
export const SEARCH_OUTPUTS = ['report.md', 'results.csv', 'best-so-far.svg'] as const
/** Bumped when a search cell's computation or rows change, so an older --out recomputes. */
const SEARCH_PROTOCOL = 1

export interface SearchPlan extends RunOptions {
  /** Search methods by name (SEARCH_METHODS: rs, re, ls, bananas); the first is the baseline of the paired differences. */
  methods: string[]
  /** The bench: opened, or a uri (opened after --out is checked, with `dataset`). Workers reopen it by uri. */
  bench: Bench | string
  /** Dataset of a NAS-Bench-201 folder or list holding several (openBench's dataset option). */
  dataset?: string
  /** Distinct architectures each search may query (default 200). */
  budget?: number
  /** Query counts the table reports (default 25, 50, 100, 150, 200 below the budget, and the budget). */
  checkpoints?: number[]
  /** Points of the best-so-far curves, evenly spaced up to the budget (default 20). */
  curvePoints?: number
  /** Seeds per method (default 20), from seedStart (default 0). */
  seeds?: number
  seedStart?: number
  /** Training budget of the searched results (default the bench's largest). */
  epochs?: number
  /** Settings per method (e.g. { bananas: { ensemble: 3 } }); validated by each method. */
  methodSettings?: Record<string, Record<string, unknown>>
  progress?: ProgressFn
}

/** The plan as data: what a worker thread (or a queue consumer) rebuilds the cells from. */
export interface SearchSpec {
  bench: BenchRef
  methods: string[]
  methodSettings: Record<string, Record<string, unknown>>
  budget: number
  /** Every query count a row is written for (the table's checkpoints and the curve's points). */
  rowCheckpoints: number[]
  seeds: number
  seedStart: number
  epochs?: number
  /** Where methods that checkpoint (ctnas) keep each running cell's state: out/checkpoints (not a setting: results do not depend on it). */
  checkpointDir?: string
}

interface Resolved { spec: SearchSpec, checkpoints: number[], bench: Bench }

function fail (message: string): never { throw new PlanError(`search: ${message}`) }

function integer (value: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${option} must be an integer in [${min}, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}], got ${JSON.stringify(value)}`)
  }
  return value
}

/** Checks of the plan that need no bench: methods, seeds, budget and checkpoints as numbers. */
function checkPlanShape (plan: SearchPlan): void {
  if (!Array.isArray(plan.methods) || plan.methods.length === 0) fail(`--method: give at least one search method (known: ${Object.keys(SEARCH_METHODS).join(', ')})`)
  const seen = new Set<string>()
  for (const m of plan.methods) {
    if (typeof m !== 'string' || !Object.prototype.hasOwnProperty.call(SEARCH_METHODS, m)) fail(`--method: unknown search method ${JSON.stringify(m)} (known: ${Object.keys(SEARCH_METHODS).join(', ')})`)
    if (seen.has(m)) fail(`--method: '${m}' is given twice`)
    seen.add(m)
  }
  for (const name of Object.keys(plan.methodSettings ?? {})) {
    if (!seen.has(name)) fail(`methodSettings: '${name}' is not among the methods of this plan (${plan.methods.join(', ')})`)
  }
  for (const m of plan.methods) {
    try { searchMethod(m, plan.methodSettings?.[m]) } catch (err) { fail(`settings of '${m}': ${(err as Error).message}`) }
  }
  integer(plan.seeds ?? 20, '--seeds', 1)
  integer(plan.seedStart ?? 0, '--seed-start', 0)
  const budget = integer(plan.budget ?? 200, '--budget', 1)
  integer(plan.curvePoints ?? 20, 'curvePoints', 0, 1000)
  if (plan.checkpoints !== undefined) {
    if (!Array.isArray(plan.checkpoints) || plan.checkpoints.length === 0) fail('--checkpoints: give at least one query count')
    plan.checkpoints.forEach((c, i) => {
      integer(c, `--checkpoints[${i}]`, 1)
      if (c > budget) fail(`--checkpoints: ${c} is above the budget (--budget ${budget}); checkpoints are query counts up to the budget`)
      if (i > 0 && c <= plan.checkpoints![i - 1]) fail(`--checkpoints must be strictly ascending, got ${plan.checkpoints!.join(',')}`)
    })
  }
  if (plan.epochs !== undefined) integer(plan.epochs, '--epochs', 1)
}

/** The dataset a bench holds, from the plan, its file names or its name; 'synthetic' for the teacher. */
function datasetOf (bench: Bench, given: string | undefined): string {
  if (given !== undefined) return given
  if (bench.synthetic) return 'synthetic'
  const fromFile = /nb201-(.+?)-hp\d+\.(?:csv|arrow)/.exec(bench.uri) ?? /\((cifar10|cifar100|ImageNet16-120|[\w-]+)\)$/.exec(bench.name) ?? /^NAS-Bench-201 (\S+) \(hp/.exec(bench.name)
  return fromFile?.[1] ?? bench.space
}

/** Checks against the bench and fills the defaults. */
function resolve (plan: SearchPlan, bench: Bench): Resolved {
  const budget = plan.budget ?? 200
  if (budget > bench.size) fail(`--budget ${budget} is above the size of the space: ${bench.label} has ${bench.size} architectures`)
  try { searchedMetric(bench, 'search') } catch { fail(`--bench ${bench.uri}: ${bench.name} has neither validation ('val') nor test accuracy to search on (metrics: ${bench.metrics.join(', ') || 'none'})`) }
  if (!bench.metrics.includes('test')) fail(`--bench ${bench.uri}: ${bench.name} has no test accuracy, which the report reads for the picked architectures (metrics: ${bench.metrics.join(', ')})`)
  for (const name of plan.methods) {
    const spaces = searchMethod(name, plan.methodSettings?.[name]).spaces
    if (spaces !== undefined && !spaces.includes(bench.space)) fail(`--method ${name} runs on ${spaces.join(', ')} benches; ${bench.label} is ${bench.space}`)
  }
  if (plan.epochs !== undefined && !bench.epochs.includes(plan.epochs)) fail(`--epochs ${plan.epochs}: ${bench.name} has results at epochs ${bench.epochs.join(', ')}`)
  const pool = plan.methodSettings?.sampling?.pool
  if (plan.methods.includes('sampling') && typeof pool === 'number' && pool >= bench.size) fail(`--pool ${pool} must be below the size of the space (${bench.label} has ${bench.size} architectures); --pool all scores every one`)
  const checkpoints = plan.checkpoints !== undefined ? [...plan.checkpoints] : [...DEFAULT_CHECKPOINTS.filter(c => c < budget), budget]
  const curve = plan.curvePoints ?? 20
  const rowCheckpoints = [...new Set([...checkpoints, ...Array.from({ length: curve }, (_, k) => Math.max(1, Math.round((budget * (k + 1)) / curve)))])].sort((a, b) => a - b)
  return {
    bench,
    checkpoints,
    spec: {
      bench: benchRef(bench, plan.dataset),
      methods: [...plan.methods],
      methodSettings: plan.methodSettings ?? {},
      budget,
      rowCheckpoints,
      seeds: plan.seeds ?? 20,
      seedStart: plan.seedStart ?? 0,
      ...(plan.epochs !== undefined ? { epochs: plan.epochs } : {})
    }
  }
}

/** The best test accuracy of the space (at the bench's largest budget), for regret. */
function optimumTest (bench: Bench): number {
  let best = -Infinity
  for (let row = 0; row < bench.size; row++) {
    try { best = Math.max(best, bench.lookup([row], { metric: 'test' }, 'search')[0]) } catch { /* not measured */ }
  }
  bench.resetQueries()
  return best
}

function shortHash (value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 10)
}

/** One cell per (method, seed), in method-major order. */
function planCells (spec: SearchSpec, bench: Bench, signal?: AbortSignal): Cell[] {
  const optimum = optimumTest(bench)
  const dataset = datasetOf(bench, spec.bench.dataset)
  const cells: Cell[] = []
  for (const name of spec.methods) {
    const method = searchMethod(name, spec.methodSettings[name])
    const settingsKey = shortHash(method.settings)
    for (let seed = spec.seedStart; seed < spec.seedStart + spec.seeds; seed++) {
      const id = `search/${benchKey(bench)}/ep${spec.epochs ?? 'max'}/${name}@${settingsKey}/budget${spec.budget}/q${spec.rowCheckpoints.length}-${shortHash(spec.rowCheckpoints).slice(0, 8)}/seed${seed}/v${SEARCH_PROTOCOL}`
      cells.push({
        id,
        fields: { bench: bench.uri, bench_digest: benchDigest(bench), bench_synthetic: bench.synthetic },
        run: async () => {
          const started = Date.now()
          const checkpointFile = spec.checkpointDir !== undefined ? path.join(spec.checkpointDir, `${createHash('sha256').update(id).digest('hex').slice(0, 24)}.json`) : undefined
          const result = await runSearch(method, bench, {
            budget: spec.budget,
            seed,
            checkpoints: spec.rowCheckpoints,
            ...(spec.epochs !== undefined ? { epochs: spec.epochs } : {}),
            ...(signal !== undefined ? { signal } : {}),
            ...(checkpointFile !== undefined ? { checkpointFile } : {})
          })
          if (checkpointFile !== undefined) {
            removeRunCheckpoint(checkpointFile)
            try { fs.rmdirSync(path.dirname(checkpointFile)) } catch { /* other cells' checkpoints are still there, or it was never made */ }
          }
          const seconds = (Date.now() - started) / 1000
          return result.checkpoints.map(c => ({
            method: name,
            seed,
            dataset,
            epochs: spec.epochs ?? bench.epochs[bench.epochs.length - 1],
            budget: spec.budget,
            queries: c.queries,
            val: c.val,
            test: c.test,
            regret: optimum - c.test,
            searched_on: result.searchedOn,
            arch: c.arch,
            bench_row: c.row,
            queried: result.queried,
            settings: result.settings,
            // Methods with presets (ctnas: paper | code): part of the cell key (the settings hash) and of every row.
            ...(presetOf(result.settings) !== undefined ? { preset: presetOf(result.settings) } : {}),
            search_seconds: seconds
          }))
        }
      })
    }
  }
  return cells
}

/** A method's preset ('paper' | 'code' for ctnas), from its resolved settings; undefined for methods without one. */
function presetOf (settings: unknown): string | undefined {
  const p = (settings as { preset?: unknown } | null)?.preset
  return typeof p === 'string' ? p : undefined
}

/** The report's name of a method: with its preset when that is not the default (e.g. 'ctnas (code preset)'). */
function methodLabel (spec: SearchSpec, name: string): string {
  const p = presetOf(searchMethod(name, spec.methodSettings[name]).settings)
  return p !== undefined && p !== 'paper' ? `${name} (${p} preset)` : name
}

/** The worker-thread entry (executors.ts): the cells from the plan's data, the bench reopened by uri and checked. */
export async function loadCells (spec: SearchSpec): Promise<Cell[]> {
  return planCells(spec, await reopenBench(spec.bench))
}

/** What a search experiment did: the runner's result. */
export type SearchExperimentResult = RunResult

/**
 * Runs every (method, seed) cell not yet in `out/results.jsonl` and writes the report. Bad
 * input (unknown method, budget above the space, checkpoint above the budget, a bench without
 * val and test, an unknown dataset or epochs) is a PlanError before any work; a held --out
 * fails at once naming the process holding it. Resumable; `jobs` > 1 runs cells in worker
 * threads with the same rows.
 */
export async function runSearchExperiment (plan: SearchPlan): Promise<SearchExperimentResult> {
  checkPlanShape(plan)
  preflightOut({ out: plan.out, outputs: SEARCH_OUTPUTS, force: plan.force }) // before opening the bench
  let bench: Bench
  if (typeof plan.bench === 'string') {
    try {
      bench = await openBench(plan.bench, plan.dataset !== undefined ? { dataset: plan.dataset } : {})
    } catch (err) { fail(`--bench ${plan.bench}${plan.dataset !== undefined ? ` --dataset ${plan.dataset}` : ''}: ${(err as Error).message}`) }
  } else if (plan.bench instanceof Bench) {
    bench = plan.bench
    const holds = datasetOf(bench, undefined)
    if (plan.dataset !== undefined && plan.dataset !== holds) fail(`--dataset ${plan.dataset}: the bench given (${bench.label}) holds ${holds}; open the bench with that dataset, or pass its uri`)
  } else fail('--bench: give a Bench (openBench(uri)) or a bench uri')
  const { spec, checkpoints } = resolve(plan, bench)
  const withDir: SearchSpec = { ...spec, checkpointDir: path.resolve(plan.out, 'checkpoints') }
  return await runExperiment({ ...plan, outputs: SEARCH_OUTPUTS }, () => ({
    cells: planCells(withDir, bench, plan.signal),
    spec: { module: 'search', data: withDir },
    settings: { ...spec, bench: spec.bench, checkpoints },
    report: async input => await writeReport(input, bench, spec, checkpoints)
  }))
}

// ---- report ------------------------------------------------------------------------------

function stats (values: number[]): { mean: number, sd: number, se: number, n: number } {
  const { mean, sd, n } = meanSd(values)
  return { mean, sd, se: n > 0 ? sd / Math.sqrt(n) : NaN, n }
}

async function writeReport (input: ReportInput, bench: Bench, spec: SearchSpec, checkpoints: number[]): Promise<string> {
  const rows = input.rows
  const digits = bench.scale === 'percent' ? 2 : 4
  const f = (x: number): string => Number.isFinite(x) ? x.toFixed(digits) : '—'
  const at = (method: string, q: number): ResultRow[] => rows.filter(r => r.method === method && r.queries === q)
  const methods = spec.methods.filter(m => rows.some(r => r.method === m))
  const lines = ['# Search experiment', '', input.header,
    `Benchmark: **${bench.label}**${bench.synthetic ? ' — synthetic numbers, not comparable to published results.' : ''} (bench digest ${benchDigest(bench).slice(0, 16)}); ` +
    `budget ${spec.budget} distinct architectures per search; searched on ${String(rows[0]?.searched_on ?? searchedMetric(bench))} accuracy` +
    `${spec.epochs !== undefined ? ` at ${spec.epochs} epochs` : ''}; reported: the test accuracy of the incumbent (best searched so far); seeds ${spec.seedStart}–${spec.seedStart + spec.seeds - 1}.`, '']
  const cols = checkpoints.map(q => `${q} queries`)

  lines.push('## Test accuracy of the incumbent', '', 'Mean ± sd (± se) over seeds.', '')
  const label = (m: string): string => methodLabel(spec, m)
  lines.push(markdownTable(['Method', 'Seeds', ...cols], methods.map(m => [
    label(m), String(new Set(rows.filter(r => r.method === m).map(r => r.seed)).size),
    ...checkpoints.map(q => {
      const s = stats(at(m, q).map(r => r.test as number))
      return s.n === 0 ? '—' : `${f(s.mean)} ± ${f(s.sd)} (± ${f(s.se)})`
    })
  ])))

  if (methods.length > 1) {
    const base = methods[0]
    lines.push(`## Paired differences against ${label(base)}`, '', `Test accuracy of the method minus ${label(base)}'s on the same seed; mean ± se over the seeds both have (n).`, '')
    lines.push(markdownTable(['Method', ...cols], methods.slice(1).map(m => [
      `${label(m)} − ${label(base)}`,
      ...checkpoints.map(q => {
        const mine = new Map(at(m, q).map(r => [r.seed, r.test as number]))
        const diffs = at(base, q).filter(r => mine.has(r.seed)).map(r => (mine.get(r.seed) as number) - (r.test as number))
        const s = stats(diffs)
        return s.n === 0 ? '—' : `${s.mean >= 0 ? '+' : ''}${f(s.mean)} ± ${f(s.se)} (${s.n})`
      })
    ])))
  }

  const optimum = rows.length > 0 ? (rows[0].test as number) + (rows[0].regret as number) : optimumTest(bench)
  lines.push('## Regret', '', `The space's best test accuracy (${f(optimum)}) minus the incumbent's; mean ± se over seeds.`, '')
  lines.push(markdownTable(['Method', ...cols], methods.map(m => [
    label(m), ...checkpoints.map(q => {
      const s = stats(at(m, q).map(r => r.regret as number))
      return s.n === 0 ? '—' : `${f(s.mean)} ± ${f(s.se)}`
    })
  ])))

  const points = methods.flatMap(m => spec.rowCheckpoints.map(q => {
    const s = stats(at(m, q).map(r => r.test as number))
    return s.n === 0 ? undefined : { series: label(m), x: q, y: s.mean, sd: s.n > 1 ? s.se : 0 }
  })).filter((p): p is { series: string, x: number, y: number, sd: number } => p !== undefined)
  if (points.length > 0) {
    input.write('best-so-far.svg', await lineSvg({
      title: 'Best-so-far test accuracy (mean ± se over seeds)', subtitle: bench.label, xTitle: 'queries (distinct architectures)', yTitle: 'test accuracy of the incumbent', points
    }))
    lines.push('## Best-so-far curves', '', '![Best-so-far test accuracy vs queries](best-so-far.svg)', '')
  }
  input.write('results.csv', csvText(['method', 'seed', 'queries', 'val', 'test', 'regret', 'arch'],
    rows.map(r => [String(r.method), r.seed as number, r.queries as number, r.val as number, r.test as number, r.regret as number, String(r.arch)])))
  return input.write('report.md', lines.join('\n') + '\n')
}
