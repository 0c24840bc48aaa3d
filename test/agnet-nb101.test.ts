// AG-Net on NAS-Bench-101 (Table 1): the 56-feature encoding round trip over every cell of
// synthetic-101 (distinct encodings counted), the space's decode against nb101's hash as brute
// force, pretraining on random NB-101 cells, and the search under the harness (distinct counted
// queries, same seed ⇒ same queries, the ablations run).
import t from 'tap'
import { Random } from '../lib/random'
import { Bench } from '../lib/bench/bench'
import { synthetic101 } from '../lib/bench/synthetic'
import * as nb101 from '../lib/spaces/nb101'
import { Mat, Tape } from '../lib/models/autodiff'
import { agnetEdgeCount, agnetEncodeGraphInto, agnetNb101CellGraph, agnetNb101Encode, agnetNb101Graph, AGNET_OUTPUT } from '../lib/encode/agnet'
import { agnet, agnetGeneratorQuality, agnetPretrain, agnetSampleGraph, agnetSpaceOf, agnetSpaceRows, AGNET_NB101_SPACE } from '../lib/search/agnet'
import { runSearch, searchMethod } from '../lib/search/index'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { encodeNb101Payload, openBench, TfRecordWriter } from '../lib/index'
import { randomCell, randomMetrics, recordOf } from './reference/nb101-records'
import { rng } from './reference/random'

let benchData: Awaited<ReturnType<typeof synthetic101>> | null = null
async function bench (): Promise<Bench> { return new Bench(benchData ??= await synthetic101()) }

t.test('NB-101 encoding: round trip over all 423,624 cells of synthetic-101, distinct encodings', async t => {
  const b = await bench()
  const cells = b.archs as nb101.Nb101Cells
  const space = agnetSpaceOf('nb101')
  t.equal(space, AGNET_NB101_SPACE)
  t.equal(b.size, nb101.CELL_COUNT)
  const rows = agnetSpaceRows(space, b)
  const cls = new Uint8Array(7)
  const edg = new Uint8Array(21)
  const keys = new Set<number>()
  let bad = 0
  for (let row = 0; row < b.size; row++) {
    agnetNb101CellGraph(cells, row, cls, 0, edg, 0)
    const V = cells.vertices[row]
    // The graph is cut at its first output: the cell's V vertices (padding rows are outputs).
    let n = 7
    for (let v = 0; v < 7; v++) if (cls[v] === AGNET_OUTPUT) { n = v + 1; break }
    if (n !== V) { bad++; continue }
    const index = space.decode(cls, n, edg)
    if (index < 0 || rows[index] !== row) bad++
    // The encoding as one number: 7 classes in base 5, then the 21 edge bits.
    let key = 0
    for (let v = 0; v < 7; v++) key = key * 5 + cls[v]
    for (let k = 0; k < 21; k++) key = key * 2 + edg[k]
    keys.add(key)
  }
  t.equal(bad, 0, 'every cell decodes to its own row')
  t.equal(keys.size, nb101.CELL_COUNT, 'distinct encodings')
  // The columnar graph is agnetNb101Encode's encoding of the cell's spec (sampled rows).
  const random = new Random(5)
  const g = new Float64Array(56)
  for (let trial = 0; trial < 500; trial++) {
    const row = random.int(b.size)
    agnetNb101CellGraph(cells, row, cls, 0, edg, 0)
    agnetEncodeGraphInto(7, 5, cls, 0, edg, 0, g, 0)
    const ref = agnetNb101Encode(nb101.cellAt(cells, row))
    if (ref.join() !== g.join()) { t.fail(`row ${row}: columnar and spec encodings differ`); break }
  }
})

t.test('NB-101 decode: valid exactly when nb101 accepts the graph, the index is its hash (brute force on sampled graphs)', async t => {
  const losses: number[] = []
  const gen = agnetPretrain(AGNET_NB101_SPACE, 40, 7, (_, l) => losses.push(l), { engine: 'js' })
  t.ok(losses.slice(-10).reduce((s, v) => s + v, 0) < losses.slice(0, 10).reduce((s, v) => s + v, 0), 'pretraining on NB-101 cells lowers the loss')
  const all = nb101.enumerateSync()
  const random = new Random(11)
  const B = 400
  const z = new Mat(B, 32, Float64Array.from({ length: B * 32 }, () => (2 * random.float() - 1) * 3))
  const { out } = gen.forward(new Tape(false), z)
  t.equal(out.cols, 56)
  const cls = new Uint8Array(7)
  const edg = new Uint8Array(21)
  let valid = 0
  for (let r = 0; r < B; r++) {
    const n = agnetSampleGraph(gen.shape, out, r, random, cls, edg)
    const index = AGNET_NB101_SPACE.decode(cls, n, edg)
    // Brute force: build the matrix by hand, ask nb101.
    let expected = -1
    if (cls[0] === 1 && !Array.from(cls.subarray(1, n)).includes(1)) {
      const labels = ['output', 'input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3']
      const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0))
      for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) matrix[j][i] = edg[i * (i - 1) / 2 + j]
      const ops = Array.from(cls.subarray(0, n), c => labels[c])
      if (n >= 2 && nb101.isValid(matrix, ops)) expected = nb101.indexOfHash(all, nb101.hash({ matrix, ops }))
    }
    if (index !== expected) { t.fail(`draw ${r}: decode ${index}, brute force ${expected}`); break }
    if (index >= 0) valid++
  }
  t.comment(`${valid} of ${B} sampled graphs are NB-101 cells after 40 steps`)
  const q = agnetGeneratorQuality(gen, 300, 0, AGNET_NB101_SPACE)
  t.ok(q.valid <= 300 && q.distinct <= q.valid && q.distinct > 0, `quality ${JSON.stringify(q)}`)
  t.equal(agnetNb101Graph([1, 0], [1])?.ops.join(), 'input,output')
  t.equal(agnetEdgeCount(7), 21)
})

t.test('AG-Net on synthetic-101 under the harness: counted distinct queries, same seed ⇒ same queries, ablations', async t => {
  const b = await bench()
  // A generator pretrained here (small), and short settings so that the test stays fast.
  const settings = { pretrainSteps: 200, epochs: 2, init: 8, k: 8, candidates: 20 }
  const method = searchMethod('agnet', settings)
  t.same(method.spaces, ['nb201', 'nb101'])
  const a = await runSearch(method, b, { budget: 32, seed: 3, checkpoints: [8, 16, 24, 32] })
  t.equal(a.queried, 32, 'the budget is spent')
  const rowsOf = async (variant: 'agnet' | 'no-lso' | 'no-backprop', seed = 3): Promise<number[]> =>
    Array.from((await agnet({ ...settings, variant }).run({ bench: b, budget: 32, seed, metric: 'val' })).rows)
  const ra = await rowsOf('agnet')
  t.equal(new Set(ra).size, ra.length, 'distinct architectures')
  t.same(await rowsOf('agnet'), ra, 'same seed, same queries')
  t.notSame(await rowsOf('agnet', 4), ra, 'another seed, other queries')
  const rs = await runSearch(searchMethod('rs'), b, { budget: 8, seed: 3 })
  t.equal(rs.checkpoints[0].val, a.checkpoints[0].val, 'same initial draws as random search')
  const rb = await rowsOf('no-backprop')
  const rl = await rowsOf('no-lso')
  t.same(rb.slice(0, 8), ra.slice(0, 8))
  t.notSame(rb.slice(8), ra.slice(8), 'no-backprop queries other architectures')
  t.notSame(rl.slice(8), ra.slice(8), 'no-lso queries other architectures')
})

t.test('an nb101:<file> bench (its own row order, a subset of the space): rows by hash, a search runs', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-agnet101-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  // 60 real cells of the space (the store checks their module hashes), in a shuffled order.
  const all = nb101.enumerateSync()
  const rand = rng(3)
  const cells = Array.from({ length: 60 }, () => {
    const i = Math.floor(rand() * all.count)
    const spec = nb101.cellAt(all, i)
    return { ...randomCell(rand), hash: nb101.hashAt(all, i), matrix: spec.matrix, ops: spec.ops }
  })
  const mrand = rng(1003)
  const file = path.join(dir, 'x.tfrecord')
  const w = new TfRecordWriter(file)
  for (const c of cells) w.write(encodeNb101Payload(recordOf(c, 108, randomMetrics(mrand, c, 108))))
  w.close()
  const b = await openBench(`nb101:${file}`, { progress: false })
  const rows = agnetSpaceRows(AGNET_NB101_SPACE, b)
  let found = 0
  for (let row = 0; row < b.size; row++) {
    const i = nb101.indexOfHash(all, b.describeRow(row))
    if (i >= 0 && rows[i] === row) found++
  }
  t.equal(found, b.size, 'every row at its hash\'s index')
  t.equal(Array.from(rows).filter(r => r >= 0).length, b.size, 'no other index has a row')
  // The generator rarely hits one of the few cells: the loop retries, then stops short; what it queried is distinct and counted.
  const r = await agnet({ epochs: 1, retries: 1 }).run({ bench: b, budget: 32, seed: 0, metric: 'val' })
  t.ok(r.rows.length >= 16 && r.rows.length <= 32)
  t.equal(new Set(r.rows).size, r.rows.length)
})
