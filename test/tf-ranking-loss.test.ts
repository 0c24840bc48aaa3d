import t from 'tap'
import { pairwiseDistancesTf, pairwiseRankLoss, pairwiseRankLossTf, tripletRankLoss, tripletRankLossOnDistancesTf, tripletRankLossTf, type NativeLossTiming } from '../lib/index'
import { normals, rng } from './reference/random'
import { bruteDistancesTf, brutePairwiseTf, bruteTripletOnDistTf, maxRelDiff, wasmTf, type PhiName } from './reference/tf'

const PHIS: PhiName[] = ['hinge', 'logistic', 'exp']
const REDUCTIONS = ['mean', 'sum'] as const

t.test('pairwiseRankLossTf: loss and gradient match tfjs autodiff of the O(n²) broadcast (n = 6..12)', async t => {
  const tf = await wasmTf()
  const rand = rng(1)
  for (const n of [6, 9, 12]) {
    for (const phi of PHIS) {
      for (const reduction of REDUCTIONS) {
        const margin = phi === 'hinge' ? 0.7 : 1
        const p = Float32Array.from(normals(rand, n))
        const y = normals(rand, n)
        const x = tf.tensor1d(p)
        const custom = tf.valueAndGrad((v: any) => pairwiseRankLossTf(tf, v, y, { phi, margin, reduction }))(x)
        const brute = tf.valueAndGrad((v: any) => brutePairwiseTf(tf, v, y, phi, margin, reduction) as any)(x)
        const what = `n=${n} ${phi} ${reduction}`
        t.ok(Math.abs(custom.value.dataSync()[0] - brute.value.dataSync()[0]) <= 1e-4 * Math.max(1, Math.abs(brute.value.dataSync()[0])), `${what}: loss`)
        t.ok(maxRelDiff(custom.grad.dataSync(), brute.grad.dataSync()) <= 1e-4, `${what}: gradient`)
        tf.dispose([x, custom.value, custom.grad, brute.value, brute.grad])
      }
    }
  }
})

t.test('tripletRankLossTf: loss and gradient w.r.t. the features match tfjs autodiff of the O(n³) broadcast', async t => {
  const tf = await wasmTf()
  const rand = rng(2)
  const eps = 1e-6
  for (const [n, k] of [[6, 3], [9, 5], [12, 4]]) {
    for (const phi of PHIS) {
      for (const reduction of REDUCTIONS) {
        const margin = phi === 'hinge' ? 0.5 : 1
        const feats = tf.tensor2d(Float32Array.from(normals(rand, n * k)), [n, k])
        const y = normals(rand, n)
        const custom = tf.valueAndGrad((f: any) => tripletRankLossTf(tf, f, y, { phi, margin, reduction, eps }))(feats)
        const brute = tf.valueAndGrad((f: any) => bruteTripletOnDistTf(tf, bruteDistancesTf(tf, f, eps), y, phi, margin, reduction) as any)(feats)
        const what = `n=${n} k=${k} ${phi} ${reduction}`
        const lv = custom.value.dataSync()[0]
        const bv = brute.value.dataSync()[0]
        t.ok(Math.abs(lv - bv) <= 1e-4 * Math.max(1, Math.abs(bv)), `${what}: loss ${lv} vs ${bv}`)
        const d = maxRelDiff(custom.grad.dataSync(), brute.grad.dataSync())
        t.ok(d <= 1e-4, `${what}: gradient (max rel. diff ${d.toExponential(2)})`)
        tf.dispose([feats, custom.value, custom.grad, brute.value, brute.grad])
      }
    }
  }
})

t.test('tripletRankLossOnDistancesTf matches the broadcast on a distance matrix (upper triangle only)', async t => {
  const tf = await wasmTf()
  const rand = rng(3)
  const n = 10
  const dist = tf.tensor2d(Float32Array.from(normals(rand, n * n)), [n, n])
  const y = normals(rand, n)
  for (const phi of PHIS) {
    const custom = tf.valueAndGrad((d: any) => tripletRankLossOnDistancesTf(tf, d, y, { phi, margin: 0.3 }))(dist)
    const brute = tf.valueAndGrad((d: any) => bruteTripletOnDistTf(tf, d, y, phi, 0.3, 'mean') as any)(dist)
    t.ok(Math.abs(custom.value.dataSync()[0] - brute.value.dataSync()[0]) <= 1e-4, `${phi}: loss`)
    t.ok(maxRelDiff(custom.grad.dataSync(), brute.grad.dataSync()) <= 1e-4, `${phi}: gradient`)
    const g = custom.grad.dataSync()
    let off = 0
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) if (g[i * n + j] !== 0) off++
    t.equal(off, 0, `${phi}: zero gradient on and below the diagonal`)
    tf.dispose([custom.value, custom.grad, brute.value, brute.grad])
  }
  dist.dispose()
})

/** Distances in float64, as pairwiseDistancesTf defines them. */
function dist64 (f: Float64Array, n: number, k: number, eps: number): Float64Array {
  const d = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let c = 0; c < k; c++) s += (f[i * k + c] - f[j * k + c]) ** 2
      d[i * n + j] = Math.sqrt(Math.max(s, eps))
    }
  }
  return d
}

t.test('gradients match central finite differences of the float64 composite', async t => {
  const tf = await wasmTf()
  const rand = rng(4)
  const h = 1e-4
  for (const phi of ['logistic', 'exp', 'hinge'] as const) {
    // Pairwise on the scores.
    const n = 8
    const p = normals(rand, n)
    const y = normals(rand, n)
    const margin = 0.4
    const x = tf.tensor1d(Float32Array.from(p))
    const g = tf.grad((v: any) => pairwiseRankLossTf(tf, v, y, { phi, margin }))(x)
    const fd = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const a = p.slice(); a[i] += h
      const b = p.slice(); b[i] -= h
      fd[i] = (pairwiseRankLoss(a, y, { phi, margin }).loss - pairwiseRankLoss(b, y, { phi, margin }).loss) / (2 * h)
    }
    t.ok(maxRelDiff(g.dataSync(), fd) <= 2e-3, `pairwise ${phi}: vs finite differences (${maxRelDiff(g.dataSync(), fd).toExponential(2)})`)
    tf.dispose([x, g])

    // Triplet on the features, through the distances.
    const m = 7
    const k = 3
    const f = normals(rand, m * k)
    const yt = normals(rand, m)
    const eps = 1e-6
    const loss64 = (v: Float64Array): number => tripletRankLoss(dist64(v, m, k, eps), yt, { phi, margin }).loss
    const ft = tf.tensor2d(Float32Array.from(f), [m, k])
    const gt = tf.grad((v: any) => tripletRankLossTf(tf, v, yt, { phi, margin, eps }))(ft)
    const fdt = new Float64Array(m * k)
    for (let i = 0; i < m * k; i++) {
      const a = f.slice(); a[i] += h
      const b = f.slice(); b[i] -= h
      fdt[i] = (loss64(a) - loss64(b)) / (2 * h)
    }
    const d = maxRelDiff(gt.dataSync(), fdt)
    t.ok(d <= 2e-3, `triplet ${phi}: vs finite differences (${d.toExponential(2)})`)
    tf.dispose([ft, gt])
  }
})

t.test('identical feature rows (zero distances) give finite gradients', async t => {
  const tf = await wasmTf()
  const n = 6
  const rows = [[1, 2], [1, 2], [0, 0], [3, -1], [3, -1], [0.5, 0.5]]
  const f = tf.tensor2d(rows.flat(), [n, 2])
  const y = [0.1, 0.5, 0.2, 0.9, 0.3, 0.7]
  for (const phi of PHIS) {
    const g = tf.grad((v: any) => tripletRankLossTf(tf, v, y, { phi }))(f)
    t.ok(Array.from(g.dataSync()).every(Number.isFinite), `${phi}: all finite`)
    g.dispose()
  }
  const d = pairwiseDistancesTf(tf, f)
  t.ok(Math.abs(d.dataSync()[1] - 1e-3) < 1e-6, 'distance of identical rows is the floor sqrt(eps)')
  tf.dispose([f, d])
})

t.test('timing accumulates native time; no tensors leak inside variableGrads', async t => {
  const tf = await wasmTf()
  const rand = rng(5)
  const n = 30
  const w = tf.variable(tf.tensor2d(Float32Array.from(normals(rand, 4 * 8)), [4, 8]))
  const x = tf.tensor2d(Float32Array.from(normals(rand, n * 4)), [n, 4])
  const y = normals(rand, n)
  const timing: NativeLossTiming = { ms: 0, calls: 0 }
  const before = tf.memory().numTensors
  for (let rep = 0; rep < 3; rep++) {
    const { value, grads } = tf.variableGrads(() => {
      const eta = tf.matMul(x, w)
      const score = tf.sum(eta, 1)
      return tf.add(pairwiseRankLossTf(tf, score, y, { timing }), tripletRankLossTf(tf, eta, y, { timing })) as any
    }, [w])
    tf.dispose([value, grads])
  }
  t.equal(tf.memory().numTensors, before, 'no tensors left behind')
  t.equal(timing.calls, 6, 'one native call per loss and step (forward and backward together)')
  t.ok(timing.ms > 0, 'time recorded')
  tf.dispose([w, x])
})

t.test('argument validation names the function and the argument', async t => {
  const tf = await wasmTf()
  const p = tf.tensor1d([1, 2, 3])
  const f = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2])
  t.throws(() => pairwiseRankLossTf(tf, p, [1, 2]), /pairwiseRankLossTf: pred must have shape \[2\]/)
  t.throws(() => pairwiseRankLossTf(tf, f, [1, 2, 3]), /pairwiseRankLossTf: pred must have shape \[3\]/)
  t.throws(() => pairwiseRankLossTf(tf, [1, 2, 3] as any, [1, 2, 3]), /pairwiseRankLossTf: pred must be a tfjs Tensor/)
  t.throws(() => pairwiseRankLossTf(tf, p, [1, 2, 3], { margn: 1 } as any), /unknown option 'margn'/)
  t.throws(() => pairwiseRankLossTf(tf, p, [1, 'a', 3] as any), /pairwiseRankLossTf: target\[1\] must be a number/)
  t.throws(() => pairwiseRankLossTf({} as any, p, [1, 2, 3]), /pairwiseRankLossTf: tf must be the @tensorflow\/tfjs module/)
  t.throws(() => pairwiseRankLossTf(tf, p, [1, 2, 3], { timing: 5 } as any), /timing must be an object/)
  t.throws(() => tripletRankLossTf(tf, p, [1, 2, 3]), /tripletRankLossTf: features must have shape \[3, k\]/)
  t.throws(() => tripletRankLossTf(tf, f, [1, 2, 3], { eps: 0 }), /tripletRankLossTf: eps must be > 0/)
  t.throws(() => tripletRankLossOnDistancesTf(tf, f, [1, 2, 3]), /dist must have shape \[3, 3\]/)
  t.throws(() => pairwiseDistancesTf(tf, p), /pairwiseDistancesTf: features must be a 2-D tensor/)
  const bad = tf.tensor1d([1, NaN, 3])
  t.throws(() => pairwiseRankLossTf(tf, bad, [1, 2, 3]), /pred\[1\]/, 'non-finite scores are reported by index')
  tf.dispose([p, f, bad])
})
