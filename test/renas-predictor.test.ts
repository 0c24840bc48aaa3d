import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { RENAS_VARIANTS, ReNASPredictor, kendallTau, loadPredictor, resolveReNASConfig, type EncodedBatch, type ReNASVariant } from '../lib/index'
import { conv2dSame } from '../lib/models/conv'
import { matMul2d } from '../lib/models/matmul'
import { Random } from '../lib/random'
import { maxRelDiff, synthTensors, wasmTf } from './reference/tf'

const VARIANTS = Object.keys(RENAS_VARIANTS) as ReNASVariant[]
const channelsOf = (v: ReNASVariant): number => RENAS_VARIANTS[v].input === 'type' ? 1 : 19

// Small, fast settings for the tests (the paper's defaults are 200 epochs, batch 1024, lr 1e-3).
const FAST = { epochs: 12, batchSize: 40, learningRate: 3e-3 }

function tmpDir (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-renas-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('every variant learns: held-out Kendall tau beats the untrained model by a margin', async t => {
  const tf = await wasmTf()
  const data: Record<number, { train: ReturnType<typeof synthTensors>; test: ReturnType<typeof synthTensors> }> = {}
  for (const c of [1, 19]) data[c] = { train: synthTensors(160, c, 11), test: synthTensors(160, c, 12) }
  for (const variant of VARIANTS) {
    const { train, test } = data[channelsOf(variant)]
    const p = new ReNASPredictor({ variant, ...FAST, seed: 5, tf })
    t.equal(p.name, RENAS_VARIANTS[variant].name)
    // Untrained baseline: the same network after one step at a tiny learning rate.
    const untrained = new ReNASPredictor({ variant, epochs: 1, batchSize: 160, learningRate: 1e-9, seed: 5, tf })
    await untrained.fit(train.batch, train.y)
    const tau0 = kendallTau(await untrained.predict(test.batch), test.y)
    untrained.dispose()
    const report = await p.fit(train.batch, train.y)
    const tau = kendallTau(await p.predict(test.batch), test.y)
    t.comment(`${variant}: tau ${tau.toFixed(3)} (untrained ${tau0.toFixed(3)}), loss ${report.loss[0].toFixed(3)} → ${report.finalLoss.toFixed(3)}, loss share ${report.lossShare.toFixed(3)}`)
    t.ok(tau > 0.4, `${variant}: held-out tau ${tau.toFixed(3)} > 0.4`)
    t.ok(tau > tau0 + 0.2, `${variant}: beats the untrained model (${tau0.toFixed(3)}) by > 0.2`)
    t.ok(report.finalLoss < report.loss[0], `${variant}: training loss decreases`)
    t.equal(report.epochs, FAST.epochs)
    t.equal(report.steps, FAST.epochs * 4, '160 items in batches of 40')
    t.equal(report.loss.length, FAST.epochs)
    const ranking = RENAS_VARIANTS[variant].loss !== 'mse'
    t.equal(report.timing.nativeLossMs > 0, ranking, `${variant}: native loss time ${ranking ? '> 0' : '= 0'}`)
    t.ok(report.lossShare >= 0 && report.lossShare < 1, 'loss share in [0, 1)')
    for (const key of ['totalMs', 'encodeMs', 'dataMs', 'modelMs', 'optimizerMs'] as const) t.ok(report.timing[key] >= 0, `timing.${key}`)
    p.dispose()
  }
})

t.test('same seed ⇒ identical predictions; another seed ⇒ different', async t => {
  const tf = await wasmTf()
  const { batch, y } = synthTensors(60, 19, 21)
  const run = async (seed: number): Promise<Float64Array> => {
    const p = new ReNASPredictor({ variant: 'renas-6', epochs: 3, batchSize: 16, seed, tf })
    await p.fit(batch, y)
    const out = await p.predict(batch)
    p.dispose()
    return out
  }
  const a = await run(1)
  const b = await run(1)
  const c = await run(2)
  t.same(a, b, 'seed 1 twice')
  t.notSame(a, c, 'seed 2 differs')
  // Re-fitting the same predictor starts from scratch.
  const p = new ReNASPredictor({ variant: 'renas-6', epochs: 3, batchSize: 16, seed: 1, tf })
  await p.fit(batch, y)
  await p.fit(batch, y)
  t.same(await p.predict(batch), a, 'a second fit re-initialises from the seed')
  p.dispose()
})

t.test('no tensor leaks across fit, predict, save, load and dispose', async t => {
  const tf = await wasmTf()
  const { batch, y } = synthTensors(50, 1, 31)
  const before = tf.memory().numTensors
  const p = new ReNASPredictor({ variant: 'renas-5', epochs: 2, batchSize: 20, tf })
  await p.fit(batch, y)
  const afterFit = tf.memory().numTensors
  t.equal(afterFit - before, 10, 'only the 10 LeNet parameter tensors remain after fit (optimizer state freed)')
  await p.predict(batch)
  await p.fit(batch, y)
  t.equal(tf.memory().numTensors, afterFit, 'predict and a second fit leave nothing behind')
  const dir = tmpDir(t)
  await p.save(dir)
  const q = await loadPredictor(dir, { tf })
  t.equal(tf.memory().numTensors, afterFit + 10, 'a loaded predictor holds its 10 parameters')
  q.dispose()
  p.dispose()
  t.equal(tf.memory().numTensors, before, 'dispose frees everything')
})

t.test('save / load round trip: identical predictions, config and kind preserved', async t => {
  const tf = await wasmTf()
  const { batch, y } = synthTensors(64, 19, 41)
  const p = new ReNASPredictor({ variant: 'renas-2', epochs: 2, batchSize: 32, lambda: 0.25, tf })
  await p.fit(batch, y)
  const want = await p.predict(batch)
  const dir = tmpDir(t)
  await p.save(dir)
  t.same(fs.readdirSync(dir).sort(), ['predictor.json', 'weights.bin'], 'two files, no temporaries left')
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'predictor.json'), 'utf8'))
  t.equal(json.kind, 'renas')
  t.equal(json.format, 'nasrank-predictor')
  t.equal(json.config.variant, 'renas-2')
  t.equal(json.config.lambda, 0.25)
  t.same(json.state.inputShape, [19, 7, 7])
  const q = await loadPredictor(dir, { tf })
  t.equal(q.name, 'ReNAS-2')
  t.same(q.config(), p.config())
  t.same(await q.predict(batch), want, 'predictions identical after load (MSE variant: de-standardised too)')
  const r = await ReNASPredictor.load(dir, { tf })
  t.same(await r.predict(batch), want, 'ReNASPredictor.load too')
  // Saving again over the same directory replaces both files.
  await q.save(dir)
  t.same(await (await loadPredictor(dir, { tf })).predict(batch), want, 'saved again over itself')
  q.dispose(); r.dispose(); p.dispose()
})

t.test('load errors are clear', async t => {
  const tf = await wasmTf()
  const { batch, y } = synthTensors(20, 1, 51)
  const p = new ReNASPredictor({ variant: 'renas-3', epochs: 1, batchSize: 10, tf })
  await p.fit(batch, y)
  const dir = tmpDir(t)
  await p.save(dir)
  p.dispose()
  const jsonPath = path.join(dir, 'predictor.json')
  const good = fs.readFileSync(jsonPath, 'utf8')
  const edit = (f: (j: any) => void): void => { const j = JSON.parse(good); f(j); fs.writeFileSync(jsonPath, JSON.stringify(j)) }

  await t.rejects(loadPredictor(path.join(dir, 'missing')), /loadPredictor: cannot read .*predictor\.json/)
  fs.writeFileSync(jsonPath, '{not json')
  await t.rejects(loadPredictor(dir), /is not valid JSON/)
  edit(j => { j.format = 'other' })
  await t.rejects(loadPredictor(dir), /not a nasrank predictor file/)
  edit(j => { j.formatVersion = 99 })
  await t.rejects(loadPredictor(dir), /formatVersion 99/)
  edit(j => { j.kind = 'mystery' })
  await t.rejects(loadPredictor(dir), /unknown kind 'mystery' \(known: renas, random-forest, peephole/)
  edit(j => { j.config.variant = 'renas-9' })
  await t.rejects(loadPredictor(dir, { tf }), /variant must be one of/)
  edit(j => { j.weights.tensors[0].shape = [5, 5, 2, 6]; j.weights.tensors[0].length = 300 })
  await t.rejects(loadPredictor(dir, { tf }), /conv1\/kernel' has shape \[5, 5, 2, 6\], expected \[5, 5, 1, 6\]/)
  edit(j => { j.weights.tensors = j.weights.tensors.filter((e: any) => e.name !== 'fc2/bias') })
  await t.rejects(loadPredictor(dir, { tf }), /no weight 'fc2\/bias'/)
  fs.writeFileSync(jsonPath, good)
  const bin = path.join(dir, 'weights.bin')
  const bytes = fs.readFileSync(bin)
  bytes[100] ^= 0xff
  fs.writeFileSync(bin, bytes)
  await t.rejects(loadPredictor(dir, { tf }), /does not match .*SHA-256.*different saves/)
  fs.writeFileSync(bin, bytes.subarray(0, 64))
  await t.rejects(loadPredictor(dir, { tf }), /has 64 bytes/)
})

t.test('configuration validation names the option', async t => {
  t.throws(() => new ReNASPredictor({ variant: 'renas-7' as any }), /ReNASPredictor: variant must be one of 'renas-1'.*got the string "renas-7"/)
  t.throws(() => new ReNASPredictor({ lambda: -1 }), /ReNASPredictor: lambda must be ≥ 0, got -1/)
  t.throws(() => new ReNASPredictor({ epochs: 0 }), /ReNASPredictor: epochs must be ≥ 1, got 0/)
  t.throws(() => new ReNASPredictor({ epochs: 1.5 }), /ReNASPredictor: epochs must be an integer/)
  t.throws(() => new ReNASPredictor({ variant: 'renas-4', batchSize: 1 }), /ReNASPredictor: batchSize must be ≥ 2, got 1/)
  t.doesNotThrow(() => new ReNASPredictor({ variant: 'renas-2', batchSize: 1 }), 'batch 1 is fine for MSE')
  t.throws(() => new ReNASPredictor({ learningRate: 0 }), /learningRate must be > 0/)
  t.throws(() => new ReNASPredictor({ weightDecay: -1e-4 }), /weightDecay must be ≥ 0/)
  t.throws(() => new ReNASPredictor({ weightDecayMode: 'adamw' as any }), /weightDecayMode must be one of 'l2', 'decoupled'/)
  t.throws(() => new ReNASPredictor({ margin: Infinity }), /margin must be finite/)
  t.throws(() => new ReNASPredictor({ phi: 'square' as any }), /phi must be one of 'hinge', 'logistic', 'exp'/)
  t.throws(() => new ReNASPredictor({ distanceEps: 0 }), /distanceEps must be > 0/)
  t.throws(() => new ReNASPredictor({ seed: 0.5 }), /seed must be an integer in \[0, 2\^53 - 1\]/)
  t.throws(() => new ReNASPredictor({ lamda: 1 } as any), /unknown option 'lamda'/)
  t.throws(() => new ReNASPredictor({ encode: 3 } as any), /encode must be a function/)
  t.throws(() => new ReNASPredictor({ tf: {} as any }), /tf must be the @tensorflow\/tfjs module/)
  const d = resolveReNASConfig({})
  t.same(d, {
    variant: 'renas-6', lambda: 1, phi: 'hinge', margin: 1, tripletMargin: 1, reduction: 'mean', distanceEps: 1e-6, epochs: 200, batchSize: 1024,
    learningRate: 1e-3, weightDecay: 5e-4, weightDecayMode: 'l2', seed: 0, channels: 19, predictBatchSize: 4096
  }, 'documented defaults (the paper\'s training settings)')
  t.equal(resolveReNASConfig({ variant: 'renas-1' }).channels, 1, 'type-matrix variants expect one channel')
})

t.test('input and target validation at fit and predict', async t => {
  const tf = await wasmTf()
  const { batch, y } = synthTensors(10, 19, 61)
  const p = new ReNASPredictor({ variant: 'renas-5', epochs: 1, batchSize: 5, tf })
  await t.rejects(p.fit(batch, y), /ReNAS-5\.fit: ReNAS-5 expects the type matrix with 1 channel\(s\) per item \(option channels\), got 19/)
  const q = new ReNASPredictor({ variant: 'renas-6', epochs: 1, batchSize: 5, tf })
  await t.rejects(q.predict(batch), /not trained/)
  await t.rejects(q.fit(batch, y.subarray(0, 9)), /targets has length 9, but 10 architectures/)
  await t.rejects(q.fit(batch, Float64Array.from(y, (v, i) => i === 3 ? NaN : v)), /targets\[3\] must be finite/)
  const bad = { ...batch, data: batch.data.slice() }
  bad.data[19 * 49 * 2 + 5] = Infinity
  await t.rejects(q.fit(bad, y), /encoded input item 2 holds a non-finite value/)
  await t.rejects(q.fit({ ...batch, data: batch.data.subarray(1) }, y), /data has length 9309, expected count · Π shape/)
  await t.rejects(q.fit({ count: 1, shape: [19, 7, 7], data: batch.data.subarray(0, 931) }, [1]), /needs at least 2 architectures/)
  await t.rejects(q.fit(batch, y, { onEpoch: 1 } as any), /onEpoch must be a function/)
  await t.rejects(q.fit(batch, y, { epochz: 1 } as any), /unknown option 'epochz'/)
  await q.fit(batch, y)
  await t.rejects(q.predict({ count: 1, shape: [19, 6, 6], data: new Float32Array(19 * 36) }), /items have shape \[19, 6, 6\], but the model was trained on \[19, 7, 7\]/)
  q.dispose()
  await t.rejects(q.predict(batch), /disposed/)
  p.dispose()
})

t.test('encoder, count (chunked prediction) and augmentation hooks', async t => {
  const tf = await wasmTf()
  const { batch, y } = synthTensors(50, 19, 71)
  // Architectures are plain indices; the encoder slices the prepared batch.
  const encode = (ids: number[], start = 0, end = ids.length): EncodedBatch => {
    const size = 19 * 49
    const data = new Float32Array((end - start) * size)
    for (let k = start; k < end; k++) data.set(batch.data.subarray(ids[k] * size, (ids[k] + 1) * size), (k - start) * size)
    return { count: end - start, shape: [19, 7, 7], data }
  }
  const ids = Array.from({ length: 50 }, (_, i) => i)
  const whole = new ReNASPredictor<number[]>({ variant: 'renas-4', epochs: 2, batchSize: 25, encode, tf })
  await whole.fit(ids, y)
  const chunked = new ReNASPredictor<number[]>({ variant: 'renas-4', epochs: 2, batchSize: 25, encode, count: a => a.length, predictBatchSize: 7, tf })
  await chunked.fit(ids, y)
  t.same(await chunked.predict(ids), await whole.predict(ids), 'chunks of 7 give the same predictions as one pass')
  const lying = new ReNASPredictor<number[]>({ variant: 'renas-4', epochs: 1, batchSize: 25, encode: (a) => encode(a), count: a => a.length, predictBatchSize: 7, tf })
  await lying.fit(ids, y)
  await t.rejects(lying.predict(ids), /encode\(archs, 0, 7\) returned 50 items, expected 7/)

  // Augmentation: called once per batch with the batch indices and a seeded rng.
  const calls: number[][] = []
  const augment = (a: number[], indices: Int32Array, rng: { next(): number }): Float32Array => {
    calls.push(Array.from(indices))
    const out = encode(Array.from(indices, i => a[i])).data
    for (let i = 0; i < out.length; i++) if (rng.float() < 0.01) out[i] = 1 - out[i]
    return out
  }
  const runAug = async (): Promise<Float64Array> => {
    const p = new ReNASPredictor<number[]>({ variant: 'renas-6', epochs: 2, batchSize: 25, encode, augment, seed: 3, tf })
    await p.fit(ids, y)
    const out = await p.predict(ids)
    p.dispose()
    return out
  }
  const a1 = await runAug()
  t.equal(calls.length, 4, '2 epochs × 2 batches')
  t.same(calls[0].slice().sort((u, v) => u - v).concat(calls[1]).length, 50, 'batches cover the epoch')
  t.same(new Set([...calls[0], ...calls[1]]).size, 50, 'each index once per epoch')
  t.same(await runAug(), a1, 'augmented training is deterministic by seed')
  const broken = new ReNASPredictor<number[]>({ variant: 'renas-6', epochs: 1, batchSize: 25, encode, augment: () => new Float32Array(3), tf })
  await t.rejects(broken.fit(ids, y), /augment must return a Float32Array of 25 · 931 = 23275 values, got length 3/)
  whole.dispose(); chunked.dispose(); lying.dispose(); broken.dispose()
})

t.test('onEpoch and AbortSignal', async t => {
  const tf = await wasmTf()
  const { batch, y } = synthTensors(30, 1, 81)
  const seen: number[] = []
  const p = new ReNASPredictor({ variant: 'renas-3', epochs: 4, batchSize: 15, tf })
  const report = await p.fit(batch, y, { onEpoch: async (epoch, info) => { seen.push(epoch); t.equal(info.epochs, 4) } })
  t.same(seen, [1, 2, 3, 4])
  t.same(report.loss.length, 4)
  const controller = new AbortController()
  const before = tf.memory().numTensors
  const q = new ReNASPredictor({ variant: 'renas-3', epochs: 50, batchSize: 15, tf })
  await t.rejects(q.fit(batch, y, { signal: controller.signal, onEpoch: (e) => { if (e === 2) controller.abort() } }), { name: 'AbortError' })
  t.equal(q.trained, false, 'an aborted fit leaves the predictor untrained')
  t.equal(tf.memory().numTensors, before, 'and frees its tensors')
  p.dispose(); q.dispose()
})

t.test('decoupled weight decay trains too and differs from coupled L2', async t => {
  const tf = await wasmTf()
  const { batch, y } = synthTensors(40, 1, 91)
  const run = async (mode: 'l2' | 'decoupled'): Promise<Float64Array> => {
    const p = new ReNASPredictor({ variant: 'renas-1', epochs: 3, batchSize: 20, weightDecay: 0.05, weightDecayMode: mode, tf })
    await p.fit(batch, y)
    const out = await p.predict(batch)
    p.dispose()
    return out
  }
  const a = await run('l2')
  const b = await run('decoupled')
  t.ok(a.every(Number.isFinite) && b.every(Number.isFinite))
  t.notSame(a, b)
})

t.test('conv2dSame: value and gradients match an im2col formulation differentiated by tfjs', async t => {
  const tf = await wasmTf()
  const r = new Random(5)
  for (const [n, h, w, cin, cout, k] of [[3, 7, 7, 4, 5, 5], [2, 4, 4, 6, 16, 3], [2, 5, 3, 2, 3, 1]]) {
    const x = tf.tensor4d(Float32Array.from({ length: n * h * w * cin }, () => r.normal()), [n, h, w, cin])
    const kern = tf.tensor4d(Float32Array.from({ length: k * k * cin * cout }, () => r.normal()), [k, k, cin, cout])
    const dy = tf.tensor4d(Float32Array.from({ length: n * h * w * cout }, () => r.normal()), [n, h, w, cout])
    const p = (k - 1) / 2
    const im2col = (xv: any, kv: any): any => {
      const padded = tf.pad(xv, [[0, 0], [p, p], [p, p], [0, 0]])
      const cols = []
      for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) cols.push(tf.slice(padded, [0, a, b, 0], [n, h, w, cin]))
      return tf.reshape(tf.matMul(tf.reshape(tf.concat(cols, 3), [n * h * w, k * k * cin]), tf.reshape(kv, [k * k * cin, cout])), [n, h, w, cout])
    }
    const [gx, gk] = tf.grads((xv: any, kv: any) => conv2dSame(tf, xv, kv))([x, kern], dy)
    const [rx, rk] = tf.grads((xv: any, kv: any) => im2col(xv, kv))([x, kern], dy)
    const what = `x [${n}, ${h}, ${w}, ${cin}], kernel ${k}×${k}→${cout}`
    t.ok(maxRelDiff(conv2dSame(tf, x, kern).dataSync(), im2col(x, kern).dataSync()) < 1e-5, `${what}: value`)
    t.ok(maxRelDiff(gx.dataSync(), rx.dataSync()) < 1e-5, `${what}: input gradient`)
    t.ok(maxRelDiff(gk.dataSync(), rk.dataSync()) < 1e-5, `${what}: kernel gradient`)
    const gkOnly = tf.grad((kv: any) => conv2dSame(tf, x, kv, false))(kern, dy)
    t.same(gkOnly.dataSync(), gk.dataSync(), `${what}: kernel gradient without the input gradient`)
    tf.dispose([x, kern, dy, gx, gk, rx, rk, gkOnly])
  }
  t.throws(() => conv2dSame(tf, tf.zeros([1, 4, 4, 2]), tf.zeros([2, 2, 2, 1])), /odd k/)
  t.throws(() => conv2dSame(tf, tf.zeros([1, 4, 4, 3]), tf.zeros([3, 3, 2, 1])), /does not match kernel/)
})

t.test('matMul2d: value and gradients equal plain loops (da = dy·bᵀ, db = aᵀ·dy)', async t => {
  const tf = await wasmTf()
  const r = new Random(8)
  for (const [m, k, n] of [[90, 256, 120], [7, 3, 1], [1, 5, 4]]) {
    const A = Float32Array.from({ length: m * k }, () => r.normal())
    const B = Float32Array.from({ length: k * n }, () => r.normal())
    const DY = Float32Array.from({ length: m * n }, () => r.normal())
    const y = new Float64Array(m * n); const da = new Float64Array(m * k); const db = new Float64Array(k * n)
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        for (let l = 0; l < k; l++) {
          y[i * n + j] += A[i * k + l] * B[l * n + j]
          da[i * k + l] += DY[i * n + j] * B[l * n + j]
          db[l * n + j] += A[i * k + l] * DY[i * n + j]
        }
      }
    }
    const a = tf.tensor2d(A, [m, k]); const b = tf.tensor2d(B, [k, n]); const dy = tf.tensor2d(DY, [m, n])
    const [ga, gb] = tf.grads((av: any, bv: any) => matMul2d(tf, av, bv))([a, b], dy)
    const value = matMul2d(tf, a, b)
    const what = `[${m}, ${k}] · [${k}, ${n}]`
    t.ok(maxRelDiff(value.dataSync(), y, 1e-3) < 1e-4, `${what}: value`)
    t.ok(maxRelDiff(ga.dataSync(), da, 1e-3) < 1e-4, `${what}: gradient of a`)
    t.ok(maxRelDiff(gb.dataSync(), db, 1e-3) < 1e-4, `${what}: gradient of b`)
    tf.dispose([a, b, dy, ga, gb, value])
  }
  t.throws(() => matMul2d(tf, tf.zeros([2, 3]), tf.zeros([2, 3])), /matMul2d: needs \[m, k\] · \[k, n\], got \[2, 3\] · \[2, 3\]/)
})
