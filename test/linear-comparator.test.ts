// Native all-pairs kernels of a linear-head comparator (CTNAS Eq. 5 and Eq. 12) against the
// float64 definitions in test/reference/ctnas.ts.
import t from 'tap'
import { Random } from '../lib/random'
import { comparatorRowMeans, baselineUpdate, linearComparatorKendall } from '../lib/models/linear-comparator'
import { comparatorKendall } from '../lib/metrics/comparator-kendall'
import { refRowMeans, refEq12 } from './reference/ctnas'

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-300, Math.abs(b))

t.test('comparatorRowMeans = Eq. 5 by definition (fast and large-logit paths, bias)', async t => {
  const random = new Random(7)
  for (let trial = 0; trial < 40; trial++) {
    const n = 1 + random.int(trial < 30 ? 40 : 700)
    const scale = trial % 5 === 4 ? 400 : 3 // |logit| > 350 takes the exp path
    const u = Array.from({ length: n }, () => scale * random.normal())
    const v = Array.from({ length: n }, () => scale * random.normal())
    const bias = trial % 3 === 0 ? random.normal() : 0
    const got = comparatorRowMeans({ u, v, bias })
    const ref = refRowMeans(u, v, bias)
    let worst = 0
    for (let i = 0; i < n; i++) worst = Math.max(worst, n === 1 ? Math.abs(got[i]) : rel(got[i], ref[i]) * (ref[i] < 1e-200 ? 0 : 1))
    t.ok(worst <= 1e-12, `n = ${n}, scale ${scale}: max rel err ${worst}`)
    const one = comparatorRowMeans({ u, v, bias }, { threads: 1 })
    const two = comparatorRowMeans({ u, v, bias }, { threads: 2 })
    t.same(Array.from(one), Array.from(two), '1 vs 2 threads: identical bits')
  }
})

t.test('baselineUpdate: argmax of Eq. 5, the last maximum wins; |H| = 1 and empty H', async t => {
  const random = new Random(8)
  for (let trial = 0; trial < 20; trial++) {
    const n = 2 + random.int(50)
    const u = Array.from({ length: n }, () => random.int(3)) // equal candidates on purpose
    const v = u.map(x => -x)
    const ref = refRowMeans(u, v)
    const got = baselineUpdate({ u, v })
    t.ok(got.scores.every((s, i) => rel(s, ref[i]) <= 1e-12), 'scores = Eq. 5')
    // ≥ rule on the returned scores: the last index holding the maximum.
    let best = 0
    for (let i = 0; i < n; i++) if (got.scores[i] >= got.scores[best]) best = i
    t.equal(got.best, best)
    t.equal(got.bestScore, got.scores[best])
    t.ok(ref[got.best] >= Math.max(...ref) * (1 - 1e-12), 'the winner is a maximum of the reference scores')
  }
  t.equal(baselineUpdate({ u: [1, 1, 1], v: [0, 0, 0] }).best, 2, 'equal candidates: the last wins')
  t.equal(baselineUpdate({ u: [1, 3, 3, 0], v: [0, 0, 0, 0] }).best, 2)
  t.same(baselineUpdate({ u: [2], v: [1] }), { scores: new Float64Array(1), best: 0, bestScore: null })
  t.throws(() => baselineUpdate({ u: [], v: [] }), /baselineUpdate: the candidate set H is empty/)
  t.throws(() => comparatorRowMeans({ u: [], v: [] }), /comparatorRowMeans: the candidate set is empty/)
  t.throws(() => comparatorRowMeans({ u: [1, 2], v: [1] }), /heads.u has 2 values but heads.v has 1/)
  t.throws(() => comparatorRowMeans({ u: [1, NaN], v: [1, 2] }), /NaN/)
  t.throws(() => comparatorRowMeans({ u: [1], v: [1], bias: Infinity }), /heads.bias must be a finite number/)
  t.throws(() => comparatorRowMeans({ u: [1], v: [1] }, { threads: 0 }), /threads/)
  t.throws(() => comparatorRowMeans(null as never), /heads must be \{u, v, bias\?\}/)
})

t.test('linearComparatorKendall = Eq. 12 by definition: exact counts, both tie rules', async t => {
  const random = new Random(9)
  for (let trial = 0; trial < 40; trial++) {
    const n = 2 + random.int(trial < 30 ? 30 : 500)
    // Integer logits make u_i + v_j = 0 (p = 0.5 exactly) and equal truths occur.
    const integer = trial % 2 === 0
    const u = Array.from({ length: n }, () => (integer ? random.int(5) - 2 : random.normal()))
    const v = Array.from({ length: n }, () => (integer ? random.int(5) - 2 : random.normal()))
    const truth = Array.from({ length: n }, () => random.int(8))
    for (const ties of ['paper', 'code'] as const) {
      const ref = refEq12(u, v, truth, ties)
      const got = linearComparatorKendall({ u, v }, truth, ties)
      t.same({ concordant: got.concordant, discordant: got.discordant, zero: got.zero }, ref, `n = ${n}, ${ties}`)
      t.equal(got.pairs, n * (n - 1) / 2)
      t.equal(got.tau, (ref.concordant - ref.discordant) / got.pairs)
      // The same through the probability-matrix path (plain JS).
      const prob = new Float64Array(n * n)
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) prob[i * n + j] = 1 / (1 + Math.exp(-(u[i] + v[j])))
      t.ok(Math.abs(comparatorKendall(prob, truth, ties) - got.tau) < 1e-12)
      const two = linearComparatorKendall({ u, v }, truth, ties, { threads: 2 })
      t.same(two, got, '1 vs 2 threads')
    }
  }
  t.throws(() => linearComparatorKendall({ u: [1], v: [1] }, [1]), /at least 2 architectures/)
  t.throws(() => linearComparatorKendall({ u: [1, 2], v: [1, 2] }, [1]), /truth has 1 values but heads.u has 2/)
  t.throws(() => linearComparatorKendall({ u: [1, 2], v: [1, 2] }, [1, 2], 'b' as never), /ties must be one of 'paper', 'code'/)
})
