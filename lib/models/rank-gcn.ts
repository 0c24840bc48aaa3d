// The GCN ranking predictor of Mauch et al., "Efficient Sampling for Predictor-Based Neural
// Architecture Search" (§3.1, §5), in plain Float64Arrays (forward, backward, input
// gradients, the pairwise cross-entropy of Eq. 5–7 and its SGD trainer):
//   - layers: X_g = ReLU(D̃^-½ Ã X_{g-1} W_g), Ã = A + I, D̃ = diag(Ã1) — normalised on the
//     left only (the paper's footnote 2), no bias; A is directed (A_ij = 1 when i feeds j)
//     and used as given;
//   - readout: the mean over all L rows (padding included, Eq. 4), then FC width→1 (no bias:
//     the pairwise loss only sees score differences, so a bias never gets a gradient);
//   - loss: mean over ordered pairs i ≠ j of −ln p, p(y = 1) = σ(f_i − f_j), y = 1 iff
//     acc_i ≥ acc_j (ties: y = 1 in both orders, or dropped with ties: 'ignore');
//   - training: full batch SGD, momentum 0.9 (PyTorch form v ← μv + g, w ← w − η v), lr 0.01
//     with a cosine schedule by step to 0, Glorot-uniform initialisation (not given in the paper).
// Not the model of lib/models/gcn.ts (symmetric normalisation, biases, mean over real
// vertices): this one is the paper's. Hand-written because at these sizes (L ≤ 8, n ≤ a few
// hundred graphs, 2000 full-batch steps) tfjs per-op overhead dominates.
import { Random } from '../random'
import { checkOptions, describe, oneOf } from '../validate'
import { gcnScoreAsync, gcnScoreGrad, gcnTrainAsync, type GcnScoreGradOptions, type HeldGraphBatch, type RankGcnParams } from './gcn-native'
import type { GraphBatch } from './types'

export interface RankGcnOptions {
  /** Units of each graph convolution (default 256, the paper's). */
  width?: number
  /** Graph convolutions (default 3). */
  layers?: number
  /** Full-batch training steps (default 2000). */
  epochs?: number
  /** Initial learning rate of the cosine schedule (default 0.01). */
  lr?: number
  /** SGD momentum in [0, 1) (default 0.9). */
  momentum?: number
  /** Tied accuracies: 'positive' (y = 1 in both orders, default) or 'ignore' (pair dropped). */
  ties?: 'positive' | 'ignore'
}

/** Graphs as the model reads them: `count` graphs of V vertices and F features, row-major. */
export interface RankGraphs {
  vertices: number
  features: number
  /** count·V·V directed adjacency (any numeric array). */
  adjacency: ArrayLike<number>
  /** count·V·F vertex features. */
  x: ArrayLike<number>
}

const KEYS = ['width', 'layers', 'epochs', 'lr', 'momentum', 'ties'] as const
/** Graphs per forward chunk when scoring (bounds memory at width 256: ~8 MB per layer). */
const CHUNK = 512

function posInt (v: unknown, fallback: number, name: string, min = 1): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`RankGcn: options.${name} must be an integer >= ${min}, got ${typeof v === 'number' ? v : describe(v)}`)
  return v
}

interface Forward {
  n: number
  /** n·L·L normalised adjacency D̃^-½Ã. */
  norm: Float64Array
  /** Per layer l = 0..layers: H_l (n·L × dims[l]); H_0 = X. */
  h: Float64Array[]
  /** Per layer l = 1..layers: P_l = N H_{l-1} (index l − 1). */
  p: Float64Array[]
  /** n × width readout (mean of H_last over all L rows). */
  r: Float64Array
  f: Float64Array
}

export class RankGcn {
  readonly vertices: number
  readonly features: number
  readonly width: number
  readonly layers: number
  readonly epochs: number
  readonly lr: number
  readonly momentum: number
  readonly ties: 'positive' | 'ignore'
  /** dims[l]: input width of layer l + 1 (dims[0] = F, then width). */
  readonly dims: number[]
  /** Graph-convolution weights, layer l: dims[l] × dims[l+1], row-major. */
  readonly w: Float64Array[]
  /** FC readout weights (width). */
  readonly fc: Float64Array

  constructor (vertices: number, features: number, options?: RankGcnOptions) {
    const o = checkOptions<RankGcnOptions>(options, 'RankGcn', KEYS)
    this.vertices = posInt(vertices, 0, 'vertices (argument)')
    this.features = posInt(features, 0, 'features (argument)')
    this.width = posInt(o.width, 256, 'width')
    this.layers = posInt(o.layers, 3, 'layers')
    this.epochs = posInt(o.epochs, 2000, 'epochs', 0)
    this.lr = o.lr ?? 0.01
    if (typeof this.lr !== 'number' || !Number.isFinite(this.lr) || !(this.lr > 0)) throw new RangeError(`RankGcn: options.lr must be a finite number > 0, got ${describe(o.lr)}`)
    this.momentum = o.momentum ?? 0.9
    if (typeof this.momentum !== 'number' || !(this.momentum >= 0 && this.momentum < 1)) throw new RangeError(`RankGcn: options.momentum must be in [0, 1), got ${describe(o.momentum)}`)
    this.ties = oneOf(o.ties, 'positive', ['positive', 'ignore'] as const, 'RankGcn', 'options.ties')
    this.dims = [this.features, ...Array.from({ length: this.layers }, () => this.width)]
    this.w = Array.from({ length: this.layers }, (_, l) => new Float64Array(this.dims[l] * this.dims[l + 1]))
    this.fc = new Float64Array(this.width)
  }

  /** Glorot-uniform weights from `random` (layer by layer, then the readout). */
  init (random: Random): this {
    for (let l = 0; l < this.layers; l++) glorot(this.w[l], this.dims[l], this.dims[l + 1], random)
    glorot(this.fc, this.width, 1, random)
    return this
  }

  private checkGraphs (g: RankGraphs, fn: string): number {
    if (g === null || typeof g !== 'object') throw new TypeError(`${fn}: graphs must be { vertices, features, adjacency, x }, got ${describe(g)}`)
    if (g.vertices !== this.vertices || g.features !== this.features) {
      throw new RangeError(`${fn}: graphs have V = ${g.vertices}, F = ${g.features} but the model takes V = ${this.vertices}, F = ${this.features}`)
    }
    const L = this.vertices
    const count = g.adjacency.length / (L * L)
    if (!Number.isInteger(count) || g.x.length !== count * L * this.features) {
      throw new RangeError(`${fn}: graphs.adjacency (${g.adjacency.length}) and graphs.x (${g.x.length}) do not hold whole graphs of V = ${L}, F = ${this.features}`)
    }
    return count
  }

  private forward (g: RankGraphs, idx: ArrayLike<number>, from: number, to: number): Forward {
    const L = this.vertices; const F = this.features; const LL = L * L
    const n = to - from
    const norm = new Float64Array(n * LL)
    const x = new Float64Array(n * L * F)
    for (let k = 0; k < n; k++) {
      const gi = idx[from + k]
      const ab = gi * LL; const nb = k * LL
      for (let i = 0; i < L; i++) {
        let d = 1
        for (let j = 0; j < L; j++) {
          const a = g.adjacency[ab + i * L + j] + (i === j ? 1 : 0)
          norm[nb + i * L + j] = a
          d += g.adjacency[ab + i * L + j]
        }
        const s = 1 / Math.sqrt(d)
        for (let j = 0; j < L; j++) norm[nb + i * L + j] *= s
      }
      const xb = gi * L * F
      for (let t = 0; t < L * F; t++) x[k * L * F + t] = g.x[xb + t]
    }
    const h: Float64Array[] = [x]
    const p: Float64Array[] = []
    for (let l = 0; l < this.layers; l++) {
      const din = this.dims[l]; const dout = this.dims[l + 1]
      const P = aggregate(norm, h[l], n, L, din)
      p.push(P)
      const Z = matmul(P, this.w[l], n * L, din, dout)
      for (let t = 0; t < Z.length; t++) if (Z[t] < 0) Z[t] = 0
      h.push(Z)
    }
    const W = this.width
    const H = h[this.layers]
    const r = new Float64Array(n * W)
    const f = new Float64Array(n)
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < L; i++) {
        const hb = (k * L + i) * W
        for (let c = 0; c < W; c++) r[k * W + c] += H[hb + c]
      }
      let s = 0
      for (let c = 0; c < W; c++) { r[k * W + c] /= L; s += r[k * W + c] * this.fc[c] }
      f[k] = s
    }
    return { n, norm, h, p, r, f }
  }

  /**
   * Backward from dL/df. Adds weight gradients into `grads` (when given) and returns
   * dL/dÃ-entries and dL/dX per graph when `inputs` is set.
   */
  private backward (fw: Forward, df: Float64Array, grads: Float64Array[] | null, inputs: boolean): { dA: Float64Array, dX: Float64Array } | null {
    const L = this.vertices; const W = this.width; const n = fw.n; const LL = L * L
    if (grads !== null) {
      const gfc = grads[this.layers]
      for (let k = 0; k < n; k++) for (let c = 0; c < W; c++) gfc[c] += df[k] * fw.r[k * W + c]
    }
    // dH_last[k, i, c] = df_k · fc_c / L
    let dH: Float64Array = new Float64Array(n * L * W)
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < L; i++) {
        const b = (k * L + i) * W
        for (let c = 0; c < W; c++) dH[b + c] = df[k] * this.fc[c] / L
      }
    }
    const dNorm = inputs ? new Float64Array(n * LL) : null
    for (let l = this.layers - 1; l >= 0; l--) {
      const din = this.dims[l]; const dout = this.dims[l + 1]
      const H = fw.h[l + 1]
      for (let t = 0; t < dH.length; t++) if (H[t] <= 0) dH[t] = 0 // ReLU
      const P = fw.p[l]
      if (grads !== null) accumulateAtB(P, dH, grads[l], n * L, din, dout)
      if (l === 0 && !inputs) break
      const dP = matmulBt(dH, this.w[l], n * L, dout, din)
      if (dNorm !== null) {
        // P = N H_{l-1}: dN[k, i, j] += Σ_c dP[k, i, c] H_{l-1}[k, j, c]
        const Hp = fw.h[l]
        for (let k = 0; k < n; k++) {
          for (let i = 0; i < L; i++) {
            const pb = (k * L + i) * din
            for (let j = 0; j < L; j++) {
              const hb = (k * L + j) * din
              let s = 0
              for (let c = 0; c < din; c++) s += dP[pb + c] * Hp[hb + c]
              dNorm[k * LL + i * L + j] += s
            }
          }
        }
      }
      dH = aggregateT(fw.norm, dP, n, L, din)
    }
    if (!inputs || dNorm === null) return null
    // N_ij = Ã_ij / √d_i with d_i = Σ_j Ã_ij: dÃ_ij = dN_ij/√d_i − ½ d_i^{-3/2} Σ_m dN_im Ã_im.
    const dA = new Float64Array(n * LL)
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < L; i++) {
        const b = k * LL + i * L
        // Ã_im = N_im √d_i; Σ_m Ã_im = d_i.
        let d = 0
        for (let m = 0; m < L; m++) d += fw.norm[b + m]
        // Σ_m N_im = d_i/√d_i = √d_i
        const sq = d
        const di = sq * sq
        let s = 0
        for (let m = 0; m < L; m++) s += dNorm[b + m] * fw.norm[b + m] * sq
        for (let j = 0; j < L; j++) dA[b + j] = dNorm[b + j] / sq - 0.5 * s / (di * sq)
      }
    }
    return { dA, dX: dH }
  }

  /** Scores f of the graphs at `indices` (default all), in chunks. */
  score (graphs: RankGraphs, indices?: ArrayLike<number>): Float64Array {
    const count = this.checkGraphs(graphs, 'RankGcn.score')
    const idx = indices ?? identity(count)
    const out = new Float64Array(idx.length)
    for (let from = 0; from < idx.length; from += CHUNK) {
      const to = Math.min(idx.length, from + CHUNK)
      out.set(this.forward(graphs, idx, from, to).f, from)
    }
    return out
  }

  /**
   * Scores and the gradient of each graph's score with respect to its inputs: dA[g, i, j] =
   * ∂f_g/∂A_ij (through Ã and D̃), dX[g, v, c] = ∂f_g/∂X_vc. For the ML sampler's
   * straight-through estimator.
   */
  inputGradient (graphs: RankGraphs, indices?: ArrayLike<number>): { f: Float64Array, dA: Float64Array, dX: Float64Array } {
    const count = this.checkGraphs(graphs, 'RankGcn.inputGradient')
    const idx = indices ?? identity(count)
    const L = this.vertices; const F = this.features
    const f = new Float64Array(idx.length)
    const dA = new Float64Array(idx.length * L * L)
    const dX = new Float64Array(idx.length * L * F)
    for (let from = 0; from < idx.length; from += CHUNK) {
      const to = Math.min(idx.length, from + CHUNK)
      const fw = this.forward(graphs, idx, from, to)
      f.set(fw.f, from)
      const g = this.backward(fw, new Float64Array(to - from).fill(1), null, true)!
      dA.set(g.dA, from * L * L)
      dX.set(g.dX, from * L * F)
    }
    return { f, dA, dX }
  }

  /** The pairwise loss (Eq. 5–7) of the current weights on graphs with accuracies `acc`, and its gradient. */
  lossAndGradient (graphs: RankGraphs, acc: ArrayLike<number>, indices?: ArrayLike<number>): { loss: number, grads: Float64Array[] } {
    const count = this.checkGraphs(graphs, 'RankGcn.lossAndGradient')
    const idx = indices ?? identity(count)
    const fw = this.forward(graphs, idx, 0, idx.length)
    const { loss, grad } = orderedPairLoss(fw.f, acc, this.ties, 'RankGcn')
    const grads = [...this.w.map(w => new Float64Array(w.length)), new Float64Array(this.width)]
    this.backward(fw, grad, grads, false)
    return { loss, grads }
  }

  /**
   * Trains on the graphs at `indices` with accuracies `acc` (higher is better): `epochs`
   * full-batch SGD steps with momentum and the cosine schedule. Returns the loss per step
   * (before each update). A non-finite loss is an error naming the step.
   */
  fit (graphs: RankGraphs, acc: ArrayLike<number>, indices?: ArrayLike<number>, label = ''): Float64Array {
    const count = this.checkGraphs(graphs, 'RankGcn.fit')
    const idx = indices ?? identity(count)
    if (acc.length !== idx.length) throw new RangeError(`RankGcn.fit: acc has ${acc.length} values for ${idx.length} graphs`)
    const velocity = [...this.w.map(w => new Float64Array(w.length)), new Float64Array(this.width)]
    const params = [...this.w, this.fc]
    const losses = new Float64Array(this.epochs)
    for (let t = 0; t < this.epochs; t++) {
      const { loss, grads } = this.lossAndGradient(graphs, acc, idx)
      if (!Number.isFinite(loss)) throw new RangeError(`RankGcn.fit${label}: the loss is ${loss} at epoch ${t}`)
      losses[t] = loss
      const lr = 0.5 * this.lr * (1 + Math.cos(Math.PI * t / this.epochs))
      for (let q = 0; q < params.length; q++) {
        const p = params[q]; const v = velocity[q]; const g = grads[q]
        for (let k = 0; k < p.length; k++) {
          v[k] = this.momentum * v[k] + g[k]
          p[k] -= lr * v[k]
        }
      }
    }
    return losses
  }
}

/**
 * The native float64 path of {@link RankGcn} (native/gcn.cc, same model, same arithmetic up
 * to summation order): training (`gcnTrain`), scoring (`gcnScore` in float32 with
 * norm 'row', pool 'all' and zero biases) and input gradients (`gcnScoreGrad`). The JS
 * methods of RankGcn stay the reference the tests hold these to.
 */
export function rankGcnParams (model: RankGcn): RankGcnParams {
  return { layers: model.w.map(w => ({ w })), fc: model.fc, norm: 'row', pool: 'all' }
}

export interface NativeFitOptions {
  threads?: number
  signal?: AbortSignal
  /** Appended to the error message of a non-finite loss (e.g. the seed and iteration). */
  label?: string
}

/** {@link RankGcn.fit} natively (off the main thread): updates the model's weights, returns the loss per step. */
export async function fitNative (model: RankGcn, graphs: GraphBatch, acc: ArrayLike<number>, indices: ArrayLike<number>, options: NativeFitOptions = {}): Promise<Float64Array> {
  if (acc.length !== indices.length) throw new RangeError(`RankGcn.fit: acc has ${acc.length} values for ${indices.length} graphs`)
  if (model.epochs === 0) return new Float64Array(0)
  let out
  try {
    out = await gcnTrainAsync(graphs, indices, Float64Array.from(acc), rankGcnParams(model), { epochs: model.epochs, lr: model.lr, momentum: model.momentum, ties: model.ties }, { threads: options.threads, signal: options.signal })
  } catch (err) {
    const m = err instanceof Error ? /the loss is (\S+) at epoch (\d+)/.exec(err.message) : null
    if (m !== null) throw new RangeError(`RankGcn.fit${options.label ?? ''}: the loss is ${m[1]} at epoch ${m[2]}`)
    throw err
  }
  out.layers.forEach((l, i) => model.w[i].set(l.w))
  model.fc.set(out.fc)
  return out.losses
}

/** Scores of every graph of `graphs` (a GraphBatch, or one held by gcnGraphsHold) by the model, natively in float32 (agrees with {@link RankGcn.score} to ~1e-6 relative). */
export async function scoreNative (model: RankGcn, graphs: GraphBatch | HeldGraphBatch, threads?: number): Promise<Float64Array> {
  const layers = model.w.map((w, l) => ({ w: Float32Array.from(w), b: new Float32Array(model.dims[l + 1]) }))
  return await gcnScoreAsync(graphs, { layers, fc: { w: Float32Array.from(model.fc), b: new Float32Array(1) } }, { threads, norm: 'row', pool: 'all' })
}

/**
 * {@link RankGcn.inputGradient} natively: float32 by default (gcnScoreGrad's default, what the
 * ML pools ascend with; agrees with float64 to float32 rounding), `precision: 'float64'` for
 * the float64 kernel (equal to RankGcn.inputGradient to ~1e-12).
 */
export function inputGradientNative (model: RankGcn, graphs: GraphBatch, options?: GcnScoreGradOptions): { f: Float64Array, dA: Float64Array, dX: Float64Array } {
  return gcnScoreGrad(graphs, rankGcnParams(model), options)
}

/**
 * Eq. 5–7: mean over ordered pairs i ≠ j of −ln p_ij, with p = σ(f_i − f_j) when acc_i ≥ acc_j
 * (y = 1) and 1 − σ(f_i − f_j) otherwise; ties y = 1 both ways ('positive') or dropped
 * ('ignore'). Returns the loss and dL/df. n ≥ 2 and finite values, else a RangeError naming the index.
 */
export function orderedPairLoss (f: ArrayLike<number>, acc: ArrayLike<number>, ties: 'positive' | 'ignore' = 'positive', fn = 'orderedPairLoss'): { loss: number, grad: Float64Array, pairs: number } {
  const n = f.length
  if (acc.length !== n) throw new RangeError(`${fn}: ${n} scores but ${acc.length} accuracies`)
  if (n < 2) throw new RangeError(`${fn}: the pairwise loss needs at least 2 architectures, got ${n}`)
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(acc[i])) throw new RangeError(`${fn}: accuracy [${i}] is ${acc[i]}, not finite`)
    if (!Number.isFinite(f[i])) throw new RangeError(`${fn}: score [${i}] is ${f[i]}, not finite`)
  }
  const grad = new Float64Array(n)
  let loss = 0
  let pairs = 0
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      if (i === j) continue
      if (ties === 'ignore' && acc[i] === acc[j]) continue
      const d = f[i] - f[j]
      const y = acc[i] >= acc[j] ? 1 : 0
      // −ln σ(d) = softplus(−d); −ln(1 − σ(d)) = softplus(d)
      loss += y === 1 ? softplus(-d) : softplus(d)
      const g = sigmoid(d) - y
      grad[i] += g
      grad[j] -= g
      pairs++
    }
  }
  if (pairs === 0) return { loss: 0, grad, pairs }
  for (let i = 0; i < n; i++) grad[i] /= pairs
  return { loss: loss / pairs, grad, pairs }
}

function softplus (x: number): number { return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)) }
function sigmoid (x: number): number { return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)) }

function glorot (w: Float64Array, fanIn: number, fanOut: number, random: Random): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut))
  for (let k = 0; k < w.length; k++) w[k] = (2 * random.float() - 1) * limit
}

function identity (n: number): Int32Array {
  const out = new Int32Array(n)
  for (let i = 0; i < n; i++) out[i] = i
  return out
}

/** P[k] = N[k] · H[k] for each graph k (L × L times L × d). */
function aggregate (norm: Float64Array, h: Float64Array, n: number, L: number, d: number): Float64Array {
  const out = new Float64Array(n * L * d)
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < L; i++) {
      const ob = (k * L + i) * d
      for (let j = 0; j < L; j++) {
        const a = norm[k * L * L + i * L + j]
        if (a === 0) continue
        const hb = (k * L + j) * d
        for (let c = 0; c < d; c++) out[ob + c] += a * h[hb + c]
      }
    }
  }
  return out
}

/** out[k] = N[k]ᵀ · G[k]. */
function aggregateT (norm: Float64Array, g: Float64Array, n: number, L: number, d: number): Float64Array {
  const out = new Float64Array(n * L * d)
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < L; i++) {
      const gb = (k * L + i) * d
      for (let j = 0; j < L; j++) {
        const a = norm[k * L * L + i * L + j]
        if (a === 0) continue
        const ob = (k * L + j) * d
        for (let c = 0; c < d; c++) out[ob + c] += a * g[gb + c]
      }
    }
  }
  return out
}

/** (rows × inner) · (inner × cols), skipping zero entries of the left operand (ReLU / one-hot sparsity). */
function matmul (a: Float64Array, b: Float64Array, rows: number, inner: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols)
  for (let i = 0; i < rows; i++) {
    const ob = i * cols
    for (let k = 0; k < inner; k++) {
      const x = a[i * inner + k]
      if (x === 0) continue
      const bb = k * cols
      for (let c = 0; c < cols; c++) out[ob + c] += x * b[bb + c]
    }
  }
  return out
}

/** (rows × cols) · (inner × cols)ᵀ. */
function matmulBt (a: Float64Array, b: Float64Array, rows: number, cols: number, inner: number): Float64Array {
  const out = new Float64Array(rows * inner)
  for (let i = 0; i < rows; i++) {
    const ab = i * cols
    let zero = true
    for (let c = 0; c < cols; c++) if (a[ab + c] !== 0) { zero = false; break }
    if (zero) continue
    for (let k = 0; k < inner; k++) {
      const bb = k * cols
      let s = 0
      for (let c = 0; c < cols; c++) s += a[ab + c] * b[bb + c]
      out[i * inner + k] = s
    }
  }
  return out
}

/** g += aᵀ · d for a (rows × inner), d (rows × cols). */
function accumulateAtB (a: Float64Array, d: Float64Array, g: Float64Array, rows: number, inner: number, cols: number): void {
  for (let i = 0; i < rows; i++) {
    const db = i * cols
    for (let k = 0; k < inner; k++) {
      const x = a[i * inner + k]
      if (x === 0) continue
      const gb = k * cols
      for (let c = 0; c < cols; c++) g[gb + c] += x * d[db + c]
    }
  }
}
