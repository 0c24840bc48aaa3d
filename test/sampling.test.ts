// The efficient-sampling predictor loop (lib/search/sampling.ts): the straight-through
// gradient against finite differences of the relaxed architecture, the ML sampler against
// brute force, the uniform and evolutionary pool semantics, and the loop's accounting.
import t from 'tap'
import type * as Tap from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { synthetic101 } from '../lib/bench/synthetic'
import { Bench } from '../lib/bench/bench'
import { synthetic201 } from '../lib/bench/synthetic'
import { Random } from '../lib/random'
import { RankGcn, fitNative, inputGradientNative, scoreNative } from '../lib/models/rank-gcn'
import { nb201GraphBatch } from '../lib/encode/graph'
import { NB201_DAG_LINKS } from '../lib/spaces/nb201'
import { Oracle } from '../lib/search/oracle'
import { removeRunCheckpoint, runSearch, searchMethod } from '../lib/search/index'
import { NB101_THETA, benchGraphs, evolutionaryPool, gatherGraphs, mlPool, mlPool101, nb101Forward, nb101StraightThrough, nb201StraightThrough, readCheckpoint, removeCheckpoint, samplingLoop, samplingSettings, topK, uniformPool, type SamplingIteration } from '../lib/search/sampling'

const bench = new Bench(synthetic201())
const ops = bench.archs as Uint8Array

function oracleWith (queried: number[], budget = 1000): Oracle {
  bench.resetQueries()
  const o = new Oracle({ bench, budget, seed: 0, metric: 'val' })
  for (const r of queried) o.query(r)
  return o
}

/** The NB-201 graph of a relaxed one-hot y (6 × 5): X[e+1][o] = y[e][o], links scaled by the presence 1 − y[e][none] of both ends. */
function relaxedGraph (y: Float64Array): { vertices: number, features: number, adjacency: Float64Array, x: Float64Array } {
  const x = new Float64Array(48)
  const adjacency = new Float64Array(64)
  x[0] = 1; x[7 * 6 + 5] = 1
  const present = (v: number): number => v === 0 || v === 7 ? 1 : 1 - y[(v - 1) * 5]
  for (let e = 0; e < 6; e++) for (let o = 1; o < 5; o++) x[(e + 1) * 6 + o] = y[e * 5 + o]
  for (const [a, b] of NB201_DAG_LINKS) adjacency[a * 8 + b] = present(a) * present(b)
  return { vertices: 8, features: 6, adjacency, x }
}

t.test('straight-through gradient = ∂f/∂y of the relaxed architecture at the one-hot point (finite differences)', async t => {
  const model = new RankGcn(8, 6, { width: 7 }).init(new Random(3))
  const random = new Random(9)
  let worst = 0
  let checked = 0
  for (let trial = 0; trial < 20; trial++) {
    const arch = Uint8Array.from({ length: 6 }, () => random.int(5))
    const y = new Float64Array(30)
    for (let e = 0; e < 6; e++) y[e * 5 + arch[e]] = 1
    // The relaxed graph at the one-hot point is the bench's graph of the architecture.
    const g = nb201GraphBatch(arch)
    const r = relaxedGraph(y)
    t.same(Array.from(r.adjacency), Array.from(g.adjacency))
    t.same(Array.from(r.x), Array.from(g.x))
    const { dA, dX } = model.inputGradient(g)
    const st = new Float64Array(30)
    nb201StraightThrough(arch, dA, dX, st)
    const h = 1e-6
    for (let k = 0; k < 30; k++) {
      const keep = y[k]
      y[k] = keep + h; const up = model.score(relaxedGraph(y))[0]
      y[k] = keep - h; const down = model.score(relaxedGraph(y))[0]
      y[k] = keep
      const fd = (up - down) / (2 * h)
      // Skip the rare kink (a pre-activation exactly at 0 makes the two one-sided slopes differ).
      const fwd = (model.score(relaxedGraph((() => { const z = Float64Array.from(y); z[k] += h; return z })()))[0] - model.score(relaxedGraph(y))[0]) / h
      if (Math.abs(fwd - fd) > 1e-4) continue
      worst = Math.max(worst, Math.abs(fd - st[k]))
      checked++
    }
  }
  t.ok(checked > 400, `${checked} of 600 entries away from kinks`)
  t.ok(worst < 1e-6, `max |fd − straight-through| = ${worst}`)
})

t.test('ML sampler: gradient ascent reaches the top of f (brute force over all 15,625 cells); never an evaluated cell', async t => {
  const model = new RankGcn(8, 6, { width: 16 }).init(new Random(21))
  const graphs = benchGraphs(bench)
  const all = model.score(graphs)
  const sorted = Float64Array.from(all).sort()
  const p99 = sorted[Math.floor(0.99 * all.length)]
  const best = sorted[all.length - 1]
  const bestRow = all.indexOf(best)
  const oracle = oracleWith([bestRow, 17, 400])
  const pool = mlPool(model, oracle, 50, 60, 0.05, new Random(2))
  t.ok(pool.length > 0 && pool.length <= 50)
  t.equal(new Set(pool).size, pool.length, 'deduplicated')
  t.notOk(Array.from(pool).some(r => oracle.has(r)), 'nothing evaluated')
  const scores = Array.from(pool, r => all[r])
  const top = Math.max(...scores)
  t.ok(top >= p99, `best of the ML pool ${top} ≥ 99th percentile ${p99} (optimum ${best}, excluded as evaluated)`)
  const meanMl = scores.reduce((s, x) => s + x, 0) / scores.length
  const uni = uniformPool(oracle, bench.size, 50, new Random(2))
  const meanUni = Array.from(uni, r => all[r]).reduce((s, x) => s + x, 0) / uni.length
  t.ok(meanMl > meanUni, `ML pool mean ${meanMl} > uniform pool mean ${meanUni}`)
  t.same(Array.from(mlPool(model, oracle, 50, 60, 0.05, new Random(2))), Array.from(pool), 'deterministic')
})

t.test('ML sampler finds the optimum of a toy linear f(X) (brute force over all 15,625 cells)', async t => {
  // f = Σ wX·X on the NB-201 graphs: each edge's vertex adds the weight of its op (none: 0), so
  // the optimum takes, per edge, its op of positive weight, or none when every op weighs < 0.
  // One positive op per edge: Adam's steps are ±lr for a constant gradient, so the ascent sees
  // the sign of each op's weight, not its size (with several positive ops per edge the start
  // decides between them).
  const graphs = benchGraphs(bench)
  const V = graphs.vertices; const F = graphs.features
  for (const seed of [1, 2, 3]) {
    const r = new Random(seed, 9)
    const wX = new Float64Array(V * F)
    for (let k = 0; k < wX.length; k++) wX[k] = -0.1 - r.float()
    for (let e = 0; e < 6; e++) if (e !== seed) wX[(e + 1) * F + 1 + r.int(4)] = 0.1 + r.float() // edge `seed`: none is best
    const linear = (b: typeof graphs) => {
      const f = new Float64Array(b.count)
      for (let g = 0; g < b.count; g++) for (let k = 0; k < V * F; k++) f[g] += wX[k] * b.x[g * V * F + k]
      return f
    }
    const all = linear(graphs)
    let bestRow = 0
    for (let row = 1; row < all.length; row++) if (all[row] > all[bestRow]) bestRow = row
    const scorer = { scoreGrad: (b: typeof graphs) => ({ f: linear(b), dA: new Float64Array(b.count * V * V), dX: Float64Array.from({ length: b.count * V * F }, (_, k) => wX[k % (V * F)]) }) }
    const pool = mlPool(scorer, oracleWith([17, 400]), 10, 50, 0.05, new Random(seed))
    t.ok(Array.from(pool).includes(bestRow), `seed ${seed}: the pool holds the optimum of f (${all[bestRow].toFixed(3)})`)
    t.ok(Array.from(pool).every(row => all[row] === all[bestRow]), 'every start ends there')
  }
})

t.test('uniform pool: without replacement, nothing evaluated, uniform over the rest', async t => {
  const oracle = oracleWith([0, 1, 2, 3, 4, 5])
  const counts = new Float64Array(bench.size)
  for (let s = 0; s < 200; s++) {
    const p = uniformPool(oracle, bench.size, 500, new Random(s))
    t.equal(p.length, 500)
    if (new Set(p).size !== 500) t.fail('repeat')
    for (const r of p) { if (r < 6) t.fail('evaluated row in pool'); counts[r]++ }
  }
  // Each unevaluated row appears with probability 500/15619 per draw: 6.40 expected in 200 pools.
  let total = 0
  for (let r = 6; r < bench.size; r++) total += counts[r]
  t.equal(total, 200 * 500)
  const mean = total / (bench.size - 6)
  let chi = 0
  for (let r = 6; r < bench.size; r++) chi += (counts[r] - mean) ** 2 / mean
  // χ² with 15618 dof (slightly overdispersed by sampling without replacement: ≤ 1): within ±5 sd.
  t.ok(Math.abs(chi - (bench.size - 7)) < 5 * Math.sqrt(2 * (bench.size - 7)), `χ² = ${chi}`)
})

t.test('evolutionary pool (Alg. 2): ⌈αN′⌉ mutants exactly, valid, new, children of the parents', async t => {
  const queried = Array.from({ length: 30 }, (_, i) => i * 311)
  const oracle = oracleWith(queried)
  const vals = queried.map(r => oracle.value(r) as number)
  const parents = queried.map((r, i) => [r, vals[i]] as const).sort((a, b) => b[1] - a[1]).slice(0, 10).map(p => p[0])
  const pool = evolutionaryPool(bench, oracle, 100, 10, 0.5, 0.2, new Random(4))
  t.equal(pool.length, 100)
  t.equal(new Set(pool).size, 100, 'no duplicates')
  t.notOk(Array.from(pool).some(r => oracle.has(r)), 'nothing evaluated')
  // Every edge of a crossover child comes from one of two parents; of a mutant, all but the mutated ones from one.
  const fromParents = (row: number, maxOff: number): boolean => parents.some(p => {
    let off = 0
    for (let e = 0; e < 6; e++) if (ops[6 * row + e] !== ops[6 * p + e]) off++
    return off <= maxOff && off > 0
  })
  t.ok(Array.from(pool.slice(0, 50)).every(r => fromParents(r, 6)), 'mutants differ from a parent')
  // With one parent, crossover(A, A) = A is always evaluated: the pool holds exactly the ⌈αN′⌉ mutants.
  for (const [alpha, n] of [[0.3, 10], [0.25, 100], [0.5, 7]] as const) {
    const single = evolutionaryPool(bench, oracle, n, 1, alpha, 0.3, new Random(5))
    t.equal(single.length, Math.ceil(alpha * n), `α = ${alpha}, N′ = ${n}: ${Math.ceil(alpha * n)} mutants`)
    const p = parents[0]
    for (const r of single) {
      let off = 0
      for (let e = 0; e < 6; e++) if (ops[6 * r + e] !== ops[6 * p + e]) off++
      if (off === 0) t.fail('a mutant equal to its parent')
    }
  }
  // α = 0: crossovers only — each edge's op is the op of one of the parents there.
  const cross = evolutionaryPool(bench, oracle, 40, 10, 0, 0.3, new Random(6))
  t.ok(Array.from(cross).every(r => { for (let e = 0; e < 6; e++) if (!parents.some(p => ops[6 * p + e] === ops[6 * r + e])) return false; return true }), 'crossover edges come from parents')
})

t.test('the loop: T₀ + K per iteration, no repeats, C_t = top K of S′_t by score, deterministic', async t => {
  for (const sampler of ['whole', 'uniform', 'ml', 'ev'] as const) {
    const s = samplingSettings({ sampler, pool: 30, width: 8, epochs: 15, mlSteps: 5 })
    const its: SamplingIteration[] = []
    bench.resetQueries(1)
    const traj = await samplingLoop({ bench, budget: 26, seed: 1, metric: 'val' }, s, { iteration: it => its.push(it) })
    t.equal(traj.rows.length, 26, `${sampler}: spends the budget`)
    t.equal(new Set(traj.rows).size, 26, `${sampler}: no repeat evaluations`)
    t.equal(bench.queries, 26)
    t.equal(its.length, 6, `${sampler}: 4 + 6 × 4 − 2 (the last takes what is left)`)
    t.same(its.map(i => i.chosen.length), [4, 4, 4, 4, 4, 2])
    let at = 4
    for (const it of its) {
      t.same(Array.from(traj.rows.slice(at, at + it.chosen.length)), Array.from(it.chosen), 'evaluated in the chosen order')
      at += it.chosen.length
      if (it.pool !== undefined) {
        t.ok(Array.from(it.chosen).every(r => it.pool!.includes(r)), 'C_t ⊆ S′_t')
        t.ok(Array.from(it.pool).every(r => !Array.from(traj.rows.slice(0, at - it.chosen.length)).includes(r)), 'S′_t holds nothing evaluated')
      } else t.equal(it.poolSize, bench.size - (at - it.chosen.length), 'whole: every unevaluated cell')
    }
    const again = await runSearch(searchMethod('sampling', { sampler, pool: 30, width: 8, epochs: 15, mlSteps: 5 }), bench, { budget: 26, seed: 1 })
    t.same(again.checkpoints[0].row, traj.rows[Array.from(traj.values).indexOf(Math.max(...traj.values))], `${sampler}: the harness replays it`)
  }
  // C_t is the top K of S′_t under the iteration's model: replay iteration 1 by hand.
  const s = samplingSettings({ sampler: 'uniform', pool: 40, width: 8, epochs: 10 })
  const its: SamplingIteration[] = []
  bench.resetQueries(2)
  const traj = await samplingLoop({ bench, budget: 8, seed: 2, metric: 'val' }, s, { iteration: it => its.push(it) })
  const model = new RankGcn(8, 6, { width: 8, epochs: 10 }).init(new Random(2, 8 * 1 + 0))
  // The loop trains and scores natively (float64 training, float32 scoring); the JS model is
  // their reference (test/rank-gcn-native.test.ts), so the JS replay must rank the pool alike.
  const twin = new RankGcn(8, 6, { width: 8, epochs: 10 }).init(new Random(2, 8 * 1 + 0))
  await fitNative(model, benchGraphs(bench), traj.values.slice(0, 4), traj.rows.slice(0, 4))
  const all = await scoreNative(model, benchGraphs(bench))
  t.same(Array.from(topK(its[0].pool!, Float64Array.from(its[0].pool!, r => all[r]), 4)), Array.from(traj.rows.slice(4, 8)))
  twin.fit(benchGraphs(bench), traj.values.slice(0, 4), traj.rows.slice(0, 4))
  t.same(Array.from(topK(its[0].pool!, twin.score(benchGraphs(bench), its[0].pool!), 4)), Array.from(traj.rows.slice(4, 8)), 'the JS reference model chooses the same')
})

t.test('settings are validated with errors naming them', async t => {
  t.throws(() => searchMethod('sampling', { sampler: 'grid' }), /settings\.sampler must be one of 'whole', 'uniform', 'ml', 'ev'/)
  t.throws(() => searchMethod('sampling', { pool: 3 }), /settings\.pool must be an integer in \[4,/)
  t.throws(() => searchMethod('sampling', { initial: 1 }), /settings\.initial must be an integer in \[2,/)
  t.throws(() => searchMethod('sampling', { lr: 0 }), /settings\.lr must be a finite number in \(0,/)
  t.throws(() => searchMethod('sampling', { momentum: 1 }), /settings\.momentum must be a number in \[0, 1\)/)
  t.throws(() => searchMethod('sampling', { alpha: 1.5 }), /settings\.alpha must be a number in \[0, 1\]/)
  t.throws(() => searchMethod('sampling', { pMutate: 0 }), /settings\.pMutate must be a finite number in \(0, 1\]/)
  t.throws(() => searchMethod('sampling', { warmStart: 1 }), /settings\.warmStart must be a boolean/)
  t.throws(() => searchMethod('sampling', { sampelr: 'ml' }), /unknown option 'sampelr'/)
  await t.rejects(runSearch(searchMethod('sampling', { sampler: 'uniform', pool: 15625, width: 4, epochs: 1 }), bench, { budget: 10, seed: 0 }), /settings\.pool = 15625 must be below the size of the space \(15625\)/)
})

// ---- NB-101 ML pool and per-iteration checkpoints ------------------------------------------

t.test('NB-101 straight-through gradient = ∂f/∂(A, X) of the relaxed raw graph (finite differences)', async t => {
  const model = new RankGcn(7, 5, { width: 9 }).init(new Random(5))
  const random = new Random(11)
  let worst = 0
  let checked = 0
  for (let trial = 0; trial < 10; trial++) {
    const theta = Float64Array.from({ length: NB101_THETA }, () => 2 * random.float() - 1)
    const batch = { count: 1, vertices: 7, features: 5, adjacency: new Float32Array(49), x: new Float32Array(35), mask: new Float32Array(7) }
    const { bits, ops } = nb101Forward(theta, 0, batch, 0)
    // The forward graph: thresholded logits, argmax ops, input at 0 and output at 6.
    for (let k = 0, i = 0; i < 7; i++) for (let j = i + 1; j < 7; j++, k++) t.equal(batch.adjacency[i * 7 + j], theta[k] > 0 ? 1 : 0)
    t.equal(ops[0], 0); t.equal(ops[6], 4)
    for (let v = 1; v <= 5; v++) t.equal(batch.x[v * 5 + ops[v]], 1)
    t.ok(bits >= 0)
    const { dA, dX } = model.inputGradient(batch)
    const native = inputGradientNative(model, batch, { precision: 'float64' })
    const native32 = inputGradientNative(model, batch) // the ML pool's default
    const st = new Float64Array(NB101_THETA)
    nb101StraightThrough(dA, dX, st)
    const stNative = new Float64Array(NB101_THETA)
    nb101StraightThrough(native.dA, native.dX, stNative)
    const st32 = new Float64Array(NB101_THETA)
    nb101StraightThrough(native32.dA, native32.dX, st32)
    const scale = Math.max(1, ...Array.from(st, Math.abs))
    for (let k = 0; k < NB101_THETA; k++) if (Math.abs(st[k] - stNative[k]) > 1e-9) t.fail(`native vs JS at ${k}`)
    for (let k = 0; k < NB101_THETA; k++) if (Math.abs(st[k] - st32[k]) > 2e-5 * scale) t.fail(`native float32 vs JS at ${k}: ${st32[k]} vs ${st[k]}`)
    // Relaxed input: entry k of θ's image (A[i][j] or X[v][1+o]) moved by ±h.
    const h = 1e-6
    const entry = (k: number): { field: 'adjacency' | 'x', at: number } => {
      if (k < 21) { let q = 0; for (let i = 0; i < 7; i++) for (let j = i + 1; j < 7; j++, q++) if (q === k) return { field: 'adjacency', at: i * 7 + j } }
      const v = 1 + Math.floor((k - 21) / 3); const o = (k - 21) % 3
      return { field: 'x', at: v * 5 + 1 + o }
    }
    for (let k = 0; k < NB101_THETA; k++) {
      const { field, at } = entry(k)
      const relaxed = (d: number): number => {
        const g = { ...batch, adjacency: Float64Array.from(batch.adjacency), x: Float64Array.from(batch.x) }
        g[field][at] += d
        return model.score(g as never)[0]
      }
      const fd = (relaxed(h) - relaxed(-h)) / (2 * h)
      const fwd = (relaxed(h) - relaxed(0)) / h
      if (Math.abs(fwd - fd) > 1e-4) continue // a ReLU kink
      worst = Math.max(worst, Math.abs(fd - st[k]))
      checked++
    }
  }
  t.ok(checked > 250, `${checked} of 360 entries away from kinks`)
  t.ok(worst < 1e-6, `max |fd − straight-through| = ${worst}`)
})

t.test('NB-101 ML sampler: reaches the top 1 % of f over all 423,624 cells (brute force), valid, new, deduplicated', async t => {
  const b101 = new Bench(await synthetic101())
  const model = new RankGcn(7, 5, { width: 16 }).init(new Random(21))
  const all = await scoreNative(model, benchGraphs(b101))
  const sorted = Float64Array.from(all).sort()
  const p99 = sorted[Math.floor(0.99 * all.length)]
  const bestRow = all.indexOf(sorted[all.length - 1])
  b101.resetQueries()
  const oracle = new Oracle({ bench: b101, budget: 100, seed: 0, metric: 'val' })
  for (const r of [bestRow, 5, 77]) oracle.query(r)
  const pool = await mlPool101(model, oracle, 40, 30, 0.05, new Random(2))
  t.ok(pool.length > 0 && pool.length <= 40, `${pool.length} architectures`)
  t.equal(new Set(pool).size, pool.length, 'deduplicated')
  t.notOk(Array.from(pool).some(r => oracle.has(r)), 'nothing evaluated')
  const scores = Array.from(pool, r => all[r])
  const top = Math.max(...scores)
  t.ok(top >= p99, `best of the ML pool ${top} ≥ 99th percentile ${p99} (optimum excluded as evaluated)`)
  const meanMl = scores.reduce((s, x) => s + x, 0) / scores.length
  const uni = uniformPool(oracle, b101.size, 40, new Random(2))
  const meanUni = Array.from(uni, r => all[r]).reduce((s, x) => s + x, 0) / uni.length
  t.ok(meanMl > meanUni, `ML pool mean ${meanMl} > uniform pool mean ${meanUni}`)
  t.same(Array.from(await mlPool101(model, oracle, 40, 30, 0.05, new Random(2))), Array.from(pool), 'deterministic')
  // The loop runs the ml sampler on NB-101.
  const its: SamplingIteration[] = []
  b101.resetQueries(3)
  const traj = await samplingLoop({ bench: b101, budget: 12, seed: 3, metric: 'val' }, samplingSettings({ sampler: 'ml', pool: 20, width: 8, epochs: 10, mlSteps: 5 }), { iteration: it => its.push(it) })
  t.equal(new Set(traj.rows).size, 12)
  t.equal(its.length, 2)
})

function tmpDir (t: Tap.Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-ckpt-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('per-iteration checkpoints: a run aborted after iteration t and resumed equals an uninterrupted one', async t => {
  for (const sampler of ['uniform', 'ml', 'ev', 'whole'] as const) {
    const s = samplingSettings({ sampler, pool: 30, width: 8, epochs: 15, mlSteps: 5 })
    const flat = (its: SamplingIteration[]): unknown => its.map(i => ({ ...i, pool: i.pool === undefined ? null : Array.from(i.pool), chosen: Array.from(i.chosen) }))
    bench.resetQueries(1)
    const full: SamplingIteration[] = []
    const ref = await samplingLoop({ bench, budget: 26, seed: 4, metric: 'val' }, s, { iteration: it => full.push(it) })
    const dir = tmpDir(t)
    const file = path.join(dir, 'run.json')
    for (const stopAfter of [3, 5]) {
      const controller = new AbortController()
      bench.resetQueries(1)
      await t.rejects(samplingLoop({ bench, budget: 26, seed: 4, metric: 'val', signal: controller.signal }, s, { iteration: it => { if (it.t === stopAfter) controller.abort(new Error('stop')) } }, { file }), /stop/)
      t.equal(JSON.parse(fs.readFileSync(file, 'utf8')).t, stopAfter, `${sampler}: checkpoint after iteration ${stopAfter}`)
    }
    // A torn last line (an iteration whose main checkpoint never landed) is dropped.
    fs.appendFileSync(`${file}.pools.jsonl`, '{"t":6,"pool":[1,2')
    const resumed: SamplingIteration[] = []
    bench.resetQueries(1)
    const again = await samplingLoop({ bench, budget: 26, seed: 4, metric: 'val' }, s, { iteration: it => resumed.push(it) }, { file })
    t.same(Array.from(again.rows), Array.from(ref.rows), `${sampler}: the same rows in the same order`)
    t.same(Array.from(again.values), Array.from(ref.values))
    t.same(flat(resumed), flat(full), `${sampler}: the same iterations (pools, chosen, losses)`)
    t.equal(bench.queries, 26, 'queries counted once each')
    // Another setting does not resume from this file.
    t.equal(readCheckpoint(file, 'other'), null)
    removeCheckpoint(file)
    t.notOk(fs.existsSync(file) || fs.existsSync(`${file}.pools.jsonl`))
  }
})

t.test('per-iteration checkpoints with warmStart: the model is saved, so an aborted and resumed run equals an uninterrupted one', async t => {
  for (const sampler of ['uniform', 'ml', 'whole'] as const) {
    const s = samplingSettings({ sampler, pool: 30, width: 8, epochs: 15, mlSteps: 5, warmStart: true })
    const flat = (its: SamplingIteration[]): unknown => its.map(i => ({ ...i, pool: i.pool === undefined ? null : Array.from(i.pool), chosen: Array.from(i.chosen) }))
    bench.resetQueries(1)
    const full: SamplingIteration[] = []
    const ref = await samplingLoop({ bench, budget: 26, seed: 5, metric: 'val' }, s, { iteration: it => full.push(it) })
    // The warm start matters here: re-initialising every iteration gives other losses.
    bench.resetQueries(1)
    const cold: SamplingIteration[] = []
    await samplingLoop({ bench, budget: 26, seed: 5, metric: 'val' }, { ...s, warmStart: false }, { iteration: it => cold.push(it) })
    t.notSame(cold.map(i => i.loss), full.map(i => i.loss), `${sampler}: warm and cold starts train different models`)
    const dir = tmpDir(t)
    const file = path.join(dir, 'run.json')
    for (const stopAfter of [2, 4]) {
      const controller = new AbortController()
      bench.resetQueries(1)
      await t.rejects(samplingLoop({ bench, budget: 26, seed: 5, metric: 'val', signal: controller.signal }, s, { iteration: it => { if (it.t === stopAfter) controller.abort(new Error('stop')) } }, { file }), /stop/)
      const saved = JSON.parse(fs.readFileSync(file, 'utf8'))
      t.equal(saved.t, stopAfter, `${sampler}: checkpoint after iteration ${stopAfter}`)
      t.equal(saved.model.w.length, 3, `${sampler}: with the model's 3 layers`)
    }
    fs.appendFileSync(`${file}.pools.jsonl`, '{"t":5,"pool":[1,2')
    const resumed: SamplingIteration[] = []
    bench.resetQueries(1)
    const again = await samplingLoop({ bench, budget: 26, seed: 5, metric: 'val' }, s, { iteration: it => resumed.push(it) }, { file })
    t.same(Array.from(again.rows), Array.from(ref.rows), `${sampler}: the same rows in the same order`)
    t.same(flat(resumed), flat(full), `${sampler}: the same iterations (pools, chosen, losses bit for bit)`)
    t.equal(bench.queries, 26, 'queries counted once each')
    removeCheckpoint(file)
  }
  // A warm-start checkpoint without its model (or with one of another shape) is not resumed: the run restarts and still ends the same.
  const s = samplingSettings({ sampler: 'uniform', pool: 30, width: 8, epochs: 15, warmStart: true })
  bench.resetQueries(1)
  const ref = await samplingLoop({ bench, budget: 22, seed: 6, metric: 'val' }, s)
  const file = path.join(tmpDir(t), 'run.json')
  for (const damage of [(m: { model?: unknown }) => { delete m.model }, (m: { model?: { w: string[] } }) => { m.model!.w[1] = m.model!.w[1].slice(8) }]) {
    const controller = new AbortController()
    bench.resetQueries(1)
    await t.rejects(samplingLoop({ bench, budget: 22, seed: 6, metric: 'val', signal: controller.signal }, s, { iteration: it => { if (it.t === 2) controller.abort(new Error('stop')) } }, { file }), /stop/)
    const main = JSON.parse(fs.readFileSync(file, 'utf8'))
    damage(main)
    fs.writeFileSync(file, JSON.stringify(main))
    const seen: number[] = []
    bench.resetQueries(1)
    const again = await samplingLoop({ bench, budget: 22, seed: 6, metric: 'val' }, s, { iteration: it => seen.push(it.t) }, { file })
    t.equal(seen[0], 1, 'restarted from iteration 1')
    t.same(Array.from(again.rows), Array.from(ref.rows), 'the same rows')
    removeCheckpoint(file)
  }
})

t.test('scoring S′ alone: a graph\'s score is the same in a gathered batch as among all cells (bit for bit)', async t => {
  const graphs = benchGraphs(bench)
  for (const width of [8, 32]) {
    const model = new RankGcn(8, 6, { width }).init(new Random(width))
    const all = await scoreNative(model, graphs)
    const rows = Array.from({ length: 300 }, (_, i) => (i * 7919) % bench.size)
    const sub = await scoreNative(model, gatherGraphs(graphs, rows))
    t.same(Array.from(sub), rows.map(r => all[r]), `width ${width}`)
  }
})

t.test('through the harness: runSearch({ checkpointFile }) checkpoints each iteration; interrupted and resumed = uninterrupted', async t => {
  const method = searchMethod('sampling', { sampler: 'ev', pool: 30, width: 8, epochs: 15 })
  const ref = await runSearch(method, bench, { budget: 30, seed: 6 })
  const file = path.join(tmpDir(t), 'cell.json')
  const controller = new AbortController()
  const timer = setInterval(() => { try { if (JSON.parse(fs.readFileSync(file, 'utf8')).t >= 2) controller.abort(new Error('stop')) } catch {} }, 1)
  try { await runSearch(method, bench, { budget: 30, seed: 6, checkpointFile: file, signal: controller.signal }) } catch {} finally { clearInterval(timer) }
  const saved = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')).t as number : -1
  const again = await runSearch(method, bench, { budget: 30, seed: 6, checkpointFile: file })
  t.same(again.checkpoints, ref.checkpoints, `resumed from iteration ${saved}: the same result`)
  removeRunCheckpoint(file)
  t.same(fs.readdirSync(path.dirname(file)), [], 'removeRunCheckpoint removes the file and its side file')
})
