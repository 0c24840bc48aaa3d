// --bpe trainer end to end on a tiny budget (real tfjs training on the shipped Fashion-MNIST
// subset): every training is a recorded cell; an interrupted run resumes to the same rows;
// bad trainer options fail before any work, naming the option.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { runMipExperiment } from '../lib/experiments/mip'
import { initTfBackend } from '../lib/models/backend'
import { openImageData } from '../lib/data/idx'
import { CPU_OMEGA, omegaWithoutLr, tiedLr, trainerBpe } from '../lib/bpe/trainer-bpe'
import { omegaSize, parseOmega, settingFromValues } from '../lib/bpe/omega'

const bin = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-mipt-'))
const OMEGA = 'epochs=1;image=14;channels=4;layers=1;batch=64,128;lr=0.05,0.1'
const TINY = { omega: OMEGA, full: { epochs: 2, layers: 1, channels: 4, image: 14 }, trainer: { trainImages: 200, val: 100 }, mip: { archs: 3, k: 2 } }
const rowsOf = (file: string): string[] => fs.readFileSync(file, 'utf8').trim().split('\n')
  .map(l => { const o = JSON.parse(l); delete o.run; return JSON.stringify(o) }).sort()

t.test('the trainer evaluator: CPU preset, pool, validation', async t => {
  t.equal(omegaSize(CPU_OMEGA), 432)
  const { tf } = await initTfBackend({ backend: 'wasm' })
  const data = openImageData('fashion-mnist')
  t.throws(() => trainerBpe(tf, { data, omega: parseOmega('fp=16,32') }), /no fp dimension/)
  t.throws(() => trainerBpe(tf, { data, full: { width: 3 } }), /--full: unknown dimension 'width'/)
  t.throws(() => trainerBpe(tf, { data, full: { image: 12 } }), /--full image: image 12 does not divide/)
  t.throws(() => trainerBpe(tf, { data, val: 7000, trainImages: 2000 }), /--val 7000 \+ --train-images 2000/)
  const ev = trainerBpe(tf, { data, omega: parseOmega(OMEGA), trainImages: 100, val: 100, full: { epochs: 1 } })
  t.equal(ev.synthetic, false)
  t.ok(ev.pool.length > 10000 && ev.pool.length < 15625, 'connected cells only')
  const s = settingFromValues(ev.omega, { epochs: 1, image: 14, channels: 4, layers: 1, batch: 64, lr: 0.1 })
  const e = await ev.evaluate(s, Int32Array.of(ev.pool[0], ev.pool[1]))
  t.equal(e.accuracy.length, 2)
  t.ok(e.accuracy.every(a => a >= 0 && a <= 100) && (e.costs as Float64Array).every(c => c > 0))
  t.equal((e.details as any[])[0].final, e.accuracy[0] >= (e.details as any[])[0].final ? (e.details as any[])[0].final : NaN, 'best ≥ final')
  t.ok((e.details as any[])[0].cpu_seconds > 0)
  t.ok(ev.flops(s) > 0)
  const secs = trainerBpe(tf, { data, omega: parseOmega(OMEGA), trainImages: 100, val: 100, full: { epochs: 1 }, cost: 'seconds' })
  t.equal(secs.costUnit, 'CPU-s'); t.match(secs.name, /-cpus$/)
  const es = await secs.evaluate(s, Int32Array.of(secs.pool[0]))
  t.equal((es.costs as Float64Array)[0], (es.details as any[])[0].cpu_seconds, '--cost seconds: the measured CPU seconds')
  t.equal(es.accuracy[0], e.accuracy[0], 'the same training either way')
  t.throws(() => trainerBpe(tf, { data, cost: 'hours' as 'seconds' }), /--cost: must be flops or seconds/)
  const ev2 = trainerBpe(tf, { data, omega: parseOmega('image=14,28'), trainImages: 100, val: 100, full: { image: 14, epochs: 1, layers: 1 } })
  t.match(ev2.warnings, [/f .* costs fewer FLOPs than Ω's most expensive setting/])
})

t.test('reproduce mip --bpe trainer: trainings recorded; abort + resume = uninterrupted', async t => {
  const whole = tmp()
  const r = await runMipExperiment({ out: whole, evaluator: 'trainer', seeds: 1, parts: ['table1'], ...TINY })
  t.equal(r.partial, false)
  const trainings = rowsOf(path.join(whole, 'trainings', 'results.jsonl'))
  t.equal(trainings.length, 3 + 3 * 4, 'f and the 4 settings of Ω (MIP and random search share them) on |G| = 3')
  const report = fs.readFileSync(r.reportFile, 'utf8')
  t.match(report, /FULL-CPU \(budget proxy, not converged\)/)
  t.notMatch(report, /SYNTHETIC/)
  // Interrupt after 5 trainings; the re-run replays them and ends with the same rows.
  const cut = tmp()
  fs.mkdirSync(path.join(cut, 'trainings'))
  const lines = fs.readFileSync(path.join(whole, 'trainings', 'results.jsonl'), 'utf8').trim().split('\n')
  fs.writeFileSync(path.join(cut, 'trainings', 'results.jsonl'), lines.slice(0, 5).join('\n') + '\n')
  const r2 = await runMipExperiment({ out: cut, evaluator: 'trainer', seeds: 1, parts: ['table1'], ...TINY })
  t.equal(r2.partial, false)
  t.same(rowsOf(path.join(cut, 'results.jsonl')), rowsOf(path.join(whole, 'results.jsonl')), 'same rows (costs are training FLOPs, not times)')
  t.same(rowsOf(path.join(cut, 'trainings', 'results.jsonl')).map(l => JSON.parse(l).accuracy), trainings.map(l => JSON.parse(l).accuracy), 'same accuracies per training')
})

t.test('the built bin: bpe --bpe trainer with --record; bad options', async t => {
  const rec = tmp()
  const args = ['bpe', '--bpe', 'trainer', '--archs', '3', '--k', '2', '--omega', OMEGA, '--full', 'epochs=2,layers=1,channels=4,image=14', '--train-images', '200', '--val', '100', '--record', rec]
  const a = run(...args)
  t.equal(a.status, 0, a.stderr)
  t.match(a.stderr, /15 measurements made, 0 replayed/)
  t.match(a.stdout, /MIP on trainer-fashion-mnist-subset-train200-val100-seed0/)
  const b = run(...args)
  t.match(b.stderr, /0 measurements made, 15 replayed/)
  t.equal(b.stdout, a.stdout, 'replayed run prints the same')
  t.match(run('bpe', '--val', '3').stderr, /--val, --train-seed, --cost and --lr-tie are options of --bpe trainer/)
  t.match(run('bpe', '--lr-tie').stderr, /--lr-tie are options of --bpe trainer/)
  t.match(run('bpe', '--bpe', 'trainer', '--lr-tie', '--omega', 'epochs=1;lr=0.05,0.1').stderr, /--lr-tie: --omega has an lr dimension/)
  t.match(run('bpe', '--bpe', 'trainer', '--lr-tie', '--full', 'lr=0.1').stderr, /--lr-tie: --full sets lr/)
  t.match(run('reproduce', 'mip', '--bpe', 'trainer', '--lr-tie', '--omega', 'lr=0.05;epochs=1').stderr, /--lr-tie: --omega has an lr dimension/)
  t.match(run('bpe', '--bpe', 'trainer', '--cost', 'hours').stderr, /--cost/)
  t.match(run('bpe', '--bpe', 'trainer', '--data', 'cifar10').stderr, /--data must be fashion-mnist/)
  t.match(run('bpe', '--bpe', 'trainer', '--data', 'fashion-mnist:/nonexistent').stderr, /train-images-idx3-ubyte\[\.gz\]: no such file/)
  t.match(run('bpe', '--bpe', 'trainer', '--train-images', '0').stderr, /--train-images/)
})

t.test('--lr-tie: lr follows the batch by the sheet\'s rule; Ω loses lr; the tied trainings equal explicit-lr trainings', async t => {
  // The sheet's pairs, and our extension between and below them.
  for (const [b, lr] of [[96, 0.025], [128, 0.03], [256, 0.06], [512, 0.1], [1024, 0.1], [64, 0.025], [100, 0.03], [200, 0.06], [300, 0.1]]) t.equal(tiedLr(b), lr, `batch ${b}`)
  t.throws(() => tiedLr(0), /batch must be ≥ 1/)
  t.same(omegaWithoutLr(CPU_OMEGA).dims.map(d => d.name), CPU_OMEGA.dims.map(d => d.name).filter(n => n !== 'lr'))
  const { tf } = await initTfBackend({ backend: 'wasm' })
  const data = openImageData('fashion-mnist')
  const omega = parseOmega('epochs=1;image=14;channels=4;layers=1;batch=64,128')
  t.throws(() => trainerBpe(tf, { data, omega: parseOmega(OMEGA), lrTie: true }), /--lr-tie: Ω has an lr dimension/)
  t.throws(() => trainerBpe(tf, { data, omega, lrTie: true, full: { batch: 128, lr: 0.1 } }), /--lr-tie: f sets lr 0.1, but the tie gives batch 128 lr 0.03/)
  const tied = trainerBpe(tf, { data, omega, lrTie: true, trainImages: 100, val: 100, full: { epochs: 1 } })
  t.match(tied.name, /-lrtie$/)
  t.match(tied.fullLabel, /lr tied to the batch/)
  t.match(tied.fullKey, /lr=0\.03/, 'f at batch 128 trains at the tied 0.03, and its records say so')
  const free = trainerBpe(tf, { data, omega: parseOmega('epochs=1;image=14;channels=4;layers=1;batch=64,128;lr=0.025,0.03'), trainImages: 100, val: 100, full: { epochs: 1 } })
  const arch = Int32Array.of(tied.pool[3])
  for (const batch of [64, 128]) {
    const a = await tied.evaluate(settingFromValues(tied.omega, { epochs: 1, image: 14, channels: 4, layers: 1, batch }), arch)
    const b = await free.evaluate(settingFromValues(free.omega, { epochs: 1, image: 14, channels: 4, layers: 1, batch, lr: tiedLr(batch) }), arch)
    t.equal(a.accuracy[0], b.accuracy[0], `batch ${batch}: the tied training is the explicit lr ${tiedLr(batch)} training`)
  }
  // reproduce mip: the preset's Ω without lr, recorded in the report.
  const out = tmp()
  const r = run('reproduce', 'mip', '--bpe', 'trainer', '--lr-tie', '--omega', 'epochs=1;image=14;channels=4;layers=1;batch=64,128', '--full', 'epochs=2,layers=1,channels=4,image=14', '--train-images', '200', '--val', '100', '--archs', '3', '--k', '2', '--seeds', '1', '--out', out)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /lr tied to the batch/)
  t.notMatch(r.stdout, /Ω: [^\n]*lr \{/, 'Ω has no lr dimension')
})
