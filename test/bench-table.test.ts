import t from 'tap'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createNb201Table, DataFileError, loadNb201Table, Nb201Table, TfRecordWriter, writeNb201Table } from '../lib/index'

// The shared NAS-Bench-201 export (not part of the package): NASRANK_SHARED_DATA, else
// <repo>/../shared/data, else /work/shared/data.
function sharedData (): string | null {
  const candidates = [process.env.NASRANK_SHARED_DATA, path.join(__dirname, '..', '..', 'shared', 'data'), '/work/shared/data'].filter(Boolean) as string[]
  for (const dir of candidates) if (fs.existsSync(path.join(dir, 'nb201-cifar10-test.csv'))) return path.join(dir, 'nb201-cifar10-test.csv')
  return null
}
const realCsv = sharedData()

function tempDir (): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-table-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}
const dir = tempDir()
let fileNo = 0
function csv (text: string | Buffer, name?: string): string {
  const f = path.join(dir, name ?? `t${fileNo++}.csv`)
  fs.writeFileSync(f, text)
  return f
}

const A1 = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|'
const A2 = '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|'
const A3 = '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'

t.test('the real NAS-Bench-201 CIFAR-10 table', { skip: !realCsv && 'nb201-cifar10-test.csv not found (set NASRANK_SHARED_DATA to the shared data folder)' }, async t => {
  const file = realCsv!
  const table = loadNb201Table(file)
  t.equal(table.count, 15625, 'all 15,625 architectures')
  t.equal(table.format, 'csv')
  t.equal(table.dataset, null)
  t.same(table.columns, ['index', 'test_accuracy'])
  const acc = table.column('test_accuracy')
  t.equal(Math.max(...acc), 94.373333, 'the best is 94.373 (the paper\'s optimum, 94.37)')
  t.equal(new Set(table.arch).size, 15625, 'unique architectures')
  // Against a naive reading of the same file (it has no quoted fields).
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n')
  t.same(lines[0].split(','), ['index', 'arch', 'test_accuracy'])
  let bad = 0
  lines.slice(1).forEach((line, i) => {
    const [index, arch, value] = line.split(',')
    if (table.arch[i] !== arch || table.column('index')[i] !== Number(index) || acc[i] !== Number(value)) bad++
  })
  t.equal(bad, 0, 'every row equals the naive reading')
  t.equal(table.get(A1, 'test_accuracy'), 93.66, 'lookup by architecture string')
  t.equal(table.indexOf(A1), 1)
  t.throws(() => table.column('val_accuracy'), { name: 'RangeError', message: /nb201-cifar10-test\.csv has no column 'val_accuracy' \(numeric columns: index, test_accuracy\)\. Re-export with tools\/export_nb201\.py/ })
  t.throws(() => table.column('arch'), { message: /'arch' is not numeric; use table\.arch/ })
  t.throws(() => table.get('|bogus~0|', 'test_accuracy'), { name: 'RangeError', message: /architecture "\|bogus~0\|" is not in .* \(15625 rows\)/ })

  // The same table as Arrow IPC.
  const arrowFile = path.join(dir, 'nb201.arrow')
  writeNb201Table(table, arrowFile)
  const fromArrow = loadNb201Table(arrowFile)
  t.equal(fromArrow.format, 'arrow')
  t.same(fromArrow.arch, table.arch)
  t.same(fromArrow.columns, table.columns)
  t.same([...fromArrow.column('test_accuracy')], [...acc], 'Arrow round trip is exact')
  const csvAgain = path.join(dir, 'again.csv')
  writeNb201Table(fromArrow, csvAgain)
  t.same([...loadNb201Table(csvAgain).column('test_accuracy')], [...acc], 'CSV round trip is exact')

  // The parseArch hook sees every architecture.
  let calls = 0
  loadNb201Table(file, { parseArch: () => { calls++ } })
  t.equal(calls, 15625)
})

t.test('CSV dialect: quotes, embedded commas and newlines, CRLF, BOM, blank lines', async t => {
  const f = csv('\uFEFFarch,"test accuracy",note_score\r\n' +
    `"${A1}",93.5,1\r\n` +
    '\r\n' +
    `${A2},"8.5e1",-2\r\n` +
    `"${A3}"," 10 ",+3.25\r\n`)
  const table = loadNb201Table(f)
  t.same(table.arch, [A1, A2, A3])
  t.same(table.columns, ['test accuracy', 'note_score'])
  t.same([...table.column('test accuracy')], [93.5, 85, 10])
  t.same([...table.column('note_score')], [1, -2, 3.25])
  const g = csv(`arch,x\n"a,""b""\nc",1\nd,2\n`)
  const t2 = loadNb201Table(g)
  t.same(t2.arch, ['a,"b"\nc', 'd'], 'quoted field with a comma, doubled quotes and a newline')
  const h = csv(`arch,x\n"a\nb",1\nz,oops\n`)
  t.throws(() => loadNb201Table(h), { code: 'ERR_TABLE_VALUE', message: new RegExp(`${path.basename(h)}:4: column 'x' is "oops", not a number`) }, 'line numbers count newlines inside quotes')
})

t.test('clear errors naming the file and line', async t => {
  const cases: Array<[string, string | Buffer, string, RegExp]> = [
    ['empty file', '', 'ERR_CSV_EMPTY', /:\s?the file is empty/],
    ['only whitespace', '\n \n', 'ERR_CSV_EMPTY', /the file is empty/],
    ['header only', 'arch,test_accuracy\n', 'ERR_CSV_NO_ROWS', /:1: the file has a header but no rows/],
    ['no arch column', 'name,test_accuracy\nx,1\n', 'ERR_CSV_HEADER', /:1: no 'arch' column \(columns: name, test_accuracy\)/],
    ['duplicate header', 'arch,x,x\na,1,2\n', 'ERR_CSV_HEADER', /:1: the header names column 'x' twice \(columns 2 and 3\)/],
    ['empty header name', 'arch,,x\na,1,2\n', 'ERR_CSV_HEADER', /:1: column 2 of the header has an empty name/],
    ['duplicate architecture', `arch,x\n${A1},1\n${A2},2\n${A1},3\n`, 'ERR_TABLE_DUPLICATE', /:4: duplicate architecture \|nor_conv_3x3~0\|.* \(first on line 2\)/],
    ['non-numeric', `arch,x\n${A1},abc\n`, 'ERR_TABLE_VALUE', /:2: column 'x' is "abc", not a number/],
    ['hex number', `arch,x\n${A1},0x10\n`, 'ERR_TABLE_VALUE', /:2: column 'x' is "0x10", not a number/],
    ['NaN', `arch,x\n${A1},1\n${A2},NaN\n`, 'ERR_TABLE_VALUE', /:3: column 'x' is "NaN", not finite/],
    ['infinity', `arch,x\n${A1},-inf\n`, 'ERR_TABLE_VALUE', /:2: column 'x' is "-inf", not finite/],
    ['overflow', `arch,x\n${A1},1e999\n`, 'ERR_TABLE_VALUE', /:2: column 'x' is "1e999", which overflows to Infinity/],
    ['empty value', `arch,x\n${A1},\n`, 'ERR_TABLE_VALUE', /:2: empty value in column 'x'/],
    ['too few fields', `arch,x,y\n${A1},1,2\n${A2},1\n`, 'ERR_CSV_COLUMNS', /:3: this row has 2 fields; the header has 3 \(arch, x, y\)/],
    ['too many fields', `arch,x\n${A1},1,2\n`, 'ERR_CSV_COLUMNS', /:2: this row has 3 fields; the header has 2/],
    ['unterminated quote', `arch,x\n${A1},1\n"${A2},2\n`, 'ERR_CSV_QUOTE', /:3: unterminated quoted field/],
    ['text after a quote', `arch,x\n"${A1}"x,1\n`, 'ERR_CSV_QUOTE', /:2: unexpected "x" after a closing quote/],
    ['quote inside a field', `arch,x\na"b,1\n`, 'ERR_CSV_QUOTE', /:2: a quote inside an unquoted field/],
    ['empty architecture', 'arch,x\n"",1\n', 'ERR_TABLE_ARCH', /:2: empty architecture string/],
    ['padded architecture', `arch,x\n" ${A1}",1\n`, 'ERR_TABLE_ARCH', /:2: architecture .* has leading or trailing whitespace/],
    ['binary file', Buffer.from([0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xAB, 0xCD]), 'ERR_CSV_BINARY', /holds NUL bytes: it is binary, not CSV text/]
  ]
  for (const [what, text, code, message] of cases) {
    const f = csv(text)
    try {
      loadNb201Table(f)
      t.fail(`${what}: accepted`)
    } catch (err) {
      t.type(err, DataFileError, `${what}: DataFileError`)
      t.equal((err as DataFileError).code, code, `${what}: ${code}`)
      t.match((err as Error).message, new RegExp(`^loadNb201Table: ${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), `${what}: names the file`)
      t.match((err as Error).message, message, `${what}: message`)
    }
  }
  t.throws(() => loadNb201Table(path.join(dir, 'missing.csv')), { code: 'ERR_TABLE_IO', message: /missing\.csv: cannot read the file: ENOENT/ })
  t.throws(() => loadNb201Table(dir), { code: 'ERR_TABLE_IO', message: /is a directory/ })
  t.throws(() => loadNb201Table(''), { name: 'TypeError', message: /file must be a non-empty string path/ })
  t.throws(() => loadNb201Table(csv(`arch,x\n${A1},1\n`), { format: 'xlsx' } as never), { name: 'TypeError', message: /format must be 'csv' or 'arrow'/ })
  t.throws(() => loadNb201Table(csv(`arch,x\n${A1},1\n`), { dataset: 3 } as never), { name: 'TypeError', message: /dataset must be a string/ })
  t.throws(() => loadNb201Table(csv(`arch,x\n${A1},1\n`), { parse: 1 } as never), { name: 'TypeError', message: /unknown option 'parse'/ })
  // A TFRecord file passed as a table: binary, refused with the file name.
  const tfrecord = path.join(dir, 'data.tfrecord')
  const w = new TfRecordWriter(tfrecord)
  w.write(Buffer.from('["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "EAU="]'))
  w.close()
  t.throws(() => loadNb201Table(tfrecord), { code: 'ERR_CSV_BINARY', message: /data\.tfrecord: the file holds NUL bytes: it is binary, not CSV text/ })
  // A TFRecord (or any binary) forced through the Arrow reader.
  const notArrow = csv(`arch,x\n${A1},1\n`)
  t.throws(() => loadNb201Table(notArrow, { format: 'arrow' }), { code: 'ERR_ARROW_FORMAT', message: /cannot read it as Arrow IPC/ })
})

t.test('the dataset column and the parseArch hook', async t => {
  const f = csv(`arch,dataset,val_accuracy,test_accuracy\n${A1},cifar10-valid,90,91\n${A2},cifar10-valid,80,81\n${A1},cifar100,70,71\n${A2},cifar100,60,61\n`)
  t.throws(() => loadNb201Table(f), { code: 'ERR_TABLE_DATASET', message: /holds several datasets \(cifar10-valid, cifar100\); choose one with \{ dataset \}/ })
  const c100 = loadNb201Table(f, { dataset: 'cifar100' })
  t.equal(c100.dataset, 'cifar100')
  t.same(c100.arch, [A1, A2])
  t.same([...c100.column('test_accuracy')], [71, 61])
  t.same(c100.columns, ['val_accuracy', 'test_accuracy'], 'dataset is not a numeric column')
  t.throws(() => loadNb201Table(f, { dataset: 'ImageNet16-120' }), { code: 'ERR_TABLE_DATASET', message: /no rows for dataset "ImageNet16-120" \(datasets: cifar10-valid, cifar100\)/ })
  const single = csv(`arch,dataset,x\n${A1},cifar10,1\n`)
  t.equal(loadNb201Table(single).dataset, 'cifar10', 'a single dataset is selected by itself')
  t.throws(() => loadNb201Table(csv(`arch,x\n${A1},1\n`), { dataset: 'cifar10' }), { code: 'ERR_TABLE_DATASET', message: /has no 'dataset' column/ })
  t.throws(() => loadNb201Table(csv(`arch,dataset,x\n${A1},cifar10,1\n${A1},cifar10,2\n`)), { code: 'ERR_TABLE_DUPLICATE', message: /:3: duplicate architecture .* for dataset cifar10 \(first on line 2\)/ })
  const seen: string[] = []
  const parseArch = (s: string) => { seen.push(s); if (!s.startsWith('|') || !s.endsWith('|')) throw new Error('must start and end with |') }
  loadNb201Table(f, { dataset: 'cifar100', parseArch })
  t.same(seen, [A1, A2, A1, A2], 'every row is validated (all datasets)')
  t.throws(() => loadNb201Table(csv(`arch,x\n${A1},1\nnot-an-arch,2\n`), { parseArch }), { code: 'ERR_TABLE_ARCH', message: /:3: invalid architecture "not-an-arch": must start and end with \|/ })
})

t.test('Arrow tables: types, nulls, datasets', async t => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const A = require('apache-arrow') as typeof import('apache-arrow')
  const write = (table: import('apache-arrow').Table, name: string, format: 'file' | 'stream' = 'file') => {
    const f = path.join(dir, name)
    fs.writeFileSync(f, A.tableToIPC(table, format))
    return f
  }
  const ok = write(A.tableFromArrays({
    arch: [A1, A2, A3],
    test_accuracy: Float32Array.from([93.5, 85.25, 10]),
    params: Int32Array.from([1, 2, 3]),
    flops: BigInt64Array.from([10n, 20n, 30n])
  }), 'ok.arrow')
  const table = loadNb201Table(ok)
  t.same(table.arch, [A1, A2, A3])
  t.same(table.columns, ['test_accuracy', 'params', 'flops'])
  t.same([...table.column('test_accuracy')], [93.5, 85.25, 10])
  t.same([...table.column('flops')], [10, 20, 30], 'Int64 converted')
  const stream = write(A.tableFromArrays({ arch: [A1], x: Float64Array.from([1]) }), 'stream.arrows', 'stream')
  t.equal(loadNb201Table(stream).get(A1, 'x'), 1, 'IPC stream format too')
  const withNull = write(new A.Table({ arch: A.vectorFromArray([A1, A2], new A.Utf8()), x: A.vectorFromArray([1, null], new A.Float64()) }), 'null.arrow')
  t.throws(() => loadNb201Table(withNull), { code: 'ERR_TABLE_VALUE', message: /null\.arrow \(row 1\): null value in column 'x'/ })
  const nan = write(A.tableFromArrays({ arch: [A1, A2], x: Float64Array.from([1, NaN]) }), 'nan.arrow')
  t.throws(() => loadNb201Table(nan), { code: 'ERR_TABLE_VALUE', message: /\(row 1\): column 'x' is NaN, not finite/ })
  const text = write(new A.Table({ arch: A.vectorFromArray([A1], new A.Utf8()), note: A.vectorFromArray(['hi'], new A.Utf8()) }), 'text.arrow')
  t.throws(() => loadNb201Table(text), { code: 'ERR_ARROW_SCHEMA', message: /column 'note' has type Utf8; every column other than arch and dataset must be numeric/ })
  const noArch = write(A.tableFromArrays({ name: [A1], x: Float64Array.from([1]) }), 'noarch.arrow')
  t.throws(() => loadNb201Table(noArch), { code: 'ERR_ARROW_SCHEMA', message: /no 'arch' column \(columns: name, x\)/ })
  const numArch = write(A.tableFromArrays({ arch: Float64Array.from([1]) }), 'numarch.arrow')
  t.throws(() => loadNb201Table(numArch), { code: 'ERR_ARROW_SCHEMA', message: /column 'arch' has type Float64; expected Utf8 text/ })
  const dup = write(A.tableFromArrays({ arch: [A1, A1], x: Float64Array.from([1, 2]) }), 'dup.arrow')
  t.throws(() => loadNb201Table(dup), { code: 'ERR_TABLE_DUPLICATE', message: /\(row 1\): duplicate architecture .* \(first on row 0\)/ })
  const empty = write(new A.Table({ arch: A.vectorFromArray([] as string[], new A.Utf8()), x: A.vectorFromArray([] as number[], new A.Float64()) }), 'empty.arrow')
  t.throws(() => loadNb201Table(empty), { code: 'ERR_TABLE_NO_ROWS', message: /the table has no rows/ })
  const truncated = path.join(dir, 'cut.arrow')
  fs.writeFileSync(truncated, fs.readFileSync(ok).subarray(0, 40))
  t.throws(() => loadNb201Table(truncated), { code: 'ERR_ARROW_FORMAT', message: /cut\.arrow: cannot read it as Arrow IPC/ })
  const ds = write(new A.Table({
    arch: A.vectorFromArray([A1, A1], new A.Utf8()),
    dataset: A.vectorFromArray(['cifar10', 'cifar100'], new A.Dictionary(new A.Utf8(), new A.Int32())),
    x: A.vectorFromArray([1, 2], new A.Float64())
  }), 'ds.arrow')
  t.equal(loadNb201Table(ds, { dataset: 'cifar100' }).get(A1, 'x'), 2, 'dictionary-encoded dataset column')
})

t.test('createNb201Table and writeNb201Table', async t => {
  const table = createNb201Table({ arch: [A1, A2], dataset: 'cifar10', columns: { test_accuracy: [1.5, 2.25], params: Float32Array.from([0.5, 1]) } })
  t.type(table, Nb201Table)
  for (const name of ['m.csv', 'm.arrow']) {
    const f = path.join(dir, name)
    writeNb201Table(table, f)
    const back = loadNb201Table(f)
    t.equal(back.dataset, 'cifar10', `${name}: dataset kept`)
    t.same(back.arch, [A1, A2])
    t.same([...back.column('test_accuracy')], [1.5, 2.25], `${name}: exact values`)
  }
  const odd = createNb201Table({ arch: ['a,"b"', ' c'], columns: { x: [0.1, 1e-300] } })
  const f = path.join(dir, 'odd.csv')
  writeNb201Table(odd, f)
  t.equal(fs.readFileSync(f, 'utf8'), 'arch,x\n"a,""b""",0.1\n" c",1e-300\n', 'fields quoted when needed, numbers at full precision')
  t.same(fs.readdirSync(dir).filter(n => n.includes('.tmp-')), [], 'atomic writes leave no temporary files')
  t.throws(() => createNb201Table({ arch: [A1], columns: { x: [NaN] } }), { name: 'RangeError', message: /column 'x'\[0\] is NaN/ })
  t.throws(() => createNb201Table({ arch: [A1, A1], columns: {} }), { name: 'RangeError', message: /duplicate architecture/ })
  t.throws(() => createNb201Table({ arch: [A1], columns: { x: [1, 2] } }), { name: 'RangeError', message: /has 2 values but there are 1 architectures/ })
  t.throws(() => writeNb201Table({} as never, f), { name: 'TypeError', message: /table must be an Nb201Table/ })
})

const python = ['python3', 'python'].find(exe => spawnSync(exe, ['-c', 'import csv, argparse'], { encoding: 'utf8' }).status === 0)

t.test('tools/export_nb201.py writes tables this loader reads (self-test against a fake API)', { skip: !python && 'no python3 on PATH' }, async t => {
  const out = path.join(dir, 'export')
  const r = spawnSync(python!, [path.join(__dirname, '..', 'tools', 'export_nb201.py'), '--self-test', out], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /cifar10: column latency left out \(1 of 25 architectures have no value\)/, 'missing metrics are reported, not written as gaps')
  const c10 = loadNb201Table(path.join(out, 'nb201-cifar10-hp200.csv'))
  t.equal(c10.count, 25)
  t.equal(c10.dataset, 'cifar10')
  t.same(c10.columns, ['index', 'train_accuracy', 'train_loss', 'val_accuracy', 'val_loss', 'test_accuracy', 'test_loss', 'params', 'flops', 'train_time'])
  t.equal(c10.get(c10.arch[4], 'test_accuracy'), 54.25, 'CIFAR-10 test: the cifar10 (train+valid) run')
  t.equal(c10.get(c10.arch[4], 'val_accuracy'), 64 + 1 / 3, 'CIFAR-10 val: the cifar10-valid run (the NB-201 protocol, as the shared tables)')
  const c100 = loadNb201Table(path.join(out, 'nb201-cifar100-hp200.csv'))
  t.equal(c100.column('val_accuracy')[0], 60 + 1 / 3, 'floats written at full precision')
  t.throws(() => c10.column('latency'), { message: /has no column 'latency'/ })
})
