'use strict'
// Helpers shared by the benchmarks: timing, the Python peer, table printing.
const { spawnSync } = require('child_process')
const fs = require('fs')
const os = require('os')
const path = require('path')

/** Best wall time in ms over `repeat` runs (after one warm-up run when repeat > 1). */
function time (fn, repeat = 3) {
  let best = Infinity
  let result
  if (repeat > 1) result = fn()
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint()
    result = fn()
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return { ms: best, result }
}

/** The first python3 (PYTHON env, then PATH) that imports the given modules, or null. */
function findPython (modules) {
  for (const exe of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    const r = spawnSync(exe, ['-c', modules.map(m => `import ${m}`).join('; ')], { encoding: 'utf8' })
    if (r.status === 0) return exe
  }
  return null
}

/** Runs a Python snippet with named Float64 arrays passed through temp files; returns its JSON. */
function runPython (exe, code, arrays) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-bench-'))
  try {
    const files = {}
    for (const [name, arr] of Object.entries(arrays)) {
      files[name] = path.join(dir, `${name}.f64`)
      fs.writeFileSync(files[name], Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength))
    }
    const prelude = 'import json, time, numpy as np\n' +
      Object.entries(files).map(([n, f]) => `${n} = np.fromfile(${JSON.stringify(f)}, dtype="<f8")`).join('\n') + '\n'
    const r = spawnSync(exe, ['-c', prelude + code], { encoding: 'utf8', maxBuffer: 1 << 26 })
    if (r.status !== 0) throw new Error(`python peer failed: ${r.stderr}`)
    return JSON.parse(r.stdout.trim().split('\n').pop())
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function machine () {
  const cpus = os.cpus()
  return `${cpus[0] ? cpus[0].model.trim() : 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`
}

function printTable (title, columns, rows) {
  console.log(`\n### ${title}\n`)
  console.log(`| ${columns.join(' | ')} |`)
  console.log(`|${columns.map(() => '---').join('|')}|`)
  for (const row of rows) console.log(`| ${columns.map(c => row[c] ?? '—').join(' | ')} |`)
}

const fmt = (ms) => ms === undefined || ms === null ? '—' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`
const ratio = (a, b) => a === undefined || b === undefined || a === null || b === null ? '—' : `${(a / b).toFixed(1)}×`

/** A seeded generator (mulberry32) so every peer sees the same data. */
function rng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The benchmark's command line: `value('--x', d)` (string), `number('--x', d)`, `flag('--x')`. */
function cliArgs (argv = process.argv.slice(2)) {
  const value = (name, fallback) => { const k = argv.indexOf(name); return k >= 0 && k + 1 < argv.length ? argv[k + 1] : fallback }
  return { value, number: (name, fallback) => Number(value(name, fallback)), flag: name => argv.includes(name) }
}

module.exports = { time, findPython, runPython, machine, printTable, fmt, ratio, rng, cliArgs }
