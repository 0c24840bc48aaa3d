import { createHash } from 'node:crypto'
import t from 'tap'
import { forestFit, forestFitAsync, forestHold, forestPredict, forestPredictAsync, HeldForest, type RegressionForest } from '../lib/index'
import { addon } from '../lib/native'
import { leafValue, referenceTree, sweepTree, type RefTree } from './reference/forest'
import { rng } from './reference/random'

/** One tree of a flat forest as plain arrays (the reference's form). */
function treeOf (f: RegressionForest, t: number): RefTree {
  let start = 0
  for (let k = 0; k < t; k++) start += f.sizes[k]
  const end = start + f.sizes[t]
  const take = (a: Int32Array | Float64Array): number[] => Array.from(a.subarray(start, end))
  return { feature: take(f.feature), threshold: take(f.threshold), left: take(f.left), right: take(f.right), value: take(f.value), samples: take(f.samples) }
}

type Kind = 'levels' | 'floats' | 'mixed'

/** rows × cols features: few levels (many ties), float32 uniforms, or columns of both plus constant and duplicated columns and rows. */
function features (rand: () => number, rows: number, cols: number, kind: Kind): Float32Array {
  const x = new Float32Array(rows * cols)
  const style = Array.from({ length: cols }, () => kind === 'mixed' ? Math.floor(rand() * 4) : kind === 'levels' ? 0 : 1)
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const s = style[c]
      x[r * cols + c] = s === 0 ? Math.floor(rand() * 3) - 1 : s === 1 ? (rand() - 0.5) * 100 : s === 2 ? 7 : (rand() < 0.5 ? -0 : 0)
    }
  }
  if (rows >= 4 && cols >= 2) {
    for (let c = 0; c < cols; c++) x[1 * cols + c] = x[0 * cols + c] // a duplicate row
    for (let r = 0; r < rows; r++) x[r * cols + cols - 1] = x[r * cols] // a duplicate column (ties between features)
  }
  return x
}

t.test('forestFit without bootstrap, every feature: identical to the brute-force CART', async t => {
  const rand = rng(11)
  let cases = 0
  const shapes: Array<[number, number]> = [[1, 1], [1, 3], [2, 1], [2, 2], [3, 2], [5, 3], [8, 4], [17, 5], [40, 6], [64, 3], [100, 8]]
  for (const [rows, cols] of shapes) {
    for (const kind of ['levels', 'floats', 'mixed'] as const) {
      for (const rule of [{ minSamplesSplit: 2, minSamplesLeaf: 1, maxDepth: 0 }, { minSamplesSplit: 5, minSamplesLeaf: 2, maxDepth: 0 }, { minSamplesSplit: 2, minSamplesLeaf: 1, maxDepth: 3 }]) {
        const x = features(rand, rows, cols, kind)
        // Integer targets (few levels: ties between split scores are common) keep every sum exact.
        const y = Float64Array.from({ length: rows }, () => Math.floor(rand() * 4))
        const forest = forestFit(x, y, cols, { trees: 2, maxFeatures: 1, bootstrap: false, seed: cases, ...rule, maxDepth: rule.maxDepth || null })
        const ref = referenceTree(x, cols, y, rule)
        const got0 = treeOf(forest, 0)
        t.same(got0, ref, `${rows}×${cols} ${kind} ${JSON.stringify(rule)}`)
        t.same(sweepTree(x, cols, y, rule), ref, 'the sweep reference agrees')
        t.same(treeOf(forest, 1), got0, 'without bootstrap every tree is the same')
        cases++
      }
    }
  }
  t.comment(`${cases} cases`)
})

t.test('forestFit: larger inputs against the reference, and the predictions are the leaf values', async t => {
  const rand = rng(5)
  for (const [rows, cols, kind] of [[300, 6, 'mixed'], [250, 4, 'floats'], [400, 5, 'levels']] as const) {
    const x = features(rand, rows, cols, kind)
    const y = Float64Array.from({ length: rows }, (_, r) => Math.floor(rand() * 3) + (x[r * cols] > 0 ? 4 : 0))
    const forest = forestFit(x, y, cols, { trees: 1, maxFeatures: 1, bootstrap: false })
    t.same(treeOf(forest, 0), referenceTree(x, cols, y, { minSamplesSplit: 2, minSamplesLeaf: 1, maxDepth: 0 }), `${rows}×${cols} ${kind}`)
    const pred = forestPredict(forest, x)
    t.same(Array.from(pred), Array.from({ length: rows }, (_, r) => leafValue(forest, 0, x, cols, r)))
  }
})

// Ranks are stored in 1, 2 or 4 bytes (by the most distinct values of any column), and a
// node gathers them from the column-major copy when rows · columns · bytes > 512 KiB, else
// from the row-major one: each input below is large enough for both.
t.test('forestFit: 8-, 16- and 32-bit ranks, column- and row-major gathers: identical to the reference CART', async t => {
  const rand = rng(31)
  const rule = { minSamplesSplit: 2, minSamplesLeaf: 1, maxDepth: 4 }
  const distinct = (x: Float32Array, cols: number, c: number): number => new Set(Array.from({ length: x.length / cols }, (_, r) => x[r * cols + c])).size
  const fit = (x: Float32Array, y: Float64Array, cols: number): RefTree => treeOf(forestFit(x, y, cols, { trees: 1, maxFeatures: 1, bootstrap: false, ...rule }), 0)
  const target = (x: Float32Array, cols: number, rows: number): Float64Array =>
    Float64Array.from({ length: rows }, (_, r) => Math.floor(rand() * 3) + (x[r * cols] > 0 ? 4 : 0) + (x[r * cols + 1] > 0 ? 2 : 0))

  const levels = features(rand, 2000, 300, 'levels') // 3 values per column: 1-byte ranks
  const y8 = target(levels, 300, 2000)
  t.same(fit(levels, y8, 300), referenceTree(levels, 300, y8, rule), '1-byte ranks, 2000 × 300')

  const mixed = features(rand, 1500, 200, 'levels')
  for (let r = 0; r < 1500; r++) mixed[r * 200 + 1] = Math.fround((rand() - 0.5) * 100)
  t.ok(distinct(mixed, 200, 1) > 256, 'a column of more than 256 values')
  const y16 = target(mixed, 200, 1500)
  t.same(fit(mixed, y16, 200), sweepTree(mixed, 200, y16, rule), '2-byte ranks, 1500 × 200')

  const rows = 70000
  const wide = features(rand, rows, 3, 'floats')
  t.ok(distinct(wide, 3, 0) > 65536, 'a column of more than 65,536 values')
  const y32 = target(wide, 3, rows)
  t.same(fit(wide, y32, 3), sweepTree(wide, 3, y32, rule), '4-byte ranks, 70000 × 3')
})

// Digests of fits made before the ranks were narrowed and laid out twice (and the per-rank
// sums moved to registers): float targets make every sum's rounding count, so these pin
// the summation order as well as the split rules.
t.test('forestFit: pinned trees, float targets, 1-, 2- and 4-byte ranks', async t => {
  const digest = (f: RegressionForest): string => {
    const hash = createHash('sha256')
    for (const a of [f.sizes, f.feature, f.threshold, f.left, f.right, f.value, f.samples]) hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
    return hash.digest('hex').slice(0, 16)
  }
  const cases = [
    { rows: 3000, cols: 200, kind: 'levels', trees: 4, maxFeatures: 1 / 3, digest: 'f7c87f75e3c98529' },
    { rows: 3000, cols: 200, kind: 'mixed', trees: 4, maxFeatures: 1 / 3, digest: '29199e03d1d37b60' },
    { rows: 70000, cols: 2, kind: 'floats', trees: 2, maxFeatures: 1, digest: 'dec79bf649616cff' }
  ] as const
  const rand = rng(41)
  for (const c of cases) {
    const x = features(rand, c.rows, c.cols, c.kind)
    const y = Float64Array.from({ length: c.rows }, (_, r) => Math.sin(x[r * c.cols]) + rand())
    t.equal(digest(forestFit(x, y, c.cols, { trees: c.trees, maxFeatures: c.maxFeatures, seed: 9 })), c.digest, `${c.rows} × ${c.cols} ${c.kind}`)
  }
})

t.test('forestHold: the forest checked and copied once, predictions as from the flat arrays', async t => {
  const rand = rng(51)
  const x = features(rand, 200, 6, 'mixed')
  const y = Float64Array.from({ length: 200 }, () => rand())
  const forest = forestFit(x, y, 6, { trees: 9, maxFeatures: 0.5, seed: 4 })
  const held = forestHold(forest)
  t.ok(held instanceof HeldForest)
  t.equal(held.columns, 6)
  t.equal(held.trees, 9)
  const test = features(rng(52), 60, 6, 'mixed')
  for (const selection of ['mean', 'median'] as const) {
    const flat = forestPredict(forest, test, { selection })
    t.same(forestPredict(held, test, { selection }), flat, `${selection}: sync`)
    t.same(await forestPredictAsync(held, test, { selection, threads: 2 }), flat, `${selection}: async`)
  }
  const before = forestPredict(held, test)
  const pending = forestPredictAsync(held, test)
  forest.value.fill(1e6) // later changes to the arrays do not reach the held copy
  t.same(await pending, before, 'an async prediction runs on the held copy')
  t.same(forestPredict(held, test), before)
  t.same(Array.from(forestPredict(forest, test.subarray(0, 6))), [1e6], 'the flat arrays are read anew')

  t.throws(() => forestHold(null as any), { name: 'TypeError', message: /forestHold: forest must be a fitted forest object, got null/ })
  t.throws(() => forestHold({ ...forest, columns: 1.5 }), { name: 'RangeError', message: /forestHold: forest.columns must be an integer/ })
  t.throws(() => forestHold({ ...forest, left: Int32Array.from(forest.left, (v, i) => i === 0 ? 0 : v) }), { name: 'RangeError', message: /forestHold: forest is malformed: tree 0 node 0 has children 0/ })
  t.throws(() => forestHold({ ...forest, value: new Float64Array(3) }), { name: 'RangeError', message: /forestHold: forest.value has length 3 but forest.feature has/ })
  t.throws(() => forestHold({ ...forest, sizes: [1] as any }), { name: 'TypeError', message: /forestHold: forest.sizes must be an Int32Array/ })
  t.throws(() => forestPredict(held, new Float32Array(7)), { name: 'RangeError', message: /forestPredict: x has length 7, not a multiple of columns = 6/ })
  t.throws(() => addon.forestPredict(held.handle, test, 5, 'mean', undefined, false), { name: 'RangeError', message: /forestPredict: columns is 5 but the held forest has 6/ })
})

t.test('forestFit with bootstrap: sane trees, prediction is the mean (or median) of the trees\' leaf values', async t => {
  const rand = rng(21)
  const rows = 120
  const cols = 7
  const x = features(rand, rows, cols, 'mixed')
  const y = Float64Array.from({ length: rows }, (_, r) => Math.sin(x[r * cols + 1]) + rand())
  const forest = await forestFitAsync(x, y, cols, { trees: 15, maxFeatures: 0.5, seed: 3 })
  t.equal(forest.sizes.length, 15)
  t.equal(forest.columns, cols)
  const ymin = Math.min(...y)
  const ymax = Math.max(...y)
  let start = 0
  let differentTrees = 0
  for (let k = 0; k < 15; k++) {
    const tree = treeOf(forest, k)
    t.equal(tree.samples[0], rows, `tree ${k}: the bootstrap draws ${rows} rows`)
    for (let i = 0; i < tree.feature.length; i++) {
      if (tree.feature[i] < 0) continue
      t.equal(tree.left[i], i + 1, 'preorder: left child next')
      if (tree.samples[tree.left[i]] + tree.samples[tree.right[i]] !== tree.samples[i]) t.fail(`tree ${k} node ${i}: children do not add up`)
      const v = (tree.value[tree.left[i]] * tree.samples[tree.left[i]] + tree.value[tree.right[i]] * tree.samples[tree.right[i]]) / tree.samples[i]
      if (Math.abs(v - tree.value[i]) > 1e-9) t.fail(`tree ${k} node ${i}: value is not the weighted mean of its children`)
    }
    if (!tree.value.every(v => v >= ymin - 1e-12 && v <= ymax + 1e-12)) t.fail(`tree ${k}: a value outside the targets' range`)
    if (k > 0 && tree.feature.join() !== treeOf(forest, 0).feature.join()) differentTrees++
    start += forest.sizes[k]
  }
  t.equal(start, forest.feature.length)
  t.ok(differentTrees > 10, 'bootstrap and feature draws make the trees differ')

  const test = features(rng(22), 50, cols, 'mixed')
  const mean = forestPredict(forest, test)
  const median = await forestPredictAsync(forest, test, { selection: 'median' })
  for (let r = 0; r < 50; r++) {
    const leaves = Array.from({ length: 15 }, (_, k) => leafValue(forest, k, test, cols, r))
    let s = 0
    for (const v of leaves) s += v
    t.equal(mean[r], s / 15, `row ${r}: mean of the trees`)
    leaves.sort((a, b) => a - b)
    t.equal(median[r], leaves[7], `row ${r}: median of the trees`)
  }
  const even = forestFit(x, y, cols, { trees: 4, seed: 1 })
  const r0 = Array.from({ length: 4 }, (_, k) => leafValue(even, k, test, cols, 0)).sort((a, b) => a - b)
  t.equal(forestPredict(even, test, { selection: 'median' })[0], (r0[1] + r0[2]) / 2, 'median of an even count: mean of the middle two')
})

t.test('forestFit: same seed, same forest; any thread count, same forest; another seed, another forest', async t => {
  const rand = rng(8)
  const rows = 500
  const cols = 20
  const x = features(rand, rows, cols, 'mixed')
  const y = Float64Array.from({ length: rows }, () => rand())
  const opts = { trees: 24, maxFeatures: 1 / 3, seed: 12345 }
  const a = forestFit(x, y, cols, { ...opts, threads: 1 })
  const b = await forestFitAsync(x, y, cols, { ...opts, threads: 2 })
  const c = forestFit(x, y, cols, { ...opts, threads: 5 })
  t.same(b, a, '1 and 2 threads: identical trees')
  t.same(c, a, '1 and 5 threads: identical trees')
  t.same(forestFit(x, y, cols, opts), a, 'default threads: identical trees')
  const p1 = forestPredict(a, x, { threads: 1 })
  t.same(await forestPredictAsync(a, x, { threads: 3 }), p1, 'prediction is identical for any thread count')
  t.notSame(forestFit(x, y, cols, { ...opts, seed: 12346 }).feature, a.feature, 'another seed')
  const big = forestFit(x, y, cols, { ...opts, seed: 2 ** 53 - 1 })
  t.equal(big.sizes.length, 24, 'the largest seed is accepted')
})

t.test('forestFit / forestPredict: arguments are checked and named', async t => {
  const x = new Float32Array([0, 1, 2, 3, 4, 5])
  const y = [1, 2, 3]
  t.throws(() => forestFit(x, [1, 2], 2), { name: 'RangeError', message: /forestFit: x has length 6 but y has 2 rows of 2 columns \(4 values\)/ })
  t.throws(() => forestFit(x, y, 4), { name: 'RangeError', message: /x has length 6 but y has 3 rows of 4 columns/ })
  t.throws(() => forestFit(new Float32Array([0, NaN, 2, 3, 4, 5]), y, 2), { name: 'RangeError', message: /forestFit: x\[1\] is NaN/ })
  t.throws(() => forestFit(new Float32Array([0, 1, Infinity, 3, 4, 5]), y, 2), { name: 'RangeError', message: /forestFit: x\[2\] is infinite/ })
  t.throws(() => forestFit([0, 1, 2, 3, 1e40, 5], y, 2), { name: 'RangeError', message: /x\[4\] is infinite/ }, 'a value beyond float32 is refused')
  t.throws(() => forestFit(x, [1, NaN, 3], 2), { name: 'RangeError', message: /forestFit: y\[1\] is NaN/ })
  t.throws(() => forestFit(x, [1, 2, -Infinity], 2), { name: 'RangeError', message: /y\[2\] is infinite/ })
  t.throws(() => forestFit(new Float32Array(0), [], 2), { name: 'RangeError', message: /y must have at least one row/ })
  t.throws(() => forestFit(x, y, 0), { name: 'RangeError', message: /columns must be an integer in \[1/ })
  t.throws(() => forestFit(x, y, 2, { seed: -1 }), { name: 'RangeError', message: /forestFit: seed must be an integer in \[0, 9007199254740991\], got -1/ })
  t.throws(() => forestFit(x, y, 2, { seed: 2 ** 53 }), { name: 'RangeError', message: /seed must be an integer/ })
  t.throws(() => forestFit(x, y, 2, { seed: 1.5 }), { name: 'RangeError', message: /seed must be an integer/ })
  t.throws(() => forestFit(x, y, 2, { trees: 0 }), { name: 'RangeError', message: /trees must be an integer in \[1/ })
  t.throws(() => forestFit(x, y, 2, { minSamplesSplit: 1 }), { name: 'RangeError', message: /minSamplesSplit must be an integer in \[2/ })
  t.throws(() => forestFit(x, y, 2, { minSamplesLeaf: 0 }), { name: 'RangeError', message: /minSamplesLeaf must be an integer in \[1/ })
  t.throws(() => forestFit(x, y, 2, { maxDepth: 0 }), { name: 'RangeError', message: /maxDepth must be an integer in \[1/ })
  t.throws(() => forestFit(x, y, 2, { maxFeatures: 1.5 }), { name: 'RangeError', message: /maxFeatures must be a fraction in \(0, 1\] or an integer ≥ 2, got 1.5/ })
  t.throws(() => forestFit(x, y, 2, { bootstrap: 'yes' as any }), { name: 'TypeError', message: /bootstrap must be a boolean/ })
  t.throws(() => forestFit(x, y, 2, { threads: 0 }), { name: 'RangeError', message: /threads must be an integer in \[1, 256\]/ })
  t.throws(() => forestFit(x, y, 2, { tree: 3 } as any), { name: 'TypeError', message: /unknown option 'tree'/ })
  await t.rejects(forestFitAsync(x, [1, 2], 2), { name: 'RangeError', message: /^forestFitAsync: x has length 6/ })

  const f = forestFit(x.subarray(0, 4), [1, 2], 2, { trees: 2, bootstrap: false })
  t.same(Array.from(f.sizes), [3, 3])
  t.same(Array.from(forestPredict(f, [0, 1])), [1], 'a plain array of rows is accepted')
  t.same(forestPredict(f, new Float32Array(0)).length, 0, 'no rows, no predictions')
  t.throws(() => forestPredict(f, new Float32Array(3)), { name: 'RangeError', message: /forestPredict: x has length 3, not a multiple of columns = 2/ })
  t.throws(() => forestPredict(f, new Float32Array([0, NaN])), { name: 'RangeError', message: /forestPredict: x\[1\] is NaN/ })
  t.throws(() => forestPredict(f, x, { selection: 'mode' as any }), { name: 'TypeError', message: /selection must be one of 'mean', 'median'/ })
  const broken = (patch: Partial<RegressionForest>): RegressionForest => ({ ...f, ...patch })
  t.throws(() => forestPredict(broken({ left: Int32Array.from(f.left, (v, i) => i === 0 ? 0 : v) }), x), { name: 'RangeError', message: /forest is malformed: tree 0 node 0 has children 0 and 2; they must lie in \(0, 3\)/ })
  t.throws(() => forestPredict(broken({ feature: Int32Array.from(f.feature, (v, i) => i === 0 ? 9 : v) }), x), { message: /tree 0 node 0 splits on feature 9, outside \[0, 2\)/ })
  t.throws(() => forestPredict(broken({ sizes: Int32Array.from([3, 4]) }), x), { message: /the tree sizes add up to 7 nodes, but the node arrays have 6/ })
  t.throws(() => forestPredict(broken({ value: new Float64Array(5) }), x), { message: /forest.value has length 5 but forest.feature has 6/ })
  t.throws(() => forestPredict(broken({ threshold: new Float32Array(6) as any }), x), { name: 'TypeError', message: /forest.threshold must be a Float64Array/ })
  t.throws(() => forestPredict(broken({ columns: 0 }), x), { message: /forest.columns must be an integer in \[1/ })
})

t.test('forestFit: n = 1 and 2, constant columns, constant targets', async t => {
  const one = forestFit([3, 4], [5], 2)
  t.same(Array.from(one.feature), Array(100).fill(-1), 'one row: every tree a leaf')
  t.same(Array.from(forestPredict(one, [0, 0, 9, 9])), [5, 5])
  const two = forestFit([1, 0, 2, 0], [1, 3], 2, { trees: 1, bootstrap: false })
  t.same(Array.from(two.feature), [0, -1, -1], 'two rows split on the non-constant column')
  t.same(Array.from(two.threshold), [1.5, 0, 0])
  t.same(Array.from(two.value), [2, 1, 3])
  const flat = forestFit([0, 0, 0, 0, 0, 0], [1, 2, 3], 2, { trees: 1, bootstrap: false })
  t.same(Array.from(flat.feature), [-1], 'every column constant: a leaf with the mean')
  t.same(Array.from(flat.value), [2])
  const pure = forestFit([0, 1, 2], [4, 4, 4], 1, { trees: 1, bootstrap: false })
  t.same(Array.from(pure.feature), [-1], 'equal targets: no split')
  // Adjacent float32 values: the threshold (their midpoint, exact in double) lies between them.
  const a = Math.fround(1)
  const b = Math.fround(1 + 2 ** -23)
  const tight = forestFit(new Float32Array([a, b]), [0, 1], 1, { trees: 1, bootstrap: false })
  t.ok(tight.threshold[0] >= a && tight.threshold[0] < b, 'a ≤ threshold < b')
  t.same(Array.from(forestPredict(tight, new Float32Array([a, b]))), [0, 1])
})
