// Peephole's per-layer tokens for NAS-Bench-101 cells, from the shared columnar form
// (CONTRACT.md `Nb101Cells`: count, vertices, adjacency bits, ops). Space-specific, but kept
// apart from the predictor, which only sees the resulting [count, 7, 7] tensor.
//
// One token per vertex, in DFS preorder from the input vertex (successors visited in
// ascending vertex index; unreachable vertices, which pruned cells do not have, follow in
// index order); cells with V < 7 are zero-padded at the end (the Peephole LSTM skips
// all-zero tokens). Token layout (D = 7):
//   [0..4]  one-hot op code (0 input, 1 conv1x1-bn-relu, 2 conv3x3-bn-relu, 3 maxpool3x3, 4 output)
//   [5]     kernel size / 3: conv1x1 → 1/3, conv3x3 and maxpool3x3 → 1, input/output → 0
//   [6]     channels: `channels[cell·7 + vertex] / channelScale` when the caller supplies
//           channel counts (e.g. from the cost model); otherwise a normalised placeholder, the
//           vertex's width relative to the cell's output, computed the way NAS-Bench-101 assigns
//           channels (compute_vertex_channels) with input = output = 1 and exact division:
//           vertices feeding the output get 1/k (k = the output's in-degree from non-input
//           vertices), other interior vertices the maximum of their interior successors,
//           input and output 1.
import { describe } from '../validate'
import type { EncodedBatch } from './types'

/** The columnar NB-101 batch (structurally the `Nb101Cells` of lib/spaces/nb101.ts). */
export interface Nb101CellsLike {
  count: number
  vertices: Uint8Array
  adjacency: Uint32Array
  ops: Uint8Array
}

export interface PeepholeTokenOptions {
  /** Token order: 'dfs' (default) or 'index' (vertex index = a topological order). */
  order?: 'dfs' | 'index'
  /** Channel count per vertex (count·7, vertex-index order; entries beyond V ignored). */
  channels?: ArrayLike<number>
  /** Divisor of supplied channel counts (default 128, NAS-Bench-101's stem width). */
  channelScale?: number
}

export const PEEPHOLE_TOKEN_DIM = 7
const MAX_V = 7
const KERNEL = [0, 1 / 3, 1, 1, 0]

function edgeBit (i: number, j: number): number {
  return i * 7 - (i * (i + 1)) / 2 + (j - i - 1)
}

/** Relative channel widths of one cell (see the file comment). */
export function relativeChannels (v: number, edge: (i: number, j: number) => boolean): Float64Array {
  const out = new Float64Array(v)
  out[0] = 1
  out[v - 1] = 1
  if (v <= 2) return out
  let inDegree = 0
  for (let i = 1; i < v - 1; i++) if (edge(i, v - 1)) inDegree++
  for (let i = 1; i < v - 1; i++) if (edge(i, v - 1)) out[i] = inDegree > 0 ? 1 / inDegree : 0
  for (let i = v - 3; i > 0; i--) {
    if (edge(i, v - 1)) continue
    for (let j = i + 1; j < v - 1; j++) if (edge(i, j)) out[i] = Math.max(out[i], out[j])
  }
  return out
}

/** Peephole tokens [count, 7, 7] for a columnar batch of NAS-Bench-101 cells. */
export function nb101PeepholeTokens (cells: Nb101CellsLike, options: PeepholeTokenOptions = {}): EncodedBatch {
  const fn = 'nb101PeepholeTokens'
  if (cells === null || typeof cells !== 'object') throw new TypeError(`${fn}: cells must be a columnar Nb101Cells batch, got ${describe(cells)}`)
  const { count, vertices, adjacency, ops } = cells
  if (!Number.isInteger(count) || count < 0) throw new TypeError(`${fn}: cells.count must be a non-negative integer, got ${describe(count)}`)
  if (!(vertices instanceof Uint8Array) || vertices.length !== count) throw new TypeError(`${fn}: cells.vertices must be a Uint8Array of length count (${count})`)
  if (!(adjacency instanceof Uint32Array) || adjacency.length !== count) throw new TypeError(`${fn}: cells.adjacency must be a Uint32Array of length count (${count})`)
  if (!(ops instanceof Uint8Array) || ops.length !== count * MAX_V) throw new TypeError(`${fn}: cells.ops must be a Uint8Array of length count·7 (${count * MAX_V})`)
  const order = options.order ?? 'dfs'
  if (order !== 'dfs' && order !== 'index') throw new TypeError(`${fn}: order must be 'dfs' or 'index', got ${describe(order)}`)
  const channels = options.channels
  if (channels !== undefined && (typeof channels !== 'object' || channels === null || channels.length !== count * MAX_V)) {
    throw new TypeError(`${fn}: channels must hold count·7 (${count * MAX_V}) numbers, got ${describe(channels)}`)
  }
  const scale = options.channelScale ?? 128
  if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`${fn}: channelScale must be a finite number > 0, got ${describe(scale)}`)

  const D = PEEPHOLE_TOKEN_DIM
  const data = new Float32Array(count * MAX_V * D)
  const seq = new Int32Array(MAX_V)
  const seen = new Uint8Array(MAX_V)
  for (let c = 0; c < count; c++) {
    const v = vertices[c]
    if (v < 2 || v > MAX_V) throw new RangeError(`${fn}: cells.vertices[${c}] must be in 2..7, got ${v}`)
    const bits = adjacency[c]
    const edge = (i: number, j: number): boolean => i < j && ((bits >>> edgeBit(i, j)) & 1) === 1
    for (let i = 0; i < v; i++) {
      const op = ops[c * MAX_V + i]
      if (op > 4) throw new RangeError(`${fn}: cells.ops[${c * MAX_V + i}] (cell ${c}, vertex ${i}) must be an op code 0..4, got ${op}`)
    }
    let len = 0
    if (order === 'index') {
      for (let i = 0; i < v; i++) seq[len++] = i
    } else {
      seen.fill(0)
      const visit = (i: number): void => {
        seen[i] = 1
        seq[len++] = i
        for (let j = i + 1; j < v; j++) if (!seen[j] && edge(i, j)) visit(j)
      }
      visit(0)
      for (let i = 0; i < v; i++) if (!seen[i]) seq[len++] = i
    }
    const rel = channels === undefined ? relativeChannels(v, edge) : null
    for (let t = 0; t < v; t++) {
      const vertex = seq[t]
      const op = ops[c * MAX_V + vertex]
      const base = (c * MAX_V + t) * D
      data[base + op] = 1
      data[base + 5] = KERNEL[op]
      if (channels !== undefined) {
        const ch = Number(channels[c * MAX_V + vertex])
        if (!Number.isFinite(ch) || ch < 0) throw new RangeError(`${fn}: channels[${c * MAX_V + vertex}] must be a finite number ≥ 0, got ${ch}`)
        data[base + 6] = ch / scale
      } else {
        data[base + 6] = (rel as Float64Array)[vertex]
      }
    }
  }
  return { count, shape: [MAX_V, D], data }
}
