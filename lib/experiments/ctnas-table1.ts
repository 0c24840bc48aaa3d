// CTNAS Table 1 (Chen et al., CVPR 2021) on NAS-Bench-101 benches (synthetic-101, nb101:<file>):
// per seed, CTNAS labels M = 423 random architectures (its searched metric, 'val' where the
// bench has it) and searches; the same M architectures and values then serve every row:
//
//   Random         the best searched value of the M (its test accuracy), and one random
//                  architecture (the first of the M);
//   RegressionNAS  lib/search/regression-nas.ts on the same M;
//   ReNAS          the package's ReNAS predictor (ReNAS-6: 19×7×7 tensor, L1 + L2, 200 epochs,
//                  as `reproduce renas`) fitted on the same M and values; its pick is the top
//                  of its ranking of every architecture of the space (the traversal of ReNAS's
//                  Table 5), read uncounted as the other rows' final pick;
//   CTNAS          lib/search/ctnas.ts (the given schedule), M labelled, the final baseline β
//                  is the result (read uncounted, as the paper).
//
// #queries = M for all rows (the final architecture is read uncounted). KTau (Eq. 12, paper
// ties) on 100 held-out architectures drawn at random outside the M (seeded by the seed, never
// queried), against test accuracy: the NAC after the search, the regression predictor, ReNAS.
// Rank % by test accuracy over the whole bench.
import { Bench } from '../bench/bench'
import { openBench } from '../bench/open'
import { Random } from '../random'
import { Nac, NacGraphSet } from '../models/nac'
import { nb101GraphBatch } from '../encode/graph'
import type * as nb101 from '../spaces/nb101'
import { ctnas, type CtnasFinalState } from '../search/ctnas'
import { runSearch } from '../search/index'
import { searchedMetric } from '../search/harness'
import { regressionNas } from '../search/regression-nas'
import { initTfBackend } from '../models/backend'
import { ReNASPredictor, RENAS_VARIANTS, type ReNASVariant } from '../predictors/renas'
import { nb101RenasHooks } from '../encode/nb201-renas'
import { scalarKendall } from '../metrics/comparator-kendall'
import { linearComparatorKendall } from '../models/linear-comparator'
import { rankPercent } from './protocol'
import { benchDigest, benchKey, benchRef, reopenBench, preflightOut, runExperiment, PlanError, type BenchRef, type Cell, type ReportInput, type RunOptions } from './runner'
import { markdownTable, meanSd } from '../report/table'

export const TABLE1_OUTPUTS = ['report.md'] as const
// v3: the ReNAS row (every row of a v3 cell is otherwise computed as in v2).
const TABLE1_PROTOCOL = 3
const HELD_OUT = 100

/** The paper's Table 1 (NB-101, M = 423): KTau, mean ± sd, best, best rank %. */
export const PAPER_TABLE1 = Object.freeze({
  random: { ktau: null, mean: 89.31, sd: 3.92, best: 93.46, rank: 1.29 },
  renas: { ktau: 0.634, mean: 93.90, sd: 0.21, best: 94.11, rank: 0.04 },
  regression: { ktau: 0.430, mean: 89.51, sd: 4.94, best: 93.65, rank: 0.40 },
  ctnas: { ktau: 0.751, mean: 93.92, sd: 0.18, best: 94.22, rank: 0.01 }
})

/**
 * The ReNAS row's predictor: ReNAS-6 (the paper's model; CTNAS quotes its 0.1 % KTau, 0.634)
 * with ReNAS's 200 training epochs, the settings of `nasrank reproduce renas`.
 */
export const TABLE1_RENAS = Object.freeze({ variant: 'renas-6' as ReNASVariant, epochs: 200 })

export interface RenasTable1Entry {
  /** KTau (Eq. 12, paper ties) of the scores of `held` against `truth`. */
  ktau: number
  /** The pick: the row of the highest score over the whole space (the first on ties). */
  row: number
  /** The predictor's score of every row of the bench (the traversal). */
  scores: Float64Array
  seconds: number
  cpuSeconds: number
}

/**
 * ReNAS in Table 1: the ReNAS predictor fitted on the labelled rows `lab` with their searched
 * values, every row of the NB-101 bench scored (ReNAS Table 5's traversal), the top-scored row
 * its pick; KTau on the held-out rows (their scores in the traversal) against `truth`.
 */
export async function renasTable1Entry (bench: Bench, lab: ArrayLike<number>, values: ArrayLike<number>, held: ArrayLike<number>, truth: ArrayLike<number>, seed: number,
  options: { variant?: ReNASVariant, epochs?: number } = {}): Promise<RenasTable1Entry> {
  const variant = options.variant ?? TABLE1_RENAS.variant
  const epochs = options.epochs ?? TABLE1_RENAS.epochs
  const t0 = process.cpuUsage()
  const started = Date.now()
  const { tf } = await initTfBackend()
  const channels = RENAS_VARIANTS[variant].input === 'tensor' ? 19 : 1
  const predictor = new ReNASPredictor<Uint32Array>({ variant, seed, epochs, channels, tf, ...nb101RenasHooks(bench.archs as nb101.Nb101Cells, channels) })
  try {
    await predictor.fit(Uint32Array.from(lab), Float64Array.from(values))
    const scores = await predictor.predict(Uint32Array.from({ length: bench.size }, (_, i) => i))
    let row = 0
    for (let r = 1; r < scores.length; r++) if (scores[r] > scores[row]) row = r
    const ktau = scalarKendall(Float64Array.from(held, r => scores[r]), truth, 'paper')
    return { ktau, row, scores, seconds: (Date.now() - started) / 1000, cpuSeconds: cpuSeconds(t0) }
  } finally { predictor.dispose() }
}

export interface CtnasTable1Plan extends RunOptions {
  bench: Bench | string
  /** Labelled architectures M (default 423). */
  labelled?: number
  seeds?: number
  seedStart?: number
  /** Settings of the ctnas method (the schedule); RegressionNAS takes its iterations, pretraining epochs and width. */
  settings?: Record<string, unknown>
}

export interface CtnasTable1Spec { bench: BenchRef, labelled: number, seeds: number, seedStart: number, settings: Record<string, unknown> }

function fail (message: string): never { throw new PlanError(`reproduce ctnas --table 1: ${message}`) }

function planCells (spec: CtnasTable1Spec, bench: Bench): Cell[] {
  const M = spec.labelled
  const key = JSON.stringify(spec.settings)
  const cells: Cell[] = []
  for (let seed = spec.seedStart; seed < spec.seedStart + spec.seeds; seed++) {
    cells.push({
      id: `ctnas-t1/${benchKey(bench)}/M${M}/${key}/seed${seed}/v${TABLE1_PROTOCOL}`,
      fields: { table: '1', bench: bench.uri, bench_digest: benchDigest(bench), bench_synthetic: bench.synthetic, settings: spec.settings },
      run: async () => await runCell(bench, M, seed, spec.settings)
    })
  }
  return cells
}

/** What a Table 1 cell's rows share: the M labelled rows and their searched values, the held-out rows and their test accuracy. */
export interface Table1Sets { labelled: number[], values: Float64Array, held: number[], truth: Float64Array }

/** One seed of Table 1 (the cell's row); `inspect` sees the sets every row uses. */
export async function runCell (bench: Bench, M: number, seed: number, settings: Record<string, unknown>, inspect?: (sets: Table1Sets) => void): Promise<Record<string, unknown>> {
  const metric = searchedMetric(bench)
  const searched = bench.column({ metric })
  const test = bench.column({ metric: 'test' })
  const sortedTest = Float64Array.from(test).sort()
  const cells = bench.archs as nb101.Nb101Cells

  // CTNAS: M labelled, the final β read uncounted (topK = 1: the harness queries one more row).
  let t0 = process.cpuUsage()
  let started = Date.now()
  let state: CtnasFinalState | null = null
  bench.resetQueries()
  await runSearch(ctnas({ ...settings, labelled: M, topK: 1 }, { onFinal: s => { state = s } }), bench, { budget: M + 1, seed })
  const st = state as unknown as CtnasFinalState
  const ctnasSeconds = (Date.now() - started) / 1000
  const ctnasCpu = cpuSeconds(t0)
  const lab = st.labelled.map(id => st.rowByIndex[id])
  const beta = st.baselines[st.baselines.length - 1]
  const finalId = [beta, ...st.ranked].find(id => st.rowByIndex[id] >= 0)
  if (finalId === undefined) throw new RangeError(`ctnas: no final architecture of seed ${seed} is in ${bench.name}`)
  const ctnasRow = st.rowByIndex[finalId]

  // 100 held-out rows outside the M.
  const inLab = new Set(lab)
  const held: number[] = []
  const draw = new Random(seed).fork()
  while (held.length < HELD_OUT) {
    const r = draw.int(bench.size)
    if (!inLab.has(r) && !held.includes(r)) held.push(r)
  }
  const truth = Float64Array.from(held, r => test[r])
  const set = st.nac.graphs as NacGraphSet
  const first = set.add(nb101GraphBatch(cells, held))
  const { u, v } = st.nac.heads(Array.from({ length: HELD_OUT }, (_, k) => first + k))
  const ctnasKtau = linearComparatorKendall({ u, v }, truth, 'paper').tau
  // Diagnostic: a NAC trained only as CTNAS pretrains it (same M, same number of steps), no search.
  const pre = new Nac(new Random(seed + 1000003), { graphs: set, ...(settings.hidden !== undefined ? { hidden: Number(settings.hidden) } : {}) })
  const pairRandom = new Random(seed + 2000003)
  const preSteps = Math.ceil(M / 256) * Number(settings.pretrainEpochs ?? 1000)
  for (let s = 0; s < preSteps; s++) {
    const a: number[] = []; const b: number[] = []; const y: number[] = []
    for (let k = 0; k < 256; k++) {
      const i = pairRandom.int(M); let j = pairRandom.int(M - 1); if (j >= i) j++
      a.push(st.labelled[i]); b.push(st.labelled[j]); y.push(searched[lab[i]] >= searched[lab[j]] ? 1 : 0)
    }
    pre.train({ a, b, y })
    if (s % 100 === 99) await new Promise(resolve => setImmediate(resolve))
  }
  const preHeads = pre.heads(Array.from({ length: HELD_OUT }, (_, k) => first + k))
  const pretrainedKtau = linearComparatorKendall(preHeads, truth, 'paper').tau

  // RegressionNAS on the same M and values.
  t0 = process.cpuUsage()
  started = Date.now()
  const values = Float64Array.from(lab, r => searched[r])
  const reg = await regressionNas(bench, lab, values, {
    iterations: Number(settings.iterations ?? 10000),
    epochs: Number(settings.pretrainEpochs ?? 1000),
    ...(settings.hidden !== undefined ? { hidden: Number(settings.hidden) } : {})
  }, seed)
  const regSeconds = (Date.now() - started) / 1000
  const regCpu = cpuSeconds(t0)
  const regKtau = scalarKendall(reg.predict(held), truth, 'paper')

  // ReNAS on the same M and values, the same held-out rows; its traversal's top, read uncounted.
  const renas = await renasTable1Entry(bench, lab, values, held, truth, seed)
  inspect?.({ labelled: lab.slice(), values: Float64Array.from(values), held: held.slice(), truth: Float64Array.from(truth) })

  // Random: the best searched of the M, and one random architecture.
  let bestLab = lab[0]
  for (const r of lab) if (searched[r] > searched[bestLab]) bestLab = r
  const row = (r: number): { test: number, rank: number } => ({ test: test[r], rank: rankPercent(test[r], sortedTest) })
  return {
    seed,
    labelled: M,
    held_out: HELD_OUT,
    metric,
    queries: M,
    random_best: row(bestLab),
    random_one: row(lab[0]),
    regression: { ...row(reg.finalRow), ktau: regKtau, seconds: regSeconds, cpu_seconds: regCpu },
    renas: { ...row(renas.row), ktau: renas.ktau, variant: TABLE1_RENAS.variant, epochs: TABLE1_RENAS.epochs, seconds: renas.seconds, cpu_seconds: renas.cpuSeconds },
    nac_pretrained_ktau: pretrainedKtau,
    ctnas: { ...row(ctnasRow), ktau: ctnasKtau, baseline_updates: st.baselines.length - 1, seconds: ctnasSeconds, cpu_seconds: ctnasCpu }
  }
}

function cpuSeconds (since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since)
  return (d.user + d.system) / 1e6
}

export async function loadCells (spec: CtnasTable1Spec): Promise<Cell[]> {
  return planCells(spec, await reopenBench(spec.bench))
}

/** Runs the Table 1 cells not yet in out/results.jsonl and writes report.md. */
export async function runCtnasTable1 (plan: CtnasTable1Plan): Promise<{ reportFile: string, partial: boolean, ran: number, skipped: number }> {
  const M = plan.labelled ?? 423
  if (!Number.isInteger(M) || M < 2) fail(`the labelled count must be an integer >= 2, got ${M}`)
  preflightOut({ out: plan.out, outputs: TABLE1_OUTPUTS, force: plan.force })
  let bench: Bench
  if (typeof plan.bench === 'string') {
    try { bench = await openBench(plan.bench) } catch (err) { fail(`--bench ${plan.bench}: ${(err as Error).message}`) }
  } else bench = plan.bench
  if (bench.space !== 'nb101') fail(`--bench ${bench.uri}: Table 1 runs on NAS-Bench-101 (synthetic-101 or nb101:<file>); ${bench.name} is ${bench.space}`)
  if (!bench.metrics.includes('test')) fail(`--bench ${bench.uri}: ${bench.name} has no test accuracy`)
  if (M + HELD_OUT > bench.size) fail(`M = ${M} labelled + ${HELD_OUT} held out exceed the ${bench.size} architectures`)
  const spec: CtnasTable1Spec = { bench: benchRef(bench), labelled: M, seeds: plan.seeds ?? 10, seedStart: plan.seedStart ?? 0, settings: { ...(plan.settings ?? {}) } }
  // The ReNAS row runs on tfjs: the backend each thread's cells use ('auto'), recorded with the run.
  const tfjsBackend = (plan.jobs ?? 1) > 1 || plan.executor !== undefined ? 'auto (worker threads)' : (await initTfBackend()).backend
  return await runExperiment({ ...plan, outputs: TABLE1_OUTPUTS }, () => ({
    tfjsBackend,
    cells: planCells(spec, bench),
    spec: { module: 'ctnas-table1', data: spec },
    settings: { ...spec },
    report: async input => writeReport(input, bench, spec)
  }))
}

type Entry = { test: number, rank: number, ktau?: number, cpu_seconds?: number }

function writeReport (input: ReportInput, bench: Bench, spec: CtnasTable1Spec): string {
  const rows = input.rows
  const f2 = (x: number): string => Number.isFinite(x) ? x.toFixed(2) : '—'
  const f3 = (x: number): string => Number.isFinite(x) ? x.toFixed(3) : '—'
  const paper = !bench.synthetic
  // Accuracies in percent, as the paper's (a 'fraction' bench is scaled).
  const pct = bench.scale === 'fraction' ? 100 : 1
  const line = (name: string, key: string, ktau: boolean, p?: { ktau: number | null, mean: number, sd: number, best: number, rank: number }): string[] => {
    const es = rows.map(r => r[key] as Entry).filter(e => e !== undefined)
    const t = meanSd(es.map(e => pct * e.test))
    const k = meanSd(es.map(e => e.ktau ?? NaN).filter(Number.isFinite))
    let best = -Infinity; let bestRank = NaN
    for (const e of es) if (pct * e.test > best) { best = pct * e.test; bestRank = e.rank }
    const cpu = meanSd(es.map(e => e.cpu_seconds ?? NaN).filter(Number.isFinite))
    const cells = [name, ktau && k.n > 0 ? `${f3(k.mean)} ± ${f3(k.sd)}` : '–', t.n > 0 ? `${f2(t.mean)} ± ${f2(t.sd)}` : '—', f2(best), f2(bestRank), String(spec.labelled), cpu.n > 0 ? cpu.mean.toFixed(0) : '']
    if (paper) cells.push(p === undefined ? '' : `${p.ktau ?? '–'} · ${p.mean} ± ${p.sd} · ${p.best} · ${p.rank}`)
    return cells
  }
  const header = ['Method', 'KTau (Eq. 12), mean ± sd', 'Test acc. % mean ± sd', 'Best', 'Best rank %', '#Queries', 'CPU s / run']
  if (paper) header.push('Paper: KTau · mean ± sd · best · rank %')
  const body = [
    line('Random (best of M)', 'random_best', false, PAPER_TABLE1.random),
    line('Random (one architecture)', 'random_one', false),
    line('RegressionNAS', 'regression', true, PAPER_TABLE1.regression),
    line('ReNAS', 'renas', true, PAPER_TABLE1.renas),
    line('CTNAS', 'ctnas', true, PAPER_TABLE1.ctnas)
  ]
  const diff = (a: string, b: string): string => {
    const d = meanSd(rows.map(r => pct * ((r[a] as Entry).test - (r[b] as Entry).test)))
    return d.n === 0 ? '—' : `${d.mean >= 0 ? '+' : ''}${f2(d.mean)} ± ${f2(d.n > 1 ? d.sd / Math.sqrt(d.n) : NaN)}`
  }
  const dktau = (a: string, b: string): string => {
    const d = meanSd(rows.map(r => ((r[a] as Entry).ktau ?? NaN) - ((r[b] as Entry).ktau ?? NaN)))
    return d.n === 0 ? '—' : `${d.mean >= 0 ? '+' : ''}${f3(d.mean)} ± ${f3(d.n > 1 ? d.sd / Math.sqrt(d.n) : NaN)}`
  }
  const lines = ['# CTNAS Table 1 (NAS-Bench-101)', '', input.header,
    `Benchmark: **${bench.label}**${bench.synthetic ? ' — synthetic numbers, not comparable to published results; the paper\'s are not shown.' : ''}; ` +
    `M = ${spec.labelled} labelled architectures per seed (CTNAS's random draws; every row uses the same M and values), the final architecture read uncounted; ` +
    `KTau over ${HELD_OUT} held-out architectures (test accuracy); seeds ${spec.seedStart}–${spec.seedStart + spec.seeds - 1} (${rows.length} done); ` +
    `CTNAS settings ${JSON.stringify(spec.settings)}; RegressionNAS: same iterations, pretraining epochs and width, reward = predicted accuracy − EMA (0.9); ` +
    `ReNAS: ${RENAS_VARIANTS[TABLE1_RENAS.variant].name}, ${TABLE1_RENAS.epochs} epochs, fitted on the same M, its pick the top of its ranking of all ${bench.size} architectures.`, '',
    markdownTable(header, body),
    `Paired over seeds (mean ± se): CTNAS − RegressionNAS ${diff('ctnas', 'regression')}; CTNAS − ReNAS ${diff('ctnas', 'renas')}; CTNAS − Random (best of M) ${diff('ctnas', 'random_best')}; ` +
    `ReNAS − Random (best of M) ${diff('renas', 'random_best')}; KTau CTNAS − RegressionNAS ${dktau('ctnas', 'regression')}; KTau CTNAS − ReNAS ${dktau('ctnas', 'renas')}.`,
    `KTau of a NAC trained only as CTNAS pretrains it (same M and steps, no search; diagnostic): ${(() => { const k = meanSd(rows.map(r => r.nac_pretrained_ktau as number).filter(Number.isFinite)); return k.n === 0 ? '—' : `${f3(k.mean)} ± ${f3(k.sd)}` })()}.`,
    ...(paper ? ['Paper rows not run here (print-only): DARTS, ENAS, FBNet, SPOS (KTau 0.195), FairNAS (KTau −0.232).'] : []), '']
  return input.write('report.md', lines.join('\n') + '\n')
}
