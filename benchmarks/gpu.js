#!/usr/bin/env node
'use strict'
// The GPU visit in one script: every CUDA kernel against its CPU twin (parity, on random and
// adversarial inputs, tolerances below), then the GPU benchmarks beside their CPU peers, as
// one Markdown table and one JSON line. Exit status: 0 when every parity check passed (or
// there is no CUDA device: the checks are skipped and the script says so), 1 on any parity
// failure, 2 on bad usage. benchmarks/gpu.sh builds the CUDA addon first and runs this.
//
// Tolerances (CUDA sums in another order than the CPU kernel):
//   ranking losses (float64): |loss_gpu − loss_cpu| ≤ 1e-9·(1 + |loss_cpu|), same for every
//     gradient entry relative to max|grad_cpu|; the comparable-pair/triplet count exactly equal;
//   GCN forward (float32 GEMMs): |s_gpu − s_cpu| ≤ 1e-4·(1 + |s_cpu|) per score / embedding entry.
//
// Usage: node benchmarks/gpu.js [--quick] [--json-only]
//   --quick: small sizes only (the CPU part as CI runs it; no speed figures worth quoting)
const { pairwiseRankLoss, tripletRankLoss, gcnScore, gcnEmbed, nativeInfo } = require('..')
const { machine, rng, cliArgs, printTable } = require('./peers')

const { flag } = cliArgs()
const QUICK = flag('--quick')
const JSON_ONLY = flag('--json-only')

const info = nativeInfo()
const log = (...a) => { if (!JSON_ONLY) console.log(...a) }

function normals (rand, n) {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  return out
}

/** Pairwise inputs: random, with ties, all targets equal, huge and tiny magnitudes. */
function pairwiseCases (sizes) {
  const cases = []
  for (const n of sizes) {
    const r = rng(1000 + n)
    const target = normals(r, n)
    const noise = normals(r, n)
    const pred = target.map((y, i) => y + 0.5 * noise[i])
    cases.push({ name: `random n=${n}`, pred, target })
    cases.push({ name: `ties n=${n}`, pred: pred.map(v => Math.round(v * 2) / 2), target: target.map(v => Math.round(v)) })
  }
  cases.push({ name: 'all targets equal n=100', pred: normals(rng(7), 100), target: new Float64Array(100).fill(3) })
  cases.push({ name: 'large magnitudes n=257', pred: normals(rng(8), 257).map(v => v * 1e6), target: normals(rng(9), 257) })
  cases.push({ name: 'tiny differences n=300', pred: normals(rng(10), 300).map(v => 1 + v * 1e-12), target: normals(rng(11), 300) })
  cases.push({ name: 'n=2', pred: Float64Array.of(0.3, 0.1), target: Float64Array.of(1, 2) })
  return cases
}

/** Triplet inputs: a symmetric distance matrix near |y_i − y_j| (the strict upper triangle is read). */
function tripletCases (sizes) {
  const cases = []
  for (const n of sizes) {
    const r = rng(2000 + n)
    const target = normals(r, n)
    const dist = new Float64Array(n * n)
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) dist[i * n + j] = dist[j * n + i] = Math.abs(target[i] - target[j]) + 0.3 * Math.abs(normals(r, 1)[0])
    cases.push({ name: `random n=${n}`, dist, target })
    cases.push({ name: `ties n=${n}`, dist: dist.map(v => Math.round(v * 4) / 4), target: target.map(v => Math.round(v)) })
  }
  return cases
}

function relClose (a, b, tol) { return Math.abs(a - b) <= tol * (1 + Math.abs(b)) }

function checkLoss (fn, name, args, opts) {
  const cpu = fn(...args, { ...opts, device: 'cpu', algorithm: 'brute', reduction: 'sum' })
  const gpu = fn(...args, { ...opts, device: 'cuda', algorithm: 'brute', reduction: 'sum' })
  const problems = []
  if (gpu.comparable !== cpu.comparable) problems.push(`comparable ${gpu.comparable} vs ${cpu.comparable}`)
  if (!relClose(gpu.loss, cpu.loss, 1e-9)) problems.push(`loss ${gpu.loss} vs ${cpu.loss}`)
  let gmax = 0
  for (const g of cpu.grad) gmax = Math.max(gmax, Math.abs(g))
  for (let i = 0; i < cpu.grad.length; i++) {
    if (Math.abs(gpu.grad[i] - cpu.grad[i]) > 1e-9 * (1 + gmax)) { problems.push(`grad[${i}] ${gpu.grad[i]} vs ${cpu.grad[i]}`); break }
  }
  return { check: `${name} ${opts.phi} margin=${opts.margin}`, ok: problems.length === 0, detail: problems.join('; ') }
}

/** Random NB-101-shaped padded graphs (V = 7, F = 5) and a 3×256 GCN with readout. */
function gcnInput (count, seed) {
  const r = rng(seed)
  const V = 7; const F = 5
  const adjacency = new Float32Array(count * V * V)
  const x = new Float32Array(count * V * F)
  const mask = new Float32Array(count * V)
  for (let g = 0; g < count; g++) {
    const v = r() < 0.85 ? 7 : 6 // real vertices; the output is always vertex 6
    const ids = [...Array.from({ length: v - 1 }, (_, i) => i), 6]
    for (let b = 1; b < v; b++) adjacency[g * 49 + ids[Math.floor(r() * b)] * V + ids[b]] = 1
    for (let a = 0; a < v - 1; a++) if (r() < 0.2) adjacency[g * 49 + ids[a] * V + 6] = 1
    for (let k = 0; k < v; k++) {
      mask[g * V + ids[k]] = 1
      const op = k === 0 ? 0 : k === v - 1 ? 4 : 1 + Math.floor(r() * 3)
      x[(g * V + ids[k]) * F + op] = 1
    }
  }
  const dense = (fin, fout) => {
    const s = Math.sqrt(6 / (fin + fout))
    return { w: Float32Array.from({ length: fin * fout }, () => (2 * r() - 1) * s), b: Float32Array.from({ length: fout }, () => 0.01 * (2 * r() - 1)) }
  }
  const weights = { layers: [dense(F, 256), dense(256, 256), dense(256, 256)], fc: dense(256, 1) }
  return { graphs: { count, vertices: V, features: F, adjacency, x, mask }, weights }
}

function checkGcn (count) {
  const { graphs, weights } = gcnInput(count, 31)
  const out = []
  const cpu = gcnScore(graphs, weights, { device: 'cpu' })
  const gpu = gcnScore(graphs, weights, { device: 'cuda' })
  let bad = -1
  for (let i = 0; i < count; i++) if (!relClose(gpu[i], cpu[i], 1e-4)) { bad = i; break }
  out.push({ check: `gcnScore ${count} graphs`, ok: bad < 0, detail: bad < 0 ? '' : `score[${bad}] ${gpu[bad]} vs ${cpu[bad]}` })
  const ecpu = gcnEmbed(graphs, weights, { device: 'cpu' })
  const egpu = gcnEmbed(graphs, weights, { device: 'cuda' })
  bad = -1
  for (let i = 0; i < ecpu.length; i++) if (!relClose(egpu[i], ecpu[i], 1e-4)) { bad = i; break }
  out.push({ check: `gcnEmbed ${count} graphs`, ok: bad < 0, detail: bad < 0 ? '' : `entry ${bad} ${egpu[bad]} vs ${ecpu[bad]}` })
  return out
}

function best (fn, reps) {
  let ms = Infinity
  fn()
  for (let k = 0; k < reps; k++) {
    const t0 = process.hrtime.bigint()
    fn()
    ms = Math.min(ms, Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return ms
}

function main () {
  log(`# nasrank GPU check — ${machine()}`)
  log(`addon: ${info.buildSystem}, cuda build: ${info.cuda}, cuda device: ${info.cudaDevice}, threads: ${info.threads}`)
  const pw = pairwiseCases(QUICK ? [3, 64] : [3, 64, 1000, 4096])
  const tr = tripletCases(QUICK ? [3, 17] : [3, 17, 200, 513])
  const settings = [{ phi: 'hinge', margin: 1 }, { phi: 'hinge', margin: 0.1 }, { phi: 'logistic', margin: 1 }, { phi: 'exp', margin: 1 }]
  if (!info.cudaDevice) {
    // The CPU side of every check still runs, so the inputs and the CPU twins are exercised.
    for (const c of pw) for (const s of settings) pairwiseRankLoss(c.pred, c.target, { ...s, algorithm: 'brute', reduction: 'sum' })
    for (const c of tr) for (const s of settings) tripletRankLoss(c.dist, c.target, { ...s, algorithm: 'brute', reduction: 'sum' })
    const { graphs, weights } = gcnInput(64, 31)
    gcnScore(graphs, weights)
    const why = info.cuda ? 'this CUDA build finds no usable device' : 'this addon was built without CUDA (benchmarks/gpu.sh builds it with cmake-js)'
    log(`\nparity checks SKIPPED: ${why}; the CPU side of ${pw.length * settings.length + tr.length * settings.length + 1} checks ran.`)
    console.log(JSON.stringify({ gpu: false, skipped: why, machine: machine() }))
    return 0
  }

  const results = []
  for (const c of pw) for (const s of settings) results.push(checkLoss(pairwiseRankLoss, `pairwise ${c.name}`, [c.pred, c.target], s))
  for (const c of tr) for (const s of settings) results.push(checkLoss(tripletRankLoss, `triplet ${c.name}`, [c.dist, c.target], s))
  results.push(...checkGcn(QUICK ? 256 : 20000))
  const failed = results.filter(r => !r.ok)
  log(`\nparity: ${results.length - failed.length} of ${results.length} checks passed`)
  for (const f of failed) log(`  FAILED ${f.check}: ${f.detail}`)

  const rows = []
  if (!QUICK) {
    const t = tripletCases([4096])[0]
    const cpuFast = best(() => tripletRankLoss(t.dist, t.target, { algorithm: 'fast' }), 2)
    const gpuT = best(() => tripletRankLoss(t.dist, t.target, { device: 'cuda', algorithm: 'brute' }), 3)
    rows.push({ task: 'tripletRankLoss hinge, loss + grad, n = 4096', cpu: `${cpuFast.toFixed(1)} ms (fast kernel)`, gpu: `${gpuT.toFixed(1)} ms`, ratio: `${(cpuFast / gpuT).toFixed(1)}×`, target: '≥ 10×' })
    const p = pairwiseCases([100000])[0]
    const cpuP = best(() => pairwiseRankLoss(p.pred, p.target, { algorithm: 'fast' }), 3)
    const gpuP = best(() => pairwiseRankLoss(p.pred, p.target, { device: 'cuda', algorithm: 'brute' }), 3)
    rows.push({ task: 'pairwiseRankLoss hinge, loss + grad, n = 1e5', cpu: `${cpuP.toFixed(1)} ms (fast kernel)`, gpu: `${gpuP.toFixed(1)} ms (exhaustive)`, ratio: `${(cpuP / gpuP).toFixed(2)}×`, target: '—' })
    const { graphs, weights } = gcnInput(423624, 5)
    const cpuG = best(() => gcnScore(graphs, weights, { device: 'cpu' }), 1)
    const gpuG = best(() => gcnScore(graphs, weights, { device: 'cuda' }), 3)
    rows.push({ task: 'gcnScore, 423,624 NB-101-shaped cells, GCN 3×256', cpu: `${cpuG.toFixed(0)} ms (${info.threads} threads)`, gpu: `${gpuG.toFixed(1)} ms`, ratio: `${(cpuG / gpuG).toFixed(1)}×`, target: '≤ 50 ms' })
    if (!JSON_ONLY) printTable('GPU benchmarks (best of runs; CPU peer in the same run)', ['task', 'cpu', 'gpu', 'ratio', 'target'], rows)
  }
  console.log(JSON.stringify({ gpu: true, machine: machine(), checks: results.length, failed: failed.map(f => `${f.check}: ${f.detail}`), benchmarks: rows }))
  return failed.length === 0 ? 0 : 1
}

process.exitCode = main()
