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

interface Group { rows: Map<number, ResultRow>, parts: number, lines: number[], digest: string }

/**
 * The rows of finished cells. A cell's result is one row, or several (`part` 0…`parts`−1 of
 * `parts`, e.g. one per search checkpoint) written by one append; a cell counts as done when
 * all its rows are there.
 */
export class ResultStore {
  readonly file: string
  /** Lines skipped when the file was opened (1-based line numbers). */
  readonly skipped: SkippedLine[] = []
  /** Cells recorded twice with different bench digests (the first rows are used). */
  readonly conflicts: Array<{ cell: string, lines: [number, number], digests: [string, string] }> = []
  private readonly rows = new Map<string, ResultRow[]>()
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
    if (lines[lines.length - 1] === '') lines.pop()
    // A cell's rows are written by one append, so they are consecutive lines: a group. A bad
    // line inside a group is skipped and leaves the group incomplete.
    let current: (Group & { cell: string }) | undefined
    let cut = -1
    const close = (last: boolean): void => {
      const g = current
      current = undefined
      if (g === undefined) return
      if (g.rows.size < g.parts) {
        if (last) {
          cut = g.lines[0]
          warn(`${this.file}:${g.lines[0]}: cell ${g.cell} has ${g.rows.size} of its ${g.parts} rows (a run stopped while writing them); cut off`)
        } else this.dropGroup(g.cell, g, `${g.rows.size} of its ${g.parts} rows`, warn)
        return
      }
      const first = this.rows.get(g.cell)
      if (first !== undefined) {
        const firstLine = this.lineOf.get(g.cell) as number
        const digest = String(first[0].bench_digest ?? '?')
        if (digest !== g.digest) {
          this.conflicts.push({ cell: g.cell, lines: [firstLine, g.lines[0]], digests: [digest, g.digest] })
          warn(`${this.file}:${g.lines[0]}: cell ${g.cell} is also on line ${firstLine}, computed on a different bench (digest ${g.digest} vs ${digest}); line ${firstLine} is used`)
        } else this.dropGroup(g.cell, g, `recorded again (line ${firstLine} is used)`, warn)
        return
      }
      this.rows.set(g.cell, Array.from({ length: g.parts }, (_, k) => g.rows.get(k) as ResultRow))
      this.lineOf.set(g.cell, g.lines[0])
    }
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
      const multi = r.parts !== undefined
      const parts = multi ? r.parts as number : 1
      const part = multi ? r.part as number : 0
      if (!Number.isInteger(parts) || parts < 1 || !Number.isInteger(part) || part < 0 || part >= parts) {
        this.skip(i + 1, `part ${String(r.part)} of ${String(r.parts)} is not a valid part of a cell`, warn)
        return
      }
      if (current === undefined || current.cell !== r.cell || current.parts !== parts || current.rows.has(part) || current.rows.size === parts) {
        close(false)
        current = { cell: r.cell, rows: new Map(), parts, lines: [], digest: String(r.bench_digest ?? '?') }
      }
      current.rows.set(part, r)
      current.lines.push(i + 1)
    })
    close(true)
    if (cut > 0) fs.truncateSync(this.file, Buffer.byteLength(lines.slice(0, cut - 1).map(l => l + '\n').join('')))
  }

  private dropGroup (cell: string, g: Group, why: string, warn: (message: string) => void): void {
    const span = g.lines.length === 1 ? `line ${g.lines[0]}` : `lines ${g.lines[0]}–${g.lines[g.lines.length - 1]}`
    for (const line of g.lines) this.skipped.push({ line, reason: `cell ${cell}: ${why}` })
    warn(`${this.file}: ${span}: cell ${cell}: ${why}; skipped`)
  }

  private skip (line: number, reason: string, warn: (message: string) => void): void {
    this.skipped.push({ line, reason })
    warn(`${this.file}:${line}: ${reason}; skipped (its cell counts as not done)`)
  }

  has (cell: string): boolean { return this.rows.has(cell) }
  /** The rows of a finished cell (one, or its parts in order). */
  get (cell: string): ResultRow[] | undefined { return this.rows.get(cell) }
  all (): ResultRow[] { return [...this.rows.values()].flat() }

  /** Appends a finished cell's row(s) in one write (replacing nothing: a cell is written once). */
  append (rows: ResultRow | ResultRow[]): void {
    const list = Array.isArray(rows) ? rows : [rows]
    if (list.length === 0) throw new Error('a cell must have at least one row')
    const cell = list[0].cell
    if (list.some(r => r.cell !== cell)) throw new Error('rows appended together must belong to one cell')
    if (this.rows.has(cell)) throw new Error(`result for cell ${cell} already recorded`)
    const lines = list.map(r => JSON.stringify(r))
    fs.appendFileSync(this.file, lines.map(l => l + '\n').join(''))
    // Kept as read back from the file (NaN → null, typed arrays → objects), so a report reads the same rows however they arrived.
    this.rows.set(cell, lines.map(l => JSON.parse(l) as ResultRow))
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
