// The ReNAS row of CTNAS Table 1 (NB-101, synthetic-101): fitted on the same M labelled
// architectures and values as the other rows, its KTau on the same 100 held-out ones (checked
// against a brute-force Eq. 12 count), its pick the top of its ranking of the whole space, and
// deterministic for a seed (the CLI test compares --jobs 1 and 2 rows).
import t from 'tap'
import { Bench } from '../lib/bench/bench'
import { synthetic101 } from '../lib/bench/synthetic'
import { runCell, renasTable1Entry, TABLE1_RENAS, type Table1Sets } from '../lib/experiments/ctnas-table1'
import { rankPercent } from '../lib/experiments/protocol'
import { initTfBackend } from '../lib/models/backend'

const settings = { iterations: 30, pretrainEpochs: 10, exploreEvery: 10, explorePairs: 16, exploreKeep: 8, baselineEvery: 10, hidden: 16 }
const M = 30

type Entry = { test: number, rank: number, ktau: number, variant: string, epochs: number }

t.test('ReNAS row: same M and held-out set as the CTNAS row, brute-force KTau, traversal pick, deterministic', async t => {
  await initTfBackend({ backend: 'wasm' })
  const bench = new Bench(await synthetic101())
  const test = bench.column({ metric: 'test' })
  const val = bench.column({ metric: 'val' })
  let sets: Table1Sets | null = null
  const row = await runCell(bench, M, 4, settings, s => { sets = s })
  const s = sets as unknown as Table1Sets
  const renas = row.renas as Entry
  t.equal(renas.variant, TABLE1_RENAS.variant)
  t.equal(renas.epochs, TABLE1_RENAS.epochs)
  t.equal(row.queries, M, 'the ReNAS pick is read uncounted: #queries = M')

  // The sets every row uses: M distinct labelled rows with their val, 100 held-out rows outside them.
  t.equal(s.labelled.length, M)
  t.equal(new Set(s.labelled).size, M)
  t.same(Array.from(s.values), s.labelled.map(r => val[r]), 'the labelled values are the searched metric (val)')
  t.equal(s.held.length, 100)
  t.ok(s.held.every(r => !s.labelled.includes(r)), 'held out = outside the M')
  t.same(Array.from(s.truth), s.held.map(r => test[r]))
  // The Random (best of M) row is the best val of these M: the same labelled set as CTNAS's.
  const bestLab = s.labelled.reduce((b, r) => val[r] > val[b] ? r : b, s.labelled[0])
  t.equal((row.random_best as Entry).test, test[bestLab])

  // ReNAS recomputed on exactly those sets reproduces the row: it used them, deterministically.
  const again = await renasTable1Entry(bench, s.labelled, s.values, s.held, s.truth, 4)
  t.equal(again.ktau, renas.ktau, 'same sets and seed ⇒ same KTau')
  t.equal(test[again.row], renas.test, 'same pick')
  t.equal(again.scores.length, bench.size, 'every architecture of the space is scored')

  // Brute-force Eq. 12 (paper ties, sgn(0) = 0) over the 100 held-out scores.
  const f = s.held.map(r => again.scores[r])
  const sgn = (x: number): number => x > 0 ? 1 : x < 0 ? -1 : 0
  let sum = 0; let pairs = 0
  for (let i = 0; i < f.length; i++) for (let j = 0; j < f.length; j++) if (i < j) { sum += sgn(f[i] - f[j]) * sgn(s.truth[i] - s.truth[j]); pairs++ }
  t.equal(pairs, 4950)
  t.ok(Math.abs(again.ktau - sum / pairs) < 1e-12, `KTau ${again.ktau} = brute force ${sum / pairs}`)
  t.ok(Math.abs(renas.ktau) <= 1)
  // The pick is the argmax of the scores (brute-force scan); its rank % by test over the space.
  let top = -Infinity
  for (const x of again.scores) top = Math.max(top, x)
  t.equal(again.scores[again.row], top)
  t.equal(again.scores.indexOf(top), again.row, 'the first maximum')
  t.equal(renas.rank, rankPercent(renas.test, Float64Array.from(test).sort()))
})
