// `nasrank search` once its options are validated (search-args.ts): the search experiment on
// the shared runner (runSearchExperiment), with Ctrl-C handling, progress with ETA and the
// report printed. A PlanError from the runner (a budget above the space, an unknown dataset…)
// is a usage error (exit 2), reported by cli.ts.
import * as fs from 'node:fs'
import { openingStatus } from '../cli-args'
import { StatusLine } from '../progress'
import { formatProgress } from './runner'
import { runSearchExperiment, type SearchPlan } from './search'
import type { SearchArgs } from './search-args'

export async function runSearchCommand (args: SearchArgs, log: (line: string) => void = line => console.error(line)): Promise<void> {
  const controller = new AbortController()
  let interrupts = 0
  // On a TTY, say what the silent start is doing (opening the bench; synthetic-101 takes seconds).
  const status = new StatusLine()
  const say = (line: string): void => { status.clear(); log(line) }
  const onSigint = (): void => {
    interrupts++
    if (interrupts > 1) process.exit(130)
    say('interrupted: finished cells are saved; writing the report (Ctrl-C again to quit at once)')
    controller.abort(new Error('interrupted'))
  }
  process.on('SIGINT', onSigint)
  let resumedLogged = false
  const plan: SearchPlan = {
    methods: args.methods,
    bench: args.bench,
    ...(args.dataset !== undefined ? { dataset: args.dataset } : {}),
    budget: args.budget,
    ...(args.checkpoints !== undefined ? { checkpoints: args.checkpoints } : {}),
    seeds: args.seeds,
    seedStart: args.seedStart,
    ...(args.epochs !== undefined ? { epochs: args.epochs } : {}),
    jobs: args.jobs,
    out: args.out,
    force: args.force,
    command: process.argv.slice(2),
    signal: controller.signal,
    warn: line => say(`warning: ${line}`),
    progress: (done, total, label, timing) => {
      if (timing === undefined) {
        if (!resumedLogged && done > 0) say(`resuming: ${done} of ${total} cells already in ${args.out}`)
        else status.show(`running ${total - done} search cells`)
        resumedLogged = true
        return
      }
      say(formatProgress(done, total, label, timing))
    }
  }
  status.show(openingStatus(args.bench))
  try {
    const result = await runSearchExperiment(plan)
    say(`${result.ran} cells run, ${result.skipped} reused${result.partial ? `, ${result.remaining} to do` : ''}; report: ${result.reportFile}`)
    process.stdout.write(fs.readFileSync(result.reportFile, 'utf8'))
    if (controller.signal.aborted) process.exitCode = 130
  } finally {
    status.clear()
    process.off('SIGINT', onSigint)
  }
}
