// CIFAR-10, binary version (https://www.cs.toronto.edu/~kriz/cifar.html, "CIFAR-10 binary
// version (suitable for C programs)"): data_batch_1.bin … data_batch_5.bin (training) and
// test_batch.bin, each a sequence of 3,073-byte records — 1 label byte (0–9), then the 32×32
// image as 1,024 red, 1,024 green and 1,024 blue bytes (row-major planes). Read into the
// ImageSet of lib/data/idx.ts (NHWC uint8, 3 channels) so the trainer takes it as it takes
// Fashion-MNIST. The official files hold 10,000 records each; any whole number of records is
// accepted (tests write small ones). Every error names the file and the byte offset.
// Normalisation: the per-channel mean/std of DARTS's utils.py (CIFAR_MEAN, CIFAR_STD), which
// the MIP authors' preproc.py uses for CIFAR-10.
import * as fs from 'node:fs'
import * as path from 'node:path'
import type { ImageSet } from './idx'

export const CIFAR_SIDE = 32
export const CIFAR_RECORD = 1 + 3 * CIFAR_SIDE * CIFAR_SIDE
export const CIFAR10_MEAN = [0.49139968, 0.48215827, 0.44653124]
export const CIFAR10_STD = [0.24703233, 0.24348505, 0.26158768]
export const CIFAR10_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const
export const CIFAR10_TEST_FILE = 'test_batch.bin'

/** A malformed or missing CIFAR-10 binary file; the message names the file and the byte offset. */
export class CifarError extends Error {
  override readonly name = 'CifarError'
}

/** Checks one batch file's bytes (record size, labels 0–9); returns its record count. */
export function checkCifarBatch (bytes: Uint8Array, file: string): number {
  if (bytes.length === 0) throw new CifarError(`${file}: empty file (offset 0); CIFAR-10 binary batches hold ${CIFAR_RECORD}-byte records`)
  if (bytes.length % CIFAR_RECORD !== 0) {
    const whole = Math.floor(bytes.length / CIFAR_RECORD)
    throw new CifarError(`${file}: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD}-byte records: record ${whole} starting at offset ${whole * CIFAR_RECORD} is cut after ${bytes.length - whole * CIFAR_RECORD} bytes`)
  }
  const n = bytes.length / CIFAR_RECORD
  for (let r = 0; r < n; r++) {
    const label = bytes[r * CIFAR_RECORD]
    if (label > 9) throw new CifarError(`${file}: label ${label} of record ${r} at offset ${r * CIFAR_RECORD} is not in 0 … 9`)
  }
  return n
}

/** Reads CIFAR-10 binary batch files into one ImageSet (NHWC, 3 channels, in file order). */
export function readCifarBatches (files: readonly string[], label: string): ImageSet {
  const parts: Uint8Array[] = []
  let n = 0
  for (const file of files) {
    let bytes: Buffer
    try {
      bytes = fs.readFileSync(file)
    } catch (err) {
      throw new CifarError(`${file}: cannot read (${(err as Error).message})`)
    }
    n += checkCifarBatch(bytes, file)
    parts.push(bytes)
  }
  const plane = CIFAR_SIDE * CIFAR_SIDE
  const images = new Uint8Array(n * 3 * plane)
  const labels = new Uint8Array(n)
  let k = 0
  for (const bytes of parts) {
    for (let at = 0; at < bytes.length; at += CIFAR_RECORD, k++) {
      labels[k] = bytes[at]
      const out = k * 3 * plane
      for (let p = 0; p < plane; p++) {
        images[out + 3 * p] = bytes[at + 1 + p]
        images[out + 3 * p + 1] = bytes[at + 1 + plane + p]
        images[out + 3 * p + 2] = bytes[at + 1 + 2 * plane + p]
      }
    }
  }
  return { label, n, height: CIFAR_SIDE, width: CIFAR_SIDE, channels: 3, classes: 10, images, labels, mean: [...CIFAR10_MEAN], std: [...CIFAR10_STD] }
}

/**
 * The CIFAR-10 training set (data_batch_1 … 5, all required) or test set (test_batch.bin) of
 * a folder holding the binary version (e.g. the extracted cifar-10-batches-bin/).
 */
export function readCifar10 (dir: string, part: 'train' | 'test' = 'train'): ImageSet {
  const names = part === 'train' ? CIFAR10_TRAIN_FILES : [CIFAR10_TEST_FILE]
  const files = names.map(name => path.join(dir, name))
  for (const f of files) if (!fs.existsSync(f)) throw new CifarError(`${f}: no such file (expected the CIFAR-10 binary version in ${dir}: ${[...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].join(', ')})`)
  return readCifarBatches(files, `cifar10${part === 'test' ? '-test' : ''}:${path.resolve(dir)}`)
}
