// The bucketed Kendall kernel (native/kendall.cc) on the paths that small inputs never
// reach: several value buckets, several threads and chunks, buckets larger than the
// per-thread buffers, the portable (non-AVX2) inversion count, the scratch cache, and
// concurrent calls. Large inputs are checked exactly against Knight's algorithm in JS
// (itself checked against the O(n^2) loop) and against scipy on generated inputs.
import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { kendallTau, kendallTauAsync, nativeInfo, releaseScratch, setScratchLimit, setThreads } from '../lib/index'
import * as ref from './reference/correlation'
import { knightCounts, tauAFromCounts, tauBFromCounts } from './reference/kendall'
import { integers, normals, rng } from './reference/random'

const root = path.join(__dirname, '..')

/** Mirrors generate() in test/fixtures/make-scipy-kendall-large.py (exactly rounded arithmetic only). */
function generateLarge (kind: string, n: number, seed: number): [Float64Array, Float64Array] {
  const rand = rng(seed)
  const x = new Float64Array(n); const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    if (kind === 'continuous') {
      x[i] = rand(); y[i] = x[i] + rand()
    } else if (kind === 'ties') {
      x[i] = Math.floor(rand() * 40); y[i] = Math.floor(x[i] / 2) + Math.floor(rand() * 25)
    } else if (kind === 'skewed') {
      x[i] = rand() * 2 ** (Math.floor(rand() * 121) - 60)
      y[i] = rand() < 0.7 ? x[i] * (1 + rand()) : -(rand() * 2 ** (Math.floor(rand() * 121) - 60))
    } else if (kind === 'outlier') {
      x[i] = i === 7 ? 1e6 : rand()
      y[i] = i % 3 ? -x[i] + 0.5 * rand() : Math.floor(rand() * 8)
    } else if (kind === 'cluster') {
      x[i] = i % 2 ? 1 + rand() * 2 ** -30 : rand() * 1e6
      y[i] = i % 3 ? 2 - (x[i] < 2 ? x[i] : 1) * 0.5 + rand() * 2 ** -31 : rand() * 1e6
    } else {
      throw new Error(kind)
    }
  }
  return [x, y]
}

// The native result must equal Knight's counts turned into tau by the same arithmetic.
function exact (t: Test, x: ArrayLike<number>, y: ArrayLike<number>, label: string) {
  const c = knightCounts(x, y)
  const b = tauBFromCounts(c)
  const got = kendallTau(x, y)
  if (Number.isNaN(b)) t.ok(Number.isNaN(got), `tau-b NaN ${label}`)
  else t.equal(got, b, `tau-b ${label}`)
  t.equal(kendallTau(x, y, { variant: 'a' }), tauAFromCounts(c), `tau-a ${label}`)
}

t.test('the Knight reference agrees with the O(n^2) pair loop', async t => {
  const rand = rng(21)
  for (const n of [2, 3, 4, 9, 64, 300]) {
    for (const levels of [0, 2, 6]) {
      const x = levels ? integers(rand, n, levels) : normals(rand, n)
      const y = levels ? integers(rand, n, levels + 1) : normals(rand, n)
      const c = knightCounts(x, y)
      const p = ref.pairCounts(x, y)
      t.same([c.discordant, c.tiedX, c.tiedY], [p.discordant, p.tiedX, p.tiedY], `counts n=${n} levels=${levels}`)
      const b = ref.tauB(x, y)
      t.ok(Number.isNaN(b) ? Number.isNaN(tauBFromCounts(c)) : Math.abs(tauBFromCounts(c) - b) < 1e-12, `tau-b n=${n} levels=${levels}`)
      t.ok(Math.abs(tauAFromCounts(c) - ref.tauA(x, y)) < 1e-12, `tau-a n=${n} levels=${levels}`)
    }
  }
})

t.test('every tiny input over a three-value alphabet matches the pair loop', async t => {
  // n = 2 and 3 with all combinations of ties (3^6 = 729 input pairs for n = 3).
  for (const n of [2, 3]) {
    const combos = 3 ** (2 * n)
    let bad = 0
    for (let code = 0; code < combos; code++) {
      const x: number[] = []; const y: number[] = []
      let c = code
      for (let i = 0; i < n; i++) { x.push(c % 3); c = Math.floor(c / 3) }
      for (let i = 0; i < n; i++) { y.push(c % 3); c = Math.floor(c / 3) }
      const b = ref.tauB(x, y); const got = kendallTau(x, y)
      if (!(Number.isNaN(b) ? Number.isNaN(got) : Math.abs(got - b) < 1e-15)) bad++
      if (Math.abs(kendallTau(x, y, { variant: 'a' }) - ref.tauA(x, y)) > 1e-15) bad++
    }
    t.equal(bad, 0, `n=${n}: all ${combos} inputs`)
  }
})

t.test(`agrees with scipy on large generated inputs`, async t => {
  const fixtures = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'scipy-kendall-large.json'), 'utf8')) as
    { scipy: string; cases: { kind: string; n: number; seed: number; kendall_tau_b: number | null }[] }
  for (const c of fixtures.cases) {
    const [x, y] = generateLarge(c.kind, c.n, c.seed)
    const got = kendallTau(x, y)
    const label = `${c.kind} n=${c.n} (scipy ${fixtures.scipy})`
    if (c.kendall_tau_b === null) t.ok(Number.isNaN(got), label)
    else t.ok(Math.abs(got - c.kendall_tau_b) <= 1e-14, `${label}: ${got} vs ${c.kendall_tau_b}`)
    exact(t, x, y, label)
  }
})

t.test('sizes around the bucket, thread and buffer thresholds', async t => {
  // 2 value buckets from 16384 pairs, threads from 32768, 16 chunks from 131072.
  const rand = rng(5)
  for (const n of [16383, 16384, 16385, 32767, 32768, 32769, 65537, 131072]) {
    const x = normals(rand, n)
    const y = new Float64Array(n)
    for (let i = 0; i < n; i++) y[i] = 0.6 * x[i] + rand()
    exact(t, x, y, `continuous n=${n}`)
    exact(t, integers(rand, n, 30), integers(rand, n, 1000), `ties n=${n}`)
  }
})

t.test('heavy ties, constant inputs and duplicates in the bucketed path', async t => {
  const n = 100000
  const rand = rng(8)
  const ones = new Float64Array(n).fill(1)
  t.ok(Number.isNaN(kendallTau(ones, ones)), 'both constant: tau-b NaN')
  t.equal(kendallTau(ones, ones, { variant: 'a' }), -1, 'both constant: tau-a -1 (no concordant pair)')
  exact(t, ones, normals(rand, n), 'x constant')
  exact(t, normals(rand, n), ones, 'y constant')
  exact(t, integers(rand, n, 2), integers(rand, n, 2), 'two values each')
  const dup = integers(rand, n, 3)
  exact(t, dup, dup, 'identical columns of three values')
  exact(t, dup, dup.map(v => -v), 'reversed columns of three values')
  // Nearly constant columns: a bucket-map sample that sees one value, the data more.
  const mostlyX = new Float64Array(n); const mostlyY = new Float64Array(n)
  for (let i = 0; i < n; i++) { mostlyX[i] = i % 1000 ? 1 : rand(); mostlyY[i] = i % 777 ? 2 : rand() - 0.5 }
  exact(t, mostlyX, mostlyY, 'nearly constant x and y')
  exact(t, mostlyY, normals(rand, n), 'nearly constant x, continuous y')
  // Long runs of identical pairs, x sorted and y reversed.
  const sx = new Float64Array(n); const sy = new Float64Array(n)
  for (let i = 0; i < n; i++) { sx[i] = Math.floor(i / 1000); sy[i] = -Math.floor(i / 1500) }
  exact(t, sx, sy, 'sorted blocks')
})

t.test('signed zeros, subnormals and extreme magnitudes in the bucketed path', async t => {
  const n = 60000
  const rand = rng(13)
  const pool = [0, -0, 5e-324, -5e-324, 2.2e-308, 1e-310, -1e-310, 1.7976931348623157e308, -1.7976931348623157e308, 1, -1, 1e300, -1e-300]
  const x = new Float64Array(n); const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    x[i] = pool[Math.floor(rand() * pool.length)] * (rand() < 0.5 ? 1 : rand())
    y[i] = pool[Math.floor(rand() * pool.length)]
  }
  exact(t, x, y, 'mixed extremes')
  for (const kind of ['skewed', 'outlier', 'cluster']) {
    const [a, b] = generateLarge(kind, 140000, 77)
    exact(t, a, b, `${kind} (uneven or oversized buckets)`)
    exact(t, b, a, `${kind} swapped`)
  }
})

t.test('thread counts change nothing', async t => {
  const before = nativeInfo().threads
  t.teardown(() => setThreads(before))
  for (const kind of ['continuous', 'ties', 'skewed', 'cluster']) {
    const [x, y] = generateLarge(kind, 150000, 31)
    const values = [1, 2, 3, 8, 256].map(threads => { setThreads(threads); return [kendallTau(x, y), kendallTau(x, y, { variant: 'a' })] })
    t.same(values, Array(5).fill(values[0]), `${kind}: 1, 2, 3, 8, 256 threads`)
  }
})

t.test('the portable kernel (NASRANK_NO_AVX2=1) gives identical results', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-kendall-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const inputs: [string, Float64Array, Float64Array][] = [
    ['continuous', ...generateLarge('continuous', 70000, 41)],
    ['ties', ...generateLarge('ties', 70000, 42)],
    ['outlier', ...generateLarge('outlier', 90000, 43)],
    ['cluster', ...generateLarge('cluster', 140000, 45)],
    ['small', ...generateLarge('continuous', 1000, 44)]
  ]
  for (const [name, x, y] of inputs) {
    fs.writeFileSync(path.join(dir, `${name}.x`), Buffer.from(x.buffer))
    fs.writeFileSync(path.join(dir, `${name}.y`), Buffer.from(y.buffer))
  }
  const script = `
    const fs = require('fs'); const path = require('path')
    const m = require(${JSON.stringify(root)})
    const read = f => { const b = fs.readFileSync(path.join(${JSON.stringify(dir)}, f)); return new Float64Array(b.buffer, b.byteOffset, b.length / 8) }
    const out = {}
    for (const name of ${JSON.stringify(inputs.map(i => i[0]))}) {
      const x = read(name + '.x'); const y = read(name + '.y')
      out[name] = [m.kendallTau(x, y), m.kendallTau(x, y, { variant: 'a' })]
    }
    console.log(JSON.stringify(out))`
  const portable = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NASRANK_NO_AVX2: '1' } }))
  for (const [name, x, y] of inputs) {
    t.same(portable[name], [kendallTau(x, y), kendallTau(x, y, { variant: 'a' })], name)
  }
})

t.test('scratch memory is cached between calls, bounded and releasable', async t => {
  const limit = nativeInfo().scratch.limitBytes
  t.teardown(() => setScratchLimit(limit))
  const [x, y] = generateLarge('continuous', 100000, 9)
  const value = kendallTau(x, y)
  releaseScratch()
  t.equal(nativeInfo().scratch.cachedBytes, 0, 'empty after releaseScratch()')
  t.equal(kendallTau(x, y), value)
  const cached = nativeInfo().scratch.cachedBytes
  t.ok(cached >= 24 * 100000, `a call leaves its scratch cached (${cached} bytes)`)
  t.equal(kendallTau(x, y), value, 'a call on cached scratch gives the same value')
  t.equal(nativeInfo().scratch.cachedBytes, cached, 'and reuses the block')
  t.equal(releaseScratch(), cached, 'releaseScratch() returns the bytes freed')
  setScratchLimit(0)
  t.equal(kendallTau(x, y), value)
  t.equal(nativeInfo().scratch.cachedBytes, 0, 'limit 0: nothing is kept')
  setScratchLimit(1 << 20)
  t.equal(kendallTau(x, y), value)
  t.equal(nativeInfo().scratch.cachedBytes, 0, 'a block over the limit is freed')
  t.equal(nativeInfo().scratch.limitBytes, 1 << 20)
  t.throws(() => setScratchLimit(-1), { name: 'RangeError', message: /setScratchLimit: bytes must be a non-negative integer/ })
  t.throws(() => setScratchLimit(1.5), { name: 'RangeError' })
  t.throws(() => setScratchLimit(NaN), { name: 'RangeError', message: /finite/ })
  t.throws(() => setScratchLimit('1' as never), { name: 'TypeError', message: /bytes must be a number/ })
  t.throws(() => (setScratchLimit as (v?: unknown) => void)(), { name: 'TypeError', message: /bytes must be a number, got undefined/ })
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { addon } = require('../lib/native') as typeof import('../lib/native')
  t.throws(() => (addon.setScratchLimit as (v: unknown) => void)(-5), { name: 'RangeError', message: /non-negative integer/ })
})

t.test('concurrent async calls and worker threads on large inputs', async t => {
  const inputs = ['continuous', 'ties', 'skewed', 'cluster'].map((kind, k) => generateLarge(kind, 80000 + 1000 * k, 50 + k))
  const expected = inputs.map(([x, y]) => kendallTau(x, y))
  const pending = inputs.flatMap(([x, y]) => [kendallTauAsync(x, y), kendallTauAsync(x, y)])
  const sync = inputs.map(([x, y]) => kendallTau(x, y))  // on the main thread meanwhile
  t.same(await Promise.all(pending), expected.flatMap(v => [v, v]), 'async calls running together')
  t.same(sync, expected)
  const [x, y] = inputs[0]
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const m = require(${JSON.stringify(root)})
    parentPort.postMessage(m.kendallTau(workerData.x, workerData.y))`
  const results = await Promise.all([0, 1, 2].map(() => new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { x, y } })
    w.once('message', resolve)
    w.once('error', reject)
  })))
  t.same(results, [expected[0], expected[0], expected[0]], 'three worker threads')
})
