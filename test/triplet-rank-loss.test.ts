import t from 'tap'
import { nativeInfo, setThreads, tripletRankLoss, tripletRankLossAsync } from '../lib/index'
import { reduce, tripletRef, agrees, near, type PhiName } from './reference/losses'
import { integers, normals, rng } from './reference/random'

const PHIS: PhiName[] = ['hinge', 'logistic', 'exp']
const REDUCTIONS = ['sum', 'mean'] as const
const ALGORITHMS = ['fast', 'brute'] as const

/** A random n x n "distance" matrix (any finite values; only j > i is read). */
function randomDist (rand: () => number, n: number, ties: boolean): Float64Array {
  return ties ? integers(rand, n * n, 4) : normals(rand, n * n).map(v => 2 * v)
}

function binomial3 (n: number): number {
  return n < 3 ? 0 : (n * (n - 1) * (n - 2)) / 6
}

t.test('matches the O(n^3) reference on random inputs, with and without ties', async t => {
  const rand = rng(111)
  for (const n of [0, 1, 2, 3, 4, 7, 20, 50]) {
    for (const ties of [false, true]) {
      // Ties: small integer ranges, so equal target distances, equal d and hinge kinks occur.
      const dist = randomDist(rand, n, ties)
      const target = ties ? integers(rand, n, 4) : normals(rand, n)
      for (const phi of PHIS) {
        const margins = phi === 'hinge' ? [1, 0, -0.5, 2.5] : [1]
        for (const margin of margins) {
          const ref = tripletRef(dist, target, phi, margin)
          for (const reduction of REDUCTIONS) {
            const want = reduce(ref, reduction)
            for (const algorithm of ALGORITHMS) {
              const got = tripletRankLoss(dist, target, { phi, margin, reduction, algorithm })
              agrees(t, got, want, 1e-6, `n=${n} ties=${ties} ${phi} margin=${margin} ${reduction} ${algorithm}`)
            }
          }
        }
      }
    }
  }
})

t.test('n = 200 against the reference, and fast vs brute to 1e-9', async t => {
  const rand = rng(222)
  const n = 200
  for (const ties of [false, true]) {
    const dist = randomDist(rand, n, ties)
    const target = ties ? integers(rand, n, 6) : normals(rand, n)
    for (const phi of PHIS) {
      const fast = tripletRankLoss(dist, target, { phi, reduction: 'sum' })
      const brute = tripletRankLoss(dist, target, { phi, reduction: 'sum', algorithm: 'brute' })
      agrees(t, fast, brute, 1e-9, `ties=${ties} ${phi}: fast vs brute`)
      agrees(t, fast, tripletRef(dist, target, phi, 1), 1e-6, `ties=${ties} ${phi}: fast vs reference`)
      if (!ties) t.equal(fast.comparable, binomial3(n), 'continuous targets: every triplet comparable')
    }
  }
})

t.test('only the strict upper triangle is read; the gradient is zero elsewhere', async t => {
  const rand = rng(333)
  const n = 30
  const dist = randomDist(rand, n, false)
  const target = normals(rand, n)
  const other = dist.slice()
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) other[i * n + j] = 1e6 * (rand() - 0.5)
  for (const phi of PHIS) {
    for (const algorithm of ALGORITHMS) {
      const a = tripletRankLoss(dist, target, { phi, algorithm })
      const b = tripletRankLoss(other, target, { phi, algorithm })
      t.same(b, a, `${phi} ${algorithm}: lower triangle and diagonal ignored`)
      let off = 0
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) if (a.grad[i * n + j] !== 0) off++
      t.equal(off, 0, `${phi} ${algorithm}: zero gradient off the strict upper triangle`)
    }
  }
})

t.test('the result does not depend on the thread count (bit-identical)', async t => {
  const initial = nativeInfo().threads
  t.teardown(() => setThreads(initial))
  const rand = rng(444)
  const n = 150
  const dist = randomDist(rand, n, false)
  const target = integers(rand, n, 20)
  for (const phi of PHIS) {
    for (const algorithm of ALGORITHMS) {
      setThreads(1)
      const one = tripletRankLoss(dist, target, { phi, algorithm, reduction: 'sum' })
      for (const threads of [2, 5]) {
        setThreads(threads)
        const many = tripletRankLoss(dist, target, { phi, algorithm, reduction: 'sum' })
        t.ok(Object.is(many.loss, one.loss), `${phi} ${algorithm} threads=${threads}: loss ${many.loss} vs ${one.loss}`)
        t.same(many.grad, one.grad, `${phi} ${algorithm} threads=${threads}: grad`)
      }
    }
  }
})

t.test('gradients match central finite differences', async t => {
  const rand = rng(555)
  const h = 1e-6
  const n = 9
  const margin = 0.6
  for (const phi of PHIS) {
    for (const algorithm of ALGORITHMS) {
      const target = normals(rand, n)
      let dist = randomDist(rand, n, false)
      if (phi === 'hinge') {
        // Stay at least 1e-3 away from every kink (z == margin).
        for (;;) {
          let ok = true
          for (let i = 0; i < n && ok; i++) {
            for (let j = i + 1; j < n && ok; j++) {
              for (let k = j + 1; k < n; k++) {
                const d = dist[i * n + j] - dist[i * n + k]
                if (Math.abs(d - margin) < 1e-3 || Math.abs(-d - margin) < 1e-3) { ok = false; break }
              }
            }
          }
          if (ok) break
          dist = randomDist(rand, n, false)
        }
      }
      for (const reduction of REDUCTIONS) {
        const opts = { phi, margin, reduction, algorithm }
        const { grad } = tripletRankLoss(dist, target, opts)
        let worst = 0
        for (let i = 0; i < n; i++) {
          for (let j = i + 1; j < n; j++) {
            const k = i * n + j
            const up = dist.slice(); up[k] += h
            const down = dist.slice(); down[k] -= h
            const fd = (tripletRankLoss(up, target, opts).loss - tripletRankLoss(down, target, opts).loss) / (2 * h)
            worst = Math.max(worst, Math.abs(fd - grad[k]) / Math.max(1, Math.abs(grad[k])))
          }
        }
        t.ok(worst < 1e-5, `${phi} ${algorithm} ${reduction}: worst relative FD error ${worst}`)
      }
    }
  }
})

t.test('hand-computed values', async t => {
  // n = 3, one triplet (0, 1, 2): l_01 = 1 < l_02 = 2, so s = -1 and
  // z = (d_01 - d_02) * -1 = d_02 - d_01 = 0.5 - 0.25 = 0.25.
  const dist = [0, 0.25, 0.5, 0, 0, 0, 0, 0, 0]
  const target = [0, 1, 2]
  for (const algorithm of ALGORITHMS) {
    const hinge = tripletRankLoss(dist, target, { reduction: 'sum', algorithm })
    t.ok(near(hinge.loss, 0.75, 1e-15), `${algorithm} hinge loss ${hinge.loss}`)
    t.same(Array.from(hinge.grad), [0, 1, -1, 0, 0, 0, 0, 0, 0], `${algorithm} hinge grad`)
    t.equal(hinge.comparable, 1)
    const exp = tripletRankLoss(dist, target, { phi: 'exp', reduction: 'sum', algorithm })
    t.ok(near(exp.loss, Math.exp(-0.25), 1e-15), `${algorithm} exp loss`)
    t.ok(near(exp.grad[1], Math.exp(-0.25), 1e-15) && near(exp.grad[2], -Math.exp(-0.25), 1e-15), `${algorithm} exp grad`)
    const logistic = tripletRankLoss(dist, target, { phi: 'logistic', reduction: 'sum', algorithm })
    t.ok(near(logistic.loss, Math.log1p(Math.exp(-0.25)), 1e-15), `${algorithm} logistic loss`)
    // Equal target distances (y_1 and y_2 both 1 away from y_0): nothing comparable.
    const tied = tripletRankLoss(dist, [0, 1, -1], { reduction: 'mean', algorithm })
    t.same({ loss: tied.loss, c: tied.comparable, g: Array.from(tied.grad) }, { loss: 0, c: 0, g: new Array(9).fill(0) }, `${algorithm} tied distances`)
  }
})

t.test('degenerate sizes', async t => {
  for (const phi of PHIS) {
    for (const algorithm of ALGORITHMS) {
      for (const reduction of REDUCTIONS) {
        const what = `${phi} ${algorithm} ${reduction}`
        const empty = tripletRankLoss([], [], { phi, algorithm, reduction })
        t.same({ loss: empty.loss, n: empty.grad.length, c: empty.comparable }, { loss: 0, n: 0, c: 0 }, `${what}: n=0`)
        const one = tripletRankLoss([4], [2], { phi, algorithm, reduction })
        t.same({ loss: one.loss, g: Array.from(one.grad), c: one.comparable }, { loss: 0, g: [0], c: 0 }, `${what}: n=1`)
        const two = tripletRankLoss([0, 1, 2, 0], [1, 5], { phi, algorithm, reduction })
        t.same({ loss: two.loss, g: Array.from(two.grad), c: two.comparable }, { loss: 0, g: [0, 0, 0, 0], c: 0 }, `${what}: n=2`)
        const flat = tripletRankLoss(normals(rng(1), 25), [3, 3, 3, 3, 3], { phi, algorithm, reduction })
        t.ok(flat.loss === 0 && flat.comparable === 0 && flat.grad.every(g => g === 0), `${what}: all targets equal`)
      }
    }
  }
})

t.test('adversarial values', async t => {
  const rand = rng(666)
  const n = 7
  const target = integers(rand, n, 5)
  const huge = Float64Array.from({ length: n * n }, () => (rand() < 0.5 ? -1 : 1) * 1e300 * Math.floor(1 + rand() * 3))
  for (const phi of ['hinge', 'logistic'] as const) {
    for (const margin of [1, 0, -2]) {
      const ref = tripletRef(huge, target, phi, margin)
      for (const algorithm of ALGORITHMS) {
        agrees(t, tripletRankLoss(huge, target, { phi, margin, reduction: 'sum', algorithm }), ref, 1e-9, `±1e300 ${phi} margin=${margin} ${algorithm}`)
      }
    }
  }
  // Targets whose differences overflow: |y_i - y_j| = Infinity for two j, a tie.
  const farTarget = [0, 1.7e308, -1.7e308, 1]
  const farDist = normals(rand, 16)
  for (const phi of PHIS) {
    const ref = tripletRef(farDist, farTarget, phi, 1)
    for (const algorithm of ALGORITHMS) {
      agrees(t, tripletRankLoss(farDist, farTarget, { phi, reduction: 'sum', algorithm }), ref, 1e-9, `overflowing target distances ${phi} ${algorithm}`)
    }
  }
  for (const algorithm of ALGORITHMS) {
    // d_01 - d_02 overflows: hinge Infinity with a finite gradient; exp Infinity, not NaN.
    const dist = [0, -1.7e308, 1.7e308, 0, 0, 0, 0, 0, 0]
    const target = [0, 2, 1]  // l_01 = 2 > l_02 = 1: z = d_01 - d_02 = -Infinity
    const hinge = tripletRankLoss(dist, target, { reduction: 'sum', algorithm })
    t.equal(hinge.loss, Infinity, `${algorithm}: hinge overflow`)
    t.same(Array.from(hinge.grad), [0, -1, 1, 0, 0, 0, 0, 0, 0], `${algorithm}: hinge overflow grad`)
    const expDist = [0, -500, 500, 0, 0, 0, 0, 0, 0]
    const exp = tripletRankLoss(expDist, target, { phi: 'exp', algorithm })
    t.equal(exp.loss, Infinity, `${algorithm}: exp overflow gives Infinity`)
    t.same(Array.from(exp.grad), [0, -Infinity, Infinity, 0, 0, 0, 0, 0, 0], `${algorithm}: exp overflow grad`)
    const logistic = tripletRankLoss(expDist, target, { phi: 'logistic', reduction: 'sum', algorithm })
    t.ok(near(logistic.loss, 1000, 1e-15), `${algorithm}: logistic far from 0 is linear`)
    // exp over a wide but finite range.
    const wide = normals(rand, 400).map(v => 80 * v)
    const wideTarget = normals(rand, 20)
    agrees(t, tripletRankLoss(wide, wideTarget, { phi: 'exp', reduction: 'sum', algorithm }), tripletRef(wide, wideTarget, 'exp', 1), 1e-9, `${algorithm}: exp wide range`)
  }
})

t.test('accepts number[], Float64Array and Float32Array alike', async t => {
  const rand = rng(777)
  const n = 12
  const dist32 = Float32Array.from(normals(rand, n * n))
  const target32 = Float32Array.from(integers(rand, n, 4))
  const dist64 = Float64Array.from(dist32)
  const target64 = Float64Array.from(target32)
  for (const phi of PHIS) {
    const a = tripletRankLoss(dist32, target32, { phi })
    const b = tripletRankLoss(dist64, target64, { phi })
    const c = tripletRankLoss(Array.from(dist32), Array.from(target32), { phi })
    t.same(a, b, `${phi}: Float32Array`)
    t.same(c, b, `${phi}: number[]`)
  }
})

t.test('async variant matches the sync one', async t => {
  const rand = rng(888)
  const n = 60
  const dist = normals(rand, n * n)
  const target = integers(rand, n, 8)
  for (const phi of PHIS) {
    const sync = tripletRankLoss(dist, target, { phi })
    const async = await tripletRankLossAsync(dist, target, { phi })
    t.same(async, sync, phi)
  }
})

t.test('validates its arguments', async t => {
  const d4 = new Float64Array(4)
  t.throws(() => tripletRankLoss([1, 2, 3], [1, 2]), { name: 'RangeError', message: /dist/ })
  t.throws(() => tripletRankLoss(new Float64Array(9), [1, 2]), { name: 'RangeError', message: /dist/ })
  t.throws(() => tripletRankLoss([0, NaN, 1, 0], [1, 2]), { name: 'RangeError', message: /dist/ })
  t.throws(() => tripletRankLoss([0, Infinity, 1, 0], [1, 2]), { name: 'RangeError', message: /dist/ })
  t.throws(() => tripletRankLoss(d4, [1, NaN]), { name: 'RangeError', message: /target/ })
  t.throws(() => tripletRankLoss(d4, new Float32Array([1, Infinity])), { name: 'RangeError', message: /target/ })
  t.throws(() => tripletRankLoss({} as unknown as number[], [1, 2]), { name: 'TypeError', message: /dist/ })
  t.throws(() => tripletRankLoss(d4, 'ab' as unknown as number[]), { name: 'TypeError', message: /target/ })
  t.throws(() => tripletRankLoss(d4, [1, 2], { phi: 'square' as 'hinge' }), { name: 'TypeError', message: /phi/ })
  t.throws(() => tripletRankLoss(d4, [1, 2], { margin: NaN }), { name: 'RangeError', message: /margin/ })
  t.throws(() => tripletRankLoss(d4, [1, 2], { margin: -Infinity }), { name: 'RangeError', message: /margin/ })
  t.throws(() => tripletRankLoss(d4, [1, 2], { reduction: 'none' as 'sum' }), { name: 'TypeError', message: /reduction/ })
  t.throws(() => tripletRankLoss(d4, [1, 2], { algorithm: 'slow' as 'brute' }), { name: 'TypeError', message: /algorithm/ })
  t.throws(() => tripletRankLoss(d4, [1, 2], { device: 'gpu' as 'cuda' }), { name: 'TypeError', message: /device/ })
  await t.rejects(tripletRankLossAsync([1, 2, 3], [1, 2]), { name: 'RangeError', message: /dist/ })
})

t.test('device: cuda', async t => {
  const info = nativeInfo()
  const rand = rng(999)
  const n = 80
  const dist = normals(rand, n * n)
  const target = integers(rand, n, 9)
  if (!info.cuda) {
    t.throws(() => tripletRankLoss(dist, target, { device: 'cuda', algorithm: 'brute' }), /CUDA/, 'a CPU-only build says so')
    return
  }
  if (!info.cudaDevice) {
    t.throws(() => tripletRankLoss(dist, target, { device: 'cuda', algorithm: 'brute' }), 'no device: throws')
    return
  }
  for (const phi of PHIS) {
    for (const margin of [1, 0, -0.5]) {
      const gpu = tripletRankLoss(dist, target, { phi, margin, reduction: 'sum', device: 'cuda', algorithm: 'brute' })
      const cpu = tripletRankLoss(dist, target, { phi, margin, reduction: 'sum', algorithm: 'brute' })
      agrees(t, gpu, cpu, 1e-9, `cuda ${phi} margin=${margin}`)
    }
  }
})
