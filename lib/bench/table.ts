// NAS-Bench-201 tables. The official NAS-Bench-201 / NATS-Bench files are PyTorch pickles,
// which nasrank does not parse; instead `tools/export_nb201.py` exports them once (with the
// official API) into a documented table, as CSV or Arrow IPC (docs/nb201-table.md):
//
//   arch     required: the official string form, |op~0|+|op~0|op~1|+|op~0|op~1|op~2|
//   dataset  optional: e.g. cifar10, cifar10-valid, cifar100, ImageNet16-120
//   ...      every other column is numeric: index, train_accuracy, val_accuracy,
//            test_accuracy, params, flops, latency, latency_<device>, ...
//
// Every value must be a finite number; (arch, dataset) pairs must be unique.
import * as path from 'node:path'
import { constants as bufferConstants } from 'node:buffer'
import { createHash } from 'node:crypto'
import type * as Arrow from 'apache-arrow'
import { checkOptions, describe } from '../validate'
import { DataFileError } from './errors'
import { writeFileAtomicSync } from './atomic'
import { clip, listNames, quote, readRegularFile } from './file'

function arrow (): typeof Arrow {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('apache-arrow') as typeof Arrow
}

export interface LoadNb201TableOptions {
  /** 'csv' or 'arrow' (IPC file or stream); default: detected from the file's first bytes. */
  format?: 'csv' | 'arrow'
  /** Rows of this dataset only (files with a `dataset` column that holds several). */
  dataset?: string
  /**
   * Hook: validates (and may normalise) each architecture string; throw to reject it.
   * Wire nasrank's `nb201.parse` here. Without it, arch strings are only checked to be
   * non-empty.
   */
  parseArch?: (arch: string) => unknown
}

const OPTION_KEYS = ['format', 'dataset', 'parseArch'] as const
const MAX_TABLE_BYTES = 1 << 30
const MAX_STRING_LENGTH: number = bufferConstants.MAX_STRING_LENGTH
/** Schema metadata of the Arrow tables nasrank writes (docs/bench-data.md, integrity). */
export const NB201_TABLE_FORMAT = 'nasrank-nb201-table'
const DIGEST_KEY = 'nasrank.digest'
// (no nested or adjacent optional digit runs: linear time on long non-numbers)
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i

export class Nb201Table {
  /** The file it was loaded from (or a label). */
  readonly file: string
  readonly format: 'csv' | 'arrow' | 'memory'
  /** The dataset of the rows (from the `dataset` column), or null if the file has none. */
  readonly dataset: string | null
  /** Architecture strings, in file order. */
  readonly arch: readonly string[]
  /** The numeric columns, in file order. */
  readonly columns: readonly string[]
  private readonly values: Map<string, Float64Array>
  private readonly rowOf: Map<string, number>

  /** @internal use {@link loadNb201Table} or {@link createNb201Table}. */
  constructor (file: string, format: 'csv' | 'arrow' | 'memory', dataset: string | null, arch: string[], columns: Map<string, Float64Array>) {
    this.file = file
    this.format = format
    this.dataset = dataset
    this.arch = Object.freeze(arch)
    this.columns = Object.freeze([...columns.keys()])
    this.values = columns
    this.rowOf = new Map(arch.map((a, i) => [a, i]))
  }

  get count (): number { return this.arch.length }

  has (column: string): boolean { return this.values.has(column) }

  /** A numeric column in row order (a view: copy before mutating). Missing → clear error. */
  column (name: string): Float64Array {
    const col = this.values.get(name)
    if (col === undefined) {
      if (typeof name !== 'string') throw new TypeError(`column: name must be a string, got ${describe(name)}`)
      throw new RangeError(`column: ${this.file} has no column '${clip(name, 40)}'` +
        (name === 'arch' || name === 'dataset' ? ` ('${name}' is not numeric; use table.${name})` : '') +
        ` (numeric columns: ${this.columns.length ? listNames(this.columns) : 'none'})` +
        (this.dataset ? `; dataset ${this.dataset}` : '') + '. Re-export with tools/export_nb201.py to add it.')
    }
    return col
  }

  /** Row of an architecture string, or -1. */
  indexOf (arch: string): number {
    if (typeof arch !== 'string') throw new TypeError(`indexOf: arch must be a string, got ${describe(arch)}`)
    return this.rowOf.get(arch) ?? -1
  }

  /** One value; throws RangeError if the architecture or the column is missing. */
  get (arch: string, column: string): number {
    const col = this.column(column)
    const row = this.indexOf(arch)
    if (row < 0) throw new RangeError(`get: architecture ${quote(arch)} is not in ${this.file} (${this.count} rows${this.dataset ? `, dataset ${this.dataset}` : ''})`)
    return col[row]
  }
}

// ---- CSV ------------------------------------------------------------------------------------

function csvError (file: string, line: number | undefined, code: string, reason: string): DataFileError {
  return new DataFileError(`loadNb201Table: ${file}${line !== undefined ? `:${line}` : ''}: ${reason}`, { code, file, line, reason })
}

const COMMA = 44
const QUOTE = 34
const LF = 10
const CR = 13

/** RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks. */
export function parseCsv (text: string, file: string): { rows: string[][]; lines: number[] } {
  const rows: string[][] = []
  const lines: number[] = []
  const n = text.length
  let i = text.charCodeAt(0) === 0xFEFF ? 1 : 0
  let line = 1
  while (i < n) {
    const c0 = text.charCodeAt(i)
    if (c0 === LF) { i++; line++; continue }
    if (c0 === CR) { i++; if (text.charCodeAt(i) === LF) i++; line++; continue }
    const start = line
    const fields: string[] = []
    for (;;) {
      if (text.charCodeAt(i) === QUOTE) {
        const qline = line
        let value = ''
        let seg = ++i
        for (;;) {
          if (i >= n) throw csvError(file, qline, 'ERR_CSV_QUOTE', 'unterminated quoted field (no closing ")')
          const c = text.charCodeAt(i)
          if (c === QUOTE) {
            value += text.slice(seg, i)
            if (text.charCodeAt(i + 1) === QUOTE) { value += '"'; i += 2; seg = i; continue }
            i++
            break
          }
          if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) line++
          i++
        }
        const after = text.charCodeAt(i)
        if (i < n && after !== COMMA && after !== LF && after !== CR) {
          throw csvError(file, line, 'ERR_CSV_QUOTE', `unexpected ${JSON.stringify(text[i])} after a closing quote (a quoted field must end at a comma or line end)`)
        }
        fields.push(value)
      } else {
        let j = i
        while (j < n) {
          const c = text.charCodeAt(j)
          if (c === COMMA || c === LF || c === CR) break
          if (c === QUOTE) throw csvError(file, line, 'ERR_CSV_QUOTE', 'a quote inside an unquoted field (quote the whole field and double the quote)')
          j++
        }
        fields.push(text.slice(i, j))
        i = j
      }
      if (i < n && text.charCodeAt(i) === COMMA) { i++; continue }
      if (i < n) {
        if (text.charCodeAt(i) === CR) i++
        if (i < n && text.charCodeAt(i) === LF) i++
        line++
      }
      break
    }
    rows.push(fields)
    lines.push(start)
  }
  return { rows, lines }
}

/** A finite decimal number, or throws with what is wrong (no location; the caller adds it). */
function parseNumber (raw: string, column: string): number {
  const s = raw.trim()
  if (NUMBER.test(s)) {
    const v = Number(s)
    if (Number.isFinite(v)) return v
    throw new Error(`column '${clip(column, 40)}' is ${quote(raw)}, which overflows to ${v} (every value must be a finite number)`)
  }
  if (s === '') throw new Error(`empty value in column '${clip(column, 40)}' (every value must be a finite number)`)
  if (NON_FINITE.test(s)) throw new Error(`column '${clip(column, 40)}' is ${quote(raw)}, not finite (every value must be a finite number)`)
  throw new Error(`column '${clip(column, 40)}' is ${quote(raw)}, not a number`)
}

interface RawTable {
  header: string[]
  archIndex: number
  datasetIndex: number
  /** Rows as (arch, dataset, numeric values), with their location for errors. */
  arch: string[]
  dataset: (string | null)[]
  numeric: Float64Array[]
  lineOf: (number | undefined)[]
}

function checkHeader (header: string[], file: string, line: number | undefined, code: string): { archIndex: number; datasetIndex: number } {
  const seen = new Map<string, number>()
  header.forEach((name, k) => {
    if (name.trim() === '') throw csvError(file, line, code, `column ${k + 1} of the header has an empty name`)
    if (seen.has(name)) throw csvError(file, line, code, `the header names column '${clip(name, 40)}' twice (columns ${seen.get(name)! + 1} and ${k + 1})`)
    seen.set(name, k)
  })
  const archIndex = header.indexOf('arch')
  if (archIndex < 0) throw csvError(file, line, code, `no 'arch' column (columns: ${listNames(header)}); the first row must be a header naming an 'arch' column`)
  return { archIndex, datasetIndex: header.indexOf('dataset') }
}

function readCsv (file: string, text: string): RawTable {
  if (text.trim() === '' || text === '\uFEFF') throw csvError(file, undefined, 'ERR_CSV_EMPTY', 'the file is empty (expected a header line and rows)')
  const { rows, lines } = parseCsv(text, file)
  const header = rows[0].map(h => h.trim())
  const { archIndex, datasetIndex } = checkHeader(header, file, lines[0], 'ERR_CSV_HEADER')
  if (rows.length === 1) throw csvError(file, lines[0], 'ERR_CSV_NO_ROWS', 'the file has a header but no rows')
  const numericIdx = header.map((_, k) => k).filter(k => k !== archIndex && k !== datasetIndex)
  const count = rows.length - 1
  const numeric = numericIdx.map(() => new Float64Array(count))
  const out: RawTable = { header, archIndex, datasetIndex, arch: [], dataset: [], numeric, lineOf: [] }
  for (let r = 1; r < rows.length; r++) {
    const fields = rows[r]
    const line = lines[r]
    if (fields.length !== header.length) {
      throw csvError(file, line, 'ERR_CSV_COLUMNS', `this row has ${fields.length} field${fields.length === 1 ? '' : 's'}; the header has ${header.length} (${listNames(header)})`)
    }
    out.arch.push(fields[archIndex])
    out.dataset.push(datasetIndex >= 0 ? fields[datasetIndex].trim() : null)
    out.lineOf.push(line)
    for (let c = 0; c < numericIdx.length; c++) {
      try {
        numeric[c][r - 1] = parseNumber(fields[numericIdx[c]], header[numericIdx[c]])
      } catch (err) {
        throw csvError(file, line, 'ERR_TABLE_VALUE', (err as Error).message)
      }
    }
  }
  return out
}

// ---- Arrow ------------------------------------------------------------------------------------

/**
 * The integrity digest of an NB-201 table as loaded: SHA-256 over, column by column in file
 * order, the column's name and its values (text columns: the JSON array of the strings;
 * numeric columns: the float64 values, little-endian).
 */
function nb201Digest (header: readonly string[], columns: ReadonlyArray<readonly string[] | Float64Array>): string {
  const h = createHash('sha256')
  header.forEach((name, k) => {
    h.update(JSON.stringify(name))
    const c = columns[k]
    if (c instanceof Float64Array) {
      const le = new Float64Array(c)  // (x86 and ARM are little-endian; a copy keeps views intact)
      h.update(new Uint8Array(le.buffer))
    } else {
      h.update(JSON.stringify(c))
    }
  })
  return `sha256:${h.digest('hex')}`
}

function arrowError (file: string, row: number | undefined, code: string, reason: string): DataFileError {
  return new DataFileError(`loadNb201Table: ${file}${row !== undefined ? ` (row ${row})` : ''}: ${reason}`, { code, file, reason })
}

function readArrow (file: string, buf: Buffer): RawTable {
  const A = arrow()
  if (buf.length === 0) throw arrowError(file, undefined, 'ERR_ARROW_EMPTY', 'the file is empty (0 bytes)')
  let table: Arrow.Table
  try {
    table = A.tableFromIPC(buf)
  } catch (err) {
    throw arrowError(file, undefined, 'ERR_ARROW_FORMAT', `cannot read it as Arrow IPC: ${(err as Error).message}`)
  }
  const header = table.schema.fields.map(f => f.name)
  const { archIndex, datasetIndex } = checkHeader(header, file, undefined, 'ERR_ARROW_SCHEMA')
  const isText = (t: Arrow.DataType) => A.DataType.isUtf8(t) || A.DataType.isLargeUtf8(t) || (A.DataType.isDictionary(t) && (A.DataType.isUtf8(t.dictionary) || A.DataType.isLargeUtf8(t.dictionary)))
  for (const k of [archIndex, datasetIndex]) {
    if (k >= 0 && !isText(table.schema.fields[k].type)) {
      throw arrowError(file, undefined, 'ERR_ARROW_SCHEMA', `column '${clip(header[k], 40)}' has type ${clip(String(table.schema.fields[k].type), 40)}; expected Utf8 text`)
    }
  }
  const n = table.numRows
  if (n === 0) throw arrowError(file, undefined, 'ERR_TABLE_NO_ROWS', 'the table has no rows')
  const numericIdx = header.map((_, k) => k).filter(k => k !== archIndex && k !== datasetIndex)
  for (const k of numericIdx) {
    const t = table.schema.fields[k].type
    if (!A.DataType.isInt(t) && !A.DataType.isFloat(t)) {
      throw arrowError(file, undefined, 'ERR_ARROW_SCHEMA', `column '${clip(header[k], 40)}' has type ${clip(String(t), 40)}; every column other than arch and dataset must be numeric`)
    }
  }
  const texts = (k: number): string[] => {
    const vec = table.getChildAt(k)!
    const out: string[] = new Array(n)
    for (let i = 0; i < n; i++) {
      const v = vec.get(i)
      if (v === null || v === undefined) throw arrowError(file, i, 'ERR_TABLE_VALUE', `null value in column '${clip(header[k], 40)}'`)
      out[i] = String(v)
    }
    return out
  }
  const arch = texts(archIndex)
  const dataset = datasetIndex >= 0 ? texts(datasetIndex).map(s => s.trim()) : new Array<null>(n).fill(null)
  const numeric = numericIdx.map(k => {
    const vec = table.getChildAt(k)!
    const out = new Float64Array(n)
    for (let i = 0; i < n; i++) {
      const v = vec.get(i)
      if (v === null || v === undefined) throw arrowError(file, i, 'ERR_TABLE_VALUE', `null value in column '${clip(header[k], 40)}' (every value must be a finite number)`)
      const x = Number(v)
      if (!Number.isFinite(x)) throw arrowError(file, i, 'ERR_TABLE_VALUE', `column '${clip(header[k], 40)}' is ${x}, not finite (every value must be a finite number)`)
      out[i] = x
    }
    return out
  })
  const meta = table.schema.metadata
  const recorded = meta.get(DIGEST_KEY)
  if (recorded !== undefined || meta.get('nasrank.format') === NB201_TABLE_FORMAT) {
    if (recorded === undefined) throw arrowError(file, undefined, 'ERR_TABLE_DIGEST', `metadata nasrank.format is ${NB201_TABLE_FORMAT} but the integrity digest (${DIGEST_KEY}) is missing: the file is corrupt`)
    let next = 0
    const columns = header.map((_, k) => (k === archIndex ? arch : k === datasetIndex ? dataset as string[] : numeric[next++]))
    const actual = nb201Digest(header, columns)
    if (actual !== recorded) {
      throw arrowError(file, undefined, 'ERR_TABLE_DIGEST', `integrity check failed: the values' digest is ${actual.slice(0, 23)}…, the table records ${quote(recorded, 23)}: the file is corrupt (changed after it was written)`)
    }
  }
  return { header, archIndex, datasetIndex, arch, dataset, numeric, lineOf: [] }
}

// ---- common --------------------------------------------------------------------------------

function detectFormat (buf: Buffer): 'csv' | 'arrow' {
  if (buf.length >= 6 && buf.toString('latin1', 0, 6) === 'ARROW1') return 'arrow'
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0xFFFFFFFF) return 'arrow'  // IPC stream
  return 'csv'
}

function finish (file: string, format: 'csv' | 'arrow', raw: RawTable, options: { dataset?: string; parseArch?: (a: string) => unknown }): Nb201Table {
  const fail = (i: number, code: string, reason: string) => {
    const line = raw.lineOf[i]
    return format === 'csv' ? csvError(file, line, code, reason) : arrowError(file, i, code, reason)
  }
  // Duplicate (arch, dataset) pairs anywhere in the file.
  const seen = new Map<string, number>()
  for (let i = 0; i < raw.arch.length; i++) {
    const a = raw.arch[i]
    if (a.trim() === '') throw fail(i, 'ERR_TABLE_ARCH', 'empty architecture string')
    if (a !== a.trim()) throw fail(i, 'ERR_TABLE_ARCH', `architecture ${quote(a)} has leading or trailing whitespace`)
    const key = raw.dataset[i] === null ? a : `${raw.dataset[i]}\u0000${a}`
    const prev = seen.get(key)
    if (prev !== undefined) {
      const first = format === 'csv' ? `line ${raw.lineOf[prev]}` : `row ${prev}`
      throw fail(i, 'ERR_TABLE_DUPLICATE', `duplicate architecture ${clip(a)}${raw.dataset[i] !== null ? ` for dataset ${clip(raw.dataset[i]!, 40)}` : ''} (first on ${first})`)
    }
    seen.set(key, i)
    if (options.parseArch) {
      try {
        options.parseArch(a)
      } catch (err) {
        throw fail(i, 'ERR_TABLE_ARCH', `invalid architecture ${quote(a)}: ${clip(String((err as Error)?.message ?? err), 160)}`)
      }
    }
  }
  // Dataset selection.
  let rows: number[] | null = null
  let dataset: string | null = null
  if (raw.datasetIndex >= 0) {
    const names = [...new Set(raw.dataset as string[])]
    if (options.dataset !== undefined) {
      if (!names.includes(options.dataset)) {
        throw new DataFileError(`loadNb201Table: ${file}: no rows for dataset ${quote(options.dataset)} (datasets: ${listNames(names)})`,
          { code: 'ERR_TABLE_DATASET', file, reason: `no rows for dataset ${clip(options.dataset)}` })
      }
      dataset = options.dataset
    } else if (names.length === 1) {
      dataset = names[0]
    } else {
      throw new DataFileError(`loadNb201Table: ${file}: the file holds several datasets (${listNames(names)}); choose one with { dataset }`,
        { code: 'ERR_TABLE_DATASET', file, reason: 'several datasets' })
    }
    if (names.length > 1) rows = raw.dataset.map((d, i) => (d === dataset ? i : -1)).filter(i => i >= 0)
  } else if (options.dataset !== undefined) {
    throw new DataFileError(`loadNb201Table: ${file}: has no 'dataset' column, so dataset ${quote(options.dataset)} cannot be selected`,
      { code: 'ERR_TABLE_DATASET', file, reason: 'no dataset column' })
  }
  const numericNames = raw.header.filter((_, k) => k !== raw.archIndex && k !== raw.datasetIndex)
  const columns = new Map<string, Float64Array>()
  numericNames.forEach((name, c) => {
    const all = raw.numeric[c]
    columns.set(name, rows ? Float64Array.from(rows, i => all[i]) : all)
  })
  return new Nb201Table(file, format, dataset, rows ? rows.map(i => raw.arch[i]) : raw.arch, columns)
}

/**
 * Loads a NAS-Bench-201 table (CSV or Arrow IPC; see the file comment for the format).
 * Bad input throws a {@link DataFileError} naming the file and line (CSV) or row (Arrow).
 */
export function loadNb201Table (file: string, options?: LoadNb201TableOptions): Nb201Table {
  const fn = 'loadNb201Table'
  if (typeof file !== 'string' || file === '') throw new TypeError(`${fn}: file must be a non-empty string path, got ${describe(file)}`)
  const o = checkOptions<LoadNb201TableOptions>(options, fn, OPTION_KEYS)
  if (o.format !== undefined && o.format !== 'csv' && o.format !== 'arrow') throw new TypeError(`${fn}: format must be 'csv' or 'arrow', got ${describe(o.format)}`)
  if (o.dataset !== undefined && typeof o.dataset !== 'string') throw new TypeError(`${fn}: dataset must be a string, got ${describe(o.dataset)}`)
  if (o.parseArch !== undefined && typeof o.parseArch !== 'function') throw new TypeError(`${fn}: parseArch must be a function, got ${describe(o.parseArch)}`)
  const abs = path.resolve(file)
  // A regular file only (a FIFO or device would block or never end), at most 1 GiB (an
  // NB-201 table of every dataset and budget is well under 100 MB).
  const buf = readRegularFile(fn, abs, 'ERR_TABLE_IO', MAX_TABLE_BYTES, 'an NB-201 table').data
  const format = o.format ?? detectFormat(buf)
  if (format === 'arrow') return finish(abs, 'arrow', readArrow(abs, buf), o)
  if (buf.length > MAX_STRING_LENGTH) {
    throw csvError(abs, undefined, 'ERR_TABLE_IO', `the file has ${buf.length} bytes, more than a CSV table can have (${MAX_STRING_LENGTH} bytes, the longest string Node holds); use the Arrow format`)
  }
  if (buf.includes(0)) {
    throw csvError(abs, undefined, 'ERR_CSV_BINARY', 'the file holds NUL bytes: it is binary, not CSV text (Arrow IPC files start with ARROW1)')
  }
  return finish(abs, 'csv', readCsv(abs, buf.toString('utf8')), o)
}

/** Builds a table in memory (e.g. to write it with {@link writeNb201Table}). */
export function createNb201Table (data: { arch: readonly string[]; dataset?: string | null; columns: Record<string, ArrayLike<number>> }, label = '(memory)'): Nb201Table {
  const fn = 'createNb201Table'
  if (data === null || typeof data !== 'object') throw new TypeError(`${fn}: data must be an object, got ${describe(data)}`)
  if (!Array.isArray(data.arch)) throw new TypeError(`${fn}: data.arch must be an array of strings, got ${describe(data.arch)}`)
  const n = data.arch.length
  const columns = new Map<string, Float64Array>()
  for (const [name, values] of Object.entries(data.columns ?? {})) {
    if (name === 'arch' || name === 'dataset') throw new RangeError(`${fn}: '${name}' cannot be a numeric column`)
    const col = Float64Array.from(values)
    if (col.length !== n) throw new RangeError(`${fn}: column '${name}' has ${col.length} values but there are ${n} architectures`)
    col.forEach((v, i) => { if (!Number.isFinite(v)) throw new RangeError(`${fn}: column '${name}'[${i}] is ${v}; values must be finite`) })
    columns.set(name, col)
  }
  const seen = new Set<string>()
  data.arch.forEach((a, i) => {
    if (typeof a !== 'string' || a === '') throw new TypeError(`${fn}: data.arch[${i}] must be a non-empty string, got ${describe(a)}`)
    if (seen.has(a)) throw new RangeError(`${fn}: duplicate architecture ${a} at index ${i}`)
    seen.add(a)
  })
  return new Nb201Table(label, 'memory', data.dataset ?? null, [...data.arch], columns)
}

function csvField (s: string): string {
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s
}

/**
 * Writes a table as CSV or Arrow IPC (by `format`, default from the extension: .arrow /
 * .feather / .ipc → Arrow), atomically. Numbers are written with full precision.
 */
export function writeNb201Table (table: Nb201Table, file: string, options?: { format?: 'csv' | 'arrow' }): void {
  const fn = 'writeNb201Table'
  if (!(table instanceof Nb201Table)) throw new TypeError(`${fn}: table must be an Nb201Table, got ${describe(table)}`)
  if (typeof file !== 'string' || file === '') throw new TypeError(`${fn}: file must be a non-empty string path, got ${describe(file)}`)
  const o = checkOptions<{ format?: 'csv' | 'arrow' }>(options, fn, ['format'])
  const format = o.format ?? (/\.(arrow|feather|ipc)$/i.test(file) ? 'arrow' : 'csv')
  if (format !== 'csv' && format !== 'arrow') throw new TypeError(`${fn}: format must be 'csv' or 'arrow', got ${describe(format)}`)
  const cols = table.columns.map(c => table.column(c))
  if (format === 'csv') {
    const header = ['arch', ...(table.dataset !== null ? ['dataset'] : []), ...table.columns]
    const lines = [header.map(csvField).join(',')]
    for (let i = 0; i < table.count; i++) {
      const fields = [csvField(table.arch[i]), ...(table.dataset !== null ? [csvField(table.dataset)] : []), ...cols.map(c => String(c[i]))]
      lines.push(fields.join(','))
    }
    writeFileAtomicSync(file, lines.join('\n') + '\n')
    return
  }
  const A = arrow()
  const data: Record<string, Arrow.Vector> = { arch: A.vectorFromArray([...table.arch], new A.Utf8()) }
  if (table.dataset !== null) data.dataset = A.vectorFromArray(new Array<string>(table.count).fill(table.dataset), new A.Utf8())
  table.columns.forEach((c, k) => { data[c] = A.makeVector(cols[k]) })
  const t = new A.Table(data)
  const header = ['arch', ...(table.dataset !== null ? ['dataset'] : []), ...table.columns]
  const values = [[...table.arch], ...(table.dataset !== null ? [new Array<string>(table.count).fill(table.dataset)] : []), ...cols]
  t.schema.metadata.set('nasrank.format', NB201_TABLE_FORMAT)
  t.schema.metadata.set(DIGEST_KEY, nb201Digest(header, values))
  writeFileAtomicSync(file, A.tableToIPC(t, 'file'))
}
