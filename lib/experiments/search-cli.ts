// `nasrank search`, less its argument parsing (lib/cli.ts parses; this runs): Ctrl-C handling,
// progress with ETA, the report printed. PlanError (runner.ts) is the usage error: exit 2.
import { interruptible } from '../cli-args'
import * as fs from 'node:fs'
import { formatProgress } from './runner'
import { runSearchExperiment, type SearchPlan } from './search'
import { type QueueUrl } from './queue-url'

export const SEARCH_USAGE = `nasrank search --method rs,re,ls,bananas,ctnas --bench <uri> [options]
  --method a,b,…       search methods: rs, re, ls, bananas, ctnas, sampling, agnet (the first is the baseline of the paired differences)
  --bench <uri>        synthetic-201, nb201:<table.csv>, nb201:<dir> (several budgets), synthetic-101, nb101:<file>
  --dataset NAME       dataset of an nb201:<dir> holding several (e.g. cifar100)
  --budget N           distinct architectures per search (default 200)
  --checkpoints a,b,…  query counts in the table (default 25,50,100,150,200 up to the budget)
  --seeds N            seeds per method (default 20), from --seed-start (default 0)
  --epochs N           training budget the search reads (default the bench's largest)
  --jobs N             cells run at once in worker threads (default 1)
  --queue <url>        run the cells on a grid of \`nasrank worker\` processes (Redis URL)
  --out DIR            results folder; re-running with the same DIR resumes (default ./search-results)
  --force              overwrite files in DIR that nasrank did not write
  --sampler S          sampling's candidate pool: whole, uniform, ml, ev (default whole)
  --pool N|all         sampling's pool size N′ (default 100); all = --sampler whole
  --gcn-width N        sampling's GCN units per layer (default 256)
  --gcn-epochs N       sampling's SGD steps per iteration (default 2000)
  --lr x, --momentum x sampling's SGD (defaults 0.01, 0.9)
  --initial N, --k N   sampling's T₀ >= 2 and K >= 1 (defaults 4, 4)
  --parents N, --alpha x, --p-mutate x  sampling's ev pool: P >= 1, α in [0, 1], p_mutate in (0, 1] (defaults 10, 0.5, 0.05)`

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
  /** Run the cells on a grid (BullMQ on Redis; queue.ts) instead of in this process. */
  queue?: QueueUrl
  /** Settings per method, e.g. { ctnas: { iterations: 1000 }, sampling: { sampler: 'ev' } } (validated by each method). */
  methodSettings?: Record<string, Record<string, unknown>>
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
  const controller = interruptible(log)
  let resumedLogged = false
  const { queue, ...rest } = options
  const plan: SearchPlan = {
    ...rest,
    ...(queue !== undefined ? { executor: gridExecutor(queue, log) } : {}),
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
    if (controller.signal.aborted) return 130
    return failedCells(result.failed.length, log)
  } finally {
    controller.dispose()
  }
}

/** The grid executor (queue.ts, loaded only for a run with --queue). */
export function gridExecutor (queue: QueueUrl, log: (line: string) => void): NonNullable<SearchPlan['executor']> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { queueExecutor } = require('./queue') as typeof import('./queue')
  return queueExecutor({ queue, log })
}

/** Exit status 1 when cells failed on the grid (their errors are in the report), else 0. */
export function failedCells (n: number, log: (line: string) => void): number {
  if (n === 0) return 0
  log(`${n} cell${n === 1 ? '' : 's'} failed on the grid (errors in the report); run the command again to retry ${n === 1 ? 'it' : 'them'}`)
  return 1
}
