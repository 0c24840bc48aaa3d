// The LSTMCell step shared by CTNAS's controllers (lib/models/controller.ts for NB-201,
// lib/models/controller-nb101.ts for NB-101): PyTorch's gate layout (i, f, g, o), weights and
// biases in one flat parameter array, the input either a row of that array (an embedding) or
// zeros. Forward keeps the step's state for the hand-written backward pass.

/** Offsets of W_ih (4H×H), b_ih (4H), W_hh (4H×H), b_hh (4H) in a flat parameter array. */
export interface LstmOffsets { wih: number, bih: number, whh: number, bhh: number }

/** Lays out an LSTMCell's parameters through `take` (returns each block's offset), in the order W_ih, b_ih, W_hh, b_hh. */
export function lstmLayout (H: number, take: (n: number) => number): LstmOffsets {
  return { wih: take(4 * H * H), bih: take(4 * H), whh: take(4 * H * H), bhh: take(4 * H) }
}

/** Floats of the state one step keeps: [i f g o (activated) | c_prev | h_prev | c | tanh c | h]. */
export const LSTM_STATE = 9

/**
 * One step: the input is P[xOff … xOff+H) (xOff < 0: zeros), the previous state h, c. Writes
 * the step's state (LSTM_STATE·H floats) into st at `at`; `gates` (4H) is scratch. The new h
 * and c are st[at+8H …) and st[at+6H …).
 */
export function lstmForward (P: Float64Array, o: LstmOffsets, H: number, xOff: number, h: Float64Array, c: Float64Array, st: Float64Array, at: number, gates: Float64Array): void {
  for (let r = 0; r < 4 * H; r++) {
    let acc = P[o.bih + r] + P[o.bhh + r]
    const wi = o.wih + r * H
    const wh = o.whh + r * H
    if (xOff >= 0) for (let k = 0; k < H; k++) acc += P[wi + k] * P[xOff + k]
    for (let k = 0; k < H; k++) acc += P[wh + k] * h[k]
    gates[r] = acc
  }
  for (let k = 0; k < H; k++) {
    st[at + k] = sigmoid(gates[k])
    st[at + H + k] = sigmoid(gates[H + k])
    st[at + 2 * H + k] = Math.tanh(gates[2 * H + k])
    st[at + 3 * H + k] = sigmoid(gates[3 * H + k])
  }
  for (let k = 0; k < H; k++) {
    st[at + 4 * H + k] = c[k]
    st[at + 5 * H + k] = h[k]
  }
  for (let k = 0; k < H; k++) {
    const cn = st[at + H + k] * c[k] + st[at + k] * st[at + 2 * H + k]
    st[at + 6 * H + k] = cn
    const tc = Math.tanh(cn)
    st[at + 7 * H + k] = tc
    st[at + 8 * H + k] = st[at + 3 * H + k] * tc
  }
}

/**
 * Backward through one step: dh (∂/∂h of this step, everything downstream included) and
 * dcNext (∂/∂c from the next step). Adds the weight and bias gradients into G and the input's
 * gradient into G[xOff …) (xOff ≥ 0). Writes ∂/∂h_prev into dhPrev and ∂/∂c_prev into dcPrev
 * (both overwritten); `dg` (4H) and `dx` (H) are scratch.
 */
export function lstmBackward (P: Float64Array, G: Float64Array, o: LstmOffsets, H: number, xOff: number, st: Float64Array, at: number,
  dh: Float64Array, dcNext: Float64Array, dhPrev: Float64Array, dcPrev: Float64Array, dg: Float64Array, dx: Float64Array): void {
  for (let k = 0; k < H; k++) {
    const i = st[at + k]; const f = st[at + H + k]; const g = st[at + 2 * H + k]; const og = st[at + 3 * H + k]
    const tc = st[at + 7 * H + k]
    const dc = dh[k] * og * (1 - tc * tc) + dcNext[k]
    dg[k] = dc * g * i * (1 - i)
    dg[H + k] = dc * st[at + 4 * H + k] * f * (1 - f)
    dg[2 * H + k] = dc * i * (1 - g * g)
    dg[3 * H + k] = dh[k] * tc * og * (1 - og)
    dcPrev[k] = dc * f
  }
  dhPrev.fill(0)
  if (xOff >= 0) dx.fill(0)
  for (let r = 0; r < 4 * H; r++) {
    const d = dg[r]
    if (d === 0) continue
    G[o.bih + r] += d
    G[o.bhh + r] += d
    const wi = o.wih + r * H
    const wh = o.whh + r * H
    for (let k = 0; k < H; k++) {
      G[wh + k] += d * st[at + 5 * H + k]
      dhPrev[k] += d * P[wh + k]
    }
    if (xOff >= 0) {
      for (let k = 0; k < H; k++) { G[wi + k] += d * P[xOff + k]; dx[k] += d * P[wi + k] }
    }
  }
  if (xOff >= 0) for (let k = 0; k < H; k++) G[xOff + k] += dx[k]
}

export function sigmoid (x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))
}

/** Softmax of logits[0..n) into probs[0..n); returns log Z (probs = exp(logits − log Z)) and the entropy. */
export function softmaxInto (logits: ArrayLike<number>, n: number, probs: Float64Array, at = 0): { logZ: number, entropy: number } {
  let mx = -Infinity
  for (let a = 0; a < n; a++) if (logits[a] > mx) mx = logits[a]
  let z = 0
  for (let a = 0; a < n; a++) z += Math.exp(logits[a] - mx)
  const lz = mx + Math.log(z)
  let ent = 0
  for (let a = 0; a < n; a++) {
    const lp = logits[a] - lz
    const p = Math.exp(lp)
    probs[at + a] = p
    ent -= p * lp
  }
  return { logZ: lz, entropy: ent }
}

/** The index drawn by one uniform r ∈ [0, 1) from probs[at … at+n): the first whose cumulative sum exceeds r (the last if none). */
export function drawIndex (probs: ArrayLike<number>, at: number, n: number, r: number): number {
  let acc = 0
  for (let a = 0; a < n; a++) { acc += probs[at + a]; if (r < acc) return a }
  return n - 1
}

/**
 * ∂(−A·log p_pick − β·H)/∂logit_a for a softmax with probabilities p (REINFORCE with reward
 * A, entropy bonus β): A (p_a − 1[a = pick]) + β p_a (log p_a + H).
 */
export function policyLogitGrad (probs: ArrayLike<number>, at: number, n: number, pick: number, coefLogProb: number, coefEntropy: number, out: Float64Array): void {
  let ent = 0
  for (let a = 0; a < n; a++) { const p = probs[at + a]; if (p > 0) ent -= p * Math.log(p) }
  for (let a = 0; a < n; a++) {
    const p = probs[at + a]
    out[a] = coefLogProb * (p - (a === pick ? 1 : 0)) + (coefEntropy !== 0 && p > 0 ? coefEntropy * p * (Math.log(p) + ent) : 0)
  }
}
