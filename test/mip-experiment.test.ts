// The MIP-BPE experiment and its commands: the synthetic evaluator's r_s matches its model,
// abort + resume gives the rows of an uninterrupted run, bad options fail before any work,
// the built bin's reproduce mip / bpe (exit codes, outputs), and the real NB-201 tables part
// (skipped without ../shared/data).
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { openBench } from '../lib/bench/open'
import { inverseNormal, syntheticBpe, syntheticRho, SYNTHETIC_DEFAULTS } from '../lib/bpe/evaluators'
import { drawArchs, rankCorrelation } from '../lib/bpe/mip'
import { PAPER_OMEGA, settingFromValues } from '../lib/bpe/omega'
import { runMipExperiment } from '../lib/experiments/mip'

const bin = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })
const tmp = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-mip-'))
const DATA = process.env.NASRANK_SHARED_DATA ?? path.join(__dirname, '..', '..', 'shared', 'data')

const rowsOf = (dir: string): string[] => fs.readFileSync(path.join(dir, 'results.jsonl'), 'utf8').trim().split('\n')
  .map(l => { const o = JSON.parse(l); delete o.run; return JSON.stringify(o) }).sort()

t.test('synthetic-bpe: r_s over many architectures ≈ ρ(b); cost = the sheet fit', async t => {
  const ev = syntheticBpe(await openBench('synthetic-201'))
  const archs = drawArchs(ev.pool, 3000, 1)
  const full = await ev.full(archs)
  for (const v of [{ epochs: 10, batch: 128, layers: 6, channels: 8, image: 16, fp: 32, cutout: 0 }, { epochs: 300, batch: 1024, layers: 24, channels: 8, image: 16, fp: 16, cutout: 16 }]) {
    const values = { ...SYNTHETIC_DEFAULTS, lr: 0.03, ...v }
    const s = settingFromValues(PAPER_OMEGA, values)
    const e = await ev.evaluate(s, archs)
    const rs = rankCorrelation(full.accuracy, e.accuracy)
    t.ok(Math.abs(rs - syntheticRho(values)) < 0.05, `r_s ${rs.toFixed(3)} vs ρ ${syntheticRho(values).toFixed(3)}`)
    // An architecture's score does not depend on which others are asked about.
    const one = await ev.evaluate(s, archs.slice(5, 6))
    t.equal(one.accuracy[0], e.accuracy[5])
  }
})

t.test('reproduce mip: abort + resume = an uninterrupted run; report from the rows', async t => {
  const plan = { seeds: 2, parts: ['table1' as const, 'fig3' as const, 'fig4' as const] }
  const whole = tmp()
  await runMipExperiment({ ...plan, out: whole })
  const cut = tmp()
  const controller = new AbortController()
  const first = await runMipExperiment({ ...plan, out: cut, signal: controller.signal, progress: (done) => { if (done >= 1) controller.abort() } })
  t.ok(first.partial, 'the interrupted run is partial')
  t.match(fs.readFileSync(path.join(cut, 'report.md'), 'utf8'), /Partial report/)
  const second = await runMipExperiment({ ...plan, out: cut })
  t.notOk(second.partial)
  t.ok(second.skipped >= 1, 'finished cells are reused')
  t.same(rowsOf(cut), rowsOf(whole))
  const report = fs.readFileSync(path.join(whole, 'report.md'), 'utf8')
  t.match(report, /## Table 1: the found BPE/)
  t.match(report, /SYNTHETIC/)
  t.match(report, /## Fig. 4/)
  t.match(report, /## Fig. 3/)
  t.ok(fs.existsSync(path.join(whole, 'importance.svg')))
})

t.test('reproduce mip: bad options fail before any work, naming the option', async t => {
  const out = tmp()
  await t.rejects(runMipExperiment({ out, evaluator: 'trainer2' }), /--bpe: unknown evaluator 'trainer2'/)
  await t.rejects(runMipExperiment({ out, evaluator: 'trainer', parts: ['table2'] }), /--table 2: the trainer has no test accuracy/)
  await t.rejects(runMipExperiment({ out, omega: 'epochs=1,1' }), /epochs value 1 is given twice/)
  await t.rejects(runMipExperiment({ out, mip: { lambda: 2 } }), /lambda must be in \(0, 1\)/)
  await t.rejects(runMipExperiment({ out, seeds: 0 }), /--seeds must be an integer ≥ 1/)
  t.notOk(fs.existsSync(path.join(out, 'results.jsonl')), 'nothing written')
})

t.test('the built bin: reproduce mip and bpe', async t => {
  const out = tmp()
  const r = run('reproduce', 'mip', '--table', '1', '--seeds', '2', '--out', out)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /Table 1: the found BPE/)
  t.equal(run('reproduce', 'mip', '--table', '3').status, 2)
  t.match(run('reproduce', 'mip', '--table', '3').stderr, /--table '3'/)
  t.match(run('reproduce', 'mip', '--lambda', '1').stderr, /--lambda must be a number in \(0, 1\)/)
  t.match(run('reproduce', 'mip', '--dataset', 'cifar100').stderr, /give --tables/)
  t.equal(run('reproduce', 'mip', '--bpe', 'trainer', '--table', '2').status, 2)
  const bad = run('bpe', '--omega', 'image=14;cutout=16')
  t.equal(bad.status, 2)
  t.match(bad.stderr, /cutout 16 is larger than the image side 14/)
  const j = run('bpe', '--omega', 'epochs=10,20,50;layers=6,12,24;channels=8,16', '--k', '3', '--json')
  t.equal(j.status, 0, j.stderr)
  const parsed = JSON.parse(j.stdout)
  t.equal(parsed.samples.length, 6, 'K·(d−1) settings')
  t.equal(parsed.synthetic, true)
  const again = run('bpe', '--omega', 'epochs=10,20,50;layers=6,12,24;channels=8,16', '--k', '3', '--json')
  t.equal(again.stdout, j.stdout, 'same seed ⇒ same output')
  t.match(run('bpe', '--help').stdout, /Minimum Importance Pruning/)
})

const haveTables = ['nb201-cifar10-hp12.csv', 'nb201-cifar10-hp200.csv'].every(f => fs.existsSync(path.join(DATA, f)))
t.test('NAS-Bench-201 tables: the 12-epoch schedule as a BPE (real data)', { skip: haveTables ? false : `the shared tables are not in ${DATA}` }, async t => {
  const out = tmp()
  await runMipExperiment({ out, seeds: 3, parts: ['table1'], tables: DATA })
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
  const rs = rows.filter(r => r.kind === 'nb201-rs')
  t.equal(rs.length, 3)
  for (const r of rs) t.ok(r.rs12_val > 0.5 && r.rs12_val < 1, `r_s 12 vs 200 ${r.rs12_val}`)
  const picks = rows.filter(r => r.kind === 'nb201-pick')
  for (const seed of [0, 1, 2]) {
    const by = (pe: string): number => picks.find(p => p.seed === seed && p.pe === pe).test
    t.ok(by('oracle (best test)') >= by('12-epoch val (BPE)'))
    t.ok(by('oracle (best test)') >= by('200-epoch val (f)'))
  }
  t.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /12-epoch schedule as a BPE/)
})

t.test('inverseNormal against the normal CDF (erf by series)', async t => {
  const cdf = (x: number): number => { // Φ by the Taylor series of erf (exact enough for |x| ≤ 6)
    const y = x / Math.SQRT2; let term = y; let sum = y
    for (let n = 1; n < 200; n++) { term *= -y * y / n; sum += term / (2 * n + 1) }
    return 0.5 + sum / Math.sqrt(Math.PI)
  }
  for (const p of [1e-6, 0.001, 0.02, 0.1, 0.3, 0.5, 0.77, 0.98, 0.9999]) t.ok(Math.abs(cdf(inverseNormal(p)) - p) < 1e-8 * Math.max(1, p / 0.01), `p ${p}`)
  t.throws(() => inverseNormal(0), /p must be in \(0, 1\)/)
})

t.test('reproduce mip: --jobs 2 rows = one thread\'s', async t => {
  const a = tmp(); const b = tmp()
  await runMipExperiment({ out: a, seeds: 2, parts: ['table1', 'fig3'] })
  await runMipExperiment({ out: b, seeds: 2, parts: ['table1', 'fig3'], jobs: 2 })
  t.same(rowsOf(b), rowsOf(a))
})

t.test('Table 2: RS-100 and EA with PE = f and the found BPE', async t => {
  const out = tmp()
  await runMipExperiment({ out, seeds: 1, parts: ['table2'] })
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l)).filter(r => r.kind === 'table2')
  t.equal(rows.length, 6)
  for (const search of ['RS-100', 'EA']) {
    const f = rows.find(r => r.search === search && r.pe === 'f')
    const b = rows.find(r => r.search === search && r.pe === 'BPE (argmax r_s)')
    t.ok(b.cost < f.cost / 10, `${search}: BPE cost ${b.cost} vs f ${f.cost}`)
    t.ok(b.test > 80 && b.test <= 100)
  }
  t.ok(rows.filter(r => r.search === 'RS-100').every(r => r.evaluations === 100))
  t.ok(rows.filter(r => r.search === 'EA').every(r => r.evaluations <= 100 && r.evaluations > 20))
  t.match(fs.readFileSync(path.join(out, 'report.md'), 'utf8'), /## Table 2: search with the found BPE/)
})
