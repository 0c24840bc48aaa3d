// CTNAS's KTau table (Table 1's KTau column, Eq. 12) on NAS-Bench-201, on the shared runner:
// per seed, the M = budget − 10 labelled architectures of split(size, M, seed) train the NAC
// (BCE on pairs, y = 1{val_a ≥ val_b}) and, with the same trunk, optimiser and number of steps,
// a regression predictor (RegressionNAS: Linear(D → 1), MSE on standardised val); both are
// scored on the next 100 architectures of the split (held out, never queried) against their
// test accuracy: Eq. 12 with the paper's ties, and Kendall tau-b of the NAC's Eq. 5 scores.
// ReNAS-4 (ReNAS Table 5's NB-201 input, pairwise loss; 200 epochs) is fitted on the same
// labelled architectures and scored on the same held-out ones, reported beside (issue §3 (b)).
// The search table of `nasrank reproduce ctnas` is the search experiment (search.ts).
import { Bench } from '../bench/bench'
import { openBench } from '../bench/open'
import { Random } from '../random'
import { Nac } from '../models/nac'
import { baselineScores } from '../search/ctnas'
import { scalarKendall } from '../metrics/comparator-kendall'
import { linearComparatorKendall } from '../models/linear-comparator'
import { kendallTau } from '../metrics/correlation'
import { initTfBackend } from '../models/backend'
import { ReNASPredictor } from '../predictors/renas'
import { nb201RenasHooks, NB201_RENAS_CHANNELS } from '../encode/nb201-renas'
import { split, trainMetric } from './protocol'
import { benchDigest, benchKey, benchRef, reopenBench, preflightOut, runExperiment, PlanError, type BenchRef, type Cell, type ReportInput, type RunOptions } from './runner'
import { markdownTable, meanSd } from '../report/table'

export const KTAU_OUTPUTS = ['report.md'] as const
// v3: the ReNAS-4 columns (the NAC and regression values of a v3 cell are computed as in v2).
const KTAU_PROTOCOL = 3
const RENAS_EPOCHS = 200
const HELD_OUT = 100

export interface CtnasKtauPlan extends RunOptions {
  bench: Bench | string
  dataset?: string
  /** Query budget B: M = B − 10 labelled architectures (default 100). */
  budget?: number
  seeds?: number
  seedStart?: number
  /** Training epochs of ⌈M/256⌉ steps for both predictors (default 1000, the code's pretraining). */
  epochs?: number
}

export interface CtnasKtauSpec { bench: BenchRef, budget: number, seeds: number, seedStart: number, epochs: number }

function fail (message: string): never { throw new PlanError(`reproduce ctnas: ${message}`) }

function planCells (spec: CtnasKtauSpec, bench: Bench): Cell[] {
  const M = spec.budget - 10
  const cells: Cell[] = []
  for (let seed = spec.seedStart; seed < spec.seedStart + spec.seeds; seed++) {
    cells.push({
      id: `ctnas-ktau/${benchKey(bench)}/M${M}/ep${spec.epochs}/seed${seed}/v${KTAU_PROTOCOL}`,
      fields: { table: 'ktau', bench: bench.uri, bench_digest: benchDigest(bench), bench_synthetic: bench.synthetic },
      run: async () => {
        const started = Date.now()
        const { train, rest } = split(bench.size, M, seed)
        const held = rest.slice(0, HELD_OUT)
        const ops = bench.archs as Uint8Array
        const indexOf = (row: number): number => { let i = 0; for (let e = 0; e < 6; e++) i = i * 5 + ops[6 * row + e]; return i }
        bench.resetQueries()
        const val = bench.lookup(train, { metric: trainMetric(bench) })
        const queries = bench.queries
        const test = bench.column({ metric: 'test' })
        const lab = Array.from(train, indexOf)
        const heldIdx = Array.from(held, indexOf)
        const truth = Float64Array.from(held, r => test[r])
        const random = new Random(seed)
        const nac = new Nac(random.fork())
        const reg = new Nac(random.fork())
        const { mean, sd } = meanSd(Array.from(val))
        const z = Float64Array.from(val, v => (v - mean) / (sd || 1))
        const steps = Math.ceil(M / 256) * spec.epochs
        for (let s = 0; s < steps; s++) {
          const a: number[] = []; const b: number[] = []; const y: number[] = []
          for (let k = 0; k < 256; k++) {
            const i = random.int(M); let j = random.int(M - 1); if (j >= i) j++
            a.push(lab[i]); b.push(lab[j]); y.push(val[i] >= val[j] ? 1 : 0)
          }
          nac.train({ a, b, y })
          reg.trainRegression(lab, z)
          if (s % 100 === 99) await new Promise(resolve => setImmediate(resolve))
        }
        const n = heldIdx.length
        const { u, v } = nac.heads(heldIdx)
        const f = reg.heads(heldIdx).u
        const eq5 = baselineScores(u, v).scores
        // The same Eq. 12 over every architecture outside the labelled set (not only the paper's
        // 100): the quantity the 100 sample, without its sampling noise. Native exact counts; a
        // scalar predictor f is the linear comparator u = f, v = −f (sgn(f_i − f_j) exactly).
        const restIdx = Array.from(rest, indexOf)
        const truthAll = Float64Array.from(rest, r => test[r])
        const fAll = reg.heads(restIdx).u
        // ReNAS-4 on the same labelled rows and values; scored on every unlabelled row (the 100 held out first).
        const { tf } = await initTfBackend()
        const renas = new ReNASPredictor<Uint32Array>({ variant: 'renas-4', seed, epochs: RENAS_EPOCHS, channels: NB201_RENAS_CHANNELS.tensor, tf, ...nb201RenasHooks(ops, 'tensor') })
        let rAll: Float64Array
        try {
          await renas.fit(train, val)
          rAll = await renas.predict(rest)
        } finally { renas.dispose() }
        const rHeld = rAll.subarray(0, n)
        return {
          seed,
          labelled: M,
          held_out: n,
          epochs: spec.epochs,
          steps,
          queries,
          nac_ktau: linearComparatorKendall({ u, v }, truth, 'paper').tau,
          nac_ktau_code_ties: linearComparatorKendall({ u, v }, truth, 'code').tau,
          regression_ktau: scalarKendall(f, truth, 'paper'),
          nac_eq5_tau_b: kendallTau(eq5, truth),
          regression_tau_b: kendallTau(f, truth),
          rest: rest.length,
          nac_ktau_rest: linearComparatorKendall(nac.heads(restIdx), truthAll, 'paper').tau,
          regression_ktau_rest: linearComparatorKendall({ u: fAll, v: fAll.map(x => -x) }, truthAll, 'paper').tau,
          renas4_epochs: RENAS_EPOCHS,
          renas4_ktau: scalarKendall(rHeld, truth, 'paper'),
          renas4_tau_b: kendallTau(rHeld, truth),
          renas4_ktau_rest: linearComparatorKendall({ u: rAll, v: rAll.map(x => -x) }, truthAll, 'paper').tau,
          seconds: (Date.now() - started) / 1000
        }
      }
    })
  }
  return cells
}

export async function loadCells (spec: CtnasKtauSpec): Promise<Cell[]> {
  return planCells(spec, await reopenBench(spec.bench))
}

/** Runs the KTau cells not yet in out/results.jsonl and writes report.md. */
export async function runCtnasKtau (plan: CtnasKtauPlan): Promise<{ reportFile: string, partial: boolean, ran: number, skipped: number }> {
  const budget = plan.budget ?? 100
  if (!Number.isInteger(budget) || budget < 12) fail(`--budget must be an integer >= 12, got ${budget}`)
  const epochs = plan.epochs ?? 1000
  if (!Number.isInteger(epochs) || epochs < 1) fail(`epochs must be an integer >= 1, got ${epochs}`)
  preflightOut({ out: plan.out, outputs: KTAU_OUTPUTS, force: plan.force })
  let bench: Bench
  if (typeof plan.bench === 'string') {
    try { bench = await openBench(plan.bench, plan.dataset !== undefined ? { dataset: plan.dataset } : {}) } catch (err) { fail(`--bench ${plan.bench}: ${(err as Error).message}`) }
  } else bench = plan.bench
  if (bench.space !== 'nb201') fail(`--bench ${bench.uri}: the KTau table runs on NAS-Bench-201 here`)
  if (!bench.metrics.includes('test')) fail(`--bench ${bench.uri}: ${bench.name} has no test accuracy`)
  if (budget - 10 + HELD_OUT > bench.size) fail(`--budget ${budget}: M = ${budget - 10} labelled + ${HELD_OUT} held out exceed the ${bench.size} architectures`)
  const spec: CtnasKtauSpec = { bench: benchRef(bench, plan.dataset), budget, seeds: plan.seeds ?? 20, seedStart: plan.seedStart ?? 0, epochs }
  // The ReNAS-4 column runs on tfjs: the backend each thread's cells use ('auto'), recorded with the run.
  const tfjsBackend = (plan.jobs ?? 1) > 1 || plan.executor !== undefined ? 'auto (worker threads)' : (await initTfBackend()).backend
  const result = await runExperiment({ ...plan, outputs: KTAU_OUTPUTS }, () => ({
    tfjsBackend,
    cells: planCells(spec, bench),
    spec: { module: 'ctnas', data: spec },
    settings: { ...spec },
    report: async input => writeReport(input, bench, spec)
  }))
  return result
}

function writeReport (input: ReportInput, bench: Bench, spec: CtnasKtauSpec): string {
  const rows = input.rows
  const f = (x: number): string => Number.isFinite(x) ? x.toFixed(3) : '—'
  const ms = (key: string): string => {
    const { mean, sd, n } = meanSd(rows.map(r => r[key] as number))
    return n === 0 ? '—' : `${f(mean)} ± ${f(n > 1 ? sd / Math.sqrt(n) : NaN)}`
  }
  const paired = (a: string, b: string): string => {
    const d = meanSd(rows.map(r => (r[a] as number) - (r[b] as number)))
    return d.n === 0 ? '—' : `${d.mean >= 0 ? '+' : ''}${f(d.mean)} ± ${f(d.n > 1 ? d.sd / Math.sqrt(d.n) : NaN)} (n = ${d.n})`
  }
  const rest = rows.length > 0 ? String(rows[0].rest) : '—'
  const lines = ['# CTNAS: KTau of the comparator (Eq. 12)', '', input.header,
    `Benchmark: **${bench.label}**${bench.synthetic ? ' — synthetic numbers, not comparable to published results.' : ''}; ` +
    `M = ${spec.budget - 10} labelled architectures (val) per seed from split(${bench.size}, M, seed), the next ${HELD_OUT} held out (test); ` +
    `${spec.epochs} epochs of ⌈M/256⌉ steps for both predictors (Adam 2e-4, β 0.5/0.999, weight decay 5e-4); seeds ${spec.seedStart}–${spec.seedStart + spec.seeds - 1}.`, '',
    'Mean ± se over seeds. Paper (NB-101, M = 423): CTNAS 0.751, RegressionNAS 0.430.', '',
    markdownTable(['Predictor', 'Seeds', `KTau (Eq. 12), ${HELD_OUT} held out`, 'tau-b', `KTau (Eq. 12), all ${rest} unlabelled`], [
      ['NAC (CTNAS)', String(rows.length), ms('nac_ktau'), `${ms('nac_eq5_tau_b')} (Eq. 5 scores)`, ms('nac_ktau_rest')],
      ['Regression, same trunk', String(rows.length), ms('regression_ktau'), ms('regression_tau_b'), ms('regression_ktau_rest')],
      [`ReNAS-4 (beside; ${RENAS_EPOCHS} epochs)`, String(rows.length), ms('renas4_ktau'), ms('renas4_tau_b'), ms('renas4_ktau_rest')]
    ]),
    `Paired difference NAC − regression (Eq. 12): ${paired('nac_ktau', 'regression_ktau')}; over all ${rest} unlabelled architectures: ${paired('nac_ktau_rest', 'regression_ktau_rest')}.`,
    `Paired difference NAC − ReNAS-4 (Eq. 12): ${paired('nac_ktau', 'renas4_ktau')}; over all ${rest} unlabelled architectures: ${paired('nac_ktau_rest', 'renas4_ktau_rest')}.`,
    `ReNAS-4: ReNAS Table 5's NB-201 input (the pruned cell), pairwise hinge loss only, fitted on the same M labelled architectures (val), as \`reproduce renas --table 5\`.`, '']
  return input.write('report.md', lines.join('\n') + '\n')
}
