// The shared runner's run-integrity guarantees (docs/experiments.md), exercised through the
// search experiment (cells of milliseconds) and the ResultStore itself.
import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawn } from 'node:child_process'
import { openBench } from '../lib/bench/open'
import { nb201 } from '../lib/spaces/nb201'
import { nativeInfo } from '../lib/index'
import { runSearchExperiment, type SearchPlan } from '../lib/experiments/search'
import { ResultStore } from '../lib/experiments/results'
import { benchDigest, experimentModulePath, readRuns, type Cell, type Executor, type ExperimentSpec, type LoadCells } from '../lib/experiments/runner'

const OUTDIR_JS = path.join(__dirname, '..', 'dist', 'lib', 'experiments', 'outdir.js')
const VERSION = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version

function tmp (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-runner-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

function lines (dir: string): string[] {
  if (!fs.existsSync(path.join(dir, 'results.jsonl'))) return [] // no cell finished yet
  return fs.readFileSync(path.join(dir, 'results.jsonl'), 'utf8').split('\n').filter(l => l !== '')
}

async function plan (out: string, extra: Partial<SearchPlan> = {}): Promise<SearchPlan> {
  return { methods: ['rs'], bench: await openBench('synthetic-201'), budget: 30, checkpoints: [10, 30], curvePoints: 0, seeds: 3, out, ...extra }
}

t.test('a second process on the same --out fails at once naming the PID; a dead holder\'s lock is taken over', async t => {
  const out = tmp(t)
  const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(OUTDIR_JS)}).OutDir.open(${JSON.stringify(out)}, { outputs: [] }); console.log('held'); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('held')) resolve() })
    child.on('exit', code => reject(new Error(`lock holder exited (${code})`)))
  })
  // Checked before the bench is opened: a bench that does not exist is not what fails.
  await t.rejects(runSearchExperiment({ ...await plan(out), bench: 'nb201:/nonexistent/table.csv' }), new RegExp(`--out .* is in use by process ${child.pid} \\(lock .*\\.nasrank\\.lock\\)`))
  await t.rejects(runSearchExperiment(await plan(out)), new RegExp(`in use by process ${child.pid}`))
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
  const warnings: string[] = []
  const r = await runSearchExperiment({ ...await plan(out), warn: w => warnings.push(w) })
  t.equal(r.ran, 3, 'runs once the holder is gone')
  t.match(warnings.join('\n'), new RegExp(`taking over the lock of process ${child.pid}, which is no longer running`))
  t.notOk(fs.existsSync(path.join(out, '.nasrank.lock')), 'the lock is given back after the run')

  // In one process: a second run started while the first holds --out is refused too.
  const inner = tmp(t)
  const p = await plan(inner, { seeds: 5 })
  let nested: Promise<Error | null> | undefined
  await runSearchExperiment({ ...p, progress: done => { if (done === 1) nested ??= runSearchExperiment(p).then(() => null, (e: Error) => e) } })
  const held = await nested
  t.match(held?.message, new RegExp(`in use by process ${process.pid}`), 'the same process, a second run: refused too')
})

t.test('results.jsonl: a bad line in the middle is skipped with a warning naming it, its cell recomputed', async t => {
  const out = tmp(t)
  await runSearchExperiment(await plan(out))
  const before = lines(out)
  t.equal(before.length, 6, 'three cells of two checkpoint rows')
  // Tear the first row of the second cell (line 3): a write cut short that later appends followed.
  const torn = [...before]
  torn[2] = torn[2].slice(0, 40)
  fs.writeFileSync(path.join(out, 'results.jsonl'), torn.join('\n') + '\n')
  const warnings: string[] = []
  const r = await runSearchExperiment({ ...await plan(out), warn: w => warnings.push(w) })
  t.same([r.ran, r.skipped], [1, 2], 'only the cell with the torn line runs again')
  t.match(warnings.join('\n'), /results\.jsonl:3: not valid JSON/, 'the warning names the line')
  t.match(warnings.join('\n'), /line 4: cell search\/.*seed1.*: 1 of its 2 rows; skipped/, 'and the rest of that cell')
  const report = fs.readFileSync(r.reportFile, 'utf8')
  t.match(report, /results\.jsonl lines skipped .*line 3 \(not valid JSON/, 'the report says which lines it left out')
  t.notMatch(report, /Partial report/)
  t.match(report, /\| rs \| 3 \|/, 'all three seeds in the report')
  const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n')
  t.equal(csv.length, 1 + 6, 'the report\'s rows: each cell once, the skipped lines not among them')
  const again = await runSearchExperiment(await plan(out))
  t.same([again.ran, again.skipped], [0, 3], 'and later resumes are not blocked')

  // Single-row cells and the store alone: valid, torn, valid.
  const dir = tmp(t)
  fs.writeFileSync(path.join(dir, 'results.jsonl'), '{"cell":"a","x":1}\n{"cell":"b","x\n{"cell":"c","x":3}\n')
  const store = new ResultStore(dir)
  t.same([store.has('a'), store.has('b'), store.has('c')], [true, false, true])
  t.same(store.skipped.map(s => s.line), [2])
  store.append({ cell: 'b', x: 2 })
  t.same(new ResultStore(dir).all().map(r => r.cell).sort(), ['a', 'b', 'c'], 'the recomputed cell is read back')
  // A torn last line (and a cell whose rows were cut) is cut off, as before.
  fs.appendFileSync(path.join(dir, 'results.jsonl'), '{"cell":"d","part":0,"parts":2}\n{"cell":"d","par')
  const cut = new ResultStore(dir)
  t.notOk(cut.has('d'))
  t.ok(fs.readFileSync(path.join(dir, 'results.jsonl'), 'utf8').endsWith('{"cell":"b","x":2}\n'), 'the incomplete last cell is cut off')
})

t.test('a bench is identified by its data, not its path', async t => {
  const dir = tmp(t)
  // A small table of our own: 300 NB-201 architectures with made-up accuracies.
  const header = 'arch,val_accuracy,test_accuracy\n'
  const body = Array.from({ length: 300 }, (_, k) => `${nb201.format(nb201.fromIndex(k * 51))},${(50 + (k * 37) % 43).toFixed(2)},${(51 + (k * 29) % 41).toFixed(2)}`).join('\n') + '\n'
  const file = path.join(dir, 'table.csv')
  fs.writeFileSync(file, header + body)
  const out = path.join(dir, 'out')
  const rel = `nb201:${path.relative(process.cwd(), file)}`
  const p = { methods: ['rs'], budget: 50, seeds: 2, out }
  const first = await runSearchExperiment({ ...p, bench: rel })
  t.equal(first.ran, 2)
  const a = await openBench(`nb201:${file}`)
  const b = await openBench(rel)
  t.equal(benchDigest(a), benchDigest(b), 'one digest however the path is typed')
  t.ok(lines(out).every(l => JSON.parse(l).bench_digest === benchDigest(a)), 'recorded in each row')
  const second = await runSearchExperiment({ ...p, bench: `nb201:${file}` })
  t.same([second.ran, second.skipped], [0, 2], 'the absolute path resumes the relative path\'s cells')
  // The same path, other numbers: another bench, other cells.
  fs.writeFileSync(file, header + body.replace(/,(\d+\.\d\d)\n/, ',99.99\n'))
  t.not(benchDigest(await openBench(`nb201:${file}`)), benchDigest(a), 'one changed number, another digest')
  const changed = await runSearchExperiment({ ...p, bench: `nb201:${file}` })
  t.same([changed.ran, changed.skipped], [2, 0], 'a changed table is not resumed into')
  // Worker threads reopen the bench by uri: one that is not the planned bench is an error, not a mix.
  const planned = await openBench(`nb201:${file}`)
  const elsewhere = path.join(dir, 'other.csv')
  fs.writeFileSync(elsewhere, header + body)
  Object.defineProperty(planned, 'uri', { value: `nb201:${elsewhere}` })
  await t.rejects(runSearchExperiment({ ...p, out: path.join(dir, 'out2'), bench: planned, jobs: 2 }), /worker: .*other\.csv changed since the run was planned \(bench digest [0-9a-f]{16}, planned with [0-9a-f]{16}\)/)
  // A results folder holding two benches for one cell id says so.
  const rows = lines(out)
  const forged = { ...JSON.parse(rows[0]), bench_digest: 'f'.repeat(64) }
  const group = rows.filter(l => JSON.parse(l).cell === forged.cell).map(l => JSON.stringify({ ...JSON.parse(l), bench_digest: 'f'.repeat(64) }))
  fs.appendFileSync(path.join(out, 'results.jsonl'), group.join('\n') + '\n')
  const warnings: string[] = []
  const r = await runSearchExperiment({ ...p, bench: `nb201:${file}`, warn: w => warnings.push(w) })
  t.match(warnings.join('\n'), /computed on a different bench/)
  t.match(fs.readFileSync(r.reportFile, 'utf8'), /results\.jsonl holds different benches for one cell: search\/.* \(bench digests [0-9a-f]{12} and f{12}\)/)
})

t.test('provenance: command, version, native build, backend, date and settings in runs.jsonl, rows and the report', async t => {
  const out = tmp(t)
  const command = ['search', '--method', 'rs', '--budget', '30']
  const r = await runSearchExperiment({ ...await plan(out), command })
  const runs = readRuns(out)
  const run = runs.get(r.run)
  t.ok(run !== undefined, 'the run is in runs.jsonl')
  t.same(run?.command, command)
  t.equal(run?.nasrank, VERSION)
  t.equal(run?.native_digest, nativeInfo().sourceDigest)
  t.ok(typeof run?.date === 'string' && !Number.isNaN(Date.parse(run.date)))
  t.match(run?.settings, { budget: 30, seeds: 3, methods: ['rs'], checkpoints: [10, 30] })
  t.ok(lines(out).every(l => JSON.parse(l).run === r.run), 'each row names its run')
  const report = fs.readFileSync(r.reportFile, 'utf8')
  t.match(report, new RegExp(`- run ${r.run}: 6 rows — \`nasrank search --method rs --budget 30\`; nasrank ${VERSION.replace(/\./g, '\\.')}, native build ${nativeInfo().sourceDigest.slice(0, 12)}, tfjs backend none, started `))
  t.match(report, /settings `\{.*"budget":30.*\}`/)
  // Other settings of a method: other cells, another run id, and the report names both runs it shows.
  const other = await runSearchExperiment({ ...await plan(out, { seeds: 4, methods: ['rs', 're'], methodSettings: { re: { population: 5 } } }), command: [...command, '--seeds', '4'] })
  t.not(other.run, r.run, 'different settings never look the same')
  const both = fs.readFileSync(other.reportFile, 'utf8')
  t.match(both, /computed by 2 runs/)
  t.match(both, new RegExp(`- run ${r.run}: 6 rows`))
  t.match(both, /"population":5/)
})

t.test('files nasrank did not write in --out are not overwritten unless forced', async t => {
  const out = tmp(t)
  fs.writeFileSync(path.join(out, 'report.md'), '# my own notes\n')
  // Checked before the bench is opened.
  await t.rejects(runSearchExperiment({ ...await plan(out), bench: 'nb201:/nonexistent.csv' }), /--out .* holds report\.md, which nasrank did not write .*force/)
  await t.rejects(runSearchExperiment(await plan(out)), /holds report\.md, which nasrank did not write/)
  t.equal(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), '# my own notes\n', 'untouched')
  t.notOk(fs.existsSync(path.join(out, 'results.jsonl')), 'and nothing ran')
  await runSearchExperiment({ ...await plan(out), force: true })
  t.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /# Search experiment/, 'force: overwritten')
  const again = await runSearchExperiment(await plan(out))
  t.equal(again.skipped, 3, 'files nasrank wrote are rewritten freely')
  fs.appendFileSync(path.join(out, 'results.csv'), 'a line of my own\n')
  await t.rejects(runSearchExperiment(await plan(out)), /holds results\.csv, which nasrank did not write \(or which changed since it did\)/, 'a file edited since nasrank wrote it is not overwritten either')
})

t.test('Ctrl-C at any moment of a jobs 2 run: finished rows kept, report partial, resume neither loses nor repeats a row', async t => {
  // BANANAS cells take seconds, random search's milliseconds: aborts land before, between and inside cells.
  const base = { methods: ['rs', 'bananas'], bench: 'synthetic-201', budget: 40, checkpoints: [20, 40], curvePoints: 0, seeds: 2 }
  const serial = tmp(t)
  await runSearchExperiment({ ...base, out: serial })
  const key = (dir: string): Map<string, string> => {
    const m = new Map<string, string>()
    for (const l of lines(dir)) {
      const { run: _r, search_seconds: _s, ...rest } = JSON.parse(l)
      const k = `${String(rest.cell)}#${String(rest.part)}`
      if (m.has(k)) throw new Error(`${k} twice in results.jsonl`)
      m.set(k, JSON.stringify(rest))
    }
    return m
  }
  const want = key(serial)
  // Aborts land wherever the delay puts them: while the bench opens, while workers start or
  // run cells, while rows are written or the report drawn. What must hold does not depend on where.
  // Spread over the length of an uninterrupted jobs 2 run (measured here, asserted nowhere).
  const started = Date.now()
  await runSearchExperiment({ ...base, out: tmp(t), jobs: 2 })
  const length = Date.now() - started
  const cells = 4
  const parts = 2
  for (const delay of [0, 0.35, 0.5, 0.7, 0.85, 0.95].map(f => Math.round(f * length))) {
    const out = tmp(t)
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), delay)
    const r = await runSearchExperiment({ ...base, out, jobs: 2, signal: controller.signal })
    clearTimeout(timer)
    const got = key(out)
    for (const [k, v] of got) t.equal(v, want.get(k), `abort after ${delay} ms: row ${k} as in the uninterrupted run`)
    t.equal(got.size, (cells - r.remaining) * parts, `abort after ${delay} ms: only whole cells (${cells - r.remaining} of ${cells})`)
    t.equal(/Partial report/.test(fs.readFileSync(path.join(out, 'report.md'), 'utf8')), r.remaining > 0, 'partial exactly when cells are missing')
    await runSearchExperiment({ ...base, out, jobs: 2 })
    t.same(key(out), want, `abort after ${delay} ms, then resumed: every row once`)
  }
})

t.test('a third executor needs only the spec: cells rebuilt from JSON by the module\'s loadCells, run by id', async t => {
  const serial = tmp(t)
  await runSearchExperiment(await plan(serial))
  const queued = tmp(t)
  const jobs: string[] = []
  // What a queue would do: the producer sends { spec, cellId } as JSON; a consumer rebuilds the cells once per spec.
  const queue = (spec: ExperimentSpec | undefined): Executor => ({
    kind: 'test-queue',
    async execute (cells, record) {
      const wire = JSON.parse(JSON.stringify(spec)) as ExperimentSpec
      const consumer = new Map((await (require(experimentModulePath(wire.module)) as { loadCells: LoadCells }).loadCells(wire.data)).map(c => [c.id, c]))
      for (const cell of cells) {
        jobs.push(cell.id)
        record(cell, JSON.parse(JSON.stringify(await (consumer.get(cell.id) as Cell).run())))
      }
    }
  })
  const r = await runSearchExperiment({ ...await plan(queued), executor: queue })
  t.equal(r.ran, 3)
  t.equal(jobs.length, 3)
  const strip = (dir: string): string[] => lines(dir).map(l => { const { run: _r, search_seconds: _s, ...rest } = JSON.parse(l); return JSON.stringify(rest) })
  t.same(strip(queued), strip(serial), 'the rows of the in-process executor')
})
