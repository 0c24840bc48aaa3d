// tfjs helpers for the predictor tests: the wasm backend, brute-force tfjs versions of the
// ReNAS losses (O(n²) / O(n³) broadcasts differentiated by tfjs autodiff), and synthetic
// encoded data with a known smooth target.
import type * as tfjs from '@tensorflow/tfjs'
import { Random } from '../../lib/random'

export type Tf = typeof tfjs
type Tensor = tfjs.Tensor

/** tfjs on the wasm backend (works in Node without setWasmPaths). */
export async function wasmTf (): Promise<Tf> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tf = require('@tensorflow/tfjs') as Tf
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('@tensorflow/tfjs-backend-wasm')
  if (tf.getBackend() !== 'wasm') {
    const ok = await tf.setBackend('wasm')
    if (!ok) throw new Error('cannot set the tfjs wasm backend')
  }
  await tf.ready()
  return tf
}

export type PhiName = 'hinge' | 'logistic' | 'exp'

function phiTf (tf: Tf, phi: PhiName, margin: number, z: Tensor): Tensor {
  if (phi === 'hinge') return tf.relu(tf.sub(margin, z))
  if (phi === 'logistic') return tf.softplus(tf.neg(z))
  return tf.exp(tf.neg(z))
}

function signMatrix (b: (i: number, j: number) => number, n: number, m: number): Float32Array {
  const out = new Float32Array(n * m)
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[i * m + j] = b(i, j)
  return out
}

/** Brute-force Eq. 3 in tfjs: all pairs i < j by broadcasting, reduced like the native kernel. */
export function brutePairwiseTf (tf: Tf, pred: Tensor, target: ArrayLike<number>, phi: PhiName, margin: number, reduction: 'mean' | 'sum'): Tensor {
  const n = target.length
  let comparable = 0
  const s = signMatrix((i, j) => {
    if (j <= i) return 0
    const v = Math.sign(target[i] - target[j])
    if (v !== 0) comparable++
    return v
  }, n, n)
  const S = tf.tensor2d(s, [n, n])
  const z = tf.mul(tf.sub(tf.reshape(pred, [n, 1]), tf.reshape(pred, [1, n])), S)
  const terms = tf.mul(phiTf(tf, phi, margin, z), tf.abs(S))
  const sum = tf.sum(terms)
  if (reduction === 'sum') return sum
  return comparable === 0 ? tf.mul(sum, 0) : tf.div(sum, comparable)
}

/** Distances by explicit differences: sqrt(max(Σ (η_i − η_j)², eps)). */
export function bruteDistancesTf (tf: Tf, features: Tensor, eps: number): Tensor {
  const [n, k] = features.shape
  const diff = tf.sub(tf.reshape(features, [n, 1, k]), tf.reshape(features, [1, n, k]))
  return tf.sqrt(tf.maximum(tf.sum(tf.square(diff), 2), eps))
}

/** Brute-force Eq. 4 in tfjs on a distance matrix: all triplets i < j < k by an n³ broadcast. */
export function bruteTripletOnDistTf (tf: Tf, dist: Tensor, target: ArrayLike<number>, phi: PhiName, margin: number, reduction: 'mean' | 'sum'): Tensor {
  const n = target.length
  const s = new Float32Array(n * n * n)
  let comparable = 0
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      for (let k = j + 1; k < n; k++) {
        const v = Math.sign(Math.abs(target[i] - target[j]) - Math.abs(target[i] - target[k]))
        s[(i * n + j) * n + k] = v
        if (v !== 0) comparable++
      }
    }
  }
  const S = tf.tensor3d(s, [n, n, n])
  const z = tf.mul(tf.sub(tf.reshape(dist, [n, n, 1]), tf.reshape(dist, [n, 1, n])), S)
  const sum = tf.sum(tf.mul(phiTf(tf, phi, margin, z), tf.abs(S)))
  if (reduction === 'sum') return sum
  return comparable === 0 ? tf.mul(sum, 0) : tf.div(sum, comparable)
}

/**
 * n random [C, 7, 7] binary tensors (each channel with its own density) and a smooth target:
 * tanh of a weighted sum of the channel densities and of a row-weighted count, plus noise.
 * Learnable from a few hundred samples by a small CNN; the weights are fixed (seed 999).
 */
export function synthTensors (n: number, channels: number, seed: number, noise = 0.02): { batch: { count: number; shape: number[]; data: Float32Array }; y: Float64Array } {
  const r = new Random(seed)
  const w = new Random(999)
  const a = Float64Array.from({ length: channels }, () => w.normal())
  const rowW = Float64Array.from({ length: 7 }, () => w.normal())
  const size = channels * 49
  const data = new Float32Array(n * size)
  const y = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    let s = 0
    for (let c = 0; c < channels; c++) {
      const density = 0.1 + 0.5 * r.float()
      let count = 0
      let rows = 0
      for (let i = 0; i < 7; i++) {
        for (let j = 0; j < 7; j++) {
          const v = r.float() < density ? 1 : 0
          data[k * size + c * 49 + i * 7 + j] = v
          count += v
          rows += v * rowW[i]
        }
      }
      s += a[c] * count / 49 + 0.3 * rows / 49
    }
    y[k] = Math.tanh(2 * s / Math.sqrt(channels)) + noise * r.normal()
  }
  return { batch: { count: n, shape: [channels, 7, 7], data }, y }
}

/** Max |a − b| relative to max(|b|) (and at least `floor`). */
export function maxRelDiff (a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  let scale = floor
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]))
  let worst = 0
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale)
  return worst
}
