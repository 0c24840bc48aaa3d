// `nasrank search`: the search methods (random search, regularized evolution, local search,
// BANANAS) over many seeds on one benchmark, through the shared experiment runner. This module
// holds the options and their validation (light: help works without the addon); the action
// loads search-cli.ts (searchCommand), which runs runSearchExperiment (search.ts) with them.
import { Command } from 'commander'
import { choice, integer, list, openingStatus, outDir, real, UsageError } from '../cli-args'
import { parseQueueUrl, redactArgv, type QueueUrl } from './queue-url'

// The names of lib/search's SEARCH_METHODS (a test checks), repeated so that help loads no search code.
export const CLI_SEARCH_METHODS = ['rs', 're', 'ls', 'bananas', 'ctnas', 'sampling', 'agnet'] as const
/** lib/search/sampling's SAMPLERS (a test checks). */
export const CLI_SAMPLERS = ['whole', 'uniform', 'ml', 'ev'] as const
export type CliSearchMethod = typeof CLI_SEARCH_METHODS[number]

/** The validated options of one `nasrank search` run. */
export interface SearchArgs {
  /** Methods in the order given (the first is the baseline of the report's paired differences). */
  methods: CliSearchMethod[]
  /** Benchmark uri: synthetic-101, synthetic-201, nb101:<file>, nb201:<table> or nb201:<dir> (several budgets). */
  bench: string
  /** Dataset of an nb201:<dir> (or list of tables) holding several. */
  dataset?: string
  /** Distinct architectures each run may query. */
  budget: number
  /** Query counts at which the incumbent is reported (ascending, each in [1, budget]); default: the runner's. */
  checkpoints?: number[]
  /** Number of seeds, run as seedStart, seedStart + 1, … */
  seeds: number
  seedStart: number
  /** Training budget of the queried results (default the bench's largest). */
  epochs?: number
  jobs: number
  out: string
  /** Overwrite files in --out that nasrank did not write. */
  force: boolean
  /** Run the cells on a grid (BullMQ on Redis) instead of here. */
  queue?: QueueUrl
  /** Settings of the methods that take flags (sampling: --sampler, --pool, --gcn-width, --gcn-epochs, --lr, --momentum). */
  methodSettings?: Record<string, Record<string, unknown>>
}

/** What commander hands the action: every value as typed. */
export interface RawSearchOptions {
  method: string
  bench: string
  dataset?: string
  budget: string
  checkpoints?: string
  seeds: string
  seedStart: string
  epochs?: string
  jobs?: string
  out: string
  force?: boolean
  queue?: string
  sampler?: string
  pool?: string
  gcnWidth?: string
  gcnEpochs?: string
  lr?: string
  momentum?: string
  initial?: string
  k?: string
  parents?: string
  alpha?: string
  pMutate?: string
}

/** Validates the options; every error is a UsageError that names the option. */
export function searchArgs (raw: RawSearchOptions): SearchArgs {
  const methods: CliSearchMethod[] = []
  for (const m of list('--method', raw.method, s => choice('--method', s, CLI_SEARCH_METHODS))) {
    if (methods.includes(m)) throw new UsageError(`--method: '${m}' is given twice`)
    methods.push(m)
  }
  const bench = raw.bench
  if (!(bench === 'synthetic-101' || bench === 'synthetic-201' || /^nb(101|201):./.test(bench))) {
    throw new UsageError(`unknown benchmark '${bench}' (synthetic-101, synthetic-201, nb101:<file>, nb201:<file>)`)
  }
  if (raw.dataset !== undefined && !bench.startsWith('nb201:')) {
    throw new UsageError(`--dataset picks the dataset of an nb201:<dir> holding several; ${bench} has one`)
  }
  if (raw.dataset !== undefined && raw.dataset.trim() === '') throw new UsageError('--dataset must not be empty')
  const budget = integer('--budget', raw.budget, 1)
  let checkpoints: number[] | undefined
  if (raw.checkpoints !== undefined) {
    checkpoints = list('--checkpoints', raw.checkpoints, s => integer('--checkpoints', s, 1))
    for (let k = 0; k < checkpoints.length; k++) {
      if (checkpoints[k] > budget) throw new UsageError(`--checkpoints: ${checkpoints[k]} is beyond --budget ${budget}`)
      if (k > 0 && checkpoints[k] <= checkpoints[k - 1]) throw new UsageError(`--checkpoints must be increasing, got '${raw.checkpoints}'`)
    }
  }
  const samplingFlags = (['sampler', 'pool', 'gcnWidth', 'gcnEpochs', 'lr', 'momentum', 'initial', 'k', 'parents', 'alpha', 'pMutate'] as const).filter(k => raw[k] !== undefined)
  let methodSettings: Record<string, Record<string, unknown>> | undefined
  if (samplingFlags.length > 0) {
    const flag = (k: string): string => `--${k.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)}`
    if (!methods.includes('sampling')) throw new UsageError(`${flag(samplingFlags[0])} sets the sampling method; add sampling to --method`)
    const st: Record<string, unknown> = {}
    if (raw.sampler === 'random') throw new UsageError('--sampler random is random search, the rs method: give --method rs (or --method rs,sampling)')
    if (raw.sampler !== undefined) st.sampler = choice('--sampler', raw.sampler, CLI_SAMPLERS)
    if (raw.pool !== undefined) {
      if (raw.pool === 'all') st.sampler = 'whole'
      else {
        const n = Number(raw.pool)
        if (raw.pool.trim() === '' || !Number.isInteger(n) || n < 4) throw new UsageError(`--pool must be 'all' or an integer in [4, |S|) (K = 4 to the size of the space), got '${raw.pool}'`)
        st.pool = n
        if (st.sampler === undefined) throw new UsageError("--pool N sizes the uniform, ml or ev pool: give --sampler uniform|ml|ev (or --pool all)")
        if (st.sampler === 'whole') throw new UsageError("--pool N: --sampler whole scores every architecture; give --pool all or another sampler")
      }
    }
    if (raw.gcnWidth !== undefined) st.width = integer('--gcn-width', raw.gcnWidth, 1)
    if (raw.gcnEpochs !== undefined) st.epochs = integer('--gcn-epochs', raw.gcnEpochs, 1)
    if (raw.lr !== undefined) st.lr = real('--lr', raw.lr, x => x > 0, '> 0')
    if (raw.momentum !== undefined) st.momentum = real('--momentum', raw.momentum, x => x >= 0 && x < 1, 'in [0, 1)')
    if (raw.initial !== undefined) st.initial = integer('--initial', raw.initial, 2)
    if (raw.k !== undefined) st.k = integer('--k', raw.k, 1)
    if (raw.parents !== undefined) st.parents = integer('--parents', raw.parents, 1)
    if (raw.alpha !== undefined) st.alpha = real('--alpha', raw.alpha, x => x >= 0 && x <= 1, 'in [0, 1]')
    if (raw.pMutate !== undefined) st.pMutate = real('--p-mutate', raw.pMutate, x => x > 0 && x <= 1, 'in (0, 1]')
    const k = (st.k as number | undefined) ?? 4
    if (typeof st.pool === 'number' && st.pool < k) throw new UsageError(`--pool must be 'all' or an integer in [${k}, |S|) (K = ${k} to the size of the space), got '${String(raw.pool)}'`)
    const initial = (st.initial as number | undefined) ?? 4
    if (budget < initial + k) throw new UsageError(`--budget must be >= --initial + --k = ${initial} + ${k} = ${initial + k} for the sampling method, got '${raw.budget}'`)
    methodSettings = { sampling: st }
  }
  return {
    ...(methodSettings !== undefined ? { methodSettings } : {}),
    methods,
    bench,
    dataset: raw.dataset,
    budget,
    checkpoints,
    seeds: integer('--seeds', raw.seeds, 1),
    seedStart: integer('--seed-start', raw.seedStart, 0),
    epochs: raw.epochs === undefined ? undefined : integer('--epochs', raw.epochs, 1),
    jobs: queueJobs(raw.queue, raw.jobs),
    out: outDir('--out', raw.out),
    force: raw.force === true,
    ...(raw.queue !== undefined ? { queue: parseQueueUrl(raw.queue) } : {})
  }
}

/** --jobs, which a run on a grid does not take (each worker has its own). */
export function queueJobs (queue: string | undefined, jobs: string | undefined): number {
  if (queue !== undefined && jobs !== undefined && jobs !== '1') throw new UsageError('--jobs runs cells in threads of this process; with --queue, give --jobs to each `nasrank worker`')
  return jobs === undefined ? 1 : integer('--jobs', jobs, 1)
}

export function searchCommand (): Command {
  return new Command('search')
    .summary('search methods (rs, re, ls, bananas, ctnas, sampling) over many seeds on one benchmark')
    .description('Runs search methods on one benchmark for many seeds: each run queries at most --budget distinct ' +
      'architectures (validation accuracy, counted once each) and reports, at each checkpoint, the test ' +
      'accuracy of its incumbent. Results go to --out (results.jsonl, report); re-running resumes.')
    .option('--method <list>', `comma-separated methods: ${CLI_SEARCH_METHODS.join(', ')} (random search, regularized evolution, local search, BANANAS, CTNAS with the paper's schedule: NB-201 only, minutes per run, 'nasrank reproduce ctnas' has lighter schedules; the GCN predictor loop with efficient sampling, AG-Net); the first is the baseline of the paired differences`, 'rs,re')
    .requiredOption('--bench <uri>', 'benchmark: synthetic-201, nb201:<table.csv>, nb201:<dir> (several budgets), synthetic-101, nb101:<file>')
    .option('--dataset <D>', 'the dataset of an nb201:<dir> holding several (e.g. cifar100)')
    .option('--budget <N>', 'distinct architectures each run may query', '200')
    .option('--checkpoints <a,b,…>', 'query counts at which the incumbent is reported (default 25,50,100,150,200 up to the budget, and the budget)')
    .option('--seeds <N>', 'runs per method', '20')
    .option('--seed-start <N>', 'first seed', '0')
    .option('--epochs <E>', 'training budget of the queried results (default the benchmark\'s largest)')
    .option('--jobs <N>', 'runs at once, each in a worker thread (default 1)')
    .option('--queue <url>', 'run the cells on a grid: enqueue them on Redis (redis://host:6379/0, rediss:// for TLS, env:NAME to read the URL from a variable) for `nasrank worker` processes, follow them, write the rows here; re-running re-attaches')
    .option('--out <dir>', 'results directory; re-running with the same DIR resumes', 'search-results')
    .option('--force', 'overwrite files in --out that nasrank did not write')
    .option('--sampler <S>', `sampling: candidate pool, one of ${CLI_SAMPLERS.join(', ')} (default whole)`)
    .option('--pool <N|all>', 'sampling: pool size N′ of uniform, ml and ev (default 100); all = --sampler whole')
    .option('--gcn-width <N>', 'sampling: units per GCN layer (default 256, the paper\'s)')
    .option('--gcn-epochs <N>', 'sampling: SGD steps per iteration (default 2000, the paper\'s)')
    .option('--lr <x>', 'sampling: initial learning rate of the cosine schedule (default 0.01)')
    .option('--momentum <x>', 'sampling: SGD momentum in [0, 1) (default 0.9)')
    .option('--initial <N>', 'sampling: random architectures evaluated first, T₀ >= 2 (default 4)')
    .option('--k <N>', 'sampling: architectures evaluated per iteration, K >= 1 (default 4)')
    .option('--parents <N>', 'sampling, ev pool: parents P >= 1 (default 10)')
    .option('--alpha <x>', 'sampling, ev pool: mutant fraction α in [0, 1] (default 0.5)')
    .option('--p-mutate <x>', 'sampling, ev pool: per-bit mutation probability in (0, 1] (default 0.05)')
    .addHelpText('after', '\nExamples:\n  nasrank search --bench nb201:nb201-cifar10-hp200.csv --method rs,re,ls --budget 150 --seeds 100\n' +
      '  nasrank search --bench nb201:nb201-cifar10-hp200.csv --method re,sampling --sampler ev --pool 100 --budget 100\n' +
      '  nasrank search --bench nb201:nb201-cifar10-hp200.csv --seeds 100 --queue redis://grid-head:6379/0   (workers: nasrank worker --queue redis://grid-head:6379/0)')
    .action(async (raw: RawSearchOptions) => {
      const args = searchArgs(raw)
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { searchCommand: run } = require('./search-cli') as typeof import('./search-cli')
      const { StatusLine } = require('../progress') as typeof import('../progress')
      /* eslint-enable @typescript-eslint/no-require-imports */
      // On a TTY, say what the silent start is doing (opening the bench; synthetic-101 takes
      // seconds) until the first line of the run replaces it.
      const status = new StatusLine()
      status.show(openingStatus(args.bench))
      try {
        const code = await run({ ...args, command: redactArgv(process.argv.slice(2)) }, line => { status.clear(); console.error(line) })
        if (code !== 0) process.exitCode = code
      } finally {
        status.clear()
      }
    })
}
