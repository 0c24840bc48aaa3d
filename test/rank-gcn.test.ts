// The paper's GCN (lib/models/rank-gcn.ts) against a dense float64 reference written from the
// equations, finite-difference gradients (weights and inputs), permutation invariance, the
// ordered-pair loss against the native pairwise BCE, and the SGD trainer against a plain loop.
import t from 'tap'
import { RankGcn, orderedPairLoss, type RankGraphs } from '../lib/models/rank-gcn'
import { pairwiseLogLoss } from '../lib/losses/log-loss'
import { Random } from '../lib/random'

const L = 8
const F = 5

/** count random DAG-like graphs with V in 2..8 real vertices and padding after them. */
function randomGraphs (count: number, random: Random): RankGraphs {
  const adjacency = new Float64Array(count * L * L)
  const x = new Float64Array(count * L * F)
  for (let g = 0; g < count; g++) {
    const v = 2 + random.int(L - 1)
    for (let i = 0; i < v; i++) {
      x[g * L * F + i * F + random.int(F)] = 1
      for (let j = i + 1; j < v; j++) if (random.bernoulli(0.4)) adjacency[g * L * L + i * L + j] = 1
    }
  }
  return { vertices: L, features: F, adjacency, x }
}

/** f from the equations, one graph at a time, with plain nested arrays. */
function reference (m: RankGcn, g: RankGraphs, k: number): number {
  const A = Array.from({ length: L }, (_, i) => Array.from({ length: L }, (_, j) => g.adjacency[k * L * L + i * L + j] + (i === j ? 1 : 0)))
  const d = A.map(row => row.reduce((s, a) => s + a, 0))
  let H = Array.from({ length: L }, (_, i) => Array.from({ length: F }, (_, c) => g.x[k * L * F + i * F + c]))
  for (let l = 0; l < m.layers; l++) {
    const din = m.dims[l]; const dout = m.dims[l + 1]
    const next = Array.from({ length: L }, () => new Array(dout).fill(0))
    for (let i = 0; i < L; i++) {
      for (let o = 0; o < dout; o++) {
        let s = 0
        for (let j = 0; j < L; j++) for (let c = 0; c < din; c++) s += (A[i][j] / Math.sqrt(d[i])) * H[j][c] * m.w[l][c * dout + o]
        next[i][o] = Math.max(0, s)
      }
    }
    H = next
  }
  let f = 0
  for (let c = 0; c < m.width; c++) {
    let r = 0
    for (let i = 0; i < L; i++) r += H[i][c]
    f += (r / L) * m.fc[c]
  }
  return f
}

t.test('forward equals the dense reference (V = 2..8, padding), the score is chunk-independent', async t => {
  const random = new Random(3)
  const g = randomGraphs(40, random)
  const m = new RankGcn(L, F, { width: 7, layers: 3 }).init(new Random(1))
  const f = m.score(g)
  for (let k = 0; k < 40; k++) t.ok(Math.abs(f[k] - reference(m, g, k)) < 1e-12, `graph ${k}`)
  const sub = m.score(g, [5, 3, 5])
  t.same(Array.from(sub), [f[5], f[3], f[5]])
  // More than one chunk (512 graphs).
  const big = randomGraphs(1100, new Random(4))
  const all = m.score(big)
  t.ok(Math.abs(all[1050] - reference(m, big, 1050)) < 1e-12, 'second and third chunks')
})

t.test('permutation invariance: f(PAPᵀ, PX) = f(A, X)', async t => {
  const random = new Random(5)
  const g = randomGraphs(10, random)
  const m = new RankGcn(L, F, { width: 6 }).init(new Random(2))
  const perm = random.shuffle(Array.from({ length: L }, (_, i) => i))
  const pa = new Float64Array(g.adjacency.length)
  const px = new Float64Array(g.x.length)
  for (let k = 0; k < 10; k++) {
    for (let i = 0; i < L; i++) {
      for (let j = 0; j < L; j++) pa[k * L * L + perm[i] * L + perm[j]] = g.adjacency[k * L * L + i * L + j]
      for (let c = 0; c < F; c++) px[k * L * F + perm[i] * F + c] = g.x[k * L * F + i * F + c]
    }
  }
  const a = m.score(g)
  const b = m.score({ vertices: L, features: F, adjacency: pa, x: px })
  for (let k = 0; k < 10; k++) t.ok(Math.abs(a[k] - b[k]) < 1e-12)
})

t.test('weight gradients of the pairwise loss match central finite differences', async t => {
  const random = new Random(7)
  const g = randomGraphs(9, random)
  const acc = Float64Array.from({ length: 9 }, () => random.int(5)) // ties included
  for (const ties of ['positive', 'ignore'] as const) {
    const m = new RankGcn(L, F, { width: 5, ties }).init(new Random(3))
    const { grads } = m.lossAndGradient(g, acc)
    const params = [...m.w, m.fc]
    const h = 1e-6
    let worst = 0
    for (let q = 0; q < params.length; q++) {
      for (let k = 0; k < params[q].length; k += 3) {
        const keep = params[q][k]
        params[q][k] = keep + h; const up = m.lossAndGradient(g, acc).loss
        params[q][k] = keep - h; const down = m.lossAndGradient(g, acc).loss
        params[q][k] = keep
        worst = Math.max(worst, Math.abs((up - down) / (2 * h) - grads[q][k]))
      }
    }
    t.ok(worst < 1e-7, `ties ${ties}: max |fd − analytic| = ${worst}`)
  }
})

t.test('input gradients ∂f/∂A and ∂f/∂X match finite differences (every entry, at a generic point)', async t => {
  const random = new Random(11)
  // Generic inputs: exact zeros put pre-activations on ReLU's kink, where f has no derivative.
  const g = randomGraphs(4, random)
  for (const arr of [g.adjacency, g.x] as Float64Array[]) for (let k = 0; k < arr.length; k++) arr[k] += 0.1 + 0.5 * random.float()
  const m = new RankGcn(L, F, { width: 6 }).init(new Random(4))
  const { f, dA, dX } = m.inputGradient(g)
  t.same(Array.from(f), Array.from(m.score(g)))
  const h = 1e-6
  let worst = 0
  for (const [field, grad] of [['adjacency', dA], ['x', dX]] as const) {
    const arr = g[field] as Float64Array
    for (let k = 0; k < arr.length; k++) {
      const gi = Math.floor(k / (field === 'adjacency' ? L * L : L * F))
      const keep = arr[k]
      arr[k] = keep + h; const up = m.score(g)[gi]
      arr[k] = keep - h; const down = m.score(g)[gi]
      arr[k] = keep
      worst = Math.max(worst, Math.abs((up - down) / (2 * h) - grad[k]))
    }
  }
  t.ok(worst < 1e-6, `max |fd − analytic| = ${worst}`)
})

t.test('orderedPairLoss: the native pairwise BCE over every ordered pair, ties both ways or dropped', async t => {
  const random = new Random(13)
  const n = 12
  const f = Float64Array.from({ length: n }, () => random.normal() * 3)
  const acc = Float64Array.from({ length: n }, () => random.int(6))
  for (const ties of ['positive', 'ignore'] as const) {
    const a: number[] = []; const b: number[] = []; const y: number[] = []; const pairs: Array<[number, number]> = []
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (i === j || (ties === 'ignore' && acc[i] === acc[j])) continue
        a.push(f[i]); b.push(f[j]); y.push(acc[i] >= acc[j] ? 1 : 0); pairs.push([i, j])
      }
    }
    const want = pairwiseLogLoss(a, b, y)
    const got = orderedPairLoss(f, acc, ties)
    t.equal(got.pairs, pairs.length)
    t.ok(Math.abs(got.loss - want.loss) < 1e-12, `${ties}: loss ${got.loss} vs ${want.loss}`)
    const grad = new Float64Array(n)
    pairs.forEach(([i, j], k) => { grad[i] += want.gradA[k]; grad[j] += want.gradB[k] })
    for (let i = 0; i < n; i++) t.ok(Math.abs(got.grad[i] - grad[i]) < 1e-12)
  }
  // y = 1 iff acc(A) ≥ acc(A′): the better architecture should score higher.
  t.ok(orderedPairLoss([2, 0], [0.9, 0.5]).loss < orderedPairLoss([0, 2], [0.9, 0.5]).loss)
  t.throws(() => orderedPairLoss([1], [1]), /at least 2 architectures, got 1/)
  t.throws(() => orderedPairLoss([1, 2, 3], [1, NaN, 3]), /accuracy \[1\] is NaN/)
  t.throws(() => orderedPairLoss([1, Infinity], [1, 2]), /score \[1\] is Infinity/)
  t.throws(() => orderedPairLoss([1, 2], [1]), /2 scores but 1 accuracies/)
})

t.test('fit: momentum SGD with the cosine schedule, against a plain loop; the loss falls; same seed, same weights', async t => {
  const random = new Random(17)
  const g = randomGraphs(20, random)
  const acc = Float64Array.from({ length: 20 }, (_, k) => g.adjacency.slice(k * 64, k * 64 + 64).reduce((s, a) => s + a, 0))
  const epochs = 5
  const m = new RankGcn(L, F, { width: 6, epochs, lr: 0.05, momentum: 0.9 }).init(new Random(5))
  const r = new RankGcn(L, F, { width: 6, epochs, lr: 0.05, momentum: 0.9 }).init(new Random(5))
  m.fit(g, acc)
  const params = [...r.w, r.fc]
  const vel = params.map(p => new Float64Array(p.length))
  for (let e = 0; e < epochs; e++) {
    const { grads } = r.lossAndGradient(g, acc)
    const lr = 0.05 * (1 + Math.cos(Math.PI * e / epochs)) / 2
    params.forEach((p, q) => { for (let k = 0; k < p.length; k++) { vel[q][k] = 0.9 * vel[q][k] + grads[q][k]; p[k] -= lr * vel[q][k] } })
  }
  t.same(Array.from(m.fc), Array.from(r.fc))
  t.same(Array.from(m.w[2]), Array.from(r.w[2]))
  const long = new RankGcn(L, F, { width: 16, epochs: 300, lr: 0.05 }).init(new Random(6))
  const losses = long.fit(g, acc)
  t.ok(losses[299] < 0.6 * losses[0], `loss ${losses[0]} → ${losses[299]}`)
})

t.test('bad options and graphs are errors naming them', async t => {
  t.throws(() => new RankGcn(8, 6, { width: 0 }), /options\.width must be an integer >= 1, got 0/)
  t.throws(() => new RankGcn(8, 6, { lr: -1 }), /options\.lr must be a finite number > 0/)
  t.throws(() => new RankGcn(8, 6, { momentum: 1 }), /options\.momentum must be in \[0, 1\)/)
  t.throws(() => new RankGcn(8, 6, { ties: 'x' } as never), /options\.ties must be one of 'positive', 'ignore'/)
  t.throws(() => new RankGcn(8, 6, { widht: 3 } as never), /unknown option 'widht'/)
  const m = new RankGcn(8, 6, { width: 4 })
  t.throws(() => m.score({ vertices: 7, features: 5, adjacency: [], x: [] }), /graphs have V = 7, F = 5 but the model takes V = 8, F = 6/)
  t.throws(() => m.score({ vertices: 8, features: 6, adjacency: new Float64Array(64), x: new Float64Array(47) }), /do not hold whole graphs/)
  t.throws(() => m.fit({ vertices: 8, features: 6, adjacency: new Float64Array(128), x: new Float64Array(96) }, [1]), /acc has 1 values for 2 graphs/)
  const nan = new RankGcn(8, 6, { width: 4, epochs: 3 }).init(new Random(1))
  nan.fc[0] = NaN
  t.throws(() => nan.fit({ vertices: 8, features: 6, adjacency: new Float64Array(128), x: new Float64Array(96).fill(1) }, [1, 2], undefined, ' (iteration 4)'), /RankGcn: score \[0\] is NaN/)
})
