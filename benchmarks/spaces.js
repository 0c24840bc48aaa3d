'use strict'
// Search-space throughput: NB-201 params/FLOPs over all 15,625 cells, and the GCN graph form
// (GraphBatch) for all 15,625 NB-201 cells and 423,624 NB-101-sized cells — nasrank's columnar
// functions against plain per-object JavaScript (what one writes by hand: an object per
// architecture, nested arrays, then copied into typed arrays), on the same data in one run.
// NB-101 cells are synthetic (random DAGs with 2..7 vertices; the encoder does not need them
// to be in the benchmark) because the NB-101 data is not on this machine.
// Usage: node benchmarks/spaces.js [--nb101 423624] [--json out.json]
const { nb201, nb201GraphBatch, nb101GraphBatch } = require('..')
const { time, machine, printTable, fmt, ratio, rng, cliArgs } = require('./peers')

const { value: arg, flag } = cliArgs()
const nb101Count = Number(arg('--nb101', '423624'))

const OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']

// ---- peers: per-object JavaScript ------------------------------------------------------

// Params/FLOPs by walking the network's layers for each architecture object.
function peerCost (arch, classes, size) {
  let params = 0; let flops = 0
  const conv = (k, cin, cout, hw) => { params += k * k * cin * cout; flops += k * k * cin * cout * hw * hw }
  const bn = (c) => { params += 2 * c }
  conv(3, 3, 16, size); bn(16)
  let c = 16; let hw = size
  for (let stage = 0; stage < 3; stage++) {
    if (stage > 0) {
      const cout = c * 2; hw /= 2
      conv(3, c, cout, hw); bn(cout); conv(3, cout, cout, hw); bn(cout); conv(1, c, cout, hw)
      c = cout
    }
    for (let cell = 0; cell < 5; cell++) {
      for (const op of arch.ops) {
        if (op === 'nor_conv_3x3') { conv(3, c, c, hw); bn(c) } else if (op === 'nor_conv_1x1') { conv(1, c, c, hw); bn(c) }
      }
    }
  }
  bn(c)
  params += c * classes + classes; flops += c * classes + classes
  return { params, flops }
}

function peerNb201Graphs (archs) {
  const n = archs.length
  const adjacency = new Float32Array(n * 64); const x = new Float32Array(n * 48); const mask = new Float32Array(n * 8)
  const edges = [[0, 1], [0, 2], [1, 2], [0, 3], [1, 3], [2, 3]]
  const labels = ['input', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3', 'output']
  for (let g = 0; g < n; g++) {
    const ops = archs[g].ops
    const names = ['input', ...ops, 'output']
    const A = Array.from({ length: 8 }, () => new Array(8).fill(0))
    for (let e = 0; e < 6; e++) {
      if (ops[e] === 'none') continue
      if (edges[e][0] === 0) A[0][e + 1] = 1
      if (edges[e][1] === 3) A[e + 1][7] = 1
      for (let f = 0; f < 6; f++) if (ops[f] !== 'none' && edges[f][0] === edges[e][1]) A[e + 1][f + 1] = 1
    }
    const X = names.map(l => labels.map(d => (d === l ? 1 : 0)))
    const M = names.map(l => (l === 'none' ? 0 : 1))
    adjacency.set(A.flat(), g * 64); x.set(X.flat(), g * 48); mask.set(M, g * 8)
  }
  return { count: n, vertices: 8, features: 6, adjacency, x, mask }
}

const NB101_LABELS = ['input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3', 'output']
function peerNb101Graphs (specs) {
  const n = specs.length
  const adjacency = new Float32Array(n * 49); const x = new Float32Array(n * 35); const mask = new Float32Array(n * 7)
  for (let g = 0; g < n; g++) {
    const { matrix, ops } = specs[g]
    const V = matrix.length
    // pad: insert zero rows/columns before the output
    const map = (v) => (v === V - 1 ? 6 : v)
    const A = Array.from({ length: 7 }, () => new Array(7).fill(0))
    for (let i = 0; i < V; i++) for (let j = 0; j < V; j++) if (matrix[i][j]) A[map(i)][map(j)] = 1
    const X = Array.from({ length: 7 }, () => new Array(5).fill(0))
    const M = new Array(7).fill(0)
    ops.forEach((op, v) => { X[map(v)][NB101_LABELS.indexOf(op)] = 1; M[map(v)] = 1 })
    adjacency.set(A.flat(), g * 49); x.set(X.flat(), g * 35); mask.set(M, g * 7)
  }
  return { count: n, vertices: 7, features: 5, adjacency, x, mask }
}

// ---- data --------------------------------------------------------------------------------

const all = nb201.all()
const archObjects = nb201.unpack(all).map(a => ({ ops: Array.from(a, c => OPS[c]) }))
const archStrings = archObjects.map((_, i) => nb201.format(all.subarray(6 * i, 6 * i + 6)))

function nb101Data (n) {
  const rand = rng(101)
  const vertices = new Uint8Array(n); const adjacency = new Uint32Array(n); const ops = new Uint8Array(n * 7).fill(255)
  const specs = new Array(n)
  for (let c = 0; c < n; c++) {
    const V = rand() < 0.85 ? 7 : 2 + Math.floor(rand() * 5)
    const matrix = Array.from({ length: V }, () => new Array(V).fill(0))
    let bits = 0
    for (let i = 0, k = 0; i < 7; i++) {
      for (let j = i + 1; j < 7; j++, k++) {
        if (j < V && rand() < 0.3) { matrix[i][j] = 1; bits |= 1 << k }
      }
    }
    const opCodes = Array.from({ length: V }, (_, v) => (v === 0 ? 0 : v === V - 1 ? 4 : 1 + Math.floor(rand() * 3)))
    vertices[c] = V; adjacency[c] = bits >>> 0
    opCodes.forEach((o, v) => { ops[c * 7 + v] = o })
    specs[c] = { matrix, ops: opCodes.map(o => NB101_LABELS[o]) }
  }
  return { cells: { count: n, vertices, adjacency, ops, hash: new Uint8Array(n * 16) }, specs }
}

const sameArrays = (a, b) => a.length === b.length && a.every((v, i) => v === b[i])
const sameBatch = (a, b) => a.count === b.count && sameArrays(a.adjacency, b.adjacency) && sameArrays(a.x, b.x) && sameArrays(a.mask, b.mask)

console.log(`machine: ${machine()}`)
console.log('timings are provisional: 2 cores shared with other engineers\' jobs')

const rows = []
{
  const ours = time(() => ({ p: nb201.paramsBatch(all, 'cifar10'), f: nb201.flopsBatch(all, 'cifar10') }), 10)
  const perArch = time(() => archStrings.map(s => nb201.params(s) + nb201.flops(s)), 5)
  const peer = time(() => archObjects.map(a => peerCost(a, 10, 32)), 5)
  const agree = peer.result.every((r, i) => r.params === ours.result.p[i] && r.flops === ours.result.f[i]) &&
    perArch.result.every((v, i) => v === ours.result.p[i] + ours.result.f[i])
  rows.push({ task: 'NB-201 params + FLOPs, 15,625 cells (CIFAR-10)', nasrank: fmt(ours.ms), 'nasrank per string': fmt(perArch.ms), 'plain JS': fmt(peer.ms), 'JS / nasrank': ratio(peer.ms, ours.ms), agree: agree ? 'yes' : 'NO', _raw: { task: 'nb201-cost', n: 15625, nasrank_ms: ours.ms, per_string_ms: perArch.ms, js_ms: peer.ms } })
}
{
  const ours = time(() => nb201GraphBatch(all), 10)
  const peer = time(() => peerNb201Graphs(archObjects), 3)
  rows.push({ task: 'NB-201 GraphBatch, 15,625 cells', nasrank: fmt(ours.ms), 'plain JS': fmt(peer.ms), 'JS / nasrank': ratio(peer.ms, ours.ms), agree: sameBatch(ours.result, peer.result) ? 'yes' : 'NO', _raw: { task: 'nb201-graph', n: 15625, nasrank_ms: ours.ms, js_ms: peer.ms } })
}
{
  const { cells, specs } = nb101Data(nb101Count)
  const ours = time(() => nb101GraphBatch(cells), 3)
  const peer = time(() => peerNb101Graphs(specs), 1)
  rows.push({ task: `NB-101 GraphBatch, ${nb101Count.toLocaleString('en')} cells`, nasrank: fmt(ours.ms), 'plain JS': fmt(peer.ms), 'JS / nasrank': ratio(peer.ms, ours.ms), agree: sameBatch(ours.result, peer.result) ? 'yes' : 'NO', _raw: { task: 'nb101-graph', n: nb101Count, nasrank_ms: ours.ms, js_ms: peer.ms } })
}
printTable('search spaces, best of runs (nasrank: columnar TypeScript; plain JS: per-object)', ['task', 'nasrank', 'nasrank per string', 'plain JS', 'JS / nasrank', 'agree'], rows)
const json = { benchmark: 'spaces', machine: machine(), rows: rows.map(r => r._raw) }
console.log('\n' + JSON.stringify(json))
const out = arg('--json')
if (out) require('fs').writeFileSync(out, JSON.stringify(json, null, 2))
if (rows.some(r => r.agree !== 'yes')) process.exitCode = 1
