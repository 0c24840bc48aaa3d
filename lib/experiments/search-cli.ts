// `nasrank search`, less its argument parsing (lib/cli.ts parses; this runs): Ctrl-C handling,
// progress with ETA, the report printed. PlanError (runner.ts) is the usage error: exit 2.
import * as fs from 'node:fs'
import { formatProgress } from './runner'
import { runSearchExperiment, type SearchPlan } from './search'

export const SEARCH_USAGE = `nasrank search --method rs,re,ls,bananas --bench <uri> [options]
  --method a,b,…       search methods: rs, re, ls, bananas, agnet (the first is the baseline of the paired differences)
  --bench <uri>        synthetic-201, nb201:<table.csv>, nb201:<dir> (several budgets), synthetic-101, nb101:<file>
  --dataset NAME       dataset of an nb201:<dir> holding several (e.g. cifar100)
  --budget N           distinct architectures per search (default 200)
  --checkpoints a,b,…  query counts in the table (default 25,50,100,150,200 up to the budget)
  --seeds N            seeds per method (default 20), from --seed-start (default 0)
  --epochs N           training budget the search reads (default the bench's largest)
  --jobs N             cells run at once in worker threads (default 1)
  --out DIR            results folder; re-running with the same DIR resumes (default ./search-results)
  --force              overwrite files in DIR that nasrank did not write`

/** What `nasrank search` passes after parsing its options. */
export interface SearchCommandOptions {
  methods: string[]
  bench: string
  dataset?: string
  budget?: number
  checkpoints?: number[]
  seeds?: number
  seedStart?: number
  epochs?: number
  jobs?: number
  out: string
  force?: boolean
  /** The command line after `nasrank` (recorded as provenance), e.g. process.argv.slice(2). */
  command: string[]
}

/**
 * Runs the search experiment as a command: logs progress with ETA to `log`, prints the report
 * to stdout, and returns the exit code (0, or 130 when interrupted by Ctrl-C: finished cells
 * are kept and the report is marked partial; a second Ctrl-C exits at once). Throws PlanError
 * for bad options (before any work) and other errors as they come.
 */
export async function searchCommand (options: SearchCommandOptions, log: (line: string) => void = line => console.error(line)): Promise<number> {
  const controller = new AbortController()
  let interrupts = 0
  const onSigint = (): void => {
    interrupts++
    if (interrupts > 1) process.exit(130)
    log('interrupted: finished cells are saved; writing the report (Ctrl-C again to quit at once)')
    controller.abort(new Error('interrupted'))
  }
  process.on('SIGINT', onSigint)
  let resumedLogged = false
  const plan: SearchPlan = {
    ...options,
    signal: controller.signal,
    warn: line => log(`warning: ${line}`),
    progress: (done, total, label, timing) => {
      if (timing === undefined) {
        if (!resumedLogged && done > 0) log(`resuming: ${done} of ${total} cells already in ${options.out}`)
        resumedLogged = true
        return
      }
      log(formatProgress(done, total, label, timing))
    }
  }
  try {
    const result = await runSearchExperiment(plan)
    log(`${result.ran} cells run, ${result.skipped} reused${result.partial ? `, ${result.remaining} to do` : ''}; report: ${result.reportFile}`)
    process.stdout.write(fs.readFileSync(result.reportFile, 'utf8'))
    return controller.signal.aborted ? 130 : 0
  } finally {
    process.off('SIGINT', onSigint)
  }
}
