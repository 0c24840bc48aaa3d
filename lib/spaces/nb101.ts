// NAS-Bench-101 (Ying et al., 2019): cells, their validity and pruning as the official
// nasbench API, the official module hash, all 423,624 unique cells, sampling and variation,
// and the cost model of the official network. Validity, pruning, hashing, enumeration and
// costs run in the native addon; this module validates arguments and shapes results.
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { addon, named, type Nb101Analysis, type Nb101Columns } from '../native'
import { Random } from '../random'
import { boolean, checkOptions, describe, finiteNumber } from '../validate'

/** Op labels in nasrank op-code order (0 input … 4 output). */
export const OPS = ['input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3', 'output'] as const
export type Nb101Op = typeof OPS[number]
export const INPUT = 'input'
export const CONV1X1 = 'conv1x1-bn-relu'
export const CONV3X3 = 'conv3x3-bn-relu'
export const MAXPOOL3X3 = 'maxpool3x3'
export const OUTPUT = 'output'
/** The three interior ops (nasbench's `available_ops`, in its order). */
export const INTERIOR_OPS = [CONV3X3, CONV1X1, MAXPOOL3X3] as const
/** nasrank op codes, used in all columnar data and one-hot features. */
export const OP_CODES: Readonly<Record<Nb101Op, number>> = Object.freeze({ input: 0, 'conv1x1-bn-relu': 1, 'conv3x3-bn-relu': 2, maxpool3x3: 3, output: 4 })
export const MAX_VERTICES = 7
export const MAX_EDGES = 9
/** Number of unique valid cells (the size of the official dataset). */
export const CELL_COUNT = 423624

/** A cell: upper-triangular 0/1 adjacency matrix and one label per vertex (pruned when returned by nasrank). */
export interface Nb101Spec { matrix: number[][]; ops: string[] }

/**
 * Many cells in columnar form (the shared data model): no per-cell JS objects.
 * Edge i → j (i < j) of cell c is bit k(i, j) = i·7 − i(i+1)/2 + (j − i − 1) of adjacency[c];
 * a cell with V < 7 vertices uses vertices 0…V−1 with its output at V−1.
 */
export interface Nb101Cells {
  count: number
  /** V per cell (2…7). */
  vertices: Uint8Array
  /** Packed upper triangle of the 7×7 matrix per cell. */
  adjacency: Uint32Array
  /** count·7 op codes (0 input, 1 conv1x1, 2 conv3x3, 3 maxpool, 4 output), 255 beyond V. */
  ops: Uint8Array
  /** count·16 raw MD5 bytes of the official module hash. */
  hash: Uint8Array
}

/** Columns without (or with) hashes: what kernels that need no hash accept. */
export type Nb101CellsLike = Omit<Nb101Cells, 'hash'> & { hash?: Uint8Array }

/** The rule an invalid cell breaks. */
export type Nb101Rule = 'shape' | 'entries' | 'upper-triangular' | 'labels' | 'disconnected' | 'max-edges'

/**
 * Thrown for a well-typed but invalid cell; `rule` names the rule that failed:
 * - `shape`: matrix not square, fewer than 2 or more than 7 vertices, or ops of another length;
 * - `entries`: a matrix entry other than 0/1 (or false/true);
 * - `upper-triangular`: an entry on or below the diagonal;
 * - `labels`: an unknown label, ops[0] not 'input', the last not 'output', or 'input'/'output' inside;
 * - `disconnected`: no path from the input to the output;
 * - `max-edges`: more than 9 edges left after pruning.
 */
export class InvalidCellError extends RangeError {
  readonly rule: Nb101Rule
  constructor (fn: string, rule: Nb101Rule, detail: string) {
    super(`${fn}: invalid cell (rule '${rule}'): ${detail}`)
    this.name = 'InvalidCellError'
    this.rule = rule
  }
}

/** Edge bit of i → j (i < j) in the packed adjacency. */
export function edgeBit (i: number, j: number): number {
  return i * 7 - (i * (i + 1)) / 2 + (j - i - 1)
}

// ---- single cells -----------------------------------------------------------------------

interface Raw { v: number; matrix: Uint8Array; ops: Uint8Array }

/** Type and shape checks in JS (the addon checks the rest and prunes). */
function parseRaw (matrix: unknown, ops: unknown, fn: string): Raw {
  if (!Array.isArray(matrix)) throw new TypeError(`${fn}: matrix must be an array of rows, got ${describe(matrix)}`)
  if (!Array.isArray(ops)) throw new TypeError(`${fn}: ops must be an array of labels, got ${describe(ops)}`)
  const v = matrix.length
  if (v < 2 || v > MAX_VERTICES) throw new InvalidCellError(fn, 'shape', `the matrix has ${v} rows; a cell has 2 to 7 vertices (input, up to 5 ops, output)`)
  if (ops.length !== v) throw new InvalidCellError(fn, 'shape', `ops has ${ops.length} labels but the matrix has ${v} rows`)
  const flat = new Uint8Array(v * v)
  for (let i = 0; i < v; i++) {
    const row = matrix[i] as unknown
    if (!Array.isArray(row) && !(ArrayBuffer.isView(row) && !(row instanceof DataView))) {
      throw new TypeError(`${fn}: matrix[${i}] must be an array, got ${describe(row)}`)
    }
    const r = row as ArrayLike<unknown>
    if (r.length !== v) throw new InvalidCellError(fn, 'shape', `the matrix is not square: matrix[${i}] has ${r.length} entries, expected ${v}`)
    for (let j = 0; j < v; j++) {
      const e = r[j]
      if (e === 0 || e === false) continue
      if (e === 1 || e === true) { flat[i * v + j] = 1; continue }
      if (typeof e === 'number' || typeof e === 'bigint') throw new InvalidCellError(fn, 'entries', `matrix[${i}][${j}] is ${e}; entries must be 0 or 1`)
      throw new TypeError(`${fn}: matrix[${i}][${j}] must be 0 or 1, got ${describe(e)}`)
    }
  }
  const codes = new Uint8Array(v)
  for (let k = 0; k < v; k++) {
    const label = ops[k] as unknown
    if (typeof label !== 'string') throw new TypeError(`${fn}: ops[${k}] must be a string, got ${describe(label)}`)
    const code = (OP_CODES as Record<string, number | undefined>)[label]
    if (code === undefined || !Object.prototype.hasOwnProperty.call(OP_CODES, label)) {
      throw new InvalidCellError(fn, 'labels', `ops[${k}] is ${JSON.stringify(label)}; labels are ${OPS.map(o => `'${o}'`).join(', ')}`)
    }
    codes[k] = code
  }
  return { v, matrix: flat, ops: codes }
}

/** A pruned cell; `hash` is '' unless it was asked for. */
interface Pruned { vertices: number; adjacency: number; ops: Uint8Array; hash: string }

type Outcome = { ok: true; cell: Pruned } | { ok: false; rule: Nb101Rule; detail: string }

function analyzeRaw (raw: Raw, withHash: boolean): Outcome {
  const r: Nb101Analysis = addon.nb101Analyze(raw.matrix, raw.ops, withHash)
  if (r.rule !== 'ok') return { ok: false, rule: r.rule as Nb101Rule, detail: r.detail }
  return { ok: true, cell: { vertices: r.vertices!, adjacency: r.adjacency!, ops: r.ops!, hash: r.hash ?? '' } }
}

function analyze (matrix: unknown, ops: unknown, fn: string, withHash = false): Pruned {
  const outcome = analyzeRaw(parseRaw(matrix, ops, fn), withHash)
  if (!outcome.ok) throw new InvalidCellError(fn, outcome.rule, outcome.detail)
  return outcome.cell
}

function specObject (spec: unknown, fn: string, name = 'spec'): { matrix: unknown; ops: unknown } {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new TypeError(`${fn}: ${name} must be an object { matrix, ops }, got ${describe(spec)}`)
  }
  return spec as { matrix: unknown; ops: unknown }
}

/** A spec (or spec-like object) validated, pruned and (when asked) hashed. */
function analyzeSpec (spec: unknown, fn: string, name = 'spec', withHash = false): Pruned {
  const s = specObject(spec, fn, name)
  return analyze(s.matrix, s.ops, fn, withHash)
}

function toSpec (vertices: number, adjacency: number, ops: ArrayLike<number>): Nb101Spec {
  const matrix: number[][] = []
  for (let i = 0; i < vertices; i++) {
    const row = new Array<number>(vertices).fill(0)
    for (let j = i + 1; j < vertices; j++) row[j] = (adjacency >>> edgeBit(i, j)) & 1
    matrix.push(row)
  }
  const labels: string[] = []
  for (let k = 0; k < vertices; k++) labels.push(OPS[ops[k]])
  return { matrix, ops: labels }
}

/**
 * The pruned cell of a matrix and labels, exactly as nasbench's `ModelSpec` (keep the
 * vertices that are both reachable from the input and reach the output, in order) plus
 * `NASBench.is_valid`'s checks (≤ 7 vertices, ≤ 9 edges after pruning, labels). Throws
 * {@link InvalidCellError} naming the rule that failed, TypeError for wrongly typed input.
 *
 * Stricter than nasbench in two corner cases, on purpose: the raw matrix may not exceed 7
 * vertices, and every label must be valid, even on vertices that pruning removes.
 */
export function spec (matrix: number[][], ops: string[]): Nb101Spec {
  const c = analyze(matrix, ops, 'nb101.spec')
  return toSpec(c.vertices, c.adjacency, c.ops)
}

/** Result of {@link check}. */
export type Nb101Check = { valid: true; spec: Nb101Spec; hash: string } | { valid: false; rule: Nb101Rule; message: string }

/** Like {@link spec}, but returns the verdict instead of throwing for an invalid cell. */
export function check (matrix: number[][], ops: string[]): Nb101Check {
  try {
    const c = analyze(matrix, ops, 'nb101.check', true)
    return { valid: true, spec: toSpec(c.vertices, c.adjacency, c.ops), hash: c.hash }
  } catch (err) {
    if (err instanceof InvalidCellError) return { valid: false, rule: err.rule, message: err.message }
    throw err
  }
}

/** Whether nasbench would accept the cell (see {@link spec}); TypeError only for wrongly typed input. */
export function isValid (matrix: number[][], ops: string[]): boolean {
  return check(matrix, ops).valid
}

/**
 * The official module hash (nasbench `ModelSpec.hash_spec`): 32 lowercase hex characters,
 * equal for isomorphic cells, the key of the official dataset. The spec is pruned first.
 */
export function hash (cell: Nb101Spec): string {
  return analyzeSpec(cell, 'nb101.hash', 'cell', true).hash
}

/** Whether two cells are the same architecture (equal module hashes). */
export function equal (a: Nb101Spec, b: Nb101Spec): boolean {
  return analyzeSpec(a, 'nb101.equal', 'a', true).hash === analyzeSpec(b, 'nb101.equal', 'b', true).hash
}

// ---- columnar cells -----------------------------------------------------------------------

/**
 * Checks that `cells` has the columnar shape (types and lengths; the addon checks every cell
 * when a kernel runs). `hash` is checked when present or when needHash.
 */
export function checkCells (cells: unknown, fn: string, needHash = false): Nb101Cells {
  if (cells === null || typeof cells !== 'object') throw new TypeError(`${fn}: cells must be an Nb101Cells object, got ${describe(cells)}`)
  const c = cells as Partial<Nb101Cells>
  if (!(c.vertices instanceof Uint8Array)) throw new TypeError(`${fn}: cells.vertices must be a Uint8Array`)
  if (!(c.adjacency instanceof Uint32Array)) throw new TypeError(`${fn}: cells.adjacency must be a Uint32Array`)
  if (!(c.ops instanceof Uint8Array)) throw new TypeError(`${fn}: cells.ops must be a Uint8Array`)
  const n = c.vertices.length
  if (c.count !== n) throw new RangeError(`${fn}: cells.count is ${describe(c.count)} but cells.vertices has ${n} entries`)
  if (c.adjacency.length !== n) throw new RangeError(`${fn}: cells.adjacency has ${c.adjacency.length} entries, expected count = ${n}`)
  if (c.ops.length !== n * 7) throw new RangeError(`${fn}: cells.ops has ${c.ops.length} entries, expected 7 * count = ${n * 7}`)
  if (needHash || c.hash !== undefined) {
    if (!(c.hash instanceof Uint8Array)) throw new TypeError(`${fn}: cells.hash must be a Uint8Array`)
    if (c.hash.length !== n * 16) throw new RangeError(`${fn}: cells.hash has ${c.hash.length} entries, expected 16 * count = ${n * 16}`)
  }
  return c as Nb101Cells
}

/** Specs (validated and pruned) to columns without hashes, for kernels that need none. */
export function packSpecs (specs: readonly Nb101Spec[], fn: string): Nb101CellsLike {
  if (!Array.isArray(specs)) throw new TypeError(`${fn}: specs must be an array of { matrix, ops }, got ${describe(specs)}`)
  const n = specs.length
  const out = { count: n, vertices: new Uint8Array(n), adjacency: new Uint32Array(n), ops: new Uint8Array(n * 7).fill(255) }
  for (let k = 0; k < n; k++) {
    let c: Pruned
    try {
      c = analyzeSpec(specs[k], fn, `specs[${k}]`)
    } catch (err) {
      if ((err instanceof InvalidCellError || err instanceof TypeError) && !err.message.includes(`specs[${k}]`)) {
        err.message = err.message.replace(`${fn}: `, `${fn}: specs[${k}]: `)
      }
      throw err
    }
    out.vertices[k] = c.vertices
    out.adjacency[k] = c.adjacency
    out.ops.set(c.ops, k * 7)
  }
  return out
}

/** Specs (pruned on the way) to columns, with their module hashes (computed in a native batch). */
export function toCells (specs: readonly Nb101Spec[]): Nb101Cells {
  const c = packSpecs(specs, 'nb101.toCells')
  return { ...c, hash: named('nb101.toCells').nb101HashCells(c.vertices, c.adjacency, c.ops) }
}

/**
 * Official module hashes of columnar cells (their `hash` column is ignored): Uint8Array of
 * count·16 raw MD5 bytes, computed natively on all threads with multi-lane MD5.
 */
export function hashBatch (cells: Nb101CellsLike): Uint8Array {
  const c = checkCells({ ...cells, hash: undefined }, 'nb101.hashBatch')
  return named('nb101.hashBatch').nb101HashCells(c.vertices, c.adjacency, c.ops)
}

/** {@link hashBatch} off the main thread. */
export function hashBatchAsync (cells: Nb101CellsLike): Promise<Uint8Array> {
  try {
    const c = checkCells({ ...cells, hash: undefined }, 'nb101.hashBatchAsync')
    return named('nb101.hashBatchAsync').nb101HashCells(c.vertices, c.adjacency, c.ops, true)
  } catch (err) {
    return Promise.reject(err)
  }
}

function checkIndex (cells: Nb101CellsLike, index: unknown, fn: string, name = 'index'): number {
  if (typeof index !== 'number' || !Number.isInteger(index)) throw new TypeError(`${fn}: ${name} must be an integer, got ${describe(index)}`)
  if (index < 0 || index >= cells.count) throw new RangeError(`${fn}: ${name} ${index} is out of range [0, ${cells.count})`)
  return index
}

/** Cell `index` of a columnar batch as a spec. */
export function cellAt (cells: Nb101CellsLike, index: number): Nb101Spec {
  const c = checkCells(cells, 'nb101.cellAt')
  const i = checkIndex(c, index, 'nb101.cellAt')
  return toSpec(c.vertices[i], c.adjacency[i], c.ops.subarray(i * 7, i * 7 + 7))
}

/** Hex module hash of cell `index`. */
export function hashAt (cells: Nb101Cells, index: number): string {
  const c = checkCells(cells, 'nb101.hashAt', true)
  const i = checkIndex(c, index, 'nb101.hashAt')
  return Buffer.from(c.hash.buffer, c.hash.byteOffset + i * 16, 16).toString('hex')
}

/**
 * Index of the cell with this hex hash in cells sorted by hash (as {@link enumerate}
 * returns them), or −1. Binary search: O(log n).
 */
export function indexOfHash (cells: Nb101Cells, hex: string): number {
  const c = checkCells(cells, 'nb101.indexOfHash', true)
  if (typeof hex !== 'string' || !/^[0-9a-f]{32}$/.test(hex)) throw new TypeError(`nb101.indexOfHash: hash must be 32 lowercase hex characters, got ${describe(hex)}`)
  const key = Buffer.from(hex, 'hex')
  const all = Buffer.from(c.hash.buffer, c.hash.byteOffset, c.hash.byteLength)
  let lo = 0; let hi = c.count
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const cmp = all.compare(key, 0, 16, mid * 16, mid * 16 + 16)  // sign of cells[mid] - key
    if (cmp < 0) lo = mid + 1
    else hi = mid
  }
  return lo < c.count && all.compare(key, 0, 16, lo * 16, lo * 16 + 16) === 0 ? lo : -1
}

function toIndices (indices: unknown, count: number, fn: string): Uint32Array {
  let out: Uint32Array
  if (indices instanceof Uint32Array) out = indices
  else if (Array.isArray(indices) || (ArrayBuffer.isView(indices) && !(indices instanceof DataView))) {
    const a = indices as ArrayLike<unknown>
    out = new Uint32Array(a.length)
    for (let k = 0; k < a.length; k++) {
      const v = a[k]
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${fn}: indices[${k}] must be an integer, got ${describe(v)}`)
      if (v < 0 || v >= count) throw new RangeError(`${fn}: indices[${k}] is ${v} but there are only ${count} cells`)
      out[k] = v
    }
    return out
  } else throw new TypeError(`${fn}: indices must be an array of integers or a Uint32Array, got ${describe(indices)}`)
  for (let k = 0; k < out.length; k++) {
    if (out[k] >= count) throw new RangeError(`${fn}: indices[${k}] is ${out[k]} but there are only ${count} cells`)
  }
  return out
}

/** Validated selection indices into `count` cells (integers in [0, count)), as a Uint32Array. */
export function checkIndices (indices: unknown, count: number, fn: string): Uint32Array {
  return toIndices(indices, count, fn)
}

/** The cells at `indices` (in that order, repeats allowed) as a new columnar batch. */
export function select (cells: Nb101Cells, indices: ArrayLike<number>): Nb101Cells {
  const c = checkCells(cells, 'nb101.select', true)
  const idx = toIndices(indices, c.count, 'nb101.select')
  const n = idx.length
  const out: Nb101Cells = { count: n, vertices: new Uint8Array(n), adjacency: new Uint32Array(n), ops: new Uint8Array(n * 7), hash: new Uint8Array(n * 16) }
  for (let k = 0; k < n; k++) {
    const i = idx[k]
    out.vertices[k] = c.vertices[i]
    out.adjacency[k] = c.adjacency[i]
    out.ops.set(c.ops.subarray(i * 7, i * 7 + 7), k * 7)
    out.hash.set(c.hash.subarray(i * 16, i * 16 + 16), k * 16)
  }
  return out
}

// ---- enumeration and its disk cache ------------------------------------------------------

export interface EnumerateOptions {
  /**
   * Disk cache: true (default) uses $NASRANK_CACHE, else $XDG_CACHE_HOME/nasrank, else
   * ~/.cache/nasrank; a string names the directory; false computes without touching disk.
   */
  cache?: boolean | string
}

const CACHE_VERSION = 1
const CACHE_MAGIC = 'NASRANK-NB101\n\0\0'  // 16 bytes
const HEADER_BYTES = 32

/** The cache directory {@link enumerate} uses for these options (null when caching is off). */
export function cacheDir (options?: EnumerateOptions): string | null {
  const opts = checkOptions<EnumerateOptions>(options, 'nb101.cacheDir', ['cache'])
  return resolveCacheDir(opts.cache, 'nb101.cacheDir')
}

function resolveCacheDir (cache: unknown, fn: string): string | null {
  if (cache === false) return null
  if (typeof cache === 'string') {
    if (cache.length === 0) throw new TypeError(`${fn}: cache must be a non-empty directory path, true or false`)
    return path.resolve(cache)
  }
  if (cache !== undefined && cache !== true) throw new TypeError(`${fn}: cache must be a boolean or a directory path, got ${describe(cache)}`)
  if (process.env.NASRANK_CACHE) return path.resolve(process.env.NASRANK_CACHE)
  const base = process.env.XDG_CACHE_HOME ? process.env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache')
  return path.join(base, 'nasrank')
}

/** File name of the cache, versioned by format and by the package's enumeration algorithm. */
export const CACHE_FILE = `nb101-cells-v${CACHE_VERSION}.bin`

// Layout: 32-byte header (16-byte magic, uint32 version, uint32 count, 8 reserved), then
// vertices (count bytes, padded to 4), adjacency (count uint32 LE), ops (7·count), hash
// (16·count), then the SHA-256 of everything before it.
function serialize (cells: Nb101Cells): Buffer {
  const n = cells.count
  const pad = (4 - (n % 4)) % 4
  const size = HEADER_BYTES + n + pad + 4 * n + 7 * n + 16 * n
  const buf = Buffer.alloc(size + 32)
  buf.write(CACHE_MAGIC, 0, 'latin1')
  buf.writeUInt32LE(CACHE_VERSION, 16)
  buf.writeUInt32LE(n, 20)
  let o = HEADER_BYTES
  buf.set(cells.vertices, o); o += n + pad
  for (let k = 0; k < n; k++, o += 4) buf.writeUInt32LE(cells.adjacency[k], o)
  buf.set(cells.ops, o); o += 7 * n
  buf.set(cells.hash, o); o += 16 * n
  crypto.createHash('sha256').update(buf.subarray(0, size)).digest().copy(buf, size)
  return buf
}

/** Parses and validates a cache file; null when it is not a complete, intact v1 file. */
function deserialize (buf: Buffer): Nb101Cells | null {
  if (buf.length < HEADER_BYTES + 32) return null
  if (buf.toString('latin1', 0, 16) !== CACHE_MAGIC || buf.readUInt32LE(16) !== CACHE_VERSION) return null
  const n = buf.readUInt32LE(20)
  if (n !== CELL_COUNT) return null
  const pad = (4 - (n % 4)) % 4
  const size = HEADER_BYTES + n + pad + 4 * n + 7 * n + 16 * n
  if (buf.length !== size + 32) return null
  const digest = crypto.createHash('sha256').update(buf.subarray(0, size)).digest()
  if (!digest.equals(buf.subarray(size))) return null
  let o = HEADER_BYTES
  const vertices = new Uint8Array(buf.subarray(o, o + n)); o += n + pad
  const adjacency = new Uint32Array(n)
  for (let k = 0; k < n; k++, o += 4) adjacency[k] = buf.readUInt32LE(o)
  const ops = new Uint8Array(buf.subarray(o, o + 7 * n)); o += 7 * n
  const hashBytes = new Uint8Array(buf.subarray(o, o + 16 * n))
  const cells: Nb101Cells = { count: n, vertices, adjacency, ops, hash: hashBytes }
  // Sorted, distinct hashes (cheap structural check beyond the checksum).
  const h = Buffer.from(hashBytes.buffer, hashBytes.byteOffset, hashBytes.byteLength)
  // (Buffer#compare(target, tStart, tEnd, sStart, sEnd) compares the source range to the target range.)
  for (let k = 1; k < n; k++) if (h.compare(h, (k - 1) * 16, k * 16, k * 16, k * 16 + 16) <= 0) return null
  return cells
}

/** Reads a cache file written by {@link enumerate}; null when it is missing, incomplete, corrupt or of another version. */
export function readCache (file: string): Nb101Cells | null {
  if (typeof file !== 'string') throw new TypeError(`nb101.readCache: file must be a path, got ${describe(file)}`)
  let buf: Buffer
  try {
    buf = fs.readFileSync(file)
  } catch {
    return null
  }
  return deserialize(buf)
}

function writeCache (dir: string, file: string, cells: Nb101Cells): void {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`
  try {
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(tmp, serialize(cells))
    fs.renameSync(tmp, file)  // atomic: readers see the old file or the complete new one
  } catch (err) {
    try { fs.rmSync(tmp, { force: true }) } catch { /* nothing to clean */ }
    process.emitWarning(`nasrank: could not write the NAS-Bench-101 cache ${file}: ${(err as Error).message}`, 'NasrankCacheWarning')
  }
}

function fromColumns (c: Nb101Columns): Nb101Cells {
  return { count: c.count, vertices: c.vertices, adjacency: c.adjacency, ops: c.ops, hash: c.hash }
}

function copyCells (c: Nb101Cells): Nb101Cells {
  return { count: c.count, vertices: c.vertices.slice(), adjacency: c.adjacency.slice(), ops: c.ops.slice(), hash: c.hash.slice() }
}

let memo: Nb101Cells | null = null
let pending: Promise<Nb101Cells> | null = null

function enumerateArgs (options: EnumerateOptions | undefined, fn: string): { dir: string | null; file: string | null } {
  const opts = checkOptions<EnumerateOptions>(options, fn, ['cache'])
  const dir = resolveCacheDir(opts.cache, fn)
  return { dir, file: dir === null ? null : path.join(dir, CACHE_FILE) }
}

/** A copy of the memoised enumeration, else of the disk cache's (memoising it), else null. */
function memoOrCache (file: string | null): Nb101Cells | null {
  if (memo) return copyCells(memo)
  const cached = file ? readCache(file) : null
  if (cached) memo = cached
  return cached ? copyCells(cached) : null
}

/**
 * All 423,624 unique valid cells, sorted by hash, computed natively on all threads (or read
 * from the disk cache). Each cell is the representative the official generator keeps (the
 * first of its hash in generate_graphs.py's order), i.e. the dataset's `module_adjacency` /
 * `module_operations`. Returns a fresh copy each call (the in-process result is memoised).
 */
export async function enumerate (options?: EnumerateOptions): Promise<Nb101Cells> {
  const { dir, file } = enumerateArgs(options, 'nb101.enumerate')
  const known = memoOrCache(file)
  if (known) return known
  if (!pending) {
    pending = addon.nb101Enumerate(true).then(fromColumns).finally(() => { pending = null })
  }
  const cells = await pending
  memo = cells
  if (dir && file) writeCache(dir, file, cells)
  return copyCells(cells)
}

/** {@link enumerate} on the calling thread (blocks for seconds on a cold cache). */
export function enumerateSync (options?: EnumerateOptions): Nb101Cells {
  const { dir, file } = enumerateArgs(options, 'nb101.enumerateSync')
  const known = memoOrCache(file)
  if (known) return known
  const cells = fromColumns(addon.nb101Enumerate(false))
  memo = cells
  if (dir && file) writeCache(dir, file, cells)
  return copyCells(cells)
}

/** Forgets the in-process result of {@link enumerate} (the disk cache stays). */
export function clearMemo (): void {
  memo = null
}

// ---- sampling and variation -------------------------------------------------------------

const MAX_ATTEMPTS = 100000

function rngArg (rng: unknown, fn: string): Random {
  if (rng instanceof Random) return rng
  if (typeof rng === 'number') return Random.from(rng, fn)
  throw new TypeError(`${fn}: rng must be a Random or a seed (non-negative integer), got ${describe(rng)}`)
}

/** A 7-vertex raw cell: matrix (row-major 7×7) and op codes. */
interface Padded { matrix: Uint8Array; ops: Uint8Array; real: boolean[] }

/** Pads a pruned cell to 7 vertices: zero rows/columns inserted before the output. */
function pad7 (c: Pruned): Padded {
  const v = c.vertices
  const pos = (u: number) => (u === v - 1 ? 6 : u)
  const matrix = new Uint8Array(49)
  const ops = new Uint8Array(7).fill(255)
  const real = new Array<boolean>(7).fill(false)
  for (let u = 0; u < v; u++) {
    ops[pos(u)] = c.ops[u]
    real[pos(u)] = true
    for (let w = u + 1; w < v; w++) if ((c.adjacency >>> edgeBit(u, w)) & 1) matrix[pos(u) * 7 + pos(w)] = 1
  }
  return { matrix, ops, real }
}

function tryCell (matrix: Uint8Array, ops: Uint8Array, withHash: boolean): Pruned | null {
  const r = analyzeRaw({ v: 7, matrix, ops }, withHash)
  return r.ok ? r.cell : null
}

const INTERIOR_CODES = [OP_CODES[CONV3X3], OP_CODES[CONV1X1], OP_CODES[MAXPOOL3X3]]

/**
 * A random valid cell as in the NAS-Bench-101 examples: 7×7 upper-triangular matrix with
 * each edge present with probability 1/2 and each interior op uniform over the three, drawn
 * again until valid; returned pruned. Draw order: the 21 edges row by row, then ops 1…5.
 */
export function randomSpec (rng: Random | number): Nb101Spec {
  const r = rngArg(rng, 'nb101.randomSpec')
  const matrix = new Uint8Array(49)
  const ops = new Uint8Array(7)
  ops[0] = OP_CODES.input; ops[6] = OP_CODES.output
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    for (let i = 0; i < 6; i++) for (let j = i + 1; j < 7; j++) matrix[i * 7 + j] = r.uint32() >>> 31
    for (let k = 1; k < 6; k++) ops[k] = INTERIOR_CODES[r.int(3)]
    const c = tryCell(matrix, ops, false)
    if (c) return toSpec(c.vertices, c.adjacency, c.ops)
  }
  throw new Error(`nb101.randomSpec: no valid cell in ${MAX_ATTEMPTS} draws`)
}

export interface MutateOptions {
  /**
   * Expected number of changes (nasbench's mutation_rate, default 1): each of the 21 edge
   * bits flips with probability rate/7, each of the 5 interior ops is resampled (to one of
   * the two others) with probability rate/5. Must be > 0.
   */
  rate?: number
  /**
   * Per-bit probabilities instead of `rate` (give both or neither): each of the 21 edge bits
   * flips with `edgeProbability`, each interior op (its one-hot as one unit) changes to one of
   * the two others with `opProbability`. Each in (0, 1].
   */
  edgeProbability?: number
  opProbability?: number
}

/**
 * nasbench's `mutate_spec` on the cell padded to 7 vertices (inserted vertices get random
 * ops, so a mutant can grow): flips and op changes are drawn again until the result is valid
 * and a different architecture (another hash). Returned pruned.
 */
export function mutate (cell: Nb101Spec, rng: Random | number, options?: MutateOptions): Nb101Spec {
  const fn = 'nb101.mutate'
  const parent = analyzeSpec(cell, fn, 'cell', true)
  const r = rngArg(rng, fn)
  const opts = checkOptions<MutateOptions>(options, fn, ['rate', 'edgeProbability', 'opProbability'])
  const perBit = opts.edgeProbability !== undefined || opts.opProbability !== undefined
  if (perBit && (opts.edgeProbability === undefined || opts.opProbability === undefined)) {
    throw new TypeError(`${fn}: give both edgeProbability and opProbability (or rate), got only ${opts.edgeProbability !== undefined ? 'edgeProbability' : 'opProbability'}`)
  }
  if (perBit && opts.rate !== undefined) throw new TypeError(`${fn}: give rate or the per-bit probabilities (edgeProbability, opProbability), not both`)
  const rate = finiteNumber(opts.rate, 1, fn, 'rate')
  if (!(rate > 0)) throw new RangeError(`${fn}: rate must be > 0, got ${rate}`)
  const probability = (v: number | undefined, name: string): number => {
    const p = finiteNumber(v, 0, fn, name)
    if (!(p > 0 && p <= 1)) throw new RangeError(`${fn}: ${name} must be in (0, 1], got ${p}`)
    return p
  }
  const edgeP = perBit ? probability(opts.edgeProbability, 'edgeProbability') : rate / 7
  const opP = perBit ? probability(opts.opProbability, 'opProbability') : rate / 5
  const base = pad7(parent)
  for (let u = 1; u < 6; u++) if (!base.real[u]) base.ops[u] = INTERIOR_CODES[r.int(3)]
  const matrix = new Uint8Array(49)
  const ops = new Uint8Array(7)
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    matrix.set(base.matrix)
    ops.set(base.ops)
    for (let i = 0; i < 6; i++) {
      for (let j = i + 1; j < 7; j++) if (r.float() < edgeP) matrix[i * 7 + j] ^= 1
    }
    for (let k = 1; k < 6; k++) {
      if (r.float() < opP) {
        const others = INTERIOR_CODES.filter(o => o !== ops[k])
        ops[k] = others[r.int(2)]
      }
    }
    const c = tryCell(matrix, ops, true)
    if (c && c.hash !== parent.hash) return toSpec(c.vertices, c.adjacency, c.ops)
  }
  throw new Error(`${fn}: no valid, different mutant in ${MAX_ATTEMPTS} attempts (rate ${rate} too small?)`)
}

/**
 * Uniform crossover (Mauch et al., "efficient sampling"): both parents padded to 7 vertices;
 * each of the 21 adjacency bits and each interior op row comes from either parent with
 * probability 1/2 (from the other when the chosen parent has no vertex there), drawn again
 * until the child is valid. Returned pruned. Draw order: 21 edge bits, then ops 1…5.
 */
export function crossover (a: Nb101Spec, b: Nb101Spec, rng: Random | number): Nb101Spec {
  const fn = 'nb101.crossover'
  const pa = pad7(analyzeSpec(a, fn, 'a'))
  const pb = pad7(analyzeSpec(b, fn, 'b'))
  const r = rngArg(rng, fn)
  const matrix = new Uint8Array(49)
  const ops = new Uint8Array(7)
  ops[0] = OP_CODES.input; ops[6] = OP_CODES.output
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    for (let i = 0; i < 6; i++) {
      for (let j = i + 1; j < 7; j++) matrix[i * 7 + j] = (r.bernoulli(0.5) ? pa : pb).matrix[i * 7 + j]
    }
    for (let k = 1; k < 6; k++) {
      const first = r.bernoulli(0.5) ? pa : pb
      const other = first === pa ? pb : pa
      // A vertex neither parent has stays isolated (pruned); any op will do.
      ops[k] = first.real[k] ? first.ops[k] : other.real[k] ? other.ops[k] : OP_CODES[CONV3X3]
    }
    const c = tryCell(matrix, ops, false)
    if (c) return toSpec(c.vertices, c.adjacency, c.ops)
  }
  throw new Error(`${fn}: no valid child in ${MAX_ATTEMPTS} attempts`)
}

/** The most indices one sampleIndices call returns (2^26: a 256 MiB Uint32Array). */
export const MAX_SAMPLE_DRAWS = 1 << 26

export interface SampleOptions {
  /** Draw with replacement (default false: distinct cells, n ≤ count). */
  replace?: boolean
}

/**
 * n indices into `cells`, uniform: distinct ones in random order by a partial Fisher–Yates
 * shuffle (default), or independent draws with `replace: true`.
 */
export function sampleIndices (cells: Nb101CellsLike, n: number, rng: Random | number, options?: SampleOptions): Uint32Array {
  const fn = 'nb101.sampleIndices'
  const c = checkCells(cells, fn)
  const r = rngArg(rng, fn)
  const opts = checkOptions<SampleOptions>(options, fn, ['replace'])
  const replace = boolean(opts.replace, false, fn, 'replace')
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new RangeError(`${fn}: n must be a non-negative integer, got ${describe(n)}`)
  if (n > 0 && c.count === 0) throw new RangeError(`${fn}: cannot sample from 0 cells`)
  if (!replace && n > c.count) throw new RangeError(`${fn}: n = ${n} distinct cells requested but there are only ${c.count}`)
  if (n > MAX_SAMPLE_DRAWS) throw new RangeError(`${fn}: n = ${n} draws requested; at most ${MAX_SAMPLE_DRAWS} (2^26, a 256 MiB result) are allowed`)
  const out = new Uint32Array(n)
  if (replace) {
    for (let k = 0; k < n; k++) out[k] = r.int(c.count)
    return out
  }
  const swapped = new Map<number, number>()  // sparse Fisher–Yates: position -> value
  for (let k = 0; k < n; k++) {
    const j = k + r.int(c.count - k)
    const vj = swapped.get(j) ?? j
    const vk = swapped.get(k) ?? k
    swapped.set(j, vk)
    out[k] = vj
  }
  return out
}

/** n cells drawn uniformly from `cells` (see {@link sampleIndices}), as a new batch. */
export function sample (cells: Nb101Cells, n: number, rng: Random | number, options?: SampleOptions): Nb101Cells {
  const idx = sampleIndices(checkCells(cells, 'nb101.sample', true), n, rng, options)
  return select(cells, idx)
}

// ---- cost model -------------------------------------------------------------------------

/** Per-vertex costs of one cell in the 9 cells of the network ([cell][vertex]). */
export interface Nb101Cost {
  /** Trainable parameters of the whole network (the dataset's trainable_parameters). */
  params: number
  /** Multiply–accumulates of all convolutions and the dense layer, 32×32 input. */
  flops: number
  /** vertexParams[k][u]: parameters vertex u contributes in cell k (0…8). */
  vertexParams: number[][]
  vertexFlops: number[][]
}

function single (cell: unknown, fn: string) {
  const c = analyzeSpec(cell, fn, 'cell')
  const ops = new Uint8Array(7).fill(255)
  ops.set(c.ops.subarray(0, c.vertices))
  return { v: c.vertices, cols: { vertices: Uint8Array.of(c.vertices), adjacency: Uint32Array.of(c.adjacency), ops } }
}

/**
 * Trainable parameters of the official network built from this cell, equal to the dataset's
 * `trainable_parameters` (e.g. 2,694,282 for the README's Inception-like cell).
 */
export function params (cell: Nb101Spec): number {
  const { cols } = single(cell, 'nb101.params')
  return addon.nb101Cost(cols.vertices, cols.adjacency, cols.ops, false).params[0]
}

/** Multiply–accumulates of the official network's convolutions and dense layer (32×32 input). */
export function flops (cell: Nb101Spec): number {
  const { cols } = single(cell, 'nb101.flops')
  return addon.nb101Cost(cols.vertices, cols.adjacency, cols.ops, false).flops[0]
}

/**
 * Totals and per-vertex costs in every cell. Vertex u of cell k: an interior vertex counts
 * its op (k×k conv c→c + BN, or nothing for max-pool) plus the 1×1 conv-BN projection of the
 * cell input when the input feeds it; the output vertex counts the input→output projection;
 * the input counts nothing. The totals add the stem and the dense layer.
 */
export function cost (cell: Nb101Spec): Nb101Cost {
  const { v, cols } = single(cell, 'nb101.cost')
  const r = addon.nb101Cost(cols.vertices, cols.adjacency, cols.ops, true)
  const rows = (a: Float64Array) => Array.from({ length: 9 }, (_, k) => Array.from(a.subarray(k * 7, k * 7 + v)))
  return { params: r.params[0], flops: r.flops[0], vertexParams: rows(r.vertexParams!), vertexFlops: rows(r.vertexFlops!) }
}

export interface CostBatchOptions {
  /** Also return per-vertex costs: Float64Array(count·9·7), [cell c][network cell k][vertex u]. */
  perVertex?: boolean
}

export interface Nb101CostBatch {
  params: Float64Array
  flops: Float64Array
  vertexParams?: Float64Array
  vertexFlops?: Float64Array
}

function costArgs (cells: Nb101CellsLike, options: CostBatchOptions | undefined, fn: string) {
  const c = checkCells(cells, fn)
  const opts = checkOptions<CostBatchOptions>(options, fn, ['perVertex'])
  return [c.vertices, c.adjacency, c.ops, boolean(opts.perVertex, false, fn, 'perVertex')] as const
}

/** {@link params} and {@link flops} (and optionally per-vertex costs) of a columnar batch, natively on all threads. */
export function costBatch (cells: Nb101CellsLike, options?: CostBatchOptions): Nb101CostBatch {
  return named('nb101.costBatch').nb101Cost(...costArgs(cells, options, 'nb101.costBatch'))
}

/** {@link costBatch} off the main thread. */
export function costBatchAsync (cells: Nb101CellsLike, options?: CostBatchOptions): Promise<Nb101CostBatch> {
  try {
    return named('nb101.costBatchAsync').nb101Cost(...costArgs(cells, options, 'nb101.costBatchAsync'), true)
  } catch (err) {
    return Promise.reject(err)
  }
}

/** Parameters of every cell of a batch. */
export function paramsBatch (cells: Nb101CellsLike): Float64Array {
  return named('nb101.paramsBatch').nb101Cost(...costArgs(cells, undefined, 'nb101.paramsBatch')).params
}

/** FLOPs (multiply–accumulates) of every cell of a batch. */
export function flopsBatch (cells: Nb101CellsLike): Float64Array {
  return named('nb101.flopsBatch').nb101Cost(...costArgs(cells, undefined, 'nb101.flopsBatch')).flops
}
