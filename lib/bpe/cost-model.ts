// Measured training time as the cost of Eq. 2 (`--cost seconds`). Eq. 2 prices a setting by
// its training FLOPs; with measured times the price is a power law fitted to them,
//   log T = a + Σ_i b_i·x_i,  x_i = log v_i (numeric dimensions), [fp16] and [cutout > 0] (0/1),
// least squares over (setting, mean seconds) observations. A dimension whose feature does not
// vary among the observations gets b_i = 0 (it cannot be estimated). The BPE table evaluator
// fits the same law on its rows; the trainer fits it on a calibration run: one-factor-at-a-time
// around the cheapest setting by FLOPs (the anchor, then each dimension at each other value
// with the rest at the anchor: 1 + Σ(n_i − 1) settings, each trained on a few fixed
// architectures), so every exponent is identified. The calibration trainings go through the
// evaluator it is given — a recorded one replays them, so a resumed run fits the same law and
// reaches the same decisions.
import type { BpeEvaluator } from './mip'
import { cheapestValues, drawArchs } from './mip'
import { settingKey, OmegaError, type BpeDimName, type Omega } from './omega'

/** The feature of one dimension's value in the power law. */
export function powerLawFeature (name: BpeDimName, v: number): number {
  if (name === 'fp') return v === 16 ? 1 : 0
  if (name === 'cutout') return v > 0 ? 1 : 0
  return Math.log(v)
}

export interface PowerLaw {
  /** a, and b_i per dimension of Ω (0 where the feature did not vary). */
  intercept: number
  exponents: number[]
  /** Observations it was fitted on, and R² of log T. */
  n: number
  r2: number
  /** exp(a + Σ b_i·x_i) of a setting (value indices into Ω). */
  predict: (setting: ArrayLike<number>) => number
  /** The same for values given by dimension (any value, e.g. f's: an extrapolation outside Ω). */
  predictValues: (values: Partial<Record<BpeDimName, number>>) => number
}

/** Least squares y ≈ X·β (normal equations with a tiny ridge, Gaussian elimination with pivoting). */
export function leastSquares (x: number[][], y: number[]): number[] {
  const p = x[0].length
  const a = Array.from({ length: p }, (_, i) => Array.from({ length: p + 1 }, (_, j) => (j === p ? x.reduce((s, r, k) => s + r[i] * y[k], 0) : x.reduce((s, r) => s + r[i] * r[j], 0) + (i === j ? 1e-9 : 0))))
  for (let c = 0; c < p; c++) {
    let piv = c
    for (let r = c + 1; r < p; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r
    ;[a[c], a[piv]] = [a[piv], a[c]]
    for (let r = 0; r < p; r++) {
      if (r === c || a[c][c] === 0) continue
      const f = a[r][c] / a[c][c]
      for (let j = c; j <= p; j++) a[r][j] -= f * a[c][j]
    }
  }
  return a.map((row, i) => (row[i] === 0 ? 0 : row[p] / row[i]))
}

/** Fits the power law to (setting, seconds) observations (seconds > 0, finite). */
export function fitPowerLaw (omega: Omega, rows: ReadonlyArray<{ setting: ArrayLike<number>, seconds: number }>): PowerLaw {
  if (rows.length === 0) throw new OmegaError('fitPowerLaw: no observations')
  for (const r of rows) {
    if (!(r.seconds > 0) || !Number.isFinite(r.seconds)) throw new OmegaError(`fitPowerLaw: the time of ${settingKey(omega, r.setting)} is ${r.seconds}, not a positive number`)
  }
  const feats = rows.map(r => omega.dims.map((d, i) => powerLawFeature(d.name, d.values[r.setting[i]])))
  // Only dimensions whose feature varies are estimated; the rest get exponent 0.
  const varying = omega.dims.map((_, i) => feats.some(f => f[i] !== feats[0][i]))
  const cols = omega.dims.map((_, i) => i).filter(i => varying[i])
  const y = rows.map(r => Math.log(r.seconds))
  const beta = leastSquares(feats.map(f => [1, ...cols.map(i => f[i])]), y)
  const exponents = omega.dims.map(() => 0)
  cols.forEach((i, k) => { exponents[i] = beta[k + 1] })
  const intercept = beta[0]
  const logPredict = (setting: ArrayLike<number>): number => intercept + omega.dims.reduce((x, d, i) => x + exponents[i] * powerLawFeature(d.name, d.values[setting[i]]), 0)
  const mean = y.reduce((a, b) => a + b, 0) / y.length
  const tss = y.reduce((a, b) => a + (b - mean) ** 2, 0)
  const rss = rows.reduce((a, r, k) => a + (y[k] - logPredict(r.setting)) ** 2, 0)
  const predictValues = (values: Partial<Record<BpeDimName, number>>): number => Math.exp(intercept + omega.dims.reduce((x, d, i) => {
    const v = values[d.name]
    if (v === undefined) throw new OmegaError(`predictValues: no value for ${d.name}`)
    return x + exponents[i] * powerLawFeature(d.name, v)
  }, 0))
  return { intercept, exponents, n: rows.length, r2: tss > 0 ? 1 - rss / tss : 1, predict: setting => Math.exp(logPredict(setting)), predictValues }
}

/** The one-factor-at-a-time design around `anchor`: the anchor, then each dimension at each other value. */
export function oneFactorDesign (omega: Omega, anchor: Int32Array): Int32Array[] {
  const out = [Int32Array.from(anchor)]
  omega.dims.forEach((d, i) => d.values.forEach((_, j) => {
    if (j === anchor[i]) return
    const s = Int32Array.from(anchor); s[i] = j
    out.push(s)
  }))
  return out
}

export interface SecondsCalibration {
  law: PowerLaw
  /** The calibration settings (keys), the architectures trained under each, their mean seconds. */
  settings: string[]
  archs: number[]
  seconds: number[]
  /** A one-line description for reports. */
  label: string
}

export interface CalibratedEvaluator extends BpeEvaluator {
  readonly calibration: SecondsCalibration
}

/**
 * `evaluator` (whose cost is measured seconds) with Eq. 2's `flops` replaced by the power law
 * fitted to a calibration run (see the module comment): `archs` fixed architectures of its pool
 * (drawn with `seed`, stream 7; default 2) trained under each setting of the one-factor design
 * around the cheapest setting by the evaluator's FLOPs.
 */
export async function calibrateSecondsCost (evaluator: BpeEvaluator, options: { archs?: number, seed?: number } = {}): Promise<CalibratedEvaluator> {
  const omega = evaluator.omega
  const n = options.archs ?? 2
  if (!Number.isInteger(n) || n < 1) throw new OmegaError(`calibration archs must be an integer ≥ 1, got ${n}`)
  const archs = drawArchs(evaluator.pool, Math.min(n, evaluator.pool.length), options.seed ?? 0, 7)
  const design = oneFactorDesign(omega, cheapestValues(omega, evaluator.flops))
  const rows: Array<{ setting: Int32Array, seconds: number }> = []
  for (const s of design) {
    const e = await evaluator.evaluate(s, archs)
    if (!(e.cost > 0)) throw new OmegaError(`--cost seconds: the calibration training at ${settingKey(omega, s)} measured ${e.cost} ${evaluator.costUnit}, not a positive time`)
    rows.push({ setting: s, seconds: e.cost })
  }
  const law = fitPowerLaw(omega, rows)
  const terms = omega.dims.map((d, i) => `${d.name} ${d.name === 'fp' || d.name === 'cutout' ? '×e^' : '^'}${law.exponents[i].toFixed(3)}`).join(', ')
  const calibration: SecondsCalibration = {
    law,
    settings: design.map(s => settingKey(omega, s)),
    archs: [...archs],
    seconds: rows.map(r => r.seconds),
    label: `Eq. 2 prices settings by a power law fitted to measured ${evaluator.costUnit} (${design.length} calibration settings, one factor at a time around the cheapest, × ${archs.length} architecture(s); R² of log T ${law.r2.toFixed(3)}): ${terms}`
  }
  return { ...evaluator, flops: setting => law.predict(setting), calibration }
}
