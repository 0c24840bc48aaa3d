// Minimum Importance Pruning (Zheng et al., "Rethinking performance estimation in NAS",
// Alg. 1 with Eq. 1–9) over an evaluator: anything that trains (or looks up) a set of
// architectures under a setting of Ω and returns their accuracies and the mean cost.
//
//  - Eq. 2 sampler: per dimension i, p(θ_ij) ∝ exp(−c_ij/τ) with c_ij = FLOPs of the setting
//    with dimension i at its j-th value and every other dimension at its cheapest value
//    (pruned ones at their fixed value β), divided by the FLOPs of that anchor (so the
//    cheapest value has c = 1; raw FLOPs would underflow exp). Dimensions without a FLOPs
//    effect (batch, lr, fp, cutout) come out uniform. τ defaults to 1.
//  - Alg. 1: G ← |G| random architectures of the evaluator's pool; R_f their accuracies
//    under the full setting f; each round draws K settings not yet in D, evaluates G under
//    each, adds (b, r_s = Spearman(R_f, R_b)) to D, fits the random forest (Eq. 3–6: CART on
//    variance, bootstrap; fANOVA's sizes: 16 trees, ⌊0.7·d⌋ features per split, depth 64) on
//    all of D, computes the importance (Eq. 7–8, lib/models/forest-importance.ts) and prunes
//    the unpruned dimension of least importance (ties: the first in Ω's order). Eq. 9: fixed
//    to its cheapest value if its importance is below 0.1 (among values of equal cost, the one
//    with the highest forest marginal r_s, then the smallest), else to its value in D's
//    max-r_s row. Stops with one unpruned dimension (stop 'one', the text: K·(d−1) settings)
//    or when all are pruned (stop 'none', Alg. 1's n > 0), at most T rounds.
//  - Outputs: argmax r_s in D (the paper's pick), the Eq. 1 optimum max r_s − λ·T̄_b/T̄_f
//    (the paper's "+ λ·T̄" is a sign typo: less time is the aim) and the (T̄, r_s) Pareto front.
import { spearman } from '../metrics/correlation'
import { paretoFrontIndices } from '../metrics/pareto'
import { forestFit, type RegressionForest } from '../models/forest'
import { forestImportance, forestMarginals, type ForestMarginals, type ImportanceNormalisation } from '../models/forest-importance'
import { Random } from '../random'
import { checkOmega, omegaSize, settingAt, settingIndex, settingKey, settingValues, OmegaError, type BpeDimName, type Omega } from './omega'

/** Accuracies of the architectures asked about (in their order) and the mean cost per architecture. */
export interface BpeEvaluation {
  accuracy: Float64Array
  /** Mean training cost per architecture (the evaluator's costUnit). */
  cost: number
  /** Each architecture's cost, when they differ (a table, a trainer); else every one is `cost`. */
  costs?: Float64Array
  /** Architectures whose training diverged (non-finite loss): chance accuracy, counted. */
  diverged?: number
  /** Per architecture: more that was measured (a trainer: final accuracy, seconds), recorded with it. */
  details?: Array<Record<string, number | boolean>>
}

/** One interface for every way of measuring a setting: synthetic, tables, a trainer. */
export interface BpeEvaluator {
  readonly name: string
  /** True when its numbers are not real training results (labelled SYNTHETIC in reports). */
  readonly synthetic: boolean
  readonly omega: Omega
  /** Unit of `cost` (e.g. 'GPU-h', 's'). */
  readonly costUnit: string
  /** What the full setting f is, in words (reports). */
  readonly fullLabel: string
  /** Architecture ids G may be drawn from (e.g. the connected cells). */
  readonly pool: Int32Array
  /** Printable form of an architecture id. */
  describeArch: (id: number) => string
  /** Accuracies under the full setting f. */
  full: (archs: Int32Array) => Promise<BpeEvaluation>
  /** Accuracies under setting b (value indices into omega). */
  evaluate: (setting: Int32Array, archs: Int32Array) => Promise<BpeEvaluation>
  /** Training FLOPs of a setting (any positive scale; Eq. 2 uses ratios). */
  flops: (setting: Int32Array) => number
  /** Settings the evaluator can measure (a table evaluator: those present); default every one. */
  available?: (setting: Int32Array) => boolean
  /** A trainer: training images per epoch (a plan turns FLOPs per image into a run's total). */
  trainImages?: number
  /** What f is, when it is not the evaluator's default (records key f's measurements by it). */
  fullKey?: string
  /** Problems found when it was built (e.g. f cheaper than some setting), for the caller to show. */
  warnings?: readonly string[]
}

export interface MipOptions {
  /** Seed of G, the sampler and the forests (default 0). */
  seed?: number
  /** |G|, architectures ranked per setting (default 100; ≥ 3). */
  archs?: number
  /** K, settings drawn per round (default 10; ≥ 2). */
  k?: number
  /** T, the most rounds (default 10). */
  rounds?: number
  /** τ of Eq. 2 (default 1). */
  tau?: number
  /** λ of Eq. 1, in (0, 1) (default 0.5). */
  lambda?: number
  /** Importance below which a pruned dimension goes to its cheapest value (Eq. 9; default 0.1). */
  threshold?: number
  /** 'one' (default): stop with one unpruned dimension; 'none': prune all. */
  stop?: 'one' | 'none'
  /** Eq. 8 normalisation: over the whole forest (default) or per tree (scikit-learn). */
  normalise?: ImportanceNormalisation
  /** Forest: trees (16), features per split (0.7), depth (64). */
  trees?: number
  maxFeatures?: number
  maxDepth?: number
  /** Warnings (e.g. f cheaper than some b). */
  warn?: (message: string) => void
  signal?: AbortSignal
}

type ResolvedMip = Required<Omit<MipOptions, 'warn' | 'signal'>>

export interface MipSample {
  round: number
  /** Value indices into Ω. */
  setting: number[]
  key: string
  values: Partial<Record<BpeDimName, number>>
  rs: number
  /** T̄_b: mean cost per architecture. */
  cost: number
  diverged: number
}

export interface MipPrune {
  round: number
  dim: BpeDimName
  /** Importance of every dimension (Ω's order) from the forest fitted on D after this round. */
  importance: number[]
  branch: 'cheapest' | 'best-row'
  /** The value index it is fixed to, and the value. */
  index: number
  value: number
}

export interface MipResult {
  options: ResolvedMip
  archs: number[]
  /** T̄_f and the full setting's description. */
  fullCost: number
  samples: MipSample[]
  prunes: MipPrune[]
  /** D's row of highest r_s (ties: lower cost, then earlier). */
  best: number
  /** D's row maximising r_s − λ·T̄_b/T̄_f. */
  eq1: number
  /** D's rows on the (min T̄, max r_s) Pareto front, cheapest first. */
  pareto: number[]
}

export function resolveMipOptions (options: MipOptions = {}): ResolvedMip {
  const int = (v: unknown, fallback: number, name: string, min: number): number => {
    if (v === undefined) return fallback
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new OmegaError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`)
    return v
  }
  const real = (v: unknown, fallback: number, name: string, ok: (x: number) => boolean, what: string): number => {
    if (v === undefined) return fallback
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new OmegaError(`${name} must be ${what}, got ${JSON.stringify(v)}`)
    return v
  }
  const stop = options.stop ?? 'one'
  if (stop !== 'one' && stop !== 'none') throw new OmegaError(`stop must be 'one' or 'none', got ${JSON.stringify(stop)}`)
  const normalise = options.normalise ?? 'forest'
  if (normalise !== 'forest' && normalise !== 'tree') throw new OmegaError(`normalise must be 'forest' or 'tree', got ${JSON.stringify(normalise)}`)
  return {
    seed: int(options.seed, 0, 'seed', 0),
    archs: int(options.archs, 100, 'archs (|G|)', 3),
    k: int(options.k, 10, 'k (settings per round)', 2),
    rounds: int(options.rounds, 10, 'rounds (T)', 1),
    tau: real(options.tau, 1, 'tau', x => x > 0, '> 0'),
    lambda: real(options.lambda, 0.5, 'lambda', x => x > 0 && x < 1, 'in (0, 1)'),
    threshold: real(options.threshold, 0.1, 'threshold', x => x >= 0 && x <= 1, 'in [0, 1]'),
    stop,
    normalise,
    trees: int(options.trees, 16, 'trees', 1),
    maxFeatures: real(options.maxFeatures, 0.7, 'maxFeatures', x => x > 0 && x <= 1, 'in (0, 1]'),
    maxDepth: int(options.maxDepth, 64, 'maxDepth', 1)
  }
}

// ---- Eq. 2 -------------------------------------------------------------------------------

/** Per dimension, the index of its cheapest value (FLOPs with the others at `anchor`; ties: the first). */
export function cheapestValues (omega: Omega, flops: (s: Int32Array) => number, anchor?: Int32Array): Int32Array {
  const base = anchor !== undefined ? Int32Array.from(anchor) : new Int32Array(omega.dims.length)
  return Int32Array.from(omega.dims.map((d, i) => {
    let best = 0; let bestCost = Infinity
    d.values.forEach((_, j) => {
      const s = Int32Array.from(base); s[i] = j
      const c = flops(s)
      if (c < bestCost) { bestCost = c; best = j }
    })
    return best
  }))
}

/**
 * The anchor of Eq. 2: every unpruned dimension at its cheapest value, pruned ones at β
 * (`fixed[i]` ≥ 0), and c_ij = FLOPs(anchor with dim i at j) / FLOPs(anchor).
 */
export function relativeCosts (omega: Omega, flops: (s: Int32Array) => number, fixed: ArrayLike<number>): { anchor: Int32Array, costs: Float64Array[] } {
  const cheapest = cheapestValues(omega, flops)
  const anchor = Int32Array.from(omega.dims.map((_, i) => fixed[i] >= 0 ? fixed[i] : cheapest[i]))
  const c0 = flops(anchor)
  if (!(c0 > 0) || !Number.isFinite(c0)) throw new RangeError(`relativeCosts: the evaluator's FLOPs of ${settingKey(omega, anchor)} is ${c0}, not a positive number`)
  const costs = omega.dims.map((d, i) => Float64Array.from(d.values.map((_, j) => {
    const s = Int32Array.from(anchor); s[i] = j
    return flops(s) / c0
  })))
  return { anchor, costs }
}

/** Eq. 2 probabilities per dimension: p_ij ∝ exp(−c_ij/τ) (a pruned dimension: 1 at β). */
export function samplingProbabilities (omega: Omega, flops: (s: Int32Array) => number, fixed: ArrayLike<number>, tau = 1): Float64Array[] {
  const { costs } = relativeCosts(omega, flops, fixed)
  return costs.map((c, i) => {
    if (fixed[i] >= 0) return Float64Array.from(c, (_, j) => (j === fixed[i] ? 1 : 0))
    const min = Math.min(...c)
    const w = Float64Array.from(c, x => Math.exp(-(x - min) / tau))
    const s = w.reduce((a, b) => a + b, 0)
    return w.map(x => x / s)
  })
}

function draw (p: Float64Array, random: Random): number {
  const u = random.float()
  let acc = 0
  for (let j = 0; j < p.length; j++) {
    acc += p[j]
    if (u < acc) return j
  }
  for (let j = p.length - 1; j >= 0; j--) if (p[j] > 0) return j
  return 0
}

/** One setting drawn from Π_i p_i. */
export function sampleSetting (probabilities: Float64Array[], random: Random): Int32Array {
  return Int32Array.from(probabilities.map(p => draw(p, random)))
}

/**
 * Up to `k` settings not in `seen` (keys by settingIndex), by Eq. 2 without replacement:
 * rejection draws, then, if the free subspace is nearly exhausted, every unseen setting
 * weighted by its probability (all of them when fewer than k remain).
 */
export function drawUnseen (omega: Omega, probabilities: Float64Array[], seen: Set<number>, k: number, random: Random, available?: (s: Int32Array) => boolean): Int32Array[] {
  const out: Int32Array[] = []
  const taken = new Set<number>()
  const ok = (s: Int32Array): boolean => available === undefined || available(s)
  for (let attempt = 0; attempt < 200 * k && out.length < k; attempt++) {
    const s = sampleSetting(probabilities, random)
    const idx = settingIndex(omega, s)
    if (seen.has(idx) || taken.has(idx) || !ok(s)) continue
    taken.add(idx)
    out.push(s)
  }
  if (out.length === k) return out
  // Exhaustion: enumerate the free subspace (dimensions with more than one possible value).
  const size = omegaSize(omega)
  if (size > 5_000_000) return out
  const rest: Array<{ s: Int32Array, w: number }> = []
  for (let idx = 0; idx < size; idx++) {
    if (seen.has(idx) || taken.has(idx)) continue
    const s = settingAt(omega, idx)
    let w = 1
    for (let i = 0; i < s.length && w > 0; i++) w *= probabilities[i][s[i]]
    if (w > 0 && ok(s)) rest.push({ s, w })
  }
  while (out.length < k && rest.length > 0) {
    const total = rest.reduce((a, r) => a + r.w, 0)
    let u = random.float() * total
    let pick = rest.length - 1
    for (let j = 0; j < rest.length; j++) { u -= rest[j].w; if (u < 0) { pick = j; break } }
    out.push(rest[pick].s)
    rest.splice(pick, 1)
  }
  return out
}

// ---- the forest on D ---------------------------------------------------------------------

/** The forest of Eq. 3–6 on D: features = the settings' values, target = r_s. */
export function fitMipForest (omega: Omega, samples: ReadonlyArray<Pick<MipSample, 'setting' | 'rs'>>, options: Pick<ResolvedMip, 'trees' | 'maxFeatures' | 'maxDepth'>, seed: number): RegressionForest {
  const d = omega.dims.length
  const x = new Float64Array(samples.length * d)
  samples.forEach((s, r) => s.setting.forEach((j, i) => { x[r * d + i] = omega.dims[i].values[j] }))
  return forestFit(x, samples.map(s => s.rs), d, { trees: options.trees, maxFeatures: options.maxFeatures, maxDepth: options.maxDepth, seed, threads: 1 })
}

/** Exact fANOVA of a MIP forest over Ω's grid. */
export function mipMarginals (omega: Omega, forest: RegressionForest): ForestMarginals {
  return forestMarginals(forest, omega.dims.map(d => [...d.values]))
}

/**
 * Eq. 9: the dimension to prune (least importance among the unpruned; ties the first) and its
 * value: the cheapest if its importance is below `threshold` (equal cost: the highest forest
 * marginal r_s, then the smallest value), else its value in D's max-r_s row.
 */
export function pruneStep (omega: Omega, importance: ArrayLike<number>, fixed: ArrayLike<number>, samples: ReadonlyArray<Pick<MipSample, 'setting' | 'rs' | 'cost'>>,
  costs: Float64Array[], marginals: ForestMarginals, threshold: number): { dim: number, branch: 'cheapest' | 'best-row', index: number } {
  let dim = -1
  for (let i = 0; i < omega.dims.length; i++) {
    if (fixed[i] >= 0) continue
    if (dim < 0 || importance[i] < importance[dim]) dim = i
  }
  if (dim < 0) throw new RangeError('pruneStep: every dimension is already pruned')
  if (importance[dim] < threshold) {
    const c = costs[dim]
    const values = omega.dims[dim].values
    const marginal = marginals.columns[dim].mean
    let best = 0
    for (let j = 1; j < values.length; j++) {
      const better = c[j] < c[best] ||
        (c[j] === c[best] && (marginal[j] > marginal[best] || (marginal[j] === marginal[best] && values[j] < values[best])))
      if (better) best = j
    }
    return { dim, branch: 'cheapest', index: best }
  }
  return { dim, branch: 'best-row', index: samples[bestRow(samples)].setting[dim] }
}

/** D's row of highest r_s (ties: lower cost, then earlier). */
export function bestRow (samples: ReadonlyArray<Pick<MipSample, 'rs' | 'cost'>>): number {
  let best = 0
  for (let r = 1; r < samples.length; r++) {
    if (samples[r].rs > samples[best].rs || (samples[r].rs === samples[best].rs && samples[r].cost < samples[best].cost)) best = r
  }
  return best
}

/** The Eq. 1 optimum: argmax r_s − λ·T̄_b/T̄_f (ties: earlier). */
export function eq1Row (samples: ReadonlyArray<Pick<MipSample, 'rs' | 'cost'>>, lambda: number, fullCost: number): number {
  let best = 0
  const score = (s: Pick<MipSample, 'rs' | 'cost'>): number => s.rs - lambda * s.cost / fullCost
  for (let r = 1; r < samples.length; r++) if (score(samples[r]) > score(samples[best])) best = r
  return best
}

/** |G| distinct architectures of the pool, drawn by the seed's stream 1. */
export function drawArchs (pool: Int32Array, count: number, seed: number, stream = 1): Int32Array {
  if (count > pool.length) throw new OmegaError(`archs (|G|) ${count} is above the evaluator's pool of ${pool.length} architectures`)
  const copy = Int32Array.from(pool)
  const random = new Random(seed, stream)
  for (let i = 0; i < count; i++) {
    const j = i + random.int(copy.length - i)
    const t = copy[i]; copy[i] = copy[j]; copy[j] = t
  }
  return copy.slice(0, count)
}

/** Spearman r_s of the evaluation against R_f (NaN, e.g. a constant ranking, counts as 0). */
export function rankCorrelation (full: Float64Array, b: Float64Array): number {
  const r = spearman(full, b)
  return Number.isFinite(r) ? r : 0
}

function aborted (signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw (signal.reason instanceof Error ? signal.reason : new Error('aborted'))
}

/** Alg. 1 (see the module comment). Same evaluator and options ⇒ the same result. */
export async function runMip (evaluator: BpeEvaluator, options: MipOptions = {}): Promise<MipResult> {
  const o = resolveMipOptions(options)
  const omega = checkOmega(evaluator.omega, `${evaluator.name}: omega`)
  const d = omega.dims.length
  const archs = drawArchs(evaluator.pool, o.archs, o.seed)
  const full = await evaluator.full(archs)
  const fixed = new Int32Array(d).fill(-1)
  const samples: MipSample[] = []
  const prunes: MipPrune[] = []
  const seen = new Set<number>()
  const random = new Random(o.seed, 2)
  let warned = false
  for (let round = 1; round <= o.rounds; round++) {
    const free = fixed.filter(v => v < 0).length
    if (free === 0 || (o.stop === 'one' && free <= 1)) break
    aborted(options.signal)
    const probabilities = samplingProbabilities(omega, evaluator.flops, fixed, o.tau)
    const draws = drawUnseen(omega, probabilities, seen, o.k, random, evaluator.available)
    if (samples.length + draws.length === 0) break
    for (const s of draws) {
      aborted(options.signal)
      seen.add(settingIndex(omega, s))
      const e = await evaluator.evaluate(s, archs)
      if (e.cost > full.cost && !warned) {
        warned = true
        options.warn?.(`the full setting f (${evaluator.fullLabel}, ${full.cost} ${evaluator.costUnit}) is cheaper than ${settingKey(omega, s)} (${e.cost} ${evaluator.costUnit})`)
      }
      samples.push({ round, setting: [...s], key: settingKey(omega, s), values: settingValues(omega, s), rs: rankCorrelation(full.accuracy, e.accuracy), cost: e.cost, diverged: e.diverged ?? 0 })
    }
    const forest = fitMipForest(omega, samples, o, o.seed * 64 + round)
    const importance = forestImportance(forest, { normalise: o.normalise })
    const { costs } = relativeCosts(omega, evaluator.flops, fixed)
    const step = pruneStep(omega, importance, fixed, samples, costs, mipMarginals(omega, forest), o.threshold)
    fixed[step.dim] = step.index
    prunes.push({ round, dim: omega.dims[step.dim].name, importance: [...importance], branch: step.branch, index: step.index, value: omega.dims[step.dim].values[step.index] })
  }
  if (samples.length === 0) throw new OmegaError('MIP drew no setting (every setting of Ω is unavailable to the evaluator)')
  return {
    options: o,
    archs: [...archs],
    fullCost: full.cost,
    samples,
    prunes,
    best: bestRow(samples),
    eq1: eq1Row(samples, o.lambda, full.cost),
    pareto: paretoFrontIndices(samples, { minimize: ['cost'], maximize: ['rs'] })
  }
}

/**
 * Uniform random search over Ω at a total cost budget (Σ T̄_b of the settings evaluated):
 * distinct settings drawn uniformly, evaluated on the same G, until the next would exceed the
 * budget. The baseline MIP is compared with at equal total training cost.
 */
export async function randomBpeSearch (evaluator: BpeEvaluator, budget: number, options: { seed?: number, archs?: number, signal?: AbortSignal } = {}): Promise<{ samples: MipSample[], best: number, spent: number }> {
  const seed = options.seed ?? 0
  const omega = evaluator.omega
  const archs = drawArchs(evaluator.pool, options.archs ?? 100, seed)
  const full = await evaluator.full(archs)
  const random = new Random(seed, 4)
  const uniform = omega.dims.map(dim => new Float64Array(dim.values.length).fill(1 / dim.values.length))
  const seen = new Set<number>()
  const samples: MipSample[] = []
  let spent = 0
  const size = omegaSize(omega)
  while (seen.size < size) {
    aborted(options.signal)
    const [s] = drawUnseen(omega, uniform, seen, 1, random, evaluator.available)
    if (s === undefined) break
    seen.add(settingIndex(omega, s))
    const e = await evaluator.evaluate(s, archs)
    if (spent + e.cost > budget) break
    spent += e.cost
    samples.push({ round: 0, setting: [...s], key: settingKey(omega, s), values: settingValues(omega, s), rs: rankCorrelation(full.accuracy, e.accuracy), cost: e.cost, diverged: e.diverged ?? 0 })
  }
  return { samples, best: samples.length > 0 ? bestRow(samples) : -1, spent }
}

/** What one MIP run will cost before it runs (`nasrank bpe --plan`). */
export interface MipPlanEstimate {
  settings: number
  /** Settings evaluated by Alg. 1 with stop 'one' (K·(d−1), at most Ω less f). */
  evaluated: number
  trainings: number
  /** Mean FLOPs (the evaluator's scale) of a setting drawn by round 1's Eq. 2, and of the cheapest and dearest settings. */
  meanFlops: number
  minFlops: number
  maxFlops: number
}

/**
 * The size of one MIP run: |G|·(1 + K·(d−1)) trainings (f, then K settings per round until one
 * dimension is left) and the mean FLOPs of a setting under round 1's Eq. 2 probabilities (later
 * rounds fix dimensions, mostly to cheap values, so this is an upper-side estimate). Exact over
 * Ω up to 200,000 settings, else 20,000 draws (seed 0).
 */
export function estimateMip (evaluator: BpeEvaluator, options: MipOptions = {}): MipPlanEstimate {
  const o = resolveMipOptions(options)
  const omega = evaluator.omega
  const size = omegaSize(omega)
  const fixed = new Int32Array(omega.dims.length).fill(-1)
  const p = samplingProbabilities(omega, evaluator.flops, fixed, o.tau)
  let mean = 0; let min = Infinity; let max = -Infinity
  if (size <= 200_000) {
    for (let k = 0; k < size; k++) {
      const s = settingAt(omega, k)
      let w = 1
      for (let i = 0; i < s.length; i++) w *= p[i][s[i]]
      const f = evaluator.flops(s)
      mean += w * f; min = Math.min(min, f); max = Math.max(max, f)
    }
  } else {
    const random = new Random(0, 9)
    for (let k = 0; k < 20000; k++) mean += evaluator.flops(sampleSetting(p, random)) / 20000
    min = evaluator.flops(cheapestValues(omega, evaluator.flops))
    max = NaN
  }
  const rounds = o.stop === 'one' ? omega.dims.length - 1 : omega.dims.length
  const evaluated = Math.min(size, o.k * Math.min(o.rounds, rounds))
  return { settings: size, evaluated, trainings: o.archs * (1 + evaluated), meanFlops: mean, minFlops: min, maxFlops: max }
}
