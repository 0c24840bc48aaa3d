// The saved form of a predictor: a directory with
//   predictor.json  { format, formatVersion, kind, packageVersion, endianness, config, state,
//                     weights: { file, bytes, sha256, tensors: [{ name, dtype, shape, offset, length }] } }
//   weights.bin     the tensors' raw bytes (platform byte order, recorded as `endianness`),
//                   each starting at an 8-byte aligned offset.
// Both files are written to a temporary name in the same directory, flushed, then renamed
// (weights first), so a reader sees either the old or the new files, and the SHA-256 in the
// JSON catches a weights file that does not belong to it.
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { packageDir } from '../native'
import { describe } from '../validate'
import { sizeOf } from './encoded'

export const FORMAT = 'nasrank-predictor'
// 2: random forests are native CART trees (feature, threshold, left, right, value per node);
// version 1 random forests (ml-random-forest) cannot be read any more. Other kinds are
// unchanged from version 1 and read either way.
export const FORMAT_VERSION = 2
export const JSON_FILE = 'predictor.json'
export const WEIGHTS_FILE = 'weights.bin'

export type WeightDtype = 'float32' | 'float64' | 'int32'
export type WeightArray = Float32Array | Float64Array | Int32Array

export interface NamedWeight {
  name: string
  shape: number[]
  data: WeightArray
}

export interface WeightEntry {
  name: string
  dtype: WeightDtype
  shape: number[]
  /** Byte offset in weights.bin. */
  offset: number
  /** Number of elements. */
  length: number
}

export interface PredictorFile {
  format: typeof FORMAT
  formatVersion: number
  kind: string
  packageVersion: string
  endianness: 'LE' | 'BE'
  config: Record<string, unknown>
  state: Record<string, unknown>
  weights: { file: string; bytes: number; sha256: string; tensors: WeightEntry[] }
}

let packageVersionCache: string | undefined
export function packageVersion (): string {
  if (packageVersionCache === undefined) {
    packageVersionCache = String((JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { version: string }).version)
  }
  return packageVersionCache
}

function dtypeOf (a: WeightArray): WeightDtype {
  if (a instanceof Float32Array) return 'float32'
  if (a instanceof Float64Array) return 'float64'
  if (a instanceof Int32Array) return 'int32'
  throw new TypeError(`savePredictor: unsupported weight array ${describe(a)}`)
}

async function writeAtomic (file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(6).toString('hex')}`
  const handle = await fs.promises.open(tmp, 'w')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (err) {
    await handle.close()
    await fs.promises.rm(tmp, { force: true })
    throw err
  }
  await handle.close()
  try {
    await fs.promises.rename(tmp, file)
  } catch (err) {
    await fs.promises.rm(tmp, { force: true })
    throw err
  }
}

/** Writes predictor.json and weights.bin into `dir` (created if missing), atomically. */
export async function writePredictor (dir: string, kind: string, config: Record<string, unknown>, state: Record<string, unknown>, weights: NamedWeight[]): Promise<void> {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`save: dir must be a non-empty string, got ${describe(dir)}`)
  const entries: WeightEntry[] = []
  let bytes = 0
  const names = new Set<string>()
  for (const w of weights) {
    if (names.has(w.name)) throw new Error(`save: duplicate weight name '${w.name}'`)
    names.add(w.name)
    if (sizeOf(w.shape) !== w.data.length) throw new Error(`save: weight '${w.name}' has ${w.data.length} elements but shape [${w.shape.join(', ')}]`)
    bytes = Math.ceil(bytes / 8) * 8
    entries.push({ name: w.name, dtype: dtypeOf(w.data), shape: [...w.shape], offset: bytes, length: w.data.length })
    bytes += w.data.byteLength
  }
  const buffer = new Uint8Array(bytes)
  weights.forEach((w, k) => {
    buffer.set(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength), entries[k].offset)
  })
  const file: PredictorFile = {
    format: FORMAT,
    formatVersion: FORMAT_VERSION,
    kind,
    packageVersion: packageVersion(),
    endianness: os.endianness(),
    config,
    state,
    weights: { file: WEIGHTS_FILE, bytes, sha256: crypto.createHash('sha256').update(buffer).digest('hex'), tensors: entries }
  }
  await fs.promises.mkdir(dir, { recursive: true })
  await writeAtomic(path.join(dir, WEIGHTS_FILE), buffer)
  await writeAtomic(path.join(dir, JSON_FILE), JSON.stringify(file, null, 1) + '\n')
}

export interface LoadedPredictor {
  file: PredictorFile
  /** The predictor.json that was read (for error messages). */
  path: string
  weights: Map<string, { dtype: WeightDtype; shape: number[]; data: WeightArray }>
}

function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Reads and validates predictor.json and weights.bin of `dir`. */
export async function readPredictor (dir: string, fn = 'loadPredictor'): Promise<LoadedPredictor> {
  if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`${fn}: dir must be a non-empty string, got ${describe(dir)}`)
  const jsonPath = path.join(dir, JSON_FILE)
  let text: string
  try {
    text = await fs.promises.readFile(jsonPath, 'utf8')
  } catch (err) {
    throw new Error(`${fn}: cannot read ${jsonPath}: ${(err as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new Error(`${fn}: ${jsonPath} is not valid JSON: ${(err as Error).message}`)
  }
  if (!isObject(parsed) || parsed.format !== FORMAT) throw new Error(`${fn}: ${jsonPath} is not a nasrank predictor file (format is ${isObject(parsed) ? describe(parsed.format) : describe(parsed)}, expected '${FORMAT}')`)
  if (typeof parsed.formatVersion !== 'number' || parsed.formatVersion > FORMAT_VERSION || parsed.formatVersion < 1) {
    throw new Error(`${fn}: ${jsonPath} has formatVersion ${JSON.stringify(parsed.formatVersion)}; this nasrank (${packageVersion()}) reads formatVersion 1..${FORMAT_VERSION}`)
  }
  if (typeof parsed.kind !== 'string') throw new Error(`${fn}: ${jsonPath}: kind must be a string, got ${describe(parsed.kind)}`)
  if (!isObject(parsed.config)) throw new Error(`${fn}: ${jsonPath}: config must be an object`)
  if (!isObject(parsed.state)) throw new Error(`${fn}: ${jsonPath}: state must be an object`)
  if (parsed.endianness !== os.endianness()) throw new Error(`${fn}: ${jsonPath} was written on a ${describe(parsed.endianness)} machine; this one is ${os.endianness()}`)
  const w = parsed.weights
  if (!isObject(w) || typeof w.file !== 'string' || typeof w.bytes !== 'number' || typeof w.sha256 !== 'string' || !Array.isArray(w.tensors)) {
    throw new Error(`${fn}: ${jsonPath}: weights must be { file, bytes, sha256, tensors }`)
  }
  if (path.basename(w.file) !== w.file) throw new Error(`${fn}: ${jsonPath}: weights.file must be a plain file name, got ${describe(w.file)}`)
  const binPath = path.join(dir, w.file)
  let buffer: Buffer
  try {
    buffer = await fs.promises.readFile(binPath)
  } catch (err) {
    throw new Error(`${fn}: cannot read ${binPath}: ${(err as Error).message}`)
  }
  if (buffer.length !== w.bytes) throw new Error(`${fn}: ${binPath} has ${buffer.length} bytes, ${jsonPath} expects ${w.bytes}`)
  const sha = crypto.createHash('sha256').update(buffer).digest('hex')
  if (sha !== w.sha256) throw new Error(`${fn}: ${binPath} does not match ${jsonPath} (SHA-256 ${sha.slice(0, 12)}…, expected ${String(w.sha256).slice(0, 12)}…); the files belong to different saves`)
  const weights: LoadedPredictor['weights'] = new Map()
  for (const [k, e] of (w.tensors as unknown[]).entries()) {
    const entry = e as WeightEntry
    const where = `${fn}: ${jsonPath}: weights.tensors[${k}]`
    if (!isObject(entry) || typeof entry.name !== 'string') throw new Error(`${where} must have a name`)
    if (!['float32', 'float64', 'int32'].includes(entry.dtype)) throw new Error(`${where} ('${entry.name}') has unknown dtype ${describe(entry.dtype)}`)
    if (!Array.isArray(entry.shape) || !entry.shape.every(d => Number.isInteger(d) && d >= 0)) throw new Error(`${where} ('${entry.name}') has an invalid shape`)
    const bytesPer = entry.dtype === 'float64' ? 8 : 4
    if (!Number.isInteger(entry.length) || entry.length !== sizeOf(entry.shape)) throw new Error(`${where} ('${entry.name}'): length ${describe(entry.length)} does not match shape [${entry.shape.join(', ')}]`)
    if (!Number.isInteger(entry.offset) || entry.offset < 0 || entry.offset % bytesPer !== 0 || entry.offset + entry.length * bytesPer > buffer.length) {
      throw new Error(`${where} ('${entry.name}'): offset ${describe(entry.offset)} and length ${entry.length} fall outside ${binPath}`)
    }
    if (weights.has(entry.name)) throw new Error(`${where}: duplicate name '${entry.name}'`)
    const raw = buffer.buffer.slice(buffer.byteOffset + entry.offset, buffer.byteOffset + entry.offset + entry.length * bytesPer)
    const data = entry.dtype === 'float32' ? new Float32Array(raw) : entry.dtype === 'float64' ? new Float64Array(raw) : new Int32Array(raw)
    weights.set(entry.name, { dtype: entry.dtype, shape: entry.shape, data })
  }
  return { file: parsed as unknown as PredictorFile, path: jsonPath, weights }
}

/** Throws unless the saved predictor is of `kind` (the loader `fn` named in the error). */
export function expectKind (loaded: LoadedPredictor, kind: string, fn: string): void {
  if (loaded.file.kind !== kind) throw new Error(`${fn}: the saved predictor is of kind '${loaded.file.kind}', not '${kind}'`)
}

/** A saved model's state.inputShape: positive integers, one per named dimension (e.g. ['C', 'H', 'W']). */
export function savedInputShape (state: { inputShape?: unknown }, dims: readonly string[], fn: string): number[] {
  const shape = state.inputShape
  if (!Array.isArray(shape) || shape.length !== dims.length || !shape.every(d => Number.isInteger(d) && d >= 1)) {
    throw new Error(`${fn}: state.inputShape must be [${dims.join(', ')}], got ${describe(shape)}`)
  }
  return shape as number[]
}

/** Fetches a weight by name, checking dtype and shape; clear error naming the file otherwise. */
export function takeWeight (loaded: LoadedPredictor, name: string, dtype: WeightDtype, shape: readonly number[] | null, fn: string): WeightArray {
  const w = loaded.weights.get(name)
  if (w === undefined) throw new Error(`${fn}: the saved ${loaded.file.kind} predictor has no weight '${name}'`)
  if (w.dtype !== dtype) throw new Error(`${fn}: weight '${name}' has dtype ${w.dtype}, expected ${dtype}`)
  if (shape !== null && (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))) {
    throw new Error(`${fn}: weight '${name}' has shape [${w.shape.join(', ')}], expected [${shape.join(', ')}]`)
  }
  return w.data
}
