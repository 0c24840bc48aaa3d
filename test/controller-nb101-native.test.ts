// The native NB-101 CTNAS controller (native/controller.cc, Nb101Controller's 'native' engine)
// against the TypeScript engine on the same parameters (the reference, itself checked against
// central differences and the float64 reference in test/controller-nb101.test.ts), against
// central differences of its own log π, over whole REINFORCE runs, and its argument errors.
import t from 'tap'
import * as path from 'node:path'
import { execFileSync } from 'node:child_process'
import { Random } from '../lib/random'
import { Nb101Controller, NB101_CONTROLLER_STEPS, NB101_CONTROLLER_NATIVE, type Nb101ControllerSample } from '../lib/models/controller-nb101'
import { Adam } from '../lib/models/nac'
import { addon } from '../lib/native'
import { initTfBackend } from '../lib/index'
import { refNb101ControllerLogProb } from './reference/ctnas'

const T = NB101_CONTROLLER_STEPS

const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number => {
  let worst = 0
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]) / Math.max(floor, Math.abs(b[k])))
  return worst
}
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-300, Math.abs(b))

/** A pair of controllers with the same parameters, one per engine (scale > 1: peaked π, extreme gates). */
function pair (seed: number, hidden: number, scale = 1): { js: Nb101Controller, nat: Nb101Controller } {
  const js = new Nb101Controller(new Random(seed), hidden, { engine: 'js' })
  const nat = new Nb101Controller(new Random(seed), hidden, { engine: 'native' })
  for (let k = 0; k < js.params.length; k++) { js.params[k] *= scale; nat.params[k] *= scale }
  return { js, nat }
}

t.test('the native engine is the default', async t => {
  t.ok(NB101_CONTROLLER_NATIVE, 'the addon has it')
  t.equal(new Nb101Controller(new Random(1)).engine, 'native')
  t.equal(new Nb101Controller(new Random(1), 8, { engine: 'js' }).engine, 'js')
})

t.test('sample: same draws, same decisions; log π, entropy and cache to rounding', async t => {
  for (const [hidden, scale] of [[64, 1], [64, 6], [64, 25], [7, 5], [1, 3], [33, 1], [5, 40]]) {
    const { js, nat } = pair(hidden * 31 + scale, hidden, scale)
    let worstLp = 0; let worstEnt = 0; let worstCache = 0; let sameSeqs = 0; let sameDraws = 0
    const seen = new Set<number>()
    const N = 60
    for (let trial = 0; trial < N; trial++) {
      const ra = new Random(trial, hidden)
      const rb = new Random(trial, hidden)
      const a = js.sample(ra)
      const b = nat.sample(rb)
      seen.add(a.seq[0])
      if (Array.from(b.seq).join() === Array.from(a.seq).join()) sameSeqs++
      if (rb.uint32() === ra.uint32()) sameDraws++
      t.same(b.spec, a.spec)
      worstLp = Math.max(worstLp, rel(b.logProb, a.logProb))
      worstEnt = Math.max(worstEnt, Math.abs(b.entropy - a.entropy) / Math.max(1e-12, a.entropy))
      for (let s = 0; s < T; s++) {
        const x = a.cache[s]
        for (let k = 0; k < x.length; k++) worstCache = Math.max(worstCache, Math.abs(b.cache[s][k] - x[k]))
      }
    }
    t.equal(sameSeqs, N, `H ${hidden} ×${scale}: the same ${N} sequences (node counts ${[...seen].sort().join(', ')})`)
    t.equal(sameDraws, N, 'the same number of draws')
    t.ok(worstLp <= 1e-12, `log π: max rel err ${worstLp.toExponential(2)}`)
    t.ok(worstEnt <= 1e-12, `entropy: max rel err ${worstEnt.toExponential(2)}`)
    t.ok(worstCache <= 1e-12, `cache (states, probabilities, tanh rows): max abs err ${worstCache.toExponential(2)}`)
  }
})

t.test('log π and entropy of given sequences = the TypeScript engine and the float64 reference (≤ 1e-9 relative)', async t => {
  for (const [hidden, scale] of [[64, 1], [64, 4], [12, 3], [3, 10]]) {
    const { js, nat } = pair(hidden + 7 * scale, hidden, scale)
    const random = new Random(hidden, scale)
    let worst = 0
    const seen = new Set<number>()
    for (let k = 0; k < 200; k++) {
      // Sequences of every node count, not only those π favours: n first, then uniform picks.
      const n = 1 + (k % 5)
      const seq = [n]
      for (let step = 1; step < T; step++) {
        const choices = step <= 2 * n ? ((step & 1) === 1 ? (step + 1) >> 1 : 3) : step === 2 * n + 1 ? n + 1 : n + 2
        seq.push(random.int(choices))
      }
      seen.add(n)
      const a = js.sample(null, seq)
      const b = nat.sample(null, seq)
      t.same(Array.from(b.seq), seq)
      worst = Math.max(worst, rel(b.logProb, a.logProb), rel(b.entropy, a.entropy))
      if (k % 10 === 0) {
        const ref = refNb101ControllerLogProb(nat.params, hidden, seq)
        worst = Math.max(worst, rel(b.logProb, ref.logProb), rel(b.entropy, ref.entropy))
      }
    }
    t.ok(worst <= 1e-9, `H ${hidden} ×${scale}, node counts ${[...seen].join(', ')}: max rel err ${worst.toExponential(2)}`)
  }
})

t.test('gradients: native = TypeScript BPTT (log π and entropy terms), and = central differences of the native forward', async t => {
  for (const [hidden, scale, coefEnt] of [[64, 1, 0], [64, 1, 0.3], [64, 6, -0.2], [7, 3, 0.5], [2, 1, 1], [33, 2, 0.05]]) {
    const { js, nat } = pair(hidden + 100 * scale, hidden, scale)
    const random = new Random(hidden, 7)
    for (let trial = 0; trial < 6; trial++) {
      const a = js.sample(random)
      const b = nat.sample(null, a.seq)
      const coef = random.normal()
      js.grad.fill(0)
      js.backward(a, coef, coefEnt)
      nat.grad.fill(0.25) // backward accumulates
      nat.backward(b, coef, coefEnt)
      for (let k = 0; k < nat.grad.length; k++) nat.grad[k] -= 0.25
      // Relative to the gradient's scale: entries that cancel to ~0 carry only rounding.
      const scaleG = js.grad.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
      const err = maxRel(nat.grad, js.grad, 1e-6 * scaleG)
      t.ok(err <= 1e-8, `H ${hidden} ×${scale} entropy ${coefEnt} seq ${a.seq.join(',')}: max rel err ${err.toExponential(2)}`)
    }
  }
  // Central differences of −A·log π − β·H through the native forward, every parameter.
  for (const [H, scale, A, beta] of [[6, 3, 1, 0], [5, 2, -0.8, 0.4]]) {
    const c = new Nb101Controller(new Random(77 + H), H, { engine: 'native' })
    for (let k = 0; k < c.params.length; k++) c.params[k] *= scale
    const seqs = [Uint8Array.from([3, 0, 1, 1, 2, 2, 0, 3, 4, 0, 1, 2, 3, 4, 4, 1, 0, 2]), c.sample(new Random(H)).seq]
    for (const seq of seqs) {
      c.grad.fill(0)
      c.backward(c.sample(null, seq), A, beta)
      const analytic = Float64Array.from(c.grad)
      const f = (): number => { const s = c.sample(null, seq, false); return -A * s.logProb - beta * s.entropy }
      let worst = 0
      const h = 1e-5
      for (let k = 0; k < c.params.length; k++) {
        const p = c.params[k]
        c.params[k] = p + h; const up = f()
        c.params[k] = p - h; const down = f()
        c.params[k] = p
        const numeric = (up - down) / (2 * h)
        worst = Math.max(worst, Math.abs(numeric - analytic[k]) / Math.max(1e-2, Math.abs(numeric)))
      }
      t.ok(worst < 1e-6, `H ${H}, A ${A}, β ${beta}, seq ${seq.join(',')}: vs central differences, max rel err ${worst.toExponential(2)}`)
    }
  }
})

t.test('gradients: native = tfjs autodiff of an independent tfjs twin (float32 oracle)', async t => {
  const { tf } = await initTfBackend()
  const H = 16
  const c = new Nb101Controller(new Random(41), H, { engine: 'native' })
  for (let k = 0; k < c.params.length; k++) c.params[k] *= 4
  // The twin: the same layout, the code's steps written with tfjs ops (pointer attention over the
  // first `choices` node-embedding rows, recomputed per step as the code does).
  let at = 0
  const take = (shape: number[]) => { const n = shape.reduce((a, b) => a * b, 1); const v = tf.variable(tf.tensor(Float32Array.from(c.params.subarray(at, at + n)), shape)); at += n; return v }
  const Wih = take([4 * H, H]); const bih = take([4 * H]); const Whh = take([4 * H, H]); const bhh = take([4 * H])
  const nEmb = take([5, H]); const nodeEmb = take([7, H]); const opEmb = take([3, H])
  const We = take([H, H]); const Wh = take([H, H]); const v = take([H, 1])
  const Wop = take([3, H]); const bop = take([3]); const Wn = take([5, H]); const bn = take([5])
  t.equal(at, c.params.length, 'the twin covers every parameter')
  const vars = [Wih, bih, Whh, bhh, nEmb, nodeEmb, opEmb, We, Wh, v, Wop, bop, Wn, bn]
  const objective = (seq: ArrayLike<number>, A: number, beta: number) => () => {
    let h = tf.zeros([1, H]); let cc = tf.zeros([1, H]); let x: ReturnType<typeof tf.zeros> | null = null
    let lp = tf.scalar(0); let ent = tf.scalar(0)
    const n = seq[0]
    for (let step = 0; step < T; step++) {
      let g = tf.add(tf.add(tf.matMul(h, Whh, false, true), bhh), bih)
      if (x !== null) g = tf.add(g, tf.matMul(x, Wih, false, true))
      const [i, f, gg, o] = tf.split(g, 4, 1)
      cc = tf.add(tf.mul(tf.sigmoid(f), cc), tf.mul(tf.sigmoid(i), tf.tanh(gg)))
      h = tf.mul(tf.sigmoid(o), tf.tanh(cc))
      const kind = step === 0 ? 0 : step <= 2 * n ? ((step & 1) === 1 ? 2 : 1) : 2
      const choices = kind === 0 ? 5 : kind === 1 ? 3 : step <= 2 * n ? (step + 1) >> 1 : step === 2 * n + 1 ? n + 1 : n + 2
      let logits
      if (kind === 0) logits = tf.add(tf.matMul(h, Wn, false, true), bn).reshape([5])
      else if (kind === 1) logits = tf.add(tf.matMul(h, Wop, false, true), bop).reshape([3])
      else logits = tf.matMul(tf.tanh(tf.add(tf.matMul(tf.slice(nodeEmb, [0, 0], [choices, H]), We, false, true), tf.matMul(h, Wh, false, true))), v).reshape([choices])
      const logp = tf.logSoftmax(logits)
      const a = step === 0 ? n - 1 : seq[step]
      const oh = new Float32Array(choices); oh[a] = 1
      const hot = tf.tensor2d(oh, [1, choices])
      lp = tf.add(lp, tf.sum(tf.mul(logp, hot)))
      ent = tf.sub(ent, tf.sum(tf.mul(tf.exp(logp), logp)))
      x = tf.matMul(hot, kind === 0 ? nEmb : kind === 1 ? opEmb : tf.slice(nodeEmb, [0, 0], [choices, H]))
    }
    return tf.sub(tf.mul(lp, -A), tf.mul(ent, beta)) as ReturnType<typeof tf.scalar>
  }
  const random = new Random(42)
  for (const [A, beta] of [[1, 0], [-0.6, 0.5]]) {
    for (let trial = 0; trial < 3; trial++) {
      const s = c.sample(random)
      c.grad.fill(0)
      c.backward(s, A, beta)
      const oracle = tf.tidy(() => {
        const { grads } = tf.variableGrads(objective(s.seq, A, beta), vars)
        return Float64Array.from(vars.flatMap(w => Array.from(grads[w.name].dataSync())))
      })
      const scale = oracle.reduce((m, x) => Math.max(m, Math.abs(x)), 0)
      let worst = 0
      for (let k = 0; k < oracle.length; k++) worst = Math.max(worst, Math.abs(c.grad[k] - oracle[k]) / scale)
      t.ok(worst < 1e-4, `A ${A}, β ${beta}, seq ${s.seq.join(',')}: max |native − tfjs| / max |tfjs| = ${worst.toExponential(2)}`)
    }
  }
  vars.forEach(w => w.dispose())
})

t.test('either engine backpropagates the other\'s samples', async t => {
  const { js, nat } = pair(3, 16, 2)
  const a = js.sample(new Random(4))
  const b = nat.sample(new Random(4))
  js.grad.fill(0); js.backward(a, 0.9, 0.1)
  const ref = Float64Array.from(js.grad)
  js.grad.fill(0); js.backward(b, 0.9, 0.1) // the native cache through the TypeScript BPTT
  t.ok(maxRel(js.grad, ref, 1e-9) <= 1e-9, 'TypeScript backward of a native sample')
  nat.grad.fill(0); nat.backward(a, 0.9, 0.1) // the TypeScript per-step cache laid out natively
  t.ok(maxRel(nat.grad, ref, 1e-9) <= 1e-9, 'native backward of a TypeScript sample')
})

t.test('REINFORCE runs (sample + step with Adam): same decisions every iteration, parameters to rounding', async t => {
  for (const [hidden, lr, iters] of [[64, 2e-3, 60], [9, 5e-2, 120]]) {
    const { js, nat } = pair(12 + hidden, hidden)
    const adamJs = new Adam(js.params.length, lr, 0.5, 0.999, 5e-4)
    const adamNat = new Adam(nat.params.length, lr, 0.5, 0.999, 5e-4)
    const ra = new Random(5, hidden)
    const rb = new Random(5, hidden)
    let same = 0
    for (let it = 0; it < iters; it++) {
      const a = js.sample(ra)
      const b = nat.sample(rb)
      if (Array.from(b.seq).join() === Array.from(a.seq).join()) same++
      // A reward that depends on the sequence, as the NAC's does.
      const reward = Math.sin(it + a.seq[0]) + 0.1 * a.entropy
      js.step(a, reward, 5e-4, adamJs)
      nat.step(b, reward, 5e-4, adamNat)
    }
    t.equal(same, iters, `H ${hidden}: the same decisions in all ${iters} iterations`)
    t.equal(ra.uint32(), rb.uint32(), 'the PRNGs are in the same state')
    t.equal(adamNat.t, adamJs.t, 'Adam step counts agree')
    // Rounding differences grow through the recurrence and Adam's normalisation (a parameter near
    // 0 can differ by 1e-8 of itself after 60 iterations): measured against the parameters'
    // scale (U(±0.1) at the start), as the moments against theirs.
    const absMax = (a: ArrayLike<number>): number => { let m = 0; for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k])); return m }
    const err = maxRel(nat.params, js.params, absMax(js.params))
    t.ok(err <= 1e-10, `H ${hidden}: parameters after ${iters} iterations: max |Δθ| / max |θ| = ${err.toExponential(2)}`)
    const em = maxRel(adamNat.m, adamJs.m, absMax(adamJs.m)); const ev = maxRel(adamNat.v, adamJs.v, absMax(adamJs.v))
    t.ok(em <= 1e-8 && ev <= 1e-8, `Adam moments agree (${em.toExponential(2)}, ${ev.toExponential(2)} of their scale)`)
    const probe = js.sample(null, js.sample(new Random(99)).seq).logProb
    t.ok(rel(nat.sample(null, js.sample(new Random(99)).seq).logProb, probe) <= 1e-9, 'the trained policies give the same log π')
  }
})

t.test('sampleMany: same draws, same sequences, log π and entropy to rounding (flat and peaked π)', async t => {
  for (const scale of [1, 6, 40]) {
    const { js, nat } = pair(90 + scale, 64, scale)
    for (const n of [0, 1, 5, 300]) {
      const ra = new Random(n, scale)
      const rb = new Random(n, scale)
      const a = js.sampleMany(n, ra)
      const b = nat.sampleMany(n, rb)
      t.same(b.map(s => Array.from(s.seq)), a.map(s => Array.from(s.seq)), `scale ${scale}, n = ${n}`)
      t.same(b.map(s => s.spec), a.map(s => s.spec))
      t.equal(rb.uint32(), ra.uint32(), 'the same number of draws')
      let worst = 0
      for (let k = 0; k < n; k++) worst = Math.max(worst, rel(b[k].logProb, a[k].logProb), Math.abs(b[k].entropy - a[k].entropy) / Math.max(1e-12, a[k].entropy))
      t.ok(worst <= 1e-12, `log π and entropy: max rel err ${worst.toExponential(2)}`)
      // sampleMany = n single samples in a row.
      const rc = new Random(n, scale)
      t.same(Array.from({ length: n }, () => Array.from(nat.sample(rc, undefined, false).seq)), b.map(s => Array.from(s.seq)))
    }
  }
})

t.test('argument errors name the argument (TypeError / RangeError, never a crash)', async t => {
  const H = 8
  const c = new Nb101Controller(new Random(1), H, { engine: 'native' })
  const stride = 16 * H + 7
  const seq = new Uint8Array(T)
  const cache = new Float64Array(T * stride)
  const draws = new Float64Array(T).fill(0.5)
  const good = Uint8Array.from([2, 0, 1, 0, 2, 0, 3, 1, 2, 3, 1, 1, 0, 0, 0, 0, 0, 0])
  t.throws(() => addon.nb101ControllerSample(c.params.subarray(1), H, draws, null, seq, cache), { name: 'RangeError', message: /nb101ControllerSample: params has length \d+ but must have \d+/ })
  t.throws(() => addon.nb101ControllerSample(new Float32Array(c.params.length) as unknown as Float64Array, H, draws, null, seq, cache), { name: 'TypeError', message: /params must be a Float64Array/ })
  t.throws(() => addon.nb101ControllerSample(c.params, 0, draws, null, seq, cache), { name: 'RangeError', message: /hidden must be an integer in \[1, 4096\]/ })
  t.throws(() => addon.nb101ControllerSample(c.params, H, Float64Array.from(draws, (x, k) => k === 2 ? 1 : x), null, seq, cache), /draws\[2\] must be in \[0, 1\)/)
  t.throws(() => addon.nb101ControllerSample(c.params, H, draws.subarray(1), null, seq, cache), /draws has length 17 but must have 18/)
  t.throws(() => addon.nb101ControllerSample(c.params, H, draws, good, seq, cache), { name: 'TypeError', message: /exactly one of draws/ })
  t.throws(() => addon.nb101ControllerSample(c.params, H, null, null, seq, cache), { name: 'TypeError', message: /exactly one of draws/ })
  t.throws(() => addon.nb101ControllerSample(c.params, H, null, Uint8Array.from(good, (x, k) => k === 0 ? 6 : x), seq, cache), /forced\[0\] \(the node count\) must be in 1\.\.5, got 6/)
  t.throws(() => addon.nb101ControllerSample(c.params, H, null, Uint8Array.from(good, (x, k) => k === 3 ? 2 : x), seq, cache), /forced\[3\] must be in 0\.\.1 \(n = 2\), got 2/)
  t.throws(() => addon.nb101ControllerSample(c.params, H, null, good.subarray(1), seq, cache), /forced has length 17 but must have 18/)
  t.throws(() => addon.nb101ControllerSample(c.params, H, draws, null, new Uint8Array(5), cache), /seqOut has length 5/)
  t.throws(() => addon.nb101ControllerSample(c.params, H, draws, null, seq, cache.subarray(1)), /cacheOut has length/)
  const both = new Float64Array(c.params.length + cache.length)
  both.set(c.params)
  t.throws(() => addon.nb101ControllerSample(both.subarray(0, c.params.length), H, draws, null, seq, both.subarray(c.params.length - 1, c.params.length - 1 + cache.length)), /must not share memory/)
  const bad = Float64Array.from(c.params)
  bad[3] = NaN
  t.throws(() => addon.nb101ControllerSample(bad, H, draws, null, seq, cache), { name: 'RangeError', message: /non-finite or drive the softmax out of range/ })
  const huge = Float64Array.from(c.params, () => 1e308)
  t.throws(() => addon.nb101ControllerSample(huge, H, draws, null, seq, cache), /out of range/, 'overflowing logits: a RangeError, not a silent pick')
  t.throws(() => addon.nb101ControllerSampleMany(bad, H, new Float64Array(36).fill(0.1)), /log π of sample 0 is NaN/)
  t.throws(() => addon.nb101ControllerSampleMany(c.params, H, new Float64Array(7)), /not a multiple of 18/)
  t.throws(() => addon.nb101ControllerSampleMany(c.params, H, Float64Array.from({ length: 18 }, () => -0.5)), /draws\[0\] must be in \[0, 1\)/)

  const s = c.sample(new Random(1))
  const flat = s.flat as Float64Array
  const adam = new Adam(c.params.length, 1e-3, 0.5, 0.999)
  t.throws(() => addon.nb101ControllerBackward(c.params, c.grad, H, s.seq, flat.subarray(1), 1, 0), /cache has length \d+ but must have/)
  t.throws(() => addon.nb101ControllerBackward(c.params, c.grad.subarray(1), H, s.seq, flat, 1, 0), /grad has length/)
  t.throws(() => addon.nb101ControllerBackward(c.params, c.grad, H, Uint8Array.from(good, (x, k) => k === 1 ? 1 : x), flat, 1, 0), /seq\[1\] must be in 0\.\.0/)
  t.throws(() => addon.nb101ControllerBackward(c.params, c.grad, H, s.seq, flat, NaN, 0), /coefLogProb must be finite/)
  t.throws(() => addon.nb101ControllerStep(c.params, c.params, adam.m, adam.v, H, s.seq, flat, 1, 0, 1, 1e-3, 0.5, 0.999, 0, 1e-8), /params and grad share memory/)
  t.throws(() => addon.nb101ControllerStep(c.params, c.grad, adam.m, adam.v, H, s.seq, flat, 1, 0, 0, 1e-3, 0.5, 0.999, 0, 1e-8), /step must be an integer in \[1,/)
  t.throws(() => addon.nb101ControllerStep(c.params, c.grad, adam.m, adam.v, H, s.seq, flat, 1, 0, 1, 1e-3, 1, 0.999, 0, 1e-8), /beta1 must be in \[0, 1\)/)
  t.throws(() => addon.nb101ControllerStep(c.params, c.grad, adam.m.subarray(2), adam.v, H, s.seq, flat, 1, 0, 1, 1e-3, 0.5, 0.999, 0, 1e-8), /m has length/)
  t.throws(() => addon.nb101ControllerStep(c.params, c.grad, adam.m, adam.v, H, s.seq, flat, 1, 0, 1, -1, 0.5, 0.999, 0, 1e-8), /lr must be > 0/)

  // Through the class: the public names.
  t.throws(() => new Nb101Controller(new Random(1), 0), { name: 'RangeError', message: /hidden must be an integer in 1\.\.4096, got 0/ })
  t.throws(() => new Nb101Controller(null as unknown as Random), { name: 'TypeError', message: /random must be a Random/ })
  t.throws(() => new Nb101Controller(new Random(1), 8, { engine: 'gpu' as 'js' }), { name: 'RangeError', message: /engine must be 'native' or 'js', got gpu/ })
  t.throws(() => { c.engine = 'wasm' as 'js' }, /engine must be 'native' or 'js'/)
  t.throws(() => c.sample(null), { name: 'TypeError', message: /random is required/ })
  t.throws(() => c.sample(null, [2, 0, 5]), { name: 'RangeError', message: /seq must hold 18 decisions, got 3/ })
  t.throws(() => c.sample(null, Array.from(good, (x, k) => k === 2 ? 1.5 : x)), /seq\[2\] must be an integer in 0\.\.2/)
  t.throws(() => c.sampleMany(-1, new Random(0)), /n must be a non-negative integer/)
  t.throws(() => c.sampleMany(2, undefined as unknown as Random), { name: 'TypeError', message: /random must be a Random/ })
  t.throws(() => c.backward(c.sample(new Random(2), undefined, false), 1), /keeps no forward state/)
  t.throws(() => c.backward(null as unknown as Nb101ControllerSample, 1), { name: 'TypeError', message: /Nb101Controller\.backward: s must be a sample/ })
  t.throws(() => c.backward({ ...s, seq: Uint8Array.from(good, (x, k) => k === 3 ? 4 : x) }, 1), /Nb101Controller\.backward: s\.seq\[3\] must be in 0\.\.1/)
  t.throws(() => c.backward({ ...s, flat: undefined, cache: s.cache.map(x => Float64Array.from({ length: x.length + 1 })) }, 1), /s\.cache\[0\] is not a forward state/)
  t.throws(() => c.backward(s, Infinity), /Nb101Controller\.backward: coefLogProb must be finite/)
  t.throws(() => c.step(s, 1, 0, new Adam(3, 1e-3, 0.5, 0.999)), /adam holds 3 parameters/)
  t.throws(() => c.step(s, 1, 0, new Adam(c.params.length, 1e-3, 1.5, 0.999)), /Nb101Controller\.step: beta1 must be in \[0, 1\)/)
  // Last: it leaves the parameters non-finite (the error says so).
  t.throws(() => c.step(s, 1e308, 0, new Adam(c.params.length, 1e308, 0.5, 0.999)), /became non-finite/)
})

t.test('the portable kernels (NASRANK_NO_AVX2=1) agree with the dispatched ones', async t => {
  const root = path.resolve(__dirname, '..')
  // One sample, one step and 300 samples in a child process without AVX2.
  const script = `
    const { Random } = require(${JSON.stringify(path.join(root, 'dist/lib/random'))})
    const { Nb101Controller } = require(${JSON.stringify(path.join(root, 'dist/lib/models/controller-nb101'))})
    const { Adam } = require(${JSON.stringify(path.join(root, 'dist/lib/models/nac'))})
    const c = new Nb101Controller(new Random(8), 13, { engine: 'native' })
    const adam = new Adam(c.params.length, 1e-2, 0.5, 0.999, 5e-4)
    const s = c.sample(new Random(9))
    c.step(s, 0.7, 0.05, adam)
    const many = c.sampleMany(300, new Random(10)).map(x => Array.from(x.seq))
    console.log(JSON.stringify({ seq: Array.from(s.seq), logProb: s.logProb, params: Array.from(c.params), many }))`
  const child = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NASRANK_NO_AVX2: '1' } }))
  const c = new Nb101Controller(new Random(8), 13, { engine: 'native' })
  const adam = new Adam(c.params.length, 1e-2, 0.5, 0.999, 5e-4)
  const s = c.sample(new Random(9))
  c.step(s, 0.7, 0.05, adam)
  t.same(child.seq, Array.from(s.seq), 'same decisions')
  t.ok(rel(child.logProb, s.logProb) <= 1e-12, 'same log π to rounding')
  t.ok(maxRel(child.params, c.params, 1e-6) <= 1e-9, 'same parameters after a step, to rounding')
  t.same(child.many, c.sampleMany(300, new Random(10)).map(x => Array.from(x.seq)), 'same samples')
})
