'use strict'
// The MIP trainer's batch preparation (issue §5 `imageBatch`): gather → area resize → crop with
// zero padding + horizontal flip → normalise → cutout, Float32 NHWC out. nasrank's native kernel
// (lib/bpe/images.ts `prepareBatch`, native/images.cc) at 1 and 2 threads against, in the same
// run, the JavaScript reference (`prepareBatchJs`, the same bits) and the same pipeline written
// in batched tfjs-wasm ops (gather, avgPool, pad, crop + flip as one gather with indices from
// range tensors, normalise, a cutout mask from range comparisons). Each row checks that the
// native output equals the reference bit for bit, and reports the tfjs output's largest
// difference (float32 rounding of its average pooling).
//
// Cases: the CPU preset's extremes on Fashion-MNIST (28 px, one channel; the shipped subset) and
// the paper preset's CIFAR-10 shape (32 px, 3 channels; random bytes, labelled: only the shape
// matters for the time). Times are the best of --repeat runs (wall) and CPU ms per batch.
// Run: npm run build && node benchmarks/images.js [--repeat 20]
const { machine, printTable } = require('./peers')
const { initTfBackend } = require('../dist/lib/models/backend')
const { openImageData } = require('../dist/lib/data/idx')
const { prepareBatch, prepareBatchJs } = require('../dist/lib/bpe/images')
const { Random } = require('../dist/lib/random')

const repeat = Number(process.argv[process.argv.indexOf('--repeat') + 1]) || 20

function cifarShaped () {
  const n = 2048
  const r = new Random(11)
  return {
    label: 'random bytes, CIFAR-10 shape', n, height: 32, width: 32, channels: 3, classes: 10,
    images: Uint8Array.from({ length: n * 32 * 32 * 3 }, () => r.int(256)),
    labels: new Uint8Array(n), mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616]
  }
}

// The same pipeline in tfjs ops; draws made from rng in the reference's order.
function tfjsBatch (tf, images, data, idx, o, rng) {
  const s = o.image; const f = data.height / s; const c = data.channels
  const pad = Math.floor(s / 8)
  const draws = []
  for (let b = 0; b < idx.length; b++) {
    const d = [rng.int(2 * pad + 1), rng.int(2 * pad + 1), rng.float() < 0.5]
    if (o.cutout > 0) d.push(rng.int(s), rng.int(s))
    draws.push(d)
  }
  return tf.tidy(() => {
    let x = tf.cast(tf.gather(images, tf.tensor1d(idx, 'int32')), 'float32')
    if (f > 1) x = tf.avgPool(x, f, f, 'valid')
    x = tf.div(x, 255)
    // Crop + flip as one gather: output pixel (b, y, x) reads the padded image at
    // (b, y + oy_b, (flip_b ? s − 1 − x : x) + ox_b), indices built from range tensors.
    const side = s + 2 * pad
    const padded = pad > 0 ? tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : x
    const B = idx.length
    const r = tf.range(0, s, 1, 'int32').reshape([1, s])
    const oy = tf.tensor2d(draws.map(d => d[0]), [B, 1], 'int32'); const ox = tf.tensor2d(draws.map(d => d[1]), [B, 1], 'int32')
    const fl = tf.tensor2d(draws.map(d => d[2] ? 1 : 0), [B, 1], 'int32')
    const rows = tf.add(r, oy)
    const int = v => tf.scalar(v, 'int32')
    const cols = tf.add(tf.add(tf.mul(fl, tf.sub(int(s - 1), tf.mul(r, int(2)))), r), ox)
    const base = tf.mul(tf.range(0, B, 1, 'int32'), int(side * side)).reshape([B, 1, 1])
    const flat = tf.add(tf.add(base, tf.mul(rows, int(side)).reshape([B, s, 1])), cols.reshape([B, 1, s]))
    x = tf.gather(padded.reshape([B * side * side, c]), flat.reshape([-1])).reshape([B, s, s, c])
    x = tf.div(tf.sub(x, tf.tensor1d(data.mean)), tf.tensor1d(data.std))
    if (o.cutout > 0) {
      const h = Math.floor(o.cutout / 2)
      const range = tf.range(0, s).reshape([1, s])
      const cy = tf.tensor2d(draws.map(d => d[3]), [idx.length, 1]); const cx = tf.tensor2d(draws.map(d => d[4]), [idx.length, 1])
      const inY = tf.logicalAnd(tf.greaterEqual(range, tf.sub(cy, h)), tf.less(range, tf.add(cy, h)))
      const inX = tf.logicalAnd(tf.greaterEqual(range, tf.sub(cx, h)), tf.less(range, tf.add(cx, h)))
      const hole = tf.mul(tf.cast(inY, 'float32').reshape([idx.length, s, 1, 1]), tf.cast(inX, 'float32').reshape([idx.length, 1, s, 1]))
      x = tf.mul(x, tf.sub(1, hole))
    }
    return x.dataSync()
  })
}

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }
function measure (fn) {
  fn(0)
  let best = Infinity; let cpu = 0
  for (let k = 1; k <= repeat; k++) {
    const c0 = cpuMs(); const t0 = performance.now()
    fn(k)
    best = Math.min(best, performance.now() - t0); cpu += cpuMs() - c0
  }
  return { wall: best, cpu: cpu / repeat }
}

async function main () {
  const { tf, backend, wasm } = await initTfBackend({ backend: 'wasm' })
  const fashion = openImageData('fashion-mnist')
  const cifar = cifarShaped()
  const cases = [
    { name: 'CPU preset cheapest: 64 × 14 px (Fashion-MNIST 28 px)', data: fashion, batch: 64, image: 14, cutout: 0 },
    { name: 'CPU preset largest: 128 × 28 px, cutout 14 (Fashion-MNIST)', data: fashion, batch: 128, image: 28, cutout: 14 },
    { name: 'paper preset: 256 × 16 px, cutout 16 (CIFAR-10 shape)', data: cifar, batch: 256, image: 16, cutout: 16 },
    { name: 'paper preset: 1024 × 32 px, cutout 16 (CIFAR-10 shape)', data: cifar, batch: 1024, image: 32, cutout: 16 }
  ]
  console.log(`Machine: ${machine()}; tfjs ${tf.version.tfjs} ${backend} (SIMD ${wasm.simd}, threads ${wasm.threads}); best wall of ${repeat} runs, mean CPU`)
  const rows = []
  for (const c of cases) {
    const d = c.data
    const images = tf.tensor4d(d.images, [d.n, d.height, d.width, d.channels], 'int32')
    const idxOf = k => Int32Array.from({ length: c.batch }, (_, i) => (i * 131 + k * 977) % d.n)
    const o = { image: c.image, augment: true, cutout: c.cutout }
    const native1 = measure(k => prepareBatch(d, idxOf(k), o, new Random(k), { threads: 1 }))
    const native2 = measure(k => prepareBatch(d, idxOf(k), o, new Random(k), { threads: 2 }))
    const js = measure(k => prepareBatchJs(d, idxOf(k), o, new Random(k)))
    const tfjs = measure(k => tfjsBatch(tf, images, d, idxOf(k), o, new Random(k)))
    const a = prepareBatch(d, idxOf(5), o, new Random(5)); const ref = prepareBatchJs(d, idxOf(5), o, new Random(5))
    const t = tfjsBatch(tf, images, d, idxOf(5), o, new Random(5))
    const same = Buffer.from(a.buffer).equals(Buffer.from(ref.buffer))
    if (!same) throw new Error(`${c.name}: the native batch differs from the reference`)
    let diff = 0
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - t[i]))
    images.dispose()
    const f = v => v.toFixed(v < 1 ? 3 : v < 10 ? 2 : 1)
    rows.push({
      case: c.name,
      'native 1 thr ms (CPU)': `${f(native1.wall)} (${f(native1.cpu)})`,
      'native 2 thr ms (CPU)': `${f(native2.wall)} (${f(native2.cpu)})`,
      'JS reference ms': f(js.wall),
      'tfjs-wasm ms (CPU)': `${f(tfjs.wall)} (${f(tfjs.cpu)})`,
      'tfjs / native 1 thr': `${(tfjs.wall / native1.wall).toFixed(1)}× (CPU ${(tfjs.cpu / native1.cpu).toFixed(1)}×)`,
      'JS / native 1 thr': `${(js.wall / native1.wall).toFixed(1)}×`,
      'native = JS bits': same ? 'yes' : 'NO',
      'tfjs max |diff|': diff.toExponential(1)
    })
  }
  printTable('Batch preparation (issue §5 imageBatch: ≥ 5× tfjs-wasm ops, bit-identical to the JS reference)',
    ['case', 'native 1 thr ms (CPU)', 'native 2 thr ms (CPU)', 'JS reference ms', 'tfjs-wasm ms (CPU)', 'tfjs / native 1 thr', 'JS / native 1 thr', 'native = JS bits', 'tfjs max |diff|'], rows)
}

main().catch(err => { console.error(err); process.exit(1) })
