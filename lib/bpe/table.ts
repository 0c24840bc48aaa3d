// A BPE table as an evaluator: a CSV with one row per (architecture, setting) — columns `arch`
// (any string), one column per dimension of Ω it varies (names from BPE_DIMS), `accuracy` and
// `seconds` (training time of that architecture under that setting) — e.g. a grid trained on
// a GPU server. MIP samples only settings present; G is drawn from the architectures measured
// under every setting. f is the setting given (`full`), else the most expensive one present (by
// mean seconds). Eq. 2 needs the cost of settings absent from the table (the anchors), so the
// FLOPs stand-in is a power law fitted to the measured times: log s = a + Σ b_i·log v_i over
// the numeric dimensions (fp and cutout as 0/1 indicators), least squares over the settings.
import * as fs from 'node:fs'
import { DataFileError } from '../bench/errors'
import { parseCsv } from '../bench/table'
import type { BpeEvaluator } from './mip'
import { fitPowerLaw } from './cost-model'
import { BPE_DIMS, checkOmega, settingIndex, settingKey, type BpeDimName, type Omega } from './omega'

export interface BpeTable {
  file: string
  omega: Omega
  archs: string[]
  /** accuracy[settingIndex] → per-arch accuracy (NaN: not measured), seconds likewise. */
  accuracy: Map<number, Float64Array>
  seconds: Map<number, Float64Array>
}

function fail (file: string, line: number | undefined, reason: string): never {
  throw new DataFileError(`BPE table ${file}${line !== undefined ? `:${line}` : ''}: ${reason}`, { code: 'ERR_BPE_TABLE', file, reason, ...(line !== undefined ? { line } : {}) })
}

/** Reads and checks a BPE table (errors name the file, line and column). */
export function readBpeTable (file: string, text = fs.readFileSync(file, 'utf8')): BpeTable {
  const { rows, lines } = parseCsv(text, file)
  if (rows.length < 2) fail(file, undefined, 'needs a header line and at least one row')
  const header = rows[0].map(h => h.trim())
  const col = (name: string): number => header.indexOf(name)
  for (const need of ['arch', 'accuracy', 'seconds']) if (col(need) < 0) fail(file, lines[0], `no '${need}' column (columns: ${header.join(', ')})`)
  const dimCols = header.filter(h => !['arch', 'accuracy', 'seconds'].includes(h))
  for (const h of dimCols) if (!(BPE_DIMS as readonly string[]).includes(h)) fail(file, lines[0], `unknown column '${h}' (dimensions: ${BPE_DIMS.join(', ')}; and arch, accuracy, seconds)`)
  if (dimCols.length === 0) fail(file, lines[0], 'no dimension column')
  const num = (raw: string | undefined, name: string, line: number): number => {
    const v = raw === undefined || raw.trim() === '' ? NaN : Number(raw)
    if (!Number.isFinite(v)) fail(file, line, `column '${name}' is ${JSON.stringify(raw ?? '')}, not a finite number`)
    return v
  }
  const parsed = rows.slice(1).map((r, k) => {
    const line = lines[k + 1]
    if (r.length !== header.length) fail(file, line, `${r.length} fields, the header has ${header.length}`)
    const arch = r[col('arch')].trim()
    if (arch === '') fail(file, line, 'empty arch')
    return { line, arch, dims: dimCols.map(h => num(r[col(h)], h, line)), accuracy: num(r[col('accuracy')], 'accuracy', line), seconds: num(r[col('seconds')], 'seconds', line) }
  })
  const omega = checkOmega({ dims: dimCols.map((h, i) => ({ name: h as BpeDimName, values: [...new Set(parsed.map(p => p.dims[i]))].sort((a, b) => a - b) })) }, `BPE table ${file}`)
  const archs = [...new Set(parsed.map(p => p.arch))]
  const archId = new Map(archs.map((a, i) => [a, i]))
  const accuracy = new Map<number, Float64Array>()
  const seconds = new Map<number, Float64Array>()
  for (const p of parsed) {
    const s = p.dims.map((v, i) => omega.dims[i].values.indexOf(v))
    const idx = settingIndex(omega, s)
    if (!accuracy.has(idx)) { accuracy.set(idx, new Float64Array(archs.length).fill(NaN)); seconds.set(idx, new Float64Array(archs.length).fill(NaN)) }
    const a = archId.get(p.arch) as number
    const acc = accuracy.get(idx) as Float64Array
    if (!Number.isNaN(acc[a])) fail(file, p.line, `duplicate row for arch ${p.arch} at ${settingKey(omega, s)}`)
    if (p.seconds <= 0) fail(file, p.line, `seconds must be > 0, got ${p.seconds}`)
    acc[a] = p.accuracy
    ;(seconds.get(idx) as Float64Array)[a] = p.seconds
  }
  return { file, omega, archs, accuracy, seconds }
}

/** The table as an evaluator (see the module comment). */
export function tableBpe (table: BpeTable, options: { full?: Partial<Record<BpeDimName, number>> } = {}): BpeEvaluator {
  const { omega } = table
  const settings = [...table.accuracy.keys()]
  // Architectures measured under every setting present.
  const pool: number[] = []
  for (let a = 0; a < table.archs.length; a++) if (settings.every(s => !Number.isNaN((table.accuracy.get(s) as Float64Array)[a]))) pool.push(a)
  if (pool.length < 3) fail(table.file, undefined, `only ${pool.length} architectures are measured under every setting present (MIP needs at least 3)`)
  const meanSeconds = (s: number): number => pool.reduce((acc, a) => acc + (table.seconds.get(s) as Float64Array)[a], 0) / pool.length
  let full: number
  if (options.full !== undefined) {
    const s = omega.dims.map(d => {
      const v = options.full?.[d.name]
      const j = v === undefined ? -1 : d.values.indexOf(v)
      if (j < 0) fail(table.file, undefined, `--full: ${d.name} ${String(v)} is not among the table's values (${d.values.join(', ')})`)
      return j
    })
    full = settingIndex(omega, s)
    if (!table.accuracy.has(full)) fail(table.file, undefined, `--full: the table has no rows at ${settingKey(omega, s)}`)
  } else full = settings.reduce((best, s) => (meanSeconds(s) > meanSeconds(best) ? s : best), settings[0])
  const settingRows = settings.map(k => {
    const s = omega.dims.map(() => 0)
    let r = k
    for (let i = omega.dims.length - 1; i >= 0; i--) { const n = omega.dims[i].values.length; s[i] = r % n; r = Math.floor(r / n) }
    return Int32Array.from(s)
  })
  const law = fitPowerLaw(omega, settingRows.map((s, k) => ({ setting: s, seconds: meanSeconds(settings[k]) })))
  const fullSetting = settingRows[settings.indexOf(full)]
  const warnings: string[] = []
  const dearer = settings.filter(s => s !== full && meanSeconds(s) > meanSeconds(full))
  if (dearer.length > 0) {
    const worst = dearer.reduce((a, b) => (meanSeconds(b) > meanSeconds(a) ? b : a))
    warnings.push(`the full setting f (${settingKey(omega, fullSetting)}, ${meanSeconds(full).toFixed(1)} s per architecture) is cheaper than ${dearer.length} setting(s) of the table, e.g. ${settingKey(omega, settingRows[settings.indexOf(worst)])} (${meanSeconds(worst).toFixed(1)} s)`)
  }
  const available = (s: Int32Array): boolean => settingIndex(omega, s) !== full && table.accuracy.has(settingIndex(omega, s))
  return {
    name: `table:${table.file}`,
    synthetic: false,
    omega,
    costUnit: 's',
    fullLabel: `the table's ${settingKey(omega, fullSetting)}`,
    pool: Int32Array.from(pool),
    describeArch: id => table.archs[id],
    full: async archs => ({ accuracy: Float64Array.from(archs, a => (table.accuracy.get(full) as Float64Array)[a]), cost: archs.reduce((acc, a) => acc + (table.seconds.get(full) as Float64Array)[a], 0) / archs.length, costs: Float64Array.from(archs, a => (table.seconds.get(full) as Float64Array)[a]) }),
    evaluate: async (setting, archs) => {
      const idx = settingIndex(omega, setting)
      const acc = table.accuracy.get(idx)
      if (acc === undefined) throw new RangeError(`${table.file}: no rows at ${settingKey(omega, setting)}`)
      const sec = table.seconds.get(idx) as Float64Array
      return { accuracy: Float64Array.from(archs, a => acc[a]), cost: archs.reduce((x, a) => x + sec[a], 0) / archs.length, costs: Float64Array.from(archs, a => sec[a]) }
    },
    flops: setting => law.predict(setting),
    available,
    warnings
  }
}
