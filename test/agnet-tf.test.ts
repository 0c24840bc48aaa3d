// The tfjs twin of the AG-Net generator (lib/models/agnet-tf.ts) against the float64 tape
// reference (lib/models/agnet.ts): the forward on the shipped NB-201 weights and on a random
// NB-101-shaped generator, Eq. 1's loss, and tfjs autodiff's gradients against the tape's
// backward, all to float32 rounding; the round trip of the parameters; no tensors left.
import t from 'tap'
import { initTfBackend } from '../lib/models/backend'
import { AgNetGenerator, Mat, Tape, reconstructionLoss, type AgNetShape } from '../lib/models/agnet'
import { AgNetTfGenerator } from '../lib/models/agnet-tf'
import { agnetLoadWeights, AGNET_NB201_WEIGHTS, AGNET_NB201_SPACE } from '../lib/search/agnet'
import { agnetEdgeCount } from '../lib/encode/agnet'
import { Random } from '../lib/random'

const cases = (): Array<{ name: string, gen: AgNetGenerator }> => [
  { name: 'NB-201, shipped weights', gen: agnetLoadWeights(AGNET_NB201_WEIGHTS, AGNET_NB201_SPACE.shape) },
  { name: 'NB-101 shape, random initialisation', gen: new AgNetGenerator({ nodes: 7, classes: 5 }, new Random(3)) }
]

function latent (B: number, seed: number): Float64Array {
  const r = new Random(seed)
  // Half N(0, I) (training), half U(−3, 3) (the authors' candidates).
  return Float64Array.from({ length: B * 32 }, (_, i) => i < B * 16 ? r.normal() : (2 * r.float() - 1) * 3)
}

t.test('forward: the tfjs twin = the tape to float32 rounding; edge thresholds agree', async t => {
  const { tf } = await initTfBackend({ backend: 'wasm' })
  for (const { name, gen } of cases()) {
    const B = 40
    const z = latent(B, 11)
    const ref = gen.forward(new Tape(false), new Mat(B, 32, z)).out.data
    const before = tf.memory().numTensors
    const twin = new AgNetTfGenerator(tf, gen)
    const out = tf.tidy(() => twin.forward(tf.tensor2d(Float32Array.from(z), [B, 32])).dataSync())
    t.equal(out.length, ref.length, `${name}: output width`)
    let diff = 0; let scale = 0
    for (let i = 0; i < ref.length; i++) { diff = Math.max(diff, Math.abs(out[i] - ref[i])); scale = Math.max(scale, Math.abs(ref[i])) }
    t.ok(diff <= 2e-5 * Math.max(1, scale), `${name}: max |tfjs − tape| ${diff.toExponential(2)} over outputs up to ${scale.toFixed(1)}`)
    // Every hard edge decision is the same (else the propagation graphs would differ).
    const { nodes: M, classes: C } = gen.shape
    const E = agnetEdgeCount(M)
    let flips = 0
    for (let r = 0; r < B; r++) for (let k = 0; k < E; k++) { const o = r * (M * C + E) + M * C + k; if ((out[o] > 0.5) !== (ref[o] > 0.5)) flips++ }
    t.equal(flips, 0, `${name}: edge decisions agree`)
    twin.dispose()
    t.equal(tf.memory().numTensors, before, `${name}: no tensors left behind`)
  }
})

t.test('Eq. 1 loss and autodiff gradients = the tape backward to float32 rounding', async t => {
  const { tf } = await initTfBackend({ backend: 'wasm' })
  for (const { name, gen } of cases()) {
    const shape: AgNetShape = gen.shape
    const B = 16
    const M = shape.nodes; const E = agnetEdgeCount(M)
    const r = new Random(5)
    const z = latent(B, 12)
    const classes = Uint8Array.from({ length: B * M }, () => r.int(shape.classes))
    const edges = Uint8Array.from({ length: B * E }, () => r.int(2))
    const weights = Float64Array.from({ length: B }, () => r.float() / B)
    for (const p of gen.params) p.g().fill(0)
    const tape = new Tape(true)
    const { out } = gen.forward(tape, new Mat(B, 32, z))
    const { ce, bce } = reconstructionLoss(shape, out, classes, edges, weights, 2)
    tape.backward()
    let refLoss = 0
    for (let k = 0; k < B; k++) refLoss += weights[k] * (2 * ce[k] + bce[k])
    const twin = new AgNetTfGenerator(tf, gen)
    const { value, grads } = tf.variableGrads(() => twin.reconstructionLoss(twin.forward(tf.tensor2d(Float32Array.from(z), [B, 32])), classes, edges, weights, 2), twin.variables)
    t.ok(Math.abs(value.dataSync()[0] - refLoss) <= 1e-5 * Math.max(1, refLoss), `${name}: loss ${value.dataSync()[0]} vs ${refLoss}`)
    let diff = 0; let scale = 0; let checked = 0
    gen.params.forEach((p, k) => {
      const g = grads[twin.variables[k].name].dataSync()
      const ref = p.g()
      for (let i = 0; i < ref.length; i++) { diff = Math.max(diff, Math.abs(g[i] - ref[i])); scale = Math.max(scale, Math.abs(ref[i])); checked++ }
    })
    t.ok(scale > 0, `${name}: the gradient is not zero`)
    t.ok(diff <= 1e-4 * scale, `${name}: ${checked} gradient entries, max |tfjs − tape| ${diff.toExponential(2)} (largest ${scale.toExponential(2)})`)
    value.dispose(); for (const g of Object.values(grads)) g.dispose()
    // Round trip: copyTo gives back the parameters as float32 values.
    const back = new AgNetGenerator(shape, new Random(99))
    twin.copyTo(back)
    t.same(back.params.map(p => Array.from(p.data)), gen.params.map(p => Array.from(Float32Array.from(p.data))), `${name}: copyTo returns the float32 parameters`)
    twin.dispose()
  }
})

t.test('bad input: wrong z width, wrong target lengths, another generator shape', async t => {
  const { tf } = await initTfBackend({ backend: 'wasm' })
  const gen = new AgNetGenerator({ nodes: 4, classes: 3 }, new Random(1))
  const twin = new AgNetTfGenerator(tf, gen)
  t.throws(() => tf.tidy(() => twin.forward(tf.zeros([2, 31]))), { message: 'AgNetTfGenerator.forward: z must be [B, 32], got [2, 31]' })
  t.throws(() => tf.tidy(() => twin.reconstructionLoss(twin.forward(tf.zeros([2, 32])), new Uint8Array(7), new Uint8Array(12), new Float64Array(2))), { message: /^AgNetTfGenerator.reconstructionLoss: need 8 classes, 12 edges and 2 weights/ })
  t.throws(() => twin.copyTo(new AgNetGenerator({ nodes: 5, classes: 3 }, new Random(1))), { message: 'AgNetTfGenerator.copyTo: the generator has 5 nodes × 3 classes, this one 4 × 3' })
  twin.dispose()
})
