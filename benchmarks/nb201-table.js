'use strict'
// Loading the NAS-Bench-201 table (../shared/data/nb201-cifar10-test.csv, all 15,625
// architectures): nasrank's validated CSV and Arrow loaders vs a naive JS split() reader and
// Python's csv module, in the same run. Skips (and says so) when the shared data is absent.
// Usage: node benchmarks/nb201-table.js [--json out.json]
const fs = require('fs')
const os = require('os')
const path = require('path')
const { spawnSync } = require('child_process')
const { time, findPython, machine, printTable, fmt, ratio, cliArgs } = require('./peers')

const { value: arg, flag } = cliArgs()

function sharedCsv () {
  const dirs = [process.env.NASRANK_SHARED_DATA, path.join(__dirname, '..', '..', 'shared', 'data'), '/work/shared/data'].filter(Boolean)
  for (const d of dirs) if (fs.existsSync(path.join(d, 'nb201-cifar10-test.csv'))) return path.join(d, 'nb201-cifar10-test.csv')
  return null
}

const file = sharedCsv()
if (!file) {
  console.log('nb201-table benchmark: SKIPPED (nb201-cifar10-test.csv not found; set NASRANK_SHARED_DATA to the shared data folder)')
  process.exit(0)
}
const m = require('..')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-nb201-bench-'))
try {
  const arrowFile = path.join(dir, 'nb201.arrow')
  m.writeNb201Table(m.loadNb201Table(file), arrowFile)
  m.loadNb201Table(arrowFile) // loads apache-arrow once, outside the timings

  const naive = () => {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n')
    const header = lines[0].split(',')
    const a = header.indexOf('arch'); const v = header.indexOf('test_accuracy')
    const arch = []; const acc = new Float64Array(lines.length - 1)
    for (let i = 1; i < lines.length; i++) { const f = lines[i].split(','); arch.push(f[a]); acc[i - 1] = Number(f[v]) }
    return { arch, acc }
  }
  const csv = time(() => m.loadNb201Table(file), 10)
  const arrow = time(() => m.loadNb201Table(arrowFile), 10)
  const js = time(naive, 10)
  const agree = js.result.acc.every((x, i) => x === csv.result.column('test_accuracy')[i]) &&
    arrow.result.column('test_accuracy').every((x, i) => x === js.result.acc[i])
  let py = null
  const python = findPython([])
  if (python) {
    const r = spawnSync(python, ['-c', `
import csv, json, time
best = 1e9
for _ in range(10):
    t0 = time.perf_counter()
    with open(${JSON.stringify(file)}, newline='') as f:
        rows = list(csv.DictReader(f))
        acc = [float(r['test_accuracy']) for r in rows]
    best = min(best, time.perf_counter() - t0)
print(json.dumps({"ms": best * 1e3, "rows": len(acc)}))`], { encoding: 'utf8' })
    if (r.status === 0) py = JSON.parse(r.stdout.trim())
  } else {
    console.log('python csv peer: SKIPPED (no python3 found)')
  }
  console.log(`machine: ${machine()}; timings are provisional (2 cores shared with other users)`)
  printTable(`NAS-Bench-201 table load (${path.basename(file)}, 15,625 rows, best of 10)`, ['loader', 'time', 'vs nasrank CSV'], [
    { loader: 'nasrank loadNb201Table, CSV (RFC 4180, every value checked)', time: fmt(csv.ms), 'vs nasrank CSV': '1.0×' },
    { loader: 'nasrank loadNb201Table, Arrow IPC', time: fmt(arrow.ms), 'vs nasrank CSV': ratio(arrow.ms, csv.ms) },
    { loader: 'naive JS split(",") (no quoting, no checks)', time: fmt(js.ms), 'vs nasrank CSV': ratio(js.ms, csv.ms) },
    { loader: 'Python csv.DictReader + float()', time: py ? fmt(py.ms) : 'skipped', 'vs nasrank CSV': py ? ratio(py.ms, csv.ms) : '—' }
  ])
  console.log(`\nvalues agree: ${agree ? 'yes' : 'NO'}`)
  const json = { benchmark: 'nb201-table', machine: machine(), rows: csv.result.count, csvMs: csv.ms, arrowMs: arrow.ms, naiveJsMs: js.ms, pythonCsvMs: py ? py.ms : null, agree }
  console.log('\n' + JSON.stringify(json))
  const out = arg('--json')
  if (out) fs.writeFileSync(out, JSON.stringify(json, null, 2))
  if (!agree) process.exitCode = 1
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
