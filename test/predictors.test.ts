import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  PEEPHOLE_TOKEN_DIM, PeepholePredictor, RandomForestPredictor, ReNASPredictor, Random, kendallTau, loadPredictor, nb101PeepholeTokens,
  predictorKinds, registerPredictor, resolvePeepholeConfig, resolveRandomForestConfig, type EncodedBatch, type Nb101CellsLike
} from '../lib/index'
import { wasmTf } from './reference/tf'

function tmpDir (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-pred-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** [2, 7, 7] continuous features whose target depends smoothly on a few of them. */
function forestData (n: number, seed: number): { batch: EncodedBatch; y: Float64Array } {
  const r = new Random(seed)
  const size = 98
  const data = new Float32Array(n * size)
  const y = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < size; i++) data[k * size + i] = i % 7 === 6 ? 0 : r.float() // every 7th column constant
    const x = (i: number): number => data[k * size + i]
    y[k] = Math.sin(3 * x(0)) + 2 * x(5) * x(10) + 0.5 * x(50) + 0.05 * r.normal()
  }
  return { batch: { count: n, shape: [2, 7, 7], data }, y }
}

/** Random NB-101-like cells in the columnar form (not necessarily pruned: the tokenizer does not care). */
function randomCells (n: number, seed: number): { cells: Nb101CellsLike; y: Float64Array } {
  const r = new Random(seed)
  const cells: Nb101CellsLike = { count: n, vertices: new Uint8Array(n), adjacency: new Uint32Array(n), ops: new Uint8Array(n * 7).fill(255) }
  const y = new Float64Array(n)
  for (let c = 0; c < n; c++) {
    const v = 3 + r.int(5)
    cells.vertices[c] = v
    let bits = 0
    for (let i = 0; i < v; i++) {
      for (let j = i + 1; j < v; j++) {
        if (j === i + 1 || r.float() < 0.3) bits |= 1 << (i * 7 - (i * (i + 1)) / 2 + (j - i - 1))
      }
    }
    cells.adjacency[c] = bits >>> 0
    const counts = [0, 0, 0, 0, 0]
    for (let i = 0; i < v; i++) {
      const op = i === 0 ? 0 : i === v - 1 ? 4 : 1 + r.int(3)
      cells.ops[c * 7 + i] = op
      counts[op]++
    }
    y[c] = 0.25 * counts[1] + 0.5 * counts[2] - 0.3 * counts[3] + 0.05 * r.normal()
  }
  return { cells, y }
}

t.test('Random: deterministic, in range, unbiased enough, seeds distinct', async t => {
  const a = new Random(42)
  const b = new Random(42)
  const xs = Array.from({ length: 1000 }, () => a.float())
  t.same(Array.from({ length: 1000 }, () => b.float()), xs, 'same seed, same stream')
  t.ok(xs.every(x => x >= 0 && x < 1), 'float() in [0, 1)')
  const first5 = (r: Random): number[] => Array.from({ length: 5 }, () => r.float())
  t.notSame(first5(new Random(43)), xs.slice(0, 5), 'seed 43 differs')
  t.notSame(first5(new Random(2 ** 40 + 42)), xs.slice(0, 5), 'high bits of the seed matter')
  const r = new Random(7)
  const counts = new Array(6).fill(0)
  for (let i = 0; i < 60000; i++) counts[r.int(6)]++
  t.ok(counts.every(c => Math.abs(c - 10000) < 400), `int(6) roughly uniform: ${counts.join(', ')}`)
  t.ok(Array.from({ length: 100 }, () => r.int(2 ** 32)).every(v => Number.isInteger(v) && v >= 0 && v < 2 ** 32), 'int(2^32)')
  let s = 0
  let ss = 0
  for (let i = 0; i < 20000; i++) { const z = r.normal(); s += z; ss += z * z }
  t.ok(Math.abs(s / 20000) < 0.03 && Math.abs(ss / 20000 - 1) < 0.05, 'normal(): mean 0, variance 1')
  const arr = Int32Array.from({ length: 50 }, (_, i) => i)
  r.shuffle(arr)
  t.same(Array.from(arr).sort((p, q) => p - q), Array.from({ length: 50 }, (_, i) => i), 'shuffle is a permutation')
  t.notSame(Array.from(arr), Array.from({ length: 50 }, (_, i) => i), 'and moves things')
  t.throws(() => new Random(1.5), /Random: seed must be an integer/)
  t.throws(() => new Random(-1), /Random: seed must be an integer/)
  t.throws(() => r.int(0), /Random.int: n must be an integer in \[1, 2\^32\]/)
})

t.test('random forest: fits, predicts held-out data, same seed same forest, save/load identical', async t => {
  const train = forestData(150, 1)
  const test = forestData(150, 2)
  const first = new RandomForestPredictor({ nEstimators: 10, maxFeatures: 1.0, seed: 3 })
  const report = await first.fit(train.batch, train.y)
  const pred = await first.predict(test.batch)
  const tau = kendallTau(pred, test.y)
  t.comment(`random forest: tau ${tau.toFixed(3)}, fit ${report.timing.modelMs.toFixed(0)} ms`)
  t.ok(tau > 0.4, `held-out tau ${tau.toFixed(3)} > 0.4`)
  t.equal(report.steps, 10)
  t.equal(report.lossShare, 0)
  t.ok(report.timing.modelMs > 0)
  t.equal(first.name, 'E2EPP-RF')
  const again = new RandomForestPredictor({ nEstimators: 10, maxFeatures: 1.0, seed: 3 })
  await again.fit(train.batch, train.y)
  t.same(await again.predict(test.batch), pred, 'same seed, identical forest')
  const other = new RandomForestPredictor({ nEstimators: 10, maxFeatures: 1.0, seed: 4 })
  await other.fit(train.batch, train.y)
  t.notSame(await other.predict(test.batch), pred, 'another seed, another forest')
  await again.fit(test.batch, test.y)
  const refit = new RandomForestPredictor({ nEstimators: 10, maxFeatures: 1.0, seed: 3 })
  await refit.fit(test.batch, test.y)
  t.same(await again.predict(train.batch), await refit.predict(train.batch), 'a second fit replaces the forest held for predict')

  const dir = tmpDir(t)
  await first.save(dir)
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'predictor.json'), 'utf8'))
  t.equal(json.kind, 'random-forest')
  t.equal(json.formatVersion, 2)
  t.equal(json.state.featuresPerSplit, 98, 'maxFeatures 1: every one of the 98 columns')
  t.equal(json.state.trees, 10)
  const loaded = await loadPredictor(dir)
  t.same(await loaded.predict(test.batch), pred, 'identical predictions after load')
  t.same(loaded.config(), first.config())
  const direct = await RandomForestPredictor.load(dir)
  t.same(await direct.predict(test.batch), pred)
  t.same(direct.trees(), first.trees(), 'identical trees after load')
  await t.rejects(loaded.predict({ count: 1, shape: [98], data: new Float32Array(98) }), /items have shape \[98\], but the forest was trained on \[2, 7, 7\]/)

  // A save of the ml-random-forest implementation (formatVersion 1) is refused by name.
  const old = tmpDir(t)
  await first.save(old)
  const oldJson = path.join(old, 'predictor.json')
  fs.writeFileSync(oldJson, JSON.stringify({ ...json, formatVersion: 1 }))
  await t.rejects(loadPredictor(old), { message: `RandomForestPredictor.load: ${oldJson} is a random forest of formatVersion 1 (ml-random-forest, nasrank 0.1.0); this nasrank reads random forests of formatVersion 2 (native CART trees) only: fit the forest again and save it` })
  // A corrupt tree is refused when predicting, naming what is wrong.
  fs.writeFileSync(oldJson, JSON.stringify({ ...json, state: { ...json.state, inputShape: [50] } }))
  const corrupt = await loadPredictor(old)
  await t.rejects(corrupt.predict({ count: 1, shape: [50], data: new Float32Array(50) }), /forest is malformed: tree \d+ node \d+ splits on feature \d+, outside \[0, 50\)/)
})

t.test('random forest: options, edge cases and errors', async t => {
  const d = forestData(40, 5)
  t.same(resolveRandomForestConfig({}), {
    nEstimators: 100, maxFeatures: 1 / 3, seed: 0, maxDepth: null, minSamplesSplit: 2, minSamplesLeaf: 1, bootstrap: true, selection: 'mean', predictBatchSize: 4096
  }, 'documented defaults')
  t.throws(() => new RandomForestPredictor({ nEstimators: 0 }), /RandomForestPredictor: nEstimators must be ≥ 1/)
  t.throws(() => new RandomForestPredictor({ maxFeatures: 1.5 }), /maxFeatures must be a fraction in \(0, 1\] or an integer ≥ 2, got 1.5/)
  t.throws(() => new RandomForestPredictor({ maxFeatures: 0 }), /maxFeatures must be a fraction/)
  t.throws(() => new RandomForestPredictor({ maxDepth: 0 }), /maxDepth must be ≥ 1/)
  t.throws(() => new RandomForestPredictor({ minSamplesSplit: 1 }), /minSamplesSplit must be ≥ 2/)
  t.throws(() => new RandomForestPredictor({ minSamplesLeaf: 0 }), /minSamplesLeaf must be ≥ 1/)
  t.throws(() => new RandomForestPredictor({ seed: -1 }), /seed must be an integer/)
  t.throws(() => new RandomForestPredictor({ selection: 'mode' as any }), /selection must be one of 'mean', 'median'/)
  t.throws(() => new RandomForestPredictor({ bootstrap: 1 as any }), /bootstrap must be a boolean/)
  t.throws(() => new RandomForestPredictor({ trees: 3 } as any), /unknown option 'trees'/)
  t.throws(() => new RandomForestPredictor({ minNumSamples: 1 } as any), /option 'minNumSamples' was removed with the native forest: use minSamplesSplit/)
  t.throws(() => new RandomForestPredictor({ dropConstant: false } as any), /option 'dropConstant' was removed/)
  t.throws(() => new RandomForestPredictor({ thread: 'main' } as any), /option 'thread' was removed/)
  t.throws(() => new RandomForestPredictor({ augment: () => new Float32Array(0) }), /augment is not supported/)

  // One feature per split, limited depth, median.
  const one = new RandomForestPredictor({ nEstimators: 3, maxFeatures: 0.001, maxDepth: 2, selection: 'median' })
  await one.fit(d.batch, d.y)
  const dir = tmpDir(t)
  await one.save(dir)
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'predictor.json'), 'utf8'))
  t.equal(json.state.featuresPerSplit, 1, 'one feature per split')
  const trees = one.trees()!
  t.ok(trees.sizes.every(s => s <= 7), 'depth 2: at most 7 nodes per tree')
  t.same(await (await loadPredictor(dir)).predict(d.batch), await one.predict(d.batch), 'round trip with median selection')
  const count = new RandomForestPredictor({ nEstimators: 2, maxFeatures: 5 })
  await count.fit(d.batch, d.y)
  await count.save(dir)
  t.equal(JSON.parse(fs.readFileSync(path.join(dir, 'predictor.json'), 'utf8')).state.featuresPerSplit, 5, 'an integer maxFeatures is a count')
  const leafy = new RandomForestPredictor({ nEstimators: 2, minSamplesLeaf: 40, bootstrap: false })
  await leafy.fit(d.batch, d.y)
  t.same(Array.from(leafy.trees()!.sizes), [1, 1], 'minSamplesLeaf 40 of 40 rows: one leaf per tree')

  await t.rejects(new RandomForestPredictor().predict(d.batch), /not trained/)
  await t.rejects(new RandomForestPredictor().fit(d.batch, d.y.subarray(1)), /targets has length 39/)
  await t.rejects(new RandomForestPredictor().fit({ count: 1, shape: [3], data: new Float32Array(3) }, [1]), /needs at least 2 architectures/)
  const bad = new Float32Array(d.batch.data)
  bad[5] = NaN
  await t.rejects(new RandomForestPredictor().fit({ ...d.batch, data: bad }, d.y), /encoded input item 0 holds a non-finite value \(NaN\) at element 5/)

  // AbortSignal: checked before the native call, and honoured while it runs (fit rejects at
  // once; the native work finishes in the background and is discarded).
  const big = forestData(150, 6)
  const before = new AbortController()
  before.abort(new Error('early'))
  const slow = new RandomForestPredictor({ nEstimators: 200, maxFeatures: 1.0 })
  await t.rejects(slow.fit(big.batch, big.y, { signal: before.signal }), { name: 'AbortError', message: /aborted \(early\)/ })
  const during = new AbortController()
  const pending = slow.fit(big.batch, big.y, { signal: during.signal })
  during.abort(new Error('enough'))
  await t.rejects(pending, { name: 'AbortError', message: /aborted \(enough\)/ })
  t.equal(slow.trained, false)
})

t.test('nb101PeepholeTokens: DFS order, one-hot, kernel and channel features', async t => {
  // V = 5: 0 input, 1 conv3x3, 2 conv1x1, 3 maxpool, 4 output; edges 0→1, 0→2, 1→3, 2→4, 3→4.
  const bit = (i: number, j: number): number => 1 << (i * 7 - (i * (i + 1)) / 2 + (j - i - 1))
  const cells: Nb101CellsLike = {
    count: 1,
    vertices: Uint8Array.of(5),
    adjacency: Uint32Array.of(bit(0, 1) | bit(0, 2) | bit(1, 3) | bit(2, 4) | bit(3, 4)),
    ops: Uint8Array.of(0, 2, 1, 3, 4, 255, 255)
  }
  const tok = nb101PeepholeTokens(cells)
  t.same(tok.shape, [7, PEEPHOLE_TOKEN_DIM])
  const rows = Array.from({ length: 7 }, (_, i) => Array.from(tok.data.subarray(i * 7, i * 7 + 7), v => Math.round(v * 1e6) / 1e6))
  const third = Math.round(1e6 / 3) / 1e6
  t.same(rows, [
    [1, 0, 0, 0, 0, 0, 1], // vertex 0 input
    [0, 0, 1, 0, 0, 1, 0.5], // vertex 1 conv3x3 (feeds 3, which gets half the output)
    [0, 0, 0, 1, 0, 1, 0.5], // vertex 3 maxpool (feeds the output: 1/2)
    [0, 0, 0, 0, 1, 0, 1], // vertex 4 output
    [0, 1, 0, 0, 0, third, 0.5], // vertex 2 conv1x1 (feeds the output: 1/2)
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0]
  ], 'DFS preorder 0, 1, 3, 4, 2; zero padding')
  const byIndex = nb101PeepholeTokens(cells, { order: 'index', channels: Float32Array.of(128, 64, 32, 32, 128, 0, 0) })
  t.same(Array.from(byIndex.data.subarray(0, 35)).filter((_, i) => i % 7 === 6), [1, 0.5, 0.25, 0.25, 1], 'supplied channels / 128, index order')
  t.throws(() => nb101PeepholeTokens({ ...cells, vertices: Uint8Array.of(8) }), /cells.vertices\[0\] must be in 2..7/)
  t.throws(() => nb101PeepholeTokens({ ...cells, ops: Uint8Array.of(0, 7, 1, 3, 4, 255, 255) }), /cells.ops\[1\] \(cell 0, vertex 1\) must be an op code 0..4, got 7/)
  t.throws(() => nb101PeepholeTokens({ ...cells, ops: new Uint8Array(6) }), /cells.ops must be a Uint8Array of length count·7/)
  t.throws(() => nb101PeepholeTokens(cells, { order: 'bfs' as any }), /order must be 'dfs' or 'index'/)
  t.throws(() => nb101PeepholeTokens(cells, { channels: [1, 2] }), /channels must hold count·7 \(7\) numbers/)
})

t.test('Peephole LSTM: learns from tokens, deterministic, save/load identical, no leaks', async t => {
  const tf = await wasmTf()
  const train = randomCells(150, 1)
  const test = randomCells(150, 2)
  const encode = (c: Nb101CellsLike): EncodedBatch => nb101PeepholeTokens(c)
  const before = tf.memory().numTensors
  const make = (): PeepholePredictor<Nb101CellsLike> => new PeepholePredictor<Nb101CellsLike>({ encode, epochs: 10, batchSize: 30, learningRate: 5e-3, units: 32, embed: 16, hidden: 32, seed: 9, tf })
  const p = make()
  const report = await p.fit(train.cells, train.y)
  const pred = await p.predict(test.cells)
  const tau = kendallTau(pred, test.y)
  t.comment(`peephole: tau ${tau.toFixed(3)}, loss ${report.loss[0].toFixed(3)} → ${report.finalLoss.toFixed(3)}, ${report.timing.totalMs.toFixed(0)} ms`)
  t.ok(tau > 0.5, `held-out tau ${tau.toFixed(3)} > 0.5`)
  t.ok(report.finalLoss < report.loss[0])
  t.equal(tf.memory().numTensors - before, 9, '9 parameter tensors (embed 2, LSTM 3, fc 2, out 2)')
  const q = make()
  await q.fit(train.cells, train.y)
  t.same(await q.predict(test.cells), pred, 'same seed, same predictions')
  q.dispose()
  const dir = tmpDir(t)
  await p.save(dir)
  const loaded = await loadPredictor<Nb101CellsLike>(dir, { encode, tf })
  t.equal(loaded.name, 'Peephole-LSTM')
  t.same(await loaded.predict(test.cells), pred, 'identical predictions after load')
  loaded.dispose()
  // A saved file whose kind or input shape is wrong is refused by name.
  const file = path.join(dir, 'predictor.json')
  const json = JSON.parse(fs.readFileSync(file, 'utf8'))
  fs.writeFileSync(file, JSON.stringify({ ...json, state: { ...json.state, inputShape: [7, 0] } }))
  await t.rejects(loadPredictor(dir, { encode, tf }), /^PeepholePredictor\.load: state\.inputShape must be \[T, D\], got /)
  await t.rejects(PeepholePredictor.load(path.join(tmpDir(t), 'x')), /PeepholePredictor\.load/)
  fs.writeFileSync(file, JSON.stringify(json))
  const renasDir = tmpDir(t)
  await p.save(renasDir)
  await t.rejects(ReNASPredictor.load(renasDir, { tf }), { message: "ReNASPredictor.load: the saved predictor is of kind 'peephole', not 'renas'" })
  p.dispose()
  t.equal(tf.memory().numTensors, before, 'no leaks')

  // Without embedding and hidden layer.
  const bare = new PeepholePredictor({ epochs: 2, batchSize: 50, embed: 0, hidden: 0, units: 8, tf })
  await bare.fit(nb101PeepholeTokens(train.cells), train.y)
  t.equal((await bare.predict(nb101PeepholeTokens(test.cells))).length, 150)
  bare.dispose()
})

t.test('Peephole: configuration and input validation', async t => {
  const tf = await wasmTf()
  t.same(resolvePeepholeConfig({}), {
    embed: 32, units: 64, hidden: 64, epochs: 200, batchSize: 64, learningRate: 1e-3, weightDecay: 0, weightDecayMode: 'l2', seed: 0, predictBatchSize: 4096
  }, 'documented defaults')
  t.throws(() => new PeepholePredictor({ units: 0 }), /PeepholePredictor: units must be ≥ 1/)
  t.throws(() => new PeepholePredictor({ embed: -1 }), /embed must be ≥ 0/)
  t.throws(() => new PeepholePredictor({ epochs: 0 }), /epochs must be ≥ 1/)
  t.throws(() => new PeepholePredictor({ lstm: 3 } as any), /unknown option 'lstm'/)
  const p = new PeepholePredictor({ epochs: 1, tf })
  await t.rejects(p.fit({ count: 2, shape: [7, 7, 1], data: new Float32Array(98) }, [1, 2]), /token sequences of shape \[T, D\]/)
  p.dispose()
})

t.test('registry: kinds and custom loaders', async t => {
  t.same(predictorKinds().slice(0, 3), ['renas', 'random-forest', 'peephole'])
  t.throws(() => registerPredictor('', () => { throw new Error('x') }), /kind must be a non-empty string/)
  t.throws(() => registerPredictor('x', 3 as any), /loader must be a function/)
  const d = forestData(30, 9)
  const rf = new RandomForestPredictor({ nEstimators: 2 })
  await rf.fit(d.batch, d.y)
  const dir = tmpDir(t)
  await rf.save(dir)
  let called = false
  registerPredictor('random-forest', async (loaded, hooks) => { called = true; return RandomForestPredictor.fromSaved(loaded, hooks) })
  const back = await loadPredictor(dir)
  t.ok(called, 'the registered loader is used')
  t.same(await back.predict(d.batch), await rf.predict(d.batch))
})
