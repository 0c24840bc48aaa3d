// The live MIP trainer: stride-2 conv2dSame against float64 loops and finite differences, the
// network's params/FLOPs against nb201.params/flops, batch preparation against a direct
// reference and the native kernel against the JavaScript one (bit for bit), seeded runs bit-identical, 64 images overfit, unconnected cells at chance.
import t from 'tap'
import { initTfBackend, type Tf } from '../lib/models/backend'
import { conv2dSame } from '../lib/models/conv'
import { Random } from '../lib/random'
import { nb201 } from '../lib/spaces/nb201'
import { openImageData, type ImageSet } from '../lib/data/idx'
import { prepareBatch, prepareBatchJs } from '../lib/bpe/images'
import { addon } from '../lib/native'
import fc from 'fast-check'
import { buildNb201Net, splitImages, trainCell } from '../lib/bpe/trainer'

const wasmTf = async (): Promise<Tf> => (await initTfBackend({ backend: 'wasm' })).tf

// y[n, oy, ox, co] = Σ xpad[n, 2oy + a, 2ox + b, ci] w[a, b, ci, co], float64.
function convRef (x: Float64Array, xs: number[], w: Float64Array, k: number, cout: number): { y: Float64Array, ho: number, wo: number } {
  const [n, h, wd, cin] = xs
  const p = (k - 1) / 2
  const ho = Math.floor((h + 2 * p - k) / 2) + 1; const wo = Math.floor((wd + 2 * p - k) / 2) + 1
  const y = new Float64Array(n * ho * wo * cout)
  for (let b = 0; b < n; b++) for (let oy = 0; oy < ho; oy++) for (let ox = 0; ox < wo; ox++) for (let co = 0; co < cout; co++) {
    let s = 0
    for (let a = 0; a < k; a++) for (let c = 0; c < k; c++) {
      const iy = 2 * oy + a - p; const ix = 2 * ox + c - p
      if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue
      for (let ci = 0; ci < cin; ci++) s += x[((b * h + iy) * wd + ix) * cin + ci] * w[((a * k + c) * cin + ci) * cout + co]
    }
    y[((b * ho + oy) * wo + ox) * cout + co] = s
  }
  return { y, ho, wo }
}

t.test('conv2dSame stride 2: value = loops, gradients = finite differences of the loops', async t => {
  const tf = await wasmTf()
  const r = new Random(3)
  for (const [n, h, w, cin, cout, k] of [[2, 6, 6, 3, 4, 3], [2, 7, 5, 2, 3, 3], [1, 5, 5, 2, 2, 1]]) {
    const X = Float64Array.from({ length: n * h * w * cin }, () => r.normal())
    const W = Float64Array.from({ length: k * k * cin * cout }, () => r.normal())
    const { y, ho, wo } = convRef(X, [n, h, w, cin], W, k, cout)
    t.equal(ho, Math.ceil(h / 2), 'output side ⌈H/2⌉')
    const DY = Float64Array.from({ length: n * ho * wo * cout }, () => r.normal())
    const loss = (xv: Float64Array, wv: Float64Array): number => convRef(xv, [n, h, w, cin], wv, k, cout).y.reduce((s, v, i) => s + v * DY[i], 0)
    const x = tf.tensor4d(Float32Array.from(X), [n, h, w, cin]); const kern = tf.tensor4d(Float32Array.from(W), [k, k, cin, cout])
    const dy = tf.tensor4d(Float32Array.from(DY), [n, ho, wo, cout])
    const what = `x [${n}, ${h}, ${w}, ${cin}], ${k}×${k}→${cout}, stride 2`
    const val = conv2dSame(tf, x, kern, true, 2)
    t.same(val.shape, [n, ho, wo, cout])
    t.ok(maxAbs(val.dataSync(), y) < 1e-4, `${what}: value`)
    const [gx, gk] = tf.grads((xv: any, kv: any) => conv2dSame(tf, xv, kv, true, 2))([x, kern], dy)
    const fd = (arr: Float64Array, other: (a: Float64Array) => number): Float64Array => Float64Array.from(arr, (_, i) => {
      const a = Float64Array.from(arr); a[i] += 1e-5; const up = other(a)
      a[i] -= 2e-5; return (up - other(a)) / 2e-5
    })
    t.ok(maxAbs(gx.dataSync(), fd(X, a => loss(a, W))) < 1e-3, `${what}: input gradient`)
    t.ok(maxAbs(gk.dataSync(), fd(W, a => loss(X, a))) < 1e-3, `${what}: kernel gradient`)
    const gkOnly = tf.grad((kv: any) => conv2dSame(tf, x, kv, false, 2))(kern, dy)
    t.same(gkOnly.dataSync(), gk.dataSync(), `${what}: kernel gradient without the input gradient`)
    tf.dispose([x, kern, dy, val, gx, gk, gkOnly])
  }
  t.throws(() => conv2dSame(tf, tf.zeros([1, 4, 4, 2]), tf.zeros([3, 3, 2, 1]), true, 3 as 2), /stride must be 1 or 2/)
})

function maxAbs (a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return a.length === b.length ? m : Infinity
}

t.test('params and FLOPs = nb201.params / nb201.flops at C 16, N 5, 32 px (50 sampled cells)', async t => {
  const tf = await wasmTf()
  const archs = nb201.sample(50, { seed: 11 })
  for (let i = 0; i < 50; i++) {
    const a = archs.subarray(6 * i, 6 * i + 6)
    const net = buildNb201Net(tf, a, { channels: 16, cells: 5, image: 32, inChannels: 3, classes: 10 }, i)
    if (net.params !== nb201.params(a) || net.flops !== nb201.flops(a)) t.fail(`${nb201.format(a)}: params ${net.params} vs ${nb201.params(a)}, flops ${net.flops} vs ${nb201.flops(a)}`)
    net.dispose()
  }
  t.pass('50 cells agree')
  const a = nb201.parse('|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|')
  const net = buildNb201Net(tf, a, { channels: 4, cells: 1, image: 14, inChannels: 1, classes: 10 }, 0)
  const out = tf.tidy(() => net.forward(tf.zeros([2, 14, 14, 1]), false).shape)
  t.same(out, [2, 10], 'odd stage side (14 → 7 → 4) runs')
  const c = nb201.networkCost({ channels: 4, cells: 1, image: 14, inChannels: 1, classes: 10 })
  t.equal(net.flops, c.flops.base + [...a].reduce((s, o) => s + c.flops.perEdge[o], 0), 'FLOPs at 14 px, 1 channel')
  net.dispose()
})

function tinySet (): ImageSet {
  const r = new Random(1)
  const n = 5
  return { label: 'tiny', n, height: 8, width: 8, channels: 1, classes: 10, images: Uint8Array.from({ length: n * 64 }, () => r.int(256)), labels: Uint8Array.from({ length: n }, (_, i) => i), mean: [0.3], std: [0.5] }
}

t.test('prepareBatch: area resize, normalise; crop/flip/cutout against a direct reference', async t => {
  const d = tinySet()
  const plain = prepareBatch(d, [2, 0], { image: 4, augment: false, cutout: 0 }, undefined)
  for (const [b, src] of [[0, 2], [1, 0]]) {
    for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) {
      const px = (yy: number, xx: number): number => d.images[src * 64 + yy * 8 + xx]
      const v = (px(2 * y, 2 * x) + px(2 * y, 2 * x + 1) + px(2 * y + 1, 2 * x) + px(2 * y + 1, 2 * x + 1)) / 4 / 255
      if (Math.abs(plain[b * 16 + y * 4 + x] - (v - 0.3) / 0.5) > 1e-6) t.fail(`resize at ${b},${y},${x}`)
    }
  }
  // augment at 8 px: pad 1, the draws in their documented order.
  const rng = new Random(9)
  const aug = prepareBatch(d, [3], { image: 8, augment: true, cutout: 4 }, rng)
  const ref = new Random(9)
  const oy = ref.int(3); const ox = ref.int(3); const flip = ref.float() < 0.5; const cy = ref.int(8); const cx = ref.int(8)
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
    const sy = y + oy - 1; const sx = (flip ? 7 - x : x) + ox - 1
    let v = sy >= 0 && sy < 8 && sx >= 0 && sx < 8 ? (d.images[3 * 64 + sy * 8 + sx] / 255 - 0.3) / 0.5 : -0.6
    if (y >= Math.max(0, cy - 2) && y < Math.min(8, cy + 2) && x >= Math.max(0, cx - 2) && x < Math.min(8, cx + 2)) v = 0
    if (Math.abs(aug[y * 8 + x] - v) > 1e-6) t.fail(`augment at ${y},${x}`)
  }
  t.pass('augmented batch = reference')
})

t.test('seeded runs are bit-identical; another seed differs; unconnected cells at chance', async t => {
  const tf = await wasmTf()
  const split = splitImages(openImageData('fashion-mnist'), 100, 256)
  const arch = nb201.parse('|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|')
  const s = { epochs: 2, batch: 64, lr: 0.05, cells: 1, channels: 4, image: 14, cutout: 7 }
  const before = tf.memory().numTensors
  const a = await trainCell(tf, arch, s, split, 5)
  const b = await trainCell(tf, arch, s, split, 5)
  const c = await trainCell(tf, arch, s, split, 6)
  t.same([a.losses, a.curve], [b.losses, b.curve], 'same seed ⇒ same losses and accuracies')
  t.notSame(a.losses, c.losses, 'another seed ⇒ other losses')
  t.equal(a.best, Math.max(...a.curve)); t.equal(a.final, a.curve[1])
  t.equal(tf.memory().numTensors, before, 'no tensors left behind')
  const dead = nb201.parse('|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|')
  const u = await trainCell(tf, dead, s, split, 5)
  t.match(u, { best: 10, final: 10, untrained: true, seconds: 0 })
  t.equal(u.params, nb201.networkCost({ channels: 4, cells: 1, image: 14, inChannels: 1, classes: 10 }).params.base + 2 * nb201.networkCost({ channels: 4, cells: 1, image: 14, inChannels: 1, classes: 10 }).params.perEdge[3])
  await t.rejects(trainCell(tf, arch, { ...s, image: 12 }, split, 5), /--omega image: image 12 does not divide/)
  await t.rejects(trainCell(tf, arch, { ...s, cutout: 20 }, split, 5), /cutout 20/)
  t.throws(() => splitImages(split.data, 7000, 2000), /--val 7000 \+ --train-images 2000 is above the 8000 images/)
})

t.test('64 images overfit', async t => {
  const tf = await wasmTf()
  const split = splitImages(openImageData('fashion-mnist'), 64, 64)
  split.val = split.train
  const arch = nb201.parse('|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|')
  const r = await trainCell(tf, arch, { epochs: 60, batch: 16, lr: 0.05, cells: 1, channels: 8, image: 14, cutout: 0 }, split, 0)
  t.ok(r.losses[r.losses.length - 1] < 0.25, `training loss ${r.losses[0].toFixed(2)} → ${r.losses[r.losses.length - 1].toFixed(3)}`)
  t.ok(r.final >= 95, `train-set top-1 after training ${r.final.toFixed(1)} %`)
})

t.test('prepareBatch (native) = prepareBatchJs bit for bit, same draws, any thread count', async t => {
  let cases = 0
  fc.assert(fc.property(
    fc.record({
      side: fc.constantFrom(4, 8, 12, 16, 24, 28, 32),
      channels: fc.integer({ min: 1, max: 3 }),
      factor: fc.integer({ min: 0, max: 3 }),
      augment: fc.boolean(),
      cutoutShare: fc.double({ min: 0, max: 1, noNaN: true }),
      batch: fc.integer({ min: 0, max: 40 }),
      threads: fc.integer({ min: 1, max: 4 }),
      seed: fc.nat()
    }),
    c => {
      const divisors = Array.from({ length: c.side }, (_, i) => i + 1).filter(v => c.side % v === 0)
      const image = divisors[divisors.length - 1 - Math.min(c.factor, divisors.length - 1)]
      const r = new Random(c.seed, 3)
      const n = 7
      const d: ImageSet = {
        label: 'prop', n, height: c.side, width: c.side, channels: c.channels, classes: 10,
        images: Uint8Array.from({ length: n * c.side * c.side * c.channels }, () => r.int(256)),
        labels: new Uint8Array(n),
        mean: Array.from({ length: c.channels }, () => r.float()),
        std: Array.from({ length: c.channels }, () => 0.1 + r.float())
      }
      const idx = Int32Array.from({ length: c.batch }, () => r.int(n))
      const o = { image, augment: c.augment, cutout: Math.floor(c.cutoutShare * image) }
      const ra = new Random(c.seed, 7); const rb = new Random(c.seed, 7)
      const a = prepareBatch(d, idx, o, ra, { threads: c.threads })
      const b = prepareBatchJs(d, idx, o, rb)
      cases++
      return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength)) &&
        ra.uint32() === rb.uint32()
    }), { seed: 20261208, numRuns: 300 })
  // A batch large enough to run on several threads (≥ 2^18 source bytes): 1 vs 3 threads.
  const big = openImageData('fashion-mnist')
  const idx = Int32Array.from({ length: 512 }, (_, i) => (i * 37) % big.n)
  const one = prepareBatch(big, idx, { image: 28, augment: true, cutout: 14 }, new Random(4), { threads: 1 })
  const three = prepareBatch(big, idx, { image: 28, augment: true, cutout: 14 }, new Random(4), { threads: 3 })
  const ref = prepareBatchJs(big, idx, { image: 28, augment: true, cutout: 14 }, new Random(4))
  t.ok(Buffer.from(one.buffer).equals(Buffer.from(ref.buffer)) && Buffer.from(three.buffer).equals(Buffer.from(ref.buffer)), '512 Fashion-MNIST images: 1 and 3 threads = the reference')
  t.ok(cases >= 300, `${cases} random settings`)
})

t.test('prepareBatch: bad input is an error naming the argument, before any draw', async t => {
  const d = tinySet()
  const r = new Random(1); const probe = new Random(1)
  t.throws(() => prepareBatch(d, [0, 5], { image: 4, augment: true, cutout: 0 }, r), { message: /^prepareBatch: idx\[1\] is 5, not an image index in \[0, 5\)/ })
  t.throws(() => prepareBatch(d, [0], { image: 3, augment: true, cutout: 0 }, r), { message: /^prepareBatch: image 3 must be an integer ≥ 1 that divides the side 8/ })
  t.throws(() => prepareBatch(d, [0], { image: 4, augment: true, cutout: 5 }, r), { message: /^prepareBatch: cutout must be an integer in 0 … image 4, got 5/ })
  t.throws(() => prepareBatch(d, [0.5], { image: 4, augment: false, cutout: 0 }, undefined), { message: /^prepareBatch: idx\[0\] is 0.5/ })
  t.throws(() => prepareBatch({ ...d, mean: [0.1, 0.2] }, [0], { image: 4, augment: false, cutout: 0 }, undefined), { message: /^prepareBatch: tiny: mean must hold one number per channel \(1\)/ })
  t.throws(() => prepareBatch({ ...d, std: [0] }, [0], { image: 4, augment: false, cutout: 0 }, undefined), { message: /^prepareBatch: std\[0\] is 0; it must be > 0/ })
  t.throws(() => prepareBatch({ ...d, width: 4 }, [0], { image: 4, augment: false, cutout: 0 }, undefined), { message: /^prepareBatch: tiny: images must be square/ })
  t.throws(() => prepareBatch({ ...d, images: d.images.subarray(1) }, [0], { image: 4, augment: false, cutout: 0 }, undefined), { message: /^prepareBatch: images has length 319, not a multiple of side·side·channels = 64/ })
  t.throws(() => prepareBatch(d, [0], { image: 4, augment: true, cutout: 0 }, undefined), { message: 'prepareBatch: augment needs a Random' })
  t.equal(r.uint32(), probe.uint32(), 'no draw was consumed by the failed calls')
  // The raw kernel checks every draw against its range.
  const mean = Float64Array.of(0.3); const std = Float64Array.of(0.5)
  t.throws(() => addon.imageBatch(d.images, 8, 1, Int32Array.of(0), 8, mean, std, Int32Array.of(0, 3, 0, 0, 0), 0), { message: /^imageBatch: draws\[1\] \(crop x of image 0\) is 3, not in \[0, 2\]/ })
  t.throws(() => addon.imageBatch(d.images, 8, 1, Int32Array.of(0), 8, mean, std, Int32Array.of(0, 0, 0, 8, 0), 4), { message: /^imageBatch: draws\[3\] \(cutout y of image 0\) is 8, not in \[0, 7\]/ })
  t.throws(() => addon.imageBatch(d.images, 8, 1, Int32Array.of(0), 8, mean, std, Int32Array.of(0, 0, 0), 0), { message: /^imageBatch: draws has length 3 but must have 5 per image \(5\)/ })
  t.throws(() => addon.imageBatch(d.images, 8, 1, Int32Array.of(0), 8, mean, std, null, 2), { message: /^imageBatch: cutout 2 needs draws/ })
})
