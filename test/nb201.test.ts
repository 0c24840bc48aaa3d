import t from 'tap'
import {
  nb201, Random, NB201_OPS, NB201_EDGES, NB201_SIZE, NB201_DAG_LINKS, NB201_DAG_LABELS,
  nb201GraphBatch, type Nb201Arch
} from '../lib/index'
import * as ref from './reference/nb201'
import { readNb201Csv } from './reference/shared-data'

const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => v === b[i])
const hamming = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((n, v, i) => n + (v === b[i] ? 0 : 1), 0)
const ALL_CONV3 = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
const ALL_NONE = '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'

t.test('constants follow the contract', async t => {
  t.same(NB201_OPS, ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'])
  t.same(NB201_EDGES, [[0, 1], [0, 2], [1, 2], [0, 3], [1, 3], [2, 3]])
  t.equal(NB201_SIZE, 15625)
  t.same(NB201_DAG_LABELS, ['input', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3', 'output'])
  // input→{1←0, 2←0, 3←0}; 1←0→{2←1, 3←1}; 2←0→3←2; 2←1→3←2; {3←0, 3←1, 3←2}→output
  t.same(NB201_DAG_LINKS, [[0, 1], [0, 2], [0, 4], [1, 3], [1, 5], [2, 6], [3, 6], [4, 7], [5, 7], [6, 7]])
  t.same(ref.EDGES, NB201_EDGES, 'the reference derives the same edge order from the string form')
  t.ok([NB201_OPS, NB201_EDGES, NB201_DAG_LABELS, NB201_DAG_LINKS, nb201.datasets, nb201].every(o => Object.isFrozen(o)), 'the tables are frozen')
})

t.test('index order: Σ code_e · 5^(5−e), edge 0 most significant', async t => {
  t.same(Array.from(nb201.fromIndex(0)), [0, 0, 0, 0, 0, 0])
  t.same(Array.from(nb201.fromIndex(1)), [0, 0, 0, 0, 0, 1])
  t.same(Array.from(nb201.fromIndex(5)), [0, 0, 0, 0, 1, 0])
  t.same(Array.from(nb201.fromIndex(3125)), [1, 0, 0, 0, 0, 0])
  t.same(Array.from(nb201.fromIndex(15624)), [4, 4, 4, 4, 4, 4])
  t.equal(nb201.index(ALL_CONV3), 3 * (3125 + 625 + 125 + 25 + 5 + 1))
  t.equal(nb201.index([1, 2, 3, 4, 0, 1]), 1 * 3125 + 2 * 625 + 3 * 125 + 4 * 25 + 0 * 5 + 1)
  t.equal(nb201.format(nb201.fromIndex(0)), ALL_NONE)
})

t.test('parse/format round trip and index ↔ arch bijection over all 15,625', async t => {
  const all = nb201.all()
  t.equal(all.length, 15625 * 6)
  const seen = new Set<string>()
  let bad = 0; let firstBad = ''
  for (let i = 0; i < NB201_SIZE; i++) {
    const a = nb201.fromIndex(i)
    const s = nb201.format(a)
    const parsed = nb201.parse(s)
    const ok = same(a, all.subarray(6 * i, 6 * i + 6)) &&
      s === ref.formatRef(a) && same(parsed, a) && same(ref.parseRef(s) ?? [], a) &&
      nb201.index(a) === i && nb201.index(s) === i && nb201.index(Array.from(a)) === i &&
      nb201.format(Array.from(a)) === s && nb201.validate(s) === null && nb201.validate(a) === null
    if (!ok && bad++ === 0) firstBad = `index ${i}: ${s}`
    seen.add(s)
  }
  t.equal(bad, 0, `every architecture round-trips${firstBad ? `; first failure ${firstBad}` : ''}`)
  t.equal(seen.size, NB201_SIZE, 'all strings distinct')
  // batch forms
  const idx = nb201.indexBatch(all)
  t.ok(idx.every((v, i) => v === i), 'indexBatch(all()) is 0..15624')
  t.same(nb201.fromIndexBatch(idx), all, 'fromIndexBatch inverts indexBatch')
  t.same(nb201.fromIndexBatch([]), new Uint8Array(0))
  t.same(nb201.pack([ALL_NONE, [3, 3, 3, 3, 3, 3], nb201.fromIndex(7)]), Uint8Array.from([0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 1, 2]))
  const parts = nb201.unpack(all.subarray(0, 18))
  t.equal(parts.length, 3)
  t.same(Array.from(parts[2]), [0, 0, 0, 0, 0, 2])
  // all() hands out a fresh copy
  all[0] = 4
  t.equal(nb201.all()[0], 0, 'mutating the result of all() does not affect the next call')
})

t.test('bad strings: each error names the problem and the character', async t => {
  const cases: Array<[string, RegExp]> = [
    ['', /nb201\.parse: empty string; expected the form \|op~0\|\+\|op~0\|op~1\|\+/],
    ['|conv3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|', /unknown op 'conv3x3' for edge 1←0 at character 1 .*known ops: none, skip_connect/],
    ['|none~0|+|none~0|nor_conv_5x5~1|+|none~0|none~1|none~2|', /unknown op 'nor_conv_5x5' for edge 2←1 at character 17/],
    ['|none~1|+|none~0|none~1|+|none~0|none~1|none~2|', /edge 1←0 must read 'none~0' .* but reads '~1' at character 6/],
    ['|none~0|+|none~0|none~0|+|none~0|none~1|none~2|', /edge 2←1 must read 'none~1' \(node 2 lists its inputs ~0\.\.~1 in order\) but reads '~0' at character 22/],
    ['|none~0|+|none~0|none~1|+|none~0|none~1|none~x|', /expected input node number 2 after '~' for edge 3←2 but found "x" at character 45/],
    ['|none~0|+|none~0|+|none~0|none~1|none~2|', /node 2 has 1 input but needs 2 \(missing edge 2←1\) at character 17/],
    ['|none~0|none~1|+|none~0|none~1|+|none~0|none~1|none~2|', /node 1 must have exactly 1 input but has more: unexpected "none~1\|\+.*" at character 8/],
    ['|none~0|+|none~0|none~1|+|none~0|none~1|', /node 3 has 2 inputs but needs 3 \(missing edge 3←2\) at character 40/],
    ['|none~0|+|none~0|none~1|+|none~0|none~1|none~2|none~3|', /node 3 must have exactly 3 inputs but has more: unexpected "none~3\|" at character 47/],
    ['|none~0|+|none~0|none~1|+|none~0|none~1|none~2|+|none~0|', /unexpected 4th node at character 47/],
    ['|none~0|+|none~0|none~1|+|none~0|none~1|none~2| ', /unexpected " " after node 3 at character 47/],
    [' |none~0|+|none~0|none~1|+|none~0|none~1|none~2|', /expected '\|' \(start of node 1\) but found ' ' at character 0/],
    ['|none~0|-|none~0|none~1|+|none~0|none~1|none~2|', /expected '\+' \(start of node 2\) but found '-' at character 8/],
    ['|none~0||none~0|none~1|+|none~0|none~1|none~2|', /expected '\+' \(start of node 2\) but found '\|' at character 8/],
    ['|none~0|', /the string ends after node 1; expected '\+' and node 2 at character 8/],
    ['|none|+|none~0|none~1|+|none~0|none~1|none~2|', /expected '~0' after the op of edge 1←0 but found '\|' at character 5/],
    ['|conv|+|none~0|none~1|+|none~0|none~1|none~2|', /expected '~0' after the op of edge 1←0 .*'conv' is not an op/],
    ['|~0|+|none~0|none~1|+|none~0|none~1|none~2|', /missing op name for edge 1←0 at character 1/],
    ['|none~0+|none~0|none~1|+|none~0|none~1|none~2|', /expected '\|' after 'none~0' \(edge 1←0\) but found '\+' at character 7/],
    ['|none~0|+|none~0|none~1|+|none~0|none~1|none~2', /expected '\|' after 'none~2' \(edge 3←2\) but found the end of the string at character 46/],
    ['|None~0|+|none~0|none~1|+|none~0|none~1|none~2|', /unknown op 'None'/],
    ['|none~00|+|none~0|none~1|+|none~0|none~1|none~2|', /edge 1←0 must read 'none~0' .* but reads '~00'/]
  ]
  for (const [s, re] of cases) {
    t.throws(() => nb201.parse(s), { name: 'RangeError', message: re }, JSON.stringify(s))
    t.match(nb201.validate(s) ?? 'valid', re.source.startsWith('nb201') ? /empty string/ : re, `validate(${JSON.stringify(s)})`)
    t.equal(ref.parseRef(s), null, `the reference rejects ${JSON.stringify(s)} too`)
  }
  t.throws(() => nb201.parse(42 as unknown as string), { name: 'TypeError', message: /nb201\.parse: str must be a string, got number 42/ })
  // functions that take an architecture name their argument
  t.throws(() => nb201.index('|none~0|'), { name: 'RangeError', message: /^nb201\.index: arch: the string ends after node 1/ })
  t.throws(() => nb201.params('|x~0|+', 'cifar10'), { name: 'RangeError', message: /^nb201\.params: arch: unknown op 'x'/ })
})

t.test('bad op codes and arguments', async t => {
  t.throws(() => nb201.format([1, 2, 3]), { name: 'RangeError', message: /nb201\.format: arch must hold 6 op codes .* got 3/ })
  t.throws(() => nb201.format([0, 0, 0, 5, 0, 0]), { name: 'RangeError', message: /nb201\.format: arch\[3\] \(edge 3←0\) is 5; op codes are integers 0 none, 1 skip_connect/ })
  t.throws(() => nb201.format([0, 0, 0.5, 0, 0, 0]), { name: 'RangeError', message: /arch\[2\] \(edge 2←1\) is 0\.5/ })
  t.throws(() => nb201.format([0, 0, -1, 0, 0, 0]), { name: 'RangeError', message: /arch\[2\] \(edge 2←1\) is -1/ })
  t.throws(() => nb201.format(['0', 0, 0, 0, 0, 0] as unknown as number[]), { name: 'RangeError', message: /arch\[0\] \(edge 1←0\) is the string "0"/ })
  t.throws(() => nb201.format(Uint8Array.from([0, 0, 0, 0, 0, 9])), { name: 'RangeError', message: /arch\[5\] \(edge 3←2\) is 9/ })
  t.throws(() => nb201.format(new Uint8Array(7)), { name: 'RangeError', message: /got 7/ })
  t.throws(() => nb201.format(null as unknown as string), { name: 'TypeError', message: /nb201\.format: arch must be the official string .* got null/ })
  t.throws(() => nb201.format(new Float64Array(6) as unknown as number[]), { name: 'TypeError', message: /got an object \(Float64Array\)/ })
  t.throws(() => nb201.fromIndex(15625), { name: 'RangeError', message: /nb201\.fromIndex: i must be an integer in \[0, 15624\], got 15625/ })
  t.throws(() => nb201.fromIndex(-1), { name: 'RangeError' })
  t.throws(() => nb201.fromIndex(1.5), { name: 'RangeError' })
  t.throws(() => nb201.fromIndex('3' as unknown as number), { name: 'TypeError', message: /i must be a number/ })
  t.throws(() => nb201.fromIndexBatch([0, 15625]), { name: 'RangeError', message: /indices\[1\] must be an integer in \[0, 15624\]/ })
  t.throws(() => nb201.indexBatch([0, 0, 0, 0, 0, 0] as unknown as Uint8Array), { name: 'TypeError', message: /nb201\.indexBatch: ops must be a Uint8Array/ })
  t.throws(() => nb201.indexBatch(new Uint8Array(7)), { name: 'RangeError', message: /ops has length 7, not a multiple of 6/ })
  t.throws(() => nb201.indexBatch(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0])), { name: 'RangeError', message: /ops\[8\] \(architecture 1, edge 2←1\) is 5/ })
  t.throws(() => nb201.pack([ALL_NONE, 'oops']), { name: 'RangeError', message: /nb201\.pack: archs\[1\]: expected '\|'/ })
  t.throws(() => nb201.params(ALL_NONE, 'imagenet' as 'cifar10'), { name: 'TypeError', message: /nb201\.params: dataset must be one of 'cifar10', 'cifar10-valid', 'cifar100', 'ImageNet16-120', got the string "imagenet"/ })
  t.throws(() => nb201.flopsBatch(new Uint8Array(6), 'CIFAR10' as 'cifar10'), { name: 'TypeError', message: /nb201\.flopsBatch: dataset must be one of/ })
  t.equal(nb201.validate(5), 'arch must be the official string |op~0|+|op~0|op~1|+|op~0|op~1|op~2| or 6 op codes (Uint8Array or number[]), got number 5')
  t.match(nb201.validate([0, 0, 0, 0, 0, 7]), /^arch\[5\] \(edge 3←2\) is 7/)
})

t.test('params and FLOPs', async t => {
  t.equal(nb201.params(ALL_CONV3, 'cifar10'), 1531546, 'all-nor_conv_3x3 on CIFAR-10 has 1,531,546 parameters')
  t.equal(nb201.params(ALL_CONV3), 1531546, 'cifar10 is the default dataset')
  // The official benchmark's extremes per dataset (params in M, FLOPs in M, from its data
  // files as quoted by public tools built on it): min is any cell without convolutions,
  // max the all-nor_conv_3x3 cell.
  const official: Record<string, { params: [number, number]; flops: [number, number] }> = {
    cifar10: { params: [0.073306, 1.531546], flops: [7.78305, 220.11969] },
    cifar100: { params: [0.079156, 1.537396], flops: [7.7889, 220.12554] },
    'ImageNet16-120': { params: [0.080456, 1.538696], flops: [1.9534, 55.03756] }
  }
  for (const [ds, v] of Object.entries(official)) {
    const d = ds as 'cifar10'
    t.equal(nb201.params(ALL_NONE, d) / 1e6, v.params[0], `${ds} min params`)
    t.equal(nb201.params(ALL_CONV3, d) / 1e6, v.params[1], `${ds} max params`)
    t.equal(nb201.flops(ALL_NONE, d) / 1e6, v.flops[0], `${ds} min MFLOPs`)
    t.equal(nb201.flops(ALL_CONV3, d) / 1e6, v.flops[1], `${ds} max MFLOPs`)
  }
  t.equal(nb201.params(ALL_CONV3, 'cifar10-valid'), nb201.params(ALL_CONV3, 'cifar10'))
  // skip/pool/none edges cost nothing; conv edges add the same over 15 cells wherever they sit
  t.equal(nb201.params('|skip_connect~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|avg_pool_3x3~1|none~2|'), 73306)
  t.equal(nb201.flops('|skip_connect~0|+|avg_pool_3x3~0|none~1|+|skip_connect~0|avg_pool_3x3~1|none~2|'), 7783050)
  const m = nb201.costModel('cifar10')
  t.same(m.params.perEdge, [0, 0, 28000, 243040, 0])
  t.same(m.flops.perEdge, [0, 0, 3932160, 35389440, 0])
  t.equal(m.params.base, 73306)
  t.ok(Object.isFrozen(m) && Object.isFrozen(m.params.perEdge), 'the cost model is immutable')

  // every architecture, every dataset, against the explicit module list
  const all = nb201.all()
  for (const ds of nb201.datasets) {
    const p = nb201.paramsBatch(all, ds)
    const f = nb201.flopsBatch(all, ds)
    t.ok(p instanceof Float64Array && f instanceof Float64Array && p.length === NB201_SIZE && f.length === NB201_SIZE)
    let bad = 0; let first = ''
    for (let i = 0; i < NB201_SIZE; i++) {
      const a = all.subarray(6 * i, 6 * i + 6)
      const rp = ref.paramsRef(a, ds); const rf = ref.flopsRef(a, ds)
      if ((p[i] !== rp || f[i] !== rf || nb201.params(a, ds) !== rp || nb201.flops(a, ds) !== rf) && bad++ === 0) {
        first = `${nb201.format(a)}: params ${p[i]} vs ${rp}, flops ${f[i]} vs ${rf}`
      }
    }
    t.equal(bad, 0, `${ds}: params and flops of all 15,625 match the reference${first ? `; first ${first}` : ''}`)
  }
  t.same(nb201.paramsBatch(new Uint8Array(0)), new Float64Array(0))
})

const csv = readNb201Csv()
const csvSkip = csv.rows === null && `nb201-cifar10-test.csv not found (tried ${csv.tried.join(', ')}); set NASRANK_SHARED_DATA to its folder`
t.test('every architecture of the shared CIFAR-10 CSV parses; a user order over it', { skip: csvSkip }, async t => {
  if (csv.rows === null) return
  const rows = csv.rows
  t.equal(rows.length, NB201_SIZE, `${csv.file} has 15,625 rows`)
  let bad = 0; let first = ''
  for (const r of rows) {
    const problem = nb201.validate(r.arch)
    if ((problem !== null || nb201.format(nb201.parse(r.arch)) !== r.arch) && bad++ === 0) first = `${r.arch}: ${problem}`
  }
  t.equal(bad, 0, `every string parses and formats back identically${first ? `; first failure ${first}` : ''}`)
  const order = nb201.order(rows.map(r => r.arch))
  t.ok(order.complete, 'the CSV order is a permutation of all 15,625')
  t.equal(order.size, NB201_SIZE)
  let mismatch = 0
  for (const r of rows) {
    if (order.index(r.arch) !== r.index || nb201.format(order.fromIndex(r.index)) !== r.arch) mismatch++
  }
  t.equal(mismatch, 0, 'order.index / order.fromIndex follow the CSV rows')
  t.equal(nb201.format(order.fromIndex(0)), '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|', 'official index 0')
  const best = rows.reduce((b, r) => (r.accuracy > b.accuracy ? r : b))
  t.equal(Math.round(best.accuracy * 1000) / 1000, 94.373, `the best test accuracy is 94.373 (${best.accuracy})`)
  t.comment(`best: ${best.arch}, ${nb201.params(best.arch) / 1e6} M params, ${nb201.flops(best.arch) / 1e6} MFLOPs`)
})

t.test('user-supplied orders: permutations, subsets, duplicates', async t => {
  const rand = new Random(3)
  const perm = Array.from({ length: NB201_SIZE }, (_, i) => i)
  for (let i = perm.length - 1; i > 0; i--) { const j = rand.int(i + 1); [perm[i], perm[j]] = [perm[j], perm[i]] }
  const strings = perm.map(i => nb201.format(nb201.fromIndex(i)))
  const order = nb201.order(strings)
  t.ok(order.complete)
  let bad = 0
  for (let p = 0; p < NB201_SIZE; p++) {
    if (order.index(strings[p]) !== p || order.toNasrank[p] !== perm[p] || order.fromNasrank[perm[p]] !== p || !same(order.fromIndex(p), nb201.fromIndex(perm[p]))) bad++
  }
  t.equal(bad, 0, 'a shuffled permutation maps both ways')
  // the same order from a batch
  const fromBatch = nb201.order(nb201.fromIndexBatch(perm))
  t.same(fromBatch.toNasrank, order.toNasrank, 'a Uint8Array batch gives the same order')

  const subset = nb201.order([ALL_CONV3, [0, 1, 2, 3, 4, 0], ALL_NONE])
  t.equal(subset.size, 3)
  t.notOk(subset.complete)
  t.equal(subset.index(ALL_NONE), 2)
  t.equal(subset.index(Uint8Array.from([0, 1, 2, 3, 4, 0])), 1)
  t.ok(subset.has(ALL_CONV3))
  t.notOk(subset.has([4, 4, 4, 4, 4, 4]))
  t.equal(subset.fromNasrank.filter(v => v >= 0).length, 3)
  t.throws(() => subset.index([4, 4, 4, 4, 4, 4]), { name: 'RangeError', message: /order\.index: \|avg_pool_3x3~0\|.* is not in this order \(3 of 15625 architectures\)/ })
  t.throws(() => subset.fromIndex(3), { name: 'RangeError', message: /order\.fromIndex: i must be an integer in \[0, 2\]/ })
  t.equal(nb201.order([]).size, 0)

  t.throws(() => nb201.order([ALL_NONE, ALL_CONV3, '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|']),
    { name: 'RangeError', message: /nb201\.order: archs\[2\] repeats archs\[0\] \(\|none~0\|.*\); an order may not hold an architecture twice/ })
  t.throws(() => nb201.order([ALL_NONE, '|none~0|+']), { name: 'RangeError', message: /nb201\.order: archs\[1\]: expected '\|' \(start of node 2\) but found the end of the string at character 9/ })
  t.throws(() => nb201.order([...strings, ALL_NONE]), { name: 'RangeError', message: /archs has 15626 entries; the space has only 15625/ })
  t.throws(() => nb201.order('abc' as unknown as string[]), { name: 'TypeError', message: /nb201\.order: archs must be an array/ })
})

t.test('mutation changes exactly the requested number of edges, seeded', async t => {
  const base = nb201.parse(ALL_CONV3)
  const copy = base.slice()
  for (let edges = 1; edges <= 6; edges++) {
    let wrong = 0
    const changedEdges = new Set<number>()
    const newOps = new Set<number>()
    for (let seed = 0; seed < 300; seed++) {
      const m = nb201.mutate(base, { seed, edges })
      if (hamming(m, base) !== edges) wrong++
      for (let e = 0; e < 6; e++) if (m[e] !== base[e]) { changedEdges.add(e); newOps.add(m[e]) }
      if (!same(nb201.mutate(base, { seed, edges }), m)) wrong++
    }
    t.equal(wrong, 0, `edges=${edges}: always exactly ${edges} edge(s) differ, and the same seed repeats`)
    t.same([...changedEdges].sort(), [0, 1, 2, 3, 4, 5], `edges=${edges}: every edge gets picked`)
    t.same([...newOps].sort(), [0, 1, 2, 4], `edges=${edges}: every other op appears`)
  }
  t.same(base, copy, 'the input is not modified')
  t.equal(hamming(nb201.mutate(ALL_NONE), nb201.parse(ALL_NONE)), 1, 'default: one edge, seed 0')
  t.same(nb201.mutate(ALL_NONE), nb201.mutate(ALL_NONE, { seed: 0 }), 'default seed is 0')
  // a shared generator advances between calls
  const rand = new Random(9)
  const a = nb201.mutate(base, { random: rand }); const b = nb201.mutate(base, { random: rand })
  const rand2 = new Random(9)
  t.same(nb201.mutate(base, { random: rand2 }), a)
  t.same(nb201.mutate(base, { random: rand2 }), b)
  const variety = new Set(Array.from({ length: 50 }, (_, s) => nb201.format(nb201.mutate(base, { seed: s }))))
  t.ok(variety.size > 15, `different seeds give different mutants (${variety.size} distinct of 24 possible)`)
  t.throws(() => nb201.mutate(base, { edges: 0 }), { name: 'RangeError', message: /nb201\.mutate: options\.edges must be an integer in \[1, 6\], got 0/ })
  t.throws(() => nb201.mutate(base, { edges: 7 }), { name: 'RangeError' })
  t.throws(() => nb201.mutate(base, { edges: 1.5 }), { name: 'RangeError' })
  t.throws(() => nb201.mutate(base, { seed: -1 }), { name: 'RangeError', message: /options\.seed must be an integer in \[0, 2\^53 - 1\]/ })
  t.throws(() => nb201.mutate(base, { seed: 1, random: new Random(1) }), { name: 'TypeError', message: /either options\.seed or options\.random/ })
  t.throws(() => nb201.mutate(base, { random: (() => 1) as unknown as Random }), { name: 'TypeError', message: /options\.random must be a Random/ })
  t.throws(() => nb201.mutate(base, { rate: 1 } as object), { name: 'TypeError', message: /unknown option 'rate'/ })
})

t.test('neighbors: the 24 one-edge mutants', async t => {
  const a = nb201.parse('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|')
  const n = nb201.neighbors(a)
  t.equal(n.length, 24 * 6)
  const set = new Set<number>()
  let ok = true
  for (let k = 0; k < 24; k++) {
    const m = n.subarray(6 * k, 6 * k + 6)
    if (hamming(m, a) !== 1) ok = false
    set.add(nb201.index(m))
  }
  t.ok(ok, 'each differs in exactly one edge')
  t.equal(set.size, 24, 'all distinct')
  t.same(Array.from(n.subarray(0, 6)), [0, 0, 3, 1, 0, 2], 'edge 0 first, new op ascending')
})

t.test('sampling is uniform-ish, seeded, and unique on request', async t => {
  const s1 = nb201.sample(20000, { seed: 5 })
  t.same(nb201.sample(20000, { seed: 5 }), s1, 'same seed, same sample')
  t.notSame(nb201.sample(100, { seed: 6 }), s1.subarray(0, 600))
  t.equal(s1.length, 120000)
  const freq = [0, 0, 0, 0, 0]
  for (const v of s1) freq[v]++
  t.ok(freq.every(f => Math.abs(f / s1.length - 0.2) < 0.01), `op frequencies near 1/5: ${freq.join(', ')}`)
  t.same(nb201.sample(0), new Uint8Array(0))
  const u = nb201.sample(15625, { seed: 1, unique: true })
  const idx = nb201.indexBatch(u)
  t.equal(new Set(idx).size, 15625, 'unique sample of the whole space is a permutation')
  const small = nb201.indexBatch(nb201.sample(2000, { seed: 2, unique: true }))
  t.equal(new Set(small).size, 2000, 'no repeats')
  t.throws(() => nb201.sample(15626, { unique: true }), { name: 'RangeError', message: /nb201\.sample: count must be an integer in \[0, 15625\]/ })
  t.throws(() => nb201.sample(-1), { name: 'RangeError' })
  t.throws(() => nb201.sample(3, { unique: 1 as unknown as boolean }), { name: 'TypeError', message: /options\.unique must be a boolean/ })
})

t.test('prune: an op is kept iff it lies on an input → output path of non-none edges', async t => {
  // Brute force: the four input → output paths of the cell, as edge lists.
  const PATHS = [[3], [0, 4], [1, 5], [0, 2, 5]] // 3←0; 1←0,3←1; 2←0,3←2; 1←0,2←1,3←2
  const all = nb201.all()
  const pruned = nb201.pruneBatch(all)
  const forms = new Set<number>()
  let mismatches = 0
  for (let k = 0; k < NB201_SIZE; k++) {
    const a = all.subarray(6 * k, 6 * k + 6)
    const live = new Set(PATHS.filter(p => p.every(e => a[e] !== 0)).flat())
    const want = Array.from(a, (op, e) => live.has(e) ? op : 0)
    if (!same(pruned.subarray(6 * k, 6 * k + 6), want)) mismatches++
    forms.add(nb201.index(pruned.subarray(6 * k, 6 * k + 6)))
  }
  t.equal(mismatches, 0, 'pruneBatch matches the path enumeration on all 15,625 cells')
  t.equal(forms.size, 9445, 'distinct pruned forms')
  t.same(nb201.pruneBatch(pruned), pruned, 'idempotent')
  t.same(all, nb201.all(), 'the input batch is not modified')
  // node 1 unreachable (1←0 none): 2←1 and 3←1 go; node 2 cannot reach the output: 2←0 goes
  t.equal(nb201.format(nb201.prune('|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|')), ALL_NONE.replace('none~0|+|none~0|none~1|+|none~0', 'none~0|+|none~0|none~1|+|skip_connect~0'))
  t.equal(nb201.format(nb201.prune(ALL_CONV3)), ALL_CONV3)
  const arch = nb201.parse('|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|')
  nb201.prune(arch)
  t.equal(arch[2], 4, 'prune returns a copy')
  t.throws(() => nb201.prune([0, 1, 2]), { name: 'RangeError', message: /nb201\.prune: arch/ })
  t.throws(() => nb201.pruneBatch(new Uint8Array(7)), { name: 'RangeError', message: /nb201\.pruneBatch: ops has length 7/ })
})

t.test('node-labelled DAG on hand-checked examples', async t => {
  // 1←0 conv3, 2←0 none, 2←1 conv3, 3←0 skip, 3←1 none, 3←2 conv1
  const d = nb201.toDag('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|')
  t.same(d.ops, ['input', 'nor_conv_3x3', 'nor_conv_3x3', 'skip_connect', 'nor_conv_1x1', 'output'])
  t.same(d.edges, [-1, 0, 2, 3, 5, -1])
  t.same(d.matrix, [
    [0, 1, 0, 1, 0, 0], // input → 1←0, 3←0
    [0, 0, 1, 0, 0, 0], // 1←0 → 2←1 (3←1 is none)
    [0, 0, 0, 0, 1, 0], // 2←1 → 3←2
    [0, 0, 0, 0, 0, 1], // 3←0 → output
    [0, 0, 0, 0, 0, 1], // 3←2 → output
    [0, 0, 0, 0, 0, 0]
  ])
  // all none: input and output only, no link
  const empty = nb201.toDag(ALL_NONE)
  t.same(empty, { matrix: [[0, 0], [0, 0]], ops: ['input', 'output'], edges: [-1, -1] })
  // output unreachable: no edge into node 3 — encodes, without a path
  const cut = nb201.toDag('|skip_connect~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|none~1|none~2|')
  t.same(cut.ops, ['input', 'skip_connect', 'avg_pool_3x3', 'nor_conv_1x1', 'output'])
  t.same(cut.matrix, [[0, 1, 1, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]])
  // full: 10 links
  const full = nb201.toDag(ALL_CONV3)
  t.equal(full.matrix.flat().reduce((a, b) => a + b, 0), 10)
  // keepNone: 8 vertices, none vertices unlinked
  const kept = nb201.toDag('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|', { keepNone: true })
  t.same(kept.ops, ['input', 'nor_conv_3x3', 'none', 'nor_conv_3x3', 'skip_connect', 'none', 'nor_conv_1x1', 'output'])
  t.same(kept.edges, [-1, 0, 1, 2, 3, 4, 5, -1])
  t.same(kept.matrix[2], [0, 0, 0, 0, 0, 0, 0, 0])
  t.same(kept.matrix.map(r => r[5]), [0, 0, 0, 0, 0, 0, 0, 0])
  t.throws(() => nb201.toDag(ALL_NONE, { keepNone: 'yes' as unknown as boolean }), { name: 'TypeError', message: /nb201\.toDag: options\.keepNone must be a boolean/ })

  // every architecture against the reference (compact and keepNone forms)
  let bad = 0
  for (let i = 0; i < NB201_SIZE; i++) {
    const a = nb201.fromIndex(i)
    const r = ref.dag8Ref(a)
    const k = nb201.toDag(a, { keepNone: true })
    const c = nb201.toDag(a)
    const keep = r.labels.map((l, v) => (l !== null ? v : -1)).filter(v => v >= 0)
    const compact = keep.map(i => keep.map(j => r.A[i][j]))
    if (JSON.stringify(k.matrix) !== JSON.stringify(r.A) || JSON.stringify(c.matrix) !== JSON.stringify(compact) ||
        JSON.stringify(c.ops) !== JSON.stringify(keep.map(v => r.labels[v]))) bad++
  }
  t.equal(bad, 0, 'toDag matches the reference DAG for all 15,625')
})

t.test('ReNAS type matrix: adjacency masked type codes of the destination vertex', async t => {
  const a = nb201.parse('|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|')
  const T = nb201.renasTypeMatrix(a)
  t.ok(T instanceof Float32Array && T.length === 64)
  const rows = Array.from({ length: 8 }, (_, i) => Array.from(T.subarray(8 * i, 8 * i + 8)))
  // codes: input 1, skip 2, conv1x1 3, conv3x3 4, pool 5, output 6
  t.same(rows, [
    [0, 4, 0, 0, 2, 0, 0, 0], // input → v1 (1←0 conv3 = 4), v4 (3←0 skip = 2); v2 (2←0) is none
    [0, 0, 0, 4, 0, 0, 0, 0], // v1 → v3 (2←1 conv3); v5 (3←1) is none
    [0, 0, 0, 0, 0, 0, 0, 0], // v2 none
    [0, 0, 0, 0, 0, 0, 3, 0], // v3 → v6 (3←2 conv1 = 3)
    [0, 0, 0, 0, 0, 0, 0, 6], // v4 → output
    [0, 0, 0, 0, 0, 0, 0, 0], // v5 none
    [0, 0, 0, 0, 0, 0, 0, 6], // v6 → output
    [0, 0, 0, 0, 0, 0, 0, 0]
  ])
  // batch form equals the per-arch form and A[i][j] * (feature index of j + 1) from the graph batch
  const all = nb201.all()
  const Ts = nb201.renasTypeMatrices(all)
  const g = nb201GraphBatch(all)
  let bad = 0
  for (let k = 0; k < NB201_SIZE; k++) {
    const single: Nb201Arch = all.subarray(6 * k, 6 * k + 6)
    if (!same(nb201.renasTypeMatrix(single), Ts.subarray(64 * k, 64 * k + 64))) bad++
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        let code = 0
        for (let f = 0; f < 6; f++) if (g.x[k * 48 + j * 6 + f] === 1) code = f + 1
        if (Ts[64 * k + 8 * i + j] !== g.adjacency[64 * k + 8 * i + j] * code) bad++
      }
    }
  }
  t.equal(bad, 0, 'batch = per-arch = A · code(j) for all 15,625')
  t.throws(() => nb201.renasTypeMatrices(new Uint8Array(5)), { name: 'RangeError', message: /nb201\.renasTypeMatrices: ops has length 5/ })
})
