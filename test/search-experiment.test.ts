import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { openBench } from '../lib/bench/open'
import { Bench } from '../lib/bench/bench'
import { synthetic201 } from '../lib/bench/synthetic'
import { runSearchExperiment, type SearchPlan } from '../lib/experiments/search'
import { PlanError } from '../lib/experiments/runner'
import { searchCommand } from '../lib/experiments/search-cli'

function tmp (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-search-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

function readRows (dir: string): Array<Record<string, unknown>> {
  const text = fs.readFileSync(path.join(dir, 'results.jsonl'), 'utf8')
  return text === '' ? [] : text.trim().split('\n').map(l => JSON.parse(l))
}

/** Rows keyed by cell and part, without what differs between runs of one plan (the run's id, timing). */
function comparable (dir: string): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {}
  for (const r of readRows(dir)) {
    const key = `${String(r.cell)}#${String(r.part)}`
    if (key in out) throw new Error(`row ${key} is in results.jsonl twice`)
    const { run: _run, search_seconds: _s, ...rest } = r
    out[key] = rest
  }
  return out
}

const REAL = path.resolve(__dirname, '..', '..', 'shared', 'data', 'nb201-cifar10-hp200.csv')

t.test('rs and re on synthetic-201: rows, report, resume', async t => {
  const out = tmp(t)
  const plan: SearchPlan = { methods: ['rs', 're'], bench: await openBench('synthetic-201'), budget: 60, seeds: 3, out }
  const first = await runSearchExperiment(plan)
  t.same([first.ran, first.skipped, first.remaining, first.partial], [6, 0, 0, false], 'one cell per (method, seed)')
  const rows = readRows(out)
  const perCell = new Set(rows.map(r => r.parts)).size === 1 ? rows[0].parts as number : NaN
  t.equal(rows.length, 6 * perCell, 'every cell has all its checkpoint rows')
  for (const key of ['method', 'seed', 'bench', 'dataset', 'queries', 'val', 'test', 'searched_on', 'arch', 'regret', 'bench_digest', 'run']) {
    t.ok(rows.every(r => key in r), `every row has ${key}`)
  }
  t.same([...new Set(rows.map(r => r.method))], ['rs', 're'])
  t.same([...new Set(rows.map(r => r.seed))].sort(), [0, 1, 2])
  t.ok(rows.every(r => r.searched_on === 'val' && r.dataset === 'synthetic' && r.bench === 'synthetic-201'))
  for (const q of [25, 50, 60]) t.equal(rows.filter(r => r.queries === q).length, 6, `a row at checkpoint ${q} for each cell`)
  // Best so far: within a cell the incumbent's searched value never falls.
  const rs0 = rows.filter(r => r.method === 'rs' && r.seed === 0).sort((a, b) => (a.queries as number) - (b.queries as number))
  t.ok(rs0.every((r, k) => k === 0 || (r.val as number) >= (rs0[k - 1].val as number)), 'incumbent value is monotone in queries')
  t.ok(rows.every(r => (r.regret as number) >= 0), 'regret against the optimum is never negative')
  const report = fs.readFileSync(first.reportFile, 'utf8')
  t.match(report, /\| Method \| Seeds \| 25 queries \| 50 queries \| 60 queries \|/)
  t.match(report, /\| rs \| 3 \| \d+\.\d\d ± \d+\.\d\d \(± \d+\.\d\d\) \|/, 'mean ± sd (± se)')
  t.match(report, /## Paired differences against rs[\s\S]*\| re − rs \| [+-]\d+\.\d\d ± \d+\.\d\d \(3\) \|/)
  t.match(report, /## Regret/)
  t.match(report, /SYNTHETIC/)
  t.notMatch(report, /Partial report/)
  t.ok(fs.readFileSync(path.join(out, 'best-so-far.svg'), 'utf8').startsWith('<svg'), 'one SVG of the best-so-far curves')
  const again = await runSearchExperiment(plan)
  t.same([again.ran, again.skipped], [0, 6], 're-running resumes: nothing recomputed')
  t.equal(readRows(out).length, rows.length)
  const more = await runSearchExperiment({ ...plan, seeds: 4 })
  t.same([more.ran, more.skipped], [2, 6], 'a fourth seed: only its cells run')
})

t.test('jobs 2 gives the rows of jobs 1; interrupted runs resume to the same rows', async t => {
  const bench = await openBench('synthetic-201')
  const base: SearchPlan = { methods: ['rs', 're'], bench, budget: 40, seeds: 3, out: '' }
  const serial = tmp(t)
  await runSearchExperiment({ ...base, out: serial })
  const parallel = tmp(t)
  const r = await runSearchExperiment({ ...base, out: parallel, jobs: 2 })
  t.equal(r.ran, 6)
  t.same(comparable(parallel), comparable(serial), 'jobs 2: the rows of jobs 1')
  t.equal(fs.readFileSync(path.join(parallel, 'report.md'), 'utf8').replace(/- run .*\n/g, ''), fs.readFileSync(path.join(serial, 'report.md'), 'utf8').replace(/- run .*\n/g, ''),
    'the same report but for the run line')

  for (const jobs of [1, 2]) {
    for (const stopAt of [0, 1, 3, 5]) {
      const out = tmp(t)
      const controller = new AbortController()
      const partial = await runSearchExperiment({ ...base, out, jobs, signal: controller.signal, progress: done => { if (done >= stopAt) controller.abort() } })
      t.ok(partial.partial && partial.remaining > 0, `jobs ${jobs}, stopped after ${stopAt}: partial (${partial.ran} cells ran)`)
      const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8')
      t.match(report, new RegExp(`Partial report\\*\\*: ${partial.ran} of 6 cells done, ${6 - partial.ran} to do`), 'the report says it is partial')
      const resumed = await runSearchExperiment({ ...base, out, jobs })
      t.equal(resumed.ran + resumed.skipped, 6)
      t.equal(resumed.skipped, partial.ran, 'nothing finished is recomputed')
      t.same(comparable(out), comparable(serial), 'resumed: the rows of an uninterrupted run, none lost or twice')
      t.notMatch(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /Partial report/)
    }
  }
  // Aborted before it starts: nothing runs, the report is written and partial.
  const controller = new AbortController()
  controller.abort()
  const none = await runSearchExperiment({ ...base, out: tmp(t), signal: controller.signal, jobs: 2 })
  t.same([none.ran, none.remaining, none.partial], [0, 6, true])
})

t.test('bad input: clear errors before any work', async t => {
  const bench = await openBench('synthetic-201')
  const dir = tmp(t)
  const out = path.join(dir, 'never-created')
  const data = synthetic201()
  const trainOnly = new Bench({ ...data, uri: 'custom:train-only', metrics: { train: data.metrics.train } })
  const cases: Array<[Partial<SearchPlan>, RegExp]> = [
    [{ methods: ['rs', 'darts'] }, /--method: unknown search method "darts" \(known: rs, re, ls, bananas, ctnas, sampling, agnet\)/],
    [{ methods: [] }, /--method: give at least one search method \(known: rs, re, ls, bananas, ctnas, sampling, agnet\)/],
    [{ methods: ['rs', 'rs'] }, /'rs' is given twice/],
    [{ budget: 20000 }, /--budget 20000 is above the size of the space: .* has 15625 architectures/],
    [{ budget: 0 }, /--budget must be an integer in \[1, ∞\], got 0/],
    [{ budget: 100, checkpoints: [50, 150] }, /--checkpoints: 150 is above the budget \(--budget 100\)/],
    [{ checkpoints: [50, 25] }, /--checkpoints must be strictly ascending/],
    [{ seeds: 0 }, /--seeds must be an integer in \[1, ∞\], got 0/],
    [{ epochs: 13 }, /--epochs 13: synthetic-201 v1 has results at epochs 12, 200/],
    [{ bench: trainOnly }, /--bench custom:train-only: .* has neither validation \('val'\) nor test accuracy to search on \(metrics: train\)/],
    [{ bench: 'nb999:x' }, /--bench nb999:x: .*unknown benchmark 'nb999:x'/],
    [{ methodSettings: { re: { population: 0 } }, methods: ['re'] }, /settings of 're': /],
    [{ methodSettings: { bananas: {} } }, /methodSettings: 'bananas' is not among the methods of this plan \(rs\)/],
    [{ dataset: 'cifar100' }, /--dataset cifar100: the bench given \(synthetic-201 .*\) holds synthetic/]
  ]
  for (const [change, message] of cases) {
    const err = await runSearchExperiment({ methods: ['rs'], bench, out, ...change }).then(() => null, (e: Error) => e)
    t.ok(err instanceof PlanError, `${message.source}: a PlanError`)
    t.match(err?.message, message)
  }
  t.notOk(fs.existsSync(out), 'no --out folder was created by a bad plan')
})

t.test('the real NB-201 CIFAR-10 table: relative and absolute paths are one bench', { skip: fs.existsSync(REAL) ? false : `no ${REAL} (the shared NB-201 data); skipped` }, async t => {
  const out = tmp(t)
  const rel = `nb201:${path.relative(process.cwd(), REAL)}`
  const abs = `nb201:${REAL}`
  t.not(rel, abs)
  const plan: SearchPlan = { methods: ['rs', 're'], bench: rel, budget: 100, seeds: 2, out }
  const first = await runSearchExperiment(plan)
  t.equal(first.ran, 4)
  const rows = readRows(out)
  t.ok(rows.every(r => r.dataset === 'cifar10' && r.searched_on === 'val'), 'cifar10, searched on validation accuracy')
  t.ok(rows.every(r => (r.test as number) > 80 && (r.test as number) <= 94.38), 'real test accuracies')
  t.match(fs.readFileSync(first.reportFile, 'utf8'), /regret|Regret/)
  const absolute = await runSearchExperiment({ ...plan, bench: abs, jobs: 2 })
  t.same([absolute.ran, absolute.skipped], [0, 4], 'the same table by its absolute path: resumed, nothing recomputed')
  const wrong = await runSearchExperiment({ ...plan, dataset: 'cifar100' }).then(() => null, (e: Error) => e)
  t.match(wrong?.message, /--bench .* --dataset cifar100: .*no tables of dataset 'cifar100' \(datasets: cifar10\)/, 'an unknown dataset lists those there are')
  const parallel = tmp(t)
  await runSearchExperiment({ ...plan, out: parallel, jobs: 2 })
  t.same(comparable(parallel), comparable(out), 'jobs 2 = jobs 1 on the real table')
})

t.test('searchCommand: what `nasrank search` runs after parsing', async t => {
  const out = tmp(t)
  const log: string[] = []
  const written: string[] = []
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = ((chunk: string) => { written.push(String(chunk)); return true }) as typeof process.stdout.write
  let code: number
  try {
    code = await searchCommand({ methods: ['rs', 're'], bench: 'synthetic-201', budget: 30, seeds: 2, out, command: ['search', '--method', 'rs,re', '--budget', '30', '--seeds', '2'] }, l => log.push(l))
  } finally { process.stdout.write = write }
  t.equal(code, 0)
  t.match(log.join('\n'), /\[4\/4\] search\/.* · \d+:\d\d elapsed · ETA 0:00/, 'progress with ETA')
  t.match(written.join(''), /# Search experiment[\s\S]*`nasrank search --method rs,re --budget 30 --seeds 2`/, 'the report, with its command line')
  await t.rejects(searchCommand({ methods: ['dfs'], bench: 'synthetic-201', out, command: [] }, () => {}), { name: 'PlanError', message: /unknown search method "dfs"/ })
})
