// `nasrank reproduce renas`: the command's options and their validation, all before any work
// starts. Light on purpose (no addon, no tfjs): renas-cli.ts, which runs the tables, is loaded
// only by the action.
import { Command } from 'commander'
import { choice, didYouMean, integer, list, outDir, real, UsageError } from '../cli-args'
import type { TfBackendChoice } from '../models/backend'
import type { RenasLossOptions, RenasTable } from './renas'
import { parseQueueUrl, type QueueUrl } from './queue-url'
import { queueJobs } from './search-args'

// The same values as RENAS_TABLES and PAPER_FRACTIONS in renas.ts (a test checks), repeated
// here so that the help text does not load the experiment.
export const CLI_RENAS_TABLES: readonly RenasTable[] = [1, 2, 3, 5]
export const CLI_PAPER_FRACTIONS: readonly number[] = [0.001, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9]
const BACKENDS: readonly TfBackendChoice[] = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']
const PHIS = ['hinge', 'logistic', 'exp'] as const

/** The validated options of one `reproduce renas` run. */
export interface RenasArgs {
  /** The tables to run (every table when --table was not given). */
  tables: RenasTable[]
  /** Whether --table was given (without it, a single --bench picks its space's tables). */
  tablesGiven: boolean
  benches: string[]
  seeds?: number
  fractions?: number[]
  epochs?: number
  out: string
  backend: TfBackendChoice
  jobs: number
  quick: boolean
  loss: RenasLossOptions
  /** Run the cells on a grid (BullMQ on Redis) instead of here. */
  queue?: QueueUrl
}

/** What commander hands the action: every value as typed. */
export interface RawRenasOptions {
  table?: string[]
  bench?: string[]
  seeds?: string
  fractions?: string
  epochs?: string
  out: string
  backend: string
  phi?: string
  lambda?: string
  margin?: string
  jobs?: string
  quick?: boolean
  queue?: string
}

/** The search space a benchmark uri belongs to, from its name alone (nothing is opened). */
export function renasBenchSpace (uri: string): 'nb101' | 'nb201' | undefined {
  if (uri === 'synthetic-101' || uri.startsWith('nb101:')) return 'nb101'
  if (uri === 'synthetic-201' || uri.startsWith('nb201:')) return 'nb201'
  return undefined
}

const TABLES_OF_SPACE = 'Tables 1-3 take synthetic-101 or nb101:<file>, Table 5 takes synthetic-201 or nb201:<file>'

function backendChoice (raw: string): TfBackendChoice {
  if (!(BACKENDS as readonly string[]).includes(raw)) throw new UsageError(`unknown backend '${raw}' (${BACKENDS.join(', ')})${didYouMean(raw, BACKENDS)}`)
  return raw as TfBackendChoice
}

/** Validates the options; every error is a UsageError that names the option. */
export function renasArgs (raw: RawRenasOptions): RenasArgs {
  const tables: RenasTable[] = []
  for (const t of raw.table ?? []) {
    for (const item of list('--table', t, s => s)) {
      const n = Number(item)
      if (!(CLI_RENAS_TABLES as readonly number[]).includes(n)) throw new UsageError(`unknown table '${item}' (ReNAS tables: ${CLI_RENAS_TABLES.join(', ')})`)
      if (!tables.includes(n as RenasTable)) tables.push(n as RenasTable)
    }
  }
  const tablesGiven = tables.length > 0
  const benches = raw.bench ?? []
  for (const uri of benches) {
    if (renasBenchSpace(uri) === undefined) throw new UsageError(`unknown benchmark '${uri}' (synthetic-101, synthetic-201, nb101:<file>, nb201:<file>)${didYouMean(uri, ['synthetic-101', 'synthetic-201'])}`)
  }
  for (const space of ['nb101', 'nb201'] as const) {
    if (benches.filter(u => renasBenchSpace(u) === space).length > 1) throw new UsageError('give at most one --bench per search space')
  }
  // A bench that none of the requested tables can use would be silently ignored: refuse it.
  if (tablesGiven) {
    for (const uri of benches) {
      const space = renasBenchSpace(uri)
      if (!tables.some(t => (t === 5) === (space === 'nb201'))) {
        throw new UsageError(`--bench ${uri} is a NAS-Bench-${space === 'nb101' ? '101' : '201'} benchmark, which --table ${tables.join(',')} does not use (${TABLES_OF_SPACE})`)
      }
    }
  }
  const loss: RenasLossOptions = {}
  if (raw.phi !== undefined) loss.phi = choice('--phi', raw.phi, PHIS)
  if (raw.lambda !== undefined) loss.lambda = real('--lambda', raw.lambda, x => x >= 0, '>= 0')
  if (raw.margin !== undefined) loss.margin = real('--margin', raw.margin, x => x > 0, '> 0')
  return {
    tables: tablesGiven ? tables : [...CLI_RENAS_TABLES],
    tablesGiven,
    benches,
    seeds: raw.seeds === undefined ? undefined : integer('--seeds', raw.seeds, 1),
    fractions: raw.fractions === undefined
      ? undefined
      : list('--fractions', raw.fractions, f => {
        const x = Number(f)
        if (!(x > 0 && x < 1)) throw new UsageError(`--fractions: each fraction must be in (0, 1), got '${f}'`)
        return x
      }),
    epochs: raw.epochs === undefined ? undefined : integer('--epochs', raw.epochs, 1),
    out: outDir('--out', raw.out),
    backend: backendChoice(raw.backend),
    jobs: queueJobs(raw.queue, raw.jobs),
    quick: raw.quick === true,
    loss,
    ...(raw.queue !== undefined ? { queue: parseQueueUrl(raw.queue) } : {})
  }
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

/**
 * The `renas` command (under `reproduce`). `run` gets the validated options; the caller
 * supplies it so that this module stays free of the experiment's dependencies.
 */
export function renasCommand (run: (args: RenasArgs) => Promise<void>): Command {
  return new Command('renas')
    .summary("the ReNAS paper's Tables 1, 2, 3 and 5")
    .description("Runs the ReNAS paper's tables (Tables 1-3 on NAS-Bench-101, Table 5 on NAS-Bench-201) and writes " +
      'report.md, results.jsonl/.csv and the plots to --out. Default benchmarks: the synthetic ones.')
    .option('--table <1|2|3|5>', 'which of the paper\'s tables (repeatable, or comma-separated; default all)', collect)
    .option('--bench <uri>', 'benchmark: synthetic-101 / nb101:<file> for Tables 1-3, synthetic-201 / nb201:<file> ' +
      'for Table 5 (at most one of each; default the synthetic ones)', collect)
    .option('--seeds <N>', 'seeds per cell (default 20; --quick: 2)')
    .option('--fractions <a,b,…>', `training fractions in (0, 1) (default ${CLI_PAPER_FRACTIONS.join(',')}; --quick: 0.001)`)
    .option('--epochs <N>', 'predictor training epochs (default 200; --quick: 30)')
    .option('--out <dir>', 'results directory; re-running with the same DIR resumes', 'renas-results')
    .option('--backend <name>', `tfjs backend: ${BACKENDS.join(', ')}`, 'auto')
    .option('--phi <name>', "φ of the ReNAS ranking losses: hinge (default, the paper's), logistic, exp")
    .option('--lambda <x>', 'weight λ of the triplet loss in L1 + λ·L2 (default 1; >= 0)')
    .option('--margin <x>', 'hinge margin of the ranking losses (default 1; > 0)')
    .option('--jobs <N>', 'cells run at once, each in a worker thread (default 1; tfjs on wasm uses ' +
      'one core per job, so up to the number of cores)')
    .option('--queue <url>', 'run the cells on a grid: enqueue them on Redis (redis://host:6379/0, rediss:// for TLS, env:NAME ' +
      'to read the URL from a variable) for `nasrank worker` processes, follow them, write the rows here; re-running re-attaches')
    .option('--quick', 'a small run of every table that finishes in minutes on 2 CPU cores')
    .addHelpText('after', '\nExamples:\n' +
      '  nasrank reproduce renas --quick\n' +
      '  nasrank reproduce renas --table 5 --bench nb201:nb201-cifar10-test.csv --seeds 20 --jobs 2\n' +
      '  nasrank reproduce renas --table 1 --bench nb101:nasbench_only108.tfrecord\n' +
      '  nasrank reproduce renas --table 5 --bench nb201:nb201-cifar10-test.csv --queue redis://grid-head:6379/0')
    .action(async (raw: RawRenasOptions) => { await run(renasArgs(raw)) })
}
