// NAS-Bench-101 data: the official TFRecord files (`nasbench_only108.tfrecord`,
// `nasbench_full.tfrecord`) are read once, natively and streaming, into a columnar Apache
// Arrow IPC store; later runs open the store (well under a second) instead.
//
// Store layout (docs/nb101-store.md): one row per module hash, rows sorted by the hash's 16
// bytes, cell columns `hash` FixedSizeBinary(16), `vertices` Uint8, `adjacency` Uint32
// (packed upper triangle), `ops` FixedSizeList<Uint8>[7], `trainable_parameters` Int32, and
// per (epochs E, repeat r) Float64 columns `<metric>_e<E>_r<r>` (null where a cell has no
// such run). Whole-space lookups are therefore zero-copy column views, and a single query is
// a binary search plus one array read.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHash, type Hash } from 'node:crypto'
import type * as Arrow from 'apache-arrow'
import { addon, type IngestProgressRaw, type Nb101IngestRaw, type Nb101RecordRaw } from '../native'
import { checkOptions, describe } from '../validate'
import { ProgressBar, formatBytes, formatCount, formatDuration } from '../progress'
import { DataFileError } from './errors'
import { removeStaleTemps, writeAll, writeAtomic } from './atomic'
import { clip, openRegularFile, quote, readAt, readRegularFile, MAX_BUFFER_BYTES, type OpenedFile } from './file'

// apache-arrow is loaded on first use only (importing nasrank must stay light).
function arrow (): typeof Arrow {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('apache-arrow') as typeof Arrow
}

/** Per-run metrics, as the nasbench API names them (halfway = evaluation 1, final = evaluation 2). */
export const NB101_RUN_METRICS = [
  'total_time',
  'halfway_training_time',
  'halfway_train_accuracy',
  'halfway_validation_accuracy',
  'halfway_test_accuracy',
  'final_training_time',
  'final_train_accuracy',
  'final_validation_accuracy',
  'final_test_accuracy'
] as const
export type Nb101RunMetric = typeof NB101_RUN_METRICS[number]
/** Everything `query`/`column` can return: the per-run metrics plus the per-cell parameter count. */
export type Nb101Metric = Nb101RunMetric | 'trainable_parameters'
export const NB101_METRICS: readonly Nb101Metric[] = [...NB101_RUN_METRICS, 'trainable_parameters']

export const NB101_STORE_FORMAT = 'nasrank-nb101-store'
export const NB101_STORE_VERSION = '2'

const OP_LABELS = ['input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3', 'output'] as const

/**
 * Computes the official module hash (32 lowercase hex digits) of a cell given as packed
 * adjacency bits (contract layout), its V op codes and V. nasrank's `nb101.hash` fits this
 * shape; it is passed in (not imported) so this module does not depend on the search space.
 */
export type Nb101CellHasher = (adjacency: number, ops: Uint8Array, vertices: number) => string

/** The store's cells in the contract's `Nb101Cells` layout (views into the store; do not mutate). */
export interface Nb101StoreCells {
  count: number
  vertices: Uint8Array
  adjacency: Uint32Array
  ops: Uint8Array
  hash: Uint8Array
}

/** A cell given by its spec (already pruned, as the contract's `Nb101Spec`). */
export interface Nb101SpecLike { matrix: ReadonlyArray<ReadonlyArray<number>>; ops: readonly string[] }
/** An architecture: module hash (hex string or 16 raw bytes) or a spec (needs `hashCell`). */
export type Nb101ArchKey = string | Uint8Array | Nb101SpecLike

export interface Nb101IngestProgress extends IngestProgressRaw {}

export interface ConvertNb101Options {
  /** Skip and count bad records instead of failing on the first (default false). */
  lenient?: boolean
  /**
   * true: a progress bar on stderr (redrawn on a TTY, plain lines otherwise); false: none;
   * 'auto' (default): a bar only when stderr is a TTY; a function: called with each report.
   */
  progress?: boolean | 'auto' | ((p: Nb101IngestProgress) => void)
  /**
   * Hook: checks every cell's module_hash against a hash computed from its adjacency and ops
   * (wire nasrank's `nb101.hash` here). A mismatch is an error naming the record's offset
   * (lenient: the cell is dropped and counted).
   */
  verifyHash?: Nb101CellHasher
  /** Stops the conversion (rejects with the signal's reason); nothing is written. */
  signal?: AbortSignal
  /** Read size (default 8 MiB). */
  chunkBytes?: number
  /** Longest record accepted (default 64 MiB; NAS-Bench-101 records are < 2 KB). */
  maxRecordBytes?: number
}

export interface Nb101BadRecord { offset: number; code: string; message: string }

export interface Nb101ConvertResult {
  source: string
  store: string
  sourceBytes: number
  storeBytes: number
  cells: number
  records: number
  /** Bad records (or unreadable regions) skipped in lenient mode; 0 in strict mode. */
  skipped: number
  skippedBytes: number
  /** The first 100 skipped records, with offsets. */
  badRecords: Nb101BadRecord[]
  epochs: number[]
  repeats: number
  hashVerified: boolean
  seconds: number
  /** Time of the native read alone. */
  ingestSeconds: number
}

const CONVERT_KEYS = ['lenient', 'progress', 'verifyHash', 'signal', 'chunkBytes', 'maxRecordBytes'] as const

/** Where `loadNb101` keeps the store of a TFRecord file by default: beside it, `.nasrank.arrow`. */
export function defaultNb101StorePath (tfrecord: string): string {
  const abs = path.resolve(tfrecord)
  return abs.endsWith('.tfrecord') ? abs.slice(0, -'.tfrecord'.length) + '.nasrank.arrow' : abs + '.nasrank.arrow'
}

function ioError (fn: string, file: string, code: string, reason: string): DataFileError {
  return new DataFileError(`${fn}: ${file}: ${reason}`, { code, file, reason })
}

/**
 * Opens a TFRecord source once and checks it on the open descriptor: a regular file (after
 * following symlinks; a FIFO or device is refused instead of blocking or reading without end),
 * not empty.
 */
function openSource (fn: string, file: string): OpenedFile {
  const src = openRegularFile(fn, file, 'ERR_TFRECORD_IO')
  if (src.size === 0) {
    fs.closeSync(src.fd)
    throw ioError(fn, file, 'ERR_TFRECORD_EMPTY', 'the file is empty (0 bytes): no TFRecord records')
  }
  return src
}

/**
 * The path the native reader opens: on Linux the descriptor already opened and checked
 * (/proc/self/fd/N reopens that very file, so it cannot be swapped between the check and
 * the read); elsewhere the path itself.
 */
function nativePathOf (file: string, fd: number): string {
  if (process.platform === 'linux') {
    const p = `/proc/self/fd/${fd}`
    try { if (fs.statSync(p).isFile()) return p } catch { /* no /proc: use the path */ }
  }
  return file
}

const FINGERPRINT_BYTES = 1 << 20

/**
 * A cheap content fingerprint of a source file: SHA-256 over its size (8 bytes LE), its first
 * MiB and its last MiB (the whole file when smaller than 2 MiB).
 */
function sourceFingerprint (fd: number, size: number): string {
  const h = createHash('sha256')
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(size))
  h.update(len)
  if (size <= 2 * FINGERPRINT_BYTES) h.update(readAt(fd, size, 0))
  else {
    h.update(readAt(fd, FINGERPRINT_BYTES, 0))
    h.update(readAt(fd, FINGERPRINT_BYTES, size - FINGERPRINT_BYTES))
  }
  return `sha256-1MiB-head-tail:${h.digest('hex')}`
}

/** SHA-256 of the first `size` bytes of an open file, read asynchronously in 8 MiB pieces. */
async function sha256OfFile (fd: number, size: number, control: { stop: boolean }): Promise<string> {
  const h = createHash('sha256')
  const buf = Buffer.allocUnsafe(Math.min(size, 8 << 20) || 1)
  let at = 0
  while (at < size && !control.stop) {
    const bytesRead = await new Promise<number>((resolve, reject) => {
      fs.read(fd, buf, 0, Math.min(buf.length, size - at), at, (err, n) => { if (err) reject(err); else resolve(n) })
    })
    if (bytesRead === 0) break
    h.update(buf.subarray(0, bytesRead))
    at += bytesRead
  }
  return h.digest('hex')
}

/**
 * The native reader allocates the record a header declares (up to maxRecordBytes) before it
 * finds that the file ends first, so the limit it gets is capped by what the file can hold;
 * a record declaring more than that but no more than the caller's limit is a truncation,
 * reported as such here.
 */
function recheckRecordSize (fd: number, size: number, offset: number, userLimit: number): { code: string; reason: string } | null {
  const head = readAt(fd, 8, offset)
  if (head.length < 8) return null
  const len = Number(head.readBigUInt64LE(0))
  if (len > userLimit) return { code: 'ERR_TFRECORD_TOO_LARGE', reason: `the record declares ${len} payload bytes, more than the limit of ${userLimit} bytes` }
  return {
    code: 'ERR_TFRECORD_TRUNCATED',
    reason: `the file ends inside the record: it declares ${len} payload bytes (${len + 16} bytes with framing) but only ${size - offset} bytes remain (truncated file?)`
  }
}

function abortReason (signal: AbortSignal): unknown {
  if (signal.reason !== undefined) return signal.reason
  const err = new Error('The operation was aborted')
  err.name = 'AbortError'
  return err
}

function checkInteger (value: unknown, fallback: number, min: number, max: number, fn: string, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${fn}: ${name} must be an integer, got ${describe(value)}`)
  if (value < min || value > max) throw new RangeError(`${fn}: ${name} must lie in [${min}, ${max}], got ${value}`)
  return value
}

function parseConvertOptions (options: unknown, fn: string, extraKeys: readonly string[] = []) {
  const o = checkOptions<ConvertNb101Options>(options, fn, [...CONVERT_KEYS, ...extraKeys])
  if (o.lenient !== undefined && typeof o.lenient !== 'boolean') throw new TypeError(`${fn}: lenient must be a boolean, got ${describe(o.lenient)}`)
  if (o.progress !== undefined && typeof o.progress !== 'boolean' && o.progress !== 'auto' && typeof o.progress !== 'function') {
    throw new TypeError(`${fn}: progress must be true, false, 'auto' or a function, got ${describe(o.progress)}`)
  }
  if (o.verifyHash !== undefined && typeof o.verifyHash !== 'function') throw new TypeError(`${fn}: verifyHash must be a function, got ${describe(o.verifyHash)}`)
  if (o.signal !== undefined && (o.signal === null || typeof o.signal !== 'object' || typeof (o.signal as AbortSignal).aborted !== 'boolean')) {
    throw new TypeError(`${fn}: signal must be an AbortSignal, got ${describe(o.signal)}`)
  }
  return {
    lenient: o.lenient ?? false,
    progress: o.progress ?? 'auto',
    verifyHash: o.verifyHash,
    signal: o.signal,
    chunkBytes: checkInteger(o.chunkBytes, 8 << 20, 64, 1 << 30, fn, 'chunkBytes'),
    maxRecordBytes: checkInteger(o.maxRecordBytes, 64 << 20, 1, 2 ** 32, fn, 'maxRecordBytes')
  }
}

function hexOf (bytes: Uint8Array, row: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + row * 16, 16).toString('hex')
}

/** Checks every cell's hash with the hook; strict: throws, lenient: drops the cell. */
function verifyHashes (raw: Nb101IngestRaw, hasher: Nb101CellHasher, lenient: boolean, fn: string, file: string): Nb101IngestRaw {
  const keep = new Uint8Array(raw.cells).fill(1)
  let dropped = 0
  for (let i = 0; i < raw.cells; i++) {
    const V = raw.vertices[i]
    const expected = hexOf(raw.hash, i)
    let got: unknown
    let reason: string | null = null
    try {
      got = hasher(raw.adjacency[i], raw.ops.slice(i * 7, i * 7 + V), V)
      if (typeof got !== 'string') reason = `verifyHash returned ${describe(got)}, not a hex string`
      else if (got.toLowerCase() !== expected) reason = `module_hash ${expected} does not match the hash of its cell (${got}) computed by verifyHash`
    } catch (err) {
      reason = `verifyHash rejected the cell of module_hash ${expected}: ${(err as Error).message ?? String(err)}`
    }
    if (reason === null) continue
    const offset = raw.firstOffset[i]
    if (!lenient) {
      throw new DataFileError(`${fn}: ${file}: record at byte offset ${offset}: ${reason}`, { code: 'ERR_NB101_HASH', file, offset, reason })
    }
    keep[i] = 0
    dropped++
    if (raw.bad.length < 100) raw.bad.push({ offset, code: 'ERR_NB101_HASH', message: reason })
  }
  if (dropped === 0) return raw
  const rows: number[] = []
  let records = 0
  for (let i = 0; i < raw.cells; i++) { if (keep[i]) rows.push(i); else records += raw.runs[i] }
  const pick = <T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(a: T, stride: number): T => {
    const out = new (a.constructor as new (n: number) => T)(rows.length * stride)
    rows.forEach((r, k) => out.set(a.subarray(r * stride, (r + 1) * stride), k * stride))
    return out
  }
  raw.bad.sort((a, b) => a.offset - b.offset)
  return {
    ...raw,
    cells: rows.length,
    records: raw.records - records,
    skipped: raw.skipped + dropped,
    hash: pick(raw.hash, 16),
    vertices: pick(raw.vertices, 1),
    adjacency: pick(raw.adjacency, 1),
    ops: pick(raw.ops, 7),
    trainableParameters: pick(raw.trainableParameters, 1),
    firstOffset: pick(raw.firstOffset, 1),
    runs: pick(raw.runs, 1),
    slots: raw.slots.map(s => ({ ...s, values: s.values.map(v => pick(v, 1)) }))
  }
}

/** The column name of a run metric: `<metric>_e<epochs>_r<repeat>`. */
export function nb101ColumnName (metric: Nb101RunMetric, epochs: number, repeat: number): string {
  return `${metric}_e${epochs}_r${repeat}`
}

/** @internal The store's Arrow table from a pivoted ingest (benchmarks build synthetic stores with it). */
export function buildStoreTable (raw: Nb101IngestRaw, metadata: Map<string, string>): Arrow.Table {
  const A = arrow()
  const n = raw.cells
  const fields: Arrow.Field[] = []
  const children: Arrow.Data[] = []
  const add = (name: string, data: Arrow.Data, nullable: boolean) => {
    fields.push(new A.Field(name, data.type, nullable))
    children.push(data)
  }
  add('hash', A.makeData({ type: new A.FixedSizeBinary(16), length: n, nullCount: 0, data: raw.hash }), false)
  add('vertices', A.makeData({ type: new A.Uint8(), length: n, nullCount: 0, data: raw.vertices }), false)
  add('adjacency', A.makeData({ type: new A.Uint32(), length: n, nullCount: 0, data: raw.adjacency }), false)
  const opsChild = A.makeData({ type: new A.Uint8(), length: n * 7, nullCount: 0, data: raw.ops })
  add('ops', A.makeData({ type: new A.FixedSizeList(7, new A.Field('op', new A.Uint8(), false)), length: n, nullCount: 0, child: opsChild }), false)
  add('trainable_parameters', A.makeData({ type: new A.Int32(), length: n, nullCount: 0, data: raw.trainableParameters }), false)
  for (let k = 0; k < raw.valueNames.length; k++) {
    for (const slot of raw.slots) {
      const values = slot.values[k]
      let nulls = 0
      for (let i = 0; i < n; i++) if (values[i] !== values[i]) nulls++
      let nullBitmap: Uint8Array | undefined
      if (nulls > 0) {
        nullBitmap = new Uint8Array((n + 7) >> 3)
        for (let i = 0; i < n; i++) if (values[i] === values[i]) nullBitmap[i >> 3] |= 1 << (i & 7)
      }
      const data = A.makeData({ type: new A.Float64(), length: n, nullCount: nulls, data: values, nullBitmap })
      add(nb101ColumnName(raw.valueNames[k] as Nb101RunMetric, slot.epochs, slot.repeat), data, true)
    }
  }
  const schema = new A.Schema(fields, metadata)
  const struct = A.makeData({ type: new A.Struct(fields), length: n, nullCount: 0, children })
  return new A.Table(schema, [new A.RecordBatch(schema, struct)])
}

/** Writes an Arrow table as an IPC file, atomically, streaming its buffers (no whole-file copy). */
async function writeArrowFile (table: Arrow.Table, target: string): Promise<void> {
  const A = arrow()
  await writeAtomic(target, async fd => {
    const writer = new A.RecordBatchFileWriter()
    writer.write(table)
    writer.finish()
    for await (const chunk of writer) writeAll(fd, chunk)
  })
}

/**
 * Reads a NAS-Bench-101 TFRecord file natively (streaming, CRCs verified) and writes the
 * columnar store (default: beside it, see {@link defaultNb101StorePath}) atomically.
 * Bad input rejects with a {@link DataFileError} naming the file and the record's byte offset.
 */
export async function convertNb101 (source: string, store?: string, options?: ConvertNb101Options): Promise<Nb101ConvertResult> {
  const fn = 'convertNb101'
  if (typeof source !== 'string' || source === '') throw new TypeError(`${fn}: source must be a non-empty string path, got ${describe(source)}`)
  if (store !== undefined && (typeof store !== 'string' || store === '')) throw new TypeError(`${fn}: store must be a non-empty string path, got ${describe(store)}`)
  const opts = parseConvertOptions(options, fn)
  const file = path.resolve(source)
  const target = store !== undefined ? path.resolve(store) : defaultNb101StorePath(file)
  if (target === file) throw new RangeError(`${fn}: the store path must differ from the source file (${file})`)
  const t0 = process.hrtime.bigint()
  removeStaleTemps(target)
  const src = openSource(fn, file)
  const st = src.stats
  // The source's full SHA-256 is computed alongside the native read (provenance, recorded in
  // the store); `stop` ends it early when the conversion fails.
  const hashing = { stop: false }
  const fullHash = sha256OfFile(src.fd, st.size, hashing)
  fullHash.catch(() => {})
  try {
    return await convertOpened(fn, file, target, src, opts, t0, fullHash)
  } finally {
    hashing.stop = true
    await fullHash.catch(() => {})
    fs.closeSync(src.fd)
  }
}

async function convertOpened (fn: string, file: string, target: string, src: OpenedFile, opts: ReturnType<typeof parseConvertOptions>, t0: bigint,
  fullHash: Promise<string>): Promise<Nb101ConvertResult> {
  const st = src.stats
  if (opts.signal?.aborted) throw abortReason(opts.signal)

  const wantBar = opts.progress === true || (opts.progress === 'auto' && process.stderr.isTTY === true)
  const bar = wantBar ? new ProgressBar({ label: path.basename(file), total: st.size, mode: opts.progress === true ? 'auto' : 'tty' }) : null
  const userProgress = typeof opts.progress === 'function' ? opts.progress : undefined
  const signal = opts.signal
  const onProgress = bar || userProgress || signal
    ? (p: IngestProgressRaw) => {
        if (signal?.aborted) throw abortReason(signal)
        bar?.update(p.bytesDone, p.skipped > 0 ? `${formatCount(p.skipped)} bad skipped` : undefined)
        userProgress?.({ ...p })
      }
    : null

  // No record can be longer than the file: cap the limit the native reader allocates up to.
  const nativeLimit = Math.max(1, Math.min(opts.maxRecordBytes, st.size - 16))
  let raw: Nb101IngestRaw
  try {
    const pending = addon.nb101Ingest(nativePathOf(file, src.fd), opts.lenient, opts.chunkBytes, nativeLimit, onProgress)
    pending.catch(() => {})  // (awaited below; this only keeps a rejection from counting as unhandled meanwhile)
    arrow()  // load apache-arrow while the native reader works on its own thread
    raw = await pending
  } catch (err) {
    bar?.clear()
    const e = err as Error & { code?: string; offset?: number; reason?: string }
    if (typeof e?.code === 'string' && typeof e.reason === 'string' && /^ERR_(TFRECORD|NB101)_/.test(e.code)) {
      let { code, reason, message } = e
      if (code === 'ERR_TFRECORD_TOO_LARGE' && e.offset !== undefined) {
        const fixed = recheckRecordSize(src.fd, st.size, e.offset, opts.maxRecordBytes)
        if (fixed) ({ code, reason } = fixed), message = `record at byte offset ${e.offset}: ${reason}`
      }
      throw new DataFileError(`${fn}: ${file}: ${message}`, { code, file, offset: e.offset, reason })
    }
    throw err
  }
  for (const b of raw.bad) {
    if (b.code !== 'ERR_TFRECORD_TOO_LARGE') continue
    const fixed = recheckRecordSize(src.fd, st.size, b.offset, opts.maxRecordBytes)
    if (fixed) { b.code = fixed.code; b.message = fixed.reason }
  }
  const ingestSeconds = Number(process.hrtime.bigint() - t0) / 1e9
  try {
    if (signal?.aborted) throw abortReason(signal)
    if (opts.verifyHash) raw = verifyHashes(raw, opts.verifyHash, opts.lenient, fn, file)
    if (raw.cells === 0) {
      const first = raw.bad[0]
      throw new DataFileError(`${fn}: ${file}: no valid NAS-Bench-101 record (${raw.skipped} bad records skipped${first ? `; the first, at byte offset ${first.offset}: ${first.message}` : ''})`,
        { code: 'ERR_NB101_NO_RECORDS', file, reason: 'no valid record', offset: first?.offset })
    }
    const epochs = [...new Set(raw.slots.map(s => s.epochs))].sort((a, b) => a - b)
    const repeats = raw.slots.reduce((m, s) => Math.max(m, s.repeat + 1), 0)
    const metadata = new Map<string, string>([
      ['nasrank.format', NB101_STORE_FORMAT],
      ['nasrank.version', NB101_STORE_VERSION],
      ['nasrank.layout', 'one row per module hash, sorted by hash bytes; run columns <metric>_e<epochs>_r<repeat>, null = no such run'],
      ['nasrank.source', path.basename(file)],
      ['nasrank.source_bytes', String(st.size)],
      ['nasrank.source_mtime_ms', String(Math.floor(st.mtimeMs))],
      ['nasrank.source_fingerprint', sourceFingerprint(src.fd, st.size)],
      ['nasrank.source_sha256', await fullHash],
      ['nasrank.records', String(raw.records)],
      ['nasrank.skipped', String(raw.skipped)],
      ['nasrank.skipped_bytes', String(raw.skippedBytes)],
      ['nasrank.epochs', epochs.join(',')],
      ['nasrank.repeats', String(repeats)],
      ['nasrank.lenient', String(opts.lenient)],
      ['nasrank.hash_verified', String(opts.verifyHash !== undefined)],
      ['nasrank.created', new Date().toISOString()]
    ])
    const table = buildStoreTable(raw, metadata)
    table.schema.metadata.set(DIGEST_KEY, nb101StoreDigest(table))
    await writeArrowFile(table, target)
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    const storeBytes = fs.statSync(target).size
    bar?.finish(`${path.basename(file)}: ${formatBytes(st.size)} in ${formatDuration(seconds)} (${formatBytes(st.size / seconds)}/s), ` +
      `${formatCount(raw.records)} records, ${formatCount(raw.cells)} cells` +
      (raw.skipped > 0 ? `, ${formatCount(raw.skipped)} BAD RECORDS SKIPPED` : '') + ` -> ${target}`)
    return {
      source: file,
      store: target,
      sourceBytes: st.size,
      storeBytes,
      cells: raw.cells,
      records: raw.records,
      skipped: raw.skipped,
      skippedBytes: raw.skippedBytes,
      badRecords: raw.bad.map(b => ({ ...b })),
      epochs,
      repeats,
      hashVerified: opts.verifyHash !== undefined,
      seconds,
      ingestSeconds
    }
  } catch (err) {
    bar?.clear()
    throw err
  }
}

// ---- the store ------------------------------------------------------------------------------

export interface Nb101QueryOptions {
  /** Default 'final_validation_accuracy'. */
  metric?: Nb101Metric
  /** Epoch budget; default the largest in the store (108). */
  epochs?: number
  /** A repeat index (order of the records in the file) or 'mean' over the repeats present (default). */
  repeat?: number | 'mean'
}

/** Everything the store has about one cell. */
export interface Nb101CellRecord {
  row: number
  hash: string
  vertices: number
  adjacency: number
  ops: Uint8Array
  trainableParameters: number
  runs: Array<{ epochs: number; repeat: number } & Record<Nb101RunMetric, number>>
}

const QUERY_KEYS = ['metric', 'epochs', 'repeat'] as const

function storeError (file: string, code: string, reason: string, fn = 'openNb101Store'): DataFileError {
  return new DataFileError(`${fn}: ${file}: ${reason}`, { code, file, reason })
}

function columnLengthError (file: string, name: string, got: number, rows: number): DataFileError {
  return storeError(file, 'ERR_STORE_FORMAT', `column '${name}' holds ${got} values for ${rows} rows: the store is truncated or corrupt`)
}

function typedColumn<T extends Uint8Array | Uint32Array | Int32Array | Float64Array> (table: Arrow.Table, name: string, Ctor: new (n: number) => T, file: string): T {
  const vec = table.getChild(name)!
  const chunks = vec.data
  let got = 0
  for (const d of chunks) got += Math.max(0, Math.min(d.length, (d.values?.length ?? 0) - d.offset))
  if (got !== table.numRows || vec.length !== table.numRows) throw columnLengthError(file, name, got, table.numRows)
  if (chunks.length === 1 && chunks[0].nullCount === 0) {
    const d = chunks[0]
    return (d.values as T).subarray(d.offset, d.offset + d.length) as T
  }
  const out = new Ctor(vec.length)
  let at = 0
  for (const d of chunks) {
    const values = d.values as T
    for (let i = 0; i < d.length; i++) out[at + i] = d.getValid(i) ? values[d.offset + i] : NaN
    at += d.length
  }
  return out
}

function fixedColumn (table: Arrow.Table, name: string, width: number, list: boolean, file: string): Uint8Array {
  const vec = table.getChild(name)!
  const parts = vec.data.map(d => {
    if (list) {
      const child = d.children[0]
      return (child.values as Uint8Array).subarray(child.offset + d.offset * width, child.offset + (d.offset + d.length) * width)
    }
    return (d.values as Uint8Array).subarray(d.offset * width, (d.offset + d.length) * width)
  })
  const got = parts.reduce((s, p) => s + p.length, 0)
  if (got !== table.numRows * width || vec.length !== table.numRows) throw columnLengthError(file, name, Math.floor(got / width), table.numRows)
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(vec.length * width)
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}

/** Upper-triangle bits of the packed 7×7 adjacency that lie among vertices 0…V-1. */
function edgeMask (V: number): number {
  let mask = 0
  for (let i = 0; i < V; i++) for (let j = i + 1; j < V; j++) mask |= 1 << (i * 7 - (i * (i + 1)) / 2 + (j - i - 1))
  return mask
}

const DIGEST_KEY = 'nasrank.digest'
const MAX_EPOCHS_VALUE = 1_000_000
const MAX_EPOCH_BUDGETS = 16
const MAX_REPEATS = 255

function hashBytes (h: Hash, a: ArrayBufferView): void {
  h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
}

function hashData (h: Hash, d: Arrow.Data): void {
  h.update(`[${d.length},${d.offset},${d.nullCount}`)
  if (d.nullCount > 0) {
    const bits = d.nullBitmap ?? new Uint8Array(0)
    if (d.offset === 0) hashBytes(h, bits.subarray(0, (d.length + 7) >> 3))
    else for (let i = 0; i < d.length; i++) h.update(d.getValid(i) ? '1' : '0')
  }
  const v = d.values as ArrayBufferView & { subarray?: (a: number, b: number) => ArrayBufferView } | undefined
  if (v && typeof v.subarray === 'function') {
    const stride = (d as unknown as { stride: number }).stride || 1
    hashBytes(h, v.subarray(d.offset * stride, (d.offset + d.length) * stride))
  }
  for (const c of d.children) hashData(h, c)
  h.update(']')
}

/**
 * The store's integrity digest: SHA-256 over its metadata (all but the digest itself,
 * sorted), its schema (names, types, nullability), the row count and, column by column, the
 * values (and validity bits) as the reader uses them. Any change to what a query can return
 * changes it.
 */
export function nb101StoreDigest (table: Arrow.Table): string {
  const h = createHash('sha256')
  const meta = [...table.schema.metadata].filter(([k]) => k !== DIGEST_KEY).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  h.update(JSON.stringify({ meta, fields: table.schema.fields.map(f => [f.name, String(f.type), f.nullable]), rows: table.numRows }))
  for (let k = 0; k < table.numCols; k++) {
    for (const d of table.getChildAt(k)!.data) hashData(h, d)
  }
  return `sha256:${h.digest('hex')}`
}

function parseHex (s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F]{32}$/.test(s)) return null
  return Uint8Array.from(Buffer.from(s, 'hex'))
}

function specToCell (spec: Nb101SpecLike, fn: string): { adjacency: number; ops: Uint8Array; vertices: number } {
  const { matrix, ops } = spec
  if (!Array.isArray(matrix)) throw new TypeError(`${fn}: spec.matrix must be an array of rows, got ${describe(matrix)}`)
  if (!Array.isArray(ops)) throw new TypeError(`${fn}: spec.ops must be an array of labels, got ${describe(ops)}`)
  const V = matrix.length
  if (V < 2 || V > 7) throw new RangeError(`${fn}: spec.matrix must have 2..7 rows (a pruned cell), got ${V}`)
  if (ops.length !== V) throw new RangeError(`${fn}: spec.ops has ${ops.length} labels but spec.matrix has ${V} rows`)
  let bits = 0
  for (let i = 0; i < V; i++) {
    const row = matrix[i]
    if (!Array.isArray(row) || row.length !== V) throw new RangeError(`${fn}: spec.matrix[${i}] must be an array of ${V} entries`)
    for (let j = 0; j < V; j++) {
      const v = row[j]
      if (v !== 0 && v !== 1) throw new RangeError(`${fn}: spec.matrix[${i}][${j}] must be 0 or 1, got ${describe(v)}`)
      if (v === 1) {
        if (j <= i) throw new RangeError(`${fn}: spec.matrix must be strictly upper-triangular; [${i}][${j}] is 1`)
        bits |= 1 << (i * 7 - (i * (i + 1)) / 2 + (j - i - 1))
      }
    }
  }
  const codes = new Uint8Array(V)
  ops.forEach((op, k) => {
    const c = (OP_LABELS as readonly string[]).indexOf(op as string)
    if (c < 0) throw new RangeError(`${fn}: spec.ops[${k}] is ${describe(op)}; known labels: ${OP_LABELS.join(', ')}`)
    codes[k] = c
  })
  return { adjacency: bits >>> 0, ops: codes, vertices: V }
}

/** An opened NAS-Bench-101 store. Arrays it returns are views into the store: copy before mutating. */
export class Nb101Store {
  /** The store file. */
  readonly file: string
  /** Number of cells (rows). */
  readonly count: number
  /** Epoch budgets present, ascending (e.g. [108], or [4, 12, 36, 108] for the full file). */
  readonly epochs: readonly number[]
  /** Repeats per (cell, epochs) budget in the store (3 for NAS-Bench-101). */
  readonly repeats: number
  /** Cell columns in the contract's `Nb101Cells` layout, rows sorted by hash. */
  readonly cells: Nb101StoreCells
  readonly trainableParameters: Int32Array
  /** The store's key/value metadata (source file, sizes, record counts, ...). */
  readonly metadata: Readonly<Record<string, string>>
  /** Set by `loadNb101`: the conversion that produced the store, or null when an existing store was used. */
  conversion: Nb101ConvertResult | null = null
  private readonly arrowTable: Arrow.Table
  private readonly runColumns: Map<string, Float64Array>
  private readonly hashCell?: Nb101CellHasher
  private paramsAsDouble?: Float64Array

  /** @internal use {@link openNb101Store}. */
  constructor (file: string, table: Arrow.Table, options: { hashCell?: Nb101CellHasher }) {
    this.file = file
    this.arrowTable = table
    this.hashCell = options.hashCell
    const meta = table.schema.metadata
    const format = meta.get('nasrank.format')
    if (format !== NB101_STORE_FORMAT) {
      throw storeError(file, 'ERR_STORE_FORMAT', `is an Arrow IPC file but not a nasrank NAS-Bench-101 store (metadata nasrank.format is ${format === undefined ? 'missing' : JSON.stringify(format)})`)
    }
    const version = meta.get('nasrank.version')
    if (version === '1') {
      throw storeError(file, 'ERR_STORE_VERSION', 'was written by an older nasrank (store version 1, without an integrity digest): ' +
        'convert the TFRecord file again (loadNb101 / openBench on the .tfrecord file do so by themselves)')
    }
    if (version !== NB101_STORE_VERSION) {
      throw storeError(file, 'ERR_STORE_VERSION', `store format version ${quote(String(version))} is not supported (expected ${NB101_STORE_VERSION}); convert the TFRecord file again`)
    }
    // Integrity: the digest of every column and of the metadata, recorded at conversion.
    const recorded = meta.get(DIGEST_KEY)
    if (recorded === undefined) throw storeError(file, 'ERR_STORE_DIGEST', `has no integrity digest (metadata ${DIGEST_KEY} is missing): the store is corrupt; convert the TFRecord file again`)
    const actual = nb101StoreDigest(table)
    if (actual !== recorded) {
      throw storeError(file, 'ERR_STORE_DIGEST', `integrity check failed: the columns' digest is ${actual.slice(0, 23)}…, the store records ${quote(recorded, 23)}: ` +
        'the file is corrupt (changed after it was written); convert the TFRecord file again')
    }
    const expected: Record<string, string> = {
      hash: 'FixedSizeBinary[16]',
      vertices: 'Uint8',
      adjacency: 'Uint32',
      ops: 'FixedSizeList[7]<Uint8>',
      trainable_parameters: 'Int32'
    }
    const types = new Map(table.schema.fields.map(f => [f.name, String(f.type)]))
    if (types.size !== table.schema.fields.length) throw storeError(file, 'ERR_STORE_SCHEMA', 'two columns have the same name')
    for (const [name, type] of Object.entries(expected)) {
      if (!types.has(name)) throw storeError(file, 'ERR_STORE_SCHEMA', `column '${name}' is missing`)
      if (types.get(name) !== type) throw storeError(file, 'ERR_STORE_SCHEMA', `column '${name}' has type ${clip(String(types.get(name)))}; expected ${type}`)
      if (table.getChild(name)!.nullCount > 0) throw storeError(file, 'ERR_STORE_SCHEMA', `column '${name}' has null values`)
    }
    this.count = table.numRows
    const n = this.count
    this.cells = {
      count: n,
      hash: fixedColumn(table, 'hash', 16, false, file),
      vertices: typedColumn(table, 'vertices', Uint8Array, file),
      adjacency: typedColumn(table, 'adjacency', Uint32Array, file),
      ops: fixedColumn(table, 'ops', 7, true, file)
    }
    this.trainableParameters = typedColumn(table, 'trainable_parameters', Int32Array, file)
    this.runColumns = new Map()
    // Run columns: <metric>_e<E>_r<R>, E in 1…1,000,000 (at most 16 budgets), R < 255 (the
    // reader's limits); every metric has the same runs, and each budget's repeats are 0…R-1.
    const slots = new Map<string, Set<string>>()
    const pattern = new RegExp(`^(${NB101_RUN_METRICS.join('|')})_e([1-9][0-9]{0,6})_r(0|[1-9][0-9]{0,2})$`)
    for (const [name, type] of types) {
      if (name in expected) continue
      const m = pattern.exec(name)
      if (!m) throw storeError(file, 'ERR_STORE_SCHEMA', `unexpected column ${quote(name)} (run columns are <metric>_e<epochs>_r<repeat>, epochs 1…1000000, repeat 0…254)`)
      if (type !== 'Float64') throw storeError(file, 'ERR_STORE_SCHEMA', `column ${quote(name)} has type ${clip(type)}; expected Float64`)
      const e = Number(m[2])
      const r = Number(m[3])
      if (e > MAX_EPOCHS_VALUE || r >= MAX_REPEATS) throw storeError(file, 'ERR_STORE_SCHEMA', `column ${quote(name)}: epochs must be at most ${MAX_EPOCHS_VALUE} and repeat below ${MAX_REPEATS}`)
      const slot = `${e}/${r}`
      if (!slots.has(slot)) slots.set(slot, new Set())
      slots.get(slot)!.add(m[1])
      this.runColumns.set(name, typedColumn(table, name, Float64Array, file))
    }
    const byEpochs = new Map<number, number[]>()
    for (const [slot, metrics] of slots) {
      const [e, r] = slot.split('/').map(Number)
      if (metrics.size !== NB101_RUN_METRICS.length) {
        const missing = NB101_RUN_METRICS.find(m => !metrics.has(m))!
        throw storeError(file, 'ERR_STORE_SCHEMA', `the run (epochs ${e}, repeat ${r}) has no column '${nb101ColumnName(missing, e, r)}' (every run has all ${NB101_RUN_METRICS.length} metrics)`)
      }
      if (!byEpochs.has(e)) byEpochs.set(e, [])
      byEpochs.get(e)!.push(r)
    }
    if (byEpochs.size > MAX_EPOCH_BUDGETS) throw storeError(file, 'ERR_STORE_SCHEMA', `${byEpochs.size} epoch budgets; a store has at most ${MAX_EPOCH_BUDGETS}`)
    let repeats = 0
    for (const [e, rs] of byEpochs) {
      rs.sort((a, b) => a - b)
      const gap = rs.findIndex((r, k) => r !== k)
      if (gap >= 0) throw storeError(file, 'ERR_STORE_SCHEMA', `epochs ${e} has runs of repeat ${rs[gap]} but not of repeat ${gap} (repeats are numbered 0, 1, … without gaps)`)
      repeats = Math.max(repeats, rs.length)
    }
    this.epochs = [...byEpochs.keys()].sort((a, b) => a - b)
    this.repeats = repeats
    // Cells: V in 2…7, ops input … output with 255 beyond V, edges only among the V vertices.
    const { vertices, adjacency, ops } = this.cells
    for (let i = 0; i < n; i++) {
      const V = vertices[i]
      const bad = (what: string) => storeError(file, 'ERR_STORE_CELL', `row ${i}: ${what}`)
      if (V < 2 || V > 7) throw bad(`vertices is ${V}; a cell has 2…7`)
      for (let k = 0; k < 7; k++) {
        const op = ops[i * 7 + k]
        const ok = k >= V ? op === 255 : k === 0 ? op === 0 : k === V - 1 ? op === 4 : op >= 1 && op <= 3
        if (!ok) throw bad(`op ${k} has code ${op} (input 0 first, output 4 at vertex V-1, 1…3 between, 255 beyond V = ${V})`)
      }
      if (adjacency[i] >>> 0 >= 2 ** 21 || (adjacency[i] & ~edgeMask(V)) !== 0) throw bad(`adjacency 0x${(adjacency[i] >>> 0).toString(16)} has edges beyond its ${V} vertices`)
      if (this.trainableParameters[i] < 0) throw bad(`trainable_parameters is ${this.trainableParameters[i]} (negative)`)
    }
    // Binary search needs rows sorted by hash, strictly (no duplicates).
    const h = this.cells.hash
    for (let i = 1; i < n; i++) {
      const a = (i - 1) * 16
      const b = i * 16
      let k = 0
      while (k < 16 && h[a + k] === h[b + k]) k++
      if (k === 16 || h[a + k] > h[b + k]) throw storeError(file, 'ERR_STORE_SCHEMA', `rows are not sorted by hash (strictly ascending) at row ${i}`)
    }
    const md: Record<string, string> = {}
    for (const [k, v] of meta) md[k] = v
    this.metadata = Object.freeze(md)
  }

  /** The underlying Arrow table (for Arrow-aware tools). */
  get table (): Arrow.Table { return this.arrowTable }

  /** Run columns present, by name. */
  get columnNames (): string[] { return this.arrowTable.schema.fields.map(f => f.name) }

  /** The module hash of a row, as 32 lowercase hex digits. */
  hashAt (row: number): string {
    if (!Number.isInteger(row) || row < 0 || row >= this.count) throw new RangeError(`hashAt: row must be an integer in [0, ${this.count}), got ${describe(row)}`)
    return hexOf(this.cells.hash, row)
  }

  private keyBytes (arch: Nb101ArchKey, fn: string): Uint8Array {
    if (typeof arch === 'string') {
      const b = parseHex(arch)
      if (!b) throw new TypeError(`${fn}: a module hash must be 32 hex digits, got ${describe(arch)}`)
      return b
    }
    if (arch instanceof Uint8Array) {
      if (arch.length !== 16) throw new RangeError(`${fn}: a raw module hash must have 16 bytes, got ${arch.length}`)
      return arch
    }
    if (arch !== null && typeof arch === 'object' && 'matrix' in arch && 'ops' in arch) {
      if (!this.hashCell) {
        throw new TypeError(`${fn}: looking a cell up by its spec needs a hash function: open the store with { hashCell } (e.g. nasrank's nb101.hash), or pass the module hash`)
      }
      const cell = specToCell(arch, fn)
      const hex = this.hashCell(cell.adjacency, cell.ops, cell.vertices)
      const b = typeof hex === 'string' ? parseHex(hex) : null
      if (!b) throw new TypeError(`${fn}: hashCell returned ${describe(hex)}, not 32 hex digits`)
      return b
    }
    throw new TypeError(`${fn}: arch must be a module hash (32 hex digits or 16 bytes) or a spec { matrix, ops }, got ${describe(arch)}`)
  }

  /** The row of an architecture, or -1 when the store does not have it. O(log n). */
  indexOf (arch: Nb101ArchKey): number {
    const key = this.keyBytes(arch, 'indexOf')
    const h = this.cells.hash
    let lo = 0
    let hi = this.count - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      let c = 0
      for (let k = 0; k < 16 && c === 0; k++) c = h[mid * 16 + k] - key[k]
      if (c === 0) return mid
      if (c < 0) lo = mid + 1
      else hi = mid - 1
    }
    return -1
  }

  private resolve (options: unknown, fn: string): { metric: Nb101Metric; epochs: number; repeat: number | 'mean' } {
    const o = checkOptions<Nb101QueryOptions>(options, fn, QUERY_KEYS)
    const metric = o.metric ?? 'final_validation_accuracy'
    if (!(NB101_METRICS as readonly unknown[]).includes(metric)) {
      throw new TypeError(`${fn}: metric must be one of ${NB101_METRICS.join(', ')}; got ${describe(metric)}`)
    }
    const epochs = o.epochs ?? this.epochs[this.epochs.length - 1]
    if (typeof epochs !== 'number' || !Number.isInteger(epochs)) throw new TypeError(`${fn}: epochs must be an integer, got ${describe(epochs)}`)
    if (metric !== 'trainable_parameters' && !this.epochs.includes(epochs)) {
      throw new RangeError(`${fn}: epochs ${epochs} is not in this store (it has ${this.epochs.join(', ')})`)
    }
    const repeat = o.repeat ?? 'mean'
    if (repeat !== 'mean' && (typeof repeat !== 'number' || !Number.isInteger(repeat) || repeat < 0 || repeat >= this.repeats)) {
      throw new RangeError(`${fn}: repeat must be 'mean' or an integer in [0, ${this.repeats}), got ${describe(repeat)}`)
    }
    return { metric, epochs, repeat }
  }

  private run (metric: Nb101RunMetric, epochs: number, repeat: number): Float64Array | undefined {
    return this.runColumns.get(nb101ColumnName(metric, epochs, repeat))
  }

  /** True when the store has this metric for this (epochs, repeat) budget. */
  has (metric: Nb101Metric, epochs?: number, repeat?: number): boolean {
    if (metric === 'trainable_parameters') return true
    if (!(NB101_RUN_METRICS as readonly string[]).includes(metric)) return false
    const es = epochs === undefined ? this.epochs : [epochs]
    const rs = repeat === undefined ? Array.from({ length: this.repeats }, (_, r) => r) : [repeat]
    return es.some(e => rs.some(r => this.run(metric as Nb101RunMetric, e, r) !== undefined))
  }

  /**
   * One value for one architecture (default: final validation accuracy at the largest epoch
   * budget, averaged over the repeats present). Throws RangeError when the architecture or
   * the run is not in the store.
   */
  query (arch: Nb101ArchKey, options?: Nb101QueryOptions): number {
    const fn = 'query'
    const { metric, epochs, repeat } = this.resolve(options, fn)
    const row = this.indexOf(arch)
    if (row < 0) throw new RangeError(`${fn}: module hash ${Buffer.from(this.keyBytes(arch, fn)).toString('hex')} is not in this store (${this.count} cells)`)
    if (metric === 'trainable_parameters') return this.trainableParameters[row]
    if (repeat !== 'mean') {
      const v = this.run(metric, epochs, repeat)?.[row]
      if (v === undefined || v !== v) throw new RangeError(`${fn}: ${this.hashAt(row)} has no run with epochs ${epochs}, repeat ${repeat}`)
      return v
    }
    let sum = 0
    let n = 0
    for (let r = 0; r < this.repeats; r++) {
      const v = this.run(metric, epochs, r)?.[row]
      if (v !== undefined && v === v) { sum += v; n++ }
    }
    if (n === 0) throw new RangeError(`${fn}: ${this.hashAt(row)} has no run with epochs ${epochs}`)
    return sum / n
  }

  /**
   * A metric for every cell, aligned with `cells` (row order = hash order). For one repeat
   * the result is a view into the store (do not mutate); 'mean' and trainable_parameters
   * give new arrays. NaN marks cells without such a run.
   */
  column (metric: Nb101Metric, options?: Omit<Nb101QueryOptions, 'metric'>): Float64Array {
    const fn = 'column'
    if (options !== undefined && options !== null && typeof options === 'object' && 'metric' in options) {
      throw new TypeError(`${fn}: pass the metric as the first argument, not in options`)
    }
    const { epochs, repeat } = this.resolve({ ...(options ?? {}), metric }, fn)
    if (metric === 'trainable_parameters') {
      this.paramsAsDouble ??= Float64Array.from(this.trainableParameters)
      return this.paramsAsDouble
    }
    if (repeat !== 'mean') {
      const col = this.run(metric, epochs, repeat)
      if (!col) throw new RangeError(`${fn}: the store has no runs with epochs ${epochs}, repeat ${repeat}`)
      return col
    }
    const out = new Float64Array(this.count)
    const count = new Uint8Array(this.count)
    for (let r = 0; r < this.repeats; r++) {
      const col = this.run(metric, epochs, r)
      if (!col) continue
      for (let i = 0; i < this.count; i++) {
        const v = col[i]
        if (v === v) { out[i] += v; count[i]++ }
      }
    }
    for (let i = 0; i < this.count; i++) out[i] = count[i] > 0 ? out[i] / count[i] : NaN
    return out
  }

  /** Everything about one architecture (all runs), or throws RangeError if absent. */
  lookup (arch: Nb101ArchKey): Nb101CellRecord {
    const fn = 'lookup'
    const row = this.indexOf(arch)
    if (row < 0) throw new RangeError(`${fn}: module hash ${Buffer.from(this.keyBytes(arch, fn)).toString('hex')} is not in this store (${this.count} cells)`)
    const V = this.cells.vertices[row]
    const runs: Nb101CellRecord['runs'] = []
    for (const e of this.epochs) {
      for (let r = 0; r < this.repeats; r++) {
        const first = this.run(NB101_RUN_METRICS[0], e, r)
        if (!first || first[row] !== first[row]) continue
        const run = { epochs: e, repeat: r } as Nb101CellRecord['runs'][number]
        for (const m of NB101_RUN_METRICS) run[m] = this.run(m, e, r)![row]
        runs.push(run)
      }
    }
    return {
      row,
      hash: this.hashAt(row),
      vertices: V,
      adjacency: this.cells.adjacency[row],
      ops: this.cells.ops.slice(row * 7, row * 7 + V),
      trainableParameters: this.trainableParameters[row],
      runs
    }
  }
}

/** Opens a store written by {@link convertNb101}. Synchronous; reads the file into memory once. */
export function openNb101Store (store: string, options?: { hashCell?: Nb101CellHasher }): Nb101Store {
  const fn = 'openNb101Store'
  if (typeof store !== 'string' || store === '') throw new TypeError(`${fn}: store must be a non-empty string path, got ${describe(store)}`)
  const o = checkOptions<{ hashCell?: Nb101CellHasher }>(options, fn, ['hashCell'])
  if (o.hashCell !== undefined && typeof o.hashCell !== 'function') throw new TypeError(`${fn}: hashCell must be a function, got ${describe(o.hashCell)}`)
  const file = path.resolve(store)
  removeStaleTemps(file)
  const buf = readRegularFile(fn, file, 'ERR_STORE_IO', MAX_BUFFER_BYTES, 'a store this Node can read').data
  return openStoreBuffer(fn, file, buf, o)
}

function openStoreBuffer (fn: string, file: string, buf: Buffer, o: { hashCell?: Nb101CellHasher }): Nb101Store {
  if (buf.length < 12 || buf.toString('latin1', 0, 6) !== 'ARROW1') {
    throw storeError(file, 'ERR_STORE_FORMAT', buf.length === 0
      ? 'the file is empty (0 bytes), not an Arrow IPC store'
      : 'not an Arrow IPC file (it does not start with the ARROW1 magic); convert the TFRecord file with convertNb101 / `nasrank bench convert` first', fn)
  }
  let table: Arrow.Table
  try {
    table = arrow().tableFromIPC(buf)
  } catch (err) {
    throw storeError(file, 'ERR_STORE_FORMAT', `cannot read the Arrow IPC data (corrupt or truncated store?): ${clip((err as Error).message, 120)}`, fn)
  }
  try {
    return new Nb101Store(file, table, o)
  } catch (err) {
    // The store's checks name openNb101Store; name the public function that was called.
    if (err instanceof DataFileError && fn !== 'openNb101Store') {
      throw new DataFileError(err.message.replace(/^openNb101Store: /, `${fn}: `), { code: err.code, file: err.file, reason: err.reason })
    }
    throw err
  }
}

export interface LoadNb101Options extends ConvertNb101Options {
  /** Store path (default {@link defaultNb101StorePath}). */
  store?: string
  /** Hook enabling `query({ matrix, ops })` (wire nasrank's `nb101.hash`). */
  hashCell?: Nb101CellHasher
  /** Convert again even if a fresh store exists. */
  rebuild?: boolean
}

/**
 * The one-call loader: given a store, opens it; given a TFRecord file, opens its store when
 * it is fresh (same source size and mtime, built with the same strictness) and converts the
 * file first otherwise. `store.conversion` tells which happened.
 */
export async function loadNb101 (file: string, options?: LoadNb101Options): Promise<Nb101Store> {
  const fn = 'loadNb101'
  if (typeof file !== 'string' || file === '') throw new TypeError(`${fn}: file must be a non-empty string path, got ${describe(file)}`)
  const o = checkOptions<LoadNb101Options>(options, fn, [...CONVERT_KEYS, 'store', 'hashCell', 'rebuild'])
  parseConvertOptions(o, fn, ['store', 'hashCell', 'rebuild'])
  if (o.store !== undefined && (typeof o.store !== 'string' || o.store === '')) throw new TypeError(`${fn}: store must be a non-empty string path, got ${describe(o.store)}`)
  if (o.rebuild !== undefined && typeof o.rebuild !== 'boolean') throw new TypeError(`${fn}: rebuild must be a boolean, got ${describe(o.rebuild)}`)
  const abs = path.resolve(file)
  // One open, checked (regular file: a FIFO or device is refused), for the magic bytes and
  // the freshness check.
  const src = openRegularFile(fn, abs, 'ERR_TFRECORD_IO')
  let storePath: string
  try {
    if (readAt(src.fd, 6, 0).toString('latin1') === 'ARROW1') {
      removeStaleTemps(abs)
      if (src.size > MAX_BUFFER_BYTES) throw ioError(fn, abs, 'ERR_STORE_IO', `the store has ${src.size} bytes, more than this Node can read into memory (${MAX_BUFFER_BYTES})`)
      const buf = readAt(src.fd, src.size, 0)
      return openStoreBuffer(fn, abs, buf, { hashCell: o.hashCell })
    }
    if (src.size === 0) throw ioError(fn, abs, 'ERR_TFRECORD_EMPTY', 'the file is empty (0 bytes): no TFRecord records')
    storePath = o.store !== undefined ? path.resolve(o.store) : defaultNb101StorePath(abs)
    if (!o.rebuild && fs.existsSync(storePath)) {
      let existing: Nb101Store | null = null
      try {
        existing = openNb101Store(storePath, { hashCell: o.hashCell })
      } catch {
        existing = null  // unreadable, corrupt, older or foreign: rebuilt below
      }
      if (existing) {
        const m = existing.metadata
        // Fresh: same size, mtime and content fingerprint (SHA-256 of the first and last MiB).
        const fresh = m['nasrank.source_bytes'] === String(src.size) &&
          m['nasrank.source_mtime_ms'] === String(Math.floor(src.stats.mtimeMs)) &&
          m['nasrank.source_fingerprint'] === sourceFingerprint(src.fd, src.size) &&
          (o.lenient === true || m['nasrank.skipped'] === '0') &&
          (o.verifyHash === undefined || m['nasrank.hash_verified'] === 'true')
        if (fresh) return existing
      }
    }
  } finally {
    fs.closeSync(src.fd)
  }
  const { store: _s, hashCell: _h, rebuild: _r, ...convertOptions } = o
  void _s; void _h; void _r
  const conversion = await convertNb101(abs, storePath, convertOptions)
  const store = openNb101Store(storePath, { hashCell: o.hashCell })
  store.conversion = conversion
  return store
}

/** A parsed NAS-Bench-101 record payload (op codes per the contract, 255 beyond `vertices`). */
export interface Nb101ParsedRecord extends Omit<Nb101RecordRaw, 'values'> {
  values: Record<Nb101RunMetric, number>
}

/**
 * Parses one record payload (the JSON text inside a TFRecord) with the native strict parser
 * the ingest uses. Throws a DataFileError-like Error with `code` and `reason` when invalid.
 */
export function parseNb101Payload (payload: Uint8Array): Nb101ParsedRecord {
  if (!(payload instanceof Uint8Array)) throw new TypeError(`parseNb101Payload: payload must be a Uint8Array or Buffer, got ${describe(payload)}`)
  return addon.nb101ParsePayload(payload) as Nb101ParsedRecord
}
