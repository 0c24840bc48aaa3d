// The real NAS-Bench-201 protocol on the shared tables (../shared/data; skipped when absent):
// search on val, report test. Random search against its exact expectation, aging evolution
// against the tracker's anchors (issue 17), BANANAS on a few seeds (the full measurement,
// 100 seeds, is benchmarks/search-bananas.js, in docs/search.md), multi-budget benches.
import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { openBench } from '../lib/bench/open'
import { runSearch, searchMethod, randomSearchExpectation } from '../lib/search/index'
import type { Bench } from '../lib/bench/bench'

const DATA = path.join(__dirname, '..', '..', 'shared', 'data')
const file = (name: string): string => path.join(DATA, name)
const have = ['nb201-cifar10-hp200.csv', 'nb201-cifar100-hp200.csv', 'nb201-cifar10-hp12.csv', 'nb201-cifar100-hp12.csv'].every(f => fs.existsSync(file(f)))
if (!have) t.comment(`skipping: the shared NAS-Bench-201 tables are not in ${DATA}`)

const CHECKPOINTS = [25, 50, 100, 150, 200]
// The tracker's anchors: mean test accuracy over 300 seeds (its s.e. 0.01–0.06).
const RE_ANCHORS: Record<string, number[]> = {
  cifar10: [93.50, 93.87, 94.10, 94.22, 94.27],
  cifar100: [70.79, 71.81, 72.58, 72.86, 73.03]
}

function meanSe (v: number[]): { mean: number, se: number } {
  const mean = v.reduce((s, x) => s + x, 0) / v.length
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1))
  return { mean, se: sd / Math.sqrt(v.length) }
}

async function tests (method: string, bench: Bench, seeds: number, budget = 200, checkpoints = CHECKPOINTS, settings?: Record<string, unknown>): Promise<number[][]> {
  const m = searchMethod(method, settings)
  const out = checkpoints.map(() => [] as number[])
  for (let seed = 0; seed < seeds; seed++) {
    const r = await runSearch(m, bench, { budget, seed, checkpoints })
    r.checkpoints.forEach((c, i) => out[i].push(c.test))
  }
  return out
}

for (const dataset of ['cifar10', 'cifar100']) {
  t.test(`${dataset}: random search is within 3 s.e. of its exact expectation (200 seeds)`, { skip: !have }, async t => {
    const bench = await openBench(`nb201:${file(`nb201-${dataset}-hp200.csv`)}`)
    const exact = randomSearchExpectation(bench.column({ metric: 'val' }), bench.column({ metric: 'test' }), CHECKPOINTS)
    const got = await tests('rs', bench, 200)
    CHECKPOINTS.forEach((q, i) => {
      const { mean, se } = meanSe(got[i])
      t.ok(Math.abs(mean - exact[i].reported) <= 3 * se, `${q} queries: ${mean.toFixed(3)} ± ${se.toFixed(3)} vs exact ${exact[i].reported.toFixed(3)}`)
    })
  })

  t.test(`${dataset}: aging evolution (10, 3) is within 3 s.e. of the tracker's anchors (200 seeds)`, { skip: !have }, async t => {
    const bench = await openBench(`nb201:${file(`nb201-${dataset}-hp200.csv`)}`)
    const got = await tests('re', bench, 200)
    CHECKPOINTS.forEach((q, i) => {
      const { mean, se } = meanSe(got[i])
      t.ok(Math.abs(mean - RE_ANCHORS[dataset][i]) <= 3 * se, `${q} queries: ${mean.toFixed(3)} ± ${se.toFixed(3)} vs anchor ${RE_ANCHORS[dataset][i]}`)
    })
  })
}

t.test('BANANAS on CIFAR-10 (2 seeds, 60 queries; the 100-seed measurement is benchmarks/search-bananas.js)', { skip: !have }, async t => {
  const bench = await openBench(`nb201:${file('nb201-cifar10-hp200.csv')}`)
  const got = await tests('bananas', bench, 2, 60, [60])
  const exact = randomSearchExpectation(bench.column({ metric: 'val' }), bench.column({ metric: 'test' }), [60])[0].reported
  const { mean } = meanSe(got[0])
  t.ok(mean > exact, `mean test at 60 queries ${mean.toFixed(3)} beats random search's expectation ${exact.toFixed(3)}`)
})

t.test('hp12 + hp200 as one bench: search the 12-epoch val, report the 200-epoch test', { skip: !have }, async t => {
  const both = await openBench(`nb201:${DATA}`, { dataset: 'cifar100' })
  t.same(both.epochs, [12, 200])
  t.same(both.metrics, ['val', 'test'])
  const listed = await openBench(`nb201:${file('nb201-cifar10-hp12.csv')},${file('nb201-cifar10-hp200.csv')}`)
  t.same(listed.epochs, [12, 200])
  t.same(listed.costs, ['params', 'flops', 'train_time', 'latency_raspi4', 'latency_pixel3', 'latency_eyeriss', 'latency_fpga'], 'every latency_<device> column is a cost')
  await t.rejects(openBench(`nb201:${DATA}`), /holds several datasets \(cifar10, cifar100\); choose one with the dataset option/)
  await t.rejects(openBench(`nb201:${DATA}`, { dataset: 'ImageNet16-120' }), /has no tables of dataset 'ImageNet16-120' \(datasets: cifar10, cifar100\)/)
  const val12 = both.column({ metric: 'val', epochs: 12 })
  const test200 = both.column({ metric: 'test', epochs: 200 })
  for (const method of ['rs', 're', 'ls']) {
    const r = await runSearch(searchMethod(method), both, { budget: 100, seed: 3, epochs: 12, checkpoints: [50, 100] })
    for (const c of r.checkpoints) {
      t.equal(c.val, val12[c.row], `${method}: searched on the 12-epoch val`)
      t.equal(c.test, test200[c.row], `${method}: reports the 200-epoch test`)
    }
  }
  // The same code on the hp12 table alone (one budget) and other seeds: RE beats RS.
  const hp12 = await openBench(`nb201:${file('nb201-cifar10-hp12.csv')}`)
  t.same(hp12.epochs, [12])
  const rs = meanSe((await tests('rs', hp12, 100, 100, [100]))[0])
  const re = meanSe((await tests('re', hp12, 100, 100, [100]))[0])
  t.ok(re.mean > rs.mean, `hp12 alone, 100 queries: RE ${re.mean.toFixed(2)} ± ${re.se.toFixed(2)} > RS ${rs.mean.toFixed(2)} ± ${rs.se.toFixed(2)}`)
})
