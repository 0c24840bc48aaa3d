// The MIP-BPE experiment (Zheng et al., "Rethinking performance estimation in NAS") on the
// shared runner. Cells (each resumable, rows recomputable from the plan alone):
//  - mip/<evaluator>/…/seed s: Alg. 1 (lib/bpe/mip.ts) — D's rows, the prunes, and uniform
//    random search over Ω on the same G at the same total training cost (best r_s);
//  - fig3/…/seed s: 15 uniformly random settings: r_s on G, and random search over 100 fresh
//    architectures with that setting as the performance estimator (PE): the pick's f-accuracy;
//  - table2/…/seed s: RS-100 and evolution with PE = f against PE = the found BPE (argmax r_s
//    and the Eq. 1 optimum): the pick's final test accuracy and the search cost;
//  - nb201/<dataset>/seed s (with tables): NAS-Bench-201's 12-epoch schedule as a real BPE of
//    the 200-epoch one: r_s over 100 random cells (val and test) beside the params proxy, and
//    RS-100 picks by 200-epoch val, 12-epoch val, params, at random and the oracle.
// The report (Table 1, Fig. 4, Fig. 3, Table 2) is rebuilt from results.jsonl alone.
import { createHash } from 'node:crypto'
import type { Bench } from '../bench/bench'
import { openBench } from '../bench/open'
import { nb201TablesBpe, syntheticBpe } from '../bpe/evaluators'
import { readBpeTable, tableBpe } from '../bpe/table'
import { drawArchs, drawUnseen, fitMipForest, mipMarginals, randomBpeSearch, rankCorrelation, resolveMipOptions, runMip, type BpeEvaluator, type MipOptions, type MipSample } from '../bpe/mip'
import { checkOmega, omegaSize, parseOmega, PAPER_OMEGA, settingKey, type Omega } from '../bpe/omega'
import { spearman } from '../metrics/correlation'
import { forestImportance } from '../models/forest-importance'
import { Random } from '../random'
import { barSvg, scatterSvg } from '../report/plots'
import { markdownTable, meanSd } from '../report/table'
import { evolve } from '../search/evolution'
import { benchSpace } from '../search/space'
import { type ResultRow } from './results'
import * as path from 'node:path'
import { initTfBackend, loadTf } from '../models/backend'
import { openImageData } from '../data/idx'
import { checkPresetData, CPU_OMEGA, omegaWithoutLr, TRAINER_PRESETS, trainerBpe } from '../bpe/trainer-bpe'
import { recordedEvaluator } from '../bpe/record'
import { calibrateSecondsCost, type CalibratedEvaluator } from '../bpe/cost-model'
import { splitImages, trainCell } from '../bpe/trainer'
import { nb201 } from '../spaces/nb201'
import { preflightOut, runExperiment, stableJson, PlanError, type Cell, type ProgressFn, type ReportInput, type RunOptions } from './runner'

export const MIP_OUTPUTS = ['report.md', 'importance.svg', 'fig3.svg'] as const
export const MIP_EVALUATORS = ['synthetic-bpe', 'trainer'] as const
export const MIP_PARTS = ['table1', 'fig4', 'fig3', 'table2'] as const
const MIP_PROTOCOL = 1

export interface MipPlan extends RunOptions {
  /** The evaluator: 'synthetic-bpe' (default) or 'table:<csv>' (a BPE table; no Table 2: it has no test accuracy). */
  evaluator?: string
  /** The full setting f of a table evaluator (default its most expensive setting). */
  full?: Partial<Record<string, number>>
  /** Ω as '--omega' text (default the paper's). */
  omega?: string
  /** Seeds (default 20), from seedStart (default 0). */
  seeds?: number
  seedStart?: number
  /** Alg. 1 options (|G|, K, T, τ, λ, stop, normalisation). */
  mip?: Pick<MipOptions, 'archs' | 'k' | 'rounds' | 'tau' | 'lambda' | 'threshold' | 'stop' | 'normalise'>
  /** Parts of the report (default all). */
  parts?: Array<typeof MIP_PARTS[number]>
  /** An nb201:<dir> with both schedules (the real two-budget benchmark) and its dataset. */
  tables?: string
  dataset?: string
  progress?: ProgressFn
  /** The trainer's data ('fashion-mnist' = the shipped subset, or 'fashion-mnist:<dir>'), image counts, training seed. */
  trainer?: { data?: string, trainImages?: number, val?: number, seed?: number, cost?: 'flops' | 'seconds', lrTie?: boolean }
  /** Add the trainer smoke (4 cells, 1 epoch, 1,000 images; --quick). */
  smoke?: boolean
  /** --bpe trainer: f from a NAS-Bench-201 table ('nb201:<table>'). */
  fullTable?: string
  /** --bpe trainer: a preset's Ω, f and image counts (cpu, paper). */
  preset?: 'cpu' | 'paper'
}

export interface MipSpec {
  evaluator: string
  omega: Omega
  seeds: number
  seedStart: number
  mip: ReturnType<typeof resolveMipOptions>
  parts: string[]
  tables?: { uri: string, dataset: string }
  full?: Partial<Record<string, number>>
  /** The trainer evaluator's data, image counts, seed and the folder its trainings are recorded in. */
  trainer?: { data: string, trainImages?: number, val: number, seed: number, cost: 'flops' | 'seconds', record: string, fullTable?: string, lrTie?: boolean }
  smoke?: boolean
  preset?: 'cpu' | 'paper'
}

function fail (message: string): never { throw new PlanError(`reproduce mip: ${message}`) }

function shortHash (value: unknown): string {
  return createHash('sha256').update(stableJson(value)).digest('hex').slice(0, 10)
}

/** Checks the plan (before any work); errors name the option. */
export function resolveMipPlan (plan: MipPlan): MipSpec {
  const evaluator = plan.evaluator ?? 'synthetic-bpe'
  const isTable = evaluator.startsWith('table:') && evaluator.length > 'table:'.length
  if (!(MIP_EVALUATORS as readonly string[]).includes(evaluator) && !isTable) fail(`--bpe: unknown evaluator '${evaluator}' (available: ${MIP_EVALUATORS.join(', ')}, table:<csv>)`)
  const isTrainer = evaluator === 'trainer'
  if (isTable && plan.omega !== undefined) fail('--omega: a BPE table defines Ω by the settings it holds')
  if (!isTable && !isTrainer && plan.full !== undefined) fail('--full names a setting of a BPE table (--bpe table:<csv>) or of the trainer (--bpe trainer)')
  if (!isTrainer && plan.trainer !== undefined) fail('--data, --train-images and --val are options of --bpe trainer')
  if (!isTrainer && plan.fullTable !== undefined) fail('--full nb201:<table> is an option of --bpe trainer')
  if (plan.preset !== undefined && !isTrainer) fail('--preset is an option of --bpe trainer')
  if (plan.preset !== undefined && plan.omega !== undefined) fail('--preset and --omega both give Ω: give one')
  const preset = plan.preset !== undefined ? TRAINER_PRESETS[plan.preset] : undefined
  if (plan.preset !== undefined && preset === undefined) fail(`--preset: unknown preset '${String(plan.preset)}' (cpu, paper)`)
  let omega: Omega
  try {
    omega = plan.omega === undefined ? (preset !== undefined ? preset.omega : isTrainer ? CPU_OMEGA : PAPER_OMEGA) : parseOmega(plan.omega)
    if (plan.trainer?.lrTie === true) {
      if (plan.omega !== undefined && omega.dims.some(d => d.name === 'lr')) fail('--lr-tie: --omega has an lr dimension; with the tie lr follows the batch (drop lr from --omega)')
      omega = omegaWithoutLr(omega)
    }
    checkOmega(omega, '--omega')
  } catch (err) { fail((err as Error).message) }
  const int = (v: number | undefined, fallback: number, option: string, min: number): number => {
    const x = v ?? fallback
    if (!Number.isInteger(x) || x < min) fail(`${option} must be an integer ≥ ${min}, got ${String(v)}`)
    return x
  }
  let mip: ReturnType<typeof resolveMipOptions>
  try { mip = resolveMipOptions(plan.mip ?? {}) } catch (err) { fail((err as Error).message) }
  const parts = plan.parts ?? (isTable ? ['table1', 'fig4', 'fig3'] : isTrainer ? ['table1', 'fig4'] : [...MIP_PARTS])
  if ((isTable || isTrainer) && parts.includes('table2')) fail(`--table 2: ${isTable ? 'a BPE table' : 'the trainer'} has no test accuracy to report the searches by (Table 2 runs on synthetic-bpe)`)
  for (const p of parts) if (!(MIP_PARTS as readonly string[]).includes(p)) fail(`unknown part '${p}' (${MIP_PARTS.join(', ')})`)
  if (parts.length === 0) fail('give at least one part (--table / --figure)')
  return {
    evaluator,
    omega,
    seeds: int(plan.seeds, 20, '--seeds', 1),
    seedStart: int(plan.seedStart, 0, '--seed-start', 0),
    mip,
    parts,
    ...(plan.tables !== undefined ? { tables: { uri: plan.tables.startsWith('nb201:') ? plan.tables : `nb201:${plan.tables}`, dataset: plan.dataset ?? 'cifar10' } } : {}),
    ...(plan.full !== undefined || (preset !== undefined && plan.fullTable === undefined) ? { full: { ...(plan.fullTable === undefined ? preset?.full : {}), ...plan.full } } : {}),
    ...(plan.preset !== undefined ? { preset: plan.preset } : {}),
    ...(isTrainer
      ? { trainer: { data: plan.trainer?.data ?? 'fashion-mnist', ...((plan.trainer?.trainImages ?? preset?.trainImages) !== undefined ? { trainImages: plan.trainer?.trainImages ?? preset?.trainImages } : {}), val: plan.trainer?.val ?? preset?.val ?? 1000, seed: plan.trainer?.seed ?? 0, cost: plan.trainer?.cost ?? 'flops', record: path.resolve(plan.out, 'trainings'), ...(plan.fullTable !== undefined ? { fullTable: plan.fullTable } : {}), ...(plan.trainer?.lrTie === true ? { lrTie: true } : {}) } }
      : {}),
    ...(plan.smoke === true ? { smoke: true } : {})
  }
}

interface Context { bench?: Bench, evaluator: BpeEvaluator, tables?: Bench }

async function openContext (spec: MipSpec): Promise<Context> {
  let bench: Bench | undefined
  let evaluator: BpeEvaluator
  if (spec.evaluator.startsWith('table:')) {
    const file = spec.evaluator.slice('table:'.length)
    try {
      evaluator = tableBpe(readBpeTable(file), spec.full !== undefined ? { full: spec.full } : {})
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(`--bpe ${spec.evaluator}: no such file`)
      throw err
    }
  } else if (spec.trainer !== undefined) {
    const tr = spec.trainer
    const { tf } = await initTfBackend()
    let data
    try {
      data = openImageData(tr.data)
      if (spec.preset !== undefined) checkPresetData(spec.preset, data)
    } catch (err) { fail((err as Error).message) }
    let fullTable: Bench | undefined
    if (tr.fullTable !== undefined) {
      try { fullTable = await openBench(tr.fullTable) } catch (err) { fail(`--full ${tr.fullTable}: ${(err as Error).message}`) }
    }
    try {
      evaluator = recordedEvaluator(trainerBpe(tf, { data, omega: spec.omega, ...(spec.full !== undefined ? { full: spec.full } : {}), val: tr.val, ...(tr.trainImages !== undefined ? { trainImages: tr.trainImages } : {}), seed: tr.seed, cost: tr.cost, ...(fullTable !== undefined ? { fullTable } : {}), ...(spec.preset !== undefined ? { fullName: TRAINER_PRESETS[spec.preset].fullName } : {}), ...(tr.lrTie === true ? { lrTie: true } : {}) }), tr.record)
    } catch (err) { fail((err as Error).message) }
    // --cost seconds: Eq. 2 from a power law fitted to a recorded calibration run (replayed on resume).
    if (tr.cost === 'seconds') evaluator = await calibrateSecondsCost(evaluator)
  } else {
    bench = await openBench('synthetic-201')
    evaluator = syntheticBpe(bench, { omega: spec.omega })
  }
  let tables: Bench | undefined
  if (spec.tables !== undefined) {
    try {
      tables = await openBench(spec.tables.uri, { dataset: spec.tables.dataset })
      nb201TablesBpe(tables)
    } catch (err) { fail(`--tables ${spec.tables.uri}: ${(err as Error).message}`) }
  }
  return { ...(bench !== undefined ? { bench } : {}), evaluator, ...(tables !== undefined ? { tables } : {}) }
}

function sampleRow (s: MipSample): Record<string, unknown> {
  return { round: s.round, key: s.key, setting: s.setting, rs: s.rs, cost: s.cost, diverged: s.diverged }
}

const argmax = (xs: ArrayLike<number>): number => {
  let best = 0
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i
  return best
}

function planCells (spec: MipSpec, ctx: Context): Cell[] {
  const { evaluator, bench } = ctx
  // f is part of every cell's key: a changed --full (or a table evaluator's f) must not replay
  // results computed against another full setting.
  const key = shortHash({ omega: spec.omega, mip: spec.mip, full: evaluator.fullLabel, fullKey: evaluator.fullKey ?? null })
  const cells: Cell[] = []
  const seeds = Array.from({ length: spec.seeds }, (_, k) => spec.seedStart + k)
  const test = bench !== undefined ? bench.column({ metric: 'test' }) : undefined
  const testOf = (row: number): number => test !== undefined ? test[row] : NaN
  const fields = { evaluator: evaluator.name, synthetic: evaluator.synthetic }
  const needMip = spec.parts.some(p => p === 'table1' || p === 'fig4' || p === 'table2')
  if (needMip) {
    for (const seed of seeds) {
      cells.push({
        id: `mip/${evaluator.name}/${key}/seed${seed}/v${MIP_PROTOCOL}`,
        fields,
        run: async () => {
          const r = await runMip(evaluator, { ...spec.mip, seed })
          const spent = r.samples.reduce((a, s) => a + s.cost, 0)
          const rs = await randomBpeSearch(evaluator, spent, { seed, archs: spec.mip.archs })
          return [
            ...r.samples.map(s => ({ kind: 'sample', seed, ...sampleRow(s) })),
            ...r.prunes.map(p => ({ kind: 'prune', seed, ...p })),
            ...rs.samples.map(s => ({ kind: 'random-sample', seed, ...sampleRow(s) })),
            { kind: 'summary', seed, full_cost: r.fullCost, best: r.best, eq1: r.eq1, pareto: r.pareto, mip_spent: spent, random_spent: rs.spent, random_best: rs.best }
          ]
        }
      })
    }
  }
  if (spec.smoke === true) {
    cells.push({
      id: `trainer-smoke/v${MIP_PROTOCOL}`,
      fields: { evaluator: 'trainer', synthetic: false },
      run: async () => {
        const { tf, backend } = await initTfBackend()
        const split = splitImages(openImageData('fashion-mnist'), 500, 1000)
        const connected = Int32Array.from({ length: nb201.size }, (_, i) => i).filter(i => nb201.prune(nb201.fromIndex(i)).some(x => x !== 0))
        const archs = drawArchs(connected, 4, 0)
        const setting = { epochs: 1, batch: 64, lr: 0.05, cells: 1, channels: 4, image: 14, cutout: 0 }
        const rows = []
        for (const a of archs) {
          const r = await trainCell(tf, nb201.fromIndex(a), setting, split, a)
          rows.push({ kind: 'trainer-smoke', backend, arch: nb201.format(nb201.fromIndex(a)), accuracy: r.best, loss: r.losses[0], cpu_seconds: r.cpuSeconds, seconds: r.seconds, params: r.params, flops: r.flops, diverged: r.diverged })
        }
        return rows
      }
    })
  }
  if (spec.parts.includes('fig3')) {
    for (const seed of seeds) {
      cells.push({
        id: `fig3/${evaluator.name}/${key}/seed${seed}/v${MIP_PROTOCOL}`,
        fields,
        run: async () => {
          const archs = drawArchs(evaluator.pool, spec.mip.archs, seed)
          const full = await evaluator.full(archs)
          const random = new Random(seed, 5)
          const uniform = spec.omega.dims.map(d => new Float64Array(d.values.length).fill(1 / d.values.length))
          const settings = drawUnseen(spec.omega, uniform, new Set(), 15, random, evaluator.available)
          const rows = []
          for (const [k, setting] of settings.entries()) {
            const e = await evaluator.evaluate(setting, archs)
            const fresh = drawArchs(evaluator.pool, Math.min(100, evaluator.pool.length), seed * 15 + k, 6)
            const pe = await evaluator.evaluate(setting, fresh)
            const pick = fresh[argmax(pe.accuracy)]
            const f = await evaluator.full(Int32Array.of(pick))
            rows.push({ kind: 'fig3', seed, point: k, key: settingKey(spec.omega, setting), rs: rankCorrelation(full.accuracy, e.accuracy), pick_full: f.accuracy[0], pick_test: testOf(pick), cost: e.cost })
          }
          return rows
        }
      })
    }
  }
  if (spec.parts.includes('table2') && bench !== undefined) {
    for (const seed of seeds) {
      cells.push({
        id: `table2/${evaluator.name}/${key}/seed${seed}/v${MIP_PROTOCOL}`,
        fields,
        run: async () => {
          const r = await runMip(evaluator, { ...spec.mip, seed })
          const pes: Array<{ name: string, setting?: number[] }> = [{ name: 'f' }, { name: 'BPE (argmax r_s)', setting: r.samples[r.best].setting }, { name: 'BPE (Eq. 1)', setting: r.samples[r.eq1].setting }]
          const fresh = drawArchs(evaluator.pool, 100, seed, 3)
          const rows = []
          for (const pe of pes) {
            const score = async (archs: Int32Array): Promise<{ accuracy: Float64Array, cost: number }> => pe.setting === undefined ? await evaluator.full(archs) : await evaluator.evaluate(Int32Array.from(pe.setting), archs)
            const e = await score(fresh)
            const pick = fresh[argmax(e.accuracy)]
            rows.push({ kind: 'table2', seed, search: 'RS-100', pe: pe.name, key: pe.setting === undefined ? 'f' : settingKey(spec.omega, pe.setting), test: testOf(pick), evaluations: 100, cost: 100 * e.cost })
            const ea = await evolve(benchSpace(bench), async archs => (await score(Int32Array.from(archs))).accuracy, { population: 20, generations: 4, seed })
            const best = ea.ranked[0]
            const unit = (await score(Int32Array.of(best.arch))).cost
            rows.push({ kind: 'table2', seed, search: 'EA', pe: pe.name, key: pe.setting === undefined ? 'f' : settingKey(spec.omega, pe.setting), test: testOf(best.arch), evaluations: ea.evaluations, cost: ea.evaluations * unit })
          }
          return rows
        }
      })
    }
  }
  if (ctx.tables !== undefined && spec.tables !== undefined) {
    const tables = ctx.tables
    const tv = nb201TablesBpe(tables, { metric: 'val' })
    const tt = nb201TablesBpe(tables, { metric: 'test' })
    const params = tables.cost('params')
    const test200 = tables.column({ metric: 'test', epochs: 200 })
    for (const seed of seeds) {
      cells.push({
        id: `nb201/${spec.tables.dataset}/archs${spec.mip.archs}/seed${seed}/v${MIP_PROTOCOL}`,
        fields: { evaluator: 'nb201-tables', synthetic: tables.synthetic, bench: tables.uri },
        run: async () => {
          const archs = drawArchs(tv.pool, spec.mip.archs, seed)
          const fv = await tv.full(archs); const bv = await tv.evaluate(Int32Array.of(0), archs)
          const ft = await tt.full(archs); const bt = await tt.evaluate(Int32Array.of(0), archs)
          const p = Float64Array.from(archs, a => params[a])
          const rows: Array<Record<string, unknown>> = [{ kind: 'nb201-rs', seed, rs12_val: rankCorrelation(fv.accuracy, bv.accuracy), rs12_test: rankCorrelation(ft.accuracy, bt.accuracy), rs_params_val: spearman(fv.accuracy, p) }]
          const fresh = drawArchs(tv.pool, 100, seed, 3)
          const v200 = (await tv.full(fresh)); const v12 = await tv.evaluate(Int32Array.of(0), fresh)
          const t = Float64Array.from(fresh, a => test200[a])
          const pick = (scores: ArrayLike<number>): number => test200[fresh[argmax(scores)]]
          rows.push({ kind: 'nb201-pick', seed, pe: '200-epoch val (f)', test: pick(v200.accuracy), cost: 100 * v200.cost })
          rows.push({ kind: 'nb201-pick', seed, pe: '12-epoch val (BPE)', test: pick(v12.accuracy), cost: 100 * v12.cost })
          rows.push({ kind: 'nb201-pick', seed, pe: 'params (max)', test: pick(Float64Array.from(fresh, a => params[a])), cost: 0 })
          rows.push({ kind: 'nb201-pick', seed, pe: 'random', test: t[0], cost: 0 })
          rows.push({ kind: 'nb201-pick', seed, pe: 'oracle (best test)', test: Math.max(...t), cost: NaN })
          return rows
        }
      })
    }
  }
  return cells
}

/** The worker-thread entry: the cells from the plan's data. */
export async function loadCells (spec: MipSpec): Promise<Cell[]> {
  return planCells(spec, await openContext(spec))
}

export interface MipExperimentResult { ran: number, skipped: number, remaining: number, partial: boolean, reportFile: string, run: string }

/** Runs every cell not yet in `out/results.jsonl` and writes the report (resumable; --jobs rows = 1 job's). */
export async function runMipExperiment (plan: MipPlan): Promise<MipExperimentResult> {
  const spec = resolveMipPlan(plan)
  preflightOut({ out: plan.out, outputs: MIP_OUTPUTS, force: plan.force })
  const ctx = await openContext(spec)
  if (spec.smoke === true) await initTfBackend()
  spec.omega = ctx.evaluator.omega
  for (const w of ctx.evaluator.warnings ?? []) plan.warn?.(w)
  if (spec.mip.archs > ctx.evaluator.pool.length) fail(`--archs ${spec.mip.archs} is above the evaluator's pool of ${ctx.evaluator.pool.length} architectures`)
  return await runExperiment({ ...plan, outputs: MIP_OUTPUTS }, () => ({
    cells: planCells(spec, ctx),
    spec: { module: 'mip', data: spec },
    settings: { ...spec },
    ...(spec.trainer !== undefined || spec.smoke === true ? { tfjsBackend: `${loadTf().getBackend()}${plan.jobs !== undefined && plan.jobs > 1 ? ' (worker threads)' : ''}` } : {}),
    report: async input => await writeReport(input, spec, ctx)
  }))
}

// ---- report ------------------------------------------------------------------------------

const f3 = (x: number): string => Number.isFinite(x) ? x.toFixed(3) : '—'
const f2 = (x: number): string => Number.isFinite(x) ? x.toFixed(2) : '—'
function ms (xs: number[], f = f3): string {
  const { mean, sd, n } = meanSd(xs)
  return n === 0 ? '—' : `${f(mean)} ± ${f(sd)}`
}
function paired (diffs: number[]): string {
  const { mean, sd, n } = meanSd(diffs)
  return n === 0 ? '—' : `${mean >= 0 ? '+' : ''}${f3(mean)} ± ${f3(n > 1 ? sd / Math.sqrt(n) : NaN)} (se, n ${n})`
}

async function writeReport (input: ReportInput, spec: MipSpec, ctx: Context): Promise<string> {
  const rows = input.rows
  const ev = ctx.evaluator
  const of = (kind: string): ResultRow[] => rows.filter(r => r.kind === kind)
  const lines = ['# MIP-BPE (Zheng et al., "Rethinking performance estimation in NAS")', '', input.header,
    `Evaluator **${ev.name}**${ev.synthetic ? ' — SYNTHETIC: architectures and accuracies of the synthetic NAS-Bench-201 teacher, r_s and GPU-hours from fits to the paper\'s result sheet; not real training' : ''}. ` +
    `Full setting f: ${ev.fullLabel}. Ω: ${spec.omega.dims.map(d => `${d.name} {${d.values.join(', ')}}`).join('; ')} (${omegaSize(spec.omega)} settings). ` +
    `Alg. 1: |G| ${spec.mip.archs}, K ${spec.mip.k}, T ${spec.mip.rounds}, τ ${spec.mip.tau}, λ ${spec.mip.lambda}, threshold ${spec.mip.threshold}, stop ${spec.mip.stop}, importance normalised per ${spec.mip.normalise}; forest ${spec.mip.trees} trees, ${spec.mip.maxFeatures} of the features per split, depth ${spec.mip.maxDepth}. Seeds ${spec.seedStart}–${spec.seedStart + spec.seeds - 1}.`, '']
  const calibration = (ev as Partial<CalibratedEvaluator>).calibration
  if (calibration !== undefined) lines.push(`${calibration.label}.`, '')
  const summaries = of('summary')
  const samplesOf = (kind: string, seed: number): ResultRow[] => rows.filter(r => r.kind === kind && r.seed === seed)
  if (summaries.length > 0) {
    const s0 = summaries[0]
    const seed0 = s0.seed as number
    const d0 = samplesOf('sample', seed0)
    const desc = (r: ResultRow): string => `${String(r.key)}`
    lines.push('## Table 1: the found BPE', '', `Seed ${seed0}: D holds ${d0.length} settings; T̄ in ${ev.costUnit} per architecture (f: ${f3(s0.full_cost as number)}).`, '')
    const best = d0[s0.best as number]; const eq1 = d0[s0.eq1 as number]
    lines.push(markdownTable(['Pick', 'Setting', 'r_s', `T̄ (${ev.costUnit})`], [
      ['argmax r_s (paper)', desc(best), f3(best.rs as number), f3(best.cost as number)],
      [`Eq. 1 optimum (r_s − ${spec.mip.lambda}·T̄_b/T̄_f)`, desc(eq1), f3(eq1.rs as number), f3(eq1.cost as number)]
    ]), '')
    lines.push('Pareto front of D (min T̄, max r_s):', '')
    lines.push(markdownTable(['Setting', 'r_s', `T̄ (${ev.costUnit})`], (s0.pareto as number[]).map(i => [desc(d0[i]), f3(d0[i].rs as number), f3(d0[i].cost as number)])), '')
    const bests = summaries.map(s => samplesOf('sample', s.seed as number)[s.best as number])
    lines.push(`Over ${summaries.length} seeds: r_s of the argmax ${ms(bests.map(b => b.rs as number))}, its T̄ ${ms(bests.map(b => b.cost as number))} ${ev.costUnit} (mean ± sd).`, '')
    lines.push('Paper (DARTS space, CIFAR-10; context only): BPE-1 10 epochs / batch 128 / lr 0.03 / 6 layers / 8 channels / 16 px, r_s 0.50, 0.08 GPU-h; BPE-2 30/128/0.03/16/16/16, 0.63, 0.55; DARTS\'s own 50/64/0.025/8/16/32, 0.57, 1.38.', '')
    const prunes = of('prune')
    const orders = summaries.map(s => prunes.filter(p => p.seed === s.seed).map(p => `${String(p.dim)}=${String(p.value)}${p.branch === 'cheapest' ? '' : '*'}`).join(' → '))
    lines.push('Prune order per seed (value fixed; * = from the max-r_s row, else the cheapest):', '')
    summaries.slice(0, 10).forEach((s, k) => lines.push(`- seed ${String(s.seed)}: ${orders[k]}`))
    const last = new Map<string, number>()
    for (const s of summaries) {
      const pruned = new Set(prunes.filter(p => p.seed === s.seed).map(p => String(p.dim)))
      for (const d of spec.omega.dims) if (!pruned.has(d.name)) last.set(d.name, (last.get(d.name) ?? 0) + 1)
    }
    lines.push('', `Dimension left unpruned: ${[...last].map(([d, n]) => `${d} ${n}×`).join(', ')} (of ${summaries.length} seeds).`, '')

    lines.push('## MIP against uniform random search over Ω at equal total training cost', '',
      'Best r_s in D; random search draws distinct settings uniformly, on the same G, until the next would exceed MIP\'s total T̄ (paired by seed).', '')
    const mipBest = summaries.map(s => Math.max(...samplesOf('sample', s.seed as number).map(r => r.rs as number)))
    const rsFound = summaries.map(s => { const r = samplesOf('random-sample', s.seed as number); return r.length > 0 ? Math.max(...r.map(x => x.rs as number)) : NaN })
    // A seed where random search affords no setting at MIP's cost has no BPE at all: its ranking
    // of G is uninformed, scored r_s = 0 (the expectation of a random order), not dropped.
    const rsNone = rsFound.filter(x => !Number.isFinite(x)).length
    const rsBest = rsFound.map(x => Number.isFinite(x) ? x : 0)
    lines.push(markdownTable(['Method', 'Best r_s (mean ± sd)', 'Settings evaluated', `Total T̄ (${ev.costUnit})`], [
      ['MIP', ms(mipBest), ms(summaries.map(s => samplesOf('sample', s.seed as number).length), f2), ms(summaries.map(s => s.mip_spent as number), f2)],
      ['Uniform RS', ms(rsBest), ms(summaries.map(s => samplesOf('random-sample', s.seed as number).length), f2), ms(summaries.map(s => s.random_spent as number), f2)]
    ]), '', `MIP − RS, paired: ${paired(mipBest.map((m, k) => m - rsBest[k]))}.`, '')
    if (rsNone > 0) {
      lines.push(`On ${rsNone} of ${summaries.length} seeds random search could not afford a single setting within MIP's total cost (its first draw cost more): it has no BPE there and is scored r_s = 0, the expectation for an uninformed ranking of G. Paired over only the ${summaries.length - rsNone} seeds where it afforded one: ${paired(mipBest.map((m, k) => m - rsFound[k]).filter(Number.isFinite))}.`, '')
    }

    if (spec.parts.includes('fig4')) {
      const forest = fitMipForest(spec.omega, d0.map(r => ({ setting: r.setting as number[], rs: r.rs as number })), spec.mip, seed0 * 64 + 99)
      const imp = forestImportance(forest, { normalise: spec.mip.normalise })
      const marg = mipMarginals(spec.omega, forest)
      lines.push('## Fig. 4: importance of each dimension', '', `The forest fitted on seed ${seed0}'s D (all ${d0.length} settings): MDI (Eq. 8) and fANOVA's main-effect share of the variance (exact over Ω's grid; mean ± sd over trees). Paper: epochs and layers most important.`, '')
      lines.push(markdownTable(['Dimension', 'Eq. 8 importance', 'fANOVA share', 'Marginal r_s per value (mean ± sd over trees)'], spec.omega.dims.map((d, i) => [
        d.name, f3(imp[i]), `${f3(marg.columns[i].fraction)} ± ${f3(marg.columns[i].fractionSd)}`,
        d.values.map((v, j) => `${v}: ${f3(marg.columns[i].mean[j])} ± ${f3(marg.columns[i].sd[j])}`).join('; ')
      ])), '')
      input.write('importance.svg', await barSvg({
        title: 'Importance of each training dimension', subtitle: ev.synthetic ? 'SYNTHETIC evaluator' : ev.name, xTitle: 'dimension', yTitle: 'importance',
        bars: spec.omega.dims.flatMap((d, i) => [{ group: d.name, series: 'Eq. 8 (MDI)', y: imp[i] }, { group: d.name, series: 'fANOVA share', y: marg.columns[i].fraction, sd: marg.columns[i].fractionSd }])
      }))
      lines.push('![importance](importance.svg)', '')
    }
  }
  const fig3 = of('fig3')
  if (fig3.length > 0) {
    const seeds = [...new Set(fig3.map(r => r.seed as number))]
    const per = seeds.map(s => { const r = fig3.filter(x => x.seed === s); return spearman(r.map(x => x.rs as number), r.map(x => x.pick_full as number)) })
    lines.push('## Fig. 3: r_s of a BPE against the quality of what it finds', '',
      `15 distinct uniformly random settings per seed; each ranks ${Math.min(100, ev.pool.length)} fresh architectures (random search with the setting as PE); Spearman between the settings\' r_s and their picks\' accuracy under f. Paper: 0.65 (its 15 points: Spearman 0.646, Pearson 0.51).`, '',
      `Spearman over ${seeds.length} seeds: ${ms(per)} (mean ± sd).`, '')
    const s0 = fig3.filter(x => x.seed === seeds[0])
    input.write('fig3.svg', await scatterSvg({ title: 'r_s of a BPE vs its pick\'s f-accuracy', subtitle: `seed ${seeds[0]}${ev.synthetic ? ', SYNTHETIC' : ''}`, xTitle: 'r_s', yTitle: 'f-accuracy of the pick', points: s0.map(r => ({ x: r.rs as number, y: r.pick_full as number })) }))
    lines.push('![fig3](fig3.svg)', '')
  }
  const t2 = of('table2')
  if (t2.length > 0) {
    lines.push('## Table 2: search with the found BPE', '', `Test accuracy of the pick (the teacher's final test accuracy${ev.synthetic ? ', SYNTHETIC' : ''}) and the search cost (evaluations × T̄ of the PE), mean ± sd over seeds; speed-up against the same search with PE = f. RS-100: 100 fresh random cells; EA: evolution (population 20, 4 generations).`, '')
    const groups = [...new Set(t2.map(r => `${String(r.search)}|${String(r.pe)}`))]
    const fCost = (search: string): number => meanSd(t2.filter(r => r.search === search && r.pe === 'f').map(r => r.cost as number)).mean
    lines.push(markdownTable(['Search', 'PE', 'Test accuracy', `Cost (${ev.costUnit})`, 'Speed-up'], groups.map(g => {
      const [search, pe] = g.split('|')
      const r = t2.filter(x => x.search === search && x.pe === pe)
      const cost = meanSd(r.map(x => x.cost as number)).mean
      return [search, pe, ms(r.map(x => x.test as number), f2), f2(cost), pe === 'f' ? '1×' : `${(fCost(search) / cost).toFixed(0)}×`]
    })), '', 'Paper (CIFAR-10 error %, GPU-days): RS-100 2.55, 108; +BPE-1 2.68 ± 0.09, 0.33 (337×); +BPE-2 2.68 ± 0.05, 2 (54×); EA+BPE-1 2.68 ± 0.09, 0.33; EA+BPE-2 2.66 ± 0.07, 2.', '')
  }
  const smoke = of('trainer-smoke')
  if (smoke.length > 0) {
    lines.push('## Trainer smoke (real training)', '',
      `4 random connected NB-201 cells, each trained 1 epoch (batch 64, lr 0.05, N 1, C 4, 14 px) on 1,000 images of the shipped Fashion-MNIST subset (tfjs ${String(smoke[0].backend)}); top-1 on 500 held-out images (chance 10 %).`, '')
    lines.push(markdownTable(['Cell', 'Params', 'Training loss', 'Val top-1 (%)', 'CPU s'], smoke.map(r => [String(r.arch), String(r.params), f3(r.loss as number), f2(r.accuracy as number), f2(r.cpu_seconds as number)])), '')
  }
  const nrs = of('nb201-rs')
  if (nrs.length > 0 && spec.tables !== undefined) {
    const picks = of('nb201-pick')
    lines.push(`## NAS-Bench-201 (${spec.tables.dataset}, real tables): the 12-epoch schedule as a BPE of the 200-epoch one`, '',
      `${ctx.tables?.label ?? spec.tables.uri}. r_s over ${spec.mip.archs} random connected cells per seed (${nrs.length} draws), mean ± sd:`, '')
    lines.push(markdownTable(['Pair', 'r_s'], [
      ['12-epoch val vs 200-epoch val', ms(nrs.map(r => r.rs12_val as number))],
      ['12-epoch test vs 200-epoch test', ms(nrs.map(r => r.rs12_test as number))],
      ['params vs 200-epoch val (proxy)', ms(nrs.map(r => r.rs_params_val as number))]
    ]), '')
    lines.push('RS-100 (100 fresh random connected cells per seed): 200-epoch test accuracy of the pick by each PE, and the training cost of the PE (train_time of the 200-epoch run; the 12-epoch cost estimated as 12/200 of it):', '')
    const pes = [...new Set(picks.map(r => String(r.pe)))]
    lines.push(markdownTable(['PE', 'Test accuracy (mean ± sd)', 'Cost (GPU-s, mean)'], pes.map(pe => {
      const r = picks.filter(x => x.pe === pe)
      return [pe, ms(r.map(x => x.test as number), f2), f2(meanSd(r.map(x => x.cost as number)).mean)]
    })), '')
  }
  return input.write('report.md', lines.join('\n') + '\n')
}
