// CTNAS's REINFORCE controller on NAS-Bench-201 (ours; the paper and its code cover NB-101):
// an LSTMCell of 64 units (PyTorch's gate layout i, f, g, o) takes 6 decisions, one op per edge
// in edge order; step 0 reads zeros, step t the 64-d embedding of decision t−1; logits =
// Linear(64 → 5) of the hidden state, plain softmax. Every parameter ~ U(±0.1) (the code's).
// log π and the entropy are sums over the 6 decisions. Gradients by hand-written BPTT
// (test/ctnas.test.ts checks them against finite differences and the exact expectation).
import { Random } from '../random'
import { addon } from '../native'
import type { Adam } from './nac'
import { lstmBackward, lstmForward, lstmLayout, drawIndex, policyLogitGrad, softmaxInto, LSTM_STATE, type LstmOffsets } from './lstm'

export const CONTROLLER_STEPS = 6
export const CONTROLLER_CHOICES = 5

export interface ControllerSample {
  /** The 6 op codes. */
  ops: Uint8Array
  logProb: number
  entropy: number
  /** Forward state kept for the backward pass, one array per step. */
  cache: Float64Array[]
  /** The same state in one array (views of it are `cache`), when sampled natively. */
  flat?: Float64Array
}

export class Controller {
  readonly hidden: number
  /** [W_ih (4H×H) | b_ih (4H) | W_hh (4H×H) | b_hh (4H) | W_o (C×H) | b_o (C) | E (C×H)]. */
  readonly params: Float64Array
  readonly grad: Float64Array
  private readonly o: LstmOffsets & { wo: number, bo: number, emb: number }

  constructor (random: Random, hidden = 64) {
    const H = this.hidden = hidden
    const C = CONTROLLER_CHOICES
    let at = 0
    const take = (n: number): number => { const o = at; at += n; return o }
    this.o = { ...lstmLayout(H, take), wo: take(C * H), bo: take(C), emb: take(C * H) }
    this.params = new Float64Array(at)
    this.grad = new Float64Array(at)
    for (let k = 0; k < at; k++) this.params[k] = (2 * random.float() - 1) * 0.1
  }

  /**
   * One pass over the 6 decisions: draws each op from `random` (forced to `ops` when given,
   * for log π of a known sequence). Keeps the forward state for backward().
   */
  sample (random: Random | null, ops?: ArrayLike<number>): ControllerSample {
    const H = this.hidden
    const C = CONTROLLER_CHOICES
    const P = this.params
    const o = this.o
    const out = new Uint8Array(CONTROLLER_STEPS)
    let h = new Float64Array(H)
    let c = new Float64Array(H)
    let logProb = 0
    let entropy = 0
    const cache: Float64Array[] = []
    const gates = new Float64Array(4 * H)
    const logits = new Float64Array(C)
    for (let t = 0; t < CONTROLLER_STEPS; t++) {
      const xOff = t === 0 ? -1 : o.emb + out[t - 1] * H
      // state: [i f g o (activated) | c_prev | h_prev | c | tanh c | h | (unused) | probs]
      const st = new Float64Array(10 * H + C)
      lstmForward(P, o, H, xOff, h, c, st, 0, gates)
      const hn = st.subarray(8 * H, 9 * H)
      outputLogits(P, o.bo, o.wo, hn, logits)
      const { logZ: lz, entropy: ent } = softmaxInto(logits, C, st, 10 * H)
      const pick = ops !== undefined ? ops[t] : drawIndex(st, 10 * H, C, (random as Random).float())
      out[t] = pick
      logProb += logits[pick] - lz
      entropy += ent
      cache.push(st)
      h = hn; c = st.subarray(6 * H, 7 * H)
    }
    return { ops: out, logProb, entropy, cache }
  }

  /**
   * sample(), computed by the native kernel (native/controller.cc): the same draws from
   * `random` (one float per decision, in order), the same decisions, log π and entropy to
   * rounding (the kernel sums in another order).
   */
  sampleNative (random: Random | null, ops?: ArrayLike<number>): ControllerSample {
    const H = this.hidden
    const C = CONTROLLER_CHOICES
    const T = CONTROLLER_STEPS
    const out = new Uint8Array(T)
    const flat = new Float64Array(T * (10 * H + C))
    let r: { logProb: number, entropy: number }
    if (ops !== undefined) {
      if (ops.length !== T) throw new RangeError(`Controller.sampleNative: ops must hold ${T} decisions, got ${ops.length}`)
      r = addon.controllerSample(this.params, H, C, null, Uint8Array.from(ops), out, flat)
    } else {
      if (random === null) throw new TypeError('Controller.sampleNative: random is required when ops is not given')
      const draws = new Float64Array(T)
      for (let t = 0; t < T; t++) draws[t] = random.float()
      r = addon.controllerSample(this.params, H, C, draws, null, out, flat)
    }
    const stride = 10 * H + C
    const cache = Array.from({ length: T }, (_, t) => flat.subarray(t * stride, (t + 1) * stride))
    return { ops: out, logProb: r.logProb, entropy: r.entropy, cache, flat }
  }

  /**
   * One REINFORCE update, natively: this.grad ← ∇(−coefLogProb·log π − coefEntropy·H) of the
   * sample (as backward() after zeroing), then one step of `adam` on this.params.
   */
  stepNative (s: ControllerSample, coefLogProb: number, coefEntropy: number, adam: Adam): void {
    if (adam.size !== this.params.length) throw new RangeError(`Controller.stepNative: adam holds ${adam.size} parameters, the controller ${this.params.length}`)
    const flat = s.flat ?? concatCache(s.cache)
    addon.controllerStep(this.params, this.grad, adam.m, adam.v, this.hidden, CONTROLLER_CHOICES, s.ops, flat, coefLogProb, coefEntropy,
      adam.t + 1, adam.lr, adam.beta1, adam.beta2, adam.weightDecay, adam.eps)
    adam.t++
  }

  /** backward(), natively (adds to this.grad). */
  backwardNative (s: ControllerSample, coefLogProb: number, coefEntropy = 0): void {
    addon.controllerBackward(this.params, this.grad, this.hidden, CONTROLLER_CHOICES, s.ops, s.flat ?? concatCache(s.cache), coefLogProb, coefEntropy)
  }

  /** sampleMany(), natively: the same draws in the same order, the same sequences. */
  sampleManyNative (n: number, random: Random): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Controller.sampleManyNative: n must be a non-negative integer, got ${n}`)
    if (n === 0) return new Uint8Array(0)
    const draws = new Float64Array(n * CONTROLLER_STEPS)
    for (let k = 0; k < draws.length; k++) draws[k] = random.float()
    return addon.controllerSampleMany(this.params, this.hidden, CONTROLLER_CHOICES, CONTROLLER_STEPS, draws)
  }

  /**
   * n sequences drawn from π (forward only), grouped by prefix: samples that share their first
   * t decisions share the LSTM state after them, so each distinct prefix runs one LSTM step (at
   * most 1 + 5 + … + 5^5 = 3,906 steps whatever n; far fewer once π is peaked). Draw order:
   * step by step, samples 0 … n−1 within a step. Returns n×6 op codes.
   */
  sampleMany (n: number, random: Random): Uint8Array {
    const H = this.hidden
    const C = CONTROLLER_CHOICES
    const P = this.params
    const o = this.o
    const out = new Uint8Array(n * CONTROLLER_STEPS)
    // Groups at the current step: state (h, c) and, per sample, its group.
    let hs: Float64Array[] = [new Float64Array(H)]
    let cs: Float64Array[] = [new Float64Array(H)]
    let groupOf = new Int32Array(n)
    const gates = new Float64Array(4 * H)
    const st = new Float64Array(LSTM_STATE * H)
    for (let t = 0; t < CONTROLLER_STEPS; t++) {
      const probs: Float64Array[] = []
      const nextH: Float64Array[] = []
      const nextC: Float64Array[] = []
      // For each group, the op of its last decision (its input) is the same for all members.
      const lastOp = new Int32Array(hs.length).fill(-1)
      if (t > 0) for (let k = 0; k < n; k++) lastOp[groupOf[k]] = out[k * CONTROLLER_STEPS + t - 1]
      for (let g = 0; g < hs.length; g++) {
        const h = hs[g]; const c = cs[g]
        const xOff = t === 0 ? -1 : o.emb + lastOp[g] * H
        lstmForward(P, o, H, xOff, h, c, st, 0, gates)
        const hn = st.slice(8 * H, 9 * H)
        const cn = st.slice(6 * H, 7 * H)
        const p = new Float64Array(C)
        const mx = outputLogits(P, o.bo, o.wo, hn, p)
        let z = 0
        for (let a = 0; a < C; a++) { p[a] = Math.exp(p[a] - mx); z += p[a] }
        for (let a = 0; a < C; a++) p[a] /= z
        probs.push(p); nextH.push(hn); nextC.push(cn)
      }
      // Draw, then regroup by (group, op).
      const child = new Map<number, number>()
      const newGroup = new Int32Array(n)
      const hs2: Float64Array[] = []; const cs2: Float64Array[] = []
      for (let k = 0; k < n; k++) {
        const g = groupOf[k]
        const pick = drawIndex(probs[g], 0, C, random.float())
        out[k * CONTROLLER_STEPS + t] = pick
        const key = g * C + pick
        let id = child.get(key)
        if (id === undefined) { id = hs2.length; child.set(key, id); hs2.push(nextH[g]); cs2.push(nextC[g]) }
        newGroup[k] = id
      }
      hs = hs2; cs = cs2; groupOf = newGroup
    }
    return out
  }

  /**
   * Adds to this.grad the gradient of  −coefLogProb·log π − coefEntropy·H  of a sample
   * (REINFORCE: coefLogProb = the reward; the code's entropy bonus: coefEntropy).
   */
  backward (s: ControllerSample, coefLogProb: number, coefEntropy = 0): void {
    const H = this.hidden
    const C = CONTROLLER_CHOICES
    const P = this.params
    const G = this.grad
    const o = this.o
    let dhNext = new Float64Array(H)
    let dcNext = new Float64Array(H)
    let dhPrev = new Float64Array(H)
    let dcPrev = new Float64Array(H)
    const dg = new Float64Array(4 * H)
    const dx = new Float64Array(H)
    const dl = new Float64Array(C)
    for (let t = CONTROLLER_STEPS - 1; t >= 0; t--) {
      const st = s.cache[t]
      const dh = Float64Array.from(dhNext)
      policyLogitGrad(st, 10 * H, C, s.ops[t], coefLogProb, coefEntropy, dl)
      for (let a = 0; a < C; a++) {
        if (dl[a] === 0) continue
        G[o.bo + a] += dl[a]
        for (let k = 0; k < H; k++) { G[o.wo + a * H + k] += dl[a] * st[8 * H + k]; dh[k] += dl[a] * P[o.wo + a * H + k] }
      }
      const xOff = t === 0 ? -1 : o.emb + s.ops[t - 1] * H
      lstmBackward(P, G, o, H, xOff, st, 0, dh, dcNext, dhPrev, dcPrev, dg, dx)
      const th = dhNext; dhNext = dhPrev; dhPrev = th
      const tc = dcNext; dcNext = dcPrev; dcPrev = tc
    }
  }
}

function concatCache (cache: Float64Array[]): Float64Array {
  const stride = cache[0]?.length ?? 0
  const flat = new Float64Array(cache.length * stride)
  cache.forEach((st, t) => flat.set(st, t * stride))
  return flat
}

/** The output layer: out[a] = P[bo + a] + Σ_k P[wo + a·H + k]·h[k] for a < out.length (H = h.length); returns max_a out[a]. */
function outputLogits (P: Float64Array, bo: number, wo: number, h: Float64Array, out: Float64Array): number {
  const H = h.length
  let mx = -Infinity
  for (let a = 0; a < out.length; a++) {
    let acc = P[bo + a]
    for (let k = 0; k < H; k++) acc += P[wo + a * H + k] * h[k]
    out[a] = acc
    if (acc > mx) mx = acc
  }
  return mx
}
