// MIP-BPE core: Pareto front, forest importance (Eq. 7–8) and exact fANOVA against brute
// force, the Eq. 2 sampler (χ²), Eq. 9 both branches, Alg. 1 on a toy evaluator (prune order,
// K·(d−1) settings, determinism), the generalised NB-201 cost model.
import t from 'tap'
import { paretoFront, paretoFrontIndices } from '../lib/metrics/pareto'
import { forestFit, forestPredict, type RegressionForest } from '../lib/models/forest'
import { forestImportance, forestMarginals } from '../lib/models/forest-importance'
import { Random } from '../lib/random'
import { nb201 } from '../lib/spaces/nb201'
import { checkOmega, parseOmega, PAPER_OMEGA, settingAt, settingIndex, omegaSize, type Omega } from '../lib/bpe/omega'
import { drawUnseen, pruneStep, randomBpeSearch, relativeCosts, runMip, samplingProbabilities, type BpeEvaluator } from '../lib/bpe/mip'
import { syntheticRho, syntheticHours } from '../lib/bpe/evaluators'

// ---- Pareto -------------------------------------------------------------------------------

function bruteFront (pts: Array<{ a: number, b: number }>): Set<number> {
  const out = new Set<number>()
  pts.forEach((p, i) => {
    const dominated = pts.some(q => q.a <= p.a && q.b >= p.b && (q.a < p.a || q.b > p.b))
    if (!dominated) out.add(i)
  })
  return out
}

t.test('paretoFront = brute force (min a, max b), duplicates kept, order by the first objective', async t => {
  const r = new Random(3)
  for (let trial = 0; trial < 50; trial++) {
    const n = r.int(30)
    const pts = Array.from({ length: n }, () => ({ a: r.int(6), b: r.int(6) }))
    const idx = paretoFrontIndices(pts, { minimize: ['a'], maximize: ['b'] })
    t.same(new Set(idx), bruteFront(pts))
    for (let k = 1; k < idx.length; k++) t.ok(pts[idx[k - 1]].a <= pts[idx[k]].a)
  }
  const pts = [{ a: 1, b: 1 }, { a: 1, b: 1 }, { a: 2, b: 0 }]
  t.same(paretoFront(pts, { minimize: ['a'], maximize: ['b'] }), [pts[0], pts[1]])
  t.same(paretoFront([], { minimize: ['a'] }), [])
  t.throws(() => paretoFront([{ a: NaN }], { minimize: ['a'] }), /points\[0\]\.a must be a finite number/)
  t.throws(() => paretoFront([{ a: 1 }], {}), /at least one objective/)
  t.throws(() => paretoFront([{ a: 1 }], { minimize: ['a'], maximize: ['a'] }), /given twice/)
})

// ---- forest importance --------------------------------------------------------------------

function treeOffsets (f: RegressionForest): number[] {
  const out: number[] = []; let b = 0
  for (const s of f.sizes) { out.push(b); b += s }
  return out
}

/** Eq. 7 by definition: route the training rows, |Q|·Var of each node's targets. */
function referenceImportance (f: RegressionForest, x: Float64Array, y: number[], d: number): number[] {
  const imp = new Array(d).fill(0)
  const offsets = treeOffsets(f)
  const wvar = (rows: number[]): number => {
    if (rows.length === 0) return 0
    const m = rows.reduce((a, r) => a + y[r], 0) / rows.length
    return rows.reduce((a, r) => a + (y[r] - m) ** 2, 0)
  }
  offsets.forEach(base => {
    const visit = (node: number, rows: number[]): void => {
      const m = base + node
      const feat = f.feature[m]
      if (feat < 0) return
      const l = rows.filter(r => Math.fround(x[r * d + feat]) <= f.threshold[m])
      const rr = rows.filter(r => Math.fround(x[r * d + feat]) > f.threshold[m])
      imp[feat] += wvar(rows) - wvar(l) - wvar(rr)
      visit(f.left[m], l); visit(f.right[m], rr)
    }
    visit(0, y.map((_, i) => i))
  })
  const s = imp.reduce((a, b) => a + b, 0)
  return imp.map(v => v / s)
}

t.test('forestImportance closed form = Eq. 7 by definition (bootstrap off), sums to 1, unsplit columns 0', async t => {
  const r = new Random(5)
  for (let trial = 0; trial < 5; trial++) {
    const n = 40; const d = 4
    const x = new Float64Array(n * d)
    const y: number[] = []
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) x[i * d + j] = r.int(5)
      x[i * d + 3] = 7 // a constant column: never split
      y.push(2 * x[i * d] - x[i * d + 1] + 0.3 * r.normal())
    }
    const f = forestFit(x, y, d, { trees: 3, bootstrap: false, maxFeatures: 1, seed: trial })
    const imp = forestImportance(f)
    const ref = referenceImportance(f, x, y, d)
    for (let j = 0; j < d; j++) t.ok(Math.abs(imp[j] - ref[j]) < 1e-9, `column ${j}: ${imp[j]} vs ${ref[j]}`)
    t.ok(Math.abs(imp.reduce((a, b) => a + b, 0) - 1) < 1e-12)
    t.equal(imp[3], 0)
    const perTree = forestImportance(f, { normalise: 'tree' })
    t.ok(Math.abs(perTree.reduce((a, b) => a + b, 0) - 1) < 1e-12)
  }
  // Equal targets: no split anywhere → every importance 0 (the documented tie: Eq. 9 then prunes the first unpruned dimension).
  const flat = forestFit([1, 2, 3, 4, 5, 6], [0.5, 0.5, 0.5], 2, { trees: 4 })
  t.same([...forestImportance(flat)], [0, 0])
  t.throws(() => forestImportance({} as RegressionForest), /fitted forest/)
  t.throws(() => forestImportance(flat, { normalise: 'x' as 'tree' }), /normalise/)
})

t.test('forestMarginals = brute force over the grid (forestPredict of each tree)', async t => {
  const r = new Random(11)
  const grid = [[1, 2, 4], [0.5, 0.25], [10, 20, 30, 40]]
  const d = grid.length
  const n = 30
  const x = new Float64Array(n * d)
  const y: number[] = []
  for (let i = 0; i < n; i++) {
    grid.forEach((vals, j) => { x[i * d + j] = vals[r.int(vals.length)] })
    y.push(Math.log2(x[i * d]) * 0.5 + x[i * d + 2] / 40 + 0.1 * r.normal())
  }
  const f = forestFit(x, y, d, { trees: 5, maxFeatures: 0.7, seed: 2 })
  const m = forestMarginals(f, grid)
  const points: number[][] = []
  for (const a of grid[0]) for (const b of grid[1]) for (const c of grid[2]) points.push([a, b, c])
  const offsets = treeOffsets(f)
  const perTree = offsets.map((base, ti) => {
    const size = f.sizes[ti]
    const single: RegressionForest = { columns: d, sizes: Int32Array.of(size), feature: f.feature.slice(base, base + size), threshold: f.threshold.slice(base, base + size), left: f.left.slice(base, base + size), right: f.right.slice(base, base + size), value: f.value.slice(base, base + size), samples: f.samples.slice(base, base + size) }
    return forestPredict(single, points.flat())
  })
  grid.forEach((vals, i) => {
    const fractions: number[] = []
    const marg = vals.map((v, j) => {
      const perT = perTree.map(pred => {
        const sel = points.map((p, k) => [p, k] as const).filter(([p]) => p[i] === v).map(([, k]) => pred[k])
        return sel.reduce((a, b) => a + b, 0) / sel.length
      })
      const mean = perT.reduce((a, b) => a + b, 0) / perT.length
      t.ok(Math.abs(m.columns[i].mean[j] - mean) < 1e-12, `marginal ${i},${j}`)
      return perT
    })
    perTree.forEach((pred, ti) => {
      const mu = pred.reduce((a, b) => a + b, 0) / pred.length
      const v = pred.reduce((a, b) => a + (b - mu) ** 2, 0) / pred.length
      if (v <= 1e-300) return
      const vi = marg.reduce((a, perT) => a + (perT[ti] - mu) ** 2, 0) / vals.length
      fractions.push(vi / v)
    })
    const fm = fractions.reduce((a, b) => a + b, 0) / fractions.length
    t.ok(Math.abs(m.columns[i].fraction - fm) < 1e-12, `fraction ${i}: ${m.columns[i].fraction} vs ${fm}`)
  })
  t.throws(() => forestMarginals(f, [[1]]), /one list of values per forest column/)
})

// ---- Ω and Eq. 2 --------------------------------------------------------------------------

t.test('Ω checks name the dimension', async t => {
  t.equal(omegaSize(PAPER_OMEGA), 81920)
  t.throws(() => parseOmega('epoch=1,2'), /unknown dimension "epoch"|unknown dimension 'epoch'/)
  t.throws(() => parseOmega('epochs=1,1'), /epochs value 1 is given twice/)
  t.throws(() => parseOmega('epochs='), /empty value/)
  t.throws(() => parseOmega('epochs=0'), /epochs values must be integers ≥ 1/)
  t.throws(() => parseOmega('batch=a'), /not a finite number/)
  t.throws(() => parseOmega('image=14,28;cutout=0,16'), /cutout 16 is larger than the image side 14/)
  t.throws(() => parseOmega('fp=8'), /fp values must be 16 or 32/)
  t.throws(() => parseOmega('epochs=1;epochs=2'), /given twice/)
  t.throws(() => checkOmega({ dims: [] }), /at least one dimension/)
  const o = parseOmega('epochs=1,2,4;image=14,28;cutout=0,7')
  for (let k = 0; k < omegaSize(o); k++) t.equal(settingIndex(o, settingAt(o, k)), k)
})

const TOY: Omega = { dims: [{ name: 'epochs', values: [1, 2, 4] }, { name: 'batch', values: [32, 64] }, { name: 'channels', values: [4, 8] }, { name: 'lr', values: [0.1, 0.2, 0.3] }] }
const toyFlops = (s: Int32Array): number => TOY.dims[0].values[s[0]] * TOY.dims[2].values[s[2]] ** 2

t.test('Eq. 2: relative costs, probabilities ∝ exp(−c/τ), uniform without a FLOPs effect; χ² of the draws', async t => {
  const { costs } = relativeCosts(TOY, toyFlops, [-1, -1, -1, -1])
  t.same([...costs[0]], [1, 2, 4])
  t.same([...costs[2]], [1, 4])
  t.same([...costs[1]], [1, 1])
  const p = samplingProbabilities(TOY, toyFlops, [-1, -1, -1, -1], 1)
  const z = Math.exp(-1) + Math.exp(-2) + Math.exp(-4)
  t.ok(Math.abs(p[0][0] - Math.exp(-1) / z) < 1e-12)
  t.same([...p[1]], [0.5, 0.5])
  t.same([...p[3]].map(v => +v.toFixed(12)), [1 / 3, 1 / 3, 1 / 3].map(v => +v.toFixed(12)))
  // A pruned dimension at β moves the anchor: channels fixed at 8 → epochs costs unchanged in ratio.
  const pf = samplingProbabilities(TOY, toyFlops, [-1, -1, 1, -1], 1)
  t.same([...pf[2]], [0, 1])
  // χ² over 20,000 draws of the epochs dimension (df 2; 13.8 is the 0.1 % point).
  const random = new Random(1)
  const counts = [0, 0, 0]
  const N = 20000
  for (let i = 0; i < N; i++) counts[drawUnseen(TOY, p, new Set(), 1, random)[0][0]]++
  const chi2 = counts.reduce((a, c, j) => a + (c - N * p[0][j]) ** 2 / (N * p[0][j]), 0)
  t.ok(chi2 < 13.8, `χ² ${chi2.toFixed(2)} (counts ${counts.join(', ')})`)
  // Without replacement: every unseen setting when fewer than k remain.
  const seen = new Set<number>([0, 1, 2])
  const all = drawUnseen(TOY, p, seen, 100, new Random(2))
  t.equal(all.length, omegaSize(TOY) - 3)
  t.equal(new Set(all.map(s => settingIndex(TOY, s))).size, all.length)
})

t.test('Eq. 9: both branches', async t => {
  const costs = [Float64Array.of(1, 2, 4), Float64Array.of(1, 1), Float64Array.of(1, 4), Float64Array.of(1, 1, 1)]
  const marg = { columns: TOY.dims.map(d => ({ values: [...d.values], mean: d.name === 'lr' ? [0.2, 0.5, 0.5] : d.values.map(() => 0.3), sd: [], fraction: 0, fractionSd: 0 })), mean: 0, treesVarying: 0 }
  const samples = [{ setting: [2, 1, 1, 2], rs: 0.9, cost: 3 }, { setting: [0, 0, 0, 0], rs: 0.2, cost: 1 }]
  // lr least important (0.01 < 0.1) → cheapest; all lr values cost the same → highest marginal (0.5 at 0.2 and 0.3) → the smaller value, 0.2.
  t.same(pruneStep(TOY, [0.5, 0.3, 0.19, 0.01], [-1, -1, -1, -1], samples, costs, marg, 0.1), { dim: 3, branch: 'cheapest', index: 1 })
  // channels least (0.2 ≥ 0.1) → its value in the max-r_s row (index 1).
  t.same(pruneStep(TOY, [0.3, 0.25, 0.2, 0.25], [-1, -1, -1, -1], samples, costs, marg, 0.1), { dim: 2, branch: 'best-row', index: 1 })
  // Pruned dimensions are skipped; ties go to the first unpruned.
  t.same(pruneStep(TOY, [0, 0, 0, 0], [0, -1, -1, -1], samples, costs, marg, 0.1).dim, 1)
})

// ---- Alg. 1 on a toy evaluator ------------------------------------------------------------

/** r_s of a setting is driven by epochs (strong) and channels (weak); batch and lr do nothing. */
function toyEvaluator (): BpeEvaluator {
  const n = 200
  const truth = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1)
  return {
    name: 'toy', synthetic: true, omega: TOY, costUnit: 'h', fullLabel: 'truth',
    pool: Int32Array.from({ length: n }, (_, i) => i),
    describeArch: id => String(id),
    full: async archs => ({ accuracy: Float64Array.from(archs, a => truth[a]), cost: 100 }),
    evaluate: async (s, archs) => {
      const rho = 0.2 + 0.25 * s[0] + 0.05 * s[2]
      const r = new Random(settingIndex(TOY, s) + 1)
      return { accuracy: Float64Array.from(archs, a => rho * truth[a] + (1 - rho) * r.float()), cost: toyFlops(s) }
    },
    flops: toyFlops
  }
}

t.test('Alg. 1: K·(d−1) settings, epochs kept last, deterministic; Eq. 1 and Pareto outputs', async t => {
  const ev = toyEvaluator()
  const a = await runMip(ev, { seed: 4, archs: 50, k: 3 })
  t.equal(a.samples.length, 3 * (TOY.dims.length - 1))
  t.equal(a.prunes.length, TOY.dims.length - 1)
  t.notOk(a.prunes.some(p => p.dim === 'epochs'), `prune order ${a.prunes.map(p => p.dim).join(', ')}`)
  t.equal(new Set(a.samples.map(s => s.key)).size, a.samples.length, 'no setting twice')
  const b = await runMip(ev, { seed: 4, archs: 50, k: 3 })
  t.same(b, a, 'same seed ⇒ same run')
  const best = Math.max(...a.samples.map(s => s.rs))
  t.equal(a.samples[a.best].rs, best)
  const score = (s: { rs: number, cost: number }): number => s.rs - a.options.lambda * s.cost / 100
  t.equal(score(a.samples[a.eq1]), Math.max(...a.samples.map(score)))
  t.same(a.pareto, paretoFrontIndices(a.samples, { minimize: ['cost'], maximize: ['rs'] }))
  const all = await runMip(ev, { seed: 4, archs: 50, k: 3, stop: 'none' })
  t.equal(all.prunes.length, TOY.dims.length)
  // Pruned dimensions stay at their value in later rounds.
  for (const p of a.prunes) {
    const i = TOY.dims.findIndex(d => d.name === p.dim)
    t.ok(a.samples.filter(s => s.round > p.round).every(s => s.setting[i] === p.index))
  }
  await t.rejects(runMip(ev, { k: 1 }), /k \(settings per round\) must be an integer ≥ 2/)
  await t.rejects(runMip(ev, { archs: 2 }), /archs \(\|G\|\) must be an integer ≥ 3/)
  await t.rejects(runMip(ev, { lambda: 1 }), /lambda must be in \(0, 1\)/)
  const rs = await randomBpeSearch(ev, a.samples.reduce((x, s) => x + s.cost, 0), { seed: 4, archs: 50 })
  t.ok(rs.spent <= a.samples.reduce((x, s) => x + s.cost, 0))
})

t.test('synthetic-bpe formulas and the generalised cost model', async t => {
  const darts = { epochs: 50, batch: 64, lr: 0.025, layers: 8, fp: 32, channels: 16, cutout: 0, image: 32 }
  t.ok(Math.abs(syntheticRho({ ...darts, epochs: 10, batch: 128, layers: 6, channels: 8, image: 16 }) - 0.388) < 1e-12)
  t.equal(syntheticRho({ ...darts, epochs: 1, layers: 1 }), 0.05)
  t.ok(Math.abs(syntheticHours({ ...darts, epochs: 10, batch: 128, layers: 6, channels: 8, image: 16 }) - 0.0864) < 1e-12)
  const r = new Random(9)
  for (let k = 0; k < 50; k++) {
    const arch = nb201.fromIndex(r.int(nb201.size))
    const m = nb201.networkCost({ channels: 16, cells: 5, image: 32 })
    let p = m.params.base; let f = m.flops.base
    for (const op of arch) { p += m.params.perEdge[op]; f += m.flops.perEdge[op] }
    t.equal(p, nb201.params(arch))
    t.equal(f, nb201.flops(arch))
  }
  t.throws(() => nb201.networkCost({ channels: 0 }), /channels/)
})
