// Slow, obvious references for the NAS-Bench-101 TFRecord reader: framing with the bitwise
// CRC, JSON.parse plus shape checks, a strict base64 decoder, a protobuf decoder and a
// Map-based pivot. Plus a generator of random (valid) records for the tests.
import { crc32cReference, maskReference } from './crc32c'
import type { Nb101RecordInput, Nb101ModelMetrics } from '../../lib/index'

export const OP_LABELS = ['input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3', 'output']
export const RUN_METRICS = ['total_time', 'halfway_training_time', 'halfway_train_accuracy', 'halfway_validation_accuracy', 'halfway_test_accuracy',
  'final_training_time', 'final_train_accuracy', 'final_validation_accuracy', 'final_test_accuracy'] as const

export interface RefRecord {
  hash: string
  epochs: number
  vertices: number
  adjacency: number
  ops: number[]
  trainableParameters: number
  values: Record<string, number>
}

export class RefError extends Error {
  constructor (readonly kind: string, message: string) { super(message) }
}

const edgeBit = (i: number, j: number) => i * 7 - (i * (i + 1)) / 2 + (j - i - 1)

function base64Strict (s: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  if (s.length % 4 !== 0) throw new RefError('base64', 'length')
  const out: number[] = []
  for (let k = 0; k < s.length; k += 4) {
    const last = k + 4 === s.length
    const group = s.slice(k, k + 4)
    let pad = 0
    if (last && group.endsWith('==')) pad = 2
    else if (last && group.endsWith('=')) pad = 1
    const vals: number[] = []
    for (let q = 0; q < 4 - pad; q++) {
      const v = alphabet.indexOf(group[q])
      if (v < 0) throw new RefError('base64', `char ${group[q]}`)
      vals.push(v)
    }
    while (vals.length < 4) vals.push(0)
    const x = (vals[0] << 18) | (vals[1] << 12) | (vals[2] << 6) | vals[3]
    out.push((x >> 16) & 255)
    if (pad < 2) out.push((x >> 8) & 255)
    if (pad < 1) out.push(x & 255)
  }
  return Uint8Array.from(out)
}

class Reader {
  constructor (readonly b: Uint8Array, public p: number, readonly end: number) {}
  varint (): bigint {
    let x = 0n
    for (let k = 0; k < 10; k++) {
      if (this.p >= this.end) throw new RefError('protobuf', 'truncated varint')
      const byte = this.b[this.p++]
      x |= BigInt(byte & 0x7F) << BigInt(7 * k)
      if (!(byte & 0x80)) {
        if (k === 9 && byte > 1) throw new RefError('protobuf', 'overflow')
        return x
      }
    }
    throw new RefError('protobuf', 'varint too long')
  }
  tag (): [number, number] {
    const t = this.varint()
    const wire = Number(t & 7n)
    const field = t >> 3n
    if (field === 0n || field > 0x1FFFFFFFn) throw new RefError('protobuf', 'field number')
    if (wire > 5) throw new RefError('protobuf', 'wire type')
    return [Number(field), wire]
  }
  double (): number {
    if (this.end - this.p < 8) throw new RefError('protobuf', 'truncated double')
    const v = Buffer.from(this.b.buffer, this.b.byteOffset + this.p, 8).readDoubleLE(0)
    this.p += 8
    return v
  }
  length (): number {
    const len = this.varint()
    if (len > BigInt(this.end - this.p)) throw new RefError('protobuf', 'length past end')
    return Number(len)
  }
  skip (field: number, wire: number, depth: number): void {
    if (wire === 0) {
      this.varint()
    } else if (wire === 1) {
      if (this.end - this.p < 8) throw new RefError('protobuf', 'truncated 64-bit')
      this.p += 8
    } else if (wire === 5) {
      if (this.end - this.p < 4) throw new RefError('protobuf', 'truncated 32-bit')
      this.p += 4
    } else if (wire === 2) {
      const len = this.length()  // (not `this.p += this.length()`: p would be read before the varint)
      this.p += len
    } else if (wire === 3) {
      if (depth >= 32) throw new RefError('protobuf', 'deep')
      for (;;) {
        if (this.p >= this.end) throw new RefError('protobuf', 'unterminated group')
        const [f, w] = this.tag()
        if (w === 4) { if (f !== field) throw new RefError('protobuf', 'mismatched end group'); return }
        this.skip(f, w, depth + 1)
      }
    } else throw new RefError('protobuf', 'unexpected end group')
  }
}

function decodeMetrics (bytes: Uint8Array): { evals: Array<Record<number, number>>; params?: number; time?: number } {
  const r = new Reader(bytes, 0, bytes.length)
  const evals: Array<Record<number, number>> = []
  let params: number | undefined
  let time: number | undefined
  while (r.p < r.end) {
    const [field, wire] = r.tag()
    if (field === 1) {
      if (wire !== 2) throw new RefError('protobuf', 'wire of evaluation_data')
      const len = r.length()
      const sub = new Reader(bytes, r.p, r.p + len)
      const e: Record<number, number> = {}
      while (sub.p < sub.end) {
        const [f, w] = sub.tag()
        if (f >= 1 && f <= 5) {
          if (w !== 1) throw new RefError('protobuf', 'wire of eval double')
          const v = sub.double()
          if (!Number.isFinite(v)) throw new RefError('metric', 'non-finite')
          e[f] = v
        } else if (f === 6) {
          if (w !== 2) throw new RefError('protobuf', 'wire of checkpoint_path')
          const len = sub.length()
          sub.p += len
        } else if (w === 4) throw new RefError('protobuf', 'end group')
        else sub.skip(f, w, 0)
      }
      evals.push(e)
      r.p += len
    } else if (field === 2) {
      if (wire !== 0) throw new RefError('protobuf', 'wire of params')
      params = Number(BigInt.asIntN(32, r.varint()))
    } else if (field === 3) {
      if (wire !== 1) throw new RefError('protobuf', 'wire of total_time')
      time = r.double()
      if (!Number.isFinite(time)) throw new RefError('metric', 'non-finite total_time')
    } else if (wire === 4) throw new RefError('protobuf', 'end group')
    else r.skip(field, wire, 0)
  }
  return { evals, params, time }
}

/** Reference parse of one payload; throws RefError when invalid. */
export function parsePayloadReference (payload: Uint8Array): RefRecord {
  const text = Buffer.from(payload).toString('utf8')
  let arr: unknown
  try { arr = JSON.parse(text) } catch { throw new RefError('json', 'JSON.parse failed') }
  if (!Array.isArray(arr) || arr.length !== 5) throw new RefError('json', 'not a 5-array')
  const [hash, epochs, adjacency, operations, metrics] = arr
  if (typeof hash !== 'string' || typeof adjacency !== 'string' || typeof operations !== 'string' || typeof metrics !== 'string') throw new RefError('json', 'types')
  if (typeof epochs !== 'number') throw new RefError('json', 'epochs type')
  // The raw epochs token must be a plain integer literal.
  const token = /^[ \t\n\r]*\[[ \t\n\r]*"(?:[^"\\]|\\.)*"[ \t\n\r]*,[ \t\n\r]*(-?[0-9.eE+-]+)/.exec(text)
  if (!token || !/^\d+$/.test(token[1])) throw new RefError('record', 'epochs literal')
  if (epochs < 1 || epochs > 1000000) throw new RefError('record', 'epochs range')
  if (!/^[0-9a-fA-F]{32}$/.test(hash)) throw new RefError('record', 'hash')
  const V = [2, 3, 4, 5, 6, 7].find(v => v * v === adjacency.length)
  if (V === undefined) throw new RefError('record', 'adjacency length')
  let bits = 0
  for (let i = 0; i < V; i++) {
    for (let j = 0; j < V; j++) {
      const c = adjacency[i * V + j]
      if (c !== '0' && c !== '1') throw new RefError('record', 'digit')
      if (c === '1') {
        if (j <= i) throw new RefError('record', 'lower')
        bits |= 1 << edgeBit(i, j)
      }
    }
  }
  const labels = operations.split(',')
  if (labels.length !== V) throw new RefError('record', 'ops count')
  const ops = labels.map(l => {
    const k = OP_LABELS.indexOf(l)
    if (k < 0) throw new RefError('record', `unknown op ${l}`)
    return k
  })
  if (ops[0] !== 0 || ops[V - 1] !== 4 || ops.slice(1, V - 1).some(o => o === 0 || o === 4)) throw new RefError('record', 'input/output placement')
  const m = decodeMetrics(base64Strict(metrics))
  if (m.evals.length !== 3) throw new RefError('metric', 'evaluations')
  if (m.params === undefined || m.params < 0 || m.time === undefined) throw new RefError('metric', 'params/time')
  for (const k of [1, 2]) for (const f of [2, 3, 4, 5]) if (m.evals[k][f] === undefined) throw new RefError('metric', 'missing eval field')
  const values: Record<string, number> = {
    total_time: m.time,
    halfway_training_time: m.evals[1][2],
    halfway_train_accuracy: m.evals[1][3],
    halfway_validation_accuracy: m.evals[1][4],
    halfway_test_accuracy: m.evals[1][5],
    final_training_time: m.evals[2][2],
    final_train_accuracy: m.evals[2][3],
    final_validation_accuracy: m.evals[2][4],
    final_test_accuracy: m.evals[2][5]
  }
  return { hash: hash.toLowerCase(), epochs, vertices: V, adjacency: bits >>> 0, ops, trainableParameters: m.params, values }
}

export interface RefFileResult {
  records: Array<{ offset: number; record: RefRecord }>
  bad: Array<{ offset: number; kind: string }>
}

/** Reference framing reader (strict: the first bad record throws RefError with its offset). */
export function readFileReference (bytes: Uint8Array): RefFileResult {
  const out: RefFileResult = { records: [], bad: [] }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let p = 0
  while (p < b.length) {
    if (b.length - p < 12) throw Object.assign(new RefError('truncated', 'header'), { offset: p })
    const len = Number(b.readBigUInt64LE(p))
    if (maskReference(crc32cReference(b.subarray(p, p + 8))) !== b.readUInt32LE(p + 8)) throw Object.assign(new RefError('framing', 'length crc'), { offset: p })
    if (b.length - p < 16 + len) throw Object.assign(new RefError('truncated', 'payload'), { offset: p })
    const payload = b.subarray(p + 12, p + 12 + len)
    if (maskReference(crc32cReference(payload)) !== b.readUInt32LE(p + 12 + len)) throw Object.assign(new RefError('crc', 'payload crc'), { offset: p })
    try {
      out.records.push({ offset: p, record: parsePayloadReference(payload) })
    } catch (err) {
      throw Object.assign(err as Error, { offset: p })
    }
    p += 16 + len
  }
  return out
}

export interface RefCell {
  hash: string
  vertices: number
  adjacency: number
  ops: number[]
  trainableParameters: number
  /** key `${epochs}/${repeat}` → values */
  runs: Map<string, Record<string, number>>
}

/** Groups records by hash; repeat = order of appearance per (hash, epochs). Sorted by hash. */
export function pivotReference (records: RefRecord[]): RefCell[] {
  const cells = new Map<string, RefCell>()
  for (const r of records) {
    let c = cells.get(r.hash)
    if (!c) {
      c = { hash: r.hash, vertices: r.vertices, adjacency: r.adjacency, ops: r.ops, trainableParameters: r.trainableParameters, runs: new Map() }
      cells.set(r.hash, c)
    }
    let repeat = 0
    while (c.runs.has(`${r.epochs}/${repeat}`)) repeat++
    c.runs.set(`${r.epochs}/${repeat}`, r.values)
  }
  return [...cells.values()].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
}

// ---- random valid data -----------------------------------------------------------------------

export interface GeneratedCell {
  hash: string
  matrix: number[][]
  ops: string[]
  params: number
}

export function randomHash (rand: () => number): string {
  let s = ''
  for (let k = 0; k < 32; k++) s += Math.floor(rand() * 16).toString(16)
  return s
}

export function randomCell (rand: () => number): GeneratedCell {
  const V = 2 + Math.floor(rand() * 6)
  const matrix = Array.from({ length: V }, (_, i) => Array.from({ length: V }, (_, j) => (j > i && rand() < 0.5 ? 1 : 0)))
  const ops = ['input', ...Array.from({ length: V - 2 }, () => OP_LABELS[1 + Math.floor(rand() * 3)]), 'output']
  return { hash: randomHash(rand), matrix, ops, params: Math.floor(rand() * 5e7) }
}

export function randomMetrics (rand: () => number, cell: GeneratedCell, epochs: number, extras = false): Nb101ModelMetrics {
  const ev = (e: number) => ({
    currentEpoch: e,
    trainingTime: rand() * 5000,
    trainAccuracy: rand(),
    validationAccuracy: rand(),
    testAccuracy: rand(),
    ...(extras && rand() < 0.5 ? { checkpointPath: `gs://bucket/model-${Math.floor(rand() * 1e6)}/model.ckpt-${e}` } : {})
  })
  return { evaluationData: [ev(0), ev(epochs / 2), ev(epochs)], trainableParameters: cell.params, totalTime: rand() * 10000 }
}

export function recordOf (cell: GeneratedCell, epochs: number, metrics: Nb101ModelMetrics | Uint8Array | { base64: string }): Nb101RecordInput {
  return { hash: cell.hash, epochs, adjacency: cell.matrix, operations: cell.ops, metrics }
}
