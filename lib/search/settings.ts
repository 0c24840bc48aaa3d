// Settings of search methods: validated at the boundary (factory call), frozen, recorded in
// every result.
import { checkOptions, describe } from '../validate'

export function readSettings<T extends object> (settings: unknown, fn: string, keys: readonly string[]): Partial<T> {
  return checkOptions<T>(settings, fn, keys)
}

/** An integer setting in [min, max], or its default. */
export function intSetting (value: unknown, fallback: number, fn: string, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${fn}: settings.${name} must be a number, got ${describe(value)}`)
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${fn}: settings.${name} must be an integer in [${min}, ${max}], got ${value}`)
  return value
}

/** A finite number setting in (min, max], or its default. */
export function numberSetting (value: unknown, fallback: number, fn: string, name: string, min: number, max = Infinity): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${fn}: settings.${name} must be a number, got ${describe(value)}`)
  if (!Number.isFinite(value) || !(value > min) || value > max) throw new RangeError(`${fn}: settings.${name} must be a finite number in (${min}, ${max}], got ${value}`)
  return value
}
