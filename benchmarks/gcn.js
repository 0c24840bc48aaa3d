#!/usr/bin/env node
'use strict'
// GCN scoring of a whole NAS-Bench-101-sized space: the native batched forward (gcnScore)
// against the same model's batched tfjs forward (GcnModel.predict) on the tfjs backend
// available here (wasm unless tfjs-node is installed), same weights, same graphs, same run.
//
// Data: 423,624 random NB-101-shaped cells (V = 7, F = 5): v real vertices (85% v = 7,
// 14% v = 6, 1% v = 5; --all7 makes every cell 7-vertex), vertices 0..v−2 plus the output
// at 6 (padding inserted before the output), a random upper-triangular DAG in which every
// vertex has a predecessor and a successor (so all lie on an input→output path) with at
// most 9 edges, one-hot ops (input, 3 random inner ops, output). Model: GcnModel with
// widths 3×256 and readout (Glorot weights, small random biases), exported to the native
// kernel with exportWeights().
//
// Native rows: the default (repeated rows computed once per sub-batch: exact, identical
// bits), one thread, and dedup: false (every real row through the GEMM; the raw kernel
// speed). The benchmark checks that all three give identical bits.
//
// tfjs is timed on the first --tfjs-graphs graphs (default 32,768) and extrapolated
// linearly to the whole set (its cost per graph is constant: it always computes all V
// vertices), unless --tfjs-full. Both results are compared on the graphs tfjs scored.
//
// Usage: node benchmarks/gcn.js [--graphs N] [--tfjs-graphs M | --tfjs-full] [--reps R]
//          [--batch-size B] [--all7] [--json-only]
//   (run `npx tsc` first: the package root resolves dist/lib/index.js)
// Timings on a shared machine are provisional.
const { gcnScore, nativeInfo, GcnModel, initTfBackend } = require('..')
const { machine, rng, cliArgs } = require('./peers')

const { number: option, flag } = cliArgs()
const GRAPHS = option('--graphs', 423624)
const TFJS_FULL = flag('--tfjs-full')
const TFJS_GRAPHS = TFJS_FULL ? GRAPHS : Math.min(GRAPHS, option('--tfjs-graphs', 32768))
const REPS = option('--reps', 2)
const BATCH = option('--batch-size', 1024)
const ALL7 = flag('--all7')
const JSON_ONLY = flag('--json-only')
const WIDTHS = [256, 256, 256]

function nb101Cells (count, seed) {
  const rand = rng(seed)
  const V = 7
  const F = 5
  const adjacency = new Float32Array(count * V * V)
  const x = new Float32Array(count * V * F)
  const mask = new Float32Array(count * V)
  const edges = []
  let real = 0
  for (let g = 0; g < count; g++) {
    const u = rand()
    const v = ALL7 || u < 0.85 ? 7 : u < 0.99 ? 6 : 5
    const ids = [...Array.from({ length: v - 1 }, (_, i) => i), 6]
    for (;;) {
      edges.length = 0
      const has = new Set()
      const add = (a, b) => { const k = a * V + b; if (!has.has(k)) { has.add(k); edges.push(k) } }
      for (let b = 1; b < v; b++) add(Math.floor(rand() * b), b)
      for (let a = 0; a < v - 1; a++) {
        let out = false
        for (const k of has) if (Math.floor(k / V) === a) out = true
        if (!out) add(a, a + 1 + Math.floor(rand() * (v - 1 - a)))
      }
      for (let a = 0; a < v; a++) for (let b = a + 1; b < v; b++) if (rand() < 0.12) add(a, b)
      if (edges.length <= 9) break
    }
    const base = g * V * V
    for (const k of edges) adjacency[base + ids[Math.floor(k / V)] * V + ids[k % V]] = 1
    ids.forEach((id, k) => {
      mask[g * V + id] = 1
      x[(g * V + id) * F + (k === 0 ? 0 : k === v - 1 ? 4 : 1 + Math.floor(rand() * 3))] = 1
    })
    real += v
  }
  return { graphs: { count, vertices: V, features: F, adjacency, x, mask }, meanVertices: real / count }
}

function subset (g, n) {
  const V = g.vertices
  const F = g.features
  return { count: n, vertices: V, features: F, adjacency: g.adjacency.subarray(0, n * V * V), x: g.x.subarray(0, n * V * F), mask: g.mask.subarray(0, n * V) }
}

// Wall time and the process's CPU time (all threads, user + system): on a shared machine
// the CPU time is the steadier figure.
function seconds (fn) {
  const c0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  const out = fn()
  const s = Number(process.hrtime.bigint() - t0) / 1e9
  const c = process.cpuUsage(c0)
  return { s, cpu: (c.user + c.system) / 1e6, out }
}

function best (fn, reps) {
  let run = null
  for (let r = 0; r < reps; r++) {
    const next = seconds(fn)
    if (run === null || next.s < run.s) run = next
  }
  return run
}

async function main () {
  const tfInfo = await initTfBackend()
  const gen = seconds(() => nb101Cells(GRAPHS, 101))
  const { graphs, meanVertices } = gen.out
  const model = await GcnModel.create({ features: 5, widths: WIDTHS, seed: 7 })
  const weights = model.exportWeights()
  const rand = rng(8)
  for (const l of [...weights.layers, weights.fc]) for (let i = 0; i < l.b.length; i++) l.b[i] = Math.fround(0.1 * (rand() - 0.5))
  model.setWeights(weights)

  const info = nativeInfo()
  gcnScore(subset(graphs, Math.min(GRAPHS, 4096)), weights) // warm-up (thread start, page faults)
  const native = best(() => gcnScore(graphs, weights), REPS)
  const native1 = seconds(() => gcnScore(graphs, weights, { threads: 1 }))
  const plain = seconds(() => gcnScore(graphs, weights, { dedup: false }))
  let same = true
  for (let i = 0; i < GRAPHS; i++) if (plain.out[i] !== native.out[i] || native1.out[i] !== native.out[i]) same = false
  if (!same) throw new Error('dedup / thread count changed the result bits')

  const part = subset(graphs, TFJS_GRAPHS)
  model.predict(subset(graphs, Math.min(TFJS_GRAPHS, BATCH)), { batchSize: BATCH }) // warm-up
  const tfjs = seconds(() => model.predict(part, { batchSize: BATCH }))
  const tfjsFullS = tfjs.s * (GRAPHS / TFJS_GRAPHS)
  const tfjsFullCpu = tfjs.cpu * (GRAPHS / TFJS_GRAPHS)
  let worst = 0
  for (let i = 0; i < TFJS_GRAPHS; i++) worst = Math.max(worst, Math.abs(native.out[i] - tfjs.out[i]) / Math.max(1, Math.abs(tfjs.out[i])))
  model.dispose()

  const flops = 2 * GRAPHS * meanVertices * WIDTHS.reduce((s, w, l) => s + (l === 0 ? 5 : WIDTHS[l - 1]) * w, 0)
  const rows = [
    { method: `nasrank gcnScore (${info.threads} threads)`, graphs: GRAPHS, s: native.s, cpu: native.cpu, note: `best of ${REPS}` },
    { method: 'nasrank gcnScore (1 thread)', graphs: GRAPHS, s: native1.s, cpu: native1.cpu, note: 'one run' },
    { method: `nasrank gcnScore (${info.threads} threads, dedup: false)`, graphs: GRAPHS, s: plain.s, cpu: plain.cpu, note: 'one run; every real row computed' },
    {
      method: `tfjs GcnModel.predict (${tfInfo.backend}${tfInfo.wasm ? `, simd ${tfInfo.wasm.simd}, threads ${tfInfo.wasm.threads}` : ''}, batch ${BATCH})`,
      graphs: GRAPHS,
      s: tfjsFullS,
      cpu: tfjsFullCpu,
      note: TFJS_FULL ? 'measured on all graphs' : `extrapolated from ${TFJS_GRAPHS} graphs (${tfjs.s.toFixed(2)} s) × ${(GRAPHS / TFJS_GRAPHS).toFixed(2)}`
    }
  ]
  const result = {
    benchmark: 'gcn',
    machine: machine(),
    env: { node: process.version, threads: info.threads, cpu: info.cpu, build: info.buildSystem, tfjs: tfInfo.backend, wasm: tfInfo.wasm ?? null },
    graphs: GRAPHS,
    meanRealVertices: meanVertices,
    widths: WIDTHS,
    generateS: gen.s,
    nativeS: native.s,
    nativeCpuS: native.cpu,
    native1S: native1.s,
    native1CpuS: native1.cpu,
    nativeNoDedupS: plain.s,
    nativeNoDedupCpuS: plain.cpu,
    nativeNoDedupGflops: flops / plain.s / 1e9,
    nativeEffectiveGflops: flops / native.s / 1e9,
    tfjsMeasuredGraphs: TFJS_GRAPHS,
    tfjsMeasuredS: tfjs.s,
    tfjsS: tfjsFullS,
    tfjsCpuS: tfjsFullCpu,
    tfjsExtrapolated: !TFJS_FULL,
    speedup: tfjsFullS / native.s,
    speedup1: tfjsFullS / native1.s,
    maxRelDiff: worst
  }
  if (worst > 1e-4) throw new Error(`native and tfjs disagree: max relative difference ${worst}`)
  if (!JSON_ONLY) {
    const fmt = s => (s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1e3).toFixed(1)} ms`)
    console.log(`GCN scoring, ${GRAPHS.toLocaleString('en')} NB-101-shaped cells (mean ${meanVertices.toFixed(2)} real vertices of 7), widths ${WIDTHS.join('×')} + readout`)
    console.log(`${machine()}; timings provisional (shared machine)`)
    console.log('')
    console.log('| method | graphs | wall time | graphs/s | tfjs / this (wall) | CPU time | tfjs / this (CPU) | note |')
    console.log('|---|---:|---:|---:|---:|---:|---:|---|')
    for (const r of rows) {
      console.log(`| ${r.method} | ${r.graphs.toLocaleString('en')} | ${fmt(r.s)} | ${Math.round(r.graphs / r.s).toLocaleString('en')} | ${(tfjsFullS / r.s).toFixed(1)}× | ` +
        `${fmt(r.cpu)} | ${(tfjsFullCpu / r.cpu).toFixed(1)}× | ${r.note} |`)
    }
    console.log('')
    console.log(`dedup: false computes every real row at ${result.nativeNoDedupGflops.toFixed(1)} GFLOP/s; the default computes each repeated row once ` +
      `(${result.nativeEffectiveGflops.toFixed(1)} GFLOP/s effective); both give identical bits.`)
    console.log(`max |native − tfjs| / max(1, |tfjs|) = ${worst.toExponential(2)} over ${TFJS_GRAPHS.toLocaleString('en')} graphs`)
    console.log('')
  }
  console.log(JSON.stringify(result))
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
