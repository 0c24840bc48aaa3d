// Batch preparation for the trainer (the MIP authors' augment.py / preproc.py pipeline, in
// this order): gather → area resize to the setting's image side (mean of f×f blocks, f =
// source side / image side; 28 → 14 is the 2×2 area resize) → training only: random crop
// with ⌊image/8⌋ zero padding and a horizontal flip with probability ½ → normalise
// ((v/255 − mean)/sd, Fashion-MNIST 0.2860/0.3530) → training only: cutout (DARTS's Cutout:
// a centre uniform over the image, a length×length square clipped at the border, set to 0
// after normalisation). Output Float32 NHWC. Every random draw comes from `rng` in a fixed
// order (per image: crop y, crop x, flip, cutout y, cutout x), so a seed fixes the batch.
//
// `prepareBatch` runs natively (native/images.cc, threaded for large batches): the draws are
// made here, in the order above, and the kernel is bit-identical to `prepareBatchJs`, the
// JavaScript reference (test/bpe-trainer.test.ts checks both on random settings).
import type { ImageSet } from '../data/idx'
import { named } from '../native'
import type { Random } from '../random'

export interface BatchOptions {
  /** Output side (must divide the source side). */
  image: number
  /** Crop + flip + cutout (training) or none (evaluation). */
  augment: boolean
  /** Cutout length (0: none); only with augment. */
  cutout: number
}

/** Checks that `image` divides the data's side; the message names the option. */
export function checkImageSide (data: ImageSet, image: number, option = '--omega image'): void {
  if (data.height !== data.width) throw new RangeError(`${data.label}: images must be square, got ${data.height}×${data.width}`)
  if (!Number.isInteger(image) || image < 1 || image > data.height) throw new RangeError(`${option}: image ${image} is not in 1 … ${data.height} (the side of ${data.label})`)
  if (data.height % image !== 0) throw new RangeError(`${option}: image ${image} does not divide ${data.label}'s side ${data.height} (area resize needs a whole factor)`)
}

export interface PrepareOptions {
  /** 'native' (default) or 'js' (the reference, `prepareBatchJs`); the results are identical. */
  engine?: 'native' | 'js'
  /** Threads of the native kernel (default: the addon's; small batches run on one). */
  threads?: number
}

/**
 * Float32 NHWC [idx.length, image, image, channels] for the images idx of data; consumes the
 * same draws from `rng` as `prepareBatchJs` and returns the same bits.
 */
export function prepareBatch (data: ImageSet, idx: ArrayLike<number>, o: BatchOptions, rng: Random | undefined, opts: PrepareOptions = {}): Float32Array {
  const engine = opts.engine ?? 'native'
  if (engine === 'js') return prepareBatchJs(data, idx, o, rng)
  if (engine !== 'native') throw new RangeError(`prepareBatch: engine must be 'native' or 'js', got '${String(engine)}'`)
  const s = o.image
  if (data.height !== data.width) throw new RangeError(`prepareBatch: ${data.label}: images must be square, got ${data.height}×${data.width}`)
  if (!Number.isInteger(s) || s < 1 || !(data.height % s === 0)) throw new RangeError(`prepareBatch: image ${s} must be an integer ≥ 1 that divides the side ${data.height} of ${data.label}`)
  if (!Number.isInteger(o.cutout) || o.cutout < 0 || o.cutout > s) throw new RangeError(`prepareBatch: cutout must be an integer in 0 … image ${s}, got ${o.cutout}`)
  let index: Int32Array
  if (idx instanceof Int32Array) index = idx
  else {
    const n = (idx as { length?: unknown } | null)?.length
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new TypeError('prepareBatch: idx must be an array or typed array of image indices')
    const list: number[] = []
    for (let b = 0; b < n; b++) {
      const v = idx[b]
      if (!Number.isInteger(v) || v < 0 || v > 2147483647) throw new RangeError(`prepareBatch: idx[${b}] is ${String(v)}, not an image index`)
      list.push(v)
    }
    index = Int32Array.from(list)
  }
  // Every index checked before any draw, so a failed call leaves rng as it was.
  const have = Math.floor(((data.images as Uint8Array | undefined)?.length ?? 0) / (data.height * data.height * data.channels))
  for (let b = 0; b < index.length; b++) {
    if (index[b] < 0 || !(index[b] < have)) throw new RangeError(`prepareBatch: idx[${b}] is ${index[b]}, not an image index in [0, ${have})`)
  }
  const perChannel = (v: unknown, name: string): Float64Array => {
    const len = (v as { length?: unknown } | null)?.length
    if (len !== data.channels) throw new TypeError(`prepareBatch: ${data.label}: ${name} must hold one number per channel (${String(data.channels)})`)
    return Float64Array.from(v as ArrayLike<number>)
  }
  const mean = perChannel(data.mean, 'mean'); const std = perChannel(data.std, 'std')
  let draws: Int32Array | null = null
  const cutout = o.augment ? o.cutout : 0
  if (o.augment) {
    if (rng === undefined) throw new RangeError('prepareBatch: augment needs a Random')
    const pad = Math.floor(s / 8)
    draws = new Int32Array(5 * index.length)
    for (let b = 0; b < index.length; b++) {
      draws[5 * b] = rng.int(2 * pad + 1)
      draws[5 * b + 1] = rng.int(2 * pad + 1)
      draws[5 * b + 2] = rng.float() < 0.5 ? 1 : 0
      if (cutout > 0) { draws[5 * b + 3] = rng.int(s); draws[5 * b + 4] = rng.int(s) }
    }
  }
  return named('prepareBatch').imageBatch(data.images, data.height, data.channels, index, s, mean, std, draws, cutout, opts.threads)
}

/** The JavaScript reference of `prepareBatch` (same draws, same bits). */
export function prepareBatchJs (data: ImageSet, idx: ArrayLike<number>, o: BatchOptions, rng: Random | undefined): Float32Array {
  const side = data.height
  const c = data.channels
  const s = o.image
  const f = side / s
  const area = 1 / (f * f * 255)
  const pad = o.augment ? Math.floor(s / 8) : 0
  const out = new Float32Array(idx.length * s * s * c)
  const resized = new Float32Array(s * s * c)
  for (let b = 0; b < idx.length; b++) {
    const src = idx[b] * side * side * c
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        for (let ch = 0; ch < c; ch++) {
          let sum = 0
          for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) sum += data.images[src + ((y * f + dy) * side + x * f + dx) * c + ch]
          resized[(y * s + x) * c + ch] = sum * area
        }
      }
    }
    let oy = pad; let ox = pad; let flip = false
    if (o.augment) {
      if (rng === undefined) throw new RangeError('prepareBatch: augment needs a Random')
      oy = rng.int(2 * pad + 1); ox = rng.int(2 * pad + 1); flip = rng.float() < 0.5
    }
    const base = b * s * s * c
    for (let y = 0; y < s; y++) {
      const sy = y + oy - pad
      for (let x = 0; x < s; x++) {
        const sx = (flip ? s - 1 - x : x) + ox - pad
        for (let ch = 0; ch < c; ch++) {
          const v = sy >= 0 && sy < s && sx >= 0 && sx < s ? resized[(sy * s + sx) * c + ch] : 0
          out[base + (y * s + x) * c + ch] = (v - data.mean[ch]) / data.std[ch]
        }
      }
    }
    if (o.augment && o.cutout > 0) {
      const cy = (rng as Random).int(s); const cx = (rng as Random).int(s)
      const h = Math.floor(o.cutout / 2)
      const y1 = Math.max(0, cy - h); const y2 = Math.min(s, cy + h)
      const x1 = Math.max(0, cx - h); const x2 = Math.min(s, cx + h)
      for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) for (let ch = 0; ch < c; ch++) out[base + (y * s + x) * c + ch] = 0
    }
  }
  return out
}
