// Predictor-based NAS with efficient sampling, Mauch et al., "Efficient Sampling for
// Predictor-Based Neural Architecture Search" (Alg. 1 and 2, §3): the GCN ranking predictor
// (lib/models/rank-gcn.ts) in an iterative loop —
//   T₀ = `initial` random architectures, evaluated; then until the budget is spent: train f on
//   everything evaluated (pairwise cross-entropy), build a candidate pool S′ that never holds
//   an evaluated architecture, score it, evaluate the best K.
// Pools (settings.sampler):
//   whole   — every unevaluated architecture (the paper's N′ = |S|; "pb-whole");
//   uniform — N′ unevaluated architectures uniformly without replacement;
//   ml      — N′ starts of gradient ascent on f over continuous shadows of the architecture
//             (NB-201: per-edge op logits, 'none' removes the edge's vertex), forward with
//             the argmax architecture, straight-through gradients (Eq. 8–9); per start the best
//             iterate not yet evaluated is kept; duplicates dropped;
//   ev      — Alg. 2: the P best evaluated (true validation) are parents; while |S′| < N′,
//             draw A₁, A₂ from them; a mutant of A₁ while |S′| < αN′, else crossover(A₁, A₂);
//             invalid, evaluated or duplicate children are drawn again.
// A pool shorter than needed (after 20·N′ draws for ev) is topped up uniformly; the loop records it.
// Every random draw comes from Random(seed, stream(t, purpose)), so a run is a pure function
// of its seed and settings. Choices the paper leaves open are listed in docs/sampling.md.
// The GCN is trained natively in float64 (gcnTrain), pools are scored by gcnScore (float32,
// norm 'row', pool 'all') and the ML sampler's input gradients come from gcnScoreGrad; the
// JS RankGcn is their tested reference (no JS fallback: the addon ships prebuilt).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Random } from '../random'
import { writeFileAtomic } from '../experiments/results'
import { removeRunCheckpoint } from './harness'
import { RankGcn, fitNative, inputGradientNative, scoreNative, type RankGcnOptions } from '../models/rank-gcn'
import type { GraphBatch } from '../models/types'
import { gcnGraphsHold, HeldGraphBatch } from '../models/gcn-native'
import { nb101GraphBatch, nb201GraphBatch } from '../encode/graph'
import { NB201_DAG_LINKS, NB201_SIZE } from '../spaces/nb201'
import * as nb101 from '../spaces/nb101'
import type { Bench } from '../bench/bench'
import { Oracle } from './oracle'
import { intSetting, numberSetting, readSettings } from './settings'
import { oneOf, describe } from '../validate'
import type { SearchMethod, SearchRun, SearchTrajectory } from './types'

export const SAMPLERS = ['whole', 'uniform', 'ml', 'ev'] as const
export type Sampler = typeof SAMPLERS[number]

/** The predictor loop's settings; the GCN's (width, layers, epochs, lr, momentum, ties) are RankGcn's, same defaults. */
export interface SamplingSettings extends RankGcnOptions {
  /** Candidate pool: 'whole' (default), 'uniform', 'ml' or 'ev'. */
  sampler?: Sampler
  /** Pool size N′ of uniform, ml and ev (default 100); ignored by whole. */
  pool?: number
  /** Random architectures evaluated first, T₀ (default 4). */
  initial?: number
  /** Architectures evaluated per iteration, K (default 4). */
  k?: number
  /** Keep training the previous iteration's model instead of re-initialising it (default false). */
  warmStart?: boolean
  /** ML sampler: Adam steps (default 50) and learning rate (0.05). */
  mlSteps?: number
  mlLr?: number
  /** Evolutionary sampler: parents P (default 10), mutant fraction α (0.5), per-bit mutation probability (0.05). */
  parents?: number
  alpha?: number
  pMutate?: number
}

export type ResolvedSamplingSettings = Readonly<Required<SamplingSettings>>

const KEYS = ['sampler', 'pool', 'initial', 'k', 'width', 'layers', 'epochs', 'lr', 'momentum', 'ties', 'warmStart', 'mlSteps', 'mlLr', 'parents', 'alpha', 'pMutate'] as const

/** Validates settings and fills the paper's defaults (the paper's where given, ours where not: docs/sampling.md). */
export function samplingSettings (settings?: SamplingSettings): ResolvedSamplingSettings {
  const fn = 'sampling'
  const s = readSettings<SamplingSettings>(settings, fn, KEYS)
  if (s.warmStart !== undefined && typeof s.warmStart !== 'boolean') throw new TypeError(`${fn}: settings.warmStart must be a boolean, got ${describe(s.warmStart)}`)
  const alpha = s.alpha ?? 0.5
  if (typeof alpha !== 'number' || !(alpha >= 0 && alpha <= 1)) throw new RangeError(`${fn}: settings.alpha must be a number in [0, 1], got ${describe(s.alpha)}`)
  const momentum = s.momentum ?? 0.9
  if (typeof momentum !== 'number' || !(momentum >= 0 && momentum < 1)) throw new RangeError(`${fn}: settings.momentum must be a number in [0, 1), got ${describe(s.momentum)}`)
  const k = intSetting(s.k, 4, fn, 'k', 1)
  return Object.freeze({
    sampler: oneOf(s.sampler, 'whole', SAMPLERS, fn, 'settings.sampler'),
    pool: intSetting(s.pool, 100, fn, 'pool', k),
    initial: intSetting(s.initial, 4, fn, 'initial', 2),
    k,
    width: intSetting(s.width, 256, fn, 'width', 1),
    layers: intSetting(s.layers, 3, fn, 'layers', 1),
    epochs: intSetting(s.epochs, 2000, fn, 'epochs', 0),
    lr: numberSetting(s.lr, 0.01, fn, 'lr', 0),
    momentum,
    ties: oneOf(s.ties, 'positive', ['positive', 'ignore'] as const, fn, 'settings.ties'),
    warmStart: s.warmStart ?? false,
    mlSteps: intSetting(s.mlSteps, 50, fn, 'mlSteps', 1),
    mlLr: numberSetting(s.mlLr, 0.05, fn, 'mlLr', 0),
    parents: intSetting(s.parents, 10, fn, 'parents', 1),
    alpha,
    pMutate: numberSetting(s.pMutate, 0.05, fn, 'pMutate', 0, 1)
  })
}

/** What one iteration did (for the gain's S′ and for the record). */
export interface SamplingIteration {
  t: number
  /** The pool S′_t (bench rows; for 'whole', omitted: every unevaluated row). */
  pool?: Int32Array
  poolSize: number
  /** Rows added uniformly because the sampler came up short. */
  toppedUp: number
  /** The rows evaluated this iteration, C_t (the top of S′_t by score). */
  chosen: Int32Array
  /** Final training loss. */
  loss: number
}

export interface SamplingObserver {
  iteration?: (it: SamplingIteration) => void
}

// Random streams: stream(t, purpose).
const P_INIT = 0; const P_POOL = 1; const P_TOPUP = 2; const P_START = 3
function stream (t: number, purpose: number): number { return t * 8 + purpose }

/** The predictor loop as a search method ('sampling'). */
export function sampling (settings?: SamplingSettings): SearchMethod {
  const resolved = samplingSettings(settings)
  return Object.freeze({
    name: 'sampling',
    settings: resolved,
    run: async (run: SearchRun): Promise<SearchTrajectory> => await samplingLoop(run, resolved)
  })
}

/** The graphs of every bench row (cached per bench). */
const GRAPHS = new WeakMap<Bench, GraphBatch>()
export function benchGraphs (bench: Bench): GraphBatch {
  let g = GRAPHS.get(bench)
  if (g === undefined) {
    g = bench.space === 'nb201' ? nb201GraphBatch(bench.archs as Uint8Array) : nb101GraphBatch(bench.archs as nb101.Nb101Cells)
    GRAPHS.set(bench, g)
  }
  return g
}

/**
 * The graphs of every bench row, checked and copied into native memory once (cached per
 * bench; pb-whole scores all of them every iteration, and checking and copying the 423,624
 * NB-101 cells per call cost as much as the scoring).
 */
const HELD = new WeakMap<Bench, HeldGraphBatch>()
export function benchGraphsHeld (bench: Bench): HeldGraphBatch {
  let h = HELD.get(bench)
  if (h === undefined) {
    h = gcnGraphsHold(benchGraphs(bench))
    HELD.set(bench, h)
  }
  return h
}

/**
 * Per-iteration checkpoint of one run: `file` holds the evaluated rows in order and the last
 * finished iteration (written atomically after every iteration); `file + '.pools.jsonl'` one
 * line per iteration (S′ ids, the chosen rows, top-ups, loss), appended before the main file,
 * so a torn last line belongs to an iteration the main file does not count and is dropped.
 * A run with the same `key` (seed, budget, settings, bench) resumes from it and, since every
 * draw comes from Random(seed, stream(t, purpose)), ends with the rows and iterations of an
 * uninterrupted run. With warmStart the main file also holds the model after the last finished
 * iteration (its weights' float64 bits, base64), the only state the next iteration takes
 * from the previous ones (momentum restarts at zero in every iteration's training), so a
 * resumed warm-start run is bit for bit an uninterrupted one too.
 */
export interface SamplingCheckpoint {
  file: string
}

interface CheckpointState { t: number, rows: number[], iterations: SamplingIteration[], model?: SavedModel }

/** A RankGcn's weights in a checkpoint: each array's float64 bits (little-endian), base64. */
interface SavedModel { w: string[], fc: string }

function f64Base64 (a: Float64Array): string {
  const bytes = new Uint8Array(a.length * 8)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < a.length; i++) view.setFloat64(i * 8, a[i], true)
  return Buffer.from(bytes).toString('base64')
}

/** Fills `into` from f64Base64 text; false when the text does not hold exactly into.length finite values. */
function base64F64 (text: unknown, into: Float64Array): boolean {
  if (typeof text !== 'string') return false
  const bytes = Buffer.from(text, 'base64')
  if (bytes.length !== into.length * 8) return false
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  for (let i = 0; i < into.length; i++) {
    const v = view.getFloat64(i * 8, true)
    if (!Number.isFinite(v)) return false
    into[i] = v
  }
  return true
}

function saveModel (model: RankGcn): SavedModel {
  return { w: model.w.map(f64Base64), fc: f64Base64(model.fc) }
}

/** The saved weights into `model` (of the run's settings); false when they do not fit it. */
function restoreModel (saved: SavedModel | undefined, model: RankGcn): boolean {
  if (saved === undefined || saved === null || typeof saved !== 'object' || !Array.isArray(saved.w) || saved.w.length !== model.w.length) return false
  return model.w.every((w, l) => base64F64(saved.w[l], w)) && base64F64(saved.fc, model.fc)
}

function checkpointKey (run: SearchRun, s: ResolvedSamplingSettings): string {
  return JSON.stringify({ v: 1, seed: run.seed, budget: run.budget, bench: run.bench.uri, size: run.bench.size, metric: run.metric ?? null, settings: Object.keys(s).sort().map(k => [k, (s as Record<string, unknown>)[k]]) })
}

/** Reads a checkpoint; null when there is none or it belongs to other settings. Drops a torn tail of the side file. */
export function readCheckpoint (file: string, key: string): CheckpointState | null {
  let main: { key?: unknown, t?: unknown, rows?: unknown, model?: unknown }
  try { main = JSON.parse(fs.readFileSync(file, 'utf8')) } catch { return null }
  if (main.key !== key || typeof main.t !== 'number' || !Array.isArray(main.rows)) return null
  const t = main.t
  const iterations: SamplingIteration[] = []
  let text = ''
  try { text = fs.readFileSync(`${file}.pools.jsonl`, 'utf8') } catch { if (t > 0) return null }
  for (const line of text.split('\n')) {
    if (iterations.length === t) break
    let it: { t: number, pool?: number[], poolSize: number, toppedUp: number, chosen: number[], loss: number | null }
    try { it = JSON.parse(line) } catch { break } // the torn tail
    if (it.t !== iterations.length + 1) break
    iterations.push({ t: it.t, ...(it.pool !== undefined ? { pool: Int32Array.from(it.pool) } : {}), poolSize: it.poolSize, toppedUp: it.toppedUp, chosen: Int32Array.from(it.chosen), loss: it.loss ?? NaN })
  }
  if (iterations.length !== t) return null
  return { t, rows: main.rows as number[], iterations, ...(main.model !== undefined ? { model: main.model as SavedModel } : {}) }
}

/** Removes a run's checkpoint files (once its rows are stored): removeRunCheckpoint of the harness. */
export const removeCheckpoint = removeRunCheckpoint

function saveIteration (file: string, key: string, it: SamplingIteration | null, rows: readonly number[], t: number, model?: RankGcn): void {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  if (it === null) fs.writeFileSync(`${file}.pools.jsonl`, '')
  else {
    const line = JSON.stringify({ t: it.t, ...(it.pool !== undefined ? { pool: Array.from(it.pool) } : {}), poolSize: it.poolSize, toppedUp: it.toppedUp, chosen: Array.from(it.chosen), loss: Number.isFinite(it.loss) ? it.loss : null })
    const fd = fs.openSync(`${file}.pools.jsonl`, 'a')
    try { fs.writeSync(fd, line + '\n'); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  }
  writeFileAtomic(file, JSON.stringify({ key, t, rows, ...(model !== undefined ? { model: saveModel(model) } : {}) }))
}

/**
 * Alg. 1 on a search run, with the resolved settings; `observer` sees each iteration;
 * `checkpoint` (default: the run's SearchRun.checkpoint file) saves and resumes each iteration.
 */
export async function samplingLoop (run: SearchRun, s: ResolvedSamplingSettings, observer?: SamplingObserver, checkpoint?: SamplingCheckpoint): Promise<SearchTrajectory> {
  const oracle = new Oracle(run)
  const bench = run.bench
  if (s.sampler !== 'whole' && s.pool >= bench.size) throw new RangeError(`sampling: settings.pool = ${s.pool} must be below the size of the space (${bench.size}); use sampler 'whole' for all of it`)
  const graphs = benchGraphs(bench)
  const ckFile = checkpoint?.file ?? run.checkpoint ?? null
  const key = ckFile !== null ? checkpointKey(run, s) : ''
  const newModel = (): RankGcn => new RankGcn(graphs.vertices, graphs.features, { width: s.width, layers: s.layers, epochs: s.epochs, lr: s.lr, momentum: s.momentum, ties: s.ties })
  let model: RankGcn | null = null
  let resumed = ckFile !== null ? readCheckpoint(ckFile, key) : null
  if (resumed !== null && s.warmStart && resumed.t > 0) {
    // The model the next iteration goes on training; a checkpoint without it (or torn) restarts the run.
    model = newModel()
    if (!restoreModel(resumed.model, model)) { model = null; resumed = null }
  }
  let t0 = 1
  if (resumed !== null) {
    // Replays the saved evaluations (they count as the run's queries, as they did) and iterations.
    for (const row of resumed.rows) oracle.query(row)
    for (const it of resumed.iterations) observer?.iteration?.(it)
    t0 = resumed.t + 1
  } else {
    const init = new Random(run.seed, stream(0, P_POOL))
    while (oracle.count < s.initial && !oracle.done) oracle.query(oracle.randomUnqueried(init))
    if (ckFile !== null) saveIteration(ckFile, key, null, oracle.queried().rows, 0)
  }
  for (let t = t0; !oracle.done; t++) {
    const { rows, values } = oracle.queried()
    if (model === null || !s.warmStart) {
      model = newModel()
      model.init(new Random(run.seed, stream(t, P_INIT)))
    }
    // The evaluated graphs gathered first: gcnTrainAsync copies and validates the batch it is
    // given, and the whole space (423,624 NB-101 cells) each iteration cost more than training.
    const trained = gatherGraphs(graphs, rows)
    const losses = await fitNative(model, trained, values, Int32Array.from(rows, (_, i) => i), { signal: run.signal, label: ` (seed ${run.seed}, iteration ${t})` })
    await yieldToEventLoop(run.signal)
    const want = Math.min(s.k, oracle.budget - oracle.count)
    const random = new Random(run.seed, stream(t, P_POOL))
    let pool: Int32Array
    if (s.sampler === 'whole') pool = unevaluated(oracle, bench.size)
    else if (s.sampler === 'uniform') pool = uniformPool(oracle, bench.size, s.pool, random)
    else if (s.sampler === 'ml') {
      pool = bench.space === 'nb201'
        ? mlPool(model, oracle, s.pool, s.mlSteps, s.mlLr, new Random(run.seed, stream(t, P_START)))
        : await mlPool101(model, oracle, s.pool, s.mlSteps, s.mlLr, new Random(run.seed, stream(t, P_START)))
    } else pool = evolutionaryPool(bench, oracle, s.pool, s.parents, s.alpha, s.pMutate, random)
    let toppedUp = 0
    if (pool.length < want) {
      const extra = new Random(run.seed, stream(t, P_TOPUP))
      const inPool = new Set(pool)
      const list = Array.from(pool)
      while (list.length < want) {
        const r = oracle.randomUnqueried(extra)
        if (!inPool.has(r)) { inPool.add(r); list.push(r); toppedUp++ }
      }
      pool = Int32Array.from(list)
    }
    // Scores of S′ only (a graph's score does not depend on the batch it is in: whole = every row).
    let scores: Float64Array
    if (s.sampler === 'whole') { const all = await scoreNative(model, benchGraphsHeld(bench)); scores = Float64Array.from(pool, r => all[r]) } else scores = await scoreNative(model, gatherGraphs(graphs, pool))
    const chosen = topK(pool, scores, want)
    for (const row of chosen) oracle.query(row)
    const it: SamplingIteration = { t, ...(s.sampler === 'whole' ? {} : { pool }), poolSize: pool.length, toppedUp, chosen, loss: losses.length > 0 ? losses[losses.length - 1] : NaN }
    if (ckFile !== null) saveIteration(ckFile, key, it, oracle.queried().rows, t, s.warmStart ? model : undefined)
    observer?.iteration?.(it)
    await yieldToEventLoop(run.signal)
  }
  return oracle.trajectory()
}

/** The graphs of `rows` of a batch, in that order. */
export function gatherGraphs (g: GraphBatch, rows: ArrayLike<number>): GraphBatch {
  const V = g.vertices; const F = g.features; const n = rows.length
  const out: GraphBatch = { count: n, vertices: V, features: F, adjacency: new Float32Array(n * V * V), x: new Float32Array(n * V * F), mask: new Float32Array(n * V) }
  for (let i = 0; i < n; i++) {
    const r = rows[i]
    out.adjacency.set(g.adjacency.subarray(r * V * V, (r + 1) * V * V), i * V * V)
    out.x.set(g.x.subarray(r * V * F, (r + 1) * V * F), i * V * F)
    out.mask.set(g.mask.subarray(r * V, (r + 1) * V), i * V)
  }
  return out
}

/** The k rows of `pool` with the highest scores (ties: earlier pool position first), in that order. */
export function topK (pool: ArrayLike<number>, scores: ArrayLike<number>, k: number): Int32Array {
  const order = Array.from({ length: pool.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b)
  return Int32Array.from(order.slice(0, k), i => pool[i])
}

function unevaluated (oracle: Oracle, size: number): Int32Array {
  const out = new Int32Array(size - oracle.count)
  let k = 0
  for (let r = 0; r < size; r++) if (!oracle.has(r)) out[k++] = r
  return out
}

/** N′ unevaluated rows uniformly without replacement (partial Fisher–Yates over the unevaluated rows). */
export function uniformPool (oracle: Oracle, size: number, n: number, random: Random): Int32Array {
  const rest = unevaluated(oracle, size)
  const m = Math.min(n, rest.length)
  for (let i = 0; i < m; i++) {
    const j = i + random.int(rest.length - i)
    const tmp = rest[i]; rest[i] = rest[j]; rest[j] = tmp
  }
  return rest.slice(0, m)
}

// ---- NB-201 rows by op index ------------------------------------------------------------

const POW5 = [3125, 625, 125, 25, 5, 1]
const NB201_INDEX = new WeakMap<Bench, { rowByIndex: Int32Array }>()
function nb201Rows (bench: Bench): Int32Array {
  let e = NB201_INDEX.get(bench)
  if (e === undefined) {
    const ops = bench.archs as Uint8Array
    const rowByIndex = new Int32Array(NB201_SIZE).fill(-1)
    for (let row = 0; row < bench.size; row++) {
      let i = 0
      for (let k = 0; k < 6; k++) i += ops[6 * row + k] * POW5[k]
      rowByIndex[i] = row
    }
    e = { rowByIndex }
    NB201_INDEX.set(bench, e)
  }
  return e.rowByIndex
}

// ---- ML sampler (NB-201) ----------------------------------------------------------------

/**
 * Straight-through gradient of f with respect to per-edge op logits θ[e][o] (6 × 5) at the
 * argmax architecture `ops`: ∂f/∂θ[e][o] = ∂f/∂X[e+1][o] for an op o ≥ 1 (the one-hot feature
 * of the edge's vertex) and, for o = none, −Σ ∂f/∂A over the links of the edge's vertex whose
 * other end is present (choosing none removes them). `dA` (64) and `dX` (48) are one graph's
 * input gradients (gcnScoreGrad, or RankGcn.inputGradient).
 */
export function nb201StraightThrough (ops: ArrayLike<number>, dA: ArrayLike<number>, dX: ArrayLike<number>, out: Float64Array, offset = 0): void {
  for (let e = 0; e < 6; e++) {
    const v = e + 1
    for (let o = 1; o < 5; o++) out[offset + e * 5 + o] = dX[v * 6 + o]
    let g = 0
    for (const [from, to] of NB201_DAG_LINKS) {
      if (from !== v && to !== v) continue
      const other = from === v ? to : from
      const present = other === 0 || other === 7 || ops[other - 1] !== 0
      if (present) g += dA[from * 8 + to]
    }
    out[offset + e * 5] = -g
  }
}

/** What the NB-201 ML pool ascends: f and ∂f/∂A, ∂f/∂X (V×V and V×F per graph) of a GraphBatch; a RankGcn is one, any differentiable f another. */
export interface DifferentiableScorer {
  scoreGrad: (batch: GraphBatch) => { f: ArrayLike<number>, dA: Float64Array, dX: Float64Array }
}

/**
 * ML pool (Eq. 8–9) on NB-201: `n` starts θ ~ U(−1, 1)^(6×5), `steps` Adam ascent steps of f at
 * learning rate `lr` with straight-through gradients; per start, the best-scoring argmax
 * architecture met (before or after any step) that is not evaluated; duplicates dropped.
 */
export function mlPool (model: RankGcn | DifferentiableScorer, oracle: Oracle, n: number, steps: number, lr: number, starts: Random): Int32Array {
  const scoreGrad = model instanceof RankGcn ? (b: GraphBatch) => inputGradientNative(model, b) : model.scoreGrad
  const bench = oracle.run.bench
  const rowByIndex = nb201Rows(bench)
  const theta = new Float64Array(n * 30)
  for (let k = 0; k < theta.length; k++) theta[k] = 2 * starts.float() - 1
  const m = new Float64Array(n * 30)
  const v = new Float64Array(n * 30)
  const grad = new Float64Array(n * 30)
  const bestRow = new Int32Array(n).fill(-1)
  const bestF = new Float64Array(n).fill(-Infinity)
  const ops = new Uint8Array(n * 6)
  for (let step = 0; step <= steps; step++) {
    for (let s = 0; s < n; s++) {
      for (let e = 0; e < 6; e++) {
        let best = 0
        for (let o = 1; o < 5; o++) if (theta[s * 30 + e * 5 + o] > theta[s * 30 + e * 5 + best]) best = o
        ops[s * 6 + e] = best
      }
    }
    const batch = nb201GraphBatch(ops)
    const last = step === steps
    const { f, dA, dX } = scoreGrad(batch)
    for (let s = 0; s < n; s++) {
      let idx = 0
      for (let e = 0; e < 6; e++) idx += ops[s * 6 + e] * POW5[e]
      const row = rowByIndex[idx]
      if (row >= 0 && !oracle.has(row) && f[s] > bestF[s]) { bestF[s] = f[s]; bestRow[s] = row }
    }
    if (last) break
    for (let s = 0; s < n; s++) nb201StraightThrough(ops.subarray(s * 6, s * 6 + 6), dA.subarray(s * 64, s * 64 + 64), dX.subarray(s * 48, s * 48 + 48), grad, s * 30)
    adamAscent(theta, m, v, grad, step + 1, lr)
  }
  return distinctRows(bestRow)
}

/** One Adam step (β 0.9 / 0.999, ε 1e-8) of gradient *ascent* on θ at step t ≥ 1 (the ML pools' optimiser). */
function adamAscent (theta: Float64Array, m: Float64Array, v: Float64Array, grad: Float64Array, t: number, lr: number): void {
  const b1 = 0.9; const b2 = 0.999; const eps = 1e-8
  const c1 = 1 - Math.pow(b1, t); const c2 = 1 - Math.pow(b2, t)
  for (let k = 0; k < theta.length; k++) {
    m[k] = b1 * m[k] + (1 - b1) * grad[k]
    v[k] = b2 * v[k] + (1 - b2) * grad[k] * grad[k]
    theta[k] += lr * (m[k] / c1) / (Math.sqrt(v[k] / c2) + eps)
  }
}

/** The rows of `best` that are set (≥ 0), first occurrences only, in order. */
function distinctRows (best: Int32Array): Int32Array {
  const seen = new Set<number>()
  const out: number[] = []
  for (const row of best) if (row >= 0 && !seen.has(row)) { seen.add(row); out.push(row) }
  return Int32Array.from(out)
}

// ---- ML sampler (NB-101) ----------------------------------------------------------------

// Bit k of the 21 upper-triangle logits ↔ edge (i, j), i < j (nb101's packed order).
const EDGE_I = new Uint8Array(21)
const EDGE_J = new Uint8Array(21)
for (let i = 0, k = 0; i < 7; i++) for (let j = i + 1; j < 7; j++, k++) { EDGE_I[k] = i; EDGE_J[k] = j }
/** NB-101 ML logits per start: 21 edges, then 5 interior vertices × 3 ops (conv1x1, conv3x3, maxpool: op codes 1..3). */
export const NB101_THETA = 36

/**
 * The forward architecture of NB-101 logits θ (36 per start): edge i → j present iff its logit
 * > 0, interior vertex v's op the argmax of its 3 logits; written as the raw (unpruned) 7-vertex
 * graph (A, one-hot X with input / output at vertices 0 / 6) into `batch` at graph `g`, and
 * returned as bits + op codes.
 */
export function nb101Forward (theta: ArrayLike<number>, offset: number, batch: GraphBatch, g: number): { bits: number, ops: Uint8Array } {
  let bits = 0
  const ops = new Uint8Array(7)
  ops[0] = 0; ops[6] = 4
  const A = batch.adjacency; const X = batch.x
  A.fill(0, g * 49, g * 49 + 49); X.fill(0, g * 35, g * 35 + 35)
  for (let k = 0; k < 21; k++) if (theta[offset + k] > 0) { bits |= 1 << k; A[g * 49 + EDGE_I[k] * 7 + EDGE_J[k]] = 1 }
  for (let v = 1; v <= 5; v++) {
    const b = offset + 21 + (v - 1) * 3
    let best = 0
    for (let o = 1; o < 3; o++) if (theta[b + o] > theta[b + best]) best = o
    ops[v] = 1 + best
  }
  for (let v = 0; v < 7; v++) { X[g * 35 + v * 5 + ops[v]] = 1; batch.mask[g * 7 + v] = 1 }
  return { bits, ops }
}

/**
 * Straight-through gradient of f with respect to the 36 NB-101 logits at the forward graph:
 * ∂f/∂θ_edge(i,j) = ∂f/∂A[i][j] and ∂f/∂θ[v][o] = ∂f/∂X[v][1 + o] — the gradient of f at the
 * relaxed input (A and X continuous), passed through the threshold and the argmax unchanged.
 */
export function nb101StraightThrough (dA: ArrayLike<number>, dX: ArrayLike<number>, out: Float64Array, offset = 0): void {
  for (let k = 0; k < 21; k++) out[offset + k] = dA[EDGE_I[k] * 7 + EDGE_J[k]]
  for (let v = 1; v <= 5; v++) for (let o = 0; o < 3; o++) out[offset + 21 + (v - 1) * 3 + o] = dX[v * 5 + 1 + o]
}

/** The bench row of a raw NB-101 graph (bits over 7 vertices, op codes), or −1 when invalid (spec rules, > 9 edges) or not in the bench. */
function nb101RowOf (bench: Bench, bits: number, ops: Uint8Array, memo: Map<number, number>): number {
  let full = bits
  for (let v = 1; v <= 5; v++) full = full * 4 + ops[v]
  const known = memo.get(full)
  if (known !== undefined) return known
  const matrix = Array.from({ length: 7 }, () => new Array<number>(7).fill(0))
  for (let k = 0; k < 21; k++) if ((bits >>> k) & 1) matrix[EDGE_I[k]][EDGE_J[k]] = 1
  const c = nb101.check(matrix, Array.from(ops, o => nb101.OPS[o]))
  let row = -1
  if (c.valid) { try { row = bench.rowOf(c.hash) } catch { row = -1 } }
  memo.set(full, row)
  return row
}

/**
 * ML pool (Eq. 8–9) on NB-101: `n` starts θ ~ U(−1, 1)^36 (21 edge logits, 5 × 3 op logits),
 * `steps` Adam ascent steps on f with straight-through gradients (gcnScoreGrad at the forward
 * graph: thresholded A, argmax ops, unpruned); per start, the valid iterate (nb101.spec accepts
 * it, ≤ 9 edges after pruning, its hash in the bench, not evaluated) with the highest score of
 * its pruned cell (gcnScore of the bench's graph, as the pool is ranked) is kept, as its bench
 * row; duplicates dropped.
 */
export async function mlPool101 (model: RankGcn, oracle: Oracle, n: number, steps: number, lr: number, starts: Random): Promise<Int32Array> {
  const graphs = benchGraphs(oracle.run.bench)
  const bench = oracle.run.bench
  const P = NB101_THETA
  const theta = new Float64Array(n * P)
  for (let k = 0; k < theta.length; k++) theta[k] = 2 * starts.float() - 1
  const m = new Float64Array(n * P)
  const v = new Float64Array(n * P)
  const grad = new Float64Array(n * P)
  const bestRow = new Int32Array(n).fill(-1)
  const bestF = new Float64Array(n).fill(-Infinity)
  const batch: GraphBatch = { count: n, vertices: 7, features: 5, adjacency: new Float32Array(n * 49), x: new Float32Array(n * 35), mask: new Float32Array(n * 7) }
  const memo = new Map<number, number>()
  for (let step = 0; step <= steps; step++) {
    const rowAt = new Int32Array(n)
    for (let s = 0; s < n; s++) {
      const { bits, ops } = nb101Forward(theta, s * P, batch, s)
      rowAt[s] = nb101RowOf(bench, bits, ops, memo)
    }
    const valid = Array.from(rowAt).filter(r => r >= 0 && !oracle.has(r))
    if (valid.length > 0) {
      const scores = await scoreNative(model, gatherGraphs(graphs, valid))
      for (let s = 0, k = 0; s < n; s++) {
        const row = rowAt[s]
        if (row < 0 || oracle.has(row)) continue
        const score = scores[k++]
        if (score > bestF[s]) { bestF[s] = score; bestRow[s] = row }
      }
    }
    if (step === steps) break
    const { dA, dX } = inputGradientNative(model, batch)
    for (let s = 0; s < n; s++) nb101StraightThrough(dA.subarray(s * 49, s * 49 + 49), dX.subarray(s * 35, s * 35 + 35), grad, s * P)
    adamAscent(theta, m, v, grad, step + 1, lr)
  }
  return distinctRows(bestRow)
}

// ---- evolutionary sampler (Alg. 2) ---------------------------------------------------------

/** A mutant of a NB-201 row: each edge, with probability p, gets one of the four other ops uniformly (-1 if the bench lacks it). */
function nb201Mutate (bench: Bench, row: number, p: number, random: Random): number {
  const ops = bench.archs as Uint8Array
  let idx = 0
  for (let e = 0; e < 6; e++) {
    let op = ops[6 * row + e]
    if (random.float() < p) op = (op + 1 + random.int(4)) % 5
    idx += op * POW5[e]
  }
  return nb201Rows(bench)[idx]
}

/** Uniform crossover of two NB-201 rows: each edge's op from either parent with probability ½. */
function nb201Crossover (bench: Bench, a: number, b: number, random: Random): number {
  const ops = bench.archs as Uint8Array
  let idx = 0
  for (let e = 0; e < 6; e++) idx += (random.float() < 0.5 ? ops[6 * a + e] : ops[6 * b + e]) * POW5[e]
  return nb201Rows(bench)[idx]
}

/** The bench row of a NB-101 spec, -1 if the bench lacks it; `memo` (keyed by the raw matrix and ops) skips the hash of a spec met before. */
function rowOf101 (bench: Bench, spec: nb101.Nb101Spec, memo?: Map<string, number>): number {
  const key = memo === undefined ? '' : `${spec.ops.join(',')}|${spec.matrix.map(r => r.join('')).join('')}`
  const known = memo?.get(key)
  if (known !== undefined) return known
  let row: number
  try { row = bench.rowOf(spec) } catch { row = -1 }
  memo?.set(key, row)
  return row
}

/**
 * Alg. 2: parents are the `parents` best evaluated rows (true searched value, ties by query
 * order); while |S′| < n: A₁, A₂ uniform among the parents; mutate(A₁) while |S′| < αn, else
 * crossover(A₁, A₂); a child that is invalid, not in the bench, evaluated or already in S′ is
 * drawn again. Stops after 20·n draws (the loop tops the pool up). NB-201: per-edge mutation
 * with probability pMutate; NB-101: nb101.mutate with per-bit probabilities (each of the 21 edge
 * bits flips, and each interior op changes, with probability pMutate) and nb101.crossover.
 */
export function evolutionaryPool (bench: Bench, oracle: Oracle, n: number, parents: number, alpha: number, pMutate: number, random: Random): Int32Array {
  const { rows, values } = oracle.queried()
  const order = rows.map((_, i) => i).sort((a, b) => values[b] - values[a] || a - b).slice(0, parents).map(i => rows[i])
  const cells = bench.space === 'nb101' ? bench.archs as nb101.Nb101Cells : null
  const pool: number[] = []
  const inPool = new Set<number>()
  const mutants = Math.ceil(alpha * n)
  const memo = new Map<string, number>() // children repeat often (few parents, small p_mutate)
  for (let draws = 0; pool.length < n && draws < 20 * n; draws++) {
    const a = order[random.int(order.length)]
    const b = order[random.int(order.length)]
    let child: number
    if (pool.length < mutants) {
      if (cells === null) child = nb201Mutate(bench, a, pMutate, random)
      else {
        try { child = rowOf101(bench, nb101.mutate(nb101.cellAt(cells, a), random, { edgeProbability: pMutate, opProbability: pMutate }), memo) } catch { child = -1 }
      }
    } else if (cells === null) child = nb201Crossover(bench, a, b, random)
    else {
      try { child = rowOf101(bench, nb101.crossover(nb101.cellAt(cells, a), nb101.cellAt(cells, b), random), memo) } catch { child = -1 }
    }
    if (child < 0 || oracle.has(child) || inPool.has(child)) continue
    inPool.add(child)
    pool.push(child)
  }
  return Int32Array.from(pool)
}

async function yieldToEventLoop (signal?: AbortSignal): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
  if (signal?.aborted === true) throw signal.reason ?? new Error('search aborted')
}
