// `nasrank reproduce agnet`: the command's options and their validation, before any work.
// Light on purpose: the action loads the experiment (agnet.ts) only when it runs.
import * as fs from 'node:fs'
import { Command } from 'commander'
import { choice, integer, interruptible, list, openingStatus, outDir, real, UsageError } from '../cli-args'

// The same values as AGNET_TABLES / AGNET_BASELINES in agnet.ts (a test checks).
export const CLI_AGNET_TABLES = ['1', '2', '6'] as const
/** Table 5 (the hardware-aware variant) runs alone, on agnet-hw.ts. */
const TABLE_CHOICES = ['1', '2', '5', '6'] as const
const BASELINES = ['rs', 're', 'ls', 'bananas'] as const

export interface AgNetArgs {
  /** Undefined: the bench's default (2 and 6 on NB-201, 1 and 6 on NB-101). */
  tables?: Array<1 | 2 | 6>
  /** --table 5: the hardware-aware Table 5 instead of Tables 2 and 6. */
  table5: null | { latency: 'table' | 'flops', devices?: string[], limits?: number[] | 'paper' }
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
  /** --top-k 1: the paper's "AG-Net, top-1, 100" row beside Table 1/2. */
  top1: boolean
  /** Whether --seeds / --budget were given (--quick keeps its own otherwise). */
  seedsGiven: boolean
  budgetGiven: boolean
}

/**
 * `--quick` (SYNTHETIC, shipped weights): synthetic-201 Tables 2 and 6 with Fig. 3 to 192
 * queries (3 seeds), synthetic-101 Table 1 (2 seeds), and one Table 5 setting on the FLOPs
 * proxy (synthetic-201, its flops column's 25% quantile, 2 seeds). Retraining epochs below the
 * paper's (30 on NB-201, 15 on NB-101) so that it fits in about 5 minutes on 2 cores; every
 * row records its settings. `--seeds`, `--epochs`, `--jobs` override every part; `--budget` the
 * budget of Tables 1, 2 and 6 (Table 5: at most 96).
 */
export const AGNET_QUICK = Object.freeze({
  nb201: { bench: 'synthetic-201', tables: [2, 6] as Array<1 | 2 | 6>, seeds: 3, budget: 192, epochs: 5 },
  nb101: { bench: 'synthetic-101', tables: [1] as Array<1 | 2 | 6>, seeds: 2, budget: 192, epochs: 5 },
  table5: { bench: 'synthetic-201', seeds: 2, budget: 96, epochs: 5, lr: 2e-5, quantile: 0.25 }
})

export interface RawAgNetOptions {
  table?: string
  bench?: string
  dataset?: string
  budget?: string
  seeds?: string
  seedStart: string
  baselines?: string
  epochs?: string
  pretrainSteps?: string
  weights?: string
  lr?: string
  warmupSteps?: string
  candidateZ?: string
  device?: string
  limits?: string
  latency?: string
  jobs: string
  out: string
  force?: boolean
  quick?: boolean
  topK?: string
}

function usage (message: string): never { throw new UsageError(message) }

/** Validates the options; every error is a UsageError naming the option. */
export function agnetArgs (raw: RawAgNetOptions): AgNetArgs {
  const quick = raw.quick === true
  if (quick && raw.table !== undefined) throw new UsageError('--quick runs its own plan (synthetic-201 Tables 2 and 6, synthetic-101 Table 1, one Table 5 setting on flops); give --table without --quick')
  if (quick && raw.bench !== undefined) throw new UsageError('--quick runs on synthetic-201 and synthetic-101; give --bench without --quick')
  const picked = raw.table === undefined ? [] : list('--table', raw.table, s => Number(choice('--table', s, TABLE_CHOICES)))
  let table5: AgNetArgs['table5'] = null
  if (picked.includes(5)) {
    if (picked.length > 1) throw new UsageError(`--table 5 (the hardware-aware search) runs alone; got '${raw.table as string}'`)
    const latency = choice('--latency', raw.latency ?? 'table', ['table', 'flops'] as const)
    const devices = raw.device !== undefined ? list('--device', raw.device, s => s) : undefined
    if (devices !== undefined && latency === 'flops') throw new UsageError('--device picks latency_<device> columns; with --latency flops there is no device to pick')
    const limits = raw.limits === 'paper' ? 'paper' as const : raw.limits !== undefined ? list('--limits', raw.limits, s => real('--limits', s, x => x > 0, '> 0 (a latency limit L)')) : undefined
    table5 = { latency, ...(devices !== undefined ? { devices } : {}), ...(limits !== undefined ? { limits } : {}) }
  } else {
    for (const [flag, v] of [['--device', raw.device], ['--limits', raw.limits], ['--latency', raw.latency]] as const) if (v !== undefined) throw new UsageError(`${flag} belongs to --table 5 (the hardware-aware search)`)
  }
  const tables = raw.table === undefined ? undefined : picked.filter(t => t !== 5) as Array<1 | 2 | 6>
  const bench = raw.bench ?? 'synthetic-201'
  const is101 = bench === 'synthetic-101' || /^nb101:./.test(bench)
  if (!(bench === 'synthetic-201' || /^nb201:./.test(bench) || (is101 && table5 === null))) {
    throw new UsageError(`--bench: AG-Net's Tables 2, 5 and 6 run on NAS-Bench-201 (synthetic-201 or nb201:<table.csv|dir>), Tables 1 and 6 on NAS-Bench-101 (synthetic-101 or nb101:<file>), got '${bench}'`)
  }
  if (tables !== undefined && is101 && tables.includes(2)) throw new UsageError(`--table 2 runs on NAS-Bench-201; ${bench} is NAS-Bench-101 (Table 1)`)
  if (tables !== undefined && !is101 && tables.includes(1)) throw new UsageError(`--table 1 runs on NAS-Bench-101 (synthetic-101 or nb101:<file>); ${bench} is NAS-Bench-201`)
  if (raw.dataset !== undefined && !bench.startsWith('nb201:') && !bench.startsWith('nb101:')) throw new UsageError(`--dataset picks the dataset of an nb201:<dir> holding several; ${bench} has one`)
  const agnet: Record<string, unknown> = {}
  if (raw.epochs !== undefined) agnet.epochs = integer('--epochs', raw.epochs, 1)
  if (raw.lr !== undefined) agnet.lr = real('--lr', raw.lr, x => x > 0 && x <= 1, 'a number in (0, 1]')
  if (raw.warmupSteps !== undefined) agnet.warmupSteps = integer('--warmup-steps', raw.warmupSteps, 0)
  if (raw.candidateZ !== undefined) agnet.candidateZ = choice('--candidate-z', raw.candidateZ, ['uniform', 'normal'] as const)
  if (raw.pretrainSteps !== undefined) agnet.pretrainSteps = integer('--pretrain-steps', raw.pretrainSteps, 0)
  if (raw.weights !== undefined) {
    if (!fs.existsSync(raw.weights)) throw new UsageError(`--weights: no such file '${raw.weights}'`)
    agnet.weights = raw.weights
  }
  const budget = raw.budget !== undefined ? integer('--budget', raw.budget, 17) : 192
  if (raw.topK !== undefined && (quick || table5 !== null)) throw new UsageError('--top-k 1 adds a row to Table 1 or 2; not with --quick or --table 5')
  if ((budget - 16) % 16 !== 0) throw new UsageError(`--budget must be 16 + m·16 (the initial draws plus whole iterations of 16), got ${budget}`)
  return {
    tables,
    table5,
    bench,
    dataset: raw.dataset,
    budget,
    budgetGiven: raw.budget !== undefined,
    top1: raw.topK !== undefined ? (integer('--top-k', raw.topK, 1) === 1 || usage('--top-k: the paper\'s extra row is top-1 (one query per iteration); --top-k takes 1')) : false,
    seeds: raw.seeds !== undefined ? integer('--seeds', raw.seeds, 1) : table5 !== null ? 10 : 20,
    seedsGiven: raw.seeds !== undefined,
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
    .summary("AG-Net's Tables 1, 2, 5 and 6 (generative NAS with latent space optimisation) on NAS-Bench-101/201")
    .description("Runs AG-Net (Lukasik, Jung & Keuper, ECCV 2022) beside the harness's baselines (random search, aging " +
      'evolution, BANANAS) on one table, same seeds: Table 1 (NAS-Bench-101) or Table 2 (NAS-Bench-201: AG-Net vs baselines at 96 and 192 queries), ' +
      'Table 6 (no LSO, no backprop) and Fig. 3 (best-so-far); Table 5 (hardware-aware, with Fig. 4) alone. The shipped generator of the space is used ' +
      'unless --pretrain-steps or --weights. Writes report.md, results.jsonl/.csv, best-so-far.svg; re-running resumes.')
    .option('--table <1|2|6|5>', 'which tables (default 2,6 on NAS-Bench-201, 1,6 on NAS-Bench-101); 5: the hardware-aware search, alone')
    .option('--bench <uri>', 'synthetic-201 (default), nb201:<table.csv>, nb201:<dir>; Table 1: synthetic-101 or nb101:<file>')
    .option('--dataset <D>', 'the dataset of an nb201:<dir> holding several (e.g. cifar100)')
    .option('--budget <N>', 'queries per search, 16 + m·16 (default 192; --quick: 96)')
    .option('--seeds <N>', 'seeds per method (default 20; --quick: 2)')
    .option('--seed-start <N>', 'first seed', '0')
    .option('--baselines <list>', 'baselines of Table 2: rs, re, ls, bananas (default rs,re,bananas; --quick: rs,re)')
    .option('--epochs <N>', "AG-Net's retraining epochs per iteration (default 30, the paper's; --quick: 5)")
    .option('--lr <x>', "AG-Net's retraining learning rate (default 1e-3, the paper's)")
    .option('--warmup-steps <W>', "AG-Net's linear learning-rate warm-up over the first W retraining steps of a search (lr·min(1, t/W); default 0, the paper's: none)")
    .option('--candidate-z <uniform|normal>', "AG-Net's candidate latents: U(-3,3)^32 (the authors' code) or N(0,I) (the z it is trained on); default uniform")
    .option('--pretrain-steps <N>', 'pretrain the generator for N steps of batch 32 instead of using the shipped weights (30,000 steps, checkpoint 26,000)')
    .option('--latency <table|flops>', "Table 5: the bench's latency_<device> columns (default) or flops as a labelled proxy")
    .option('--device <list>', 'Table 5: devices, the names after latency_ (default: every latency column)')
    .option('--limits <list|paper>', "Table 5: latency limits L > 0 (default: per device, its column's 5/25/50% quantiles); paper: the paper's limits per device mapped to this table (× FLOPs(dataset) / FLOPs(ImageNet16-120), 4.0 for CIFAR-10)")
    .option('--weights <file>', 'a pretrained generator (nasrank agnet weights file) instead of pretraining')
    .option('--top-k <1>', 'Table 1/2: also the paper\'s "AG-Net, top-1, 100" row (one query per iteration, 100 queries: about 20× the retraining of a 96-query search)')
    .option('--jobs <N>', 'cells run at once, each in a worker thread', '1')
    .option('--out <dir>', 'results directory; re-running with the same DIR resumes', 'agnet-results')
    .option('--force', 'overwrite files in --out that nasrank did not write')
    .option('--quick', 'a small SYNTHETIC run (shipped weights, 5 retraining epochs): synthetic-201 Tables 2 and 6 to 192 queries (3 seeds), synthetic-101 Table 1 (2 seeds), one Table 5 setting on flops (2 seeds); writes --out/{nb201,nb101,table5}')
    .addHelpText('after', '\nExamples:\n  nasrank reproduce agnet --quick\n' +
      '  nasrank reproduce agnet --bench synthetic-101 --table 1 --seeds 5\n' +
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
        if (args.quick) {
          await runQuick(args, common)
          return
        }
        const result = args.table5 !== null
          ? await (require('./agnet-hw') as typeof import('./agnet-hw')).runAgNetHwExperiment({ ...common, ...args.table5 }) // eslint-disable-line @typescript-eslint/no-require-imports
          : await runAgNetExperiment({ ...common, tables: args.tables, baselines: args.baselines, top1: args.top1 })
        console.error(`${result.ran} cells run, ${result.skipped} reused${result.partial ? `, ${result.remaining} to do` : ''}; report: ${result.reportFile}`)
        process.stdout.write(fs.readFileSync(result.reportFile, 'utf8'))
        if (controller.signal.aborted) process.exitCode = 130
      } finally {
        controller.dispose()
      }
    })
}

/** The three parts of --quick, one after the other, each in its own subdirectory of --out (each resumes). */
async function runQuick (args: AgNetArgs, common: Record<string, unknown> & { out: string, signal: AbortSignal }): Promise<void> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const path = require('node:path') as typeof import('node:path')
  const { runAgNetExperiment } = require('./agnet') as typeof import('./agnet')
  const { runAgNetHwExperiment, agnetHwDefaultLimits } = require('./agnet-hw') as typeof import('./agnet-hw')
  const { openBench } = require('../bench/open') as typeof import('../bench/open')
  /* eslint-enable @typescript-eslint/no-require-imports */
  const seeds = (n: number): number => args.seedsGiven ? args.seeds : n
  const epochs = (n: number): number => (args.agnet.epochs as number | undefined) ?? n
  const reports: string[] = []
  for (const part of ['nb201', 'nb101'] as const) {
    if (common.signal.aborted) return
    const q = AGNET_QUICK[part]
    const r = await runAgNetExperiment({ ...common, bench: q.bench, tables: q.tables, budget: args.budgetGiven ? args.budget : q.budget, seeds: seeds(q.seeds), baselines: ['rs', 're'], agnet: { ...args.agnet, epochs: epochs(q.epochs) }, out: path.join(args.out, part) })
    console.error(`${part}: ${r.ran} cells run, ${r.skipped} reused${r.partial ? `, ${r.remaining} to do` : ''}; report: ${r.reportFile}`)
    reports.push(r.reportFile)
  }
  if (common.signal.aborted) return
  const h = AGNET_QUICK.table5
  const bench = await openBench(h.bench)
  // One setting: the flops column's 25% quantile (two significant digits) as the limit.
  const limits = agnetHwDefaultLimits(bench.cost('flops'))
  const limit = limits[Math.min(1, limits.length - 1)]
  const r = await runAgNetHwExperiment({ ...common, bench, latency: 'flops', limits: [limit], budget: args.budgetGiven ? Math.min(args.budget, h.budget) : h.budget, seeds: seeds(h.seeds), agnet: { ...args.agnet, epochs: epochs(h.epochs), lr: (args.agnet.lr as number | undefined) ?? h.lr }, out: path.join(args.out, 'table5') })
  console.error(`table5: ${r.ran} cells run, ${r.skipped} reused${r.partial ? `, ${r.remaining} to do` : ''}; report: ${r.reportFile}`)
  reports.push(r.reportFile)
  for (const file of reports) process.stdout.write(fs.readFileSync(file, 'utf8') + '\n')
}

/** `nasrank agnet pretrain`: pretrains the NB-201 generator and writes a weights file (with its SHA-256). */
export function agnetToolCommand (): Command {
  const agnet = new Command('agnet')
    .summary('AG-Net tools (pretraining the generator)')
    .description('AG-Net tools. `pretrain` writes the generator weights that `reproduce agnet --weights` and the agnet search method read.')
  agnet.addCommand(new Command('pretrain')
    .summary('pretrain the NB-201 or NB-101 generator (query-free) and write its weights')
    .description('Pretrains the AG-Net generator on uniformly random cells of the space (reconstruction loss, batch 32, Adam 2e-4, ' +
      'betas 0.5/0.999) and writes the weights, how they were made and their SHA-256 to --out (JSON). ' +
      'The shipped weights/agnet-nb201.json is `--steps 30000 --seed 0 --checkpoint-every 1000 --select valid-unique` (step 26,000 kept); ' +
      'weights/agnet-nb101.json is `--space nb101` with the steps recorded in its meta and docs/agnet.md.')
    .option('--space <name>', 'search space: nb201 or nb101 (all 423,624 cells, nb101.enumerate)', 'nb201')
    .option('--steps <N>', 'steps of batch 32', '1000')
    .option('--seed <N>', 'seed of the initialisation and the random cells', '0')
    .option('--engine <name>', 'native (native/agnet.cc) or js (the autodiff tape, the reference)', 'native')
    .option('--checkpoint-every <N>', 'score the generator every N steps (distinct valid cells of 4,500 z ~ U(-3, 3)); 0: never', '0')
    .option('--select <rule>', 'last (the final parameters) or valid-unique (the scored checkpoint with the most distinct valid cells)', 'last')
    .option('--threads <N>', 'native worker threads (default: all)')
    .requiredOption('--out <file>', 'weights file to write (JSON)')
    .addHelpText('after', '\nExample:\n  nasrank agnet pretrain --steps 1000 --out agnet-nb201.json\n  nasrank agnet pretrain --steps 20000 --checkpoint-every 1000 --select valid-unique --out agnet-nb201.json')
    .action((raw: { space: string, steps: string, seed: string, engine: string, checkpointEvery: string, select: string, threads?: string, out: string }) => {
      const spaceName = choice('--space', raw.space, ['nb201', 'nb101'] as const)
      const steps = integer('--steps', raw.steps, 1)
      const seed = integer('--seed', raw.seed, 0)
      const engine = choice('--engine', raw.engine, ['native', 'js'] as const)
      const checkpointEvery = integer('--checkpoint-every', raw.checkpointEvery, 0)
      const select = choice('--select', raw.select, ['last', 'valid-unique'] as const)
      const threads = raw.threads === undefined ? undefined : integer('--threads', raw.threads, 1)
      /* eslint-disable @typescript-eslint/no-require-imports */
      const { agnetPretrain, agnetSaveWeights, agnetSpaceOf } = require('../search/agnet') as typeof import('../search/agnet')
      /* eslint-enable @typescript-eslint/no-require-imports */
      let sum = 0
      const started = Date.now()
      const checkpoints: Array<{ step: number, valid: number, distinct: number }> = []
      const gen = agnetPretrain(agnetSpaceOf(spaceName), steps, seed, (step, loss) => {
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
        space: spaceName, steps, seed, batch: 32, lr: 2e-4, betas: [0.5, 0.999], made: 'agnetPretrain', engine,
        select, checkpointEvery, selectedStep: selected, checkpoints, seconds: Math.round(seconds)
      })
      console.log(`${raw.out}: ${gen.parameterCount} parameters, sha256 ${sha}` + (select === 'valid-unique' ? `, selected step ${selected}` : ''))
    }))
  return agnet
}
