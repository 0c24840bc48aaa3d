// The package's one seeded PRNG (mulberry32: 32-bit state, period 2^32, fast and good enough
// for sampling architectures), and the `{ seed, random }` option handling every randomised
// function shares: same seed => same result, on every platform.
import { describe } from './validate'

/** A source of uniform numbers in [0, 1). */
export type Random = () => number

/** Options accepted by randomised functions: a seed, or a generator to draw from (not both). */
export interface RandomOptions {
  /** Integer in [0, 2^32 - 1]; the default is 0, so an unseeded call is still reproducible. */
  seed?: number
  /** A generator returning numbers in [0, 1), e.g. one `mulberry32(seed)` shared across calls. */
  random?: Random
}

/** mulberry32: the generator the tests and benchmarks use too. */
export function mulberry32 (seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Checks a seed: an integer in [0, 2^32 - 1]. */
export function checkSeed (seed: unknown, fn: string, name = 'seed'): number {
  if (typeof seed !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(seed)}`)
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xFFFFFFFF) {
    throw new RangeError(`${fn}: ${name} must be an integer in [0, 4294967295], got ${seed}`)
  }
  return seed
}

/**
 * The generator a randomised function draws from: `options.random` (checked on every draw
 * to return a number in [0, 1)) or mulberry32(options.seed ?? 0).
 */
export function randomFrom (options: RandomOptions, fn: string): Random {
  if (options.random !== undefined) {
    if (options.seed !== undefined) throw new TypeError(`${fn}: give either options.seed or options.random, not both`)
    const user = options.random
    if (typeof user !== 'function') throw new TypeError(`${fn}: options.random must be a function returning numbers in [0, 1), got ${describe(user)}`)
    return () => {
      const r = user()
      if (typeof r !== 'number' || !(r >= 0 && r < 1)) {
        throw new RangeError(`${fn}: options.random() must return a number in [0, 1), got ${describe(r)}`)
      }
      return r
    }
  }
  return mulberry32(options.seed === undefined ? 0 : checkSeed(options.seed, fn, 'options.seed'))
}

/** A uniform integer in [0, n). */
export function randomInt (random: Random, n: number): number {
  return Math.floor(random() * n)
}
