// `nasrank bpe grid`: a BPE table from the live trainer. Every setting of Ω (the whole
// Cartesian product, enumerated in Ω's order) × |G| random connected cells is trained once;
// each training is a cell of DIR/results.jsonl (recordedEvaluator), so an interrupted grid
// resumes where it stopped and a finished one is only re-written. The table (one row per
// (cell, setting): arch, one column per dimension of Ω, accuracy = best validation top-1 %,
// seconds = the training's CPU seconds) is what `--bpe table:<csv>` reads (lib/bpe/table.ts).
import * as fs from 'node:fs'
import type { BpeEvaluator } from './mip'
import { drawArchs } from './mip'
import { omegaSize, settingAt, settingKey, OmegaError } from './omega'
import { recordedEvaluator } from './record'

export interface GridOptions {
  /** |G|, cells trained under every setting (≥ 3: a BPE table needs 3 to rank). */
  archs: number
  /** Seed of the cells (drawArchs stream 1, as MIP's G). */
  seed?: number
  /** Folder of results.jsonl (resumable). */
  record: string
  /** Where the CSV goes. */
  csv: string
  signal?: AbortSignal
  /** After each setting: settings done, total, its key. */
  progress?: (done: number, total: number, key: string) => void
}

export interface GridResult {
  settings: number
  archs: number[]
  rows: number
  measured: number
  replayed: number
  /** False when interrupted (the CSV then holds the settings finished so far). */
  complete: boolean
  csv: string
}

/** The CSV of a grid (header + rows), in Ω's enumeration order, then G's order. */
export function gridCsv (evaluator: BpeEvaluator, rows: ReadonlyArray<{ setting: Int32Array, arch: number, accuracy: number, seconds: number }>): string {
  const dims = evaluator.omega.dims
  const lines = [['arch', ...dims.map(d => d.name), 'accuracy', 'seconds'].join(',')]
  for (const r of rows) {
    const arch = evaluator.describeArch(r.arch)
    if (/[",\n]/.test(arch)) throw new OmegaError(`bpe grid: architecture ${arch} cannot be written to CSV unquoted`)
    lines.push([arch, ...dims.map((d, i) => String(d.values[r.setting[i]])), String(r.accuracy), String(r.seconds)].join(','))
  }
  return lines.join('\n') + '\n'
}

/** Trains the grid (see the module comment); `evaluator` must price a training in seconds (the trainer with cost 'seconds'). */
export async function runGrid (evaluator: BpeEvaluator, options: GridOptions): Promise<GridResult> {
  if (!/s$/.test(evaluator.costUnit)) throw new OmegaError(`bpe grid: the evaluator must measure seconds, its cost unit is ${evaluator.costUnit}`)
  if (!Number.isInteger(options.archs) || options.archs < 3) throw new OmegaError(`--archs must be an integer ≥ 3 (a BPE table needs 3 architectures to rank), got ${options.archs}`)
  const omega = evaluator.omega
  const total = omegaSize(omega)
  const archs = drawArchs(evaluator.pool, options.archs, options.seed ?? 0)
  const rec = recordedEvaluator(evaluator, options.record)
  const rows: Array<{ setting: Int32Array, arch: number, accuracy: number, seconds: number }> = []
  let complete = true
  const stopped = (): boolean => options.signal?.aborted === true
  for (let k = 0; k < total; k++) {
    if (stopped()) { complete = false; break }
    const setting = settingAt(omega, k)
    const part: typeof rows = []
    // One cell at a time, so an interrupt waits for one training at most.
    for (const a of archs) {
      if (stopped()) { complete = false; break }
      const e = await rec.evaluate(setting, Int32Array.of(a))
      part.push({ setting, arch: a, accuracy: e.accuracy[0], seconds: (e.costs as Float64Array)[0] })
    }
    if (!complete) break
    rows.push(...part)
    options.progress?.(k + 1, total, settingKey(omega, setting))
  }
  fs.writeFileSync(options.csv, gridCsv(evaluator, rows))
  return { settings: rows.length / archs.length, archs: [...archs], rows: rows.length, measured: rec.measured, replayed: rec.replayed, complete, csv: options.csv }
}
