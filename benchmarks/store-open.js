// How long opening an NB-101 store takes, and how much of it is the integrity check (SHA-256
// over every column), for a synthetic store of the official only108 size: 423,624 cells × 32
// columns (5 cell columns + 9 metrics × 1 budget × 3 repeats). Also the cost of the source
// checks of loadNb101 on a 500 MB file: the head/tail fingerprint and a full SHA-256.
//   node benchmarks/store-open.js [cells]      (needs `npm run build`)
'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createHash } = require('node:crypto')
const A = require('apache-arrow')
const store = require('../dist/lib/bench/nb101-store')

const cells = Number(process.argv[2] ?? 423624)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-store-open-'))
try {
  // Sorted distinct hashes, valid cells (a chain input -> conv3x3 ×5 -> output), random metrics.
  const hash = new Uint8Array(cells * 16)
  for (let i = 0; i < cells; i++) {
    const v = i * 2654435761 >>> 0
    hash[i * 16] = i >>> 24; hash[i * 16 + 1] = i >>> 16; hash[i * 16 + 2] = i >>> 8; hash[i * 16 + 3] = i
    for (let k = 4; k < 16; k++) hash[i * 16 + k] = (v >>> (k % 4) * 8) & 255
  }
  const ops = new Uint8Array(cells * 7)
  for (let i = 0; i < cells; i++) ops.set([0, 2, 2, 2, 2, 2, 4], i * 7)
  let chain = 0
  for (let i = 0; i < 6; i++) chain |= 1 << (i * 7 - (i * (i + 1)) / 2)
  const values = () => Float64Array.from({ length: cells }, () => Math.random())
  const valueNames = ['total_time', 'halfway_training_time', 'halfway_train_accuracy', 'halfway_validation_accuracy', 'halfway_test_accuracy',
    'final_training_time', 'final_train_accuracy', 'final_validation_accuracy', 'final_test_accuracy']
  const raw = {
    cells,
    hash,
    vertices: new Uint8Array(cells).fill(7),
    adjacency: new Uint32Array(cells).fill(chain),
    ops,
    trainableParameters: new Int32Array(cells).fill(1234567),
    valueNames,
    slots: [0, 1, 2].map(r => ({ epochs: 108, repeat: r, values: valueNames.map(values) }))
  }
  const metadata = new Map([['nasrank.format', store.NB101_STORE_FORMAT], ['nasrank.version', store.NB101_STORE_VERSION]])
  const table = store.buildStoreTable(raw, metadata)
  table.schema.metadata.set('nasrank.digest', store.nb101StoreDigest(table))
  const file = path.join(dir, 'synthetic.nasrank.arrow')
  fs.writeFileSync(file, A.tableToIPC(table, 'file'))
  const bytes = fs.statSync(file).size

  const runs = 5
  const time = f => { const t0 = process.hrtime.bigint(); f(); return Number(process.hrtime.bigint() - t0) / 1e6 }
  const median = xs => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const open = []; const digest = []
  for (let k = 0; k < runs; k++) {
    let s
    open.push(time(() => { s = store.openNb101Store(file) }))
    digest.push(time(() => store.nb101StoreDigest(s.table)))
  }
  // Source checks on a 500 MB file (page cache warm).
  const src = path.join(dir, 'source.bin')
  const chunk = Buffer.alloc(8 << 20)
  const fd = fs.openSync(src, 'w')
  for (let k = 0; k < 60; k++) { chunk.fill(k); fs.writeSync(fd, chunk) }
  fs.closeSync(fd)
  const srcBytes = fs.statSync(src).size
  const full = []; const headTail = []
  for (let k = 0; k < 3; k++) {
    full.push(time(() => {
      const h = createHash('sha256'); const f = fs.openSync(src, 'r'); const b = Buffer.allocUnsafe(8 << 20); let n
      while ((n = fs.readSync(f, b, 0, b.length, null)) > 0) h.update(b.subarray(0, n))
      fs.closeSync(f); h.digest('hex')
    }))
    headTail.push(time(() => {
      const h = createHash('sha256'); const f = fs.openSync(src, 'r'); const b = Buffer.allocUnsafe(1 << 20)
      fs.readSync(f, b, 0, b.length, 0); h.update(b); fs.readSync(f, b, 0, b.length, srcBytes - b.length); h.update(b)
      fs.closeSync(f); h.digest('hex')
    }))
  }
  const result = {
    cells,
    columns: table.numCols,
    storeBytes: bytes,
    openMs: median(open),
    digestMs: median(digest),
    digestMBps: Math.round(bytes / 1e6 / (median(digest) / 1e3)),
    sourceBytes: srcBytes,
    sourceFullSha256Ms: median(full),
    sourceHeadTailMs: median(headTail),
    cpu: os.cpus()[0]?.model,
    runs
  }
  console.log(`store: ${cells} cells × ${table.numCols} columns, ${(bytes / 1e6).toFixed(1)} MB`)
  console.log(`  openNb101Store ${result.openMs.toFixed(0)} ms (median of ${runs}), of which the SHA-256 integrity check ${result.digestMs.toFixed(0)} ms (${result.digestMBps} MB/s)`)
  console.log(`source ${(srcBytes / 1e6).toFixed(0)} MB: full SHA-256 ${result.sourceFullSha256Ms.toFixed(0)} ms, head+tail MiB fingerprint ${result.sourceHeadTailMs.toFixed(1)} ms`)
  console.log(JSON.stringify(result))
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
