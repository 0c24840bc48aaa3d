// `nasrank reproduce mip` and `nasrank bpe`: options and their validation (light: --help
// works without the addon). The actions load mip-cli.ts.
import { Command } from 'commander'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { choice, integer, outDir, real, UsageError } from '../cli-args'
import type { MipOptions } from '../bpe/mip'

export const CLI_MIP_EVALUATORS = ['synthetic-bpe', 'trainer'] as const

/** Alg. 1 options shared by both commands. */
export interface MipCliOptions extends Pick<MipOptions, 'archs' | 'k' | 'rounds' | 'tau' | 'lambda' | 'threshold' | 'stop' | 'normalise'> {
  evaluator: string
  /** The full setting f of a BPE table, by dimension. */
  full?: Record<string, number>
  /** --bpe trainer: f from a NAS-Bench-201 table ('nb201:<table>'). */
  fullTable?: string
  /** --bpe trainer: Ω, f and image counts of a preset (cpu, paper). */
  preset?: 'cpu' | 'paper'
  omega?: string
  /** --bpe trainer: data, image counts, training seed. */
  trainer?: { data?: string, trainImages?: number, val?: number, seed?: number, cost?: 'flops' | 'seconds', lrTie?: boolean }
}

export interface ReproduceMipArgs extends MipCliOptions {
  /** Parts asked for (default: every part the evaluator supports). */
  parts?: Array<'table1' | 'fig4' | 'fig3' | 'table2'>
  seeds: number
  seedStart: number
  tables?: string
  dataset?: string
  jobs: number
  out: string
  force: boolean
  quick: boolean
}

export interface BpeArgs extends MipCliOptions {
  seed: number
  json: boolean
  /** Print the size of the run and stop (no training). */
  plan: boolean
  /** Folder recording every measurement (a re-run resumes from it). */
  record?: string
}

interface RawMip {
  bpe: string
  preset?: string
  full?: string
  omega?: string
  archs?: string
  k?: string
  rounds?: string
  tau?: string
  lambda?: string
  threshold?: string
  stop?: string
  importance?: string
  data?: string
  trainImages?: string
  val?: string
  trainSeed?: string
  cost?: string
  lrTie?: boolean
}

function mipOptions (raw: RawMip): MipCliOptions {
  const evaluator = raw.bpe.startsWith('table:') ? raw.bpe : choice('--bpe', raw.bpe, [...CLI_MIP_EVALUATORS, 'table:<csv>'])
  if (evaluator === 'table:') throw new UsageError('--bpe table:<csv> needs the file after table:')
  if (raw.omega !== undefined && raw.omega.trim() === '') throw new UsageError('--omega must not be empty')
  if (raw.omega !== undefined && evaluator.startsWith('table:')) throw new UsageError('--omega: a BPE table defines Ω by the settings it holds')
  let full: Record<string, number> | undefined
  let fullTable: string | undefined
  if (raw.full !== undefined && raw.full.startsWith('nb201:')) {
    if (evaluator !== 'trainer') throw new UsageError('--full nb201:<table> is an option of --bpe trainer (f = the table\'s 200-epoch accuracy of the trained cells)')
    if (raw.full === 'nb201:') throw new UsageError('--full nb201:<table> needs the table (a nb201-<dataset>-hp200.csv or a folder of them) after nb201:')
    if (raw.cost === 'seconds') throw new UsageError('--full nb201:<table> with --cost seconds: a table\'s f is not in this machine\'s CPU seconds; use --cost flops')
    fullTable = raw.full
  } else if (raw.full !== undefined) {
    if (!evaluator.startsWith('table:') && evaluator !== 'trainer') throw new UsageError('--full names a setting of a BPE table (--bpe table:<csv>) or of the trainer (--bpe trainer)')
    full = {}
    for (const part of raw.full.split(',')) {
      const m = /^\s*([a-z]+)\s*=\s*([^=\s]+)\s*$/.exec(part)
      const v = m === null ? NaN : Number(m[2])
      if (m === null || !Number.isFinite(v)) throw new UsageError(`--full must be 'dim=value,…', got '${raw.full}'`)
      full[m[1]] = v
    }
  }
  let preset: 'cpu' | 'paper' | undefined
  if (raw.preset !== undefined) {
    preset = choice('--preset', raw.preset, ['cpu', 'paper'] as const)
    if (evaluator !== 'trainer') throw new UsageError('--preset is an option of --bpe trainer (the synthetic evaluator uses the paper\'s Ω by default)')
    if (raw.omega !== undefined) throw new UsageError('--preset and --omega both give Ω: give one')
  }
  const trainerOpts = raw.data !== undefined || raw.trainImages !== undefined || raw.val !== undefined || raw.trainSeed !== undefined || raw.cost !== undefined || raw.lrTie === true
  if (trainerOpts && evaluator !== 'trainer') throw new UsageError('--data, --train-images, --val, --train-seed, --cost and --lr-tie are options of --bpe trainer')
  if (raw.lrTie === true && raw.omega !== undefined && /(^|;)\s*lr\s*=/.test(raw.omega)) throw new UsageError('--lr-tie: --omega has an lr dimension; with the tie lr follows the batch (drop lr from --omega)')
  if (raw.lrTie === true && full?.lr !== undefined) throw new UsageError('--lr-tie: --full sets lr; with the tie f\'s lr follows its batch')
  if (raw.data !== undefined && raw.data !== 'fashion-mnist' && !/^(fashion-mnist|cifar10):.+/.test(raw.data)) throw new UsageError(`--data must be fashion-mnist (the shipped subset), fashion-mnist:<dir> or cifar10:<dir>, got '${raw.data}'`)
  return {
    evaluator,
    ...(full !== undefined ? { full } : {}),
    ...(fullTable !== undefined ? { fullTable } : {}),
    ...(preset !== undefined ? { preset } : {}),
    ...(trainerOpts
      ? {
          trainer: {
            ...(raw.data !== undefined ? { data: raw.data } : {}),
            ...(raw.trainImages !== undefined ? { trainImages: integer('--train-images', raw.trainImages, 1) } : {}),
            ...(raw.val !== undefined ? { val: integer('--val', raw.val, 1) } : {}),
            ...(raw.trainSeed !== undefined ? { seed: integer('--train-seed', raw.trainSeed, 0) } : {}),
            ...(raw.cost !== undefined ? { cost: choice('--cost', raw.cost, ['flops', 'seconds'] as const) } : {}),
            ...(raw.lrTie === true ? { lrTie: true } : {})
          }
        }
      : {}),
    ...(raw.omega !== undefined ? { omega: raw.omega } : {}),
    ...(raw.archs !== undefined ? { archs: integer('--archs', raw.archs, 3) } : {}),
    ...(raw.k !== undefined ? { k: integer('--k', raw.k, 2) } : {}),
    ...(raw.rounds !== undefined ? { rounds: integer('--rounds', raw.rounds, 1) } : {}),
    ...(raw.tau !== undefined ? { tau: real('--tau', raw.tau, x => x > 0, '> 0') } : {}),
    ...(raw.lambda !== undefined ? { lambda: real('--lambda', raw.lambda, x => x > 0 && x < 1, 'in (0, 1)') } : {}),
    ...(raw.threshold !== undefined ? { threshold: real('--threshold', raw.threshold, x => x >= 0 && x <= 1, 'in [0, 1]') } : {}),
    ...(raw.stop !== undefined ? { stop: choice('--stop', raw.stop, ['one', 'none'] as const) } : {}),
    ...(raw.importance !== undefined ? { normalise: choice('--importance', raw.importance, ['forest', 'tree'] as const) } : {})
  }
}

function addMipOptions (cmd: Command): Command {
  return cmd
    .option('--bpe <evaluator>', 'how a setting is measured: synthetic-bpe (SYNTHETIC), trainer (real tfjs training of NB-201 cells on Fashion-MNIST), or table:<csv> (columns arch, one per dimension, accuracy, seconds)', 'synthetic-bpe')
    .option('--full <setting>', "the full setting f as 'dim=value,…' (a BPE table: default its most expensive setting; trainer: overrides FULL-CPU, 16 epochs, batch 128, lr 0.05, layers 2, channels 8, cutout 0, image the data's side), or for --bpe trainer nb201:<table> (f = NAS-Bench-201's 200-epoch val accuracy, else test, of the cells: a nb201-<dataset>-hp200.csv or a folder with one)")
    .option('--preset <cpu|paper>', '--bpe trainer: cpu (Ω epochs {1,2,4}, batch {64,128,256}, lr {0.025,0.05,0.1}, N {1,2}, C {4,8}, cutout {0,7}, image {14,28}; 1,000 training / 500 validation images) or paper (the paper\'s Ω, N {2..8}, no fp, f 200 epochs N 5 C 16 32 px; needs --data cifar10:<dir>, for GPU servers)')
    .option('--data <spec>', '--bpe trainer: fashion-mnist (the shipped 8,000-image subset, default), fashion-mnist:<dir> (full IDX files) or cifar10:<dir> (the binary version: data_batch_1…5.bin; image values must divide 32)')
    .option('--train-images <N>', '--bpe trainer: training images (default 2,000)')
    .option('--val <N>', '--bpe trainer: held-out validation images of the training file (default 1,000)')
    .option('--train-seed <N>', '--bpe trainer: training seed (default 0)')
    .option('--cost <flops|seconds>', '--bpe trainer: cost of a training, its GFLOP (default; deterministic) or its measured CPU seconds')
    .option('--lr-tie', "--bpe trainer: tie lr to the batch as the authors' sheet does (96→0.025, 128→0.03, 256→0.06, ≥512→0.1; between: the next listed batch's); Ω loses its lr dimension")
    .option('--omega <spec>', "Ω as 'dim=v1,v2,…;dim=…' (dims: epochs, batch, lr, layers, fp, channels, cutout, image; default the paper's 81,920 settings)")
    .option('--archs <N>', '|G|, architectures ranked per setting (default 100)')
    .option('--k <N>', 'K, settings drawn per round (default 10)')
    .option('--rounds <N>', 'T, the most rounds (default 10)')
    .option('--tau <x>', 'τ of the sampler p ∝ exp(−c/τ), c = FLOPs relative to the cheapest (default 1)')
    .option('--lambda <x>', 'λ of Eq. 1, r_s − λ·T̄_b/T̄_f, in (0, 1) (default 0.5)')
    .option('--threshold <x>', 'importance below which a pruned dimension takes its cheapest value (default 0.1)')
    .option('--stop <one|none>', "stop with one unpruned dimension ('one', default) or prune all ('none')")
    .option('--importance <forest|tree>', 'Eq. 8 normalisation: over the whole forest (default) or per tree (scikit-learn)')
}

interface RawReproduce extends RawMip {
  table?: string[]
  figure?: string[]
  seeds?: string
  seedStart: string
  tables?: string
  dataset?: string
  jobs: string
  out: string
  force?: boolean
  quick?: boolean
}

export function reproduceMipArgs (raw: RawReproduce): ReproduceMipArgs {
  const parts = new Set<NonNullable<ReproduceMipArgs['parts']>[number]>()
  for (const t of raw.table ?? []) {
    const v = choice('--table', t, ['1', '2'] as const)
    parts.add(v === '1' ? 'table1' : 'table2')
  }
  for (const f of raw.figure ?? []) {
    const v = choice('--figure', f, ['1', '3', '4'] as const)
    parts.add(v === '1' ? 'table2' : v === '3' ? 'fig3' : 'fig4')
  }
  if (raw.dataset !== undefined && raw.tables === undefined) throw new UsageError('--dataset picks the dataset of --tables; give --tables <dir> too')
  const quick = raw.quick === true
  return {
    ...mipOptions(raw),
    ...(parts.size > 0 ? { parts: [...parts] } : {}),
    seeds: raw.seeds === undefined ? (quick ? 5 : 20) : integer('--seeds', raw.seeds, 1),
    seedStart: integer('--seed-start', raw.seedStart, 0),
    ...(raw.tables !== undefined ? { tables: raw.tables } : {}),
    ...(raw.dataset !== undefined ? { dataset: raw.dataset } : {}),
    jobs: integer('--jobs', raw.jobs, 1),
    out: outDir('--out', raw.out),
    force: raw.force === true,
    quick
  }
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value]

export function reproduceMipCommand (): Command {
  return addMipOptions(new Command('mip')
    .summary('MIP-BPE: budgeted performance estimators found by Minimum Importance Pruning (Tables 1-2, Figs. 1, 3, 4)')
    .description('Finds cheap training settings that keep the ranking of full training (Spearman r_s over |G| architectures) ' +
      'by Minimum Importance Pruning, over many seeds, and writes report.md and the plots to --out; re-running resumes.'))
    .option('--table <1|2>', 'Table 1 (the found BPE, Pareto front) or Table 2 (search with it); repeatable (default: all parts)', collect)
    .option('--figure <1|3|4>', 'Fig. 1 (= Table 2\'s searches), Fig. 3 (r_s vs the pick\'s quality), Fig. 4 (importance); repeatable', collect)
    .option('--seeds <N>', 'seeds (default 20; --quick: 5)')
    .option('--seed-start <N>', 'first seed', '0')
    .option('--tables <dir>', 'a folder with NAS-Bench-201 tables of both schedules (nb201-<dataset>-hp12.csv and -hp200.csv): the real 12- vs 200-epoch part')
    .option('--dataset <D>', 'dataset of --tables (default cifar10)')
    .option('--jobs <N>', 'cells run at once, each in a worker thread', '1')
    .option('--out <dir>', 'results directory; re-running with the same DIR resumes', 'mip-results')
    .option('--force', 'overwrite files in --out that nasrank did not write')
    .option('--quick', 'every part with 5 seeds (a minute on 2 CPU cores)')
    .addHelpText('after', '\nExamples:\n  nasrank reproduce mip --quick\n  nasrank reproduce mip --tables ../shared/data --seeds 20\n' +
      "  nasrank reproduce mip --figure 4 --omega 'epochs=10,20,30;layers=6,8,12;channels=8,16;image=16,32'")
    .action(async (raw: RawReproduce) => {
      const args = reproduceMipArgs(raw)
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { reproduceMip } = require('./mip-cli') as typeof import('./mip-cli')
      const code = await reproduceMip({ ...args, command: process.argv.slice(2) })
      if (code !== 0) process.exitCode = code
    })
}

interface RawBpe extends RawMip { seed: string, json?: boolean, record?: string, plan?: boolean }

export function bpeArgs (raw: RawBpe): BpeArgs {
  const o = mipOptions(raw)
  if (raw.plan === true && o.evaluator !== 'trainer') throw new UsageError('--plan is an option of --bpe trainer (it sizes the trainings)')
  return { ...o, seed: integer('--seed', raw.seed, 0), json: raw.json === true, plan: raw.plan === true, ...(raw.record !== undefined ? { record: outDir('--record', raw.record) } : {}) }
}

export function bpeCommand (): Command {
  return addMipOptions(new Command('bpe')
    .summary('find a budgeted performance estimator (one MIP run)')
    .description('Runs Minimum Importance Pruning once and prints the found training setting (argmax r_s), ' +
      'the Eq. 1 optimum, the (T̄, r_s) Pareto front and the prune order.'))
    .option('--seed <N>', 'seed of G, the sampler and the forests', '0')
    .option('--json', 'print the whole run (every setting of D, the prunes) as JSON')
    .option('--plan', '--bpe trainer: print the size of the run (settings, trainings, GFLOP under Eq. 2) and stop without training')
    .option('--record <dir>', 'record every (setting, architecture) measurement in DIR/results.jsonl; a re-run with the same DIR replays them and measures only what is missing')
    .addHelpText('after', "\nExamples:\n  nasrank bpe\n  nasrank bpe --omega 'epochs=10,20,50;layers=6,12,24;channels=8,16' --k 5 --json")
    // `bpe grid --omega …`: options after `grid` are the grid's, not bpe's.
    .enablePositionalOptions()
    .addCommand(bpeGridCommand())
    .action(async (raw: RawBpe) => {
      const args = bpeArgs(raw)
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runBpe } = require('./mip-cli') as typeof import('./mip-cli')
      process.stdout.write(await runBpe(args))
    })
}

export interface BpeGridArgs {
  trainer: MipCliOptions
  archs: number
  seed: number
  out: string
  csv: string
}

interface RawGrid { preset?: string, omega?: string, archs: string, seed: string, data?: string, trainImages?: string, val?: string, trainSeed?: string, out: string, csv?: string, lrTie?: boolean }

export function bpeGridArgs (raw: RawGrid): BpeGridArgs {
  if (raw.preset === undefined && raw.omega === undefined) throw new UsageError("bpe grid: give the grid's Ω with --omega 'dim=v1,v2;…' or --preset cpu")
  const o = mipOptions({ bpe: 'trainer', ...(raw.preset !== undefined ? { preset: raw.preset } : {}), ...(raw.omega !== undefined ? { omega: raw.omega } : {}), ...(raw.data !== undefined ? { data: raw.data } : {}), ...(raw.trainImages !== undefined ? { trainImages: raw.trainImages } : {}), ...(raw.val !== undefined ? { val: raw.val } : {}), ...(raw.trainSeed !== undefined ? { trainSeed: raw.trainSeed } : {}), ...(raw.lrTie === true ? { lrTie: true } : {}) })
  const out = outDir('--out', raw.out)
  const csv = raw.csv ?? path.join(out, 'bpe-table.csv')
  if (csv === '' || (fs.existsSync(csv) && fs.statSync(csv).isDirectory())) throw new UsageError(`--csv ${csv} must name a file`)
  return { trainer: o, archs: integer('--archs', raw.archs, 3), seed: integer('--seed', raw.seed, 0), out, csv }
}

export function bpeGridCommand (): Command {
  return new Command('grid')
    .summary('train a grid of settings × cells and write a BPE table CSV (for --bpe table:<csv>)')
    .description('Trains |G| random connected NAS-Bench-201 cells under every setting of Ω with the live trainer and writes ' +
      'a BPE table (arch, one column per dimension, accuracy = best validation top-1 %, seconds = CPU seconds of the training) ' +
      'that `nasrank bpe --bpe table:<csv>` reads. Every training is recorded in <out>/results.jsonl: re-running resumes.')
    .option('--preset <cpu|paper>', 'Ω and image counts of a preset (cpu: 432 settings on the shipped Fashion-MNIST subset)')
    .option('--omega <spec>', "Ω as 'dim=v1,v2,…;dim=…' (dims: epochs, batch, lr, layers, channels, cutout, image)")
    .option('--archs <N>', '|G|, cells trained under every setting (≥ 3)', '10')
    .option('--seed <N>', 'seed of the cells', '0')
    .option('--data <spec>', 'fashion-mnist (the shipped subset, default), fashion-mnist:<dir> or cifar10:<dir>')
    .option('--train-images <N>', 'training images (default 2,000, or the preset\'s)')
    .option('--val <N>', 'held-out validation images (default 1,000, or the preset\'s)')
    .option('--train-seed <N>', 'training seed (default 0)')
    .option('--lr-tie', "tie lr to the batch as the authors' sheet does; Ω loses its lr dimension")
    .option('--out <dir>', 'folder of results.jsonl (re-running with the same DIR resumes)', 'bpe-grid')
    .option('--csv <file>', 'the table (default <out>/bpe-table.csv)')
    .addHelpText('after', "\nExamples:\n  nasrank bpe grid --omega 'epochs=1,2;channels=4,8;image=14' --archs 10 --out grid1\n  nasrank bpe --bpe table:grid1/bpe-table.csv --k 2 --archs 10")
    .action(async (raw: RawGrid) => {
      const args = bpeGridArgs(raw)
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runBpeGrid } = require('./mip-cli') as typeof import('./mip-cli')
      const code = await runBpeGrid(args)
      if (code !== 0) process.exitCode = code
    })
}
