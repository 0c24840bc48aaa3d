#!/usr/bin/env node
'use strict'
// Speed of the ranking losses: the fast kernels (O(n log n) pairwise, O(n^2 log n) triplet
// for hinge/exp) against the exhaustive loops ('brute', O(n^2) / O(n^3)) that compute the
// same sums term by term, in the same process, on the same inputs. Both results are also
// compared, so a fast path that got faster by getting wrong is caught here too.
//
// Usage: node benchmarks/losses.js [--reps N] [--max-brute-seconds S] [--extra] [--json-only]
//   (run `npx tsc` first: the package root resolves dist/lib/index.js)
// Times include the JS-side conversion and the returned gradient (what a caller pays).
// Fast paths: best of --reps runs (default 5). Brute: one run; when its estimated time
// (from a run at a smaller n, scaled by n^2 or n^3) exceeds --max-brute-seconds
// (default 60), the smaller run is extrapolated instead and the row says so.
// Prints a Markdown table, then one JSON line.

const { pairwiseRankLoss, tripletRankLoss, nativeInfo } = require('..')
const { rng, cliArgs } = require('./peers')

const { number: option, flag } = cliArgs()
const REPS = option('--reps', 5)
const MAX_BRUTE_S = option('--max-brute-seconds', 60)
const EXTRA = flag('--extra')
const JSON_ONLY = flag('--json-only')

// Seeded (Box-Muller over peers.rng), so every run times the same inputs.
function normals (rand, n) {
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
  return out
}

// A predictor that is right on average: pred = target + noise (pairwise), and
// dist_ij = |target_i - target_j| + noise (triplet), so the hinge is active on a
// realistic fraction of the terms.
function pairwiseInput (n, seed) {
  const rand = rng(seed)
  const target = normals(rand, n)
  const noise = normals(rand, n)
  const pred = target.map((y, i) => y + 0.5 * noise[i])
  return { values: pred, target }
}
function tripletInput (n, seed) {
  const rand = rng(seed)
  const target = normals(rand, n)
  const noise = normals(rand, n * n)
  const dist = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) dist[i * n + j] = Math.abs(target[i] - target[j]) + 0.3 * noise[i * n + j]
  }
  return { values: dist, target }
}

function seconds (fn) {
  const t0 = process.hrtime.bigint()
  const out = fn()
  return { s: Number(process.hrtime.bigint() - t0) / 1e9, out }
}
function best (fn, reps) {
  let s = Infinity
  let out
  for (let r = 0; r < reps; r++) {
    const run = seconds(fn)
    if (run.s < s) s = run.s
    out = run.out
  }
  return { s, out }
}

function relDiff (a, b) {
  if (a === b) return 0
  return Math.abs(a - b) / Math.max(1, Math.abs(b))
}
function maxGradDiff (a, b) {
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, relDiff(a[i], b[i]))
  return worst
}

const rows = []

function bench ({ loss, kind, phi, n, exponent, input }) {
  const opts = { phi, reduction: 'sum' }
  const { values, target } = input(n, 42)
  loss(values, target, opts) // warm-up (first call pays thread start-up, page faults)
  const fast = best(() => loss(values, target, opts), REPS)
  // Brute force: estimate from a run at n/4 (1/16 or 1/64 of the work) first.
  const nSmall = Math.max(8, Math.floor(n / 4))
  const small = input(nSmall, 43)
  const probe = seconds(() => loss(small.values, small.target, { ...opts, algorithm: 'brute' }))
  const estimate = probe.s * Math.pow(n / nSmall, exponent)
  let bruteS
  let bruteNote
  let agreement = null
  if (estimate <= MAX_BRUTE_S) {
    const brute = seconds(() => loss(values, target, { ...opts, algorithm: 'brute' }))
    bruteS = brute.s
    bruteNote = 'measured'
    agreement = { loss: relDiff(fast.out.loss, brute.out.loss), grad: maxGradDiff(fast.out.grad, brute.out.grad) }
    if (fast.out.comparable !== brute.out.comparable) throw new Error(`${kind} ${phi} n=${n}: comparable differs`)
  } else {
    bruteS = estimate
    bruteNote = `extrapolated from n=${nSmall} (${probe.s.toFixed(3)} s) × (n/${nSmall})^${exponent}`
  }
  if (agreement && (agreement.loss > 1e-9 || agreement.grad > 1e-9)) {
    throw new Error(`${kind} ${phi} n=${n}: fast and brute disagree (${JSON.stringify(agreement)})`)
  }
  rows.push({
    loss: kind,
    phi,
    n,
    terms: fast.out.comparable,
    fast_s: fast.s,
    brute_s: bruteS,
    brute: bruteNote,
    speedup: bruteS / fast.s,
    agreement
  })
}

bench({ loss: pairwiseRankLoss, kind: 'pairwise', phi: 'hinge', n: 100000, exponent: 2, input: pairwiseInput })
bench({ loss: tripletRankLoss, kind: 'triplet', phi: 'hinge', n: 1024, exponent: 3, input: tripletInput })
bench({ loss: tripletRankLoss, kind: 'triplet', phi: 'hinge', n: 4096, exponent: 3, input: tripletInput })
if (EXTRA) {
  bench({ loss: pairwiseRankLoss, kind: 'pairwise', phi: 'exp', n: 100000, exponent: 2, input: pairwiseInput })
  bench({ loss: pairwiseRankLoss, kind: 'pairwise', phi: 'logistic', n: 20000, exponent: 2, input: pairwiseInput })
  bench({ loss: tripletRankLoss, kind: 'triplet', phi: 'exp', n: 1024, exponent: 3, input: tripletInput })
  bench({ loss: tripletRankLoss, kind: 'triplet', phi: 'logistic', n: 512, exponent: 3, input: tripletInput })
}

const info = nativeInfo()
const env = { node: process.version, threads: info.threads, cpu: info.cpu, build: info.buildSystem, reps: REPS }

if (!JSON_ONLY) {
  const fmt = s => (s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1e3).toFixed(1)} ms`)
  console.log(`Ranking losses, loss + gradient, reduction 'sum' (${info.threads} threads, node ${process.version}; fast: best of ${REPS})`)
  console.log('')
  console.log('| loss | phi | n | terms | fast | brute | speedup | max rel. diff (loss / grad) | brute timing |')
  console.log('|---|---|---:|---:|---:|---:|---:|---|---|')
  for (const r of rows) {
    const diff = r.agreement ? `${r.agreement.loss.toExponential(1)} / ${r.agreement.grad.toExponential(1)}` : 'n/a'
    console.log(`| ${r.loss} | ${r.phi} | ${r.n} | ${r.terms.toExponential(2)} | ${fmt(r.fast_s)} | ${fmt(r.brute_s)} | ${r.speedup.toFixed(1)}× | ${diff} | ${r.brute} |`)
  }
  console.log('')
}
console.log(JSON.stringify({ benchmark: 'losses', env, rows }))
