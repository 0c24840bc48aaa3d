// Executors: how an experiment's cells get run. A cell is data (a stable id; the worker, or a
// queue consumer, rebuilds it from the experiment's serialisable spec) and a row is data (a
// JSON object), so the same cells run in this thread, in worker threads, or as jobs of a
// BullMQ queue whose workers call `loadCells(spec)` (queue.ts).
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { packageDir } from '../native'

/** A finished cell's result: plain JSON data. */
export type Row = Record<string, unknown>

/** What a running cell may tell the process that follows the run (shown on a TTY, never stored). */
export interface CellContext {
  /** Where the cell is now, e.g. 'epoch 40/200'. Cheap; executors pass it on as it comes. */
  note: (text: string) => void
}

/** One unit of work: a stable id and, in the process that planned it, how to run it. */
export interface Cell {
  id: string
  /** Fields every row of this cell carries before the computed ones (e.g. table, bench). */
  fields?: Row
  /** The cell's row, or its rows (e.g. one per search checkpoint; stored as parts of one cell). */
  run: (context?: CellContext) => Promise<Row | Row[]>
}

/** Receives a running cell's notes (CellContext.note). */
export type NoteFn = (cell: Cell, text: string) => void

/**
 * What any process needs to rebuild an experiment's cells: the experiment module (a name
 * under lib/experiments, e.g. 'renas', or an absolute path of a compiled module) and the plan
 * as JSON-serialisable data. The module exports `loadCells(data): Promise<Cell[]>`.
 */
export interface ExperimentSpec {
  module: string
  data: unknown
}

/** The export of an experiment module that executors outside this thread use. */
export type LoadCells = (data: any) => Promise<Cell[]>

export function experimentModulePath (module: string): string {
  if (path.isAbsolute(module)) return module
  if (!/^[a-z][a-z0-9-]*$/.test(module)) throw new RangeError(`experiment module must be a name like 'renas' or an absolute path, got '${module}'`)
  // The compiled module: also when the caller itself runs from TypeScript (tests).
  return path.join(packageDir, 'dist', 'lib', 'experiments', `${module}.js`)
}

/** A cell an executor gave up on (e.g. a queue job that failed every attempt): no row, its error in the report. */
export interface CellFailure { cell: string, error: string, attempts?: number }

/** What an executor may say when it returns: the cells that failed for good (they count as not done). */
export interface ExecuteResult { failed?: CellFailure[] }

/**
 * Runs cells and hands each finished row to `record` (in any order, each cell at most once);
 * stops early when `signal` aborts. An executor that keeps going past a failing cell returns
 * the failures instead of throwing. Executors that can pass a running cell's notes on call
 * `note` (optional).
 */
export interface Executor {
  readonly kind: string
  execute: (cells: readonly Cell[], record: (cell: Cell, row: Row | Row[]) => void, signal?: AbortSignal, note?: NoteFn) => Promise<void | ExecuteResult>
}

/**
 * One cell at a time in this thread. On abort it stops after the running cell; a cell that
 * throws because it was aborted is dropped (not recorded), any other error stops the run.
 */
export function inProcessExecutor (): Executor {
  return {
    kind: 'in-process',
    async execute (cells, record, signal, note) {
      const aborted = (): boolean => signal?.aborted === true
      for (const cell of cells) {
        if (aborted()) return
        let row: Row | Row[]
        try {
          row = await cell.run({ note: text => note?.(cell, text) })
        } catch (err) {
          if (aborted()) return
          throw err
        }
        record(cell, row)
      }
    }
  }
}

/**
 * Messages to a worker thread: a cell id of the thread's spec (workerData), or a cell id with
 * the spec to rebuild it from (a grid worker serves many experiments; the thread keeps the
 * cells of the specs it loaded last).
 */
export type WorkerRequest = string | { id: string, spec: ExperimentSpec }

/** Messages from a worker thread (worker.ts). */
export type WorkerMessage =
  | { kind: 'ready' }
  | { kind: 'done', id: string, row: Row | Row[] }
  | { kind: 'note', id: string, text: string }
  | { kind: 'failed', id: string | null, message: string }

/** What a worker thread is started with (no spec: each request carries its own). */
export interface WorkerData { spec?: ExperimentSpec }

/**
 * `jobs` worker threads (worker.ts), each rebuilding the cells from `spec` once and then
 * running the cells it is sent one at a time. On abort the workers are terminated: running
 * cells are dropped, finished ones were recorded as they came.
 */
export function workerExecutor (spec: ExperimentSpec, jobs: number): Executor {
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be an integer >= 1, got ${String(jobs)}`)
  return {
    kind: `worker-threads(${jobs})`,
    async execute (cells, record, signal, note) {
      if (cells.length === 0 || signal?.aborted === true) return
      const script = path.join(packageDir, 'dist', 'lib', 'experiments', 'worker.js')
      const byId = new Map(cells.map(c => [c.id, c]))
      const queue = [...cells]
      const workers: Worker[] = []
      await new Promise<void>((resolve, reject) => {
        let settled = false
        let running = 0
        const finish = (err?: Error): void => {
          if (settled) return
          settled = true
          signal?.removeEventListener('abort', onAbort)
          Promise.all(workers.map(w => w.terminate())).then(() => err === undefined ? resolve() : reject(err), reject)
        }
        const onAbort = (): void => finish()
        signal?.addEventListener('abort', onAbort, { once: true })
        const next = (worker: Worker): void => {
          const cell = queue.shift()
          if (cell === undefined) {
            if (running === 0) finish()
            return
          }
          running++
          worker.postMessage(cell.id)
        }
        const workerData: WorkerData = { spec }
        for (let k = 0; k < Math.min(jobs, cells.length); k++) {
          const worker = new Worker(script, { workerData })
          workers.push(worker)
          worker.on('message', (m: WorkerMessage) => {
            if (settled) return
            if (m.kind === 'note') { note?.(byId.get(m.id) as Cell, m.text); return }
            if (m.kind === 'failed') { finish(new Error(m.id === null ? `worker: ${m.message}` : `cell ${m.id}: ${m.message}`)); return }
            if (m.kind === 'done') {
              running--
              try {
                record(byId.get(m.id) as Cell, m.row)
              } catch (err) { // e.g. results.jsonl cannot be written: stop, as one thread would
                finish(err as Error)
                return
              }
            }
            next(worker)
          })
          worker.on('error', err => finish(err))
          worker.on('exit', code => { if (!settled) finish(new Error(`a worker thread exited (code ${code}) before the run finished`)) })
        }
      })
    }
  }
}
