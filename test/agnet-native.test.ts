// The native AG-Net generator (native/agnet.cc via lib/models/agnet-native.ts) against the JS
// tape reference (lib/models/agnet.ts): forward, parameter gradients of Eq. 1 plus an output
// gradient, finite differences, Adam steps, thread-count independence, candidate generation
// (the same Random draws, decodes and dedup as the JS path) and argument validation.
import t from 'tap'
import { Random } from '../lib/random'
import { Adam, Mat, Tape } from '../lib/models/autodiff'
import { AgNetGenerator, reconstructionLoss } from '../lib/models/agnet'
import { AgNetNative, agnetFlatParams } from '../lib/models/agnet-native'
import { agnetEdgeCount, agnetNb201DecodeGraph } from '../lib/encode/agnet'
import { agnetSampleGraph, agnetLoadWeights, AGNET_NB201_WEIGHTS, agnet, agnetPretrain, agnetGeneratorQuality, AGNET_NB201_SPACE } from '../lib/search/agnet'
import { Bench } from '../lib/bench/bench'
import { synthetic201 } from '../lib/bench/synthetic'
import { nb201 } from '../lib/spaces/nb201'

const SHAPE = { nodes: 8, classes: 7 }
const D = 84

/** A generator whose edge logits straddle the 0.5 threshold, so the propagation graphs differ per row. */
function generator (seed: number, edgeBias = 0.55): AgNetGenerator {
  const gen = new AgNetGenerator(SHAPE, new Random(seed, 1))
  const b = gen.params.find(p => p.name === 'edge2.b')
  if (b === undefined) throw new Error('no edge2.b')
  b.data[0] = edgeBias
  return gen
}

function batch (B: number, seed: number) {
  const r = new Random(seed, 9)
  const z = Float64Array.from({ length: B * 32 }, () => 1.5 * r.normal())
  const classes = Uint8Array.from({ length: B * 8 }, () => r.int(7))
  const edges = Uint8Array.from({ length: B * 28 }, () => r.int(2))
  const weights = Float64Array.from({ length: B }, () => r.float())
  const dout = Float64Array.from({ length: B * D }, () => r.normal() * 0.1)
  return { z, classes, edges, weights, dout }
}

function maxDiff (a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

/** JS tape: output, flat gradient of Σ w(ceScale·CE + BCE) + Σ dout·out, per-row CE/BCE. */
function jsGradient (gen: AgNetGenerator, b: ReturnType<typeof batch>, ceScale: number) {
  for (const p of gen.params) p.g().fill(0)
  const tape = new Tape(true)
  const B = b.weights.length
  const { out } = gen.forward(tape, new Mat(B, 32, b.z))
  const loss = reconstructionLoss(SHAPE, out, b.classes, b.edges, b.weights, ceScale)
  const g = out.g()
  for (let i = 0; i < g.length; i++) g[i] += b.dout[i]
  tape.backward()
  const grad = new Float64Array(gen.parameterCount)
  let at = 0
  for (const p of gen.params) { grad.set(p.g(), at); at += p.data.length }
  return { out: out.data, grad, ce: loss.ce, bce: loss.bce }
}

t.test('forward = the JS tape (rows with different propagation graphs, a partial chunk)', async t => {
  for (const [seed, bias] of [[1, 0.55], [2, 0.7], [3, -1]] as const) {
    const gen = generator(seed, bias)
    const nat = AgNetNative.fromGenerator(gen)
    const b = batch(19, seed)
    const js = gen.forward(new Tape(false), new Mat(19, 32, b.z)).out.data
    const out = nat.forward(b.z)
    t.ok(maxDiff(js, out) < 1e-10, `seed ${seed}: max |Δ| ${maxDiff(js, out)}`)
    // The graphs really differ: count rows by their thresholded edges.
    const keys = new Set<string>()
    for (let r = 0; r < 19; r++) keys.add(Array.from(out.subarray(r * D + 56, r * D + 84), v => v > 0.5 ? 1 : 0).join(''))
    if (bias === 0.55) t.ok(keys.size > 5, `${keys.size} distinct edge patterns`)
  }
})

t.test('gradients of Eq. 1 + an output gradient = the JS tape', async t => {
  for (const [seed, ceScale] of [[4, 1], [5, 2]] as const) {
    const gen = generator(seed)
    const nat = AgNetNative.fromGenerator(gen)
    const b = batch(13, seed)
    const js = jsGradient(gen, b, ceScale)
    const r = nat.gradient(b.z, { target: { classes: b.classes, edges: b.edges, weights: b.weights, ceScale }, dout: b.dout })
    t.ok(maxDiff(js.out, r.out) < 1e-10, 'out')
    t.ok(maxDiff(js.grad, r.grad) < 1e-10, `grad: max |Δ| ${maxDiff(js.grad, r.grad)}`)
    t.ok(maxDiff(js.ce, r.ce ?? []) < 1e-10, 'CE per row')
    t.ok(maxDiff(js.bce, r.bce ?? []) < 1e-10, 'BCE per row')
    let nonzero = 0
    for (const v of r.grad) if (v !== 0) nonzero++
    t.ok(nonzero > 0.9 * r.grad.length, `${nonzero} of ${r.grad.length} gradient entries non-zero`)
    // Target only and dout only.
    const onlyDout = nat.gradient(b.z, { dout: b.dout }).grad
    const onlyTarget = nat.gradient(b.z, { target: { classes: b.classes, edges: b.edges, weights: b.weights, ceScale } }).grad
    t.ok(maxDiff(Float64Array.from(onlyDout, (v, i) => v + onlyTarget[i]), r.grad) < 1e-12, 'the two gradients add')
  }
})

t.test('gradients = central finite differences of the loss', async t => {
  const gen = generator(6)
  const b = batch(5, 6)
  const nat = AgNetNative.fromGenerator(gen)
  const target = { classes: b.classes, edges: b.edges, weights: b.weights, ceScale: 1 }
  const { grad, out } = nat.gradient(b.z, { target, dout: b.dout })
  const lossAt = (params: Float64Array): { loss: number, mask: string } => {
    const probe = new AgNetNative(SHAPE, params)
    const r = probe.gradient(b.z, { target })
    let loss = 0
    for (let i = 0; i < 5; i++) loss += b.weights[i] * ((r.ce as Float64Array)[i] + (r.bce as Float64Array)[i])
    for (let i = 0; i < r.out.length; i++) loss += b.dout[i] * r.out[i]
    const mask = Array.from({ length: 5 * 28 }, (_, k) => r.out[Math.floor(k / 28) * D + 56 + (k % 28)] > 0.5 ? 1 : 0).join('')
    return { loss, mask }
  }
  const baseMask = Array.from({ length: 5 * 28 }, (_, k) => out[Math.floor(k / 28) * D + 56 + (k % 28)] > 0.5 ? 1 : 0).join('')
  const flat = agnetFlatParams(gen)
  const pick = new Random(7)
  let checked = 0
  let at = 0
  for (const p of gen.params) {
    for (let trial = 0; trial < 2; trial++) {
      const i = at + pick.int(p.data.length)
      const h = 1e-6
      const plus = Float64Array.from(flat); plus[i] += h
      const minus = Float64Array.from(flat); minus[i] -= h
      const a = lossAt(plus)
      const c = lossAt(minus)
      if (a.mask !== baseMask || c.mask !== baseMask) continue // a threshold flipped: not differentiable here
      const fd = (a.loss - c.loss) / (2 * h)
      const err = Math.abs(fd - grad[i]) / Math.max(1e-3, Math.abs(fd) + Math.abs(grad[i]))
      if (err > 1e-4) t.fail(`${p.name}[${i - at}]: analytic ${grad[i]}, finite difference ${fd}`)
      checked++
    }
    at += p.data.length
  }
  t.ok(checked > 100, `${checked} parameters checked (every parameter tensor)`)
})

t.test('Adam steps = the JS tape with autodiff Adam (β 0.5, 0.999, weight decay)', async t => {
  const gen = generator(8)
  const nat = AgNetNative.fromGenerator(gen)
  const options = { lr: 1e-3, beta1: 0.5, beta2: 0.999, weightDecay: 1e-4 }
  const opt = new Adam(gen.params, options)
  nat.setAdam(options)
  for (let step = 0; step < 4; step++) {
    const b = batch(9, 20 + step)
    jsGradient(gen, b, 1)
    opt.update()
    nat.trainStep(b.z, { target: { classes: b.classes, edges: b.edges, weights: b.weights }, dout: b.dout })
  }
  const diff = maxDiff(agnetFlatParams(gen), nat.params)
  t.ok(diff < 1e-10, `params after 4 steps: max |Δ| ${diff}`)
  t.equal(nat.optimizer?.step, 4)
  t.ok(maxDiff(opt.m.flatMap(m => Array.from(m)), nat.optimizer?.m ?? []) < 1e-10, 'first moments')
  const back = new AgNetGenerator(SHAPE, new Random(99))
  nat.copyTo(back)
  t.same(agnetFlatParams(back), nat.params, 'copyTo writes every parameter')
})

t.test('1 and 2 threads give bit-identical results', async t => {
  const gen = generator(10)
  const b = batch(37, 10)
  const target = { classes: b.classes, edges: b.edges, weights: b.weights }
  const one = AgNetNative.fromGenerator(gen, { threads: 1 })
  const two = AgNetNative.fromGenerator(gen, { threads: 2 })
  const r1 = one.gradient(b.z, { target, dout: b.dout })
  const r2 = two.gradient(b.z, { target, dout: b.dout })
  t.same(r1.grad, r2.grad, 'gradients')
  t.same(r1.out, r2.out, 'outputs')
  t.same(one.forward(b.z), two.forward(b.z), 'forward')
})

t.test('generate = the JS path: same draws, decodes, dedup and final Random state', async t => {
  // The shipped generator decodes mostly valid cells, so decoding and dedup are exercised too.
  const gen = agnetLoadWeights(AGNET_NB201_WEIGHTS, SHAPE)
  const nat = AgNetNative.fromGenerator(gen)
  for (const rule of ['sample', 'threshold'] as const) {
    const rows = 300
    const zr = new Random(12)
    const z = Float64Array.from({ length: rows * 32 }, () => (2 * zr.float() - 1) * 3)
    const jsRandom = new Random(13, 3)
    const natRandom = new Random(13, 3)
    const out = gen.forward(new Tape(false), new Mat(rows, 32, z)).out
    const seenJs = new Uint8Array(15625)
    seenJs[0] = 1
    const seen = Uint8Array.from(seenJs)
    const r = nat.generate(z, natRandom, rule, seen)
    const cls = new Uint8Array(8)
    const edg = new Uint8Array(28)
    let valid = 0
    let mismatch = 0
    for (let row = 0; row < rows; row++) {
      const n = agnetSampleGraph(SHAPE, out, row, jsRandom, cls, edg, rule)
      const ops = agnetNb201DecodeGraph(cls.subarray(0, n), edg.subarray(0, agnetEdgeCount(n)))
      const index = ops === null ? -1 : nb201.index(ops)
      let fresh = 0
      if (index >= 0) { valid++; if (seenJs[index] === 0) { seenJs[index] = 1; fresh = 1 } }
      if (r.length[row] !== n || r.index[row] !== index || r.fresh[row] !== fresh) mismatch++
      if (Array.from(r.classes.subarray(row * 8, row * 8 + n)).join() !== Array.from(cls.subarray(0, n)).join()) mismatch++
    }
    t.equal(mismatch, 0, `${rule}: every row the same`)
    t.same(natRandom.state(), jsRandom.state(), `${rule}: the Random stream advanced the same`)
    t.same(seen, seenJs, `${rule}: seen flags`)
    t.ok(maxDiff(out.data, r.out) < 1e-10, 'logits')
    t.ok(valid > 100, `${rule}: ${valid} valid of ${rows}`)
    t.ok(seen.reduce((n, v) => n + v, 0) > 100, `${rule}: dedup marked the new cells`)
  }
})

t.test('generate finds valid NB-201 cells with the shipped weights', async t => {
  const nat = AgNetNative.fromGenerator(agnetLoadWeights(AGNET_NB201_WEIGHTS, SHAPE))
  const zr = new Random(3)
  const z = Float64Array.from({ length: 500 * 32 }, () => (2 * zr.float() - 1) * 3)
  const r = nat.generate(z, new Random(4), 'sample', new Uint8Array(15625))
  const valid = r.index.reduce((s, v) => s + (v >= 0 ? 1 : 0), 0)
  const fresh = r.fresh.reduce((s, v) => s + v, 0)
  t.ok(valid > 100, `${valid} valid of 500`)
  t.ok(fresh > 10 && fresh <= valid, `${fresh} distinct`)
})

t.test('argument validation names the argument', async t => {
  const gen = generator(1)
  const nat = AgNetNative.fromGenerator(gen)
  const b = batch(2, 1)
  t.throws(() => new AgNetNative(SHAPE, new Float64Array(10)), /params has length 10 but the generator .* has 42474 parameters/)
  t.throws(() => nat.forward(new Float64Array(33)), /z must be a Float64Array of rows × 32/)
  const bad = Float64Array.from(b.z); bad[5] = NaN
  t.throws(() => nat.forward(bad), /z\[5\] is NaN/)
  t.throws(() => nat.gradient(b.z, { target: { classes: b.classes.subarray(1), edges: b.edges, weights: b.weights } }), /target.classes has length 15/)
  const cls = Uint8Array.from(b.classes); cls[3] = 7
  t.throws(() => nat.gradient(b.z, { target: { classes: cls, edges: b.edges, weights: b.weights } }), /target.classes\[3\] is 7; classes must be < 7/)
  const edg = Uint8Array.from(b.edges); edg[0] = 2
  t.throws(() => nat.gradient(b.z, { target: { classes: b.classes, edges: edg, weights: b.weights } }), /target.edges\[0\] is 2/)
  t.throws(() => nat.gradient(b.z, { dout: new Float64Array(5) }), /dout has length 5 but must have rows × length = 168/)
  t.throws(() => nat.trainStep(b.z, { dout: b.dout.subarray(0, 168) }), /call setAdam first/)
  nat.setAdam({ lr: -1 })
  t.throws(() => nat.trainStep(b.z, { dout: b.dout.subarray(0, 168) }), /adam needs lr >= 0/)
  t.throws(() => nat.generate(b.z, new Random(1), 'sample', new Uint8Array(5)), /seen must be a Uint8Array of base\^\(nodes − 2\) = 15625 flags/)
  t.throws(() => nat.generate(b.z, new Random(1), 'maybe' as 'sample'), /edgeRule must be 'sample' or 'threshold'/)
  t.throws(() => new AgNetNative(SHAPE, agnetFlatParams(gen), { threads: 0 }), /threads/)
  await t.rejects(nat.forwardAsync(new Float64Array(3)), /z must be a Float64Array/)
  t.same(await nat.forwardAsync(b.z), nat.forward(b.z), 'async forward = sync')
})

t.test('pretraining: the native engine follows the JS tape (same draws); valid-unique selects the best checkpoint', async t => {
  const steps = 12
  const jsLoss: number[] = []
  const natLoss: number[] = []
  const js = agnetPretrain(AGNET_NB201_SPACE, steps, 31, (_, l) => jsLoss.push(l), { engine: 'js' })
  const nat = agnetPretrain(AGNET_NB201_SPACE, steps, 31, (_, l) => natLoss.push(l), { engine: 'native' })
  t.ok(maxDiff(jsLoss, natLoss) < 1e-9, `losses per step: max |Δ| ${maxDiff(jsLoss, natLoss)}`)
  t.ok(maxDiff(agnetFlatParams(js), agnetFlatParams(nat)) < 1e-9, `parameters after ${steps} steps`)
  t.throws(() => agnetPretrain(AGNET_NB201_SPACE, 2, 31, undefined, { engine: 'gpu' as 'js' }), /options.engine must be 'native' or 'js'/)
  t.throws(() => agnetPretrain(AGNET_NB201_SPACE, 2, 31, undefined, { select: 'best' as 'last' }), /options.select/)
  // Selection: score every 4 steps; the result is the checkpoint with the most distinct valid cells.
  const seen: Array<{ step: number, distinct: number }> = []
  const chosen = agnetPretrain(AGNET_NB201_SPACE, 12, 32, undefined, { checkpointEvery: 4, select: 'valid-unique', onCheckpoint: (step, q) => seen.push({ step, distinct: q.distinct }) })
  t.same(seen.map(c => c.step), [4, 8, 12], 'scored at 4, 8 and the end')
  let best = seen[0]
  for (const c of seen) if (c.distinct > best.distinct) best = c
  const again = agnetPretrain(AGNET_NB201_SPACE, best.step, 32)
  t.same(agnetFlatParams(chosen), agnetFlatParams(again), `the chosen parameters are those of step ${best.step}`)
  t.equal(agnetGeneratorQuality(chosen).distinct, best.distinct, 'and score as recorded')
})

t.test('the search loop: native and JS engines query the same architectures', async t => {
  const bench = new Bench(synthetic201())
  for (const variant of ['agnet', 'no-backprop'] as const) {
    const settings = { epochs: 1, init: 8, k: 8, candidates: 20, lr: 1e-4, variant }
    const rows = async (engine: 'native' | 'js'): Promise<number[]> =>
      Array.from((await agnet({ ...settings, engine }).run({ bench, budget: 16, seed: 5, metric: 'val' })).rows)
    const n = await rows('native')
    t.equal(n.length, 16, `${variant}: the budget is spent`)
    t.same(n, await rows('js'), `${variant}: same queries`)
  }
  t.throws(() => agnet({ engine: 'gpu' as 'js' }), /settings.engine must be one of 'native', 'js'/)
})
