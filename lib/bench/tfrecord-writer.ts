// Writing TFRecord files in the NAS-Bench-101 layout: byte-exact framing, the JSON payload
// as Python's json.dumps writes it, base64 and the ModelMetrics protobuf. The project's
// tests and benchmarks generate their input with it (the official file is not shipped).
//
// The writer checks types only: it will write an unknown op label or a NaN accuracy if
// asked to, so tests can produce the bad records the reader must reject.
import * as fs from 'node:fs'
import { addon } from '../native'
import { tempPathFor, trackTemp, untrackTemp, writeAll } from './atomic'
import { describe } from '../validate'

/** CRC32C (Castagnoli) of `data`, chained from `crc` (0 to start), natively (SSE4.2 when present). */
export function crc32c (data: Uint8Array, crc = 0): number {
  if (!(data instanceof Uint8Array)) throw new TypeError(`crc32c: data must be a Uint8Array or Buffer, got ${describe(data)}`)
  if (typeof crc !== 'number' || !Number.isInteger(crc) || crc < 0 || crc > 0xFFFFFFFF) {
    throw new RangeError(`crc32c: crc must be an integer in [0, 2^32), got ${describe(crc)}`)
  }
  return addon.crc32c(data, crc)
}

/** TFRecord's masked CRC: rotate right by 15 bits, add 0xa282ead8 (mod 2^32). */
export function maskCrc32c (crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0
}

/** One TFRecord: uint64 length, masked CRC of the length, payload, masked CRC of the payload. */
export function frameTfRecord (payload: Uint8Array): Buffer {
  if (!(payload instanceof Uint8Array)) throw new TypeError(`frameTfRecord: payload must be a Uint8Array or Buffer, got ${describe(payload)}`)
  const out = Buffer.allocUnsafe(16 + payload.byteLength)
  out.writeBigUInt64LE(BigInt(payload.byteLength), 0)
  out.writeUInt32LE(maskCrc32c(addon.crc32c(out.subarray(0, 8))), 8)
  out.set(payload, 12)
  out.writeUInt32LE(maskCrc32c(addon.crc32c(payload)), 12 + payload.byteLength)
  return out
}

/** `EvaluationData` (all fields optional; absent ones are not written). */
export interface Nb101EvaluationData {
  currentEpoch?: number
  trainingTime?: number
  trainAccuracy?: number
  validationAccuracy?: number
  testAccuracy?: number
  checkpointPath?: string
}

/** `ModelMetrics`: NAS-Bench-101 writes three evaluations (start, halfway, final). */
export interface Nb101ModelMetrics {
  evaluationData: readonly Nb101EvaluationData[]
  trainableParameters?: number
  totalTime?: number
}

/** One record of a NAS-Bench-101 file. */
export interface Nb101RecordInput {
  /** module_hash: 32 hex digits (written as given). */
  hash: string
  epochs: number
  /** V*V digits row-major, or a V x V matrix of 0/1. */
  adjacency: string | ReadonlyArray<ReadonlyArray<number>>
  /** Comma-separated labels, or an array of labels. */
  operations: string | readonly string[]
  /** The metrics message, or its protobuf bytes, or the base64 text exactly as to be written. */
  metrics: Nb101ModelMetrics | Uint8Array | { base64: string }
}

// ---- protobuf encoding ---------------------------------------------------------------------

class ProtoWriter {
  private buf = Buffer.allocUnsafe(256)
  private n = 0
  private ensure (k: number): void {
    if (this.n + k <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k))
    this.buf.copy(grown, 0, 0, this.n)
    this.buf = grown
  }
  /** A non-negative safe integer, or a negative one as its 64-bit two's complement (10 bytes). */
  varint (v: number): void {
    this.ensure(10)
    if (v < 0) {
      let x = BigInt.asUintN(64, BigInt(v))
      while (x >= 0x80n) { this.buf[this.n++] = Number(x & 0x7Fn) | 0x80; x >>= 7n }
      this.buf[this.n++] = Number(x)
      return
    }
    while (v >= 0x80) { this.buf[this.n++] = (v % 128) | 0x80; v = Math.floor(v / 128) }
    this.buf[this.n++] = v
  }
  tag (field: number, wire: number): void { this.varint(field * 8 + wire) }
  double (field: number, v: number): void {
    this.tag(field, 1)
    this.ensure(8)
    this.buf.writeDoubleLE(v, this.n)
    this.n += 8
  }
  bytes (field: number, data: Uint8Array): void {
    this.tag(field, 2)
    this.varint(data.byteLength)
    this.ensure(data.byteLength)
    this.buf.set(data, this.n)
    this.n += data.byteLength
  }
  toBuffer (): Buffer { return Buffer.from(this.buf.subarray(0, this.n)) }
}

function num (v: unknown, fn: string, name: string): number {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(v)}`)
  return v
}

/** Serialises `ModelMetrics` exactly as protobuf does (fields in number order, int32 sign-extended). */
export function encodeModelMetrics (metrics: Nb101ModelMetrics): Buffer {
  const fn = 'encodeModelMetrics'
  if (metrics === null || typeof metrics !== 'object') throw new TypeError(`${fn}: metrics must be an object, got ${describe(metrics)}`)
  if (!Array.isArray(metrics.evaluationData)) throw new TypeError(`${fn}: metrics.evaluationData must be an array, got ${describe(metrics.evaluationData)}`)
  const w = new ProtoWriter()
  metrics.evaluationData.forEach((e, k) => {
    if (e === null || typeof e !== 'object') throw new TypeError(`${fn}: evaluationData[${k}] must be an object, got ${describe(e)}`)
    const sub = new ProtoWriter()
    const fields: Array<[number, keyof Nb101EvaluationData]> = [[1, 'currentEpoch'], [2, 'trainingTime'], [3, 'trainAccuracy'], [4, 'validationAccuracy'], [5, 'testAccuracy']]
    for (const [field, key] of fields) {
      if (e[key] !== undefined) sub.double(field, num(e[key], fn, `evaluationData[${k}].${key}`))
    }
    if (e.checkpointPath !== undefined) {
      if (typeof e.checkpointPath !== 'string') throw new TypeError(`${fn}: evaluationData[${k}].checkpointPath must be a string, got ${describe(e.checkpointPath)}`)
      sub.bytes(6, Buffer.from(e.checkpointPath, 'utf8'))
    }
    w.bytes(1, sub.toBuffer())
  })
  if (metrics.trainableParameters !== undefined) {
    const p = num(metrics.trainableParameters, fn, 'trainableParameters')
    if (!Number.isInteger(p) || p < -(2 ** 31) || p >= 2 ** 31) throw new RangeError(`${fn}: trainableParameters must be an int32, got ${p}`)
    w.tag(2, 0)
    w.varint(p)
  }
  if (metrics.totalTime !== undefined) w.double(3, num(metrics.totalTime, fn, 'totalTime'))
  return w.toBuffer()
}

// Python's json.dumps (ensure_ascii): JSON.stringify escapes, plus \uXXXX for non-ASCII.
function pyJsonString (s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, c => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
}

/** The payload bytes: `[module_hash, epochs, adjacency, operations, metrics]` as json.dumps writes it. */
export function encodeNb101Payload (record: Nb101RecordInput): Buffer {
  const fn = 'encodeNb101Payload'
  if (record === null || typeof record !== 'object') throw new TypeError(`${fn}: record must be an object, got ${describe(record)}`)
  if (typeof record.hash !== 'string') throw new TypeError(`${fn}: record.hash must be a string, got ${describe(record.hash)}`)
  const epochs = num(record.epochs, fn, 'record.epochs')
  if (!Number.isSafeInteger(epochs) || epochs < 0) throw new RangeError(`${fn}: record.epochs must be a non-negative integer, got ${epochs}`)
  let adjacency: string
  if (typeof record.adjacency === 'string') {
    adjacency = record.adjacency
  } else if (Array.isArray(record.adjacency)) {
    adjacency = record.adjacency.map((row, i) => {
      if (!Array.isArray(row)) throw new TypeError(`${fn}: record.adjacency[${i}] must be an array, got ${describe(row)}`)
      return row.map((v, j) => {
        if (v !== 0 && v !== 1) throw new RangeError(`${fn}: record.adjacency[${i}][${j}] must be 0 or 1, got ${describe(v)}`)
        return String(v)
      }).join('')
    }).join('')
  } else {
    throw new TypeError(`${fn}: record.adjacency must be a digit string or a matrix, got ${describe(record.adjacency)}`)
  }
  let operations: string
  if (typeof record.operations === 'string') operations = record.operations
  else if (Array.isArray(record.operations)) {
    record.operations.forEach((op, k) => { if (typeof op !== 'string') throw new TypeError(`${fn}: record.operations[${k}] must be a string, got ${describe(op)}`) })
    operations = record.operations.join(',')
  } else throw new TypeError(`${fn}: record.operations must be a string or an array of strings, got ${describe(record.operations)}`)
  const m = record.metrics
  let base64: string
  if (m instanceof Uint8Array) base64 = Buffer.from(m.buffer, m.byteOffset, m.byteLength).toString('base64')
  else if (m !== null && typeof m === 'object' && 'base64' in m) {
    if (typeof m.base64 !== 'string') throw new TypeError(`${fn}: record.metrics.base64 must be a string, got ${describe(m.base64)}`)
    base64 = m.base64
  } else base64 = encodeModelMetrics(m as Nb101ModelMetrics).toString('base64')
  return Buffer.from(`[${pyJsonString(record.hash)}, ${epochs}, ${pyJsonString(adjacency)}, ${pyJsonString(operations)}, ${pyJsonString(base64)}]`, 'utf8')
}

/**
 * Streams TFRecords to a file. With `atomic` (default) the records go to a temporary file
 * that `close()` renames over `file`; `abort()` (or an exception before close) leaves nothing.
 */
export class TfRecordWriter {
  readonly file: string
  private readonly target: string
  private fd: number | undefined
  private buffer: Buffer
  private used = 0
  private _records = 0
  private _bytes = 0
  private readonly atomic: boolean

  constructor (file: string, options: { atomic?: boolean; bufferBytes?: number } = {}) {
    if (typeof file !== 'string' || file === '') throw new TypeError(`TfRecordWriter: file must be a non-empty string, got ${describe(file)}`)
    this.file = file
    this.atomic = options.atomic ?? true
    this.target = this.atomic ? tempPathFor(file) : file
    if (this.atomic) trackTemp(this.target)
    this.fd = fs.openSync(this.target, this.atomic ? 'wx' : 'w', 0o644)
    this.buffer = Buffer.allocUnsafe(Math.max(1 << 16, options.bufferBytes ?? 1 << 20))
  }

  get records (): number { return this._records }
  get bytes (): number { return this._bytes }

  /** Appends raw bytes (already framed, or deliberately broken framing in tests). */
  writeRaw (bytes: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`TfRecordWriter: ${this.file} is closed`)
    if (this.used + bytes.byteLength > this.buffer.byteLength) this.flush()
    if (bytes.byteLength > this.buffer.byteLength) writeAll(this.fd, bytes)
    else {
      this.buffer.set(bytes, this.used)
      this.used += bytes.byteLength
    }
    this._bytes += bytes.byteLength
  }

  /** Appends one framed record with this payload. */
  write (payload: Uint8Array): void {
    this.writeRaw(frameTfRecord(payload))
    this._records++
  }

  /** Appends one NAS-Bench-101 record. */
  writeNb101 (record: Nb101RecordInput): void {
    this.write(encodeNb101Payload(record))
  }

  private flush (): void {
    if (this.fd !== undefined && this.used > 0) writeAll(this.fd, this.buffer.subarray(0, this.used))
    this.used = 0
  }

  /** Flushes, closes and (atomic mode) renames into place. */
  close (): { file: string; records: number; bytes: number } {
    if (this.fd === undefined) throw new Error(`TfRecordWriter: ${this.file} is already closed`)
    try {
      this.flush()
      fs.fsyncSync(this.fd)
    } catch (err) {
      this.abort()
      throw err
    }
    fs.closeSync(this.fd)
    this.fd = undefined
    if (this.atomic) {
      fs.renameSync(this.target, this.file)
      untrackTemp(this.target)
    }
    return { file: this.file, records: this._records, bytes: this._bytes }
  }

  /** Discards everything written (atomic mode removes the temporary file). */
  abort (): void {
    if (this.fd !== undefined) {
      try { fs.closeSync(this.fd) } catch { /* ignore */ }
      this.fd = undefined
    }
    if (this.atomic) {
      try { fs.unlinkSync(this.target) } catch { /* ignore */ }
      untrackTemp(this.target)
    }
  }
}

/** Writes a whole NAS-Bench-101 file from records (atomically). */
export function writeNb101TfRecord (file: string, records: Iterable<Nb101RecordInput>): { file: string; records: number; bytes: number } {
  const w = new TfRecordWriter(file)
  try {
    for (const r of records) w.writeNb101(r)
  } catch (err) {
    w.abort()
    throw err
  }
  return w.close()
}
