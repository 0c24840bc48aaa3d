// The native CTNAS controller (native/controller.cc) against the TypeScript Controller (the
// reference, itself checked against finite differences and the float64 reference in
// test/ctnas.test.ts), against central differences of its own log π, and its argument errors.
import t from 'tap'
import * as path from 'node:path'
import { execFileSync } from 'node:child_process'
import { Random } from '../lib/random'
import { Controller, CONTROLLER_STEPS, CONTROLLER_CHOICES } from '../lib/models/controller'
import { Adam } from '../lib/models/nac'
import { addon } from '../lib/native'
import { refControllerLogProb } from './reference/ctnas'

const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number => {
  let worst = 0
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]) / Math.max(floor, Math.abs(b[k])))
  return worst
}

/** A controller whose parameters are scaled (scale > 1 makes π peaked: shared prefixes, extreme gates). */
function controller (seed: number, hidden: number, scale = 1): Controller {
  const c = new Controller(new Random(seed), hidden)
  for (let k = 0; k < c.params.length; k++) c.params[k] *= scale
  return c
}

t.test('sampleNative = sample: same draws, decisions, log π, entropy and cache', async t => {
  for (const [hidden, scale] of [[64, 1], [64, 20], [7, 5], [1, 3], [33, 1]]) {
    const c = controller(hidden * 31 + scale, hidden, scale)
    for (let trial = 0; trial < 20; trial++) {
      const ra = new Random(trial, hidden)
      const rb = new Random(trial, hidden)
      const a = c.sample(ra)
      const b = c.sampleNative(rb)
      t.same(Array.from(b.ops), Array.from(a.ops), `H ${hidden} ×${scale} #${trial}: decisions`)
      t.equal(rb.uint32(), ra.uint32(), 'the same number of draws')
      t.ok(Math.abs(b.logProb - a.logProb) <= 1e-12 * Math.max(1, Math.abs(a.logProb)), `log π ${b.logProb} vs ${a.logProb}`)
      t.ok(Math.abs(b.entropy - a.entropy) <= 1e-12 * Math.max(1, a.entropy), `entropy ${b.entropy} vs ${a.entropy}`)
      for (let s = 0; s < CONTROLLER_STEPS; s++) {
        if (maxRel(b.cache[s], a.cache[s], 1e-9) > 1e-11) t.fail(`cache of step ${s}: ${maxRel(b.cache[s], a.cache[s], 1e-9)}`)
      }
    }
  }
  // Forced decisions: log π of a known sequence, against the float64 reference.
  const c = controller(5, 64, 2)
  const random = new Random(3)
  for (let trial = 0; trial < 30; trial++) {
    const ops = Array.from({ length: CONTROLLER_STEPS }, () => random.int(CONTROLLER_CHOICES))
    const got = c.sampleNative(null, ops)
    t.same(Array.from(got.ops), ops)
    const ref = refControllerLogProb(c.params, 64, ops)
    t.ok(Math.abs(got.logProb - ref.logProb) <= 1e-12 * Math.max(1, Math.abs(ref.logProb)), `forced: log π ${got.logProb} vs reference ${ref.logProb}`)
  }
})

t.test('backwardNative = backward (log π and entropy terms), and = central differences of log π', async t => {
  for (const [hidden, scale, coefEnt] of [[64, 1, 0], [64, 1, 0.3], [64, 8, -0.2], [7, 3, 0.5], [2, 1, 1]]) {
    const c = controller(hidden + 100 * scale, hidden, scale)
    const random = new Random(hidden, 7)
    for (let trial = 0; trial < 8; trial++) {
      const s = c.sample(random)
      const coef = random.normal()
      c.grad.fill(0)
      c.backward(s, coef, coefEnt)
      const ref = Float64Array.from(c.grad)
      c.grad.fill(0.25) // accumulates like backward()
      c.backwardNative(c.sampleNative(null, s.ops), coef, coefEnt)
      for (let k = 0; k < ref.length; k++) ref[k] += 0.25
      const err = maxRel(c.grad, ref, 1e-9)
      t.ok(err <= 1e-9, `H ${hidden} ×${scale} entropy ${coefEnt} #${trial}: max rel err ${err.toExponential(2)}`)
    }
  }
  // Central differences of −log π through the native forward, on parameters of every block.
  const H = 6
  const c = controller(77, H, 3)
  const ops = Uint8Array.from([1, 4, 0, 2, 2, 3])
  c.grad.fill(0)
  c.backwardNative(c.sampleNative(null, ops), 1, 0)
  const analytic = Float64Array.from(c.grad)
  const logPi = (): number => c.sampleNative(null, ops).logProb
  let worst = 0
  for (let k = 0; k < c.params.length; k += 3) {
    const p = c.params[k]
    const h = 1e-5
    c.params[k] = p + h; const up = logPi()
    c.params[k] = p - h; const down = logPi()
    c.params[k] = p
    const numeric = -(up - down) / (2 * h)
    worst = Math.max(worst, Math.abs(numeric - analytic[k]) / Math.max(1e-3, Math.abs(analytic[k])))
  }
  t.ok(worst < 1e-5, `−∂log π/∂θ vs central differences: max rel err ${worst.toExponential(2)}`)
})

t.test('stepNative = zero grad + backward + Adam.step, over a run of REINFORCE iterations', async t => {
  const ts = controller(12, 64)
  const nat = controller(12, 64)
  const adamTs = new Adam(ts.params.length, 2e-3, 0.5, 0.999, 5e-4)
  const adamNat = new Adam(nat.params.length, 2e-3, 0.5, 0.999, 5e-4)
  const ra = new Random(5)
  const rb = new Random(5)
  for (let it = 0; it < 50; it++) {
    const a = ts.sample(ra)
    const b = nat.sampleNative(rb)
    t.same(Array.from(b.ops), Array.from(a.ops), `iteration ${it}: same decisions`)
    const reward = Math.sin(it) + 0.1 * a.entropy
    ts.grad.fill(0)
    ts.backward(a, reward, 0.01)
    adamTs.step(ts.params, ts.grad)
    nat.stepNative(b, reward, 0.01, adamNat)
  }
  t.equal(adamNat.t, adamTs.t, 'Adam step counts agree')
  const err = maxRel(nat.params, ts.params, 1e-6)
  t.ok(err <= 1e-9, `parameters after 50 iterations: max rel err ${err.toExponential(2)}`)
  t.ok(maxRel(adamNat.m, adamTs.m, 1e-9) <= 1e-8 && maxRel(adamNat.v, adamTs.v, 1e-12) <= 1e-8, 'Adam moments agree')
})

t.test('sampleManyNative = sampleMany: same draws, same sequences (flat and peaked π)', async t => {
  for (const scale of [1, 6, 40]) {
    const c = controller(90 + scale, 64, scale)
    for (const n of [0, 1, 5, 1024]) {
      const ra = new Random(n, scale)
      const rb = new Random(n, scale)
      const a = c.sampleMany(n, ra)
      const b = c.sampleManyNative(n, rb)
      t.same(Array.from(b), Array.from(a), `scale ${scale}, n = ${n}`)
      t.equal(rb.uint32(), ra.uint32(), 'the same number of draws')
    }
  }
})

t.test('argument errors name the argument', async t => {
  const c = controller(1, 8)
  const H = 8
  const C = CONTROLLER_CHOICES
  const T = CONTROLLER_STEPS
  const ops = new Uint8Array(T)
  const cache = new Float64Array(T * (10 * H + C))
  const draws = new Float64Array(T).fill(0.5)
  t.throws(() => addon.controllerSample(c.params.subarray(1), H, C, draws, null, ops, cache), /controllerSample: params has length \d+ but must have/)
  t.throws(() => addon.controllerSample(c.params, H, C, Float64Array.from([0.5, 0.5, 1, 0.5, 0.5, 0.5]), null, ops, cache), /draws\[2\] must be in \[0, 1\)/)
  t.throws(() => addon.controllerSample(c.params, H, C, draws, ops, ops, cache), /exactly one of draws/)
  t.throws(() => addon.controllerSample(c.params, H, C, null, Uint8Array.from([0, 1, 5, 0, 0, 0]), ops, cache), /forced\[2\] is 5; decisions must be < choices \(5\)/)
  t.throws(() => addon.controllerSample(c.params, H, C, draws, null, new Uint8Array(0), cache), /opsOut is empty/)
  t.throws(() => addon.controllerSample(c.params, H, C, draws, null, ops, cache.subarray(1)), /cacheOut has length/)
  t.throws(() => addon.controllerSample(c.params, 0, C, draws, null, ops, cache), /hidden must be an integer in \[1, 4096\]/)
  t.throws(() => addon.controllerSample(c.params, H, 1, draws, null, ops, cache), /choices must be an integer in \[2, 255\]/)
  t.throws(() => addon.controllerSample(c.params, H, C, draws, null, ops, c.params.subarray(0, cache.length)), /opsOut and cacheOut must not share memory/)
  const bad = Float64Array.from(c.params)
  bad[3] = NaN
  t.throws(() => addon.controllerSample(bad, H, C, draws, null, ops, cache), /params\[3\] is NaN/)
  const huge = Float64Array.from(c.params, (x, k) => k >= c.params.length - 2 * C * H - C ? 1e308 : x)
  t.throws(() => addon.controllerSample(huge, H, C, draws, null, ops, cache), /out of range/, 'overflowing logits: a RangeError, not a silent pick')
  const s = c.sampleNative(new Random(1))
  const adam = new Adam(c.params.length, 1e-3, 0.5, 0.999)
  t.throws(() => addon.controllerStep(c.params, c.params, adam.m, adam.v, H, C, s.ops, s.flat as Float64Array, 1, 0, 1, 1e-3, 0.5, 0.999, 0, 1e-8), /params and grad share memory/)
  t.throws(() => addon.controllerStep(c.params, c.grad, adam.m, adam.v, H, C, s.ops, s.flat as Float64Array, 1, 0, 0, 1e-3, 0.5, 0.999, 0, 1e-8), /step must be an integer in \[1,/)
  t.throws(() => addon.controllerStep(c.params, c.grad, adam.m, adam.v, H, C, s.ops, s.flat as Float64Array, 1, 0, 1, 1e-3, 1, 0.999, 0, 1e-8), /beta1 must be in \[0, 1\)/)
  t.throws(() => addon.controllerStep(c.params, c.grad, adam.m, adam.v, H, C, s.ops, s.flat as Float64Array, Infinity, 0, 1, 1e-3, 0.5, 0.999, 0, 1e-8), /coefLogProb must be finite/)
  t.throws(() => c.stepNative(s, 1, 0, new Adam(3, 1e-3, 0.5, 0.999)), /adam holds 3 parameters/)
  t.throws(() => addon.controllerSampleMany(c.params, H, C, T, new Float64Array(7)), /not a multiple of steps/)
  t.throws(() => c.sampleManyNative(-1, new Random(0)), /n must be a non-negative integer/)
  // Last: it leaves the parameters non-finite (the error says so).
  t.throws(() => c.stepNative(s, 1e308, 0, new Adam(c.params.length, 1e308, 0.5, 0.999)), /became non-finite/)
})

t.test('the portable kernels (NASRANK_NO_AVX2=1) agree with the dispatched ones', async t => {
  const root = path.resolve(__dirname, '..')
  // One sample, one step and 256 grouped samples in a child process without AVX2.
  const script = `
    const { addon } = require(${JSON.stringify(path.join(root, 'dist/lib/native'))})
    const { Random } = require(${JSON.stringify(path.join(root, 'dist/lib/random'))})
    const { Controller } = require(${JSON.stringify(path.join(root, 'dist/lib/models/controller'))})
    const { Adam } = require(${JSON.stringify(path.join(root, 'dist/lib/models/nac'))})
    const c = new Controller(new Random(8), 13)
    const adam = new Adam(c.params.length, 1e-2, 0.5, 0.999, 5e-4)
    const s = c.sampleNative(new Random(9))
    c.stepNative(s, 0.7, 0.05, adam)
    const many = c.sampleManyNative(256, new Random(10))
    console.log(JSON.stringify({ ops: Array.from(s.ops), logProb: s.logProb, params: Array.from(c.params), many: Array.from(many) }))`
  const child = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NASRANK_NO_AVX2: '1' } }))
  const c = new Controller(new Random(8), 13)
  const adam = new Adam(c.params.length, 1e-2, 0.5, 0.999, 5e-4)
  const s = c.sampleNative(new Random(9))
  c.stepNative(s, 0.7, 0.05, adam)
  t.same(child.ops, Array.from(s.ops), 'same decisions')
  t.ok(Math.abs(child.logProb - s.logProb) <= 1e-12 * Math.abs(s.logProb), 'same log π to rounding')
  t.ok(maxRel(child.params, c.params, 1e-6) <= 1e-9, 'same parameters after a step, to rounding')
  t.same(child.many, Array.from(c.sampleManyNative(256, new Random(10))), 'same grouped samples')
})
