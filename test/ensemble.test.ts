import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  EnsemblePredictor, RandomForestPredictor, ReNASPredictor, Random, ensembleMemberSeeds, kendallTau, loadPredictor,
  type EncodedBatch, type FitReport, type Predictor
} from '../lib/index'
import { synthTensors, wasmTf } from './reference/tf'

function tmpDir (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-ens-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** [20] features, target smooth in a few of them, plus noise. */
function data (n: number, seed: number): { batch: EncodedBatch; y: Float64Array } {
  const r = new Random(seed)
  const d = new Float32Array(n * 20)
  const y = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < 20; i++) d[k * 20 + i] = r.float()
    y[k] = Math.sin(3 * d[k * 20]) + 2 * d[k * 20 + 3] * d[k * 20 + 7] + 0.1 * r.normal()
  }
  return { batch: { count: n, shape: [20], data: d }, y }
}

const forest = (seed: number): RandomForestPredictor<EncodedBatch> => new RandomForestPredictor({ nEstimators: 8, maxFeatures: 0.5, seed })

/** Brute force: the mean over members of (score − training mean) / training sd, members fitted independently. */
async function referenceScores (seed: number, size: number, train: { batch: EncodedBatch; y: Float64Array }, test: EncodedBatch): Promise<Float64Array> {
  const out = new Float64Array(test.count)
  for (const s of ensembleMemberSeeds(seed, size)) {
    const p = forest(s)
    await p.fit(train.batch, train.y)
    const own = Array.from(await p.predict(train.batch))
    const mean = own.reduce((a, v) => a + v, 0) / own.length
    const sd = Math.sqrt(own.reduce((a, v) => a + (v - mean) ** 2, 0) / own.length)
    const scores = await p.predict(test)
    for (let i = 0; i < out.length; i++) out[i] += (scores[i] - mean) / sd / size
  }
  return out
}

/** A predictor whose score is a fixed function of the first feature (for failure cases). */
class FixedPredictor implements Predictor<EncodedBatch> {
  readonly name = 'fixed'
  readonly kind = 'fixed'
  trained = false
  constructor (private readonly score: (x: number) => number) {}
  async fit (batch: EncodedBatch): Promise<FitReport> {
    this.trained = true
    return { epochs: 1, steps: 1, samples: batch.count, loss: [], finalLoss: NaN, timing: { totalMs: 0, encodeMs: 0, dataMs: 0, nativeLossMs: 0, modelMs: 0, optimizerMs: 0 }, lossShare: 0 }
  }

  async predict (batch: EncodedBatch): Promise<Float64Array> {
    const size = batch.shape.reduce((a, d) => a * d, 1)
    return Float64Array.from({ length: batch.count }, (_, k) => this.score(batch.data[k * size]))
  }

  async save (): Promise<void> {}
  config (): Record<string, unknown> { return {} }
  dispose (): void {}
}

function ranks (v: Float64Array): number[] {
  return Array.from(v.keys()).sort((a, b) => v[a] - v[b])
}

t.test('member seeds: one stream per ensemble seed, distinct, stable', async t => {
  const a = ensembleMemberSeeds(7, 5)
  t.equal(a.length, 5)
  t.equal(new Set(a).size, 5, 'distinct')
  t.same(ensembleMemberSeeds(7, 3), a.slice(0, 3), 'a prefix of the same stream')
  t.notSame(ensembleMemberSeeds(8, 5), a)
  t.ok(a.every(s => Number.isInteger(s) && s >= 0 && s < 2 ** 32))
})

t.test('ensemble of forests: equals the brute-force mean of standardised scores; batching does not matter; better than its members on average', async t => {
  const train = data(120, 1)
  const test = data(300, 2)
  const ens = new EnsemblePredictor({ size: 4, seed: 11, member: s => forest(s) })
  t.equal(ens.name, 'E2EPP-RF ×4')
  t.equal(ens.kind, 'ensemble')
  t.notOk(ens.trained)
  const epochs: Array<[number, number]> = []
  const report = await ens.fit(train.batch, train.y, { onEpoch: (e, info) => { epochs.push([e, info.epochs]) } })
  t.ok(ens.trained)
  t.same(epochs, [[1, 4], [2, 4], [3, 4], [4, 4]], 'progress counts the epochs of all members')
  t.equal(report.epochs, 4)
  t.equal(report.steps, 32, '8 trees × 4 members')
  t.equal(report.samples, 120)
  t.ok(report.timing.totalMs >= report.timing.modelMs)

  const pred = await ens.predict(test.batch)
  const ref = await referenceScores(11, 4, train, test.batch)
  let worst = 0
  for (let i = 0; i < pred.length; i++) worst = Math.max(worst, Math.abs(pred[i] - ref[i]))
  t.ok(worst < 1e-12, `max |ensemble − reference| = ${worst}`)

  // One architecture at a time gives the same scores as the whole batch.
  for (const i of [0, 17, 299]) {
    const one = await ens.predict({ count: 1, shape: [20], data: test.batch.data.subarray(i * 20, i * 20 + 20) })
    t.equal(one[0], pred[i], `item ${i} alone`)
  }
  t.equal((await ens.predict({ count: 0, shape: [20], data: new Float32Array(0) })).length, 0, 'empty batch')

  // The training set is standardised: mean 0, sd ≈ 1 per member, so the ensemble's mean is 0.
  const own = await ens.predict(train.batch)
  t.ok(Math.abs(own.reduce((a, v) => a + v, 0)) < 1e-9, 'training scores centred')

  const taus = await Promise.all(ens.members.map(async m => kendallTau(await m.predict(test.batch), test.y)))
  const tau = kendallTau(pred, test.y)
  t.comment(`members' tau ${taus.map(v => v.toFixed(3)).join(', ')}; ensemble ${tau.toFixed(3)}`)
  t.ok(tau > taus.reduce((a, v) => a + v, 0) / taus.length, 'ensemble tau above the members\' mean')

  const again = new EnsemblePredictor({ size: 4, seed: 11, member: s => forest(s) })
  await again.fit(train.batch, train.y)
  t.same(await again.predict(test.batch), pred, 'same seed, same ensemble')
})

t.test('ensemble save/load: identical scores; interrupted or mixed saves are refused by name', async t => {
  const train = data(80, 3)
  const test = data(50, 4)
  const ens = new EnsemblePredictor({ size: 3, seed: 2, member: s => forest(s) })
  await ens.fit(train.batch, train.y)
  const pred = await ens.predict(test.batch)
  const dir = tmpDir(t)
  await ens.save(dir)
  t.same(fs.readdirSync(dir).sort(), ['member-0', 'member-1', 'member-2', 'predictor.json', 'weights.bin'])
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'predictor.json'), 'utf8'))
  t.equal(json.kind, 'ensemble')
  t.equal(json.config.size, 3)
  t.equal(json.config.members[0].kind, 'random-forest')
  t.equal(json.state.members.length, 3)
  const loaded = await loadPredictor(dir)
  t.ok(loaded instanceof EnsemblePredictor)
  t.equal(loaded.name, 'E2EPP-RF ×3')
  t.ok(loaded.trained)
  t.same(await loaded.predict(test.batch), pred, 'identical scores after load')
  t.same(loaded.config(), ens.config())
  const again = tmpDir(t)
  await loaded.save(again)
  t.same(await (await loadPredictor(again)).predict(test.batch), pred, 'a loaded ensemble saves again')

  // A member replaced by another save (e.g. an interrupted re-save into the same directory).
  const other = forest(99)
  await other.fit(train.batch, train.y)
  await other.save(path.join(dir, 'member-1'))
  await t.rejects(loadPredictor(dir), /EnsemblePredictor\.load: .*member-1.predictor\.json is not the member .*predictor\.json was saved with \(weights SHA-256 [0-9a-f]{12}…, expected [0-9a-f]{12}…\)/)
  fs.rmSync(path.join(dir, 'member-1'), { recursive: true })
  await t.rejects(loadPredictor(dir), /EnsemblePredictor\.load: cannot read .*member-1.predictor\.json/)
  fs.writeFileSync(path.join(dir, 'predictor.json'), JSON.stringify({ ...json, state: { members: [{ ...json.state.members[0], dir: '../elsewhere' }] } }))
  await t.rejects(loadPredictor(dir), /state\.members must be a non-empty list of \{ dir: 'member-K', kind, sha256, center, scale > 0 \}/)
  fs.writeFileSync(path.join(dir, 'predictor.json'), JSON.stringify({ ...json, state: { members: [{ ...json.state.members[0], scale: 0 }] } }))
  await t.rejects(loadPredictor(dir), /state\.members must be/)
})

t.test('ensemble of ReNAS predictors: trains, beats or matches its members, save/load identical, no tfjs leaks', async t => {
  const tf = await wasmTf()
  const before = tf.memory().numTensors
  const train = synthTensors(120, 19, 5)
  const test = synthTensors(300, 19, 6)
  const member = (seed: number): ReNASPredictor<EncodedBatch> => new ReNASPredictor({ variant: 'renas-4', epochs: 15, learningRate: 3e-3, seed, tf })
  const ens = new EnsemblePredictor({ size: 3, seed: 4, member })
  t.equal(ens.name, 'ReNAS-4 ×3')
  const losses: number[] = []
  const report: FitReport = await ens.fit(train.batch, train.y, { onEpoch: (e, info) => { losses.push(info.loss); t.equal(info.epochs, 45) } })
  t.equal(report.epochs, 45)
  t.equal(report.loss.length, 45)
  t.equal(losses.length, 45)
  t.ok(report.lossShare > 0 && report.lossShare < 1)
  const pred = await ens.predict(test.batch)
  const tau = kendallTau(pred, test.y)
  const taus = await Promise.all(ens.members.map(async m => kendallTau(await m.predict(test.batch), test.y)))
  t.comment(`ReNAS-4 members' tau ${taus.map(v => v.toFixed(3)).join(', ')}; ensemble ${tau.toFixed(3)}`)
  t.ok(tau >= Math.min(...taus), 'ensemble no worse than its worst member')
  t.ok(tau > 0.5)
  const dir = tmpDir(t)
  await ens.save(dir)
  const loaded = await loadPredictor<EncodedBatch>(dir, { tf })
  t.same(await loaded.predict(test.batch), pred, 'identical scores after load')
  loaded.dispose()
  ens.dispose()
  ens.dispose()
  t.equal(tf.memory().numTensors, before, 'dispose frees every member')
  await t.rejects(ens.predict(test.batch), /ReNAS-4 ×3\.predict: the predictor was disposed/)
})

t.test('ensemble: options, failures and aborts', async t => {
  const train = data(40, 7)
  t.throws(() => new EnsemblePredictor({ member: forest } as never), /EnsemblePredictor: size is required/)
  t.throws(() => new EnsemblePredictor({ size: 0, member: forest }), /EnsemblePredictor: size must be an integer in \[1, /)
  t.throws(() => new EnsemblePredictor({ size: 2.5, member: forest }), /size must be an integer/)
  t.throws(() => new EnsemblePredictor({ size: 2, member: 'forest' } as never), /member must be a function \(seed, index\) => predictor, got the string "forest"/)
  t.throws(() => new EnsemblePredictor({ size: 2, member: () => ({}) as never }), /EnsemblePredictor: member\(seed, 0\) must return a predictor \(fit, predict, save, dispose\), got/)
  const shared = forest(1)
  t.throws(() => new EnsemblePredictor({ size: 3, member: () => shared }), /EnsemblePredictor: member\(seed, 1\) returned the same predictor object as member\(seed, 0\); each member must be a new predictor/)
  t.throws(() => new EnsemblePredictor({ size: 2, member: forest, seed: -1 }), /EnsemblePredictor: seed must be an integer/)
  t.throws(() => new EnsemblePredictor({ size: 2, member: forest, trees: 3 } as never), /EnsemblePredictor: unknown option 'trees' \(known: size, seed, member, name\)/)
  t.throws(() => new EnsemblePredictor({ size: 2, member: forest, name: '' }), /name must be a non-empty string/)
  t.equal(new EnsemblePredictor({ size: 2, member: forest, name: 'two forests' }).name, 'two forests')
  const seen: number[] = []
  new EnsemblePredictor({ size: 3, seed: 5, member: (s, i) => { seen.push(i); return forest(s) } }) // eslint-disable-line no-new
  t.same(seen, [0, 1, 2], 'members built in order, once')

  const mixed = new EnsemblePredictor<EncodedBatch>({ size: 2, member: (s, i) => i === 0 ? forest(s) : new RandomForestPredictor({ nEstimators: 3, seed: s, maxDepth: 2 }) })
  t.equal(mixed.name, 'E2EPP-RF ×2', 'same name, different configurations')

  const ens = new EnsemblePredictor({ size: 2, member: forest })
  await t.rejects(ens.predict(train.batch), /E2EPP-RF ×2\.predict: the predictor is not trained/)
  await t.rejects(ens.save(tmpDir(t)), /E2EPP-RF ×2\.save: the predictor is not trained; nothing to save/)
  await t.rejects(ens.fit(train.batch, train.y.subarray(0, 10)), /targets has length 10, but 40 architectures were given/)
  await t.rejects(ens.fit(train.batch, train.y, { epochs: 3 } as never), /E2EPP-RF ×2\.fit: unknown option 'epochs'/)
  t.notOk(ens.trained, 'a failed fit leaves it untrained')
  const controller = new AbortController()
  controller.abort()
  await t.rejects(ens.fit(train.batch, train.y, { signal: controller.signal }), { name: 'AbortError' })
  t.notOk(ens.trained)

  // A member whose training scores are not finite cannot be standardised.
  const nan = new EnsemblePredictor({ size: 2, member: (s, i) => i === 1 ? new FixedPredictor(() => NaN) : forest(s) })
  await t.rejects(nan.fit(train.batch, train.y), /member 1 predicted a non-finite score \(NaN\) for a training architecture/)
  t.notOk(nan.trained)
  // A constant member is centred but not scaled (its sd is 0): it adds nothing to the order.
  const constant = new EnsemblePredictor({ size: 2, member: (s, i) => i === 1 ? new FixedPredictor(() => 5) : forest(s) })
  await constant.fit(train.batch, train.y)
  const alone = forest(constant.members[0].config().seed as number)
  await alone.fit(train.batch, train.y)
  t.same(ranks(await constant.predict(train.batch)), ranks(await alone.predict(train.batch)), 'same order as the non-constant member')
})
