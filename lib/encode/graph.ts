// Graph form for GCN predictors: padded adjacency, one-hot node features and a vertex mask,
// batched and columnar (one Float32Array per field, architecture-major), ready to become
// tfjs tensors of shape [count, V, V], [count, V, F] and [count, V] without copying.
//
//   NB-101: V = 7, F = 5 (nasrank op codes 0 input, 1 conv1x1-bn-relu, 2 conv3x3-bn-relu,
//           3 maxpool3x3, 4 output). A cell with V' < 7 vertices keeps vertices 0..V'-2 in
//           place and moves its output to vertex 6; vertices V'-1..5 are padding (zero rows
//           and columns, zero features, mask 0).
//   NB-201: V = 8, F = 6, the node-labelled DAG of lib/spaces/nb201.ts (0 input, 1..6 the
//           edges in edge order, 7 output; features input, skip_connect, nor_conv_1x1,
//           nor_conv_3x3, avg_pool_3x3, output). A `none` edge's vertex is padding.
//
// Pure TypeScript: measured (benchmarks/spaces.js) at well under a second for all 423,624
// NB-101 cells, most of it allocating and zeroing the ~155 MB of output.
import { describe } from '../validate'
import { NB201_DAG_LINKS, readBatch } from '../spaces/nb201'
import type { Nb101CellsLike } from '../spaces/nb101'

/** A batch of graphs, columnar. */
export interface GraphBatch {
  /** Number of graphs. */
  count: number
  /** Padded vertex count V. */
  vertices: number
  /** Feature count F (one-hot width). */
  features: number
  /** count*V*V, directed: adjacency[g*V*V + i*V + j] = 1 for a link i → j. */
  adjacency: Float32Array
  /** count*V*F one-hot vertex labels (all zero for padding). */
  x: Float32Array
  /** count*V, 1 for a real vertex, 0 for padding. */
  mask: Float32Array
}

type Nb101Cells = Nb101CellsLike

// Bit k of the NB-101 upper triangle ↔ (i, j).
const BIT_I = new Uint8Array(21)
const BIT_J = new Uint8Array(21)
for (let i = 0, k = 0; i < 7; i++) for (let j = i + 1; j < 7; j++, k++) { BIT_I[k] = i; BIT_J[k] = j }
// Allowed bits for a V-vertex cell, and, per (V, bit), the offset of the padded entry.
const ALLOWED = new Uint32Array(8)
const OFFSET = new Uint8Array(8 * 21)
for (let v = 2; v <= 7; v++) {
  for (let k = 0; k < 21; k++) {
    const i = BIT_I[k]; const j = BIT_J[k]
    if (j >= v) continue
    ALLOWED[v] |= 1 << k
    const pi = i === v - 1 ? 6 : i
    const pj = j === v - 1 ? 6 : j
    OFFSET[v * 21 + k] = pi * 7 + pj
  }
}

function readIndices (indices: unknown, count: number, fn: string): ArrayLike<number> | null {
  if (indices === undefined) return null
  if (indices === null || typeof indices !== 'object' || typeof (indices as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`${fn}: indices must be an array or typed array of integers, got ${describe(indices)}`)
  }
  const idx = indices as ArrayLike<number>
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= count) {
      throw new RangeError(`${fn}: indices[${k}] must be an integer in [0, ${count - 1}], got ${typeof i === 'number' ? i : describe(i)}`)
    }
  }
  return idx
}

function typedField<T> (cells: object, field: string, ctor: { new (n: number): T; name: string }, length: number, fn: string): T {
  const v = (cells as Record<string, unknown>)[field]
  if (!(v instanceof ctor)) throw new TypeError(`${fn}: cells.${field} must be a ${ctor.name}, got ${describe(v)}`)
  const len = (v as unknown as ArrayLike<number>).length
  if (len !== length) throw new RangeError(`${fn}: cells.${field} has length ${len}, expected ${length} for count ${(cells as { count: number }).count}`)
  return v
}

/**
 * GraphBatch of NB-101 cells (V = 7, F = 5) from the columnar Nb101Cells, optionally only the
 * cells at `indices` (in that order; repeats allowed). Every cell is checked: V in 2..7, no
 * adjacency bit beyond V, vertex 0 input, vertex V−1 output, others op codes 1..3.
 */
export function nb101GraphBatch (cells: Nb101Cells, indices?: ArrayLike<number>): GraphBatch {
  const fn = 'nb101GraphBatch'
  if (cells === null || typeof cells !== 'object') throw new TypeError(`${fn}: cells must be an Nb101Cells object, got ${describe(cells)}`)
  const total = cells.count
  if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) {
    throw new TypeError(`${fn}: cells.count must be a non-negative integer, got ${describe(total)}`)
  }
  const vertices = typedField(cells, 'vertices', Uint8Array, total, fn)
  const adjacency = typedField(cells, 'adjacency', Uint32Array, total, fn)
  const ops = typedField(cells, 'ops', Uint8Array, total * 7, fn)
  const idx = readIndices(indices, total, fn)
  const count = idx === null ? total : idx.length
  const A = new Float32Array(count * 49)
  const X = new Float32Array(count * 35)
  const M = new Float32Array(count * 7)
  for (let g = 0; g < count; g++) {
    const c = idx === null ? g : idx[g]
    const v = vertices[c]
    if (v < 2 || v > 7) throw new RangeError(`${fn}: cells.vertices[${c}] is ${v}; a cell has 2..7 vertices`)
    let bits = adjacency[c]
    if ((bits & ~ALLOWED[v]) !== 0) {
      const k = 31 - Math.clz32(bits & ~ALLOWED[v])
      throw new RangeError(`${fn}: cells.adjacency[${c}] has bit ${k}` +
        (k < 21 ? ` (edge ${BIT_I[k]}→${BIT_J[k]})` : ' (beyond the 21 bits of a 7×7 upper triangle)') +
        ` but the cell has only ${v} vertices`)
    }
    const ob = c * 7
    for (let u = 0; u < v; u++) {
      const op = ops[ob + u]
      const want = u === 0 ? 0 : u === v - 1 ? 4 : -1
      if (want >= 0 ? op !== want : (op < 1 || op > 3)) {
        throw new RangeError(`${fn}: cells.ops[${ob + u}] (cell ${c}, vertex ${u} of ${v}) is ${op}; ` +
          (u === 0 ? 'vertex 0 must be the input (0)' : u === v - 1 ? 'the last vertex must be the output (4)' : 'inner vertices take op codes 1..3'))
      }
      const p = u === v - 1 ? 6 : u
      M[g * 7 + p] = 1
      X[g * 35 + p * 5 + op] = 1
    }
    const ab = g * 49
    const table = v * 21
    while (bits !== 0) {
      const low = bits & -bits
      A[ab + OFFSET[table + 31 - Math.clz32(low)]] = 1
      bits ^= low
    }
  }
  return { count, vertices: 7, features: 5, adjacency: A, x: X, mask: M }
}

/**
 * GraphBatch of NB-201 cells (V = 8, F = 6) from a batch Uint8Array of count*6 op codes,
 * optionally only the architectures at `indices`. A none edge's vertex gets mask 0, zero
 * features and no links; input and output are always real vertices.
 */
export function nb201GraphBatch (ops: Uint8Array, indices?: ArrayLike<number>): GraphBatch {
  const fn = 'nb201GraphBatch'
  const total = readBatch(ops, fn)
  const idx = readIndices(indices, total, fn)
  const count = idx === null ? total : idx.length
  const A = new Float32Array(count * 64)
  const X = new Float32Array(count * 48)
  const M = new Float32Array(count * 8)
  const links = NB201_DAG_LINKS
  for (let g = 0; g < count; g++) {
    const b = (idx === null ? g : idx[g]) * 6
    const mb = g * 8
    const xb = g * 48
    M[mb] = 1; X[xb] = 1 // input: feature 0
    M[mb + 7] = 1; X[xb + 7 * 6 + 5] = 1 // output: feature 5
    for (let e = 0; e < 6; e++) {
      const op = ops[b + e]
      if (op !== 0) { M[mb + e + 1] = 1; X[xb + (e + 1) * 6 + op] = 1 }
    }
    const ab = g * 64
    for (let l = 0; l < links.length; l++) {
      const from = links[l][0]; const to = links[l][1]
      if (M[mb + from] !== 0 && M[mb + to] !== 0) A[ab + from * 8 + to] = 1
    }
  }
  return { count, vertices: 8, features: 6, adjacency: A, x: X, mask: M }
}
