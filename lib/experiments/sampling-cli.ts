// `nasrank reproduce sampling`, less its argument parsing: Ctrl-C handling, progress with ETA,
// the report printed. PlanError (runner.ts) is the usage error: exit 2.
import { interruptible } from '../cli-args'
import * as fs from 'node:fs'
import { formatProgress } from './runner'
import { runSamplingExperiment, type SamplingPlan } from './sampling'
import type { SamplingArgs } from './sampling-args'

export async function samplingCommandRun (args: SamplingArgs, command: string[], log: (line: string) => void = line => console.error(line)): Promise<number> {
  const controller = interruptible(log)
  let resumedLogged = false
  const plan: SamplingPlan = {
    bench: args.bench,
    ...(args.dataset !== undefined ? { dataset: args.dataset } : {}),
    ...(args.rows !== undefined ? { variants: args.rows } : {}),
    ...(args.pools !== undefined ? { pools: args.pools } : {}),
    ...(args.figures !== undefined ? { figures: args.figures } : {}),
    ...(args.budget !== undefined ? { budget: args.budget } : {}),
    ...(args.checkpoints !== undefined ? { checkpoints: args.checkpoints } : {}),
    ...(args.seeds !== undefined ? { seeds: args.seeds } : {}),
    ...(args.seedStart !== undefined ? { seedStart: args.seedStart } : {}),
    gcn: args.gcn,
    ...(args.quick ? { bananas: { epochs: 50 } } : {}),
    jobs: args.jobs,
    out: args.out,
    force: args.force,
    command,
    signal: controller.signal,
    warn: line => log(`warning: ${line}`),
    progress: (done, total, label, timing) => {
      if (timing === undefined) {
        if (!resumedLogged && done > 0) log(`resuming: ${done} of ${total} cells already in ${args.out}`)
        resumedLogged = true
        return
      }
      log(formatProgress(done, total, label, timing))
    }
  }
  try {
    const result = await runSamplingExperiment(plan)
    log(`${result.ran} cells run, ${result.skipped} reused${result.partial ? `, ${result.remaining} to do` : ''}; report: ${result.reportFile}`)
    process.stdout.write(fs.readFileSync(result.reportFile, 'utf8'))
    const q = args.quickFigures
    if (q !== undefined && !controller.signal.aborted) {
      log(`--quick, part 2: Figs ${q.figures.join(', ')} on ${q.bench} into ${q.out}`)
      resumedLogged = false
      const figs = await runSamplingExperiment({ ...plan, bench: q.bench, seeds: q.seeds, budget: q.budget, gcn: q.gcn, figures: q.figures, out: q.out, variants: undefined, pools: undefined, checkpoints: undefined })
      log(`${figs.ran} cells run, ${figs.skipped} reused${figs.partial ? `, ${figs.remaining} to do` : ''}; report: ${figs.reportFile}`)
      process.stdout.write('\n' + fs.readFileSync(figs.reportFile, 'utf8'))
    }
    return controller.signal.aborted ? 130 : 0
  } finally {
    controller.dispose()
  }
}
