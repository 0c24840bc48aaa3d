import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { nb101, Random, type Nb101Cells, type Nb101Spec } from '../lib/index'
import { addon } from '../lib/native'
import * as ref from './reference/nb101'
import { rng } from './reference/random'

const INCEPTION = ref.README_CELL as Nb101Spec
// The same cell as the official dataset stores it (the README's query output shows this
// module_adjacency / module_operations for the cell above).
const INCEPTION_STORED: Nb101Spec = {
  matrix: [
    [0, 1, 1, 1, 1, 0, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0]
  ],
  ops: ['input', 'conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3', 'conv3x3-bn-relu', 'conv3x3-bn-relu', 'output']
}

const C3 = 'conv3x3-bn-relu'; const C1 = 'conv1x1-bn-relu'; const MP = 'maxpool3x3'

/** Random valid pruned cells from the JS reference (raw draws kept until valid). */
function randomValid (rand: () => number, count: number, p = 0.5): ref.RefSpec[] {
  const out: ref.RefSpec[] = []
  while (out.length < count) {
    const n = 2 + Math.floor(rand() * 6)
    const raw = ref.randomRaw(rand, n, p)
    if (ref.isValid(raw.matrix, raw.ops)) out.push(ref.prune(raw.matrix, raw.ops)!)
  }
  return out
}

function cellsEqual (t: Test, a: Nb101Cells, b: Nb101Cells, what: string) {
  t.equal(a.count, b.count, `${what}: count`)
  t.ok(Buffer.from(a.vertices).equals(Buffer.from(b.vertices)), `${what}: vertices`)
  t.ok(Buffer.from(a.adjacency.buffer, a.adjacency.byteOffset, a.adjacency.byteLength).equals(Buffer.from(b.adjacency.buffer, b.adjacency.byteOffset, b.adjacency.byteLength)), `${what}: adjacency`)
  t.ok(Buffer.from(a.ops).equals(Buffer.from(b.ops)), `${what}: ops`)
  t.ok(Buffer.from(a.hash).equals(Buffer.from(b.hash)), `${what}: hash`)
}

t.test('the README Inception-like cell', async t => {
  const s = nb101.spec(INCEPTION.matrix, INCEPTION.ops)
  t.same(s, INCEPTION, 'already pruned: unchanged')
  t.equal(nb101.params(s), 2694282, 'trainable_parameters of the official dataset')
  t.equal(nb101.hash(s), ref.hashSpec(INCEPTION), 'hash = JS transcription of graph_util.hash_module')
  t.equal(nb101.hash(INCEPTION_STORED), nb101.hash(INCEPTION), 'the stored form is the same architecture')
  t.ok(nb101.equal(INCEPTION, INCEPTION_STORED))
  t.equal(nb101.params(INCEPTION_STORED), 2694282)
  const c = nb101.cost(s)
  t.equal(c.params, 2694282)
  t.equal(c.flops, ref.networkCost(INCEPTION).flops)
  t.same(c.vertexParams, ref.networkCost(INCEPTION).vertexParams)
  t.same(c.vertexFlops, ref.networkCost(INCEPTION).vertexFlops)
})

t.test('pruning matches nasbench ModelSpec._prune', async t => {
  // Vertex 2 has no way to the output, vertex 3 no way from the input: both removed, order kept.
  const m = [
    [0, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 1, 0],
    [0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0]
  ]
  const ops = ['input', C1, MP, C3, C3, 'output']
  t.same(nb101.spec(m, ops), { matrix: [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]], ops: ['input', C1, C3, 'output'] })
  // input -> output directly: the 2-vertex cell
  t.same(nb101.spec([[0, 1, 1], [0, 0, 0], [0, 0, 0]], ['input', C3, 'output']), { matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] })
  t.same(nb101.spec([[0, 1], [0, 0]], ['input', 'output']), { matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] })
  // K7 without vertex 5: pruning removes vertex 5, leaving K6 with 15 edges
  const k6 = Array.from({ length: 7 }, (_, i) => Array.from({ length: 7 }, (_, j) => (j > i && i !== 5 && j !== 5 ? 1 : 0)))
  t.equal(ref.prune(k6, ['input', C3, C3, C3, C3, C3, 'output'])!.matrix.flat().reduce((a, b) => a + b, 0), 15, 'fixture: 15 edges left')
  t.throws(() => nb101.spec(k6, ['input', C3, C3, C3, C3, C3, 'output']), { name: 'InvalidCellError', rule: 'max-edges', message: /nb101\.spec: invalid cell \(rule 'max-edges'\): 15 edges remain after pruning; at most 9/ })
  const raw = [
    [0, 1, 1, 1, 1, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0],  // vertex 5 dangles: its in-edge disappears with it
    [0, 0, 0, 0, 0, 0, 0]
  ]
  raw[5][6] = 0
  raw[0][6] = 1
  raw[1][2] = 1
  raw[2][3] = 1
  // 12 raw edges; vertex 5 (1 in-edge) removed -> 11 edges: invalid; drop two -> 9: valid
  t.equal(raw.flat().reduce((a, b) => a + b, 0), 12)
  t.throws(() => nb101.spec(raw, ['input', C3, C3, C3, C3, C3, 'output']), { rule: 'max-edges', message: /11 edges remain/ })
  raw[1][2] = 0; raw[2][3] = 0
  const s = nb101.spec(raw, ['input', C3, C3, C3, C3, MP, 'output'])
  t.equal(s.ops.length, 6)
  t.equal(s.matrix.flat().reduce((a, b) => a + b, 0), 9, '9 edges after pruning: valid although 10 before')
  t.notOk(ref.isValid([[0, 0], [0, 0]], ['input', 'output']))
})

t.test('every rule is named in the error', async t => {
  const ok3 = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
  const cases: Array<[string, unknown, unknown, RegExp]> = [
    ['shape', [[0, 1], [0, 0], [0, 0]], ['input', C3, 'output'], /matrix\[0\] has 2 entries, expected 3/],
    ['shape', [[0]], ['input'], /1 rows; a cell has 2 to 7/],
    ['shape', [], [], /0 rows/],
    ['shape', Array.from({ length: 8 }, () => new Array(8).fill(0)), new Array(8).fill(C3), /8 rows/],
    ['shape', ok3, ['input', 'output'], /ops has 2 labels but the matrix has 3 rows/],
    ['entries', [[0, 2, 0], [0, 0, 1], [0, 0, 0]], ['input', C3, 'output'], /matrix\[0\]\[1\] is 2; entries must be 0 or 1/],
    ['entries', [[0, 0.5, 0], [0, 0, 1], [0, 0, 0]], ['input', C3, 'output'], /is 0.5/],
    ['entries', [[0, -1, 0], [0, 0, 1], [0, 0, 0]], ['input', C3, 'output'], /is -1/],
    ['upper-triangular', [[0, 1, 0], [0, 1, 1], [0, 0, 0]], ['input', C3, 'output'], /matrix\[1\]\[1\] is 1 but the matrix must be strictly upper triangular/],
    ['upper-triangular', [[0, 1, 0], [0, 0, 1], [1, 0, 0]], ['input', C3, 'output'], /matrix\[2\]\[0\]/],
    ['labels', ok3, [C3, C3, 'output'], /ops\[0\] must be 'input', got 'conv3x3-bn-relu'/],
    ['labels', ok3, ['input', C3, C1], /ops\[2\] \(the last vertex\) must be 'output'/],
    ['labels', ok3, ['input', 'output', 'output'], /ops\[1\] must be 'conv3x3-bn-relu', 'conv1x1-bn-relu' or 'maxpool3x3', got 'output'/],
    ['labels', ok3, ['input', 'conv5x5', 'output'], /ops\[1\] is "conv5x5"; labels are 'input'/],
    ['labels', ok3, ['input', 'toString', 'output'], /ops\[1\] is "toString"/],
    ['disconnected', [[0, 0, 0], [0, 0, 1], [0, 0, 0]], ['input', C3, 'output'], /no path leads from the input \(vertex 0\) to the output \(vertex 2\)/],
    ['disconnected', [[0, 0], [0, 0]], ['input', 'output'], /no path/],
    ['max-edges', Array.from({ length: 7 }, (_, i) => Array.from({ length: 7 }, (_, j) => (j > i ? 1 : 0))), ['input', C3, C3, C3, C3, C3, 'output'], /21 edges remain after pruning; at most 9/]
  ]
  for (const [rule, m, ops, message] of cases) {
    t.throws(() => nb101.spec(m as number[][], ops as string[]), { name: 'InvalidCellError', rule, message }, `${rule}: ${message}`)
    const err = (() => { try { nb101.spec(m as number[][], ops as string[]) } catch (e) { return e } })()
    t.ok(err instanceof RangeError && err instanceof nb101.InvalidCellError, 'an InvalidCellError is a RangeError')
    t.equal(nb101.isValid(m as number[][], ops as string[]), false, `isValid false: ${rule}`)
    const c = nb101.check(m as number[][], ops as string[])
    t.equal(c.valid, false)
    if (!c.valid) t.equal(c.rule, rule)
  }
  // booleans are accepted as 0/1
  t.same(nb101.spec([[false, true], [false, false]] as never, ['input', 'output']), { matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] })
  t.same(nb101.spec([Uint8Array.of(0, 1), Uint8Array.of(0, 0)] as never, ['input', 'output']).ops, ['input', 'output'], 'typed-array rows')
})

t.test('wrongly typed input is a TypeError naming the argument', async t => {
  t.throws(() => nb101.spec('x' as never, []), { name: 'TypeError', message: /nb101\.spec: matrix must be an array of rows, got the string "x"/ })
  t.throws(() => nb101.spec([[0, 1], [0, 0]], 'ab' as never), { name: 'TypeError', message: /ops must be an array of labels/ })
  t.throws(() => nb101.spec([[0, 1], 5] as never, ['input', 'output']), { name: 'TypeError', message: /matrix\[1\] must be an array, got number 5/ })
  t.throws(() => nb101.spec([[0, '1'], [0, 0]] as never, ['input', 'output']), { name: 'TypeError', message: /matrix\[0\]\[1\] must be 0 or 1, got the string "1"/ })
  t.throws(() => nb101.spec([[0, 1], [0, 0]], ['input', 4] as never), { name: 'TypeError', message: /ops\[1\] must be a string, got number 4/ })
  t.throws(() => nb101.isValid([[0, null], [0, 0]] as never, ['input', 'output']), { name: 'TypeError', message: /nb101\.check: matrix\[0\]\[1\] must be 0 or 1, got null/ })
  t.throws(() => nb101.hash(null as never), { name: 'TypeError', message: /nb101\.hash: cell must be an object \{ matrix, ops \}, got null/ })
  t.throws(() => nb101.params([] as never), { name: 'TypeError', message: /nb101\.params: cell must be an object/ })
  t.throws(() => nb101.hash({ matrix: [[0, 1], [0, 0]], ops: ['input'] }), { name: 'InvalidCellError', rule: 'shape' })
})

t.test('validity and pruning agree with the reference on random raw cells', async t => {
  const rand = rng(101)
  let valid = 0
  for (let k = 0; k < 3000; k++) {
    const n = 2 + Math.floor(rand() * 6)
    const raw = ref.randomRaw(rand, n, [0.2, 0.4, 0.6][k % 3])
    const expected = ref.isValid(raw.matrix, raw.ops)
    const got = nb101.check(raw.matrix, raw.ops)
    if (got.valid !== expected) { t.fail(`validity of ${JSON.stringify(raw)}: ${got.valid} vs ${expected}`); continue }
    if (got.valid) {
      valid++
      const pruned = ref.prune(raw.matrix, raw.ops)!
      if (JSON.stringify(got.spec) !== JSON.stringify(pruned)) t.fail(`pruned form of ${JSON.stringify(raw)}`)
      if (got.hash !== ref.hashSpec(pruned)) t.fail(`hash of ${JSON.stringify(raw)}`)
    } else {
      const pruned = ref.prune(raw.matrix, raw.ops)
      t.equal(got.rule, pruned ? 'max-edges' : 'disconnected', 'the rule of a well-formed invalid cell')
    }
  }
  t.ok(valid > 500, `${valid} valid cells among 3000 compared`)
})

t.test('hash equals the JS transcription and is invariant under relabelling', async t => {
  const rand = rng(7)
  const cells = randomValid(rand, 400)
  let permuted = 0
  for (const s of cells) {
    const h = nb101.hash(s)
    t.equal(h.length, 32)
    if (h !== ref.hashSpec(s)) t.fail(`hash of ${JSON.stringify(s)}`)
    for (let r = 0; r < 3; r++) {
      const order = ref.randomTopologicalOrder(s, rand)
      const p = ref.permute(s, order)
      if (nb101.hash(p) !== h) t.fail(`hash changes under the relabelling ${order} of ${JSON.stringify(s)}`)
      if (order.some((v, k) => v !== k)) permuted++
      // the reference itself is invariant under any permutation fixing input and output
      const interior = order.slice(1, -1).sort(() => rand() - 0.5)
      const q = ref.permute(s, [0, ...interior, s.ops.length - 1])
      if (ref.hashSpec(q) !== h) t.fail('reference hash not invariant')
    }
  }
  t.ok(permuted > 100, `${permuted} non-trivial relabellings`)
  // different architectures: different hashes (op change, edge change)
  const a = nb101.spec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ['input', C3, C1, 'output'])
  const b = nb101.spec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ['input', C1, C3, 'output'])
  const c = nb101.spec([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ['input', C3, C3, 'output'])
  const d = nb101.spec([[0, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ['input', C3, C1, 'output'])
  t.equal(nb101.hash(a), nb101.hash(b), 'the two branches swapped: same architecture')
  t.not(nb101.hash(a), nb101.hash(c))
  t.not(nb101.hash(a), nb101.hash(d))
  t.equal(nb101.hash({ matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] }), ref.hashSpec({ matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] }))
})

t.test('cost model equals a layer-by-layer walk of the official network', async t => {
  const rand = rng(3)
  const cells = [...randomValid(rand, 300), { matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] }, INCEPTION]
  for (const s of cells) {
    const expected = ref.networkCost(s)
    const got = nb101.cost(s)
    if (got.params !== expected.params || got.flops !== expected.flops) t.fail(`totals of ${JSON.stringify(s)}: ${got.params}/${got.flops} vs ${expected.params}/${expected.flops}`)
    if (JSON.stringify(got.vertexParams) !== JSON.stringify(expected.vertexParams) || JSON.stringify(got.vertexFlops) !== JSON.stringify(expected.vertexFlops)) t.fail(`per-vertex costs of ${JSON.stringify(s)}`)
    if (nb101.params(s) !== expected.params || nb101.flops(s) !== expected.flops) t.fail('params()/flops()')
  }
  // batch == single, for specs and with per-vertex costs
  const batch = nb101.toCells(cells)
  const all = nb101.costBatch(batch, { perVertex: true })
  t.equal(all.params.length, cells.length)
  t.equal(all.vertexParams!.length, cells.length * 63)
  for (let k = 0; k < cells.length; k++) {
    const c = nb101.cost(cells[k])
    if (all.params[k] !== c.params || all.flops[k] !== c.flops) t.fail(`batch totals of cell ${k}`)
    const v = cells[k].ops.length
    for (let cell = 0; cell < 9; cell++) {
      for (let u = 0; u < 7; u++) {
        const p = all.vertexParams![k * 63 + cell * 7 + u]; const f = all.vertexFlops![k * 63 + cell * 7 + u]
        if (p !== (u < v ? c.vertexParams[cell][u] : 0) || f !== (u < v ? c.vertexFlops[cell][u] : 0)) t.fail(`batch vertex cost ${k}/${cell}/${u}`)
      }
    }
  }
  t.same(nb101.paramsBatch(batch), all.params)
  t.same(nb101.flopsBatch(batch), all.flops)
  t.notOk('vertexParams' in nb101.costBatch(batch))
  t.same(await nb101.costBatchAsync(batch, { perVertex: true }), all)
  // stem + dense only is the floor; the 2-vertex cell has the input->output projection in all 9 cells
  const two = nb101.cost({ matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] })
  const proj = 3 * (128 * 128 + 2 * 128) + 2 * (256 * 256 + 2 * 256) + 2 * (512 * 512 + 2 * 512) + (128 * 256 + 2 * 256) + (256 * 512 + 2 * 512)
  t.equal(two.params, 3 * 3 * 3 * 128 + 2 * 128 + proj + 512 * 10 + 10)
})

t.test('batch inputs are validated cell by cell', async t => {
  const good = nb101.toCells([INCEPTION, { matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] }])
  const broken = (f: (c: Nb101Cells) => void) => { const c = nb101.select(good, [0, 1]); f(c); return c }
  t.throws(() => nb101.costBatch(broken(c => { c.ops[7 + 1] = 2 })), { name: 'RangeError', message: /^nb101\.costBatch: cells\[1\] is not a valid pruned cell \(rule 'labels'\): ops\[1\] \(the last vertex\) must be 'output', got 'conv3x3-bn-relu'/ })
  t.throws(() => nb101.costBatch(broken(c => { c.ops[7 + 2] = 0 })), { name: 'RangeError', message: /cells\[1\].*rule 'shape'.*ops\[2\] is 0 but the cell has 2 vertices; op codes beyond them must be 255/ })
  t.throws(() => nb101.costBatch(broken(c => { c.vertices[1] = 9 })), { name: 'RangeError', message: /cells\[1\].*vertices is 9/ })
  t.throws(() => nb101.costBatch(broken(c => { c.adjacency[1] |= 1 << nb101.edgeBit(0, 3) })), { name: 'RangeError', message: /edge 0 -> 3 but the cell has 2 vertices/ })
  t.throws(() => nb101.costBatch(broken(c => { c.adjacency[0] &= ~(1 << nb101.edgeBit(0, 1)) })), { name: 'RangeError', message: /cells\[0\].*rule 'not-pruned'.*vertex 1 is not on a path/ })
  t.throws(() => nb101.costBatch(broken(c => { c.adjacency[1] = 0 })), { name: 'RangeError', message: /cells\[1\].*rule 'disconnected'/ })
  t.throws(() => nb101.costBatch(broken(c => { c.adjacency[0] = (1 << 21) - 1 })), { name: 'RangeError', message: /cells\[0\].*rule 'max-edges'/ })
  t.throws(() => nb101.costBatch(broken(c => { c.adjacency[0] |= 1 << 25 })), { name: 'RangeError', message: /bits above bit 20/ })
  t.throws(() => nb101.costBatch({ ...good, count: 3 }), { name: 'RangeError', message: /nb101\.costBatch: cells\.count is number 3 but cells\.vertices has 2 entries/ })
  t.throws(() => nb101.costBatch({ ...good, ops: new Uint8Array(13) }), { name: 'RangeError', message: /cells\.ops has 13 entries, expected 7 \* count = 14/ })
  t.throws(() => nb101.costBatch({ ...good, adjacency: new Int32Array(2) } as never), { name: 'TypeError', message: /cells\.adjacency must be a Uint32Array/ })
  t.throws(() => nb101.costBatch(null as never), { name: 'TypeError', message: /cells must be an Nb101Cells object/ })
  t.throws(() => nb101.costBatch(good, { perVertx: true } as never), { name: 'TypeError', message: /unknown option 'perVertx'/ })
  await t.rejects(nb101.costBatchAsync(broken(c => { c.vertices[0] = 1 })), { name: 'RangeError', message: /cells\[0\]/ })
  t.throws(() => nb101.toCells([INCEPTION, { matrix: [[0, 0], [0, 0]], ops: ['input', 'output'] }]), { name: 'InvalidCellError', rule: 'disconnected', message: /nb101\.toCells: specs\[1\]: invalid cell/ })
  t.throws(() => nb101.toCells([INCEPTION, 3 as never]), { name: 'TypeError', message: /nb101\.toCells: specs\[1\] must be an object/ })
  // the raw addon is safe to call with junk too
  t.throws(() => addon.nb101Cost(new Uint8Array(1), new Uint32Array(2), new Uint8Array(7), false), { name: 'RangeError', message: /cells\.adjacency has length 2 but cells\.vertices has 1/ })
  t.throws(() => addon.nb101Analyze(new Uint8Array(5), new Uint8Array(2)), { name: 'RangeError', message: /matrix has length 5/ })
  t.equal(addon.nb101Analyze(new Uint8Array(0), new Uint8Array(0)).rule, 'shape')
  t.equal(addon.nb101Analyze(new Uint8Array(100 * 100), new Uint8Array(100)).rule, 'shape')
  t.equal(addon.nb101Analyze(Uint8Array.of(0, 7, 0, 0), Uint8Array.of(0, 4)).rule, 'entries')
  t.equal(addon.nb101Analyze(Uint8Array.of(0, 1, 0, 0), Uint8Array.of(0, 9)).rule, 'labels')
  t.throws(() => addon.nb101Analyze([0, 1, 0, 0] as never, Uint8Array.of(0, 4)), { name: 'TypeError', message: /nb101Analyze: matrix must be a Uint8Array/ })
})

t.test('Random: xoshiro128** seeded by splitmix32, reproducible', async t => {
  // An independent BigInt transcription of the generator.
  const M = (1n << 32n) - 1n
  const fmix = (h: bigint) => { h ^= h >> 16n; h = (h * 0x85EBCA6Bn) & M; h ^= h >> 13n; h = (h * 0xC2B2AE35n) & M; h ^= h >> 16n; return h }
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M
  function* bigRandom (seed: bigint, stream: bigint) {
    let z = fmix(((seed & M) + 0x9E3779B9n) & M)
    z = fmix(((z ^ (seed >> 32n)) + 0x7F4A7C15n) & M)
    z = fmix(((z ^ stream) + 0x2545F491n) & M)
    const s: bigint[] = []
    for (let k = 0; k < 4; k++) { z = (z + 0x9E3779B9n) & M; s.push(fmix(z)) }
    for (;;) {
      const result = (rotl((s[1] * 5n) & M, 7n) * 9n) & M
      const tt = (s[1] << 9n) & M
      s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= tt; s[3] = rotl(s[3], 11n)
      yield Number(result)
    }
  }
  for (const [seed, stream] of [[0, 0], [1, 0], [42, 7], [2 ** 40 + 3, 123456], [Number.MAX_SAFE_INTEGER, 2 ** 32 - 1]]) {
    const r = new Random(seed, stream)
    const b = bigRandom(BigInt(seed), BigInt(stream))
    const ours = Array.from({ length: 50 }, () => r.uint32())
    const theirs = Array.from({ length: 50 }, () => b.next().value as number)
    t.same(ours, theirs, `seed ${seed}, stream ${stream}`)
  }
  const a = new Random(5); const b = new Random(5); const c = new Random(6); const d = new Random(5, 1)
  const seq = (r: Random) => Array.from({ length: 8 }, () => r.uint32())
  const sa = seq(a)
  t.same(seq(b), sa)
  t.not(JSON.stringify(seq(c)), JSON.stringify(sa))
  t.not(JSON.stringify(seq(d)), JSON.stringify(sa))
  const r = new Random(9)
  const counts = new Array(7).fill(0)
  for (let k = 0; k < 70000; k++) {
    const f = r.float()
    if (!(f >= 0 && f < 1)) t.fail(`float out of range: ${f}`)
    counts[r.int(7)]++
  }
  for (const n of counts) t.ok(Math.abs(n - 10000) < 500, `int(7) roughly uniform: ${n}`)
  t.equal(new Random(1).int(1), 0)
  t.ok(new Random(1).int(2 ** 32) < 2 ** 32)
  t.throws(() => r.int(0), { name: 'RangeError' })
  t.throws(() => r.int(1.5), { name: 'RangeError' })
  t.throws(() => new Random(-1), { name: 'RangeError', message: /seed must be an integer in \[0, 2\^53 - 1\]/ })
  t.throws(() => new Random(0.5), { name: 'RangeError' })
  t.throws(() => new Random('1' as never), { name: 'TypeError' })
  t.throws(() => new Random(1, -1), { name: 'RangeError', message: /stream/ })
  const x = new Random(3); x.uint32()
  const y = x.clone()
  t.same(seq(x), seq(y), 'clone continues identically')
  const f1 = new Random(3).fork(); const f2 = new Random(3).fork()
  t.same(seq(f1), seq(f2), 'fork is deterministic')
  const saved = x.state()
  t.same(seq(Random.fromState(JSON.parse(JSON.stringify(Array.from(saved))))), seq(x), 'fromState(state()) continues identically, through JSON')
  t.same(seq(Random.fromState(y.state())), seq(y), 'and from the Uint32Array itself')
  t.throws(() => Random.fromState([0, 0, 0, 0]), { name: 'RangeError', message: /all-zero state/ })
  t.throws(() => Random.fromState([1, 2, 3]), { name: 'RangeError', message: /four integers/ })
  t.throws(() => Random.fromState([1, 2, 3, 2 ** 32]), { name: 'RangeError', message: /four integers/ })
  t.same(new Random(4).shuffle([1, 2, 3, 4, 5, 6]), new Random(4).shuffle([1, 2, 3, 4, 5, 6]))
  t.same(new Random(4).shuffle([1, 2, 3, 4, 5, 6]).sort(), [1, 2, 3, 4, 5, 6])
})

t.test('random specs, mutation and crossover: seeded, valid, pruned', async t => {
  const seqOf = (seed: number) => {
    const r = new Random(seed)
    return Array.from({ length: 30 }, () => nb101.randomSpec(r))
  }
  const a = seqOf(11)
  t.same(seqOf(11), a, 'same seed, same specs')
  t.not(JSON.stringify(seqOf(12)), JSON.stringify(a))
  t.same(nb101.randomSpec(11), a[0], 'a seed number = new Random(seed)')
  for (const s of a) {
    t.ok(ref.isValid(s.matrix, s.ops), 'valid')
    t.same(ref.prune(s.matrix, s.ops), s, 'already pruned')
  }
  const sizes = new Set(a.map(s => s.ops.length))
  t.ok(sizes.size >= 3, `varied sizes ${[...sizes]}`)

  const r1 = new Random(21); const r2 = new Random(21)
  for (const parent of a.slice(0, 20)) {
    const child = nb101.mutate(parent, r1)
    t.same(nb101.mutate(parent, r2), child, 'deterministic')
    t.ok(ref.isValid(child.matrix, child.ops))
    t.same(ref.prune(child.matrix, child.ops), child)
    t.not(nb101.hash(child), nb101.hash(parent), 'a different architecture')
  }
  for (const rate of [0.1, 3]) {
    const c = nb101.mutate(INCEPTION, 5, { rate })
    t.ok(ref.isValid(c.matrix, c.ops))
    t.not(nb101.hash(c), nb101.hash(INCEPTION))
  }
  // a 2-vertex parent can grow: padded vertices get ops
  const grown = new Set<number>()
  const rg = new Random(8)
  for (let k = 0; k < 40; k++) grown.add(nb101.mutate({ matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] }, rg, { rate: 3 }).ops.length)
  t.ok([...grown].some(v => v > 2), `mutants of the 2-vertex cell grow: sizes ${[...grown]}`)
  t.throws(() => nb101.mutate(INCEPTION, 1, { rate: 0 }), { name: 'RangeError', message: /nb101\.mutate: rate must be > 0/ })
  t.throws(() => nb101.mutate(INCEPTION, 1, { rate: NaN }), { name: 'RangeError', message: /rate must be finite/ })
  t.throws(() => nb101.mutate(INCEPTION, 'x' as never), { name: 'TypeError', message: /nb101\.mutate: rng must be a Random or a seed/ })
  t.throws(() => nb101.mutate(INCEPTION, -3), { name: 'RangeError', message: /seed must be an integer/ })

  // Per-bit probabilities: each edge bit flips with edgeProbability, each op changes with
  // opProbability. Against rate = 7p (edge p, op 1.4p) on a 7-vertex parent: the share of
  // mutants whose ops changed, f = 5q / (5q + 21·p·v) (v: the share of edge flips that give a
  // valid new cell, the same for both), so v from the rate run predicts the per-bit share.
  const full: Nb101Spec = { matrix: [[0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0], [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0]], ops: ['input', 'conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3', 'conv3x3-bn-relu', 'conv1x1-bn-relu', 'output'] }
  const opShare = (options: { rate?: number, edgeProbability?: number, opProbability?: number }, seed: number): number => {
    const rr = new Random(seed)
    let changed = 0
    const N = 4000
    for (let k = 0; k < N; k++) {
      const c = nb101.mutate(full, rr, options)
      if (c.ops.length === 7 && c.ops.some((o, i) => o !== full.ops[i])) changed++
    }
    return changed / N
  }
  const p = 0.01
  const fRate = opShare({ rate: 7 * p }, 41)
  const v = 7 * (1 - fRate) / (21 * fRate) // rate run: f = 5·1.4p / (5·1.4p + 21·p·v) = 7 / (7 + 21v)
  const predicted = 5 / (5 + 21 * v)
  const fBit = opShare({ edgeProbability: p, opProbability: p }, 42)
  const se = Math.sqrt(predicted * (1 - predicted) / 4000) + Math.sqrt(fRate * (1 - fRate) / 4000)
  t.ok(Math.abs(fBit - predicted) < 4 * se, `per-bit op share ${fBit.toFixed(3)} vs ${predicted.toFixed(3)} predicted from the rate run (${fRate.toFixed(3)}; v ${v.toFixed(2)})`)
  const pb = nb101.mutate(full, 3, { edgeProbability: 0.05, opProbability: 0.05 })
  t.ok(ref.isValid(pb.matrix, pb.ops)); t.not(nb101.hash(pb), nb101.hash(full))
  t.same(nb101.mutate(full, 3, { edgeProbability: 0.05, opProbability: 0.05 }), pb, 'deterministic')
  t.throws(() => nb101.mutate(full, 1, { edgeProbability: 0.1 }), { name: 'TypeError', message: /give both edgeProbability and opProbability/ })
  t.throws(() => nb101.mutate(full, 1, { rate: 1, edgeProbability: 0.1, opProbability: 0.1 }), { name: 'TypeError', message: /not both/ })
  t.throws(() => nb101.mutate(full, 1, { edgeProbability: 0, opProbability: 0.1 }), { name: 'RangeError', message: /edgeProbability must be in \(0, 1\]/ })
  t.throws(() => nb101.mutate(full, 1, { edgeProbability: 0.1, opProbability: 1.5 }), { name: 'RangeError', message: /opProbability must be in \(0, 1\]/ })

  const c1 = new Random(31); const c2 = new Random(31)
  let fromBoth = 0
  for (let k = 0; k + 1 < a.length; k++) {
    const child = nb101.crossover(a[k], a[k + 1], c1)
    t.same(nb101.crossover(a[k], a[k + 1], c2), child, 'deterministic')
    t.ok(ref.isValid(child.matrix, child.ops))
    t.same(ref.prune(child.matrix, child.ops), child)
    const h = nb101.hash(child)
    if (h !== nb101.hash(a[k]) && h !== nb101.hash(a[k + 1])) fromBoth++
  }
  t.ok(fromBoth > 5, `${fromBoth} children differ from both parents`)
  t.same(nb101.crossover(INCEPTION, INCEPTION, 3).ops.length, 7)
  t.equal(nb101.hash(nb101.crossover(INCEPTION, INCEPTION_STORED, 1)).length, 32)
})

t.test('enumerate: all 423,624 unique cells, cached on disk', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-nb101-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, nb101.CACHE_FILE)
  t.equal(nb101.cacheDir({ cache: dir }), dir)
  t.equal(nb101.cacheDir({ cache: false }), null)
  const saved = process.env.NASRANK_CACHE
  process.env.NASRANK_CACHE = dir
  t.equal(nb101.cacheDir(), dir, 'NASRANK_CACHE')
  if (saved === undefined) delete process.env.NASRANK_CACHE
  else process.env.NASRANK_CACHE = saved
  // A corrupt cache is detected and replaced by the computed result.
  fs.writeFileSync(file, 'NASRANK-NB101\n\0\0 truncated')
  nb101.clearMemo()
  const t0 = Date.now()
  const cells = await nb101.enumerate({ cache: dir })
  t.comment(`enumerated in ${((Date.now() - t0) / 1000).toFixed(1)} s (cold)`)
  t.equal(cells.count, 423624)
  t.equal(nb101.CELL_COUNT, 423624)
  t.ok(fs.statSync(file).size > 1e7, 'cache rewritten')
  t.same(fs.readdirSync(dir), [nb101.CACHE_FILE], 'no temp files left')

  // from the cache, and the same again
  nb101.clearMemo()
  cellsEqual(t, await nb101.enumerate({ cache: dir }), cells, 'read from cache')
  nb101.clearMemo()
  cellsEqual(t, nb101.enumerateSync({ cache: dir }), cells, 'enumerateSync from cache')
  cellsEqual(t, await nb101.enumerate({ cache: false }), cells, 'memoised')
  const copy = await nb101.enumerate({ cache: false })
  copy.ops[0] = 9
  t.equal((await nb101.enumerate({ cache: false })).ops[0], 0, 'each call returns a copy')
  // the cache reader accepts only complete, intact files
  cellsEqual(t, nb101.readCache(file)!, cells, 'readCache')
  const bytes = fs.readFileSync(file)
  const flipped = Buffer.from(bytes); flipped[100] ^= 1
  fs.writeFileSync(path.join(dir, 'flipped.bin'), flipped)
  t.equal(nb101.readCache(path.join(dir, 'flipped.bin')), null, 'one flipped byte: checksum mismatch')
  fs.writeFileSync(path.join(dir, 'short.bin'), bytes.subarray(0, bytes.length - 1))
  t.equal(nb101.readCache(path.join(dir, 'short.bin')), null, 'truncated')
  t.equal(nb101.readCache(path.join(dir, 'missing.bin')), null, 'missing')
  await t.rejects(nb101.enumerate({ cache: 3 as never }), { name: 'TypeError', message: /nb101\.enumerate: cache must be a boolean or a directory path/ })
  await t.rejects(nb101.enumerate({ cach: true } as never), { name: 'TypeError', message: /unknown option 'cach'/ })
  t.throws(() => nb101.enumerateSync({ cache: '' }), { name: 'TypeError', message: /non-empty directory path/ })

  // sorted by hash, unique
  const h = Buffer.from(cells.hash)
  let sorted = true
  for (let k = 1; k < cells.count; k++) if (h.compare(h, (k - 1) * 16, k * 16, k * 16, k * 16 + 16) <= 0) sorted = false
  t.ok(sorted, 'hashes strictly ascending: sorted and unique')

  // every cell valid and already pruned (JS reference), its stored hash = the native hash
  let bad = 0
  const perV = new Array(8).fill(0)
  for (let k = 0; k < cells.count; k++) {
    const s = nb101.cellAt(cells, k)
    perV[s.ops.length]++
    if (!ref.isValid(s.matrix, s.ops)) { bad++; continue }
    const p = ref.prune(s.matrix, s.ops)!
    if (p.ops.length !== s.ops.length) bad++
  }
  t.equal(bad, 0, 'all valid and pruned')
  t.comment(`cells by vertex count 2..7: ${perV.slice(2).join(', ')}`)
  t.same(nb101.costBatch(cells).params.length, cells.count, 'every enumerated cell passes the native batch check')
  const rehash = nb101.toCells(Array.from({ length: 2000 }, (_, k) => nb101.cellAt(cells, (k * 211) % cells.count)))
  const rand = rng(5)
  for (let k = 0; k < 300; k++) {
    const i = Math.floor(rand() * cells.count)
    const s = nb101.cellAt(cells, i)
    if (ref.hashSpec(s) !== nb101.hashAt(cells, i)) t.fail(`stored hash of cell ${i}`)
    if (nb101.indexOfHash(cells, nb101.hashAt(cells, i)) !== i) t.fail(`indexOfHash ${i}`)
  }
  const sub = nb101.select(cells, Array.from({ length: 5000 }, (_, k) => (k * 83) % cells.count))
  t.ok(Buffer.from(nb101.hashBatch({ ...sub, hash: new Uint8Array(0) })).equals(Buffer.from(sub.hash)), 'hashBatch = stored hashes (its hash column ignored)')
  t.ok(Buffer.from(await nb101.hashBatchAsync(sub)).equals(Buffer.from(sub.hash)), 'hashBatchAsync')
  await t.rejects(nb101.hashBatchAsync({ ...sub, count: 1 }), { name: 'RangeError', message: /nb101\.hashBatchAsync: cells\.count/ })
  for (let k = 0; k < 2000; k++) {
    if (Buffer.compare(rehash.hash.subarray(k * 16, k * 16 + 16), cells.hash.subarray(((k * 211) % cells.count) * 16, ((k * 211) % cells.count) * 16 + 16)) !== 0) t.fail(`toCells hash ${k}`)
  }
  t.equal(nb101.indexOfHash(cells, '0'.repeat(32)), -1)
  t.equal(nb101.indexOfHash(cells, 'f'.repeat(32)), -1)
  t.throws(() => nb101.indexOfHash(cells, 'ABC'), { name: 'TypeError', message: /32 lowercase hex/ })

  // The representative is the one the official generator keeps: for the README cell, the
  // module_adjacency / module_operations the dataset returns.
  const at = nb101.indexOfHash(cells, nb101.hash(INCEPTION))
  t.ok(at >= 0)
  t.same(nb101.cellAt(cells, at), INCEPTION_STORED, 'the dataset\'s stored form of the README cell')

  // Exactly generate_graphs.py (JS transcription, MD5 of every labelled graph) for V <= 5.
  const small = ref.generateGraphs(5)
  const mine = new Map<string, Nb101Spec>()
  for (let k = 0; k < cells.count; k++) if (cells.vertices[k] <= 5) mine.set(nb101.hashAt(cells, k), nb101.cellAt(cells, k))
  t.equal(mine.size, small.size, `${small.size} cells with at most 5 vertices`)
  let same = 0
  for (const [hh, g] of small) {
    const s = mine.get(hh)
    const ops = g.labeling.map(l => (l === -1 ? 'input' : l === -2 ? 'output' : ref.AVAILABLE_OPS[l]))
    if (s && JSON.stringify(s) === JSON.stringify({ matrix: g.matrix, ops })) same++
  }
  t.equal(same, small.size, 'same hashes and the same representatives')

  // uniform sampling over the unique cells
  const idx = nb101.sampleIndices(cells, 1000, 17)
  t.same(nb101.sampleIndices(cells, 1000, 17), idx, 'deterministic')
  t.equal(new Set(idx).size, 1000, 'distinct')
  t.ok(idx.every(i => i < cells.count))
  const withRep = nb101.sampleIndices(cells, 50, new Random(2), { replace: true })
  t.equal(withRep.length, 50)
  const ten = nb101.sample(cells, 10, 17)
  cellsEqual(t, ten, nb101.select(cells, idx.subarray(0, 10)), 'sample = select(sampleIndices)')
  t.same(nb101.sampleIndices(cells, 0, 1), new Uint32Array(0))
  t.throws(() => nb101.sampleIndices(ten, 11, 1), { name: 'RangeError', message: /n = 11 distinct cells requested but there are only 10/ })
  t.throws(() => nb101.sampleIndices(ten, -1, 1), { name: 'RangeError', message: /n must be a non-negative integer/ })
  t.same([...nb101.sampleIndices(ten, 10, 4)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'n = count: a permutation')
  t.throws(() => nb101.select(cells, [cells.count]), { name: 'RangeError', message: /indices\[0\] is 423624 but there are only 423624 cells/ })

  // costs of the whole space: batch equals the reference on a sample
  const all = nb101.costBatch(cells)
  for (let k = 0; k < 200; k++) {
    const i = Math.floor(rand() * cells.count)
    const e = ref.networkCost(nb101.cellAt(cells, i))
    if (all.params[i] !== e.params || all.flops[i] !== e.flops) t.fail(`cost of cell ${i}`)
  }
  let min = Infinity; let max = 0
  for (const p of all.params) { min = Math.min(min, p); max = Math.max(max, p) }
  t.comment(`trainable parameters over the space: ${min} … ${max}`)
  t.ok(min > 200000 && max < 5e7)
})
