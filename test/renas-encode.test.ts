import t, { type Test } from 'tap'
import * as os from 'node:os'
import * as path from 'node:path'
import { nb101, renasEncode, renasEncodeAsync, renasVertexOrder, RENAS_TYPE_CODES, type Nb101Spec } from '../lib/index'
import * as ref from './reference/nb101'
import { rng } from './reference/random'

const C3 = 'conv3x3-bn-relu'; const C1 = 'conv1x1-bn-relu'; const MP = 'maxpool3x3'

function randomValid (rand: () => number, count: number): Nb101Spec[] {
  const out: Nb101Spec[] = []
  while (out.length < count) {
    const raw = ref.randomRaw(rand, 2 + Math.floor(rand() * 6), 0.3 + 0.3 * rand())
    if (ref.isValid(raw.matrix, raw.ops)) out.push(ref.prune(raw.matrix, raw.ops)!)
  }
  return out
}

/** Flattens the reference [c][i][j] tensor in the requested layout. */
function flatten (x: number[][][], layout: 'nchw' | 'nhwc'): number[] {
  const c = x.length
  const out = new Array<number>(c * 49)
  for (let ch = 0; ch < c; ch++) {
    for (let i = 0; i < 7; i++) {
      for (let j = 0; j < 7; j++) out[layout === 'nchw' ? (ch * 7 + i) * 7 + j : (i * 7 + j) * c + ch] = x[ch][i][j]
    }
  }
  return out
}


/** Bytewise equality of two typed arrays (tap's deep compare is slow on large ones). */
function sameBytes (t: Test, a: ArrayBufferView, b: ArrayBufferView, what: string) {
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength)
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  t.ok(x.length === y.length && x.equals(y), what)
}

const rand = rng(19)
const specs: Nb101Spec[] = [
  { matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] },
  // a diamond: two vertices of equal depth
  { matrix: [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ops: ['input', C1, MP, 'output'] },
  // vertex order differs from depth order: 0->2->1 impossible (upper triangular), but 0->1, 0->2->3, 1->3: depths 0,1,1,2
  { matrix: [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]], ops: ['input', C3, C1, MP, 'output'] },
  ...randomValid(rand, 250)
]
const cells = nb101.toCells(specs)

t.test('type codes are the paper\'s: nasrank op code + 1', async t => {
  t.same(RENAS_TYPE_CODES, { input: 1, 'conv1x1-bn-relu': 2, 'conv3x3-bn-relu': 3, maxpool3x3: 4, output: 5 })
  const x = renasEncode([specs[1]], { channels: 1 })
  t.equal(x.length, 49)
  // depth order: input, conv1x1, maxpool (tie kept in index order), padding, padding, output at 6
  const expected = new Array(49).fill(0)
  expected[0 * 7 + 1] = 2; expected[0 * 7 + 2] = 4; expected[1 * 7 + 6] = 5; expected[2 * 7 + 6] = 5
  t.same(Array.from(x), expected)
  // the 2-vertex cell: the only edge input -> output lands at (0, 6)
  const two = renasEncode([specs[0]])
  t.equal(two.length, 19 * 49)
  t.equal(two[6], 5)
  const cost = nb101.cost(specs[0])
  for (let k = 0; k < 9; k++) {
    t.equal(two[(1 + k) * 49 + 6], Math.fround(cost.vertexFlops[k][1]), `FLOPs of the output projection, cell ${k + 1}`)
    t.equal(two[(10 + k) * 49 + 6], Math.fround(cost.vertexParams[k][1]), `params of the output projection, cell ${k + 1}`)
  }
})

t.test('vertices are ordered by longest-path depth from the input', async t => {
  // 0->1, 0->2, 2->3, 1->4, 3->4: depths 0, 1, 1, 2, 3 — already in depth order
  t.same(Array.from(renasVertexOrder([specs[2]])), [0, 1, 2, 3, 255, 255, 4])
  // a cell whose index order is not depth order: 0->1->2->4 and 0->3... depth(3) = 1 < depth(2) = 2
  const s: Nb101Spec = { matrix: [[0, 1, 0, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]], ops: ['input', C3, C1, MP, 'output'] }
  t.same(Array.from(renasVertexOrder([s])), [0, 1, 3, 2, 255, 255, 4])
  const x = renasEncode([s], { channels: 1 })
  // positions: 0 input, 1 = v1 (conv3x3), 2 = v3 (maxpool), 3 = v2 (conv1x1), 6 = output
  const expected = new Array(49).fill(0)
  expected[0 * 7 + 1] = 3; expected[0 * 7 + 2] = 4; expected[1 * 7 + 3] = 2; expected[3 * 7 + 6] = 5; expected[2 * 7 + 6] = 5
  t.same(Array.from(x), expected)
})

t.test('matches the JS reference for every layout, channel count and scale', async t => {
  for (const layout of ['nchw', 'nhwc'] as const) {
    for (const channels of [19, 1] as const) {
      for (const [flopsScale, paramsScale] of [[1, 1], [1e-7, 1e-5]]) {
        const x = renasEncode(cells, { layout, channels, flopsScale, paramsScale })
        t.equal(x.length, cells.count * channels * 49)
        let mismatches = 0
        for (let k = 0; k < specs.length; k++) {
          const expected = flatten(ref.renasTensor(specs[k], { channels, augment: false, seed: 0, stream: k, flopsScale, paramsScale }), layout)
          const got = x.subarray(k * channels * 49, (k + 1) * channels * 49)
          for (let e = 0; e < expected.length; e++) if (got[e] !== expected[e]) mismatches++
        }
        t.equal(mismatches, 0, `${layout}, ${channels} channels, scale ${flopsScale}/${paramsScale}`)
      }
    }
  }
  // specs and columns encode alike; the type-only variant is channel 0 of the full tensor
  const full = renasEncode(cells)
  sameBytes(t, renasEncode(specs), full, 'specs encode as their columns')
  const typeOnly = renasEncode(cells, { channels: 1 })
  for (let k = 0; k < cells.count; k++) {
    if (Buffer.compare(Buffer.from(typeOnly.buffer, k * 49 * 4, 49 * 4), Buffer.from(full.buffer, k * 19 * 49 * 4, 49 * 4)) !== 0) t.fail(`type channel of cell ${k}`)
  }
  sameBytes(t, await renasEncodeAsync(cells, { layout: 'nhwc' }), renasEncode(cells, { layout: 'nhwc' }), 'async = sync')
})

t.test('augmentation shuffles only vertices of equal depth, reproducibly', async t => {
  const seeds = [0, 1, 12345, 2 ** 40 + 7]
  for (const seed of seeds) {
    const x = renasEncode(cells, { augment: true, seed })
    const order = renasVertexOrder(cells, { augment: true, seed })
    sameBytes(t, renasEncode(cells, { augment: true, seed }), x, `seed ${seed}: deterministic`)
    let mismatches = 0
    for (let k = 0; k < specs.length; k++) {
      const expectedOrder = ref.renasOrder(specs[k], true, seed, k)
      if (Array.from(order.subarray(k * 7, k * 7 + 7)).join() !== expectedOrder.join()) mismatches++
      const expected = flatten(ref.renasTensor(specs[k], { channels: 19, augment: true, seed, stream: k, flopsScale: 1, paramsScale: 1 }), 'nchw')
      const got = x.subarray(k * 931, (k + 1) * 931)
      for (let e = 0; e < 931; e++) if (got[e] !== expected[e]) { mismatches++; break }
    }
    t.equal(mismatches, 0, `seed ${seed}: equals the reference (lib/random's generator drawn in native code)`)
  }
  // the permutations keep depth order, so the matrices stay strictly upper triangular,
  // and they differ between seeds for cells with ties
  const plain = renasEncode(cells, { channels: 1 })
  const a = renasEncode(cells, { channels: 1, augment: true, seed: 1 })
  const b = renasEncode(cells, { channels: 1, augment: true, seed: 2 })
  let changed = 0; let lower = 0
  for (let k = 0; k < cells.count; k++) {
    const pa = a.subarray(k * 49, k * 49 + 49); const pb = b.subarray(k * 49, k * 49 + 49)
    for (let i = 0; i < 7; i++) for (let j = 0; j <= i; j++) if (pa[i * 7 + j] !== 0) lower++
    if (pa.join() !== pb.join()) changed++
    const sorted = (v: Float32Array) => Array.from(v).sort((p, q) => p - q).join()
    if (sorted(pa) !== sorted(plain.subarray(k * 49, k * 49 + 49))) t.fail(`cell ${k}: entries changed, not just moved`)
  }
  t.equal(lower, 0, 'upper triangular')
  t.ok(changed > 5, `${changed} type matrices differ between seeds 1 and 2`)
  // a cell's permutation depends on its index in `cells`, not on the selection
  const idx = [5, 3, 5, 200]
  const sel = renasEncode(cells, { augment: true, seed: 9, indices: idx })
  const whole = renasEncode(cells, { augment: true, seed: 9 })
  for (let k = 0; k < idx.length; k++) {
    sameBytes(t, sel.subarray(k * 931, (k + 1) * 931), whole.subarray(idx[k] * 931, (idx[k] + 1) * 931), `indices[${k}]`)
  }
  sameBytes(t, renasEncode(cells, { indices: Uint32Array.from(idx) }), renasEncode(nb101.select(cells, idx)), 'indices without augmentation = select')
  t.same(renasVertexOrder(cells, { indices: [2] }), renasVertexOrder([specs[2]]))
})

t.test('encodes the whole space', async t => {
  // a cache shared by test runs (never the user's): computed once, then read
  const all = await nb101.enumerate({ cache: process.env.NASRANK_CACHE ?? path.join(os.tmpdir(), 'nasrank-test-cache') })
  const idx = nb101.sampleIndices(all, 500, 3)
  const x = await renasEncodeAsync(all, { indices: idx, layout: 'nhwc' })
  t.equal(x.length, 500 * 931)
  for (let k = 0; k < 500; k++) {
    const s = nb101.cellAt(all, idx[k])
    const expected = flatten(ref.renasTensor(s, { channels: 19, augment: false, seed: 0, stream: idx[k], flopsScale: 1, paramsScale: 1 }), 'nhwc')
    const got = x.subarray(k * 931, (k + 1) * 931)
    for (let e = 0; e < 931; e++) if (got[e] !== expected[e]) { t.fail(`cell ${idx[k]}`); break }
  }
})

t.test('validation names the argument', async t => {
  t.throws(() => renasEncode(cells, { channels: 2 as never }), { name: 'RangeError', message: /renasEncode: channels must be 19 or 1, got number 2/ })
  t.throws(() => renasEncode(cells, { layout: 'chw' as never }), { name: 'TypeError', message: /layout must be one of 'nchw', 'nhwc'/ })
  t.throws(() => renasEncode(cells, { seed: -1 }), { name: 'RangeError', message: /renasEncode: seed must be an integer/ })
  t.throws(() => renasEncode(cells, { augment: 1 as never }), { name: 'TypeError', message: /augment must be a boolean/ })
  t.throws(() => renasEncode(cells, { flopsScale: Infinity }), { name: 'RangeError', message: /flopsScale must be finite/ })
  t.throws(() => renasEncode(cells, { indices: [cells.count] }), { name: 'RangeError', message: /indices\[0\] is 253 but there are only 253 cells/ })
  t.throws(() => renasEncode(cells, { indices: Uint32Array.of(0, 999) }), { name: 'RangeError', message: /indices\[1\] is 999/ })
  t.throws(() => renasEncode(cells, { indices: [0.5] }), { name: 'TypeError', message: /indices\[0\] must be an integer/ })
  t.throws(() => renasEncode(cells, { colour: 1 } as never), { name: 'TypeError', message: /unknown option 'colour'/ })
  t.throws(() => renasEncode([{ matrix: [[0, 0], [0, 0]], ops: ['input', 'output'] }]), { name: 'InvalidCellError', rule: 'disconnected', message: /renasEncode: specs\[0\]: invalid cell/ })
  t.throws(() => renasEncode('cells' as never), { name: 'TypeError', message: /renasEncode: cells must be an Nb101Cells object/ })
  const bad = nb101.select(cells, [0, 1])
  bad.adjacency[1] = 0
  t.throws(() => renasEncode(bad), { name: 'RangeError', message: /renasEncode: cells\[1\] is not a valid pruned cell \(rule 'disconnected'\)/ })
  await t.rejects(renasEncodeAsync(bad), { name: 'RangeError', message: /^renasEncodeAsync: cells\[1\]/ })
  await t.rejects(renasEncodeAsync(cells, { channels: 3 as never }), { name: 'RangeError', message: /renasEncodeAsync: channels/ })
  t.same(renasEncode([]), new Float32Array(0))
  t.same(renasEncode(cells, { indices: [] }), new Float32Array(0))
})
