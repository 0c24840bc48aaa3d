// CTNAS on NB-201 against the float64 references of test/reference/ctnas.ts: the NAC's input
// graphs, forward pass and gradient (finite differences), the controller's log π (sums to 1
// over all 15,625 sequences), its BPTT gradient (finite differences) and the REINFORCE
// gradient (the exact expectation over every sequence, and a Monte-Carlo estimate of it),
// data exploration's selection, the baseline curriculum (Eq. 5) and the search method under
// the harness (query accounting, determinism, bad settings).
import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Bench } from '../lib/bench/bench'
import { synthetic201 } from '../lib/bench/synthetic'
import { Random } from '../lib/random'
import { Nac, nacGraphTable, sigmoid } from '../lib/models/nac'
import { Controller } from '../lib/models/controller'
import { ctnas, selectPseudoPairs, baselineScores, type CtnasFinalState } from '../lib/search/ctnas'
import { runSearch, searchMethod } from '../lib/search/index'
import { nb201 } from '../lib/spaces/nb201'
import { comparatorKendall, scalarKendall } from '../lib/metrics/comparator-kendall'
import { linearComparatorKendall } from '../lib/models/linear-comparator'
import { refNacGraph, refNacEmbed, refNacProb, refControllerLogProb, refBaseline, refPseudo } from './reference/ctnas'

const close = (a: number, b: number, rel = 1e-9, abs = 1e-12): boolean => Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b))
const opsOf = (i: number): number[] => Array.from(nb201.fromIndex(i))


/** A resumed run's final state equals the uninterrupted run's: baselines, ranking, picks, NAC, controller and PRNG, bit for bit. */
function sameFinalState (t: Test, b: CtnasFinalState, a: CtnasFinalState): void {
  t.same(b.baselines, a.baselines, 'same baselines')
  t.same(b.ranked, a.ranked, 'same final ranking')
  t.same(b.picked, a.picked, 'same picks')
  t.same(Array.from(b.controller.params), Array.from(a.controller.params), 'same controller parameters, bit for bit')
  t.same(Array.from(b.nac.params), Array.from(a.nac.params), 'same NAC parameters, bit for bit')
  t.same(b.random.state(), a.random.state(), 'same PRNG state')
}

t.test('NAC graphs: every cell with a none or pruned edge as a dummy vertex, Â = D̃^−½(Aᵀ+I)D̃^−½', async t => {
  const table = nacGraphTable()
  const random = new Random(3)
  // Fixed cells (all none, all conv, a cell whose edges into node 3 are none) and 300 random ones.
  const cells = [0, 15624, nb201.index('|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|none~1|none~2|'), ...Array.from({ length: 300 }, () => random.int(15625))]
  let bad = 0
  for (const idx of cells) {
    const { norm, feat } = refNacGraph(opsOf(idx))
    for (let i = 0; i < 8; i++) {
      if (table.feat[idx * 8 + i] !== feat[i]) bad++
      for (let j = 0; j < 8; j++) if (!close(table.norm[idx * 64 + i * 8 + j], norm[i][j])) bad++
      let col = 0
      for (let r = 0; r < 8; r++) col += norm[r][i]
      if (!close(table.colSum[idx * 8 + i], col)) bad++
    }
    if (table.pruned[idx] !== nb201.index(nb201.prune(nb201.fromIndex(idx)))) bad++
  }
  t.equal(bad, 0, 'graphs, features, column sums and pruned forms match the reference')
  // The cell with no path to the output is all dummy between input and output.
  t.same(Array.from(table.feat.subarray(0, 8)), [1, 0, 0, 0, 0, 0, 0, 6])
})

t.test('NAC forward matches Z = Â·ReLU(Â X W0)·W1, mean pooled, σ([z_a; z_b]·w)', async t => {
  const D = 12
  const nac = new Nac(new Random(5), { hidden: D })
  const random = new Random(6)
  const idx = Array.from({ length: 20 }, () => random.int(15625))
  const z = nac.embed(idx)
  let worst = 0
  idx.forEach((i, k) => {
    const ref = refNacEmbed(nac.params, D, opsOf(i))
    for (let q = 0; q < D; q++) worst = Math.max(worst, Math.abs(z[k * D + q] - ref[q]) / (1e-12 + Math.abs(ref[q])))
  })
  t.ok(worst < 1e-9, `embeddings: worst relative error ${worst}`)
  const a = idx.slice(0, 10); const b = idx.slice(10)
  const p = nac.compare(a, b)
  for (let k = 0; k < 10; k++) t.ok(close(p[k], refNacProb(nac.params, D, opsOf(a[k]), opsOf(b[k])), 1e-9), `pair ${k}`)
  // The paper's comparator is not antisymmetric by construction: p(a ≻ b) + p(b ≻ a) = 1 only if w_a = −w_b.
  const swapped = nac.compare(b, a)
  t.ok(p.some((x, k) => Math.abs(x + swapped[k] - 1) > 1e-6), 'not antisymmetric at random init')
  const anti = new Nac(new Random(5), { hidden: D })
  for (let k = 0; k < D; k++) anti.params[anti.oWb + k] = -anti.params[anti.oWa + k]
  const pa = anti.compare(a, b); const pb = anti.compare(b, a)
  for (let k = 0; k < 10; k++) t.ok(close(pa[k] + pb[k], 1, 1e-12), 'w_b = −w_a: antisymmetric')
})

t.test('NAC gradient of the mean BCE matches central finite differences (every parameter)', async t => {
  const D = 5
  const nac = new Nac(new Random(11), { hidden: D })
  const random = new Random(12)
  const a: number[] = []; const b: number[] = []; const y: number[] = []
  for (let k = 0; k < 12; k++) { a.push(random.int(15625)); b.push(random.int(15625)); y.push(random.int(2)) }
  a.push(a[0]); b.push(a[1]); y.push(1) // repeats share an embedding
  const loss = nac.lossAndGrad({ a, b, y })
  const ref = (() => {
    let s = 0
    for (let k = 0; k < a.length; k++) {
      const p = refNacProb(nac.params, D, opsOf(a[k]), opsOf(b[k]))
      s -= y[k] * Math.log(p) + (1 - y[k]) * Math.log(1 - p)
    }
    return s / a.length
  })()
  t.ok(close(loss, ref, 1e-9), `loss ${loss} vs ${ref}`)
  const grad = Float64Array.from(nac.grad)
  let worst = 0
  const h = 1e-6
  for (let k = 0; k < nac.params.length; k++) {
    const keep = nac.params[k]
    nac.params[k] = keep + h; const up = nac.lossAndGrad({ a, b, y })
    nac.params[k] = keep - h; const down = nac.lossAndGrad({ a, b, y })
    nac.params[k] = keep
    const fd = (up - down) / (2 * h)
    worst = Math.max(worst, Math.abs(fd - grad[k]) / (1e-7 + Math.abs(fd)))
  }
  t.ok(worst < 1e-4, `worst relative error ${worst} over ${nac.params.length} parameters`)
  // Training lowers the loss on a fixed batch.
  const before = nac.lossAndGrad({ a, b, y })
  const fresh = new Nac(new Random(11), { hidden: D, lr: 0.01, weightDecay: 0 })
  for (let s = 0; s < 200; s++) fresh.train({ a, b, y })
  t.ok(fresh.lossAndGrad({ a, b, y }) < before, 'Adam steps reduce the batch loss')
})

t.test('controller: log π as the reference; Σ over all 15,625 sequences of π = 1', async t => {
  const H = 16
  const c = new Controller(new Random(21), H)
  const random = new Random(22)
  for (let k = 0; k < 10; k++) {
    const s = c.sample(random)
    const ref = refControllerLogProb(c.params, H, Array.from(s.ops))
    t.ok(close(s.logProb, ref.logProb, 1e-10), `log π of sample ${k}`)
    t.ok(close(s.entropy, ref.entropy, 1e-10), `entropy of sample ${k}`)
    const forced = c.sample(null, s.ops)
    t.equal(forced.logProb, s.logProb, 'a forced sequence scores as sampled')
  }
  let total = 0
  for (let i = 0; i < 15625; i++) total += Math.exp(c.sample(null, nb201.fromIndex(i)).logProb)
  t.ok(Math.abs(total - 1) < 1e-6, `Σ π = ${total}`)
  // Same seed ⇒ same samples.
  const s1 = new Controller(new Random(4), H).sample(new Random(9))
  const s2 = new Controller(new Random(4), H).sample(new Random(9))
  t.same(Array.from(s1.ops), Array.from(s2.ops))
})

t.test('controller.sampleMany: step-major draws from the reference distribution of each prefix', async t => {
  const H = 8
  const c = new Controller(new Random(71), H)
  for (let k = 0; k < c.params.length; k++) c.params[k] *= 6
  const n = 40
  const got = c.sampleMany(n, new Random(72))
  const random = new Random(72)
  const ref = Array.from({ length: n }, () => [0, 0, 0, 0, 0, 0])
  for (let s = 0; s < 6; s++) {
    for (let k = 0; k < n; k++) {
      const p = refControllerLogProb(c.params, H, ref[k]).probs[s] // step s depends only on ops[0..s−1]
      const r = random.float()
      let acc = 0
      let pick = 4
      for (let a = 0; a < 5; a++) { acc += p[a]; if (r < acc) { pick = a; break } }
      ref[k][s] = pick
    }
  }
  t.same(Array.from(got), ref.flat())
  t.ok(new Set(ref.map(r => r.join(''))).size > 1, 'the draws differ')
})

t.test('controller BPTT gradient of −A·log π − β·H matches finite differences', async t => {
  const H = 4
  const c = new Controller(new Random(31), H)
  // Larger weights so the gradient is not tiny everywhere.
  for (let k = 0; k < c.params.length; k++) c.params[k] *= 8
  const s = c.sample(new Random(32))
  const A = 0.7; const beta = 0.3
  c.grad.fill(0)
  c.backward(s, A, beta)
  const f = (): number => { const r = c.sample(null, s.ops); return -A * r.logProb - beta * r.entropy }
  let worst = 0
  const h = 1e-6
  for (let k = 0; k < c.params.length; k++) {
    const keep = c.params[k]
    c.params[k] = keep + h; const up = f()
    c.params[k] = keep - h; const down = f()
    c.params[k] = keep
    const fd = (up - down) / (2 * h)
    worst = Math.max(worst, Math.abs(fd - c.grad[k]) / (1e-6 + Math.abs(fd)))
  }
  t.ok(worst < 1e-4, `worst relative error ${worst} over ${c.params.length} parameters`)
})

t.test('REINFORCE: Σ_s π(s) r(s) ∇log π(s) is the gradient of the exact expected reward; Monte Carlo agrees', async t => {
  const H = 3
  const c = new Controller(new Random(41), H)
  for (let k = 0; k < c.params.length; k++) c.params[k] *= 10
  const reward = new Float64Array(15625)
  const rr = new Random(42)
  for (let i = 0; i < 15625; i++) reward[i] = rr.float()
  const expected = (): number => {
    let j = 0
    for (let i = 0; i < 15625; i++) j += Math.exp(c.sample(null, nb201.fromIndex(i)).logProb) * reward[i]
    return j
  }
  // backward accumulates −r·∇log π; weighted by π(s) over all s it is −∇J exactly.
  c.grad.fill(0)
  for (let i = 0; i < 15625; i++) {
    const s = c.sample(null, nb201.fromIndex(i))
    c.backward(s, Math.exp(s.logProb) * reward[i])
  }
  const exact = Float64Array.from(c.grad, g => -g)
  const coords = [0, 7, 50, c.params.length - 1, c.params.length - 20, 100]
  const h = 1e-5
  for (const k of coords) {
    const keep = c.params[k]
    c.params[k] = keep + h; const up = expected()
    c.params[k] = keep - h; const down = expected()
    c.params[k] = keep
    const fd = (up - down) / (2 * h)
    t.ok(Math.abs(fd - exact[k]) < 1e-6 + 1e-4 * Math.abs(fd), `∂J/∂θ[${k}]: exact ${exact[k]} vs finite difference ${fd}`)
  }
  // The one-sample REINFORCE estimator r·∇log π is unbiased: the mean of N draws lies within 4 se.
  const N = 20000
  const random = new Random(43)
  const sum = new Float64Array(c.params.length)
  const sq = new Float64Array(c.params.length)
  for (let n = 0; n < N; n++) {
    const s = c.sample(random)
    c.grad.fill(0)
    c.backward(s, reward[nb201.index(s.ops)])
    for (const k of coords) { sum[k] -= c.grad[k]; sq[k] += c.grad[k] ** 2 }
  }
  for (const k of coords) {
    const mean = sum[k] / N
    const se = Math.sqrt((sq[k] / N - mean * mean) / N)
    t.ok(Math.abs(mean - exact[k]) < 4 * se + 1e-12, `Monte Carlo θ[${k}]: ${mean} ± ${se} vs exact ${exact[k]}`)
  }
})

t.test('data exploration keeps the most confident pairs with y = 1{p ≥ 0.5}', async t => {
  const random = new Random(51)
  for (let trial = 0; trial < 30; trial++) {
    const n = 1 + random.int(60)
    // Coarse values so ties (and p = 0.5 exactly) occur.
    const p = Array.from({ length: n }, () => random.int(11) / 10)
    const keep = 1 + random.int(n + 5)
    const got = selectPseudoPairs(p, keep)
    const ref = refPseudo(p, keep)
    t.same(Array.from(got.index), ref.map(r => r.index), `trial ${trial}: indices`)
    t.same(Array.from(got.label), ref.map(r => r.label), `trial ${trial}: labels`)
  }
  t.same(Array.from(selectPseudoPairs([0.5], 1).label), [1], 'p = 0.5 is labelled 1 (≥)')
})

t.test('baseline curriculum: Eq. 5 row means and the last maximum wins', async t => {
  const random = new Random(61)
  for (let trial = 0; trial < 20; trial++) {
    const n = 2 + random.int(30)
    const u = Array.from({ length: n }, () => random.normal())
    const v = Array.from({ length: n }, () => random.normal())
    const prob = u.map(ui => v.map(vj => sigmoid(ui + vj)))
    const got = baselineScores(u, v)
    const ref = refBaseline(prob)
    t.equal(got.best, ref.best)
    t.ok(got.scores.every((s, i) => close(s, ref.scores[i], 1e-12)))
  }
  // Ties: equal candidates → the last one.
  t.equal(baselineScores([1, 1, 1], [0, 0, 0]).best, 2)
  t.same(baselineScores([3], [1]), { scores: new Float64Array(1), best: 0, bestScore: null })
  t.throws(() => baselineScores([], []), RangeError)
  t.throws(() => baselineScores([1, 2], [1]), /u has 2 values but v has 1/)
})

t.test('ctnas under the harness: query accounting, determinism, bad settings', async t => {
  const bench = new Bench(synthetic201())
  const settings = { iterations: 60, pretrainEpochs: 20, exploreEvery: 10, explorePairs: 32, exploreKeep: 16, baselineEvery: 20, finalSamples: 30, hidden: 16 }
  const a = await runSearch(ctnas(settings), bench, { budget: 40, seed: 3, checkpoints: [30, 40] })
  t.equal(a.queried, 40, 'labelled 30 + top-10 = the budget')
  t.equal(a.method, 'ctnas')
  const b = await runSearch(searchMethod('ctnas', settings), bench, { budget: 40, seed: 3, checkpoints: [30, 40] })
  t.same(b.checkpoints, a.checkpoints, 'same seed ⇒ same result')
  const c = await runSearch(ctnas(settings), bench, { budget: 40, seed: 4, checkpoints: [30, 40] })
  t.notSame(c.checkpoints.map(x => x.row), a.checkpoints.map(x => x.row), 'another seed, another search')
  for (const baseline of ['fixed', 'random'] as const) {
    const r = await runSearch(ctnas({ ...settings, baseline }), bench, { budget: 40, seed: 3 })
    t.equal(r.queried, 40, `baseline ${baseline}`)
  }
  const r0 = await runSearch(ctnas({ ...settings, pseudoRatio: 0 }), bench, { budget: 40, seed: 3 })
  t.equal(r0.queried, 40, 'no exploration (r = 0)')
  await t.rejects(runSearch(ctnas(settings), bench, { budget: 11, seed: 0 }), /at least 2 labelled architectures and topK = 10/)
  t.throws(() => ctnas({ pseudoRatio: 1 }), /pseudoRatio must be a number in \[0, 1\)/)
  t.throws(() => ctnas({ exploreKeep: 600 }), /exploreKeep \(600\) must not exceed settings.explorePairs \(512\)/)
  t.throws(() => ctnas({ iterations: -1 }), /settings.iterations/)
  t.throws(() => ctnas({ baseline: 'best' as never }), /settings.baseline/)
  t.throws(() => ctnas({ nope: 1 } as never), /nope/)
})

t.test('Eq. 12 KTau: pairs i < j, both tie rules, against a brute-force count', async t => {
  const random = new Random(81)
  for (let trial = 0; trial < 20; trial++) {
    const n = 2 + random.int(25)
    const truth = Array.from({ length: n }, () => random.int(6)) // ties on purpose
    const scores = Array.from({ length: n }, () => random.int(6))
    const prob = Array.from({ length: n * n }, () => random.int(5) / 4) // 0.5 occurs
    for (const ties of ['paper', 'code'] as const) {
      const s = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : ties === 'code' ? 1 : 0)
      let c = 0; let sc = 0; let pairs = 0
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          pairs++
          c += s(prob[i * n + j] - 0.5) * s(truth[i] - truth[j])
          sc += s(scores[i] - scores[j]) * s(truth[i] - truth[j])
        }
      }
      t.equal(comparatorKendall(prob, truth, ties), c / pairs)
      t.equal(scalarKendall(scores, truth, ties), sc / pairs)
    }
  }
  t.equal(scalarKendall([1, 2, 3], [10, 20, 30]), 1)
  t.equal(scalarKendall([3, 2, 1], [10, 20, 30]), -1)
  t.equal(scalarKendall([1, 1], [1, 2]), 0, 'paper: a tie counts 0')
  t.equal(scalarKendall([1, 1], [1, 2], 'code'), -1, 'code: sgn(0) = +1, against −1')
  t.throws(() => scalarKendall([1], [1]), /at least 2 architectures/)
  t.throws(() => scalarKendall([1, 2], [1, NaN]), /truth\[1\] is NaN/)
  t.throws(() => comparatorKendall([0.5, 0.5, 0.5], [1, 2]), /prob must hold n×n = 4 values/)
  t.throws(() => scalarKendall([1, 2], [1, 2], 'b' as never), /ties must be 'paper' or 'code'/)
})

t.test('RegressionNAS head: MSE gradient matches finite differences', async t => {
  const D = 4
  const nac = new Nac(new Random(91), { hidden: D })
  const random = new Random(92)
  const idx = Array.from({ length: 9 }, () => random.int(15625))
  idx.push(idx[0])
  const y = idx.map(() => random.normal())
  const loss = nac.regressionLossAndGrad(idx, y)
  const ref = idx.reduce((s, i, k) => {
    const z = refNacEmbed(nac.params, D, opsOf(i))
    let f = 0
    for (let q = 0; q < D; q++) f += z[q] * nac.params[nac.oWa + q]
    return s + (f - y[k]) ** 2
  }, 0) / idx.length
  t.ok(close(loss, ref, 1e-9), `loss ${loss} vs ${ref}`)
  const grad = Float64Array.from(nac.grad)
  let worst = 0
  const h = 1e-6
  for (let k = 0; k < nac.params.length; k++) {
    const keep = nac.params[k]
    nac.params[k] = keep + h; const up = nac.regressionLossAndGrad(idx, y)
    nac.params[k] = keep - h; const down = nac.regressionLossAndGrad(idx, y)
    nac.params[k] = keep
    worst = Math.max(worst, Math.abs((up - down) / (2 * h) - grad[k]) / (1e-7 + Math.abs((up - down) / (2 * h))))
  }
  t.ok(worst < 1e-4, `worst relative error ${worst}`)
})

t.test('ctnas onFinal hook: the labelled set, the picked rows and the final NAC', async t => {
  const bench = new Bench(synthetic201())
  const settings = { iterations: 30, pretrainEpochs: 5, exploreEvery: 10, explorePairs: 16, exploreKeep: 8, baselineEvery: 10, finalSamples: 20, hidden: 8 }
  let state: CtnasFinalState | null = null
  const r = await runSearch(ctnas(settings, { onFinal: s => { state = s } }), bench, { budget: 25, seed: 5, checkpoints: [15, 25] })
  const s = state as unknown as CtnasFinalState
  t.ok(s !== null, 'called once the search ended')
  t.equal(s.labelled.length, 15, 'M = 25 − 10')
  t.equal(s.picked.length, 10, 'the final pick queried topK rows')
  t.equal(new Set([...s.labelled.map(i => s.rowByIndex[i]), ...s.picked]).size, 25, 'labelled and picked are the 25 distinct queries')
  t.equal(r.queried, 25)
  t.equal(s.nac.hidden, 8)
})

t.test('checkpoints: a run interrupted after iteration t and resumed equals the uninterrupted run, bit for bit', async t => {
  const bench = new Bench(synthetic201())
  const settings = { iterations: 250, pretrainEpochs: 10, exploreEvery: 30, explorePairs: 32, exploreKeep: 16, baselineEvery: 40, finalSamples: 30, hidden: 16 }
  const dir = t.testdir({})
  const file = path.join(dir, 'ck', 'run.json')
  const opts = { budget: 40, seed: 6, checkpoints: [30, 40] }
  let wholeFinal: CtnasFinalState | undefined
  const whole = await runSearch(ctnas(settings, { onFinal: f => { wholeFinal = f } }), bench, opts)

  // Interrupted at t = 130: the last checkpoint is t = 100 (every 50).
  const stop = new Error('interrupted')
  await t.rejects(runSearch(ctnas(settings, { checkpointEvery: 50, onIteration: it => { if (it === 130) throw stop } }), bench, { ...opts, checkpointFile: file }), /interrupted/)
  t.equal((JSON.parse(fs.readFileSync(file, 'utf8')) as { t: number }).t, 100, 'the checkpoint holds iteration 100')
  const seen: number[] = []
  let resumedFinal: CtnasFinalState | undefined
  const resumed = await runSearch(ctnas(settings, { checkpointEvery: 50, onIteration: it => seen.push(it), onFinal: f => { resumedFinal = f } }), bench, { ...opts, checkpointFile: file })
  t.equal(seen[0], 101, 'the resumed run starts at iteration 101')
  const a = wholeFinal as CtnasFinalState
  const b = resumedFinal as CtnasFinalState
  sameFinalState(t, b, a)
  t.same(resumed.checkpoints, whole.checkpoints, 'resumed = uninterrupted (incumbents)')
  t.same(resumed.queried, whole.queried)

  // A checkpoint of another run (another seed) is not used: that run starts afresh, and equals its own uninterrupted run.
  const other: number[] = []
  const seed7 = await runSearch(ctnas(settings, { checkpointEvery: 50, onIteration: it => other.push(it) }), bench, { ...opts, seed: 7, checkpointFile: file })
  t.equal(other[0], 1, 'another run ignores the file')
  t.same(seed7.checkpoints, (await runSearch(ctnas(settings), bench, { ...opts, seed: 7 })).checkpoints)

  // Checkpointing does not change a run's result.
  t.same((await runSearch(ctnas(settings, { checkpointEvery: 7 }), bench, { ...opts, checkpointFile: path.join(dir, 'other.json') })).checkpoints, whole.checkpoints)

  // A damaged file is an error naming it, not a silent restart.
  fs.writeFileSync(file, '{"version": 1, "key": ')
  await t.rejects(runSearch(ctnas(settings), bench, { ...opts, checkpointFile: file }), /checkpoint .*run\.json is not valid JSON/)
  await t.rejects(runSearch(ctnas(settings, { checkpointEvery: 0 }), bench, opts), /hooks.checkpointEvery must be an integer ≥ 1/)
  await t.rejects(runSearch(ctnas(settings), bench, { ...opts, checkpointFile: '' }), /options.checkpointFile must be a non-empty path/)
})

t.test('labelling rounds: the budget in rounds, each round\'s top-k queried at its end and labelled; bad settings', async t => {
  const bench = new Bench(synthetic201())
  const settings = { iterations: 90, pretrainEpochs: 5, exploreEvery: 10, explorePairs: 16, exploreKeep: 8, baselineEvery: 10, finalSamples: 20, hidden: 8 }
  // Queries seen after each iteration: M0 = 40 − 3·5 = 25 random, then 5 at the end of rounds 1 and 2 (t = 30, 60), 5 at the end.
  const counts: number[] = []
  let state: CtnasFinalState | null = null
  const r = await runSearch(ctnas({ ...settings, rounds: 3, topK: 5 }, { onIteration: () => counts.push(bench.queries), onFinal: s => { state = s } }), bench, { budget: 40, seed: 2, checkpoints: [25, 40] })
  t.equal(r.queried, 40, 'every query counts; the budget is spent exactly')
  t.equal(counts.length, 90)
  t.same([counts[0], counts[28], counts[29], counts[58], counts[59], counts[89]], [25, 25, 30, 30, 35, 35], 'k = 5 new queries at the end of rounds 1 and 2 only')
  const s = state as unknown as CtnasFinalState
  t.equal(s.labelled.length, 35, 'the NAC\'s labelled set grew by the two intermediate picks')
  t.equal(s.picked.length, 5, 'the last round is the final pick')
  t.equal(new Set([...s.labelled.map(i => s.rowByIndex[i]), ...s.picked]).size, 40, 'labelled and picked are the 40 distinct queries')
  // The random labels are random search's first M0 (same seed), so rounds only change what follows.
  const rs = await runSearch(searchMethod('rs'), bench, { budget: 25, seed: 2, checkpoints: [25] })
  t.same(rs.checkpoints, r.checkpoints.slice(0, 1), 'the first M0 queries are random search\'s')
  // rounds: 1 is the one-shot protocol (M = B − k), as without the setting.
  const one = await runSearch(ctnas({ ...settings, rounds: 1, topK: 5 }), bench, { budget: 40, seed: 2, checkpoints: [35, 40] })
  t.same(one.checkpoints, (await runSearch(ctnas({ ...settings, topK: 5 }), bench, { budget: 40, seed: 2, checkpoints: [35, 40] })).checkpoints)
  t.notSame(one.checkpoints[1], r.checkpoints[1], 'another protocol, another search')
  // Extra NAC epochs after each round run, and change the search.
  const e = await runSearch(ctnas({ ...settings, rounds: 3, topK: 5, roundEpochs: 20 }), bench, { budget: 40, seed: 2 })
  t.equal(e.queried, 40)
  await t.rejects(runSearch(ctnas({ ...settings, rounds: 3, topK: 5 }), bench, { budget: 16, seed: 0 }), /must cover at least 2 labelled architectures and rounds × topK = 3 × 5 \(labelled budget − rounds·topK = 1\)/)
  await t.rejects(runSearch(ctnas({ ...settings, rounds: 3, topK: 5, labelled: 30 }), bench, { budget: 40, seed: 0 }), /labelled 30 = 30/)
  t.throws(() => ctnas({ rounds: 0 }), /settings\.rounds must be an integer/)
  t.throws(() => ctnas({ rounds: 2.5 }), /settings\.rounds must be an integer/)
  t.throws(() => ctnas({ roundEpochs: -1 }), /settings\.roundEpochs must be an integer/)
  t.throws(() => ctnas({ rounds: 5, iterations: 4 }), /settings\.iterations \(4\) must be at least settings\.rounds \(5\)/)
  t.match(ctnas({ rounds: 4 }).settings, { rounds: 4, roundEpochs: 0 })
})

t.test('checkpoints with labelling rounds: resumed across a round\'s labels equals the uninterrupted run, bit for bit', async t => {
  const bench = new Bench(synthetic201())
  const settings = { iterations: 250, pretrainEpochs: 10, exploreEvery: 30, explorePairs: 32, exploreKeep: 16, baselineEvery: 40, finalSamples: 30, hidden: 16, rounds: 3, topK: 5, roundEpochs: 5 }
  const dir = t.testdir({})
  const file = path.join(dir, 'run.json')
  const opts = { budget: 40, seed: 8, checkpoints: [25, 40] }
  let wholeFinal: CtnasFinalState | undefined
  const whole = await runSearch(ctnas(settings, { onFinal: f => { wholeFinal = f } }), bench, opts)
  // Rounds end at t = 83 and 167; interrupted at 130, the last checkpoint (every 50) is t = 100, after round 1's labels.
  const stop = new Error('interrupted')
  await t.rejects(runSearch(ctnas(settings, { checkpointEvery: 50, onIteration: it => { if (it === 130) throw stop } }), bench, { ...opts, checkpointFile: file }), /interrupted/)
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { t: number, labelled: number[] }
  t.equal(saved.t, 100)
  t.equal(saved.labelled.length, 30, 'the checkpoint holds M0 = 25 random and round 1\'s 5 labels, in query order')
  const seen: number[] = []
  let resumedFinal: CtnasFinalState | undefined
  const resumed = await runSearch(ctnas(settings, { checkpointEvery: 50, onIteration: it => seen.push(it), onFinal: f => { resumedFinal = f } }), bench, { ...opts, checkpointFile: file })
  t.equal(seen[0], 101, 'the resumed run starts at iteration 101')
  const a = wholeFinal as CtnasFinalState
  const b = resumedFinal as CtnasFinalState
  t.same(b.labelled, a.labelled, 'same labelled set, in order')
  sameFinalState(t, b, a)
  t.same(resumed.checkpoints, whole.checkpoints, 'resumed = uninterrupted (incumbents)')
  // A checkpoint whose labelled rows do not match its iteration's rounds is an error naming it.
  const file2 = path.join(dir, 'run2.json')
  await t.rejects(runSearch(ctnas(settings, { checkpointEvery: 50, onIteration: it => { if (it === 60) throw stop } }), bench, { ...opts, checkpointFile: file2 }), /interrupted/)
  const early = JSON.parse(fs.readFileSync(file2, 'utf8')) as { t: number, labelled: number[] }
  t.equal(early.t, 50)
  t.equal(early.labelled.length, 25, 'before round 1 ends only the M0 random labels')
  early.labelled.push(saved.labelled[29])
  fs.writeFileSync(file2, JSON.stringify(early))
  await t.rejects(runSearch(ctnas(settings), bench, { ...opts, checkpointFile: file2 }), /checkpoint .*run2\.json holds 26 labelled rows, the run labels 25 by iteration 50/)
})

t.test('Eq. 12 of a scalar predictor through the native comparator counts (u = f, v = −f), as the KTau table\'s all-cells column', async t => {
  const random = new Random(12)
  for (const n of [2, 7, 300]) {
    // Few distinct values: ties in the scores and in the truth.
    const f = Float64Array.from({ length: n }, () => random.int(6) / 3 - 0.7)
    const truth = Float64Array.from({ length: n }, () => random.int(5))
    for (const ties of ['paper', 'code'] as const) {
      t.equal(linearComparatorKendall({ u: f, v: f.map(x => -x) }, truth, ties).tau, scalarKendall(f, truth, ties), `n = ${n}, ${ties} ties`)
    }
  }
})
