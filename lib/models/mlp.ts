// A small fully connected regression network (ReLU hidden layers, linear output), trained
// with Adam on mini-batches, in plain Float64Arrays. Built for the BANANAS meta neural
// network (White et al. 2021: 10 layers of width 20, MAE loss, Adam lr 0.01, 200 epochs,
// batch 32): nets this size are dominated by per-call overhead on tfjs, so hand-written loops
// are much faster on CPU. Inputs may be sparse (path encodings): the first layer skips zeros.
// Deterministic: the initialisation and the batch order come from the given Random.
import { Random } from '../random'
import { checkOptions, describe } from '../validate'

export interface MlpOptions {
  /** Hidden layers (default 10). */
  layers?: number
  /** Units per hidden layer (default 20). */
  width?: number
  /** Training epochs (default 200). */
  epochs?: number
  /** Mini-batch size (default 32). */
  batchSize?: number
  /** Adam learning rate (default 0.01); betas 0.9 / 0.99 and epsilon 1e-7 as the BANANAS (Keras) code. */
  lr?: number
  /** 'mae' (default, BANANAS) or 'mse'. */
  loss?: 'mae' | 'mse'
}

const KEYS = ['layers', 'width', 'epochs', 'batchSize', 'lr', 'loss'] as const
const BETA1 = 0.9
const BETA2 = 0.99
const EPSILON = 1e-7

function int (v: unknown, fallback: number, name: string, min: number): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new RangeError(`Mlp: ${name} must be an integer >= ${min}, got ${typeof v === 'number' ? v : describe(v)}`)
  return v
}

export class Mlp {
  readonly inputs: number
  readonly layers: number
  readonly width: number
  readonly epochs: number
  readonly batchSize: number
  readonly lr: number
  readonly loss: 'mae' | 'mse'
  /** All parameters in one array: per layer, weights [in][out] then biases [out]. */
  readonly params: Float64Array
  private readonly offsets: Array<{ w: number, b: number, in: number, out: number }> = []

  constructor (inputs: number, options?: MlpOptions) {
    const o = checkOptions<MlpOptions>(options, 'Mlp', KEYS)
    this.inputs = int(inputs, 0, 'inputs', 1)
    this.layers = int(o.layers, 10, 'layers', 1)
    this.width = int(o.width, 20, 'width', 1)
    this.epochs = int(o.epochs, 200, 'epochs', 0)
    this.batchSize = int(o.batchSize, 32, 'batchSize', 1)
    this.lr = o.lr ?? 0.01
    if (typeof this.lr !== 'number' || !(this.lr > 0) || !Number.isFinite(this.lr)) throw new RangeError(`Mlp: lr must be a positive finite number, got ${describe(o.lr)}`)
    this.loss = o.loss ?? 'mae'
    if (this.loss !== 'mae' && this.loss !== 'mse') throw new TypeError(`Mlp: loss must be 'mae' or 'mse', got ${describe(o.loss)}`)
    let at = 0
    for (let l = 0; l <= this.layers; l++) {
      const fanIn = l === 0 ? this.inputs : this.width
      const fanOut = l === this.layers ? 1 : this.width
      this.offsets.push({ w: at, b: at + fanIn * fanOut, in: fanIn, out: fanOut })
      at += fanIn * fanOut + fanOut
    }
    this.params = new Float64Array(at)
  }

  /** Glorot-uniform weights, zero biases (the Keras default BANANAS used). */
  init (random: Random): void {
    this.params.fill(0)
    for (const { w, in: fanIn, out: fanOut } of this.offsets) {
      const limit = Math.sqrt(6 / (fanIn + fanOut))
      for (let k = 0; k < fanIn * fanOut; k++) this.params[w + k] = (2 * random.float() - 1) * limit
    }
  }

  /** Initialises (from `random`) and trains on n rows of x (n*inputs) against y. */
  fit (x: Float64Array, y: Float64Array, random: Random): void {
    const n = y.length
    const d = this.inputs
    if (x.length !== n * d) throw new RangeError(`Mlp.fit: x has ${x.length} values, expected ${n} rows × ${d}`)
    this.init(random)
    const P = this.params
    const m = new Float64Array(P.length)
    const v = new Float64Array(P.length)
    const grad = new Float64Array(P.length)
    const sparse = sparseRows(x, n, d)
    const L = this.layers
    const W = this.width
    const B = Math.min(this.batchSize, n)
    // acts[l]: output of hidden layer l for each sample of the batch (post-ReLU), B*W.
    const acts = Array.from({ length: L }, () => new Float64Array(B * W))
    const delta = new Float64Array(W)
    const next = new Float64Array(W)
    const active = new Int32Array(W)
    const out = new Float64Array(B)
    const order = new Int32Array(n)
    for (let i = 0; i < n; i++) order[i] = i
    let t = 0
    const mae = this.loss === 'mae'
    for (let epoch = 0; epoch < this.epochs; epoch++) {
      random.shuffle(order)
      for (let start = 0; start < n; start += B) {
        const size = Math.min(B, n - start)
        grad.fill(0)
        for (let s = 0; s < size; s++) {
          const i = order[start + s]
          this.forwardInto(sparse, i, acts, s)
          const o = this.offsets[L]
          let pred = P[o.b]
          const h = acts[L - 1]
          for (let j = 0; j < W; j++) pred += h[s * W + j] * P[o.w + j]
          out[s] = pred
          const err = pred - y[i]
          // dLoss/dpred for the batch mean.
          const g = (mae ? (err > 0 ? 1 : err < 0 ? -1 : 0) : 2 * err) / size
          if (g === 0) continue
          // Output layer.
          for (let j = 0; j < W; j++) {
            grad[o.w + j] += g * h[s * W + j]
            delta[j] = h[s * W + j] > 0 ? g * P[o.w + j] : 0
          }
          grad[o.b] += g
          // Hidden layers, top down.
          for (let l = L - 1; l >= 1; l--) {
            const ol = this.offsets[l]
            const below = acts[l - 1]
            // Units with no gradient (ReLU off above) are skipped in the inner loop.
            let na = 0
            for (let j = 0; j < W; j++) if (delta[j] !== 0) active[na++] = j
            for (let k = 0; k < W; k++) {
              const hk = below[s * W + k]
              // A unit ReLU switched off passes no gradient down and contributes none to its weights.
              if (hk === 0 || na === 0) { next[k] = 0; continue }
              const row = ol.w + k * W
              let sum = 0
              for (let a = 0; a < na; a++) {
                const j = active[a]
                const dj = delta[j]
                grad[row + j] += hk * dj
                sum += P[row + j] * dj
              }
              next[k] = sum
            }
            for (let j = 0; j < W; j++) { grad[ol.b + j] += delta[j]; delta[j] = next[j] }
          }
          // First layer (sparse input).
          const o0 = this.offsets[0]
          const idx = sparse.index[i]
          const val = sparse.value[i]
          for (let a = 0; a < idx.length; a++) {
            const row = o0.w + idx[a] * W
            const xa = val[a]
            for (let j = 0; j < W; j++) grad[row + j] += xa * delta[j]
          }
          for (let j = 0; j < W; j++) grad[o0.b + j] += delta[j]
        }
        // Adam.
        t++
        const lrT = this.lr * Math.sqrt(1 - Math.pow(BETA2, t)) / (1 - Math.pow(BETA1, t))
        for (let k = 0; k < P.length; k++) {
          const gk = grad[k]
          const mk = m[k] = BETA1 * m[k] + (1 - BETA1) * gk
          const vk = v[k] = BETA2 * v[k] + (1 - BETA2) * gk * gk
          P[k] -= lrT * mk / (Math.sqrt(vk) + EPSILON)
        }
      }
    }
  }

  /** Predictions for n rows of x (n*inputs). */
  predict (x: Float64Array, n: number): Float64Array {
    const d = this.inputs
    if (x.length !== n * d) throw new RangeError(`Mlp.predict: x has ${x.length} values, expected ${n} rows × ${d}`)
    const sparse = sparseRows(x, n, d)
    const W = this.width
    const acts = Array.from({ length: this.layers }, () => new Float64Array(W))
    const o = this.offsets[this.layers]
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      this.forwardInto(sparse, i, acts, 0)
      const h = acts[this.layers - 1]
      let pred = this.params[o.b]
      for (let j = 0; j < W; j++) pred += h[j] * this.params[o.w + j]
      out[i] = pred
    }
    return out
  }

  private forwardInto (sparse: SparseRows, i: number, acts: Float64Array[], s: number): void {
    const P = this.params
    const W = this.width
    const o0 = this.offsets[0]
    const h0 = acts[0]
    const base = s * W
    for (let j = 0; j < W; j++) h0[base + j] = P[o0.b + j]
    const idx = sparse.index[i]
    const val = sparse.value[i]
    for (let a = 0; a < idx.length; a++) {
      const row = o0.w + idx[a] * W
      const xa = val[a]
      for (let j = 0; j < W; j++) h0[base + j] += xa * P[row + j]
    }
    for (let j = 0; j < W; j++) if (h0[base + j] < 0) h0[base + j] = 0
    for (let l = 1; l < this.layers; l++) {
      const ol = this.offsets[l]
      const below = acts[l - 1]
      const h = acts[l]
      for (let j = 0; j < W; j++) h[base + j] = P[ol.b + j]
      for (let k = 0; k < W; k++) {
        const hk = below[base + k]
        if (hk === 0) continue
        const row = ol.w + k * W
        for (let j = 0; j < W; j++) h[base + j] += hk * P[row + j]
      }
      for (let j = 0; j < W; j++) if (h[base + j] < 0) h[base + j] = 0
    }
  }
}

interface SparseRows { index: Int32Array[], value: Float64Array[] }

function sparseRows (x: Float64Array, n: number, d: number): SparseRows {
  const index: Int32Array[] = []
  const value: Float64Array[] = []
  for (let i = 0; i < n; i++) {
    let nz = 0
    for (let k = 0; k < d; k++) if (x[i * d + k] !== 0) nz++
    const idx = new Int32Array(nz)
    const val = new Float64Array(nz)
    let a = 0
    for (let k = 0; k < d; k++) {
      const xv = x[i * d + k]
      if (xv !== 0) { idx[a] = k; val[a] = xv; a++ }
    }
    index.push(idx)
    value.push(val)
  }
  return { index, value }
}
