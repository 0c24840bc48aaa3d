// Slow, obvious float64 references for CTNAS on NB-201: the NAC's input graph (from the
// package's nb201GraphBatch of the pruned cell, not from nac.ts), the NAC forward pass as the
// paper writes it (Z = Â·ReLU(Â X W0)·W1, mean over vertices, σ([z_a; z_b]·w)), the LSTM
// controller's log π, the curriculum's Eq. 5 winner and data exploration's selection.
import { nb201GraphBatch } from '../../lib/encode/graph'
import { nb201 } from '../../lib/spaces/nb201'

const V = 8

/** Â (row-major 8×8) and feature ids of one cell (op codes), via nb201GraphBatch(prune(cell)). */
export function refNacGraph (ops: number[]): { norm: number[][], feat: number[] } {
  const g = nb201GraphBatch(nb201.pruneBatch(Uint8Array.from(ops)))
  const feat: number[] = []
  for (let i = 0; i < V; i++) {
    if (g.mask[i] === 0) { feat.push(0); continue }
    let f = -1
    for (let k = 0; k < 6; k++) if (g.x[i * 6 + k] === 1) f = k
    // nb201GraphBatch features: input 0, skip 1 … avgpool 4, output 5 → NAC ids +1 (0 = dummy).
    feat.push(f + 1)
  }
  // Ã = Aᵀ + I (vertex i gathers from predecessors j: A[j][i] = 1).
  const t = Array.from({ length: V }, (_, i) => Array.from({ length: V }, (_, j) => g.adjacency[j * V + i] + (i === j ? 1 : 0)))
  const d = t.map(row => row.reduce((a, b) => a + b, 0))
  const norm = t.map((row, i) => row.map((x, j) => x / Math.sqrt(d[i] * d[j])))
  return { norm, feat }
}

function matmul (a: number[][], b: number[][]): number[][] {
  return a.map(row => b[0].map((_, j) => row.reduce((s, x, k) => s + x * b[k][j], 0)))
}

/** Parameters of a NAC (nac.ts layout: W0 F×D, W1 D×D, w_a D, w_b D) as matrices. */
export function refNacParams (params: Float64Array, D: number, F = 7): { W0: number[][], W1: number[][], wa: number[], wb: number[] } {
  let at = 0
  const take = (r: number, c: number): number[][] => Array.from({ length: r }, () => Array.from({ length: c }, () => params[at++]))
  const W0 = take(F, D)
  const W1 = take(D, D)
  const wa = take(1, D)[0]
  const wb = take(1, D)[0]
  return { W0, W1, wa, wb }
}

export function refNacEmbed (params: Float64Array, D: number, ops: number[]): number[] {
  const { W0, W1 } = refNacParams(params, D)
  const { norm, feat } = refNacGraph(ops)
  const X = feat.map(f => Array.from({ length: 7 }, (_, k) => (k === f ? 1 : 0)))
  const H1 = matmul(matmul(norm, X), W0).map(r => r.map(x => Math.max(0, x)))
  const Z = matmul(matmul(norm, H1), W1)
  return Z[0].map((_, k) => Z.reduce((s, r) => s + r[k], 0) / V)
}

export function refNacProb (params: Float64Array, D: number, a: number[], b: number[]): number {
  const { wa, wb } = refNacParams(params, D)
  const za = refNacEmbed(params, D, a)
  const zb = refNacEmbed(params, D, b)
  let x = 0
  for (let k = 0; k < D; k++) x += za[k] * wa[k] + zb[k] * wb[k]
  return 1 / (1 + Math.exp(-x))
}

/** log π of an op sequence under the controller's parameters (controller.ts layout), PyTorch LSTMCell equations. */
export function refControllerLogProb (params: Float64Array, H: number, ops: number[]): { logProb: number, entropy: number, probs: number[][] } {
  const C = 5
  let at = 0
  const take = (r: number, c: number): number[][] => Array.from({ length: r }, () => Array.from({ length: c }, () => params[at++]))
  const Wih = take(4 * H, H); const bih = take(1, 4 * H)[0]
  const Whh = take(4 * H, H); const bhh = take(1, 4 * H)[0]
  const Wo = take(C, H); const bo = take(1, C)[0]
  const E = take(C, H)
  const sig = (x: number): number => 1 / (1 + Math.exp(-x))
  let h = new Array(H).fill(0)
  let c = new Array(H).fill(0)
  let logProb = 0
  let entropy = 0
  const probs: number[][] = []
  for (let t = 0; t < 6; t++) {
    const x = t === 0 ? new Array(H).fill(0) : E[ops[t - 1]]
    const g = Wih.map((row, r) => row.reduce((s, w, k) => s + w * x[k], 0) + bih[r] + Whh[r].reduce((s, w, k) => s + w * h[k], 0) + bhh[r])
    const i = g.slice(0, H).map(sig); const f = g.slice(H, 2 * H).map(sig)
    const gg = g.slice(2 * H, 3 * H).map(Math.tanh); const o = g.slice(3 * H).map(sig)
    c = c.map((cp, k) => f[k] * cp + i[k] * gg[k])
    h = c.map((ck, k) => o[k] * Math.tanh(ck))
    const logits = Wo.map((row, a) => row.reduce((s, w, k) => s + w * h[k], 0) + bo[a])
    const p = logits.map(Math.exp)
    const z = p.reduce((a, b) => a + b, 0)
    probs.push(p.map(q => q / z))
    logProb += Math.log(p[ops[t]] / z)
    entropy -= p.reduce((s, q) => s + (q / z) * Math.log(q / z), 0)
  }
  return { logProb, entropy, probs }
}

/** Eq. 5 winner from a full probability matrix prob[i][j] = p(i ≻ j): argmax of row means over j ≠ i, the last maximum winning. */
export function refBaseline (prob: number[][]): { scores: number[], best: number } {
  const n = prob.length
  const scores = prob.map((row, i) => row.reduce((s, p, j) => (j === i ? s : s + p), 0) / (n - 1))
  let best = 0
  scores.forEach((s, i) => { if (s >= scores[best]) best = i })
  return { scores, best }
}

/** Data exploration's selection by repeated scans: the most confident remaining pair, earliest on ties. */
export function refPseudo (p: number[], keep: number): Array<{ index: number, label: number }> {
  const left = p.map((_, k) => k)
  const out: Array<{ index: number, label: number }> = []
  while (out.length < keep && left.length > 0) {
    let best = 0
    for (let k = 1; k < left.length; k++) if (Math.abs(p[left[k]] - 0.5) > Math.abs(p[left[best]] - 0.5)) best = k
    const i = left.splice(best, 1)[0]
    out.push({ index: i, label: p[i] >= 0.5 ? 1 : 0 })
  }
  return out
}

/** Eq. 5 by definition: s_i = (Σ_{j≠i} σ(u_i + v_j + b)) / (n − 1), σ as 1/(1 + e^−x). */
export function refRowMeans (u: number[], v: number[], bias = 0): number[] {
  const n = u.length
  return u.map((ui, i) => {
    let s = 0
    for (let j = 0; j < n; j++) if (j !== i) s += 1 / (1 + Math.exp(-(ui + v[j] + bias)))
    return n === 1 ? 0 : s / (n - 1)
  })
}

/** Eq. 12 by definition over i < j on the probability p_ij = σ(u_i + v_j + b): the sign-product counts. */
export function refEq12 (u: number[], v: number[], truth: number[], ties: 'paper' | 'code', bias = 0): { concordant: number, discordant: number, zero: number } {
  const sgn = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : ties === 'code' ? 1 : 0)
  let concordant = 0; let discordant = 0; let zero = 0
  for (let i = 0; i < u.length; i++) {
    for (let j = i + 1; j < u.length; j++) {
      const p = 1 / (1 + Math.exp(-(u[i] + v[j] + bias)))
      const s = sgn(p - 0.5) * sgn(truth[i] - truth[j])
      if (s > 0) concordant++; else if (s < 0) discordant++; else zero++
    }
  }
  return { concordant, discordant, zero }
}

/**
 * Â (row-major 7×7) and vertex ids of one NB-101 cell, straight from its spec (not through
 * nb101GraphBatch): vertices 0..V'−2 in place, the output in slot 6, slots V'−1..5 dummies;
 * ids dummy 0, input 1, conv1x1 2, conv3x3 3, maxpool 4, output 5.
 */
export function refNac101Graph (spec: { matrix: number[][], ops: string[] }): { norm: number[][], feat: number[] } {
  const W = 7
  const n = spec.ops.length
  const slot = (v: number): number => (v === n - 1 ? W - 1 : v)
  const ids: Record<string, number> = { input: 1, 'conv1x1-bn-relu': 2, 'conv3x3-bn-relu': 3, maxpool3x3: 4, output: 5 }
  const feat = new Array<number>(W).fill(0)
  for (let v = 0; v < n; v++) feat[slot(v)] = ids[spec.ops[v]]
  const t = Array.from({ length: W }, (_, i) => Array.from({ length: W }, (_, j) => (i === j ? 1 : 0)))
  for (let u = 0; u < n; u++) for (let v = 0; v < n; v++) if (spec.matrix[u][v] === 1) t[slot(v)][slot(u)] = 1
  const d = t.map(row => row.reduce((a, b) => a + b, 0))
  const norm = t.map((row, i) => row.map((x, j) => x / Math.sqrt(d[i] * d[j])))
  return { norm, feat }
}

/** The NAC's pooled embedding of an NB-101 cell (V 7, F 6), as the paper writes it. */
export function refNac101Embed (params: Float64Array, D: number, spec: { matrix: number[][], ops: string[] }): number[] {
  const { W0, W1 } = refNacParams(params, D, 6)
  const { norm, feat } = refNac101Graph(spec)
  const X = feat.map(f => Array.from({ length: 6 }, (_, k) => (k === f ? 1 : 0)))
  const H1 = matmul(matmul(norm, X), W0).map(r => r.map(x => Math.max(0, x)))
  const Z = matmul(matmul(norm, H1), W1)
  return Z[0].map((_, k) => Z.reduce((s, r) => s + r[k], 0) / 7)
}

/**
 * log π and entropy of an NB-101 decision sequence (the code's arch_seq, seq[0] = n), written
 * as the code's NASBenchController.forward reads: an LSTMCell step before every decision; the
 * n-decision from Linear(64→5) of h; node k's predecessor by v·tanh(W_e e_j + W_h h) over
 * j < k, its op by Linear(64→3); the output's predecessor over j ≤ n; 2(8−n) edge ends over
 * j ≤ n+1; the input of each step the embedding of the previous decision (n_nodes_embedding,
 * node_embedding, op_embedding). Parameters in controller-nb101.ts's layout.
 */
export function refNb101ControllerLogProb (params: Float64Array, H: number, seq: number[]): { logProb: number, entropy: number } {
  let at = 0
  const take = (r: number, c: number): number[][] => Array.from({ length: r }, () => Array.from({ length: c }, () => params[at++]))
  const Wih = take(4 * H, H); const bih = take(1, 4 * H)[0]
  const Whh = take(4 * H, H); const bhh = take(1, 4 * H)[0]
  const nEmb = take(5, H); const nodeEmb = take(7, H); const opEmb = take(3, H)
  const We = take(H, H); const Wh = take(H, H); const v = take(1, H)[0]
  const Wop = take(3, H); const bop = take(1, 3)[0]
  const Wn = take(5, H); const bn = take(1, 5)[0]
  const sig = (x: number): number => 1 / (1 + Math.exp(-x))
  const dot = (a: number[], b: number[]): number => a.reduce((s, x, k) => s + x * b[k], 0)
  let h = new Array(H).fill(0)
  let c = new Array(H).fill(0)
  const lstm = (x: number[]): void => {
    const g = Wih.map((row, r) => dot(row, x) + bih[r] + dot(Whh[r], h) + bhh[r])
    const i = g.slice(0, H).map(sig); const f = g.slice(H, 2 * H).map(sig)
    const gg = g.slice(2 * H, 3 * H).map(Math.tanh); const o = g.slice(3 * H).map(sig)
    c = c.map((cp, k) => f[k] * cp + i[k] * gg[k])
    h = c.map((ck, k) => o[k] * Math.tanh(ck))
  }
  let logProb = 0
  let entropy = 0
  const decide = (logits: number[], pick: number): void => {
    const p = logits.map(Math.exp)
    const z = p.reduce((a, b) => a + b, 0)
    logProb += Math.log(p[pick] / z)
    entropy -= p.reduce((s, q) => s + (q / z) * Math.log(q / z), 0)
  }
  const pointer = (count: number): number[] => {
    const q = Wh.map(row => dot(row, h))
    return Array.from({ length: count }, (_, j) => dot(v, We.map((row, r) => Math.tanh(dot(row, nodeEmb[j]) + q[r]))))
  }
  const n = seq[0]
  lstm(new Array(H).fill(0))
  decide(Wn.map((row, a) => dot(row, h) + bn[a]), n - 1)
  let x = nEmb[n - 1]
  let t = 1
  for (let node = 0; node <= n; node++) {
    lstm(x)
    decide(pointer(node + 1), seq[t])
    x = nodeEmb[seq[t]]; t++
    if (node === n) break
    lstm(x)
    decide(Wop.map((row, a) => dot(row, h) + bop[a]), seq[t])
    x = opEmb[seq[t]]; t++
  }
  for (let k = 0; k < 2 * (8 - n); k++) {
    lstm(x)
    decide(pointer(n + 2), seq[t])
    x = nodeEmb[seq[t]]; t++
  }
  return { logProb, entropy }
}

// ---- the code preset (chenyaofo/CTNAS) -------------------------------------------------------

/** Ã = Aᵀ + I (0/1, row-major V×V: vertex i gathers from predecessors j) and the vertex ids of one NB-201 cell, via nb201GraphBatch(prune(cell)). */
export function refNacCodeGraph (ops: number[]): { adj: number[][], feat: number[] } {
  const g = nb201GraphBatch(nb201.pruneBatch(Uint8Array.from(ops)))
  const { feat } = refNacGraph(ops)
  // Padding (dummy) vertices keep only their self-loop.
  const adj = Array.from({ length: V }, (_, i) => Array.from({ length: V }, (_, j) =>
    i === j ? 1 : (g.mask[i] !== 0 && g.mask[j] !== 0 ? g.adjacency[j * V + i] : 0)))
  return { adj, feat }
}

/** The code preset's NAC parameters (nac-code.ts layout: E F×D, then W_l D×D and b_l D per layer, w_a, w_b, c). */
export function refNacCodeParams (params: ArrayLike<number>, D: number, L: number, F = 7): { E: number[][], W: number[][][], b: number[][], wa: number[], wb: number[], c: number } {
  let at = 0
  const take = (r: number, c: number): number[][] => Array.from({ length: r }, () => Array.from({ length: c }, () => params[at++]))
  const E = take(F, D)
  const W: number[][][] = []; const b: number[][] = []
  for (let l = 0; l < L; l++) { W.push(take(D, D)); b.push(take(1, D)[0]) }
  const wa = take(1, D)[0]; const wb = take(1, D)[0]
  const c = params[at++]
  return { E, W, b, wa, wb, c }
}

/** z = mean over the V slots of H_L, H_0 = X·E, H ← ReLU(Ã (H W) + H + b), as the code's GraphConvolution and GCN. */
export function refNacCodeEmbed (params: ArrayLike<number>, D: number, L: number, ops: number[]): number[] {
  const { E, W, b } = refNacCodeParams(params, D, L)
  const { adj, feat } = refNacCodeGraph(ops)
  const X = feat.map(f => Array.from({ length: 7 }, (_, k) => (k === f ? 1 : 0)))
  let H = matmul(X, E)
  for (let l = 0; l < L; l++) {
    const S = matmul(adj, matmul(H, W[l]))
    H = S.map((row, i) => row.map((x, k) => Math.max(0, x + H[i][k] + b[l][k])))
  }
  return H[0].map((_, k) => H.reduce((s, r) => s + r[k], 0) / V)
}

/** p(a ≻ b) = σ([z_a; z_b]·w + c). */
export function refNacCodeProb (params: ArrayLike<number>, D: number, L: number, a: number[], b: number[]): number {
  const { wa, wb, c } = refNacCodeParams(params, D, L)
  const za = refNacCodeEmbed(params, D, L, a)
  const zb = refNacCodeEmbed(params, D, L, b)
  let x = c
  for (let k = 0; k < D; k++) x += za[k] * wa[k] + zb[k] * wb[k]
  return 1 / (1 + Math.exp(-x))
}

/** Mean BCE of pairs under the reference forward pass. */
export function refNacCodeLoss (params: ArrayLike<number>, D: number, L: number, pairs: Array<{ a: number[], b: number[], y: number }>): number {
  let loss = 0
  for (const q of pairs) {
    const p = refNacCodeProb(params, D, L, q.a, q.b)
    loss -= q.y * Math.log(p) + (1 - q.y) * Math.log(1 - p)
  }
  return loss / pairs.length
}

/** The code's exploration selection by repeated scans: the largest remaining raw p, earliest on ties; y' = 1{p > 0.5}. */
export function refCodePseudo (p: number[], keep: number): Array<{ index: number, label: number }> {
  const left = p.map((_, k) => k)
  const out: Array<{ index: number, label: number }> = []
  while (out.length < keep && left.length > 0) {
    let best = 0
    for (let k = 1; k < left.length; k++) if (p[left[k]] > p[left[best]]) best = k
    const i = left.splice(best, 1)[0]
    out.push({ index: i, label: p[i] > 0.5 ? 1 : 0 })
  }
  return out
}
