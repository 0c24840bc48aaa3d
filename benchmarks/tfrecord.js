'use strict'
// NAS-Bench-101 TFRecord ingest: nasrank's native reader + Arrow store vs a plain
// JavaScript reader and a pure-Python reader (no tensorflow), on a generated file shaped
// like nasbench_only108.tfrecord (~500 MB, 3 repeats per cell at 108 epochs). The file is
// generated in a temporary folder and deleted afterwards. Each reader runs in its own child
// process (so peak memory is its own).
// Usage: node benchmarks/tfrecord.js [--mb 500] [--py-mb 24] [--json out.json] [--keep]
const { spawnSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { machine, printTable, fmt, ratio, rng, findPython, cliArgs } = require('./peers')

const args = process.argv.slice(2)
const { value: arg, flag } = cliArgs(args)

// ---- the plain JavaScript peer: same work (CRC, JSON, base64, protobuf, pivot by hash) ----
function jsCrcTables () {
  const t = Array.from({ length: 8 }, () => new Int32Array(256))
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82F63B78 : c >>> 1
    t[0][i] = c
  }
  for (let i = 0; i < 256; i++) for (let s = 1; s < 8; s++) t[s][i] = (t[s - 1][i] >>> 8) ^ t[0][t[s - 1][i] & 0xFF]
  return t
}
const T = jsCrcTables()
function jsCrc32c (b, start, end) { // slicing-by-8
  let c = -1
  let p = start
  for (; p + 8 <= end; p += 8) {
    const lo = (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) ^ c
    c = T[7][lo & 255] ^ T[6][(lo >>> 8) & 255] ^ T[5][(lo >>> 16) & 255] ^ T[4][lo >>> 24] ^
      T[3][b[p + 4]] ^ T[2][b[p + 5]] ^ T[1][b[p + 6]] ^ T[0][b[p + 7]]
  }
  for (; p < end; p++) c = (c >>> 8) ^ T[0][(c ^ b[p]) & 255]
  return ~c >>> 0
}
const mask = c => ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0
const OPS = { input: 0, 'conv1x1-bn-relu': 1, 'conv3x3-bn-relu': 2, maxpool3x3: 3, output: 4 }

function decodeMetrics (buf) {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  let p = 0
  const varint = () => { let x = 0; let s = 1; for (;;) { const b = buf[p++]; x += (b & 127) * s; if (b < 128) return x; s *= 128 } }
  const evals = []
  let params = 0; let time = 0
  while (p < buf.length) {
    const tag = varint(); const field = tag >>> 3; const wire = tag & 7
    if (field === 1 && wire === 2) {
      const len = varint(); const end = p + len; const e = {}
      while (p < end) {
        const t2 = varint(); const f = t2 >>> 3; const w = t2 & 7
        if (w === 1) { e[f] = dv.getFloat64(p, true); p += 8 } else if (w === 2) p += varint(); else if (w === 0) varint(); else if (w === 5) p += 4
      }
      evals.push(e)
    } else if (field === 2) params = varint()
    else if (field === 3) { time = dv.getFloat64(p, true); p += 8 } else if (wire === 2) p += varint(); else if (wire === 0) varint(); else if (wire === 1) p += 8; else if (wire === 5) p += 4
  }
  return { evals, params, time }
}

function jsReader (file) {
  const fd = fs.openSync(file, 'r')
  const chunk = 8 << 20
  let buf = Buffer.alloc(chunk)
  let start = 0; let end = 0; let records = 0; let sum = 0
  const cells = new Map()
  for (;;) {
    if (end - start < 12 || end - start < 16 + Number(buf.readBigUInt64LE(start))) {
      buf.copy(buf, 0, start, end); end -= start; start = 0
      const need = end >= 12 ? 16 + Number(buf.readBigUInt64LE(0)) : 12
      if (need > buf.length) { const b = Buffer.alloc(need); buf.copy(b, 0, 0, end); buf = b }
      const n = fs.readSync(fd, buf, end, buf.length - end, null)
      end += n
      if (n === 0) { if (end > 0) throw new Error('truncated'); break }
      continue
    }
    const len = Number(buf.readBigUInt64LE(start))
    if (mask(jsCrc32c(buf, start, start + 8)) !== buf.readUInt32LE(start + 8)) throw new Error('length crc')
    if (mask(jsCrc32c(buf, start + 12, start + 12 + len)) !== buf.readUInt32LE(start + 12 + len)) throw new Error('crc')
    const [hash, epochs, adjacency, operations, metrics] = JSON.parse(buf.toString('utf8', start + 12, start + 12 + len))
    const m = decodeMetrics(Buffer.from(metrics, 'base64'))
    let c = cells.get(hash)
    if (!c) {
      const V = Math.round(Math.sqrt(adjacency.length)); let bits = 0
      for (let i = 0; i < V; i++) for (let j = i + 1; j < V; j++) if (adjacency[i * V + j] === '1') bits |= 1 << (i * 7 - i * (i + 1) / 2 + (j - i - 1))
      c = { V, bits, ops: operations.split(',').map(o => OPS[o]), params: m.params, runs: [] }
      cells.set(hash, c)
    }
    const h = m.evals[1]; const f = m.evals[2]
    c.runs.push([epochs, m.time, h[2], h[3], h[4], h[5], f[2], f[3], f[4], f[5]])
    sum += f[5]
    records++
    start += 16 + len
  }
  fs.closeSync(fd)
  return { records, cells: cells.size, sum }
}

// ---- the pure-Python peer (no tensorflow, no protobuf package) ----
const PY_READER = String.raw`
import base64, json, struct, sys, time
POLY = 0x82F63B78
TABLE = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    TABLE.append(c)
def crc32c(data):
    c = 0xFFFFFFFF
    t = TABLE
    for b in data:
        c = (c >> 8) ^ t[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF
def mask(c):
    return (((c >> 15) | (c << 17)) + 0xa282ead8) & 0xFFFFFFFF
def varint(b, p):
    x = s = 0
    while True:
        v = b[p]; p += 1; x |= (v & 127) << s; s += 7
        if v < 128: return x, p
def metrics(b):
    p = 0; evals = []; params = 0; total = 0.0
    while p < len(b):
        tag, p = varint(b, p); f, w = tag >> 3, tag & 7
        if f == 1 and w == 2:
            n, p = varint(b, p); end = p + n; e = {}
            while p < end:
                t2, p = varint(b, p); f2, w2 = t2 >> 3, t2 & 7
                if w2 == 1: e[f2] = struct.unpack_from('<d', b, p)[0]; p += 8
                elif w2 == 2: n2, p = varint(b, p); p += n2
                elif w2 == 0: _, p = varint(b, p)
                else: p += 4
            evals.append(e)
        elif f == 2: params, p = varint(b, p)
        elif f == 3: total = struct.unpack_from('<d', b, p)[0]; p += 8
        elif w == 2: n, p = varint(b, p); p += n
        elif w == 0: _, p = varint(b, p)
        elif w == 1: p += 8
        else: p += 4
    return evals, params, total
limit = int(sys.argv[2])
t0 = time.perf_counter()
c0 = time.process_time()
cells = {}; records = 0; done = 0; total_sum = 0.0
with open(sys.argv[1], 'rb') as fh:
    while done < limit:
        head = fh.read(12)
        if len(head) < 12: break
        (n,) = struct.unpack('<Q', head[:8])
        if mask(crc32c(head[:8])) != struct.unpack('<I', head[8:])[0]: raise SystemExit('length crc')
        payload = fh.read(n); (stored,) = struct.unpack('<I', fh.read(4))
        if mask(crc32c(payload)) != stored: raise SystemExit('crc')
        h, epochs, adj, ops, m = json.loads(payload)
        evals, params, total = metrics(base64.b64decode(m, validate=True))
        cells.setdefault(h, []).append((epochs, total, evals[1], evals[2]))
        total_sum += evals[2][5]
        records += 1; done += 16 + n
print(json.dumps({"seconds": time.perf_counter() - t0, "cpuSeconds": time.process_time() - c0, "bytes": done, "records": records, "sum": total_sum}))
`

// ---- child modes ----
async function child (mode, file, extra) {
  const t0 = process.hrtime.bigint()
  const c0 = process.cpuUsage()
  const cpuSeconds = () => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6 }
  let out
  if (mode === 'native') {
    const m = require('..')
    const store = extra
    const res = await m.convertNb101(file, store, { progress: process.stderr.isTTY ? true : false })
    const cpu = cpuSeconds()
    const o0 = process.hrtime.bigint()
    const s = m.openNb101Store(store)
    const openMs = Number(process.hrtime.bigint() - o0) / 1e6
    const c0 = process.hrtime.bigint()
    const col = s.column('final_test_accuracy', { repeat: 0 })
    const columnMs = Number(process.hrtime.bigint() - c0) / 1e6
    const cm0 = process.hrtime.bigint()
    const mean = s.column('final_test_accuracy')
    const meanMs = Number(process.hrtime.bigint() - cm0) / 1e6
    const rand = rng(1)
    const hashes = Array.from({ length: 100000 }, () => s.hashAt(Math.floor(rand() * s.count)))
    const q0 = process.hrtime.bigint()
    let acc = 0
    for (const h of hashes) acc += s.query(h, { metric: 'final_test_accuracy', repeat: 1 })
    const queryUs = Number(process.hrtime.bigint() - q0) / 1e3 / hashes.length
    let sum = 0
    for (let r = 0; r < s.repeats; r++) for (const v of s.column('final_test_accuracy', { repeat: r })) if (v === v) sum += v
    out = { seconds: res.seconds, cpuSeconds: cpu, ingestSeconds: res.ingestSeconds, records: res.records, cells: res.cells, sum, storeBytes: res.storeBytes,
      openMs, columnMs, meanMs, queryUs, check: acc + col[0] + mean[0], hardwareCrc: m.nativeInfo().cpu.sse42 }
  } else if (mode === 'js') {
    const r = jsReader(file)
    out = { ...r, seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpuSeconds: cpuSeconds() }
  }
  out.maxRssMB = process.resourceUsage().maxRSS / 1024
  process.stdout.write(JSON.stringify(out) + '\n')
}

function runChild (mode, file, extra) {
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', __filename, '--child', mode, file, extra || ''], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 })
  if (r.status !== 0) throw new Error(`${mode} reader failed (exit ${r.status})`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

// ---- generation ----
function generate (file, targetBytes) {
  const m = require('..')
  const rand = rng(42)
  const labels = ['conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3']
  const w = new m.TfRecordWriter(file, { bufferBytes: 8 << 20 })
  const hex = () => { let s = ''; for (let k = 0; k < 4; k++) s += Math.floor(rand() * 2 ** 32).toString(16).padStart(8, '0'); return s }
  let cells = 0
  try {
    while (w.bytes < targetBytes) {
      // Mostly 7-vertex cells, as in NAS-Bench-101 (V < 7 after pruning for the rest).
      const V = rand() < 0.85 ? 7 : 3 + Math.floor(rand() * 4)
      let adj = ''
      for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) adj += j > i && rand() < 0.35 ? '1' : '0'
      const ops = ['input']
      for (let k = 1; k < V - 1; k++) ops.push(labels[Math.floor(rand() * 3)])
      ops.push('output')
      const hash = hex()
      const params = 200000 + Math.floor(rand() * 5e7)
      for (let r = 0; r < 3; r++) {
        const ev = e => ({ currentEpoch: e, trainingTime: rand() * 3000, trainAccuracy: rand(), validationAccuracy: rand(), testAccuracy: rand() })
        w.writeNb101({ hash, epochs: 108, adjacency: adj, operations: ops, metrics: { evaluationData: [ev(0), ev(54), ev(108)], trainableParameters: params, totalTime: rand() * 4000 } })
      }
      cells++
    }
  } catch (err) {
    w.abort()
    throw err
  }
  w.close()
  return cells
}

async function main () {
  const mb = Number(arg('--mb', '500'))
  const pyMb = Number(arg('--py-mb', '24'))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-tfrecord-bench-'))
  const cleanup = () => { if (!flag('--keep')) fs.rmSync(dir, { recursive: true, force: true }) }
  process.on('SIGINT', () => { cleanup(); process.exit(130) })
  try {
    const file = path.join(dir, 'nasbench_generated.tfrecord')
    const g0 = Date.now()
    const cells = generate(file, mb * 1e6)
    const size = fs.statSync(file).size
    console.log(`machine: ${machine()}`)
    console.log(`generated ${(size / 1e6).toFixed(1)} MB (${cells} cells x 3 repeats) in ${((Date.now() - g0) / 1000).toFixed(1)} s; timings are provisional (2 cores shared with other users)`)
    // Warm the page cache so every reader sees the same (cached) file.
    const fd = fs.openSync(file, 'r'); const scratch = Buffer.alloc(8 << 20)
    while (fs.readSync(fd, scratch, 0, scratch.length, null) > 0);
    fs.closeSync(fd)

    const native = runChild('native', file, path.join(dir, 'store.arrow'))
    const js = runChild('js', file)
    const python = findPython([])
    let py = null
    if (python) {
      const r = spawnSync(python, ['-c', PY_READER, file, String(pyMb * 1e6)], { encoding: 'utf8', maxBuffer: 1 << 24 })
      if (r.status === 0) py = JSON.parse(r.stdout.trim().split('\n').pop())
      else console.log(`python peer failed: ${r.stderr.slice(0, 500)}`)
    } else {
      console.log('pure-Python peer: SKIPPED (no python3 found; set PYTHON=...)')
    }
    const mbps = (bytes, s) => bytes / 1e6 / s
    const agree = native.records === js.records && native.cells === js.cells && Math.abs(native.sum - js.sum) < 1e-6 * Math.abs(js.sum)
    const load = os.loadavg()[0].toFixed(1)
    const rows = [
      { reader: 'nasrank native → Arrow store (end to end)', data: `${(size / 1e6).toFixed(0)} MB`, time: fmt(native.seconds * 1e3), 'MB/s': mbps(size, native.seconds).toFixed(0), 'MB per CPU-s': mbps(size, native.cpuSeconds).toFixed(0), 'peak RSS': `${native.maxRssMB.toFixed(0)} MB`, 'vs nasrank': '1.0×' },
      { reader: 'nasrank native read + pivot only', data: `${(size / 1e6).toFixed(0)} MB`, time: fmt(native.ingestSeconds * 1e3), 'MB/s': mbps(size, native.ingestSeconds).toFixed(0), 'MB per CPU-s': '—', 'peak RSS': '—', 'vs nasrank': '—' },
      { reader: 'plain JS reader (slicing-by-8 CRC, JSON.parse, Map)', data: `${(size / 1e6).toFixed(0)} MB`, time: fmt(js.seconds * 1e3), 'MB/s': mbps(size, js.seconds).toFixed(0), 'MB per CPU-s': mbps(size, js.cpuSeconds).toFixed(0), 'peak RSS': `${js.maxRssMB.toFixed(0)} MB`, 'vs nasrank': ratio(js.seconds, native.seconds) },
      py
        ? { reader: 'pure Python reader (no tensorflow)', data: `first ${(py.bytes / 1e6).toFixed(0)} MB`, time: fmt(py.seconds * 1e3), 'MB/s': mbps(py.bytes, py.seconds).toFixed(1), 'MB per CPU-s': mbps(py.bytes, py.cpuSeconds).toFixed(1), 'peak RSS': '—', 'vs nasrank': ratio(py.seconds / py.bytes, native.seconds / size) }
        : { reader: 'pure Python reader', data: 'skipped', time: '—', 'MB/s': '—', 'MB per CPU-s': '—', 'peak RSS': '—', 'vs nasrank': '—' }
    ]
    printTable(`NAS-Bench-101 TFRecord ingest (CRC-checked, parsed, pivoted; page cache warm; load average ${load} on ${os.cpus().length} cores)`, ['reader', 'data', 'time', 'MB/s', 'MB per CPU-s', 'peak RSS', 'vs nasrank'], rows)
    console.log(`\nresults agree (records, cells, checksum of final test accuracy): ${agree ? 'yes' : `NO (${JSON.stringify({ native, js })})`}`)
    console.log(`store: ${(native.storeBytes / 1e6).toFixed(1)} MB; open ${native.openMs.toFixed(1)} ms; whole-space column (one repeat) ${native.columnMs.toFixed(3)} ms, ` +
      `mean over repeats ${native.meanMs.toFixed(1)} ms; query ${native.queryUs.toFixed(2)} µs each (100k random hashes); SSE4.2 CRC: ${native.hardwareCrc}`)
    const json = {
      benchmark: 'tfrecord', machine: machine(), fileBytes: size, cells,
      loadAverage: os.loadavg()[0],
      nasrank: { seconds: native.seconds, cpuSeconds: native.cpuSeconds, ingestSeconds: native.ingestSeconds, mbps: mbps(size, native.seconds), ingestMbps: mbps(size, native.ingestSeconds), maxRssMB: native.maxRssMB, storeBytes: native.storeBytes, openMs: native.openMs, columnMs: native.columnMs, meanMs: native.meanMs, queryUs: native.queryUs },
      js: { seconds: js.seconds, cpuSeconds: js.cpuSeconds, mbps: mbps(size, js.seconds), maxRssMB: js.maxRssMB },
      python: py ? { seconds: py.seconds, cpuSeconds: py.cpuSeconds, bytes: py.bytes, mbps: mbps(py.bytes, py.seconds) } : null,
      agree
    }
    console.log('\n' + JSON.stringify(json))
    const out = arg('--json')
    if (out) fs.writeFileSync(out, JSON.stringify(json, null, 2))
    if (!agree) process.exitCode = 1
  } finally {
    cleanup()
  }
}

if (args[0] === '--child') child(args[1], args[2], args[3]).catch(err => { console.error(err); process.exit(1) })
else main().catch(err => { console.error(err); process.exit(1) })
