// The grid (lib/experiments/queue.ts) against a real redis-server: each test starts its own on
// a free loopback port with a temporary --dir and no persistence, and stops it. Workers are
// child processes running the built `dist/lib/cli.js worker`. Every test is bounded in time.
import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as net from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { Queue } from 'bullmq'
import { openBench } from '../lib/bench/open'
import { nb201 } from '../lib/spaces/nb201'
import { runSearchExperiment } from '../lib/experiments/search'
import { runProbe, type ProbeSpec } from '../lib/experiments/probe'
import { type Executor } from '../lib/experiments/runner'
import { checkJob, jobIdOf, parseQueueUrl, queueExecutor, redactArgv, redactUrl, QUEUE_NAME, QUEUE_PREFIX } from '../lib/experiments/queue'

const CLI = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
const REDIS = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).stdout.trim()
/** Short locks so that a killed worker's cells run again within about 2 s (docs/grid.md). */
const FAST = ['--lock-duration', '1000', '--stalled-interval', '500']

if (REDIS === '') {
  // CI (.ci/run) installs it and sets NASRANK_REQUIRE_REDIS: there, a missing server fails.
  if (process.env.NASRANK_REQUIRE_REDIS === '1') t.fail('redis-server is not installed (apt-get install redis-server)')
  else t.pass('redis-server is not installed (apt-get install redis-server): the grid tests are skipped')
} else tests()

function tmp (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-grid-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = net.createServer()
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

function waitFor (child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, what: string, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = ''
    const timer = setTimeout(() => reject(new Error(`${what}: not ready after ${ms} ms:\n${text}`)), ms)
    const onData = (d: Buffer): void => {
      text += d.toString()
      if (pattern.test(text)) { clearTimeout(timer); child[stream]?.off('data', onData); resolve() }
    }
    child[stream]?.on('data', onData)
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`${what} exited (${code}) before it was ready:\n${text}`)) })
  })
}

interface Redis { url: string, port: number, stop: () => Promise<void>, start: () => Promise<void> }

/** A redis-server on a free loopback port, no persistence (with `tls`: TLS only); stopped in teardown. */
async function redis (t: Test, extra: string[] = [], tls?: { cert: string, key: string }): Promise<Redis> {
  const port = await freePort()
  const dir = tmp(t)
  let child: ChildProcess | undefined
  const listen = tls === undefined ? ['--port', String(port)] : ['--port', '0', '--tls-port', String(port), '--tls-cert-file', tls.cert, '--tls-key-file', tls.key, '--tls-auth-clients', 'no']
  const start = async (): Promise<void> => {
    child = spawn(REDIS, [...listen, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
    await waitFor(child, 'stdout', /Ready to accept connections/, 'redis-server', 10_000)
  }
  const stop = async (): Promise<void> => {
    const c = child
    child = undefined
    if (c === undefined || c.exitCode !== null) return
    const exited = new Promise(resolve => c.once('exit', resolve))
    c.kill('SIGKILL')
    await exited
  }
  await start()
  t.teardown(stop)
  return { url: `${tls === undefined ? 'redis' : 'rediss'}://127.0.0.1:${port}/0`, port, stop, start }
}

interface WorkerProc { child: ChildProcess, log: () => string, stop: (signal?: NodeJS.Signals) => Promise<void> }

/** `nasrank worker` as a child process, once it takes cells; killed in teardown. */
async function worker (t: Test, queue: string, args: string[] = [], options: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): Promise<WorkerProc> {
  const child = spawn(process.execPath, [CLI, 'worker', '--queue', queue, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let text = ''
  child.stderr?.on('data', (d: Buffer) => { text += d.toString() })
  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise(resolve => child.once('exit', resolve))
    child.kill(signal)
    await exited
  }
  t.teardown(async () => await stop())
  await waitFor(child, 'stderr', /taking cells from/, 'nasrank worker')
  return { child, log: () => text, stop }
}

function lines (dir: string): Array<Record<string, unknown>> {
  const file = path.join(dir, 'results.jsonl')
  if (!fs.existsSync(file)) return []
  return fs.readFileSync(file, 'utf8').split('\n').filter(l => l !== '').map(l => JSON.parse(l))
}

/** Rows without what differs between runs by design (run id, timings), keyed by cell and part. */
function comparable (dir: string): Map<string, string> {
  const m = new Map<string, string>()
  for (const row of lines(dir)) {
    const { run: _r, search_seconds: _s, train_seconds: _t, ...rest } = row
    const key = `${String(rest.cell)}#${String(rest.part ?? 0)}`
    if (m.has(key)) throw new Error(`${key} twice in results.jsonl`)
    m.set(key, JSON.stringify(rest))
  }
  return m
}

/** Runs the CLI to completion: exit code and output. */
function cli (args: string[], options: { cwd?: string, env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('exit', code => resolve({ code, stdout, stderr }))
  })
}

/** Every cell's rows computed in this process, all at once (the reference of the probe tests). */
const allAtOnce: Executor = {
  kind: 'test-concurrent',
  async execute (cells, record) { await Promise.all(cells.map(async c => record(c, await c.run()))) }
}

async function jobsOf (url: string): Promise<Queue> {
  const queue = new Queue(QUEUE_NAME, { connection: { url }, prefix: QUEUE_PREFIX })
  queue.on('error', () => {})
  return queue
}

/** A small NB-201 table of our own: 300 architectures with made-up accuracies (opens in milliseconds). */
const TABLE_HEADER = 'arch,val_accuracy,test_accuracy\n'
function tableBody (): string {
  return Array.from({ length: 300 }, (_, k) => `${nb201.format(nb201.fromIndex(k * 51))},${(50 + (k * 37) % 43).toFixed(2)},${(51 + (k * 29) % 41).toFixed(2)}`).join('\n') + '\n'
}

function tests (): void {
  t.test('the Redis URL: checked, and its password never shown', async t => {
    t.equal(redactUrl('redis://:s3cret@host:6379/2'), 'redis://:***@host:6379/2')
    t.equal(redactUrl('rediss://user:s3cret@host'), 'rediss://user:***@host')
    t.equal(redactUrl('redis://host:6379'), 'redis://host:6379')
    t.equal(redactUrl('redis://host/0?password=s3cret&db=1'), 'redis://host/0?password=***&db=1')
    t.same(redactArgv(['search', '--queue=redis://:pw@h:1', '--queue', 'rediss://u:pw@h']), ['search', '--queue=redis://:***@h:1', '--queue', 'rediss://u:***@h'])
    t.same(parseQueueUrl('rediss://:pw@h:6380/3'), { url: 'rediss://:pw@h:6380/3', redacted: 'rediss://:***@h:6380/3' })
    t.throws(() => parseQueueUrl('http://h'), /--queue must start with redis:\/\/ or rediss:\/\//)
    t.throws(() => parseQueueUrl('redis://:pw@h/x'), /the database after the host must be a number \(redis:\/\/host:6379\/2\), got 'redis:\/\/:\*\*\*@h\/x'/)
    t.throws(() => parseQueueUrl('not a url :pw@'), /must be a Redis URL/)
    t.throws(() => parseQueueUrl('env:NASRANK_TEST_UNSET_VARIABLE'), /env:NASRANK_TEST_UNSET_VARIABLE: the environment variable NASRANK_TEST_UNSET_VARIABLE is not set/)
    process.env.NASRANK_TEST_QUEUE_URL = 'redis://:pw@h:1/0'
    t.equal(parseQueueUrl('env:NASRANK_TEST_QUEUE_URL').redacted, 'redis://:***@h:1/0')
    delete process.env.NASRANK_TEST_QUEUE_URL
    // A job is data: only known modules, a cell id, a version.
    const spec = { module: 'search', data: {} }
    t.same(checkJob({ format: 1, nasrank: '1', spec, cell: 'c' }), { format: 1, nasrank: '1', spec, cell: 'c' })
    t.match(checkJob({ format: 1, nasrank: '1', spec: { module: '/tmp/evil.js', data: {} }, cell: 'c' }), /unknown experiment module "\/tmp\/evil\.js" \(a worker runs cells of: renas, search, probe\)/)
    t.match(checkJob('rm -rf /'), /not an object/)
    t.match(checkJob({ format: 2 }), /unknown job format 2/)
    t.match(checkJob({ format: 1, nasrank: '1', spec, cell: 7 }), /cell id/)
    t.equal(jobIdOf('a:b%c/d'), 'a%3Ab%25c/d')
  })

  t.test('Ctrl-C of the submitter detaches: the workers go on, the same run again re-attaches and loses nothing', { timeout: 60_000 }, async t => {
    const server = await redis(t)
    const dir = tmp(t)
    const spec: ProbeSpec = { count: 40, ms: 100, seed: 5 }
    await runProbe(spec, { out: path.join(dir, 'local'), executor: () => allAtOnce })
    const w = await worker(t, server.url, ['--jobs', '2', ...FAST])
    const controller = new AbortController()
    const out = path.join(dir, 'grid')
    const first = await runProbe(spec, { out, signal: controller.signal, executor: queueExecutor({ queue: server.url, pollMs: 200 }), progress: done => { if (done === 10) controller.abort() } })
    t.ok(first.ran >= 10 && first.remaining > 0 && first.partial, `detached after ${first.ran} rows`)
    t.match(fs.readFileSync(first.reportFile, 'utf8'), /Partial report/)
    await new Promise(resolve => setTimeout(resolve, 1000)) // the worker goes on meanwhile
    const second = await runProbe(spec, { out, executor: queueExecutor({ queue: server.url, pollMs: 200 }) })
    t.same([second.skipped, second.ran, second.remaining], [first.ran, 40 - first.ran, 0])
    t.same(comparable(out), comparable(path.join(dir, 'local')), 'every row once')
    // The worker logs a cell after Redis has it, so the submitter may see a row before its log line.
    const logged = (): number => (w.log().match(/ done in /g) ?? []).length
    for (let k = 0; k < 50 && logged() < 40; k++) await new Promise(resolve => setTimeout(resolve, 100))
    t.equal(logged(), 40, 'each cell completed once (a job completes once, even when a stalled attempt ran twice)')
    // The commands' usage errors.
    const help = await cli(['worker', '--help'])
    t.equal(help.code, 0)
    t.match(help.stdout, /--lock-duration <ms>/)
    const none = await cli(['grid'])
    t.equal(none.code, 2)
    t.match(none.stderr, /grid needs a command: status, retry, clean/)
    const noQueue = await cli(['worker'])
    t.equal(noQueue.code, 2)
    t.match(noQueue.stderr, /--queue <url> is required/)
    const badJobs = await cli(['worker', '--queue', server.url, '--jobs', '0'])
    t.equal(badJobs.code, 2)
    t.match(badJobs.stderr, /--jobs must be an integer >= 1, got '0'/)
  })

  t.test('a running cell\'s notes reach the submitter\'s activity, as from local worker threads', { timeout: 60_000 }, async t => {
    const server = await redis(t)
    const dir = tmp(t)
    await worker(t, server.url, ['--jobs', '2', ...FAST])
    const spec: ProbeSpec = { count: 4, ms: 800, seed: 3 }
    const notes: Array<[string, string]> = []
    const r = await runProbe(spec, { out: path.join(dir, 'grid'), executor: queueExecutor({ queue: server.url, pollMs: 200 }), activity: (cell, text) => notes.push([cell, text]) })
    t.equal(r.ran, 4)
    t.same([...new Set(notes.map(n => n[0]))].sort(), Array.from({ length: 4 }, (_, k) => `probe/seed3/ms800/${k}`), 'a note from every cell')
    t.ok(notes.every(n => n[1] === 'waiting 800 ms'), 'the cell\'s own text')
    const local: Array<[string, string]> = []
    await runProbe(spec, { out: path.join(dir, 'local'), jobs: 2, activity: (cell, text) => local.push([cell, text]) })
    t.same(new Set(local.map(n => n.join(' '))), new Set(notes.map(n => n.join(' '))), 'the same notes as local worker threads')
  })

  t.test('a grid run gives the rows of a local run; a second submission computes nothing again; no password anywhere', { timeout: 120_000 }, async t => {
    const server = await redis(t, ['--requirepass', 's3cr3t-pw'])
    const url = `redis://:s3cr3t-pw@127.0.0.1:${server.port}/0`
    const dir = tmp(t)
    const search = ['search', '--bench', 'synthetic-201', '--method', 'rs,re', '--budget', '30', '--seeds', '3']
    const local = await cli([...search, '--out', path.join(dir, 'local')])
    t.equal(local.code, 0, local.stderr)
    const w1 = await worker(t, 'env:NASRANK_TEST_QUEUE', ['--jobs', '2'], { env: { NASRANK_TEST_QUEUE: url } })
    const w2 = await worker(t, url)
    const grid = await cli([...search, '--out', path.join(dir, 'grid'), '--queue', url])
    t.equal(grid.code, 0, grid.stderr)
    t.same([...comparable(path.join(dir, 'grid'))].sort(), [...comparable(path.join(dir, 'local'))].sort(), 'the rows of the local run, each once')
    t.match(grid.stderr, /grid: 6 cells to redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0/)
    t.match(grid.stderr, /grid: 6 done, 0 running, 0 failed, 0 waiting of 6/)
    t.equal(grid.stdout.replace(/- run .*\n/, ''), local.stdout.replace(/- run .*\n/, ''), 'the same report')
    // Submitted again (another --out): the finished jobs are read, not run again.
    const again = await cli([...search, '--out', path.join(dir, 'again'), '--queue', url])
    t.equal(again.code, 0, again.stderr)
    t.same([...comparable(path.join(dir, 'again'))].sort(), [...comparable(path.join(dir, 'local'))].sort())
    const queue = await jobsOf(url)
    t.teardown(async () => await queue.close())
    t.same(await queue.getJobCounts('completed', 'waiting', 'active', 'failed'), { completed: 6, waiting: 0, active: 0, failed: 0 }, 'one job per cell')
    const done = (w: WorkerProc): number => (w.log().match(/ done in /g) ?? []).length
    for (let k = 0; k < 50 && done(w1) + done(w2) < 6; k++) await new Promise(resolve => setTimeout(resolve, 100))
    t.equal(done(w1) + done(w2), 6, 'six cells completed in all, none twice')
    // ReNAS Table 5 (tfjs in the workers' threads) on a small table: the rows of the local run too.
    fs.writeFileSync(path.join(dir, 'table.csv'), TABLE_HEADER + tableBody())
    const renas = ['reproduce', 'renas', '--table', '5', '--bench', `nb201:${path.join(dir, 'table.csv')}`, '--seeds', '1', '--epochs', '2']
    const renasLocal = await cli([...renas, '--out', path.join(dir, 'renas-local')])
    t.equal(renasLocal.code, 0, renasLocal.stderr)
    const renasGrid = await cli([...renas, '--out', path.join(dir, 'renas-grid'), '--queue', url])
    t.equal(renasGrid.code, 0, renasGrid.stderr)
    t.equal(comparable(path.join(dir, 'renas-grid')).size, 5, 'five methods')
    t.same([...comparable(path.join(dir, 'renas-grid'))].sort(), [...comparable(path.join(dir, 'renas-local'))].sort(), 'ReNAS rows of the grid = the local run\'s')
    // Nothing secret printed or written.
    const status = await cli(['grid', 'status', '--queue', url])
    t.match(status.stdout, /completed 11 /, '6 search cells and 5 ReNAS cells')
    t.match(status.stdout, /workers \(2\):/)
    const files = ['grid', 'again', 'renas-grid'].flatMap(d => fs.readdirSync(path.join(dir, d)).map(f => path.join(dir, d, f)))
    const seen = [grid.stdout, grid.stderr, again.stderr, status.stdout, renasGrid.stdout, renasGrid.stderr, w1.log(), w2.log(), ...files.map(f => fs.readFileSync(f, 'utf8'))].join('\n')
    t.notMatch(seen, /s3cr3t/, 'the password is in no output and no file')
    t.match(fs.readFileSync(path.join(dir, 'grid', 'runs.jsonl'), 'utf8'), /"--queue","redis:\/\/:\*\*\*@127\.0\.0\.1/, 'the command line is recorded redacted')
    const wrong = await cli(['grid', 'status', '--queue', `redis://:wrong-pw@127.0.0.1:${server.port}/0`])
    t.equal(wrong.code, 1)
    t.match(wrong.stderr, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: WRONGPASS/)
    t.notMatch(wrong.stderr, /wrong-pw/)
    const usage = await cli([...search, '--out', path.join(dir, 'x'), '--queue', url, '--jobs', '2'])
    t.equal(usage.code, 2)
    t.match(usage.stderr, /--jobs runs cells in threads of this process; with --queue, give --jobs to each `nasrank worker`/)
  })

  t.test('rediss://: TLS with a password; a certificate the client does not trust is refused', { timeout: 60_000 }, async t => {
    const dir = tmp(t)
    const cert = path.join(dir, 'cert.pem')
    const key = path.join(dir, 'key.pem')
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' })
    if (made.status !== 0) { t.skip(`openssl could not make a test certificate: ${made.stderr ?? made.error?.message}`); return }
    const server = await redis(t, ['--requirepass', 'tls-s3cret'], { cert, key })
    const url = `rediss://:tls-s3cret@127.0.0.1:${server.port}/0`
    const untrusted = await cli(['grid', 'status', '--queue', url])
    t.equal(untrusted.code, 1)
    t.match(untrusted.stderr, /cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0: .*self[- ]signed certificate/)
    const trusted = { env: { NODE_EXTRA_CA_CERTS: cert } }
    await worker(t, url, [], trusted)
    fs.writeFileSync(path.join(dir, 'table.csv'), TABLE_HEADER + tableBody())
    const run = await cli(['search', '--bench', `nb201:${path.join(dir, 'table.csv')}`, '--method', 'rs', '--budget', '20', '--seeds', '2', '--out', path.join(dir, 'out'), '--queue', url], trusted)
    t.equal(run.code, 0, run.stderr)
    t.equal(lines(path.join(dir, 'out')).length, 2 * 20, 'two cells of 20 checkpoint rows')
    t.notMatch(run.stdout + run.stderr + untrusted.stderr, /tls-s3cret/)
  })

  t.test('3 workers × 200 cells: one SIGKILLed mid-cell, one restarted, one paused past its lock: every row once, as computed locally', { timeout: 120_000 }, async t => {
    const server = await redis(t)
    const dir = tmp(t)
    const spec: ProbeSpec = { count: 200, ms: 100, seed: 7 }
    await runProbe(spec, { out: path.join(dir, 'local'), executor: () => allAtOnce })
    const workers = [await worker(t, server.url, ['--jobs', '2', ...FAST]), await worker(t, server.url, ['--jobs', '2', ...FAST]), await worker(t, server.url, ['--jobs', '2', ...FAST])]
    const events: string[] = []
    let restarted: WorkerProc | undefined
    let step = 0
    const r = await runProbe(spec, {
      out: path.join(dir, 'grid'),
      executor: queueExecutor({ queue: server.url, pollMs: 250, log: line => events.push(line) }),
      progress: done => {
        if (done === 40 && step === 0) {
          step = 1
          events.push('killing worker 0')
          workers[0].child.kill('SIGKILL')
        }
        if (done === 70 && step === 1) {
          step = 2
          events.push('pausing worker 2 past its lock')
          workers[2].child.kill('SIGSTOP')
          setTimeout(() => { workers[2].child.kill('SIGCONT') }, 3000)
        }
        if (done === 90 && step === 2) {
          step = 3
          events.push('restarting worker 1')
          restarted = workers[1]
          void workers[1].stop('SIGTERM').then(async () => { workers[1] = await worker(t, server.url, ['--jobs', '2', ...FAST]) })
        }
      }
    })
    t.equal(step, 3, 'all three interruptions happened mid-run')
    t.same([r.ran, r.remaining, r.failed.length], [200, 0, 0], events.join('\n'))
    t.same(comparable(path.join(dir, 'grid')), comparable(path.join(dir, 'local')), 'every row once, equal to the local run\'s')
    // The killed worker held cells: they were taken up again (BullMQ's stalled-job check).
    const queue = await jobsOf(server.url)
    t.teardown(async () => await queue.close())
    const jobs = await queue.getCompleted(0, -1)
    t.equal(jobs.length, 200)
    t.ok(jobs.some(j => (j.attemptsStarted ?? 0) > 1), `cells started twice: ${jobs.filter(j => (j.attemptsStarted ?? 0) > 1).map(j => j.id).join(', ')}`)
    t.match(restarted?.log(), /stopping after the running cells/, 'the restarted worker stopped gracefully')
    // The paused worker's first attempts finished late: BullMQ refused them (their locks had passed to another worker).
    t.match(workers[2].log(), /(Lock mismatch|Missing lock) for job probe\/seed7\/ms100\/\d+\. (Cmd )?moveToFinished.*the cell went to another worker; this result is dropped/)
  })

  t.test('Redis killed and restarted (its data lost) mid-run: workers and the submitter reconnect, every row once', { timeout: 120_000 }, async t => {
    const server = await redis(t)
    const dir = tmp(t)
    const spec: ProbeSpec = { count: 60, ms: 100, seed: 3 }
    await runProbe(spec, { out: path.join(dir, 'local'), executor: () => allAtOnce })
    const w = [await worker(t, server.url, ['--jobs', '2', ...FAST]), await worker(t, server.url, ['--jobs', '2', ...FAST])]
    const events: string[] = []
    let restarted: Promise<void> | undefined
    const r = await runProbe(spec, {
      out: path.join(dir, 'grid'),
      executor: queueExecutor({ queue: server.url, pollMs: 250, log: line => events.push(line) }),
      progress: done => {
        if (done === 15 && restarted === undefined) {
          restarted = (async () => {
            await server.stop()
            await new Promise(resolve => setTimeout(resolve, 1000))
            await server.start()
          })()
        }
      }
    })
    await restarted
    t.same([r.ran, r.remaining, r.failed.length], [60, 0, 0], events.join('\n'))
    t.same(comparable(path.join(dir, 'grid')), comparable(path.join(dir, 'local')))
    t.match(events.join('\n'), /no longer in the queue \(Redis restarted without its data, or the queue was cleaned\); enqueued again/)
    t.match(w[0].log() + w[1].log(), / done in /)
  })

  t.test('poisoned jobs are rejected and logged; a throwing cell is retried, then failed with its error in the report; grid retry and clean', { timeout: 60_000 }, async t => {
    const server = await redis(t)
    const dir = tmp(t)
    const w = await worker(t, server.url, FAST)
    const marker = path.join(dir, 'ran')
    const evil = path.join(dir, 'evil.js')
    fs.writeFileSync(evil, `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x'); exports.loadCells = async () => []`)
    const queue = await jobsOf(server.url)
    t.teardown(async () => await queue.close())
    await queue.add('cell', { format: 1, nasrank: '0', spec: { module: evil, data: {} }, cell: 'evil' }, { jobId: 'evil', attempts: 3 })
    await queue.add('cell', 'rm -rf /' as unknown as object, { jobId: 'garbage', attempts: 3 })
    await queue.add('cell', { format: 1, nasrank: '0', spec: { module: 'probe', data: { count: 1, ms: 0, seed: 0 } }, cell: 'probe/seed0/ms0/0' }, { jobId: 'other-id', attempts: 3 })
    // Real cells after the poison: the worker lives on; cell 2 throws every time.
    const events: string[] = []
    const r = await runProbe({ count: 5, ms: 0, seed: 1, fail: [2] }, { out: path.join(dir, 'out'), executor: queueExecutor({ queue: server.url, attempts: 2, backoffMs: 100, pollMs: 200, log: line => events.push(line) }) })
    t.same([r.ran, r.remaining], [4, 1])
    t.same(r.failed, [{ cell: 'probe/seed1/ms0/2/fails', error: 'probe cell 2 fails on purpose', attempts: 2 }], 'failed after its two attempts')
    const report = fs.readFileSync(r.reportFile, 'utf8')
    t.match(report, /Partial report/)
    t.match(report, /One cell failed.*\n>\n> - `probe\/seed1\/ms0\/2\/fails` after 2 attempts: probe cell 2 fails on purpose/)
    for (const id of ['evil', 'garbage', 'other-id']) {
      const job = await queue.getJob(id)
      t.equal(await job?.getState(), 'failed', `${id}: failed`)
      t.equal(job?.attemptsMade, 1, `${id}: not retried`)
      t.match(job?.failedReason, /^rejected by worker /)
    }
    t.notOk(fs.existsSync(marker), 'the poisoned module was never loaded')
    t.match(w.log(), /rejected job "evil": unknown experiment module/)
    t.match(w.log(), /rejected job "garbage": its data is not an object/)
    t.match(w.log(), /rejected job "other-id": its id is not the id of its cell/)
    t.match(w.log(), /probe\/seed1\/ms0\/2\/fails failed \(attempt 1 of 2, will be retried\): probe cell 2 fails on purpose/)
    const status = await cli(['grid', 'status', '--queue', server.url, '--json'])
    const s = JSON.parse(status.stdout)
    t.match(s.counts, { completed: 4, failed: 4 })
    t.ok(s.failed.some((f: { cell: string, error: string }) => f.cell === 'probe/seed1/ms0/2/fails' && f.error === 'probe cell 2 fails on purpose'))
    const retry = await cli(['grid', 'retry', '--queue', server.url])
    t.match(retry.stdout, /^4 failed cells queued again/)
    const clean = await cli(['grid', 'clean', '--queue', server.url])
    t.equal(clean.code, 0, clean.stderr)
    t.match(clean.stdout, /\d+ jobs removed/)
    const all = await cli(['grid', 'clean', '--all', '--queue', server.url])
    t.equal(all.code, 0, all.stderr)
    t.same(Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0), 0, 'clean --all empties the queue')
  })

  t.test('a worker whose bench file differs from the planned one refuses the cell; the right worker computes it after', { timeout: 60_000 }, async t => {
    const server = await redis(t)
    const dir = tmp(t)
    const header = TABLE_HEADER
    const body = tableBody()
    for (const side of ['a', 'b']) fs.mkdirSync(path.join(dir, side))
    fs.writeFileSync(path.join(dir, 'a', 'table.csv'), header + body)
    fs.writeFileSync(path.join(dir, 'b', 'table.csv'), header + body.replace(/,(\d+\.\d\d)\n/, ',99.99\n'))
    // Planned on a/table.csv under the uri nb201:table.csv; the worker runs in b/, where that uri is another table.
    const planned = await openBench(`nb201:${path.join(dir, 'a', 'table.csv')}`)
    Object.defineProperty(planned, 'uri', { value: 'nb201:table.csv' })
    const wrong = await worker(t, server.url, FAST, { cwd: path.join(dir, 'b') })
    const plan = { methods: ['rs'], bench: planned, budget: 20, seeds: 2, out: path.join(dir, 'out') }
    const r = await runSearchExperiment({ ...plan, executor: queueExecutor({ queue: server.url, attempts: 2, backoffMs: 100, pollMs: 200 }) })
    t.same([r.ran, r.failed.length], [0, 2])
    t.match(r.failed[0].error, /^worker .* refuses the cell: nb201:table\.csv changed since the run was planned \(bench digest [0-9a-f]{16}, planned with [0-9a-f]{16}\)/)
    t.match(fs.readFileSync(r.reportFile, 'utf8'), /2 cells failed/)
    t.same(lines(path.join(dir, 'out')), [], 'no row from the other table')
    await wrong.stop()
    // A worker with the planned file; the same command again retries the failed cells.
    await worker(t, server.url, FAST, { cwd: path.join(dir, 'a') })
    const again = await runSearchExperiment({ ...plan, executor: queueExecutor({ queue: server.url, pollMs: 200 }) })
    t.same([again.ran, again.failed.length, again.remaining], [2, 0, 0])
  })
}
