// The 'trainer' BPE evaluator: every (architecture, setting) is a real training of an NB-201
// cell (lib/bpe/trainer.ts) on an image set (default the shipped Fashion-MNIST subset); the
// accuracy is the best validation top-1 over epochs, the cost the training's multiply-accumulates
// in GFLOP (epochs × training images × 3 × the network's forward MACs: deterministic, so a
// resumed run reaches the same decisions); the CPU and wall seconds of each training are
// recorded beside it (`cpu_seconds`, `seconds`, with `final`, the last epoch's accuracy).
// With cost 'seconds' (--cost seconds) the cost is the training's measured CPU seconds (T̄ and
// the Eq. 1 trade-off in CPU-s; recorded, so a resumed run replays them); the callers then
// price Eq. 2 by a power law fitted to measured times (cost-model.ts). Ω's `layers` is N, the
// cells per stage; tfjs has no fp16 training, so Ω has no fp dimension.
//
// CPU preset (CPU_OMEGA): epochs {1,2,4}, batch {64,128,256}, lr {0.025,0.05,0.1}, layers (N)
// {1,2}, channels {4,8}, image {14,28}, cutout {0,7} (7 = half the smaller image side: Ω's
// values are absolute). f (FULL-CPU, a budget proxy, not converged): the preset's most
// expensive setting with 4× its top epochs — 16 epochs, N 2, C 8, 28 px — with the dimensions
// that cost nothing at their middle values (batch 128, lr 0.05) and no cutout; `full` overrides.
import type { Tf } from '../models/backend'
import type { ImageSet } from '../data/idx'
import type { Bench } from '../bench/bench'
import { nb201 } from '../spaces/nb201'
import { skeletonTrainingFlops } from './evaluators'
import type { BpeEvaluation, BpeEvaluator } from './mip'
import { checkOmega, settingValues, OmegaError, type BpeDimName, type Omega } from './omega'
import { checkTrainSetting, splitImages, trainCell, type TrainResult, type TrainSetting } from './trainer'

export const CPU_OMEGA: Omega = Object.freeze({
  dims: Object.freeze([
    { name: 'epochs', values: [1, 2, 4] },
    { name: 'batch', values: [64, 128, 256] },
    { name: 'lr', values: [0.025, 0.05, 0.1] },
    { name: 'layers', values: [1, 2] },
    { name: 'channels', values: [4, 8] },
    { name: 'cutout', values: [0, 7] },
    { name: 'image', values: [14, 28] }
  ].map(d => Object.freeze({ name: d.name as BpeDimName, values: Object.freeze(d.values) })))
})

/**
 * The paper's Ω for the trainer (GPU servers, `--data cifar10:<dir>`): the paper's values with
 * layers read as N (cells per stage) {2, …, 8} and no fp dimension (tfjs has no fp16
 * training); 35,840 settings.
 */
export const PAPER_TRAINER_OMEGA: Omega = Object.freeze({
  dims: Object.freeze([
    { name: 'epochs', values: [10, 15, 20, 25, 30, 50, 100, 300] },
    { name: 'batch', values: [96, 128, 256, 512, 1024] },
    { name: 'lr', values: [0.025, 0.03, 0.06, 0.1] },
    { name: 'layers', values: [2, 3, 4, 5, 6, 7, 8] },
    { name: 'channels', values: [8, 10, 12, 14, 16, 24, 36, 64] },
    { name: 'cutout', values: [0, 16] },
    { name: 'image', values: [16, 32] }
  ].map(d => Object.freeze({ name: d.name as BpeDimName, values: Object.freeze(d.values) })))
})

export interface TrainerPreset {
  omega: Omega
  /** f (dims not given: TRAINER_FULL, image the data's side). */
  full: Partial<Record<Exclude<BpeDimName, 'fp'>, number>>
  /** The image side the data must have (undefined: any that the image values divide). */
  side?: number
  /** Training / validation images when not given. */
  trainImages?: number
  val?: number
  description: string
  /** What f is called in reports. */
  fullName: string
}

/**
 * Presets: 'cpu' (2 cores: CPU_OMEGA, FULL-CPU, the shipped Fashion-MNIST subset; sized in
 * docs/mip.md) and 'paper' (the paper's Ω on CIFAR-10 32 px for GPU servers; f NB-201's
 * final schedule: 200 epochs, batch 96, lr 0.025, N 5, C 16, cutout 16, 32 px; all training
 * images less 5,000 held out for validation).
 */
export const TRAINER_PRESETS: Readonly<Record<'cpu' | 'paper', TrainerPreset>> = Object.freeze({
  cpu: { omega: CPU_OMEGA, full: {}, trainImages: 1000, val: 500, fullName: 'FULL-CPU (budget proxy, not converged)', description: 'CPU preset: epochs {1,2,4}, batch {64,128,256}, lr {0.025,0.05,0.1}, N {1,2}, C {4,8}, cutout {0,7}, image {14,28}; f FULL-CPU; 1,000 training and 500 validation images' },
  paper: { omega: PAPER_TRAINER_OMEGA, full: { epochs: 200, batch: 96, lr: 0.025, layers: 5, channels: 16, cutout: 16, image: 32 }, side: 32, val: 5000, fullName: 'f of the paper preset (NB-201-like final training)', description: "paper preset: the paper's Ω with N {2,…,8}, no fp; f 200 epochs, batch 96, lr 0.025, N 5, C 16, cutout 16, 32 px; CIFAR-10 (--data cifar10:<dir>)" }
})

/** Checks that a preset fits the data (errors name --preset). */
export function checkPresetData (name: 'cpu' | 'paper', data: ImageSet): void {
  const p = TRAINER_PRESETS[name]
  if (p.side !== undefined && data.height !== p.side) throw new OmegaError(`--preset ${name}: needs ${p.side}-px images (--data cifar10:<dir>), got ${data.label} at ${data.height} px`)
  const side = Math.min(...(p.omega.dims.find(d => d.name === 'image')?.values ?? [data.height]))
  if (data.height % side !== 0) throw new OmegaError(`--preset ${name}: its image sides do not divide ${data.label}'s ${data.height} px`)
  const need = (p.val ?? 1000) + (p.trainImages ?? 1)
  if (data.n < need) throw new OmegaError(`--preset ${name}: needs at least ${need} images, ${data.label} has ${data.n}`)
}

/** Values of dimensions a sub-Ω leaves out (image: the data's side; 28 is Fashion-MNIST's). */
export const TRAINER_DEFAULTS: Readonly<Record<Exclude<BpeDimName, 'fp'>, number>> = Object.freeze({ epochs: 1, batch: 128, lr: 0.05, layers: 1, channels: 8, cutout: 0, image: 28 })
/** FULL-CPU: the budget proxy f on 2 cores (see the module comment; image: the data's side). */
export const TRAINER_FULL: Readonly<Record<Exclude<BpeDimName, 'fp'>, number>> = Object.freeze({ epochs: 16, batch: 128, lr: 0.05, layers: 2, channels: 8, cutout: 0, image: 28 })

export interface TrainerBpeOptions {
  data: ImageSet
  omega?: Omega
  /** f by dimension (default TRAINER_FULL; given dims override it). */
  full?: Partial<Record<string, number>>
  /** Held-out validation images (default 1,000) and training images (default 2,000) of the data. */
  val?: number
  trainImages?: number
  /** Training seed: architecture a trains with seed·100,003 + a under every setting. */
  seed?: number
  /** The cost of a training: 'flops' (training GFLOP, default; deterministic) or 'seconds' (its measured CPU seconds). */
  cost?: 'flops' | 'seconds'
  /** Called after each training (progress lines). */
  onTrained?: (arch: number, what: string, r: TrainResult) => void
  /**
   * f from a NAS-Bench-201 table instead of training (`--full nb201:<table>`, the bench opened
   * from it): the 200-epoch `val` accuracy (else `test`) of each cell, T̄_f the GFLOP of that
   * schedule (200 epochs × NB-201's training images × 3 × nb201.flops).
   */
  fullTable?: Bench
  /** What f is called in reports (default 'FULL-CPU (budget proxy, not converged)'). */
  fullName?: string
  /**
   * Tie lr to the batch as the authors' result sheet does (`tiedLr`): Ω then has no lr
   * dimension and every setting, f included, trains at the batch's tied lr (`--lr-tie`).
   */
  lrTie?: boolean
}

/**
 * The learning rate the MIP authors' result sheet pairs with a batch size: 96 → 0.025,
 * 128 → 0.03, 256 → 0.06, 512 and 1024 → 0.1. Batches between or below those values take the
 * next listed batch's lr (≤ 96 → 0.025, ≤ 128 → 0.03, ≤ 256 → 0.06, else 0.1): our extension
 * to the CPU preset's batches.
 */
export function tiedLr (batch: number): number {
  if (!Number.isFinite(batch) || batch < 1) throw new RangeError(`tiedLr: batch must be ≥ 1, got ${String(batch)}`)
  return batch <= 96 ? 0.025 : batch <= 128 ? 0.03 : batch <= 256 ? 0.06 : 0.1
}

/** Ω without its lr dimension (for --lr-tie on a preset's Ω). */
export function omegaWithoutLr (omega: Omega): Omega {
  return { dims: omega.dims.filter(d => d.name !== 'lr') }
}

/** The dataset a NAS-Bench-201 table location names (for the cross-dataset label). */
function tableDataset (uri: string): string {
  if (/imagenet/i.test(uri)) return 'ImageNet16-120'
  if (/cifar-?100/i.test(uri)) return 'CIFAR-100'
  if (/cifar-?10/i.test(uri)) return 'CIFAR-10'
  return 'an unnamed dataset (CIFAR-10 by default)'
}

/** f from an NB-201 table: accuracy per trainer architecture id, the schedule's GFLOP, the label. */
export function nb201TableFull (bench: Bench, data: ImageSet): { accuracy: (arch: number) => number, gflop: (arch: number) => number, has: (arch: number) => boolean, label: string, crossDataset: boolean } {
  if (bench.space !== 'nb201') throw new OmegaError(`--full nb201:<table>: ${bench.label} is not a NAS-Bench-201 table`)
  if (!bench.epochs.includes(200)) throw new OmegaError(`--full nb201:<table>: ${bench.label} has no 200-epoch schedule (epochs ${bench.epochs.join(', ')}); f needs the 200-epoch table (nb201-<dataset>-hp200.csv)`)
  const metric = bench.metrics.includes('val') ? 'val' : bench.metrics.includes('test') ? 'test' : undefined
  if (metric === undefined) throw new OmegaError(`--full nb201:<table>: ${bench.label} has neither val nor test accuracy`)
  const column = bench.epochs.length > 1 ? bench.column({ metric, epochs: 200 }) : bench.column({ metric })
  const dataset = tableDataset(bench.uri)
  const nbDataset = dataset === 'CIFAR-100' ? 'cifar100' : dataset === 'ImageNet16-120' ? 'ImageNet16-120' : 'cifar10'
  // NB-201's 200-epoch runs: cifar10-valid (val) trains on 25,000 images, cifar10 (test) on 50,000; CIFAR-100 on 50,000; ImageNet16-120 on 151,700.
  const images = nbDataset === 'cifar10' ? (metric === 'val' ? 25000 : 50000) : nbDataset === 'cifar100' ? 50000 : 151700
  const same = (dataset === 'CIFAR-10' && data.label.startsWith('cifar10')) || (dataset === 'CIFAR-100' && data.label.startsWith('cifar100'))
  const label = `${bench.label}: NAS-Bench-201's 200-epoch ${metric} accuracy (%), T̄_f its ${images.toLocaleString('en-US')}-image schedule in GFLOP — ` +
    (same ? `the same dataset as b (${data.label}) but NB-201's training pipeline` : `CROSS-DATASET: f is ${dataset} (NB-201's training), b is ${data.label}`)
  return {
    accuracy: arch => column[bench.rowOf(nb201.fromIndex(arch))],
    has: arch => { try { bench.rowOf(nb201.fromIndex(arch)); return true } catch { return false } },
    gflop: arch => 200 * images * 3 * nb201.flops(nb201.fromIndex(arch), nbDataset) / 1e9,
    label,
    crossDataset: !same
  }
}

function toSetting (v: Partial<Record<BpeDimName, number>>, side: number, lrTie = false): TrainSetting {
  const x = { ...TRAINER_DEFAULTS, image: side, ...v }
  return { epochs: x.epochs, batch: x.batch, lr: lrTie ? tiedLr(x.batch) : x.lr, cells: x.layers, channels: x.channels, image: x.image, cutout: x.cutout }
}

/** The trainer evaluator (tfjs module `tf` with its backend chosen). */
export function trainerBpe (tf: Tf, options: TrainerBpeOptions): BpeEvaluator {
  const omega = checkOmega(options.omega ?? CPU_OMEGA, '--omega')
  if (omega.dims.some(d => d.name === 'fp')) throw new OmegaError('--omega: the trainer has no fp dimension (tfjs has no fp16 training)')
  const data = options.data
  const split = splitImages(data, options.val ?? 1000, options.trainImages ?? Math.min(2000, data.n - (options.val ?? 1000)))
  const seed = options.seed ?? 0
  const costMode = options.cost ?? 'flops'
  if (costMode !== 'flops' && costMode !== 'seconds') throw new OmegaError(`--cost: must be flops or seconds, got ${String(costMode)}`)
  for (const k of Object.keys(options.full ?? {})) {
    if (!(k in TRAINER_FULL)) throw new OmegaError(`--full: unknown dimension '${k}' (${Object.keys(TRAINER_FULL).join(', ')})`)
  }
  const tie = options.lrTie === true
  if (tie && omega.dims.some(d => d.name === 'lr')) throw new OmegaError('--lr-tie: Ω has an lr dimension; with the tie lr follows the batch (give Ω without lr)')
  const table = options.fullTable !== undefined ? nb201TableFull(options.fullTable, data) : undefined
  if (table !== undefined && options.full !== undefined) throw new OmegaError('--full: give either a setting (dim=value,…) or nb201:<table>, not both')
  if (table !== undefined && costMode === 'seconds') throw new OmegaError('--full nb201:<table> with --cost seconds: T̄_f of a table is not in this machine\'s CPU seconds; use --cost flops (f priced as NB-201\'s 200-epoch schedule in GFLOP)')
  const fullValues = { ...TRAINER_FULL, image: data.height, ...(options.full ?? {}) } as Record<Exclude<BpeDimName, 'fp'>, number>
  if (tie) {
    // A preset's f may name its lr; it must be the tied one (the paper preset's f, batch 96 lr 0.025, is).
    if (options.full?.lr !== undefined && options.full.lr !== tiedLr(fullValues.batch)) throw new OmegaError(`--lr-tie: f sets lr ${options.full.lr}, but the tie gives batch ${fullValues.batch} lr ${tiedLr(fullValues.batch)}`)
    fullValues.lr = tiedLr(fullValues.batch)
  }
  const full = toSetting(fullValues, data.height, tie)
  checkTrainSetting(full, data, '--full')
  for (const d of omega.dims) {
    for (const v of d.values) checkTrainSetting(toSetting({ [d.name]: v }, data.height, tie), data, '--omega')
  }
  const flopsOf = (v: Partial<Record<BpeDimName, number>>): number => {
    const x = { ...TRAINER_DEFAULTS, image: data.height, ...v }
    return skeletonTrainingFlops({ ...x, fp: 32 }, x.layers, { inChannels: data.channels, classes: data.classes })
  }
  const warnings: string[] = []
  const maxFlops = omega.dims.reduce((acc, d) => ({ ...acc, [d.name]: d.values.reduce((best, v) => flopsOf({ [d.name]: v }) > flopsOf({ [d.name]: best }) ? v : best, d.values[0]) }), {} as Partial<Record<BpeDimName, number>>)
  if (table !== undefined) warnings.push(`--full ${table.label}`)
  else if (flopsOf(fullValues) < flopsOf(maxFlops)) warnings.push(`--full: f (${JSON.stringify(fullValues)}) costs fewer FLOPs than Ω's most expensive setting`)
  const pool: number[] = []
  for (let i = 0; i < nb201.size; i++) if (nb201.prune(nb201.fromIndex(i)).some(x => x !== 0) && (table === undefined || table.has(i))) pool.push(i)
  // The process's first training also pays for compiling the backend's kernels (≈ 0.6 CPU-s
  // on wasm), which would be charged to whichever setting comes first — with --cost seconds, a
  // bias in the fitted law. One untimed 1-epoch training on 16 images warms the backend first.
  let warm = false
  const warmUp = async (setting: TrainSetting, arch: number): Promise<void> => {
    if (warm) return
    warm = true
    await trainCell(tf, nb201.fromIndex(arch), { ...setting, epochs: 1, batch: 8 }, { data: split.data, train: split.train.slice(0, 16), val: split.val.slice(0, 16) }, 0)
  }
  const train = async (setting: TrainSetting, archs: Int32Array, what: string): Promise<BpeEvaluation> => {
    if (archs.length > 0) await warmUp(setting, pool[0])
    const accuracy = new Float64Array(archs.length)
    const costs = new Float64Array(archs.length)
    const details: Array<Record<string, number | boolean>> = []
    let diverged = 0
    for (let k = 0; k < archs.length; k++) {
      const r = await trainCell(tf, nb201.fromIndex(archs[k]), setting, split, seed * 100003 + archs[k])
      accuracy[k] = r.best
      costs[k] = r.untrained ? 0 : costMode === 'seconds' ? r.cpuSeconds : setting.epochs * split.train.length * 3 * r.flops / 1e9
      details.push({ final: r.final, cpu_seconds: r.cpuSeconds, seconds: r.seconds, diverged: r.diverged, untrained: r.untrained, params: r.params })
      if (r.diverged) diverged++
      options.onTrained?.(archs[k], what, r)
    }
    return { accuracy, costs, cost: costs.reduce((a, b) => a + b, 0) / Math.max(1, costs.length), diverged, details }
  }
  return {
    name: `trainer-${data.label}-train${split.train.length}-val${split.val.length}-seed${seed}${costMode === 'seconds' ? '-cpus' : ''}${tie ? '-lrtie' : ''}`,
    synthetic: false,
    omega,
    costUnit: costMode === 'seconds' ? 'CPU-s' : 'GFLOP',
    fullLabel: table !== undefined ? table.label : `${options.fullName ?? 'FULL-CPU (budget proxy, not converged)'}: ${Object.entries(fullValues).map(([k, v]) => `${k} ${v}`).join(', ')}${tie ? ' (lr tied to the batch, the sheet\'s rule)' : ''}; ${split.train.length} training and ${split.val.length} held-out validation images of ${data.label}; best validation top-1 (%)`,
    pool: Int32Array.from(pool),
    trainImages: split.train.length,
    describeArch: id => nb201.format(nb201.fromIndex(id)),
    full: async archs => {
      if (table === undefined) return await train(full, archs, 'full')
      const accuracy = Float64Array.from(archs, a => table.accuracy(a))
      const costs = Float64Array.from(archs, a => table.gflop(a))
      return { accuracy, costs, cost: costs.reduce((x, y) => x + y, 0) / Math.max(1, costs.length) }
    },
    // Recorded measurements of f are keyed by what f is, so a changed --full never replays a stale f.
    fullKey: table !== undefined ? `nb201-table:${options.fullTable?.uri ?? ''}` : `trained:${Object.entries(fullValues).map(([k, v]) => `${k}=${v}`).join(',')}`,
    evaluate: async (setting, archs) => await train(toSetting(settingValues(omega, setting), data.height, tie), archs, 'b'),
    flops: setting => flopsOf(settingValues(omega, setting)),
    warnings
  }
}
