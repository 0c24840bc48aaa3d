#!/usr/bin/env node
'use strict'
// Where does CTNAS lose to aging evolution? Per seed, one CTNAS run under the harness with its
// final state inspected, and aging evolution on the same seed:
//   rs90      — the best-val of the M = 90 random labelled architectures (what CTNAS starts from);
//   ctnas     — the harness's incumbent (best val of all B = 100);
//   top10     — the final pick's 10 (mean test, and the test of their best-val);
//   global    — the final NAC's Eq. 5 ranking of ALL 15,625 cells (native row means): the top-10
//               a perfect controller + curriculum could have handed over (mean test, best-val's
//               test, and the incumbent had those 10 been queried instead);
//   tau       — Kendall tau-b of the final NAC's Eq. 5 scores against test over all cells.
// Usage: node tools/ctnas-diagnose.js --bench nb201:<csv> [--seeds 5] [--schedule fast] [--set key=value ...]
// (CIFAR-10 only: choices are never tuned on CIFAR-100.)
const m = require('..')
const { ctnas } = require('../dist/lib/search/ctnas')
const { nacGraphTable } = require('../dist/lib/models/nac')
const { cliArgs } = require('../benchmarks/peers')
const { CTNAS_SCHEDULES: SCHEDULE_SETTINGS } = require('../dist/lib/experiments/ctnas-args')

async function main () {
  const { value, number } = cliArgs()
  const argv = process.argv.slice(2)
  const benchUri = value('--bench', null)
  if (benchUri === null) { console.error('usage: node tools/ctnas-diagnose.js --bench nb201:<csv> [--seeds N] [--seed-start S] [--schedule fast] [--set key=value]'); process.exit(2) }
  if (/cifar100/i.test(benchUri)) { console.error('refused: diagnostics run on CIFAR-10 only (choices are never tuned on CIFAR-100)'); process.exit(2) }
  const seeds = number('--seeds', 5)
  const seedStart = number('--seed-start', 0)
  const schedule = value('--schedule', 'fast')
  const settings = { ...SCHEDULE_SETTINGS[schedule] }
  argv.forEach((a, k) => { if (a === '--set') { const [key, v] = argv[k + 1].split('='); settings[key] = isNaN(Number(v)) ? v : Number(v) } })
  const bench = await m.openBench(benchUri)
  const val = bench.column({ metric: 'val' })
  const test = bench.column({ metric: 'test' })
  const cells = 15625
  const all = Array.from({ length: cells }, (_, i) => i)
  const rows = []
  for (let seed = seedStart; seed < seedStart + seeds; seed++) {
    let state = null
    const t0 = Date.now()
    const cpu0 = process.cpuUsage()
    const r = await m.runSearch(ctnas(settings, { onFinal: s => { state = s } }), bench, { budget: 100, seed })
    const cpu = process.cpuUsage(cpu0)
    const wall = (Date.now() - t0) / 1000
    const re = await m.runSearch(m.searchMethod('re'), bench, { budget: 100, seed })
    const rowOf = i => state.rowByIndex[i]
    const bestVal = rowsList => rowsList.reduce((b, x) => (val[x] > val[b] ? x : b))
    const labRows = state.labelled.map(rowOf)
    const rs90 = test[bestVal(labRows)]
    const picked = state.picked
    const final = r.final ?? r.checkpoints[r.checkpoints.length - 1]
    // Global Eq. 5 ranking of every cell by the final NAC.
    const { u, v } = state.nac.heads(all)
    const scores = m.comparatorRowMeans({ u, v })
    const order = all.slice().sort((a, b) => scores[b] - scores[a] || a - b)
    // The NAC's top-10 distinct pruned cells not among the labelled (what a perfect controller could hand over).
    const pruned = nacGraphTable().pruned
    const seen = new Set(state.labelled.map(i => pruned[i]))
    const gTop = []
    for (const i of order) { const row = rowOf(i); if (row >= 0 && !seen.has(pruned[i])) { gTop.push(row); seen.add(pruned[i]) } if (gTop.length === 10) break }
    // Where the true best cells sit in the NAC's order (rank % of all cells, by test).
    const bestRow = all.reduce((b, i) => (test[rowOf(i)] > test[rowOf(b)] ? i : b))
    const bestRank = order.indexOf(bestRow) / cells * 100
    const tau = m.kendallTau(Float64Array.from(all, i => scores[i]), Float64Array.from(all, i => test[rowOf(i)]))
    const mean = a => a.reduce((x, y) => x + y, 0) / a.length
    const row = {
      seed,
      rs90,
      ctnas: final.test,
      re: (re.final ?? re.checkpoints[re.checkpoints.length - 1]).test,
      top10_mean: picked.length ? mean(picked.map(x => test[x])) : NaN,
      top10_bestval: picked.length ? test[bestVal(picked)] : NaN,
      global_mean: mean(gTop.map(x => test[x])),
      global_bestval: test[bestVal(gTop)],
      global_incumbent: test[bestVal([...labRows, ...gTop])],
      baselines: new Set(state.baselines).size,
      beta_test: test[rowOf(state.baselines[state.baselines.length - 1])],
      tau,
      best_cell_rank_pct: bestRank,
      wall_s: wall,
      cpu_s: (cpu.user + cpu.system) / 1e6
    }
    rows.push(row)
    console.log(JSON.stringify(row, (k, x) => typeof x === 'number' ? Math.round(x * 1000) / 1000 : x))
  }
  const keys = ['rs90', 'ctnas', 're', 'top10_mean', 'top10_bestval', 'global_mean', 'global_bestval', 'global_incumbent', 'beta_test', 'tau', 'best_cell_rank_pct', 'wall_s', 'cpu_s']
  const summary = {}
  for (const k of keys) {
    const xs = rows.map(r => r[k])
    const mu = xs.reduce((a, b) => a + b, 0) / xs.length
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / Math.max(1, xs.length - 1))
    summary[k] = `${mu.toFixed(3)} ± ${(sd / Math.sqrt(xs.length)).toFixed(3)}`
  }
  console.log(JSON.stringify({ settings, seeds: `${seedStart}-${seedStart + seeds - 1}`, summary }, null, 1))
}
main().catch(err => { console.error(err); process.exit(1) })
