// `nasrank reproduce renas`: argument parsing and validation (all before any work starts),
// benchmark and backend set-up, progress with ETA, Ctrl-C handling.
import * as fs from 'node:fs'
import { openBench } from '../bench/open'
import { type Bench } from '../bench/bench'
import { initTfBackend, type TfBackendChoice } from '../models/backend'
import { preflightOut } from './runner'
import { PAPER_FRACTIONS, RENAS_OUTPUTS, RENAS_TABLES, runRenas, type RenasLossOptions, type RenasPlan, type RenasTable } from './renas'

export class UsageError extends Error {}

export const RENAS_USAGE = `nasrank reproduce renas [options]
  --table 1|2|3|5      which of the paper's tables (repeatable, or comma-separated; default all)
  --bench <uri>        benchmark: synthetic-101 / nb101:<file> for Tables 1-3,
                       synthetic-201 / nb201:<file> for Table 5 (give one of each at most;
                       default the synthetic ones)
  --seeds N            seeds per cell (default 20; --quick: 2)
  --fractions a,b,…    training fractions in (0, 1) (default ${PAPER_FRACTIONS.join(',')}; --quick: 0.001)
  --epochs N           predictor training epochs (default 200; --quick: 30)
  --out DIR            results directory; re-running with the same DIR resumes (default ./renas-results)
  --backend NAME       tfjs backend: auto, tfjs-node-gpu, tfjs-node, wasm, cpu (default auto)
  --phi NAME           φ of the ReNAS ranking losses: hinge (default, the paper's), logistic, exp
  --lambda X           weight λ of the triplet loss in L1 + λ·L2 (default 1; ≥ 0)
  --margin X           hinge margin of the ranking losses (default 1; > 0)
  --jobs N             cells run at once, each in a worker thread (default 1; tfjs on wasm uses
                       one core per job, so up to the number of cores)
  --quick              a small run of every table that finishes in minutes on 2 CPU cores`

interface Parsed {
  tables: RenasTable[]
  benches: string[]
  seeds?: number
  fractions?: number[]
  epochs?: number
  out: string
  backend: TfBackendChoice
  jobs: number
  quick: boolean
  loss: RenasLossOptions
}

function parse (args: string[]): Parsed {
  const parsed: Parsed = { tables: [], benches: [], out: 'renas-results', backend: 'auto', jobs: 1, quick: false, loss: {} }
  for (let i = 0; i < args.length; i++) {
    const flag = args[i]
    const value = (): string => {
      const v = args[++i]
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`)
      return v
    }
    const integer = (name: string, min: number): number => {
      const raw = value()
      const n = Number(raw)
      if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be an integer >= ${min}, got '${raw}'`)
      return n
    }
    const real = (name: string, ok: (x: number) => boolean, requirement: string): number => {
      const raw = value()
      const x = Number(raw)
      if (raw.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new UsageError(`${name} must be a number ${requirement}, got '${raw}'`)
      return x
    }
    switch (flag) {
      case '--table':
        for (const t of value().split(',')) {
          const n = Number(t)
          if (!(RENAS_TABLES as readonly number[]).includes(n)) throw new UsageError(`unknown table '${t}' (ReNAS tables: ${RENAS_TABLES.join(', ')})`)
          if (!parsed.tables.includes(n as RenasTable)) parsed.tables.push(n as RenasTable)
        }
        break
      case '--bench': parsed.benches.push(value()); break
      case '--seeds': parsed.seeds = integer('--seeds', 1); break
      case '--epochs': parsed.epochs = integer('--epochs', 1); break
      case '--jobs': parsed.jobs = integer('--jobs', 1); break
      case '--phi': {
        const phi = value()
        if (phi !== 'hinge' && phi !== 'logistic' && phi !== 'exp') throw new UsageError(`unknown --phi '${phi}' (hinge, logistic, exp)`)
        parsed.loss.phi = phi
        break
      }
      case '--lambda': parsed.loss.lambda = real('--lambda', x => x >= 0, '>= 0'); break
      case '--margin': parsed.loss.margin = real('--margin', x => x > 0, '> 0'); break
      case '--fractions':
        parsed.fractions = value().split(',').map(f => {
          const x = Number(f)
          if (!(x > 0 && x < 1)) throw new UsageError(`--fractions: each fraction must be in (0, 1), got '${f}'`)
          return x
        })
        break
      case '--out': parsed.out = value(); break
      case '--backend': {
        const b = value()
        if (!['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'].includes(b)) throw new UsageError(`unknown backend '${b}' (auto, tfjs-node-gpu, tfjs-node, wasm, cpu)`)
        parsed.backend = b as TfBackendChoice
        break
      }
      case '--quick': parsed.quick = true; break
      default: throw new UsageError(`unknown option '${flag}' for reproduce renas`)
    }
  }
  if (fs.existsSync(parsed.out) && !fs.statSync(parsed.out).isDirectory()) throw new UsageError(`--out ${parsed.out} exists and is not a directory`)
  if (parsed.tables.length === 0) parsed.tables = [...RENAS_TABLES]
  for (const uri of parsed.benches) {
    const known = uri === 'synthetic-101' || uri === 'synthetic-201' || uri.startsWith('nb101:') || uri.startsWith('nb201:')
    if (!known) throw new UsageError(`unknown benchmark '${uri}' (synthetic-101, synthetic-201, nb101:<file>, nb201:<file>)`)
  }
  return parsed
}

function spaceOf (uri: string): 'nb101' | 'nb201' {
  return uri === 'synthetic-101' || uri.startsWith('nb101:') ? 'nb101' : 'nb201'
}

function duration (ms: number): string {
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

export async function reproduceRenas (args: string[], log: (line: string) => void = line => console.error(line)): Promise<void> {
  const p = parse(args)
  const uri101 = p.benches.find(u => spaceOf(u) === 'nb101')
  const uri201 = p.benches.find(u => spaceOf(u) === 'nb201')
  if (p.benches.filter(u => spaceOf(u) === 'nb101').length > 1 || p.benches.filter(u => spaceOf(u) === 'nb201').length > 1) {
    throw new UsageError('give at most one --bench per search space')
  }
  // Each table runs on the --bench of its space, else on that space's synthetic default;
  // with --bench for one space only and no --table, only that space's tables run.
  const tables = !args.includes('--table') && p.benches.length === 1
    ? p.tables.filter(t => (t === 5) === (spaceOf(p.benches[0]) === 'nb201'))
    : p.tables
  preflightOut({ out: p.out, outputs: RENAS_OUTPUTS }) // a held --out or a bad results.jsonl fails before the benches load
  const open = async (uri: string): Promise<Bench> => {
    const bench = await openBench(uri)
    if (!bench.metrics.includes('test')) throw new UsageError(`${bench.name} has no test accuracy, which every ReNAS table reports (it has: ${bench.metrics.join(', ')})`)
    log(`bench: ${bench.label}, ${bench.size} architectures`)
    return bench
  }
  const bench101 = tables.some(t => t !== 5) ? await open(uri101 ?? 'synthetic-101') : undefined
  const bench201 = tables.includes(5) ? await open(uri201 ?? 'synthetic-201') : undefined
  const { tf, backend, wasm } = await initTfBackend({ backend: p.backend })
  log(`tfjs backend: ${backend}${wasm !== undefined ? ` (SIMD ${wasm.simd ? 'on' : 'off'}, threads ${wasm.threads ? 'on' : 'off'})` : ''}`)

  const controller = new AbortController()
  let interrupts = 0
  const onSigint = (): void => {
    interrupts++
    if (interrupts > 1) process.exit(130)
    log('interrupted: finished cells are saved; writing the report (Ctrl-C again to quit at once)')
    controller.abort(new Error('interrupted'))
  }
  process.on('SIGINT', onSigint)
  const started = Date.now()
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
    command: ['reproduce', 'renas', ...args],
    warn: line => log(`warning: ${line}`),
    progress: (done, total, label) => {
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
  } finally {
    process.off('SIGINT', onSigint)
  }
}
