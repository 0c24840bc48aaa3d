// The AG-Net generator and surrogate (Lukasik, Jung & Keuper, ECCV 2022, Fig. 2; layer sizes
// of the authors' code, jovitalukasik/AG-Net), hand-written on the autodiff tape of
// lib/models/autodiff.ts (Float64Array; exactly deterministic; ~42k generator parameters).
//
// d = 32 hidden units, C node classes, M nodes, z ∈ R^32. Linear = L; Emb = L(C→32)–ReLU–L(32→32).
//   start:  h₀ = L(64→32)(ReLU(L(64→64)[Emb(onehot input), z])); node 0 logits = 20·onehot(input)
//   step s = 1 … M−1:
//     1. s > 1: propagate over the graph so far. h is split into halves of 16; 2 layers run on
//        the edges (first half) and then 2 on the reversed edges (second half). A layer sends
//        L(32→32)[h_j, h_i] along each edge j→i, sums the messages at i, and updates h_i with
//        a GRUCell(32→16). The propagated h replaces the old.
//     2. two gated-sum readouts h_G, h_Gi = Σ_v L(32→32)(h_v)·σ(L(32→1)(h_v)) (separate weights;
//        at s = 1 each readout's L(32→32)(h₀), ungated)
//     3. node logits = L(32→C)(ReLU(L(64→32)[h_G, z]))
//     4. h_v = L(64→32)(ReLU(L(96→64)[Emb(node logits), h_Gi, z]))
//     5. edge logit u→s for each u < s = L(64→1)(ReLU(L(128→64)[h_u, h_v, h_G, z])); at s = 1
//        the edge 0→1 is the constant 20
//     6. append h_v; edges with logit > 0.5 join the propagation graph (hard, no gradient)
// Output: the M·C node logits ++ the M(M−1)/2 edge logits (edge j→i at i(i−1)/2 + j) — the
// surrogate's input. Paper-silent details taken here: the propagation is synchronous (all
// nodes per layer), a node without messages receives a zero message, and the 4 layers run
// forward, forward, backward, backward.
import { Adam, Mat, Param, Tape, logSigmoid, sigmoid } from './autodiff'
import type { Random } from '../random'
import { agnetEdgeCount, agnetEdgeIndex, agnetLength } from '../encode/agnet'

export const AGNET_HIDDEN = 32
export const AGNET_LATENT = 32
const HALF = AGNET_HIDDEN / 2
const CONST_LOGIT = 20
const EDGE_THRESHOLD = 0.5

export interface AgNetShape {
  /** Nodes M (NB-201: 8; NB-101: 7). */
  nodes: number
  /** Node classes C (NB-201: 7; NB-101: 5); class 0 is the output, class 1 the input. */
  classes: number
}

interface Lin { W: Param, b: Param }
interface Gru { Wi: Param, bi: Param, Wh: Param, bh: Param }

function lin (params: Param[], random: Random, name: string, inputs: number, outputs: number): Lin {
  const bound = 1 / Math.sqrt(inputs)
  const W = new Param(`${name}.W`, inputs, outputs).uniform(random, bound)
  const b = new Param(`${name}.b`, 1, outputs).uniform(random, bound)
  params.push(W, b)
  return { W, b }
}

function gruCell (params: Param[], random: Random, name: string, inputs: number, hidden: number): Gru {
  const bound = 1 / Math.sqrt(hidden)
  const Wi = new Param(`${name}.Wi`, inputs, 3 * hidden).uniform(random, bound)
  const bi = new Param(`${name}.bi`, 1, 3 * hidden).uniform(random, bound)
  const Wh = new Param(`${name}.Wh`, hidden, 3 * hidden).uniform(random, bound)
  const bh = new Param(`${name}.bh`, 1, 3 * hidden).uniform(random, bound)
  params.push(Wi, bi, Wh, bh)
  return { Wi, bi, Wh, bh }
}

/** What one generator forward returns. */
export interface AgNetOutput {
  /** [B × (M·C + M(M−1)/2)]: node logits then edge logits (the surrogate's input). */
  out: Mat
  batch: number
}

/**
 * The senders of node i in one propagation layer over n nodes (forward: edges j→i with j < i;
 * reverse: edges i→j with i < j, sending from j to i) whose edge is on (mask 1) in at least one
 * row, each with its 0/1 row factors; `degree` (one entry per row) gets each row's number of
 * incoming messages added. Shared by the tape generator and its tfjs twin.
 */
export function agnetSenders (i: number, n: number, reverse: boolean, mask: ArrayLike<number>[], degree: Float64Array): Array<{ j: number, on: Float64Array }> {
  const B = degree.length
  const out: Array<{ j: number, on: Float64Array }> = []
  for (let j = 0; j < n; j++) {
    if (j === i) continue
    const k = reverse ? (i < j ? agnetEdgeIndex(i, j) : -1) : (j < i ? agnetEdgeIndex(j, i) : -1)
    if (k < 0) continue
    const m = mask[k]
    let any = false
    const on = new Float64Array(B)
    for (let r = 0; r < B; r++) if (m[r] === 1) { on[r] = 1; degree[r]++; any = true }
    if (any) out.push({ j, on })
  }
  return out
}

export class AgNetGenerator {
  readonly shape: AgNetShape
  readonly params: Param[] = []
  readonly length: number
  private readonly emb1: Lin
  private readonly emb2: Lin
  private readonly init1: Lin
  private readonly init2: Lin
  private readonly msg: Lin[]
  private readonly upd: Gru[]
  private readonly readG: Lin
  private readonly gateG: Lin
  private readonly readGi: Lin
  private readonly gateGi: Lin
  private readonly node1: Lin
  private readonly node2: Lin
  private readonly hv1: Lin
  private readonly hv2: Lin
  private readonly edge1: Lin
  private readonly edge2: Lin

  constructor (shape: AgNetShape, random: Random) {
    const { nodes, classes } = shape
    if (!Number.isInteger(nodes) || nodes < 3) throw new RangeError(`AgNetGenerator: nodes must be an integer >= 3, got ${nodes}`)
    if (!Number.isInteger(classes) || classes < 3) throw new RangeError(`AgNetGenerator: classes must be an integer >= 3, got ${classes}`)
    this.shape = { nodes, classes }
    this.length = agnetLength(nodes, classes)
    const p = this.params
    const d = AGNET_HIDDEN
    const zd = AGNET_LATENT
    this.emb1 = lin(p, random, 'emb1', classes, d)
    this.emb2 = lin(p, random, 'emb2', d, d)
    this.init1 = lin(p, random, 'init1', d + zd, 2 * d)
    this.init2 = lin(p, random, 'init2', 2 * d, d)
    this.msg = []
    this.upd = []
    for (let l = 0; l < 4; l++) {
      this.msg.push(lin(p, random, `prop${l}.msg`, 2 * HALF, d))
      this.upd.push(gruCell(p, random, `prop${l}.gru`, d, HALF))
    }
    this.readG = lin(p, random, 'readG', d, d)
    this.gateG = lin(p, random, 'gateG', d, 1)
    this.readGi = lin(p, random, 'readGi', d, d)
    this.gateGi = lin(p, random, 'gateGi', d, 1)
    this.node1 = lin(p, random, 'node1', d + zd, d)
    this.node2 = lin(p, random, 'node2', d, classes)
    this.hv1 = lin(p, random, 'hv1', 2 * d + zd, 2 * d)
    this.hv2 = lin(p, random, 'hv2', 2 * d, d)
    this.edge1 = lin(p, random, 'edge1', 3 * d + zd, 2 * d)
    this.edge2 = lin(p, random, 'edge2', 2 * d, 1)
  }

  get parameterCount (): number { return this.params.reduce((s, q) => s + q.data.length, 0) }

  private emb (t: Tape, x: Mat): Mat { return t.linear([t.relu(t.linear([x], this.emb1.W, this.emb1.b))], this.emb2.W, this.emb2.b) }

  private readout (t: Tape, hs: Mat[], read: Lin, gate: Lin): Mat {
    const terms = hs.map(h => t.scaleRows(t.linear([h], read.W, read.b), t.sigmoid(t.linear([h], gate.W, gate.b))))
    return terms.length === 1 ? terms[0] : t.add(...terms)
  }

  /** One propagation layer over one half of h along `edges` (reverse: along the reversed edges). */
  private propagate (t: Tape, hs: Mat[], layer: number, mask: Uint8Array[], reverse: boolean): Mat[] {
    const B = hs[0].rows
    const n = hs.length
    const start = reverse ? HALF : 0
    const halves = hs.map(h => t.cols(h, start, start + HALF))
    const { W, b } = this.msg[layer]
    // L(32→32)[h_j, h_i] = h_j·W[0:16] + (h_i·W[16:32] + b): the sender part once per node.
    const sent = halves.map(h => t.linear([h], W, null, 0))
    const next: Mat[] = []
    for (let i = 0; i < n; i++) {
      const msgs: Mat[] = []
      const degree = new Float64Array(B)
      for (const { j, on } of agnetSenders(i, n, reverse, mask, degree)) msgs.push(t.scaleRows(sent[j], t.constant(B, 1, on)))
      if (msgs.length > 0) msgs.push(t.scaleRows(t.linear([halves[i]], W, b, HALF), t.constant(B, 1, degree)))
      const message = msgs.length === 0 ? t.constant(B, AGNET_HIDDEN) : msgs.length === 1 ? msgs[0] : t.add(...msgs)
      const g = this.upd[layer]
      const updated = t.gru(message, halves[i], g.Wi, g.bi, g.Wh, g.bh)
      const other = t.cols(hs[i], reverse ? 0 : HALF, reverse ? HALF : 2 * HALF)
      next.push(reverse ? t.concat([other, updated]) : t.concat([updated, other]))
    }
    return next
  }

  /** The generator's output for latent codes z [B × 32]. */
  forward (t: Tape, z: Mat): AgNetOutput {
    const { nodes: M, classes: C } = this.shape
    const B = z.rows
    if (z.cols !== AGNET_LATENT) throw new RangeError(`AgNetGenerator.forward: z must have ${AGNET_LATENT} columns, got ${z.cols}`)
    const onehot = new Float64Array(B * C)
    const node0 = new Float64Array(B * C)
    for (let r = 0; r < B; r++) { onehot[r * C + 1] = 1; node0[r * C + 1] = CONST_LOGIT }
    const h0 = t.linear([t.relu(t.linear([this.emb(t, t.constant(B, C, onehot)), z], this.init1.W, this.init1.b))], this.init2.W, this.init2.b)
    let hs: Mat[] = [h0]
    const nodeLogits: Mat[] = [t.constant(B, C, node0)]
    const E = agnetEdgeCount(M)
    const edgeLogits: Mat[] = new Array(E)
    const mask: Uint8Array[] = Array.from({ length: E }, () => new Uint8Array(B))
    for (let s = 1; s < M; s++) {
      let hG: Mat
      let hGi: Mat
      if (s === 1) {
        hG = t.linear([h0], this.readG.W, this.readG.b)
        hGi = t.linear([h0], this.readGi.W, this.readGi.b)
      } else {
        hs = this.propagate(t, hs, 0, mask, false)
        hs = this.propagate(t, hs, 1, mask, false)
        hs = this.propagate(t, hs, 2, mask, true)
        hs = this.propagate(t, hs, 3, mask, true)
        hG = this.readout(t, hs, this.readG, this.gateG)
        hGi = this.readout(t, hs, this.readGi, this.gateGi)
      }
      const logits = t.linear([t.relu(t.linear([hG, z], this.node1.W, this.node1.b))], this.node2.W, this.node2.b)
      nodeLogits.push(logits)
      const hv = t.linear([t.relu(t.linear([this.emb(t, logits), hGi, z], this.hv1.W, this.hv1.b))], this.hv2.W, this.hv2.b)
      if (s === 1) {
        edgeLogits[0] = t.constant(B, 1, new Float64Array(B).fill(CONST_LOGIT))
      } else {
        // The shared part [h_v, h_G, z] of L(128→64) is the same for every u.
        const shared = t.linear([hv, hG, z], this.edge1.W, this.edge1.b, AGNET_HIDDEN)
        for (let u = 0; u < s; u++) {
          const pre = t.add(t.linear([hs[u]], this.edge1.W, null, 0), shared)
          edgeLogits[agnetEdgeIndex(u, s)] = t.linear([t.relu(pre)], this.edge2.W, this.edge2.b)
        }
      }
      for (let u = 0; u < s; u++) {
        const k = agnetEdgeIndex(u, s)
        const d = edgeLogits[k].data
        for (let r = 0; r < B; r++) mask[k][r] = d[r] > EDGE_THRESHOLD ? 1 : 0
      }
      hs.push(hv)
    }
    return { out: t.concat([...nodeLogits, ...edgeLogits]), batch: B }
  }
}

/** The surrogate: 4 × [L(D→D), ReLU], then L(D→1) (paper: a 4-layer MLP; ref sizes). */
export class AgNetSurrogate {
  readonly params: Param[] = []
  readonly inputs: number
  private readonly layers: Lin[] = []
  private readonly head: Lin

  constructor (inputs: number, random: Random) {
    this.inputs = inputs
    for (let l = 0; l < 4; l++) this.layers.push(lin(this.params, random, `surrogate${l}`, inputs, inputs))
    this.head = lin(this.params, random, 'surrogate.head', inputs, 1)
  }

  forward (t: Tape, x: Mat): Mat {
    let h = x
    for (const l of this.layers) h = t.relu(t.linear([h], l.W, l.b))
    return t.linear([h], this.head.W, this.head.b)
  }
}

/**
 * The hardware-aware surrogate (AG-Net's HW variant, Eq. 4–6; the authors' code): the input is
 * g ++ a one-hot of the device, and the one-hot is concatenated again to every hidden layer's
 * input: 4 × [L(D+K→D), ReLU], then L(D+K→2) → (accuracy, latency).
 */
export class AgNetHwSurrogate {
  readonly params: Param[] = []
  readonly inputs: number
  readonly devices: number
  private readonly layers: Lin[] = []
  private readonly head: Lin

  constructor (inputs: number, devices: number, random: Random) {
    this.inputs = inputs
    this.devices = devices
    for (let l = 0; l < 4; l++) this.layers.push(lin(this.params, random, `hw${l}`, inputs + devices, inputs))
    this.head = lin(this.params, random, 'hw.head', inputs + devices, 2)
  }

  /** x: rows of g; device: the one-hot's position (the same for every row). Returns rows × 2. */
  forward (t: Tape, x: Mat, device: number): Mat {
    if (!Number.isInteger(device) || device < 0 || device >= this.devices) throw new RangeError(`AgNetHwSurrogate: device must be an integer in [0, ${this.devices}), got ${device}`)
    const oneHot = new Float64Array(x.rows * this.devices)
    for (let r = 0; r < x.rows; r++) oneHot[r * this.devices + device] = 1
    const d = t.constant(x.rows, this.devices, oneHot)
    let h = x
    for (const l of this.layers) h = t.relu(t.linear([h, d], l.W, l.b))
    return t.linear([h, d], this.head.W, this.head.b)
  }
}

/** Per-sample reconstruction loss parts of Eq. 1 for one batch. */
export interface ReconstructionLoss {
  /** Per-sample CE over nodes (mean over the M nodes). */
  ce: Float64Array
  /** Per-sample BCE over edges (mean over the M(M−1)/2 slots). */
  bce: Float64Array
}

/**
 * Eq. 1 per sample and its gradient: CE(node logits, target classes) + BCE(edge logits, target
 * edges), each a per-sample mean; `weights` (per sample) scale the gradient, which is seeded
 * into out.grad as ∂(Σ_b weights_b·(ceScale·CE_b + BCE_b)) — callers fold the batch mean and
 * any α into the weights.
 */
export function reconstructionLoss (shape: AgNetShape, out: Mat, targetClasses: Uint8Array, targetEdges: Uint8Array, weights: Float64Array | null, ceScale = 1): ReconstructionLoss {
  const { nodes: M, classes: C } = shape
  const E = agnetEdgeCount(M)
  const B = out.rows
  const D = out.cols
  const ce = new Float64Array(B)
  const bce = new Float64Array(B)
  const grad = weights !== null ? out.g() : null
  const p = new Float64Array(C)
  for (let r = 0; r < B; r++) {
    const w = weights !== null ? weights[r] : 0
    for (let v = 0; v < M; v++) {
      const o = r * D + v * C
      let max = -Infinity
      for (let c = 0; c < C; c++) if (out.data[o + c] > max) max = out.data[o + c]
      let sum = 0
      for (let c = 0; c < C; c++) { p[c] = Math.exp(out.data[o + c] - max); sum += p[c] }
      const target = targetClasses[r * M + v]
      ce[r] -= (out.data[o + target] - max - Math.log(sum)) / M
      if (grad !== null) for (let c = 0; c < C; c++) grad[o + c] += w * ceScale * (p[c] / sum - (c === target ? 1 : 0)) / M
    }
    for (let k = 0; k < E; k++) {
      const o = r * D + M * C + k
      const x = out.data[o]
      const y = targetEdges[r * E + k]
      bce[r] -= (y * logSigmoid(x) + (1 - y) * logSigmoid(-x)) / E
      if (grad !== null) grad[o] += w * (sigmoid(x) - y) / E
    }
  }
  return { ce, bce }
}

/** Copies of the parameter values (a checkpoint). */
export function snapshot (params: Param[]): Float64Array[] { return params.map(p => Float64Array.from(p.data)) }
/** Restores parameter values from a snapshot. */
export function restore (params: Param[], values: Float64Array[]): void {
  if (values.length !== params.length) throw new RangeError(`restore: ${values.length} arrays for ${params.length} parameters`)
  params.forEach((p, i) => {
    if (values[i].length !== p.data.length) throw new RangeError(`restore: ${p.name} has ${p.data.length} values, the snapshot ${values[i].length}`)
    p.data.set(values[i])
  })
}

export { Adam, Tape, Mat }
