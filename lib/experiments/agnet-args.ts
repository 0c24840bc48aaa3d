// `nasrank reproduce agnet`: the command's options and their validation, before any work.
// Light on purpose: the action loads the experiment (agnet.ts) only when it runs.
import * as fs from 'node:fs'
import { Command } from 'commander'
import { choice, integer, interruptible, list, openingStatus, outDir, real, UsageError } from '../cli-args'

// The same values as AGNET_TABLES / AGNET_BASELINES in agnet.ts (a test checks).
export const CLI_AGNET_TABLES = ['2', '6'] as const
/** Table 5 (the hardware-aware variant) runs alone, on agnet-hw.ts. */
const TABLE_CHOICES = ['2', '5', '6'] as const
const BASELINES = ['rs', 're', 'ls', 'bananas'] as const

export interface AgNetArgs {
  tables: Array<2 | 6>
  /** --table 5: the hardware-aware Table 5 instead of Tables 2 and 6. */
  table5: null | { latency: 'table' | 'flops', devices?: string[], limits?: number[] }
  bench: string
  dataset?: string
  budget: number
  seeds: number
  seedStart: number
  baselines: string[]
  /** Settings of every AG-Net variant (retraining epochs, pretraining steps, weights file). */
  agnet: Record<string, unknown>
  jobs: number
  out: string
  force: boolean
  quick: boolean
}

export interface RawAgNetOptions {
  table?: string
  bench: string
  dataset?: string
  budget?: string
  seeds?: string
  seedStart: string
  baselines?: string
  epochs?: string
  pretrainSteps?: string
  weights?: string
  lr?: string
  candidateZ?: string
  device?: string
  limits?: string
  latency?: string
  jobs: string
  out: string
  force?: boolean
  quick?: boolean
}

/** Validates the options; every error is a UsageError naming the option. */
export function agnetArgs (raw: RawAgNetOptions): AgNetArgs {
  const quick = raw.quick === true
  const picked = raw.table === undefined ? [2, 6] : list('--table', raw.table, s => Number(choice('--table', s, TABLE_CHOICES)))
  let table5: AgNetArgs['table5'] = null
  if (picked.includes(5)) {
    if (picked.length > 1) throw new UsageError(`--table 5 (the hardware-aware search) runs alone; got '${raw.table as string}'`)
    if (quick) throw new UsageError('--quick runs Tables 2 and 6; give --table 5 without --quick')
    const latency = choice('--latency', raw.latency ?? 'table', ['table', 'flops'] as const)
    const devices = raw.device !== undefined ? list('--device', raw.device, s => s) : undefined
    if (devices !== undefined && latency === 'flops') throw new UsageError('--device picks latency_<device> columns; with --latency flops there is no device to pick')
    const limits = raw.limits !== undefined ? list('--limits', raw.limits, s => real('--limits', s, x => x > 0, '> 0 (a latency limit L)')) : undefined
    table5 = { latency, ...(devices !== undefined ? { devices } : {}), ...(limits !== undefined ? { limits } : {}) }
  } else {
    for (const [flag, v] of [['--device', raw.device], ['--limits', raw.limits], ['--latency', raw.latency]] as const) if (v !== undefined) throw new UsageError(`${flag} belongs to --table 5 (the hardware-aware search)`)
  }
  const tables = picked.filter(t => t !== 5) as Array<2 | 6>
  const bench = raw.bench
  if (!(bench === 'synthetic-201' || /^nb201:./.test(bench))) throw new UsageError(`--bench: AG-Net's Tables 2 and 6 run on NAS-Bench-201: synthetic-201 or nb201:<table.csv|dir>, got '${bench}'`)
  if (raw.dataset !== undefined && !bench.startsWith('nb201:')) throw new UsageError(`--dataset picks the dataset of an nb201:<dir> holding several; ${bench} has one`)
  const agnet: Record<string, unknown> = {}
  if (raw.epochs !== undefined) agnet.epochs = integer('--epochs', raw.epochs, 1)
  else if (quick) agnet.epochs = 5
  if (raw.lr !== undefined) agnet.lr = real('--lr', raw.lr, x => x > 0 && x <= 1, 'a number in (0, 1]')
  if (raw.candidateZ !== undefined) agnet.candidateZ = choice('--candidate-z', raw.candidateZ, ['uniform', 'normal'] as const)
  if (raw.pretrainSteps !== undefined) agnet.pretrainSteps = integer('--pretrain-steps', raw.pretrainSteps, 0)
  if (raw.weights !== undefined) {
    if (!fs.existsSync(raw.weights)) throw new UsageError(`--weights: no such file '${raw.weights}'`)
    agnet.weights = raw.weights
  }
  const budget = raw.budget !== undefined ? integer('--budget', raw.budget, 17) : quick ? 96 : 192
  if ((budget - 16) % 16 !== 0) throw new UsageError(`--budget must be 16 + m·16 (the initial draws plus whole iterations of 16), got ${budget}`)
  return {
    tables,
    table5,
    bench,
    dataset: raw.dataset,
    budget,
    seeds: raw.seeds !== undefined ? integer('--seeds', raw.seeds, 1) : quick ? 2 : table5 !== null ? 10 : 20,
    seedStart: integer('--seed-start', raw.seedStart, 0),
    baselines: raw.baselines !== undefined ? list('--baselines', raw.baselines, s => choice('--baselines', s, BASELINES)) : quick ? ['rs', 're'] : ['rs', 're', 'bananas'],
    agnet,
    jobs: integer('--jobs', raw.jobs, 1),
    out: outDir('--out', raw.out),
    force: raw.force === true,
    quick
  }
}

export function agnetCommand (): Command {
  return new Command('agnet')
    .summary("AG-Net's Tables 2 and 6 (generative NAS with latent space optimisation) on NAS-Bench-201")
    .description("Runs AG-Net (Lukasik, Jung & Keuper, ECCV 2022) beside the harness's baselines (random search, aging " +
      'evolution, BANANAS) on one NAS-Bench-201 table, same seeds: Table 2 (AG-Net vs baselines at 96 and 192 queries), ' +
      'Table 6 (no LSO, no backprop) and Fig. 3 (best-so-far). The generator is pretrained once (query-free) and saved in --out. ' +
      'Writes report.md, results.jsonl/.csv, best-so-far.svg; re-running resumes.')
    .option('--table <2,6|5>', 'which tables (default 2,6); 5: the hardware-aware search, alone')
    .option('--bench <uri>', 'synthetic-201, nb201:<table.csv> or nb201:<dir>', 'synthetic-201')
    .option('--dataset <D>', 'the dataset of an nb201:<dir> holding several (e.g. cifar100)')
    .option('--budget <N>', 'queries per search, 16 + m·16 (default 192; --quick: 96)')
    .option('--seeds <N>', 'seeds per method (default 20; --quick: 2)')
    .option('--seed-start <N>', 'first seed', '0')
    .option('--baselines <list>', 'baselines of Table 2: rs, re, ls, bananas (default rs,re,bananas; --quick: rs,re)')
    .option('--epochs <N>', "AG-Net's retraining epochs per iteration (default 30, the paper's; --quick: 5)")
    .option('--lr <x>', "AG-Net's retraining learning rate (default 1e-3, the paper's)")
    .option('--candidate-z <uniform|normal>', "AG-Net's candidate latents: U(-3,3)^32 (the authors' code) or N(0,I) (the z it is trained on); default uniform")
    .option('--pretrain-steps <N>', 'pretrain the generator for N steps of batch 32 instead of using the shipped weights (30,000 steps, checkpoint 26,000)')
    .option('--latency <table|flops>', "Table 5: the bench's latency_<device> columns (default) or flops as a labelled proxy")
    .option('--device <list>', 'Table 5: devices, the names after latency_ (default: every latency column)')
    .option('--limits <list>', "Table 5: latency limits L > 0 (default: per device, its column's 5/25/50% quantiles)")
    .option('--weights <file>', 'a pretrained generator (nasrank agnet weights file) instead of pretraining')
    .option('--jobs <N>', 'cells run at once, each in a worker thread', '1')
    .option('--out <dir>', 'results directory; re-running with the same DIR resumes', 'agnet-results')
    .option('--force', 'overwrite files in --out that nasrank did not write')
    .option('--quick', 'a small SYNTHETIC run (synthetic-201, 2 seeds, 96 queries, 5 epochs, shipped weights)')
    .addHelpText('after', '\nExamples:\n  nasrank reproduce agnet --quick\n' +
      '  nasrank reproduce agnet --bench nb201:nb201-cifar10-hp200.csv --table 2 --seeds 5 --budget 96 --epochs 10 --jobs 2\n' +
      '  nasrank reproduce agnet --bench nb201:nb201-cifar10-hp200.csv --table 5 --device pixel3 --limits 2,4 --seeds 10 --budget 96 --epochs 5 --jobs 2')
    .action(async (raw: RawAgNetOptions) => {
      const args = agnetArgs(raw)
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { runAgNetExperiment } = require('./agnet') as typeof import('./agnet')
      const { formatProgress } = require('./runner') as typeof import('./runner')
      /* eslint-enable @typescript-eslint/no-require-imports */
      console.error(openingStatus(args.bench))
      const controller = interruptible(line => console.error(line))
      try {
        const common = {
          bench: args.bench,
          ...(args.dataset !== undefined ? { dataset: args.dataset } : {}),
          budget: args.budget,
          seeds: args.seeds,
          seedStart: args.seedStart,
          agnet: args.agnet,
          jobs: args.jobs,
          out: args.out,
          force: args.force,
          command: process.argv.slice(2),
          signal: controller.signal,
          warn: (line: string) => console.error(`warning: ${line}`),
          progress: (done: number, total: number, label: string, timing?: { elapsedSeconds: number, etaSeconds: number }) => { if (timing !== undefined) console.error(formatProgress(done, total, label, timing)) }
        }
        const result = args.table5 !== null
          ? await (require('./agnet-hw') as typeof import('./agnet-hw')).runAgNetHwExperiment({ ...common, ...args.table5 }) // eslint-disable-line @typescript-eslint/no-require-imports
          : await runAgNetExperiment({ ...common, tables: args.tables, baselines: args.baselines })
        console.error(`${result.ran} cells run, ${result.skipped} reused${result.partial ? `, ${result.remaining} to do` : ''}; report: ${result.reportFile}`)
        process.stdout.write(fs.readFileSync(result.reportFile, 'utf8'))
        if (controller.signal.aborted) process.exitCode = 130
      } finally {
        controller.dispose()
      }
    })
}

/** `nasrank agnet pretrain`: pretrains the NB-201 generator and writes a weights file (with its SHA-256). */
export function agnetToolCommand (): Command {
  const agnet = new Command('agnet')
    .summary('AG-Net tools (pretraining the generator)')
    .description('AG-Net tools. `pretrain` writes the generator weights that `reproduce agnet --weights` and the agnet search method read.')
  agnet.addCommand(new Command('pretrain')
    .summary('pretrain the NB-201 generator (query-free) and write its weights')
    .description('Pretrains the AG-Net generator on random NAS-Bench-201 cells (reconstruction loss, batch 32, Adam 2e-4, ' +
      'betas 0.5/0.999) and writes the weights, how they were made and their SHA-256 to --out (JSON). ' +
      'The shipped weights/agnet-nb201.json is `--steps 30000 --seed 0 --checkpoint-every 1000 --select valid-unique` (step 26,000 kept).')
    .option('--space <name>', 'search space (nb201)', 'nb201')
    .option('--steps <N>', 'steps of batch 32', '1000')
    .option('--seed <N>', 'seed of the initialisation and the random cells', '0')
    .option('--engine <name>', 'native (native/agnet.cc) or js (the autodiff tape, the reference)', 'native')
    .option('--checkpoint-every <N>', 'score the generator every N steps (distinct valid cells of 4,500 z ~ U(-3, 3)); 0: never', '0')
    .option('--select <rule>', 'last (the final parameters) or valid-unique (the scored checkpoint with the most distinct valid cells)', 'last')
    .option('--threads <N>', 'native worker threads (default: all)')
    .requiredOption('--out <file>', 'weights file to write (JSON)')
    .addHelpText('after', '\nExample:\n  nasrank agnet pretrain --steps 1000 --out agnet-nb201.json\n  nasrank agnet pretrain --steps 20000 --checkpoint-every 1000 --select valid-unique --out agnet-nb201.json')
    .action((raw: { space: string, steps: string, seed: string, engine: string, checkpointEvery: string, select: string, threads?: string, out: string }) => {
      choice('--space', raw.space, ['nb201'] as const)
      const steps = integer('--steps', raw.steps, 1)
      const seed = integer('--seed', raw.seed, 0)
      const engine = choice('--engine', raw.engine, ['native', 'js'] as const)
      const checkpointEvery = integer('--checkpoint-every', raw.checkpointEvery, 0)
      const select = choice('--select', raw.select, ['last', 'valid-unique'] as const)
      const threads = raw.threads === undefined ? undefined : integer('--threads', raw.threads, 1)
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { agnetPretrain, agnetSaveWeights, AGNET_NB201_SPACE } = require('../search/agnet') as typeof import('../search/agnet')
      /* eslint-enable @typescript-eslint/no-require-imports */
      let sum = 0
      const started = Date.now()
      const checkpoints: Array<{ step: number, valid: number, distinct: number }> = []
      const gen = agnetPretrain(AGNET_NB201_SPACE, steps, seed, (step, loss) => {
        sum += loss
        if ((step + 1) % 100 === 0 || step + 1 === steps) {
          const s = (Date.now() - started) / 1000
          console.error(`step ${step + 1}/${steps}: reconstruction loss ${(sum / ((step % 100) + 1)).toFixed(4)} (${s.toFixed(0)} s, ${((step + 1) / s).toFixed(1)} steps/s)`)
          sum = 0
        }
      }, {
        engine,
        threads,
        checkpointEvery,
        select,
        onCheckpoint: (step, q) => {
          checkpoints.push({ step, valid: q.valid, distinct: q.distinct })
          console.error(`checkpoint ${step}: ${q.valid}/${q.draws} valid, ${q.distinct} distinct`)
        }
      })
      const seconds = (Date.now() - started) / 1000
      let selected = steps
      if (select === 'valid-unique') {
        let best = -1
        for (const c of checkpoints) if (c.distinct > best) { best = c.distinct; selected = c.step }
      }
      const sha = agnetSaveWeights(raw.out, gen, {
        space: 'nb201', steps, seed, batch: 32, lr: 2e-4, betas: [0.5, 0.999], made: 'agnetPretrain', engine,
        select, checkpointEvery, selectedStep: selected, checkpoints, seconds: Math.round(seconds)
      })
      console.log(`${raw.out}: ${gen.parameterCount} parameters, sha256 ${sha}` + (select === 'valid-unique' ? `, selected step ${selected}` : ''))
    }))
  return agnet
}
