// `reproduce sampling` on the shared runner: rows and report on synthetic-201, resume and
// --jobs 2 give the same rows, the pooled gain against the native one, plan errors, the CLI.
import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { Bench } from '../lib/bench/bench'
import { synthetic201 } from '../lib/bench/synthetic'
import { runSamplingExperiment, pooledGainDb, expectedTrials, targetsAt, SAMPLING_VARIANTS, type SamplingPlan } from '../lib/experiments/sampling'
import { CLI_SAMPLING_ROWS, samplingArgs } from '../lib/experiments/sampling-args'
import { PlanError } from '../lib/experiments/runner'
import { sampleEfficiencyGain } from '../lib/metrics/sample-efficiency'
import { Random } from '../lib/random'

const bench = new Bench(synthetic201())
const cli = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')

function tmp (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-sampling-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

function rowsOf (dir: string): Array<Record<string, unknown>> {
  return fs.readFileSync(path.join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
}

function comparable (dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const r of rowsOf(dir)) { const { run: _r, search_seconds: _s, ...rest } = r; out[`${String(r.cell)}#${String(r.part)}`] = rest }
  return out
}

const small = (out: string): SamplingPlan => ({ bench, out, budget: 20, seeds: 2, pool: 20, checkpoints: [10, 20], gcn: { width: 6, epochs: 8, mlSteps: 3 }, bananas: { epochs: 5, ensemble: 2 } })

t.test('every row on synthetic-201: rows, gains, report; resume and --jobs 2 give the same rows', async t => {
  const out = tmp(t)
  const first = await runSamplingExperiment(small(out))
  t.same([first.ran, first.skipped, first.partial], [14, 0, false], 'one cell per (row, seed)')
  const rows = rowsOf(out)
  t.same([...new Set(rows.map(r => r.variant))], [...SAMPLING_VARIANTS])
  const last = rows.filter(r => Array.isArray(r.c_vals))
  t.equal(last.length, 14, 'the gain\'s C once per cell')
  t.ok(last.every(r => (r.c_vals as number[]).length === 16), 'C = the 16 evaluations after T₀ = 4')
  t.ok(last.filter(r => ['uniform', 'ml', 'ev'].includes(r.variant as string)).every(r => (r.pool_vals as number[]).length > 0), 'pools recorded')
  t.ok(last.filter(r => r.variant === 'whole').every(r => r.pool_vals === null && r.iterations === 4))
  const report = fs.readFileSync(first.reportFile, 'utf8')
  t.match(report, /SYNTHETIC/)
  t.match(report, /\| pb-whole \| 2 \| \d+\.\d\d ± \d+\.\d\d \(± \d+\.\d\d\) \|/)
  t.match(report, /\| ev N′=20 − re \| [+-]\d+\.\d\d ± \d+\.\d\d \(2\) \|/)
  t.match(report, /\*\*G2\*\* .*ev − uniform at q = 20/)
  t.match(report, /Not the paper's settings:\*\* width 6 \(paper 256\), epochs 8 \(paper 2000\), mlSteps 3 \(paper 50\)/)
  t.match(report, /## Sample-efficiency gain \(G3\)[\s\S]*\| ml N′=20 \| 2 \| 32 \| -?\d+\.\d \(-?\d+\.\d \+ -?\d+\.\d\) \[M_C = \d+\] \|/)
  const again = await runSamplingExperiment(small(out))
  t.same([again.ran, again.skipped], [0, 14], 'resumed: nothing recomputed')
  const par = tmp(t)
  await runSamplingExperiment({ ...small(par), jobs: 2 })
  t.same(comparable(par), comparable(out), '--jobs 2: the same rows')
})

t.test('pooled gain: the native gain where C ⊆ S, the split sums, targets at M_S', async t => {
  const random = new Random(3)
  const space = Float64Array.from({ length: 500 }, () => Math.round(random.float() * 200) / 2)
  const pool = Array.from({ length: 200 }, (_, i) => space[(i * 3) % 500])
  const c = pool.filter((_, i) => i % 3 === 0)
  const targets = targetsAt(space, [1, 10, 100])
  const sorted = Float64Array.from(space).sort().reverse()
  t.same(targets, [sorted[0], sorted[9], sorted[99]])
  const native = sampleEfficiencyGain({ space, candidates: c, targets, subset: pool, higherIsBetter: true })
  targets.forEach((j, i) => {
    t.ok(Math.abs(pooledGainDb(space, c, j) - native.gainDb[i]) < 1e-9)
    t.ok(Math.abs(pooledGainDb(space, pool, j) - native.subsetGainDb![i]) < 1e-9)
    t.ok(Math.abs(10 * Math.log10(expectedTrials(pool, j) / expectedTrials(c, j)) - native.predictorGainDb![i]) < 1e-9)
  })
  // Pooled over runs an architecture may recur: still defined.
  t.ok(Number.isFinite(pooledGainDb([1, 2, 3], [3, 3, 3], 3)))
  t.equal(pooledGainDb([1, 2, 3], [3, 3, 3], 3), 10 * Math.log10((4 / 2) / (4 / 4)))
})

t.test('plan errors before any work', async t => {
  const out = tmp(t)
  const cases: Array<[Partial<SamplingPlan>, RegExp]> = [
    [{ variants: ['whole', 'darts' as never] }, /--rows: unknown row "darts"/],
    [{ variants: ['re', 're'] }, /--rows: 're' is given twice/],
    [{ budget: 5 }, /--budget must be an integer in \[8,/],
    [{ pool: 2 }, /--pool must be an integer in \[4,/],
    [{ pool: 15625 }, /--pool 15625 must be below the size of the space/],
    [{ checkpoints: [10, 5] }, /--checkpoints must be strictly ascending/],
    [{ gcn: { width: 0 } }, /settings\.width must be an integer in \[1,/],
    [{ gcn: { initial: 6, k: 4 }, budget: 9 }, /--budget must be an integer in \[10,/],
    [{ pools: [100, 20000] }, /--pool 20000 must be below the size of the space \(15625\); --pool all is the pb-whole row/],
    [{ pools: [3] }, /--pool must be an integer in \[4,/],
    [{ figures: [11] }, /--figure must be an integer in \[2, 10\], got 11/],
    [{ gcn: { alpha: 2 } }, /settings\.alpha must be a number in \[0, 1\]/],
    [{ gcn: { pMutate: 0 } }, /settings\.pMutate must be a finite number in \(0, 1\]/],
    [{ gcn: { momentum: 1 } }, /settings\.momentum must be a number in \[0, 1\)/]
  ]
  for (const [patch, message] of cases) {
    await t.rejects(runSamplingExperiment({ ...small(out), ...patch }), message)
    await t.rejects(runSamplingExperiment({ ...small(out), ...patch }), PlanError)
  }
  t.notOk(fs.existsSync(path.join(out, 'results.jsonl')) && rowsOf(out).length > 0, 'no rows written')
})

t.test('the CLI: help, usage errors (exit 2), a run', async t => {
  t.same([...CLI_SAMPLING_ROWS], [...SAMPLING_VARIANTS])
  const run = (...args: string[]): { status: number | null, stdout: string, stderr: string } => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })
  const help = run('reproduce', 'sampling', '--help')
  t.equal(help.status, 0)
  for (const flag of ['--bench <uri>', '--rows <list>', '--sampler <list>', '--pool <list>', '--figure <list>', '--initial <N>', '--k <N>', '--momentum <x>', '--alpha <x>', '--p-mutate <x>', '--parents <N>', '--budget <N>', '--gcn-width <N>', '--gcn-epochs <N>', '--lr <x>', '--ml-steps <N>', '--quick', '--jobs <N>', '--out <dir>']) t.match(help.stdout, flag)
  const cases: Array<[string[], RegExp]> = [
    [[], /--bench <uri> is required/],
    [['--bench', 'nb301:x'], /runs on NAS-Bench-201 or NAS-Bench-101/],
    [['--quick', '--rows', 'whole,grid'], /unknown --rows 'grid'/],
    [['--quick', '--sampler', 'grid'], /unknown --sampler 'grid' \(whole, uniform, ml, ev, random\)/],
    [['--quick', '--sampler', 'ev', '--rows', 'ev'], /--rows and --sampler both pick the rows; give one of them/],
    [['--quick', '--sampler', 'ev,ev'], /--sampler: 'ev' is given twice/],
    [['--quick', '--pool', '3'], /--pool must be 'all' or an integer in \[4, \|S\|\) \(K = 4 to the size of the space\), got '3'/],
    [['--quick', '--k', '8', '--pool', '6'], /--pool must be 'all' or an integer in \[8, \|S\|\)/],
    [['--quick', '--pool', 'al'], /--pool must be 'all' or an integer/],
    [['--quick', '--sampler', 'uniform,ml', '--pool', 'all'], /--pool all is the pb-whole row; the uniform, ml rows need an integer N′ as well/],
    [['--quick', '--pool', '100,100'], /--pool: 100 is given twice/],
    [['--quick', '--initial', '1'], /--initial must be an integer >= 2, got '1'/],
    [['--quick', '--k', '0'], /--k must be an integer >= 1, got '0'/],
    [['--quick', '--parents', '0'], /--parents must be an integer >= 1, got '0'/],
    [['--quick', '--seeds', '0'], /--seeds must be an integer >= 1, got '0'/],
    [['--quick', '--budget', '7'], /--budget must be >= --initial \+ --k = 4 \+ 4 = 8, got '7'/],
    [['--quick', '--initial', '10', '--budget', '12'], /--budget must be >= --initial \+ --k = 10 \+ 4 = 14, got '12'/],
    [['--quick', '--momentum', '1'], /--momentum must be a number in \[0, 1\), got '1'/],
    [['--quick', '--momentum', '-0.1'], /--momentum must be a number in \[0, 1\)/],
    [['--quick', '--alpha', '1.5'], /--alpha must be a number in \[0, 1\], got '1.5'/],
    [['--quick', '--p-mutate', '0'], /--p-mutate must be a number in \(0, 1\], got '0'/],
    [['--quick', '--p-mutate', '1.01'], /--p-mutate must be a number in \(0, 1\]/],
    [['--quick', '--figure', '1'], /--figure must be an integer in \[2, 10\] \(the paper's Figs 2–10\), got '1'/],
    [['--quick', '--figure', '11'], /--figure must be an integer in \[2, 10\]/],
    [['--quick', '--figure', '3,3'], /--figure: 3 is given twice/],
    [['--quick', '--lr', '-1'], /--lr must be a number > 0/],
    [['--quick', '--budget', '40', '--checkpoints', '50'], /--checkpoints: 50 is beyond --budget 40/],
    [['--quick', '--smapler', 'ev'], /unknown option '--smapler'/],
    [['--bench', 'synthetic-201', '--pool', '20000', '--budget', '10', '--seeds', '1'], /--pool 20000 must be below the size of the space \(15625\)/]
  ]
  for (const [args, message] of cases) {
    const r = run('reproduce', 'sampling', ...args)
    t.equal(r.status, 2, `${args.join(' ')}: exit 2 (${r.stderr})`)
    t.match(r.stderr, message)
  }
  const out = tmp(t)
  const r = run('reproduce', 'sampling', '--bench', 'synthetic-201', '--rows', 'uniform,re', '--budget', '12', '--seeds', '1', '--gcn-width', '4', '--gcn-epochs', '3', '--out', out)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /# Efficient sampling for predictor-based NAS/)
  t.match(r.stdout, /\| uniform N′=100 \| 1 \|/)
})

t.test('NB-101 in the experiment: synthetic-101 rows pb-whole, uniform, ml, ev, rs', async t => {
  const out = tmp(t)
  const r = await runSamplingExperiment({ bench: 'synthetic-101', out, budget: 12, seeds: 1, pools: [30], variants: ['whole', 'uniform', 'ml', 'ev', 'rs'], checkpoints: [12], gcn: { width: 6, epochs: 8, mlSteps: 3 }, figures: [3, 8] })
  t.same([r.ran, r.partial], [5, false])
  const rows = rowsOf(out).filter(x => Array.isArray(x.traj_val))
  t.same(rows.map(x => `${String(x.variant)}@${String(x.pool)}`), ['whole@null', 'uniform@30', 'ml@30', 'ev@30', 'rs@null'])
  t.ok(rows.every(x => (x.traj_val as number[]).length === 12 && new Set(x.traj_val as number[]).size > 1), 'every run made 12 evaluations')
  t.ok(rows.filter(x => x.pool === 30).every(x => (x.pool_vals as number[]).length > 0), 'pools of N′ ≤ 1000 stored')
  const report = fs.readFileSync(r.reportFile, 'utf8')
  t.match(report, /SYNTHETIC/)
  t.match(report, /\|S\| = 423624/)
  t.match(report, /\| ml N′=30 \| -?\d+\.\d \+ -?\d+\.\d = -?\d+\.\d \|/)
})

t.test('--quick: synthetic-201 quality rows, then the synthetic-101 figures part into <out>/synthetic-101', async t => {
  const a = samplingArgs({ quick: true, out: 'q-out', jobs: '1' })
  t.same([a.bench, a.budget, a.seeds, a.gcn], ['synthetic-201', 50, 2, { width: 32, epochs: 100, mlSteps: 20 }])
  t.same(a.quickFigures, { bench: 'synthetic-101', seeds: 2, budget: 40, gcn: { width: 32, epochs: 200, mlSteps: 20 }, figures: [2, 3, 4, 5, 6, 7, 8, 9, 10], out: path.join('q-out', 'synthetic-101') })
  t.same(samplingArgs({ quick: true, out: 'q', jobs: '1', figure: '3,2' }).quickFigures?.figures, [2, 3])
  t.equal(samplingArgs({ quick: true, bench: 'synthetic-201', out: 'q', jobs: '1' }).quickFigures, undefined, 'with --bench: that bench only')
  t.same(samplingArgs({ bench: 'synthetic-201', out: 'q', jobs: '1', sampler: 'uniform,random', pool: 'all,1000,100' }).rows, ['uniform', 'rs'])
})

t.test('an experiment interrupted inside a run resumes from its last iteration: the same rows as an uninterrupted one', async t => {
  const plan = (out: string): SamplingPlan => ({ bench, out, budget: 40, seeds: 1, pools: [30], variants: ['ev'], checkpoints: [40], gcn: { width: 8, epochs: 30 } })
  const ref = tmp(t)
  await runSamplingExperiment(plan(ref))
  const out = tmp(t)
  const dir = path.join(out, 'checkpoints')
  fs.mkdirSync(dir, { recursive: true })
  const controller = new AbortController()
  let seenT = -1
  const watcher = fs.watch(dir, () => {
    for (const f of fs.readdirSync(dir).filter(n => n.endsWith('.json'))) {
      try { seenT = Math.max(seenT, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).t) } catch {}
    }
    if (seenT >= 3) controller.abort(new Error('interrupted'))
  })
  try { await runSamplingExperiment({ ...plan(out), signal: controller.signal }) } catch {} finally { watcher.close() }
  t.ok(controller.signal.aborted, `aborted at iteration ${seenT}`)
  const left = fs.readdirSync(dir).filter(n => n.endsWith('.json'))
  t.equal(left.length, 1, 'the interrupted run left its checkpoint')
  const t0 = JSON.parse(fs.readFileSync(path.join(dir, left[0]), 'utf8')).t
  t.ok(t0 >= 3 && t0 < 9, `checkpoint at iteration ${t0} of 9`)
  t.notOk(fs.existsSync(path.join(out, 'results.jsonl')) && rowsOf(out).length > 0, 'no rows yet')
  // A copy whose saved S′ of iteration 1 is altered: the resumed run reports it, so it did resume from the file.
  const copy = tmp(t)
  fs.cpSync(out, copy, { recursive: true })
  const side = path.join(copy, 'checkpoints', `${left[0]}.pools.jsonl`)
  const lines = fs.readFileSync(side, 'utf8').split('\n')
  const first = JSON.parse(lines[0])
  lines[0] = JSON.stringify({ ...first, pool: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] })
  fs.writeFileSync(side, lines.join('\n'))
  await runSamplingExperiment(plan(copy))
  const searched = bench.column({ metric: 'val' })
  const altered = rowsOf(copy).find(r => Array.isArray(r.pool_vals))!.pool_vals as number[]
  t.same(altered.slice(0, 10), Array.from(searched.slice(0, 10)), 'the resumed run read iteration 1 from the checkpoint')
  const again = await runSamplingExperiment(plan(out))
  t.equal(again.ran, 1)
  t.same(comparable(out), comparable(ref), 'resumed rows = uninterrupted rows')
  t.notOk(fs.existsSync(dir) && fs.readdirSync(dir).length > 0, 'checkpoint (and its side file) removed once the rows are stored')
})
