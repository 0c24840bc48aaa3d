// ReNAS (Xu et al., CVPR 2021) as runnable experiment definitions: its Table 1 (Kendall tau
// of the six ablation variants and two baselines against the training fraction), Table 2
// (evolutionary search with the predictor as fitness), Table 3 (how the training set is
// chosen) and Table 5 (NAS-Bench-201 traversal). Every finished cell is appended to
// results.jsonl at once, so an interrupted run resumes where it stopped.
import { initTfBackend, type TfBackendChoice } from '../models/backend'
import { type Bench } from '../bench/bench'
import { kendallTau } from '../metrics/correlation'
import * as nb101 from '../spaces/nb101'
import { NB201_SIZE } from '../spaces/nb201'
import { nb101RenasHooks, nb201RenasHooks, nb201OneHot, NB201_RENAS_CHANNELS } from '../encode/nb201-renas'
import { Random } from '../random'
import { ReNASPredictor, RENAS_VARIANTS, type ReNASVariant } from '../predictors/renas'
import { RandomForestPredictor } from '../predictors/random-forest'
import { PeepholePredictor } from '../predictors/peephole'
import { EnsemblePredictor } from '../predictors/ensemble'
import { nb101PeepholeTokens } from '../predictors/peephole-tokens'
import { type EncodedBatch, type Predictor } from '../predictors/types'
import { type Tf } from '../models/tf'
import { evolve, type SpaceOps } from '../search/evolution'
import { type ResultRow } from './results'
import { benchDigest, benchKey, benchRef, reopenBench, runExperiment, type BenchRef, type Cell, type CellContext, type CellFailure, type ProgressFn, type ReportInput, type RunOptions } from './runner'
import { fitAndScore, rankPercent, split, top10, trainingCount, trainMetric } from './protocol'
import { formatMeanSd, markdownTable, csvText, meanSd } from '../report/table'
import { lineSvg, scatterSvg } from '../report/plots'

// Moved to shared rooms (lib/encode, ./protocol); re-exported for existing callers.
export { nb201RenasTensor, NB201_RENAS_CHANNELS } from '../encode/nb201-renas'
export { split, top10 } from './protocol'

export const RENAS_TABLES = [1, 2, 3, 5] as const
export type RenasTable = typeof RENAS_TABLES[number]
export const PAPER_FRACTIONS = [0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9] as const

export interface RenasPlan extends RunOptions {
  tables: RenasTable[]
  /** NAS-Bench-101 benchmark (Tables 1-3). */
  bench101?: Bench
  /** NAS-Bench-201 benchmark (Table 5). */
  bench201?: Bench
  seeds: number
  fractions: number[]
  /** Training epochs of the neural predictors (paper: 200). */
  epochs: number
  /** Random-forest trees (paper baseline: 100). */
  trees: number
  /** Held-out architectures Kendall tau is measured on (a seeded random sample of the rest; 0 = all). */
  evalSize: number
  /** EA population and generations (paper: 64, 500). */
  population: number
  generations: number
  tf: Tf
  /** Finished cells of all planned, the cell, and elapsed/ETA (runner.ts). */
  progress?: ProgressFn
  /**
   * Cells run at once, each in a worker thread with its own copy of the benchmarks (reopened
   * from their uri) and of tfjs (default 1: one at a time, in this thread, with `tf`).
   */
  jobs?: number
  /** The tfjs backend the worker threads start (default 'auto'); with jobs = 1, `tf` is used as given. */
  backend?: TfBackendChoice
  /** Ranking-loss settings of every ReNAS model (default: ReNASPredictor's: hinge φ, λ 1, margin 1). */
  loss?: RenasLossOptions
}

/** The ReNAS loss settings a plan may change; recorded in the cell ids when set. */
export interface RenasLossOptions {
  phi?: 'hinge' | 'logistic' | 'exp'
  lambda?: number
  margin?: number
}

const METHODS_T1 = [...Object.keys(RENAS_VARIANTS), 'random-forest', 'peephole'] as const
const METHOD_NAMES: Record<string, string> = {
  ...Object.fromEntries(Object.entries(RENAS_VARIANTS).map(([k, v]) => [k, v.name])),
  'random-forest': 'E2EPP-style random forest',
  peephole: 'Peephole-style LSTM',
  'random-search': 'Random search',
  'renas-4x5': 'ReNAS-4 ×5'
}

/** Members of Table 5's ReNAS-4 ensemble. */
const ENSEMBLE_SIZE = 5

// ---- predictors ------------------------------------------------------------------------

function makePredictor (method: string, space: 'nb101' | 'nb201', bench: Bench, plan: RenasPlan, seed: number): Predictor<Uint32Array> {
  if (method in RENAS_VARIANTS) {
    const variant = method as ReNASVariant
    const input = RENAS_VARIANTS[variant].input
    const channels = space === 'nb101' ? (input === 'tensor' ? 19 : 1) : NB201_RENAS_CHANNELS[input]
    const hooks = space === 'nb101'
      ? nb101RenasHooks(bench.archs as nb101.Nb101Cells, input === 'tensor' ? 19 : 1)
      : nb201RenasHooks(bench.archs as Uint8Array, input)
    return new ReNASPredictor<Uint32Array>({ variant, seed, epochs: plan.epochs, channels, tf: plan.tf, ...plan.loss, ...hooks })
  }
  if (method === 'renas-4x5') {
    // The members' seeds are drawn from the cell's seed (ensembleMemberSeeds).
    return new EnsemblePredictor<Uint32Array>({ size: ENSEMBLE_SIZE, seed, member: memberSeed => makePredictor('renas-4', space, bench, plan, memberSeed) })
  }
  if (method === 'random-forest') {
    if (space === 'nb101') {
      // E2EPP-style: the same 19×7×7 tensor as ReNAS, a third of the 931 columns drawn per
      // split (the classical regression-forest setting; the predictor's default).
      const hooks = nb101RenasHooks(bench.archs as nb101.Nb101Cells, 19)
      return new RandomForestPredictor<Uint32Array>({ nEstimators: plan.trees, seed, encode: hooks.encode, count: hooks.count })
    }
    // The plain forest of the issue's Table 5 row: the 30-d one-hot of the ops with
    // scikit-learn's RandomForestRegressor defaults: max_features=1.0 (maxFeatures 1: every
    // column at every split); min_samples_split=2, min_samples_leaf=1 and bootstrap=True are
    // the predictor's defaults too. Compared with scikit-learn on the same 90-architecture
    // splits by benchmarks/renas-table5.js.
    return new RandomForestPredictor<Uint32Array>({
      nEstimators: plan.trees,
      seed,
      maxFeatures: 1,
      minSamplesSplit: 2,
      minSamplesLeaf: 1,
      bootstrap: true,
      encode: (rows: Uint32Array, start = 0, end = rows.length): EncodedBatch => nb201OneHot(bench.archs as Uint8Array, rows.subarray(start, end)),
      count: (rows: Uint32Array) => rows.length
    })
  }
  if (method === 'peephole') {
    const cells = bench.archs as nb101.Nb101Cells
    return new PeepholePredictor<Uint32Array>({
      seed,
      epochs: plan.epochs,
      tf: plan.tf,
      encode: (rows: Uint32Array, start = 0, end = rows.length) => nb101PeepholeTokens(nb101.select(cells, rows.subarray(start, end))),
      count: (rows: Uint32Array) => rows.length
    })
  }
  throw new RangeError(`unknown method '${method}'`)
}

// ---- the tables ------------------------------------------------------------------------

/**
 * Bumped whenever a method's computation changes (v2: the NB-201 input planes and the
 * scikit-learn-like forest of Table 5; v3: the NB-201 input of the pruned cell; v4: dense
 * layers' gradients as untransposed products, lib/models/matmul.ts, which rounds differently), so that
 * resuming into an older --out recomputes
 * instead of mixing rows of two versions. The random forest's key also names its
 * implementation ('/cart': the native CART forest that replaced ml-random-forest).
 */
const PROTOCOL_VERSION = 4

/** The part of a cell id that records what its result depends on besides table, bench, method, fraction and seed. */
function settingsKey (plan: RenasPlan, method: string, extra = ''): string {
  const model = method === 'random-search' ? '' : method === 'random-forest' ? `/trees${plan.trees}/cart` : `/epochs${plan.epochs}`
  return `v${PROTOCOL_VERSION}${model}${usesRenasLoss(method) ? lossKey(plan.loss) : ''}${extra}`
}

function usesRenasLoss (method: string): boolean {
  return method in RENAS_VARIANTS || method === 'renas-4x5'
}

/** '/phi-logistic/lambda0.5/margin0.1' for the settings given (none: '', the ids of earlier runs). */
function lossKey (loss: RenasLossOptions | undefined): string {
  if (loss === undefined) return ''
  return (loss.phi !== undefined ? `/phi-${loss.phi}` : '') + (loss.lambda !== undefined ? `/lambda${loss.lambda}` : '') + (loss.margin !== undefined ? `/margin${loss.margin}` : '')
}

/** The report's line on non-default ReNAS loss settings ('' for the defaults). */
function lossLine (loss: RenasLossOptions | undefined): string {
  const parts = Object.entries(loss ?? {}).filter(([, v]) => v !== undefined).map(([k, v]) => `${k === 'lambda' ? 'λ' : k === 'phi' ? 'φ' : k} = ${String(v)}`)
  return parts.length === 0 ? '' : `ReNAS loss settings of this run: ${parts.join(', ')} (defaults: φ = hinge, λ = 1, margin = 1).\n`
}

function table1Cells (plan: RenasPlan, bench: Bench, truth: Float64Array): Cell[] {
  const cells: Cell[] = []
  for (const fraction of plan.fractions) {
    for (const method of METHODS_T1) {
      for (let seed = 0; seed < plan.seeds; seed++) {
        cells.push({
          id: `t1/${benchKey(bench)}/${method}/${fraction}/${seed}/${settingsKey(plan, method, `/eval${plan.evalSize}`)}`,
          run: async (context?: CellContext) => {
            const { train, rest } = split(bench.size, trainingCount(bench.size, fraction), seed)
            const evalRows = plan.evalSize > 0 && rest.length > plan.evalSize ? rest.slice(0, plan.evalSize) : rest
            const predictor = makePredictor(method, 'nb101', bench, plan, seed)
            try {
              const { report, queries, trainSeconds } = await fitAndScore(predictor, bench, train, plan.signal, context?.note)
              const pred = await predictor.predict(evalRows)
              const ktau = kendallTau(pred, Float64Array.from(evalRows, r => truth[r]))
              // Fig. 2 (predicted vs true rank) is drawn from the row of ReNAS-6, seed 0: the row carries its points.
              const points = seed === 0 && method === 'renas-6' ? { rank_points: rankPoints(pred, Float64Array.from(evalRows, r => truth[r])) } : {}
              return { method, fraction, seed, ktau, queries, train_seconds: trainSeconds, loss_share: report.lossShare, eval_size: evalRows.length, ...points }
            } finally { predictor.dispose() }
          }
        })
      }
    }
  }
  return cells
}

function table2Cells (plan: RenasPlan, bench: Bench, truth: Float64Array, sortedTruth: Float64Array): Cell[] {
  const cells = bench.archs as nb101.Nb101Cells
  const ops: SpaceOps<nb101.Nb101Spec> = {
    sample: random => nb101.cellAt(cells, random.int(cells.count)),
    mutate: (arch, random) => nb101.mutate(arch, random),
    crossover: (a, b, random) => nb101.crossover(a, b, random),
    key: arch => nb101.hash(arch)
  }
  const fraction = plan.fractions[0]
  return Array.from({ length: plan.seeds }, (_, seed): Cell => ({
    id: `t2/${benchKey(bench)}/renas-6/${fraction}/${seed}/${settingsKey(plan, 'renas-6', `/pop${plan.population}/gen${plan.generations}`)}`,
    run: async (context?: CellContext) => {
      const { train } = split(bench.size, trainingCount(bench.size, fraction), seed)
      const predictor = makePredictor('renas-6', 'nb101', bench, plan, seed)
      try {
        const { queries, trainSeconds } = await fitAndScore(predictor, bench, train, plan.signal, context?.note)
        const started = Date.now()
        const result = await evolve(ops, async archs => await predictor.predict(Uint32Array.from(archs, a => bench.rowOf(nb101.hash(a)))),
          { population: plan.population, generations: plan.generations, seed, signal: plan.signal })
        const rows = Uint32Array.from(result.ranked.slice(0, 10), r => bench.rowOf(r.key))
        const best = Math.max(...Array.from(rows, r => truth[r]))
        return {
          method: 'renas-6', fraction, seed, best_top10_test: best, rank_percent: rankPercent(best, sortedTruth),
          queries, evaluated: result.evaluations, train_seconds: trainSeconds, search_seconds: (Date.now() - started) / 1000
        }
      } finally { predictor.dispose() }
    }
  }))
}

function table3Cells (plan: RenasPlan, bench: Bench, truth: Float64Array): Cell[] {
  const fraction = plan.fractions[0]
  const out: Cell[] = []
  for (const selection of ['random', 'params', 'flops'] as const) {
    for (let seed = 0; seed < plan.seeds; seed++) {
      out.push({
        id: `t3/${benchKey(bench)}/${selection}/${fraction}/${seed}/${settingsKey(plan, 'renas-6', `/eval${plan.evalSize}`)}`,
        run: async (context?: CellContext) => {
          const count = trainingCount(bench.size, fraction)
          let train: Uint32Array
          if (selection === 'random') train = split(bench.size, count, seed).train
          else {
            // Stratified by cost: sort by the cost and take one random member of each of
            // `count` equal-width strata of the sorted order.
            const cost = bench.cost(selection)
            const sorted = Array.from({ length: bench.size }, (_, i) => i).sort((a, b) => cost[a] - cost[b] || a - b)
            const random = new Random(seed)
            train = new Uint32Array(count)
            for (let s = 0; s < count; s++) {
              const lo = Math.floor((s * bench.size) / count)
              const hi = Math.floor(((s + 1) * bench.size) / count)
              train[s] = sorted[lo + random.int(Math.max(1, hi - lo))]
            }
          }
          const inTrain = new Uint8Array(bench.size)
          for (const r of train) inTrain[r] = 1
          let rest = Uint32Array.from({ length: bench.size }, (_, i) => i).filter(i => inTrain[i] === 0)
          if (plan.evalSize > 0 && rest.length > plan.evalSize) rest = new Random(seed + 1).shuffle(rest).slice(0, plan.evalSize)
          const predictor = makePredictor('renas-6', 'nb101', bench, plan, seed)
          try {
            const { queries, trainSeconds } = await fitAndScore(predictor, bench, train, plan.signal, context?.note)
            const pred = await predictor.predict(rest)
            return { method: 'renas-6', selection, fraction, seed, ktau: kendallTau(pred, Float64Array.from(rest, r => truth[r])), queries, train_seconds: trainSeconds }
          } finally { predictor.dispose() }
        }
      })
    }
  }
  return out
}

/**
 * Table 5's rows. ReNAS-4 (the same input, the pairwise loss alone) is the loss ablation: on
 * the real CIFAR-10 table the triplet term of ReNAS-6 lowers the best of the top-10 by about
 * 0.1 at equal Kendall tau (60 paired splits; README). ReNAS-4 ×5 is an ensemble of five
 * ReNAS-4 models on the same 90 architectures (mean of their standardised scores): the same
 * queries, five times the training.
 */
const TABLE5_METHODS = ['renas-6', 'renas-4', 'renas-4x5', 'random-forest', 'random-search'] as const

/** NAS-Bench-201 protocol: 90 random training architectures, score all 15,625, best of the predicted top-10. */
function table5Cells (plan: RenasPlan, bench: Bench, truth: Float64Array, sortedTruth: Float64Array): Array<Omit<Cell, 'fields'>> {
  const out: Array<Omit<Cell, 'fields'>> = []
  const all = Uint32Array.from({ length: bench.size }, (_, i) => i)
  for (const method of TABLE5_METHODS) {
    for (let seed = 0; seed < plan.seeds; seed++) {
      out.push({
        id: `t5/${benchKey(bench)}/${method}/${seed}/${settingsKey(plan, method)}`,
        run: async (context?: CellContext) => {
          if (method === 'random-search') {
            // 100 random architectures, each queried; the best by the search metric is kept.
            bench.resetQueries()
            const rows = split(bench.size, 100, seed).train
            const seen = bench.lookup(rows, { metric: trainMetric(bench) })
            let pick = 0
            for (let k = 1; k < rows.length; k++) if (seen[k] > seen[pick]) pick = k
            const best = truth[rows[pick]]
            return { method, seed, best_top10_test: best, rank_percent: rankPercent(best, sortedTruth), queries: bench.queries }
          }
          const { train } = split(bench.size, 90, seed)
          const predictor = makePredictor(method, 'nb201', bench, plan, seed)
          try {
            const { queries, trainSeconds } = await fitAndScore(predictor, bench, train, plan.signal, context?.note)
            const scores = await predictor.predict(all)
            const { best, rankPercent: rank } = top10(scores, all, truth, sortedTruth)
            return { method, seed, ktau: kendallTau(scores, truth), best_top10_test: best, rank_percent: rank, queries, train_seconds: trainSeconds }
          } finally { predictor.dispose() }
        }
      })
    }
  }
  return out
}

/** Up to 3000 (true rank, predicted rank) points of the held-out architectures: ReNAS Fig. 2. */
function rankPoints (pred: Float64Array, truth: Float64Array): Array<[number, number]> {
  const rankOf = (values: Float64Array): Float64Array => {
    const order = Array.from(values.keys()).sort((a, b) => values[a] - values[b])
    const rank = new Float64Array(values.length)
    order.forEach((k, r) => { rank[k] = r })
    return rank
  }
  const predRank = rankOf(pred)
  const trueRank = rankOf(truth)
  const step = Math.max(1, Math.floor(pred.length / 3000))
  const points: Array<[number, number]> = []
  for (let k = 0; k < pred.length; k += step) points.push([trueRank[k], predRank[k]])
  return points
}

// ---- running and reporting -------------------------------------------------------------

/** Every cell of the plan, with the benchmark of each table. */
export function planCells (plan: RenasPlan): { cells: Cell[], context: Map<RenasTable, Bench> } {
  const cells: Cell[] = []
  const context = new Map<RenasTable, Bench>()
  const tagged = (table: RenasTable, bench: Bench, list: Array<Omit<Cell, 'fields'>>): Cell[] =>
    list.map(c => ({ ...c, fields: { table, bench: bench.uri, bench_synthetic: bench.synthetic, bench_digest: benchDigest(bench) } }))
  if (plan.tables.some(t => t !== 5)) {
    const bench = required(plan.bench101, 'Tables 1-3 need a NAS-Bench-101 benchmark')
    const truth101 = bench.column({ metric: 'test' })
    const sorted = Float64Array.from(truth101).sort()
    if (plan.tables.includes(1)) cells.push(...tagged(1, bench, table1Cells(plan, bench, truth101)))
    if (plan.tables.includes(2)) cells.push(...tagged(2, bench, table2Cells(plan, bench, truth101, sorted)))
    if (plan.tables.includes(3)) cells.push(...tagged(3, bench, table3Cells(plan, bench, truth101)))
    for (const t of [1, 2, 3] as const) context.set(t, bench)
  }
  if (plan.tables.includes(5)) {
    const bench = required(plan.bench201, 'Table 5 needs a NAS-Bench-201 benchmark')
    const truth201 = bench.column({ metric: 'test' })
    cells.push(...tagged(5, bench, table5Cells(plan, bench, truth201, Float64Array.from(truth201).sort())))
    context.set(5, bench)
  }
  return { cells, context }
}

/** The files a ReNAS report writes into --out. */
export const RENAS_OUTPUTS = ['report.md', 'results.csv', 'ktau-vs-fraction.svg', 'predicted-vs-true-rank.svg'] as const

/** What a worker thread needs to rebuild the plan's cells: the plan without functions and objects, benchmarks by uri. */
export type RenasWorkerPlan = Omit<RenasPlan, 'bench101' | 'bench201' | 'tf' | 'progress' | 'signal' | 'jobs' | 'backend' | 'warn' | 'force' | 'command' | 'executor' | 'activity'> & {
  bench101?: BenchRef
  bench201?: BenchRef
  backend: TfBackendChoice
}

/** The worker-thread entry (executors.ts): the plan's cells from its serialisable form. */
export async function loadCells (spec: RenasWorkerPlan): Promise<Cell[]> {
  const [bench101, bench201] = await Promise.all([spec.bench101, spec.bench201].map(async ref => ref === undefined ? undefined : await reopenBench(ref)))
  const { tf } = await initTfBackend({ backend: spec.backend })
  return planCells({ ...spec, bench101, bench201, tf }).cells
}

/**
 * Runs every planned cell not already in `out/results.jsonl`, then writes the report from
 * results.jsonl (shared runner: runner.ts). With `jobs` > 1 the cells run in that many worker
 * threads, each with its own benchmarks and tfjs backend; every cell is seeded on its own, so
 * the rows are the ones one thread would compute, appended in the order they finish.
 */
export async function runRenas (plan: RenasPlan): Promise<{ ran: number, skipped: number, remaining: number, partial: boolean, failed: CellFailure[], reportFile: string }> {
  const jobs = plan.jobs ?? 1
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`runRenas: jobs must be an integer >= 1, got ${String(jobs)}`)
  return await runExperiment({ ...plan, outputs: RENAS_OUTPUTS }, () => {
    const { cells, context } = planCells(plan)
    const ref = (b: Bench | undefined): BenchRef | undefined => b === undefined ? undefined : benchRef(b)
    const { bench101, bench201, tf, progress: _progress, signal: _signal, jobs: _jobs, backend, warn: _warn, force: _force, command: _command, executor: _executor, activity: _activity, ...rest } = plan
    const data: RenasWorkerPlan = { ...rest, bench101: ref(bench101), bench201: ref(bench201), backend: backend ?? 'auto' }
    const { out: _out, backend: _backend, ...settings } = data
    return {
      cells,
      spec: { module: 'renas', data },
      settings,
      tfjsBackend: plan.executor !== undefined ? `${backend ?? 'auto'} (executor's processes)` : jobs > 1 ? `${backend ?? 'auto'} (worker threads)` : tf.getBackend(),
      report: async input => await writeReport(plan, input, context)
    }
  })
}

function required<T> (value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message)
  return value
}

async function writeReport (plan: RenasPlan, input: ReportInput, context: Map<RenasTable, Bench>): Promise<string> {
  const rows = input.rows
  const lines: string[] = ['# ReNAS reproduction', '', input.header]
  if (lossLine(plan.loss) !== '') lines.push(lossLine(plan.loss))
  const benchLine = (t: RenasTable): string => {
    const b = context.get(t)
    return b === undefined ? '' : `Benchmark: **${b.label}**${b.synthetic ? ' — the numbers below come from nasrank\'s synthetic teacher, not from NAS-Bench; they are not comparable to the paper.' : ''}\n`
  }
  const of = (table: number): ResultRow[] => rows.filter(r => r.table === table)
  const num = (r: ResultRow, k: string): number => r[k] as number
  const csvRows: Array<Array<string | number>> = []

  if (of(1).length > 0) {
    const t1 = of(1)
    const fractions = [...new Set(t1.map(r => num(r, 'fraction')))].sort((a, b) => a - b)
    lines.push('## Table 1 — Kendall tau on held-out architectures', '', benchLine(1),
      `Trained on the given fraction (validation accuracy), evaluated against test accuracy on ${plan.evalSize > 0 ? `a seeded random sample of up to ${plan.evalSize} of the remaining architectures` : 'all remaining architectures'}; mean ± sd over seeds.`, '')
    const header = ['Method', ...fractions.map(f => `${+(f * 100).toFixed(3)} %`)]
    const body = METHODS_T1.filter(m => t1.some(r => r.method === m)).map(m => [
      METHOD_NAMES[m],
      ...fractions.map(f => formatMeanSd(t1.filter(r => r.method === m && r.fraction === f).map(r => num(r, 'ktau'))))
    ])
    lines.push(markdownTable(header, body))
    const share = t1.filter(r => r.method === 'renas-6').map(r => num(r, 'loss_share'))
    if (share.length > 0) lines.push(`Share of a ReNAS-6 training step spent in the native ranking losses: ${formatMeanSd(share.map(s => 100 * s), 1)} %.`, '')
    const points = METHODS_T1.flatMap(m => fractions.map(f => {
      const { mean, sd, n } = meanSd(t1.filter(r => r.method === m && r.fraction === f).map(r => num(r, 'ktau')))
      return n === 0 ? undefined : { series: METHOD_NAMES[m], x: f, y: mean, sd }
    })).filter((p): p is { series: string, x: number, y: number, sd: number } => p !== undefined)
    input.write('ktau-vs-fraction.svg', await lineSvg({
      title: 'Kendall tau vs training fraction', subtitle: context.get(1)?.label, xTitle: 'training fraction', yTitle: 'Kendall tau', logX: true, points
    }))
    lines.push('![Kendall tau vs training fraction](ktau-vs-fraction.svg)', '')
    for (const r of t1) csvRows.push([1, String(r.method), num(r, 'fraction'), num(r, 'seed'), num(r, 'ktau'), NaN, NaN, num(r, 'queries')])
  }
  // Fig. 2: drawn from the row of ReNAS-6, seed 0, at the first fraction (whichever process computed it).
  const fig2 = rows.find(r => r.table === 1 && r.method === 'renas-6' && r.seed === 0 && r.fraction === plan.fractions[0] && Array.isArray(r.rank_points))
  if (fig2 !== undefined) {
    input.write('predicted-vs-true-rank.svg', await scatterSvg({
      title: `ReNAS-6, trained on ${+(plan.fractions[0] * 100).toFixed(3)} %: predicted vs true rank`, subtitle: context.get(1)?.label, xTitle: 'true rank', yTitle: 'predicted rank',
      points: (fig2.rank_points as Array<[number, number]>).map(([x, y]) => ({ x, y }))
    }))
    lines.push('![Predicted vs true rank](predicted-vs-true-rank.svg)', '')
  }
  if (of(2).length > 0) {
    const t2 = of(2)
    lines.push('## Table 2 — evolutionary search with the ReNAS-6 predictor', '', benchLine(2),
      `Predictor trained on ${+(plan.fractions[0] * 100).toFixed(3)} % of the space (these are the only queries counted); EA with population ${plan.population}, ${plan.generations} generations, selection/crossover/mutation 0.5/0.3/0.2; reported: the best test accuracy among the top-10 predicted, and its rank in the space.`, '')
    lines.push(markdownTable(['Method', 'Test accuracy', 'Rank (top %)', 'Queries', 'Seeds'], [[
      'ReNAS-6 + EA', formatMeanSd(t2.map(r => num(r, 'best_top10_test')), 4), formatMeanSd(t2.map(r => num(r, 'rank_percent')), 3), String(t2[0].queries), String(t2.length)
    ]]))
    for (const r of t2) csvRows.push([2, 'renas-6', num(r, 'fraction'), num(r, 'seed'), NaN, num(r, 'best_top10_test'), num(r, 'rank_percent'), num(r, 'queries')])
  }
  if (of(3).length > 0) {
    const t3 = of(3)
    lines.push('## Table 3 — how the training set is chosen', '', benchLine(3),
      'ReNAS-6 at the first fraction; "params"/"flops": one random architecture from each of N equal strata of the space sorted by that cost.', '')
    lines.push(markdownTable(['Selection', 'Kendall tau'], ['random', 'params', 'flops'].map(s => [s, formatMeanSd(t3.filter(r => r.selection === s).map(r => num(r, 'ktau')))])))
    for (const r of t3) csvRows.push([3, `renas-6/${String(r.selection)}`, num(r, 'fraction'), num(r, 'seed'), num(r, 'ktau'), NaN, NaN, num(r, 'queries')])
  }
  if (of(5).length > 0) {
    const t5 = of(5)
    const bench = context.get(5) as Bench
    lines.push('## Table 5 — NAS-Bench-201 traversal', '', benchLine(5),
      `Predictors trained on 90 random architectures (${trainMetric(bench)} accuracy), all ${NB201_SIZE} scored; reported: the best test accuracy among the predicted top-10, and Kendall tau over the whole space. Random search queries 100 architectures.`, '')
    const body = TABLE5_METHODS.filter(m => t5.some(r => r.method === m)).map(m => {
      const rs = t5.filter(r => r.method === m)
      const name = m === 'random-forest'
        ? `Random forest (${plan.trees} trees, 30-d one-hot, scikit-learn defaults)`
        : m === 'renas-4' ? 'ReNAS-4 (same input, pairwise loss only: the triplet-loss ablation)'
          : m === 'renas-4x5' ? `ReNAS-4 ×${ENSEMBLE_SIZE} (ensemble of ${ENSEMBLE_SIZE} seeds, mean standardised score)` : METHOD_NAMES[m]
      return [name, formatMeanSd(rs.map(r => num(r, 'best_top10_test')), 2), m === 'random-search' ? '—' : formatMeanSd(rs.map(r => num(r, 'ktau'))), formatMeanSd(rs.map(r => num(r, 'rank_percent')), 3), String(rs[0].queries)]
    })
    if (!bench.synthetic) body.push(['ReNAS (paper, real NAS-Bench-201)', '93.99 ± 0.25', '—', '—', '90'])
    lines.push(markdownTable(['Method', 'Best of top-10 test accuracy', 'Kendall tau', 'Rank (top %)', 'Queries'], body))
    if (!bench.synthetic) lines.push('The optimum of the space is 94.37 (paper).', '')
    for (const r of t5) csvRows.push([5, String(r.method), NaN, num(r, 'seed'), typeof r.ktau === 'number' ? r.ktau : NaN, num(r, 'best_top10_test'), num(r, 'rank_percent'), num(r, 'queries')])
  }
  input.write('results.csv', csvText(['table', 'method', 'fraction', 'seed', 'ktau', 'best_top10_test', 'rank_percent', 'queries'], csvRows))
  return input.write('report.md', lines.join('\n') + '\n')
}
