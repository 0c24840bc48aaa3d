// The NAC on NAS-Bench-101 cells: withDummyVertices(nb101GraphBatch) against the spec-level
// reference (test/reference/ctnas.ts), the growing NacGraphSet, the NAC's forward pass and
// gradient on NB-101 graphs, and bad input.
import t from 'tap'
import { Random } from '../lib/random'
import * as nb101 from '../lib/spaces/nb101'
import { nb201 } from '../lib/spaces/nb201'
import { nb101GraphBatch, nb201GraphBatch } from '../lib/encode/graph'
import { Nac, NacGraphSet, withDummyVertices, nacGraphTable } from '../lib/models/nac'
import { Nb101Controller } from '../lib/models/controller-nb101'
import { refNac101Graph, refNac101Embed } from './reference/ctnas'

const close = (a: number, b: number, rel = 1e-12, abs = 1e-14): boolean => Math.abs(a - b) <= abs + rel * Math.max(Math.abs(a), Math.abs(b))

function specs (count: number, seed: number): nb101.Nb101Spec[] {
  const c = new Nb101Controller(new Random(seed), 8)
  for (let k = 0; k < c.params.length; k++) c.params[k] *= 6
  const random = new Random(seed + 1)
  const fixed: nb101.Nb101Spec[] = [
    { matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] },
    nb101.spec([[0, 1, 1, 0, 0, 0, 1], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]],
      ['input', 'conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3', 'conv3x3-bn-relu', 'conv1x1-bn-relu', 'output'])
  ]
  return [...fixed, ...Array.from({ length: count }, () => c.sample(random, undefined, false).spec)]
}

t.test('withDummyVertices(nb101GraphBatch): V 7, ids dummy0 input1 conv1x1 2 conv3x3 3 maxpool4 output5, Â = D̃^−½(Aᵀ+I)D̃^−½', async t => {
  const list = specs(400, 3)
  const g = withDummyVertices(nb101GraphBatch(nb101.packSpecs(list, 'test')))
  t.equal(g.vertices, 7)
  t.equal(g.features, 6)
  let bad = 0
  list.forEach((s, k) => {
    const ref = refNac101Graph(s)
    for (let i = 0; i < 7; i++) {
      if (g.feat[k * 7 + i] !== ref.feat[i]) bad++
      let col = 0
      for (let j = 0; j < 7; j++) {
        if (!close(g.norm[k * 49 + i * 7 + j], ref.norm[i][j])) bad++
        col += ref.norm[j][i]
      }
      if (!close(g.colSum[k * 7 + i], col)) bad++
    }
  })
  t.equal(bad, 0, 'graphs, ids and column sums of 402 cells match the reference')
  // input → output: five dummies between, each with a self-loop only.
  t.same(Array.from(g.feat.subarray(0, 7)), [1, 0, 0, 0, 0, 0, 5])
  t.same(Array.from(g.norm.subarray(7, 14)), [0, 1, 0, 0, 0, 0, 0], 'a dummy slot gathers only from itself')
})

t.test('nacGraphTable (NB-201) is withDummyVertices of the pruned cells', async t => {
  const table = nacGraphTable()
  const idx = [0, 1, 777, 15624]
  const ops = new Uint8Array(idx.length * 6)
  idx.forEach((i, k) => { let r = i; for (let e = 5; e >= 0; e--) { ops[k * 6 + e] = r % 5; r = Math.floor(r / 5) } })
  const g = withDummyVertices(nb201GraphBatch(nb201.pruneBatch(ops)))
  idx.forEach((i, k) => {
    t.same(Array.from(g.feat.subarray(k * 8, k * 8 + 8)), Array.from(table.feat.subarray(i * 8, i * 8 + 8)))
    t.same(Array.from(g.norm.subarray(k * 64, k * 64 + 64)), Array.from(table.norm.subarray(i * 64, i * 64 + 64)))
  })
})

t.test('NacGraphSet grows and keeps ids; the NAC on NB-101 graphs matches the reference', async t => {
  const list = specs(150, 9)
  const set = new NacGraphSet(7, 6)
  const first = set.add(nb101GraphBatch(nb101.packSpecs(list.slice(0, 50), 'test')))
  const second = set.add(nb101GraphBatch(nb101.packSpecs(list.slice(50), 'test')))
  t.equal(first, 0); t.equal(second, 50); t.equal(set.count, list.length)
  const whole = withDummyVertices(nb101GraphBatch(nb101.packSpecs(list, 'test')))
  t.same(Array.from(set.norm.subarray(0, whole.norm.length)), Array.from(whole.norm), 'same graphs after growing')
  const D = 10
  const nac = new Nac(new Random(4), { hidden: D, graphs: set })
  t.equal(nac.params.length, 6 * D + D * D + 2 * D, 'W0 has one row per id (6)')
  const ids = [0, 1, 5, 60, 151]
  const z = nac.embed(ids)
  let worst = 0
  ids.forEach((id, k) => {
    const ref = refNac101Embed(nac.params, D, list[id])
    for (let q = 0; q < D; q++) worst = Math.max(worst, Math.abs(z[k * D + q] - ref[q]) / (1e-12 + Math.abs(ref[q])))
  })
  t.ok(worst < 1e-9, `embeddings: worst relative error ${worst}`)
  // Gradient of the BCE against central differences.
  const a = [0, 3, 7, 100, 0]; const b = [1, 2, 140, 8, 1]; const y = [1, 0, 1, 0, 0]
  nac.lossAndGrad({ a, b, y })
  const grad = Float64Array.from(nac.grad)
  let worstG = 0
  for (let k = 0; k < nac.params.length; k++) {
    const keep = nac.params[k]
    nac.params[k] = keep + 1e-6; const up = nac.lossAndGrad({ a, b, y })
    nac.params[k] = keep - 1e-6; const down = nac.lossAndGrad({ a, b, y })
    nac.params[k] = keep
    worstG = Math.max(worstG, Math.abs((up - down) / 2e-6 - grad[k]) / Math.max(1e-3, Math.abs(grad[k])))
  }
  t.ok(worstG < 1e-5, `gradient: worst relative error ${worstG}`)
})

t.test('bad input', async t => {
  const set = new NacGraphSet(7, 6)
  t.throws(() => set.add(nb201GraphBatch(new Uint8Array(6))), /the set holds graphs of 7 vertices and 5 features, the batch 8 and 6/)
  t.throws(() => withDummyVertices(null as never), /batch must be a GraphBatch/)
  const g = nb101GraphBatch(nb101.packSpecs([{ matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] }], 'test'))
  t.throws(() => withDummyVertices({ ...g, mask: new Float32Array(3) }), /must hold count·V·V, count·V·F and count·V values/)
  const x = Float32Array.from(g.x); x.fill(0, 0, 5)
  t.throws(() => withDummyVertices({ ...g, x }), /graph 0, vertex 0 is real \(mask 1\) but has no feature/)
})
