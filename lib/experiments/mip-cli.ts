// `nasrank reproduce mip` and `nasrank bpe` once their options are validated (mip-args.ts).
import { interruptible } from '../cli-args'
import * as fs from 'node:fs'
import { openBench } from '../bench/open'
import { syntheticBpe } from '../bpe/evaluators'
import { runMip } from '../bpe/mip'
import { readBpeTable, tableBpe } from '../bpe/table'
import { recordedEvaluator } from '../bpe/record'
import { calibrateSecondsCost } from '../bpe/cost-model'
import { PAPER_OMEGA, parseOmega, OmegaError } from '../bpe/omega'
import { markdownTable } from '../report/table'
import { initTfBackend } from '../models/backend'
import { openImageData } from '../data/idx'
import { CPU_OMEGA, trainerBpe } from '../bpe/trainer-bpe'
import { formatProgress, PlanError } from './runner'
import { runMipExperiment } from './mip'
import type { BpeArgs, MipCliOptions, ReproduceMipArgs } from './mip-args'

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
      mip: mipOf(a), ...(a.trainer !== undefined ? { trainer: a.trainer } : {}), ...(a.fullTable !== undefined ? { fullTable: a.fullTable } : {}), ...(a.quick ? { smoke: true } : {}), ...(a.parts !== undefined ? { parts: a.parts } : {}), ...(a.tables !== undefined ? { tables: a.tables } : {}), ...(a.dataset !== undefined ? { dataset: a.dataset } : {}),
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

/** One MIP run, as Markdown (or JSON). */
export async function runBpe (a: BpeArgs): Promise<string> {
  let omega = a.evaluator === 'trainer' ? CPU_OMEGA : PAPER_OMEGA
  try {
    if (a.omega !== undefined) omega = parseOmega(a.omega)
  } catch (err) { throw new PlanError((err as Error).message) }
  let ev
  if (a.evaluator === 'trainer') {
    let data
    try { data = openImageData(a.trainer?.data ?? 'fashion-mnist') } catch (err) { throw new PlanError((err as Error).message) }
    let fullTable
    if (a.fullTable !== undefined) {
      try { fullTable = await openBench(a.fullTable) } catch (err) { throw new PlanError(`--full ${a.fullTable}: ${(err as Error).message}`) }
    }
    const { tf, backend } = await initTfBackend()
    console.error(`tfjs backend: ${backend}`)
    let n = 0
    try {
      ev = trainerBpe(tf, {
        data, omega, ...(a.full !== undefined ? { full: a.full } : {}), ...(a.trainer?.val !== undefined ? { val: a.trainer.val } : {}),
        ...(a.trainer?.trainImages !== undefined ? { trainImages: a.trainer.trainImages } : {}), seed: a.trainer?.seed ?? 0,
        ...(a.trainer?.cost !== undefined ? { cost: a.trainer.cost } : {}), ...(fullTable !== undefined ? { fullTable } : {}),
        onTrained: (arch, what, r) => console.error(`trained ${++n}: arch ${arch} (${what}) top-1 ${r.best.toFixed(2)} %, ${r.cpuSeconds.toFixed(1)} CPU-s (${r.seconds.toFixed(1)} s wall)${r.diverged ? ', diverged' : ''}`)
      })
    } catch (err) { throw new PlanError((err as Error).message) }
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
