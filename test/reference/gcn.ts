// Slow, obvious double-precision references for the GCN forward pass and the comparator
// head, and random GraphBatch builders for the tests (the encoders live on other branches).
import type { ComparatorHeadWeights, DenseWeights, GcnEmbedWeights, GraphBatch } from '../../lib/index'
import { normals } from './random'

/** Pooled embeddings (count × H) and, with a readout, scores, in double precision. */
export function gcnReference (g: GraphBatch, weights: GcnEmbedWeights): { embed: number[][]; score: number[] | null } {
  const V = g.vertices
  const F = g.features
  const embed: number[][] = []
  const score: number[] = []
  for (let n = 0; n < g.count; n++) {
    const mask = (i: number) => g.mask[n * V + i]
    const adj = (i: number, j: number) => g.adjacency[n * V * V + i * V + j]
    // Ã = A + diag(mask), d_i = Σ_j Ã_ij, Â_ij = Ã_ij / sqrt(d_i d_j) over real vertices.
    const tilde = (i: number, j: number) => adj(i, j) + (i === j ? mask(i) : 0)
    const deg: number[] = []
    for (let i = 0; i < V; i++) {
      let d = 0
      for (let j = 0; j < V; j++) d += tilde(i, j)
      deg.push(d)
    }
    const aHat: number[][] = []
    for (let i = 0; i < V; i++) {
      const row: number[] = []
      for (let j = 0; j < V; j++) row.push(mask(i) && mask(j) ? tilde(i, j) / Math.sqrt(deg[i] * deg[j]) : 0)
      aHat.push(row)
    }
    let h: number[][] = []
    for (let i = 0; i < V; i++) {
      const row: number[] = []
      for (let f = 0; f < F; f++) row.push(g.x[(n * V + i) * F + f])
      h.push(row)
    }
    for (const layer of weights.layers) {
      const K = h[0].length
      const N = layer.b.length
      const next: number[][] = []
      for (let i = 0; i < V; i++) {
        const z: number[] = []
        for (let k = 0; k < K; k++) {
          let s = 0
          for (let j = 0; j < V; j++) s += aHat[i][j] * h[j][k]
          z.push(s)
        }
        const out: number[] = []
        for (let c = 0; c < N; c++) {
          let s = layer.b[c]
          for (let k = 0; k < K; k++) s += z[k] * layer.w[k * N + c]
          out.push(Math.max(0, s))
        }
        next.push(out)
      }
      h = next
    }
    const H = h[0].length
    let real = 0
    const pooled = new Array<number>(H).fill(0)
    for (let i = 0; i < V; i++) {
      if (!mask(i)) continue
      real++
      for (let c = 0; c < H; c++) pooled[c] += h[i][c]
    }
    for (let c = 0; c < H; c++) pooled[c] /= Math.max(real, 1)
    embed.push(pooled)
    if (weights.fc) {
      let s = weights.fc.b[0]
      for (let c = 0; c < H; c++) s += pooled[c] * weights.fc.w[c]
      score.push(s)
    }
  }
  return { embed, score: weights.fc ? score : null }
}

/** P(a better than b) for embeddings a, b (rows; either may have one row). */
export function comparatorReference (a: number[][], b: number[][], head: ComparatorHeadWeights): number[] {
  const n = a.length === 0 || b.length === 0 ? 0 : Math.max(a.length, b.length)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    let h = [...a[a.length === 1 ? 0 : i], ...b[b.length === 1 ? 0 : i]]
    for (const layer of head.layers) h = dense(h, layer, true)
    const z = dense(h, head.out, false)[0]
    out.push(1 / (1 + Math.exp(-z)))
  }
  return out
}

function dense (x: number[], layer: DenseWeights, relu: boolean): number[] {
  const N = layer.b.length
  const out: number[] = []
  for (let c = 0; c < N; c++) {
    let s = layer.b[c]
    for (let k = 0; k < x.length; k++) s += x[k] * layer.w[k * N + c]
    out.push(relu ? Math.max(0, s) : s)
  }
  return out
}

/** Rows of a flat count × width array. */
export function rows (flat: ArrayLike<number>, width: number): number[][] {
  const out: number[][] = []
  for (let i = 0; i < flat.length / width; i++) out.push(Array.from({ length: width }, (_, c) => flat[i * width + c]))
  return out
}

export interface RandomGraphOptions {
  /** Real-vertex counts to draw from (default 2..V). */
  sizes?: number[]
  /** Edge probability among real vertices (default 0.4). */
  density?: number
  /** Random non-zero junk in the x rows of padded vertices (must not matter). */
  junkPadding?: boolean
  /** Edge weights other than 1 (non-negative reals). */
  weighted?: boolean
}

/**
 * NB-101-shaped graphs (V = 7, F = 5): a cell with v real vertices uses vertices 0..v−2 and
 * the output at 6 (padding inserted before the output), upper-triangular edges, one-hot ops
 * (input 0, output 4, others 1..3).
 */
export function randomNb101 (rand: () => number, count: number, options: RandomGraphOptions = {}): GraphBatch {
  const V = 7
  const F = 5
  const sizes = options.sizes ?? [2, 3, 4, 5, 6, 7]
  const density = options.density ?? 0.4
  const g = empty(count, V, F)
  for (let n = 0; n < count; n++) {
    const v = sizes[Math.floor(rand() * sizes.length)]
    const ids = v === 1 ? [6] : [...Array.from({ length: v - 1 }, (_, i) => i), 6]
    fill(g, n, ids, density, rand, options, (k, last) => k === 0 ? 0 : k === last ? 4 : 1 + Math.floor(rand() * 3))
  }
  return g
}

/**
 * NB-201-shaped graphs (V = 8, F = 6): input 0 and output 7 always real, each edge-vertex
 * 1..6 dropped (mask 0) with probability 1/5 (a 'none' op), random upper-triangular links
 * among the real vertices, one-hot ops (input 0, output 5, others 1..4).
 */
export function randomNb201 (rand: () => number, count: number, options: RandomGraphOptions = {}): GraphBatch {
  const V = 8
  const F = 6
  const density = options.density ?? 0.4
  const g = empty(count, V, F)
  for (let n = 0; n < count; n++) {
    const ids = [0]
    for (let i = 1; i <= 6; i++) if (rand() >= 0.2) ids.push(i)
    ids.push(7)
    fill(g, n, ids, density, rand, options, (k, last) => k === 0 ? 0 : k === last ? 5 : 1 + Math.floor(rand() * 4))
  }
  return g
}

function empty (count: number, V: number, F: number): GraphBatch {
  return { count, vertices: V, features: F, adjacency: new Float32Array(count * V * V), x: new Float32Array(count * V * F), mask: new Float32Array(count * V) }
}

function fill (g: GraphBatch, n: number, ids: number[], density: number, rand: () => number, options: RandomGraphOptions, op: (k: number, last: number) => number): void {
  const V = g.vertices
  const F = g.features
  for (const i of ids) g.mask[n * V + i] = 1
  for (let a = 0; a < ids.length; a++) {
    for (let b = a + 1; b < ids.length; b++) {
      if (rand() < density) g.adjacency[n * V * V + ids[a] * V + ids[b]] = options.weighted ? Math.fround(0.25 + 2 * rand()) : 1
    }
  }
  ids.forEach((i, k) => { g.x[(n * V + i) * F + op(k, ids.length - 1)] = 1 })
  if (options.junkPadding) {
    for (let i = 0; i < V; i++) {
      if (ids.includes(i)) continue
      for (let f = 0; f < F; f++) g.x[(n * V + i) * F + f] = Math.fround(rand() * 3 - 1)
    }
  }
}

/** Concatenation of graph batches with equal V and F. */
export function concatGraphs (...batches: GraphBatch[]): GraphBatch {
  const { vertices: V, features: F } = batches[0]
  const count = batches.reduce((s, b) => s + b.count, 0)
  const out = empty(count, V, F)
  let n = 0
  for (const b of batches) {
    out.adjacency.set(b.adjacency, n * V * V)
    out.x.set(b.x, n * V * F)
    out.mask.set(b.mask, n * V)
    n += b.count
  }
  return out
}

/** Random weights (Gaussian, scaled by 1/√in) with non-zero biases, so padding matters. */
export function randomGcnWeights (rand: () => number, features: number, widths: number[], readout = true): GcnEmbedWeights {
  const layers: DenseWeights[] = []
  let inputs = features
  for (const w of widths) {
    layers.push(randomDense(rand, inputs, w))
    inputs = w
  }
  return readout ? { layers, fc: randomDense(rand, inputs, 1) } : { layers }
}

export function randomDense (rand: () => number, inputs: number, outputs: number): DenseWeights {
  const scale = 1.5 / Math.sqrt(inputs)
  return {
    w: Float32Array.from(normals(rand, inputs * outputs), v => v * scale),
    b: Float32Array.from(normals(rand, outputs), v => 0.2 * v)
  }
}

/** max |a − b| / max(1, |b|) over all entries. */
export function maxRelError (a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])))
  return worst
}
