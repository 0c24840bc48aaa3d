import t from 'tap'
import { createHash } from 'node:crypto'
import { Bench } from '../lib/bench/bench'
import { synthetic201, nb201Connected } from '../lib/bench/synthetic'
import { PROFILES, randomGraphScore, TEACHER_VERSION } from '../lib/bench/teacher'
import { nb101GraphBatch } from '../lib/encode/graph'
import * as nb101 from '../lib/spaces/nb101'
import { kendallTau, nb201 } from '../lib/index'

const data = synthetic201()

t.test('synthetic-201 is deterministic and labelled synthetic', async t => {
  const again = synthetic201()
  t.same(again.metrics.test, data.metrics.test, 'same table on every build')
  const bench = new Bench(data)
  t.equal(bench.synthetic, true)
  t.match(bench.label, /SYNTHETIC/)
  t.equal(bench.size, 15625)
  t.same(bench.epochs, [12, 200])
  t.same(bench.metrics, ['train', 'val', 'test'])
})

t.test('synthetic-201 v1 is pinned: its numbers change only with TEACHER_VERSION', async t => {
  // MD5 of the float32 tables as built by teacher version 1 (README figures on the synthetic
  // benches depend on them); a faster teacher must reproduce them bit for bit.
  t.equal(TEACHER_VERSION, 1)
  const md5 = (a: Float32Array): string => createHash('md5').update(Buffer.from(a.buffer, a.byteOffset, a.byteLength)).digest('hex')
  t.equal(md5(data.metrics.test as Float32Array), '29447a64ec145bf1e13b94aeaaed063f', 'test')
  t.equal(md5(data.metrics.val as Float32Array), 'f8196c473476b322c77d2dfa12b1da92', 'val')
  t.equal(md5(data.metrics.train as Float32Array), '41a0f2e378143b8b80a38784c13c9801', 'train')
  // synthetic-101's graph term, on every 97th cell (the whole table takes seconds to build).
  const cells = nb101.select(await nb101.enumerate(), Uint32Array.from({ length: 4000 }, (_, i) => i * 97))
  const graph = randomGraphScore(nb101GraphBatch(cells), TEACHER_VERSION)
  t.equal(createHash('md5').update(Buffer.from(graph.buffer)).digest('hex'), '19465001bcc4b00d19aaa9cd9f5b0e12', 'NAS-Bench-101 graph term')
})

t.test('connectivity and chance accuracy', async t => {
  const connected = nb201Connected(nb201.all())
  let disconnected = 0
  for (const c of connected) if (c === 0) disconnected++
  t.equal(disconnected, 341, 'as in the real NAS-Bench-201 table')
  const bench = new Bench(data)
  const test = bench.column({ metric: 'test' })
  for (let i = 0; i < connected.length; i++) {
    if (connected[i] === 0 && test[i] !== 10) t.fail(`disconnected ${bench.describeRow(i)} should sit at chance`)
  }
  t.equal(await bench.query('|none~0|+|skip_connect~0|none~1|+|none~0|none~1|none~2|', { metric: 'test' }), 10)
})

t.test('marginal follows the profile and the teacher is learnable but not trivial', async t => {
  const bench = new Bench(data)
  const test = bench.column({ metric: 'test' })
  const connected = nb201Connected(nb201.all())
  const values = [...test].filter((_, i) => connected[i] === 1).sort((a, b) => a - b)
  const median = values[Math.floor(values.length / 2)]
  const profileMedian = PROFILES['synthetic-201'].quantiles.find(([p]) => p === 50)?.[1] as number
  t.ok(Math.abs(median - profileMedian) < 0.5, `median ${median} near ${profileMedian}`)
  // Bigger cells tend to be better, as in the real table (tau 0.58 there), but far from exactly.
  const tau = kendallTau(bench.cost('params'), test)
  t.ok(tau > 0.4 && tau < 0.75, `tau(params, test) = ${tau}`)
  // Low-budget results are informative about the final ones but not the same ranking.
  const early = bench.column({ metric: 'test', epochs: 12 })
  const tauEpochs = kendallTau(early, test)
  t.ok(tauEpochs > 0.3 && tauEpochs < 0.9, `tau(12 epochs, 200 epochs) = ${tauEpochs}`)
  // Repeats differ by noise only.
  const r0 = bench.column({ metric: 'test', repeat: 0 })
  const r1 = bench.column({ metric: 'test', repeat: 1 })
  t.ok(kendallTau(r0, r1) > 0.8, 'repeats agree closely')
  t.not(r0[100], r1[100], 'repeats are not identical')
})

t.test('queries are counted per distinct architecture', async t => {
  const bench = new Bench(data)
  const arch = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|'
  const a = await bench.query(arch, { metric: 'val' })
  const b = await bench.query(nb201.parse(arch), { metric: 'val' })
  t.equal(a, b, 'string and codes address the same row')
  t.equal(bench.queries, 1)
  bench.lookup([0, 1, 1, 2], { metric: 'test' })
  t.equal(bench.queries, 4)
  bench.column({ metric: 'test' })
  t.equal(bench.queries, 4, 'whole-space evaluation is not a query')
  bench.resetQueries()
  t.equal(bench.queries, 0)
  const mean = bench.lookup([5], { metric: 'test', repeat: 'mean' })[0]
  const reps = [0, 1, 2].map(r => bench.lookup([5], { metric: 'test', repeat: r })[0])
  t.ok(Math.abs(mean - (reps[0] + reps[1] + reps[2]) / 3) < 1e-4, 'mean of repeats')
  const sampled = bench.lookup([5], { metric: 'test', repeat: 'sample' })[0]
  t.ok(reps.includes(sampled), 'a sampled repeat is one of the repeats')
})

t.test('bad queries give clear errors', async t => {
  const bench = new Bench(data)
  await t.rejects(bench.query('|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|'), /unknown op/)
  t.throws(() => bench.lookup([0], { metric: 'test', epochs: 100 }), /no results at epochs 100 \(available: 12, 200\)/)
  t.throws(() => bench.lookup([0], { metric: 'loss' as 'test' }), /metric must be one of/)
  t.throws(() => bench.lookup([0], { repeat: 3 }), /repeat must be/)
  t.throws(() => bench.lookup([15625]), /row 15625 is not in \[0, 15625\)/)
  t.throws(() => bench.lookup([0], { metrc: 'test' } as unknown as object), /unknown option 'metrc'/)
  t.throws(() => bench.cost('latency'), /no cost column 'latency' \(available: params, flops\)/)
})
