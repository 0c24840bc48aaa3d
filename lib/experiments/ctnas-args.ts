// `nasrank reproduce ctnas`: CTNAS (Chen et al., CVPR 2021) beside the harness's baselines on
// NAS-Bench-201 at one query budget, through the search experiment (lib/experiments/search.ts:
// same cells, results.jsonl, resumable report). This module holds the options and their
// validation, all before any work (light: --help loads no search code).
import { Command } from 'commander'
import { choice, integer, list, openingStatus, outDir, real, UsageError } from '../cli-args'

/**
 * CTNAS schedules (settings of lib/search/ctnas.ts). 'paper': Alg. 1 as written (T = 10,000;
 * a NAC step, data exploration with 512 pairs, every iteration; baseline every 1,000;
 * pretraining 1,000 epochs). 'fast': the settings of the measured runs (docs/ctnas.md) —
 * T = 1,000, pretraining 300 epochs, exploration every 50 iterations, baseline every 100; a NAC
 * step still every iteration. 'quick': a smoke-sized run for --quick.
 */
export const CTNAS_SCHEDULES = Object.freeze({
  paper: Object.freeze({}),
  fast: Object.freeze({ iterations: 1000, pretrainEpochs: 300, exploreEvery: 50, baselineEvery: 100 }),
  quick: Object.freeze({ iterations: 200, pretrainEpochs: 100, exploreEvery: 20, explorePairs: 128, exploreKeep: 64, baselineEvery: 20 })
}) as Readonly<Record<'paper' | 'fast' | 'quick', Readonly<Record<string, number>>>>
export type CtnasSchedule = keyof typeof CTNAS_SCHEDULES

/**
 * The schedules of the code preset (`--preset code`). 'paper': the code's own (T = 10,000;
 * exploration of 2k samples and one NAC epoch every 100 iterations; baseline every 500 from 0;
 * pretraining 1,000 epochs). 'fast' (our choice): T ÷ 10 with the code's numbers of
 * explorations, NAC epochs and baseline updates (every 10 and 50 iterations), pretraining 300
 * epochs as the paper preset's fast. 'quick': a smoke-sized run.
 */
export const CTNAS_CODE_SCHEDULES = Object.freeze({
  paper: Object.freeze({}),
  fast: Object.freeze({ iterations: 1000, pretrainEpochs: 300, exploreEvery: 10, baselineEvery: 50 }),
  quick: Object.freeze({ iterations: 200, pretrainEpochs: 100, exploreEvery: 20, exploreKeep: 50, baselineEvery: 50 })
}) as Readonly<Record<'paper' | 'fast' | 'quick', Readonly<Record<string, number>>>>
const PRESETS = ['paper', 'code'] as const
const SCHEDULES = ['paper', 'fast', 'quick'] as const
const BASELINES = ['rs', 're', 'ls', 'bananas'] as const
const VARIANTS = ['curriculum', 'fixed', 'random'] as const

export interface CtnasArgs {
  /** 'search' (CTNAS beside the baselines), 'ktau' (Eq. 12 of the NAC vs a regression predictor) or '1' (Table 1 on NB-101). */
  table: 'search' | 'ktau' | '1'
  bench: string
  dataset?: string
  budget: number
  seeds: number
  seedStart: number
  /** Baselines run beside CTNAS (the first is the baseline of the paired differences). */
  baselines: string[]
  /** The settings of the ctnas method (schedule, variant, ratio). */
  settings: Record<string, unknown>
  jobs: number
  out: string
  force: boolean
  quick: boolean
}

export interface RawCtnasOptions {
  table: string
  bench?: string
  dataset?: string
  budget?: string
  seeds?: string
  seedStart: string
  schedule?: string
  preset?: string
  baselines: string
  variant: string
  ratio?: string
  iterations?: string
  rounds?: string
  topK?: string
  roundEpochs?: string
  jobs: string
  out: string
  force?: boolean
  quick?: boolean
}

/** Validates the options; every error is a UsageError naming the option. */
export function ctnasArgs (raw: RawCtnasOptions): CtnasArgs {
  const quick = raw.quick === true
  const table = choice('--table', raw.table, ['search', 'ktau', '1'] as const)
  const bench = raw.bench ?? (table === '1' ? 'synthetic-101' : 'synthetic-201')
  if (table === '1') {
    if (!(bench === 'synthetic-101' || /^nb101:./.test(bench))) throw new UsageError(`--bench ${bench}: Table 1 runs on NAS-Bench-101 (synthetic-101 or nb101:<file>)`)
  } else if (!(bench === 'synthetic-201' || /^nb201:./.test(bench))) {
    throw new UsageError(`--bench ${bench}: --table ${table} runs on NAS-Bench-201 (synthetic-201 or nb201:<table.csv | dir>); NB-101 benches: --table 1`)
  }
  if (raw.dataset !== undefined && !bench.startsWith('nb201:')) throw new UsageError(`--dataset picks the dataset of an nb201:<dir> holding several; ${bench} has one`)
  const schedule = choice('--schedule', raw.schedule ?? (quick ? 'quick' : 'paper'), SCHEDULES)
  const budget = integer('--budget', raw.budget ?? (table === '1' ? '423' : '100'), 1)
  if (table === '1' && budget < 2) throw new UsageError(`--budget (Table 1: the labelled architectures M) must be at least 2, got ${budget}`)
  if (table !== '1' && budget <= 11) throw new UsageError(`--budget must be at least 12 (2 labelled architectures and the top-10 queried at the end), got ${budget}`)
  const baselines: string[] = []
  if (raw.baselines.trim() !== '' && raw.baselines !== 'none') {
    for (const m of list('--baselines', raw.baselines, s => choice('--baselines', s, BASELINES))) {
      if (baselines.includes(m)) throw new UsageError(`--baselines: '${m}' is given twice`)
      baselines.push(m)
    }
  }
  const preset = choice('--preset', raw.preset ?? 'paper', PRESETS)
  if (preset === 'code' && table !== 'search') throw new UsageError(`--preset code is not implemented for --table ${table} (its KTau columns and RegressionNAS train the paper preset's NAC); it runs with the search table`)
  const settings: Record<string, unknown> = preset === 'code' ? { preset, ...CTNAS_CODE_SCHEDULES[schedule] } : { ...CTNAS_SCHEDULES[schedule] }
  const variant = choice('--variant', raw.variant, VARIANTS)
  if (variant !== 'curriculum') settings.baseline = variant
  if (raw.ratio !== undefined) {
    settings.pseudoRatio = preset === 'code'
      ? real('--ratio', raw.ratio, x => x >= 0 && Number.isFinite(x), '≥ 0 (code preset: pseudo pairs per labelled pair)')
      : real('--ratio', raw.ratio, x => x >= 0 && x < 1, 'in [0, 1)')
  }
  if (raw.iterations !== undefined) settings.iterations = integer('--iterations', raw.iterations, 1)
  if (raw.table === 'ktau' && (raw.rounds !== undefined || raw.topK !== undefined || raw.roundEpochs !== undefined)) throw new UsageError('--rounds, --top-k and --round-epochs are settings of the search table, not of --table ktau')
  const rounds = integer('--rounds', raw.rounds ?? '1', 1)
  const topK = integer('--top-k', raw.topK ?? '10', 1)
  if (rounds !== 1) settings.rounds = rounds
  if (raw.topK !== undefined) settings.topK = topK
  if (raw.roundEpochs !== undefined) {
    if (rounds === 1) throw new UsageError('--round-epochs trains the NAC after each labelling round: give --rounds R > 1 with it')
    settings.roundEpochs = integer('--round-epochs', raw.roundEpochs, 0)
  }
  if (budget < 2 + rounds * topK) throw new UsageError(`--budget ${budget} must cover 2 random labelled architectures and --rounds × --top-k = ${rounds} × ${topK} picked ones`)
  const iterations = (settings.iterations ?? 10000) as number
  if (rounds > iterations) throw new UsageError(`--rounds ${rounds} exceeds the ${iterations} controller iterations: every round searches`)
  return {
    table,
    bench,
    dataset: raw.dataset,
    budget,
    seeds: integer('--seeds', raw.seeds ?? (quick ? '2' : '20'), 1),
    seedStart: integer('--seed-start', raw.seedStart, 0),
    baselines,
    settings,
    jobs: integer('--jobs', raw.jobs, 1),
    out: outDir('--out', raw.out),
    force: raw.force === true,
    quick
  }
}

export function ctnasCommand (): Command {
  return new Command('ctnas')
    .summary('CTNAS (contrastive NAS with a neural architecture comparator) beside rs/re on NAS-Bench-201')
    .description('Runs CTNAS (NAC trained on the labelled architectures, REINFORCE controller rewarded by NAC(α, baseline), ' +
      'baseline curriculum, data exploration) and the baselines on the same seeds at one query budget: every architecture ' +
      'whose validation accuracy a method reads counts (CTNAS: budget − 10 labelled, then its top-10). Report: test accuracy ' +
      'of each method\'s best-val architecture, paired differences, regret. Results go to --out; re-running resumes.')
    .option('--table <name>', 'search: CTNAS beside the baselines (Table 1 on NB-201); ktau: Eq. 12 KTau of the NAC vs a regression predictor (ReNAS-4 beside) on 100 held-out architectures; ' +
      '1: Table 1 on NB-101 (Random, RegressionNAS, ReNAS, CTNAS: KTau, test accuracy, rank, queries)', 'search')
    .option('--bench <uri>', 'synthetic-201 (default) or nb201:<table.csv> / nb201:<dir>; --table 1: synthetic-101 (default) or nb101:<file>')
    .option('--dataset <D>', 'the dataset of an nb201:<dir> holding several (e.g. cifar100)')
    .option('--budget <N>', 'distinct architectures each run may query (default 100); --table 1: the labelled architectures M (default 423)')
    .option('--seeds <N>', 'runs per method (default 20; --quick: 2)')
    .option('--seed-start <N>', 'first seed', '0')
    .option('--schedule <name>', `CTNAS schedule: ${SCHEDULES.join(', ')} (default paper; --quick: quick) — paper: T = 10,000 with a NAC step and ` +
      'data exploration every iteration; fast: T = 1,000, exploration every 50, baseline every 100, pretraining 300 epochs')
    .option('--preset <name>', 'paper (default): the paper\'s CTNAS; code: the authors\' code where it differs (its 4-layer residual NAC, ' +
      'y = 1{R > R\'}, batch-vs-permutation pairs, a NAC epoch and data exploration every 100 iterations, baseline over 10 fresh samples every 500, ' +
      'the history best as output); --schedule fast/quick scale its intervals')
    .option('--iterations <T>', 'controller iterations (overrides the schedule)')
    .option('--rounds <R>', 'labelling rounds (default 1: the paper\'s protocol, budget − top-k random labels at once); R > 1 (ours): budget − R·k random labels, ' +
      'the iterations split into R rounds, each ending with its top-k queried and added to the NAC\'s labels; the last is the final pick')
    .option('--top-k <k>', 'architectures queried from the ranking at the end of each round (default 10)')
    .option('--round-epochs <E>', 'NAC epochs on the true labels after each round\'s new labels (with --rounds; default 0)')
    .option('--variant <name>', `baseline update: ${VARIANTS.join(', ')} (Table 4)`, 'curriculum')
    .option('--ratio <r>', 'share of pseudo-labelled pairs in a NAC batch, in [0, 1) (Table 5; default 0.5); --preset code: pseudo pairs per labelled pair, ≥ 0 (default 1.0)')
    .option('--baselines <list>', `methods run beside CTNAS: ${BASELINES.join(', ')} or none (the first is the baseline of the paired differences)`, 'rs,re')
    .option('--jobs <N>', 'runs at once, each in a worker thread', '1')
    .option('--out <dir>', 'results directory; re-running with the same DIR resumes', 'ctnas-results')
    .option('--force', 'overwrite files in --out that nasrank did not write')
    .option('--quick', 'synthetic-201, 2 seeds, the quick schedule: a smoke run in a minute or two')
    .addHelpText('after', '\nExamples:\n' +
      '  nasrank reproduce ctnas --quick\n' +
      '  nasrank reproduce ctnas --bench nb201:nb201-cifar10-hp200.csv --schedule fast --seeds 10 --jobs 2\n' +
      '  nasrank reproduce ctnas --table ktau --bench nb201:nb201-cifar100-hp200.csv --schedule fast --seeds 10\n' +
      '  nasrank reproduce ctnas --table 1 --bench synthetic-101 --schedule fast --seeds 5')
    .action(async (raw: RawCtnasOptions) => {
      const args = ctnasArgs(raw)
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { searchCommand: run } = require('./search-cli') as typeof import('./search-cli')
      const { StatusLine } = require('../progress') as typeof import('../progress')
      /* eslint-enable @typescript-eslint/no-require-imports */
      const status = new StatusLine()
      status.show(openingStatus(args.bench))
      const log = (line: string): void => { status.clear(); console.error(line) }
      // The runner's command line, warnings and progress lines, and the report printed at the end (Table 1, KTau).
      const { formatProgress } = require('./runner') as typeof import('./runner') // eslint-disable-line @typescript-eslint/no-require-imports
      const runnerIo = {
        command: process.argv.slice(2),
        warn: (line: string) => log(`warning: ${line}`),
        progress: (done: number, total: number, label: string, timing?: Parameters<typeof formatProgress>[3]) => { if (timing !== undefined) log(formatProgress(done, total, label, timing)) }
      }
      const printReport = (r: { ran: number, skipped: number, reportFile: string }): void => {
        log(`${r.ran} cells run, ${r.skipped} reused; report: ${r.reportFile}`)
        process.stdout.write((require('node:fs') as typeof import('node:fs')).readFileSync(r.reportFile, 'utf8')) // eslint-disable-line @typescript-eslint/no-require-imports
      }
      try {
        if (args.table === '1') {
          const { runCtnasTable1 } = require('./ctnas-table1') as typeof import('./ctnas-table1') // eslint-disable-line @typescript-eslint/no-require-imports
          const r = await runCtnasTable1({
            bench: args.bench,
            labelled: args.budget,
            seeds: args.seeds,
            seedStart: args.seedStart,
            settings: args.settings,
            jobs: args.jobs,
            out: args.out,
            force: args.force,
            ...runnerIo
          })
          printReport(r)
          return
        }
        if (args.table === 'ktau') {
          const { runCtnasKtau } = require('./ctnas') as typeof import('./ctnas') // eslint-disable-line @typescript-eslint/no-require-imports
          const r = await runCtnasKtau({
            bench: args.bench,
            ...(args.dataset !== undefined ? { dataset: args.dataset } : {}),
            budget: args.budget,
            seeds: args.seeds,
            seedStart: args.seedStart,
            epochs: Number(args.settings.pretrainEpochs ?? 1000),
            jobs: args.jobs,
            out: args.out,
            force: args.force,
            ...runnerIo
          })
          printReport(r)
          return
        }
        const code = await run({
          methods: [...args.baselines, 'ctnas'],
          methodSettings: { ctnas: args.settings },
          bench: args.bench,
          ...(args.dataset !== undefined ? { dataset: args.dataset } : {}),
          budget: args.budget,
          checkpoints: [args.budget],
          seeds: args.seeds,
          seedStart: args.seedStart,
          jobs: args.jobs,
          out: args.out,
          force: args.force,
          command: process.argv.slice(2)
        }, log)
        if (code !== 0) process.exitCode = code
      } finally {
        status.clear()
      }
    })
}
