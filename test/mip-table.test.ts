// BPE tables (lib/bpe/table.ts): the reader's checks (errors name file, line and column), the
// evaluator (pool, default f, only settings present sampled, the power-law cost fit), and
// `nasrank bpe --bpe table:<csv>` / `reproduce mip --bpe table:<csv>` on a table the test writes.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { readBpeTable, tableBpe } from '../lib/bpe/table'
import { runMip } from '../lib/bpe/mip'
import { recordedEvaluator } from '../lib/bpe/record'
import { settingKey } from '../lib/bpe/omega'
import { Random } from '../lib/random'

const bin = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-bpe-table-'))
const write = (name: string, text: string): string => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f }

/** A grid: 40 archs × epochs {1,2,4} × channels {4,8} × image {14,28}, seconds an exact power law; accuracy = truth + noise shrinking with epochs. */
function gridCsv (skip?: (e: number, c: number, i: number) => boolean, imagePower = 2): string {
  const r = new Random(3)
  const truth = Array.from({ length: 40 }, () => r.float())
  const lines = ['arch,epochs,channels,image,accuracy,seconds']
  for (const e of [1, 2, 4]) for (const c of [4, 8]) for (const i of [14, 28]) {
    if (skip?.(e, c, i) === true) continue
    truth.forEach((v, a) => lines.push(`cell-${a},${e},${c},${i},${(v + (0.6 / e) * r.normal()).toFixed(6)},${(3 * e * c ** 1.5 * (i / 14) ** imagePower).toFixed(9)}`))
  }
  return lines.join('\n') + '\n'
}

t.test('reader: checks name the file, line and column', async t => {
  t.throws(() => readBpeTable(write('a.csv', 'arch,epochs,accuracy\nx,1,0.5\n')), /a\.csv:1: no 'seconds' column/)
  t.throws(() => readBpeTable(write('b.csv', 'arch,epoch,accuracy,seconds\nx,1,0.5,1\n')), /unknown column 'epoch'/)
  t.throws(() => readBpeTable(write('c.csv', 'arch,epochs,accuracy,seconds\nx,1,0.5,1\nx,1,0.6,1\n')), /c\.csv:3: duplicate row for arch x at epochs=1/)
  t.throws(() => readBpeTable(write('d.csv', 'arch,epochs,accuracy,seconds\nx,1,nan,1\n')), /d\.csv:2: column 'accuracy' is "nan", not a finite number/)
  t.throws(() => readBpeTable(write('e.csv', 'arch,epochs,accuracy,seconds\nx,0,0.5,1\n')), /epochs values must be integers ≥ 1/)
  t.throws(() => readBpeTable(write('f.csv', 'arch,epochs,accuracy,seconds\nx,1,0.5\n')), /f\.csv:2: 3 fields, the header has 4/)
  t.throws(() => readBpeTable(write('g.csv', 'arch,epochs,accuracy,seconds\nx,1,0.5,0\n')), /seconds must be > 0/)
})

t.test('evaluator: default f, pool, settings present only, power-law cost', async t => {
  const table = readBpeTable(write('grid.csv', gridCsv((e, c, i) => e === 2 && c === 8 && i === 28)))
  t.equal(table.archs.length, 40)
  const ev = tableBpe(table)
  t.match(ev.fullLabel, /epochs=4,channels=8,image=28/)
  t.equal(ev.pool.length, 40)
  // An exact power law is recovered: FLOPs ratios = seconds ratios.
  const s = (e: number, c: number, i: number): Int32Array => Int32Array.of([1, 2, 4].indexOf(e), [4, 8].indexOf(c), [14, 28].indexOf(i))
  t.ok(Math.abs(ev.flops(s(2, 8, 28)) / ev.flops(s(1, 4, 14)) - 2 * 2 ** 1.5 * 4) < 1e-6, 'absent setting priced by the fit')
  const run = await runMip(ev, { archs: 30, k: 3, stop: 'none' })
  const present = new Set([...table.accuracy.keys()])
  t.ok(run.samples.every(x => x.key !== 'epochs=4,channels=8,image=28'), 'f is not sampled')
  t.ok(run.samples.every(x => x.key !== 'epochs=2,channels=8,image=28'), 'an absent setting is never sampled')
  t.equal(new Set(run.samples.map(x => x.key)).size, run.samples.length)
  t.ok(present.size === 11)
  const best = run.samples[run.best]
  t.equal(best.rs, Math.max(...run.samples.map(x => x.rs)))
  const withFull = tableBpe(table, { full: { epochs: 2, channels: 4, image: 14 } })
  t.match(withFull.fullLabel, /epochs=2,channels=4,image=14/)
  t.match(withFull.warnings?.[0] ?? '', /the full setting f \(epochs=2,channels=4,image=14.*is cheaper than 9 setting\(s\)/)
  t.same(ev.warnings, [])
  t.throws(() => tableBpe(table, { full: { epochs: 3, channels: 4, image: 14 } }), /--full: epochs 3 is not among/)
  t.throws(() => tableBpe(table, { full: { epochs: 2, channels: 8, image: 28 } }), /no rows at epochs=2,channels=8,image=28/)
  void settingKey
})

t.test('the built bin: bpe and reproduce mip on a table', async t => {
  const file = write('cli.csv', gridCsv())
  const r = spawnSync(process.execPath, [bin, 'bpe', '--bpe', `table:${file}`, '--archs', '30', '--k', '3', '--json'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  const j = JSON.parse(r.stdout)
  t.equal(j.synthetic, false)
  t.equal(j.samples.length, 3 * 2)
  const rec = path.join(dir, 'cli-rec')
  const r1 = spawnSync(process.execPath, [bin, 'bpe', '--bpe', `table:${file}`, '--archs', '30', '--k', '3', '--json', '--record', rec], { encoding: 'utf8' })
  const r2 = spawnSync(process.execPath, [bin, 'bpe', '--bpe', `table:${file}`, '--archs', '30', '--k', '3', '--json', '--record', rec], { encoding: 'utf8' })
  t.equal(r2.stdout, r1.stdout)
  t.equal(r1.stdout, r.stdout, 'recording changes nothing')
  t.match(r2.stderr, /0 measurements made, 210 replayed/)
  const missing = spawnSync(process.execPath, [bin, 'bpe', '--bpe', `table:${path.join(dir, 'nope.csv')}`], { encoding: 'utf8' })
  t.equal(missing.status, 2)
  t.match(missing.stderr, /no such file/)
  t.match(spawnSync(process.execPath, [bin, 'bpe', '--full', 'epochs=1'], { encoding: 'utf8' }).stderr, /--full names a setting of a BPE table/)
  const out = path.join(dir, 'out')
  const m = spawnSync(process.execPath, [bin, 'reproduce', 'mip', '--bpe', `table:${file}`, '--archs', '30', '--k', '3', '--seeds', '2', '--out', out], { encoding: 'utf8' })
  t.equal(m.status, 0, m.stderr)
  t.match(m.stdout, /Table 1: the found BPE/)
  t.notMatch(m.stdout, /SYNTHETIC/)
  // A changed --full on the same folder is a different f: its cells are computed, never replayed
  // from the runs against the default f.
  const cellsOf = (): string[] => fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l).cell as string)
  const before = new Set(cellsOf())
  const m2 = spawnSync(process.execPath, [bin, 'reproduce', 'mip', '--bpe', `table:${file}`, '--archs', '30', '--k', '3', '--seeds', '2', '--full', 'epochs=2,channels=4,image=14', '--out', out], { encoding: 'utf8' })
  t.equal(m2.status, 0, m2.stderr)
  t.match(m2.stdout, /Full setting f: the table's epochs=2,channels=4,image=14/)
  const added = [...new Set(cellsOf().filter(c => !before.has(c)))]
  t.equal(added.filter(c => c.startsWith('mip/')).length, 2, 'both seeds re-run against the new f')
  const t2 = spawnSync(process.execPath, [bin, 'reproduce', 'mip', '--bpe', `table:${file}`, '--table', '2', '--out', path.join(dir, 'o2')], { encoding: 'utf8' })
  t.equal(t2.status, 2)
  t.match(t2.stderr, /no test accuracy/)
})

t.test('recorded evaluations: an interrupted MIP run resumes to the same decisions, measuring only what is missing', async t => {
  const table = readBpeTable(write('rec.csv', gridCsv()))
  let calls = 0 // architectures measured (the recorder asks one at a time)
  const inner = tableBpe(table)
  const counting = { ...inner, evaluate: async (s: Int32Array, a: Int32Array) => { calls += a.length; return await inner.evaluate(s, a) } }
  const whole = await runMip(counting, { archs: 30, k: 3, seed: 5 })
  const total = calls
  const rdir = path.join(dir, 'rec')
  const controller = new AbortController()
  calls = 0
  const stopping = { ...counting, evaluate: async (s: Int32Array, a: Int32Array) => { if (calls === 4 * 30 + 7) controller.abort(new Error('stop')); return await counting.evaluate(s, a) } }
  await t.rejects(runMip(recordedEvaluator(stopping, rdir), { archs: 30, k: 3, seed: 5, signal: controller.signal }), /stop/)
  const before = calls
  t.ok(before > 4 * 30 && before < total, `interrupted after ${before} of ${total} measurements`)
  calls = 0
  const again = recordedEvaluator(counting, rdir)
  const resumed = await runMip(again, { archs: 30, k: 3, seed: 5 })
  t.same(resumed, whole, 'same decisions and outputs as the uninterrupted run')
  t.equal(calls, total - before, 'only the missing measurements are made')
  t.equal(again.replayed, before + 30, 'the recorded measurements (and R_f) are replayed')
})

t.test('MIP against random search: a seed where random search affords no setting is scored r_s = 0, not dropped', async t => {
  // 28-px settings cost 2^12 times the 14-px ones: Eq. 2 all but never draws them, so MIP spends
  // little, and a uniform draw of one is beyond MIP's total on some seeds.
  const file = write('dear.csv', gridCsv(undefined, 12))
  const out = path.join(dir, 'dear-out')
  const m = spawnSync(process.execPath, [bin, 'reproduce', 'mip', '--bpe', `table:${file}`, '--archs', '30', '--k', '2', '--seeds', '6', '--out', out], { encoding: 'utf8' })
  t.equal(m.status, 0, m.stderr)
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
  const summaries = rows.filter(r => r.kind === 'summary')
  t.equal(summaries.length, 6)
  const none = summaries.filter(r => r.random_best === -1).length
  t.ok(none >= 1, `random search afforded nothing on ${none} seeds`)
  const report = fs.readFileSync(path.join(out, 'report.md'), 'utf8')
  t.match(report, /MIP − RS, paired: [+−-][0-9.]+ ± [0-9.]+ \(se, n 6\)/, 'every seed is paired')
  t.match(report, new RegExp(`On ${none} of 6 seeds random search could not afford a single setting`))
  // The scored mean: RS's best r_s per seed, 0 where it had none.
  const rsBest = summaries.map(s => { const r = rows.filter(x => x.kind === 'random-sample' && x.seed === s.seed); return r.length > 0 ? Math.max(...r.map(x => x.rs)) : 0 })
  const mean = rsBest.reduce((a, b) => a + b, 0) / rsBest.length
  t.match(report, new RegExp(`\\| Uniform RS \\| ${mean.toFixed(3)} ±`))
})
