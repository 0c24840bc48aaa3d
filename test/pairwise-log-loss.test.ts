import t from 'tap'
import { pairwiseLogLoss } from '../lib/index'
import { normals, rng } from './reference/random'

// Reference: BCE of sigmoid(a - b) written the textbook way (fine for moderate logits).
function reference (a: ArrayLike<number>, b: ArrayLike<number>, y: ArrayLike<number>) {
  let loss = 0
  const gradA: number[] = []
  for (let k = 0; k < a.length; k++) {
    const p = 1 / (1 + Math.exp(-(a[k] - b[k])))
    loss += -(y[k] * Math.log(p) + (1 - y[k]) * Math.log(1 - p))
    gradA.push(p - y[k])
  }
  return { loss, gradA }
}

const close = (a: number, b: number, tol = 1e-9) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b))

t.test('matches the reference and finite differences', async t => {
  const rand = rng(21)
  for (const n of [0, 1, 2, 3, 100]) {
    const a = normals(rand, n); const b = normals(rand, n)
    const y = Float64Array.from({ length: n }, (_, k) => k % 3 === 0 ? rand() : Math.round(rand()))
    const sum = pairwiseLogLoss(a, b, y, { reduction: 'sum' })
    const ref = reference(a, b, y)
    t.ok(close(sum.loss, ref.loss), `n=${n} loss`)
    for (let k = 0; k < n; k++) {
      t.ok(close(sum.gradA[k], ref.gradA[k]))
      t.equal(sum.gradB[k], -sum.gradA[k])
    }
    const mean = pairwiseLogLoss(a, b, y)
    t.ok(close(mean.loss, n ? ref.loss / n : 0), `n=${n} mean`)
    if (n > 0) {
      const h = 1e-6
      const k = n - 1
      const up = Float64Array.from(a); up[k] += h
      const down = Float64Array.from(a); down[k] -= h
      const fd = (pairwiseLogLoss(up, b, y, { reduction: 'sum' }).loss - pairwiseLogLoss(down, b, y, { reduction: 'sum' }).loss) / (2 * h)
      t.ok(close(fd, sum.gradA[k], 1e-6), `finite difference ${fd} vs ${sum.gradA[k]}`)
    }
  }
})

t.test('stable for extreme logits', async t => {
  const out = pairwiseLogLoss([1000, -1000, 1e300, 0], [0, 0, -1e300, 0], [1, 0, 1, 0.5], { reduction: 'sum' })
  // Confidently right pairs cost ~0; the last pair costs log 2.
  t.ok(Number.isFinite(out.loss))
  t.ok(close(out.loss, Math.log(2)), `loss ${out.loss}`)
  const wrong = pairwiseLogLoss([1000], [0], [0], { reduction: 'sum' })
  t.equal(wrong.loss, 1000)
  t.equal(wrong.gradA[0], 1)
})

t.test('validation', async t => {
  t.throws(() => pairwiseLogLoss([1, 2], [1], [0, 1]), { name: 'RangeError', message: /scoreB has length 1/ })
  t.throws(() => pairwiseLogLoss([1, 2], [1, 2], [0]), { name: 'RangeError', message: /label has length 1/ })
  t.throws(() => pairwiseLogLoss([1], [1], [2]), { name: 'RangeError', message: /label\[0\] is 2.*\[0, 1\]/ })
  t.throws(() => pairwiseLogLoss([1], [1], [-0.5]), { name: 'RangeError', message: /label\[0\]/ })
  t.throws(() => pairwiseLogLoss([NaN], [1], [1]), { name: 'RangeError', message: /scoreA\[0\] is NaN/ })
  t.throws(() => pairwiseLogLoss([1], [1], [1], { reduction: 'none' } as never), { name: 'TypeError', message: /reduction must be one of/ })
  t.throws(() => pairwiseLogLoss({} as never, [1], [1]), { name: 'TypeError', message: /scoreA must be/ })
})
