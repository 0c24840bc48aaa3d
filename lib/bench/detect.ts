// What is this file? From its first bytes (and, for Arrow, its schema only): a NAS-Bench-101
// TFRecord file, a nasrank NB-101 store, an NB-201 table (CSV or Arrow), or unknown. Reads
// the first 64 KiB plus the Arrow schema message (≤ 16 MiB) — or, for an Arrow IPC file whose
// schema only its footer gives, the file (≤ 1 GiB) — from regular files only.
import type * as Arrow from 'apache-arrow'
import { crc32c, maskCrc32c } from './tfrecord-writer'
import { openRegularFile, readAt } from './file'
import * as fs from 'node:fs'
import * as path from 'node:path'

export type BenchFileKind = 'nb101-tfrecord' | 'nb101-store' | 'nb201-csv' | 'nb201-arrow' | 'arrow' | 'unknown'

export interface BenchFileInfo {
  file: string
  kind: BenchFileKind
  /** The openBench uri prefix for this file ('nb101:' / 'nb201:'), or null. */
  uri: string | null
  /** In words, e.g. 'a NAS-Bench-101 TFRecord file'. */
  description: string
}

const DESCRIPTIONS: Record<BenchFileKind, string> = {
  'nb101-tfrecord': 'a NAS-Bench-101 TFRecord file (open it as nb101:<file>; converted once into a store)',
  'nb101-store': 'a nasrank NAS-Bench-101 store (open it as nb101:<file>)',
  'nb201-csv': 'a NAS-Bench-201 CSV table (open it as nb201:<file>)',
  'nb201-arrow': 'a NAS-Bench-201 Arrow table (open it as nb201:<file>)',
  arrow: 'an Arrow IPC file that is neither a nasrank NB-101 store nor an NB-201 table (no arch column)',
  unknown: 'not a benchmark file nasrank knows (TFRecord, NB-101 store, NB-201 CSV or Arrow table)'
}

const HEAD_BYTES = 64 << 10
const MAX_SCHEMA_BYTES = 16 << 20
const MAX_WHOLE_FILE_BYTES = 1 << 30

function arrow (): typeof Arrow {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('apache-arrow') as typeof Arrow
}

/** The schema of an Arrow IPC file or stream from its first message only (null if unreadable). */
function arrowSchema (fd: number, size: number, head: Buffer): Arrow.Schema | null {
  const at = head.toString('latin1', 0, 6) === 'ARROW1' ? 8 : 0
  if (size < at + 8) return null
  let prefix = readAt(fd, 8, at)
  let metaLength: number
  if (prefix.readUInt32LE(0) === 0xFFFFFFFF) metaLength = prefix.readInt32LE(4)
  else { metaLength = prefix.readInt32LE(0); prefix = prefix.subarray(0, 4) }  // legacy: no continuation marker
  if (metaLength <= 0 || metaLength > MAX_SCHEMA_BYTES || at + prefix.length + metaLength > size) return null
  const message = readAt(fd, metaLength, at + prefix.length)
  // A stream holding the schema message only, then end-of-stream.
  const stream = Buffer.concat([Buffer.from([0xFF, 0xFF, 0xFF, 0xFF]), Buffer.alloc(4), message, Buffer.from([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])])
  stream.writeInt32LE(metaLength, 4)
  try {
    const reader = arrow().RecordBatchReader.from(new Uint8Array(stream))
    reader.open()
    if (reader.schema) return reader.schema
  } catch { /* below */ }
  // Arrow JS writes file-format schema messages that its stream reader will not take alone:
  // read the schema from the footer of the whole file (bounded).
  if (at === 8 && size <= MAX_WHOLE_FILE_BYTES) {
    try {
      const reader = arrow().RecordBatchReader.from(readAt(fd, size, 0))
      reader.open()
      return reader.schema ?? null
    } catch { /* not readable */ }
  }
  return null
}

/** Is the first line a CSV header naming an `arch` column (and the start text)? */
function looksLikeNb201Csv (head: Buffer): boolean {
  if (head.includes(0)) return false
  let text = head.toString('utf8')
  if (text.charCodeAt(0) === 0xFEFF) text = text.slice(1)
  const end = text.search(/\r?\n/)
  const first = end < 0 ? text : text.slice(0, end)
  return first.split(',').some(f => f.trim().replace(/^"(.*)"$/, '$1') === 'arch')
}

/**
 * Detects what a data file is. Errors (missing file, a FIFO or device, a directory) are
 * DataFileErrors naming `fn` and the file.
 */
export function detectBenchFile (file: string, fn = 'detectBenchFile'): BenchFileInfo {
  const abs = path.resolve(file)
  const { fd, size } = openRegularFile(fn, abs, 'ERR_DETECT_IO')
  let kind: BenchFileKind = 'unknown'
  try {
    const head = readAt(fd, Math.min(size, HEAD_BYTES), 0)
    if (head.length >= 12 && maskCrc32c(crc32c(head.subarray(0, 8))) === head.readUInt32LE(8)) kind = 'nb101-tfrecord'
    else if ((head.length >= 8 && head.toString('latin1', 0, 6) === 'ARROW1') || (head.length >= 8 && head.readUInt32LE(0) === 0xFFFFFFFF)) {
      const schema = arrowSchema(fd, size, head)
      if (schema === null) kind = 'unknown'
      else if (schema.metadata.get('nasrank.format') === 'nasrank-nb101-store') kind = 'nb101-store'
      else if (schema.fields.some(f => f.name === 'arch')) kind = 'nb201-arrow'
      else kind = 'arrow'
    } else if (looksLikeNb201Csv(head)) kind = 'nb201-csv'
  } finally {
    fs.closeSync(fd)
  }
  const uri = kind.startsWith('nb101') ? 'nb101:' : kind.startsWith('nb201') ? 'nb201:' : null
  return { file: abs, kind, uri, description: DESCRIPTIONS[kind] }
}
