// A small progress bar for long jobs (ingesting benchmark files, long experiments).
// On a TTY it redraws one line in place (at most 10 times a second) with percentage,
// throughput and ETA; elsewhere (logs, CI) it prints a plain line at 10%, 20%, ... 90%
// and a final line instead.

export interface ProgressBarOptions {
  /** Text before the bar, e.g. the file name. */
  label: string
  /** Total work (bytes or items); 0 when unknown (no percentage or ETA then). */
  total: number
  /** 'bytes' (default) formats amounts as KB/MB/GB, 'items' as plain counts. */
  unit?: 'bytes' | 'items'
  /** Where to draw (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  /** 'auto' (default): 'tty' when the stream is a TTY, else 'lines'. 'off': silent. */
  mode?: 'auto' | 'tty' | 'lines' | 'off'
  /** Clock in ms (tests). */
  now?: () => number
}

export function formatBytes (n: number): string {
  if (!Number.isFinite(n)) return '?'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let u = 0
  while (Math.abs(n) >= 1000 && u < units.length - 1) { n /= 1000; u++ }
  return u === 0 ? `${Math.round(n)} B` : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${units[u]}`
}

export function formatCount (n: number): string {
  if (!Number.isFinite(n)) return '?'
  return Math.round(n).toLocaleString('en-US')
}

/** Seconds as m:ss or h:mm:ss. */
export function formatDuration (seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

export class ProgressBar {
  private readonly label: string
  private readonly total: number
  private readonly unit: 'bytes' | 'items'
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  private readonly mode: 'tty' | 'lines' | 'off'
  private readonly now: () => number
  private readonly start: number
  private lastDraw = -Infinity
  private lastDecile = -1
  private done = 0
  private note = ''
  private finished = false
  private drawn = false

  constructor (options: ProgressBarOptions) {
    this.label = options.label
    this.total = Number.isFinite(options.total) && options.total > 0 ? options.total : 0
    this.unit = options.unit ?? 'bytes'
    this.stream = options.stream ?? process.stderr
    const mode = options.mode ?? 'auto'
    this.mode = mode === 'auto' ? (this.stream.isTTY ? 'tty' : 'lines') : mode
    this.now = options.now ?? (() => Date.now())
    this.start = this.now()
  }

  /** Records progress; redraws when due. `note` is appended (e.g. "12 bad records skipped"). */
  update (done: number, note?: string): void {
    if (this.finished) return
    this.done = done
    if (note !== undefined) this.note = note
    if (this.mode === 'off') return
    const t = this.now()
    if (this.mode === 'tty') {
      if (t - this.lastDraw < 100) return
      this.lastDraw = t
      this.drawTty(this.line(t))
    } else if (this.total > 0) {
      const decile = Math.min(10, Math.floor((done / this.total) * 10))
      if (decile > this.lastDecile && decile > 0 && decile < 10) {
        this.lastDecile = decile
        this.stream.write(this.line(t) + '\n')
      }
    }
  }

  /** Draws the final state and ends the line; `message` replaces the bar's details. */
  finish (message?: string): void {
    if (this.finished) return
    this.finished = true
    if (this.mode === 'off') return
    const text = message ?? this.line(this.now())
    if (this.mode === 'tty') this.drawTty(text)
    else this.stream.write(text)
    this.stream.write('\n')
  }

  /** Clears the bar (TTY) without a final line, e.g. before printing an error. */
  clear (): void {
    if (this.finished) return
    this.finished = true
    if (this.mode === 'tty' && this.drawn) this.stream.write('\r\x1b[K')
  }

  private amount (n: number): string {
    return this.unit === 'bytes' ? formatBytes(n) : formatCount(n)
  }

  /** The text of the current state (without control characters). */
  line (t = this.now()): string {
    const elapsed = Math.max((t - this.start) / 1000, 1e-9)
    const rate = this.done / elapsed
    const parts = [this.label]
    if (this.total > 0) {
      const frac = Math.min(1, Math.max(0, this.done / this.total))
      const width = 24
      const full = Math.round(frac * width)
      parts.push(`[${'#'.repeat(full)}${'-'.repeat(width - full)}]`, `${(frac * 100).toFixed(1).padStart(5)}%`,
        `${this.amount(this.done)}/${this.amount(this.total)}`)
    } else {
      parts.push(this.amount(this.done))
    }
    if (elapsed >= 0.2 && this.done > 0) {
      parts.push(`${this.amount(rate)}/s`)
      if (this.total > 0) {
        parts.push(this.done >= this.total ? `in ${formatDuration(elapsed)}` : `ETA ${formatDuration((this.total - this.done) / rate)}`)
      }
    }
    if (this.note) parts.push(this.note)
    return parts.join(' ')
  }

  private drawTty (text: string): void {
    const columns = this.stream.columns && this.stream.columns > 20 ? this.stream.columns - 1 : 200
    this.stream.write('\r' + (text.length > columns ? text.slice(0, columns - 1) + '…' : text) + '\x1b[K')
    this.drawn = true
  }
}

export interface StatusLineOptions {
  /** Where to draw (default process.stderr). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  /** 'auto' (default): draw only when the stream is a TTY. 'off': silent. */
  mode?: 'auto' | 'tty' | 'off'
}

/**
 * What a command is doing during a long step that prints nothing else ("building the
 * synthetic NAS-Bench-101 benchmark…"): one line on a TTY, replaced by the next `show` and
 * erased by `clear`, so the output that follows stays as it was. Silent outside a TTY (pipes,
 * logs), where a finished command's output should not be interleaved with transient text.
 */
export class StatusLine {
  private readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }
  private readonly on: boolean
  private shown = false

  constructor (options: StatusLineOptions = {}) {
    this.stream = options.stream ?? process.stderr
    const mode = options.mode ?? 'auto'
    this.on = mode === 'tty' || (mode === 'auto' && this.stream.isTTY === true)
  }

  /** Replaces the line with `text` and an ellipsis. */
  show (text: string): void {
    if (!this.on) return
    const columns = this.stream.columns && this.stream.columns > 20 ? this.stream.columns - 1 : 200
    const line = `${text}…`
    this.stream.write('\r' + (line.length > columns ? line.slice(0, columns - 1) + '…' : line) + '\x1b[K')
    this.shown = true
  }

  /** Erases the line (call before printing anything else to the same stream). */
  clear (): void {
    if (!this.shown) return
    this.stream.write('\r\x1b[K')
    this.shown = false
  }
}
