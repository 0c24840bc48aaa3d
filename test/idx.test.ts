// IDX reader: round trip, gzip, and every malformed case naming the file and the byte offset;
// the shipped Fashion-MNIST subset opens and matches its README.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { encodeIdx, imageSetFromIdx, openImageData, parseIdx, readIdx, IdxError } from '../lib/data/idx'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-idx-'))
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
const write = (name: string, bytes: Uint8Array): string => { const f = path.join(dir, name); fs.writeFileSync(f, bytes); return f }

t.test('round trip, plain and gzip', async t => {
  const data = Uint8Array.from({ length: 3 * 4 * 5 }, (_, i) => (i * 37) & 255)
  const bytes = encodeIdx([3, 4, 5], data)
  t.same([...bytes.subarray(0, 8)], [0, 0, 8, 3, 0, 0, 0, 3])
  for (const f of [write('a.idx', bytes), write('a.idx.gz', zlib.gzipSync(bytes))]) {
    const r = readIdx(f)
    t.same(r.dims, [3, 4, 5])
    t.same([...r.data], [...data])
  }
})

t.test('malformed files name the file and the offset', async t => {
  const good = encodeIdx([2, 2, 2], new Uint8Array(8))
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['short', Uint8Array.of(0, 0), /short\.idx: 2 bytes.*offset 2/],
    ['magic', Uint8Array.from([1, 0, 8, 1, 0, 0, 0, 1, 0]), /magic\.idx: bad IDX magic at offset 0/],
    ['type', Uint8Array.from([0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]), /type\.idx: IDX type byte at offset 2 is 0x0d/],
    ['ndim', Uint8Array.from([0, 0, 8, 0]), /ndim\.idx: IDX dimension count at offset 3 is 0/],
    ['header', Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2]), /header\.idx: the header ends at offset 8; 3 dimensions need 16 bytes/],
    ['zero', encodeIdx([0], new Uint8Array(0)), /zero\.idx: dimension 0 at offset 4 is 0/],
    ['truncated', good.subarray(0, good.length - 3), /truncated\.idx: .*the data ends at offset 21, expected 24/],
    ['long', Uint8Array.from([...good, 9, 9]), /long\.idx: .*2 extra bytes from offset 24/]
  ]
  for (const [name, bytes, re] of cases) t.throws(() => readIdx(write(`${name}.idx`, bytes)), re, name)
  t.throws(() => readIdx(path.join(dir, 'absent.idx')), /absent\.idx: cannot read/)
  t.throws(() => readIdx(write('bad.gz', Uint8Array.from([0x1f, 0x8b, 1, 2, 3]))), /bad\.gz: gzip data is corrupt/)
  t.throws(() => parseIdx(Uint8Array.of(1), 'x'), IdxError)
})

t.test('image and label files are checked against each other', async t => {
  const im = write('im.idx', encodeIdx([3, 2, 2], new Uint8Array(12)))
  t.throws(() => imageSetFromIdx(im, write('l2.idx', encodeIdx([2], new Uint8Array(2))), 'x'), /l2\.idx: 2 labels for 3 images/)
  t.throws(() => imageSetFromIdx(im, write('l3.idx', encodeIdx([3], Uint8Array.of(0, 10, 1))), 'x'), /l3\.idx: label 10 at offset 9 is not below 10/)
  t.throws(() => imageSetFromIdx(write('flat.idx', encodeIdx([12], new Uint8Array(12))), im, 'x'), /flat\.idx: images need 3 dimensions/)
  const set = imageSetFromIdx(im, write('l.idx', encodeIdx([3], Uint8Array.of(0, 9, 1))), 'x')
  t.equal(set.n, 3); t.equal(set.height, 2); t.equal(set.channels, 1)
  fs.mkdirSync(path.join(dir, 'fm'))
  fs.copyFileSync(im, path.join(dir, 'fm', 'train-images-idx3-ubyte'))
  fs.copyFileSync(path.join(dir, 'l.idx'), path.join(dir, 'fm', 'train-labels-idx1-ubyte'))
  t.equal(openImageData(`fashion-mnist:${path.join(dir, 'fm')}`).n, 3)
  t.throws(() => openImageData(`fashion-mnist:${dir}`), /train-images-idx3-ubyte\[\.gz\]: no such file/)
  t.throws(() => openImageData('cifar7'), /--data: unknown data set 'cifar7'/)
})

t.test('the shipped subset', async t => {
  const set = openImageData('fashion-mnist')
  t.equal(set.n, 8000); t.equal(set.height, 28); t.equal(set.width, 28)
  const readme = fs.readFileSync(path.join(__dirname, '..', 'data', 'fashion-mnist-subset', 'README.md'), 'utf8')
  const counts = Array.from({ length: 10 }, (_, c) => set.labels.filter(l => l === c).length)
  t.match(readme, counts.join(', '), 'class counts as the README says')
  t.match(fs.readFileSync(path.join(__dirname, '..', 'data', 'fashion-mnist-subset', 'LICENSE'), 'utf8'), /Copyright © 2017 Zalando SE/)
  let sum = 0
  for (const v of set.images) sum += v
  t.ok(Math.abs(sum / set.images.length / 255 - 0.286) < 0.01, 'pixel mean near Fashion-MNIST\'s 0.2860')
})
