import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  convertNb101, crc32c, setThreads, DataFileError, defaultNb101StorePath, encodeModelMetrics, encodeNb101Payload, frameTfRecord, loadNb101,
  maskCrc32c, nativeInfo, NB101_RUN_METRICS, nb101ColumnName, openNb101Store, parseNb101Payload, ProgressBar, TfRecordWriter,
  writeNb101TfRecord, type Nb101RecordInput, type Nb101Store
} from '../lib/index'
import { nb101StoreDigest } from '../lib/bench/nb101-store'
import { crc32cReference, maskReference } from './reference/crc32c'
import {
  parsePayloadReference, pivotReference, randomCell, randomHash, randomMetrics, readFileReference, recordOf, RefError, type GeneratedCell, type RefCell
} from './reference/nb101-records'
import { rng } from './reference/random'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { addon } = require('../lib/native') as typeof import('../lib/native')

function tempDir (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-tfrecord-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Writes records; returns each record's byte offset. */
function writeFile (file: string, records: Nb101RecordInput[]): number[] {
  const offsets: number[] = []
  let at = 0
  const w = new TfRecordWriter(file)
  for (const r of records) {
    const payload = encodeNb101Payload(r)
    offsets.push(at)
    at += 16 + payload.length
    w.write(payload)
  }
  w.close()
  return offsets
}

/** A stand-in for nb101.hash: a deterministic hash of the packed cell (same cell, same hash). */
function fakeHash (adjacency: number, ops: ArrayLike<number>, V: number): string {
  return createHash('md5').update(`${V}:${adjacency}:${Array.from(ops).slice(0, V).join(',')}`).digest('hex')
}

/** A random valid dataset: cells × epoch budgets × repeats, some runs missing. With `hashed`,
 * module hashes come from fakeHash (so equal cells share a hash, as in NAS-Bench-101). */
function dataset (seed: number, cells: number, epochs = [4, 12, 36, 108], repeats = 3, extras = true, hashed = false): { cells: GeneratedCell[]; records: Nb101RecordInput[] } {
  const rand = rng(seed)
  let cs = Array.from({ length: cells }, () => randomCell(rand))
  if (hashed) {
    const byHash = new Map<string, GeneratedCell>()
    for (const c of cs) {
      const p = parsePayloadReference(encodeNb101Payload(recordOf(c, 108, randomMetrics(rng(0), c, 108))))
      c.hash = fakeHash(p.adjacency, p.ops, p.vertices)
      c.params = parseInt(c.hash.slice(0, 6), 16)
      byHash.set(c.hash, c)
    }
    cs = [...byHash.values()]
  }
  const records: Nb101RecordInput[] = []
  for (const e of epochs) {
    for (let r = 0; r < repeats; r++) {
      for (const c of cs) if (rand() > 0.05) records.push(recordOf(c, e, randomMetrics(rand, c, e, extras)))
    }
  }
  return { cells: cs, records }
}

function fileReference (file: string): RefCell[] {
  return pivotReference(readFileReference(fs.readFileSync(file)).records.map(r => r.record))
}

/** The store holds exactly the reference cells and runs (NaN where a run is missing). */
function sameAsReference (t: Test, store: Nb101Store, ref: RefCell[]): void {
  t.equal(store.count, ref.length, 'cell count')
  const epochs = [...new Set(ref.flatMap(c => [...c.runs.keys()].map(k => Number(k.split('/')[0]))))].sort((a, b) => a - b)
  const repeats = Math.max(...ref.flatMap(c => [...c.runs.keys()].map(k => Number(k.split('/')[1]) + 1)))
  t.same(store.epochs, epochs, 'epoch budgets')
  t.equal(store.repeats, repeats, 'repeats')
  let mismatches = 0
  ref.forEach((c, i) => {
    if (store.hashAt(i) !== c.hash || store.cells.vertices[i] !== c.vertices || store.cells.adjacency[i] !== c.adjacency ||
        store.trainableParameters[i] !== c.trainableParameters) mismatches++
    for (let v = 0; v < 7; v++) if (store.cells.ops[i * 7 + v] !== (v < c.vertices ? c.ops[v] : 255)) mismatches++
  })
  t.equal(mismatches, 0, 'cell columns equal the reference')
  let valueMismatches = 0
  for (const e of epochs) {
    for (let r = 0; r < repeats; r++) {
      for (const m of NB101_RUN_METRICS) {
        const col = store.column(m, { epochs: e, repeat: r })
        ref.forEach((c, i) => {
          const run = c.runs.get(`${e}/${r}`)
          const want = run ? run[m] : NaN
          if (!Object.is(col[i], want)) valueMismatches++
        })
      }
    }
  }
  t.equal(valueMismatches, 0, 'every run value equals the reference (NaN where missing)')
}

function flipByte (file: string, at: number): void {
  const b = fs.readFileSync(file)
  b[at] ^= 0x20
  fs.writeFileSync(file, b)
}

async function rejectsWith (t: Test, p: Promise<unknown>, want: { code: string; offset?: number; message: RegExp }, what: string): Promise<DataFileError | undefined> {
  try {
    await p
    t.fail(`${what}: expected a rejection`)
    return undefined
  } catch (err) {
    const e = err as DataFileError
    t.type(e, DataFileError, `${what}: a DataFileError`)
    t.equal(e.code, want.code, `${what}: code ${want.code}`)
    if (want.offset !== undefined) t.equal(e.offset, want.offset, `${what}: offset ${want.offset}`)
    t.match(e.message, want.message, `${what}: message`)
    return e
  }
}

const baseRecord = (over: Partial<Nb101RecordInput> = {}): Nb101RecordInput => ({
  hash: '0123456789abcdef0123456789abcdef',
  epochs: 108,
  adjacency: '0110000' + '0011000' + '0000100' + '0000010' + '0000010' + '0000001' + '0000000',
  operations: 'input,conv3x3-bn-relu,conv1x1-bn-relu,maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,output',
  metrics: {
    evaluationData: [
      { currentEpoch: 0, trainingTime: 0, trainAccuracy: 0.1, validationAccuracy: 0.1, testAccuracy: 0.1 },
      { currentEpoch: 54, trainingTime: 1000.5, trainAccuracy: 0.8, validationAccuracy: 0.75, testAccuracy: 0.74 },
      { currentEpoch: 108, trainingTime: 2000.25, trainAccuracy: 1, validationAccuracy: 0.93, testAccuracy: 0.925 }
    ],
    trainableParameters: 2694282,
    totalTime: 2100.5
  },
  ...over
})

// ---- CRC32C ----------------------------------------------------------------------------------

t.test('CRC32C: known vectors, masking, every implementation against the bitwise reference', async t => {
  const ascii = Buffer.from('123456789')
  t.equal(crc32cReference(ascii), 0xE3069283, 'reference: CRC32C("123456789") = 0xE3069283')
  t.equal(crc32c(ascii), 0xE3069283, 'native: CRC32C("123456789") = 0xE3069283')
  // RFC 3720 (iSCSI) B.4 vectors.
  const vectors: Array<[Uint8Array, number]> = [
    [new Uint8Array(32), 0x8A9136AA],
    [new Uint8Array(32).fill(0xFF), 0x62A8AB43],
    [Uint8Array.from({ length: 32 }, (_, i) => i), 0x46DD794E],
    [Uint8Array.from({ length: 32 }, (_, i) => 31 - i), 0x113FDB5C],
    [new Uint8Array(0), 0]
  ]
  for (const [data, want] of vectors) {
    t.equal(crc32cReference(data), want, `reference vector 0x${want.toString(16)}`)
    t.equal(crc32c(data), want, `native vector 0x${want.toString(16)}`)
  }
  t.equal(maskReference(0xE3069283), maskCrc32c(0xE3069283), 'mask agrees with the BigInt reference')
  t.equal(maskCrc32c(0), 0xa282ead8, 'mask(0) = 0xa282ead8')
  t.equal(maskCrc32c(0xFFFFFFFF), (0xFFFFFFFF + 0xa282ead8) % 2 ** 32, 'mask wraps mod 2^32')
  const impls: Array<'auto' | 'portable' | 'hardware'> = nativeInfo().cpu.sse42 ? ['auto', 'portable', 'hardware'] : ['auto', 'portable']
  const rand = rng(7)
  const big = Uint8Array.from({ length: 4096 + 13 }, () => Math.floor(rand() * 256))
  let bad = 0
  for (let len = 0; len <= 200; len++) {
    for (const offset of [0, 1, 3, 7]) {
      const slice = big.subarray(offset, offset + len)
      const want = crc32cReference(slice)
      for (const impl of impls) if (addon.crc32c(slice, 0, impl) !== want) bad++
    }
  }
  t.equal(bad, 0, `lengths 0..200 at unaligned offsets agree (${impls.join(', ')})`)
  for (const impl of impls) {
    t.equal(addon.crc32c(big.subarray(1000), addon.crc32c(big.subarray(0, 1000), 0, impl), impl), crc32cReference(big), `${impl}: chaining equals one pass`)
  }
  t.throws(() => crc32c('abc' as never), { name: 'TypeError', message: /crc32c: data must be a Uint8Array/ })
  t.throws(() => crc32c(ascii, -1), { name: 'RangeError', message: /crc32c: crc must be an integer/ })
  t.throws(() => addon.crc32c(ascii, 0, 'fast' as never), { name: 'TypeError', message: /impl must be 'auto', 'portable' or 'hardware'/ })
  t.throws(() => addon.crc32c(new Float64Array(2) as never), { name: 'TypeError', message: /data must be a Uint8Array or Buffer/ })
})

// ---- the writer ------------------------------------------------------------------------------

t.test('writer: byte-exact framing and payload', async t => {
  const payload = Buffer.from('hello')
  const framed = frameTfRecord(payload)
  t.equal(framed.length, 5 + 16)
  t.equal(framed.readBigUInt64LE(0), 5n, 'uint64 LE length')
  t.equal(framed.readUInt32LE(8), maskReference(crc32cReference(framed.subarray(0, 8))), 'masked CRC of the length bytes')
  t.same(framed.subarray(12, 17), payload)
  t.equal(framed.readUInt32LE(17), maskReference(crc32cReference(payload)), 'masked CRC of the payload')

  // protobuf, checked byte by byte.
  t.same([...encodeModelMetrics({ evaluationData: [], trainableParameters: 5 })], [0x10, 0x05])
  t.same([...encodeModelMetrics({ evaluationData: [], trainableParameters: 300 })], [0x10, 0xAC, 0x02], 'multi-byte varint')
  t.same([...encodeModelMetrics({ evaluationData: [], trainableParameters: -1 })], [0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], 'negative int32: 10-byte varint')
  t.same([...encodeModelMetrics({ evaluationData: [], totalTime: 1 })], [0x19, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F], 'fixed64 double')
  t.same([...encodeModelMetrics({ evaluationData: [{ testAccuracy: 0.5, checkpointPath: 'ab' }] })],
    [0x0A, 13, 0x29, 0, 0, 0, 0, 0, 0, 0xE0, 0x3F, 0x32, 2, 0x61, 0x62], 'evaluation_data submessage with fields 5 and 6')

  const text = encodeNb101Payload({ hash: 'ab', epochs: 4, adjacency: [[0, 1], [0, 0]], operations: ['input', 'output'], metrics: new Uint8Array([0x10, 0x05]) }).toString()
  t.equal(text, '["ab", 4, "0100", "input,output", "EAU="]', 'json.dumps layout')
  t.equal(encodeNb101Payload({ ...baseRecord(), hash: 'é"\n' }).toString().slice(0, 16), '["\\u00e9\\"\\n", 1', 'non-ASCII escaped as json.dumps does')
  t.throws(() => encodeNb101Payload({ ...baseRecord(), epochs: '108' as never }), { name: 'TypeError', message: /record.epochs must be a number/ })
  t.throws(() => encodeNb101Payload({ ...baseRecord(), adjacency: [[0, 2], [0, 0]] }), { name: 'RangeError', message: /adjacency\[0\]\[1\] must be 0 or 1/ })
  t.throws(() => encodeModelMetrics({ evaluationData: [], trainableParameters: 2 ** 31 }), { name: 'RangeError', message: /int32/ })
})

const python = ['python3', 'python'].find(exe => spawnSync(exe, ['-c', 'import json, base64, struct'], { encoding: 'utf8' }).status === 0)

t.test('writer: byte-identical to Python json.dumps + base64 + struct framing', { skip: !python && 'no python3 on PATH' }, async t => {
  const py = python!
  const dir = tempDir(t)
  const rand = rng(3)
  const records = Array.from({ length: 20 }, () => { const c = randomCell(rand); return recordOf(c, 108, encodeModelMetrics(randomMetrics(rand, c, 108, true))) })
  records.push({ ...baseRecord(), hash: 'ünïcödé ✓ 😀' })
  const file = path.join(dir, 'ours.tfrecord')
  writeFile(file, records)
  const input = records.map(r => ({
    hash: r.hash, epochs: r.epochs,
    adjacency: (r.adjacency as number[][]).map ? (r.adjacency as number[][]).map(row => row.join('')).join('') : r.adjacency,
    ops: Array.isArray(r.operations) ? r.operations.join(',') : r.operations,
    b64: r.metrics instanceof Uint8Array ? Buffer.from(r.metrics).toString('base64') : encodeModelMetrics(r.metrics as never).toString('base64')
  }))
  const script = `
import json, struct, sys
POLY = 0x82F63B78
table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    table.append(c)
def crc(data):
    c = 0xFFFFFFFF
    for b in data:
        c = (c >> 8) ^ table[(c ^ b) & 0xFF]
    return c ^ 0xFFFFFFFF
def mask(c):
    return (((c >> 15) | (c << 17)) + 0xa282ead8) & 0xFFFFFFFF
out = bytearray()
for r in json.load(sys.stdin):
    payload = json.dumps([r["hash"], r["epochs"], r["adjacency"], r["ops"], r["b64"]]).encode("utf-8")
    header = struct.pack("<Q", len(payload))
    out += header + struct.pack("<I", mask(crc(header))) + payload + struct.pack("<I", mask(crc(payload)))
sys.stdout.buffer.write(out)
`
  const r = spawnSync(py, ['-c', script], { input: JSON.stringify(input), maxBuffer: 1 << 24 })
  t.equal(r.status, 0, String(r.stderr))
  t.ok(Buffer.compare(r.stdout, fs.readFileSync(file)) === 0, 'identical bytes')
})

t.test('writer: atomic — abort leaves nothing, close renames into place', async t => {
  const dir = tempDir(t)
  const file = path.join(dir, 'w.tfrecord')
  const w = new TfRecordWriter(file)
  w.writeNb101(baseRecord())
  t.same(fs.readdirSync(dir).filter(f => f === 'w.tfrecord'), [], 'nothing at the target while writing')
  w.abort()
  t.same(fs.readdirSync(dir), [], 'abort removes the temporary file')
  const w2 = new TfRecordWriter(file)
  w2.writeNb101(baseRecord())
  t.same(w2.close(), { file, records: 1, bytes: fs.statSync(file).size })
  t.same(fs.readdirSync(dir), ['w.tfrecord'])
  t.throws(() => w2.write(Buffer.from('x')), { message: /is closed/ })
})

// ---- the payload parser ----------------------------------------------------------------------

t.test('payload parser: values, op codes and packed adjacency', async t => {
  const rec = parseNb101Payload(encodeNb101Payload(baseRecord()))
  t.equal(rec.hash, '0123456789abcdef0123456789abcdef')
  t.equal(rec.epochs, 108)
  t.equal(rec.vertices, 7)
  t.same([...rec.ops], [0, 2, 1, 3, 2, 2, 4])
  // edges 0->1, 0->2, 1->2, 1->3, 2->4, 3->5, 4->5, 5->6 at k(i,j) = i*7 - i(i+1)/2 + (j-i-1)
  const k = (i: number, j: number) => i * 7 - (i * (i + 1)) / 2 + (j - i - 1)
  t.equal(rec.adjacency, [[0, 1], [0, 2], [1, 2], [1, 3], [2, 4], [3, 5], [4, 5], [5, 6]].reduce((a, [i, j]) => a | (1 << k(i, j)), 0))
  t.equal(rec.trainableParameters, 2694282)
  t.same(rec.values, {
    total_time: 2100.5,
    halfway_training_time: 1000.5,
    halfway_train_accuracy: 0.8,
    halfway_validation_accuracy: 0.75,
    halfway_test_accuracy: 0.74,
    final_training_time: 2000.25,
    final_train_accuracy: 1,
    final_validation_accuracy: 0.93,
    final_test_accuracy: 0.925
  })
  const small = parseNb101Payload(encodeNb101Payload(baseRecord({ adjacency: '010001000', operations: 'input,maxpool3x3,output' })))
  t.equal(small.vertices, 3)
  t.same([...small.ops], [0, 3, 4, 255, 255, 255, 255], '255 beyond V')
  t.equal(small.adjacency, (1 << k(0, 1)) | (1 << k(1, 2)))
  t.equal(parseNb101Payload(Buffer.from(' \n[ "0123456789ABCDEF0123456789abcdef" ,108,"0100","input,output",' +
    `"${encodeModelMetrics((baseRecord().metrics as never)).toString('base64')}" ]\r\n`)).hash, '0123456789abcdef0123456789abcdef', 'whitespace and upper-case hex accepted')
  t.equal(parseNb101Payload(Buffer.from(encodeNb101Payload(baseRecord()).toString().replace('"0123', '"\\u0030123'))).hash,
    '0123456789abcdef0123456789abcdef', 'JSON escapes decoded')
})

t.test('payload parser: unknown protobuf fields of every wire type are skipped', async t => {
  const metrics = encodeModelMetrics(baseRecord().metrics as never)
  const unknown = Buffer.from([
    0x20, 0x96, 0x01, // field 4 varint
    0x29, 1, 2, 3, 4, 5, 6, 7, 8, // field 5 fixed64
    0x32, 3, 0x61, 0x62, 0x63, // field 6 length-delimited
    0x3D, 1, 2, 3, 4, // field 7 fixed32
    0x43, 0x08, 0x01, 0x4B, 0x4C, 0x44, // field 8 group holding field 1 varint and an inner group 9
    0xF8, 0xFF, 0xFF, 0xFF, 0x0F, 0x00 // field 2^29-1 varint
  ])
  const withUnknown = Buffer.concat([unknown, metrics, unknown])
  const a = parseNb101Payload(encodeNb101Payload(baseRecord()))
  const b = parseNb101Payload(encodeNb101Payload(baseRecord({ metrics: withUnknown })))
  t.same(b, a, 'same record with unknown fields around')
  t.same(parsePayloadReference(encodeNb101Payload(baseRecord({ metrics: withUnknown }))).values, a.values, 'the reference agrees')
  // Unknown fields inside each EvaluationData as well (and a repeated field: last one wins).
  const m = baseRecord().metrics as { evaluationData: object[]; trainableParameters: number; totalTime: number }
  const evals = m.evaluationData.map(e => {
    const sub = encodeModelMetrics({ evaluationData: [e] }).subarray(2)  // strip tag + 1-byte length
    const unknownInner = Buffer.from([
      0x38, 0x96, 0x01, // field 7 varint
      0x41, 1, 2, 3, 4, 5, 6, 7, 8, // field 8 fixed64
      0x4A, 3, 0x61, 0x62, 0x63, // field 9 length-delimited
      0x55, 1, 2, 3, 4, // field 10 fixed32
      0x5B, 0x08, 0x01, 0x5C // field 11 group
    ])
    const inner = Buffer.concat([unknownInner, Buffer.from([0x29, 0, 0, 0, 0, 0, 0, 0, 0]), sub, Buffer.from([0x3A, 0x04, 0x01, 0x02, 0x03, 0x04])])
    return Buffer.concat([Buffer.from([0x0A, inner.length]), inner])
  })
  const tail = encodeModelMetrics({ evaluationData: [], trainableParameters: 1, totalTime: m.totalTime })
  const tail2 = encodeModelMetrics({ evaluationData: [], trainableParameters: m.trainableParameters })
  const c = parseNb101Payload(encodeNb101Payload(baseRecord({ metrics: Buffer.concat([...evals, tail, tail2]) })))
  t.same(c, a, 'unknown fields inside evaluations skipped; a repeated scalar keeps its last value')
})

function refRejects (bytes: Uint8Array): boolean {
  try {
    parsePayloadReference(bytes)
    return false
  } catch (err) {
    return err instanceof RefError
  }
}

const payloadCases: Array<[string, string | Buffer, string, RegExp]> = [
  ['not an array', '{"a": 1}', 'ERR_NB101_JSON', /expected '\['/],
  ['truncated JSON', '["0123456789abcdef0123456789abcdef", 108', 'ERR_NB101_JSON', /expected ',' after epochs at payload byte 40, found the end of the payload/],
  ['six elements', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "EAU=", 1]`, 'ERR_NB101_JSON', /expected '\]' \(the array has exactly 5 elements\)/],
  ['trailing data', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "EAU="] x`, 'ERR_NB101_JSON', /unexpected 'x' after the array/],
  ['epochs as a string', `["0123456789abcdef0123456789abcdef", "108", "0100", "input,output", "EAU="]`, 'ERR_NB101_JSON', /expected an integer \(epochs\)/],
  ['epochs with a fraction', `["0123456789abcdef0123456789abcdef", 108.0, "0100", "input,output", "EAU="]`, 'ERR_NB101_RECORD', /epochs must be an integer literal/],
  ['negative epochs', `["0123456789abcdef0123456789abcdef", -4, "0100", "input,output", "EAU="]`, 'ERR_NB101_RECORD', /epochs must be a positive integer/],
  ['unterminated string', `["0123456789abcdef0123456789abcdef`, 'ERR_NB101_JSON', /unterminated string \(module_hash\)/],
  ['control character', `["0123456789abcdef\n0123456789abcdef", 108, "0100", "input,output", "EAU="]`, 'ERR_NB101_JSON', /control character 0x0a/],
  ['bad escape', `["0123456789abcdef\\x0123456789abcdef", 108, "0100", "input,output", "EAU="]`, 'ERR_NB101_JSON', /invalid escape \\x/],
  ['short hash', `["0123", 108, "0100", "input,output", "EAU="]`, 'ERR_NB101_RECORD', /module_hash '0123' has 4 characters; expected 32 hex digits/],
  ['non-hex hash', `["0123456789abcdef0123456789abcdeg", 108, "0100", "input,output", "EAU="]`, 'ERR_NB101_RECORD', /is not hexadecimal/],
  ['wrong V² length', `["0123456789abcdef0123456789abcdef", 108, "01000", "input,output", "EAU="]`, 'ERR_NB101_RECORD', /adjacency has 5 digits; expected V\*V digits for V in 2\.\.7/],
  ['adjacency digit', `["0123456789abcdef0123456789abcdef", 108, "0200", "input,output", "EAU="]`, 'ERR_NB101_RECORD', /adjacency digit 1 is '2'/],
  ['lower triangle', `["0123456789abcdef0123456789abcdef", 108, "0110", "input,output", "EAU="]`, 'ERR_NB101_RECORD', /edge 1->0 on or below the diagonal/],
  ['unknown op label', `["0123456789abcdef0123456789abcdef", 108, "010001000", "input,conv5x5-bn-relu,output", "EAU="]`, 'ERR_NB101_RECORD', /unknown operation label 'conv5x5-bn-relu' at position 1/],
  ['label with a suffix', `["0123456789abcdef0123456789abcdef", 108, "0100", "inputx,output", "EAU="]`, 'ERR_NB101_RECORD', /unknown operation label 'inputx' at position 0/],
  ['empty operations', `["0123456789abcdef0123456789abcdef", 108, "0100", "", "EAU="]`, 'ERR_NB101_RECORD', /unknown operation label '' at position 0/],
  ['trailing comma', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output,", "EAU="]`, 'ERR_NB101_RECORD', /operations has 3 labels but adjacency has 2 vertices/],
  ['truncated label', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,outp", "EAU="]`, 'ERR_NB101_RECORD', /unknown operation label 'outp' at position 1/],
  ['op count', `["0123456789abcdef0123456789abcdef", 108, "010001000", "input,output", "EAU="]`, 'ERR_NB101_RECORD', /operations has 2 labels but adjacency has 3 vertices/],
  ['output not last', `["0123456789abcdef0123456789abcdef", 108, "010001000", "input,output,maxpool3x3", "EAU="]`, 'ERR_NB101_RECORD', /the last operation \(2\) must be 'output'/],
  ['input in the middle', `["0123456789abcdef0123456789abcdef", 108, "010001000", "input,input,output", "EAU="]`, 'ERR_NB101_RECORD', /operation 1 is 'input'; only the first vertex is the input/],
  ['base64 length', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "EAU"]`, 'ERR_NB101_BASE64', /length 3 is not a multiple of 4/],
  ['base64 character', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "E!U="]`, 'ERR_NB101_BASE64', /character '!' at position 1/],
  ['base64 padding', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "E=U="]`, 'ERR_NB101_BASE64', /character '=' at position 1/],
  ['protobuf truncated varint', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "EIA="]`, 'ERR_NB101_PROTOBUF', /truncated varint at metrics byte 1/],
  ['protobuf wrong wire type', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "EQAAAAAAAAAA"]`, 'ERR_NB101_PROTOBUF', /field 2 \(trainable_parameters\) has wire type 1 \(64-bit\), expected 0 \(varint\)/],
  ['protobuf bad length', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "CgUB"]`, 'ERR_NB101_PROTOBUF', /length 5 at metrics byte 1 runs past the end/],
  ['protobuf field 0', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "AAA="]`, 'ERR_NB101_PROTOBUF', /invalid field number 0/],
  ['protobuf stray end group', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "TA=="]`, 'ERR_NB101_PROTOBUF', /unexpected end group \(field 9\)/],
  ['no evaluations', `["0123456789abcdef0123456789abcdef", 108, "0100", "input,output", "EAU="]`, 'ERR_NB101_METRIC', /has 0 evaluation_data entries; expected 3/]
]

t.test('payload parser: malformed payloads give clear errors', async t => {
  for (const [what, payload, code, message] of payloadCases) {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload
    try {
      parseNb101Payload(bytes)
      t.fail(`${what}: accepted`)
    } catch (err) {
      t.equal((err as { code: string }).code, code, `${what}: ${code}`)
      t.match((err as Error).message, message, `${what}: message`)
    }
    t.ok(refRejects(bytes), `${what}: the reference rejects it too`)
  }
  const m = (over: object) => encodeNb101Payload(baseRecord({ metrics: { ...(baseRecord().metrics as object), ...over } as never }))
  const ev = (baseRecord().metrics as { evaluationData: object[] }).evaluationData
  const metricCases: Array<[string, Buffer, RegExp]> = [
    ['NaN test accuracy', m({ evaluationData: [ev[0], ev[1], { ...ev[2], testAccuracy: NaN }] }), /non-finite test_accuracy \(NaN\) in evaluation 2 \(final\)/],
    ['infinite total time', m({ totalTime: Infinity }), /non-finite total_time \(Infinity\)/],
    ['NaN in the start evaluation', m({ evaluationData: [{ ...ev[0], currentEpoch: NaN }, ev[1], ev[2]] }), /non-finite current_epoch \(NaN\) in evaluation 0 \(start\)/],
    ['two evaluations', m({ evaluationData: [ev[0], ev[1]] }), /has 2 evaluation_data entries; expected 3 \(start, halfway, final\)/],
    ['missing field', m({ evaluationData: [ev[0], { ...ev[1], validationAccuracy: undefined }, ev[2]] }), /evaluation 1 \(halfway\) has no validation_accuracy/],
    ['no parameters', m({ trainableParameters: undefined }), /has no trainable_parameters/],
    ['negative parameters', m({ trainableParameters: -3 }), /trainable_parameters is negative \(-3\)/],
    ['no total time', m({ totalTime: undefined }), /has no total_time/]
  ]
  for (const [what, bytes, message] of metricCases) {
    t.throws(() => parseNb101Payload(bytes), { code: 'ERR_NB101_METRIC', message }, what)
    t.ok(refRejects(bytes), `${what}: the reference rejects it too`)
  }
  t.throws(() => parseNb101Payload('x' as never), { name: 'TypeError', message: /payload must be a Uint8Array/ })
})

t.test('payload parser: fuzzed payloads never crash and agree with the reference', async t => {
  const rand = rng(11)
  const seeds = Array.from({ length: 40 }, () => { const c = randomCell(rand); return encodeNb101Payload(recordOf(c, 108, randomMetrics(rand, c, 108, true))) })
  let accepted = 0
  let disagreements = 0
  const examples: string[] = []
  for (let k = 0; k < 6000; k++) {
    const p = Buffer.from(seeds[k % seeds.length])
    const edits = 1 + Math.floor(rand() * 3)
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * p.length)
      const r = rand()
      if (r < 0.4) p[at] = Math.floor(rand() * 256)
      else if (r < 0.8) p[at] = '0123456789abcdef,"[]\\ +/=ABCxyz.e-'.charCodeAt(Math.floor(rand() * 35))
      else p[at] ^= 1 << Math.floor(rand() * 8)
    }
    const cut = rand() < 0.1 ? p.subarray(0, Math.floor(rand() * p.length)) : p
    let ours: unknown = null
    let ref: unknown = null
    try { ours = parseNb101Payload(cut) } catch { ours = null }
    try { ref = parsePayloadReference(cut) } catch { ref = null }
    if (ours) accepted++
    const same = (ours === null) === (ref === null) && (ours === null || JSON.stringify({ ...(ours as object), ops: [...(ours as { ops: Uint8Array }).ops].filter(o => o !== 255) }) === JSON.stringify(ref))
    if (!same) { disagreements++; if (examples.length < 3) examples.push(cut.toString('latin1')) }
  }
  t.equal(disagreements, 0, `native and reference agree on 6000 mutated payloads (${accepted} still valid)${examples.length ? ': ' + examples.join(' | ') : ''}`)
})

// ---- whole files -----------------------------------------------------------------------------

t.test('ingest: random files equal the reference, for any chunk size', async t => {
  const dir = tempDir(t)
  const { records } = dataset(1, 60)
  const file = path.join(dir, 'full.tfrecord')
  writeFile(file, records)
  const ref = fileReference(file)
  for (const chunkBytes of [64, 1000, 8 << 20]) {
    const store = path.join(dir, `s${chunkBytes}.arrow`)
    const res = await convertNb101(file, store, { chunkBytes, progress: false })
    t.equal(res.records, records.length, `chunk ${chunkBytes}: every record read`)
    t.equal(res.skipped, 0)
    t.same(res.epochs, [4, 12, 36, 108])
    t.equal(res.repeats, 3)
    sameAsReference(t, openNb101Store(store), ref)
  }
  t.equal(defaultNb101StorePath(file), path.join(dir, 'full.nasrank.arrow'))
  const res = await convertNb101(file)
  t.equal(res.store, path.join(dir, 'full.nasrank.arrow'), 'default store beside the source')
  t.same(fs.readdirSync(dir).filter(f => f.includes('.tmp-')), [], 'no temporary files left')
})

t.test('ingest: the thread count changes speed, never results or the reported errors', async t => {
  const dir = tempDir(t)
  const { records } = dataset(12, 300, [12, 108], 3, true)
  const frames = records.map(r => frameTfRecord(encodeNb101Payload(r)))
  // Bad records sprinkled through the file (lenient run) and a strict run failing on the first.
  frames[50] = Buffer.from(frames[50]); frames[50][40] ^= 4
  frames[400] = frameTfRecord(Buffer.from('["0123", 108, "0100", "input,output", "EAU="]'))
  frames[900] = frameTfRecord(encodeNb101Payload(baseRecord({ operations: 'input,conv9x9,output', adjacency: '010001000' })))
  const file = path.join(dir, 'mixed.tfrecord')
  fs.writeFileSync(file, Buffer.concat(frames))
  const before = nativeInfo().threads
  t.teardown(() => setThreads(before))
  const runs: Array<{ res: Awaited<ReturnType<typeof convertNb101>>; bytes: Buffer }> = []
  for (const threads of [1, 2, 3]) {
    setThreads(threads)
    const store = path.join(dir, `t${threads}.arrow`)
    const res = await convertNb101(file, store, { lenient: true, progress: false })
    const strict = await convertNb101(file, path.join(dir, 'strict.arrow'), { progress: false }).catch((e: DataFileError) => e)
    t.equal((strict as DataFileError).offset, res.badRecords[0].offset, `${threads} threads: strict mode fails on the first bad record`)
    const s = openNb101Store(store)
    const columns = s.table.schema.fields.map(f => Buffer.from(JSON.stringify(Array.from(s.table.getChild(f.name)!.toArray() as ArrayLike<unknown>, v => v instanceof Uint8Array ? [...v] : v))))
    runs.push({ res, bytes: Buffer.concat(columns) })
  }
  t.equal(runs[0].res.skipped, 3)
  for (const r of runs.slice(1)) {
    t.same(r.res.badRecords, runs[0].res.badRecords, 'same bad records')
    t.equal(r.res.records, runs[0].res.records)
    t.ok(r.bytes.equals(runs[0].bytes), 'identical store contents')
  }
})

t.test('ingest: only108-like file (one epoch budget, V < 7 cells, checkpoint paths)', async t => {
  const dir = tempDir(t)
  const { records } = dataset(2, 200, [108], 3, true)
  const file = path.join(dir, 'nasbench_only108.tfrecord')
  writeFile(file, records)
  const store = (await loadNb101(file, { progress: false }))
  t.ok(store.conversion, 'converted on first load')
  t.same(store.epochs, [108])
  sameAsReference(t, store, fileReference(file))
  // Queries.
  const ref = fileReference(file)
  const c = ref[17]
  const runs = [0, 1, 2].map(r => c.runs.get(`108/${r}`)).filter(Boolean) as Array<Record<string, number>>
  t.equal(store.query(c.hash), runs.reduce((s, r) => s + r.final_validation_accuracy, 0) / runs.length, 'default: final validation accuracy, mean over repeats')
  const r0 = c.runs.get('108/0') ?? c.runs.get('108/1')!
  const rk = c.runs.has('108/0') ? 0 : 1
  t.equal(store.query(c.hash, { metric: 'final_test_accuracy', epochs: 108, repeat: rk }), r0.final_test_accuracy)
  t.equal(store.query(c.hash, { metric: 'trainable_parameters' }), c.trainableParameters)
  t.equal(store.query(Buffer.from(c.hash, 'hex')), store.query(c.hash), 'raw 16-byte hash')
  t.equal(store.query(c.hash.toUpperCase()), store.query(c.hash), 'upper-case hex')
  t.equal(store.indexOf(randomHash(rng(99))), -1)
  const col = store.column('final_test_accuracy', { repeat: 2 })
  t.equal(col.length, store.count)
  t.equal(store.table.getChild(nb101ColumnName('final_test_accuracy', 108, 2))!.nullCount, [...col].filter(Number.isNaN).length, 'Arrow nulls where runs are missing')
  const mean = store.column('final_test_accuracy')
  t.ok(mean.every((v, i) => Math.abs(v - store.query(store.hashAt(i), { metric: 'final_test_accuracy' })) < 1e-15), 'column mean = query mean')
  const look = store.lookup(c.hash)
  t.equal(look.runs.length, runs.length)
  t.same([...look.ops], c.ops)
  // Errors.
  t.throws(() => store.query(c.hash, { metric: 'accuracy' as never }), { name: 'TypeError', message: /metric must be one of total_time, .*final_test_accuracy, trainable_parameters/ })
  t.throws(() => store.query(c.hash, { epochs: 36 }), { name: 'RangeError', message: /epochs 36 is not in this store \(it has 108\)/ })
  t.throws(() => store.query(c.hash, { repeat: 3 }), { name: 'RangeError', message: /repeat must be 'mean' or an integer in \[0, 3\)/ })
  t.throws(() => store.query('ffffffffffffffffffffffffffffffff'), { name: 'RangeError', message: /module hash ffff.* is not in this store \(200 cells\)/ })
  t.throws(() => store.query('xyz'), { name: 'TypeError', message: /32 hex digits/ })
  t.throws(() => store.query({ matrix: [[0, 1], [0, 0]], ops: ['input', 'output'] }), { name: 'TypeError', message: /needs a hash function: open the store with \{ hashCell \}/ })
  t.throws(() => store.query(c.hash, { metrc: 'x' } as never), { name: 'TypeError', message: /unknown option 'metrc'/ })
  t.throws(() => store.column('final_test_accuracy', { epochs: 4 }), { name: 'RangeError', message: /epochs 4 is not in this store/ })
})

t.test('query by spec through the hashCell hook', async t => {
  const dir = tempDir(t)
  const { cells, records } = dataset(5, 40, [108], 1, false, true)
  const file = path.join(dir, 'a.tfrecord')
  writeFile(file, records)
  const calls: Array<[number, number[], number]> = []
  const hashCell = (adjacency: number, ops: Uint8Array, V: number) => { calls.push([adjacency, [...ops], V]); return fakeHash(adjacency, ops, V) }
  await convertNb101(file, path.join(dir, 'a.arrow'), { progress: false })
  const store = openNb101Store(path.join(dir, 'a.arrow'), { hashCell })
  const c = cells.find(x => x.matrix.length === 7 && store.indexOf(x.hash) >= 0)!
  t.equal(store.query({ matrix: c.matrix, ops: c.ops }), store.query(c.hash), 'spec and hash give the same value')
  t.equal(calls.length, 1)
  t.equal(calls[0][2], 7)
  t.same(calls[0][1], c.ops.map(o => ['input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3', 'output'].indexOf(o)), 'the hook gets V op codes')
  t.equal(store.indexOf({ matrix: c.matrix, ops: c.ops }), store.indexOf(c.hash))
  t.throws(() => store.query({ matrix: [[0, 1], [1, 0]], ops: ['input', 'output'] }), { name: 'RangeError', message: /strictly upper-triangular/ })
  t.throws(() => store.query({ matrix: [[0, 1], [0, 0]], ops: ['input', 'conv'] }), { name: 'RangeError', message: /spec.ops\[1\] is the string "conv"/ })
  t.throws(() => store.query({ matrix: [[0]], ops: ['input'] }), { name: 'RangeError', message: /2\.\.7 rows/ })
})

t.test('ingest: corrupt, truncated and malformed files fail with the byte offset', async t => {
  const dir = tempDir(t)
  const { records } = dataset(3, 8, [108], 3, false)
  const good = path.join(dir, 'good.tfrecord')
  const offsets = writeFile(good, records)
  const size = fs.statSync(good).size
  const k = 5
  const copy = (name: string) => { const f = path.join(dir, name); fs.copyFileSync(good, f); return f }
  const noStore = (what: string) => t.same(fs.readdirSync(dir).filter(f => f.endsWith('.arrow') || f.includes('.tmp-')), [], `${what}: no store and no temporary file left`)

  const crcFile = copy('crc.tfrecord')
  flipByte(crcFile, offsets[k] + 12 + 20)
  await rejectsWith(t, convertNb101(crcFile, undefined, { progress: false }), {
    code: 'ERR_TFRECORD_CRC', offset: offsets[k], message: new RegExp(`convertNb101: .*crc\\.tfrecord: record at byte offset ${offsets[k]}: payload CRC mismatch \\(stored 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8} over \\d+ payload bytes\\)`)
  }, 'flipped payload byte')
  noStore('CRC error')

  const storedCrc = copy('stored.tfrecord')
  flipByte(storedCrc, offsets[k + 1] - 1)
  await rejectsWith(t, convertNb101(storedCrc, undefined, { progress: false }), { code: 'ERR_TFRECORD_CRC', offset: offsets[k], message: /payload CRC mismatch/ }, 'flipped stored CRC byte')

  const lenFile = copy('len.tfrecord')
  flipByte(lenFile, offsets[k] + 2)
  await rejectsWith(t, convertNb101(lenFile, undefined, { progress: false }), {
    code: 'ERR_TFRECORD_FRAMING', offset: offsets[k], message: /length CRC mismatch .*not a TFRecord file, or its framing is corrupt/
  }, 'flipped length byte')

  const cut = copy('cut.tfrecord')
  fs.truncateSync(cut, offsets[k] + 40)
  await rejectsWith(t, convertNb101(cut, undefined, { progress: false }), {
    code: 'ERR_TFRECORD_TRUNCATED', offset: offsets[k], message: /the file ends inside the record: it declares \d+ payload bytes .* but only 40 bytes remain \(truncated file\?\)/
  }, 'cut mid-payload')
  const cutHeader = copy('cuth.tfrecord')
  fs.truncateSync(cutHeader, offsets[k] + 5)
  await rejectsWith(t, convertNb101(cutHeader, undefined, { progress: false }), {
    code: 'ERR_TFRECORD_TRUNCATED', offset: offsets[k], message: /ends inside a record header: 5 of its 12 bytes/
  }, 'cut mid-header')
  const cutCrc = copy('cutc.tfrecord')
  fs.truncateSync(cutCrc, size - 2)
  await rejectsWith(t, convertNb101(cutCrc, undefined, { progress: false }), { code: 'ERR_TFRECORD_TRUNCATED', offset: offsets[offsets.length - 1], message: /only \d+ bytes remain/ }, 'cut in the last CRC')
  noStore('truncation')

  // A well-framed record with a bad payload: each payload error carries the record offset.
  for (const [what, payload, code, message] of payloadCases) {
    const f = path.join(dir, 'bad.tfrecord')
    const w = new TfRecordWriter(f)
    w.writeNb101(records[0])
    w.writeNb101(records[1])
    w.write(typeof payload === 'string' ? Buffer.from(payload) : payload)
    w.close()
    await rejectsWith(t, convertNb101(f, undefined, { progress: false }), { code, offset: offsets[2], message: new RegExp(`bad\\.tfrecord: record at byte offset ${offsets[2]}: .*${message.source}`) }, `file with ${what}`)
  }
  noStore('payload errors')

  // Two records of one hash that disagree.
  const inc = path.join(dir, 'inc.tfrecord')
  const incOffsets = writeFile(inc, [baseRecord(), baseRecord({ adjacency: '0100', operations: 'input,output' })])
  await rejectsWith(t, convertNb101(inc, undefined, { progress: false }), {
    code: 'ERR_NB101_INCONSISTENT', offset: incOffsets[1], message: /was read before \(record at byte offset 0\) with a different adjacency or operations/
  }, 'inconsistent cell')
  writeFile(inc, [baseRecord(), baseRecord({ metrics: { ...(baseRecord().metrics as object), trainableParameters: 7 } as never })])
  await rejectsWith(t, convertNb101(inc, undefined, { progress: false }), { code: 'ERR_NB101_INCONSISTENT', message: /has trainable_parameters 7 here but 2694282/ }, 'inconsistent parameters')

  // Wrong file types and paths.
  const csv = path.join(dir, 'table.csv')
  fs.writeFileSync(csv, 'arch,test_accuracy\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n')
  await rejectsWith(t, convertNb101(csv, undefined, { progress: false }), {
    code: 'ERR_TFRECORD_FRAMING', offset: 0, message: /table\.csv: record at byte offset 0: length CRC mismatch .* not a TFRecord file/
  }, 'a CSV passed as TFRecord')
  const empty = path.join(dir, 'empty.tfrecord')
  fs.writeFileSync(empty, '')
  await rejectsWith(t, convertNb101(empty, undefined, { progress: false }), { code: 'ERR_TFRECORD_EMPTY', message: /empty\.tfrecord: the file is empty \(0 bytes\)/ }, 'empty file')
  const tiny = path.join(dir, 'tiny.tfrecord')
  fs.writeFileSync(tiny, 'abc')
  await rejectsWith(t, convertNb101(tiny, undefined, { progress: false }), { code: 'ERR_TFRECORD_TRUNCATED', offset: 0, message: /3 of its 12 bytes/ }, '3-byte file')
  await rejectsWith(t, convertNb101(path.join(dir, 'missing.tfrecord')), { code: 'ERR_TFRECORD_IO', message: /missing\.tfrecord: cannot read the file: ENOENT/ }, 'missing file')
  await rejectsWith(t, convertNb101(dir), { code: 'ERR_TFRECORD_IO', message: /is a directory/ }, 'a directory')
  // Huge declared length (with a valid length CRC).
  const huge = path.join(dir, 'huge.tfrecord')
  const head = Buffer.alloc(12)
  head.writeBigUInt64LE(1n << 40n, 0)
  head.writeUInt32LE(maskCrc32c(crc32c(head.subarray(0, 8))), 8)
  fs.writeFileSync(huge, head)
  await rejectsWith(t, convertNb101(huge, undefined, { progress: false }), { code: 'ERR_TFRECORD_TOO_LARGE', offset: 0, message: /declares 1099511627776 payload bytes, more than the limit of 67108864/ }, 'absurd length')
  await rejectsWith(t, convertNb101(good, undefined, { progress: false, maxRecordBytes: 100 }), { code: 'ERR_TFRECORD_TOO_LARGE', offset: 0, message: /more than the limit of 100 bytes/ }, 'maxRecordBytes')
  t.same(fs.readdirSync(dir).filter(f => f.endsWith('.arrow') || f.includes('.tmp-')), [], 'no store or temporary file after any failure')
})

t.test('lenient mode skips and counts bad records, never silently', async t => {
  const dir = tempDir(t)
  const { records } = dataset(4, 30, [108], 3, false)
  const clean = path.join(dir, 'clean.tfrecord')
  writeFile(clean, records)
  const frames = records.map(r => frameTfRecord(encodeNb101Payload(r)))
  // Corruptions: a CRC flip (record 3), bad JSON (after record 10), garbage bytes between
  // records 20 and 21 (framing error, resynchronised), a truncated record at the end.
  const parts: Buffer[] = []
  const bad: Array<{ offset: number; code: string }> = []
  const garbage = Buffer.from('garbage between two records'.repeat(3))
  const goodRecords: Nb101RecordInput[] = []
  let at = 0
  const push = (b: Buffer) => { parts.push(b); at += b.length }
  frames.forEach((f, i) => {
    if (i === 3) { const c = Buffer.from(f); c[30] ^= 1; bad.push({ offset: at, code: 'ERR_TFRECORD_CRC' }); push(c); return }
    if (i === 21) { bad.push({ offset: at, code: 'ERR_TFRECORD_FRAMING' }); push(garbage) }
    push(f)
    goodRecords.push(records[i])
    if (i === 10) { bad.push({ offset: at, code: 'ERR_NB101_JSON' }); push(frameTfRecord(Buffer.from('["oops"'))) }
  })
  bad.push({ offset: at, code: 'ERR_TFRECORD_TRUNCATED' })
  push(frames[0].subarray(0, 30))
  const file = path.join(dir, 'dirty.tfrecord')
  fs.writeFileSync(file, Buffer.concat(parts))

  await rejectsWith(t, convertNb101(file, undefined, { progress: false }), { code: 'ERR_TFRECORD_CRC', offset: bad[0].offset, message: /payload CRC mismatch/ }, 'strict mode stops at the first')
  const seen: number[] = []
  const res = await convertNb101(file, path.join(dir, 'dirty.arrow'), { lenient: true, progress: p => seen.push(p.skipped), chunkBytes: 256 })
  t.equal(res.skipped, 4, 'four bad records or regions counted')
  t.same(res.badRecords.map(b => ({ offset: b.offset, code: b.code })), bad, 'each with its offset and kind')
  t.match(res.badRecords[2].message, new RegExp(`^length CRC mismatch .*; skipped ${garbage.length} bytes to the next valid record at byte offset ${bad[2].offset + garbage.length}$`))
  t.equal(res.records, goodRecords.length)
  t.equal(res.skippedBytes, fs.statSync(file).size - goodRecords.reduce((s, r) => s + 16 + encodeNb101Payload(r).length, 0), 'skipped bytes = file size minus good records')
  const good = path.join(dir, 'good.tfrecord')
  writeFile(good, goodRecords)
  const store = openNb101Store(path.join(dir, 'dirty.arrow'))
  sameAsReference(t, store, fileReference(good))
  t.equal(store.metadata['nasrank.skipped'], '4', 'the store records the skip count')
  t.equal(store.metadata['nasrank.lenient'], 'true')
  t.ok(seen.length > 0)

  // loadNb101 never reuses a store with skipped records for a strict load.
  const storePath = path.join(dir, 'dirty.arrow')
  const reused = await loadNb101(file, { store: storePath, lenient: true, progress: false })
  t.equal(reused.conversion, null, 'lenient load reuses the lenient store')
  await rejectsWith(t, loadNb101(file, { store: storePath, progress: false }), { code: 'ERR_TFRECORD_CRC', message: /payload CRC mismatch/ }, 'strict load re-reads and fails')
  t.ok(fs.existsSync(storePath), 'the failed re-conversion left the old store alone')

  // A file where nothing is valid.
  const junk = path.join(dir, 'junk.tfrecord')
  fs.writeFileSync(junk, 'index,arch\n1,x\n'.repeat(40))
  await rejectsWith(t, convertNb101(junk, undefined, { lenient: true, progress: false }), { code: 'ERR_NB101_NO_RECORDS', offset: 0, message: /no valid NAS-Bench-101 record \(1 bad records skipped; the first, at byte offset 0: length CRC mismatch/ }, 'all junk')
})

t.test('progress reports, cancellation and the verifyHash hook', async t => {
  const dir = tempDir(t)
  const { records } = dataset(6, 400, [108], 3, false)
  const file = path.join(dir, 'p.tfrecord')
  writeFile(file, records)
  const size = fs.statSync(file).size
  const reports: Array<{ bytesDone: number; bytesTotal: number; records: number }> = []
  await convertNb101(file, path.join(dir, 'p.arrow'), { chunkBytes: 4096, progress: p => reports.push(p) })
  t.ok(reports.length >= 1, `progress reported (${reports.length} times; reports are coalesced while JS is busy)`)
  t.ok(reports.every((r, i) => i === 0 || r.bytesDone >= reports[i - 1].bytesDone), 'monotone')
  t.same(reports[reports.length - 1], { bytesDone: size, bytesTotal: size, records: records.length, skipped: 0 }, 'final report is complete')

  const boom = new Error('stop here')
  await t.rejects(convertNb101(file, path.join(dir, 'q.arrow'), { progress: () => { throw boom } }), boom, 'a throwing progress callback rejects with its error')
  const ac = new AbortController()
  ac.abort(new Error('user abort'))
  await t.rejects(convertNb101(file, path.join(dir, 'q.arrow'), { signal: ac.signal }), { message: 'user abort' }, 'an aborted signal rejects')
  t.notOk(fs.existsSync(path.join(dir, 'q.arrow')), 'nothing written')

  // verifyHash: called once per cell with (bits, V op codes, V).
  const hashedFile = path.join(dir, 'h.tfrecord')
  const hashed = dataset(6, 300, [108], 3, false, true)
  writeFile(hashedFile, hashed.records)
  const ref = fileReference(hashedFile)
  const calls: number[] = []
  const verifyHash = (adjacency: number, ops: Uint8Array, V: number) => { calls.push(V); return fakeHash(adjacency, ops, V) }
  const okRes = await convertNb101(hashedFile, path.join(dir, 'v.arrow'), { verifyHash, progress: false })
  t.equal(calls.length, ref.length, 'one call per cell')
  t.ok(calls.every(v => v >= 2 && v <= 7))
  t.equal(okRes.hashVerified, true)
  const victim = ref[7]
  const liar = (adjacency: number, ops: Uint8Array, V: number) => {
    const h = fakeHash(adjacency, ops, V)
    return h === victim.hash ? 'ffffffffffffffffffffffffffffffff' : h
  }
  const firstOffset = readFileReference(fs.readFileSync(hashedFile)).records.find(r => r.record.hash === victim.hash)!.offset
  await rejectsWith(t, convertNb101(hashedFile, path.join(dir, 'v2.arrow'), { verifyHash: liar, progress: false }), {
    code: 'ERR_NB101_HASH', offset: firstOffset, message: new RegExp(`record at byte offset ${firstOffset}: module_hash ${victim.hash} does not match the hash of its cell \\(ffff`)
  }, 'hash mismatch')
  const lenientRes = await convertNb101(hashedFile, path.join(dir, 'v3.arrow'), { verifyHash: liar, lenient: true, progress: false })
  t.equal(lenientRes.cells, ref.length - 1, 'lenient: the cell is dropped')
  t.equal(lenientRes.skipped, 1)
  t.equal(lenientRes.badRecords[0].code, 'ERR_NB101_HASH')
  t.equal(lenientRes.records, hashed.records.length - [...victim.runs.keys()].length)
  t.equal(openNb101Store(path.join(dir, 'v3.arrow')).indexOf(victim.hash), -1)
  await rejectsWith(t, convertNb101(file, path.join(dir, 'v4.arrow'), { verifyHash: () => { throw new Error('not a valid cell') }, progress: false }), {
    code: 'ERR_NB101_HASH', message: /verifyHash rejected the cell of module_hash [0-9a-f]{32}: not a valid cell/
  }, 'hook throws')
})

t.test('loadNb101 reuses a fresh store and converts again when the source changes', async t => {
  const dir = tempDir(t)
  const { records } = dataset(8, 20, [108], 3, false, true)
  const file = path.join(dir, 'x.tfrecord')
  writeFile(file, records)
  const first = await loadNb101(file, { progress: false })
  t.ok(first.conversion)
  const second = await loadNb101(file, { progress: false })
  t.equal(second.conversion, null, 'second load opens the store')
  const viaStore = await loadNb101(defaultNb101StorePath(file))
  t.equal(viaStore.count, first.count, 'a store path opens directly')
  writeFile(file, records.slice(0, 30))
  fs.utimesSync(file, new Date(), new Date(Date.now() + 5000))
  const third = await loadNb101(file, { progress: false })
  t.ok(third.conversion, 'changed source: converted again')
  t.equal(third.conversion!.records, 30)
  const forced = await loadNb101(file, { progress: false, rebuild: true })
  t.ok(forced.conversion, 'rebuild: true converts again')
  const verified = await loadNb101(file, { progress: false, verifyHash: fakeHash })
  t.ok(verified.conversion, 'a verifyHash request converts an unverified store again')
  t.equal(verified.metadata['nasrank.hash_verified'], 'true')
  // A corrupt store is rebuilt, not trusted.
  fs.writeFileSync(defaultNb101StorePath(file), 'ARROW1 but not really')
  const rebuilt = await loadNb101(file, { progress: false })
  t.ok(rebuilt.conversion, 'unreadable store rebuilt')
  await t.rejects(loadNb101(file, { lenient: 'yes' } as never), { name: 'TypeError', message: /loadNb101: lenient must be a boolean/ })
  await t.rejects(loadNb101(file, { bogus: 1 } as never), { name: 'TypeError', message: /unknown option 'bogus'/ })
  await t.rejects(convertNb101(file, file), { name: 'RangeError', message: /must differ from the source/ })
  await t.rejects(convertNb101(file, undefined, { store: 'x' } as never), { name: 'TypeError', message: /unknown option 'store'/ })
  await t.rejects(convertNb101(file, undefined, { chunkBytes: 10 }), { name: 'RangeError', message: /chunkBytes must lie in \[64, 1073741824\]/ })
  await t.rejects(convertNb101(42 as never), { name: 'TypeError', message: /source must be a non-empty string path/ })
})

t.test('openNb101Store refuses files that are not stores', async t => {
  const dir = tempDir(t)
  const { records } = dataset(9, 5, [108], 1, false)
  const file = path.join(dir, 'x.tfrecord')
  writeFile(file, records)
  const store = path.join(dir, 'x.arrow')
  await convertNb101(file, store, { progress: false })
  t.throws(() => openNb101Store(file), { code: 'ERR_STORE_FORMAT', message: /x\.tfrecord: not an Arrow IPC file \(it does not start with the ARROW1 magic\)/ })
  t.throws(() => openNb101Store(path.join(dir, 'nope.arrow')), { code: 'ERR_STORE_IO', message: /nope\.arrow: cannot read the file: ENOENT/ })
  const empty = path.join(dir, 'empty.arrow')
  fs.writeFileSync(empty, '')
  t.throws(() => openNb101Store(empty), { code: 'ERR_STORE_FORMAT', message: /the file is empty \(0 bytes\)/ })
  const cut = path.join(dir, 'cut.arrow')
  const bytes = fs.readFileSync(store)
  fs.writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)))
  t.throws(() => openNb101Store(cut), { code: 'ERR_STORE_FORMAT', message: /cannot read the Arrow IPC data \(corrupt or truncated store\?\)/ })
  // An Arrow file that is not a nasrank store.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const A = require('apache-arrow') as typeof import('apache-arrow')
  const foreign = path.join(dir, 'foreign.arrow')
  fs.writeFileSync(foreign, A.tableToIPC(A.tableFromArrays({ a: Float64Array.from([1, 2]) }), 'file'))
  t.throws(() => openNb101Store(foreign), { code: 'ERR_STORE_FORMAT', message: /not a nasrank NAS-Bench-101 store \(metadata nasrank.format is missing\)/ })
  t.throws(() => openNb101Store(store, { hashCell: 3 } as never), { name: 'TypeError', message: /hashCell must be a function/ })
  // A store whose rows are not sorted by hash (e.g. re-saved by another tool): refused.
  const good = openNb101Store(store)
  const n = good.count
  const rev = <T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(a: T, w: number): T => {
    const out = a.slice() as T
    for (let i = 0; i < n; i++) out.set(a.subarray((n - 1 - i) * w, (n - i) * w), i * w)
    return out
  }
  const datas = good.table.schema.fields.map(f => {
    const d = good.table.getChild(f.name)!.data[0]
    if (f.name === 'hash') return A.makeData({ type: d.type, length: n, nullCount: 0, data: rev(good.cells.hash, 16) })
    if (f.name === 'ops') return A.makeData({ type: d.type, length: n, nullCount: 0, child: A.makeData({ type: new A.Uint8(), length: n * 7, nullCount: 0, data: rev(good.cells.ops, 7) }) })
    return A.makeData({ type: d.type, length: n, nullCount: 0, data: rev(d.values as Float64Array, 1) })
  })
  const struct = A.makeData({ type: new A.Struct(good.table.schema.fields), length: n, nullCount: 0, children: datas })
  const unsorted = path.join(dir, 'unsorted.arrow')
  const unsortedTable = new A.Table(good.table.schema, [new A.RecordBatch(good.table.schema, struct)])
  unsortedTable.schema.metadata.set('nasrank.digest', nb101StoreDigest(unsortedTable))  // a consistent digest: the sort check must catch it
  fs.writeFileSync(unsorted, A.tableToIPC(unsortedTable, 'file'))
  t.throws(() => openNb101Store(unsorted), { code: 'ERR_STORE_SCHEMA', message: /rows are not sorted by hash \(strictly ascending\) at row 1/ })
  // Stored layout, as pandas / polars users see it.
  const s = openNb101Store(store)
  const fields = s.table.schema.fields.map(f => `${f.name}:${f.type}`)
  t.same(fields.slice(0, 5), ['hash:FixedSizeBinary[16]', 'vertices:Uint8', 'adjacency:Uint32', 'ops:FixedSizeList[7]<Uint8>', 'trainable_parameters:Int32'])
  t.same(fields.slice(5), NB101_RUN_METRICS.map(m => `${m}_e108_r0:Float64`))
  t.equal(s.table.batches.length, 1, 'one record batch: columns are contiguous, zero-copy views')
})

t.test('the raw addon validates ingest arguments itself', async t => {
  const raw = addon as unknown as Record<string, (...args: unknown[]) => unknown>
  t.throws(() => raw.nb101Ingest(), { name: 'TypeError', message: /nb101Ingest: path must be a string/ })
  t.throws(() => raw.nb101Ingest('', false, 1 << 20, 1 << 20, null), { name: 'TypeError', message: /path must not be empty/ })
  t.throws(() => raw.nb101Ingest('x', 'no', 1 << 20, 1 << 20, null), { name: 'TypeError', message: /lenient must be a boolean/ })
  t.throws(() => raw.nb101Ingest('x', false, 10, 1 << 20, null), { name: 'RangeError', message: /chunkBytes must be an integer in \[64, 2\^30\]/ })
  t.throws(() => raw.nb101Ingest('x', false, 1 << 20, 0, null), { name: 'RangeError', message: /maxRecordBytes/ })
  t.throws(() => raw.nb101Ingest('x', false, 1 << 20, 1 << 20, 'cb'), { name: 'TypeError', message: /onProgress must be a function or null/ })
  t.throws(() => raw.nb101ParsePayload([1, 2]), { name: 'TypeError', message: /payload must be a Uint8Array or Buffer/ })
  await t.rejects(raw.nb101Ingest('/nonexistent/file', false, 1 << 20, 1 << 20, null) as Promise<unknown>, { code: 'ERR_TFRECORD_IO', message: /cannot open: No such file/ })
})

t.test('progress bar: TTY redraw with ETA, plain lines elsewhere, silent when off', async t => {
  let now = 0
  const out: string[] = []
  const stream = { isTTY: true, columns: 120, write: (s: string) => { out.push(s); return true } } as unknown as NodeJS.WriteStream
  const bar = new ProgressBar({ label: 'f.tfrecord', total: 1e9, stream, now: () => now })
  now = 1000
  bar.update(2.5e8)
  t.match(out[0], /^\rf\.tfrecord \[######-+\]  25\.0% 250 MB\/1\.00 GB 250 MB\/s ETA 0:03\x1b\[K$/)
  now = 1050
  bar.update(3e8)
  t.equal(out.length, 1, 'throttled to 10 redraws a second')
  now = 4000
  bar.update(1e9, '2 bad skipped')
  t.match(out[1], /100\.0% 1\.00 GB\/1\.00 GB 250 MB\/s in 0:04 2 bad skipped/)
  bar.finish('done')
  t.match(out.slice(2).join(''), /^\rdone\x1b\[K\n$/)
  const lines: string[] = []
  const plain = { isTTY: false, write: (s: string) => { lines.push(s); return true } } as unknown as NodeJS.WriteStream
  const bar2 = new ProgressBar({ label: 'x', total: 100, stream: plain, unit: 'items', now: () => now })
  for (let i = 0; i <= 100; i++) bar2.update(i)
  bar2.finish()
  t.equal(lines.join('').split('\n').filter(Boolean).length, 10, 'one plain line per 10% step (10..90%) plus the final line')
  t.notOk(lines.join('').includes('\r'), 'no control characters outside a TTY')
  const silent: string[] = []
  const bar3 = new ProgressBar({ label: 'x', total: 10, mode: 'off', stream: { write: (s: string) => { silent.push(s); return true } } as never })
  bar3.update(5)
  bar3.finish()
  t.same(silent, [])
})

t.test('command line: bench convert, query, info and table', async t => {
  const dir = tempDir(t)
  const bin = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
  const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })
  const { records } = dataset(13, 10, [108], 3, false)
  const file = path.join(dir, 'c.tfrecord')
  writeFile(file, records)
  const conv = run('bench', 'convert', file, '--no-progress')
  t.equal(conv.status, 0, conv.stderr)
  t.match(JSON.parse(conv.stdout), { store: path.join(dir, 'c.nasrank.arrow'), records: records.length, skipped: 0 })
  const store = openNb101Store(path.join(dir, 'c.nasrank.arrow'))
  const h = store.hashAt(3)
  const q = run('bench', 'query', path.join(dir, 'c.nasrank.arrow'), h, '--metric', 'final_test_accuracy', '--repeat', '1')
  t.equal(q.status, 0, q.stderr)
  t.equal(JSON.parse(q.stdout).value, store.query(h, { metric: 'final_test_accuracy', repeat: 1 }))
  const info = run('bench', 'info', file)
  t.equal(info.status, 0, info.stderr)
  t.match(JSON.parse(info.stdout), { cells: store.count, epochs: [108], repeats: 3 })
  // A corrupt file: exit 1, the offset on stderr, no store.
  const bad = path.join(dir, 'bad.tfrecord')
  fs.writeFileSync(bad, Buffer.concat([fs.readFileSync(file).subarray(0, 100), Buffer.from('xx')]))
  const fail = run('bench', 'convert', bad, '--no-progress')
  t.equal(fail.status, 1)
  t.match(fail.stderr, /^nasrank: convertNb101: .*bad\.tfrecord: record at byte offset 0: the file ends inside the record/)
  t.notOk(fs.existsSync(path.join(dir, 'bad.nasrank.arrow')))
  const lenient = run('bench', 'convert', bad, '--lenient', '--no-progress')
  t.equal(lenient.status, 1, 'lenient mode with nothing valid still fails')
  t.match(lenient.stderr, /no valid NAS-Bench-101 record/)
  const csvFile = path.join(dir, 't.csv')
  fs.writeFileSync(csvFile, 'arch,test_accuracy\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n')
  const table = run('bench', 'table', csvFile, '--to', path.join(dir, 't.arrow'))
  t.equal(table.status, 0, table.stderr)
  t.equal(JSON.parse(run('bench', 'table', path.join(dir, 't.arrow')).stdout).columns.test_accuracy.max, 10)
  const usage = run('bench', 'convert')
  t.equal(usage.status, 2)
  t.match(usage.stderr, /missing required argument 'file\.tfrecord'/)
  t.match(run('bench', 'query', 'x', 'y', '--bogus').stderr, /unknown option '--bogus'/)
})
