// results.jsonl: one JSON object per finished experiment cell, appended as each finishes,
// so an interrupted run keeps everything it finished and a re-run skips it. A line is
// written with a single append of the complete text. A torn last line (the process died
// mid-write) is cut off on open. A bad line elsewhere (a torn line that later appends
// followed, an edit) is skipped with a warning naming it: its cell counts as not done, so
// it is recomputed and appended, and the bad line never reaches a report.
import * as fs from 'node:fs'
import * as path from 'node:path'

export type ResultRow = Record<string, unknown> & { cell: string }

/** A line of results.jsonl that was not used, and why. */
export interface SkippedLine { line: number, reason: string }

export class ResultStore {
  readonly file: string
  /** Lines skipped when the file was opened (1-based line numbers). */
  readonly skipped: SkippedLine[] = []
  /** Cells recorded twice with different bench digests (the first row is used). */
  readonly conflicts: Array<{ cell: string, lines: [number, number], digests: [string, string] }> = []
  private readonly rows = new Map<string, ResultRow>()
  private readonly lineOf = new Map<string, number>()

  /** Opens (creating the folder if needed) `dir/results.jsonl`; `warn` hears about skipped lines. */
  constructor (dir: string, warn: (message: string) => void = () => {}) {
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
      warn(`${this.file}: the last line is incomplete (a run stopped while writing it); cut off`)
      fs.truncateSync(this.file, Buffer.byteLength(text.slice(0, end)))
    }
    const lines = text.slice(0, end).split('\n')
    lines.forEach((line, i) => {
      if (line.trim() === '') return
      let row: unknown
      try { row = JSON.parse(line) } catch (err) {
        this.skip(i + 1, `not valid JSON (${(err as Error).message})`, warn)
        return
      }
      if (row === null || typeof row !== 'object' || Array.isArray(row) || typeof (row as ResultRow).cell !== 'string') {
        this.skip(i + 1, 'not a result row (an object with a string "cell")', warn)
        return
      }
      const r = row as ResultRow
      const earlier = this.rows.get(r.cell)
      if (earlier !== undefined) {
        const a = String(earlier.bench_digest ?? '?'); const b = String(r.bench_digest ?? '?')
        const first = this.lineOf.get(r.cell) as number
        if (a !== b) {
          this.conflicts.push({ cell: r.cell, lines: [first, i + 1], digests: [a, b] })
          warn(`${this.file}:${i + 1}: cell ${r.cell} is also on line ${first}, computed on a different bench (digest ${b} vs ${a}); line ${first} is used`)
        } else {
          this.skip(i + 1, `a second row for cell ${r.cell} (line ${first} is used)`, warn)
        }
        return
      }
      this.rows.set(r.cell, r)
      this.lineOf.set(r.cell, i + 1)
    })
  }

  private skip (line: number, reason: string, warn: (message: string) => void): void {
    this.skipped.push({ line, reason })
    warn(`${this.file}:${line}: ${reason}; skipped (its cell counts as not done)`)
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
