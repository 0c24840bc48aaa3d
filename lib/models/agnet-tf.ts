// The AG-Net generator in tfjs ops: the tfjs twin ("AgNetModel (autodiff)") of the tape
// generator (lib/models/agnet.ts, the float64 reference) and the native one (native/agnet.cc).
// It is the path for a GPU (tfjs-node-gpu; wasm/cpu elsewhere) and for tfjs users who want the
// generator inside their own graphs; gradients come from tfjs's autodiff. Float32, so it agrees
// with the reference to float32 rounding (test/agnet-tf.test.ts), not bit for bit.
//
// The computation is the tape's, op for op (read lib/models/agnet.ts for the architecture).
// The propagation graph of step s is the set of edges whose logit is > 0.5 (a hard threshold
// with no gradient, as the paper and the reference): the twin reads each step's edge logits
// back (one sync per step) and uses them as constant 0/1 row factors, exactly as the tape.
import type * as TF from '@tensorflow/tfjs'
import type { Tf } from './backend'
import { AGNET_HIDDEN, AGNET_LATENT, agnetSenders, type AgNetGenerator, type AgNetShape } from './agnet'
import { agnetEdgeCount, agnetEdgeIndex, agnetLength } from '../encode/agnet'

const HALF = AGNET_HIDDEN / 2
const CONST_LOGIT = 20
const EDGE_THRESHOLD = 0.5

type T2 = TF.Tensor2D

export class AgNetTfGenerator {
  readonly tf: Tf
  readonly shape: AgNetShape
  readonly length: number
  /** The trainable variables, in the tape generator's parameter order. */
  readonly variables: Array<TF.Variable<TF.Rank.R2>>
  private readonly byName = new Map<string, TF.Variable<TF.Rank.R2>>()

  /** A tfjs copy (float32) of a tape generator's current parameters. */
  constructor (tf: Tf, gen: AgNetGenerator) {
    this.tf = tf
    this.shape = { ...gen.shape }
    this.length = agnetLength(gen.shape.nodes, gen.shape.classes)
    this.variables = gen.params.map(p => {
      const init = tf.tensor2d(Float32Array.from(p.data), [p.rows, p.cols])
      const v = tf.variable(init, true)
      init.dispose()
      this.byName.set(p.name, v)
      return v
    })
  }

  /** Copies the variables back into a tape generator of the same shape (float32 → float64). */
  copyTo (gen: AgNetGenerator): void {
    if (gen.shape.nodes !== this.shape.nodes || gen.shape.classes !== this.shape.classes) throw new RangeError(`AgNetTfGenerator.copyTo: the generator has ${gen.shape.nodes} nodes × ${gen.shape.classes} classes, this one ${this.shape.nodes} × ${this.shape.classes}`)
    if (gen.params.length !== this.variables.length) throw new RangeError(`AgNetTfGenerator.copyTo: the generator has ${gen.params.length} parameter arrays, this one ${this.variables.length}`)
    gen.params.forEach((p, k) => {
      const v = this.variables[k]
      if (v.size !== p.data.length) throw new RangeError(`AgNetTfGenerator.copyTo: ${p.name} has ${p.data.length} values, the variable ${v.size}`)
      p.data.set(v.dataSync() as Float32Array)
    })
  }

  dispose (): void { for (const v of this.variables) v.dispose() }

  private p (name: string): TF.Variable<TF.Rank.R2> {
    const v = this.byName.get(name)
    if (v === undefined) throw new Error(`AgNetTfGenerator: no parameter ${name}`)
    return v
  }

  // x·W (+ b); rowStart ≥ 0: the inputs meet rows [rowStart, rowStart + cols) of W (the tape's linear).
  private lin (xs: T2[], name: string, bias = true, rowStart = -1, W = 'W', b = 'b'): T2 {
    const tf = this.tf
    const x = xs.length === 1 ? xs[0] : tf.concat(xs, 1)
    let w: T2 = this.p(`${name}.${W}`)
    if (rowStart >= 0) w = tf.slice(w, [rowStart, 0], [x.shape[1], w.shape[1]])
    const y: T2 = tf.matMul(x, w)
    return bias ? tf.add<T2>(y, this.p(`${name}.${b}`)) : y
  }

  private emb (x: T2): T2 { return this.lin([this.tf.relu(this.lin([x], 'emb1'))], 'emb2') }

  private readout (hs: T2[], read: string, gate: string): T2 {
    const tf = this.tf
    const terms: T2[] = hs.map(h => tf.mul<T2>(this.lin([h], read), tf.sigmoid(this.lin([h], gate))))
    return terms.length === 1 ? terms[0] : tf.addN(terms) as T2
  }

  private gru (x: T2, h: T2, name: string): T2 {
    const tf = this.tf
    const H = h.shape[1]
    const B = h.shape[0]
    const gi = this.lin([x], name, true, -1, 'Wi', 'bi')
    const gh = this.lin([h], name, true, -1, 'Wh', 'bh')
    const part = (m: T2, k: number): T2 => tf.slice(m, [0, k * H], [B, H])
    const r = tf.sigmoid(tf.add(part(gi, 0), part(gh, 0)))
    const z = tf.sigmoid(tf.add(part(gi, 1), part(gh, 1)))
    const n = tf.tanh(tf.add(part(gi, 2), tf.mul(r, part(gh, 2))))
    return tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h))
  }

  private propagate (hs: T2[], layer: number, mask: Float32Array[], reverse: boolean): T2[] {
    const tf = this.tf
    const B = hs[0].shape[0]
    const n = hs.length
    const start = reverse ? HALF : 0
    const halves = hs.map(h => tf.slice(h, [0, start], [B, HALF]))
    const msg = `prop${layer}.msg`
    const sent = halves.map(h => this.lin([h], msg, false, 0))
    const next: T2[] = []
    for (let i = 0; i < n; i++) {
      const terms: T2[] = []
      const degree = new Float64Array(B)
      for (const { j, on } of agnetSenders(i, n, reverse, mask, degree)) terms.push(tf.mul(sent[j], tf.tensor2d(Float32Array.from(on), [B, 1])))
      if (terms.length > 0) terms.push(tf.mul(this.lin([halves[i]], msg, true, HALF), tf.tensor2d(Float32Array.from(degree), [B, 1])))
      const message = terms.length === 0 ? tf.zeros([B, AGNET_HIDDEN]) as T2 : terms.length === 1 ? terms[0] : tf.addN(terms)
      const updated = this.gru(message, halves[i], `prop${layer}.gru`)
      const other = tf.slice(hs[i], [0, reverse ? 0 : HALF], [B, HALF])
      next.push(tf.concat(reverse ? [other, updated] : [updated, other], 1))
    }
    return next
  }

  /**
   * The generator's output for latent codes z [B × 32]: [B × (M·C + M(M−1)/2)], node logits then
   * edge logits (the tape's layout). Call it inside tf.tidy or a gradient function.
   */
  forward (z: T2): T2 {
    const tf = this.tf
    const { nodes: M, classes: C } = this.shape
    if (z.rank !== 2 || z.shape[1] !== AGNET_LATENT) throw new RangeError(`AgNetTfGenerator.forward: z must be [B, ${AGNET_LATENT}], got [${z.shape.join(', ')}]`)
    const B = z.shape[0]
    const onehot = new Float32Array(B * C)
    const node0 = new Float32Array(B * C)
    for (let r = 0; r < B; r++) { onehot[r * C + 1] = 1; node0[r * C + 1] = CONST_LOGIT }
    const h0 = this.lin([tf.relu(this.lin([this.emb(tf.tensor2d(onehot, [B, C])), z], 'init1'))], 'init2')
    let hs: T2[] = [h0]
    const nodeLogits: T2[] = [tf.tensor2d(node0, [B, C])]
    const E = agnetEdgeCount(M)
    const edgeLogits: T2[] = new Array(E)
    const mask: Float32Array[] = Array.from({ length: E }, () => new Float32Array(B))
    for (let s = 1; s < M; s++) {
      let hG: T2
      let hGi: T2
      if (s === 1) {
        hG = this.lin([h0], 'readG')
        hGi = this.lin([h0], 'readGi')
      } else {
        hs = this.propagate(hs, 0, mask, false)
        hs = this.propagate(hs, 1, mask, false)
        hs = this.propagate(hs, 2, mask, true)
        hs = this.propagate(hs, 3, mask, true)
        hG = this.readout(hs, 'readG', 'gateG')
        hGi = this.readout(hs, 'readGi', 'gateGi')
      }
      const logits = this.lin([tf.relu(this.lin([hG, z], 'node1'))], 'node2')
      nodeLogits.push(logits)
      const hv = this.lin([tf.relu(this.lin([this.emb(logits), hGi, z], 'hv1'))], 'hv2')
      if (s === 1) {
        edgeLogits[0] = tf.fill([B, 1], CONST_LOGIT) as T2
        mask[0].fill(1)
      } else {
        const shared = this.lin([hv, hG, z], 'edge1', true, AGNET_HIDDEN)
        const step: T2[] = []
        for (let u = 0; u < s; u++) {
          const pre = tf.add(this.lin([hs[u]], 'edge1', false, 0), shared)
          const e = this.lin([tf.relu(pre) as T2], 'edge2')
          edgeLogits[agnetEdgeIndex(u, s)] = e
          step.push(e)
        }
        // The hard threshold: read this step's edge logits back once.
        const values = tf.concat(step, 1).dataSync()
        for (let u = 0; u < s; u++) {
          const m = mask[agnetEdgeIndex(u, s)]
          for (let r = 0; r < B; r++) m[r] = values[r * s + u] > EDGE_THRESHOLD ? 1 : 0
        }
      }
      hs.push(hv)
    }
    return tf.concat([...nodeLogits, ...edgeLogits], 1)
  }

  /**
   * Eq. 1 per sample, weighted: Σ_r w_r·(ceScale·CE_r + BCE_r), CE the mean over the M nodes and
   * BCE the mean over the M(M−1)/2 edges (the tape's `reconstructionLoss` with its gradient).
   */
  reconstructionLoss (out: T2, classes: Uint8Array, edges: Uint8Array, weights: Float32Array | Float64Array, ceScale = 1): TF.Scalar {
    const tf = this.tf
    const { nodes: M, classes: C } = this.shape
    const E = agnetEdgeCount(M)
    const B = out.shape[0]
    if (classes.length !== B * M || edges.length !== B * E || weights.length !== B) throw new RangeError(`AgNetTfGenerator.reconstructionLoss: need ${B * M} classes, ${B * E} edges and ${B} weights`)
    const nodes = tf.reshape(tf.slice(out, [0, 0], [B, M * C]), [B * M, C])
    const logp = tf.logSoftmax(nodes)
    const target = tf.oneHot(tf.tensor1d(Int32Array.from(classes), 'int32'), C)
    const ce = tf.div(tf.neg(tf.sum(tf.reshape(tf.sum(tf.mul(logp, target), 1), [B, M]), 1)), M)
    const x = tf.slice(out, [0, M * C], [B, E])
    const y = tf.tensor2d(Float32Array.from(edges), [B, E])
    // BCE with logits, stable: max(x, 0) − x·y + log(1 + e^−|x|).
    const bce = tf.div(tf.sum(tf.add(tf.sub(tf.relu(x), tf.mul(x, y)), tf.log1p(tf.exp(tf.neg(tf.abs(x))))), 1), E)
    return tf.sum(tf.mul(tf.tensor1d(Float32Array.from(weights)), tf.add(tf.mul(ce, ceScale), bce)))
  }
}

