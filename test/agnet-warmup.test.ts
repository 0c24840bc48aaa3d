// AG-Net's learning-rate warm-up (settings.warmupSteps, --warmup-steps): the schedule's exact lr
// per step (hand-written values), the native Adam moving each parameter by the step's lr on its
// first step (so a lower lr really is a smaller move), the lr the search's optimiser uses at
// each retraining step (read back from the native Adam state), W = 0 and W = 1 leaving the
// search bit for bit as without the option, W > 1 changing it, same seed ⇒ same rows (also in the
// HW variant), and the runner: rows record the setting, the paper's cells keep their keys, and a
// resumed run reuses the finished cells and equals an uninterrupted one.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Bench } from '../lib/bench/bench'
import { synthetic201 } from '../lib/bench/synthetic'
import { Random } from '../lib/random'
import { AgNetNative } from '../lib/models/agnet-native'
import { AgNetGenerator } from '../lib/models/agnet'
import { agnet, agnetWarmupLr } from '../lib/search/agnet'
import { runSearch } from '../lib/search/index'
import { runAgNetExperiment } from '../lib/experiments/agnet'
import { agnetArgs } from '../lib/experiments/agnet-args'

t.test('the warm-up schedule: lr·min(1, t/W), exact values', async t => {
  const lr = 1e-3
  t.same([1, 2, 3, 4, 5, 6].map(s => agnetWarmupLr(lr, 4, s)), [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3])
  t.same([1, 2, 100].map(s => agnetWarmupLr(lr, 0, s)), [1e-3, 1e-3, 1e-3], 'W = 0: no warm-up')
  t.same([1, 2].map(s => agnetWarmupLr(lr, 1, s)), [1e-3, 1e-3], 'W = 1: full lr from the first step')
  t.equal(agnetWarmupLr(2e-4, 30, 3), 2e-4 * 3 / 30)
  t.throws(() => agnetWarmupLr(lr, 4, 0), /step must be an integer >= 1/)
  t.throws(() => agnetWarmupLr(lr, -1, 1), /warmupSteps must be an integer >= 0/)
  t.throws(() => agent({ warmupSteps: -1 }), /settings.warmupSteps must be an integer/)
  t.throws(() => agent({ warmupSteps: 2.5 }), /settings.warmupSteps must be an integer/)
  t.notOk('warmupSteps' in agnet().settings, 'the paper\'s settings carry no warm-up key (their cell keys are unchanged)')
  t.notOk('warmupSteps' in agnet({ warmupSteps: 0 }).settings)
  t.equal(agnet({ warmupSteps: 30 }).settings.warmupSteps, 30)
})

function agent (s: Record<string, unknown>): unknown { return agnet(s as never) }

t.test("the native Adam's first step moves each parameter by about the lr it is given", async t => {
  const gen = new AgNetGenerator({ nodes: 8, classes: 7 }, new Random(2, 1))
  const r = new Random(5)
  const z = Float64Array.from({ length: 4 * 32 }, () => r.normal())
  const target = { classes: Uint8Array.from({ length: 32 }, () => r.int(7)), edges: Uint8Array.from({ length: 4 * 28 }, () => r.int(2)), weights: new Float64Array(4).fill(0.25) }
  const maxMove = (lr: number): number => {
    const nat = AgNetNative.fromGenerator(gen)
    const before = Float64Array.from(nat.params)
    nat.setAdam({ lr: 1, beta1: 0.5, beta2: 0.999 })
    ;(nat.optimizer as { lr: number }).lr = lr
    nat.trainStep(z, { target })
    let m = 0
    for (let i = 0; i < before.length; i++) m = Math.max(m, Math.abs(nat.params[i] - before[i]))
    return m
  }
  // Bias-corrected first step: |Δw| = lr·|g|/(|g| + ε) ≤ lr, = lr up to ε for every parameter with a gradient.
  for (const lr of [1e-3, 1e-3 / 30]) {
    const m = maxMove(lr)
    t.ok(m <= lr * (1 + 1e-12) && m > lr * (1 - 1e-6), `lr ${lr}: largest move ${m}`)
  }
})

t.test('the search: the lr per retraining step, W = 0 and W = 1 equal no option, same seed ⇒ same rows', async t => {
  const bench = new Bench(synthetic201())
  const settings = { epochs: 2, init: 8, k: 8, candidates: 20, lr: 1e-4 }
  const run = async (extra: Record<string, unknown>, steps?: Array<{ step: number, lr: number }>): Promise<number[]> =>
    Array.from((await agnet({ ...settings, ...extra }, { onStep: s => steps?.push(s) }).run({ bench, budget: 24, seed: 4, metric: 'val' })).rows)
  const steps: Array<{ step: number, lr: number }> = []
  const w3 = await run({ warmupSteps: 3 }, steps)
  // Iteration 1: 8 queried → 2 epochs of one batch; iteration 2: 16 queried → 2 epochs of one batch of 16.
  t.same(steps.map(s => s.step), [1, 2, 3, 4], 'one step per batch, counted over the run (never reset)')
  t.same(steps.map(s => s.lr), [1e-4 / 3, 2e-4 / 3, 1e-4, 1e-4], "the generator's Adam lr at each step")
  t.same(await run({ warmupSteps: 3 }), w3, 'same seed, same rows')
  const none = await run({})
  t.same(await run({ warmupSteps: 0 }), none, 'W = 0 is the paper\'s run')
  t.same(await run({ warmupSteps: 1 }), none, 'W = 1 (full lr from the first step) is the paper\'s run')
  const w20 = await run({ warmupSteps: 20 })
  t.same(w20.slice(0, 8), none.slice(0, 8), 'the shared initial draws are unchanged')
  t.notSame(w20.slice(8), none.slice(8), 'a long warm-up changes the queries')
})

t.test('the HW variant warms up too; same seed ⇒ same rows', async t => {
  const bench = new Bench(synthetic201())
  const settings = { latency: 'flops', limit: 60, epochs: 1, candidates: 20, warmupSteps: 4 }
  const steps: number[] = []
  const rows = async (): Promise<number[]> => Array.from((await agnet(settings, { onStep: s => steps.push(s.lr) }).run({ bench, budget: 64, seed: 3, metric: 'val' })).rows)
  const a = await rows()
  const want = [5e-5, 1e-4, 1.5e-4, 2e-4, 2e-4]
  t.ok(steps.length >= 5 && want.every((v, i) => Math.abs(steps[i] - v) <= 1e-15 * v), `HW default lr 2e-4, warmed up over 4 steps: ${steps.slice(0, 5).join(', ')}`)
  t.same(await rows(), a)
})

t.test('the runner: rows record the warm-up, paper cells keep their keys, resume = uninterrupted', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agnet-warmup-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const bench = new Bench(synthetic201())
  const plan = { bench, tables: [2] as Array<2>, seeds: 2, budget: 32, baselines: [] as string[], agnet: { epochs: 1, lr: 1e-4, warmupSteps: 5 } }
  const read = (out: string): Array<Record<string, unknown>> => fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
  const whole = path.join(dir, 'whole')
  await runAgNetExperiment({ ...plan, out: whole })
  const rows = read(whole)
  t.ok(rows.length > 0 && rows.every(r => (r.settings as { warmupSteps?: number }).warmupSteps === 5), 'every row records warmupSteps 5')
  // Interrupted after the first cell (seed 0), then resumed: the same rows.
  const parts = path.join(dir, 'parts')
  await runAgNetExperiment({ ...plan, seeds: 1, out: parts })
  const resumed = await runAgNetExperiment({ ...plan, out: parts })
  t.equal(resumed.skipped, 1, 'the finished cell is reused')
  t.equal(resumed.ran, 1)
  const strip = (rs: Array<Record<string, unknown>>): string[] => rs.map(r => JSON.stringify({ ...r, search_seconds: undefined, run: undefined })).sort()
  t.same(strip(read(parts)), strip(rows), 'resumed = uninterrupted (the run id and timings aside)')
  t.equal(agnetArgs({ seedStart: '0', jobs: '1', out: path.join(dir, 'x'), warmupSteps: '30' }).agnet.warmupSteps, 30, '--warmup-steps')
  t.throws(() => agnetArgs({ seedStart: '0', jobs: '1', out: path.join(dir, 'x'), warmupSteps: '-2' }), /--warmup-steps/)
})

const CLI = path.resolve(__dirname, '..', 'dist', 'lib', 'cli.js')
t.test('the built CLI: --warmup-steps in the help, bad values exit 2', { skip: fs.existsSync(CLI) ? false : 'dist/ not built' }, async t => {
  const { spawnSync } = await import('node:child_process')
  const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
  t.match(String(run('reproduce', 'agnet', '--help').stdout), /--warmup-steps <W>/)
  const bad = run('reproduce', 'agnet', '--warmup-steps', '1.5')
  t.equal(bad.status, 2)
  t.match(String(bad.stderr), /--warmup-steps/)
})
