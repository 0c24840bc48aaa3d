// Shared pieces of the command line: the usage error, parsers for option values (each error
// names the option and echoes the value) and "did you mean" suggestions. Light on purpose:
// nothing here loads the native addon or tfjs, so every --help works without them.
import * as fs from 'node:fs'

/** Bad command-line usage: printed as one line with a pointer to --help, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** An integer >= min, e.g. `integer('--seeds', '20', 1)`. */
export function integer (flag: string, raw: string, min: number): number {
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be an integer >= ${min}, got '${raw}'`)
  return n
}

/** A finite number that passes `ok`; `requirement` says what ok means ('>= 0'). */
export function real (flag: string, raw: string, ok: (x: number) => boolean, requirement: string): number {
  const x = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new UsageError(`${flag} must be a number ${requirement}, got '${raw}'`)
  return x
}

/** A comma-separated list, each item parsed by `item` (empty items are an error). */
export function list<T> (flag: string, raw: string, item: (s: string) => T): T[] {
  const parts = raw.split(',').map(s => s.trim())
  if (parts.some(s => s === '')) throw new UsageError(`${flag} must be a comma-separated list without empty items, got '${raw}'`)
  return parts.map(item)
}

/** One of `choices`; the error lists them and suggests the nearest. */
export function choice<T extends string> (flag: string, raw: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(raw)) return raw as T
  throw new UsageError(`unknown ${flag} '${raw}' (${choices.join(', ')})${didYouMean(raw, choices)}`)
}

/** An output folder: may not exist yet, but may not be something other than a folder. */
export function outDir (flag: string, dir: string): string {
  if (dir === '') throw new UsageError(`${flag} must not be empty`)
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new UsageError(`${flag} ${dir} exists and is not a directory`)
  return dir
}

/** Damerau-Levenshtein distance (adjacent transpositions count as one edit). */
function editDistance (a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1)
    }
  }
  return d[a.length][b.length]
}

/**
 * " (did you mean X?)" for the candidates nearest to `word` (at most 2 edits and under 40 %
 * of the word, as commander suggests options), else "".
 */
export function didYouMean (word: string, candidates: readonly string[]): string {
  let best: string[] = []
  let bestDistance = Infinity
  for (const c of candidates) {
    const distance = editDistance(word, c)
    if (distance > 2 || distance / Math.max(word.length, c.length) >= 0.4) continue
    if (distance < bestDistance) { best = [c]; bestDistance = distance } else if (distance === bestDistance) best.push(c)
  }
  return best.length === 0 ? '' : ` (did you mean ${best.join(' or ')}?)`
}

/** What opening a benchmark does, for a status line while it runs (from the uri alone). */
export function openingStatus (uri: string): string {
  if (uri === 'synthetic-101') return 'building the synthetic NAS-Bench-101 benchmark (enumerating 423,624 cells, then the teacher; ~10 s)'
  if (uri === 'synthetic-201') return 'building the synthetic NAS-Bench-201 benchmark'
  if (uri.startsWith('nb101:')) return `opening NAS-Bench-101 ${uri.slice('nb101:'.length)}`
  if (uri.startsWith('nb201:')) return `reading NAS-Bench-201 table ${uri.slice('nb201:'.length)}`
  return `opening ${uri}`
}

/**
 * Ctrl-C for an experiment command: the first one aborts `signal` (finished cells are kept and
 * the report is written, marked partial); a second exits at once with 130. Call `dispose()`
 * when the run is over.
 */
export function interruptible (log: (line: string) => void): { signal: AbortSignal, dispose: () => void } {
  const controller = new AbortController()
  let interrupts = 0
  const onSigint = (): void => {
    if (++interrupts > 1) process.exit(130)
    log('interrupted: finished cells are saved; writing the report (Ctrl-C again to quit at once)')
    controller.abort(new Error('interrupted'))
  }
  process.on('SIGINT', onSigint)
  return { signal: controller.signal, dispose: () => { process.off('SIGINT', onSigint) } }
}
