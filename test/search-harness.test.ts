// runSearch: option validation, the checks that catch a lying method, the incumbent at
// checkpoints (against a brute-force replay), determinism, the registry and its errors.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Bench } from '../lib/bench/bench'
import { openBench } from '../lib/bench/open'
import { synthetic201 } from '../lib/bench/synthetic'
import { createNb201Table, writeNb201Table } from '../lib/bench/table'
import { Random } from '../lib/random'
import { runSearch, searchMethod, SEARCH_METHODS, randomSearchExpectation } from '../lib/search/index'
import type { SearchMethod, SearchRun } from '../lib/search/types'
import { nb201 } from '../lib/spaces/nb201'

const bench = new Bench(synthetic201())
const rs = searchMethod('rs')

/** A method that does what `body` says with the bench and returns what it says. */
const liar = (body: (run: SearchRun) => { rows: number[], values: number[] }): SearchMethod => ({
  name: 'liar',
  settings: {},
  run: async run => { const r = body(run); return { rows: Int32Array.from(r.rows), values: Float64Array.from(r.values) } }
})

t.test('options are validated before any work, with errors naming the option', async t => {
  let ran = false
  const spy: SearchMethod = { name: 'spy', settings: {}, run: async () => { ran = true; return { rows: new Int32Array(0), values: new Float64Array(0) } } }
  await t.rejects(runSearch(spy, bench, { budget: 0, seed: 0 }), /options\.budget must be an integer in \[1, 15625\]/)
  await t.rejects(runSearch(spy, bench, { budget: 15626, seed: 0 }), /options\.budget must be an integer in \[1, 15625\] \(.* has 15625 architectures\), got 15626/)
  await t.rejects(runSearch(spy, bench, { budget: 2.5, seed: 0 }), /options\.budget/)
  await t.rejects(runSearch(spy, bench, { budget: '10' as never, seed: 0 }), { name: 'TypeError', message: /options\.budget must be a number/ })
  await t.rejects(runSearch(spy, bench, { budget: 10 } as never), /options\.seed is required/)
  await t.rejects(runSearch(spy, bench, { budget: 10, seed: -1 }), /options\.seed must be an integer/)
  await t.rejects(runSearch(spy, bench, { budget: 10, seed: 0, checkpoints: [5, 5] }), /checkpoints must be strictly ascending, but \[0\] = 5 and \[1\] = 5/)
  await t.rejects(runSearch(spy, bench, { budget: 10, seed: 0, checkpoints: [5, 11] }), /checkpoints\[1\] must be an integer in \[1, budget = 10\], got 11/)
  await t.rejects(runSearch(spy, bench, { budget: 10, seed: 0, checkpoints: [] }), /checkpoints must be a non-empty array/)
  await t.rejects(runSearch(spy, bench, { budget: 10, seed: 0, epochs: 13 }), /options\.epochs: .* has no results at epochs 13 \(available: 12, 200\)/)
  await t.rejects(runSearch(spy, bench, { budget: 10, seed: 0, budjet: 3 } as never), /unknown option 'budjet' \(known: budget, seed, checkpoints, epochs, signal, checkpointFile\)/)
  await t.rejects(runSearch({} as never, bench, { budget: 10, seed: 0 }), /method must be a SearchMethod/)
  await t.rejects(runSearch(spy, {} as never, { budget: 10, seed: 0 }), /bench must be a Bench/)
  await t.rejects(runSearch(spy, bench, undefined as never), /options \{ budget, seed \} are required/)
  const controller = new AbortController()
  controller.abort(new Error('stop'))
  await t.rejects(runSearch(spy, bench, { budget: 10, seed: 0, signal: controller.signal }), /stop/)
  t.notOk(ran, 'the method never ran')
})

t.test('the metric searched: val, else test; neither is a clear error', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-search-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const arch = Array.from({ length: 50 }, (_, i) => nb201.format(nb201.fromIndex(i * 300)))
  const testOnly = path.join(dir, 'test-only.csv')
  writeNb201Table(createNb201Table({ arch, columns: { test_accuracy: arch.map((_, i) => 50 + (i * 37) % 50) } }), testOnly)
  const b = await openBench(`nb201:${testOnly}`)
  const r = await runSearch(rs, b, { budget: 20, seed: 1 })
  t.equal(r.searchedOn, 'test')
  t.equal(r.checkpoints[0].val, r.checkpoints[0].test, 'searched on test, so the reported test is the searched value')
  const trainOnly = path.join(dir, 'train-only.csv')
  writeNb201Table(createNb201Table({ arch, columns: { train_accuracy: arch.map(() => 1) } }), trainOnly)
  await t.rejects(runSearch(rs, await openBench(`nb201:${trainOnly}`), { budget: 5, seed: 0 }), /has neither a 'val' nor a 'test' metric to search on \(metrics: train\)/)
})

t.test('a method that lies fails loudly', async t => {
  const opts = { budget: 5, seed: 0 }
  await t.rejects(runSearch(liar(run => { const v = run.bench.lookup([3], { metric: run.metric })[0]; return { rows: [3, 3], values: [v, v] } }), bench, opts), /rows\[1\] = 3 repeats an earlier query/)
  await t.rejects(runSearch(liar(run => ({ rows: [4], values: [run.bench.lookup([4], { metric: run.metric })[0] + 1] })), bench, opts), /values\[0\] = .* but the bench's value of row 4 .* is /)
  await t.rejects(runSearch(liar(run => { const v = run.bench.lookup([1, 2], { metric: run.metric }); return { rows: [1], values: [v[0]] } }), bench, opts), /returned 1 distinct rows but the bench counted 2 distinct queries/)
  await t.rejects(runSearch(liar(() => ({ rows: [7], values: [bench.column()[7]] })), bench, opts), /returned 1 distinct rows but the bench counted 0/)
  await t.rejects(runSearch(liar(run => { const rows = [0, 1, 2, 3, 4, 5]; return { rows, values: [...run.bench.lookup(rows, { metric: run.metric })] } }), bench, opts), /returned 6 rows, over its budget of 5/)
  await t.rejects(runSearch(liar(() => ({ rows: [-1], values: [0] })), bench, opts), /rows\[0\] = -1 is not a row/)
  await t.rejects(runSearch({ name: 'bad', settings: {}, run: async () => ({ rows: [1], values: [1] }) as never }, bench, opts), /must return \{ rows: Int32Array, values: Float64Array \}/)
  await t.rejects(runSearch(liar(() => ({ rows: [], values: [] })), bench, opts), /queried nothing/)
})

t.test('checkpoints report the incumbent (first best seen) and its test, read uncounted', async t => {
  const val = bench.column({ metric: 'val' })
  const test = bench.column({ metric: 'test' })
  for (const seed of [0, 1, 2]) {
    const r = await runSearch(rs, bench, { budget: 60, seed, checkpoints: [1, 7, 30, 60] })
    t.equal(bench.queries, 60, 'only the search counted')
    // Replay: uniform draws without replacement by rejection, as random search documents.
    const random = new Random(seed)
    const seen = new Set<number>()
    const rows: number[] = []
    while (rows.length < 60) { const row = random.int(bench.size); if (!seen.has(row)) { seen.add(row); rows.push(row) } }
    for (const c of r.checkpoints) {
      let best = rows[0]
      for (const row of rows.slice(0, c.queries)) if (val[row] > val[best]) best = row
      t.same(c, { queries: c.queries, row: best, arch: nb201.format(nb201.fromIndex(best)), val: val[best], test: test[best] })
    }
    t.same(Object.keys(r), ['method', 'settings', 'seed', 'searchedOn', 'budget', 'queried', 'checkpoints'])
    t.match(r, { method: 'rs', seed, searchedOn: 'val', budget: 60, queried: 60 })
  }
})

t.test('every method: same seed, same result; another seed, another; the budget is spent exactly', async t => {
  for (const name of Object.keys(SEARCH_METHODS)) {
    // CTNAS with a small schedule (the paper's takes minutes per run).
    const method = name === 'bananas'
      ? searchMethod(name, { epochs: 20, ensemble: 2 })
      : name === 'ctnas' ? searchMethod(name, { iterations: 30, pretrainEpochs: 10, exploreEvery: 10, explorePairs: 16, exploreKeep: 8, baselineEvery: 10, hidden: 8, topK: 3 }) : name === 'sampling' ? searchMethod(name, { width: 8, epochs: 10 }) : searchMethod(name)
    const a = await runSearch(method, bench, { budget: 40, seed: 5, checkpoints: [20, 40] })
    const b = await runSearch(method, bench, { budget: 40, seed: 5, checkpoints: [20, 40] })
    const c = await runSearch(method, bench, { budget: 40, seed: 6, checkpoints: [20, 40] })
    t.same(a, b, `${name}: deterministic`)
    t.not(JSON.stringify(a.checkpoints), JSON.stringify(c.checkpoints), `${name}: the seed matters`)
    t.equal(a.queried, 40, `${name}: spends the budget`)
    t.same(a.settings, method.settings)
    // A search on the 12-epoch results still reports the final (largest budget) test.
    const early = await runSearch(method, bench, { budget: 15, seed: 5, epochs: 12 })
    const row = early.checkpoints[0].row
    t.equal(early.checkpoints[0].val, bench.column({ metric: 'val', epochs: 12 })[row], `${name}: searched at 12 epochs`)
    t.equal(early.checkpoints[0].test, bench.column({ metric: 'test', epochs: 200 })[row], `${name}: test at 200 epochs`)
  }
})

t.test('the registry and settings errors', async t => {
  t.same(Object.keys(SEARCH_METHODS), ['rs', 're', 'ls', 'bananas', 'ctnas', 'sampling', 'agnet'])
  t.throws(() => searchMethod('ga'), { name: 'RangeError', message: /unknown search method 'ga' \(known: rs, re, ls, bananas, ctnas, sampling, agnet\)/ })
  t.throws(() => searchMethod(3 as never), /unknown search method number 3/)
  t.throws(() => searchMethod('re', { population: 0 }), /agingEvolution: settings\.population must be an integer in \[1,/)
  t.throws(() => searchMethod('re', { pop: 3 }), /agingEvolution: unknown option 'pop' \(known: population, sample, replacement\)/)
  t.throws(() => searchMethod('re', { replacement: 'yes' }), /settings\.replacement must be a boolean/)
  t.throws(() => searchMethod('rs', { x: 1 }), /randomSearch: unknown option 'x'/)
  t.throws(() => searchMethod('ls', { init: -1 }), /localSearch: settings\.init/)
  t.throws(() => searchMethod('bananas', { lr: 0 }), /bananas: settings\.lr must be a finite number in \(0, Infinity\]/)
  t.throws(() => searchMethod('bananas', { k: 0 }), /bananas: settings\.k/)
  t.same(searchMethod('re').settings, { population: 10, sample: 3, replacement: false })
  t.same(searchMethod('ls').settings, { init: 10 })
  t.same(searchMethod('bananas').settings, { init: 10, k: 10, candidates: 100, mutate: 2, ensemble: 5, layers: 10, width: 20, epochs: 200, lr: 0.01, batchSize: 32, distinct: 'encoding' })
  t.throws(() => searchMethod('bananas', { distinct: 'hash' }), /settings\.distinct must be one of 'encoding', 'architecture'/)
  t.ok(Object.isFrozen(searchMethod('re').settings))
})

t.test('randomSearchExpectation equals the brute-force average over every subset (ties included)', async t => {
  const random = new Random(11)
  for (let trial = 0; trial < 20; trial++) {
    const n = 2 + random.int(7)
    const searched = Array.from({ length: n }, () => random.int(4)) // many ties
    const reported = Array.from({ length: n }, () => random.float() * 10)
    for (let q = 1; q <= n; q++) {
      // Every subset of size q, every order within it is equally likely: the incumbent is the
      // first-drawn of the tied best, i.e. uniform over the tied best of the subset.
      let sumS = 0; let sumR = 0; let count = 0
      for (let mask = 0; mask < 1 << n; mask++) {
        const members = [...Array(n).keys()].filter(i => (mask >> i) & 1)
        if (members.length !== q) continue
        const best = Math.max(...members.map(i => searched[i]))
        const tied = members.filter(i => searched[i] === best)
        sumS += best; sumR += tied.reduce((s, i) => s + reported[i], 0) / tied.length; count++
      }
      const [e] = randomSearchExpectation(searched, reported, [q])
      t.ok(Math.abs(e.searched - sumS / count) < 1e-9 && Math.abs(e.reported - sumR / count) < 1e-9, `n=${n} q=${q}`)
    }
  }
  t.throws(() => randomSearchExpectation([1, 2], [1], [1]), /searched has 2 values but reported has 1/)
  t.throws(() => randomSearchExpectation([1, 2], [1, 2], [3]), /queries\[0\] must be an integer in \[1, 2\]/)
})

t.test('an abort during a run stops it with the signal\'s reason', async t => {
  const controller = new AbortController()
  setTimeout(() => controller.abort(new Error('user stopped the search')), 50)
  await t.rejects(runSearch(searchMethod('bananas', { epochs: 30 }), bench, { budget: 2000, seed: 0, signal: controller.signal }), /user stopped the search/)
})
