// `nasrank reproduce sampling`: the options and their validation, before any work (light: help
// loads no search code). The action loads sampling-cli.ts, which runs runSamplingExperiment.
import { Command } from 'commander'
import * as path from 'node:path'
import { choice, integer, list, openingStatus, outDir, real, UsageError } from '../cli-args'

/** SAMPLING_VARIANTS of sampling.ts (a test checks), repeated so that help loads nothing. */
export const CLI_SAMPLING_ROWS = ['whole', 'uniform', 'ml', 'ev', 'rs', 're', 'bananas'] as const
export type CliSamplingRow = typeof CLI_SAMPLING_ROWS[number]
/** --sampler's choices: the predictor loop's pools, and `random` (the rs row: the harness's random search). */
export const CLI_SAMPLING_SAMPLERS = ['whole', 'uniform', 'ml', 'ev', 'random'] as const
/** The figures of the paper that --figure reproduces. */
export const FIGURES = [2, 3, 4, 5, 6, 7, 8, 9, 10] as const

/** The predictor-loop settings the command line may change from the paper's (recorded in every row). */
export interface CliGcnSettings {
  width?: number
  epochs?: number
  lr?: number
  momentum?: number
  mlSteps?: number
  initial?: number
  k?: number
  parents?: number
  alpha?: number
  pMutate?: number
}

export interface SamplingArgs {
  bench: string
  dataset?: string
  rows?: CliSamplingRow[]
  /** Pool sizes N′ of the uniform, ml and ev rows (one row per size); 'all' = the pb-whole row. */
  pools?: Array<number | 'all'>
  /** Figures of the paper to draw (2..10). */
  figures?: number[]
  budget?: number
  checkpoints?: number[]
  seeds?: number
  seedStart?: number
  gcn: CliGcnSettings
  jobs: number
  out: string
  force: boolean
  quick: boolean
  /** --quick without --bench: the synthetic-101 figures part, run after the first into this folder. */
  quickFigures?: { bench: string, seeds: number, budget: number, gcn: CliGcnSettings, figures: number[], out: string }
}

export interface RawSamplingOptions {
  bench?: string
  dataset?: string
  rows?: string
  sampler?: string
  pool?: string
  figure?: string
  budget?: string
  checkpoints?: string
  seeds?: string
  seedStart?: string
  gcnWidth?: string
  gcnEpochs?: string
  lr?: string
  mlSteps?: string
  momentum?: string
  initial?: string
  k?: string
  parents?: string
  alpha?: string
  pMutate?: string
  jobs: string
  out: string
  force?: boolean
  quick?: boolean
}

/** --quick: synthetic-201, 2 seeds, budget 50, GCN 32 units × 100 steps, 20 ML steps, BANANAS 50 epochs. */
export const QUICK = Object.freeze({ bench: 'synthetic-201', seeds: 2, budget: 50, gcn: Object.freeze({ width: 32, epochs: 100, mlSteps: 20 }) })
/** --quick's second part (without --bench): the paper's Figs 2–10 on synthetic-101, into <out>/synthetic-101. */
export const QUICK_FIGURES = Object.freeze({ bench: 'synthetic-101', seeds: 2, budget: 40, gcn: Object.freeze({ width: 32, epochs: 200, mlSteps: 20 }), figures: Object.freeze([...FIGURES]), dir: 'synthetic-101' })

/**
 * The rows and pool sizes the figures need when --rows / --sampler / --pool do not say (the
 * issue's table): Figs 2–5 pb-whole (N′ = all), uniform at N′ = 10000, 1000, 100 and rs;
 * Figs 6–10 ML and ev at N′ = 1000, 100 beside uniform at the same sizes and rs.
 */
export function figureRows (figures: readonly number[]): { rows: CliSamplingRow[], pools: Partial<Record<CliSamplingRow, number[]>> } {
  const rows = new Set<CliSamplingRow>()
  const pools: Partial<Record<CliSamplingRow, Set<number>>> = {}
  const add = (r: CliSamplingRow, ns: number[]): void => { rows.add(r); const set = pools[r] ?? new Set<number>(); ns.forEach(n => set.add(n)); if (ns.length > 0) pools[r] = set }
  for (const f of figures) {
    if (f <= 5) { add('whole', []); add('uniform', [10000, 1000, 100]); add('rs', []) } else { add('uniform', [1000, 100]); add('ml', [1000, 100]); add('ev', [1000, 100]); add('rs', []) }
  }
  return { rows: CLI_SAMPLING_ROWS.filter(r => rows.has(r)), pools: Object.fromEntries(Object.entries(pools).map(([r, set]) => [r, [...set].sort((x, y) => y - x)])) }
}

export function samplingArgs (raw: RawSamplingOptions): SamplingArgs {
  const quick = raw.quick === true
  const bench = raw.bench ?? (quick ? QUICK.bench : undefined)
  if (bench === undefined) throw new UsageError('--bench <uri> is required (nb201:<table.csv>, nb201:<dir> with --dataset, synthetic-201, synthetic-101, nb101:<file>), or give --quick')
  if (!(bench === 'synthetic-201' || bench === 'synthetic-101' || /^nb(101|201):./.test(bench))) throw new UsageError(`--bench: the sampling experiment runs on NAS-Bench-201 or NAS-Bench-101 (synthetic-201, nb201:<file>, synthetic-101, nb101:<file>), got '${bench}'`)
  if (raw.dataset !== undefined && !bench.startsWith('nb201:')) throw new UsageError(`--dataset picks the dataset of an nb201:<dir> holding several; ${bench} has one`)
  if (raw.rows !== undefined && raw.sampler !== undefined) throw new UsageError('--rows and --sampler both pick the rows; give one of them')
  let rows: CliSamplingRow[] | undefined
  if (raw.rows !== undefined) {
    rows = []
    for (const r of list('--rows', raw.rows, s => choice('--rows', s, CLI_SAMPLING_ROWS))) {
      if (rows.includes(r)) throw new UsageError(`--rows: '${r}' is given twice`)
      rows.push(r)
    }
  }
  if (raw.sampler !== undefined) {
    rows = []
    for (const s of list('--sampler', raw.sampler, x => choice('--sampler', x, CLI_SAMPLING_SAMPLERS))) {
      const r: CliSamplingRow = s === 'random' ? 'rs' : s
      if (rows.includes(r)) throw new UsageError(`--sampler: '${s}' is given twice`)
      rows.push(r)
    }
  }
  let figures: number[] | undefined
  if (raw.figure !== undefined) {
    figures = []
    for (const f of list('--figure', raw.figure, s => {
      const n = Number(s)
      if (!Number.isInteger(n) || n < 2 || n > 10) throw new UsageError(`--figure must be an integer in [2, 10] (the paper's Figs 2–10), got '${s}'`)
      return n
    })) {
      if (figures.includes(f)) throw new UsageError(`--figure: ${f} is given twice`)
      figures.push(f)
    }
    figures.sort((a, b) => a - b)
  }
  const gcn: SamplingArgs['gcn'] = quick ? { ...QUICK.gcn } : {}
  if (raw.gcnWidth !== undefined) gcn.width = integer('--gcn-width', raw.gcnWidth, 1)
  if (raw.gcnEpochs !== undefined) gcn.epochs = integer('--gcn-epochs', raw.gcnEpochs, 1)
  if (raw.lr !== undefined) gcn.lr = real('--lr', raw.lr, x => x > 0, '> 0')
  if (raw.momentum !== undefined) gcn.momentum = real('--momentum', raw.momentum, x => x >= 0 && x < 1, 'in [0, 1)')
  if (raw.mlSteps !== undefined) gcn.mlSteps = integer('--ml-steps', raw.mlSteps, 1)
  if (raw.initial !== undefined) gcn.initial = integer('--initial', raw.initial, 2)
  if (raw.k !== undefined) gcn.k = integer('--k', raw.k, 1)
  if (raw.parents !== undefined) gcn.parents = integer('--parents', raw.parents, 1)
  if (raw.alpha !== undefined) gcn.alpha = real('--alpha', raw.alpha, x => x >= 0 && x <= 1, 'in [0, 1]')
  if (raw.pMutate !== undefined) gcn.pMutate = real('--p-mutate', raw.pMutate, x => x > 0 && x <= 1, 'in (0, 1]')
  const k = gcn.k ?? 4
  const initial = gcn.initial ?? 4
  let pools: Array<number | 'all'> | undefined
  if (raw.pool !== undefined) {
    pools = []
    for (const p of list('--pool', raw.pool, s => {
      if (s === 'all') return 'all' as const
      const n = Number(s)
      if (!Number.isInteger(n) || n < k) throw new UsageError(`--pool must be 'all' or an integer in [${k}, |S|) (K = ${k} to the size of the space), got '${s}'`)
      return n
    })) {
      if (pools.includes(p)) throw new UsageError(`--pool: ${p} is given twice`)
      pools.push(p)
    }
    const sized = (rows ?? []).filter(r => r === 'uniform' || r === 'ml' || r === 'ev')
    if (!pools.some(p => p !== 'all') && sized.length > 0) throw new UsageError(`--pool all is the pb-whole row; the ${sized.join(', ')} row${sized.length > 1 ? 's need' : ' needs'} an integer N′ as well (e.g. --pool all,100)`)
  }
  const budget = raw.budget !== undefined ? integer('--budget', raw.budget, 1) : quick ? QUICK.budget : undefined
  if (budget !== undefined && budget < initial + k) throw new UsageError(`--budget must be >= --initial + --k = ${initial} + ${k} = ${initial + k}, got '${raw.budget ?? budget}'`)
  let checkpoints: number[] | undefined
  if (raw.checkpoints !== undefined) {
    checkpoints = list('--checkpoints', raw.checkpoints, s => integer('--checkpoints', s, 1))
    for (let c = 0; c < checkpoints.length; c++) {
      if (checkpoints[c] > (budget ?? 150)) throw new UsageError(`--checkpoints: ${checkpoints[c]} is beyond --budget ${budget ?? 150}`)
      if (c > 0 && checkpoints[c] <= checkpoints[c - 1]) throw new UsageError(`--checkpoints must be increasing, got '${raw.checkpoints}'`)
    }
  }
  return {
    bench,
    ...(raw.dataset !== undefined ? { dataset: raw.dataset } : {}),
    ...(rows !== undefined ? { rows } : {}),
    ...(pools !== undefined ? { pools } : {}),
    ...(figures !== undefined ? { figures } : {}),
    ...(budget !== undefined ? { budget } : {}),
    ...(checkpoints !== undefined ? { checkpoints } : {}),
    ...(raw.seeds !== undefined ? { seeds: integer('--seeds', raw.seeds, 1) } : quick ? { seeds: QUICK.seeds } : {}),
    ...(raw.seedStart !== undefined ? { seedStart: integer('--seed-start', raw.seedStart, 0) } : {}),
    gcn,
    jobs: integer('--jobs', raw.jobs, 1),
    out: outDir('--out', raw.out),
    force: raw.force === true,
    quick,
    ...(quick && raw.bench === undefined ? { quickFigures: { bench: QUICK_FIGURES.bench, seeds: QUICK_FIGURES.seeds, budget: QUICK_FIGURES.budget, gcn: { ...QUICK_FIGURES.gcn }, figures: figures ?? [...QUICK_FIGURES.figures], out: path.join(raw.out, QUICK_FIGURES.dir) } } : {})
  }
}

export function samplingCommand (): Command {
  return new Command('sampling')
    .summary('Mauch et al.: GCN predictor loop with uniform / ML / evolutionary pools, vs rs, re, BANANAS')
    .description('Runs the efficient-sampling predictor loop (pb-whole, and uniform, ML and evolutionary pools of N′ ' +
      'architectures) beside random search, aging evolution and BANANAS on one NAS-Bench-201 or NAS-Bench-101 bench, many seeds each, ' +
      'and reports the test accuracy of the incumbent, paired differences against aging evolution, the quality targets, ' +
      'the sample-efficiency gain and (--figure) the paper\'s Figs 2–10. Results go to --out (results.jsonl, report.md); ' +
      're-running resumes, inside a run from its last iteration.')
    .option('--bench <uri>', 'nb201:<table.csv>, nb201:<dir> (with --dataset), synthetic-201, synthetic-101 or nb101:<nasbench_only108.tfrecord>')
    .option('--dataset <D>', 'the dataset of an nb201:<dir> holding several (e.g. cifar100)')
    .option('--rows <list>', `rows to run: ${CLI_SAMPLING_ROWS.join(', ')} (default all)`)
    .option('--sampler <list>', `rows by sampler: ${CLI_SAMPLING_SAMPLERS.join(', ')} (random = the rs row); instead of --rows`)
    .option('--pool <list>', 'pool sizes N′ of the uniform, ml and ev rows, each \'all\' (the pb-whole row) or an integer in [K, |S|) (default 100; one row per size)')
    .option('--figure <list>', 'the paper\'s figures to draw, 2..10 (SVGs and a report section; picks the rows and pools the figure needs unless --rows/--sampler/--pool say)')
    .option('--budget <N>', 'distinct architectures per search (default 150)')
    .option('--checkpoints <a,b,…>', 'query counts of the table (default 50,100,150 up to the budget)')
    .option('--seeds <N>', 'seeds per row (default 20)')
    .option('--seed-start <N>', 'first seed (default 0)')
    .option('--gcn-width <N>', 'GCN units per layer (default 256, the paper\'s)')
    .option('--gcn-epochs <N>', 'SGD steps per iteration (default 2000, the paper\'s)')
    .option('--lr <x>', 'initial SGD learning rate (default 0.01, the paper\'s)')
    .option('--momentum <x>', 'SGD momentum in [0, 1) (default 0.9, the paper\'s)')
    .option('--ml-steps <N>', 'Adam steps of the ML sampler (default 50)')
    .option('--initial <N>', 'random architectures evaluated first, T₀ >= 2 (default 4)')
    .option('--k <N>', 'architectures evaluated per iteration, K >= 1 (default 4)')
    .option('--parents <N>', 'ev pool: parents P >= 1 (default 10)')
    .option('--alpha <x>', 'ev pool: mutant fraction α in [0, 1] (default 0.5)')
    .option('--p-mutate <x>', 'ev pool: per-bit mutation probability in (0, 1] (default 0.05)')
    .option('--jobs <N>', 'runs at once, each in a worker thread', '1')
    .option('--out <dir>', 'results directory; re-running with the same DIR resumes', 'sampling-results')
    .option('--force', 'overwrite files in --out that nasrank did not write')
    .option('--quick', `a small SYNTHETIC run: synthetic-201, ${QUICK.seeds} seeds, budget ${QUICK.budget}, GCN ${QUICK.gcn.width} units × ${QUICK.gcn.epochs} steps, ${QUICK.gcn.mlSteps} ML steps; then (without --bench) Figs 2–10 on synthetic-101 (${QUICK_FIGURES.seeds} seeds, budget ${QUICK_FIGURES.budget}, GCN ${QUICK_FIGURES.gcn.width} × ${QUICK_FIGURES.gcn.epochs}, ${QUICK_FIGURES.gcn.mlSteps} ML steps) into <out>/${QUICK_FIGURES.dir}`)
    .addHelpText('after', '\nExamples:\n  nasrank reproduce sampling --quick\n' +
      '  nasrank reproduce sampling --bench nb201:nb201-cifar10-hp200.csv --budget 100 --seeds 20 --gcn-width 32 --gcn-epochs 100 --lr 0.05 --jobs 2')
    .action(async (raw: RawSamplingOptions) => {
      const args = samplingArgs(raw)
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { samplingCommandRun } = require('./sampling-cli') as typeof import('./sampling-cli')
      const { StatusLine } = require('../progress') as typeof import('../progress')
      /* eslint-enable @typescript-eslint/no-require-imports */
      const status = new StatusLine()
      status.show(openingStatus(args.bench))
      try {
        const code = await samplingCommandRun(args, process.argv.slice(2), line => { status.clear(); console.error(line) })
        if (code !== 0) process.exitCode = code
      } finally { status.clear() }
    })
}
