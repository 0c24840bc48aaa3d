// CTNAS's REINFORCE controller on NAS-Bench-101, as the authors' code (chenyaofo/CTNAS,
// NASBenchController + nasbench_seq2arch) builds it:
//
//   An LSTMCell of 64 units (lib/models/lstm.ts, PyTorch's gate layout) takes 18 decisions:
//     0.  n ∈ {1..5} intermediate nodes: Linear(64 → 5) of h, input zeros;
//     for node k = 1..n:
//         its predecessor in 0..k−1 by pointer attention, logit_j = v·tanh(W_e e_j + W_h h)
//         (e_j row j of the node embedding), then its op by Linear(64 → 3) (conv3x3, conv1x1,
//         maxpool: the code's VALID_OPERATIONS order);
//     the output's predecessor in 0..n (pointer);
//     8 − n extra edges, two pointer picks each in 0..n+1 (equal: no edge; else min → max).
//   Each step's input is the embedding of the previous decision: n-embedding (5×64) after step
//   0, node embedding (7×64) after a node pick, op embedding (3×64) after an op. Every
//   parameter ~ U(±0.1) (the code's reset_parameters). Plain softmax (the code's temperature
//   and tanh constant are off, as in the paper's preset). The cell (n + 2 vertices) is pruned
//   by nb101.spec; every sequence gives a valid cell (the output's predecessor is reachable
//   from the input, and n + 1 + (8 − n) = 9 edges at most).
//   log π and the entropy are sums over the 18 decisions. Gradients by hand-written BPTT.
//
// Two engines compute the same thing: 'native' (native/controller.cc, the default when the addon
// has it) and 'js' (this file's TypeScript, the reference the native one is tested against).
// Both take one float from `random` per decision, in order, so a seed gives the same sequences;
// values agree to rounding (the native kernel sums in another order and uses FMA).
import { Random } from '../random'
import { addon, named } from '../native'
import * as nb101 from '../spaces/nb101'
import type { Adam } from './nac'
import { lstmBackward, lstmForward, lstmLayout, drawIndex, policyLogitGrad, softmaxInto, LSTM_STATE, type LstmOffsets } from './lstm'

/** Decisions per sample, whatever n: 1 + 2n + 1 + 2(8 − n). */
export const NB101_CONTROLLER_STEPS = 18
/** Most intermediate nodes (the code's n_nodes). */
export const NB101_MAX_NODES = 5
/** The code's op order: action 0 conv3x3, 1 conv1x1, 2 maxpool. */
export const NB101_CONTROLLER_OPS = [nb101.CONV3X3, nb101.CONV1X1, nb101.MAXPOOL3X3] as const
const N_OPS = 3
const N_NODE_EMB = NB101_MAX_NODES + 2
const MAX_CHOICES = NB101_MAX_NODES + 2

type Kind = 0 | 1 | 2 // 0: n (Linear 64→5), 1: op (Linear 64→3), 2: pointer over nodes

/** Which code runs the controller: the native kernel or the TypeScript reference. */
export type Nb101ControllerEngine = 'native' | 'js'

/** Whether the loaded addon has the native NB-101 controller. */
export const NB101_CONTROLLER_NATIVE: boolean = typeof (addon as unknown as Record<string, unknown>).nb101ControllerSample === 'function'

export interface Nb101ControllerOptions {
  /** 'native' (default when NB101_CONTROLLER_NATIVE) or 'js' (the TypeScript reference). */
  engine?: Nb101ControllerEngine
}

const nativeSample = named('Nb101Controller.sample', { forced: 'seq' })
const nativeBackward = named('Nb101Controller.backward', { seq: 's.seq', cache: 's.cache' })
const nativeStep = named('Nb101Controller.step', { seq: 's.seq', cache: 's.cache' })
const nativeSampleMany = named('Nb101Controller.sampleMany')

export interface Nb101ControllerSample {
  /** The code's arch_seq: seq[0] = n (1..5), then the node (pred, op) pairs, the output's pred, the 2(8 − n) edge ends. */
  seq: Uint8Array
  /** The pruned cell (nb101.spec). */
  spec: nb101.Nb101Spec
  logProb: number
  entropy: number
  /** Per step: [LSTM state (LSTM_STATE·H) | probs (7) | pointer tanh rows (choices·H)]; empty when not kept. */
  cache: Float64Array[]
  /** The native engine's cache: 18 steps of 16·H + 7 floats (views of it are `cache`). */
  flat?: Float64Array
}

function isRandom (r: unknown): r is Random {
  return r !== null && typeof r === 'object' && typeof (r as Random).float === 'function'
}

/** Step t's kind and number of choices for a cell of n intermediate nodes. */
function stepShape (t: number, n: number): { kind: Kind, choices: number } {
  if (t === 0) return { kind: 0, choices: NB101_MAX_NODES }
  if (t <= 2 * n) return (t & 1) === 1 ? { kind: 2, choices: (t + 1) >> 1 } : { kind: 1, choices: N_OPS }
  if (t === 2 * n + 1) return { kind: 2, choices: n + 1 }
  return { kind: 2, choices: n + 2 }
}

/**
 * The cell of a decision sequence by the code's rules (nasbench_seq2arch), pruned by
 * nb101.spec. Throws a RangeError naming the decision that is out of range.
 */
export function nb101SeqToSpec (seq: ArrayLike<number>): nb101.Nb101Spec {
  const { matrix, ops } = nb101SeqToRaw(seq)
  return nb101.spec(matrix, ops)
}

/** The unpruned (n + 2)-vertex matrix and labels of a decision sequence (the code's rules). */
export function nb101SeqToRaw (seq: ArrayLike<number>): { matrix: number[][], ops: string[] } {
  const fn = 'nb101SeqToSpec'
  if (seq === null || typeof seq !== 'object' || seq.length !== NB101_CONTROLLER_STEPS) {
    throw new RangeError(`${fn}: seq must hold ${NB101_CONTROLLER_STEPS} decisions, got ${seq === null || typeof seq !== 'object' ? String(seq) : seq.length}`)
  }
  const n = seq[0]
  if (!Number.isInteger(n) || n < 1 || n > NB101_MAX_NODES) throw new RangeError(`${fn}: seq[0] (the node count) must be an integer in 1..${NB101_MAX_NODES}, got ${n}`)
  for (let t = 1; t < NB101_CONTROLLER_STEPS; t++) {
    const { choices } = stepShape(t, n)
    const a = seq[t]
    if (!Number.isInteger(a) || a < 0 || a >= choices) throw new RangeError(`${fn}: seq[${t}] must be an integer in 0..${choices - 1} (n = ${n}), got ${a}`)
  }
  const V = n + 2
  const matrix = Array.from({ length: V }, () => new Array<number>(V).fill(0))
  const ops: string[] = [nb101.INPUT]
  for (let k = 1; k <= n; k++) {
    matrix[seq[2 * k - 1]][k] = 1
    ops.push(NB101_CONTROLLER_OPS[seq[2 * k]])
  }
  matrix[seq[2 * n + 1]][V - 1] = 1
  for (let t = 2 * n + 2; t < NB101_CONTROLLER_STEPS; t += 2) {
    const a = seq[t]; const b = seq[t + 1]
    if (a === b) continue
    matrix[Math.min(a, b)][Math.max(a, b)] = 1
  }
  ops.push(nb101.OUTPUT)
  return { matrix, ops }
}

export class Nb101Controller {
  readonly hidden: number
  /** [LSTM | n-emb (5×H) | node-emb (7×H) | op-emb (3×H) | W_e (H×H) | W_h (H×H) | v (H) | W_op (3×H) | b_op (3) | W_n (5×H) | b_n (5)]. */
  readonly params: Float64Array
  readonly grad: Float64Array
  private readonly o: LstmOffsets & { nEmb: number, nodeEmb: number, opEmb: number, we: number, wh: number, v: number, wop: number, bop: number, wn: number, bn: number }

  private engineName: Nb101ControllerEngine
  private scratch: Float64Array | null = null

  constructor (random: Random, hidden = 64, options: Nb101ControllerOptions = {}) {
    if (!isRandom(random)) throw new TypeError('Nb101Controller: random must be a Random')
    if (!Number.isInteger(hidden) || hidden < 1 || hidden > 4096) throw new RangeError(`Nb101Controller: hidden must be an integer in 1..4096, got ${hidden}`)
    if (options === null || typeof options !== 'object') throw new TypeError('Nb101Controller: options must be an object')
    this.engineName = NB101_CONTROLLER_NATIVE ? 'native' : 'js'
    if (options.engine !== undefined) this.engine = options.engine
    const H = this.hidden = hidden
    let at = 0
    const take = (n: number): number => { const o = at; at += n; return o }
    this.o = {
      ...lstmLayout(H, take),
      nEmb: take(NB101_MAX_NODES * H),
      nodeEmb: take(N_NODE_EMB * H),
      opEmb: take(N_OPS * H),
      we: take(H * H),
      wh: take(H * H),
      v: take(H),
      wop: take(N_OPS * H),
      bop: take(N_OPS),
      wn: take(NB101_MAX_NODES * H),
      bn: take(NB101_MAX_NODES)
    }
    this.params = new Float64Array(at)
    this.grad = new Float64Array(at)
    for (let k = 0; k < at; k++) this.params[k] = (2 * random.float() - 1) * 0.1
  }

  /** Offset in params of step t's input (−1: zeros), given the previous decision. */
  private inputOffset (t: number, n: number, prev: number): number {
    if (t === 0) return -1
    const H = this.hidden
    if (t === 1) return this.o.nEmb + (n - 1) * H
    const before = stepShape(t - 1, n).kind
    return before === 1 ? this.o.opEmb + prev * H : this.o.nodeEmb + prev * H
  }

  /** W_e·e_j for the 7 node-embedding rows (7×H). */
  private keys (): Float64Array {
    const H = this.hidden
    const P = this.params
    const A = new Float64Array(N_NODE_EMB * H)
    for (let j = 0; j < N_NODE_EMB; j++) {
      const e = this.o.nodeEmb + j * H
      for (let r = 0; r < H; r++) {
        let acc = 0
        const w = this.o.we + r * H
        for (let k = 0; k < H; k++) acc += P[w + k] * P[e + k]
        A[j * H + r] = acc
      }
    }
    return A
  }

  /** The engine sample/backward/step/sampleMany run on ('native' | 'js'); settable. */
  get engine (): Nb101ControllerEngine { return this.engineName }
  set engine (e: Nb101ControllerEngine) {
    if (e !== 'native' && e !== 'js') throw new RangeError(`Nb101Controller: engine must be 'native' or 'js', got ${String(e)}`)
    if (e === 'native' && !NB101_CONTROLLER_NATIVE) throw new RangeError("Nb101Controller: engine 'native' needs an addon with the NB-101 controller (rebuild it: npm run build:native)")
    this.engineName = e
  }

  /** Doubles of native cache per step: [LSTM state (9H) | probs (7) | tanh rows (7H)]. */
  get nativeStride (): number { return 16 * this.hidden + MAX_CHOICES }

  /**
   * One pass over the 18 decisions: draws each from `random` (one float per decision, in
   * order), or forced to `seq` (the code's arch_seq, seq[0] = n in 1..5) for log π of a known
   * sequence. keep = false skips the cache (sampling only; backward() needs it).
   */
  sample (random: Random | null, seq?: ArrayLike<number>, keep = true): Nb101ControllerSample {
    return this.engineName === 'native' ? this.sampleNative(random, seq, keep) : this.sampleJs(random, seq, keep)
  }

  /** sample() on the native engine: the same draws, the same decisions, values to rounding. */
  sampleNative (random: Random | null, seq?: ArrayLike<number>, keep = true): Nb101ControllerSample {
    const T = NB101_CONTROLLER_STEPS
    const stride = this.nativeStride
    const out = new Uint8Array(T)
    let flat: Float64Array
    if (keep) flat = new Float64Array(T * stride)
    else flat = this.scratch ??= new Float64Array(T * stride)
    let r: { logProb: number, entropy: number }
    if (seq !== undefined) {
      nb101SeqToRaw(seq) // validates, with the TypeScript engine's messages
      r = nativeSample.nb101ControllerSample(this.params, this.hidden, null, Uint8Array.from(seq), out, flat)
    } else {
      if (!isRandom(random)) throw new TypeError('Nb101Controller.sample: random is required when seq is not given')
      const draws = new Float64Array(T)
      for (let t = 0; t < T; t++) draws[t] = random.float()
      r = nativeSample.nb101ControllerSample(this.params, this.hidden, draws, null, out, flat)
    }
    const cache = keep ? Array.from({ length: T }, (_, t) => flat.subarray(t * stride, (t + 1) * stride)) : []
    return { seq: out, spec: nb101SeqToSpec(out), logProb: r.logProb, entropy: r.entropy, cache, flat: keep ? flat : undefined }
  }

  /** sample() on the TypeScript engine (the reference). */
  sampleJs (random: Random | null, seq?: ArrayLike<number>, keep = true): Nb101ControllerSample {
    if (seq !== undefined) nb101SeqToRaw(seq) // validates
    else if (random === null) throw new TypeError('Nb101Controller.sample: random is required when seq is not given')
    const H = this.hidden
    const P = this.params
    const o = this.o
    const out = new Uint8Array(NB101_CONTROLLER_STEPS)
    const A = this.keys()
    let h = new Float64Array(H)
    let c = new Float64Array(H)
    const gates = new Float64Array(4 * H)
    const logits = new Float64Array(MAX_CHOICES)
    const q = new Float64Array(H)
    let logProb = 0
    let entropy = 0
    let n = 0
    const cache: Float64Array[] = []
    const scratch = new Float64Array(LSTM_STATE * H + MAX_CHOICES + MAX_CHOICES * H)
    for (let t = 0; t < NB101_CONTROLLER_STEPS; t++) {
      const { kind, choices } = t === 0 ? { kind: 0 as Kind, choices: NB101_MAX_NODES } : stepShape(t, n)
      const st = keep ? new Float64Array(LSTM_STATE * H + MAX_CHOICES + (kind === 2 ? choices * H : 0)) : scratch
      lstmForward(P, o, H, this.inputOffset(t, n, t === 0 ? 0 : out[t - 1]), h, c, st, 0, gates)
      const hn = st.subarray(8 * H, 9 * H)
      if (kind === 2) {
        for (let r = 0; r < H; r++) {
          let acc = 0
          const w = o.wh + r * H
          for (let k = 0; k < H; k++) acc += P[w + k] * hn[k]
          q[r] = acc
        }
        const ub = LSTM_STATE * H + MAX_CHOICES
        for (let j = 0; j < choices; j++) {
          let acc = 0
          for (let r = 0; r < H; r++) {
            const u = Math.tanh(A[j * H + r] + q[r])
            st[ub + j * H + r] = u
            acc += P[o.v + r] * u
          }
          logits[j] = acc
        }
      } else {
        const w = kind === 0 ? o.wn : o.wop
        const b = kind === 0 ? o.bn : o.bop
        for (let a = 0; a < choices; a++) {
          let acc = P[b + a]
          for (let k = 0; k < H; k++) acc += P[w + a * H + k] * hn[k]
          logits[a] = acc
        }
      }
      const pb = LSTM_STATE * H
      const { logZ, entropy: ent } = softmaxInto(logits, choices, st, pb)
      let pick: number
      if (seq !== undefined) pick = t === 0 ? seq[0] - 1 : seq[t]
      else pick = drawIndex(st, pb, choices, (random as Random).float())
      out[t] = t === 0 ? pick + 1 : pick
      if (t === 0) n = pick + 1
      logProb += logits[pick] - logZ
      entropy += ent
      if (keep) cache.push(st)
      h = st.slice(8 * H, 9 * H)
      c = st.slice(6 * H, 7 * H)
    }
    return { seq: out, spec: nb101SeqToSpec(out), logProb, entropy, cache }
  }

  /** n samples (forward only, no cache): sample k takes the 18 draws after sample k − 1's. */
  sampleMany (n: number, random: Random): Nb101ControllerSample[] {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`Nb101Controller.sampleMany: n must be a non-negative integer, got ${n}`)
    if (!isRandom(random)) throw new TypeError('Nb101Controller.sampleMany: random must be a Random')
    if (this.engineName === 'js') return Array.from({ length: n }, () => this.sampleJs(random, undefined, false))
    if (n === 0) return []
    const T = NB101_CONTROLLER_STEPS
    const draws = new Float64Array(n * T)
    for (let k = 0; k < draws.length; k++) draws[k] = random.float()
    const r = nativeSampleMany.nb101ControllerSampleMany(this.params, this.hidden, draws)
    return Array.from({ length: n }, (_, k) => {
      const seq = r.seqs.slice(k * T, (k + 1) * T)
      return { seq, spec: nb101SeqToSpec(seq), logProb: r.logProb[k], entropy: r.entropy[k], cache: [] }
    })
  }

  /**
   * Adds to this.grad the gradient of  −coefLogProb·log π − coefEntropy·H  of a sample
   * (REINFORCE: coefLogProb = the reward; an entropy bonus in the loss: coefEntropy).
   */
  backward (s: Nb101ControllerSample, coefLogProb: number, coefEntropy = 0): void {
    if (this.engineName === 'js') { this.backwardJs(s, coefLogProb, coefEntropy); return }
    const flat = this.flatOf(s, 'backward')
    nativeBackward.nb101ControllerBackward(this.params, this.grad, this.hidden, s.seq, flat, coefLogProb, coefEntropy)
  }

  /** The native cache of a sample (built from the per-step arrays of a TypeScript sample). */
  private flatOf (s: Nb101ControllerSample, fn: string): Float64Array {
    if (s === null || typeof s !== 'object' || !(s.seq instanceof Uint8Array) || !Array.isArray(s.cache)) throw new TypeError(`Nb101Controller.${fn}: s must be a sample of this controller`)
    if (s.cache.length !== NB101_CONTROLLER_STEPS) throw new RangeError(`Nb101Controller.${fn}: the sample keeps no forward state (sample it with keep = true)`)
    const stride = this.nativeStride
    if (s.flat instanceof Float64Array && s.flat.length === NB101_CONTROLLER_STEPS * stride) return s.flat
    const flat = new Float64Array(NB101_CONTROLLER_STEPS * stride)
    s.cache.forEach((st, t) => {
      if (!(st instanceof Float64Array) || st.length > stride) throw new RangeError(`Nb101Controller.${fn}: s.cache[${t}] is not a forward state of a controller of hidden ${this.hidden}`)
      flat.set(st, t * stride)
    })
    return flat
  }

  /** backward() on the TypeScript engine (the reference). */
  backwardJs (s: Nb101ControllerSample, coefLogProb: number, coefEntropy = 0): void {
    if (s.cache.length !== NB101_CONTROLLER_STEPS) throw new RangeError('Nb101Controller.backward: the sample keeps no forward state (sample it with keep = true)')
    const H = this.hidden
    const P = this.params
    const G = this.grad
    const o = this.o
    const n = s.seq[0]
    let dhNext = new Float64Array(H)
    let dcNext = new Float64Array(H)
    let dhPrev = new Float64Array(H)
    let dcPrev = new Float64Array(H)
    const dg = new Float64Array(4 * H)
    const dx = new Float64Array(H)
    const dl = new Float64Array(MAX_CHOICES)
    const dq = new Float64Array(H)
    const dA = new Float64Array(N_NODE_EMB * H)
    const dh = new Float64Array(H)
    for (let t = NB101_CONTROLLER_STEPS - 1; t >= 0; t--) {
      const st = s.cache[t]
      const { kind, choices } = stepShape(t, n)
      const pick = t === 0 ? s.seq[0] - 1 : s.seq[t]
      const pb = LSTM_STATE * H
      dh.set(dhNext)
      policyLogitGrad(st, pb, choices, pick, coefLogProb, coefEntropy, dl)
      if (kind === 2) {
        const ub = pb + MAX_CHOICES
        dq.fill(0)
        for (let j = 0; j < choices; j++) {
          const d = dl[j]
          if (d === 0) continue
          for (let r = 0; r < H; r++) {
            const u = st[ub + j * H + r]
            G[o.v + r] += d * u
            const dpre = d * P[o.v + r] * (1 - u * u)
            dq[r] += dpre
            dA[j * H + r] += dpre
          }
        }
        for (let r = 0; r < H; r++) {
          const d = dq[r]
          if (d === 0) continue
          const w = o.wh + r * H
          for (let k = 0; k < H; k++) { G[w + k] += d * st[8 * H + k]; dh[k] += d * P[w + k] }
        }
      } else {
        const w = kind === 0 ? o.wn : o.wop
        const b = kind === 0 ? o.bn : o.bop
        for (let a = 0; a < choices; a++) {
          const d = dl[a]
          if (d === 0) continue
          G[b + a] += d
          for (let k = 0; k < H; k++) { G[w + a * H + k] += d * st[8 * H + k]; dh[k] += d * P[w + a * H + k] }
        }
      }
      const xOff = this.inputOffset(t, n, t === 0 ? 0 : s.seq[t - 1])
      lstmBackward(P, G, o, H, xOff, st, 0, dh, dcNext, dhPrev, dcPrev, dg, dx)
      const th = dhNext; dhNext = dhPrev; dhPrev = th
      const tc = dcNext; dcNext = dcPrev; dcPrev = tc
    }
    // A_j = W_e e_j: ∂W_e[r][k] += dA_j[r] e_j[k], ∂e_j[k] += Σ_r W_e[r][k] dA_j[r].
    for (let j = 0; j < N_NODE_EMB; j++) {
      const e = o.nodeEmb + j * H
      for (let r = 0; r < H; r++) {
        const d = dA[j * H + r]
        if (d === 0) continue
        const w = o.we + r * H
        for (let k = 0; k < H; k++) { G[w + k] += d * P[e + k]; G[e + k] += d * P[w + k] }
      }
    }
  }

  /** One REINFORCE update: this.grad ← ∇(−coefLogProb·log π − coefEntropy·H), then one step of `adam`. */
  step (s: Nb101ControllerSample, coefLogProb: number, coefEntropy: number, adam: Adam): void {
    if (adam.size !== this.params.length) throw new RangeError(`Nb101Controller.step: adam holds ${adam.size} parameters, the controller ${this.params.length}`)
    if (this.engineName === 'js') {
      this.grad.fill(0)
      this.backwardJs(s, coefLogProb, coefEntropy)
      adam.step(this.params, this.grad)
      return
    }
    const flat = this.flatOf(s, 'step')
    nativeStep.nb101ControllerStep(this.params, this.grad, adam.m, adam.v, this.hidden, s.seq, flat, coefLogProb, coefEntropy,
      adam.t + 1, adam.lr, adam.beta1, adam.beta2, adam.weightDecay, adam.eps)
    adam.t++
  }
}
