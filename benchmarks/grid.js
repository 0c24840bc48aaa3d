// What the grid (BullMQ on a loopback redis-server) costs beside the local executors, in one run:
//  1. per-cell overhead: 1,000 empty cells one at a time (in-process executor vs one grid
//     worker with one thread): wall time per cell, submit → row in results.jsonl;
//  2. throughput: 10,000 empty cells (in-process; worker threads --jobs 2; the grid with two
//     worker processes of one thread each);
//  3. a real grid: ReNAS Table 5 on the real NAS-Bench-201 CIFAR-10 table (nb201-cifar10-test.csv),
//     `--jobs 1` / `--jobs 2` against 1 and 2 `nasrank worker` processes; the rows must be identical.
//   node benchmarks/grid.js [--seeds N] [--epochs N] [--cells N]   (needs `npm run build` and redis-server;
//   default 4 seeds × 20 epochs, 10,000 cells; the paper's protocol is 20 seeds × 200 epochs)
// Workers are started before a grid run is submitted (as on servers that wait for work), so the
// grid's wall time is the submitter's, from start to report, like the local runs'.
'use strict'
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')

const arg = (name, fallback) => {
  const k = process.argv.indexOf(`--${name}`)
  return k > 0 ? Number(process.argv[k + 1]) : fallback
}
const SEEDS = arg('seeds', 4)
const EPOCHS = arg('epochs', 20)
const CELLS = arg('cells', 10000)
const CLI = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
const REDIS = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim()
const SHARED = process.env.NASRANK_SHARED_DATA ?? path.join(__dirname, '..', '..', 'shared', 'data')
const TABLE = path.join(SHARED, 'nb201-cifar10-test.csv')

if (REDIS === '') {
  console.log('redis-server is not installed (apt-get install redis-server): grid benchmark skipped')
  process.exit(0)
}
const { runProbe } = require('../dist/lib/experiments/probe')
const { queueExecutor, gridClean } = require('../dist/lib/experiments/queue')

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-grid-bench-'))
const children = []
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
  fs.rmSync(dir, { recursive: true, force: true })
})

function freePort () {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => { const port = server.address().port; server.close(() => resolve(port)) })
    server.on('error', reject)
  })
}

function started (child, pattern, what) {
  return new Promise((resolve, reject) => {
    let text = ''
    const on = d => { text += d.toString(); if (pattern.test(text)) { child.stdout?.off('data', on); child.stderr?.off('data', on); resolve() } }
    child.stdout?.on('data', on)
    child.stderr?.on('data', on)
    child.once('exit', code => reject(new Error(`${what} exited (${code}):\n${text}`)))
  })
}

async function workers (url, n, jobs) {
  const list = []
  for (let k = 0; k < n; k++) {
    const child = spawn(process.execPath, [CLI, 'worker', '--queue', url, '--jobs', String(jobs), '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] })
    children.push(child)
    await started(child, /taking cells from/, 'nasrank worker')
    list.push(child)
  }
  return {
    stop: async () => {
      await Promise.all(list.map(c => new Promise(resolve => { c.once('exit', resolve); c.kill('SIGTERM') })))
    }
  }
}

function rows (out) {
  return fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').split('\n').filter(l => l !== '').map(l => {
    const { run: _r, train_seconds: _t, ...rest } = JSON.parse(l)
    return JSON.stringify(rest)
  }).sort()
}

async function timed (fn) {
  const t0 = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - t0) / 1e9
}

function cli (args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    children.push(child)
    let err = ''
    child.stderr.on('data', d => { err += d.toString() })
    child.on('exit', code => code === 0 ? resolve() : reject(new Error(`nasrank ${args.join(' ')} exited ${code}:\n${err}`)))
  })
}

async function main () {
  const port = await freePort()
  const redis = spawn(REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(redis)
  await started(redis, /Ready to accept connections/, 'redis-server')
  const url = `redis://127.0.0.1:${port}/0`
  const version = spawnSync(REDIS, ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2].replace('v=', '')
  console.log(`machine: ${os.cpus()[0].model}, ${os.cpus().length} cores (shared; load average ${os.loadavg()[0].toFixed(1)} at the start); node ${process.version}; redis ${version} on loopback; bullmq ${require('bullmq/package.json').version}`)
  const grid = queueExecutor({ queue: url, pollMs: 2000 })
  const result = {}
  let seed = 1
  const probe = async (count, options) => {
    const out = path.join(dir, `probe-${seed}`)
    const spec = { count, ms: 0, seed: seed++ }
    const s = await timed(() => runProbe(spec, { out, ...options }))
    return s
  }

  // 1. Per cell, one at a time; and a whole one-cell run (connect, enqueue, run, row, report).
  const n1 = 1000
  const local1 = await probe(n1, {})
  let w = await workers(url, 1, 1)
  const grid1 = await probe(n1, { executor: grid })
  const median = xs => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const single = { local: [], grid: [] }
  for (let k = 0; k < 11; k++) {
    single.local.push(await probe(1, {}))
    single.grid.push(await probe(1, { executor: grid }))
  }
  await w.stop()
  result.perCell = { cells: n1, inProcessMs: 1000 * local1 / n1, gridMs: 1000 * grid1 / n1, oneCellRunMs: { inProcess: 1000 * median(single.local), grid: 1000 * median(single.grid) } }
  console.log('\n### Per-cell overhead (empty cells)\n')
  console.log('| Executor | Cells one after another: wall (s) | Per cell (ms) | A one-cell run, submit → report (ms, median of 11) |\n|---|---|---|---|')
  console.log(`| in-process | ${local1.toFixed(2)} (${n1} cells) | ${result.perCell.inProcessMs.toFixed(3)} | ${result.perCell.oneCellRunMs.inProcess.toFixed(1)} |`)
  console.log(`| grid: 1 worker × 1 thread | ${grid1.toFixed(2)} (${n1} cells) | ${result.perCell.gridMs.toFixed(3)} | ${result.perCell.oneCellRunMs.grid.toFixed(1)} |`)

  // 2. Throughput.
  const localT = await probe(CELLS, {})
  const threadsT = await probe(CELLS, { jobs: 2 })
  w = await workers(url, 2, 1)
  const gridT = await probe(CELLS, { executor: grid })
  await w.stop()
  result.throughput = { cells: CELLS, inProcess: CELLS / localT, workerThreads2: CELLS / threadsT, grid2Workers: CELLS / gridT }
  console.log(`\n### Throughput (${CELLS.toLocaleString('en')} empty cells)\n`)
  console.log('| Executor | Wall (s) | Cells/s |\n|---|---|---|')
  console.log(`| in-process | ${localT.toFixed(2)} | ${result.throughput.inProcess.toFixed(0)} |`)
  console.log(`| worker threads (--jobs 2) | ${threadsT.toFixed(2)} | ${result.throughput.workerThreads2.toFixed(0)} |`)
  console.log(`| grid: 2 workers × 1 thread | ${gridT.toFixed(2)} | ${result.throughput.grid2Workers.toFixed(0)} |`)
  await gridClean(url, { all: true })

  // 3. ReNAS Table 5 on the real table.
  if (!fs.existsSync(TABLE)) {
    console.log(`\n${TABLE} not found (set NASRANK_SHARED_DATA): the real grid is skipped`)
  } else {
    const base = ['reproduce', 'renas', '--table', '5', '--bench', `nb201:${TABLE}`, '--seeds', String(SEEDS), '--epochs', String(EPOCHS)]
    const runs = []
    for (const jobs of [1, 2]) {
      const out = path.join(dir, `local-${jobs}`)
      runs.push({ name: `local --jobs ${jobs}`, out, seconds: await timed(() => cli([...base, '--jobs', String(jobs), '--out', out])) })
    }
    for (const n of [1, 2]) {
      await gridClean(url, { all: true }) // every cell computed again
      w = await workers(url, n, 1)
      const out = path.join(dir, `grid-${n}`)
      runs.push({ name: `grid: ${n} worker${n === 1 ? '' : 's'} × 1 thread`, out, seconds: await timed(() => cli([...base, '--queue', url, '--out', out])) })
      await w.stop()
    }
    const reference = rows(runs[0].out)
    const same = runs.map(r => JSON.stringify(rows(r.out)) === JSON.stringify(reference))
    const cells = 5 * SEEDS
    console.log(`\n### ReNAS Table 5, nb201-cifar10-test.csv: ${cells} cells (5 methods × ${SEEDS} seeds, ${EPOCHS} epochs)\n`)
    console.log('| Run | Wall (s) | Per cell (s) | vs local, same parallelism | Rows identical to --jobs 1 |\n|---|---|---|---|---|')
    runs.forEach((r, k) => {
      const peer = runs[k % 2]
      const ratio = k < 2 ? '—' : `${((r.seconds / peer.seconds - 1) * 100).toFixed(1)} % (${peer.name})`
      console.log(`| ${r.name} | ${r.seconds.toFixed(1)} | ${(r.seconds / cells).toFixed(2)} | ${ratio} | ${same[k] ? 'yes' : 'NO'} |`)
    })
    result.renasTable5 = { seeds: SEEDS, epochs: EPOCHS, cells, runs: runs.map((r, k) => ({ name: r.name, seconds: r.seconds, identical: same[k] })) }
    if (same.includes(false)) process.exitCode = 1
  }
  console.log('\n' + JSON.stringify({ benchmark: 'grid', ...result }))
  redis.kill('SIGKILL')
}

main().catch(err => { console.error(err); process.exitCode = 1 }).finally(() => process.exit())
