// The grid: an experiment's cells as jobs of a BullMQ queue on Redis, run by `nasrank worker`
// processes on any number of servers.
//
//  - queueExecutor (the submitter, behind the shared runner's Executor interface) enqueues the
//    cells not yet in results.jsonl, one job per cell whose job id is the cell id (adding a job
//    that exists is a no-op, so submitting twice never duplicates a cell), then follows them:
//    rows come from the queue's completed events and from a periodic reconciliation of every
//    cell it waits for (which also re-enqueues jobs Redis lost, e.g. a restart without
//    persistence). The runner writes each row the moment it arrives and dedupes on the cell id.
//    Ctrl-C detaches: the jobs stay queued, and running the command again re-attaches.
//  - runGridWorker (`nasrank worker`) takes jobs and runs each cell in one of `jobs` worker
//    threads, with the code of local `--jobs N` runs (worker.ts): the thread rebuilds the cells
//    from the job's spec by the experiment module's loadCells, which reopens each bench by uri
//    and refuses one whose digest differs from the plan's. The main thread only talks to Redis,
//    so a job's lock is renewed however long a cell computes.
//  - A job is data, never code: its module must be one of GRID_MODULES, and a malformed job is
//    rejected (failed at once, logged). A cell that throws is retried with exponential backoff
//    up to `attempts`, then fails with its error, which the report lists.
//  - A worker killed mid-cell leaves a job whose lock expires after lockDuration; a stalled-job
//    check (every stalledInterval, by any live worker) moves it back to waiting, up to
//    maxStalledCount times. The Redis URL's password is never printed or written (redactUrl).
//  - A running cell's notes (CellContext.note, e.g. 'epoch 40/200') go to the job's progress (at
//    most one per second per cell); the submitter passes them on to the runner's `activity`, as
//    local executors do.
import { hostname } from 'node:os'
import * as path from 'node:path'
import { Worker as Thread } from 'node:worker_threads'
import { Job, Queue, QueueEvents, Worker, UnrecoverableError, type ConnectionOptions } from 'bullmq'
import IORedis from 'ioredis'
import { parseQueueUrl, redactUrl, type QueueUrl } from './queue-url'
import { packageDir } from '../native'
import { type Cell, type CellFailure, type ExecuteResult, type Executor, type ExperimentSpec, type Row, type WorkerMessage, type WorkerRequest } from './executors'
import { nasrankVersion } from './provenance'
import { formatDuration } from '../progress'

/** Redis key prefix and queue name of nasrank's cells. */
export const QUEUE_PREFIX = 'nasrank'
export const QUEUE_NAME = 'cells'
/** The experiment modules a worker runs cells of (a job naming anything else is rejected). */
export const GRID_MODULES: readonly string[] = ['renas', 'search', 'probe']
/** Format of a job's data. */
const JOB_FORMAT = 1

/** Defaults (docs/grid.md): attempts and backoff of a throwing cell; a worker's lock and stalled check. */
export const GRID_DEFAULTS = Object.freeze({
  attempts: 3,
  backoffMs: 5000,
  lockDurationMs: 30_000,
  maxStalledCount: 2,
  pollMs: 2000,
  statusEveryMs: 10_000
})

// ---- the Redis URL (queue-url.ts: light, for the command line) ---------------------------------

export { parseQueueUrl, redactArgv, redactUrl, type QueueUrl } from './queue-url'

function toUrl (queue: string | QueueUrl): QueueUrl {
  return typeof queue === 'string' ? parseQueueUrl(queue) : queue
}

/** Connection options of every client: reconnect forever (a Redis restart is waited out), commands wait meanwhile. */
function connection (q: QueueUrl): ConnectionOptions {
  return { url: q.url, maxRetriesPerRequest: null, enableOfflineQueue: true, retryStrategy: (times: number) => Math.min(100 * times, 2000) }
}

/** Fails within `ms` when Redis cannot be reached at all (wrong host, password, TLS), naming the redacted URL. */
async function reachable (q: QueueUrl, ms = 10_000): Promise<void> {
  const client = new IORedis(q.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: ms, enableOfflineQueue: false })
  let first: Error | undefined
  client.on('error', (err: Error) => { first ??= err })
  try {
    await client.connect()
    await client.ping()
  } catch (err) {
    throw new Error(`cannot reach Redis at ${q.redacted}: ${redactUrl((first ?? err as Error).message)}`)
  } finally {
    client.disconnect()
  }
}

/** Logs a client's connection errors once per distinct message per 10 s (a Redis restart is many errors). */
function errorLogger (log: (line: string) => void, who: string): (err: Error) => void {
  const last = new Map<string, number>()
  return err => {
    const message = redactUrl(err?.message ?? String(err))
    const now = Date.now()
    if ((last.get(message) ?? 0) > now - 10_000) return
    last.set(message, now)
    const why = /ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed|ETIMEDOUT/.test(message)
      ? ' (reconnecting)'
      : /Lock mismatch|Missing lock|could not renew lock/.test(message) ? ' (this worker did not renew its lock in time: the cell went to another worker; this result is dropped)' : ''
    log(`${who}: ${message}${why}`)
  }
}

// ---- jobs ------------------------------------------------------------------------------------

/** A job's data: which cell of which plan, planned by which nasrank. */
export interface CellJob { format: number, nasrank: string, spec: ExperimentSpec, cell: string }

/** A running cell's progress as a worker publishes it: its latest note, and who runs it. */
export interface CellProgress { note: string, worker: string }

/** A worker publishes at most one note per cell per this many milliseconds. */
export const NOTE_EVERY_MS = 1000

/** What a worker returns for a cell: its row(s), who computed them, in how long. */
export interface CellResult { row: Row | Row[], worker: string, seconds: number }

/** The job id of a cell: the cell id (':' is BullMQ's key separator, so it and '%' are escaped). */
export function jobIdOf (cell: string): string {
  return cell.replace(/%/g, '%25').replace(/:/g, '%3A')
}

/** Checks a job's data; the reason it is not a nasrank cell job, or the job. */
export function checkJob (data: unknown): CellJob | string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'its data is not an object'
  const d = data as Partial<CellJob>
  if (d.format !== JOB_FORMAT) return `unknown job format ${JSON.stringify(d.format)} (this worker reads format ${JOB_FORMAT})`
  if (typeof d.cell !== 'string' || d.cell === '' || d.cell.length > 2000) return 'its cell id is not a string of 1 to 2000 characters'
  if (typeof d.nasrank !== 'string' || d.nasrank.length > 100) return 'it names no nasrank version'
  const spec = d.spec
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return 'its spec is not an object'
  if (typeof spec.module !== 'string' || !GRID_MODULES.includes(spec.module)) {
    return `unknown experiment module ${JSON.stringify(String(spec.module)).slice(0, 200)} (a worker runs cells of: ${GRID_MODULES.join(', ')})`
  }
  if (spec.data === null || typeof spec.data !== 'object') return 'its spec has no plan data'
  return { format: d.format, nasrank: d.nasrank, spec: { module: spec.module, data: spec.data }, cell: d.cell }
}

function checkResult (value: unknown): CellResult | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const r = value as Partial<CellResult>
  const rowOk = (x: unknown): boolean => x !== null && typeof x === 'object' && !Array.isArray(x)
  if (!(rowOk(r.row) || (Array.isArray(r.row) && r.row.length > 0 && r.row.every(rowOk)))) return undefined
  return { row: r.row as Row | Row[], worker: String(r.worker ?? '?'), seconds: Number(r.seconds ?? NaN) }
}

// ---- the submitter ---------------------------------------------------------------------------

export interface QueueExecutorOptions {
  /** redis://… or rediss://… (or a parsed QueueUrl). */
  queue: string | QueueUrl
  /** Tries of a cell that throws (default 3), the first retry after backoffMs (default 5000), doubling. */
  attempts?: number
  backoffMs?: number
  /** How often every awaited cell's job is checked (default 2000 ms); rows also arrive as events in between. */
  pollMs?: number
  /** Progress lines: done / running / failed / waiting and ETA, every statusEveryMs (default 10 s). */
  log?: (line: string) => void
  statusEveryMs?: number
}

interface Deferred { promise: Promise<void>, resolve: () => void }
function deferred (): Deferred {
  let resolve!: () => void
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}

/**
 * The executor that runs cells on the grid (see the file's head). Returns when every cell has a
 * row or failed for good (the failures are returned, for the report), or at once when `signal`
 * aborts (the jobs stay queued).
 */
export function queueExecutor (options: QueueExecutorOptions): (spec: ExperimentSpec | undefined) => Executor {
  const q = toUrl(options.queue)
  const attempts = options.attempts ?? GRID_DEFAULTS.attempts
  const backoffMs = options.backoffMs ?? GRID_DEFAULTS.backoffMs
  const pollMs = options.pollMs ?? GRID_DEFAULTS.pollMs
  const statusEveryMs = options.statusEveryMs ?? GRID_DEFAULTS.statusEveryMs
  const log = options.log ?? (() => {})
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) throw new RangeError(`attempts must be an integer in [1, 100], got ${String(attempts)}`)
  if (!(backoffMs >= 0) || !(pollMs > 0)) throw new RangeError('backoffMs must be >= 0 and pollMs > 0')
  return spec => ({
    kind: `bullmq(${q.redacted})`,
    async execute (cells, record, signal, note): Promise<ExecuteResult> {
      if (cells.length === 0 || signal?.aborted === true) return { failed: [] }
      if (spec === undefined) throw new Error('a queue needs the experiment\'s spec (its cells rebuilt by the workers)')
      await reachable(q)
      const onError = errorLogger(log, 'grid')
      const queue = new Queue(QUEUE_NAME, { connection: connection(q), prefix: QUEUE_PREFIX })
      const events = new QueueEvents(QUEUE_NAME, { connection: connection(q), prefix: QUEUE_PREFIX })
      queue.on('error', onError)
      events.on('error', onError)
      const redis = new IORedis(q.url, { maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(100 * times, 2000) })
      redis.on('error', onError)
      const byJob = new Map(cells.map(c => [jobIdOf(c.id), c]))
      const pending = new Set(byJob.keys())
      const failures = new Map<string, CellFailure>()
      let fatal: Error | undefined
      let wake = deferred()
      const started = Date.now()
      let recorded = 0
      const land = (jobId: string, value: unknown): void => {
        const cell = byJob.get(jobId)
        if (cell === undefined || (!pending.has(jobId) && !failures.has(jobId))) return
        const result = checkResult(value)
        pending.delete(jobId)
        if (result === undefined) {
          failures.set(jobId, { cell: cell.id, error: 'the job completed without a row (not written by a nasrank worker?)' })
        } else {
          failures.delete(jobId)
          try {
            record(cell, result.row)
            recorded++
          } catch (err) { fatal ??= err as Error } // e.g. results.jsonl cannot be written: stop
        }
        if (pending.size === 0 || fatal !== undefined) wake.resolve()
      }
      const fail = (jobId: string, reason: string, attemptsMade?: number): void => {
        const cell = byJob.get(jobId)
        if (cell === undefined || !pending.has(jobId)) return
        pending.delete(jobId)
        failures.set(jobId, { cell: cell.id, error: reason, ...(attemptsMade !== undefined ? { attempts: attemptsMade } : {}) })
        if (pending.size === 0) wake.resolve()
      }
      events.on('completed', ({ jobId, returnvalue }) => land(jobId, returnvalue))
      if (note !== undefined) {
        events.on('progress', ({ jobId, data }) => {
          const cell = byJob.get(jobId)
          const text = (data as Partial<CellProgress> | null)?.note
          if (cell !== undefined && pending.has(jobId) && typeof text === 'string') note(cell, text.slice(0, 200))
        })
      }
      events.on('failed', ({ jobId }) => { if (pending.has(jobId)) wake.resolve() }) // the reconciliation reads the reason and attempts
      const onAbort = (): void => wake.resolve()
      signal?.addEventListener('abort', onAbort, { once: true })
      const aborted = (): boolean => signal?.aborted === true
      /** Resolves with the promise's value, or undefined when the run is aborted first. */
      const orAbort = async <T>(p: Promise<T>): Promise<T | undefined> => {
        if (aborted()) return undefined
        return await Promise.race([p, new Promise<undefined>(resolve => signal?.addEventListener('abort', () => resolve(undefined), { once: true }))])
      }
      const jobOptions = { attempts, backoff: { type: 'exponential', delay: backoffMs }, removeOnComplete: false, removeOnFail: false }
      const enqueue = async (ids: string[]): Promise<void> => {
        for (let k = 0; k < ids.length && !aborted(); k += 500) {
          await orAbort(queue.addBulk(ids.slice(k, k + 500).map(jobId => ({
            name: 'cell',
            data: { format: JOB_FORMAT, nasrank: nasrankVersion(), spec, cell: (byJob.get(jobId) as Cell).id } satisfies CellJob,
            opts: { ...jobOptions, jobId }
          }))))
        }
      }
      const completedKey = queue.toKey('completed')
      const failedKey = queue.toKey('failed')
      const activeKey = queue.toKey('active')
      let running = 0
      /** Checks every awaited job: finished ones land, lost ones are enqueued again, failed ones (at the start) retried. */
      const reconcile = async (initial: boolean): Promise<void> => {
        const ids = [...pending]
        const missing: string[] = []
        const toRetry: string[] = []
        const completed: string[] = []
        const failed: string[] = []
        for (let k = 0; k < ids.length; k += 1000) {
          const chunk = ids.slice(k, k + 1000)
          const pipe = redis.pipeline()
          for (const id of chunk) {
            pipe.exists(queue.toKey(id))
            pipe.zscore(completedKey, id)
            pipe.zscore(failedKey, id)
          }
          const replies = await pipe.exec()
          if (replies === null) return
          chunk.forEach((id, i) => {
            const [exists, done, bad] = replies.slice(3 * i, 3 * i + 3).map(([err, value]) => err === null ? value : undefined)
            if (exists === 0) missing.push(id)
            else if (done !== null && done !== undefined) completed.push(id)
            else if (bad !== null && bad !== undefined) (initial ? toRetry : failed).push(id)
          })
        }
        if (completed.length > 0) {
          const pipe = redis.pipeline()
          for (const id of completed) pipe.hget(queue.toKey(id), 'returnvalue')
          const replies = (await pipe.exec()) ?? []
          completed.forEach((id, i) => {
            const [err, text] = replies[i] ?? [new Error('no reply'), null]
            let value: unknown
            try { value = err === null && typeof text === 'string' ? JSON.parse(text) : undefined } catch { value = undefined }
            land(id, value)
          })
        }
        if (failed.length > 0) {
          const pipe = redis.pipeline()
          for (const id of failed) pipe.hmget(queue.toKey(id), 'failedReason', 'atm')
          const replies = (await pipe.exec()) ?? []
          failed.forEach((id, i) => {
            const [reason, made] = (replies[i]?.[1] as Array<string | null> | undefined) ?? [null, null]
            fail(id, reason ?? 'failed (no reason recorded)', made !== null ? Number(made) : undefined)
          })
        }
        if (toRetry.length > 0) {
          log(`grid: ${toRetry.length} of these cells had failed in an earlier submission; trying them again`)
          for (const id of toRetry) {
            const job = await Job.fromId(queue, id)
            await job?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(() => {})
          }
        }
        if (missing.length > 0) {
          if (!initial) log(`grid: ${missing.length} cell${missing.length === 1 ? ' is' : 's are'} no longer in the queue (Redis restarted without its data, or the queue was cleaned); enqueued again`)
          await enqueue(missing)
        }
        const active = new Set(await redis.lrange(activeKey, 0, -1))
        running = ids.filter(id => pending.has(id) && active.has(id)).length
      }
      const total = cells.length
      let lastStatus = 0
      let lastCounts = ''
      const status = (force = false): void => {
        const now = Date.now()
        if (!force && now - lastStatus < statusEveryMs) return
        const active = Math.min(running, pending.size)
        const counts = `${recorded} done, ${active} running, ${failures.size} failed, ${pending.size - active} waiting of ${total}`
        if (counts === lastCounts && force) return
        lastStatus = now
        lastCounts = counts
        const elapsed = (now - started) / 1000
        const eta = recorded > 0 ? formatDuration((elapsed / recorded) * pending.size) : '—'
        log(`grid: ${counts} · ${formatDuration(elapsed)} elapsed · ETA ${eta}`)
      }
      try {
        await orAbort(events.waitUntilReady())
        log(`grid: ${total} cell${total === 1 ? '' : 's'} to ${q.redacted} (queue ${QUEUE_PREFIX}:${QUEUE_NAME}); start workers with: nasrank worker --queue <url>`)
        await enqueue([...pending])
        if (!aborted()) await orAbort(reconcile(true))
        status(true)
        while (pending.size > 0 && !aborted() && fatal === undefined) {
          const tick = new Promise<void>(resolve => setTimeout(resolve, pollMs))
          await Promise.race([tick, wake.promise])
          wake = deferred()
          if (pending.size === 0 || aborted() || fatal !== undefined) break
          await orAbort(reconcile(false))
          status()
        }
        if (fatal !== undefined) throw fatal
        if (!aborted()) status(true)
        return { failed: [...failures.values()] }
      } finally {
        signal?.removeEventListener('abort', onAbort)
        // Closing waits for pending commands, which wait for Redis: bounded, then dropped.
        const closing = Promise.allSettled([queue.close(), events.close(), redis.quit()])
        const timeout = new Promise(resolve => setTimeout(resolve, 2000).unref())
        await Promise.race([closing, timeout])
        redis.disconnect()
        void queue.disconnect()
        void events.disconnect()
      }
    }
  })
}

// ---- the worker ------------------------------------------------------------------------------

export interface GridWorkerOptions {
  queue: string | QueueUrl
  /** Cells at once, each in a worker thread (default 1). */
  jobs?: number
  /** A job's lock (default 30 s, renewed every half): a killed worker's cell is taken up again after about lockDuration + stalledInterval. */
  lockDurationMs?: number
  /** How often this worker looks for stalled jobs (default: lockDurationMs). */
  stalledIntervalMs?: number
  /** Times a cell may be taken up again after its worker died before it fails (default 2). */
  maxStalledCount?: number
  log?: (line: string) => void
  /** Log every finished cell (default true). */
  verbose?: boolean
  /** Aborted: take no new cell, finish the running ones, then return. */
  signal?: AbortSignal
  /** Called once the worker is connected and taking jobs. */
  onReady?: () => void
}

export interface GridWorkerResult { done: number, failed: number, rejected: number }

/** A worker thread running one cell at a time (worker.ts, without a spec of its own). */
class Slot {
  private thread: Thread | undefined
  private ready: Promise<void> | undefined
  private current: { id: string, resolve: (row: Row | Row[]) => void, reject: (err: Error) => void, note?: (text: string) => void } | undefined
  busy = false

  private start (): Promise<void> {
    const thread = new Thread(path.join(packageDir, 'dist', 'lib', 'experiments', 'worker.js'), { workerData: {} })
    this.thread = thread
    this.ready = new Promise((resolve, reject) => {
      thread.on('message', (m: WorkerMessage) => {
        if (m.kind === 'ready') { resolve(); return }
        const job = this.current
        if (m.kind === 'note') { if (job !== undefined && m.id === job.id) job.note?.(m.text); return }
        if (job === undefined || (m.id !== null && m.id !== job.id)) return
        this.current = undefined
        if (m.kind === 'done') job.resolve(m.row)
        else {
          const err = new Error(m.message.split('\n')[0].replace(/^Error: /, ''))
          err.stack = m.message
          job.reject(err)
        }
      })
      const dead = (why: string): void => {
        this.thread = undefined
        this.ready = undefined
        reject(new Error(why))
        const job = this.current
        this.current = undefined
        job?.reject(new Error(why))
      }
      thread.on('error', err => dead(`the worker thread failed: ${err.message}`))
      thread.on('exit', code => dead(`the worker thread exited (code ${code})`))
    })
    return this.ready
  }

  async run (request: WorkerRequest & object, note?: (text: string) => void): Promise<Row | Row[]> {
    if (this.thread === undefined) await this.start()
    else await this.ready
    return await new Promise((resolve, reject) => {
      this.current = { id: request.id, resolve, reject, note }
      this.thread?.postMessage(request)
    })
  }

  async close (): Promise<void> { await this.thread?.terminate() }
}

/**
 * Runs cells of the queue until `signal` aborts (then it finishes the running cells, and
 * returns). Logs each cell, each failure and each rejected job.
 */
export async function runGridWorker (options: GridWorkerOptions): Promise<GridWorkerResult> {
  const q = toUrl(options.queue)
  const jobs = options.jobs ?? 1
  const lockDuration = options.lockDurationMs ?? GRID_DEFAULTS.lockDurationMs
  const stalledInterval = options.stalledIntervalMs ?? lockDuration
  const maxStalledCount = options.maxStalledCount ?? GRID_DEFAULTS.maxStalledCount
  const log = options.log ?? (() => {})
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be an integer >= 1, got ${String(jobs)}`)
  if (!Number.isInteger(lockDuration) || lockDuration < 100) throw new RangeError(`lockDurationMs must be an integer >= 100, got ${String(lockDuration)}`)
  if (!Number.isInteger(stalledInterval) || stalledInterval < 100) throw new RangeError(`stalledIntervalMs must be an integer >= 100, got ${String(stalledInterval)}`)
  if (!Number.isInteger(maxStalledCount) || maxStalledCount < 0) throw new RangeError(`maxStalledCount must be an integer >= 0, got ${String(maxStalledCount)}`)
  await reachable(q)
  const name = `${hostname()}:${process.pid}`
  const version = nasrankVersion()
  const slots = Array.from({ length: jobs }, () => new Slot())
  const result: GridWorkerResult = { done: 0, failed: 0, rejected: 0 }
  const processor = async (job: Job): Promise<CellResult> => {
    const data = checkJob(job.data)
    if (typeof data === 'string') {
      result.rejected++
      log(`worker ${name}: rejected job ${JSON.stringify(String(job.id)).slice(0, 200)}: ${data}`)
      throw new UnrecoverableError(`rejected by worker ${name}: ${data}`)
    }
    if (job.id !== jobIdOf(data.cell)) {
      result.rejected++
      log(`worker ${name}: rejected job ${JSON.stringify(String(job.id)).slice(0, 200)}: its id is not the id of its cell`)
      throw new UnrecoverableError(`rejected by worker ${name}: the job id is not the id of its cell (${data.cell.slice(0, 200)})`)
    }
    if (data.nasrank !== version) throw new Error(`worker ${name} runs nasrank ${version}, the cell was planned with nasrank ${data.nasrank}: run one version on every server`)
    const slot = slots.find(s => !s.busy)
    if (slot === undefined) throw new Error(`worker ${name}: no free thread (more jobs than --jobs)`)
    slot.busy = true
    const started = Date.now()
    let noted = 0
    const note = (text: string): void => {
      const now = Date.now()
      if (now - noted < NOTE_EVERY_MS) return
      noted = now
      job.updateProgress({ note: text, worker: name } satisfies CellProgress).catch(() => {}) // best effort: a lost note is harmless
    }
    try {
      const row = await slot.run({ id: data.cell, spec: data.spec }, note)
      return { row, worker: name, seconds: (Date.now() - started) / 1000 }
    } catch (err) {
      const message = (err as Error).message
      throw new Error(/changed since the run was planned|cannot rebuild/.test(message) ? `worker ${name} refuses the cell: ${message}` : message)
    } finally {
      slot.busy = false
    }
  }
  const worker = new Worker(QUEUE_NAME, processor, {
    connection: connection(q),
    prefix: QUEUE_PREFIX,
    name,
    concurrency: jobs,
    lockDuration,
    stalledInterval,
    maxStalledCount,
    autorun: false
  })
  worker.on('error', errorLogger(log, `worker ${name}`))
  worker.on('completed', (job, value: CellResult) => {
    result.done++
    if (options.verbose !== false) log(`worker ${name}: ${job.data?.cell as string} done in ${value.seconds.toFixed(2)} s`)
  })
  worker.on('failed', (job, err) => {
    if (err instanceof UnrecoverableError || job === undefined) return
    result.failed++
    const made = job.attemptsMade
    const max = job.opts.attempts ?? 1
    log(`worker ${name}: ${String(job.data?.cell ?? job.id)} failed (attempt ${made} of ${max}${made < max ? ', will be retried' : ''}): ${err.message.split('\n')[0]}`)
  })
  const stopped = new Promise<void>(resolve => {
    if (options.signal?.aborted === true) resolve()
    options.signal?.addEventListener('abort', () => resolve(), { once: true })
  })
  const running = worker.run()
  await worker.waitUntilReady()
  log(`worker ${name}: nasrank ${version}, ${jobs} thread${jobs === 1 ? '' : 's'}, taking cells from ${q.redacted} (queue ${QUEUE_PREFIX}:${QUEUE_NAME}; lock ${lockDuration} ms, stalled check every ${stalledInterval} ms)`)
  options.onReady?.()
  await stopped
  log(`worker ${name}: stopping after the running cells (again to quit at once: they are taken up by other workers)`)
  await worker.close()
  await running.catch(() => {})
  await Promise.all(slots.map(async s => await s.close()))
  return result
}

// ---- managing the queue ---------------------------------------------------------------------

export interface GridStatus {
  queue: string
  counts: Record<string, number>
  workers: string[]
  failed: Array<{ cell: string, error: string, attempts: number }>
}

async function withQueue<T> (queue: string | QueueUrl, fn: (queue: Queue) => Promise<T>): Promise<T> {
  const q = toUrl(queue)
  await reachable(q)
  const handle = new Queue(QUEUE_NAME, { connection: connection(q), prefix: QUEUE_PREFIX })
  handle.on('error', () => {})
  try {
    return await fn(handle)
  } finally {
    await handle.close()
  }
}

/** Jobs per state, the workers connected, and the first `failedShown` failed cells with their errors. */
export async function gridStatus (queue: string | QueueUrl, failedShown = 20): Promise<GridStatus> {
  return await withQueue(queue, async handle => {
    const counts = await handle.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children')
    const workers = [...new Set((await handle.getWorkers()).map(w => {
      const raw = String(w.rawname ?? w.name ?? '')
      const k = raw.indexOf(':w:')
      return k >= 0 ? raw.slice(k + 3) : `unnamed (${String(w.addr ?? '?')})`
    }))]
    const failed = (await handle.getFailed(0, Math.max(0, failedShown - 1))).map(j => ({ cell: String(j.data?.cell ?? j.id), error: String(j.failedReason ?? ''), attempts: j.attemptsMade }))
    return { queue: toUrl(queue).redacted, counts, workers, failed }
  })
}

/** Moves every failed job back to waiting (attempts counted afresh); returns how many. */
export async function gridRetry (queue: string | QueueUrl): Promise<number> {
  return await withQueue(queue, async handle => {
    const n = await handle.getFailedCount()
    if (n > 0) await handle.retryJobs({ state: 'failed', count: 1000 })
    return n
  })
}

/** Removes finished jobs (completed and failed), or with `all` every job of the queue; returns how many were removed. */
export async function gridClean (queue: string | QueueUrl, options: { all?: boolean } = {}): Promise<number> {
  return await withQueue(queue, async handle => {
    if (options.all === true) {
      const counts = await handle.getJobCounts()
      await handle.obliterate({ force: true })
      return Object.values(counts).reduce((a, b) => a + b, 0)
    }
    let removed = 0
    for (const state of ['completed', 'failed'] as const) {
      for (;;) {
        const ids = await handle.clean(0, 10_000, state)
        removed += ids.length
        if (ids.length < 10_000) break
      }
    }
    return removed
  })
}
