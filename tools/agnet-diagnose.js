#!/usr/bin/env node
'use strict'
// AG-Net per-iteration diagnostics on a CIFAR-10 NB-201 table (choices are never tuned on
// CIFAR-100): per seed and iteration, the z drawn, the valid decodes, the new distinct cells,
// the pool's mean val and Kendall τ between the surrogate's scores and the pool's val; at the
// end the test of the best-val architecture at 96 and 192 queries (or the budget).
// Usage: node tools/agnet-diagnose.js --bench nb201:<csv> [--seeds 3] [--seed-start 0] [--budget 96] [--set key=value ...] [--quiet]
const m = require('..')
const { agnet } = require('../dist/lib/search/agnet')
const { cliArgs } = require('../benchmarks/peers')

function kendall (a, b) {
  let c = 0
  let d = 0
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const s = Math.sign(a[i] - a[j]) * Math.sign(b[i] - b[j])
      if (s > 0) c++; else if (s < 0) d++
    }
  }
  return c + d > 0 ? (c - d) / (c + d) : NaN
}

async function main () {
  const { value, number } = cliArgs()
  const argv = process.argv.slice(2)
  const benchUri = value('--bench', null)
  if (benchUri === null) { console.error('usage: node tools/agnet-diagnose.js --bench nb201:<csv> [--seeds N] [--seed-start S] [--budget N] [--set key=value]'); process.exit(2) }
  if (/cifar100/i.test(benchUri)) { console.error('refused: diagnostics run on CIFAR-10 only (choices are never tuned on CIFAR-100)'); process.exit(2) }
  const seeds = number('--seeds', 3)
  const seedStart = number('--seed-start', 0)
  const budget = number('--budget', 96)
  const quiet = argv.includes('--quiet')
  const settings = {}
  argv.forEach((a, k) => { if (a === '--set') { const [key, v] = argv[k + 1].split('='); settings[key] = isNaN(Number(v)) ? v : Number(v) } })
  const bench = await m.openBench(benchUri)
  const val = bench.column({ metric: 'val' })
  const test = bench.column({ metric: 'test' })
  const finals = []
  for (let seed = seedStart; seed < seedStart + seeds; seed++) {
    const its = []
    const cpu0 = process.cpuUsage()
    const t0 = Date.now()
    const r = await m.runSearch(agnet(settings, {
      onIteration: it => {
        const pv = it.pool.map(row => val[row])
        const mean = pv.length > 0 ? pv.reduce((s, x) => s + x, 0) / pv.length : NaN
        its.push({ q: it.queried, drawn: it.drawn, valid: it.valid, found: it.found, mean, tau: kendall(Array.from(it.scores), pv) })
      }
    }), bench, { budget, seed, checkpoints: Array.from({ length: (budget - 16) / 16 + 1 }, (_, i) => 16 + 16 * i) })
    const cpu = process.cpuUsage(cpu0)
    const at = q => { const c = r.checkpoints.find(x => x.queries === q); return c === undefined ? NaN : c.test }
    const line = { seed, t48: at(48), t96: at(96), t192: at(192), queries: r.checkpoints[r.checkpoints.length - 1].queries, wall: (Date.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 }
    finals.push(line)
    if (!quiet) for (const it of its) console.log(`  seed ${seed} q ${it.q}: valid ${it.valid}/${it.drawn} new ${it.found} pool val ${it.mean.toFixed(2)} tau ${it.tau.toFixed(2)}`)
    console.log(`seed ${seed}: test@48 ${line.t48.toFixed(2)} @96 ${line.t96.toFixed(2)} @192 ${line.t192.toFixed(2)} (${line.queries} queries, ${line.wall.toFixed(0)} s wall, ${line.cpu.toFixed(0)} s CPU)`)
  }
  const mean = k => finals.reduce((s, x) => s + x[k], 0) / finals.length
  const se = k => { const mu = mean(k); return Math.sqrt(finals.reduce((s, x) => s + (x[k] - mu) ** 2, 0) / (finals.length - 1) / finals.length) }
  console.log(`settings ${JSON.stringify(settings)} seeds ${seedStart}..${seedStart + seeds - 1}: test@48 ${mean('t48').toFixed(2)} @96 ${mean('t96').toFixed(2)} ± ${se('t96').toFixed(2)} @192 ${mean('t192').toFixed(2)}`)
}

main().catch(e => { console.error(e); process.exit(1) })
