import t, { type Test } from 'tap'
import { nb101GraphBatch, nb201GraphBatch, nb201, NB201_SIZE, type GraphBatch } from '../lib/index'
import { graph201Ref } from './reference/nb201'
import { graph101Ref, packBits, unpackBitsRef } from './reference/nb101-graph'
import { README_CELL } from './reference/nb101'
import { rng } from './reference/random'

/** Graph g of a batch as nested arrays. */
function graphAt (b: GraphBatch, g: number): { A: number[][]; X: number[][]; mask: number[] } {
  const V = b.vertices; const F = b.features
  const A = Array.from({ length: V }, (_, i) => Array.from(b.adjacency.subarray(g * V * V + i * V, g * V * V + i * V + V)))
  const X = Array.from({ length: V }, (_, i) => Array.from(b.x.subarray(g * V * F + i * F, g * V * F + i * F + F)))
  const mask = Array.from(b.mask.subarray(g * V, g * V + V))
  return { A, X, mask }
}

function checkShape (t: Test, b: GraphBatch, count: number, V: number, F: number) {
  t.equal(b.count, count); t.equal(b.vertices, V); t.equal(b.features, F)
  t.ok(b.adjacency instanceof Float32Array && b.adjacency.length === count * V * V, 'adjacency: Float32Array count*V*V')
  t.ok(b.x instanceof Float32Array && b.x.length === count * V * F, 'x: Float32Array count*V*F')
  t.ok(b.mask instanceof Float32Array && b.mask.length === count * V, 'mask: Float32Array count*V')
}

// ---- NB-101 cells built from matrices, packed with the contract's bit formula ----------

interface Cell { matrix: number[][]; ops: number[] }

function cells (list: Cell[]) {
  const count = list.length
  const vertices = new Uint8Array(count)
  const adjacency = new Uint32Array(count)
  const ops = new Uint8Array(count * 7).fill(255)
  const hash = new Uint8Array(count * 16)
  list.forEach((c, k) => {
    vertices[k] = c.matrix.length
    adjacency[k] = packBits(c.matrix)
    c.ops.forEach((o, v) => { ops[k * 7 + v] = o })
  })
  return { count, vertices, adjacency, ops, hash }
}

function randomCell (rand: () => number): Cell {
  const V = 2 + Math.floor(rand() * 6)
  const density = rand()
  const matrix = Array.from({ length: V }, (_, i) => Array.from({ length: V }, (_, j) => (j > i && rand() < density ? 1 : 0)))
  const ops = Array.from({ length: V }, (_, v) => (v === 0 ? 0 : v === V - 1 ? 4 : 1 + Math.floor(rand() * 3)))
  return { matrix, ops }
}

/** The NAS-Bench-101 README's example graph with every interior op a 3×3 conv but vertex 5 (max-pool). */
const EXAMPLE: Cell = { matrix: README_CELL.matrix, ops: [0, 2, 2, 2, 2, 3, 4] }

t.test('NB-101: bit layout of the contract', async t => {
  // edge i→j is bit i*7 − i(i+1)/2 + (j−i−1)
  t.equal(packBits(EXAMPLE.matrix), 2 ** 0 + 2 ** 1 + 2 ** 2 + 2 ** 4 + 2 ** 10 + 2 ** 14 + 2 ** 15 + 2 ** 19 + 2 ** 20)
  const rand = rng(1)
  for (let k = 0; k < 200; k++) {
    const c = randomCell(rand)
    t.same(unpackBitsRef(packBits(c.matrix), c.matrix.length), c.matrix)
  }
})

t.test('NB-101: hand-checked cells', async t => {
  const five: Cell = {
    matrix: [
      [0, 1, 0, 1, 0],
      [0, 0, 1, 0, 0],
      [0, 0, 0, 0, 1],
      [0, 0, 0, 0, 1],
      [0, 0, 0, 0, 0]
    ],
    ops: [0, 1, 3, 2, 4]
  }
  const two: Cell = { matrix: [[0, 1], [0, 0]], ops: [0, 4] }
  const b = nb101GraphBatch(cells([EXAMPLE, five, two]))
  checkShape(t, b, 3, 7, 5)
  const g0 = graphAt(b, 0)
  t.same(g0.A, EXAMPLE.matrix, 'a full 7-vertex cell is unchanged')
  t.same(g0.mask, [1, 1, 1, 1, 1, 1, 1])
  t.same(g0.X.map(r => r.indexOf(1)), [0, 2, 2, 2, 2, 3, 4])
  const g1 = graphAt(b, 1)
  t.same(g1.A, [
    [0, 1, 0, 1, 0, 0, 0],
    [0, 0, 1, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0]
  ], 'a 5-vertex cell: zero rows/cols inserted before the output, which moves to vertex 6')
  t.same(g1.mask, [1, 1, 1, 1, 0, 0, 1])
  t.same(g1.X, [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1]])
  const g2 = graphAt(b, 2)
  t.same(g2.A[0], [0, 0, 0, 0, 0, 0, 1], 'input → output lands at column 6')
  t.same(g2.mask, [1, 0, 0, 0, 0, 0, 1])
  t.equal(g2.A.flat().reduce((a, v) => a + v, 0), 1)
})

t.test('NB-101: random cells against the per-cell reference, with indices', async t => {
  const rand = rng(7)
  const list = Array.from({ length: 3000 }, () => randomCell(rand))
  const batch = cells(list)
  const b = nb101GraphBatch(batch)
  checkShape(t, b, list.length, 7, 5)
  let bad = 0
  for (let g = 0; g < list.length; g++) {
    const r = graph101Ref(list[g].matrix, list[g].ops)
    if (JSON.stringify(graphAt(b, g)) !== JSON.stringify(r)) bad++
  }
  t.equal(bad, 0, 'every cell matches the reference')
  const indices = [2999, 0, 5, 5, 1234]
  const sub = nb101GraphBatch(batch, indices)
  checkShape(t, sub, indices.length, 7, 5)
  t.ok(indices.every((c, g) => JSON.stringify(graphAt(sub, g)) === JSON.stringify(graphAt(b, c))), 'indices select (and may repeat) cells')
  t.ok(nb101GraphBatch(batch, Uint32Array.from(indices)).adjacency.every((v, i) => v === sub.adjacency[i]), 'indices as a typed array')
  const empty = nb101GraphBatch(cells([]))
  checkShape(t, empty, 0, 7, 5)
  checkShape(t, nb101GraphBatch(batch, []), 0, 7, 5)
  // the hash field is not needed
  const { hash: _unused, ...noHash } = batch
  t.equal(nb101GraphBatch(noHash).count, 3000)
})

t.test('NB-101: malformed cells are refused with the cell named', async t => {
  const good = () => cells([EXAMPLE, { matrix: [[0, 1, 0], [0, 0, 1], [0, 0, 0]], ops: [0, 3, 4] }])
  const fn = /^nb101GraphBatch: /
  let c = good(); c.vertices[1] = 8
  t.throws(() => nb101GraphBatch(c), { name: 'RangeError', message: /cells\.vertices\[1\] is 8; a cell has 2\.\.7 vertices/ })
  c = good(); c.vertices[1] = 1
  t.throws(() => nb101GraphBatch(c), { name: 'RangeError', message: /cells\.vertices\[1\] is 1/ })
  c = good(); c.adjacency[1] |= 1 << 3 // edge 0→4 in a 3-vertex cell
  t.throws(() => nb101GraphBatch(c), { name: 'RangeError', message: /cells\.adjacency\[1\] has bit 3 \(edge 0→4\) but the cell has only 3 vertices/ })
  c = good(); c.adjacency[0] = (c.adjacency[0] | (1 << 21)) >>> 0
  t.throws(() => nb101GraphBatch(c), { name: 'RangeError', message: /cells\.adjacency\[0\] has bit 21 \(beyond the 21 bits of a 7×7 upper triangle\)/ })
  c = good(); c.adjacency[0] = (c.adjacency[0] | 0x80000000) >>> 0
  t.throws(() => nb101GraphBatch(c), { name: 'RangeError', message: /has bit 31/ })
  c = good(); c.ops[7 + 1] = 4
  t.throws(() => nb101GraphBatch(c), { name: 'RangeError', message: /cells\.ops\[8\] \(cell 1, vertex 1 of 3\) is 4; inner vertices take op codes 1\.\.3/ })
  c = good(); c.ops[7 + 2] = 255
  t.throws(() => nb101GraphBatch(c), { name: 'RangeError', message: /cells\.ops\[9\] \(cell 1, vertex 2 of 3\) is 255; the last vertex must be the output \(4\)/ })
  c = good(); c.ops[0] = 1
  t.throws(() => nb101GraphBatch(c), { name: 'RangeError', message: /cells\.ops\[0\] \(cell 0, vertex 0 of 7\) is 1; vertex 0 must be the input \(0\)/ })
  c = good(); c.ops[7 + 5] = 0 // beyond V: ignored
  t.equal(nb101GraphBatch(c).count, 2, 'bytes beyond V are not read')
  c = good()
  t.throws(() => nb101GraphBatch({ ...c, vertices: new Uint8Array(3) }), { name: 'RangeError', message: /cells\.vertices has length 3, expected 2 for count 2/ })
  t.throws(() => nb101GraphBatch({ ...c, ops: new Uint8Array(13) }), { name: 'RangeError', message: /cells\.ops has length 13, expected 14/ })
  t.throws(() => nb101GraphBatch({ ...c, adjacency: Array.from(c.adjacency) as unknown as Uint32Array }), { name: 'TypeError', message: /cells\.adjacency must be a Uint32Array, got an array/ })
  t.throws(() => nb101GraphBatch({ ...c, count: -1 }), { name: 'TypeError', message: /cells\.count must be a non-negative integer/ })
  t.throws(() => nb101GraphBatch(null as unknown as ReturnType<typeof good>), { name: 'TypeError', message: fn })
  t.throws(() => nb101GraphBatch(c, [2]), { name: 'RangeError', message: /indices\[0\] must be an integer in \[0, 1\], got 2/ })
  t.throws(() => nb101GraphBatch(c, [0.5]), { name: 'RangeError', message: /indices\[0\]/ })
  t.throws(() => nb101GraphBatch(c, 1 as unknown as number[]), { name: 'TypeError', message: /indices must be an array or typed array of integers/ })
})

t.test('NB-201: all 15,625 against the per-architecture reference', async t => {
  const all = nb201.all()
  const b = nb201GraphBatch(all)
  checkShape(t, b, NB201_SIZE, 8, 6)
  let bad = 0; let first = ''
  for (let g = 0; g < NB201_SIZE; g++) {
    const r = graph201Ref(all.subarray(6 * g, 6 * g + 6))
    if (JSON.stringify(graphAt(b, g)) !== JSON.stringify(r) && bad++ === 0) first = nb201.format(all.subarray(6 * g, 6 * g + 6))
  }
  t.equal(bad, 0, `every architecture matches${first ? `; first failure ${first}` : ''}`)
  const indices = [15624, 0, 77, 77]
  const sub = nb201GraphBatch(all, indices)
  t.ok(indices.every((i, g) => JSON.stringify(graphAt(sub, g)) === JSON.stringify(graphAt(b, i))), 'indices select architectures')
  checkShape(t, nb201GraphBatch(new Uint8Array(0)), 0, 8, 6)
})

t.test('NB-201: hand-checked graph', async t => {
  // 1←0 conv3, 2←0 none, 2←1 conv3, 3←0 skip, 3←1 none, 3←2 conv1
  const b = nb201GraphBatch(nb201.parse('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'))
  const g = graphAt(b, 0)
  t.same(g.mask, [1, 1, 0, 1, 1, 0, 1, 1])
  t.same(g.X.map(r => r.indexOf(1)), [0, 3, -1, 3, 1, -1, 2, 5])
  const links: Array<[number, number]> = []
  g.A.forEach((row, i) => row.forEach((v, j) => { if (v) links.push([i, j]) }))
  t.same(links, [[0, 1], [0, 4], [1, 3], [3, 6], [4, 7], [6, 7]])
  t.same(nb201.toDag(nb201.parse('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|'), { keepNone: true }).matrix, g.A,
    'toDag(keepNone) and the graph batch agree')
  t.throws(() => nb201GraphBatch([0, 0, 0, 0, 0, 0] as unknown as Uint8Array), { name: 'TypeError', message: /^nb201GraphBatch: ops must be a Uint8Array/ })
  t.throws(() => nb201GraphBatch(Uint8Array.from([0, 0, 0, 0, 0, 5])), { name: 'RangeError', message: /^nb201GraphBatch: ops\[5\] \(architecture 0, edge 3←2\) is 5/ })
  t.throws(() => nb201GraphBatch(new Uint8Array(6), [1]), { name: 'RangeError', message: /^nb201GraphBatch: indices\[0\] must be an integer in \[0, 0\], got 1/ })
})
