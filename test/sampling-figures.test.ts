// The data of `reproduce sampling --figure` (lib/experiments/sampling-figures.ts): histogram
// counts, gain curves (Eq. 15–17: the split sums, the native gain where C ⊆ S′ ⊆ S), the
// best-so-far curves against brute force, the oracles; then a small --figure run on
// synthetic-201 that writes every figure and its tables.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Random } from '../lib/random'
import { Bench } from '../lib/bench/bench'
import { synthetic201 } from '../lib/bench/synthetic'
import { Reach, accuracyOf, bestSoFarCurves, errorOf, gainCurve, histogram, oracles, targetGrid } from '../lib/experiments/sampling-figures'
import { sampleEfficiencyGain } from '../lib/metrics/sample-efficiency'
import { planSeries, runSamplingExperiment } from '../lib/experiments/sampling'

t.test('histogram: counts + outside = n, each value in its bin', async t => {
  const random = new Random(1)
  const values = Array.from({ length: 5000 }, () => random.float() * 1.2 - 0.1)
  const h = histogram(values, 0, 1, 17)
  t.equal(h.edges.length, 18)
  t.equal(h.counts.reduce((a, b) => a + b, 0) + h.outside, values.length)
  t.equal(h.outside, values.filter(v => v < 0 || v > 1).length)
  for (let k = 0; k < 17; k++) t.equal(h.counts[k], values.filter(v => v >= h.edges[k] && (k === 16 ? v <= 1 : v < h.edges[k + 1])).length)
  t.throws(() => histogram(values, 1, 0, 3), /need finite lo < hi/)
  t.throws(() => histogram(values, 0, 1, 0), /bins must be an integer >= 1/)
})

t.test('gain curve: gain_e + gain_p = gain; equal to the native sampleEfficiencyGain where C ⊆ S′ ⊆ S; ceiling', async t => {
  const random = new Random(2)
  const space = Float64Array.from({ length: 3000 }, () => Math.round(random.float() * 2000) / 20) // percent, with ties
  const pool = Array.from({ length: 600 }, (_, i) => space[(i * 7) % 3000])
  const c = pool.filter((_, i) => i % 5 === 0)
  const S = new Reach(space)
  const targets = targetGrid(S, 'percent', 25)
  t.ok(targets.every((j, i) => i === 0 || j > targets[i - 1]), 'ascending in J')
  t.equal(S.count(accuracyOf(targets[0], 'percent')), space.filter(v => v === Math.max(...space)).length, 'the first target: M_S = the best (with its ties)')
  const curve = gainCurve(S, new Reach(c), new Reach(pool), targets, 'percent')
  const native = sampleEfficiencyGain({ space, candidates: c, subset: pool, targets: targets.map(j => accuracyOf(j, 'percent')), higherIsBetter: true })
  curve.forEach((p, i) => {
    t.ok(Math.abs(p.gainE! + p.gainP! - p.gain) < 1e-9, `split sums at J = ${p.j}`)
    t.ok(Math.abs(p.gain - native.gainDb[i]) < 1e-9)
    t.ok(Math.abs(p.gainE! - native.subsetGainDb![i]) < 1e-9)
    t.ok(Math.abs(p.gainP! - native.predictorGainDb![i]) < 1e-9)
    t.equal(p.ms, native.reachingSpace[i])
    t.equal(p.mc, native.reachingCandidates[i])
    t.ok(Math.abs(p.ceiling - 10 * Math.log10((3001) / (p.ms + 1))) < 1e-12)
    t.ok(p.gain <= p.ceiling + 1e-9, 'never above the ceiling')
  })
  t.equal(gainCurve(S, new Reach(c), null, targets, 'percent')[0].gainE, undefined, 'no pools: no split')
  t.equal(errorOf(93, 'percent'), 1 - 0.93)
  t.equal(errorOf(0.93, 'fraction'), 1 - 0.93)
})

t.test('best-so-far curves: monotone, equal to brute force; oracles', async t => {
  const random = new Random(3)
  const runs = Array.from({ length: 5 }, (_, r) => {
    const n = 30 + r
    return { val: Array.from({ length: n }, () => Math.round(random.float() * 40) / 4 + 80), test: Array.from({ length: n }, () => random.float() * 10 + 85) }
  })
  const { val, test } = bestSoFarCurves(runs, 'percent')
  t.equal(val.length, 34)
  for (const [e, p] of val.entries()) {
    const per = runs.filter(r => r.val.length > e).map(r => errorOf(Math.max(...r.val.slice(0, e + 1)), 'percent'))
    t.equal(p.n, per.length)
    t.ok(Math.abs(p.mean - per.reduce((a, b) => a + b, 0) / per.length) < 1e-12)
    if (e > 0 && val[e - 1].n === p.n) t.ok(p.mean <= val[e - 1].mean + 1e-12, 'best validation error never rises')
    // Test at the best validation so far, the earliest on ties.
    const tests = runs.filter(r => r.val.length > e).map(r => { const head = r.val.slice(0, e + 1); return errorOf(r.test[head.indexOf(Math.max(...head))], 'percent') })
    t.ok(Math.abs(test[e].mean - tests.reduce((a, b) => a + b, 0) / tests.length) < 1e-12)
  }
  const vcol = [90, 91, 91, 89]
  const tcol = [94, 92, 93, 95]
  const o = oracles(vcol, tcol, 'percent')
  t.ok(Math.abs(o.valOracleVal - 0.09) < 1e-12 && Math.abs(o.valOracleTest - 0.07) < 1e-12, 'val oracle: best val, ties by test')
  t.ok(Math.abs(o.testOracleTest - 0.05) < 1e-12 && Math.abs(o.testOracleVal - 0.11) < 1e-12)
})

t.test('the figures\' rows; a --figure run writes every figure and its tables', async t => {
  t.same(planSeries({ figures: [3] }, 15625).map(s => s.key), ['whole', 'uniform@10000', 'uniform@1000', 'uniform@100', 'rs'])
  t.same(planSeries({ figures: [7] }, 15625).map(s => s.key), ['uniform@1000', 'uniform@100', 'ml@1000', 'ml@100', 'ev@1000', 'ev@100', 'rs'])
  t.same(planSeries({ figures: [3] }, 5000).map(s => s.key), ['whole', 'uniform@1000', 'uniform@100', 'rs'], 'sizes at or above |S| dropped')
  t.same(planSeries({ figures: [3], pools: ['all', 50] }, 15625).map(s => s.key), ['whole', 'uniform@50', 'rs'], '--pool overrides the figure\'s sizes')
  t.same(planSeries({ variants: ['uniform', 'ev'], pools: [50, 20] }, 15625).map(s => s.key), ['uniform@50', 'uniform@20', 'ev@50', 'ev@20'])
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-figs-'))
  t.teardown(() => fs.rmSync(out, { recursive: true, force: true }))
  const bench = new Bench(synthetic201())
  const r = await runSamplingExperiment({ bench, out, budget: 16, seeds: 2, figures: [2, 3, 4, 5, 6, 7, 8, 9, 10], pools: ['all', 30, 20], variants: ['whole', 'uniform', 'ml', 'ev', 'rs'], checkpoints: [16], gcn: { width: 6, epochs: 8, mlSteps: 3 } })
  t.equal(r.ran, 2 * 8)
  const report = fs.readFileSync(r.reportFile, 'utf8')
  for (let fig = 2; fig <= 10; fig++) {
    t.match(report, new RegExp(`### Fig ${fig}\\n\\n!\\[Fig ${fig}\\]\\(fig${fig}\\.svg\\)`))
    t.match(fs.readFileSync(path.join(out, `fig${fig}.svg`), 'utf8'), /^<svg/)
  }
  t.match(report, /\| Row \| M_S=1 \(J 0\.\d{4}\) \| M_S=10 \(J [\d.]+\) \| M_S=100 \(J [\d.]+\) \| M_S=1000 \(J [\d.]+\) \| M_S=10000 \(J [\d.]+\) \| J=0\.05 \(J 0\.0500\) \| J=0\.07 \(J 0\.0700\) \|/)
  t.match(report, /\| ev N′=20 \| -?\d+\.\d \+ -?\d+\.\d = -?\d+\.\d \|/, 'Fig 8: gain_e + gain_p = gain')
  t.match(report, /\| ceiling \| \d+\.\d \|/)
  t.match(report, /\| validation oracle \| 0\.\d{4} \|/)
  t.match(report, /\| S \(whole space\) \| 15625 \|/)
  t.match(report, /Paper \(Fig 7\): for J < 0\.05, ML about 30 dB/)
  t.notOk(fs.existsSync(path.join(out, 'checkpoints')) && fs.readdirSync(path.join(out, 'checkpoints')).length > 0, 'the checkpoints of finished runs are removed')
})
