// `nasrank reproduce mip` and `nasrank bpe` once their options are validated (mip-args.ts).
import { interruptible } from '../cli-args'
import * as fs from 'node:fs'
import { openBench } from '../bench/open'
import { syntheticBpe } from '../bpe/evaluators'
import { estimateMip, runMip, type BpeEvaluator } from '../bpe/mip'
import { readBpeTable, tableBpe } from '../bpe/table'
import { recordedEvaluator } from '../bpe/record'
import { calibrateSecondsCost } from '../bpe/cost-model'
import { PAPER_OMEGA, parseOmega, OmegaError } from '../bpe/omega'
import { markdownTable } from '../report/table'
import { initTfBackend } from '../models/backend'
import { openImageData } from '../data/idx'
import { checkPresetData, CPU_OMEGA, omegaWithoutLr, TRAINER_PRESETS, trainerBpe } from '../bpe/trainer-bpe'
import { formatProgress, PlanError } from './runner'
import { runMipExperiment } from './mip'
import type { BpeArgs, BpeGridArgs, MipCliOptions, ReproduceMipArgs } from './mip-args'
import * as path from 'node:path'
import { runGrid } from '../bpe/grid'
import { omegaSize } from '../bpe/omega'

function mipOf (a: MipCliOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of ['archs', 'k', 'rounds', 'tau', 'lambda', 'threshold', 'stop', 'normalise'] as const) if (a[k] !== undefined) out[k] = a[k]
  return out
}

/** Runs the experiment; 0, or 130 when interrupted (finished cells kept, report partial). */
export async function reproduceMip (a: ReproduceMipArgs & { command: string[] }, log: (line: string) => void = line => console.error(line)): Promise<number> {
  const controller = interruptible(log)
  try {
    const result = await runMipExperiment({
      out: a.out, force: a.force, jobs: a.jobs, command: a.command, signal: controller.signal,
      evaluator: a.evaluator, ...(a.full !== undefined ? { full: a.full } : {}), ...(a.omega !== undefined ? { omega: a.omega } : {}), seeds: a.seeds, seedStart: a.seedStart,
      mip: mipOf(a), ...(a.trainer !== undefined ? { trainer: a.trainer } : {}), ...(a.fullTable !== undefined ? { fullTable: a.fullTable } : {}), ...(a.preset !== undefined ? { preset: a.preset } : {}), ...(a.quick ? { smoke: true } : {}), ...(a.parts !== undefined ? { parts: a.parts } : {}), ...(a.tables !== undefined ? { tables: a.tables } : {}), ...(a.dataset !== undefined ? { dataset: a.dataset } : {}),
      warn: line => log(`warning: ${line}`),
      progress: (done, total, label, timing) => { if (timing !== undefined) log(formatProgress(done, total, label, timing)) }
    })
    log(`${result.ran} cells run, ${result.skipped} reused${result.partial ? `, ${result.remaining} to do` : ''}; report: ${result.reportFile}`)
    process.stdout.write(fs.readFileSync(result.reportFile, 'utf8'))
    return controller.signal.aborted ? 130 : 0
  } finally {
    controller.dispose()
  }
}

/** The trainer evaluator of `nasrank bpe` / `bpe grid` (preset, data, f, image counts; errors as PlanError). */
export async function openTrainer (a: MipCliOptions, cost?: 'flops' | 'seconds'): Promise<BpeEvaluator> {
  const preset = a.preset !== undefined ? TRAINER_PRESETS[a.preset] : undefined
  const lrTie = a.trainer?.lrTie === true
  let omega = preset?.omega ?? CPU_OMEGA
  try {
    if (a.omega !== undefined) omega = parseOmega(a.omega)
    else if (lrTie) omega = omegaWithoutLr(omega)
  } catch (err) { throw new PlanError((err as Error).message) }
  let data
  try {
    data = openImageData(a.trainer?.data ?? 'fashion-mnist')
    if (a.preset !== undefined) checkPresetData(a.preset, data)
  } catch (err) { throw new PlanError((err as Error).message) }
  let fullTable
  if (a.fullTable !== undefined) {
    try { fullTable = await openBench(a.fullTable) } catch (err) { throw new PlanError(`--full ${a.fullTable}: ${(err as Error).message}`) }
  }
  const full = a.fullTable === undefined && (preset !== undefined || a.full !== undefined) ? { ...preset?.full, ...a.full } : undefined
  const val = a.trainer?.val ?? preset?.val
  const trainImages = a.trainer?.trainImages ?? preset?.trainImages
  const costMode = cost ?? a.trainer?.cost
  const { tf, backend } = await initTfBackend()
  console.error(`tfjs backend: ${backend}`)
  let n = 0
  try {
    return trainerBpe(tf, {
      data, omega, ...(full !== undefined ? { full } : {}), ...(val !== undefined ? { val } : {}),
      ...(trainImages !== undefined ? { trainImages } : {}), seed: a.trainer?.seed ?? 0,
      ...(costMode !== undefined ? { cost: costMode } : {}), ...(fullTable !== undefined ? { fullTable } : {}), ...(preset !== undefined ? { fullName: preset.fullName } : {}), ...(lrTie ? { lrTie } : {}),
      onTrained: (arch, what, r) => console.error(`trained ${++n}: arch ${arch} (${what}) top-1 ${r.best.toFixed(2)} %, ${r.cpuSeconds.toFixed(1)} CPU-s (${r.seconds.toFixed(1)} s wall)${r.diverged ? ', diverged' : ''}`)
    })
  } catch (err) { throw new PlanError((err as Error).message) }
}

/** `nasrank bpe --plan`: the size of one MIP run, without training. */
export function planText (ev: BpeEvaluator, a: MipCliOptions): string {
  let est
  try { est = estimateMip(ev, mipOf(a)) } catch (err) { throw new PlanError((err as Error).message) }
  const archs = a.archs ?? 100
  const images = ev.trainImages
  const unit = images !== undefined ? 'GFLOP per training' : 'relative FLOPs'
  const scale = images !== undefined ? images / 1e9 : 1
  const g = (x: number): string => Number.isFinite(x) ? (x * scale).toPrecision(4) : '—'
  const lines = [`Plan of one MIP run on ${ev.name} (nothing trained):`, '',
    `- Ω: ${ev.omega.dims.map(d => `${d.name} {${d.values.join(', ')}}`).join('; ')} (${est.settings.toLocaleString('en-US')} settings)`,
    `- f: ${ev.fullLabel}`,
    `- |G| ${archs}, K ${a.k ?? 10}: ${est.evaluated} settings evaluated (K·(d−1)), ${est.trainings.toLocaleString('en-US')} trainings including f`,
    `- a setting drawn by round 1's Eq. 2 costs ${g(est.meanFlops)} ${unit} on average (Ω's cheapest ${g(est.minFlops)}, dearest ${g(est.maxFlops)}); later rounds fix dimensions, mostly to cheap values`]
  if (images !== undefined) lines.push(`- estimate, b trainings: ≈ ${(est.meanFlops * scale * (est.trainings - archs)).toPrecision(4)} GFLOP (${images} training images per epoch), plus f`)
  return lines.join('\n') + '\n'
}

/** One MIP run, as Markdown (or JSON). */
export async function runBpe (a: BpeArgs): Promise<string> {
  let omega = PAPER_OMEGA
  try {
    if (a.omega !== undefined && a.evaluator !== 'trainer') omega = parseOmega(a.omega)
  } catch (err) { throw new PlanError((err as Error).message) }
  let ev: BpeEvaluator
  if (a.evaluator === 'trainer') {
    ev = await openTrainer(a)
    if (a.plan) return planText(ev, a)
  } else if (a.evaluator.startsWith('table:')) {
    const file = a.evaluator.slice('table:'.length)
    if (!fs.existsSync(file)) throw new PlanError(`--bpe ${a.evaluator}: no such file`)
    ev = tableBpe(readBpeTable(file), a.full !== undefined ? { full: a.full } : {})
  } else ev = syntheticBpe(await openBench('synthetic-201'), { omega })
  for (const w of ev.warnings ?? []) console.error(`warning: ${w}`)
  const recorded = a.record !== undefined ? recordedEvaluator(ev, a.record, line => console.error(`warning: ${line}`)) : undefined
  if (recorded !== undefined) ev = recorded
  if (a.evaluator === 'trainer' && a.trainer?.cost === 'seconds') {
    const calibrated = await calibrateSecondsCost(ev)
    console.error(calibrated.calibration.label)
    ev = calibrated
  }
  let r
  try {
    r = await runMip(ev, { ...mipOf(a), seed: a.seed, warn: line => console.error(`warning: ${line}`) })
  } catch (err) {
    if (err instanceof OmegaError) throw new PlanError(err.message)
    throw err
  }
  if (recorded !== undefined) console.error(`${recorded.measured} measurements made, ${recorded.replayed} replayed from ${a.record as string}`)
  if (a.json) return JSON.stringify({ evaluator: ev.name, synthetic: ev.synthetic, full: ev.fullLabel, cost_unit: ev.costUnit, ...r }, null, 2) + '\n'
  const row = (i: number): string[] => [r.samples[i].key, r.samples[i].rs.toFixed(3), r.samples[i].cost.toFixed(3)]
  return [`MIP on ${ev.name}${ev.synthetic ? ' (SYNTHETIC — not real training)' : ''}, seed ${a.seed}: ${r.samples.length} settings evaluated on |G| = ${r.archs.length}; T̄_f ${r.fullCost.toFixed(3)} ${ev.costUnit}.`, '', `Full setting f: ${ev.fullLabel}.`, '',
    markdownTable(['Pick', 'Setting', 'r_s', `T̄ (${ev.costUnit})`], [['argmax r_s', ...row(r.best)], [`Eq. 1 (λ ${r.options.lambda})`, ...row(r.eq1)]]), '',
    'Pareto front (min T̄, max r_s):', '', markdownTable(['Setting', 'r_s', `T̄ (${ev.costUnit})`], r.pareto.map(row)), '',
    `Prune order: ${r.prunes.map(p => `${p.dim}=${p.value} (${p.branch})`).join(' → ')}`, ''].join('\n')
}

/** `nasrank bpe grid`: 0, or 130 when interrupted (the CSV holds the settings finished). */
export async function runBpeGrid (a: BpeGridArgs, log: (line: string) => void = line => console.error(line)): Promise<number> {
  const ev = await openTrainer(a.trainer, 'seconds')
  if (a.archs > ev.pool.length) throw new PlanError(`--archs ${a.archs} is above the trainer's pool of ${ev.pool.length} cells`)
  const total = omegaSize(ev.omega)
  log(`bpe grid: ${total} settings × ${a.archs} cells = ${total * a.archs} trainings; recorded in ${path.join(a.out, 'results.jsonl')}`)
  fs.mkdirSync(a.out, { recursive: true })
  const controller = interruptible(log)
  try {
    const r = await runGrid(ev, { archs: a.archs, seed: a.seed, record: a.out, csv: a.csv, signal: controller.signal, progress: (done, n, key) => log(`setting ${done}/${n} done: ${key}`) })
    log(`${r.measured} trainings run, ${r.replayed} replayed; ${r.rows} rows (${r.settings} settings${r.complete ? '' : ', interrupted: re-run to finish'}) written to ${r.csv}`)
    return r.complete ? 0 : 130
  } finally {
    controller.dispose()
  }
}
