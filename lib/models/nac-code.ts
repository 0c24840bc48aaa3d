// CTNAS's Neural Architecture Comparator as the authors' code builds it (chenyaofo/CTNAS,
// core/model/nac.py, gcn.py, layers.py): the comparator of `preset: 'code'` (issue 19, §1 "C").
//
//   Input: the same NacGraphs as the paper preset (lib/models/nac.ts: withDummyVertices, ids
//   dummy 0 …), but the propagation is the plain Ã = Aᵀ + I (0/1; the code adds the identity
//   to the adjacency and does not normalise). Ã is read back from the graphs' Â: Â[i][j] ≠ 0
//   exactly where Ã[i][j] = 1.
//   Model: H0 = X·E (an embedding of the F vertex ids, F × D); L = 4 layers (the code's
//   n_layers) H ← ReLU(Ã (H W_l) + H + b_l) (GraphConvolution with residual and bias; the code's
//   GCN applies ReLU after every layer, the last included), all widths D = 128; z = mean over
//   all V vertex slots of H_L; p(a ≻ b) = σ([z_a; z_b]·w + c) (nn.Linear(2D, 1) with bias).
//   Init as the code: E ~ N(0, 1) (nn.Embedding), W_l, b_l ~ U(±1/√D) (reset_parameters), the
//   head as PyTorch's Linear: w, c ~ U(±1/√(2D)).
//   Training: BCE, Adam (β 0.5, 0.999), coupled weight decay (lib/models/nac.ts `Adam`).
//
// The head is linear before the sigmoid, so p(a ≻ b) = σ(u_a + v_b) with u = z·w_a + c and
// v = z·w_b (`heads` folds the bias c into u): all pairs among n architectures need n
// embeddings, and Eq. 5 / Eq. 12 run on (u, v) as for the paper preset. The first layer's
// H0·W_0 = (E·W_0)[ids] is computed once per batch. Embeddings of a fixed parameter set are
// cached by id (the cache is dropped by every training step and by `invalidate()`).
import { Random } from '../random'
import { Adam, distinct, nacGraphTable, pairBce, sigmoid, type NacGraphs, type NacPairs } from './nac'

export interface NacCodeOptions {
  /** Width of the embedding and of every layer (default 128). */
  hidden?: number
  /** GCN layers (default 4, the code's n_layers). */
  layers?: number
  /** Adam learning rate (default 2e-4), betas (0.5, 0.999), coupled weight decay (default 5e-4). */
  lr?: number
  weightDecay?: number
  /** The input graphs (default nacGraphTable()); architectures are ids into it. */
  graphs?: NacGraphs
}

interface Forward {
  /** Post-activation states H_0 … H_L of every architecture: H[l] holds m·V·D values. */
  H: Float64Array[]
  /** Pooled z (m·D). */
  z: Float64Array
  u: Float64Array
  v: Float64Array
}

export class NacCode {
  readonly preset = 'code' as const
  readonly hidden: number
  readonly layers: number
  /** [E (F×D) | W_0 (D×D), b_0 (D) | … | W_{L−1}, b_{L−1} | w_a (D) | w_b (D) | c]. */
  readonly params: Float64Array
  readonly grad: Float64Array
  readonly adam: Adam
  readonly graphs: NacGraphs
  readonly oW: number[]
  readonly ob: number[]
  readonly oWa: number
  readonly oWb: number
  readonly oC: number
  private cache = new Map<number, [number, number]>()

  constructor (random: Random, options: NacCodeOptions = {}) {
    const D = this.hidden = options.hidden ?? 128
    const L = this.layers = options.layers ?? 4
    if (!Number.isInteger(L) || L < 1) throw new RangeError(`NacCode: options.layers must be an integer ≥ 1, got ${String(options.layers)}`)
    const graphs = this.graphs = options.graphs ?? nacGraphTable()
    const F = graphs.features
    let at = F * D
    this.oW = []; this.ob = []
    for (let l = 0; l < L; l++) { this.oW.push(at); at += D * D; this.ob.push(at); at += D }
    this.oWa = at; this.oWb = at + D; this.oC = at + 2 * D
    this.params = new Float64Array(this.oC + 1)
    this.grad = new Float64Array(this.params.length)
    const P = this.params
    for (let k = 0; k < F * D; k++) P[k] = random.normal()
    const g = 1 / Math.sqrt(D)
    for (let k = F * D; k < this.oWa; k++) P[k] = (2 * random.float() - 1) * g
    const h = 1 / Math.sqrt(2 * D)
    for (let k = this.oWa; k < P.length; k++) P[k] = (2 * random.float() - 1) * h
    this.adam = new Adam(P.length, options.lr ?? 2e-4, 0.5, 0.999, options.weightDecay ?? 5e-4)
  }

  /** Drops the cached embeddings (call after changing `params` from outside). */
  invalidate (): void { this.cache.clear() }

  /** Forward pass of the distinct architectures `list`, keeping every layer's states. */
  private forward (list: ArrayLike<number>): Forward {
    const D = this.hidden
    const L = this.layers
    const V = this.graphs.vertices
    const F = this.graphs.features
    const P = this.params
    const { norm, feat } = this.graphs
    const m = list.length
    // E·W_0 (F×D): the first layer's H·W for every vertex id.
    const EW = new Float64Array(F * D)
    matmulInto(P, 0, F, D, P, this.oW[0], D, EW, 0)
    const H: Float64Array[] = []
    const H0 = new Float64Array(m * V * D)
    for (let i = 0; i < m; i++) {
      const fb = list[i] * V
      for (let r = 0; r < V; r++) H0.set(P.subarray(feat[fb + r] * D, feat[fb + r] * D + D), (i * V + r) * D)
    }
    H.push(H0)
    const S = new Float64Array(m * V * D)
    for (let l = 0; l < L; l++) {
      const Hin = H[l]
      const Hout = new Float64Array(m * V * D)
      const bOff = this.ob[l]
      if (l === 0) {
        for (let i = 0; i < m; i++) {
          const fb = list[i] * V
          for (let r = 0; r < V; r++) S.set(EW.subarray(feat[fb + r] * D, feat[fb + r] * D + D), (i * V + r) * D)
        }
      } else {
        // S = Hin·W_l = Hin·(W_lᵀ)ᵀ: row-times-row dot products (accumulators in registers).
        const Wt = new Float64Array(D * D)
        for (let k = 0; k < D; k++) for (let q = 0; q < D; q++) Wt[q * D + k] = P[this.oW[l] + k * D + q]
        S.fill(0)
        matmulBTInto(Hin, m * V, D, Wt, 0, D, S)
      }
      for (let i = 0; i < m; i++) {
        const gb = i * V * D
        const nb = list[i] * V * V
        for (let r = 0; r < V; r++) {
          const o = gb + r * D
          for (let k = 0; k < D; k++) Hout[o + k] = Hin[o + k] + P[bOff + k]
          for (let j = 0; j < V; j++) {
            if (norm[nb + r * V + j] === 0) continue
            const sj = gb + j * D
            for (let k = 0; k < D; k++) Hout[o + k] += S[sj + k]
          }
          for (let k = 0; k < D; k++) if (Hout[o + k] < 0) Hout[o + k] = 0
        }
      }
      H.push(Hout)
    }
    const HL = H[L]
    const z = new Float64Array(m * D)
    const u = new Float64Array(m)
    const v = new Float64Array(m)
    const c = P[this.oC]
    for (let i = 0; i < m; i++) {
      for (let r = 0; r < V; r++) for (let k = 0; k < D; k++) z[i * D + k] += HL[(i * V + r) * D + k]
      let a = c; let b = 0
      for (let k = 0; k < D; k++) { z[i * D + k] /= V; a += z[i * D + k] * P[this.oWa + k]; b += z[i * D + k] * P[this.oWb + k] }
      u[i] = a; v[i] = b
    }
    return { H, z, u, v }
  }

  /** Pooled embedding z (D) of each id. */
  embed (indices: ArrayLike<number>): Float64Array {
    return this.forward(indices).z
  }

  /** u = z·w_a + c and v = z·w_b of each id: p(i ≻ j) = σ(u_i + v_j) (the head's bias folded into u). */
  heads (indices: ArrayLike<number>): { u: Float64Array, v: Float64Array } {
    const n = indices.length
    const u = new Float64Array(n)
    const v = new Float64Array(n)
    const missing: number[] = []
    const seen = new Set<number>()
    for (let k = 0; k < n; k++) {
      const id = indices[k]
      if (!this.cache.has(id) && !seen.has(id)) { seen.add(id); missing.push(id) }
    }
    if (missing.length > 0) {
      const f = this.forward(missing)
      missing.forEach((id, i) => this.cache.set(id, [f.u[i], f.v[i]]))
    }
    for (let k = 0; k < n; k++) { const e = this.cache.get(indices[k]) as [number, number]; u[k] = e[0]; v[k] = e[1] }
    return { u, v }
  }

  /** p(a ≻ b) for each pair. */
  compare (a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
    const ha = this.heads(a)
    const hb = this.heads(b)
    return Float64Array.from({ length: a.length }, (_, k) => sigmoid(ha.u[k] + hb.v[k]))
  }

  /** Mean BCE of the batch and its gradient into this.grad (overwritten); each distinct architecture is embedded once. */
  lossAndGrad (pairs: NacPairs): number {
    const n = pairs.a.length
    const { map, list } = distinct([pairs.a, pairs.b])
    const f = this.forward(list)
    const { loss, du, dv, dc } = pairBce(pairs, map, list.length, f.u, f.v)
    this.backward(list, f, du, dv)
    this.grad[this.oC] += dc
    return loss / n
  }

  /** this.grad ← the gradient given ∂L/∂u_i and ∂L/∂v_i (u without the bias term's gradient). */
  private backward (list: number[], f: Forward, du: Float64Array, dv: Float64Array): void {
    const D = this.hidden
    const L = this.layers
    const V = this.graphs.vertices
    const F = this.graphs.features
    const P = this.params
    const G = this.grad
    G.fill(0)
    const { norm, feat } = this.graphs
    const m = list.length
    // Head: ∂/∂w_a = Σ du_i z_i, ∂/∂w_b = Σ dv_i z_i; dz_i = du_i w_a + dv_i w_b.
    for (let i = 0; i < m; i++) {
      for (let k = 0; k < D; k++) { G[this.oWa + k] += du[i] * f.z[i * D + k]; G[this.oWb + k] += dv[i] * f.z[i * D + k] }
    }
    // dH_L: every vertex slot gets dz/V.
    let dH = new Float64Array(m * V * D)
    for (let i = 0; i < m; i++) {
      for (let k = 0; k < D; k++) {
        const d = (du[i] * P[this.oWa + k] + dv[i] * P[this.oWb + k]) / V
        for (let r = 0; r < V; r++) dH[(i * V + r) * D + k] = d
      }
    }
    const dO = new Float64Array(m * V * D)
    const dS = new Float64Array(m * V * D)
    const dSf = new Float64Array(F * D) // layer 0: dS summed by vertex id
    for (let l = L - 1; l >= 0; l--) {
      const Hout = f.H[l + 1]
      const Hin = f.H[l]
      const bOff = this.ob[l]
      // dO = dH ⊙ 1{O > 0} (Hout = ReLU(O); Hout > 0 ⇔ O > 0).
      for (let q = 0; q < dO.length; q++) dO[q] = Hout[q] > 0 ? dH[q] : 0
      // O_r = Σ_j Ã[r][j] S_j + H_r + b: db = Σ dO, dH_in = dO + dS W_lᵀ, dS_j = Σ_r Ã[r][j] dO_r.
      dS.fill(0)
      for (let i = 0; i < m; i++) {
        const nb = list[i] * V * V
        const gb = i * V * D
        for (let r = 0; r < V; r++) {
          const o = gb + r * D
          for (let k = 0; k < D; k++) G[bOff + k] += dO[o + k]
          for (let j = 0; j < V; j++) {
            if (norm[nb + r * V + j] === 0) continue
            const s = gb + j * D
            for (let k = 0; k < D; k++) dS[s + k] += dO[o + k]
          }
        }
      }
      const dHin = new Float64Array(m * V * D)
      dHin.set(dO)
      if (l === 0) {
        // S = (E·W_0)[ids]: ∂/∂W_0 = Σ_f E_fᵀ dSf_f; ∂/∂E_f += dSf_f W_0ᵀ (below, with the residual).
        dSf.fill(0)
        for (let i = 0; i < m; i++) {
          const fb = list[i] * V
          for (let r = 0; r < V; r++) {
            const s = (i * V + r) * D
            const t = feat[fb + r] * D
            for (let k = 0; k < D; k++) dSf[t + k] += dS[s + k]
          }
        }
        const W = this.oW[0]
        for (let fi = 0; fi < F; fi++) {
          for (let k = 0; k < D; k++) {
            const e = P[fi * D + k]
            if (e === 0) continue
            const w = W + k * D
            for (let q = 0; q < D; q++) G[w + q] += e * dSf[fi * D + q]
          }
          // ∂/∂E_f[k] += Σ_q dSf_f[q] W_0[k][q]
          for (let k = 0; k < D; k++) {
            let acc = 0
            const w = W + k * D
            for (let q = 0; q < D; q++) acc += dSf[fi * D + q] * P[w + q]
            G[fi * D + k] += acc
          }
        }
        // Residual into the embedding rows.
        for (let i = 0; i < m; i++) {
          const fb = list[i] * V
          for (let r = 0; r < V; r++) {
            const s = (i * V + r) * D
            const t = feat[fb + r] * D
            for (let k = 0; k < D; k++) G[t + k] += dHin[s + k]
          }
        }
      } else {
        const W = this.oW[l]
        // ∂/∂W_l = Hinᵀ dS; dHin += dS W_lᵀ.
        matmulTAInto(Hin, m * V, D, dS, D, G, W)
        matmulBTInto(dS, m * V, D, P, W, D, dHin)
      }
      dH = dHin
    }
  }

  /** One Adam step on a batch; returns the batch's loss before the step. */
  train (pairs: NacPairs): number {
    const loss = this.lossAndGrad(pairs)
    this.adam.step(this.params, this.grad)
    this.cache.clear()
    return loss
  }
}

// Dense kernels in plain float64, four rows at a time (each weight read serves four rows).

/** out[r·D + q] = Σ_k A[aOff + r·K + k]·B[bOff + k·D + q] for r < R (A is R×K, B is K×D). */
function matmulInto (A: Float64Array, aOff: number, R: number, K: number, B: Float64Array, bOff: number, D: number, out: Float64Array, oOff: number): void {
  out.fill(0, oOff, oOff + R * D)
  let r = 0
  for (; r + 4 <= R; r += 4) {
    const a0 = aOff + r * K; const a1 = a0 + K; const a2 = a1 + K; const a3 = a2 + K
    const o0 = oOff + r * D; const o1 = o0 + D; const o2 = o1 + D; const o3 = o2 + D
    for (let k = 0; k < K; k++) {
      const x0 = A[a0 + k]; const x1 = A[a1 + k]; const x2 = A[a2 + k]; const x3 = A[a3 + k]
      if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0) continue
      const w = bOff + k * D
      for (let q = 0; q < D; q++) {
        const b = B[w + q]
        out[o0 + q] += x0 * b; out[o1 + q] += x1 * b; out[o2 + q] += x2 * b; out[o3 + q] += x3 * b
      }
    }
  }
  for (; r < R; r++) {
    const o = oOff + r * D
    for (let k = 0; k < K; k++) {
      const x = A[aOff + r * K + k]
      if (x === 0) continue
      const w = bOff + k * D
      for (let q = 0; q < D; q++) out[o + q] += x * B[w + q]
    }
  }
}

/** G[gOff + k·N + q] += Σ_r A[r·K + k]·dS[r·N + q] (Aᵀ dS; A is R×K, dS is R×N). */
function matmulTAInto (A: Float64Array, R: number, K: number, dS: Float64Array, N: number, G: Float64Array, gOff: number): void {
  let r = 0
  for (; r + 4 <= R; r += 4) {
    const a0 = r * K; const a1 = a0 + K; const a2 = a1 + K; const a3 = a2 + K
    const s0 = r * N; const s1 = s0 + N; const s2 = s1 + N; const s3 = s2 + N
    for (let k = 0; k < K; k++) {
      const x0 = A[a0 + k]; const x1 = A[a1 + k]; const x2 = A[a2 + k]; const x3 = A[a3 + k]
      if (x0 === 0 && x1 === 0 && x2 === 0 && x3 === 0) continue
      const g = gOff + k * N
      for (let q = 0; q < N; q++) G[g + q] += x0 * dS[s0 + q] + x1 * dS[s1 + q] + x2 * dS[s2 + q] + x3 * dS[s3 + q]
    }
  }
  for (; r < R; r++) {
    for (let k = 0; k < K; k++) {
      const x = A[r * K + k]
      if (x === 0) continue
      const g = gOff + k * N
      for (let q = 0; q < N; q++) G[g + q] += x * dS[r * N + q]
    }
  }
}

/** out[r·K + k] += Σ_q dS[r·N + q]·B[bOff + k·N + q] (dS Bᵀ; dS is R×N, B is K×N). */
function matmulBTInto (dS: Float64Array, R: number, N: number, B: Float64Array, bOff: number, K: number, out: Float64Array): void {
  let r = 0
  for (; r + 4 <= R; r += 4) {
    const s0 = r * N; const s1 = s0 + N; const s2 = s1 + N; const s3 = s2 + N
    for (let k = 0; k < K; k++) {
      const w = bOff + k * N
      let c0 = 0; let c1 = 0; let c2 = 0; let c3 = 0
      for (let q = 0; q < N; q++) {
        const b = B[w + q]
        c0 += dS[s0 + q] * b; c1 += dS[s1 + q] * b; c2 += dS[s2 + q] * b; c3 += dS[s3 + q] * b
      }
      out[r * K + k] += c0; out[(r + 1) * K + k] += c1; out[(r + 2) * K + k] += c2; out[(r + 3) * K + k] += c3
    }
  }
  for (; r < R; r++) {
    for (let k = 0; k < K; k++) {
      const w = bOff + k * N
      let c = 0
      for (let q = 0; q < N; q++) c += dS[r * N + q] * B[w + q]
      out[r * K + k] += c
    }
  }
}
