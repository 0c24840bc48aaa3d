'use strict'
// The tracker's anchor table (issue 17), measured: random search, aging evolution (10, 3) and
// local search on the NAS-Bench-201 tables (../shared/data), search on val, report test,
// mean ± standard error over seeds 0…N-1 (default 300, as the issue), next to the issue's
// figures and random search's exact expectation. Skips when the shared data is absent.
// Usage: node benchmarks/search-anchors.js [--seeds 300] [--json out.json]
const fs = require('fs')
const path = require('path')
const { machine, printTable, cliArgs } = require('./peers')

const { value, number } = cliArgs()
const seeds = number('--seeds', 300)
const CHECKPOINTS = [25, 50, 100, 150, 200]
const ISSUE = {
  cifar10: { rs: ['93.41 ± .03', '93.64 ± .02', '93.79 ± .01', '93.84 ± .01', '93.89 ± .01'], re: ['93.50 ± .03', '93.87 ± .02', '94.10 ± .02', '94.22 ± .01', '94.27 ± .01'] },
  cifar100: { rs: ['70.52 ± .06', '71.04 ± .05', '71.47 ± .05', '71.67 ± .05', '71.87 ± .05'], re: ['70.79 ± .06', '71.81 ± .06', '72.58 ± .05', '72.86 ± .04', '73.03 ± .03'] }
}
const dirs = [process.env.NASRANK_SHARED_DATA, path.join(__dirname, '..', '..', 'shared', 'data'), '/work/shared/data'].filter(Boolean)
const dir = dirs.find(d => fs.existsSync(path.join(d, 'nb201-cifar10-hp200.csv')))
if (!dir) {
  console.log('search-anchors benchmark: SKIPPED (nb201-cifar10-hp200.csv not found; set NASRANK_SHARED_DATA)')
  process.exit(0)
}
const m = require('..')
const stat = v => {
  const mean = v.reduce((s, x) => s + x, 0) / v.length
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1))
  return { mean, se: sd / Math.sqrt(v.length) }
}
const show = s => `${s.mean.toFixed(2)} ± ${s.se.toFixed(2)}`

;(async () => {
  const rows = []
  const json = { machine: machine(), seeds, checkpoints: CHECKPOINTS, datasets: {} }
  for (const dataset of ['cifar10', 'cifar100']) {
    const bench = await m.openBench(`nb201:${path.join(dir, `nb201-${dataset}-hp200.csv`)}`)
    const exact = m.randomSearchExpectation(bench.column({ metric: 'val' }), bench.column({ metric: 'test' }), CHECKPOINTS)
    rows.push({ dataset, method: 'random search, exact expectation', ...Object.fromEntries(CHECKPOINTS.map((q, i) => [q, exact[i].reported.toFixed(2)])) })
    json.datasets[dataset] = { rsExact: exact.map(e => e.reported) }
    for (const [key, label] of [['rs', 'random search'], ['re', 'aging evolution (10, 3)'], ['ls', 'local search']]) {
      const method = m.searchMethod(key)
      const got = CHECKPOINTS.map(() => [])
      for (let seed = 0; seed < seeds; seed++) {
        const r = await m.runSearch(method, bench, { budget: 200, seed, checkpoints: CHECKPOINTS })
        r.checkpoints.forEach((c, i) => got[i].push(c.test))
      }
      const stats = got.map(stat)
      json.datasets[dataset][key] = stats
      rows.push({ dataset, method: `${label} — nasrank`, ...Object.fromEntries(CHECKPOINTS.map((q, i) => [q, show(stats[i])])) })
      if (ISSUE[dataset][key]) rows.push({ dataset, method: `${label} — issue 17`, ...Object.fromEntries(CHECKPOINTS.map((q, i) => [q, ISSUE[dataset][key][i]])) })
    }
  }
  console.log(`Machine: ${json.machine}; seeds 0…${seeds - 1}; test accuracy (%) of the incumbent searched on val`)
  printTable('Search baselines on NAS-Bench-201 (hp200): nasrank vs the issue\'s anchors', ['dataset', 'method', ...CHECKPOINTS.map(String)], rows)
  console.log('\n' + JSON.stringify(json))
  const out = value('--json', null)
  if (out) fs.writeFileSync(out, JSON.stringify(json, null, 2) + '\n')
})().catch(err => { console.error(err); process.exitCode = 1 })
