import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

// Ctrl-C at any moment of `reproduce renas … --jobs 2`, as a user presses it: SIGINT to the
// built CLI. Every run must either finish (exit 0) or exit 130 with its finished rows and a
// report marked partial — never abort (the old SIGABRT of native async work completing into a
// terminated worker), never lose or repeat a row; the same command then resumes to the rows of
// an uninterrupted run.
const bin = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
const args = (out: string): string[] => ['reproduce', 'renas', '--table', '5', '--bench', 'synthetic-201',
  '--seeds', '2', '--fractions', '0.01,0.05', '--epochs', '4', '--jobs', '2', '--out', out]

function tmp (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-sigint-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** results.jsonl as cell id -> row without the fields that name the run or its timing. */
function rows (out: string): Map<string, string> {
  const file = path.join(out, 'results.jsonl')
  const m = new Map<string, string>()
  if (!fs.existsSync(file)) return m
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue
    const row = JSON.parse(line)
    const stable: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(row)) if (k !== 'run' && !/seconds|_ms$|time/.test(k)) stable[k] = v
    const key = `${String(row.cell)}#${String(row.part ?? '')}#${String(row.table ?? '')}#${String(row.method ?? '')}`
    if (m.has(key)) throw new Error(`${key} twice in ${file}`)
    m.set(key, JSON.stringify(stable))
  }
  return m
}

function interrupt (out: string, delayMs: number): Promise<{ code: number | null, signal: NodeJS.Signals | null, stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [bin, ...args(out)], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => child.kill('SIGINT'), delayMs)
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, stderr }) })
  })
}

t.test('SIGINT at many moments of reproduce renas --jobs 2: exit 0 or 130, rows kept, report partial, resume completes', { timeout: 900_000 }, async t => {
  const full = tmp(t)
  const started = Date.now()
  const whole = spawnSync(process.execPath, [bin, ...args(full)], { encoding: 'utf8' })
  const length = Date.now() - started
  t.equal(whole.status, 0, whole.stderr)
  const want = rows(full)
  t.ok(want.size > 0, 'the uninterrupted run wrote rows')
  // Moments spread over an uninterrupted run: while tfjs and the benches load, while workers
  // start, inside cells (native async kernels in flight), between cells, while the report is drawn.
  for (const f of [0.1, 0.3, 0.5, 0.7, 0.9]) {
    const out = tmp(t)
    const delay = Math.round(f * length)
    const r = await interrupt(out, delay)
    const got = rows(out)
    if (r.signal === 'SIGINT') {
      // The signal came after the run had finished and let go of Ctrl-C (the process was
      // exiting): the default action is right then, provided nothing is missing.
      t.same(got, want, `SIGINT after ${delay} ms, during exit: the run had finished, every row written`)
      t.notMatch(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /Partial report/, 'and its report is complete')
    } else {
      t.equal(r.signal, null, `SIGINT after ${delay} ms: not killed by a signal (${String(r.signal)})`)
      t.ok(r.code === 0 || r.code === 130, `SIGINT after ${delay} ms: exit ${String(r.code)} (0 or 130)${r.code === 0 || r.code === 130 ? '' : '\n' + r.stderr.slice(-2000)}`)
    }
    t.notMatch(r.stderr, /terminate called|Napi::Error|Aborted/, 'no native abort')
    for (const [k, v] of got) t.equal(v, want.get(k), `row ${k} kept as the uninterrupted run computes it`)
    if (r.code === 130 && got.size < want.size) {
      const report = path.join(out, 'report.md')
      if (fs.existsSync(report)) t.match(fs.readFileSync(report, 'utf8'), /Partial report\*\*: \d+ of \d+ cells done/, 'the report says it is partial')
      else t.ok(got.size === 0 || fs.existsSync(report), 'rows written without a report')
    }
    const resumed = spawnSync(process.execPath, [bin, ...args(out)], { encoding: 'utf8' })
    t.equal(resumed.status, 0, resumed.stderr)
    t.same(rows(out), want, `SIGINT after ${delay} ms, then the same command: every row once, as uninterrupted`)
    t.notMatch(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /Partial report/, 'the finished report is not partial')
  }
})
