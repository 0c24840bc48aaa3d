// The bridge from `nasrank search` (search-cli.ts: options validated) to the shared runner's
// search experiment, runSearchExperiment in lib/experiments/search.ts. That module is written
// on its own branch; until it is merged the command says so (exit 1) instead of running.
// INTEGRATION: once search.ts exists, import runSearchExperiment statically and build its plan
// from SearchArgs here (the plan's field names are the runner's); nothing else changes.
import type { SearchArgs } from './search-cli'

/** What the command hands the runner: the validated options, Ctrl-C and a log for progress lines. */
export interface SearchCommandPlan extends SearchArgs {
  signal: AbortSignal
  log: (line: string) => void
}

type RunSearchExperiment = (plan: SearchCommandPlan) => Promise<unknown>

function loadRunner (): RunSearchExperiment {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('./search') as { runSearchExperiment?: RunSearchExperiment }
    if (typeof mod.runSearchExperiment === 'function') return mod.runSearchExperiment
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    if (!(e.code === 'MODULE_NOT_FOUND' && e.message.includes("'./search'"))) throw err
  }
  throw new Error('search: this build of nasrank has no search runner (lib/experiments/search.ts, runSearchExperiment)')
}

export async function runSearchCommand (args: SearchArgs, log: (line: string) => void = line => console.error(line)): Promise<void> {
  const runSearchExperiment = loadRunner()
  const controller = new AbortController()
  let interrupts = 0
  const onSigint = (): void => {
    interrupts++
    if (interrupts > 1) process.exit(130)
    log('interrupted: finished runs are saved (Ctrl-C again to quit at once)')
    controller.abort(new Error('interrupted'))
  }
  process.on('SIGINT', onSigint)
  try {
    await runSearchExperiment({ ...args, signal: controller.signal, log })
    if (controller.signal.aborted) process.exitCode = 130
  } finally {
    process.off('SIGINT', onSigint)
  }
}
