// BPE evaluators (lib/bpe/mip.ts's BpeEvaluator):
//
//  - synthetic-bpe (SYNTHETIC): architectures of the synthetic NAS-Bench-201 benchmark; R_f is
//    the teacher's final validation accuracy. A setting b of the paper's Ω ranks them with the
//    rank correlation fitted to the paper's result sheet (least squares over its 32 BPEs, r 0.87):
//      ρ(b) = clip(0.388 + 0.042·log2(e/10) + 0.102·log2(L/6) − 0.037·log2(C/8)
//                  − 0.061·log2(img/16) + 0.007·log2(B/128) + 0.046·[fp16] + 0.040·[cutout], 0.05, 0.95)
//      R_b(a) = ρ′·z_a + √(1−ρ′²)·ε_{a,b},  ρ′ = 2·sin(πρ/6)
//    (z: the normal score of R_f's rank over the evaluator's pool, Φ⁻¹((rank − ½)/n), so an
//    architecture's score does not depend on which others are asked about and (z, R_b) is
//    bivariate normal: Spearman(R_f, R_b) = (6/π)·asin(ρ′/2) = ρ in expectation; ε:
//    hashNormal of (seed, arch, setting)), reported on R_f's scale (mean + sd·R_b). The mean
//    training time per architecture is the sheet's power law (r 0.99), in GPU-hours:
//      T̄ = 0.0864·(e/10)^0.954·(L/6)^0.852·(C/8)^0.204·(img/16)^0.471·(B/128)^−0.463.
//    f is DARTS's final training (600 epochs, batch 96, 20 layers, 36 channels, 32 px).
//    lr has no effect (the sheet ties it to the batch). FLOPs (Eq. 2): epochs × 3 × forward
//    FLOPs of the NB-201 skeleton with C channels, L/3 cells per stage, img² input, over the
//    mean cell op mix.
//
//  - nb201-tables (real, no training): NAS-Bench-201's two schedules as a two-budget
//    benchmark: Ω = { epochs: 12 }, f = 200 epochs; accuracies are the tables' validation
//    accuracy (or test), cost the tables' train_time (the 12-epoch cost estimated as 12/200 of
//    the 200-epoch one: the 12-epoch table has no train time).
import type { Bench } from '../bench/bench'
import { hashNormal } from '../bench/teacher'
import { nb201 } from '../spaces/nb201'
import { BPE_DIMS, checkOmega, PAPER_OMEGA, settingValues, type BpeDimName, type Omega } from './omega'
import type { BpeEvaluation, BpeEvaluator } from './mip'

/** Values of the dimensions a sub-Ω leaves out (DARTS's search-stage training). */
export const SYNTHETIC_DEFAULTS: Readonly<Record<BpeDimName, number>> = Object.freeze({ epochs: 50, batch: 64, lr: 0.025, layers: 8, fp: 32, channels: 16, cutout: 0, image: 32 })
/** DARTS's final training: the full setting f of synthetic-bpe. */
export const SYNTHETIC_FULL: Readonly<Record<BpeDimName, number>> = Object.freeze({ epochs: 600, batch: 96, lr: 0.025, layers: 20, fp: 32, channels: 36, cutout: 16, image: 32 })

/** The sheet fit of r_s (before the clip to [0.05, 0.95]). */
export function syntheticRho (v: Readonly<Record<BpeDimName, number>>): number {
  const rho = 0.388 + 0.042 * Math.log2(v.epochs / 10) + 0.102 * Math.log2(v.layers / 6) - 0.037 * Math.log2(v.channels / 8) -
    0.061 * Math.log2(v.image / 16) + 0.007 * Math.log2(v.batch / 128) + 0.046 * (v.fp === 16 ? 1 : 0) + 0.040 * (v.cutout > 0 ? 1 : 0)
  return Math.min(0.95, Math.max(0.05, rho))
}

/** The sheet's power law of the mean training time per architecture (GPU-hours). */
export function syntheticHours (v: Readonly<Record<BpeDimName, number>>): number {
  return 0.0864 * (v.epochs / 10) ** 0.954 * (v.layers / 6) ** 0.852 * (v.channels / 8) ** 0.204 * (v.image / 16) ** 0.471 * (v.batch / 128) ** -0.463
}

/** Training FLOPs per image seen (3 × forward) × epochs of the NB-201 skeleton over the mean op mix; cells = layers/3 (linear in cells); input channels and classes default to 3 and 10. */
export function skeletonTrainingFlops (v: Readonly<Record<BpeDimName, number>>, cellsPerStage: number, io: { inChannels?: number, classes?: number } = {}): number {
  const one = nb201.networkCost({ channels: v.channels, cells: 1, image: v.image, ...io })
  const meanEdge = one.flops.perEdge.reduce((a, b) => a + b, 0) / one.flops.perEdge.length
  return v.epochs * 3 * (one.flops.base + 6 * meanEdge * cellsPerStage)
}

function fnv (text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0
  return h
}

/** Φ⁻¹(p) for p in (0, 1) (Acklam's rational approximation, relative error < 1.2e-9). */
export function inverseNormal (p: number): number {
  const a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
  const b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
  const c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
  const d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
  if (!(p > 0 && p < 1)) throw new RangeError(`inverseNormal: p must be in (0, 1), got ${p}`)
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p))
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
  }
  if (p > 1 - 0.02425) return -inverseNormal(1 - p)
  const q = p - 0.5; const r = q * q
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
}

function standardise (x: Float64Array): { mean: number, sd: number } {
  const n = x.length
  const mean = x.reduce((a, b) => a + b, 0) / n
  const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / n) || 1
  return { mean, sd }
}

/** The synthetic-bpe evaluator on a synthetic-201 bench (see the module comment). */
export function syntheticBpe (bench: Bench, options: { omega?: Omega, seed?: number } = {}): BpeEvaluator {
  if (!bench.synthetic || bench.space !== 'nb201') throw new RangeError(`synthetic-bpe: needs the synthetic-201 bench, got ${bench.label}`)
  const omega = checkOmega(options.omega ?? PAPER_OMEGA, 'synthetic-bpe omega')
  const noiseSeed = options.seed ?? 0
  const ops = bench.archs as Uint8Array
  const pool: number[] = []
  for (let row = 0; row < bench.size; row++) {
    const p = nb201.prune(ops.subarray(6 * row, 6 * row + 6))
    if (p.some(x => x !== 0)) pool.push(row)
  }
  const finalVal = bench.column({ metric: 'val' })
  const values = (setting: Int32Array): Record<BpeDimName, number> => ({ ...SYNTHETIC_DEFAULTS, ...settingValues(omega, setting) })
  const accuracies = (archs: Int32Array): Float64Array => Float64Array.from(archs, a => finalVal[a])
  const { mean, sd } = standardise(accuracies(Int32Array.from(pool)))
  const z = new Float64Array(bench.size)
  const order = [...pool].sort((a, b) => finalVal[a] - finalVal[b] || a - b)
  order.forEach((row, k) => { z[row] = inverseNormal((k + 0.5) / order.length) })
  return {
    name: 'synthetic-bpe',
    synthetic: true,
    omega,
    costUnit: 'GPU-h',
    fullLabel: 'DARTS final training: 600 epochs, batch 96, 20 layers, 36 channels, 32 px (teacher\'s final validation accuracy)',
    pool: Int32Array.from(pool),
    describeArch: id => bench.describeRow(id),
    full: async archs => ({ accuracy: accuracies(archs), cost: syntheticHours(SYNTHETIC_FULL) }),
    evaluate: async (setting, archs): Promise<BpeEvaluation> => {
      const v = values(setting)
      const rho = syntheticRho(v)
      const r = 2 * Math.sin(Math.PI * rho / 6)
      const key = fnv(BPE_DIMS.map(n => `${n}=${v[n]}`).join(','))
      const accuracy = Float64Array.from(archs, a => mean + sd * (r * z[a] + Math.sqrt(1 - r * r) * hashNormal(noiseSeed, a, key, 0x42)))
      return { accuracy, cost: syntheticHours(v) }
    },
    flops: setting => { const v = values(setting); return skeletonTrainingFlops(v, v.layers / 3) }
  }
}

/**
 * NAS-Bench-201's 12- and 200-epoch tables as an evaluator (a bench opened from an nb201:<dir>
 * with both schedules). `metric` 'val' (default) or 'test'.
 */
export function nb201TablesBpe (bench: Bench, options: { metric?: 'val' | 'test' } = {}): BpeEvaluator {
  if (bench.space !== 'nb201' || !bench.epochs.includes(12) || !bench.epochs.includes(200)) {
    throw new RangeError(`nb201-tables: needs a NAS-Bench-201 bench with the 12- and 200-epoch schedules (nb201:<dir> holding nb201-<dataset>-hp12.csv and -hp200.csv), got ${bench.label} (epochs ${bench.epochs.join(', ')})`)
  }
  const metric = options.metric ?? 'val'
  const ops = bench.archs as Uint8Array
  const pool: number[] = []
  for (let row = 0; row < bench.size; row++) {
    const p = nb201.prune(ops.subarray(6 * row, 6 * row + 6))
    if (p.some(x => x !== 0)) pool.push(row)
  }
  const acc200 = bench.column({ metric, epochs: 200 })
  const acc12 = bench.column({ metric, epochs: 12 })
  const time = bench.costs.includes('train_time') ? bench.cost('train_time') : undefined
  const meanTime = (archs: Int32Array, scale: number): number => time === undefined ? NaN : scale * archs.reduce((a, r) => a + time[r], 0) / archs.length
  const omega: Omega = { dims: [{ name: 'epochs', values: [12] }] }
  return {
    name: 'nb201-tables',
    synthetic: bench.synthetic,
    omega,
    costUnit: 's',
    fullLabel: `NAS-Bench-201 200-epoch schedule (${metric} accuracy)`,
    pool: Int32Array.from(pool),
    describeArch: id => bench.describeRow(id),
    full: async archs => ({ accuracy: Float64Array.from(archs, r => acc200[r]), cost: meanTime(archs, 1) }),
    evaluate: async (_setting, archs) => ({ accuracy: Float64Array.from(archs, r => acc12[r]), cost: meanTime(archs, 12 / 200) }),
    flops: setting => 12 + 0 * setting[0]
  }
}
