// IDX files (the MNIST / Fashion-MNIST format, optionally gzip-compressed): a big-endian
// header — two zero bytes, a type byte (0x08 unsigned byte is the only one image sets use),
// the number of dimensions — then one uint32 per dimension, then the data. Every error names
// the file and the byte offset where the file stops matching the format.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import { readCifar10 } from './cifar'

/** A malformed or unreadable IDX file; the message names the file and the byte offset. */
export class IdxError extends Error {
  override readonly name = 'IdxError'
}

export interface IdxArray {
  /** Dimensions from the header, e.g. [60000, 28, 28] for images, [60000] for labels. */
  dims: number[]
  /** The data, row-major (uint8 only). */
  data: Uint8Array
}

/** Parses IDX bytes (already decompressed); `file` is used in error messages. */
export function parseIdx (bytes: Uint8Array, file: string): IdxArray {
  if (bytes.length < 4) throw new IdxError(`${file}: ${bytes.length} bytes, too short for the 4-byte IDX magic (offset ${bytes.length})`)
  if (bytes[0] !== 0 || bytes[1] !== 0) throw new IdxError(`${file}: bad IDX magic at offset 0: expected 00 00, got ${hex(bytes[0])} ${hex(bytes[1])}`)
  if (bytes[2] !== 0x08) throw new IdxError(`${file}: IDX type byte at offset 2 is ${hex(bytes[2])}; only 0x08 (unsigned byte) is supported`)
  const nd = bytes[3]
  if (nd < 1 || nd > 4) throw new IdxError(`${file}: IDX dimension count at offset 3 is ${nd}; expected 1 to 4`)
  const header = 4 + 4 * nd
  if (bytes.length < header) throw new IdxError(`${file}: the header ends at offset ${bytes.length}; ${nd} dimensions need ${header} bytes`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dims: number[] = []
  let size = 1
  for (let i = 0; i < nd; i++) {
    const d = view.getUint32(4 + 4 * i, false)
    if (d === 0) throw new IdxError(`${file}: dimension ${i} at offset ${4 + 4 * i} is 0`)
    dims.push(d)
    size *= d
  }
  if (bytes.length !== header + size) {
    const where = bytes.length < header + size ? `the data ends at offset ${bytes.length}, expected ${header + size}` : `${bytes.length - header - size} extra bytes from offset ${header + size}`
    throw new IdxError(`${file}: dims [${dims.join(', ')}] need ${size} data bytes after the ${header}-byte header; ${where}`)
  }
  return { dims, data: bytes.subarray(header) }
}

function hex (b: number | undefined): string {
  return b === undefined ? '--' : `0x${b.toString(16).padStart(2, '0')}`
}

/** Reads an IDX file; '.gz' files (or any starting with the gzip magic) are decompressed first. */
export function readIdx (file: string): IdxArray {
  let raw: Buffer
  try {
    raw = fs.readFileSync(file)
  } catch (err) {
    throw new IdxError(`${file}: cannot read (${(err as Error).message})`)
  }
  let bytes: Uint8Array = raw
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = zlib.gunzipSync(raw)
    } catch (err) {
      throw new IdxError(`${file}: gzip data is corrupt (${(err as Error).message})`)
    }
  }
  return parseIdx(bytes, file)
}

/** Encodes a uint8 IDX array (for tools and tests). */
export function encodeIdx (dims: readonly number[], data: Uint8Array): Uint8Array {
  const size = dims.reduce((a, b) => a * b, 1)
  if (size !== data.length) throw new RangeError(`encodeIdx: dims [${dims.join(', ')}] hold ${size} values, data has ${data.length}`)
  const out = new Uint8Array(4 + 4 * dims.length + size)
  const view = new DataView(out.buffer)
  out[2] = 0x08; out[3] = dims.length
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false))
  out.set(data, 4 + 4 * dims.length)
  return out
}

/** A labelled image set: n images of h × w × c uint8, labels 0 … classes − 1. */
export interface ImageSet {
  /** Where it came from (reports, record names). */
  label: string
  n: number
  height: number
  width: number
  channels: number
  classes: number
  /** n·h·w·c bytes, NHWC. */
  images: Uint8Array
  labels: Uint8Array
  /** Per-channel mean and sd of pixel/255 used to normalise. */
  mean: number[]
  std: number[]
}

/** Fashion-MNIST normalisation (preproc.py of the MIP authors / torchvision usage). */
export const FASHION_MEAN = 0.2860
export const FASHION_STD = 0.3530

/** Pairs an image file with a label file (same count; labels < classes). */
export function imageSetFromIdx (imagesFile: string, labelsFile: string, label: string, classes = 10): ImageSet {
  const im = readIdx(imagesFile)
  const lb = readIdx(labelsFile)
  if (im.dims.length !== 3) throw new IdxError(`${imagesFile}: images need 3 dimensions (n, rows, cols), got [${im.dims.join(', ')}] (offset 3)`)
  if (lb.dims.length !== 1) throw new IdxError(`${labelsFile}: labels need 1 dimension, got [${lb.dims.join(', ')}] (offset 3)`)
  if (lb.dims[0] !== im.dims[0]) throw new IdxError(`${labelsFile}: ${lb.dims[0]} labels for ${im.dims[0]} images in ${imagesFile} (offset 4)`)
  const bad = lb.data.findIndex(v => v >= classes)
  if (bad >= 0) throw new IdxError(`${labelsFile}: label ${lb.data[bad]} at offset ${8 + bad} is not below ${classes}`)
  return { label, n: im.dims[0], height: im.dims[1], width: im.dims[2], channels: 1, classes, images: im.data, labels: lb.data, mean: [FASHION_MEAN], std: [FASHION_STD] }
}

/** The file names of the Fashion-MNIST training set in `dir` (plain or .gz). */
export function fashionFiles (dir: string, prefix = 'train'): { images: string, labels: string } {
  const pick = (base: string): string => {
    for (const name of [base, `${base}.gz`]) {
      const f = path.join(dir, name)
      if (fs.existsSync(f)) return f
    }
    throw new IdxError(`${path.join(dir, base)}[.gz]: no such file (expected Fashion-MNIST IDX files in ${dir})`)
  }
  return { images: pick(`${prefix}-images-idx3-ubyte`), labels: pick(`${prefix}-labels-idx1-ubyte`) }
}

/** The shipped Fashion-MNIST subset (data/fashion-mnist-subset, see its README). */
export function shippedFashionDir (): string {
  // lib/data → ../../data in the source tree and dist/lib/data → ../../../data in the package.
  for (const up of ['../..', '../../..']) {
    const d = path.resolve(__dirname, up, 'data', 'fashion-mnist-subset')
    if (fs.existsSync(d)) return d
  }
  throw new IdxError('the shipped Fashion-MNIST subset (data/fashion-mnist-subset) is missing from this installation')
}

/** `fashion-mnist` (the shipped subset), `fashion-mnist:<dir>` (full IDX files) or `cifar10:<dir>` (the binary version's data_batch_1…5.bin). */
export function openImageData (spec: string): ImageSet {
  if (spec === 'fashion-mnist' || spec === 'fashion-mnist-subset') {
    const f = fashionFiles(shippedFashionDir())
    return imageSetFromIdx(f.images, f.labels, 'fashion-mnist-subset')
  }
  if (spec.startsWith('fashion-mnist:')) {
    const dir = spec.slice('fashion-mnist:'.length)
    if (dir === '') throw new IdxError('--data fashion-mnist:<dir> needs the folder after the colon')
    const f = fashionFiles(dir)
    return imageSetFromIdx(f.images, f.labels, `fashion-mnist:${path.resolve(dir)}`)
  }
  if (spec.startsWith('cifar10:')) {
    const dir = spec.slice('cifar10:'.length)
    if (dir === '') throw new IdxError('--data cifar10:<dir> needs the folder after the colon')
    return readCifar10(dir)
  }
  throw new IdxError(`--data: unknown data set '${spec}' (fashion-mnist, fashion-mnist:<dir>, cifar10:<dir>)`)
}
