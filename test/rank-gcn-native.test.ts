// The native ranking GCN (native/gcn.cc: gcnTrain, gcnScoreGrad in float64 and float32,
// gcnScore with norm 'row' / pool 'all') against the JS model of lib/models/rank-gcn.ts (itself tested
// against a dense reference), a brute-force symmetric/real-vertex reference for the other
// variants, central finite differences for the input gradients, 1 vs 2 threads bit-identical,
// abort, and argument errors.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import * as path from 'node:path'
import { RankGcn, fitNative, inputGradientNative, orderedPairLoss, rankGcnParams, scoreNative } from '../lib/models/rank-gcn'
import { gcnEmbed, gcnScore, gcnScoreGrad, gcnTrain, gcnTrainAsync, rankPairLoss, type RankGcnParams } from '../lib/models/gcn-native'
import { nativeInfo } from '../lib/index'
import type { GraphBatch } from '../lib/models/types'
import { Random } from '../lib/random'

const L = 8
const F = 5

/** count random DAG-like graphs with 2..8 real vertices (mask), padding after them. */
function randomBatch (count: number, random: Random): GraphBatch {
  const adjacency = new Float32Array(count * L * L)
  const x = new Float32Array(count * L * F)
  const mask = new Float32Array(count * L)
  for (let g = 0; g < count; g++) {
    const v = 2 + random.int(L - 1)
    for (let i = 0; i < v; i++) {
      mask[g * L + i] = 1
      x[g * L * F + i * F + random.int(F)] = 1
      for (let j = i + 1; j < v; j++) if (random.bernoulli(0.4)) adjacency[g * L * L + i * L + j] = 1
    }
  }
  return { count, vertices: L, features: F, adjacency, x, mask }
}

/** f of graph k from the equations, any variant, with biases; nested arrays. */
function reference (p: RankGcnParams, g: GraphBatch, k: number): number {
  const real = Array.from({ length: L }, (_, i) => p.pool === 'all' || g.mask[k * L + i] !== 0)
  const A = Array.from({ length: L }, (_, i) => Array.from({ length: L }, (_, j) => real[i] && real[j] ? g.adjacency[k * L * L + i * L + j] + (i === j ? 1 : 0) : 0))
  const d = A.map(row => row.reduce((s, a) => s + a, 0))
  const N = A.map((row, i) => row.map((a, j) => a === 0 ? 0 : p.norm === 'row' ? a / Math.sqrt(d[i]) : a / Math.sqrt(d[i] * d[j])))
  let H = Array.from({ length: L }, (_, i) => Array.from({ length: F }, (_, c) => g.x[k * L * F + i * F + c]))
  for (const layer of p.layers) {
    const din = H[0].length; const dout = layer.w.length / din
    H = Array.from({ length: L }, (_, i) => Array.from({ length: dout }, (_, o) => {
      let s = layer.b !== undefined ? layer.b[o] : 0
      for (let j = 0; j < L; j++) for (let c = 0; c < din; c++) s += N[i][j] * H[j][c] * layer.w[c * dout + o]
      return Math.max(0, s)
    }))
  }
  const count = real.filter(Boolean).length
  let f = p.fcBias ?? 0
  for (let c = 0; c < p.fc.length; c++) {
    let r = 0
    for (let i = 0; i < L; i++) if (real[i]) r += H[i][c]
    f += (count === 0 ? 0 : r / count) * p.fc[c]
  }
  return f
}

function randomParams (random: Random, widths: number[], bias: boolean, norm: 'sym' | 'row', pool: 'real' | 'all'): RankGcnParams {
  let din = F
  const layers = widths.map(w => {
    const l = { w: Float64Array.from({ length: din * w }, () => random.float() - 0.5), ...(bias ? { b: Float64Array.from({ length: w }, () => random.float() * 0.2 - 0.1) } : {}) }
    din = w
    return l
  })
  return { layers, fc: Float64Array.from({ length: din }, () => random.float() - 0.5), fcBias: 0.25, norm, pool }
}

const close = (a: number, b: number, tol: number): boolean => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b))

t.test('gcnScoreGrad f equals the brute-force reference for every variant (sym/row × real/all × bias)', async t => {
  const g = randomBatch(30, new Random(11))
  for (const norm of ['sym', 'row'] as const) {
    for (const pool of ['real', 'all'] as const) {
      for (const bias of [false, true]) {
        // [6, 4, 5]: the direct backward; [24, 16, 8]: the lowest layer through M_u (4·F ≤ 24).
        for (const widths of [[6, 4, 5], [24, 16, 8]]) {
          const p = randomParams(new Random(7), widths, bias, norm, pool)
          const { f } = gcnScoreGrad(g, p, { precision: 'float64' })
          let ok = true
          for (let k = 0; k < g.count; k++) if (!close(f[k], reference(p, g, k), 1e-12)) ok = false
          t.ok(ok, `${norm}/${pool}/bias ${String(bias)}/widths ${widths.join(',')}`)
        }
      }
    }
  }
})

t.test('gcnScore with norm/pool options equals the reference (float32); default unchanged', async t => {
  const g = randomBatch(50, new Random(12))
  for (const norm of ['sym', 'row'] as const) {
    for (const pool of ['real', 'all'] as const) {
      const p = randomParams(new Random(8), [6, 6], true, norm, pool)
      const w = { layers: p.layers.map(l => ({ w: Float32Array.from(l.w), b: Float32Array.from(l.b ?? []) })), fc: { w: Float32Array.from(p.fc), b: Float32Array.of(0.25) } }
      const s = gcnScore(g, w, { norm, pool })
      const s2 = gcnScore(g, w, { norm, pool, dedup: false, threads: 2 })
      t.same(Array.from(s2), Array.from(s), `${norm}/${pool}: dedup and threads bit-identical`)
      let worst = 0
      for (let k = 0; k < g.count; k++) worst = Math.max(worst, Math.abs(s[k] - reference(p, g, k)) / Math.max(1, Math.abs(reference(p, g, k))))
      t.ok(worst < 1e-5, `${norm}/${pool}: max rel err ${worst}`)
      if (norm === 'sym' && pool === 'real') t.same(Array.from(gcnScore(g, w)), Array.from(s), 'defaults are sym/real')
    }
  }
  t.throws(() => gcnScore(g, { layers: [{ w: new Float32Array(F), b: new Float32Array(1) }], fc: { w: new Float32Array(1), b: new Float32Array(1) } }, { norm: 'left' as 'row' }), /norm/)
})

t.test('the CUDA twin takes norm/pool: every variant equals the CPU kernel and the reference', { skip: !nativeInfo().cudaDevice && 'no CUDA build or no CUDA device' }, async t => {
  const g = randomBatch(300, new Random(19))
  for (const norm of ['sym', 'row'] as const) {
    for (const pool of ['real', 'all'] as const) {
      const p = randomParams(new Random(9), [16, 8], true, norm, pool)
      const w = { layers: p.layers.map(l => ({ w: Float32Array.from(l.w), b: Float32Array.from(l.b ?? []) })), fc: { w: Float32Array.from(p.fc), b: Float32Array.of(0.25) } }
      const gpu = gcnScore(g, w, { norm, pool, device: 'cuda' })
      const cpu = gcnScore(g, w, { norm, pool })
      let worst = 0
      for (let k = 0; k < g.count; k++) worst = Math.max(worst, Math.abs(gpu[k] - reference(p, g, k)) / Math.max(1, Math.abs(reference(p, g, k))), Math.abs(gpu[k] - cpu[k]) / Math.max(1, Math.abs(cpu[k])))
      t.ok(worst < 1e-5, `${norm}/${pool}: scores, max rel err ${worst}`)
      const eg = gcnEmbed(g, { layers: w.layers }, { norm, pool, device: 'cuda' })
      const ec = gcnEmbed(g, { layers: w.layers }, { norm, pool })
      t.ok(eg.every((v, i) => Math.abs(v - ec[i]) <= 1e-5 * Math.max(1, Math.abs(ec[i]))), `${norm}/${pool}: embeddings`)
    }
  }
})

t.test('native scoring of the JS model equals RankGcn.score', async t => {
  const g = randomBatch(300, new Random(13))
  const m = new RankGcn(L, F, { width: 16 }).init(new Random(3))
  const js = m.score(g)
  const p = rankGcnParams(m)
  const { f } = gcnScoreGrad(g, p, { precision: 'float64' })
  for (let k = 0; k < g.count; k++) if (!close(f[k], js[k], 1e-12)) t.fail(`float64 graph ${k}: ${f[k]} vs ${js[k]}`)
  const f32 = await scoreNative(m, g)
  let worst = 0
  for (let k = 0; k < g.count; k++) worst = Math.max(worst, Math.abs(f32[k] - js[k]) / Math.max(1e-3, Math.abs(js[k])))
  t.ok(worst < 1e-4, `float32 gcnScore max rel err ${worst}`)
})

t.test('gcnScoreGrad input gradients equal RankGcn.inputGradient and central differences (both norms, both pools)', async t => {
  const g = randomBatch(6, new Random(14))
  const m = new RankGcn(L, F, { width: 5 }).init(new Random(4))
  const js = m.inputGradient(g)
  const nat = inputGradientNative(m, g, { precision: 'float64' })
  t.ok(Array.from(nat.dA).every((v, i) => close(v, js.dA[i], 1e-10)), 'dA = JS')
  t.ok(Array.from(nat.dX).every((v, i) => close(v, js.dX[i], 1e-10)), 'dX = JS')
  // Both precisions, the direct backward ([5, 4]) and the lowest layer through M_u ([20, 6]).
  for (const [norm, pool, precision, widths] of [
    ['sym', 'real', 'float64', [5, 4]], ['sym', 'all', 'float64', [5, 4]], ['row', 'real', 'float64', [5, 4]], ['row', 'all', 'float64', [5, 4]],
    ['sym', 'real', 'float32', [20, 6]], ['row', 'all', 'float32', [20, 6]], ['sym', 'all', 'float64', [20, 6]], ['row', 'real', 'float32', [5, 4]]
  ] as Array<['sym' | 'row', 'real' | 'all', 'float32' | 'float64', number[]]>) {
    {
      const p = randomParams(new Random(9), widths, true, norm, pool)
      const { dA, dX } = gcnScoreGrad(g, p, { precision })
      let bad = 0; let checked = 0
      for (let k = 0; k < g.count; k++) {
        for (let e = 0; e < L * L; e++) {
          const i = Math.floor(e / L); const j = e % L
          const real = (v: number): boolean => pool === 'all' || g.mask[k * L + v] !== 0
          if (!real(i) || !real(j)) { if (dA[k * L * L + e] !== 0) bad++; continue }
          const plus = { ...g, adjacency: Float32Array.from(g.adjacency) }
          const minus = { ...g, adjacency: Float32Array.from(g.adjacency) }
          // Differences in float64 through the reference (the batch holds float32; use a 1/64 step exactly representable).
          const step = 1 / 64
          plus.adjacency[k * L * L + e] += step; minus.adjacency[k * L * L + e] -= step
          if (minus.adjacency[k * L * L + e] < 0) continue
          const fd = (reference(p, plus, k) - reference(p, minus, k)) / (2 * step)
          checked++
          if (Math.abs(fd - dA[k * L * L + e]) > 2e-3 * Math.max(1, Math.abs(fd))) bad++
        }
        for (let e = 0; e < L * F; e++) {
          const plus = { ...g, x: Float32Array.from(g.x) }; const minus = { ...g, x: Float32Array.from(g.x) }
          const step = 1 / 1024
          plus.x[k * L * F + e] += step; minus.x[k * L * F + e] -= step
          const fd = (reference(p, plus, k) - reference(p, minus, k)) / (2 * step)
          checked++
          if (Math.abs(fd - dX[k * L * F + e]) > 1e-4 * Math.max(1, Math.abs(fd))) bad++
        }
      }
      t.equal(bad, 0, `${norm}/${pool}/${precision}/widths ${widths.join(',')}: ${checked} entries against central differences`)
    }
  }
})

/** Max |a − b| over f, dA, dX, and the largest |b| (the scale). */
function gradDiff (a: { f: Float64Array, dA: Float64Array, dX: Float64Array }, b: { f: Float64Array, dA: Float64Array, dX: Float64Array }): { diff: number, scale: number, identical: boolean } {
  let diff = 0; let scale = 0; let identical = true
  for (const k of ['f', 'dA', 'dX'] as const) {
    for (let i = 0; i < a[k].length; i++) {
      if (!Object.is(a[k][i], b[k][i])) identical = false
      diff = Math.max(diff, Math.abs(a[k][i] - b[k][i]))
      scale = Math.max(scale, Math.abs(b[k][i]))
    }
  }
  return { diff, scale, identical }
}

t.test('gcnScoreGrad: dedup and thread count change no bit; float32 agrees with float64 to float32 rounding', async t => {
  // Many repeated rows (NB-201-like: a few ops on a fixed DAG) and random graphs, every variant,
  // the direct backward (widths [6, 6]) and the lowest layer through M_u ([32, 16, 8]).
  const random = new Random(31)
  const repeated = randomBatch(40, new Random(32))
  const g: GraphBatch = { ...repeated, count: 160, adjacency: new Float32Array(160 * L * L), x: new Float32Array(160 * L * F), mask: new Float32Array(160 * L) }
  for (let k = 0; k < 160; k++) {
    const src = random.int(40)
    g.adjacency.set(repeated.adjacency.subarray(src * L * L, (src + 1) * L * L), k * L * L)
    g.mask.set(repeated.mask.subarray(src * L, (src + 1) * L), k * L)
    g.x.set(repeated.x.subarray(src * L * F, (src + 1) * L * F), k * L * F)
    if (k % 3 === 0) { // vary one vertex's type
      const v = random.int(L)
      if (g.mask[k * L + v] !== 0) { g.x.fill(0, (k * L + v) * F, (k * L + v + 1) * F); g.x[(k * L + v) * F + random.int(F)] = 1 }
    }
  }
  for (const norm of ['sym', 'row'] as const) {
    for (const pool of ['real', 'all'] as const) {
      for (const widths of [[6, 6], [32, 16, 8]]) {
        const p = randomParams(new Random(33), widths, pool === 'real', norm, pool)
        const name = `${norm}/${pool}/widths ${widths.join(',')}`
        const f64 = gcnScoreGrad(g, p, { precision: 'float64', threads: 1 })
        const f32 = gcnScoreGrad(g, p, { threads: 1 })
        for (const precision of ['float64', 'float32'] as const) {
          const base = precision === 'float64' ? f64 : f32
          t.ok(gradDiff(gcnScoreGrad(g, p, { precision, threads: 2 }), base).identical, `${name} ${precision}: 2 threads = 1 thread, bit for bit`)
          t.ok(gradDiff(gcnScoreGrad(g, p, { precision, threads: 3 }), base).identical, `${name} ${precision}: 3 threads = 1 thread`)
          t.ok(gradDiff(gcnScoreGrad(g, p, { precision, dedup: false, threads: 2 }), base).identical, `${name} ${precision}: without dedup, bit for bit`)
          // Every loop of the kernel (products, aggregations, pair dots, scores, dX, dA) split
          // over the threads however small (the work threshold at 1 multiply-add).
          process.env.NASRANK_GRAD_SPLIT_WORK = '1'
          try {
            for (const threads of [2, 3, 4]) t.ok(gradDiff(gcnScoreGrad(g, p, { precision, threads }), base).identical, `${name} ${precision}: every loop split over ${threads} threads, bit for bit`)
            t.ok(gradDiff(gcnScoreGrad(g, p, { precision, dedup: false, threads: 3 }), base).identical, `${name} ${precision}: every loop split, without dedup, bit for bit`)
          } finally { delete process.env.NASRANK_GRAD_SPLIT_WORK }
        }
        // float32: each output is a chain of sums of at most ~width terms per layer; float32's unit
        // roundoff is 2^-24 ≈ 6e-8, so errors of ~(layers · √width)·u ≈ 1e-6 of the gradient's scale
        // are expected; 2e-5 (≈ 300 u) leaves room for unlucky cancellation and fails on any real error.
        const { diff, scale } = gradDiff(f32, f64)
        t.ok(diff <= 2e-5 * Math.max(1, scale), `${name}: float32 within ${diff.toExponential(1)} of float64 (scale ${scale.toExponential(1)})`)
        // float64 is the brute-force reference's f to 1e-12.
        let worst = 0
        for (let k = 0; k < g.count; k += 7) worst = Math.max(worst, Math.abs(f64.f[k] - reference(p, g, k)) / Math.max(1, Math.abs(reference(p, g, k))))
        t.ok(worst < 1e-12, `${name}: float64 f = reference (${worst.toExponential(1)})`)
      }
    }
  }
  t.throws(() => gcnScoreGrad(g, randomParams(random, [4], false, 'row', 'all'), { precision: 'float16' as 'float32' }), { name: 'TypeError', message: /gcnScoreGrad: precision must be one of 'float64', 'float32'/ })
  t.throws(() => gcnScoreGrad(g, randomParams(random, [4], false, 'row', 'all'), { dedup: 1 as unknown as boolean }), { name: 'TypeError', message: /gcnScoreGrad: dedup must be a boolean/ })
  t.throws(() => gcnScoreGrad(g, randomParams(random, [4], false, 'row', 'all'), { device: 'cpu' } as unknown as { threads: number }), /gcnScoreGrad/)
})

t.test('gcnScoreGrad: a batch big enough that the threads split its products and pair dots is bit-identical to one thread', async t => {
  // 600 graphs, widths [128, 128]: the products (hundreds of distinct rows × 128 × 128), the
  // pair dots (600 · 64 · 128) and the aggregations are above the default work threshold (2^20
  // multiply-adds) at which the kernel splits a loop over the threads; the lowest layer goes
  // through M_u (4·F ≤ 128).
  const g = randomBatch(600, new Random(51))
  for (const [norm, pool] of [['row', 'all'], ['sym', 'real']] as const) {
    const p = randomParams(new Random(52), [128, 128], pool === 'real', norm, pool)
    for (const precision of ['float32', 'float64'] as const) {
      const one = gcnScoreGrad(g, p, { precision, threads: 1 })
      for (const threads of [2, 3, 4]) t.ok(gradDiff(gcnScoreGrad(g, p, { precision, threads }), one).identical, `${norm}/${pool} ${precision}: ${threads} threads = 1 thread, bit for bit`)
      if (precision === 'float64') {
        let worst = 0
        for (let k = 0; k < g.count; k += 37) worst = Math.max(worst, Math.abs(one.f[k] - reference(p, g, k)) / Math.max(1, Math.abs(reference(p, g, k))))
        t.ok(worst < 1e-12, `${norm}/${pool}: float64 f = reference (${worst.toExponential(1)})`)
      }
    }
  }
})

t.test('gcnScoreGrad: the portable kernels (NASRANK_NO_AVX2=1) agree with the dispatched ones', async t => {
  const g = randomBatch(50, new Random(41))
  const p = randomParams(new Random(42), [24, 12], false, 'row', 'all')
  const plain = (x: Float32Array | Float64Array): number[] => Array.from(x)
  const script = `
    const { gcnScoreGrad } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const d = JSON.parse(process.argv[1])
    const g = { ...d.g, adjacency: Float32Array.from(d.g.adjacency), x: Float32Array.from(d.g.x), mask: Float32Array.from(d.g.mask) }
    const p = { ...d.p, layers: d.p.layers.map(l => ({ w: Float64Array.from(l.w) })), fc: Float64Array.from(d.p.fc) }
    const out = {}
    for (const precision of ['float64', 'float32']) { const r = gcnScoreGrad(g, p, { precision }); out[precision] = { f: Array.from(r.f), dA: Array.from(r.dA), dX: Array.from(r.dX) } }
    console.log(JSON.stringify(out))`
  const arg = JSON.stringify({ g: { ...g, adjacency: plain(g.adjacency), x: plain(g.x), mask: plain(g.mask) }, p: { ...p, layers: p.layers.map(l => ({ w: plain(l.w) })), fc: plain(p.fc) } })
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script, arg], { encoding: 'utf8', env: { ...process.env, NASRANK_NO_AVX2: '1' } }))
  for (const precision of ['float64', 'float32'] as const) {
    const mine = gcnScoreGrad(g, p, { precision })
    const theirs = { f: Float64Array.from(out[precision].f), dA: Float64Array.from(out[precision].dA), dX: Float64Array.from(out[precision].dX) }
    const { diff, scale } = gradDiff(theirs, mine)
    t.ok(diff <= (precision === 'float64' ? 1e-12 : 2e-5) * Math.max(1, scale), `${precision}: portable within ${diff.toExponential(1)} (scale ${scale.toExponential(1)})`)
  }
})

t.test('gcnTrain equals RankGcn.fit (losses and weights), 1 and 2 threads bit-identical', async t => {
  const g = randomBatch(70, new Random(15))
  const idx = Array.from({ length: 70 }, (_, i) => (i * 7) % 70)
  const acc = Float64Array.from(idx, i => Math.round(new Random(i).float() * 20) / 20) // ties present
  for (const ties of ['positive', 'ignore'] as const) {
    const a = new RankGcn(L, F, { width: 9, epochs: 40, ties }).init(new Random(5))
    const b = new RankGcn(L, F, { width: 9, epochs: 40, ties }).init(new Random(5))
    const la = a.fit(g, acc, idx)
    const lb = await fitNative(b, g, acc, idx, { threads: 1 })
    t.ok(Array.from(lb).every((v, i) => close(v, la[i], 1e-10)), `${ties}: losses agree (first ${la[0]}, last ${la[39]} vs ${lb[39]})`)
    t.ok(a.w.every((w, l) => w.every((v, i) => close(v, b.w[l][i], 1e-9))) && a.fc.every((v, i) => close(v, b.fc[i], 1e-9)), `${ties}: weights agree`)
    const c = new RankGcn(L, F, { width: 9, epochs: 40, ties }).init(new Random(5))
    const lc = await fitNative(c, g, acc, idx, { threads: 2 })
    t.same(Array.from(lc), Array.from(lb), `${ties}: losses bit-identical at 2 threads`)
    t.ok(c.w.every((w, l) => w.every((v, i) => Object.is(v, b.w[l][i]))), `${ties}: weights bit-identical at 2 threads`)
  }
  // The first loss is the ordered-pair loss of the initial scores.
  const m = new RankGcn(L, F, { width: 4, epochs: 1 }).init(new Random(6))
  const f0 = m.score(g, idx)
  const first = gcnTrain(g, idx, acc, rankGcnParams(m), { epochs: 1, lr: 0.01, momentum: 0.9, ties: 'positive' }).losses[0]
  t.ok(close(first, orderedPairLoss(f0, acc).loss, 1e-12), 'loss before the first step')
})

t.test('gcnTrain with biases and the sym/real variant equals a plain-SGD reference by finite differences', async t => {
  // One step of plain SGD (momentum 0, 1 epoch: lr_0 = lr): w1 = w0 − lr ∂L/∂w, ∂L/∂w by central differences of the reference.
  const g = randomBatch(12, new Random(16))
  const idx = Array.from({ length: 12 }, (_, i) => i)
  const acc = Float64Array.from(idx, i => (i * 37) % 11)
  const p = randomParams(new Random(10), [4, 3], true, 'sym', 'real')
  const lr = 0.5
  const out = gcnTrain(g, idx, acc, p, { epochs: 1, lr, momentum: 0, ties: 'positive' })
  const lossOf = (q: RankGcnParams): number => orderedPairLoss(idx.map(k => reference(q, g, k)), acc).loss
  let bad = 0
  const h = 1e-6
  p.layers.forEach((layer, l) => {
    for (const key of ['w', 'b'] as const) {
      const arr = layer[key]!
      for (let i = 0; i < arr.length; i++) {
        const orig = arr[i]
        arr[i] = orig + h; const lp = lossOf(p)
        arr[i] = orig - h; const lm = lossOf(p)
        arr[i] = orig
        const want = orig - lr * (lp - lm) / (2 * h)
        if (Math.abs(out.layers[l][key]![i] - want) > 1e-6) bad++
      }
    }
  })
  t.equal(bad, 0, 'every weight and bias after one step')
  t.not(out.layers[0].w, p.layers[0].w, 'inputs not changed (new arrays)')
})

t.test('abort, errors', async t => {
  const g = randomBatch(40, new Random(17))
  const idx = Array.from({ length: 40 }, (_, i) => i)
  const acc = Float64Array.from(idx, i => i)
  const m = new RankGcn(L, F, { width: 64, epochs: 100000 }).init(new Random(1))
  const ctl = new AbortController()
  const reason = new Error('stop now')
  const p = fitNative(m, g, acc, idx, { signal: ctl.signal })
  setTimeout(() => ctl.abort(reason), 50)
  await t.rejects(p, reason, 'aborted with the signal\'s reason')
  const pre = new AbortController(); pre.abort(reason)
  await t.rejects(gcnTrainAsync(g, idx, acc, rankGcnParams(m), { epochs: 1, lr: 0.01, momentum: 0.9, ties: 'positive' }, { signal: pre.signal }), reason)
  const s = { epochs: 1, lr: 0.01, momentum: 0.9, ties: 'positive' as const }
  const params = rankGcnParams(new RankGcn(L, F, { width: 3 }).init(new Random(1)))
  t.throws(() => gcnTrain(g, [0], Float64Array.of(1), params, s), /at least 2 graphs/)
  t.throws(() => gcnTrain(g, [0, 1], Float64Array.of(1), params, s), /acc has length 1/)
  t.throws(() => gcnTrain(g, [0, 99], Float64Array.of(1, 2), params, s), /indices\[1\]/)
  t.throws(() => gcnTrain(g, [0, 1], Float64Array.of(1, NaN), params, s), /acc\[1\] is NaN/)
  t.throws(() => gcnTrain(g, [0, 1], Float64Array.of(1, 2), params, { ...s, momentum: 1 }), /settings\.momentum/)
  t.throws(() => gcnTrain(g, [0, 1], Float64Array.of(1, 2), params, { ...s, lr: 0 }), /settings\.lr/)
  t.throws(() => gcnTrain(g, [0, 1], Float64Array.of(1, 2), params, { ...s, ties: 'both' as 'ignore' }), /settings\.ties/)
  t.throws(() => gcnTrain(g, [0, 1], Float64Array.of(1, 2), { ...params, fc: new Float64Array(2) }, s), /params\.fc has length 2/)
  t.throws(() => gcnTrain(g, [0, 1], Float64Array.of(1, 2), { ...params, layers: [{ w: new Float64Array(7) }] }, s), /params\.layers\[0\]\.w has length 7/)
  t.throws(() => gcnScoreGrad(g, { ...params, norm: 'left' as 'row' }), /params\.norm/)
  // A diverging loss names the epoch.
  const big = rankGcnParams(new RankGcn(L, F, { width: 3 }).init(new Random(1)))
  big.layers.forEach(l => l.w.fill(1)); big.fc.fill(1e308)
  t.throws(() => gcnTrain(g, idx, acc, big, { ...s, epochs: 10 }), /gcnTrain: the loss is (NaN|infinite) at epoch \d/)
})

t.test('rankPairLoss (gcnTrain\'s loss) equals orderedPairLoss, ties both ways; errors name the index', async t => {
  const random = new Random(18)
  const n = 60
  const f = Float64Array.from({ length: n }, () => random.normal() * 2)
  const acc = Float64Array.from({ length: n }, () => random.int(9))
  for (const ties of ['positive', 'ignore'] as const) {
    const want = orderedPairLoss(f, acc, ties)
    const got = rankPairLoss(f, acc, ties)
    t.equal(got.pairs, want.pairs, `${ties}: pairs`)
    t.ok(close(got.loss, want.loss, 1e-12), `${ties}: loss ${got.loss} vs ${want.loss}`)
    t.ok(Array.from(got.grad).every((v, i) => Math.abs(v - want.grad[i]) < 1e-15), `${ties}: gradient`)
  }
  // Vector path: n not a multiple of 4 (masked tails), scores from 1e-9 to 1e3 apart (exp
  // underflow past |d| = 708), equal scores, and a well-ordered set whose loss is ~e^-40
  // (relative accuracy of log1p for tiny arguments).
  const cases: Array<[string, Float64Array, Float64Array]> = []
  for (const m of [2, 3, 5, 7, 61, 62, 63]) {
    const fm = Float64Array.from({ length: m }, (_, i) => i % 5 === 0 ? 0.5 : random.normal() * (i % 3 === 0 ? 600 : i % 3 === 1 ? 1e-9 : 3))
    cases.push([`wide n=${m}`, fm, Float64Array.from({ length: m }, () => random.int(4))])
  }
  cases.push(['separated', Float64Array.from({ length: 45 }, (_, i) => 40 * i + random.float()), Float64Array.from({ length: 45 }, (_, i) => i)])
  cases.push(['separated, spread < 700', Float64Array.from({ length: 17 }, (_, i) => 40 * i + random.float()), Float64Array.from({ length: 17 }, (_, i) => i)])
  cases.push(['equal scores', new Float64Array(9).fill(3.25), Float64Array.from({ length: 9 }, (_, i) => i % 3)])
  for (const [name, fc, ac] of cases) {
    for (const ties of ['positive', 'ignore'] as const) {
      const want = orderedPairLoss(fc, ac, ties)
      const got = rankPairLoss(fc, ac, ties)
      // Gradient entries are sums of σ − y over a row, divided by the pair count: σ − 1 cancels
      // for well-separated pairs in the reference as well, so they are compared on the scale of
      // one term (1 / pairs), to 1e-12 of it.
      const unit = 1 / Math.max(1, want.pairs)
      t.ok(got.pairs === want.pairs && Math.abs(got.loss - want.loss) <= 1e-12 * Math.abs(want.loss) &&
        Array.from(got.grad).every((v, i) => Math.abs(v - want.grad[i]) <= 1e-12 * (unit + Math.abs(want.grad[i]))),
      `${name}, ${ties}: loss ${got.loss} vs ${want.loss}`)
    }
  }
  t.throws(() => rankPairLoss(Float64Array.of(1), Float64Array.of(1)), /at least 2 architectures, got 1/)
  t.throws(() => rankPairLoss(Float64Array.of(1, 2, 3), Float64Array.of(1, NaN, 3)), /acc\[1\] is NaN/)
  t.throws(() => rankPairLoss(Float64Array.of(1, 2), Float64Array.of(1)), /acc has length 1/)
  t.throws(() => rankPairLoss(f, acc, 'both' as 'ignore'), /ties/)
})
