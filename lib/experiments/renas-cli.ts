// `nasrank reproduce renas` once its options are validated (renas-args.ts): benchmark and
// backend set-up, progress with ETA, Ctrl-C handling.
import * as fs from 'node:fs'
import { openBench } from '../bench/open'
import { type Bench } from '../bench/bench'
import { interruptible, openingStatus, UsageError } from '../cli-args'
import { StatusLine } from '../progress'
import { initTfBackend } from '../models/backend'
import { preflightOut } from './runner'
import { PAPER_FRACTIONS, RENAS_OUTPUTS, runRenas, type RenasPlan } from './renas'
import { renasBenchSpace, type RenasArgs } from './renas-args'
import { redactArgv } from './queue-url'
import { failedCells, gridExecutor } from './search-cli'

function spaceOf (uri: string): 'nb101' | 'nb201' {
  return renasBenchSpace(uri) ?? 'nb201'
}

function duration (ms: number): string {
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** A cell id without its bench digest segment, for the status line. */
function shortCell (id: string): string {
  return id.split('/').filter(part => !part.includes('@')).join('/')
}

export async function reproduceRenas (p: RenasArgs, log: (line: string) => void = line => console.error(line)): Promise<void> {
  const uri101 = p.benches.find(u => spaceOf(u) === 'nb101')
  const uri201 = p.benches.find(u => spaceOf(u) === 'nb201')
  if (p.benches.filter(u => spaceOf(u) === 'nb101').length > 1 || p.benches.filter(u => spaceOf(u) === 'nb201').length > 1) {
    throw new UsageError('give at most one --bench per search space')
  }
  // Each table runs on the --bench of its space, else on that space's synthetic default;
  // with --bench for one space only and no --table, only that space's tables run.
  const tables = !p.tablesGiven && p.benches.length === 1
    ? p.tables.filter(t => (t === 5) === (spaceOf(p.benches[0]) === 'nb201'))
    : p.tables
  preflightOut({ out: p.out, outputs: RENAS_OUTPUTS }) // a held --out or a bad results.jsonl fails before the benches load
  // On a TTY, say what the silent set-up steps are doing (synthetic-101 takes seconds).
  const status = new StatusLine()
  const open = async (uri: string): Promise<Bench> => {
    status.show(openingStatus(uri))
    const bench = await openBench(uri).finally(() => status.clear())
    if (!bench.metrics.includes('test')) throw new UsageError(`${bench.name} has no test accuracy, which every ReNAS table reports (it has: ${bench.metrics.join(', ')})`)
    log(`bench: ${bench.label}, ${bench.size} architectures`)
    return bench
  }
  const bench101 = tables.some(t => t !== 5) ? await open(uri101 ?? 'synthetic-101') : undefined
  const bench201 = tables.includes(5) ? await open(uri201 ?? 'synthetic-201') : undefined
  status.show(`starting tfjs (backend: ${p.backend})`)
  const { tf, backend, wasm } = await initTfBackend({ backend: p.backend }).finally(() => status.clear())
  log(`tfjs backend: ${backend}${wasm !== undefined ? ` (SIMD ${wasm.simd ? 'on' : 'off'}, threads ${wasm.threads ? 'on' : 'off'})` : ''}`)

  const controller = interruptible(log)
  const started = Date.now()
  const running = new Map<string, string>()
  let firstDone = -1
  const plan: RenasPlan = {
    tables,
    bench101,
    bench201,
    seeds: p.seeds ?? (p.quick ? 2 : 20),
    fractions: p.fractions ?? (p.quick ? [0.001] : [...PAPER_FRACTIONS]),
    epochs: p.epochs ?? (p.quick ? 30 : 200),
    trees: p.quick ? 10 : 100,
    evalSize: p.quick ? 5000 : 0,
    population: p.quick ? 32 : 64,
    generations: p.quick ? 20 : 500,
    out: p.out,
    tf,
    jobs: p.jobs,
    backend: p.backend,
    loss: p.loss,
    signal: controller.signal,
    command: redactArgv(process.argv.slice(2)),
    ...(p.queue !== undefined ? { executor: gridExecutor(p.queue, log) } : {}),
    warn: line => log(`warning: ${line}`),
    // On a TTY, one line under the log says where the running cells are (epoch k of n).
    activity: (id, text) => {
      running.set(id, text)
      status.show([...running].map(([cell, where]) => `${shortCell(cell)}: ${where}`).join(' · '))
    },
    progress: (done, total, label) => {
      running.delete(label)
      status.clear()
      if (firstDone < 0) { firstDone = done; if (done > 0) log(`resuming: ${done} of ${total} cells already in ${p.out}`); return }
      const elapsed = Date.now() - started
      const rate = elapsed / Math.max(1, done - firstDone)
      log(`[${done}/${total}] ${label} · ${duration(elapsed)} elapsed · ETA ${duration(rate * (total - done))}`)
    }
  }
  try {
    const result = await runRenas(plan)
    log(`${result.ran} cells run, ${result.skipped} reused; report: ${result.reportFile}`)
    console.log(fs.readFileSync(result.reportFile, 'utf8'))
    if (controller.signal.aborted) process.exitCode = 130
    else if (failedCells(result.failed.length, log) !== 0) process.exitCode = 1
  } finally {
    controller.dispose()
  }
}
