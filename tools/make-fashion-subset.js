#!/usr/bin/env node
// Writes a seeded subset of the Fashion-MNIST training file (data/fashion-mnist-subset, shipped
// in the package) from the full IDX files, e.g. those of Debian's dataset-fashion-mnist:
//   apt-get download dataset-fashion-mnist && dpkg-deb -x dataset-fashion-mnist_*.deb x
//   npm run build && node tools/make-fashion-subset.js x/usr/share/datasets/fashion-mnist [--n 8000] [--seed 0] [--out data/fashion-mnist-subset]
// The subset: n distinct images drawn uniformly without replacement (seeded xoshiro128**),
// kept in their file order, gzip-compressed IDX, with the MIT notice of Fashion-MNIST.
'use strict'
const fs = require('node:fs')
const path = require('node:path')
const zlib = require('node:zlib')
const { fashionFiles, readIdx, encodeIdx } = require('../dist/lib/data/idx')
const { Random } = require('../dist/lib/random')

function main (argv) {
  const args = { n: 8000, seed: 0, out: path.join(__dirname, '..', 'data', 'fashion-mnist-subset') }
  const rest = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--n' || a === '--seed' || a === '--out') {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`)
      args[a.slice(2)] = a === '--out' ? argv[++i] : Number(argv[++i])
    } else rest.push(a)
  }
  if (rest.length !== 1) throw new Error('usage: make-fashion-subset <dir with train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz]> [--n 8000] [--seed 0] [--out DIR]')
  if (!Number.isInteger(args.n) || args.n < 1) throw new Error(`--n must be a positive integer, got ${args.n}`)
  if (!Number.isSafeInteger(args.seed) || args.seed < 0) throw new Error(`--seed must be an integer ≥ 0, got ${args.seed}`)
  const files = fashionFiles(rest[0])
  const im = readIdx(files.images)
  const lb = readIdx(files.labels)
  const total = im.dims[0]
  if (lb.dims[0] !== total) throw new Error(`${files.labels}: ${lb.dims[0]} labels for ${total} images`)
  if (args.n > total) throw new Error(`--n ${args.n} is above the ${total} images of ${files.images}`)
  const order = new Random(args.seed).shuffle(Int32Array.from({ length: total }, (_, i) => i)).subarray(0, args.n).sort()
  const px = im.dims[1] * im.dims[2]
  const images = new Uint8Array(args.n * px)
  const labels = new Uint8Array(args.n)
  order.forEach((src, k) => { images.set(im.data.subarray(src * px, (src + 1) * px), k * px); labels[k] = lb.data[src] })
  fs.mkdirSync(args.out, { recursive: true })
  const gz = b => zlib.gzipSync(b, { level: 9, mtime: 0 })
  fs.writeFileSync(path.join(args.out, 'train-images-idx3-ubyte.gz'), gz(encodeIdx([args.n, im.dims[1], im.dims[2]], images)))
  fs.writeFileSync(path.join(args.out, 'train-labels-idx1-ubyte.gz'), gz(encodeIdx([args.n], labels)))
  const counts = Array.from({ length: 10 }, (_, c) => labels.filter(l => l === c).length)
  fs.writeFileSync(path.join(args.out, 'README.md'), [
    '# Fashion-MNIST subset',
    '',
    `${args.n} of the ${total} images of Fashion-MNIST's training file (train-images-idx3-ubyte), drawn uniformly`,
    `without replacement with seed ${args.seed} by tools/make-fashion-subset.js (nasrank's xoshiro128**), kept in file order,`,
    'as gzip-compressed IDX files. Source: Debian package dataset-fashion-mnist (upstream',
    'https://github.com/zalandoresearch/fashion-mnist, commit 55506a9). Images per class 0–9:',
    `${counts.join(', ')}.`,
    '',
    'Fashion-MNIST: Han Xiao, Kashif Rasul, Roland Vollgraf, "Fashion-MNIST: a Novel Image Dataset for',
    'Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017. Licence: LICENSE (MIT).',
    ''
  ].join('\n'))
  fs.writeFileSync(path.join(args.out, 'LICENSE'), `The MIT License (MIT)

Copyright © 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
`)
  console.log(`wrote ${args.n} images (classes ${counts.join('/')}) to ${args.out}`)
}

try {
  main(process.argv.slice(2))
} catch (err) {
  console.error(`make-fashion-subset: ${err.message}`)
  process.exit(1)
}
