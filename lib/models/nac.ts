// CTNAS's Neural Architecture Comparator (Chen et al., CVPR 2021, Eq. 6–7), paper preset, on
// NAS-Bench-201 and NAS-Bench-101, in plain Float64Arrays with hand-written gradients and Adam.
//
//   Input: withDummyVertices(GraphBatch). NB-101 (the code's): nb101GraphBatch, V = 7, ids
//   dummy 0, input 1, conv1x1 2, conv3x3 3, maxpool 4, output 5; the padding slots of a cell
//   under 7 vertices are dummy vertices. The NAC's graphs are then a NacGraphSet (`graphs`).
//   NB-201 (ours; neither the paper nor its code covers NB-201), the default: the line graph of the pruned
//   cell (nb201.prune), V = 8 = input, the 6 edge-ops in edge order, output; vertex ids
//   dummy 0, input 1, skip 2, conv1x1 3, conv3x3 4, avgpool 5, output 6. A none (or pruned)
//   edge is a dummy vertex: feature 0, self-loop only, still pooled. Vertices gather from their
//   predecessors (Aᵀ, as the code).
//   Model: Z = Â·ReLU(Â X W0)·W1 with Â = D̃^−½ (Aᵀ + I) D̃^−½ (D̃ the row sums of Aᵀ + I), two
//   layers of width 128, no bias, no activation after layer 2; z = mean over the V vertex rows
//   of Z; p(a ≻ b) = σ([z_a; z_b]·w) (no bias). Init as the code: W ~ U(±1/√128); the FC head
//   as PyTorch's Linear: U(±1/√(2·128)).
//   Training: BCE of p against y, Adam (β 0.5, 0.999, ε 1e-8), coupled weight decay.
//
// The mean pooling commutes with the last layer: z = (cᵀ H1 / V)·W1 with c the column sums of
// Â, so an embedding costs one V×V×D propagation and one D×D product; and because the head is
// linear before the sigmoid, p(a ≻ b) = σ(u_a + v_b) with u = z·w_a, v = z·w_b: every pair
// among n architectures needs only n embeddings.
import { NB201_SIZE, nb201 } from '../spaces/nb201'
import { nb201GraphBatch, type GraphBatch } from '../encode/graph'
import { describe } from '../validate'
import { Random } from '../random'

/** NB-201's NAC input: V = 8 slots, 7 vertex ids (dummy, input, 4 ops, output). */
export const NAC_VERTICES = 8
export const NAC_FEATURES = 7

/**
 * NAC input graphs, architecture-major: the normalised propagation Â (V×V), the vertex ids
 * (V; 0 = dummy) and Â's column sums (V) of each graph. Ids are positions in these arrays.
 */
export interface NacGraphs {
  /** Vertex slots V per graph. */
  readonly vertices: number
  /** Vertex ids 0..features−1 (0: dummy). */
  readonly features: number
  norm: Float64Array
  feat: Uint8Array
  colSum: Float64Array
}

/** The table of all 15,625 NB-201 cells by nasrank index, with each cell's pruned form. */
export interface NacGraphTable extends NacGraphs {
  /** The index of each architecture's pruned form (equal for functionally equal cells). */
  pruned: Int32Array
}

let TABLE: NacGraphTable | undefined
const POW5 = [3125, 625, 125, 25, 5, 1]

/**
 * The NAC's input form of a graph batch (issue 19, "NAC input"): vertex ids = one-hot index + 1,
 * padding (mask 0: NB-101 cells under 7 vertices, NB-201 none edges) = dummy vertex 0 with a
 * self-loop only, still one of the V pooled slots; vertices gather from their predecessors:
 * Â = D̃^−½ (Aᵀ + I) D̃^−½ with D̃ the row sums of Aᵀ + I. NB-101 (nb101GraphBatch): V 7, ids
 * dummy 0, input 1, conv1x1 2, conv3x3 3, maxpool 4, output 5 (the code's). NB-201
 * (nb201GraphBatch of the pruned cells): V 8, ids dummy 0, input 1, skip 2, conv1x1 3,
 * conv3x3 4, avgpool 5, output 6 (ours).
 */
export function withDummyVertices (batch: GraphBatch): NacGraphs {
  const fn = 'withDummyVertices'
  checkBatch(batch, fn)
  const V = batch.vertices
  const out = { vertices: V, features: batch.features + 1, norm: new Float64Array(batch.count * V * V), feat: new Uint8Array(batch.count * V), colSum: new Float64Array(batch.count * V) }
  for (let g = 0; g < batch.count; g++) dummyVerticesInto(batch, g, out, g)
  return out
}

function checkBatch (batch: GraphBatch, fn: string): void {
  if (batch === null || typeof batch !== 'object') throw new TypeError(`${fn}: batch must be a GraphBatch, got ${describe(batch)}`)
  const { count, vertices: V, features: F } = batch
  if (!Number.isInteger(count) || count < 0 || !Number.isInteger(V) || V < 1 || !Number.isInteger(F) || F < 1 || F > 254) {
    throw new RangeError(`${fn}: batch.count, batch.vertices and batch.features must be integers (count ≥ 0, vertices ≥ 1, 1 ≤ features ≤ 254), got ${count}, ${V}, ${F}`)
  }
  if (batch.adjacency?.length !== count * V * V || batch.x?.length !== count * V * F || batch.mask?.length !== count * V) {
    throw new RangeError(`${fn}: batch.adjacency, batch.x and batch.mask must hold count·V·V, count·V·F and count·V values`)
  }
}

/** Graph g of `batch` in the NAC's form, written at position `at` of `out`. */
function dummyVerticesInto (batch: GraphBatch, g: number, out: NacGraphs, at: number): void {
  const V = batch.vertices
  const F = batch.features
  const { norm, feat, colSum } = out
  const t = new Float64Array(V * V)
  for (let i = 0; i < V; i++) {
    t[i * V + i] = 1
    if (batch.mask[g * V + i] === 0) { feat[at * V + i] = 0; continue }
    let id = 0
    for (let f = 0; f < F; f++) if (batch.x[(g * V + i) * F + f] !== 0) { id = f + 1; break }
    if (id === 0) throw new RangeError(`withDummyVertices: graph ${g}, vertex ${i} is real (mask 1) but has no feature`)
    feat[at * V + i] = id
  }
  // Ã[i][j] = A[j][i] + δij: vertex i gathers from its predecessors j (real vertices only).
  for (let j = 0; j < V; j++) {
    if (batch.mask[g * V + j] === 0) continue
    for (let i = 0; i < V; i++) {
      if (i !== j && batch.mask[g * V + i] !== 0 && batch.adjacency[(g * V + j) * V + i] !== 0) t[i * V + j] = 1
    }
  }
  const deg = new Float64Array(V)
  for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) deg[i] += t[i * V + j]
  const nb = at * V * V
  for (let j = 0; j < V; j++) colSum[at * V + j] = 0
  for (let i = 0; i < V; i++) {
    for (let j = 0; j < V; j++) {
      const a = t[i * V + j] / Math.sqrt(deg[i] * deg[j])
      norm[nb + i * V + j] = a
      colSum[at * V + j] += a
    }
  }
}

/**
 * A growing set of NAC graphs (NB-101 search: the cells met so far), ids in insertion order.
 * The arrays are replaced as they grow; read them through the set, not a kept reference.
 */
export class NacGraphSet implements NacGraphs {
  readonly vertices: number
  readonly features: number
  norm: Float64Array
  feat: Uint8Array
  colSum: Float64Array
  count = 0

  constructor (vertices: number, features: number) {
    this.vertices = vertices
    this.features = features
    this.norm = new Float64Array(64 * vertices * vertices)
    this.feat = new Uint8Array(64 * vertices)
    this.colSum = new Float64Array(64 * vertices)
  }

  /** Appends the graphs of `batch` (same V, features + 1 = this.features); returns the id of the first. */
  add (batch: GraphBatch): number {
    checkBatch(batch, 'NacGraphSet.add')
    if (batch.vertices !== this.vertices || batch.features + 1 !== this.features) {
      throw new RangeError(`NacGraphSet.add: the set holds graphs of ${this.vertices} vertices and ${this.features - 1} features, the batch ${batch.vertices} and ${batch.features}`)
    }
    const V = this.vertices
    const first = this.count
    const need = first + batch.count
    if (need * V > this.feat.length) {
      const cap = Math.max(need, 2 * this.feat.length / V)
      const norm = new Float64Array(cap * V * V); norm.set(this.norm); this.norm = norm
      const feat = new Uint8Array(cap * V); feat.set(this.feat); this.feat = feat
      const colSum = new Float64Array(cap * V); colSum.set(this.colSum); this.colSum = colSum
    }
    for (let g = 0; g < batch.count; g++) dummyVerticesInto(batch, g, this, first + g)
    this.count = need
    return first
  }
}

/** The graphs of all 15,625 NB-201 cells by nasrank index (built on first use, ~8 MB): withDummyVertices of the pruned cells. */
export function nacGraphTable (): NacGraphTable {
  if (TABLE !== undefined) return TABLE
  const ops = new Uint8Array(NB201_SIZE * 6)
  for (let idx = 0; idx < NB201_SIZE; idx++) for (let e = 0; e < 6; e++) ops[idx * 6 + e] = Math.floor(idx / POW5[e]) % 5
  const prunedOps = nb201.pruneBatch(ops)
  const graphs = withDummyVertices(nb201GraphBatch(prunedOps))
  const pruned = new Int32Array(NB201_SIZE)
  for (let idx = 0; idx < NB201_SIZE; idx++) {
    let k = 0
    for (let e = 0; e < 6; e++) k += prunedOps[idx * 6 + e] * POW5[e]
    pruned[idx] = k
  }
  TABLE = { ...graphs, pruned }
  return TABLE
}

/** Adam with coupled weight decay (PyTorch's Adam(weight_decay)): g ← g + wd·θ. */
export class Adam {
  readonly m: Float64Array
  readonly v: Float64Array
  t = 0
  constructor (readonly size: number, readonly lr: number, readonly beta1: number, readonly beta2: number, readonly weightDecay = 0, readonly eps = 1e-8) {
    this.m = new Float64Array(size)
    this.v = new Float64Array(size)
  }

  step (params: Float64Array, grad: Float64Array): void {
    this.t++
    const { beta1: b1, beta2: b2, lr, weightDecay: wd, eps } = this
    const c1 = 1 - Math.pow(b1, this.t)
    const c2 = 1 - Math.pow(b2, this.t)
    for (let k = 0; k < params.length; k++) {
      const g = grad[k] + wd * params[k]
      const m = this.m[k] = b1 * this.m[k] + (1 - b1) * g
      const v = this.v[k] = b2 * this.v[k] + (1 - b2) * g * g
      params[k] -= lr * (m / c1) / (Math.sqrt(v / c2) + eps)
    }
  }
}

export interface NacOptions {
  /** Width of both GCN layers (default 128). */
  hidden?: number
  /** Adam learning rate (default 2e-4), betas (0.5, 0.999) and coupled weight decay (default 5e-4): the code's. */
  lr?: number
  weightDecay?: number
  /** The input graphs (default: nacGraphTable(), all NB-201 cells by index); architectures are ids into it. */
  graphs?: NacGraphs
}

/** A batch of labelled pairs: p(a[k] ≻ b[k]) is trained towards y[k] ∈ {0, 1}; a, b are ids of the NAC's graphs (NB-201 indices by default). */
export interface NacPairs { a: ArrayLike<number>, b: ArrayLike<number>, y: ArrayLike<number> }

export class Nac {
  readonly hidden: number
  /** [W0 (F×D) | W1 (D×D) | w_a (D) | w_b (D)]. */
  readonly params: Float64Array
  readonly grad: Float64Array
  readonly adam: Adam
  readonly oW1: number
  readonly oWa: number
  readonly oWb: number
  /** The input graphs; architectures are ids into it. */
  readonly graphs: NacGraphs
  private readonly row: Float64Array
  private work = new Float64Array(0)

  constructor (random: Random, options: NacOptions = {}) {
    const D = this.hidden = options.hidden ?? 128
    const graphs = options.graphs ?? nacGraphTable()
    const F = graphs.features
    this.oW1 = F * D
    this.oWa = this.oW1 + D * D
    this.oWb = this.oWa + D
    this.params = new Float64Array(this.oWb + D)
    this.grad = new Float64Array(this.params.length)
    const g = 1 / Math.sqrt(D)
    for (let k = 0; k < this.oWa; k++) this.params[k] = (2 * random.float() - 1) * g
    const h = 1 / Math.sqrt(2 * D)
    for (let k = this.oWa; k < this.params.length; k++) this.params[k] = (2 * random.float() - 1) * h
    this.adam = new Adam(this.params.length, options.lr ?? 2e-4, 0.5, 0.999, options.weightDecay ?? 5e-4)
    this.graphs = graphs
    this.row = new Float64Array(D)
  }

  /** A scratch buffer of at least n values, reused across steps (contents undefined). */
  private scratch (n: number): Float64Array {
    if (this.work.length < n) this.work = new Float64Array(Math.max(n, 2 * this.work.length))
    return this.work
  }

  /**
   * s = cᵀ ReLU(Â X W0) / V (D) of architecture `idx` into s[at*D…]; the pre-activations
   * Â X W0 (V×D) into pre[at*V*D…] when given (training keeps them for the backward pass).
   */
  private pooled (idx: number, s: Float64Array, at: number, pre?: Float64Array): void {
    const D = this.hidden
    const V = this.graphs.vertices
    const P = this.params
    const { norm, feat, colSum } = this.graphs
    const nb = idx * V * V
    const fb = idx * V
    const sb = at * D
    for (let k = 0; k < D; k++) s[sb + k] = 0
    const row = this.row
    for (let i = 0; i < V; i++) {
      row.fill(0)
      for (let j = 0; j < V; j++) {
        const a = norm[nb + i * V + j]
        if (a === 0) continue
        const w = feat[fb + j] * D
        for (let k = 0; k < D; k++) row[k] += a * P[w + k]
      }
      const c = colSum[fb + i] / V
      if (pre !== undefined) pre.set(row, (at * V + i) * D)
      for (let k = 0; k < D; k++) if (row[k] > 0) s[sb + k] += c * row[k]
    }
  }

  /** Pooled embedding z = s·W1 (D) of each index. */
  embed (indices: ArrayLike<number>): Float64Array {
    const D = this.hidden
    const n = indices.length
    const s = new Float64Array(n * D)
    const z = new Float64Array(n * D)
    for (let i = 0; i < n; i++) { this.pooled(indices[i], s, i); this.mulW1(s, i, z) }
    return z
  }

  private mulW1 (s: Float64Array, i: number, z: Float64Array): void {
    const D = this.hidden
    const P = this.params
    for (let k = 0; k < D; k++) {
      const sk = s[i * D + k]
      if (sk === 0) continue
      const w = this.oW1 + k * D
      for (let m = 0; m < D; m++) z[i * D + m] += sk * P[w + m]
    }
  }

  /** u = z·w_a and v = z·w_b of each index: p(i ≻ j) = σ(u_i + v_j). */
  heads (indices: ArrayLike<number>): { u: Float64Array, v: Float64Array } {
    const D = this.hidden
    const P = this.params
    const n = indices.length
    // W1·w_a and W1·w_b once, then per architecture two dot products with s.
    const wa = new Float64Array(D)
    const wb = new Float64Array(D)
    for (let k = 0; k < D; k++) {
      let a = 0; let b = 0
      const w = this.oW1 + k * D
      for (let m = 0; m < D; m++) { a += P[w + m] * P[this.oWa + m]; b += P[w + m] * P[this.oWb + m] }
      wa[k] = a; wb[k] = b
    }
    const s = new Float64Array(D)
    const u = new Float64Array(n)
    const v = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      this.pooled(indices[i], s, 0)
      let a = 0; let b = 0
      for (let k = 0; k < D; k++) { a += s[k] * wa[k]; b += s[k] * wb[k] }
      u[i] = a; v[i] = b
    }
    return { u, v }
  }

  /** p(a ≻ b) for each pair. */
  compare (a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
    const { map, list } = distinct([a, b])
    const { u, v } = this.heads(list)
    return Float64Array.from({ length: a.length }, (_, k) => sigmoid(u[map.get(a[k]) as number] + v[map.get(b[k]) as number]))
  }

  /**
   * Mean BCE of the batch and its gradient into this.grad (overwritten). Each distinct
   * architecture is embedded once, and the second layer is folded into the head: with
   * s_i = cᵀH1_i/V, u_i = s_i·(W1 w_a), v_i = s_i·(W1 w_b), so ∂/∂W1 = (Σ du_i s_i) ⊗ w_a +
   * (Σ dv_i s_i) ⊗ w_b, ∂/∂w_a = W1ᵀ Σ du_i s_i, and ds_i = du_i W1 w_a + dv_i W1 w_b: the
   * D×D work is once per batch, not once per architecture.
   */
  lossAndGrad (pairs: NacPairs): number {
    const n = pairs.a.length
    const { map, list } = distinct([pairs.a, pairs.b])
    const f = this.forwardBatch(list)
    const { loss, du, dv } = pairBce(pairs, map, list.length, f.u, f.v)
    this.backwardBatch(list, f, du, dv)
    return loss / n
  }

  /**
   * RegressionNAS (the paper's Table 1 comparison; our choice of its details): the same trunk
   * with the head's first half as a Linear(D → 1) without bias, f = z·w_a, trained by the mean
   * squared error against `targets` (standardise them first). Gradient into this.grad.
   */
  regressionLossAndGrad (indices: ArrayLike<number>, targets: ArrayLike<number>): number {
    const n = indices.length
    const { map, list } = distinct([indices])
    const f = this.forwardBatch(list)
    const du = new Float64Array(list.length)
    let loss = 0
    for (let k = 0; k < n; k++) {
      const i = map.get(indices[k]) as number
      const e = f.u[i] - targets[k]
      loss += e * e
      du[i] += 2 * e / n
    }
    this.backwardBatch(list, f, du, new Float64Array(list.length))
    return loss / n
  }

  /** One Adam step of the regression loss; returns the loss before the step. */
  trainRegression (indices: ArrayLike<number>, targets: ArrayLike<number>): number {
    const loss = this.regressionLossAndGrad(indices, targets)
    this.adam.step(this.params, this.grad)
    return loss
  }

  /** Embeds each distinct architecture once; keeps what the backward pass needs. */
  private forwardBatch (list: number[]): { s: Float64Array, pre: Float64Array, qa: Float64Array, qb: Float64Array, u: Float64Array, v: Float64Array } {
    const D = this.hidden
    const V = this.graphs.vertices
    const P = this.params
    const m = list.length
    const s = new Float64Array(m * D)
    const pre = this.scratch(m * V * D)
    for (let i = 0; i < m; i++) this.pooled(list[i], s, i, pre)
    const qa = new Float64Array(D) // W1·w_a
    const qb = new Float64Array(D) // W1·w_b
    for (let k = 0; k < D; k++) {
      let a = 0; let b = 0
      const w = this.oW1 + k * D
      for (let q = 0; q < D; q++) { a += P[w + q] * P[this.oWa + q]; b += P[w + q] * P[this.oWb + q] }
      qa[k] = a; qb[k] = b
    }
    const u = new Float64Array(m)
    const v = new Float64Array(m)
    for (let i = 0; i < m; i++) {
      let a = 0; let b = 0
      for (let k = 0; k < D; k++) { a += s[i * D + k] * qa[k]; b += s[i * D + k] * qb[k] }
      u[i] = a; v[i] = b
    }
    return { s, pre, qa, qb, u, v }
  }

  /** this.grad ← the gradient given ∂L/∂u_i and ∂L/∂v_i of the batch's architectures. */
  private backwardBatch (list: number[], f: { s: Float64Array, pre: Float64Array, qa: Float64Array, qb: Float64Array }, du: Float64Array, dv: Float64Array): void {
    const D = this.hidden
    const V = this.graphs.vertices
    const P = this.params
    const G = this.grad
    G.fill(0)
    const { s, pre, qa, qb } = f
    const m = list.length
    const sa = new Float64Array(D) // Σ du_i s_i
    const sb = new Float64Array(D) // Σ dv_i s_i
    const dpre = new Float64Array(V * D)
    const { norm, feat, colSum } = this.graphs
    for (let i = 0; i < m; i++) {
      const dui = du[i]; const dvi = dv[i]
      if (dui === 0 && dvi === 0) continue
      for (let k = 0; k < D; k++) { sa[k] += dui * s[i * D + k]; sb[k] += dvi * s[i * D + k] }
      // s = Σ_r c_r/V · ReLU(pre_r); pre = Â (X W0); ds = du·qa + dv·qb.
      const idx = list[i]
      const fb = idx * V
      for (let r = 0; r < V; r++) {
        const c = colSum[fb + r] / V
        const pb = (i * V + r) * D
        for (let k = 0; k < D; k++) dpre[r * D + k] = pre[pb + k] > 0 ? c * (dui * qa[k] + dvi * qb[k]) : 0
      }
      const nb = idx * V * V
      for (let r = 0; r < V; r++) {
        for (let j = 0; j < V; j++) {
          const a = norm[nb + r * V + j]
          if (a === 0) continue
          const w = feat[fb + j] * D
          for (let k = 0; k < D; k++) G[w + k] += a * dpre[r * D + k]
        }
      }
    }
    for (let k = 0; k < D; k++) {
      const w = this.oW1 + k * D
      for (let q = 0; q < D; q++) G[w + q] += sa[k] * P[this.oWa + q] + sb[k] * P[this.oWb + q]
    }
    // ∂/∂w_a[q] = Σ_k sa[k] W1[k][q] (z_i = s_i W1), likewise w_b.
    for (let q = 0; q < D; q++) {
      let ga = 0; let gb = 0
      for (let k = 0; k < D; k++) { const w = P[this.oW1 + k * D + q]; ga += sa[k] * w; gb += sb[k] * w }
      G[this.oWa + q] += ga
      G[this.oWb + q] += gb
    }
  }

  /** One Adam step on a batch; returns the batch's loss before the step. */
  train (pairs: NacPairs): number {
    const loss = this.lossAndGrad(pairs)
    this.adam.step(this.params, this.grad)
    return loss
  }
}

export function sigmoid (x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}

/**
 * The summed BCE of p = σ(u_i + v_j) against y over the pairs (i, j the positions of a[k], b[k]
 * in `map`), with ∂(mean loss)/∂u, ∂/∂v per distinct architecture and ∂/∂c of a shared logit
 * bias c (the code preset's head). Shared by both NAC presets.
 */
export function pairBce (pairs: NacPairs, map: Map<number, number>, count: number, u: ArrayLike<number>, v: ArrayLike<number>): { loss: number, du: Float64Array, dv: Float64Array, dc: number } {
  const n = pairs.a.length
  const du = new Float64Array(count)
  const dv = new Float64Array(count)
  let loss = 0
  let dc = 0
  for (let k = 0; k < n; k++) {
    const i = map.get(pairs.a[k]) as number
    const j = map.get(pairs.b[k]) as number
    const x = u[i] + v[j]
    const y = pairs.y[k]
    // BCE with logits, stable: max(x,0) − x·y + log(1 + e^−|x|).
    loss += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)))
    const g = (sigmoid(x) - y) / n
    du[i] += g; dv[j] += g; dc += g
  }
  return { loss, du, dv, dc }
}

/** The distinct values of several lists, in first-seen order, with their positions. */
export function distinct (lists: Array<ArrayLike<number>>): { map: Map<number, number>, list: number[] } {
  const map = new Map<number, number>()
  const list: number[] = []
  for (const l of lists) {
    for (let k = 0; k < l.length; k++) {
      const x = l[k]
      if (!map.has(x)) { map.set(x, list.length); list.push(x) }
    }
  }
  return { map, list }
}
