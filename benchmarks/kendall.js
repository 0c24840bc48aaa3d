'use strict'
// Kendall tau-b: nasrank vs scipy.stats.kendalltau (when python3 has scipy) vs a plain
// JavaScript O(n log n) implementation, on the same data in the same run.
// nasrank "warm" is the best of repeated calls in this process (scratch memory cached by
// then); "cold" is the first call in a fresh process (best of 3 processes), which also pays
// the page faults of its scratch memory (24 bytes a pair) and the thread start-up.
// Usage: node benchmarks/kendall.js [--sizes 1e4,1e5,1e6,1e7] [--json out.json]
const { spawnSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')
const { kendallTau, nativeInfo } = require('..')
const { time, findPython, runPython, machine, printTable, fmt, ratio, rng, cliArgs } = require('./peers')

const { value: arg, flag } = cliArgs()
const sizes = arg('--sizes', '1e4,1e5,1e6,1e7').split(',').map(Number)

// Plain JS Knight's algorithm: sort by (x, y), count ties, merge-sort y counting swaps.
function jsKendallTauB (x, y) {
  const n = x.length
  const idx = new Uint32Array(n).map((_, i) => i).sort((a, b) => x[a] - x[b] || y[a] - y[b])
  let xtie = 0; let ntie = 0; let xrun = 1; let jrun = 1
  for (let k = 1; k < n; k++) {
    const a = idx[k - 1]; const b = idx[k]
    if (x[a] === x[b]) { xrun++; if (y[a] === y[b]) { jrun++; continue } } else { xtie += xrun * (xrun - 1) / 2; xrun = 1 }
    ntie += jrun * (jrun - 1) / 2; jrun = 1
  }
  xtie += xrun * (xrun - 1) / 2; ntie += jrun * (jrun - 1) / 2
  let seq = Float64Array.from(idx, i => y[i]); let tmp = new Float64Array(n); let dis = 0
  for (let w = 1; w < n; w *= 2) {
    for (let s = 0; s < n; s += 2 * w) {
      const mid = Math.min(s + w, n); const end = Math.min(s + 2 * w, n)
      let i = s; let j = mid; let k = s
      while (i < mid && j < end) { if (seq[j] < seq[i]) { dis += mid - i; tmp[k++] = seq[j++] } else tmp[k++] = seq[i++] }
      while (i < mid) tmp[k++] = seq[i++]
      while (j < end) tmp[k++] = seq[j++]
    }
    [seq, tmp] = [tmp, seq]
  }
  let ytie = 0; let yrun = 1
  for (let k = 1; k < n; k++) { if (seq[k] === seq[k - 1]) yrun++; else { ytie += yrun * (yrun - 1) / 2; yrun = 1 } }
  ytie += yrun * (yrun - 1) / 2
  const tot = n * (n - 1) / 2
  return (tot - xtie - ytie + ntie - 2 * dis) / Math.sqrt(tot - xtie) / Math.sqrt(tot - ytie)
}

// The first kendallTau call of a fresh node process on these arrays: { ms, value }.
function coldCall (x, y, processes = 3) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-kendall-cold-'))
  try {
    fs.writeFileSync(path.join(dir, 'x.f64'), Buffer.from(x.buffer, x.byteOffset, x.byteLength))
    fs.writeFileSync(path.join(dir, 'y.f64'), Buffer.from(y.buffer, y.byteOffset, y.byteLength))
    const script = `
      const fs = require('fs'); const path = require('path')
      const m = require(${JSON.stringify(path.join(__dirname, '..'))})
      const read = f => { const b = fs.readFileSync(path.join(${JSON.stringify(dir)}, f)); return new Float64Array(b.buffer, b.byteOffset, b.length / 8) }
      const x = read('x.f64'); const y = read('y.f64')
      const t0 = process.hrtime.bigint(); const value = m.kendallTau(x, y); const ms = Number(process.hrtime.bigint() - t0) / 1e6
      console.log(JSON.stringify({ ms, value }))`
    let best = null
    for (let p = 0; p < processes; p++) {
      const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`cold run failed: ${r.stderr}`)
      const run = JSON.parse(r.stdout.trim())
      if (!best || run.ms < best.ms) best = run
    }
    return best
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const load = () => os.loadavg().map(v => v.toFixed(2)).join(' ')
const python = findPython(['numpy', 'scipy'])
console.log(`load average at start: ${load()}`)
console.log(`machine: ${machine()}; nasrank threads: ${nativeInfo().threads}`)
if (!python) console.log('scipy peer: SKIPPED (no python3 with numpy + scipy found; set PYTHON=...)')

const rows = []
for (const n of sizes) {
  const rand = rng(n)
  const x = new Float64Array(n); const y = new Float64Array(n)
  for (let i = 0; i < n; i++) { x[i] = rand(); y[i] = x[i] + rand() }
  const repeat = n >= 1e7 ? 3 : 5
  const ours = time(() => kendallTau(x, y), repeat)
  const cold = coldCall(x, y)
  const js = time(() => jsKendallTauB(x, y), n >= 1e6 ? 1 : 3)
  let scipy = null
  if (python) {
    scipy = runPython(python, `
from scipy.stats import kendalltau
best = 1e30
for r in range(${n >= 1e7 ? 1 : 3}):
    t0 = time.perf_counter(); v = kendalltau(x, y).statistic; best = min(best, time.perf_counter() - t0)
print(json.dumps({"ms": best * 1e3, "value": float(v)}))`, { x, y })
  }
  const agree = cold.value === ours.result && Math.abs(ours.result - js.result) < 1e-12 && (!scipy || Math.abs(ours.result - scipy.value) < 1e-12)
  rows.push({
    n: n.toExponential(0),
    'nasrank warm': fmt(ours.ms),
    'nasrank cold': fmt(cold.ms),
    scipy: scipy ? fmt(scipy.ms) : 'skipped',
    'plain JS': fmt(js.ms),
    'scipy / nasrank': scipy ? ratio(scipy.ms, ours.ms) : '—',
    'scipy / cold': scipy ? ratio(scipy.ms, cold.ms) : '—',
    'JS / nasrank': ratio(js.ms, ours.ms),
    'values agree': agree ? 'yes' : `NO (${ours.result} / ${scipy && scipy.value} / ${js.result})`,
    _raw: { n, nasrank_ms: ours.ms, nasrank_cold_ms: cold.ms, scipy_ms: scipy ? scipy.ms : null, js_ms: js.ms, tau: ours.result }
  })
}
console.log(`load average at end: ${load()}`)
printTable('kendallTau (tau-b), continuous data, best of runs', ['n', 'nasrank warm', 'nasrank cold', 'scipy', 'plain JS', 'scipy / nasrank', 'scipy / cold', 'JS / nasrank', 'values agree'], rows)
const json = { benchmark: 'kendallTau', machine: machine(), threads: nativeInfo().threads, loadavg: os.loadavg(), rows: rows.map(r => r._raw) }
console.log('\n' + JSON.stringify(json))
const out = arg('--json')
if (out) require('fs').writeFileSync(out, JSON.stringify(json, null, 2))
