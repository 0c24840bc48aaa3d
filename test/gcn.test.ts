import t from 'tap'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  comparatorProbability, comparatorProbabilityAsync, comparatorWeightsFromJSON, comparatorWeightsToJSON, GcnComparator, gcnCompare, gcnCompareAsync,
  gcnEmbed, gcnEmbedAsync, gcnGraphsHold, GcnModel, gcnScore, gcnScoreAsync, HeldGraphBatch, gcnWeightsFromJSON, gcnWeightsToJSON, initTfBackend, nativeInfo,
  type GraphBatch, type GcnWeights
} from '../lib/index'
import {
  comparatorReference, concatGraphs, gcnReference, maxRelError, randomDense, randomGcnWeights, randomNb101, randomNb201, rows
} from './reference/gcn'
import { rng } from './reference/random'

const root = path.join(__dirname, '..')
const TOL = 1e-4

/** A mixed batch: single-vertex graphs, an empty graph, junk in padded x rows, weighted edges. */
function mixedBatch (kind: 101 | 201, seed: number, count: number): GraphBatch {
  const rand = rng(seed)
  const make = kind === 101 ? randomNb101 : randomNb201
  const parts = [make(rand, count), make(rand, 5, { junkPadding: true }), make(rand, 5, { weighted: true, density: 0.7 })]
  if (kind === 101) parts.push(randomNb101(rand, 2, { sizes: [1] }))
  // A graph with no real vertex at all: pooled features 0, score = fc.b.
  const V = kind === 101 ? 7 : 8
  const F = kind === 101 ? 5 : 6
  parts.push({ count: 1, vertices: V, features: F, adjacency: new Float32Array(V * V), x: new Float32Array(V * F).fill(1), mask: new Float32Array(V) })
  return concatGraphs(...parts)
}

const CASES = [
  { kind: 101 as const, widths: [256, 256, 256], count: 40 },
  { kind: 201 as const, widths: [256, 256, 256], count: 40 },
  // Widths that are not multiples of the 16-column tile, K not a multiple of anything.
  { kind: 101 as const, widths: [5, 17, 33], count: 300 },
  { kind: 201 as const, widths: [1, 40], count: 300 },
  { kind: 101 as const, widths: [300], count: 30 }
]

t.test('native scores and embeddings match the double-precision reference', async t => {
  let seed = 1
  for (const c of CASES) {
    const g = mixedBatch(c.kind, seed++, c.count)
    const w = randomGcnWeights(rng(seed++), g.features, c.widths) as GcnWeights
    const ref = gcnReference(g, w)
    const H = c.widths[c.widths.length - 1]
    const label = `NB-${c.kind} widths ${c.widths.join('×')} (${g.count} graphs)`
    const score = gcnScore(g, w)
    t.ok(score instanceof Float64Array && score.length === g.count, `${label}: one score per graph`)
    t.ok(maxRelError(score, ref.score!) <= TOL, `${label}: scores within ${TOL} (max ${maxRelError(score, ref.score!).toExponential(2)})`)
    const embed = gcnEmbed(g, w)
    t.ok(embed instanceof Float32Array && embed.length === g.count * H, `${label}: count × H embeddings`)
    t.ok(maxRelError(embed, ref.embed.flat()) <= TOL, `${label}: embeddings within ${TOL}`)
    // The graph without real vertices pools to zeros.
    t.equal(score[g.count - 1], w.fc.b[0], `${label}: empty graph scores fc.b`)
    // Any thread count gives the same bits, and so does computing every row (no dedup).
    for (const threads of [1, 2, 3]) t.same(gcnScore(g, w, { threads }), score, `${label}: threads ${threads} bit-identical`)
    t.same(gcnScore(g, w, { dedup: false }), score, `${label}: dedup off bit-identical`)
    t.same(gcnEmbed(g, w, { dedup: false, threads: 1 }), embed, `${label}: dedup off embeddings bit-identical`)
  }
})

t.test('row dedup on a whole batch of repeated structure is exact', async t => {
  // Many graphs with few distinct shapes: most rows repeat within a sub-batch.
  const rand = rng(8)
  const g = concatGraphs(randomNb101(rand, 3000, { sizes: [7], density: 0.3 }), randomNb201(rand, 0))
  const w = randomGcnWeights(rng(9), 5, [64, 64, 64]) as GcnWeights
  const on = gcnScore(g, w)
  t.same(gcnScore(g, w, { dedup: false, threads: 2 }), on, 'dedup on and off give the same bits')
  const some = [0, 1, 2, 1234, 2999]
  const sub = concatGraphs(...some.map(i => ({ count: 1, vertices: 7, features: 5, adjacency: g.adjacency.slice(i * 49, i * 49 + 49), x: g.x.slice(i * 35, i * 35 + 35), mask: g.mask.slice(i * 7, i * 7 + 7) })))
  t.ok(maxRelError(some.map(i => on[i]), gcnReference(sub, w).score!) <= TOL, 'spot checks against the reference')
})

t.test('count 0 and a single graph', async t => {
  const w = randomGcnWeights(rng(5), 5, [16, 16]) as GcnWeights
  const none = randomNb101(rng(6), 0)
  t.same(gcnScore(none, w), new Float64Array(0))
  t.same(gcnEmbed(none, w), new Float32Array(0))
  t.same(await gcnScoreAsync(none, w), new Float64Array(0))
  const one = randomNb101(rng(7), 1, { sizes: [1] })
  t.ok(maxRelError(gcnScore(one, w), gcnReference(one, w).score!) <= TOL, 'single vertex graph')
})

t.test('the portable kernel (no AVX2) matches the reference too', async t => {
  const g = mixedBatch(201, 11, 60)
  const w = randomGcnWeights(rng(12), g.features, [24, 20]) as GcnWeights
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-gcn-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const input = path.join(dir, 'in.json')
  const plain = (d: { w: Float32Array; b: Float32Array }) => ({ w: Array.from(d.w), b: Array.from(d.b) })
  fs.writeFileSync(input, JSON.stringify({
    g: { ...g, adjacency: Array.from(g.adjacency), x: Array.from(g.x), mask: Array.from(g.mask) },
    w: { layers: w.layers.map(plain), fc: plain(w.fc) }
  }))
  const script = `
    const m = require(${JSON.stringify(root)})
    const d = JSON.parse(require('fs').readFileSync(${JSON.stringify(input)}, 'utf8'))
    const f = a => Float32Array.from(a)
    const g = { ...d.g, adjacency: f(d.g.adjacency), x: f(d.g.x), mask: f(d.g.mask) }
    const w = { layers: d.w.layers.map(l => ({ w: f(l.w), b: f(l.b) })), fc: { w: f(d.w.fc.w), b: f(d.w.fc.b) } }
    console.log(JSON.stringify(Array.from(m.gcnScore(g, w))))`
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NASRANK_NO_AVX2: '1' } }))
  t.ok(maxRelError(out, gcnReference(g, w).score!) <= TOL, 'portable kernel scores within tolerance')
  t.ok(maxRelError(out, gcnScore(g, w)) <= 1e-5, 'and agree with the dispatched kernel')
})

t.test('async versions give the same results', async t => {
  const g = mixedBatch(101, 21, 200)
  const w = randomGcnWeights(rng(22), 5, [32, 32]) as GcnWeights
  const p = gcnScoreAsync(g, w)
  t.ok(p instanceof Promise)
  t.same(await p, gcnScore(g, w))
  t.same(await gcnEmbedAsync(g, w, { threads: 1 }), gcnEmbed(g, w))
  await t.rejects(gcnScoreAsync(g, { layers: w.layers } as GcnWeights), { name: 'TypeError', message: /^gcnScoreAsync: weights\.fc must be an object/ })
  await t.rejects(gcnScoreAsync(g, w, { threads: 0 }), { name: 'RangeError', message: /gcnScoreAsync: threads/ })
})

t.test('gcnGraphsHold: a batch checked and copied once scores as the batch does, and stays a snapshot', async t => {
  const g = mixedBatch(101, 31, 300)
  const w = randomGcnWeights(rng(32), 5, [32, 16]) as GcnWeights
  const held = gcnGraphsHold(g)
  t.ok(held instanceof HeldGraphBatch)
  t.same([held.count, held.vertices, held.features], [g.count, g.vertices, g.features], 'its shape')
  for (const variant of [{}, { norm: 'row', pool: 'all' }] as const) {
    const label = JSON.stringify(variant)
    const plain = gcnScore(g, w, variant)
    t.same(gcnScore(held, w, variant), plain, `${label}: gcnScore from the held batch = from the batch, bit for bit`)
    t.same(await gcnScoreAsync(held, w, { ...variant, threads: 2 }), plain, `${label}: gcnScoreAsync too`)
    t.same(gcnEmbed(held, w, variant), gcnEmbed(g, w, variant), `${label}: gcnEmbed too`)
    t.same(await gcnEmbedAsync(held, w, variant), gcnEmbed(g, w, variant), `${label}: gcnEmbedAsync too`)
  }
  // Mutating the source arrays: the batch itself is rejected at the boundary as always, the held
  // copy is not affected (it was checked when it was made).
  const before = gcnScore(g, w)
  const mask = g.mask[2]
  g.mask[2] = 0.5
  t.throws(() => gcnScore(g, w), { name: 'RangeError', message: /^gcnScore: graphs\.mask\[2\] is 0\.5/ }, 'the mutated batch is rejected')
  await t.rejects(gcnScoreAsync(g, w), { name: 'RangeError', message: /^gcnScoreAsync: graphs\.mask\[2\] is 0\.5/ })
  t.throws(() => gcnGraphsHold(g), { name: 'RangeError', message: /^gcnGraphsHold: graphs\.mask\[2\] is 0\.5.* must be 0 \(padding\) or 1/ }, 'and cannot be held')
  t.same(gcnScore(held, w), before, 'the held copy scores as before the mutation')
  g.mask[2] = mask
  g.x[0] += 1
  t.notSame(gcnScore(g, w), before, 'a valid change of the batch changes its scores')
  t.same(gcnScore(held, w), before, 'but not the held copy\'s')
  g.x[0] -= 1
  // Invalid batches are refused when held, with gcnScore's messages under gcnGraphsHold's name.
  const small = randomNb101(rng(71), 3, { sizes: [5] })
  const copy = (a: Float32Array, i: number, v: number) => { const c = Float32Array.from(a); c[i] = v; return c }
  t.throws(() => gcnGraphsHold(null as never), { name: 'TypeError', message: /^gcnGraphsHold: graphs must be an object/ })
  t.throws(() => gcnGraphsHold({ ...small, count: 4 }), { name: 'RangeError', message: /^gcnGraphsHold: graphs\.mask has length 21 but must have 28/ })
  t.throws(() => gcnGraphsHold({ ...small, x: copy(small.x, 7, NaN) }), { name: 'RangeError', message: /^gcnGraphsHold: graphs\.x\[7\] is NaN/ })
  t.throws(() => gcnGraphsHold({ ...small, adjacency: copy(small.adjacency, 4, 1) }), { name: 'RangeError', message: /^gcnGraphsHold: graphs\.adjacency\[4\] \(graph 0, edge 0 -> 4\) is 1 but vertex 4 is padding/ })
  // The weights are still checked against the held batch's features; a forged handle is not a batch.
  t.throws(() => gcnScore(held, randomGcnWeights(rng(33), 6, [8]) as GcnWeights), { name: 'RangeError', message: /weights\.layers\[0\]\.w has length 48 but must have 40 \(input width 5 \(graphs\.features\)/ })
  t.throws(() => gcnScore(Object.create(HeldGraphBatch.prototype) as never, w), { name: 'TypeError', message: /^gcnScore: graphs must be an object/ })
})

t.test('comparator head matches the reference (paired and broadcast, with and without hidden layers)', async t => {
  const rand = rng(31)
  const D = 24
  for (const hidden of [[], [16], [40, 9]]) {
    const layers = []
    let inputs = 2 * D
    for (const h of hidden) {
      layers.push(randomDense(rand, inputs, h))
      inputs = h
    }
    const head = { layers, out: randomDense(rand, inputs, 1) }
    for (const [na, nb] of [[50, 50], [50, 1], [1, 50], [1, 1], [0, 0], [0, 1], [300, 300]]) {
      const a = Float32Array.from({ length: na * D }, () => rand() * 2 - 0.5)
      const b = Float32Array.from({ length: nb * D }, () => rand() * 2 - 0.5)
      const got = comparatorProbability(a, b, head)
      const want = comparatorReference(rows(a, D), rows(b, D), head)
      t.equal(got.length, want.length, `hidden [${hidden}] ${na} vs ${nb}: length`)
      t.ok(maxRelError(got, want) <= TOL, `hidden [${hidden}] ${na} vs ${nb}: within ${TOL}`)
      if (na === 300) t.same(await comparatorProbabilityAsync(a, b, head, { threads: 2 }), got, 'async agrees')
    }
  }
})

t.test('the tfjs model and the native kernels agree to 1e-4', async t => {
  const { backend } = await initTfBackend()
  t.comment(`tfjs backend: ${backend}`)
  for (const kind of [101, 201] as const) {
    const g = mixedBatch(kind, 40 + kind, 60)
    const model = await GcnModel.create({ features: g.features, widths: [256, 256, 256], seed: kind })
    t.teardown(() => model.dispose())
    // Non-zero biases (a fresh model has zero biases), so padded rows would show up.
    const w = model.exportWeights()
    const rand = rng(kind)
    for (const l of [...w.layers, w.fc]) for (let i = 0; i < l.b.length; i++) l.b[i] = Math.fround(0.3 * (rand() - 0.5))
    model.setWeights(w)
    const exported = model.exportWeights()
    t.same(exported, w, 'setWeights / exportWeights round trip')
    const tfScores = model.predict(g, { batchSize: 50 })
    const native = gcnScore(g, exported)
    t.ok(maxRelError(native, tfScores) <= TOL, `NB-${kind}: scores agree (max ${maxRelError(native, tfScores).toExponential(2)})`)
    const tfEmbed = model.embedBatch(g)
    t.ok(maxRelError(gcnEmbed(g, exported), tfEmbed) <= TOL, `NB-${kind}: embeddings agree`)
    t.ok(maxRelError(tfScores, gcnReference(g, exported).score!) <= TOL, `NB-${kind}: tfjs matches the reference`)
    t.same(model.predict((kind === 101 ? randomNb101 : randomNb201)(rand, 0)), new Float32Array(0), 'count 0')
    // JSON round trip: identical floats, identical model.
    const json = JSON.stringify(gcnWeightsToJSON(exported))
    const back = gcnWeightsFromJSON(json) as GcnWeights
    t.same(back, exported, 'JSON round trip is exact')
    const again = await GcnModel.fromWeights(back)
    t.teardown(() => again.dispose())
    t.same(again.predict(g), tfScores, 'a model from the exported weights predicts the same')
  }
})

t.test("the tfjs model's norm and pool options agree with the native kernels' (1e-4)", async t => {
  await initTfBackend()
  for (const kind of [101, 201] as const) {
    const g = mixedBatch(kind, 70 + kind, 50)
    for (const norm of ['sym', 'row'] as const) {
      for (const pool of ['real', 'all'] as const) {
        const model = await GcnModel.create({ features: g.features, widths: [32, 16], seed: kind, norm, pool })
        t.teardown(() => model.dispose())
        t.equal(model.norm, norm); t.equal(model.pool, pool)
        const w = model.exportWeights()
        const rand = rng(kind + 7)
        for (const l of [...w.layers, w.fc]) for (let i = 0; i < l.b.length; i++) l.b[i] = Math.fround(0.3 * (rand() - 0.5))
        model.setWeights(w)
        const native = gcnScore(g, w, { norm, pool })
        const tfScores = model.predict(g)
        t.ok(maxRelError(native, tfScores) <= TOL, `NB-${kind} ${norm}/${pool}: scores agree (max ${maxRelError(native, tfScores).toExponential(2)})`)
        t.ok(maxRelError(gcnEmbed(g, w, { norm, pool }), model.embedBatch(g)) <= TOL, `NB-${kind} ${norm}/${pool}: embeddings agree`)
        const again = await GcnModel.fromWeights(w, { norm, pool })
        t.teardown(() => again.dispose())
        t.same(again.predict(g), tfScores, 'fromWeights takes the options too')
      }
    }
    // The variants differ (the options are not ignored).
    const a = await GcnModel.create({ features: g.features, widths: [8], seed: 1 })
    const b = await GcnModel.create({ features: g.features, widths: [8], seed: 1, norm: 'row', pool: 'all' })
    t.teardown(() => { a.dispose(); b.dispose() })
    t.ok(maxRelError(a.predict(g), b.predict(g)) > 1e-3, 'row/all scores differ from sym/real')
  }
  await t.rejects(GcnModel.create({ features: 5, norm: 'left' as never }), { name: 'TypeError', message: /GcnModel\.create: norm must be one of 'sym', 'row'/ })
  await t.rejects(GcnModel.fromWeights({ layers: [{ w: new Float32Array(10), b: new Float32Array(2) }] }, { pool: 'none' as never }), { name: 'TypeError', message: /GcnModel\.fromWeights: pool must be one of 'real', 'all'/ })
})

t.test('the tfjs comparator and the native comparator agree to 1e-4', async t => {
  await initTfBackend()
  for (const hidden of [[64], []]) {
    const nac = await GcnComparator.create({ features: 5, widths: [48, 48], hidden, seed: 3 })
    t.teardown(() => nac.dispose())
    const a = mixedBatch(101, 51, 60)
    const b = mixedBatch(101, 52, 60)
    const w = nac.exportWeights()
    const tfP = nac.probabilityBatch(a, b, { batchSize: 32 })
    t.ok(maxRelError(gcnCompare(a, b, w), tfP) <= TOL, `hidden [${hidden}]: paired probabilities agree`)
    const base = randomNb101(rng(53), 1, { sizes: [7] })
    const tfBase = nac.probabilityBatch(a, base)
    t.ok(maxRelError(await gcnCompareAsync(a, base, w), tfBase) <= TOL, `hidden [${hidden}]: against one baseline`)
    // Embeddings + head separately.
    const ea = gcnEmbed(a, w.gcn)
    const eb = gcnEmbed(b, w.gcn)
    t.ok(maxRelError(comparatorProbability(ea, eb, w.head), tfP) <= TOL, 'embed then head')
    const refP = comparatorReference(rows(gcnReference(a, w.gcn).embed.flat(), 48), rows(gcnReference(b, w.gcn).embed.flat(), 48), w.head)
    t.ok(maxRelError(tfP, refP) <= TOL, 'tfjs comparator matches the reference')
    const json = JSON.parse(JSON.stringify(comparatorWeightsToJSON(w)))
    t.same(comparatorWeightsFromJSON(json), w, 'comparator JSON round trip')
    const again = await GcnComparator.fromWeights(w)
    t.teardown(() => again.dispose())
    t.same(again.probabilityBatch(a, b), nac.probabilityBatch(a, b), 'fromWeights reproduces the model')
  }
})

t.test('the tfjs models train: loss decreases', async t => {
  const { tf } = await initTfBackend()
  const g = randomNb101(rng(61), 96)
  const model = await GcnModel.create({ features: 5, widths: [32, 32], seed: 1 })
  t.teardown(() => model.dispose())
  // A target the model can fit: a fixed random function of the graph (a teacher GCN).
  const teacher = randomGcnWeights(rng(62), 5, [8]) as GcnWeights
  const target = tf.tensor1d(Float32Array.from(gcnScore(g, teacher)))
  const inputs = model.tensors(g)
  const optimizer = tf.train.adam(0.01)
  const loss = () => tf.losses.meanSquaredError(target, model.score(inputs)) as import('@tensorflow/tfjs').Scalar
  const first = tf.tidy(() => loss().dataSync()[0])
  for (let step = 0; step < 60; step++) optimizer.minimize(loss, false, model.variables())
  const last = tf.tidy(() => loss().dataSync()[0])
  t.ok(last < 0.5 * first, `MSE ${first.toFixed(4)} → ${last.toFixed(4)}`)
  // The trained weights still agree with the native kernel.
  t.ok(maxRelError(gcnScore(g, model.exportWeights()), model.predict(g)) <= TOL, 'trained model agrees with native')

  const nac = await GcnComparator.create({ features: 5, widths: [16, 16], hidden: [16], seed: 2 })
  t.teardown(() => nac.dispose())
  const b = randomNb101(rng(63), 96)
  const tb = nac.gcn.tensors(b)
  const sa = gcnScore(g, teacher)
  const sb = gcnScore(b, teacher)
  const label = tf.tensor1d(Float32Array.from(sa, (s, i) => s > sb[i] ? 1 : 0))
  const bce = () => tf.losses.sigmoidCrossEntropy(label, nac.logits(inputs, tb)) as import('@tensorflow/tfjs').Scalar
  const opt2 = tf.train.adam(0.01)
  const before = tf.tidy(() => bce().dataSync()[0])
  for (let step = 0; step < 60; step++) opt2.minimize(bce, false, nac.variables())
  const after = tf.tidy(() => bce().dataSync()[0])
  t.ok(after < before, `comparator BCE ${before.toFixed(4)} → ${after.toFixed(4)}`)
  tf.dispose([target, label, inputs.adjacency, inputs.x, inputs.mask, tb.adjacency, tb.x, tb.mask])
  optimizer.dispose()
  opt2.dispose()
})

t.test('validation: errors name the function and the argument', async t => {
  const g = randomNb101(rng(71), 3, { sizes: [5] })
  const w = randomGcnWeights(rng(72), 5, [8, 4]) as GcnWeights
  const bad = (patch: Partial<GraphBatch>) => ({ ...g, ...patch })
  const copy = (a: Float32Array, i: number, v: number) => { const c = Float32Array.from(a); c[i] = v; return c }

  t.throws(() => gcnScore(null as never, w), { name: 'TypeError', message: /^gcnScore: graphs must be an object/ })
  t.throws(() => gcnScore(bad({ count: 1.5 }), w), { name: 'RangeError', message: /graphs\.count must be an integer/ })
  t.throws(() => gcnScore(bad({ vertices: '7' as never }), w), { name: 'TypeError', message: /graphs\.vertices must be a number/ })
  t.throws(() => gcnScore(bad({ vertices: 0 }), w), { name: 'RangeError', message: /graphs\.vertices must be an integer in \[1, 1024\]/ })
  t.throws(() => gcnScore(bad({ count: 4 }), w), { name: 'RangeError', message: /graphs\.mask has length 21 but must have 28/ })
  t.throws(() => gcnScore(bad({ x: new Float32Array(3) }), w), { name: 'RangeError', message: /graphs\.x has length 3 but must have 105/ })
  t.throws(() => gcnScore(bad({ adjacency: Array.from(g.adjacency) as never }), w), { name: 'TypeError', message: /graphs\.adjacency must be a Float32Array/ })
  t.throws(() => gcnScore(bad({ x: copy(g.x, 7, NaN) }), w), { name: 'RangeError', message: /graphs\.x\[7\] is NaN/ })
  t.throws(() => gcnScore(bad({ adjacency: copy(g.adjacency, 1, Infinity) }), w), { name: 'RangeError', message: /graphs\.adjacency\[1\] is infinite/ })
  t.throws(() => gcnScore(bad({ mask: copy(g.mask, 2, 0.5) }), w), { name: 'RangeError', message: /graphs\.mask\[2\] is 0\.5.* must be 0 \(padding\) or 1/ })
  t.throws(() => gcnScore(bad({ adjacency: copy(g.adjacency, 2, -1) }), w), { name: 'RangeError', message: /graphs\.adjacency\[2\] is -1.*non-negative/ })
  // Vertex 4 of a 5-vertex NB-101 cell is padding (vertices 0..3 and the output 6 are real).
  t.throws(() => gcnScore(bad({ adjacency: copy(g.adjacency, 0 * 7 + 4, 1) }), w),
    { name: 'RangeError', message: /graphs\.adjacency\[4\] \(graph 0, edge 0 -> 4\) is 1 but vertex 4 is padding \(graphs\.mask\[4\] = 0\)/ })
  t.throws(() => gcnScore(g, { layers: [], fc: w.fc }), { name: 'RangeError', message: /weights\.layers must hold at least one layer/ })
  t.throws(() => gcnScore(g, { layers: 'x' as never, fc: w.fc }), { name: 'TypeError', message: /weights\.layers must be an array/ })
  t.throws(() => gcnScore(g, { layers: [{ w: w.layers[0].w, b: w.layers[0].b }, { w: w.layers[1].w.subarray(1), b: w.layers[1].b }], fc: w.fc }),
    { name: 'RangeError', message: /weights\.layers\[1\]\.w has length 31 but must have 32 \(input width 8 \(weights\.layers\[0\]\.b\.length\) x output width 4/ })
  t.throws(() => gcnScore({ ...g, features: 6, x: new Float32Array(3 * 7 * 6) }, w), { name: 'RangeError', message: /weights\.layers\[0\]\.w has length 40 but must have 48 \(input width 6 \(graphs\.features\)/ })
  t.throws(() => gcnScore(g, { layers: w.layers, fc: { w: new Float32Array(3), b: w.fc.b } }), { name: 'RangeError', message: /weights\.fc\.w has length 3 but must have 4/ })
  t.throws(() => gcnScore(g, { layers: w.layers, fc: { w: w.fc.w, b: new Float32Array(2) } }), { name: 'RangeError', message: /weights\.fc\.b has length 2 but must have 1/ })
  t.throws(() => gcnScore(g, { layers: [{ w: copy(w.layers[0].w, 3, NaN), b: w.layers[0].b }, w.layers[1]], fc: w.fc }), { name: 'RangeError', message: /weights\.layers\[0\]\.w\[3\] is NaN/ })
  t.throws(() => gcnScore(g, { layers: [{ w: w.layers[0].w, b: new Float32Array(0) }], fc: w.fc }), { name: 'RangeError', message: /weights\.layers\[0\]\.b has length 0/ })
  t.throws(() => gcnScore(g, { layers: [{ w: new Float64Array(40) as never, b: w.layers[0].b }], fc: w.fc }), { name: 'TypeError', message: /weights\.layers\[0\]\.w must be a Float32Array/ })
  t.throws(() => gcnScore(g, w, { threads: 2.5 }), { name: 'RangeError', message: /^gcnScore: threads must be an integer/ })
  t.throws(() => gcnScore(g, w, { device: 'tpu' as never }), { name: 'TypeError', message: /device must be one of 'cpu', 'cuda'/ })
  t.throws(() => gcnScore(g, w, { thread: 1 } as never), { name: 'TypeError', message: /unknown option 'thread'/ })
  t.throws(() => gcnScore(g, w, { dedup: 1 as never }), { name: 'TypeError', message: /^gcnScore: dedup must be a boolean/ })
  t.throws(() => gcnEmbed(g, { layers: w.layers.slice(0, 1).concat([{ w: new Float32Array(7), b: new Float32Array(2) }]) }), { name: 'RangeError', message: /^gcnEmbed: weights\.layers\[1\]\.w has length 7/ })
  t.doesNotThrow(() => gcnEmbed(g, { layers: w.layers }), 'embedding needs no readout')
  if (!nativeInfo().cuda) {
    t.throws(() => gcnScore(g, w, { device: 'cuda' }), { message: /gcnScore: device 'cuda' requested but this addon was built without CUDA/ })
  }

  const D = 4
  const head = { layers: [randomDense(rng(73), 2 * D, 3)], out: randomDense(rng(74), 3, 1) }
  const e = new Float32Array(2 * D)
  t.throws(() => comparatorProbability(e, new Float32Array(3 * D), head), { name: 'RangeError', message: /embA holds 2 embeddings and embB 3/ })
  t.throws(() => comparatorProbability(e, new Float32Array(5), head), { name: 'RangeError', message: /embB has length 5, not a multiple of the embedding width 4/ })
  t.throws(() => comparatorProbability(e, e, { layers: [{ w: new Float32Array(7), b: new Float32Array(3) }], out: head.out }), { name: 'RangeError', message: /head\.layers\[0\]\.w has length 7/ })
  t.throws(() => comparatorProbability(e, e, { layers: [], out: { w: new Float32Array(3), b: new Float32Array(1) } }), { name: 'RangeError', message: /head\.out\.w has length 3/ })
  t.throws(() => comparatorProbability(e, e, { layers: head.layers, out: { w: new Float32Array(2), b: new Float32Array(1) } }), { name: 'RangeError', message: /head\.out\.w has length 2 but must have 3/ })
  t.throws(() => comparatorProbability(e, e, { layers: head.layers } as never), { name: 'TypeError', message: /head\.out must be an object/ })
  t.throws(() => comparatorProbability(copy(e, 1, NaN), e, head), { name: 'RangeError', message: /embA\[1\] is NaN/ })
  t.throws(() => comparatorProbability([1, 2] as never, e, head), { name: 'TypeError', message: /embA must be a Float32Array/ })

  // tfjs-side checks
  await initTfBackend()
  t.rejects(GcnModel.create({ features: 0 }), { name: 'RangeError', message: /GcnModel\.create: features must be an integer/ })
  t.rejects(GcnModel.create({ features: 5, widths: [] }), { name: 'RangeError', message: /widths must hold at least one width/ })
  t.rejects(GcnModel.fromWeights({ layers: [{ w: new Float32Array(10), b: new Float32Array(2) }], fc: { w: new Float32Array(3), b: new Float32Array(1) } }),
    { name: 'RangeError', message: /GcnModel\.fromWeights: weights\.fc\.w has length 3 but must have 2×1/ })
  const model = await GcnModel.create({ features: 5, widths: [4], readout: false })
  t.teardown(() => model.dispose())
  t.throws(() => model.predict(g), { message: /no readout/ })
  t.throws(() => model.exportWeights(), { message: /exportEmbedWeights/ })
  t.throws(() => model.embedBatch({ ...g, features: 6, x: new Float32Array(3 * 7 * 6) }), { name: 'RangeError', message: /batch\.features is 6 but the model takes 5/ })
  t.throws(() => model.embedBatch({ ...g, mask: new Float32Array(2) }), { name: 'RangeError', message: /batch\.mask has length 2 but must have 21/ })
  t.throws(() => gcnWeightsFromJSON({ layers: [] }), { name: 'TypeError', message: /json\.format must be 'nasrank\/gcn@1'/ })
  t.throws(() => gcnWeightsFromJSON({ format: 'nasrank/gcn@1', layers: [{ w: [1, 'a'], b: [0] }] }), { name: 'TypeError', message: /json\.layers\[0\]\.w\[1\] must be a finite number/ })
})
