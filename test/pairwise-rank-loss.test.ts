import t from 'tap'
import { nativeInfo, pairwiseRankLoss, pairwiseRankLossAsync, setThreads } from '../lib/index'
import { pairwiseRef, reduce, agrees, near, type PhiName } from './reference/losses'
import { integers, normals, rng } from './reference/random'

const PHIS: PhiName[] = ['hinge', 'logistic', 'exp']
const REDUCTIONS = ['sum', 'mean'] as const
const ALGORITHMS = ['fast', 'brute'] as const

function scaled (x: Float64Array, k: number): Float64Array {
  return x.map(v => v * k)
}

t.test('matches the O(n^2) reference on random inputs, with and without ties', async t => {
  const rand = rng(101)
  for (const n of [0, 1, 2, 3, 4, 7, 20, 64, 150]) {
    for (const ties of [false, true]) {
      // Ties: small integer ranges, so equal targets, equal predictions and hinge kinks
      // (z == margin exactly) all occur.
      const pred = ties ? integers(rand, n, 5) : scaled(normals(rand, n), 2)
      const target = ties ? integers(rand, n, 3) : normals(rand, n)
      for (const phi of PHIS) {
        const margins = phi === 'hinge' ? [1, 0, -0.5, 2.5] : [1]
        for (const margin of margins) {
          const ref = pairwiseRef(pred, target, phi, margin)
          for (const reduction of REDUCTIONS) {
            const want = reduce(ref, reduction)
            for (const algorithm of ALGORITHMS) {
              const got = pairwiseRankLoss(pred, target, { phi, margin, reduction, algorithm })
              agrees(t, got, want, 1e-6, `n=${n} ties=${ties} ${phi} margin=${margin} ${reduction} ${algorithm}`)
            }
          }
        }
      }
    }
  }
})

t.test('fast and brute agree to 1e-9 on larger inputs', async t => {
  const rand = rng(202)
  for (const n of [1000, 3001]) {
    for (const ties of [false, true]) {
      const pred = ties ? integers(rand, n, 9) : normals(rand, n)
      const target = ties ? integers(rand, n, 4) : normals(rand, n)
      for (const phi of PHIS) {
        const fast = pairwiseRankLoss(pred, target, { phi, reduction: 'sum' })
        const brute = pairwiseRankLoss(pred, target, { phi, reduction: 'sum', algorithm: 'brute' })
        agrees(t, fast, brute, 1e-9, `n=${n} ties=${ties} ${phi}`)
      }
    }
  }
})

t.test('hinge: large offset and spread do not cost precision (fast vs brute)', async t => {
  const rand = rng(303)
  const n = 2000
  const target = normals(rand, n)
  // Predictions nearly perfectly ordered with a huge spread and offset: the loss is a small
  // number built from large predictions.
  const pred = new Float64Array(n)
  const noise = normals(rand, n)
  for (let i = 0; i < n; i++) pred[i] = 1e7 + target[i] * 1e5 + noise[i]
  for (const margin of [1, 0.25]) {
    const fast = pairwiseRankLoss(pred, target, { margin, reduction: 'sum' })
    const brute = pairwiseRankLoss(pred, target, { margin, reduction: 'sum', algorithm: 'brute' })
    agrees(t, fast, brute, 1e-9, `margin=${margin}`)
    const ref = pairwiseRef(pred, target, 'hinge', margin)
    agrees(t, fast, ref, 1e-9, `margin=${margin} vs reference`)
  }
})

t.test('the result does not depend on the thread count (bit-identical)', async t => {
  const initial = nativeInfo().threads
  t.teardown(() => setThreads(initial))
  const rand = rng(404)
  const n = 5000
  const pred = normals(rand, n)
  const target = integers(rand, n, 50)
  for (const phi of PHIS) {
    for (const algorithm of ALGORITHMS) {
      setThreads(1)
      const one = pairwiseRankLoss(pred, target, { phi, algorithm, reduction: 'sum' })
      for (const threads of [2, 3, 8]) {
        setThreads(threads)
        const many = pairwiseRankLoss(pred, target, { phi, algorithm, reduction: 'sum' })
        t.ok(Object.is(many.loss, one.loss), `${phi} ${algorithm} threads=${threads}: loss ${many.loss} vs ${one.loss}`)
        t.same(many.grad, one.grad, `${phi} ${algorithm} threads=${threads}: grad`)
      }
    }
  }
})

t.test('gradients match central finite differences', async t => {
  const rand = rng(505)
  const h = 1e-6
  for (const phi of PHIS) {
    for (const algorithm of ALGORITHMS) {
      for (let trial = 0; trial < 3; trial++) {
        const n = 15
        const target = normals(rand, n)
        const margin = 0.7
        let pred = scaled(normals(rand, n), 1.5)
        if (phi === 'hinge') {
          // Stay at least 1e-3 away from every kink (z == margin), where the hinge is linear.
          for (;;) {
            let ok = true
            for (let i = 0; i < n && ok; i++) {
              for (let j = i + 1; j < n; j++) {
                const d = pred[i] - pred[j]
                if (Math.abs(d - margin) < 1e-3 || Math.abs(-d - margin) < 1e-3) { ok = false; break }
              }
            }
            if (ok) break
            pred = scaled(normals(rand, n), 1.5)
          }
        }
        for (const reduction of REDUCTIONS) {
          const opts = { phi, margin, reduction, algorithm }
          const { grad } = pairwiseRankLoss(pred, target, opts)
          let worst = 0
          for (let k = 0; k < n; k++) {
            const up = pred.slice(); up[k] += h
            const down = pred.slice(); down[k] -= h
            const fd = (pairwiseRankLoss(up, target, opts).loss - pairwiseRankLoss(down, target, opts).loss) / (2 * h)
            worst = Math.max(worst, Math.abs(fd - grad[k]) / Math.max(1, Math.abs(grad[k])))
          }
          t.ok(worst < 1e-5, `${phi} ${algorithm} ${reduction} trial ${trial}: worst relative FD error ${worst}`)
        }
      }
    }
  }
})

t.test('hand-computed values', async t => {
  // One pair: y_0 > y_1, z = p_0 - p_1 = -0.3.
  const pred = [0, 0.3]
  const target = [1, 0]
  for (const algorithm of ALGORITHMS) {
    const hinge = pairwiseRankLoss(pred, target, { reduction: 'sum', algorithm })
    t.ok(near(hinge.loss, 1.3, 1e-15), `${algorithm} hinge loss ${hinge.loss}`)
    t.same(Array.from(hinge.grad), [-1, 1], `${algorithm} hinge grad`)
    t.equal(hinge.comparable, 1)
    const logistic = pairwiseRankLoss(pred, target, { phi: 'logistic', reduction: 'sum', algorithm })
    t.ok(near(logistic.loss, Math.log1p(Math.exp(0.3)), 1e-15), `${algorithm} logistic loss`)
    const s = 1 / (1 + Math.exp(-0.3))
    t.ok(near(logistic.grad[0], -s, 1e-15) && near(logistic.grad[1], s, 1e-15), `${algorithm} logistic grad`)
    const exp = pairwiseRankLoss(pred, target, { phi: 'exp', reduction: 'sum', algorithm })
    t.ok(near(exp.loss, Math.exp(0.3), 1e-15), `${algorithm} exp loss`)
    t.ok(near(exp.grad[0], -Math.exp(0.3), 1e-15) && near(exp.grad[1], Math.exp(0.3), 1e-15), `${algorithm} exp grad`)
  }
  // Perfectly ranked with gaps of exactly the margin: every hinge term sits on the kink,
  // where the loss and the subgradient are 0.
  for (const algorithm of ALGORITHMS) {
    const atKink = pairwiseRankLoss([3, 1, 2], [3, 1, 2], { reduction: 'sum', algorithm })
    t.equal(atKink.loss, 0, `${algorithm} kink loss`)
    t.same(Array.from(atKink.grad), [0, 0, 0], `${algorithm} kink grad`)
    const wider = pairwiseRankLoss([3, 1, 2], [3, 1, 2], { margin: 1.5, reduction: 'sum', algorithm })
    t.equal(wider.loss, 1, `${algorithm} margin 1.5 loss`)
    t.same(Array.from(wider.grad), [-1, 1, 0], `${algorithm} margin 1.5 grad`)
    const mean = pairwiseRankLoss([3, 1, 2], [3, 1, 2], { margin: 1.5, algorithm })
    t.ok(near(mean.loss, 1 / 3, 1e-15), `${algorithm} mean loss`)
    t.ok(near(mean.grad[0], -1 / 3, 1e-15) && near(mean.grad[1], 1 / 3, 1e-15) && mean.grad[2] === 0, `${algorithm} mean grad`)
  }
})

t.test('degenerate sizes and all-equal targets', async t => {
  for (const phi of PHIS) {
    for (const algorithm of ALGORITHMS) {
      for (const reduction of REDUCTIONS) {
        const what = `${phi} ${algorithm} ${reduction}`
        const empty = pairwiseRankLoss([], [], { phi, algorithm, reduction })
        t.same({ loss: empty.loss, n: empty.grad.length, c: empty.comparable }, { loss: 0, n: 0, c: 0 }, `${what}: n=0`)
        const one = pairwiseRankLoss([5], [2], { phi, algorithm, reduction })
        t.same({ loss: one.loss, g: Array.from(one.grad), c: one.comparable }, { loss: 0, g: [0], c: 0 }, `${what}: n=1`)
        const tied = pairwiseRankLoss([1, 2], [3, 3], { phi, algorithm, reduction })
        t.same({ loss: tied.loss, g: Array.from(tied.grad), c: tied.comparable }, { loss: 0, g: [0, 0], c: 0 }, `${what}: n=2 tied`)
        const flat = pairwiseRankLoss([1, -4, 2, 0.5, 9], [7, 7, 7, 7, 7], { phi, algorithm, reduction })
        t.ok(flat.loss === 0 && flat.comparable === 0 && flat.grad.every(g => g === 0), `${what}: all targets equal`)
      }
    }
  }
})

t.test('adversarial values', async t => {
  const rand = rng(606)
  const huge = [1e300, -1e300, 5e299, -7e299, 1e300, 0, 3, -2e300]
  const target = Array.from(integers(rand, huge.length, 3))
  for (const phi of ['hinge', 'logistic'] as const) {
    for (const margin of [1, 0, -2]) {
      const ref = pairwiseRef(huge, target, phi, margin)
      for (const algorithm of ALGORITHMS) {
        agrees(t, pairwiseRankLoss(huge, target, { phi, margin, reduction: 'sum', algorithm }), ref, 1e-9, `±1e300 ${phi} margin=${margin} ${algorithm}`)
      }
    }
  }
  for (const algorithm of ALGORITHMS) {
    // p_h - p_l overflows to -Infinity: the hinge term is Infinity, its gradient finite.
    const overflow = pairwiseRankLoss([1.7e308, -1.7e308], [0, 1], { reduction: 'sum', algorithm })
    t.equal(overflow.loss, Infinity, `${algorithm}: hinge overflow gives Infinity`)
    t.same(Array.from(overflow.grad), [1, -1], `${algorithm}: hinge overflow grad`)
    t.equal(pairwiseRankLoss([1.7e308, -1.7e308], [0, 1], { algorithm }).loss, Infinity, `${algorithm}: mean of Infinity`)
    // Large predictions whose partial sums overflow although every term is finite.
    const big = [1.7e308, 1.7e308, 1e308, 0]
    const bigTarget = [0, 0, 1, -1]
    const bigRef = pairwiseRef(big, bigTarget, 'hinge', 1)
    t.ok(Number.isFinite(bigRef.loss), 'reference is finite')
    agrees(t, pairwiseRankLoss(big, bigTarget, { reduction: 'sum', algorithm }), bigRef, 1e-9, `${algorithm}: near-overflow hinge`)
    // e^{2000} overflows: Infinity, not NaN.
    const expOver = pairwiseRankLoss([1000, -1000], [0, 1], { phi: 'exp', reduction: 'sum', algorithm })
    t.equal(expOver.loss, Infinity, `${algorithm}: exp overflow loss`)
    t.same(Array.from(expOver.grad), [Infinity, -Infinity], `${algorithm}: exp overflow grad`)
    t.equal(pairwiseRankLoss([1000, -1000, 3], [0, 1, 0.5], { phi: 'exp', algorithm }).loss, Infinity, `${algorithm}: exp overflow mean`)
    const logisticOver = pairwiseRankLoss([1000, -1000], [0, 1], { phi: 'logistic', reduction: 'sum', algorithm })
    t.ok(near(logisticOver.loss, 2000, 1e-15), `${algorithm}: logistic far from 0 is linear`)
    t.same(Array.from(logisticOver.grad), [1, -1], `${algorithm}: logistic far from 0 grad`)
  }
  // exp terms spanning e^-600 .. e^600 (finite), and tiny terms only (well-ranked data).
  for (const algorithm of ALGORITHMS) {
    const wide = scaled(normals(rand, 40), 100)
    const wideTarget = normals(rand, 40)
    agrees(t, pairwiseRankLoss(wide, wideTarget, { phi: 'exp', reduction: 'sum', algorithm }), pairwiseRef(wide, wideTarget, 'exp', 1), 1e-9, `${algorithm}: exp wide range`)
    const ranked = Float64Array.from({ length: 40 }, (_, i) => i)
    agrees(t, pairwiseRankLoss(scaled(ranked, 30), ranked, { phi: 'exp', reduction: 'sum', algorithm }), pairwiseRef(scaled(ranked, 30), ranked, 'exp', 1), 1e-9, `${algorithm}: exp tiny terms`)
    agrees(t, pairwiseRankLoss(scaled(ranked, 30), ranked, { phi: 'logistic', reduction: 'sum', algorithm }), pairwiseRef(scaled(ranked, 30), ranked, 'logistic', 1), 1e-9, `${algorithm}: logistic tiny terms`)
  }
})

t.test('accepts number[], Float64Array and Float32Array alike', async t => {
  const rand = rng(707)
  const pred32 = Float32Array.from(normals(rand, 30))
  const target32 = Float32Array.from(integers(rand, 30, 4))
  const pred64 = Float64Array.from(pred32)
  const target64 = Float64Array.from(target32)
  for (const phi of PHIS) {
    const a = pairwiseRankLoss(pred32, target32, { phi })
    const b = pairwiseRankLoss(pred64, target64, { phi })
    const c = pairwiseRankLoss(Array.from(pred32), Array.from(target32), { phi })
    t.same(a, b, `${phi}: Float32Array`)
    t.same(c, b, `${phi}: number[]`)
  }
})

t.test('async variant matches the sync one', async t => {
  const rand = rng(808)
  const pred = normals(rand, 500)
  const target = integers(rand, 500, 10)
  for (const phi of PHIS) {
    const sync = pairwiseRankLoss(pred, target, { phi })
    const async = await pairwiseRankLossAsync(pred, target, { phi })
    t.same(async, sync, phi)
  }
})

t.test('validates its arguments', async t => {
  t.throws(() => pairwiseRankLoss([1, 2], [1]), { name: 'RangeError', message: /target/ })
  t.throws(() => pairwiseRankLoss([1], [1, 2]), { name: 'RangeError', message: /pred/ })
  t.throws(() => pairwiseRankLoss([1, NaN], [1, 2]), { name: 'RangeError', message: /pred/ })
  t.throws(() => pairwiseRankLoss([1, Infinity], [1, 2]), { name: 'RangeError', message: /pred/ })
  t.throws(() => pairwiseRankLoss([1, 2], [-Infinity, 2]), { name: 'RangeError', message: /target/ })
  t.throws(() => pairwiseRankLoss(new Float64Array([0, NaN]), [1, 2]), { name: 'RangeError', message: /pred/ })
  t.throws(() => pairwiseRankLoss([1, 2], new Float32Array([1, NaN])), { name: 'RangeError', message: /target/ })
  t.throws(() => pairwiseRankLoss('12' as unknown as number[], [1, 2]), { name: 'TypeError', message: /pred/ })
  t.throws(() => pairwiseRankLoss([1, 2], null as unknown as number[]), { name: 'TypeError', message: /target/ })
  t.throws(() => pairwiseRankLoss([1, '2'] as unknown as number[], [1, 2]), { name: 'TypeError', message: /pred/ })
  t.throws(() => pairwiseRankLoss([1, 2], [1, 2], { phi: 'square' as 'hinge' }), { name: 'TypeError', message: /phi/ })
  t.throws(() => pairwiseRankLoss([1, 2], [1, 2], { margin: NaN }), { name: 'RangeError', message: /margin/ })
  t.throws(() => pairwiseRankLoss([1, 2], [1, 2], { margin: Infinity }), { name: 'RangeError', message: /margin/ })
  t.throws(() => pairwiseRankLoss([1, 2], [1, 2], { margin: '1' as unknown as number }), { name: 'TypeError', message: /margin/ })
  t.throws(() => pairwiseRankLoss([1, 2], [1, 2], { reduction: 'max' as 'sum' }), { name: 'TypeError', message: /reduction/ })
  t.throws(() => pairwiseRankLoss([1, 2], [1, 2], { algorithm: 'quick' as 'fast' }), { name: 'TypeError', message: /algorithm/ })
  t.throws(() => pairwiseRankLoss([1, 2], [1, 2], { device: 'tpu' as 'cpu' }), { name: 'TypeError', message: /device/ })
  t.throws(() => pairwiseRankLoss([1, 2], [1, 2], { phy: 'hinge' } as unknown as { phi: 'hinge' }), { name: 'TypeError', message: /phy/ })
  await t.rejects(pairwiseRankLossAsync([1, 2], [1]), { name: 'RangeError', message: /target/ })
  await t.rejects(pairwiseRankLossAsync([1, 2], [1, 2], { phi: 'nope' as 'hinge' }), { name: 'TypeError', message: /phi/ })
})

t.test('device: cuda', async t => {
  const info = nativeInfo()
  const rand = rng(909)
  const pred = normals(rand, 300)
  const target = integers(rand, 300, 7)
  if (!info.cuda) {
    t.throws(() => pairwiseRankLoss(pred, target, { device: 'cuda', algorithm: 'brute' }), /CUDA/, 'a CPU-only build says so')
    return
  }
  if (!info.cudaDevice) {
    t.throws(() => pairwiseRankLoss(pred, target, { device: 'cuda', algorithm: 'brute' }), 'no device: throws')
    return
  }
  for (const phi of PHIS) {
    for (const margin of [1, 0, -0.5]) {
      const gpu = pairwiseRankLoss(pred, target, { phi, margin, reduction: 'sum', device: 'cuda', algorithm: 'brute' })
      const cpu = pairwiseRankLoss(pred, target, { phi, margin, reduction: 'sum', algorithm: 'brute' })
      agrees(t, gpu, cpu, 1e-9, `cuda ${phi} margin=${margin}`)
    }
  }
})
