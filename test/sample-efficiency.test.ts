import t from 'tap'
import { sampleEfficiencyGain, sampleEfficiencyGainAsync } from '../lib/index'
import { integers, rng } from './reference/random'

// Reference: count by a plain loop, then Eq. 11-15 literally.
function reference (space: ArrayLike<number>, cands: ArrayLike<number>, targets: ArrayLike<number>, higher = false) {
  const reach = (set: ArrayLike<number>, j: number) => Array.from(set).filter(v => higher ? v >= j : v <= j).length
  return Array.from(targets, j => {
    const eS = (space.length + 1) / (reach(space, j) + 1)
    const eC = (cands.length + 1) / (reach(cands, j) + 1)
    return { mS: reach(space, j), mC: reach(cands, j), eS, eC, gain: 10 * Math.log10(eS / eC) }
  })
}

function close (a: number, b: number) {
  return Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b))
}

t.test('worked example', async t => {
  // S: 9 errors, C: the 3 best. For J = 0.1: M_S = 2, M_C = 2 -> E_S = 10/3, E_C = 4/3.
  const space = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
  const out = sampleEfficiencyGain({ space, candidates: [0.05, 0.1, 0.2], targets: [0.1, 0.04, 1] })
  t.same(Array.from(out.reachingSpace), [2, 0, 9])
  t.same(Array.from(out.reachingCandidates), [2, 0, 3])
  t.ok(close(out.expectedTrialsSpace[0], 10 / 3))
  t.ok(close(out.expectedTrialsCandidates[0], 4 / 3))
  t.ok(close(out.gainDb[0], 10 * Math.log10(2.5)))
  // Nobody reaches 0.04: E = |set| + 1 each, gain = 10 log10(10/4).
  t.ok(close(out.gainDb[1], 10 * Math.log10(10 / 4)))
  // Everybody reaches 1: E = 1 for both, gain 0 dB.
  t.equal(out.gainDb[2], 0)
  t.same(Array.from(out.targets), [0.1, 0.04, 1])
})

t.test('matches the reference on random data, errors and accuracies, with ties', async t => {
  const rand = rng(5)
  for (const n of [1, 2, 10, 500]) {
    const space = integers(rand, n, 40)
    const picks = Array.from(space).filter(() => rand() < 0.3)
    const cands = picks.length ? picks : [space[0]]
    const targets = integers(rand, 25, 45)
    for (const higherIsBetter of [false, true]) {
      const out = sampleEfficiencyGain({ space, candidates: cands, targets, higherIsBetter })
      const ref = reference(space, cands, targets, higherIsBetter)
      ref.forEach((r, k) => {
        t.equal(out.reachingSpace[k], r.mS)
        t.equal(out.reachingCandidates[k], r.mC)
        t.ok(close(out.gainDb[k], r.gain), `n=${n} higher=${higherIsBetter} J=${targets[k]}: ${out.gainDb[k]} vs ${r.gain}`)
      })
    }
  }
})

t.test('subset split: sampling gain + predictor gain = total gain', async t => {
  const rand = rng(9)
  const space = Array.from({ length: 2000 }, () => Math.round(rand() * 1000) / 1000)
  const subset = space.filter(() => rand() < 0.2)
  const candidates = [...subset].sort((a, b) => a - b).slice(0, 30)
  const targets = [0.001, 0.01, 0.05, 0.2]
  const out = sampleEfficiencyGain({ space, subset, candidates, targets })
  const ref = reference(space, candidates, targets)
  for (let k = 0; k < targets.length; k++) {
    t.ok(close(out.subsetGainDb![k] + out.predictorGainDb![k], out.gainDb[k]), 'gains add up in dB')
    t.ok(close(out.gainDb[k], ref[k].gain))
    t.ok(close(out.expectedTrialsSubset![k], (subset.length + 1) / (subset.filter(v => v <= targets[k]).length + 1)))
  }
  const plain = sampleEfficiencyGain({ space, candidates, targets })
  t.equal(plain.subsetGainDb, undefined)
  t.same(Array.from(plain.gainDb), Array.from(out.gainDb))
})

t.test('async agrees', async t => {
  const input = { space: [3, 1, 2, 5, 4], candidates: [1, 2], targets: [1, 2, 3] }
  t.same(await sampleEfficiencyGainAsync(input), sampleEfficiencyGain(input))
  await t.rejects(sampleEfficiencyGainAsync({ ...input, candidates: [9] }), { name: 'RangeError', message: /candidates\[0\]/ })
})

t.test('validation', async t => {
  const ok = { space: [0.1, 0.2, 0.2], candidates: [0.2], targets: [0.15] }
  t.throws(() => sampleEfficiencyGain({ ...ok, candidates: [0.2, 0.2, 0.2] }), { name: 'RangeError', message: /candidates\[\d\] = 0\.2.* does not occur in space/ })
  t.throws(() => sampleEfficiencyGain({ ...ok, candidates: [0.3] }), { name: 'RangeError', message: /candidates\[0\]/ })
  t.throws(() => sampleEfficiencyGain({ ...ok, subset: [0.1], candidates: [0.2] }), { name: 'RangeError', message: /candidates\[0\].*subset/ })
  t.throws(() => sampleEfficiencyGain({ ...ok, subset: [0.7] }), { name: 'RangeError', message: /subset\[0\].*space/ })
  t.throws(() => sampleEfficiencyGain({ ...ok, space: [] }), { name: 'RangeError', message: /space must not be empty/ })
  t.throws(() => sampleEfficiencyGain({ ...ok, space: [], candidates: [] }), { name: 'RangeError', message: /space must not be empty/ })
  t.throws(() => sampleEfficiencyGain({ ...ok, candidates: [] }), { name: 'RangeError', message: /candidates must not be empty/ })
  t.throws(() => sampleEfficiencyGain({ ...ok, targets: [NaN] }), { name: 'RangeError', message: /targets\[0\] is NaN/ })
  t.throws(() => sampleEfficiencyGain({ space: [1], candidates: [1] } as never), { name: 'TypeError', message: /targets is required/ })
  t.throws(() => sampleEfficiencyGain({ ...ok, higherIsBetter: 'yes' } as never), { name: 'TypeError', message: /higherIsBetter must be a boolean/ })
  t.throws(() => sampleEfficiencyGain({ ...ok, extra: 1 } as never), { name: 'TypeError', message: /unknown option 'extra'/ })
  t.throws(() => sampleEfficiencyGain(null as never), { name: 'TypeError', message: /expected an object/ })
  // An empty target list is valid: no gains to report.
  t.equal(sampleEfficiencyGain({ ...ok, targets: [] }).gainDb.length, 0)
})

t.test('large sets (the radix-sorted path): counts and the uncovered index equal a plain loop', async t => {
  const rand = rng(21)
  // Negative, ±0, tiny and huge magnitudes, many duplicates: every radix digit varies.
  const pick = (): number => {
    const u = rand()
    if (u < 0.1) return u < 0.05 ? 0 : -0
    const v = Math.round(rand() * 50) / 7 * 10 ** Math.floor(rand() * 40 - 20)
    return rand() < 0.5 ? -v : v
  }
  const space = Array.from({ length: 5000 }, pick)
  const cands = space.filter(() => rand() < 0.4)
  const targets = [...Array.from({ length: 40 }, pick), 0, -0, space[7], space[11]]
  for (const higherIsBetter of [false, true]) {
    const out = sampleEfficiencyGain({ space, candidates: cands, targets, higherIsBetter })
    const ref = reference(space, cands, targets, higherIsBetter)
    t.ok(ref.every((r, k) => out.reachingSpace[k] === r.mS && out.reachingCandidates[k] === r.mC && close(out.gainDb[k], r.gain)), `higher=${higherIsBetter}: every target`)
  }
  // One value too many: the report names its first occurrence beyond the copies S has.
  const v = space[3]
  const have = space.filter(x => x === v).length
  const extra = [...cands.filter(x => x !== v), ...Array.from({ length: have + 2 }, () => v)]
  const want = extra.length - 2
  t.throws(() => sampleEfficiencyGain({ space, candidates: extra, targets }), { name: 'RangeError', message: new RegExp(`candidates\\[${want}\\]`) })
  // The smallest absent value is the one named.
  const absent = [...cands, 1e30, -1e30, 1e30]
  t.throws(() => sampleEfficiencyGain({ space, candidates: absent, targets }), { name: 'RangeError', message: new RegExp(`candidates\\[${cands.length + 1}\\] = -1e\\+30`) })
})
