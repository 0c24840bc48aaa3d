// The package's one seeded PRNG: xoshiro128** (Blackman & Vigna) on four 32-bit words,
// seeded through murmur3's fmix32 and splitmix32. native/random.h is the same generator bit
// for bit, so native kernels that draw (the ReNAS augmentation) reproduce this one.
import { describe } from './validate'

const TWO32 = 4294967296

function fmix32 (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85EBCA6B)
  h ^= h >>> 13
  h = Math.imul(h, 0xC2B2AE35)
  h ^= h >>> 16
  return h >>> 0
}

function rotl (x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0
}

/** Checks a seed: a non-negative safe integer (0 … 2^53 − 1). */
export function checkSeed (seed: unknown, fn: string, name = 'seed'): number {
  if (typeof seed !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(seed)}`)
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`${fn}: ${name} must be an integer in [0, 2^53 - 1], got ${seed}`)
  return seed
}

/**
 * A seeded pseudo-random generator (xoshiro128**, period 2^128 − 1). Same seed and stream ⇒
 * the same sequence on every platform. `stream` (a uint32) selects an independent sequence
 * for the same seed, e.g. one per item of a batch.
 */
export class Random {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  constructor (seed = 0, stream = 0) {
    checkSeed(seed, 'Random', 'seed')
    if (!Number.isInteger(stream) || stream < 0 || stream >= TWO32) throw new RangeError(`Random: stream must be an integer in [0, 2^32 - 1], got ${stream}`)
    const lo = seed % TWO32
    const hi = Math.floor(seed / TWO32)
    let z = fmix32((lo + 0x9E3779B9) >>> 0)
    z = fmix32(((z ^ hi) + 0x7F4A7C15) >>> 0)
    z = fmix32(((z ^ stream) + 0x2545F491) >>> 0)
    const words: number[] = []
    for (let k = 0; k < 4; k++) {
      z = (z + 0x9E3779B9) >>> 0
      words.push(fmix32(z))
    }
    if ((words[0] | words[1] | words[2] | words[3]) === 0) words[0] = 1
    ;[this.s0, this.s1, this.s2, this.s3] = words
  }

  /** Accepts a Random (used as is, so the caller's sequence advances) or a seed. */
  static from (rng: Random | number | undefined, fn: string, fallbackSeed = 0): Random {
    if (rng instanceof Random) return rng
    if (rng === undefined) return new Random(fallbackSeed)
    return new Random(checkSeed(rng, fn, 'seed'))
  }

  /** The next 32 random bits as an unsigned integer. */
  uint32 (): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0
    const t = (this.s1 << 9) >>> 0
    this.s2 = (this.s2 ^ this.s0) >>> 0
    this.s3 = (this.s3 ^ this.s1) >>> 0
    this.s1 = (this.s1 ^ this.s2) >>> 0
    this.s0 = (this.s0 ^ this.s3) >>> 0
    this.s2 = (this.s2 ^ t) >>> 0
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform in [0, 1) with 53 random bits (two draws). */
  float (): number {
    const a = this.uint32() >>> 5
    const b = this.uint32() >>> 6
    return (a * 67108864 + b) / 9007199254740992
  }

  /** Uniform integer in [0, n), n an integer in [1, 2^32]; unbiased (rejection). */
  int (n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO32) throw new RangeError(`Random.int: n must be an integer in [1, 2^32], got ${n}`)
    const limit = TWO32 - (TWO32 % n)
    for (;;) {
      const x = this.uint32()
      if (x < limit) return x % n
    }
  }

  /** A standard normal draw (Box-Muller on two uniforms; no cached spare). */
  normal (): number {
    const u = 1 - this.float()  // (0, 1]
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float())
  }

  /** true with probability p (one float draw). */
  bernoulli (p: number): boolean {
    return this.float() < p
  }

  /** Shuffles an array in place (Fisher–Yates from the end) and returns it. */
  shuffle<T, A extends { length: number; [i: number]: T }> (items: A): A {
    for (let i = items.length - 1; i >= 1; i--) {
      const j = this.int(i + 1)
      const tmp = items[i]; items[i] = items[j]; items[j] = tmp
    }
    return items
  }

  /** A new generator seeded from this one's next draws (independent sequence). */
  fork (): Random {
    return new Random(this.uint32() * 2097152 + (this.uint32() >>> 11), 0)
  }

  /** The generator's state: four uint32 words (for checkpoints; Random.fromState restores it). */
  state (): Uint32Array { return Uint32Array.of(this.s0, this.s1, this.s2, this.s3) }

  /** A generator in a saved state (from state(), or its words as a plain array); it continues the saved sequence. */
  static fromState (words: unknown): Random {
    const state = words instanceof Uint32Array ? Array.from(words) : words
    if (!Array.isArray(state) || state.length !== 4 || !state.every(w => Number.isInteger(w) && w >= 0 && w < TWO32)) {
      throw new RangeError(`Random.fromState: state must be four integers in [0, 2^32 - 1], got ${describe(words)}`)
    }
    if (state.every(w => w === 0)) throw new RangeError('Random.fromState: the all-zero state is not a state of this generator')
    const r = Object.create(Random.prototype) as Random
    r.s0 = state[0]; r.s1 = state[1]; r.s2 = state[2]; r.s3 = state[3]
    return r
  }

  /** Continues from a state of {@link state} (e.g. one a native kernel advanced). */
  setState (state: ArrayLike<number>): void {
    if (state.length !== 4) throw new RangeError(`Random.setState: state must hold 4 words, got ${state.length}`)
    const w = Array.from({ length: 4 }, (_, k) => state[k])
    if (w.some(v => !Number.isInteger(v) || v < 0 || v >= TWO32)) throw new RangeError('Random.setState: state words must be integers in [0, 2^32)')
    if ((w[0] | w[1] | w[2] | w[3]) === 0) throw new RangeError('Random.setState: the all-zero state is not a state of this generator')
    ;[this.s0, this.s1, this.s2, this.s3] = w
  }

  /** A copy with the same state (both then produce the same sequence). */
  clone (): Random {
    const copy = Object.create(Random.prototype) as Random
    copy.s0 = this.s0; copy.s1 = this.s1; copy.s2 = this.s2; copy.s3 = this.s3
    return copy
  }
}

/** Options accepted by randomised functions: a seed, or a generator to draw from (not both). */
export interface RandomOptions {
  /** Non-negative integer seed; the default is 0, so an unseeded call is still reproducible. */
  seed?: number
  /** A generator to draw from (its sequence advances), e.g. one `new Random(seed)` shared across calls. */
  random?: Random
}

/** The generator an options bag asks for: `options.random`, else `new Random(options.seed ?? 0)`. */
export function randomFrom (options: RandomOptions, fn: string): Random {
  if (options.random !== undefined) {
    if (options.seed !== undefined) throw new TypeError(`${fn}: give either options.seed or options.random, not both`)
    if (!(options.random instanceof Random)) throw new TypeError(`${fn}: options.random must be a Random (new Random(seed)), got ${describe(options.random)}`)
    return options.random
  }
  return new Random(options.seed === undefined ? 0 : checkSeed(options.seed, fn, 'options.seed'))
}
