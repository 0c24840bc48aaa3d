// Argument checks shared by the public API. Messages always start with the function name
// and name the offending argument; numeric contents (finiteness, ranges) are checked by
// the addon, which reports the index of the bad element.

export type NumericArray = ArrayLike<number> | Float64Array | Float32Array

/** Most worker threads one native call may use (setThreads, `threads` options, NASRANK_THREADS). */
export const MAX_THREADS = 256

/**
 * Whether a typed array's buffer was detached (transferred): it then reads as empty, and
 * copying it throws V8's own message, so callers refuse it by name first.
 */
export function isDetached (view: ArrayBufferView): boolean {
  const buffer = view.buffer as ArrayBuffer & { detached?: boolean }
  if (typeof buffer.detached === 'boolean') return buffer.detached
  if (view.byteLength !== 0 || buffer.byteLength !== 0) return false
  try {
    // eslint-disable-next-line no-new
    new Uint8Array(buffer, 0, 0)
    return false
  } catch {
    return true
  }
}

/** Converts a number array or numeric typed array to a Float64Array (no copy if it is one). */
export function toFloat64 (value: unknown, fn: string, name: string): Float64Array {
  if (ArrayBuffer.isView(value) && isDetached(value)) throw new TypeError(`${fn}: ${name} is detached (its ArrayBuffer was transferred)`)
  if (value instanceof Float64Array) return value
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    if (value instanceof BigInt64Array || value instanceof BigUint64Array) {
      throw new TypeError(`${fn}: ${name} must hold numbers, got a ${value.constructor.name}`)
    }
    return Float64Array.from(value as unknown as ArrayLike<number>)
  }
  if (Array.isArray(value)) {
    const out = new Float64Array(value.length)
    for (let i = 0; i < value.length; i++) {
      const v = value[i]
      if (typeof v !== 'number') throw new TypeError(`${fn}: ${name}[${i}] must be a number, got ${describe(v)}`)
      out[i] = v
    }
    return out
  }
  throw new TypeError(`${fn}: ${name} must be an array of numbers or a numeric typed array, got ${describe(value)}`)
}

export function describe (v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'undefined'
  if (Array.isArray(v)) return 'an array'
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}`
  return `${typeof v} ${String(v)}`
}

/** Checks an options bag: an object (or undefined) with only the given keys. */
export function checkOptions<T extends object> (options: unknown, fn: string, allowed: readonly string[]): Partial<T> {
  if (options === undefined) return {}
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${fn}: options must be an object, got ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      throw new TypeError(`${fn}: unknown option '${key}' (known: ${allowed.join(', ')})`)
    }
  }
  return options as Partial<T>
}

export function oneOf<T extends string> (value: unknown, fallback: T, choices: readonly T[], fn: string, name: string): T {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw new TypeError(`${fn}: ${name} must be one of ${choices.map(c => `'${c}'`).join(', ')}, got ${describe(value)}`)
  }
  return value as T
}

export function finiteNumber (value: unknown, fallback: number, fn: string, name: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(value)}`)
  if (!Number.isFinite(value)) throw new RangeError(`${fn}: ${name} must be finite, got ${value}`)
  return value
}

export function boolean (value: unknown, fallback: boolean, fn: string, name: string): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`${fn}: ${name} must be a boolean, got ${describe(value)}`)
  return value
}

/** An integer in [min, max], or `fallback` when undefined. */
export function integerIn (value: unknown, fallback: number, fn: string, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) {
    // A required argument passes an out-of-range fallback: say what was given, not "got 0".
    if (fallback >= min && fallback <= max) return fallback
    throw new TypeError(`${fn}: ${name} must be an integer in [${min}, ${max}], got undefined`)
  }
  if (typeof value !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(value)}`)
  if (!Number.isInteger(value) || value < min || value > max) throw new RangeError(`${fn}: ${name} must be an integer in [${min}, ${max}], got ${value}`)
  return value
}

/** A native call's `threads` option: an integer in [1, MAX_THREADS], or undefined (the global setting). */
export function threadsOption (value: unknown, fn: string): number | undefined {
  return value === undefined ? undefined : integerIn(value, 1, fn, 'threads', 1, MAX_THREADS)
}
