// The error every data-file reader of lib/bench throws for bad input: it names the file
// and where in it the problem is (a byte offset for binary files, a line for CSV, a row
// for Arrow tables), and carries a stable code.
export class DataFileError extends Error {
  /** Stable machine-readable kind, e.g. 'ERR_TFRECORD_CRC', 'ERR_CSV_COLUMNS'. */
  readonly code: string
  /** The file the problem is in. */
  readonly file: string
  /** Byte offset of the bad record (binary files). */
  readonly offset?: number
  /** 1-based line (text files). */
  readonly line?: number
  /** What was wrong, without the location prefix. */
  readonly reason: string

  constructor (message: string, details: { code: string; file: string; reason: string; offset?: number; line?: number }) {
    super(message)
    this.name = 'DataFileError'
    this.code = details.code
    this.file = details.file
    this.reason = details.reason
    if (details.offset !== undefined) this.offset = details.offset
    if (details.line !== undefined) this.line = details.line
  }
}
