// CTNAS's code preset (`preset: 'code'`, the authors' chenyaofo/CTNAS where it differs from the
// paper) against float64 brute-force references (test/reference/ctnas.ts): the code's NAC
// (forward, and its gradient against central differences of the reference loss), the pairing
// and label rule (y = 1{R > R'}, strict), data exploration's selection (top-k by raw p,
// y' = 1{p > 0.5}), the baseline update and history best, β₀ uniform, and the search under the
// harness (query accounting, same seed ⇒ same result, resume bit for bit, bad settings).
import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Bench } from '../lib/bench/bench'
import { synthetic101, synthetic201 } from '../lib/bench/synthetic'
import { Random } from '../lib/random'
import { nacGraphTable } from '../lib/models/nac'
import { NacCode } from '../lib/models/nac-code'
import { ctnas, codePairs, codeHistoryBest, selectCodePseudoPairs, permutation, CODE_DERIVE, type CtnasFinalState } from '../lib/search/ctnas'
import { ctnasSpace } from '../lib/search/ctnas-space'
import { runSearch } from '../lib/search/index'
import { nb201 } from '../lib/spaces/nb201'
import { refNacCodeProb, refNacCodeLoss, refCodePseudo, refBaseline } from './reference/ctnas'

const close = (a: number, b: number, rel = 1e-9, abs = 1e-12): boolean => Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b))
const opsOf = (i: number): number[] => Array.from(nb201.fromIndex(i))
const sigma = (x: number): number => 1 / (1 + Math.exp(-x))

t.test('code NAC: forward matches the reference (X·E, 4 × ReLU(Ã(HW) + H + b), mean over V, σ([z_a; z_b]·w + c))', async t => {
  const random = new Random(11)
  const D = 16; const L = 4
  const nac = new NacCode(random.fork(), { hidden: D })
  t.equal(nac.layers, 4, 'the code\'s n_layers')
  t.equal(nac.params.length, 7 * D + L * (D * D + D) + 2 * D + 1)
  // Cells with none edges and pruned edges (dummy vertices), and plain ones.
  const cells = [0, 1, 6, 31, 155, 777, 3124, 8000, 12345, 15624, ...Array.from({ length: 10 }, () => random.int(15625))]
  let bad = 0
  const a = cells; const b = [...cells].reverse()
  const p = nac.compare(a, b)
  for (let k = 0; k < a.length; k++) {
    const ref = refNacCodeProb(nac.params, D, L, opsOf(a[k]), opsOf(b[k]))
    if (!close(p[k], ref, 1e-9)) { bad++; t.fail(`pair ${a[k]}, ${b[k]}: ${p[k]} vs ${ref}`) }
  }
  t.equal(bad, 0, 'p(a ≻ b) of every pair as the reference')
  // heads(): p = σ(u_a + v_b), the bias folded into u; the cache gives the same values.
  const h = nac.heads(a)
  for (let k = 0; k < a.length; k++) t.ok(close(sigma(h.u[k] + nac.heads([b[k]]).v[0]), p[k], 1e-12), `heads of pair ${k}`)
  nac.invalidate()
  t.same(Array.from(nac.heads(a).u), Array.from(h.u), 'recomputed = cached')
})

t.test('code NAC: gradient of the mean BCE matches central differences of the reference loss (every parameter)', async t => {
  const random = new Random(12)
  const D = 5; const L = 4
  const nac = new NacCode(random.fork(), { hidden: D })
  const ids = [3, 40, 155, 777, 9001, 15624]
  const pairs = { a: [3, 40, 155, 777, 9001, 3], b: [15624, 40, 3, 9001, 155, 777], y: [1, 0, 1, 0, 1, 1] }
  const loss = nac.lossAndGrad(pairs)
  const refPairs = pairs.a.map((x, k) => ({ a: opsOf(x), b: opsOf(pairs.b[k]), y: pairs.y[k] }))
  const theta = Array.from(nac.params)
  t.ok(close(loss, refNacCodeLoss(theta, D, L, refPairs), 1e-9), 'the loss as the reference')
  let worst = 0
  for (let k = 0; k < theta.length; k++) {
    const h = 1e-5
    const plus = [...theta]; plus[k] += h
    const minus = [...theta]; minus[k] -= h
    const fd = (refNacCodeLoss(plus, D, L, refPairs) - refNacCodeLoss(minus, D, L, refPairs)) / (2 * h)
    const err = Math.abs(fd - nac.grad[k]) / (1e-6 + Math.abs(fd) + Math.abs(nac.grad[k]))
    worst = Math.max(worst, err)
  }
  t.ok(worst < 1e-5, `every parameter's gradient within 1e-5 (relative) of central differences: worst ${worst.toExponential(2)} over ${theta.length}`)
  // A training step changes p (the cache is dropped).
  const before = nac.compare([ids[0]], [ids[5]])[0]
  nac.adam.step(nac.params, nac.grad); nac.invalidate()
  t.not(nac.compare([ids[0]], [ids[5]])[0], before)
  const trained = new NacCode(new Random(12).fork(), { hidden: D })
  const p0 = trained.compare([3], [15624])[0]
  trained.train(pairs)
  t.not(trained.compare([3], [15624])[0], p0, 'train() drops the cached embeddings')
})

t.test('code NAC: the code\'s initialisation (E ~ N(0, 1), W and b ~ U(±1/√D), head ~ U(±1/√2D))', async t => {
  const D = 128
  const nac = new NacCode(new Random(13), { graphs: nacGraphTable() })
  const E = nac.params.subarray(0, 7 * D)
  const mean = E.reduce((s, x) => s + x, 0) / E.length
  const varE = E.reduce((s, x) => s + (x - mean) ** 2, 0) / E.length
  t.ok(Math.abs(mean) < 0.1 && Math.abs(varE - 1) < 0.15, `E: mean ${mean.toFixed(3)}, variance ${varE.toFixed(3)}`)
  const W = nac.params.subarray(7 * D, nac.oWa)
  t.ok(W.every(x => Math.abs(x) <= 1 / Math.sqrt(D)), 'every W_l and b_l within ±1/√D')
  t.ok(Math.max(...W.map(Math.abs)) > 0.9 / Math.sqrt(D), 'and they fill it')
  t.ok(nac.params.subarray(nac.oWa).every(x => Math.abs(x) <= 1 / Math.sqrt(2 * D)), 'head within ±1/√(2D)')
})

t.test('code pairing: each of a batch against a random permutation of itself, y = 1{R > R\'} (strict)', async t => {
  const random = new Random(14)
  const ids = [10, 11, 12, 13, 14, 15, 16, 17]
  const values = [90, 91, 91, 85, 91, 70, 99, 85] // ties: 91 ×3, 85 ×2
  let ties = 0
  for (let rep = 0; rep < 50; rep++) {
    const { a, b, y, perm } = codePairs(ids, values, random)
    t.same([...perm].sort((x, z) => x - z), ids.map((_, k) => k), 'a permutation')
    for (let k = 0; k < ids.length; k++) {
      t.equal(a[k], ids[k]); t.equal(b[k], ids[perm[k]])
      const want = values[k] > values[perm[k]] ? 1 : 0
      if (y[k] !== want) t.fail(`pair ${k}: y ${y[k]}, want ${want}`)
      if (values[k] === values[perm[k]]) { ties++; if (y[k] !== 0) t.fail('a tie is labelled 0 (strict >)') }
    }
  }
  t.ok(ties > 0, `ties met (${ties}), all labelled 0`)
  // The permutation is uniform: each of the 3! orders of 3 items about 1/6 of the time.
  const counts = new Map<string, number>()
  for (let rep = 0; rep < 6000; rep++) { const k = permutation(3, random).join(''); counts.set(k, (counts.get(k) ?? 0) + 1) }
  t.equal(counts.size, 6)
  for (const [k, n] of counts) t.ok(Math.abs(n - 1000) < 150, `order ${k}: ${n} of 6000`)
})

t.test('code exploration: the top-k pairs by raw p (earliest on ties), y\' = 1{p > 0.5}', async t => {
  const random = new Random(15)
  for (let rep = 0; rep < 30; rep++) {
    const n = 1 + random.int(60)
    const p = Array.from({ length: n }, () => [0.5, 0.25, 0.75, 0.9][random.int(4)] + (random.float() < 0.5 ? 0 : random.float() * 0.1 - 0.05))
    const keep = 1 + random.int(n + 5)
    const got = selectCodePseudoPairs(p, keep)
    const want = refCodePseudo(p, keep)
    t.same(Array.from(got.index), want.map(w => w.index), `n ${n}, keep ${keep}: the indices`)
    t.same(Array.from(got.label), want.map(w => w.label), 'the labels')
  }
  const exact = selectCodePseudoPairs([0.5, 0.5000001, 0.2], 3)
  t.same(Array.from(exact.index), [1, 0, 2])
  t.same(Array.from(exact.label), [1, 0, 0], 'p = 0.5 is labelled 0 (strict >)')
})

t.test('code baseline update: Eq. 5 over the 10 fresh samples ∪ the previous history best, the last maximum wins, no deduplication', async t => {
  const random = new Random(16)
  const nac = new NacCode(random.fork(), { hidden: 8 })
  for (let rep = 0; rep < 10; rep++) {
    const fresh = Array.from({ length: CODE_DERIVE }, () => random.int(15625))
    if (rep % 2 === 0) fresh[3] = fresh[7] // a repeated sample stays twice
    const previous = random.int(15625)
    const H = [...fresh, previous]
    const prob = H.map(i => H.map(j => nac.compare([i], [j])[0]))
    t.equal(codeHistoryBest(nac, fresh, previous), H[refBaseline(prob).best], `rep ${rep}`)
  }
  // The previous best wins a tie (it comes last).
  const same = [5, 5, 5]
  t.equal(codeHistoryBest(nac, same, 5), 5)
})

t.test('code β₀: every decision uniform (the code\'s force_uniform)', async t => {
  const bench = new Bench(synthetic201())
  const space = ctnasSpace(bench)
  const random = new Random(17)
  const counts = Array.from({ length: 6 }, () => new Array<number>(5).fill(0))
  const N = 5000
  for (let k = 0; k < N; k++) {
    const ops = nb201.fromIndex(space.sampleUniform(random))
    for (let e = 0; e < 6; e++) counts[e][ops[e]]++
  }
  let chi = 0
  for (const row of counts) for (const c of row) chi += (c - N / 5) ** 2 / (N / 5)
  t.ok(chi < 60, `χ² over 6 × 5 cells (24 df): ${chi.toFixed(1)}`)
})

const SETTINGS = { preset: 'code' as const, iterations: 60, pretrainEpochs: 5, exploreEvery: 10, exploreKeep: 16, batchPairs: 32, baselineEvery: 20, finalSamples: 30, hidden: 8 }

t.test('code preset under the harness: accounting, the history best as the output, determinism, bad settings', async t => {
  const bench = new Bench(synthetic201())
  let fin: CtnasFinalState | undefined
  const a = await runSearch(ctnas(SETTINGS, { onFinal: f => { fin = f } }), bench, { budget: 40, seed: 3, checkpoints: [30, 40] })
  t.equal(a.queried, 40, 'labelled 30 + top-10 = the budget')
  t.equal(a.settings.preset, 'code', 'the preset is in the settings (and so in the rows and the cell key)')
  const f = fin as CtnasFinalState
  t.equal(f.baselines.length, 1 + 3, 'β₀ and one update at iterations 0, 20, 40 (the code\'s iter_ % 500 == 0 from 0, here every 20)')
  t.equal(f.ranked[0], f.output, 'the final pick starts with the history best')
  if (!f.labelled.includes(f.output)) t.equal(f.picked[0], f.rowByIndex[f.output], 'the history best, not yet labelled, is the first query of the pick')
  const b = await runSearch(ctnas(SETTINGS), bench, { budget: 40, seed: 3, checkpoints: [30, 40] })
  t.same(b.checkpoints, a.checkpoints, 'same seed ⇒ same result')
  const paper = await runSearch(ctnas({ ...SETTINGS, preset: 'paper', exploreKeep: 16, explorePairs: 32 }), bench, { budget: 40, seed: 3, checkpoints: [30, 40] })
  t.equal(paper.settings.preset, 'paper')
  t.not(JSON.stringify(paper.settings), JSON.stringify(a.settings), 'another preset, other settings (another cell)')
  for (const baseline of ['fixed', 'random'] as const) {
    const r = await runSearch(ctnas({ ...SETTINGS, baseline }), bench, { budget: 40, seed: 3 })
    t.equal(r.queried, 40, `baseline ${baseline}`)
  }
  t.equal((await runSearch(ctnas({ ...SETTINGS, pseudoRatio: 0 }), bench, { budget: 40, seed: 3 })).queried, 40, 'no exploration, no NAC epochs in the search (r = 0)')
  t.equal((await runSearch(ctnas({ ...SETTINGS, pseudoRatio: 2 }), bench, { budget: 40, seed: 3 })).queried, 40, 'r = 2: two pseudo pairs per labelled pair')
  t.equal(ctnas({ preset: 'code' }).settings.pseudoRatio, 1, 'the code\'s pseudo_ratio 1.0')
  t.equal(ctnas({ preset: 'code' }).settings.baselineEvery, 500)
  t.equal(ctnas({ preset: 'code' }).settings.exploreEvery, 100)
  t.equal(ctnas({ preset: 'code' }).settings.exploreKeep, 100)
  t.equal(ctnas({}).settings.preset, 'paper', 'paper by default')
  t.throws(() => ctnas({ preset: 'torch' as never }), /settings.preset/)
  t.throws(() => ctnas({ preset: 'code', pseudoRatio: -1 }), /pseudoRatio \(code preset: pseudo pairs per labelled pair\) must be a finite number ≥ 0/)
  t.throws(() => ctnas({ pseudoRatio: 1 }), /pseudoRatio must be a number in \[0, 1\)/, 'the paper preset keeps r < 1')
})

function sameFinalState (t: Test, b: CtnasFinalState, a: CtnasFinalState): void {
  t.same(b.baselines, a.baselines, 'same baselines')
  t.equal(b.output, a.output, 'same history best')
  t.same(b.ranked, a.ranked, 'same final ranking')
  t.same(b.picked, a.picked, 'same picks')
  t.same(Array.from(b.controller.params), Array.from(a.controller.params), 'same controller parameters, bit for bit')
  t.same(Array.from(b.nac.params), Array.from(a.nac.params), 'same NAC parameters, bit for bit')
  t.same(b.random.state(), a.random.state(), 'same PRNG state')
}

t.test('code preset checkpoints: interrupted after iteration t and resumed equals the uninterrupted run, bit for bit', async t => {
  const bench = new Bench(synthetic201())
  const settings = { ...SETTINGS, iterations: 250, exploreEvery: 30, baselineEvery: 40 }
  const dir = t.testdir({})
  const file = path.join(dir, 'ck', 'run.json')
  const opts = { budget: 40, seed: 6, checkpoints: [30, 40] }
  let wholeFinal: CtnasFinalState | undefined
  const whole = await runSearch(ctnas(settings, { onFinal: f => { wholeFinal = f } }), bench, opts)
  const stop = new Error('interrupted')
  await t.rejects(runSearch(ctnas(settings, { checkpointEvery: 50, onIteration: it => { if (it === 130) throw stop } }), bench, { ...opts, checkpointFile: file }), /interrupted/)
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { t: number, historyBest: number, explorations: number }
  t.equal(saved.t, 100, 'the checkpoint holds iteration 100')
  t.equal(saved.explorations, 4, 'explorations at iterations 0, 30, 60, 90 (it = t − 1)')
  const seen: number[] = []
  let resumedFinal: CtnasFinalState | undefined
  const resumed = await runSearch(ctnas(settings, { checkpointEvery: 50, onIteration: it => seen.push(it), onFinal: f => { resumedFinal = f } }), bench, { ...opts, checkpointFile: file })
  t.equal(seen[0], 101, 'the resumed run starts at iteration 101')
  sameFinalState(t, resumedFinal as CtnasFinalState, wholeFinal as CtnasFinalState)
  t.same(resumed.checkpoints, whole.checkpoints, 'resumed = uninterrupted (incumbents)')
  // The paper preset's checkpoint is another run's: not used.
  const other: number[] = []
  await runSearch(ctnas({ ...settings, preset: 'paper', explorePairs: 32 }, { checkpointEvery: 50, onIteration: it => other.push(it) }), bench, { ...opts, checkpointFile: path.join(dir, 'ck2.json') })
  t.equal(other[0], 1)
})

t.test('code preset on synthetic-101: the code NAC over NB-101 graphs (V 7, 6 ids), budget and determinism', async t => {
  const bench = new Bench(await synthetic101())
  let fin: CtnasFinalState | undefined
  const settings = { ...SETTINGS, iterations: 40, finalSamples: 20 }
  const a = await runSearch(ctnas(settings, { onFinal: f => { fin = f } }), bench, { budget: 30, seed: 2, checkpoints: [20, 30] })
  t.equal(a.queried, 30)
  const f = fin as CtnasFinalState
  t.ok(f.nac instanceof NacCode, 'the code preset\'s NAC')
  t.equal(f.nac.graphs.vertices, 7)
  t.equal(f.nac.graphs.features, 6)
  t.ok(f.rowByIndex[f.output] >= 0, 'the history best is a cell of the bench')
  const b = await runSearch(ctnas(settings), bench, { budget: 30, seed: 2, checkpoints: [20, 30] })
  t.same(b.checkpoints, a.checkpoints, 'same seed ⇒ same result')
})
