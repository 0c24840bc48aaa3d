// Bench.columnFor: a metric gathered by architecture, so that it pairs with architectures in
// any order (nb201.all(), a predictor's candidates) — a table bench's column() is in file order.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { kendallTau, nb101, nb201, NB201_SIZE, openBench } from '../lib/index'

function tempDir (): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-column-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const sharedCsv = [process.env.NASRANK_SHARED_DATA, path.join(__dirname, '..', '..', 'shared', 'data'), '/work/shared/data']
  .filter(Boolean).map(dir => path.join(dir as string, 'nb201-cifar10-test.csv')).find(f => fs.existsSync(f))

t.test('an nb201 table in its own row order: columnFor gathers by architecture', async t => {
  // 40 architectures, written in reverse index order; accuracy = a function of the index.
  const indices = Array.from({ length: 40 }, (_, k) => (k * 389 + 11) % NB201_SIZE).sort((a, b) => b - a)
  const accuracy = (index: number) => 50 + (index % 997) / 20
  const file = path.join(tempDir(), 'table.csv')
  fs.writeFileSync(file, 'arch,test_accuracy\n' + indices.map(i => `${nb201.format(nb201.fromIndex(i))},${accuracy(i)}`).join('\n') + '\n')
  const bench = await openBench(`nb201:${file}`)
  t.same(Array.from(bench.column({ metric: 'test' })), indices.map(accuracy), 'column(): the file\'s order')

  const ascending = [...indices].sort((a, b) => a - b)
  const packed = new Uint8Array(6 * ascending.length)
  ascending.forEach((index, k) => packed.set(nb201.fromIndex(index), 6 * k))
  const want = ascending.map(accuracy)
  t.same(Array.from(bench.columnFor(packed, { metric: 'test' })), want, 'packed op codes (as nb201.all() gives them)')
  t.same(Array.from(bench.columnFor(ascending.map(i => nb201.format(nb201.fromIndex(i))), { metric: 'test' })), want, 'strings')
  t.same(Array.from(bench.columnFor(ascending.map(i => nb201.fromIndex(i)), { metric: 'test' })), want, 'op-code arrays')
  t.equal(bench.columnFor([], { metric: 'test' }).length, 0)
  t.equal(bench.queries, 0, 'not counted as queries')

  const missing = nb201.format(nb201.fromIndex(indices.length > 0 ? (indices[0] + 1) % NB201_SIZE : 0))
  t.throws(() => bench.columnFor([missing], { metric: 'test' }), { message: /is not in this table/ })
  t.throws(() => bench.columnFor(new Uint8Array(7), { metric: 'test' }), { name: 'RangeError', message: /6 per architecture, got 7 bytes/ })
  t.throws(() => bench.columnFor({ count: 1, ops: new Uint8Array(7) } as never, { metric: 'test' }), { name: 'TypeError', message: /columnar cells are NAS-Bench-101 architectures; this is a nb201 bench/ })
  t.throws(() => bench.columnFor('|none~0|' as never, { metric: 'test' }), { name: 'TypeError', message: /archs must be an array/ })
  t.throws(() => bench.columnFor(packed, { metric: 'val' }), { message: /no 'val' metric/ })
})

t.test('the real NAS-Bench-201 table: nb201.all() paired through columnFor, not column()', { skip: sharedCsv === undefined && 'nb201-cifar10-test.csv not found (set NASRANK_SHARED_DATA)' }, async t => {
  const bench = await openBench(`nb201:${sharedCsv}`)
  const all = nb201.all()
  const params = nb201.paramsBatch(all, 'cifar10')
  const paired = kendallTau(bench.columnFor(all, { metric: 'test' }), params)
  const mispaired = kendallTau(bench.column({ metric: 'test' }), params)
  t.comment(`tau(params, test accuracy): by architecture ${paired.toFixed(3)}, by position ${mispaired.toFixed(3)}`)
  t.ok(paired > 0.5, 'paired by architecture, params rank accuracy as in the paper (~0.58)')
  t.ok(Math.abs(mispaired) < 0.1, 'paired by position, the table\'s own order pairs nothing')
})

t.test('NAS-Bench-101 cells: columnFor by module hash', async t => {
  const bench = await openBench('synthetic-101')
  const cells = await nb101.enumerate()
  const rows = [5, 423_000, 17, 99_999]
  const subset = {
    count: rows.length,
    vertices: Uint8Array.from(rows, r => cells.vertices[r]),
    adjacency: Uint32Array.from(rows, r => cells.adjacency[r]),
    ops: new Uint8Array(7 * rows.length),
    hash: new Uint8Array(16 * rows.length)
  }
  rows.forEach((r, k) => {
    subset.ops.set(cells.ops.subarray(7 * r, 7 * r + 7), 7 * k)
    subset.hash.set(cells.hash.subarray(16 * r, 16 * r + 16), 16 * k)
  })
  const column = bench.column({ metric: 'val' })
  t.same(Array.from(bench.columnFor(subset, { metric: 'val' })), rows.map(r => column[r]))
  t.same(Array.from(bench.columnFor(rows.map(r => nb101.hashAt(cells, r)), { metric: 'val' })), rows.map(r => column[r]), 'hashes')
  t.throws(() => bench.columnFor({ ...subset, hash: undefined } as never), { name: 'TypeError', message: /need their module hashes/ })
  t.throws(() => bench.columnFor(new Uint8Array(6)), { name: 'TypeError', message: /packed op codes are NAS-Bench-201 architectures/ })
  t.equal(bench.queries, 0)
})
