// CIFAR-10 binary reader (lib/data/cifar.ts) on files the test writes: planar RGB → NHWC,
// labels, every malformed case naming the file and the byte offset, `--data cifar10:<dir>`;
// the trainer takes 3-channel data (a short real training, FLOPs with 3 input channels).
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { CIFAR10_MEAN, CIFAR10_STD, CIFAR_RECORD, readCifar10, readCifarBatches } from '../lib/data/cifar'
import { openImageData } from '../lib/data/idx'
import { initTfBackend } from '../lib/models/backend'
import { trainerBpe } from '../lib/bpe/trainer-bpe'
import { parseOmega, settingFromValues } from '../lib/bpe/omega'
import { skeletonTrainingFlops } from '../lib/bpe/evaluators'

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-cifar-'))
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }))

/** n records; label (k + seed) % 10; pixel (channel c, y, x) = (k·7 + c·50 + y·3 + x) & 255, except class-dependent brightness in red. */
function batch (n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * CIFAR_RECORD)
  for (let k = 0; k < n; k++) {
    const at = k * CIFAR_RECORD
    const label = (k + seed) % 10
    out[at] = label
    for (let c = 0; c < 3; c++) for (let p = 0; p < 1024; p++) out[at + 1 + c * 1024 + p] = c === 0 ? (label * 25 + (p & 7)) & 255 : (k * 7 + c * 50 + (p >> 5) * 3 + (p & 31)) & 255
  }
  return out
}

function writeSet (dir: string, perFile: number): void {
  fs.mkdirSync(dir, { recursive: true })
  for (let i = 1; i <= 5; i++) fs.writeFileSync(path.join(dir, `data_batch_${i}.bin`), batch(perFile, i))
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), batch(perFile, 0))
}

t.test('reads the five training batches into NHWC, 3 channels, DARTS normalisation', async t => {
  const dir = path.join(root, 'ok')
  writeSet(dir, 4)
  const d = readCifar10(dir)
  t.equal(d.n, 20); t.equal(d.channels, 3); t.equal(d.height, 32); t.equal(d.width, 32); t.equal(d.classes, 10)
  t.same(d.mean, CIFAR10_MEAN); t.same(d.std, CIFAR10_STD)
  // Record k of file i (0-based file f): label (k + f + 1) % 10; pixel (y, x, c) from the planes.
  const raw = batch(4, 3)
  for (const [k, y, x] of [[0, 0, 0], [2, 5, 17], [3, 31, 31]]) {
    const img = 2 * 4 + k // third file
    t.equal(d.labels[img], raw[k * CIFAR_RECORD])
    for (let c = 0; c < 3; c++) t.equal(d.images[((img * 32 + y) * 32 + x) * 3 + c], raw[k * CIFAR_RECORD + 1 + c * 1024 + y * 32 + x], `image ${img} (${y}, ${x}) channel ${c}`)
  }
  const test = readCifar10(dir, 'test')
  t.equal(test.n, 4); t.match(test.label, /^cifar10-test:/)
  const viaSpec = openImageData(`cifar10:${dir}`)
  t.equal(viaSpec.n, 20); t.match(viaSpec.label, /^cifar10:\//)
  t.same([...viaSpec.images.subarray(0, 300)], [...d.images.subarray(0, 300)])
})

t.test('malformed and missing files name the file and the offset', async t => {
  const dir = path.join(root, 'bad')
  writeSet(dir, 2)
  const f = (name: string, bytes: Uint8Array): string => { const p = path.join(dir, name); fs.writeFileSync(p, bytes); return p }
  const good = batch(2, 0)
  t.throws(() => readCifarBatches([f('cut.bin', good.subarray(0, CIFAR_RECORD + 100))], 'x'), /cut\.bin: 3173 bytes is not a whole number of 3073-byte records: record 1 starting at offset 3073 is cut after 100 bytes/)
  const badLabel = Uint8Array.from(good); badLabel[CIFAR_RECORD] = 10
  t.throws(() => readCifarBatches([f('label.bin', badLabel)], 'x'), /label\.bin: label 10 of record 1 at offset 3073 is not in 0 … 9/)
  t.throws(() => readCifarBatches([f('empty.bin', new Uint8Array(0))], 'x'), /empty\.bin: empty file \(offset 0\)/)
  t.throws(() => readCifarBatches([path.join(dir, 'absent.bin')], 'x'), /absent\.bin: cannot read/)
  fs.writeFileSync(path.join(dir, 'data_batch_4.bin'), badLabel)
  t.throws(() => readCifar10(dir), /data_batch_4\.bin: label 10 of record 1 at offset 3073/)
  fs.rmSync(path.join(dir, 'data_batch_3.bin'))
  t.throws(() => readCifar10(dir), /data_batch_3\.bin: no such file \(expected the CIFAR-10 binary version/)
  t.throws(() => openImageData('cifar10:'), /cifar10:<dir> needs the folder/)
  t.throws(() => openImageData('cifar100:x'), /unknown data set 'cifar100:x' \(fashion-mnist, fashion-mnist:<dir>, cifar10:<dir>\)/)
})

t.test('the trainer takes 3-channel data: a short real training; FLOPs with 3 input channels', async t => {
  const dir = path.join(root, 'train')
  writeSet(dir, 30)
  const data = readCifar10(dir)
  const { tf } = await initTfBackend({ backend: 'wasm' })
  t.throws(() => trainerBpe(tf, { data, trainImages: 100, val: 50 }), /--omega image: image 14 does not divide cifar10:.*side 32/, 'the Fashion-MNIST preset does not fit 32 px')
  const ev = trainerBpe(tf, { data, omega: parseOmega('epochs=1;batch=32;channels=4;layers=1;image=8,16'), trainImages: 100, val: 50, full: { epochs: 2, image: 16, channels: 4, layers: 1 } })
  const s = settingFromValues(ev.omega, { epochs: 1, batch: 32, channels: 4, layers: 1, image: 8 })
  const e = await ev.evaluate(s, Int32Array.of(ev.pool[5]))
  t.ok(e.accuracy[0] >= 0 && e.accuracy[0] <= 100)
  t.ok(e.costs !== undefined && e.costs[0] > 0)
  const v = { epochs: 1, batch: 32, lr: 0.05, layers: 1, fp: 32, channels: 4, cutout: 0, image: 8 }
  t.equal(ev.flops(s), skeletonTrainingFlops(v, 1, { inChannels: 3, classes: 10 }))
  const fashionLike = skeletonTrainingFlops(v, 1, { inChannels: 1, classes: 10 })
  t.ok(ev.flops(s) > fashionLike, 'the stem sees 3 input channels')
})
