// `nasrank worker` and `nasrank grid status|retry|clean`: the grid's side of the command line.
// Options are validated here (light: help loads neither BullMQ nor the addon); the actions
// load queue.ts.
import { Command } from 'commander'
import { integer, UsageError } from '../cli-args'
import { parseQueueUrl, type QueueUrl } from './queue-url'

const QUEUE_HELP = 'Redis URL of the grid: redis://[user:password@]host[:port][/db], rediss://… for TLS, or env:NAME to read it from the environment variable NAME'

function queueOf (raw: string | undefined): QueueUrl {
  if (raw === undefined) throw new UsageError('--queue <url> is required (the Redis server of the grid, e.g. redis://grid-head:6379/0)')
  return parseQueueUrl(raw)
}

function queueLib (): typeof import('./queue') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./queue') as typeof import('./queue')
}

interface RawWorkerOptions { queue?: string, jobs: string, lockDuration: string, stalledInterval?: string, maxStalled: string, quiet?: boolean }

export function workerCommand (): Command {
  return new Command('worker')
    .summary('run cells of a grid: take them from the queue of `--queue` runs, until stopped')
    .description('Takes experiment cells queued by `nasrank reproduce … --queue` / `nasrank search --queue` runs on any server ' +
      'and runs them, --jobs at a time in worker threads, with the same code as local runs; the rows go back to the ' +
      'submitter through Redis. Benchmarks are opened by uri on this server: a file that differs from the ' +
      'one the run was planned on is refused. Ctrl-C (or SIGTERM) finishes the running cells, then exits; a second one exits at once ' +
      '(the cells are taken up by other workers after the lock expires).')
    .option('--queue <url>', QUEUE_HELP)
    .option('--jobs <N>', 'cells at once, each in a worker thread (up to the cores of this server)', '1')
    .option('--lock-duration <ms>', 'lock of a running cell, renewed every half; a killed worker\'s cells run again after about this plus --stalled-interval', '30000')
    .option('--stalled-interval <ms>', 'how often this worker looks for cells of dead workers (default: --lock-duration)')
    .option('--max-stalled <N>', 'times a cell may be taken up again after its worker died before it fails', '2')
    .option('--quiet', 'log failures only, not every finished cell')
    .addHelpText('after', '\nExample:\n  nasrank worker --queue redis://grid-head:6379/0 --jobs 8\n  NASRANK_QUEUE=redis://:secret@grid-head:6379 nasrank worker --queue env:NASRANK_QUEUE')
    .action(async (raw: RawWorkerOptions) => {
      const queue = queueOf(raw.queue)
      const jobs = integer('--jobs', raw.jobs, 1)
      const lockDurationMs = integer('--lock-duration', raw.lockDuration, 100)
      const stalledIntervalMs = raw.stalledInterval === undefined ? lockDurationMs : integer('--stalled-interval', raw.stalledInterval, 100)
      const maxStalledCount = integer('--max-stalled', raw.maxStalled, 0)
      const { runGridWorker } = queueLib()
      const controller = new AbortController()
      let signals = 0
      const stop = (): void => {
        signals++
        if (signals > 1) process.exit(130)
        controller.abort()
      }
      process.on('SIGINT', stop)
      process.on('SIGTERM', stop)
      try {
        const r = await runGridWorker({ queue, jobs, lockDurationMs, stalledIntervalMs, maxStalledCount, verbose: raw.quiet !== true, signal: controller.signal, log: line => console.error(line) })
        console.error(`worker: ${r.done} cells done, ${r.failed} attempts failed, ${r.rejected} jobs rejected`)
      } finally {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
      }
    })
}

export function gridCommand (): Command {
  const grid = new Command('grid')
    .summary('the grid\'s queue: status, retry failed cells, clean')
    .description('Looks after the queue that `--queue` runs and `nasrank worker` processes share.')
  grid.addCommand(new Command('status')
    .description('jobs per state, the workers connected, and the failed cells with their errors')
    .option('--queue <url>', QUEUE_HELP)
    .option('--json', 'print JSON')
    .action(async (raw: { queue?: string, json?: boolean }) => {
      const queue = queueOf(raw.queue)
      const s = await queueLib().gridStatus(queue)
      if (raw.json === true) { console.log(JSON.stringify(s, null, 2)); return }
      console.log(`queue ${s.queue}`)
      console.log(Object.entries(s.counts).map(([k, v]) => `${k} ${v}`).join(' · '))
      console.log(`workers (${s.workers.length}): ${s.workers.join(', ') || 'none connected'}`)
      for (const f of s.failed) console.log(`failed after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}: ${f.cell}: ${f.error.split('\n')[0]}`)
    }))
  grid.addCommand(new Command('retry')
    .description('moves every failed cell back to the queue (attempts counted afresh)')
    .option('--queue <url>', QUEUE_HELP)
    .action(async (raw: { queue?: string }) => {
      const n = await queueLib().gridRetry(queueOf(raw.queue))
      console.log(`${n} failed cell${n === 1 ? '' : 's'} queued again`)
    }))
  grid.addCommand(new Command('clean')
    .description('removes finished cells (completed and failed) from Redis; their rows are in each run\'s --out')
    .option('--queue <url>', QUEUE_HELP)
    .option('--all', 'remove every job, also waiting and running ones (submitters still attached enqueue theirs again)')
    .action(async (raw: { queue?: string, all?: boolean }) => {
      const n = await queueLib().gridClean(queueOf(raw.queue), { all: raw.all === true })
      console.log(`${n} job${n === 1 ? '' : 's'} removed`)
    }))
  return grid
}
