// CTNAS on NAS-Bench-101 (synthetic-101) under the harness: query accounting, the ids behind
// the NAC (one per distinct cell, bench rows by module hash), determinism, resume exactness.
import t from 'tap'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Bench } from '../lib/bench/bench'
import { synthetic101 } from '../lib/bench/synthetic'
import { ctnas, type CtnasFinalState } from '../lib/search/ctnas'
import { runSearch } from '../lib/search/index'
import * as nb101 from '../lib/spaces/nb101'
import { Nb101Controller } from '../lib/models/controller-nb101'

const settings = { iterations: 60, pretrainEpochs: 10, exploreEvery: 20, explorePairs: 16, exploreKeep: 8, baselineEvery: 20, finalSamples: 20, hidden: 16 }

t.test('ctnas on synthetic-101: budget, distinct queries, ids ↔ cells, determinism', async t => {
  const bench = new Bench(await synthetic101())
  let state: CtnasFinalState | null = null
  const a = await runSearch(ctnas(settings, { onFinal: s => { state = s } }), bench, { budget: 30, seed: 2, checkpoints: [20, 30] })
  t.equal(a.queried, 30, 'labelled 20 + top-10 = the budget')
  const s = state as unknown as CtnasFinalState
  t.ok(s.controller instanceof Nb101Controller, 'the NB-101 controller')
  t.equal(s.labelled.length, 20)
  t.same(s.labelled, Array.from({ length: 20 }, (_, k) => k), 'labelled rows get the first ids')
  t.equal(new Set([...s.labelled.map(i => s.rowByIndex[i]), ...s.picked]).size, 30, 'labelled and picked are the 30 distinct queries')
  // Every id maps to its bench row by module hash; the rows are the cells' rows.
  const cells = bench.archs as nb101.Nb101Cells
  const graphs = s.nac.graphs
  t.equal(graphs.vertices, 7)
  for (const id of [...s.baselines, ...s.ranked]) {
    const row = s.rowByIndex[id]
    t.ok(row >= 0 && row < bench.size, `id ${id} has a bench row`)
  }
  t.equal(new Set(s.ranked.map(i => s.rowByIndex[i])).size, s.ranked.length, 'the ranked pool holds distinct cells')
  t.ok(s.picked.every(r => r >= 0 && r < cells.count))
  const b = await runSearch(ctnas(settings), bench, { budget: 30, seed: 2, checkpoints: [20, 30] })
  t.same(b.checkpoints, a.checkpoints, 'same seed ⇒ same result')
  const c = await runSearch(ctnas(settings), bench, { budget: 30, seed: 3, checkpoints: [20, 30] })
  t.notSame(c.checkpoints.map(x => x.row), a.checkpoints.map(x => x.row), 'another seed, another search')
})

t.test('checkpoints on NB-101: interrupted and resumed = uninterrupted, bit for bit', async t => {
  const bench = new Bench(await synthetic101())
  const long = { ...settings, iterations: 120 }
  const dir = t.testdir({})
  const file = path.join(dir, 'run.json')
  const opts = { budget: 30, seed: 4, checkpoints: [20, 30] }
  let wholeFinal: CtnasFinalState | undefined
  const whole = await runSearch(ctnas(long, { onFinal: f => { wholeFinal = f } }), bench, opts)
  await t.rejects(runSearch(ctnas(long, { checkpointEvery: 50, onIteration: it => { if (it === 70) throw new Error('interrupted') } }), bench, { ...opts, checkpointFile: file }), /interrupted/)
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { t: number, space: { vertices: number[] } }
  t.equal(saved.t, 50)
  t.ok(saved.space.vertices.length > 20, 'the cells behind the ids are saved')
  let resumedFinal: CtnasFinalState | undefined
  const seen: number[] = []
  const resumed = await runSearch(ctnas(long, { checkpointEvery: 50, onIteration: it => seen.push(it), onFinal: f => { resumedFinal = f } }), bench, { ...opts, checkpointFile: file })
  t.equal(seen[0], 51)
  const a = wholeFinal as CtnasFinalState
  const b = resumedFinal as CtnasFinalState
  t.same(b.baselines, a.baselines, 'same baselines (same ids)')
  t.same(b.ranked, a.ranked)
  t.same(b.picked, a.picked)
  t.same(Array.from(b.controller.params), Array.from(a.controller.params), 'same controller parameters')
  t.same(Array.from(b.nac.params), Array.from(a.nac.params), 'same NAC parameters')
  t.same(b.random.state(), a.random.state())
  t.same(resumed.checkpoints, whole.checkpoints)
  // A damaged space state is an error naming the file.
  const other = path.join(dir, 'other.json')
  await t.rejects(runSearch(ctnas(long, { checkpointEvery: 50, onIteration: it => { if (it === 60) throw new Error('stop') } }), bench, { ...opts, checkpointFile: other }), /stop/)
  const broken = JSON.parse(fs.readFileSync(other, 'utf8')) as { space: unknown }
  broken.space = { vertices: [2], adjacency: [], ops: [] }
  fs.writeFileSync(other, JSON.stringify(broken))
  await t.rejects(runSearch(ctnas(long), bench, { ...opts, checkpointFile: other }), /the NB-101 cells behind the ids are missing or malformed/)
})
