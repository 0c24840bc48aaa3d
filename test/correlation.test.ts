import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { kendallTau, kendallTauAsync, pearson, spearman, spearmanAsync } from '../lib/index'
import * as ref from './reference/correlation'
import { integers, normals, rng } from './reference/random'

interface Fixture { name: string; x: number[]; y: number[]; kendall_tau_b: number | null; spearman: number | null; pearson: number | null }
const fixtures = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'scipy-correlation.json'), 'utf8')) as { scipy: string; cases: Fixture[] }

// scipy's value, to within floating-point noise (kendall tau-b uses the same arithmetic
// and must agree to the last bit up to sqrt rounding).
function close (t: Test, actual: number, expected: number | null, tol: number, what: string) {
  if (expected === null) return t.ok(Number.isNaN(actual), `${what}: NaN as scipy`)
  t.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs scipy ${expected}`)
}

t.test(`agrees with scipy ${fixtures.scipy} fixtures`, async t => {
  for (const c of fixtures.cases) {
    close(t, kendallTau(c.x, c.y), c.kendall_tau_b, 1e-14, `kendallTau ${c.name}`)
    close(t, spearman(c.x, c.y), c.spearman, 1e-12, `spearman ${c.name}`)
    close(t, pearson(c.x, c.y), c.pearson, 1e-12, `pearson ${c.name}`)
  }
})

t.test('matches the O(n^2) reference on random inputs with and without ties', async t => {
  const rand = rng(7)
  for (const n of [2, 3, 4, 7, 31, 32, 33, 100, 257, 600]) {
    for (const ties of [0, 2, 5]) {
      const x = ties ? integers(rand, n, ties) : normals(rand, n)
      const y = ties ? integers(rand, n, ties + 1) : normals(rand, n)
      const label = `n=${n} ${ties ? `ties(${ties})` : 'continuous'}`
      const b = ref.tauB(x, y)
      const got = kendallTau(x, y)
      if (Number.isNaN(b)) t.ok(Number.isNaN(got), `tau-b NaN ${label}`)
      else t.ok(Math.abs(got - b) <= 1e-12, `tau-b ${label}: ${got} vs ${b}`)
      t.ok(Math.abs(kendallTau(x, y, { variant: 'a' }) - ref.tauA(x, y)) <= 1e-12, `tau-a ${label}`)
      const rs = ref.spearman(x, y)
      const gotRs = spearman(x, y)
      t.ok(Number.isNaN(rs) ? Number.isNaN(gotRs) : Math.abs(gotRs - rs) <= 1e-12, `spearman ${label}`)
    }
  }
})

t.test('large inputs: multi-threaded merge path agrees with the reference', async t => {
  // Above the parallel threshold (2 x 65536) the inversion count runs in chunks.
  const rand = rng(11)
  const n = 140000
  const x = integers(rand, n, 1000)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) y[i] = x[i] + Math.floor(rand() * 300)
  // Reference by counting over the 1000 x-levels: O(n * levels) is still cheap enough.
  const sub = 3000
  t.ok(Math.abs(kendallTau(x.subarray(0, sub), y.subarray(0, sub)) - ref.tauB(x.subarray(0, sub), y.subarray(0, sub))) < 1e-12, 'subset matches')
  const full = kendallTau(x, y)
  const reversed = kendallTau(x, y.map(v => -v))
  t.ok(Math.abs(full + reversed) < 1e-12, 'negating y negates tau-b')
  const permutation = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5)
  const px = permutation.map(i => x[i]); const py = permutation.map(i => y[i])
  t.ok(Math.abs(kendallTau(px, py) - full) < 1e-12, 'invariant under a joint permutation')
  t.ok(full > 0.5 && full < 1, `plausible value ${full}`)
})

t.test('tau-a and tau-b coincide without ties, differ with them', async t => {
  const x = [1, 2, 3, 4, 5]; const y = [2, 1, 4, 3, 5]
  t.ok(Math.abs(kendallTau(x, y, { variant: 'a' }) - 0.6) < 1e-15)
  t.ok(Math.abs(kendallTau(x, y) - 0.6) < 1e-15)
  const xt = [1, 1, 2, 3]; const yt = [1, 2, 3, 4]
  t.equal(kendallTau(xt, yt, { variant: 'a' }), 2 * 5 / 6 - 1)
  t.ok(Math.abs(kendallTau(xt, yt) - 5 / Math.sqrt(5 * 6)) < 1e-15)
})

t.test('accepts number arrays, Float32Array and Float64Array alike', async t => {
  const x = [0.5, 0.25, 2, 8]; const y = [1, 3, 2, 4]
  const expected = kendallTau(x, y)
  t.equal(kendallTau(Float64Array.from(x), Float64Array.from(y)), expected)
  t.equal(kendallTau(Float32Array.from(x), Int32Array.from(y)), expected)
})

t.test('async variants agree and reject bad input', async t => {
  const rand = rng(3)
  const x = normals(rand, 5000); const y = normals(rand, 5000)
  t.equal(await kendallTauAsync(x, y), kendallTau(x, y))
  t.equal(await kendallTauAsync(x, y, { variant: 'a' }), kendallTau(x, y, { variant: 'a' }))
  t.equal(await spearmanAsync(x, y), spearman(x, y))
  await t.rejects(kendallTauAsync([1, 2], [1]), { name: 'RangeError', message: /y/ })
  await t.rejects(spearmanAsync([1, NaN], [1, 2]), { name: 'RangeError', message: /x\[1\] is NaN/ })
})

t.test('validation names the argument', async t => {
  for (const fn of [kendallTau, spearman, pearson] as const) {
    const name = fn.name
    t.throws(() => fn([1, 2, 3], [1, 2]), { name: 'RangeError', message: new RegExp(`${name}: y has length 2 but x has length 3`) })
    t.throws(() => fn([1], [1]), { name: 'RangeError', message: /at least 2/ }, `${name} n=1`)
    t.throws(() => fn([], []), { name: 'RangeError', message: /at least 2/ }, `${name} n=0`)
    t.throws(() => fn([1, NaN, 3], [1, 2, 3]), { name: 'RangeError', message: /x\[1\] is NaN/ })
    t.throws(() => fn([1, 2, 3], [1, 2, Infinity]), { name: 'RangeError', message: /y\[2\] is infinite/ })
    t.throws(() => fn('abc' as never, [1, 2, 3]), { name: 'TypeError', message: /x must be an array of numbers/ })
    t.throws(() => fn([1, '2', 3] as never, [1, 2, 3]), { name: 'TypeError', message: /x\[1\] must be a number/ })
    t.throws(() => fn([1, 2], null as never), { name: 'TypeError', message: /y must be/ })
    t.throws(() => fn(new BigInt64Array(2) as never, [1, 2]), { name: 'TypeError', message: /x must hold numbers/ })
  }
  t.throws(() => kendallTau([1, 2], [1, 2], { variant: 'c' as never }), { name: 'TypeError', message: /variant must be one of 'a', 'b'/ })
  t.throws(() => kendallTau([1, 2], [1, 2], { varient: 'a' } as never), { name: 'TypeError', message: /unknown option 'varient'/ })
  t.throws(() => kendallTau([1, 2], [1, 2], 'b' as never), { name: 'TypeError', message: /options must be an object/ })
})

t.test('constant inputs give NaN exactly where scipy does', async t => {
  t.ok(Number.isNaN(kendallTau([1, 1, 1], [1, 2, 3])))
  t.ok(Number.isNaN(spearman([1, 2, 3], [4, 4, 4])))
  t.ok(Number.isNaN(pearson([1, 1], [1, 2])))
  // tau-a is defined for constant inputs: no pair is concordant.
  t.equal(kendallTau([1, 1, 1], [1, 2, 3], { variant: 'a' }), -1)
  t.ok(Number.isNaN(kendallTau([1, 1], [1, 2])))
})
