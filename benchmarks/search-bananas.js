'use strict'
// BANANAS on the real NAS-Bench-201 tables (../shared/data/nb201-<dataset>-hp200.csv): test
// accuracy of the incumbent (searched on val) at 25/50/100 queries, mean ± standard error
// over seeds, paired with aging evolution (10, 3) on the same seeds (difference ± s.e. of the
// paired differences), and the time per query (wall and CPU; the ensemble fits dominate).
// Skips (and says so) when the shared data is absent.
// Usage: node benchmarks/search-bananas.js [--seeds 40] [--budget 100] [--datasets cifar10,cifar100] [--json out.json]
const fs = require('fs')
const path = require('path')
const { machine, printTable, cliArgs } = require('./peers')

const { value, number } = cliArgs()
const seeds = number('--seeds', 40)
const budget = number('--budget', 100)
const datasets = value('--datasets', 'cifar10,cifar100').split(',')
const checkpoints = [25, 50, 100].filter(c => c <= budget)
if (!checkpoints.includes(budget)) checkpoints.push(budget)

function sharedDir () {
  const dirs = [process.env.NASRANK_SHARED_DATA, path.join(__dirname, '..', '..', 'shared', 'data'), '/work/shared/data'].filter(Boolean)
  return dirs.find(d => fs.existsSync(path.join(d, 'nb201-cifar10-hp200.csv'))) ?? null
}
const dir = sharedDir()
if (dir === null) {
  console.log('search-bananas benchmark: SKIPPED (nb201-cifar10-hp200.csv not found; set NASRANK_SHARED_DATA to the shared data folder)')
  process.exit(0)
}

const m = require('..')
const stat = v => {
  const mean = v.reduce((s, x) => s + x, 0) / v.length
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / Math.max(1, v.length - 1))
  return { mean, se: sd / Math.sqrt(v.length) }
}
const show = s => `${s.mean.toFixed(2)} ± ${s.se.toFixed(2)}`

;(async () => {
  const rows = []
  const json = { machine: machine(), seeds, budget, checkpoints, datasets: {} }
  for (const dataset of datasets) {
    const bench = await m.openBench(`nb201:${path.join(dir, `nb201-${dataset}-hp200.csv`)}`)
    const tests = { bananas: [], re: [] }
    let wall = 0
    let cpu = 0
    let queries = 0
    for (let seed = 0; seed < seeds; seed++) {
      const t0 = process.hrtime.bigint()
      const c0 = process.cpuUsage()
      const b = await m.runSearch(m.searchMethod('bananas'), bench, { budget, seed, checkpoints })
      const c = process.cpuUsage(c0)
      wall += Number(process.hrtime.bigint() - t0) / 1e6
      cpu += (c.user + c.system) / 1000
      queries += b.queried
      const r = await m.runSearch(m.searchMethod('re'), bench, { budget, seed, checkpoints })
      tests.bananas.push(b.checkpoints.map(x => x.test))
      tests.re.push(r.checkpoints.map(x => x.test))
      process.stderr.write(`\r${dataset}: seed ${seed + 1}/${seeds}`)
    }
    process.stderr.write('\n')
    const col = (method, i) => tests[method].map(t => t[i])
    const entry = { bananas: [], re: [], difference: [], msPerQueryWall: wall / queries, msPerQueryCpu: cpu / queries }
    checkpoints.forEach((_, i) => {
      entry.bananas.push(stat(col('bananas', i)))
      entry.re.push(stat(col('re', i)))
      entry.difference.push(stat(col('bananas', i).map((x, k) => x - col('re', i)[k])))
    })
    json.datasets[dataset] = entry
    for (const method of ['bananas', 're', 'difference']) {
      const row = { dataset, method: method === 'difference' ? 'BANANAS − RE (paired)' : method === 're' ? 'aging evolution (10, 3)' : 'BANANAS' }
      checkpoints.forEach((q, i) => { row[String(q)] = (method === 'difference' && entry[method][i].mean >= 0 ? '+' : '') + show(entry[method][i]) })
      rows.push(row)
    }
  }
  console.log(`Machine: ${json.machine}; ${seeds} seeds (0…${seeds - 1}), budget ${budget}, test accuracy (%) of the incumbent searched on val.`)
  printTable('BANANAS vs aging evolution on NAS-Bench-201 (hp200)', ['dataset', 'method', ...checkpoints.map(String)], rows)
  printTable('BANANAS time per query', ['dataset', 'wall ms / query', 'CPU ms / query'],
    datasets.map(d => ({ dataset: d, 'wall ms / query': json.datasets[d].msPerQueryWall.toFixed(1), 'CPU ms / query': json.datasets[d].msPerQueryCpu.toFixed(1) })))
  console.log('\n' + JSON.stringify(json))
  const out = value('--json', null)
  if (out) fs.writeFileSync(out, JSON.stringify(json, null, 2) + '\n')
})().catch(err => { console.error(err); process.exitCode = 1 })
