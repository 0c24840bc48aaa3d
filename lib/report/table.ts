// Plain-text tables for report.md and CSV files, plus the summary statistics they show.

/** Mean and sample standard deviation (sd 0 for a single value, NaN for none). */
export function meanSd (input: readonly number[]): { mean: number, sd: number, n: number } {
  // A NaN written to results.jsonl reads back as null: it stays NaN here, not 0.
  const values = input.map(v => typeof v === 'number' ? v : NaN)
  const n = values.length
  if (n === 0) return { mean: NaN, sd: NaN, n }
  const mean = values.reduce((s, v) => s + v, 0) / n
  const sd = n === 1 ? 0 : Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1))
  return { mean, sd, n }
}

/** "0.634 ± 0.021" with `digits` decimals; "—" when there is nothing to show. */
export function formatMeanSd (values: readonly number[], digits = 3): string {
  const { mean, sd, n } = meanSd(values)
  if (n === 0 || !Number.isFinite(mean)) return '—'
  return n === 1 ? mean.toFixed(digits) : `${mean.toFixed(digits)} ± ${sd.toFixed(digits)}`
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const escape = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
  const lines = [
    `| ${header.map(escape).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map(r => `| ${r.map(escape).join(' | ')} |`)
  ]
  return lines.join('\n') + '\n'
}

/** RFC 4180 CSV text (fields quoted when they contain a comma, quote or newline). */
export function csvText (header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const field = (v: string | number): string => {
    const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
  }
  return [header, ...rows].map(r => r.map(field).join(',')).join('\n') + '\n'
}
