'use strict'
// NAS-Bench-101 kernels against plain JavaScript peers in the same run:
// - enumeration of all 423,624 unique cells (native, cold, no disk cache; and the disk-cache
//   read) against a plain JS port of the official generate_graphs.py (MD5 of every labelled
//   graph through node:crypto). The JS peer runs all graphs of up to 6 vertices and a random
//   1/--peer-sample share of the 7-vertex bit strings, and is extrapolated to the whole space
//   (--full-peer runs it completely: minutes);
// - module hashes (native batch vs node:crypto MD5);
// - params + FLOPs of every cell (native batch vs a plain JS cost model on the same columns);
// - ReNAS encoding throughput (native vs plain JS) on --encode-cells cells.
// Usage: node benchmarks/nb101.js [--encode-cells 100000] [--peer-sample 32] [--full-peer] [--json out.json]
const crypto = require('crypto')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { nb101, renasEncode, nativeInfo } = require('..')
const { time, machine, printTable, fmt, ratio, rng, cliArgs } = require('./peers')

const { value: arg, flag } = cliArgs()
const encodeCells = Number(arg('--encode-cells', '100000'))
const peerSample = Number(arg('--peer-sample', '32'))
const fullPeer = flag('--full-peer')

// ---- plain JS peers ---------------------------------------------------------------------

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex')

function hashModule (v, edges, labels) {
  const inDeg = new Array(v).fill(0); const outDeg = new Array(v).fill(0)
  for (const [a, b] of edges) { outDeg[a]++; inDeg[b]++ }
  let h = labels.map((l, u) => md5(`(${outDeg[u]}, ${inDeg[u]}, ${l})`))
  for (let r = 0; r < v; r++) {
    const ins = Array.from({ length: v }, () => []); const outs = Array.from({ length: v }, () => [])
    for (const [a, b] of edges) { outs[a].push(h[b]); ins[b].push(h[a]) }
    h = h.map((own, u) => md5(ins[u].sort().join('') + '|' + outs[u].sort().join('') + '|' + own))
  }
  return md5('[' + h.slice().sort().map(x => `'${x}'`).join(', ') + ']')
}

/** generate_graphs.py for one vertex count over the given bit strings: fills `buckets`. */
function generate (v, bitStrings, buckets) {
  let labelled = 0
  for (const bits of bitStrings) {
    const edges = []
    const hasOut = new Array(v).fill(false); const hasIn = new Array(v).fill(false)
    for (let y = 1; y < v; y++) {
      for (let x = 0; x < y; x++) {
        if (Math.floor(bits / 2 ** (x + (y * (y - 1)) / 2)) % 2 === 1) { edges.push([x, y]); hasOut[x] = true; hasIn[y] = true }
      }
    }
    if (edges.length > 9) continue
    let full = true
    for (let u = 0; u < v - 1; u++) if (!hasOut[u]) full = false
    for (let u = 1; u < v; u++) if (!hasIn[u]) full = false
    if (!full) continue
    for (let index = 0; index < 3 ** (v - 2); index++) {
      const labels = [-1]
      let rest = index
      const digits = []
      for (let k = 0; k < v - 2; k++) { digits.unshift(rest % 3); rest = Math.floor(rest / 3) }
      labels.push(...digits, -2)
      const fp = hashModule(v, edges, labels)
      if (!buckets.has(fp)) buckets.set(fp, [v, bits, index])
      labelled++
    }
  }
  return labelled
}

const edgeBit = (i, j) => i * 7 - (i * (i + 1)) / 2 + (j - i - 1)

/** Plain JS cost model over the columns (compute_vertex_channels + the layer sums). */
function jsCosts (cells) {
  const n = cells.count
  const params = new Float64Array(n); const flops = new Float64Array(n)
  const ch = new Array(7)
  for (let c = 0; c < n; c++) {
    const v = cells.vertices[c]; const adj = cells.adjacency[c]
    const e = (i, j) => (adj >>> edgeBit(i, j)) & 1
    let p = 3 * 3 * 3 * 128 + 2 * 128 + 512 * 10 + 10
    let f = 32 * 32 * 27 * 128 + 5120
    for (let k = 0; k < 9; k++) {
      const stack = Math.floor(k / 3); const cout = 128 << stack
      const cin = k % 3 ? cout : stack === 0 ? 128 : cout / 2
      const px = (32 >> stack) ** 2
      if (v > 2) {
        ch.fill(0)
        let fan = 0
        for (let u = 1; u < v - 1; u++) fan += e(u, v - 1)
        const share = Math.floor(cout / fan); let corr = cout % fan
        for (let u = 1; u < v - 1; u++) if (e(u, v - 1)) { ch[u] = share; if (corr) { ch[u]++; corr-- } }
        for (let u = v - 3; u > 0; u--) if (!e(u, v - 1)) for (let d = u + 1; d < v - 1; d++) if (e(u, d)) ch[u] = Math.max(ch[u], ch[d])
        for (let u = 1; u < v - 1; u++) {
          const x = ch[u]; const op = cells.ops[c * 7 + u]
          if (e(0, u)) { p += cin * x + 2 * x; f += px * cin * x }
          if (op === 1) { p += x * x + 2 * x; f += px * x * x } else if (op === 2) { p += 9 * x * x + 2 * x; f += px * 9 * x * x }
        }
      }
      if (e(0, v - 1)) { p += cin * cout + 2 * cout; f += px * cin * cout }
    }
    params[c] = p; flops[c] = f
  }
  return { params, flops }
}

/** Plain JS ReNAS encoding (19 channels, NCHW), with per-vertex costs computed per cell. */
function jsEncode (cells, count) {
  const out = new Float32Array(count * 931)
  const ch = new Array(7); const vp = new Float64Array(63); const vf = new Float64Array(63)
  for (let c = 0; c < count; c++) {
    const v = cells.vertices[c]; const adj = cells.adjacency[c]
    const e = (i, j) => i < j && ((adj >>> edgeBit(i, j)) & 1) === 1
    vp.fill(0); vf.fill(0)
    for (let k = 0; k < 9; k++) {
      const stack = Math.floor(k / 3); const cout = 128 << stack
      const cin = k % 3 ? cout : stack === 0 ? 128 : cout / 2
      const px = (32 >> stack) ** 2
      ch.fill(0)
      if (v > 2) {
        let fan = 0
        for (let u = 1; u < v - 1; u++) fan += e(u, v - 1) ? 1 : 0
        const share = Math.floor(cout / fan); let corr = cout % fan
        for (let u = 1; u < v - 1; u++) if (e(u, v - 1)) { ch[u] = share; if (corr) { ch[u]++; corr-- } }
        for (let u = v - 3; u > 0; u--) if (!e(u, v - 1)) for (let d = u + 1; d < v - 1; d++) if (e(u, d)) ch[u] = Math.max(ch[u], ch[d])
      }
      for (let u = 1; u < v - 1; u++) {
        const x = ch[u]; const op = cells.ops[c * 7 + u]
        if (e(0, u)) { vp[k * 7 + u] += cin * x + 2 * x; vf[k * 7 + u] += px * cin * x }
        if (op === 1) { vp[k * 7 + u] += x * x + 2 * x; vf[k * 7 + u] += px * x * x } else if (op === 2) { vp[k * 7 + u] += 9 * x * x + 2 * x; vf[k * 7 + u] += px * 9 * x * x }
      }
      if (e(0, v - 1)) { vp[k * 7 + v - 1] = cin * cout + 2 * cout; vf[k * 7 + v - 1] = px * cin * cout }
    }
    const depth = new Array(v).fill(0)
    for (let j = 1; j < v; j++) for (let i = 0; i < j; i++) if (e(i, j)) depth[j] = Math.max(depth[j], depth[i] + 1)
    const order = [...Array(v).keys()].sort((a, b) => depth[a] - depth[b] || a - b)
    const slot = (p) => (p === v - 1 ? 6 : p)
    const base = c * 931
    for (let i = 0; i < v; i++) {
      for (let j = i + 1; j < v; j++) {
        const a = order[i]; const b = order[j]
        if (!e(a, b)) continue
        const cell = slot(i) * 7 + slot(j)
        out[base + cell] = cells.ops[c * 7 + b] + 1
        for (let k = 0; k < 9; k++) {
          out[base + (1 + k) * 49 + cell] = vf[k * 7 + b]
          out[base + (10 + k) * 49 + cell] = vp[k * 7 + b]
        }
      }
    }
  }
  return out
}

// ---- runs -------------------------------------------------------------------------------

async function main () {
  console.log(`machine: ${machine()}; nasrank threads: ${nativeInfo().threads}; timings provisional (shared CPU)`)
  const rows = []
  const raw = {}

  // enumeration: native cold (no cache), then the disk cache
  nb101.clearMemo()
  let t0 = process.hrtime.bigint()
  const cells = await nb101.enumerate({ cache: false })
  const enumMs = Number(process.hrtime.bigint() - t0) / 1e6
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-bench-nb101-'))
  nb101.clearMemo()
  await nb101.enumerate({ cache: dir })  // reads nothing, computes, writes the cache
  nb101.clearMemo()
  t0 = process.hrtime.bigint()
  const fromCache = await nb101.enumerate({ cache: dir })
  const cacheMs = Number(process.hrtime.bigint() - t0) / 1e6
  fs.rmSync(dir, { recursive: true, force: true })
  if (fromCache.count !== cells.count) throw new Error('cache mismatch')

  // JS peer: official algorithm, V <= 6 fully, V = 7 on a random share of bit strings
  const buckets = new Map()
  let peerLabelled = 0
  t0 = process.hrtime.bigint()
  for (let v = 2; v <= 6; v++) peerLabelled += generate(v, Array.from({ length: 2 ** ((v * (v - 1)) / 2) }, (_, b) => b), buckets)
  const smallMs = Number(process.hrtime.bigint() - t0) / 1e6
  const small = buckets.size
  const all7 = 2 ** 21
  const rand = rng(101)
  const sample = fullPeer ? Array.from({ length: all7 }, (_, b) => b) : Array.from({ length: Math.round(all7 / peerSample) }, () => Math.floor(rand() * all7))
  t0 = process.hrtime.bigint()
  const labelled7 = generate(7, sample, buckets)
  const ms7 = Number(process.hrtime.bigint() - t0) / 1e6
  const peerMs = fullPeer ? smallMs + ms7 : smallMs + ms7 * (all7 / sample.length)
  let nativeSmall = 0
  for (let k = 0; k < cells.count; k++) if (cells.vertices[k] <= 6) nativeSmall++
  const agree = small === nativeSmall && (!fullPeer || buckets.size === cells.count)
  rows.push({
    task: 'enumerate all cells (cold)',
    nasrank: fmt(enumMs),
    peer: `${fmt(peerMs)}${fullPeer ? '' : ` (est.: V≤6 ${fmt(smallMs)} + 1/${peerSample} of V=7 ${fmt(ms7)})`}`,
    'peer / nasrank': ratio(peerMs, enumMs),
    target: `≤ 30 s: ${enumMs <= 30000 ? 'met' : 'NOT met'}`,
    check: agree ? `${cells.count} cells; ${small} with V≤6 in both` : `MISMATCH (${small} vs ${nativeSmall})`
  })
  rows.push({ task: 'enumerate from the disk cache', nasrank: fmt(cacheMs), peer: '—', 'peer / nasrank': '—', target: '', check: `${fromCache.count} cells, checksum verified` })
  raw.enumerate = { native_ms: enumMs, cache_ms: cacheMs, peer_ms: peerMs, peer_estimated: !fullPeer, peer_sample: fullPeer ? 1 : peerSample, peer_labelled_graphs: peerLabelled + labelled7, cells: cells.count }

  // module hashes of 20,000 cells: native batch on columns, and specs -> columns (parse,
  // prune, hash), against MD5 through node:crypto on the specs
  const hn = 20000
  const sub = nb101.select(cells, Array.from({ length: hn }, (_, k) => (k * 21) % cells.count))
  const specs = Array.from({ length: hn }, (_, k) => nb101.cellAt(sub, k))
  const nativeHash = time(() => nb101.hashBatch(sub), 5)
  const nativeToCells = time(() => nb101.toCells(specs), 3)
  const jsHash = time(() => specs.map(s => {
    const edges = []
    for (let i = 0; i < s.ops.length; i++) for (let j = i + 1; j < s.ops.length; j++) if (s.matrix[i][j]) edges.push([i, j])
    const labels = s.ops.map(o => (o === 'input' ? -1 : o === 'output' ? -2 : ['conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3'].indexOf(o)))
    return hashModule(s.ops.length, edges, labels)
  }), 1)
  const hashAgree = jsHash.result.every((h, k) => h === Buffer.from(nativeHash.result.subarray(k * 16, k * 16 + 16)).toString('hex') &&
    h === Buffer.from(nativeToCells.result.hash.subarray(k * 16, k * 16 + 16)).toString('hex'))
  rows.push({ task: `module hash, ${hn} cells (hashBatch)`, nasrank: fmt(nativeHash.ms), peer: fmt(jsHash.ms), 'peer / nasrank': ratio(jsHash.ms, nativeHash.ms), target: '', check: hashAgree ? 'equal' : 'MISMATCH' })
  rows.push({ task: `specs → columns + hash, ${hn} (toCells)`, nasrank: fmt(nativeToCells.ms), peer: fmt(jsHash.ms), 'peer / nasrank': ratio(jsHash.ms, nativeToCells.ms), target: '', check: hashAgree ? 'equal' : 'MISMATCH' })
  raw.hash = { n: hn, native_ms: nativeHash.ms, to_cells_ms: nativeToCells.ms, js_ms: jsHash.ms }

  // params + FLOPs of all cells
  const nativeCost = time(() => nb101.costBatch(cells), 5)
  const jsCost = time(() => jsCosts(cells), 3)
  const costAgree = nativeCost.result.params.every((p, k) => p === jsCost.result.params[k]) && nativeCost.result.flops.every((f, k) => f === jsCost.result.flops[k])
  rows.push({ task: `params + FLOPs, all ${cells.count} cells`, nasrank: fmt(nativeCost.ms), peer: fmt(jsCost.ms), 'peer / nasrank': ratio(jsCost.ms, nativeCost.ms), target: `≤ 1 s: ${nativeCost.ms <= 1000 ? 'met' : 'NOT met'}`, check: costAgree ? 'equal' : 'MISMATCH' })
  raw.cost = { n: cells.count, native_ms: nativeCost.ms, js_ms: jsCost.ms }

  // ReNAS encoding
  const en = Math.min(encodeCells, cells.count)
  const indices = Uint32Array.from({ length: en }, (_, k) => (k * 7) % cells.count)
  const encSub = nb101.select(cells, indices)
  const nativeEnc = time(() => renasEncode(encSub), 3)
  const jsEnc = time(() => jsEncode(encSub, en), 1)
  let encAgree = nativeEnc.result.length === jsEnc.result.length
  for (let k = 0; encAgree && k < jsEnc.result.length; k++) if (nativeEnc.result[k] !== jsEnc.result[k]) encAgree = false
  const perSec = (ms) => `${((en / ms) * 1000 / 1e6).toFixed(2)} M cells/s`
  rows.push({ task: `ReNAS 19×7×7 encoding, ${en} cells`, nasrank: `${fmt(nativeEnc.ms)} (${perSec(nativeEnc.ms)})`, peer: `${fmt(jsEnc.ms)} (${perSec(jsEnc.ms)})`, 'peer / nasrank': ratio(jsEnc.ms, nativeEnc.ms), target: '', check: encAgree ? 'equal' : 'MISMATCH' })
  raw.encode = { n: en, native_ms: nativeEnc.ms, js_ms: jsEnc.ms }

  printTable('NAS-Bench-101: nasrank (native) vs plain JavaScript, same run (timings provisional: shared CPU)', ['task', 'nasrank', 'peer', 'peer / nasrank', 'target', 'check'], rows)
  const json = { benchmark: 'nb101', machine: machine(), threads: nativeInfo().threads, ...raw }
  console.log('\n' + JSON.stringify(json))
  const out = arg('--json')
  if (out) fs.writeFileSync(out, JSON.stringify(json, null, 2))
  if (!agree || !hashAgree || !costAgree || !encAgree) process.exitCode = 1
}

main().catch(err => { console.error(err); process.exitCode = 1 })
