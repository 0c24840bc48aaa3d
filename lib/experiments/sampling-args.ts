// `nasrank reproduce sampling`: the options and their validation, before any work (light: help
// loads no search code). The action loads sampling-cli.ts, which runs runSamplingExperiment.
import { Command } from 'commander'
import { choice, integer, list, openingStatus, outDir, real, UsageError } from '../cli-args'

/** SAMPLING_VARIANTS of sampling.ts (a test checks), repeated so that help loads nothing. */
export const CLI_SAMPLING_ROWS = ['whole', 'uniform', 'ml', 'ev', 'rs', 're', 'bananas'] as const
export type CliSamplingRow = typeof CLI_SAMPLING_ROWS[number]

export interface SamplingArgs {
  bench: string
  dataset?: string
  rows?: CliSamplingRow[]
  pool?: number
  budget?: number
  checkpoints?: number[]
  seeds?: number
  seedStart?: number
  gcn: { width?: number, epochs?: number, lr?: number, mlSteps?: number }
  jobs: number
  out: string
  force: boolean
  quick: boolean
}

export interface RawSamplingOptions {
  bench?: string
  dataset?: string
  rows?: string
  pool?: string
  budget?: string
  checkpoints?: string
  seeds?: string
  seedStart?: string
  gcnWidth?: string
  gcnEpochs?: string
  lr?: string
  mlSteps?: string
  jobs: string
  out: string
  force?: boolean
  quick?: boolean
}

/** --quick: synthetic-201, 2 seeds, budget 50, GCN 32 units × 100 steps, 20 ML steps, BANANAS 50 epochs. */
export const QUICK = Object.freeze({ bench: 'synthetic-201', seeds: 2, budget: 50, gcn: Object.freeze({ width: 32, epochs: 100, mlSteps: 20 }) })

export function samplingArgs (raw: RawSamplingOptions): SamplingArgs {
  const quick = raw.quick === true
  const bench = raw.bench ?? (quick ? QUICK.bench : undefined)
  if (bench === undefined) throw new UsageError('--bench <uri> is required (nb201:<table.csv>, nb201:<dir> with --dataset, synthetic-201), or give --quick')
  if (!(bench === 'synthetic-201' || /^nb201:./.test(bench))) throw new UsageError(`--bench: the sampling experiment runs on NAS-Bench-201 (synthetic-201, nb201:<file>), got '${bench}'`)
  if (raw.dataset !== undefined && !bench.startsWith('nb201:')) throw new UsageError(`--dataset picks the dataset of an nb201:<dir> holding several; ${bench} has one`)
  let rows: CliSamplingRow[] | undefined
  if (raw.rows !== undefined) {
    rows = []
    for (const r of list('--rows', raw.rows, s => choice('--rows', s, CLI_SAMPLING_ROWS))) {
      if (rows.includes(r)) throw new UsageError(`--rows: '${r}' is given twice`)
      rows.push(r)
    }
  }
  const budget = raw.budget !== undefined ? integer('--budget', raw.budget, 8) : quick ? QUICK.budget : undefined
  let checkpoints: number[] | undefined
  if (raw.checkpoints !== undefined) {
    checkpoints = list('--checkpoints', raw.checkpoints, s => integer('--checkpoints', s, 1))
    for (let k = 0; k < checkpoints.length; k++) {
      if (checkpoints[k] > (budget ?? 150)) throw new UsageError(`--checkpoints: ${checkpoints[k]} is beyond --budget ${budget ?? 150}`)
      if (k > 0 && checkpoints[k] <= checkpoints[k - 1]) throw new UsageError(`--checkpoints must be increasing, got '${raw.checkpoints}'`)
    }
  }
  const gcn: SamplingArgs['gcn'] = quick ? { ...QUICK.gcn } : {}
  if (raw.gcnWidth !== undefined) gcn.width = integer('--gcn-width', raw.gcnWidth, 1)
  if (raw.gcnEpochs !== undefined) gcn.epochs = integer('--gcn-epochs', raw.gcnEpochs, 1)
  if (raw.lr !== undefined) gcn.lr = real('--lr', raw.lr, x => x > 0, '> 0')
  if (raw.mlSteps !== undefined) gcn.mlSteps = integer('--ml-steps', raw.mlSteps, 1)
  return {
    bench,
    ...(raw.dataset !== undefined ? { dataset: raw.dataset } : {}),
    ...(rows !== undefined ? { rows } : {}),
    ...(raw.pool !== undefined ? { pool: integer('--pool', raw.pool, 4) } : {}),
    ...(budget !== undefined ? { budget } : {}),
    ...(checkpoints !== undefined ? { checkpoints } : {}),
    ...(raw.seeds !== undefined ? { seeds: integer('--seeds', raw.seeds, 1) } : quick ? { seeds: QUICK.seeds } : {}),
    ...(raw.seedStart !== undefined ? { seedStart: integer('--seed-start', raw.seedStart, 0) } : {}),
    gcn,
    jobs: integer('--jobs', raw.jobs, 1),
    out: outDir('--out', raw.out),
    force: raw.force === true,
    quick
  }
}

export function samplingCommand (): Command {
  return new Command('sampling')
    .summary('Mauch et al.: GCN predictor loop with uniform / ML / evolutionary pools, vs rs, re, BANANAS')
    .description('Runs the efficient-sampling predictor loop (pb-whole, and uniform, ML and evolutionary pools of N′ ' +
      'architectures) beside random search, aging evolution and BANANAS on one NAS-Bench-201 table, many seeds each, ' +
      'and reports the test accuracy of the incumbent, paired differences against aging evolution, the quality targets and ' +
      'the sample-efficiency gain. Results go to --out (results.jsonl, report.md); re-running resumes.')
    .option('--bench <uri>', 'nb201:<table.csv>, nb201:<dir> (with --dataset) or synthetic-201')
    .option('--dataset <D>', 'the dataset of an nb201:<dir> holding several (e.g. cifar100)')
    .option('--rows <list>', `rows to run: ${CLI_SAMPLING_ROWS.join(', ')} (default all)`)
    .option('--pool <N>', 'pool size N′ of the uniform, ml and ev rows (default 100)')
    .option('--budget <N>', 'distinct architectures per search (default 150)')
    .option('--checkpoints <a,b,…>', 'query counts of the table (default 50,100,150 up to the budget)')
    .option('--seeds <N>', 'seeds per row (default 20)')
    .option('--seed-start <N>', 'first seed (default 0)')
    .option('--gcn-width <N>', 'GCN units per layer (default 256, the paper\'s)')
    .option('--gcn-epochs <N>', 'SGD steps per iteration (default 2000, the paper\'s)')
    .option('--lr <x>', 'initial SGD learning rate (default 0.01, the paper\'s)')
    .option('--ml-steps <N>', 'Adam steps of the ML sampler (default 50)')
    .option('--jobs <N>', 'runs at once, each in a worker thread', '1')
    .option('--out <dir>', 'results directory; re-running with the same DIR resumes', 'sampling-results')
    .option('--force', 'overwrite files in --out that nasrank did not write')
    .option('--quick', `a small SYNTHETIC run: synthetic-201, ${QUICK.seeds} seeds, budget ${QUICK.budget}, GCN ${QUICK.gcn.width} units × ${QUICK.gcn.epochs} steps, ${QUICK.gcn.mlSteps} ML steps`)
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
