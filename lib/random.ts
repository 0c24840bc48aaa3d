// The package's seeded PRNG: xoshiro128** (Blackman & Vigna) seeded through splitmix32.
// Same seed => same stream on every platform (pure 32-bit integer arithmetic, no Math.random).
// Everything that draws random numbers (shuffling, initialisation, augmentation, sampling)
// takes one of these, so a run is reproduced by its seed.

export interface Rng {
  /** Uniform double in [0, 1) with 53 random bits. */
  next(): number
  /** Uniform integer in [0, n) without modulo bias; n must be an integer in [1, 2^32]. */
  int(n: number): number
  /** Standard normal N(0, 1) (Box-Muller, no cached spare: one call = two uniforms). */
  normal(): number
  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T extends { length: number; [i: number]: any }>(array: T): T
  /** Uniform unsigned 32-bit integer (for deriving seeds of sub-streams). */
  uint32(): number
}

function splitmix32 (state: { s: number }): number {
  state.s = (state.s + 0x9e3779b9) | 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

const TWO32 = 4294967296

/**
 * A seeded generator. `seed` is any safe integer (negative too); its low and high 32-bit
 * halves both feed splitmix32, so seeds that differ only above bit 31 give different streams.
 */
export function createRng (seed: number): Rng {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) {
    throw new TypeError(`createRng: seed must be a safe integer, got ${typeof seed === 'number' ? seed : typeof seed}`)
  }
  const low = seed | 0
  const high = Math.floor(seed / TWO32) | 0
  const mix = { s: low ^ Math.imul(high, 0x632be5ab) }
  let s0 = splitmix32(mix) | 0
  let s1 = splitmix32(mix) | 0
  let s2 = splitmix32(mix) | 0
  let s3 = splitmix32(mix) | 0
  if ((s0 | s1 | s2 | s3) === 0) s0 = 1 // the all-zero state is a fixed point

  function uint32 (): number {
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0
    const t = s1 << 9
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotl(s3, 11)
    return result
  }

  function next (): number {
    const a = uint32() >>> 5 // 27 bits
    const b = uint32() >>> 6 // 26 bits
    return (a * 67108864 + b) / 9007199254740992
  }

  function int (n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO32) throw new RangeError(`Rng.int: n must be an integer in [1, 2^32], got ${n}`)
    // Rejection sampling: accept draws below the largest multiple of n that fits in 2^32.
    const limit = TWO32 - (TWO32 % n)
    for (;;) {
      const u = uint32()
      if (u < limit) return u % n
    }
  }

  function normal (): number {
    const u = 1 - next() // (0, 1]
    const v = next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  function shuffle<T extends { length: number; [i: number]: any }> (array: T): T {
    for (let i = array.length - 1; i > 0; i--) {
      const j = int(i + 1)
      const tmp = array[i]
      array[i] = array[j]
      array[j] = tmp
    }
    return array
  }

  return { next, int, normal, shuffle, uint32 }
}

function rotl (x: number, k: number): number {
  return (x << k) | (x >>> (32 - k))
}
