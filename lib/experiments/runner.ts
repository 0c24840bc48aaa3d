// The shared experiment runner. An experiment module plans cells (one per method × bench ×
// setting × seed, each with a stable id that encodes everything its row depends on), and
// the runner does the rest the same way for every method:
//  - --out is locked and results.jsonl checked before any expensive set-up (outdir.ts);
//  - cells already in results.jsonl are skipped (resume), the others run through an
//    executor (this thread, or worker threads that rebuild the cells from a serialisable
//    spec: executors.ts) and each row is appended the moment it finishes;
//  - progress with ETA after every cell;
//  - the report is written from results.jsonl alone (the plan's rows, in plan order), with
//    a header that names every run whose rows it shows (runs.jsonl: command line, nasrank
//    version, native build, tfjs backend, date, settings) and says when it is partial.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { OutDir, checkOutDir } from './outdir'
import { inProcessExecutor, workerExecutor, type Cell, type CellFailure, type Executor, type ExperimentSpec, type Row } from './executors'
import { provenance, provenanceId, type Provenance } from './provenance'
import { type ResultRow } from './results'
import { formatDuration } from '../progress'

export { type Cell, type CellContext, type CellFailure, type ExecuteResult, type NoteFn, type ExperimentSpec, type Executor, type LoadCells, type Row, experimentModulePath, inProcessExecutor, workerExecutor } from './executors'
export { checkOutDir, OutDir } from './outdir'
export { benchDigest, benchKey, benchRef, reopenBench, provenance, provenanceId, stableJson, type BenchRef, type Provenance } from './provenance'

/** A plan that cannot run (bad option, unknown method, budget above the space…): a usage error, found before any work. */
export class PlanError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'PlanError'
  }
}

export const RUNS_FILE = 'runs.jsonl'

/** Progress after each cell: cells done of all planned, the cell id, and timing of this process's cells. */
export type ProgressFn = (done: number, total: number, label: string, timing?: { elapsedSeconds: number, etaSeconds: number }) => void

/** The options every experiment's plan shares. */
export interface RunOptions {
  out: string
  /** Cells run at once, each in a worker thread (default 1: one at a time in this thread). */
  jobs?: number
  signal?: AbortSignal
  progress?: ProgressFn
  /** Warnings: skipped lines of results.jsonl, a stale lock taken over (default: none). */
  warn?: (message: string) => void
  /** Overwrite files in --out that nasrank did not write (default false). */
  force?: boolean
  /** The command line that started the run (recorded as provenance). */
  command?: string[]
  /**
   * Another executor (e.g. a distributed queue): given the experiment's spec, returns the
   * executor that runs the cells (default: in-process for jobs 1, worker threads above).
   */
  executor?: (spec: ExperimentSpec | undefined) => Executor
  /** A running cell's notes (e.g. 'epoch 40/200'), for a status line; never stored. */
  activity?: (cellId: string, text: string) => void
}

/** What an experiment module hands the runner once it has planned. */
export interface PlannedExperiment {
  cells: Cell[]
  /** Rebuilds the cells in another thread or process; required for jobs > 1. */
  spec?: ExperimentSpec
  /** Every setting of the plan (provenance). */
  settings: Record<string, unknown>
  tfjsBackend?: string
  /** Writes the report from the rows (only through `write`, so --out's manifest knows the files). */
  report: (input: ReportInput) => Promise<string>
}

export interface ReportInput {
  /** The plan's rows from results.jsonl, in plan order (whichever process computed them). */
  rows: ResultRow[]
  /** Cells done (with all their rows). */
  done: number
  total: number
  partial: boolean
  /** Markdown to put under the report's title: partial note, failed cells, runs shown, skipped lines. */
  header: string
  /** Cells the executor gave up on (no row), with their errors. */
  failed: CellFailure[]
  write: (name: string, data: string | Uint8Array) => string
}

export interface RunResult {
  /** Cells run by this call. */
  ran: number
  /** Cells already in results.jsonl. */
  skipped: number
  /** Planned cells still without a row (interrupted). */
  remaining: number
  partial: boolean
  /** Cells the executor gave up on (a queue's cells that failed every attempt): not done, errors in the report. */
  failed: CellFailure[]
  reportFile: string
  run: string
}

/** The id and the provenance of one run, as runs.jsonl holds them. */
export type RunRecord = Provenance & { run: string }

export function readRuns (dir: string): Map<string, RunRecord> {
  const file = path.join(dir, RUNS_FILE)
  const runs = new Map<string, RunRecord>()
  if (!fs.existsSync(file)) return runs
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    try {
      const r = JSON.parse(line) as RunRecord
      if (typeof r?.run === 'string' && !runs.has(r.run)) runs.set(r.run, r)
    } catch { /* a torn line: that run's rows show without details */ }
  }
  return runs
}

/** The ETA line a CLI prints after each cell. */
export function formatProgress (done: number, total: number, label: string, timing?: { elapsedSeconds: number, etaSeconds: number }): string {
  return `[${done}/${total}] ${label}${timing !== undefined ? ` · ${formatDuration(timing.elapsedSeconds)} elapsed · ETA ${formatDuration(timing.etaSeconds)}` : ''}`
}

/**
 * Runs an experiment: takes --out (failing at once if another live process holds it, or if
 * its results.jsonl or files say it must not be used), then plans (`plan`, the expensive part),
 * runs the cells not yet in results.jsonl and writes the report — also when interrupted
 * (`signal`), then marked partial. `plan` is called once, after the checks.
 */
export async function runExperiment (options: RunOptions & { outputs: readonly string[] }, plan: () => Promise<PlannedExperiment> | PlannedExperiment): Promise<RunResult> {
  const jobs = options.jobs ?? 1
  if (!Number.isInteger(jobs) || jobs < 1) throw new RangeError(`jobs must be an integer >= 1, got ${String(jobs)}`)
  const out = OutDir.open(options.out, { outputs: options.outputs, force: options.force, warn: options.warn })
  try {
    const planned = await plan()
    const ids = new Set<string>()
    for (const c of planned.cells) {
      if (ids.has(c.id)) throw new Error(`two planned cells share the id ${c.id}`)
      ids.add(c.id)
    }
    const prov = provenance(planned.settings, { command: options.command, tfjsBackend: planned.tfjsBackend })
    const run = provenanceId(prov)
    fs.appendFileSync(path.join(out.dir, RUNS_FILE), JSON.stringify({ run, ...prov }) + '\n')
    const store = out.store
    const todo = planned.cells.filter(c => !store.has(c.id))
    const total = planned.cells.length
    let done = total - todo.length
    options.progress?.(done, total, 'resumed')
    let ran = 0
    const started = Date.now()
    const record = (cell: Cell, result: Row | Row[]): void => {
      // A cell is written once, whatever an executor hands over twice (e.g. a queue job's
      // late first attempt after a retry finished).
      if (store.has(cell.id)) return
      if (Array.isArray(result)) {
        if (result.length === 0) throw new Error(`cell ${cell.id} returned no rows`)
        store.append(result.map((row, part) => ({ cell: cell.id, ...cell.fields, ...row, part, parts: result.length, run })))
      } else store.append({ cell: cell.id, ...cell.fields, ...result, run })
      ran++
      done++
      const elapsedSeconds = (Date.now() - started) / 1000
      options.progress?.(done, total, cell.id, { elapsedSeconds, etaSeconds: (elapsedSeconds / ran) * (total - done) })
    }
    let executor: Executor = inProcessExecutor()
    if (options.executor !== undefined) executor = options.executor(planned.spec)
    else if (jobs > 1 && todo.length > 1) {
      if (planned.spec === undefined) throw new Error('jobs > 1 needs the experiment\'s spec (its cells rebuilt in worker threads)')
      executor = workerExecutor(planned.spec, jobs)
    }
    let failed: CellFailure[] = []
    try {
      const activity = options.activity
      const result = await executor.execute(todo, record, options.signal, activity === undefined ? undefined : (cell, text) => activity(cell.id, text))
      failed = (result?.failed ?? []).filter(f => !store.has(f.cell))
    } catch (err) {
      if (options.signal?.aborted !== true) throw err
    }
    const finished = planned.cells.filter(c => store.has(c.id))
    const rows = finished.flatMap(c => store.get(c.id) as ResultRow[])
    const remaining = total - finished.length
    const header = reportHeader(out, rows, finished.length, total, readRuns(out.dir), failed)
    const reportFile = await planned.report({ rows, done: finished.length, total, partial: remaining > 0, header, failed, write: (name, data) => out.write(name, data) })
    return { ran, skipped: total - todo.length, remaining, partial: remaining > 0, failed, reportFile, run }
  } finally {
    out.release()
  }
}

function firstLine (text: string): string {
  const line = text.split('\n')[0].trim()
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}

/** Checks --out as runExperiment will (lock, results.jsonl, foreign files), without taking it: for CLIs, before opening benches. */
export function preflightOut (options: Pick<RunOptions, 'out' | 'force' | 'warn'> & { outputs: readonly string[] }): void {
  checkOutDir(options.out, { outputs: options.outputs, force: options.force, warn: options.warn })
}

function reportHeader (out: OutDir, rows: ResultRow[], done: number, total: number, runs: Map<string, RunRecord>, failed: CellFailure[]): string {
  const lines: string[] = []
  if (done < total) {
    lines.push(`> **Partial report**: ${done} of ${total} cells done, ${total - done} to do. Re-run the same command with the same --out to finish.`, '')
  }
  if (failed.length > 0) {
    lines.push(`> **${failed.length === 1 ? 'One cell' : `${failed.length} cells`} failed** (no row; re-running the command tries ${failed.length === 1 ? 'it' : 'them'} again):`, '>')
    for (const f of failed.slice(0, 20)) lines.push(`> - \`${f.cell}\`${f.attempts !== undefined ? ` after ${f.attempts} attempt${f.attempts === 1 ? '' : 's'}` : ''}: ${firstLine(f.error)}`)
    if (failed.length > 20) lines.push(`> - and ${failed.length - 20} more`)
    lines.push('')
  }
  const byRun = new Map<string, number>()
  for (const r of rows) byRun.set(String(r.run ?? '?'), (byRun.get(String(r.run ?? '?')) ?? 0) + 1)
  if (byRun.size > 0) {
    lines.push(`Rows from results.jsonl, computed by ${byRun.size === 1 ? 'one run' : `${byRun.size} runs`} (details in ${RUNS_FILE}):`, '')
    for (const [id, n] of byRun) {
      const r = runs.get(id)
      if (r === undefined) { lines.push(`- run ${id}: ${n} rows (no record in ${RUNS_FILE}: written before nasrank recorded runs)`); continue }
      const command = r.command !== undefined ? `\`nasrank ${r.command.join(' ')}\`` : 'library call'
      lines.push(`- run ${id}: ${n} rows — ${command}; nasrank ${r.nasrank}, native build ${r.native_digest.slice(0, 12)}, tfjs backend ${r.tfjs_backend === '' ? 'none' : r.tfjs_backend}, started ${r.date}; settings \`${JSON.stringify(r.settings)}\``)
    }
    lines.push('')
  }
  const store = out.store
  if (store.skipped.length > 0) {
    const byReason = new Map<string, number[]>()
    for (const s of store.skipped) byReason.set(s.reason, [...(byReason.get(s.reason) ?? []), s.line])
    const listed = [...byReason].map(([reason, at]) => `${at.length === 1 ? `line ${at[0]}` : `lines ${at.join(', ')}`} (${reason})`)
    lines.push(`> results.jsonl lines skipped (not in this report; their cells count as not done): ${listed.slice(0, 10).join('; ')}${listed.length > 10 ? `; and ${listed.length - 10} more` : ''}.`, '')
  }
  if (store.conflicts.length > 0) {
    lines.push(`results.jsonl holds different benches for one cell: ${store.conflicts.map(c => `${c.cell} on lines ${c.lines[0]} and ${c.lines[1]} (bench digests ${c.digests[0].slice(0, 12)} and ${c.digests[1].slice(0, 12)})`).join('; ')}; the first row of each is shown.`, '')
  }
  return lines.join('\n')
}
