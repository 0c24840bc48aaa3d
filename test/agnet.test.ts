// AG-Net: the encoding (round trip over all of NB-201), the autodiff tape and the generator
// against finite differences, the parameter count of the authors' sizes, the rank weights
// against brute force with ties, the weighted sampler (χ²), sampled graphs decoding only to
// valid architectures, and the search under the harness (same seed ⇒ same queries; each
// variant changes only what it claims).
import t from 'tap'
import { Random } from '../lib/random'
import { Bench } from '../lib/bench/bench'
import { synthetic201 } from '../lib/bench/synthetic'
import { nb201, NB201_DAG_LINKS } from '../lib/spaces/nb201'
import { Mat, Param, Tape, Adam } from '../lib/models/autodiff'
import { AgNetGenerator, AgNetSurrogate, reconstructionLoss } from '../lib/models/agnet'
import {
  AGNET_NB201_EDGES, agnetEdgeCount, agnetEdgeIndex, agnetNb201Decode, agnetNb201DecodeGraph, agnetNb201Encode,
  agnetNb201Classes, agnetNb101Encode, agnetNb101Graph
} from '../lib/encode/agnet'
import * as nb101 from '../lib/spaces/nb101'
import { agnet, agnetRankWeights, drawProportional, agnetSampleGraph, agnetPretrain, AGNET_NB201_SPACE } from '../lib/search/agnet'
import { runSearch, searchMethod } from '../lib/search/index'

t.test('NB-201 encoding: 84 features, round trip over all 15,625, distinct, decode rejects broken graphs', async t => {
  const keys = new Set<string>()
  for (let i = 0; i < nb201.size; i++) {
    const ops = nb201.fromIndex(i)
    const g = agnetNb201Encode(ops)
    if (g.length !== 84) t.fail(`length ${g.length}`)
    const back = agnetNb201Decode(g)
    if (back === null || nb201.index(back) !== i) { t.fail(`round trip ${i}`); break }
    keys.add(g.join(''))
  }
  t.equal(keys.size, 15625, 'distinct encodings')
  // The layout: node one-hots first (8 × 7), then edge j→i at 56 + i(i−1)/2 + j.
  const g = agnetNb201Encode(nb201.parse('|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|'))
  t.same(Array.from({ length: 8 }, (_, v) => g.subarray(v * 7, v * 7 + 7).indexOf(1)), [1, 3, 6, 5, 4, 2, 6, 0], 'classes input, conv3x3, none, skip, avgpool, conv1x1, none, output')
  t.equal(g[56 + agnetEdgeIndex(0, 1)], 1, 'input → edge 0')
  t.equal(g[56 + agnetEdgeIndex(1, 3)], 1, 'edge 0 (1←0) feeds edge 2 (2←1)')
  t.equal(g[56 + agnetEdgeIndex(1, 2)], 0, 'edge 0 does not feed edge 1 (2←0)')
  t.equal(g[56 + agnetEdgeIndex(6, 7)], 1, 'edge 5 (3←2) → output')
  t.equal(AGNET_NB201_EDGES.reduce((s, b) => s + b, 0), NB201_DAG_LINKS.length, 'one bit per DAG link')
  t.equal(NB201_DAG_LINKS.length, 10, '3 from the input, 4 between edges, 3 into the output')
  const classes = agnetNb201Classes([3, 0, 1, 4, 2, 0])
  t.not(agnetNb201DecodeGraph(classes, AGNET_NB201_EDGES), null)
  const noOutput = Uint8Array.from(classes); noOutput[7] = 3
  t.equal(agnetNb201DecodeGraph(noOutput, AGNET_NB201_EDGES), null, 'node 7 must be the output')
  const inputInside = Uint8Array.from(classes); inputInside[3] = 1
  t.equal(agnetNb201DecodeGraph(inputInside, AGNET_NB201_EDGES), null, 'an input inside is no op')
  for (let k = 0; k < 28; k++) {
    const e = Uint8Array.from(AGNET_NB201_EDGES); e[k] ^= 1
    if (agnetNb201DecodeGraph(classes, e) !== null) t.fail(`flipping edge ${k} must be invalid`)
  }
  t.equal(agnetNb201DecodeGraph(classes.subarray(0, 5), AGNET_NB201_EDGES.subarray(0, 10)), null, 'a graph cut short is invalid')
  t.throws(() => agnetNb201Classes([5, 0, 0, 0, 0, 0]), /op 0 must be an NB-201 op code/)
})

t.test('NB-101 encoding: 56 features, padding rows of class output, round trip through nb101 hashes', async t => {
  const random = new Random(21)
  const labels = ['conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3']
  let checked = 0
  const keys = new Map<string, string>()
  for (let trial = 0; trial < 3000 && checked < 400; trial++) {
    const V = 2 + random.int(6)
    const matrix = Array.from({ length: V }, (_, i) => Array.from({ length: V }, (_, j) => j > i && random.float() < 0.5 ? 1 : 0))
    const ops = ['input', ...Array.from({ length: V - 2 }, () => labels[random.int(3)]), 'output']
    const c = nb101.check(matrix, ops)
    if (!c.valid) continue
    const g = agnetNb101Encode(c.spec)
    if (g.length !== 56) t.fail('length')
    const n = c.spec.ops.length
    for (let v = n; v < 7; v++) if (g[v * 5] !== 1) t.fail('padding row of class output')
    // Decode: classes cut at the first output, edges of those nodes.
    const classes: number[] = []
    for (let v = 0; v < 7; v++) { const cls = g.subarray(v * 5, v * 5 + 5).indexOf(1); classes.push(cls); if (cls === 0) break }
    const back = agnetNb101Graph(classes, g.subarray(35))
    if (back === null) { t.fail('decode'); break }
    t.equal(nb101.hash(nb101.spec(back.matrix, back.ops)), c.hash)
    const key = g.join('')
    if (keys.has(key) && keys.get(key) !== c.hash) t.fail('two cells share an encoding')
    keys.set(key, c.hash)
    checked++
  }
  t.ok(checked >= 200, `${checked} valid cells`)
  t.equal(agnetNb101Graph([1, 2, 1, 0], new Array(21).fill(0)), null, 'an input inside is no cell')
  t.equal(agnetNb101Graph([2, 0], [1]), null, 'the first node must be the input')
  t.throws(() => agnetNb101Encode({ matrix: [[0, 1], [0, 0]], ops: ['input', 'nope'] }), /unknown op 'nope'/)
})

/** Central finite differences of a scalar function of one array entry. */
function numericGrad (data: Float64Array, i: number, f: () => number, eps = 1e-6): number {
  const v = data[i]
  data[i] = v + eps; const a = f()
  data[i] = v - eps; const b = f()
  data[i] = v
  return (a - b) / (2 * eps)
}

t.test('autodiff ops against finite differences', async t => {
  const random = new Random(3)
  const rnd = (r: number, c: number): Mat => new Mat(r, c, Float64Array.from({ length: r * c }, () => random.normal()), true)
  const x = rnd(3, 4); const h = rnd(3, 2); const s = rnd(3, 1); const y = rnd(3, 5)
  const W = new Param('W', 6, 5).uniform(random, 0.5); const b = new Param('b', 1, 5).uniform(random, 0.5)
  const Wi = new Param('Wi', 5, 6).uniform(random, 0.5); const bi = new Param('bi', 1, 6).uniform(random, 0.5)
  const Wh = new Param('Wh', 2, 6).uniform(random, 0.5); const bh = new Param('bh', 1, 6).uniform(random, 0.5)
  const W2 = new Param('W2', 9, 5).uniform(random, 0.5)
  const coef = Float64Array.from({ length: 3 * 2 }, () => random.normal())
  // A scalar built from every op: linear (two inputs, and a part of a wider weight), relu,
  // sigmoid, tanh, mul, add, scaleRows, cols, concat, oneMinus, gru.
  const build = (tape: Tape): Mat => {
    const a = tape.linear([x, h], W, b)
    const a2 = tape.linear([x], W2, null, 5)
    const c = tape.add(tape.relu(a), tape.sigmoid(a2), tape.scaleRows(tape.tanh(y), s))
    const d = tape.concat([tape.cols(c, 1, 3), tape.oneMinus(tape.cols(c, 0, 3))])
    const e = tape.mul(d, tape.linear([tape.cols(d, 0, 5)], W, b, 1))
    return tape.gru(e, h, Wi, bi, Wh, bh)
  }
  const value = (): number => { const out = build(new Tape(false)); let v = 0; for (let i = 0; i < out.data.length; i++) v += coef[i] * out.data[i]; return v }
  const tape = new Tape(true)
  const out = build(tape)
  out.g().set(coef)
  tape.backward()
  let worst = 0
  for (const m of [x, h, s, y, W, b, Wi, bi, Wh, bh, W2]) {
    for (let i = 0; i < m.data.length; i++) {
      const num = numericGrad(m.data, i, value)
      const ana = m.grad === null ? 0 : m.grad[i]
      worst = Math.max(worst, Math.abs(num - ana) / Math.max(1, Math.abs(num)))
    }
  }
  t.ok(worst < 1e-6, `largest relative error ${worst}`)
  t.throws(() => new Tape().linear([x], W, b), /inputs have 4 columns, the weight 6 rows/)
})

t.test('generator: the authors\' sizes (42,474 parameters on NB-201), gradients of Eq. 2 against finite differences', async t => {
  const random = new Random(7)
  const gen = new AgNetGenerator({ nodes: 8, classes: 7 }, random)
  t.equal(gen.parameterCount, 42474)
  t.equal(gen.length, 84)
  const sur = new AgNetSurrogate(84, random)
  t.equal(sur.params.reduce((s, p) => s + p.data.length, 0), 4 * (84 * 84 + 84) + 85)
  const B = 3
  const z = new Mat(B, 32, Float64Array.from({ length: B * 32 }, () => random.normal()))
  const classes = new Uint8Array(B * 8); const edges = new Uint8Array(B * 28)
  for (let r = 0; r < B; r++) AGNET_NB201_SPACE.randomGraph(random, classes, r * 8, edges, r * 28)
  const acc = [0.9, 0.4, 0.7]
  const w = [0.5, 2, 1]
  const alpha = 0.9
  // Eq. 2 per sample, weighted: Σ_b w_b ((1−α)(CE_b + BCE_b) + α (f_b − acc_b)²)
  const lossValue = (): number => {
    const tape = new Tape(false)
    const { out } = gen.forward(tape, z)
    const f = sur.forward(tape, out)
    const l = reconstructionLoss(gen.shape, out, classes, edges, null)
    let v = 0
    for (let r = 0; r < B; r++) v += w[r] * ((1 - alpha) * (l.ce[r] + l.bce[r]) + alpha * (f.data[r] - acc[r]) ** 2)
    return v
  }
  const tape = new Tape(true)
  const { out } = gen.forward(tape, z)
  const f = sur.forward(tape, out)
  for (let r = 0; r < B; r++) f.g()[r] = w[r] * alpha * 2 * (f.data[r] - acc[r])
  reconstructionLoss(gen.shape, out, classes, edges, Float64Array.from(w, v => v * (1 - alpha)))
  tape.backward()
  let worst = 0
  let checked = 0
  for (const p of [...gen.params, ...sur.params]) {
    for (let c = 0; c < 3; c++) {
      const i = random.int(p.data.length)
      const num = numericGrad(p.data, i, lossValue)
      worst = Math.max(worst, Math.abs(num - p.g()[i]) / Math.max(1e-3, Math.abs(num)))
      checked++
    }
  }
  t.ok(worst < 1e-4, `largest relative error ${worst} over ${checked} parameters`)
})

t.test('rank weights of Eq. 3 against brute force, with ties', async t => {
  const random = new Random(11)
  for (let trial = 0; trial < 50; trial++) {
    const n = 1 + random.int(30)
    const values = Array.from({ length: n }, () => random.int(6) / 5)
    const k = [0.01, 0.1, 1][trial % 3]
    const w = agnetRankWeights(values, k)
    for (let i = 0; i < n; i++) {
      const rank = values.filter(v => v > values[i]).length
      if (Math.abs(w[i] - 1 / (k * n + rank)) > 1e-15) { t.fail(`trial ${trial} i ${i}`); return }
    }
  }
  t.same(Array.from(agnetRankWeights([0.5, 0.9, 0.9, 0.1], 0.01)), [1 / 2.04, 1 / 0.04, 1 / 0.04, 1 / 3.04])
})

t.test('drawProportional draws ∝ w (χ² test)', async t => {
  const w = [1, 2, 0.5, 4, 0.25, 0]
  const total = w.reduce((s, v) => s + v, 0)
  const n = 200000
  const counts = new Array(w.length).fill(0)
  for (const i of drawProportional(w, n, new Random(5))) counts[i]++
  t.equal(counts[5], 0, 'a zero weight is never drawn')
  let chi2 = 0
  for (let i = 0; i < 5; i++) { const e = n * w[i] / total; chi2 += (counts[i] - e) ** 2 / e }
  t.ok(chi2 < 20.5, `χ²(4 dof) = ${chi2.toFixed(2)} < 20.5 (p = 0.0004)`)
})

t.test('sampled graphs decode to valid NB-201 architectures or null; pretraining lowers the loss', async t => {
  const losses: number[] = []
  const gen = agnetPretrain(AGNET_NB201_SPACE, 30, 123, (_, l) => losses.push(l))
  const head = losses.slice(0, 10).reduce((s, v) => s + v, 0) / 10
  const tail = losses.slice(-10).reduce((s, v) => s + v, 0) / 10
  t.ok(tail < head, `reconstruction loss falls: ${head.toFixed(3)} → ${tail.toFixed(3)}`)
  const random = new Random(9)
  const B = 300
  const z = new Mat(B, 32, Float64Array.from({ length: B * 32 }, () => (2 * random.float() - 1) * 3))
  const { out } = gen.forward(new Tape(false), z)
  const cls = new Uint8Array(8); const e = new Uint8Array(28)
  let valid = 0
  for (let r = 0; r < B; r++) {
    const n = agnetSampleGraph(gen.shape, out, r, random, cls, e)
    t.ok(n >= 1 && n <= 8)
    if (n < 8) t.equal(cls[n - 1], 0, 'a cut graph ends at its first output')
    else t.equal(cls[7], 0, 'the last node is the output')
    for (let v = 0; v < n - 1; v++) if (cls[v] === 0) t.fail('an output before the end')
    const ops = agnetNb201DecodeGraph(cls.subarray(0, n), e.subarray(0, agnetEdgeCount(n)))
    if (ops === null) continue
    valid++
    // A decoded architecture re-encodes to exactly the sampled graph.
    const g = agnetNb201Encode(ops)
    for (let v = 0; v < 8; v++) if (g[v * 7 + cls[v]] !== 1) t.fail('class mismatch')
    for (let k = 0; k < 28; k++) if (g[56 + k] !== e[k]) t.fail('edge mismatch')
  }
  t.comment(`${valid} of ${B} sampled graphs valid after 30 pretraining steps`)
})

t.test('AG-Net under the harness: distinct counted queries, same seed ⇒ same queries, variants', async t => {
  const bench = new Bench(synthetic201())
  // The shipped pretrained generator; small settings (and lr 1e-4, which keeps its decodes valid) so that the test stays short.
  const settings = { epochs: 1, init: 8, k: 8, candidates: 20, lr: 1e-4 }
  const a = await runSearch(searchMethod('agnet', settings), bench, { budget: 24, seed: 4, checkpoints: [8, 16, 24] })
  t.equal(a.method, 'agnet')
  t.equal(a.queried, 24, 'the shipped generator finds new candidates: the budget is spent')
  const rowsOf = async (variant: 'agnet' | 'no-lso' | 'no-backprop'): Promise<number[]> =>
    Array.from((await agnet({ ...settings, variant }).run({ bench, budget: 24, seed: 4, metric: 'val' })).rows)
  const ra = await rowsOf('agnet')
  t.same(await rowsOf('agnet'), ra, 'same seed, same queries')
  // The first `init` queries are the harness's shared random draws (paired with rs/re/bananas).
  const rs = await runSearch(searchMethod('rs'), bench, { budget: 8, seed: 4 })
  t.equal(rs.checkpoints[0].val, a.checkpoints[0].val, 'same initial draws as random search')
  // After the shared first draws the variants query differently (their training differs).
  const rl = await rowsOf('no-lso')
  const rb = await rowsOf('no-backprop')
  t.same(rl.slice(0, 8), ra.slice(0, 8))
  t.same(rb.slice(0, 8), ra.slice(0, 8))
  t.notSame(rl.slice(8), ra.slice(8), 'no-lso queries other architectures')
  t.notSame(rb.slice(8), ra.slice(8), 'no-backprop queries other architectures')
  t.throws(() => agnet({ alpha: 1.5 }), /settings.alpha must be a number in \[0, 1\]/)
  t.throws(() => agnet({ epochs: 0 }), /settings.epochs must be an integer/)
  t.throws(() => agnet({ k: 0 }), /settings.k must be an integer/)
  t.throws(() => agnet({ retries: -1 }), /settings.retries must be an integer/)
  t.throws(() => agnet({ variant: 'xgb' as never }), /settings.variant must be one of 'agnet', 'no-lso', 'no-backprop'/)
  t.throws(() => agnet({ nope: 1 } as never), /nope/)
  // Candidate z from N(0, I) (settings.candidateZ 'normal') instead of U(−3, 3)^32: only the candidates change.
  const rn = Array.from((await agnet({ ...settings, candidateZ: 'normal' }).run({ bench, budget: 24, seed: 4, metric: 'val' })).rows)
  t.same(rn.slice(0, 8), ra.slice(0, 8), 'candidateZ: same initial draws')
  t.equal(new Set(rn).size, 24, 'candidateZ normal: 24 distinct queries')
  t.notSame(rn.slice(8), ra.slice(8), 'candidateZ normal queries other architectures')
  t.equal(agnet({ candidateZ: 'normal' }).settings.candidateZ, 'normal')
  t.equal(agnet().settings.pretrainSteps, 30000, 'pretraining anew defaults to the shipped run\'s 30,000 steps')
  t.throws(() => agnet({ candidateZ: 'cauchy' as never }), /settings.candidateZ must be one of 'uniform', 'normal'/)
})

t.test('Adam matches the PyTorch update on one step', async t => {
  const p = new Param('p', 1, 2)
  p.data.set([1, -2])
  const opt = new Adam([p], { lr: 0.1, beta1: 0.5, beta2: 0.999 })
  p.g().set([0.3, -4])
  opt.update()
  // First step: m̂ = g, v̂ = g², update = lr · g/(|g| + eps) ≈ lr · sign(g).
  t.ok(Math.abs(p.data[0] - (1 - 0.1 * 0.3 / (0.3 + 1e-8))) < 1e-12)
  t.ok(Math.abs(p.data[1] - (-2 + 0.1 * 4 / (4 + 1e-8))) < 1e-12)
  t.same(Array.from(p.g()), [0, 0], 'gradients zeroed')
})
