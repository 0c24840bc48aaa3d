import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { openBench } from '../lib/bench/open'
import { nb201RenasTensor, NB201_RENAS_CHANNELS, runRenas, type RenasPlan } from '../lib/experiments/renas'
import { nb201, NB201_EDGES, NB201_SIZE } from '../lib/spaces/nb201'
import { wasmTf } from './reference/tf'

const CLI = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')

function tmp (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-renas-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

function readRows (dir: string): Array<Record<string, unknown>> {
  return fs.readFileSync(path.join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
}

t.test('Table 5 on synthetic-201: rows, report, resume', async t => {
  const tf = await wasmTf()
  const out = tmp(t)
  const plan: RenasPlan = {
    tables: [5], bench201: await openBench('synthetic-201'), seeds: 1, fractions: [0.001], epochs: 3, trees: 3,
    evalSize: 500, population: 8, generations: 2, out, tf
  }
  const first = await runRenas(plan)
  t.equal(first.ran, 5, 'ReNAS-6, ReNAS-4, the ReNAS-4 ensemble, random forest and random search, one seed each')
  const rows = readRows(out)
  t.same(rows.map(r => r.method).sort(), ['random-forest', 'random-search', 'renas-4', 'renas-4x5', 'renas-6'])
  for (const r of rows) {
    t.equal(r.bench_synthetic, true)
    t.ok(typeof r.best_top10_test === 'number' && (r.best_top10_test as number) > 10 && (r.best_top10_test as number) <= 100, `${String(r.method)}: a plausible accuracy`)
    t.ok((r.rank_percent as number) >= 0 && (r.rank_percent as number) <= 100)
  }
  for (const m of ['renas-6', 'renas-4', 'renas-4x5']) t.equal(rows.find(r => r.method === m)?.queries, 90, `${m}: only the 90 training architectures are queried`)
  t.equal(rows.find(r => r.method === 'random-search')?.queries, 100)
  const report = fs.readFileSync(first.reportFile, 'utf8')
  t.match(report, /SYNTHETIC/, 'the synthetic label is in the report')
  t.notMatch(report, /paper, real NAS-Bench-201/, 'no paper row beside synthetic numbers')
  t.match(report, /\| ReNAS-4 ×5 \(ensemble of 5 seeds, mean standardised score\) \| /, 'the ensemble row')
  t.ok(fs.existsSync(path.join(out, 'results.csv')))
  const again = await runRenas(plan)
  t.same([again.ran, again.skipped], [0, 5], 're-running resumes: nothing recomputed')
  const otherEpochs = await runRenas({ ...plan, epochs: 4 })
  t.same([otherEpochs.ran, otherEpochs.skipped], [3, 2], 'other epochs: only the ReNAS rows rerun; the forest and random search are reused')
  t.equal(readRows(out).length, 8, 'the earlier ReNAS rows stay in results.jsonl')
  const csv = fs.readFileSync(path.join(out, 'results.csv'), 'utf8').trim().split('\n')
  t.equal(csv.length, 1 + 5, 'but the report and CSV hold only the rows of this plan')
})

t.test('loss settings: in the ReNAS cell ids and the report; the other rows are reused', async t => {
  const tf = await wasmTf()
  const out = tmp(t)
  const base: RenasPlan = {
    tables: [5], bench201: await openBench('synthetic-201'), seeds: 1, fractions: [0.001], epochs: 3, trees: 3,
    evalSize: 500, population: 8, generations: 2, out, tf
  }
  await runRenas(base)
  const logistic = await runRenas({ ...base, loss: { phi: 'logistic', lambda: 0.5 } })
  t.same([logistic.ran, logistic.skipped], [3, 2], 'the three ReNAS rows rerun; forest and random search reused')
  const rows = readRows(out)
  const renas = rows.filter(r => String(r.cell).includes('/phi-logistic/lambda0.5'))
  t.same(renas.map(r => r.method).sort(), ['renas-4', 'renas-4x5', 'renas-6'])
  const hinge = rows.find(r => r.method === 'renas-6' && !String(r.cell).includes('phi'))
  t.not(renas.find(r => r.method === 'renas-6')?.ktau, hinge?.ktau, 'another loss, another model')
  t.match(fs.readFileSync(logistic.reportFile, 'utf8'), /ReNAS loss settings of this run: φ = logistic, λ = 0\.5 \(defaults: φ = hinge, λ = 1, margin = 1\)/)
  t.notMatch(fs.readFileSync((await runRenas(base)).reportFile, 'utf8'), /loss settings/, 'no line for the defaults')
})

t.test('jobs: cells in worker threads give the rows of one thread; abort keeps what finished', async t => {
  const tf = await wasmTf()
  const base: RenasPlan = {
    tables: [5], bench201: await openBench('synthetic-201'), seeds: 2, fractions: [0.001], epochs: 3, trees: 3,
    evalSize: 500, population: 8, generations: 2, out: '', tf, backend: 'wasm'
  }
  // Timing, and the run that computed a row (its provenance id names the executor's backend).
  const timing = new Set(['train_seconds', 'loss_share', 'run'])
  const rows = (dir: string): Record<string, Record<string, unknown>> =>
    Object.fromEntries(readRows(dir).map(r => [r.cell as string, Object.fromEntries(Object.entries(r).filter(([k]) => !timing.has(k)))]))
  const serial = tmp(t)
  const notes = (into: Map<string, string[]>) => (id: string, text: string): void => { into.set(id, [...(into.get(id) ?? []), text]) }
  const serialNotes = new Map<string, string[]>()
  await runRenas({ ...base, out: serial, activity: notes(serialNotes) })
  const parallel = tmp(t)
  const progress: number[] = []
  const parallelNotes = new Map<string, string[]>()
  const result = await runRenas({ ...base, out: parallel, jobs: 2, progress: done => { progress.push(done) }, activity: notes(parallelNotes) })
  t.equal(result.ran, 10, 'all ten cells ran')
  // Where a running cell is (a status line's text): every predictor cell reports its epochs, in one thread and from workers.
  for (const r of readRows(serial)) {
    const id = r.cell as string
    t.same(parallelNotes.get(id), serialNotes.get(id), `${id}: the same notes from a worker thread as in one thread`)
    if (r.method === 'renas-6' || r.method === 'renas-4') t.same(serialNotes.get(id), ['epoch 1/3', 'epoch 2/3', 'epoch 3/3'], `${id}: every epoch heard`)
    if (r.method === 'renas-4x5') t.equal(serialNotes.get(id)?.at(-1), 'epoch 15/15', `${id}: the ensemble's five members' epochs, counted through`)
  }
  t.same(rows(parallel), rows(serial), 'the same rows as one thread')
  t.same(progress, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 'progress after every cell')
  const again = await runRenas({ ...base, out: parallel, jobs: 2 })
  t.same([again.ran, again.skipped], [0, 10], 'resumes with workers too')

  // Aborted after the second finished cell: the run stops, the finished cells are kept.
  const stopped = tmp(t)
  const controller = new AbortController()
  const partial = await runRenas({ ...base, out: stopped, jobs: 2, signal: controller.signal, progress: done => { if (done === 2) controller.abort() } })
  t.ok(partial.ran >= 2 && partial.ran < 10, `stopped early (${partial.ran} cells)`)
  t.equal(readRows(stopped).length, partial.ran, 'every finished cell saved, nothing partial')
  t.ok(partial.partial)
  t.match(fs.readFileSync(partial.reportFile, 'utf8'), new RegExp(`Partial report\\*\\*: ${partial.ran} of 10 cells done`), 'the report says it is partial')
  const resumed = await runRenas({ ...base, out: stopped, jobs: 2 })
  t.equal(resumed.ran + resumed.skipped, 10)
  t.same(rows(stopped), rows(serial), 'resuming completes the same rows')

  await t.rejects(runRenas({ ...base, out: tmp(t), jobs: 0 }), /runRenas: jobs must be an integer >= 1, got 0/)
  const bench = await openBench('synthetic-201')
  Object.defineProperty(bench, 'uri', { value: 'nb201:/nonexistent/table.csv' })
  await t.rejects(runRenas({ ...base, bench201: bench, out: tmp(t), jobs: 2 }), /worker: .*nonexistent/, 'a benchmark the workers cannot reopen: a clear error')
})

t.test('Tables 1-3 on a small NAS-Bench-101 run', async t => {
  const tf = await wasmTf()
  const out = tmp(t)
  const plan: RenasPlan = {
    tables: [1, 2, 3], bench101: await openBench('synthetic-101'), seeds: 1, fractions: [0.0005], epochs: 2, trees: 2,
    evalSize: 300, population: 6, generations: 2, out, tf
  }
  await runRenas(plan)
  const rows = readRows(out)
  const t1 = rows.filter(r => r.table === 1)
  t.equal(t1.length, 8, 'six ReNAS variants and two baselines')
  for (const r of t1) t.ok(Number.isFinite(r.ktau) && Math.abs(r.ktau as number) <= 1, `${String(r.method)}: tau in [-1, 1]`)
  t.equal(t1[0].queries, 212, 'training queries = 0.05 % of 423,624')
  t.equal(rows.filter(r => r.table === 2).length, 1)
  t.same(rows.filter(r => r.table === 3).map(r => r.selection).sort(), ['flops', 'params', 'random'])
  for (const f of ['report.md', 'ktau-vs-fraction.svg', 'predicted-vs-true-rank.svg']) t.ok(fs.existsSync(path.join(out, f)), f)
  // Fig. 2 comes from results.jsonl (the ReNAS-6 seed-0 row carries its points), not from memory:
  // a resumed run that computes nothing draws the same plot.
  const fig2 = fs.readFileSync(path.join(out, 'predicted-vs-true-rank.svg'), 'utf8')
  t.ok(Array.isArray(t1.find(r => r.method === 'renas-6')?.rank_points), 'the ReNAS-6 seed-0 row holds the Fig. 2 points')
  fs.rmSync(path.join(out, 'predicted-vs-true-rank.svg'))
  const resumed = await runRenas(plan)
  t.equal(resumed.ran, 0)
  t.equal(fs.readFileSync(path.join(out, 'predicted-vs-true-rank.svg'), 'utf8'), fig2, 'redrawn from the rows, identical')
})

t.test('reproduce renas refuses bad arguments before any work', async t => {
  const dir = tmp(t)
  const file = path.join(dir, 'plain-file')
  fs.writeFileSync(file, 'x')
  const cases: Array<[string[], RegExp]> = [
    [['--table', '4'], /unknown table '4'/],
    [['--fractions', '0.5,1'], /each fraction must be in \(0, 1\), got '1'/],
    [['--fractions', '0'], /each fraction must be in \(0, 1\)/],
    [['--seeds', '0'], /--seeds must be an integer >= 1/],
    [['--jobs', '0'], /--jobs must be an integer >= 1, got '0'/],
    [['--jobs', 'two'], /--jobs must be an integer >= 1, got 'two'/],
    [['--phi', 'square'], /unknown --phi 'square' \(hinge, logistic, exp\)/],
    [['--lambda', '-1'], /--lambda must be a number >= 0, got '-1'/],
    [['--margin', '0'], /--margin must be a number > 0, got '0'/],
    [['--margin', 'wide'], /--margin must be a number > 0, got 'wide'/],
    [['--out', file], /exists and is not a directory/],
    [['--bench', 'nb999:x'], /unknown benchmark 'nb999:x'/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
    [['--bench', 'synthetic-101', '--bench', 'nb101:x'], /at most one --bench per search space/]
  ]
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [CLI, 'reproduce', 'renas', ...args], { encoding: 'utf8', cwd: dir })
    t.equal(r.status, 2, `${args.join(' ')}: usage error`)
    t.match(r.stderr, message)
  }
  const r = spawnSync(process.execPath, [CLI, 'reproduce', 'darts'], { encoding: 'utf8' })
  t.match(r.stderr, /unknown method 'darts'/)
  const missing = spawnSync(process.execPath, [CLI, 'reproduce', 'renas', '--table', '5', '--bench', 'nb201:/nonexistent.csv', '--out', path.join(dir, 'o')], { encoding: 'utf8' })
  t.equal(missing.status, 1)
  t.match(missing.stderr, /nonexistent\.csv/)
})

t.test('nb201RenasTensor: type planes and cost planes against a from-scratch construction', t => {
  // Reference: the edge-op vertices linked by hand from NB201_EDGES (input → ops leaving
  // node 0, op → op where one edge ends at the node the next starts from, op → output for
  // edges into node 3), none vertices unlinked; each link lights the plane of its
  // destination's label and carries the destination op's cost relative to nor_conv_3x3.
  const all = nb201.all()
  const { flops, params } = nb201.costModel('cifar10')
  const rows = Uint32Array.from({ length: 2000 }, (_, k) => (k * 7919) % NB201_SIZE)
  rows[0] = nb201.index(nb201.parse('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'))
  for (const input of ['type', 'tensor'] as const) {
    const C = NB201_RENAS_CHANNELS[input]
    const got = nb201RenasTensor(all, rows, input)
    t.equal(got.length, rows.length * C * 64)
    let bad = 0
    for (let k = 0; k < rows.length; k++) {
      const arch = nb201.prune(all.subarray(6 * rows[k], 6 * rows[k] + 6)) // tested against path enumeration in nb201.test.ts
      const want = new Float32Array(C * 64)
      const link = (i: number, j: number, label: number, op: number) => {
        want[label * 64 + i * 8 + j] = 1
        if (C === 8 && op >= 0) {
          want[6 * 64 + i * 8 + j] = flops.perEdge[op] / flops.perEdge[3]
          want[7 * 64 + i * 8 + j] = params.perEdge[op] / params.perEdge[3]
        }
      }
      NB201_EDGES.forEach(([from, to], e) => {
        if (arch[e] === 0) return
        if (from === 0) link(0, e + 1, arch[e], arch[e])
        if (to === 3) link(e + 1, 7, 5, -1)
        NB201_EDGES.forEach(([from2], f) => { if (from2 === to && arch[f] !== 0) link(e + 1, f + 1, arch[f], arch[f]) })
      })
      for (let i = 0; i < C * 64; i++) if (Math.abs(got[k * C * 64 + i] - want[i]) > 1e-7) { bad++; break }
    }
    t.equal(bad, 0, `${input}: every architecture matches`)
    t.ok(got.subarray(0, C * 64).every(v => v === 0), 'the all-none cell has no links')
    // 1←0 none leaves node 1 unreachable: its out-edges' ops cannot matter
    const twins = Uint32Array.from(['|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|',
      '|none~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|'], a => nb201.index(nb201.parse(a)))
    const pair = nb201RenasTensor(all, twins, input)
    t.same(pair.subarray(0, C * 64), pair.subarray(C * 64), `${input}: functionally equal cells share one input`)
  }
  t.end()
})
