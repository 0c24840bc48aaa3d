// results.jsonl: one JSON object per finished experiment cell, appended as each finishes,
// so an interrupted run keeps everything it finished and a re-run skips it. A line is
// written with a single append of the complete text; a torn last line (the process died
// mid-write) is detected on open and cut off, never parsed as a result.
import * as fs from 'node:fs'
import * as path from 'node:path'

export type ResultRow = Record<string, unknown> & { cell: string }

export class ResultStore {
  readonly file: string
  private readonly rows = new Map<string, ResultRow>()

  /** Opens (creating if needed) `dir/results.jsonl`. */
  constructor (dir: string) {
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
      throw new Error(`--out ${dir} exists and is not a directory`)
    }
    fs.mkdirSync(dir, { recursive: true })
    this.file = path.join(dir, 'results.jsonl')
    if (!fs.existsSync(this.file)) return
    const text = fs.readFileSync(this.file, 'utf8')
    let end = text.length
    if (text.length > 0 && !text.endsWith('\n')) {
      end = text.lastIndexOf('\n') + 1
      fs.truncateSync(this.file, Buffer.byteLength(text.slice(0, end)))
    }
    const lines = text.slice(0, end).split('\n')
    lines.forEach((line, i) => {
      if (line.trim() === '') return
      let row: unknown
      try { row = JSON.parse(line) } catch (err) {
        throw new Error(`${this.file}:${i + 1}: not valid JSON (${(err as Error).message}); remove the line or choose another --out`)
      }
      if (row === null || typeof row !== 'object' || typeof (row as ResultRow).cell !== 'string') {
        throw new Error(`${this.file}:${i + 1}: a result row must be an object with a string "cell"`)
      }
      this.rows.set((row as ResultRow).cell, row as ResultRow)
    })
  }

  has (cell: string): boolean { return this.rows.has(cell) }
  get (cell: string): ResultRow | undefined { return this.rows.get(cell) }
  all (): ResultRow[] { return [...this.rows.values()] }

  /** Appends a finished cell (replacing nothing: a cell is written once). */
  append (row: ResultRow): void {
    if (this.rows.has(row.cell)) throw new Error(`result for cell ${row.cell} already recorded`)
    fs.appendFileSync(this.file, JSON.stringify(row) + '\n')
    this.rows.set(row.cell, row)
  }
}

/** Writes a file atomically: a temporary sibling, then rename. */
export function writeFileAtomic (file: string, data: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    fs.writeFileSync(tmp, data)
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
}
