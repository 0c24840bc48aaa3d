// --cost seconds (lib/bpe/cost-model.ts): the power-law fit recovers a known law; the
// calibration design is one factor at a time around the cheapest setting; Eq. 2's frequencies
// follow the fitted law, not FLOPs (χ², fixed seed); a recorded calibration replays to the
// same law.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { calibrateSecondsCost, fitPowerLaw, oneFactorDesign } from '../lib/bpe/cost-model'
import { drawUnseen, runMip, samplingProbabilities, type BpeEvaluator } from '../lib/bpe/mip'
import { omegaSize, settingAt, settingKey, settingValues, type Omega } from '../lib/bpe/omega'
import { recordedEvaluator } from '../lib/bpe/record'
import { Random } from '../lib/random'
import { runBpe } from '../lib/experiments/mip-cli'
import { bpeArgs } from '../lib/experiments/mip-args'

const OMEGA: Omega = { dims: [
  { name: 'epochs', values: [1, 2, 4] },
  { name: 'batch', values: [64, 128, 256] },
  { name: 'lr', values: [0.025, 0.05, 0.1] },
  { name: 'channels', values: [4, 8] },
  { name: 'cutout', values: [0, 7] },
  { name: 'image', values: [14, 28] }
] }

/** The "true" time: 3·e·C^1.5·(img/14)²·(B/64)^−0.3·1.2^[cutout]; lr costs nothing. */
function seconds (s: ArrayLike<number>): number {
  const v = settingValues(OMEGA, s) as Record<string, number>
  return 3 * v.epochs * v.channels ** 1.5 * (v.image / 14) ** 2 * (v.batch / 64) ** -0.3 * (v.cutout > 0 ? 1.2 : 1)
}
/** FLOPs: no batch or cutout effect, channels squared. */
function flops (s: ArrayLike<number>): number {
  const v = settingValues(OMEGA, s) as Record<string, number>
  return v.epochs * v.channels ** 2 * v.image ** 2
}

function toy (calls: string[] = []): BpeEvaluator {
  const pool = Int32Array.from({ length: 50 }, (_, i) => i)
  return {
    name: 'toy-seconds',
    synthetic: true,
    omega: OMEGA,
    costUnit: 's',
    fullLabel: 'toy',
    pool,
    describeArch: id => `a${id}`,
    full: async archs => ({ accuracy: Float64Array.from(archs, a => a), cost: 1e6 }),
    evaluate: async (s, archs) => {
      calls.push(settingKey(OMEGA, s))
      const e = settingValues(OMEGA, s).epochs as number
      return { accuracy: Float64Array.from(archs, a => a + (10 / e) * Math.sin(a * 7.3 + s[1] + 3 * s[2])), cost: seconds(s) }
    },
    flops
  }
}

t.test('fitPowerLaw recovers a known power law; constant dimensions get exponent 0', async t => {
  const rows = Array.from({ length: omegaSize(OMEGA) }, (_, k) => settingAt(OMEGA, k)).map(s => ({ setting: s, seconds: seconds(s) }))
  const law = fitPowerLaw(OMEGA, rows)
  const want = [1, -0.3, 0, 1.5, Math.log(1.2), 2]
  law.exponents.forEach((b, i) => t.ok(Math.abs(b - want[i]) < 1e-6, `${OMEGA.dims[i].name}: ${b} ≈ ${want[i]}`))
  t.ok(law.r2 > 1 - 1e-9)
  // Exponents of dimensions that do not vary are 0 (not identifiable), the rest still exact.
  const few = rows.filter(r => r.setting[3] === 0)
  const part = fitPowerLaw(OMEGA, few)
  t.equal(part.exponents[3], 0)
  t.ok(Math.abs(part.exponents[0] - 1) < 1e-6 && Math.abs(part.exponents[5] - 2) < 1e-6)
  // With multiplicative noise the fit is close, not exact.
  const r = new Random(5)
  const noisy = fitPowerLaw(OMEGA, rows.map(x => ({ setting: x.setting, seconds: x.seconds * Math.exp(0.05 * r.normal()) })))
  noisy.exponents.forEach((b, i) => t.ok(Math.abs(b - want[i]) < 0.05, `noisy ${OMEGA.dims[i].name}: ${b.toFixed(3)}`))
  t.throws(() => fitPowerLaw(OMEGA, [{ setting: [0, 0, 0, 0, 0, 0], seconds: 0 }]), /not a positive number/)
  t.throws(() => fitPowerLaw(OMEGA, []), /no observations/)
})

t.test('calibration: one factor at a time around the cheapest by FLOPs; Eq. 2 follows the fitted law (χ²)', async t => {
  const calls: string[] = []
  const ev = await calibrateSecondsCost(toy(calls), { archs: 2 })
  // Design: anchor (cheapest by FLOPs: epochs 1, channels 4, image 14; batch, lr, cutout the first value) + Σ(n_i − 1) = 1 + 2+2+2+1+1+1.
  t.equal(ev.calibration.settings.length, 10)
  t.same(ev.calibration.settings, oneFactorDesign(OMEGA, Int32Array.of(0, 0, 0, 0, 0, 0)).map(s => settingKey(OMEGA, s)))
  t.same(calls, ev.calibration.settings, 'each calibration setting trained once')
  const want = [1, -0.3, 0, 1.5, Math.log(1.2), 2]
  ev.calibration.law.exponents.forEach((b, i) => t.ok(Math.abs(b - want[i]) < 1e-6, `${OMEGA.dims[i].name}: ${b}`))
  t.match(ev.calibration.label, /power law fitted to measured s \(10 calibration settings.*batch \^-0\.300/)
  // Eq. 2 with the fitted law: batch is no longer uniform (larger batches are cheaper here),
  // channels' relative cost is 2^1.5, not FLOPs' 4.
  const fixed = [-1, -1, -1, -1, -1, -1]
  const pSec = samplingProbabilities(OMEGA, ev.flops, fixed)
  const pFlops = samplingProbabilities(OMEGA, flops, fixed)
  const expBatch = [64, 128, 256].map(b => Math.exp(-((b / 256) ** -0.3)))
  const z = expBatch.reduce((a, b) => a + b, 0)
  expBatch.forEach((p, j) => t.ok(Math.abs(pSec[1][j] - p / z) < 1e-6, `batch p ${pSec[1][j]}`))
  t.same([...pFlops[1]].map(x => +x.toFixed(12)), [1 / 3, 1 / 3, 1 / 3].map(x => +x.toFixed(12)))
  t.ok(Math.abs(pSec[3][1] / pSec[3][0] - Math.exp(-(2 ** 1.5 - 1))) < 1e-6, `channels ratio ${pSec[3][1] / pSec[3][0]}`)
  // χ² of 20,000 draws (fixed seed) against the fitted law's probabilities (batch, df 2; 13.8 = 0.1 % point),
  // and against FLOPs' uniform batch (must be rejected).
  const random = new Random(11)
  const counts = [0, 0, 0]
  const N = 20000
  for (let i = 0; i < N; i++) counts[drawUnseen(OMEGA, pSec, new Set(), 1, random)[0][1]]++
  const chi2 = (p: ArrayLike<number>): number => counts.reduce((a, c, j) => a + (c - N * p[j]) ** 2 / (N * p[j]), 0)
  t.ok(chi2(pSec[1]) < 13.8, `χ² vs the fitted law ${chi2(pSec[1]).toFixed(2)} (counts ${counts.join(', ')})`)
  t.ok(chi2(pFlops[1]) > 100, `χ² vs FLOPs' uniform batch ${chi2(pFlops[1]).toFixed(1)}`)
  // Alg. 1 runs on the calibrated evaluator.
  const run = await runMip(ev, { archs: 20, k: 3 })
  t.equal(run.samples.length, 3 * (OMEGA.dims.length - 1))
})

t.test('a recorded calibration replays to the same law (resume)', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-mip-cost-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  let n = 0
  const noisy = (): BpeEvaluator => {
    const base = toy()
    return { ...base, evaluate: async (s, archs) => { n++; const e = await base.evaluate(s, archs); return { ...e, cost: e.cost * (1 + 0.1 * Math.sin(n)) } } }
  }
  const first = await calibrateSecondsCost(recordedEvaluator(noisy(), dir))
  const measured = n
  t.ok(measured > 0)
  const again = await calibrateSecondsCost(recordedEvaluator(noisy(), dir))
  t.equal(n, measured, 'nothing re-measured')
  t.same(again.calibration.law.exponents, first.calibration.law.exponents)
  t.equal(again.calibration.law.intercept, first.calibration.law.intercept)
})

t.test('nasrank bpe --bpe trainer --cost seconds: the calibration is recorded, the law reported, a re-run replays all', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-mip-cost-cli-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const args = bpeArgs({ bpe: 'trainer', seed: '0', cost: 'seconds', omega: 'epochs=1;channels=4;layers=1;image=14,28;batch=64,128', full: 'epochs=2,channels=4,layers=1,image=28,batch=64', archs: '3', k: '2', trainImages: '100', val: '100', record: dir })
  const lines: string[] = []
  const error = console.error
  console.error = (...a: unknown[]) => { lines.push(a.join(' ')) }
  let out: string
  let again: string
  try {
    out = await runBpe(args)
    again = await runBpe(args)
  } finally { console.error = error }
  t.ok(lines.some(l => /Eq\. 2 prices settings by a power law fitted to measured CPU-s \(3 calibration settings/.test(l)), 'the law is reported')
  const records = fs.readFileSync(path.join(dir, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
  // 3 calibration settings × 2 cells, f × 3, and the MIP settings × 3 (a calibration setting drawn again is replayed where the cells coincide).
  t.ok(records.length >= 6 + 3)
  t.ok(lines.some(l => /^0 measurements made/.test(l)), 'the re-run measures nothing')
  t.equal(again, out, 'the re-run reaches the same decisions')
  t.match(out, /MIP on trainer-.*-cpus, seed 0/)
})
