#!/usr/bin/env node
'use strict'
// gcnScoreGrad against the forward on a loaded machine: the forward (gcnScore, float32) and
// gcnScoreGrad in float64 and float32 called in turn, REPS rounds, on the 1000 NB-201 cells
// and weights of benchmarks/sampling.js's shape (width W, THREADS threads); prints the
// fastest, 10th-percentile and median wall time and the mean CPU time of each, and their
// ratios. Interleaving gives the three the same load; the distribution shows how far a
// best-of-5 is from typical. Usage (after `npx tsc`; ROOT: another build's checkout to compare):
//   W=256 TH=2 REPS=200 node benchmarks/sampling-grad-interleaved.js
const path = require('path')
const root = process.env.ROOT || path.join(__dirname, '..')
const { nb201GraphBatch } = require(root)
const { gcnScoreGrad, gcnScore } = require(path.join(root, 'dist/lib/models/gcn-native'))
const W = +(process.env.W || 256), TH = +(process.env.TH || 2), REPS = +(process.env.REPS || 300)
let s = 7; const rand = () => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 }
const g = nb201GraphBatch(Uint8Array.from({ length: 6000 }, () => Math.floor(rand() * 5)))
const glorot = (r, c) => { const lim = Math.sqrt(6 / (r + c)); return Float64Array.from({ length: r * c }, () => (2 * rand() - 1) * lim) }
const p = { layers: [0, 1, 2].map(l => ({ w: glorot(l === 0 ? g.features : W, W) })), fc: glorot(W, 1), norm: 'row', pool: 'all' }
const p32 = { layers: p.layers.map(l => ({ w: Float32Array.from(l.w), b: new Float32Array(W) })), fc: { w: Float32Array.from(p.fc), b: new Float32Array(1) } }
const fns = { fwd: () => gcnScore(g, p32, { norm: 'row', pool: 'all', threads: TH }), f64: () => gcnScoreGrad(g, p, { threads: TH, precision: 'float64' }), f32: () => gcnScoreGrad(g, p, { threads: TH }) }
const rec = { fwd: [], f64: [], f32: [] }; const cpu = { fwd: 0, f64: 0, f32: 0 }
for (const k in fns) fns[k]()
for (let i = 0; i < REPS; i++) for (const k in fns) { const c0 = process.cpuUsage(); const t = process.hrtime.bigint(); fns[k](); rec[k].push(Number(process.hrtime.bigint() - t) / 1e6); const c = process.cpuUsage(c0); cpu[k] += (c.user + c.system) / 1000 }
const q = (a, f) => a.slice().sort((x, y) => x - y)[Math.floor(f * (a.length - 1))]
const out = {}
for (const k in rec) out[k] = { min: +q(rec[k], 0).toFixed(2), p10: +q(rec[k], 0.1).toFixed(2), median: +q(rec[k], 0.5).toFixed(2), cpuMean: +(cpu[k] / REPS).toFixed(2) }
console.log(JSON.stringify({ root, W, TH, REPS, ...out, ratio64: { min: +(out.f64.min / out.fwd.min).toFixed(2), p10: +(out.f64.p10 / out.fwd.p10).toFixed(2), median: +(out.f64.median / out.fwd.median).toFixed(2), cpu: +(out.f64.cpuMean / out.fwd.cpuMean).toFixed(2) }, ratio32: { min: +(out.f32.min / out.fwd.min).toFixed(2), median: +(out.f32.median / out.fwd.median).toFixed(2), cpu: +(out.f32.cpuMean / out.fwd.cpuMean).toFixed(2) } }))
