// CTNAS's NB-101 controller (lib/models/controller-nb101.ts): every sample a valid cell of the
// space, the exact distribution of zero weights, gradients against central differences, log π
// of forced sequences, and the code's seq → cell rules on hand-worked sequences. Every
// controller test runs on both engines (the TypeScript reference and the native kernel);
// test/controller-nb101-native.test.ts compares the two directly.
import t from 'tap'
import { Random } from '../lib/random'
import * as nb101 from '../lib/spaces/nb101'
import { Nb101Controller, nb101SeqToSpec, nb101SeqToRaw, NB101_CONTROLLER_STEPS, type Nb101ControllerEngine } from '../lib/models/controller-nb101'
import { Adam } from '../lib/models/nac'
import { refNb101ControllerLogProb } from './reference/ctnas'

const ENGINES: Nb101ControllerEngine[] = ['js', 'native']

function controller (seed: number, hidden: number, scale: number, engine: Nb101ControllerEngine): Nb101Controller {
  const c = new Nb101Controller(new Random(seed), hidden, { engine })
  for (let k = 0; k < c.params.length; k++) c.params[k] *= scale
  return c
}

/** −A·log π − β·H of a forced sequence. */
function objective (c: Nb101Controller, seq: Uint8Array, A: number, beta: number): number {
  const s = c.sample(null, seq)
  return -A * s.logProb - beta * s.entropy
}

t.test('seq → cell: the code\'s rules on hand-worked sequences', async t => {
  const pad = (head: number[]): number[] => [...head, ...new Array<number>(NB101_CONTROLLER_STEPS - head.length).fill(0)]
  // n = 1: node 1 ← 0 (conv3x3), output ← 1; the 14 extra picks all equal (no edge).
  t.same(nb101SeqToSpec(pad([1, 0, 0, 1])), { matrix: [[0, 1, 0], [0, 0, 1], [0, 0, 0]], ops: ['input', 'conv3x3-bn-relu', 'output'] })
  // n = 2: node 1 ← 0 conv1x1, node 2 ← 0 maxpool, output ← 0; extra edges (3,1) → 1→3, (2,3) → 2→3, (1,1) none.
  const raw = nb101SeqToRaw(pad([2, 0, 1, 0, 2, 0, 3, 1, 2, 3, 1, 1]))
  t.same(raw, { matrix: [[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ops: ['input', 'conv1x1-bn-relu', 'maxpool3x3', 'output'] })
  t.same(nb101SeqToSpec(pad([2, 0, 1, 0, 2, 0, 3, 1, 2, 3, 1, 1])), raw, 'nothing to prune')
  // n = 2 with a dangling node: node 2 ← 1 does not reach the output (output ← 1): pruned away.
  t.same(nb101SeqToSpec(pad([2, 0, 0, 1, 1, 1])), { matrix: [[0, 1, 0], [0, 0, 1], [0, 0, 0]], ops: ['input', 'conv3x3-bn-relu', 'output'] })
  // n = 5, a chain 0→1→…→5→6 plus extra edges (0,6) and (6,0) (the same edge twice), (2,4), the rest equal.
  const chain = [5, 0, 0, 1, 1, 2, 2, 3, 0, 4, 1, 5, 0, 6, 6, 0, 4, 2]
  t.same(nb101SeqToSpec(chain), {
    matrix: [
      [0, 1, 0, 0, 0, 0, 1],
      [0, 0, 1, 0, 0, 0, 0],
      [0, 0, 0, 1, 1, 0, 0],
      [0, 0, 0, 0, 1, 0, 0],
      [0, 0, 0, 0, 0, 1, 0],
      [0, 0, 0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0, 0, 0]
    ],
    ops: ['input', 'conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3', 'conv3x3-bn-relu', 'conv1x1-bn-relu', 'output']
  })
  t.throws(() => nb101SeqToSpec(pad([0])), /seq\[0\] \(the node count\) must be an integer in 1\.\.5, got 0/)
  t.throws(() => nb101SeqToSpec(pad([2, 1])), /seq\[1\] must be an integer in 0\.\.0 \(n = 2\), got 1/)
  t.throws(() => nb101SeqToSpec(pad([2, 0, 3])), /seq\[2\] must be an integer in 0\.\.2/)
  t.throws(() => nb101SeqToSpec([1, 0, 0]), /seq must hold 18 decisions, got 3/)
})

for (const engine of ENGINES) {
  t.test(`[${engine}] zero weights: every decision uniform, P(n = k) = 1/5 (χ²), log π = −Σ log(choices)`, async t => {
    const c = new Nb101Controller(new Random(1), 16, { engine })
    c.params.fill(0)
    const random = new Random(2)
    const N = 20000
    const count = new Array<number>(5).fill(0)
    for (let k = 0; k < N; k++) {
      const s = c.sample(random, undefined, false)
      count[s.seq[0] - 1]++
      if (k < 200) {
        const n = s.seq[0]
        let lp = -Math.log(5)
        for (let j = 1; j <= n; j++) lp -= Math.log(j) + Math.log(3)
        lp -= Math.log(n + 1) + 2 * (8 - n) * Math.log(n + 2)
        t.ok(Math.abs(s.logProb - lp) < 1e-9, `log π of sample ${k}`)
      }
    }
    const chi2 = count.reduce((a, x) => a + (x - N / 5) ** 2 / (N / 5), 0)
    // χ²(4) 99.9 % quantile: 18.47.
    t.ok(chi2 < 18.47, `χ² = ${chi2.toFixed(2)} over counts ${count.join(', ')}`)
  })

  t.test(`[${engine}] 10⁵ samples are valid cells of the space (hashes ⊆ nb101.enumerate())`, async t => {
    const all = await nb101.enumerate()
    const known = new Set<string>()
    for (let i = 0; i < all.count; i++) known.add(nb101.hashAt(all, i))
    // A small LSTM (fast) with spread weights covers many sequences; the default width on a share.
    const small = controller(3, 4, 8, engine)
    const wide = controller(4, 64, 1, engine)
    const random = new Random(5)
    const specs: nb101.Nb101Spec[] = []
    const seen = new Set<number>()
    for (let k = 0; k < 100000; k++) {
      const s = (k % 20 === 0 ? wide : small).sample(random, undefined, false)
      seen.add(s.seq[0])
      specs.push(s.spec)
    }
    t.same([...seen].sort(), [1, 2, 3, 4, 5], 'every node count drawn')
    const cells = nb101.toCells(specs)
    let missing = 0
    const distinct = new Set<string>()
    for (let i = 0; i < cells.count; i++) {
      const h = nb101.hashAt(cells, i)
      distinct.add(h)
      if (!known.has(h)) missing++
    }
    t.equal(missing, 0, `all 10⁵ samples (${distinct.size} distinct cells) are in the enumerated space`)
    t.ok(distinct.size > 1000, 'the samples are diverse')
  })

  t.test(`[${engine}] log π and entropy = the float64 reference written as the code reads (every n)`, async t => {
    const c = controller(21, 12, 3, engine)
    const random = new Random(22)
    const seen = new Set<number>()
    for (let k = 0; k < 60; k++) {
      const s = c.sample(random)
      seen.add(s.seq[0])
      const ref = refNb101ControllerLogProb(c.params, 12, Array.from(s.seq))
      t.ok(Math.abs(s.logProb - ref.logProb) <= 1e-10 * Math.max(1, Math.abs(ref.logProb)), `log π of ${s.seq.join(',')}`)
      t.ok(Math.abs(s.entropy - ref.entropy) <= 1e-10 * Math.max(1, Math.abs(ref.entropy)), 'entropy')
    }
    t.ok(seen.size >= 4, `node counts covered: ${[...seen].join(', ')}`)
  })

  t.test(`[${engine}] log π and entropy of a forced sequence = the sampled ones`, async t => {
    const c = controller(7, 64, 2, engine)
    const random = new Random(8)
    for (let k = 0; k < 30; k++) {
      const s = c.sample(random)
      const f = c.sample(null, s.seq)
      t.equal(f.logProb, s.logProb)
      t.equal(f.entropy, s.entropy)
      t.same(f.spec, s.spec)
      t.ok(s.logProb < 0 && s.entropy > 0)
    }
    t.throws(() => c.sample(null), /random is required/)
  })

  t.test(`[${engine}] gradients = central differences of −A·log π − β·H`, async t => {
    for (const [hidden, scale, A, beta] of [[6, 3, 0.7, 0], [5, 2, -1.3, 0.4], [8, 1, 0, 1]]) {
      const c = controller(hidden * 13, hidden, scale, engine)
      const random = new Random(hidden)
      for (let trial = 0; trial < 3; trial++) {
        const s = c.sample(random)
        c.grad.fill(0)
        c.backward(s, A, beta)
        let worst = 0
        const eps = 1e-5
        for (let k = 0; k < c.params.length; k++) {
          const keep = c.params[k]
          c.params[k] = keep + eps
          const up = objective(c, s.seq, A, beta)
          c.params[k] = keep - eps
          const down = objective(c, s.seq, A, beta)
          c.params[k] = keep
          const fd = (up - down) / (2 * eps)
          worst = Math.max(worst, Math.abs(fd - c.grad[k]) / Math.max(1e-2, Math.abs(fd)))
        }
        t.ok(worst < 1e-6, `hidden ${hidden}, A ${A}, β ${beta}, seq ${s.seq.join(',')}: worst relative error ${worst.toExponential(2)}`)
      }
    }
  })

  t.test(`[${engine}] step: Adam on the REINFORCE gradient raises log π of a rewarded sequence`, async t => {
    const c = controller(11, 64, 1, engine)
    const random = new Random(12)
    const s = c.sample(random)
    const adam = new Adam(c.params.length, 1e-2, 0.5, 0.999, 5e-4)
    const before = s.logProb
    for (let k = 0; k < 20; k++) c.step(c.sample(null, s.seq), 1, 0, adam)
    t.ok(c.sample(null, s.seq).logProb > before + 1, 'log π rose')
    t.throws(() => c.step(s, 1, 0, new Adam(3, 1e-3, 0.5, 0.999)), /adam holds 3 parameters/)
    t.throws(() => c.backward(c.sample(random, undefined, false), 1), /keeps no forward state/)
  })
}
