#!/usr/bin/env node
'use strict'
// The native hot paths of the efficient-sampling method (Mauch et al.) against their peers,
// same data, same run:
//   1. training the ranking GCN (3 graph convolutions, left-only normalisation, mean over
//      all rows, FC, ordered-pair logistic loss, momentum SGD with the cosine step schedule):
//      ms per full-batch epoch at n = 100 and 1000 graphs (NB-201 cells), native gcnTrain
//      (float64) vs PyTorch CPU (float64: the same float width) and tfjs-wasm (float32:
//      tfjs has no float64); the first losses of native and PyTorch are compared;
//   2. scoring every NB-101 cell (423,624) with gcnScore (norm 'row', pool 'all') vs the
//      same forward in tfjs-wasm (timed on --tfjs-graphs cells, extrapolated);
//   3. gcnScoreGrad (∂f/∂A, ∂f/∂X) of 1000 graphs, float32 (default) and float64, vs the
//      forward (gcnScore) and tf.grads;
//   4. the all-pairs loss at n = 2000: native rankPairLoss vs plain JS orderedPairLoss, and
//      its share of a training step;
//   5. sampleEfficiencyGain (30,000 candidates, 1000 targets, |S| = 423,624) vs numpy
//      searchsorted.
// Absent peers are skipped with a message. Usage (run `npx tsc` first):
//   node benchmarks/sampling.js [--width 256] [--epochs 3] [--threads 1] [--tfjs-graphs 16384] [--quick] [--only grad,loss]
// Timings on a shared machine are provisional: CPU time is printed beside wall time.
const { initTfBackend, nb201GraphBatch, nb101GraphBatch, nb101, sampleEfficiencyGain, nativeInfo } = require('..')
const { gcnTrain, gcnScore, gcnScoreGrad, rankPairLoss } = require('../dist/lib/models/gcn-native')
const { orderedPairLoss } = require('../dist/lib/models/rank-gcn')
const { findPython, runPython, machine, printTable, fmt, ratio, rng, cliArgs } = require('./peers')

const { number: option, flag, value } = cliArgs()
const QUICK = flag('--quick')
const WIDTH = option('--width', 256)
const EPOCHS = option('--epochs', QUICK ? 2 : 3)
const THREADS = option('--threads', 1)
const TFJS_GRAPHS = option('--tfjs-graphs', QUICK ? 4096 : 16384)
const SIZES = QUICK ? [100] : [100, 1000]
// --only train,score,grad,loss,gain runs those parts (default: all).
const PARTS = ['train', 'score', 'grad', 'loss', 'gain']
const ONLY = value('--only', PARTS.join(',')).split(',')
for (const p of ONLY) if (!PARTS.includes(p)) throw new RangeError(`--only: unknown part '${p}' (parts: ${PARTS.join(', ')})`)
const part = name => ONLY.includes(name)

function cpuMs (fn) {
  const c0 = process.cpuUsage(); const t0 = process.hrtime.bigint()
  const out = fn()
  const wall = Number(process.hrtime.bigint() - t0) / 1e6
  const c = process.cpuUsage(c0)
  return { wall, cpu: (c.user + c.system) / 1000, out }
}
function best (fn, reps) {
  let r = null
  for (let k = 0; k < reps; k++) { const x = cpuMs(fn); if (r === null || x.wall < r.wall) r = x }
  return r
}

/** n random NB-201 cells as a GraphBatch, and the left-normalised N = D̃^-½(A + I) (all rows). */
function nb201Graphs (n, rand) {
  const ops = Uint8Array.from({ length: n * 6 }, () => Math.floor(rand() * 5))
  const g = nb201GraphBatch(ops)
  return { g, norm: leftNorm(g) }
}
function leftNorm (g) {
  const V = g.vertices
  const out = new Float64Array(g.count * V * V)
  for (let k = 0; k < g.count; k++) {
    for (let i = 0; i < V; i++) {
      let d = 1
      for (let j = 0; j < V; j++) d += g.adjacency[k * V * V + i * V + j]
      for (let j = 0; j < V; j++) out[k * V * V + i * V + j] = (g.adjacency[k * V * V + i * V + j] + (i === j ? 1 : 0)) / Math.sqrt(d)
    }
  }
  return out
}
function glorot (rows, cols, rand) {
  const lim = Math.sqrt(6 / (rows + cols))
  return Float64Array.from({ length: rows * cols }, () => (2 * rand() - 1) * lim)
}

const TORCH_TRAIN = `
import torch
torch.set_num_threads(int(cfg[0])); n, V, F, W, E = (int(v) for v in cfg[1:6])
torch.set_default_dtype(torch.float64)
N = torch.from_numpy(norm.reshape(n, V, V)); X = torch.from_numpy(x.reshape(n, V, F)); a = torch.from_numpy(acc)
ps = [torch.from_numpy(w0.reshape(F, W)).clone().requires_grad_(), torch.from_numpy(w1.reshape(W, W)).clone().requires_grad_(),
      torch.from_numpy(w2.reshape(W, W)).clone().requires_grad_(), torch.from_numpy(fc.copy()).requires_grad_()]
opt = torch.optim.SGD(ps, lr=0.01, momentum=0.9)
y = (a[:, None] >= a[None, :]).double(); off = 1 - torch.eye(n)
sp = torch.nn.functional.softplus
def step(t, T):
    H = X
    for w in ps[:3]: H = torch.relu(torch.matmul(torch.bmm(N, H), w))
    f = H.mean(1) @ ps[3]
    d = f[:, None] - f[None, :]
    loss = ((sp(-d) * y + sp(d) * (1 - y)) * off).sum() / off.sum()
    opt.zero_grad(); loss.backward()
    for gr in opt.param_groups: gr['lr'] = 0.5 * 0.01 * (1 + math.cos(math.pi * t / T))
    opt.step()
    return loss.item()
import math
losses = [step(t, E + 1) for t in range(1)]
t0 = time.perf_counter(); c0 = time.process_time()
losses += [step(t, E + 1) for t in range(1, E + 1)]
print(json.dumps({"ms": (time.perf_counter() - t0) * 1000 / E, "cpu": (time.process_time() - c0) * 1000 / E, "losses": losses, "version": torch.__version__}))
`

async function main () {
  const info = nativeInfo()
  console.log(`# benchmarks/sampling.js — ${machine()}; native threads ${THREADS}; width ${WIDTH}${QUICK ? ' (--quick)' : ''}`)
  let tf = null; let tfNote = ''
  try {
    const r = await initTfBackend({ backend: 'wasm' })
    tf = r.tf; tfNote = `tfjs ${r.backend}`
  } catch (e) { console.log(`(tfjs-wasm unavailable: ${e.message}; its rows are skipped)`) }
  const py = findPython(['torch', 'numpy'])
  if (py === null) console.log('(PyTorch CPU not found: its rows are skipped)')
  const pyNp = py ?? findPython(['numpy'])
  const rand = rng(7)
  const json = { machine: machine(), threads: THREADS, width: WIDTH, native: info.digest ?? null }

  // 1. Training per epoch.
  const trainRows = []
  let stepMs1000 = null
  if (part('train')) {
  for (const n of SIZES) {
    const { g, norm } = nb201Graphs(n, rand)
    const V = g.vertices; const F = g.features
    const acc = Float64Array.from({ length: n }, () => Math.round(rand() * 1000) / 10)
    const w = [glorot(F, WIDTH, rand), glorot(WIDTH, WIDTH, rand), glorot(WIDTH, WIDTH, rand)]
    const fc = glorot(WIDTH, 1, rand)
    const idx = Uint32Array.from({ length: n }, (_, i) => i)
    const params = { layers: w.map(x => ({ w: x })), fc, norm: 'row', pool: 'all' }
    const settings = { epochs: EPOCHS + 1, lr: 0.01, momentum: 0.9, ties: 'positive' }
    gcnTrain(g, idx, acc, params, { ...settings, epochs: 1 }, { threads: THREADS }) // warm-up
    const nat = cpuMs(() => gcnTrain(g, idx, acc, params, settings, { threads: THREADS }))
    const natMs = nat.wall / (EPOCHS + 1); const natCpu = nat.cpu / (EPOCHS + 1)
    if (n === 1000 || stepMs1000 === null) stepMs1000 = { n, ms: natMs, cpu: natCpu }
    const row = { n: String(n), native: `${fmt(natMs)} (cpu ${fmt(natCpu)})` }
    let torchRes = null
    if (py !== null) {
      torchRes = runPython(py, TORCH_TRAIN, { cfg: Float64Array.of(THREADS, n, V, F, WIDTH, EPOCHS), norm, x: Float64Array.from(g.x), acc, w0: w[0], w1: w[1], w2: w[2], fc })
      const agree = torchRes.losses.slice(0, 3).every((l, i) => Math.abs(l - nat.out.losses[i]) < 1e-9 * Math.max(1, Math.abs(l)))
      row.torch = `${fmt(torchRes.ms)} (cpu ${fmt(torchRes.cpu)})`
      row['torch / native'] = ratio(torchRes.ms, natMs)
      row['losses agree'] = agree ? 'yes (1e-9)' : `NO: ${torchRes.losses[0]} vs ${nat.out.losses[0]}`
    }
    let tfMs = null
    if (tf !== null) {
      const N = tf.tensor(Float32Array.from(norm), [n, V, V]); const X = tf.tensor(Float32Array.from(g.x), [n, V, F])
      const vars = [...w.map((x, l) => tf.variable(tf.tensor(Float32Array.from(x), [l === 0 ? F : WIDTH, WIDTH]))), tf.variable(tf.tensor(Float32Array.from(fc), [WIDTH, 1]))]
      const y = tf.tensor(Float32Array.from({ length: n * n }, (_, k) => acc[Math.floor(k / n)] >= acc[k % n] ? 1 : 0), [n, n])
      const off = tf.sub(1, tf.eye(n))
      const opt = tf.train.momentum(0.01, 0.9)
      const lossFn = () => {
        let H = X
        for (let l = 0; l < 3; l++) {
          const din = l === 0 ? F : WIDTH
          H = tf.relu(tf.reshape(tf.matMul(tf.reshape(tf.matMul(N, H), [n * V, din]), vars[l]), [n, V, WIDTH]))
        }
        const f = tf.reshape(tf.matMul(tf.mean(H, 1), vars[3]), [n])
        const d = tf.sub(tf.reshape(f, [n, 1]), tf.reshape(f, [1, n]))
        const l = tf.add(tf.mul(tf.softplus(tf.neg(d)), y), tf.mul(tf.softplus(d), tf.sub(1, y)))
        return tf.div(tf.sum(tf.mul(l, off)), n * (n - 1))
      }
      const step = t => { opt.setLearningRate(0.5 * 0.01 * (1 + Math.cos(Math.PI * t / (EPOCHS + 1)))); const l = opt.minimize(lossFn, true); l.dataSync(); l.dispose() }
      step(0)
      const r = cpuMs(() => { for (let t = 1; t <= EPOCHS; t++) step(t) })
      tfMs = r.wall / EPOCHS
      row.tfjs = `${fmt(tfMs)} (cpu ${fmt(r.cpu / EPOCHS)})`
      row['tfjs / native'] = ratio(tfMs, natMs)
      tf.dispose([N, X, y, off, ...vars]); opt.dispose()
    }
    trainRows.push(row)
    json[`train${n}`] = { nativeMs: natMs, nativeCpuMs: natCpu, torchMs: torchRes?.ms ?? null, torchCpuMs: torchRes?.cpu ?? null, tfjsMs: tfMs, torch: torchRes?.version ?? null }
  }
  printTable(`Training, ms per full-batch epoch (width ${WIDTH}, 3 layers, NB-201 cells; native and PyTorch float64, ${THREADS} thread(s); ${tfNote || 'tfjs absent'} float32)`, ['n', 'native', 'torch', 'torch / native', 'losses agree', 'tfjs', 'tfjs / native'], trainRows)
  }

  // 2. Scoring every NB-101 cell.
  if (part('score')) {
  const cells = QUICK ? null : await nb101.enumerate()
  const g101 = cells === null ? randomNb101(65536, rand) : nb101GraphBatch(cells)
  const w101 = { layers: [0, 1, 2].map(l => ({ w: Float32Array.from(glorot(l === 0 ? g101.features : WIDTH, WIDTH, rand)), b: new Float32Array(WIDTH) })), fc: { w: Float32Array.from(glorot(WIDTH, 1, rand)), b: new Float32Array(1) } }
  const opts = { norm: 'row', pool: 'all' }
  const scoreRows = []
  const nat1 = best(() => gcnScore(g101, w101, { ...opts, threads: 1 }), 2)
  const nat2 = best(() => gcnScore(g101, w101, { ...opts, threads: 2 }), 2)
  const sRow = { graphs: String(g101.count), 'native 1 thread': `${fmt(nat1.wall)} (cpu ${fmt(nat1.cpu)})`, 'native 2 threads': `${fmt(nat2.wall)} (cpu ${fmt(nat2.cpu)})` }
  json.score = { graphs: g101.count, native1Ms: nat1.wall, native2Ms: nat2.wall }
  if (tf !== null) {
    const m = Math.min(TFJS_GRAPHS, g101.count)
    const V = g101.vertices; const F = g101.features
    const sub = { count: m, vertices: V, features: F, adjacency: g101.adjacency.subarray(0, m * V * V), x: g101.x.subarray(0, m * V * F), mask: g101.mask.subarray(0, m * V) }
    const Ws = w101.layers.map((l, i) => tf.tensor(l.w, [i === 0 ? F : WIDTH, WIDTH])); const fcT = tf.tensor(w101.fc.w, [WIDTH, 1])
    const B = 1024
    const forward = () => {
      const out = new Float32Array(m)
      for (let b0 = 0; b0 < m; b0 += B) {
        const b = Math.min(B, m - b0)
        const f = tf.tidy(() => {
          const A = tf.tensor(sub.adjacency.subarray(b0 * V * V, (b0 + b) * V * V), [b, V, V])
          const At = tf.add(A, tf.eye(V))
          const N = tf.div(At, tf.sqrt(tf.sum(At, 2, true)))
          let H = tf.tensor(sub.x.subarray(b0 * V * F, (b0 + b) * V * F), [b, V, F])
          for (let l = 0; l < 3; l++) H = tf.relu(tf.reshape(tf.matMul(tf.reshape(tf.matMul(N, H), [b * V, l === 0 ? F : WIDTH]), Ws[l]), [b, V, WIDTH]))
          return tf.reshape(tf.matMul(tf.mean(H, 1), fcT), [b])
        })
        out.set(f.dataSync(), b0); f.dispose()
      }
      return out
    }
    const r = best(forward, 1)
    let worst = 0
    for (let i = 0; i < m; i++) worst = Math.max(worst, Math.abs(r.out[i] - nat1.out[i]) / Math.max(1e-3, Math.abs(nat1.out[i])))
    const full = r.wall * g101.count / m
    sRow.tfjs = `${fmt(full)} (extrapolated from ${m}: ${fmt(r.wall)}; max rel diff ${worst.toExponential(1)})`
    sRow['tfjs / native 2 thr'] = ratio(full, nat2.wall)
    json.score.tfjsMs = full
    tf.dispose([...Ws, fcT])
  }
  scoreRows.push(sRow)
  printTable(`Scoring ${cells === null ? 'random NB-101-like cells (--quick)' : 'every NB-101 cell'} (width ${WIDTH}, float32, norm 'row', pool 'all')`, ['graphs', 'native 1 thread', 'native 2 threads', 'tfjs', 'tfjs / native 2 thr'], scoreRows)
  }

  // 3. gcnScoreGrad of 1000 graphs: float32 (the default, what the ML pools use) and float64,
  //    against the forward (gcnScore, float32) and tf.grads, same graphs, same thread count.
  if (part('grad')) {
    const { g } = nb201Graphs(1000, rand)
    const p = { layers: [0, 1, 2].map(l => ({ w: glorot(l === 0 ? g.features : WIDTH, WIDTH, rand) })), fc: glorot(WIDTH, 1, rand), norm: 'row', pool: 'all' }
    const p32 = { layers: p.layers.map(l => ({ w: Float32Array.from(l.w), b: new Float32Array(WIDTH) })), fc: { w: Float32Array.from(p.fc), b: new Float32Array(1) } }
    const fwd = best(() => gcnScore(g, p32, { norm: 'row', pool: 'all', threads: THREADS }), 5)
    const grads = {
      float32: best(() => gcnScoreGrad(g, p, { threads: THREADS }), 5),
      float64: best(() => gcnScoreGrad(g, p, { threads: THREADS, precision: 'float64' }), 3)
    }
    // float32 against float64: max |Δ| over f, dA, dX relative to the largest entry.
    let d32 = 0; let scale = 0
    for (const k of ['f', 'dA', 'dX']) {
      for (let i = 0; i < grads.float64.out[k].length; i++) {
        d32 = Math.max(d32, Math.abs(grads.float32.out[k][i] - grads.float64.out[k][i])); scale = Math.max(scale, Math.abs(grads.float64.out[k][i]))
      }
    }
    const rows = Object.entries(grads).map(([precision, grad]) => ({
      graphs: '1000',
      precision: precision === 'float32' ? 'float32 (default)' : 'float64',
      gcnScoreGrad: `${fmt(grad.wall)} (cpu ${fmt(grad.cpu)})`,
      'forward (gcnScore)': `${fmt(fwd.wall)} (cpu ${fmt(fwd.cpu)})`,
      'grad / forward': `${ratio(grad.wall, fwd.wall)} [cpu ${ratio(grad.cpu, fwd.cpu)}]`
    }))
    rows[0].precision += `; max abs Δ vs float64 ${(d32 / scale).toExponential(1)} of the scale`
    json.scoreGrad = { ms: grads.float32.wall, cpuMs: grads.float32.cpu, float64Ms: grads.float64.wall, float64CpuMs: grads.float64.cpu, forwardMs: fwd.wall, forwardCpuMs: fwd.cpu, float32RelDiff: d32 / scale }
    if (tf !== null) {
      const V = g.vertices; const F = g.features
      const Ws = p.layers.map((l, i) => tf.tensor(Float32Array.from(l.w), [i === 0 ? F : WIDTH, WIDTH])); const fcT = tf.tensor(Float32Array.from(p.fc), [WIDTH, 1])
      const A = tf.tensor(g.adjacency, [1000, V, V]); const X = tf.tensor(g.x, [1000, V, F])
      const f = (a, x) => {
        const At = tf.add(a, tf.eye(V))
        const N = tf.div(At, tf.sqrt(tf.sum(At, 2, true)))
        let H = x
        for (let l = 0; l < 3; l++) H = tf.relu(tf.reshape(tf.matMul(tf.reshape(tf.matMul(N, H), [1000 * V, l === 0 ? F : WIDTH]), Ws[l]), [1000, V, WIDTH]))
        return tf.sum(tf.matMul(tf.mean(H, 1), fcT))
      }
      const gf = tf.grads(f)
      const run = () => { const out = gf([A, X]); const d = out.map(t => t.dataSync()); tf.dispose(out); return d }
      run()
      const r = best(run, 2)
      for (const [k, grad] of Object.entries(grads)) {
        const row = rows[k === 'float32' ? 0 : 1]
        let worst = 0
        for (let i = 0; i < grad.out.dX.length; i++) worst = Math.max(worst, Math.abs(r.out[1][i] - grad.out.dX[i]))
        row['tf.grads'] = `${fmt(r.wall)} (cpu ${fmt(r.cpu)}; max abs ΔdX ${worst.toExponential(1)})`
        row['tf.grads / native'] = `${ratio(r.wall, grad.wall)} [cpu ${ratio(r.cpu, grad.cpu)}]`
      }
      json.scoreGrad.tfjsMs = r.wall; json.scoreGrad.tfjsCpuMs = r.cpu
      tf.dispose([...Ws, fcT, A, X])
    }
    printTable(`Input gradients ∂f/∂(A, X) (width ${WIDTH}, ${THREADS} thread(s); ratios of wall times, CPU-time ratios in brackets)`, ['graphs', 'precision', 'gcnScoreGrad', 'forward (gcnScore)', 'grad / forward', 'tf.grads', 'tf.grads / native'], rows)
  }

  // 4. The all-pairs loss at n = 2000.
  if (part('loss')) {
    const n = 2000
    const f = Float64Array.from({ length: n }, () => rand() * 4 - 2)
    const acc = Float64Array.from({ length: n }, () => Math.round(rand() * 500) / 10)
    const js = best(() => orderedPairLoss(f, acc), 3)
    const nat = best(() => rankPairLoss(f, acc), 5)
    const agree = Math.abs(js.out.loss - nat.out.loss) < 1e-12 * Math.abs(js.out.loss)
    printTable('All-pairs ordered loss (value and gradient), n = 2000', ['n', 'native rankPairLoss', 'plain JS orderedPairLoss', 'JS / native', `share of a step (n = ${stepMs1000?.n ?? '–'})`, 'agree'],
      [{ n: '2000', 'native rankPairLoss': `${fmt(nat.wall)} (cpu ${fmt(nat.cpu)})`, 'plain JS orderedPairLoss': `${fmt(js.wall)} (cpu ${fmt(js.cpu)})`, 'JS / native': ratio(js.wall, nat.wall), [`share of a step (n = ${stepMs1000?.n ?? '–'})`]: stepMs1000 === null ? '(train not run)' : `${(100 * nat.wall / stepMs1000.ms).toFixed(1)} % (cpu ${(100 * nat.cpu / stepMs1000.cpu).toFixed(1)} %)`, agree: agree ? 'yes' : 'NO' }])
    json.loss = { nativeMs: nat.wall, nativeCpuMs: nat.cpu, jsMs: js.wall, jsCpuMs: js.cpu }
  }

  // 5. The pooled gain.
  if (part('gain')) {
    const S = 423624
    const space = Float64Array.from({ length: S }, () => Math.round(rand() * 1e6) / 1e4)
    const perm = Uint32Array.from({ length: S }, (_, i) => i)
    for (let i = 0; i < 30000; i++) { const j = i + Math.floor(rand() * (S - i)); const t = perm[i]; perm[i] = perm[j]; perm[j] = t }
    const cand = Float64Array.from(perm.subarray(0, 30000), i => space[i])
    const targets = Float64Array.from({ length: 1000 }, (_, i) => i / 10)
    const nat = best(() => sampleEfficiencyGain({ space, candidates: cand, targets }), 5)
    const row = { 'size of S': String(S), 'size of C': '30000', targets: '1000', native: `${fmt(nat.wall)} (cpu ${fmt(nat.cpu)})` }
    json.gain = { nativeMs: nat.wall, nativeCpuMs: nat.cpu }
    if (pyNp !== null) {
      const r = runPython(pyNp, `
s = np.sort(space); c = np.sort(cand)
def run():
    ms = np.searchsorted(s, targets, side='right'); mc = np.searchsorted(c, targets, side='right')
    return 10 * np.log10(((len(s) + 1) / (ms + 1)) / ((len(c) + 1) / (mc + 1)))
run()
best = 1e9
for _ in range(5):
    t0 = time.perf_counter(); g = run(); best = min(best, time.perf_counter() - t0)
t0 = time.perf_counter(); s2 = np.sort(space); c2 = np.sort(cand); g = run(); full = time.perf_counter() - t0
print(json.dumps({"ms": best * 1000, "full": full * 1000, "g": g.tolist()}))`, { space, cand, targets })
      let worst = 0
      r.g.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - nat.out.gainDb[i])) })
      row['numpy searchsorted (sorted inputs)'] = fmt(r.ms)
      row['numpy incl. sorting'] = fmt(r.full)
      row['numpy (incl. sort) / native'] = ratio(r.full, nat.wall)
      row['max abs Δ dB'] = worst.toExponential(1)
      json.gain.numpyMs = r.ms; json.gain.numpyFullMs = r.full
    }
    printTable('Sample-efficiency gain (pooled)', ['size of S', 'size of C', 'targets', 'native', 'numpy searchsorted (sorted inputs)', 'numpy incl. sorting', 'numpy (incl. sort) / native', 'max abs Δ dB'], [row])
  }
  console.log('\n' + JSON.stringify(json))
}

function randomNb101 (count, rand) {
  const V = 7; const F = 5
  const adjacency = new Float32Array(count * V * V); const x = new Float32Array(count * V * F); const mask = new Float32Array(count * V).fill(1)
  for (let g = 0; g < count; g++) {
    x[g * V * F] = 1; x[g * V * F + 6 * F + 4] = 1
    for (let i = 1; i < 6; i++) x[g * V * F + i * F + 1 + Math.floor(rand() * 3)] = 1
    for (let i = 0; i < V; i++) for (let j = i + 1; j < V; j++) if (j === i + 1 || rand() < 0.2) adjacency[g * V * V + i * V + j] = 1
  }
  return { count, vertices: V, features: F, adjacency, x, mask }
}

main().catch(e => { console.error(e); process.exit(1) })
