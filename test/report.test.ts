import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { ResultStore, writeFileAtomic } from '../lib/experiments/results'
import { csvText, formatMeanSd, markdownTable, meanSd } from '../lib/report/table'
import { lineSvg, scatterSvg } from '../lib/report/plots'

t.test('results.jsonl: append, resume, torn last line', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-results-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const store = new ResultStore(dir)
  store.append({ cell: 'a', ktau: 0.5 })
  store.append({ cell: 'b', ktau: 0.6 })
  t.throws(() => store.append({ cell: 'a', ktau: 1 }), /already recorded/)
  fs.appendFileSync(store.file, '{"cell":"c","kt')   // the process died mid-write
  const reopened = new ResultStore(dir)
  t.same(reopened.all().map(r => r.cell), ['a', 'b'], 'finished cells survive; the torn line is dropped')
  t.equal(fs.readFileSync(store.file, 'utf8').split('\n').length, 3, 'file cut back to whole lines')
  reopened.append({ cell: 'c', ktau: 0.7 })
  t.same(new ResultStore(dir).get('c'), [{ cell: 'c', ktau: 0.7 }])
  // A bad line that later lines follow no longer blocks the file: skipped, with a warning naming it.
  fs.writeFileSync(store.file, '{"cell":"a"}\nnot json\n{"cell":"b"}\n')
  const warnings: string[] = []
  const skipping = new ResultStore(dir, w => warnings.push(w))
  t.same(skipping.all().map(r => r.cell), ['a', 'b'])
  t.same(skipping.skipped.map(s => s.line), [2])
  t.match(warnings.join('\n'), /results\.jsonl:2: not valid JSON/)
  const file = path.join(dir, 'plain')
  fs.writeFileSync(file, 'x')
  t.throws(() => new ResultStore(file), /exists and is not a directory/)
})

t.test('atomic writes leave no temporary files', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-atomic-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  writeFileAtomic(path.join(dir, 'r.md'), 'hello')
  t.equal(fs.readFileSync(path.join(dir, 'r.md'), 'utf8'), 'hello')
  t.throws(() => writeFileAtomic(path.join(dir, 'missing', 'r.md'), 'x'))
  t.same(fs.readdirSync(dir), ['r.md'])
})

t.test('tables and statistics', async t => {
  t.same(meanSd([1, 2, 3]), { mean: 2, sd: 1, n: 3 })
  t.equal(formatMeanSd([0.5]), '0.500')
  t.equal(formatMeanSd([1, 2, 3], 1), '2.0 ± 1.0')
  t.equal(formatMeanSd([]), '—')
  t.equal(markdownTable(['a', 'b|c'], [['1', '2']]), '| a | b\\|c |\n|---|---|\n| 1 | 2 |\n')
  t.equal(csvText(['x', 'y'], [['a,b', 1], ['say "hi"', NaN]]), 'x,y\n"a,b",1\n"say ""hi""",\n')
})

t.test('SVG plots render', async t => {
  const scatter = await scatterSvg({ title: 'Predicted vs true rank', subtitle: 'SYNTHETIC', xTitle: 'true', yTitle: 'predicted', points: [{ x: 1, y: 2 }, { x: 2, y: 1 }] })
  t.match(scatter, /^<svg/)
  t.match(scatter, /SYNTHETIC/)
  const line = await lineSvg({ title: 'KTau', xTitle: 'fraction', yTitle: 'tau', logX: true, points: [{ series: 'ReNAS-6', x: 0.001, y: 0.3, sd: 0.05 }, { series: 'ReNAS-6', x: 0.01, y: 0.5 }] })
  t.match(line, /ReNAS-6/)
})
