'use strict'
// Speed of the search baselines: 1,000 seeds × 200 queries of random search, aging evolution
// (10, 3) and local search on NAS-Bench-201 CIFAR-10 (../shared/data/nb201-cifar10-hp200.csv),
// through runSearch (validated, trajectories checked), against the same loops in plain Python
// (lists, sets, random; numpy only to load the arrays) in the same run. Both report the mean
// test accuracy at 200 queries, so the peers are seen to do the same work. Times: the best of 3
// passes over all seeds for each peer (after one warm-up pass for Node's JIT).
// Skips (and says so) when the shared data or the Python peer is absent.
// Usage: node benchmarks/search-baselines.js [--seeds 1000] [--budget 200] [--json out.json]
const fs = require('fs')
const path = require('path')
const { findPython, runPython, machine, printTable, fmt, ratio, cliArgs } = require('./peers')

const { value, number } = cliArgs()
const seeds = number('--seeds', 1000)
const budget = number('--budget', 200)

const dirs = [process.env.NASRANK_SHARED_DATA, path.join(__dirname, '..', '..', 'shared', 'data'), '/work/shared/data'].filter(Boolean)
const dir = dirs.find(d => fs.existsSync(path.join(d, 'nb201-cifar10-hp200.csv')))
if (!dir) {
  console.log('search-baselines benchmark: SKIPPED (nb201-cifar10-hp200.csv not found; set NASRANK_SHARED_DATA to the shared data folder)')
  process.exit(0)
}
const m = require('..')

const PY = `
import random
n = len(val)
codes = [int(c) for c in ops]
POW5 = [3125, 625, 125, 25, 5, 1]
index_of_row = [sum(codes[6*r+e] * POW5[e] for e in range(6)) for r in range(n)]
row_by_index = {i: r for r, i in enumerate(index_of_row)}
val = val.tolist(); test = test.tolist()

def draw_new(rng, seen):
    while True:
        r = rng.randrange(n)
        if r not in seen:
            return r

def mutate(rng, row):
    e = rng.randrange(6)
    old = codes[6*row+e]
    op = (old + 1 + rng.randrange(4)) % 5
    return row_by_index[index_of_row[row] + (op - old) * POW5[e]]

def neighbours(row):
    out = []
    for e in range(6):
        old = codes[6*row+e]
        for op in range(5):
            if op != old:
                out.append(row_by_index[index_of_row[row] + (op - old) * POW5[e]])
    return out

def rs(rng):
    seen = set(); hist = []
    while len(hist) < budget:
        r = draw_new(rng, seen); seen.add(r); hist.append(r)
    return hist

def re_(rng, P=10, S=3):
    seen = set(); hist = []; pop = []
    while len(pop) < P:
        r = draw_new(rng, seen); seen.add(r); hist.append(r); pop.append(r)
    while len(hist) < budget:
        parent = max(rng.sample(pop, S), key=lambda r: val[r])
        child = mutate(rng, parent)
        if child in seen:
            continue
        seen.add(child); hist.append(child); pop.append(child); pop.pop(0)
    return hist

def ls(rng, init=10):
    seen = set(); hist = []
    def query(r):
        if r not in seen:
            seen.add(r); hist.append(r)
        return val[r]
    best = None
    for _ in range(init):
        r = draw_new(rng, seen); query(r)
        if best is None or val[r] > val[best]: best = r
    chosen = best
    nb = neighbours(chosen); rng.shuffle(nb)
    while len(hist) < budget:
        if not nb:
            if val[best] > val[chosen]: chosen = best
            else:
                r = draw_new(rng, seen); query(r); chosen = best = r
            nb = neighbours(chosen); rng.shuffle(nb)
            continue
        r = nb.pop()
        if query(r) > val[best]: best = r
    return hist

def incumbent_test(hist):
    best = hist[0]
    for r in hist:
        if val[r] > val[best]: best = r
    return test[best]

out = {}
for name, fn in (('rs', rs), ('re', re_), ('ls', ls)):
    best = float('inf')
    for _ in range(3):
        t0 = time.perf_counter()
        tests = [incumbent_test(fn(random.Random(seed))) for seed in range(seeds)]
        best = min(best, (time.perf_counter() - t0) * 1000)
    out[name] = {'ms': best, 'mean': sum(tests) / len(tests)}
print(json.dumps(out))
`

;(async () => {
  const bench = await m.openBench(`nb201:${path.join(dir, 'nb201-cifar10-hp200.csv')}`)
  const ours = {}
  for (const name of ['rs', 're', 'ls']) {
    const method = m.searchMethod(name)
    // Best of 3 passes over all seeds (the machine is shared), after a warm-up pass.
    let best = Infinity
    let sum = 0
    for (let pass = 0; pass < 4; pass++) {
      const t0 = process.hrtime.bigint()
      sum = 0
      for (let seed = 0; seed < seeds; seed++) sum += (await m.runSearch(method, bench, { budget, seed })).checkpoints[0].test
      if (pass > 0) best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6)
    }
    ours[name] = { ms: best, mean: sum / seeds }
  }
  const python = findPython(['numpy'])
  let peer = null
  if (python === null) console.log('Python peer SKIPPED: no python3 with numpy found')
  else {
    peer = runPython(python, `seeds = ${seeds}\nbudget = ${budget}\n` + PY, {
      val: bench.column({ metric: 'val' }),
      test: bench.column({ metric: 'test' }),
      ops: Float64Array.from(bench.archs)
    })
  }
  const names = { rs: 'random search', re: 'aging evolution (10, 3)', ls: 'local search' }
  console.log(`Machine: ${machine()}; ${seeds} seeds × ${budget} queries on NB-201 CIFAR-10 (search val, report test)`)
  printTable('Search baselines: nasrank (runSearch) vs plain Python, same run', ['method', 'nasrank', 'per run', 'Python', 'Python / nasrank', 'mean test @200 (nasrank / Python)'],
    Object.keys(names).map(k => ({
      method: names[k],
      nasrank: fmt(ours[k].ms),
      'per run': `${(ours[k].ms * 1000 / seeds).toFixed(0)} µs`,
      Python: peer ? fmt(peer[k].ms) : 'skipped',
      'Python / nasrank': peer ? ratio(peer[k].ms, ours[k].ms) : '—',
      'mean test @200 (nasrank / Python)': `${ours[k].mean.toFixed(2)} / ${peer ? peer[k].mean.toFixed(2) : '—'}`
    })))
  const total = Object.values(ours).reduce((s, o) => s + o.ms, 0)
  console.log(`\nAll three, ${seeds} seeds each: nasrank ${fmt(total)}${peer ? `, Python ${fmt(Object.values(peer).reduce((s, o) => s + o.ms, 0))}` : ''}`)
  const json = { machine: machine(), seeds, budget, nasrank: ours, python: peer }
  console.log('\n' + JSON.stringify(json))
  const out = value('--json', null)
  if (out) fs.writeFileSync(out, JSON.stringify(json, null, 2) + '\n')
})().catch(err => { console.error(err); process.exitCode = 1 })
