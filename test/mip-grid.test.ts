// `nasrank bpe grid` (lib/bpe/grid.ts): a real trainer grid written as a BPE table that
// `--bpe table:<csv>` reads; interrupted + resumed = uninterrupted; usage errors name the flag.
// Presets (cpu, paper) and `nasrank bpe --plan` (estimateMip).
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { initTfBackend } from '../lib/models/backend'
import { openImageData } from '../lib/data/idx'
import { CPU_OMEGA, PAPER_TRAINER_OMEGA, TRAINER_PRESETS, checkPresetData, trainerBpe } from '../lib/bpe/trainer-bpe'
import { gridCsv, runGrid } from '../lib/bpe/grid'
import { readBpeTable, tableBpe } from '../lib/bpe/table'
import { estimateMip, runMip, samplingProbabilities, type BpeEvaluator } from '../lib/bpe/mip'
import { omegaSize, parseOmega, settingAt } from '../lib/bpe/omega'
import { CIFAR_RECORD } from '../lib/data/cifar'

const bin = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-bpe-grid-'))
t.teardown(() => fs.rmSync(root, { recursive: true, force: true }))
const OMEGA = 'epochs=1;channels=4;layers=1;image=14;batch=64,128'

t.test('runGrid: a BPE table from real trainings; interrupted + resumed = uninterrupted', async t => {
  const { tf } = await initTfBackend({ backend: 'wasm' })
  const data = openImageData('fashion-mnist')
  const make = (onTrained?: () => void): BpeEvaluator => trainerBpe(tf, { data, omega: parseOmega(OMEGA), trainImages: 100, val: 100, cost: 'seconds', ...(onTrained !== undefined ? { onTrained } : {}) })
  t.rejects(runGrid(trainerBpe(tf, { data, omega: parseOmega(OMEGA), trainImages: 100, val: 100 }), { archs: 3, record: path.join(root, 'x'), csv: path.join(root, 'x.csv') }), /must measure seconds, its cost unit is GFLOP/)
  t.rejects(runGrid(make(), { archs: 2, record: path.join(root, 'x'), csv: path.join(root, 'x.csv') }), /--archs must be an integer ≥ 3/)
  // Interrupted after 4 trainings: the CSV holds the first setting only.
  const dir = path.join(root, 'resumed')
  const controller = new AbortController()
  let n = 0
  const cut = await runGrid(make(() => { if (++n === 4) controller.abort() }), { archs: 3, record: dir, csv: path.join(dir, 't.csv'), signal: controller.signal })
  t.equal(cut.complete, false)
  t.equal(cut.rows, 3)
  t.equal(cut.measured, 4, 'the training in progress finished and was recorded')
  const done = await runGrid(make(), { archs: 3, record: dir, csv: path.join(dir, 't.csv') })
  t.equal(done.complete, true)
  t.equal(done.measured, 2); t.equal(done.replayed, 4)
  t.equal(done.rows, 6); t.equal(done.settings, 2)
  const again = await runGrid(make(), { archs: 3, record: dir, csv: path.join(dir, 't2.csv') })
  t.equal(again.measured, 0)
  t.equal(fs.readFileSync(path.join(dir, 't2.csv'), 'utf8'), fs.readFileSync(path.join(dir, 't.csv'), 'utf8'), 'a replayed grid writes the same table')
  const whole = await runGrid(make(), { archs: 3, record: path.join(root, 'whole'), csv: path.join(root, 'whole.csv') })
  const cols = (f: string): string[] => fs.readFileSync(f, 'utf8').trim().split('\n').map(l => l.split(',').slice(0, -1).join(','))
  t.same(cols(path.join(dir, 't.csv')), cols(path.join(root, 'whole.csv')), 'arch, setting and accuracy equal to an uninterrupted grid (seconds are measured)')
  t.equal(whole.rows, 6)
  // The table evaluator reads it.
  const table = readBpeTable(path.join(dir, 't.csv'))
  t.equal(table.archs.length, 3)
  t.same(table.omega.dims.map(d => d.name), ['epochs', 'channels', 'layers', 'image', 'batch'])
  const ev = tableBpe(table, { full: { epochs: 1, channels: 4, layers: 1, image: 14, batch: 64 } })
  const r = await runMip(ev, { archs: 3, k: 2 })
  t.equal(r.samples.length, 1, 'the one setting other than f')
  t.throws(() => gridCsv({ ...make(), describeArch: () => 'a,b' }, [{ setting: settingAt(parseOmega(OMEGA), 0), arch: 0, accuracy: 1, seconds: 1 }]), /cannot be written to CSV/)
})

t.test('the built bin: bpe grid writes a table bpe --bpe table: reads; usage errors name the flag', async t => {
  const out = path.join(root, 'cli')
  const g = run('bpe', 'grid', '--omega', OMEGA, '--archs', '3', '--train-images', '100', '--val', '100', '--out', out)
  t.equal(g.status, 0, g.stderr)
  t.match(g.stderr, /2 settings × 3 cells = 6 trainings/)
  t.match(g.stderr, /6 trainings run, 0 replayed; 6 rows \(2 settings\) written to/)
  const b = run('bpe', '--bpe', `table:${path.join(out, 'bpe-table.csv')}`, '--archs', '3', '--k', '2')
  t.equal(b.status, 0, b.stderr)
  t.match(b.stdout, /MIP on table:.*1 settings evaluated on \|G\| = 3/)
  const cases: Array<[string[], RegExp]> = [
    [['bpe', 'grid'], /give the grid's Ω with --omega/],
    [['bpe', 'grid', '--omega', OMEGA, '--archs', '2'], /--archs must be an integer >= 3/],
    [['bpe', 'grid', '--preset', 'gpu'], /unknown --preset 'gpu' \(cpu, paper\)/],
    [['bpe', 'grid', '--preset', 'cpu', '--omega', OMEGA], /--preset and --omega both give Ω/],
    [['bpe', 'grid', '--preset', 'paper'], /--preset paper: needs 32-px images \(--data cifar10:<dir>\)/],
    [['bpe', 'grid', '--omega', OMEGA, '--csv', root], /--csv .* must name a file/],
    [['bpe', 'grid', '--omega', OMEGA, '--data', 'mnist'], /--data must be fashion-mnist/],
    [['bpe', '--preset', 'cpu'], /--preset is an option of --bpe trainer/],
    [['bpe', '--plan'], /--plan is an option of --bpe trainer/]
  ]
  for (const [args, re] of cases) {
    const r = run(...args)
    t.equal(r.status, 2, args.join(' '))
    t.match(r.stderr, re, args.join(' '))
  }
})

t.test('presets: Ω sizes, data checks; --plan sizes a run without training', async t => {
  t.equal(omegaSize(TRAINER_PRESETS.cpu.omega), 432)
  t.equal(TRAINER_PRESETS.cpu.omega, CPU_OMEGA)
  t.equal(omegaSize(PAPER_TRAINER_OMEGA), 8 * 5 * 4 * 7 * 8 * 2 * 2)
  t.notOk(PAPER_TRAINER_OMEGA.dims.some(d => d.name === 'fp'))
  const fashion = openImageData('fashion-mnist')
  t.doesNotThrow(() => checkPresetData('cpu', fashion))
  t.throws(() => checkPresetData('paper', fashion), /--preset paper: needs 32-px images/)
  // A CIFAR-10 folder with 5 × 1,001 records (the paper preset holds 5,000 out for validation).
  const dir = path.join(root, 'cifar')
  fs.mkdirSync(dir)
  const records = (n: number): Uint8Array => { const b = new Uint8Array(n * CIFAR_RECORD); for (let k = 0; k < n; k++) b[k * CIFAR_RECORD] = k % 10; return b }
  for (let i = 1; i <= 5; i++) fs.writeFileSync(path.join(dir, `data_batch_${i}.bin`), records(1001))
  fs.writeFileSync(path.join(dir, 'test_batch.bin'), records(10))
  const cifar = openImageData(`cifar10:${dir}`)
  t.doesNotThrow(() => checkPresetData('paper', cifar))
  const { tf } = await initTfBackend({ backend: 'wasm' })
  const ev = trainerBpe(tf, { data: cifar, omega: TRAINER_PRESETS.paper.omega, full: TRAINER_PRESETS.paper.full, val: TRAINER_PRESETS.paper.val })
  t.equal(ev.trainImages, 5)
  t.match(ev.warnings, [/f .* costs fewer FLOPs than Ω's most expensive setting/], 'f (200 epochs) is below Ω\'s 300-epoch settings: warned')
  // estimateMip: the mean over round 1's Eq. 2 probabilities, checked by enumeration on the CPU preset.
  const cpu = trainerBpe(tf, { data: fashion, omega: CPU_OMEGA, trainImages: 1000, val: 500 })
  const est = estimateMip(cpu, { archs: 20 })
  t.equal(est.evaluated, 60); t.equal(est.trainings, 20 * 61)
  const p = samplingProbabilities(CPU_OMEGA, cpu.flops, new Int32Array(7).fill(-1))
  let mean = 0
  for (let k = 0; k < 432; k++) { const s = settingAt(CPU_OMEGA, k); mean += p.reduce((w, pi, i) => w * pi[s[i]], 1) * cpu.flops(s) }
  t.ok(Math.abs(est.meanFlops - mean) / mean < 1e-12)
  t.ok(est.minFlops < est.meanFlops && est.meanFlops < est.maxFlops)
  const plan = run('bpe', '--bpe', 'trainer', '--preset', 'paper', '--data', `cifar10:${dir}`, '--plan')
  t.equal(plan.status, 0, plan.stderr)
  t.match(plan.stdout, /35,840 settings/)
  t.match(plan.stdout, /\|G\| 100, K 10: 60 settings evaluated \(K·\(d−1\)\), 6,100 trainings including f/)
  t.match(plan.stdout, /f: f of the paper preset \(NB-201-like final training\): epochs 200, batch 96, lr 0\.025, layers 5, channels 16, cutout 16, image 32/)
  const cpuPlan = run('bpe', '--bpe', 'trainer', '--preset', 'cpu', '--archs', '20', '--plan')
  t.equal(cpuPlan.status, 0, cpuPlan.stderr)
  t.match(cpuPlan.stdout, /432 settings/)
  t.match(cpuPlan.stdout, /1000 training images per epoch/)
})
