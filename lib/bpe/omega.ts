// Ω, the space of budgeted performance estimators (BPEs; Zheng et al., "Rethinking performance
// estimation in NAS"): training settings as the Cartesian product of a few dimensions, each
// with a finite list of values. A setting is held as one value index per dimension.
import { describe } from '../validate'

export const BPE_DIMS = ['epochs', 'batch', 'lr', 'layers', 'fp', 'channels', 'cutout', 'image'] as const
export type BpeDimName = typeof BPE_DIMS[number]

export interface BpeDim {
  name: BpeDimName
  /** The values, as given (the order of the reports); at least one, distinct, finite. */
  values: readonly number[]
}

export interface Omega {
  dims: readonly BpeDim[]
}

/** The paper's Ω (the settings files' values; DARTS search space, CIFAR-10): 81,920 settings. */
export const PAPER_OMEGA: Omega = Object.freeze({
  dims: Object.freeze([
    { name: 'epochs', values: [10, 15, 20, 25, 30, 50, 100, 300] },
    { name: 'batch', values: [96, 128, 256, 512, 1024] },
    { name: 'lr', values: [0.025, 0.03, 0.06, 0.1] },
    { name: 'layers', values: [6, 8, 10, 12, 14, 16, 20, 24] },
    { name: 'fp', values: [16, 32] },
    { name: 'channels', values: [8, 10, 12, 14, 16, 24, 36, 64] },
    { name: 'cutout', values: [0, 16] },
    { name: 'image', values: [16, 32] }
  ].map(d => Object.freeze({ name: d.name as BpeDimName, values: Object.freeze(d.values) })))
})

const INTEGER_DIMS: ReadonlySet<BpeDimName> = new Set(['epochs', 'batch', 'layers', 'channels', 'image', 'cutout'])

/** Thrown for a bad Ω or setting: the message names the option. */
export class OmegaError extends RangeError {
  override readonly name = 'OmegaError'
}

/**
 * Checks an Ω (e.g. parsed from --omega): known, distinct dimensions; non-empty lists of
 * distinct finite values; epochs/batch/layers/channels/image integers ≥ 1; cutout an integer
 * ≥ 0 and not above the smallest image side; fp 16 or 32; lr > 0.
 */
export function checkOmega (omega: unknown, option = 'omega'): Omega {
  const o = omega as Omega
  if (o === null || typeof o !== 'object' || !Array.isArray(o.dims) || o.dims.length === 0) throw new OmegaError(`${option}: give at least one dimension`)
  const seen = new Set<string>()
  for (const dim of o.dims) {
    if (dim === null || typeof dim !== 'object' || !(BPE_DIMS as readonly string[]).includes(dim.name)) {
      throw new OmegaError(`${option}: unknown dimension '${String((dim as BpeDim | null)?.name)}' (known: ${BPE_DIMS.join(', ')})`)
    }
    if (seen.has(dim.name)) throw new OmegaError(`${option}: dimension '${dim.name}' is given twice`)
    seen.add(dim.name)
    if (!Array.isArray(dim.values) || dim.values.length === 0) throw new OmegaError(`${option}: ${dim.name} has no values`)
    const values = new Set<number>()
    for (const v of dim.values) {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new OmegaError(`${option}: ${dim.name} value ${describe(v)} is not a finite number`)
      if (values.has(v)) throw new OmegaError(`${option}: ${dim.name} value ${v} is given twice`)
      values.add(v)
      if (INTEGER_DIMS.has(dim.name) && (!Number.isInteger(v) || v < (dim.name === 'cutout' ? 0 : 1))) {
        throw new OmegaError(`${option}: ${dim.name} values must be integers ≥ ${dim.name === 'cutout' ? 0 : 1}, got ${v}`)
      }
      if (dim.name === 'fp' && v !== 16 && v !== 32) throw new OmegaError(`${option}: fp values must be 16 or 32, got ${v}`)
      if (dim.name === 'lr' && !(v > 0)) throw new OmegaError(`${option}: lr values must be > 0, got ${v}`)
    }
  }
  const cutout = o.dims.find(d => d.name === 'cutout')
  const image = o.dims.find(d => d.name === 'image')
  if (cutout !== undefined && image !== undefined) {
    const smallest = Math.min(...image.values)
    const big = cutout.values.find((c: number) => c > smallest)
    if (big !== undefined) throw new OmegaError(`${option}: cutout ${big} is larger than the image side ${smallest}`)
  }
  return o
}

/** Number of settings in Ω. */
export function omegaSize (omega: Omega): number {
  return omega.dims.reduce((n, d) => n * d.values.length, 1)
}

/** A setting's values by dimension name. */
export function settingValues (omega: Omega, setting: ArrayLike<number>): Partial<Record<BpeDimName, number>> {
  const out: Partial<Record<BpeDimName, number>> = {}
  omega.dims.forEach((d, i) => { out[d.name] = d.values[setting[i]] })
  return out
}

/** A stable, readable key: 'epochs=10,batch=128,…' in Ω's order. */
export function settingKey (omega: Omega, setting: ArrayLike<number>): string {
  return omega.dims.map((d, i) => `${d.name}=${d.values[setting[i]]}`).join(',')
}

/** The value indices of a setting given by values (every dimension of Ω; errors name the dimension). */
export function settingFromValues (omega: Omega, values: Partial<Record<string, number>>, option = 'setting'): Int32Array {
  for (const k of Object.keys(values)) {
    if (!omega.dims.some(d => d.name === k)) throw new OmegaError(`${option}: unknown dimension '${k}' (Ω has ${omega.dims.map(d => d.name).join(', ')})`)
  }
  return Int32Array.from(omega.dims.map(d => {
    const v = values[d.name]
    if (v === undefined) throw new OmegaError(`${option}: no value for ${d.name}`)
    const j = d.values.indexOf(v)
    if (j < 0) throw new OmegaError(`${option}: ${d.name} ${v} is not among Ω's values (${d.values.join(', ')})`)
    return j
  }))
}

/** Index of a setting in Ω's enumeration (first dimension slowest). */
export function settingIndex (omega: Omega, setting: ArrayLike<number>): number {
  let k = 0
  omega.dims.forEach((d, i) => { k = k * d.values.length + setting[i] })
  return k
}

/** The setting with enumeration index k. */
export function settingAt (omega: Omega, k: number): Int32Array {
  const out = new Int32Array(omega.dims.length)
  for (let i = omega.dims.length - 1; i >= 0; i--) {
    const n = omega.dims[i].values.length
    out[i] = k % n
    k = Math.floor(k / n)
  }
  return out
}

/**
 * Parses '--omega epochs=1,2,4;batch=64,128' (dimensions separated by ';', values by ',')
 * and checks it (errors name the option).
 */
export function parseOmega (text: string, option = '--omega'): Omega {
  const dims: BpeDim[] = text.split(';').map(part => {
    const m = /^\s*([a-z]+)\s*=\s*(.*)$/.exec(part)
    if (m === null) throw new OmegaError(`${option}: expected 'dim=v1,v2,…' separated by ';', got '${part}'`)
    const values = m[2].split(',').map(s => s.trim())
    if (values.some(s => s === '')) throw new OmegaError(`${option}: ${m[1]} has an empty value in '${m[2]}'`)
    return { name: m[1] as BpeDimName, values: values.map(Number) }
  })
  return checkOmega({ dims }, option)
}
