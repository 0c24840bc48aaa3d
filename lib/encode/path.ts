// Path encodings (White, Neiswanger & Savani, "BANANAS", AAAI 2021, Sec. 4): an architecture
// is the set of its input → output paths, each path identified by the sequence of operations
// along it; feature i is 1 when a path with op sequence i exists, else 0. The encoding depends
// only on the cell's function-bearing structure (isomorphic cells encode alike), which is why
// the paper found it the most sample-efficient input for its neural predictor.
//
//   NAS-Bench-101: interior op sequences of length 0…5 over 3 ops: 3^0 + … + 3^5 = 364 features.
//   NAS-Bench-201: edges carry the ops; paths 0→3 have 1…3 edges, 'none' breaks a path, so
//                  sequences of length 1…3 over the 4 other ops: 4 + 16 + 64 = 84 features.
import { checkCells, edgeBit, type Nb101CellsLike } from '../spaces/nb101'
import { readBatch } from '../spaces/nb201'
import { describe } from '../validate'

export const NB101_PATHS = 364
export const NB201_PATHS = 84

// NAS-Bench-201 routes from node 0 to node 3 as edge indices (NB201_EDGES order
// (0,1),(0,2),(1,2),(0,3),(1,3),(2,3)).
const NB201_ROUTES: ReadonlyArray<readonly number[]> = [[3], [0, 4], [1, 5], [0, 2, 5]]
const NB201_OFFSET = [0, 0, 4, 20] // by path length 1, 2, 3

/** Writes the 84-feature path encoding of architecture `row` of `ops` (count*6 codes) at out[offset…]. */
export function nb201PathEncodeInto (ops: Uint8Array, row: number, out: Float64Array | Float32Array, offset: number): void {
  const base = 6 * row
  for (let k = 0; k < NB201_PATHS; k++) out[offset + k] = 0
  for (const route of NB201_ROUTES) {
    let index = 0
    let alive = true
    for (const e of route) {
      const op = ops[base + e]
      if (op === 0) { alive = false; break }
      index = index * 4 + (op - 1)
    }
    if (alive) out[offset + NB201_OFFSET[route.length] + index] = 1
  }
}

/** Path encodings of a batch of NAS-Bench-201 architectures (count*6 op codes) → Float32Array(count*84). */
export function nb201PathEncoding (ops: Uint8Array): Float32Array {
  const count = readBatch(ops, 'nb201PathEncoding')
  const out = new Float32Array(count * NB201_PATHS)
  for (let a = 0; a < count; a++) nb201PathEncodeInto(ops, a, out, a * NB201_PATHS)
  return out
}

const NB101_OFFSET = [0, 1, 4, 13, 40, 121] // sum of 3^j for j < length

/**
 * Writes the 364-feature path encoding of cell `row` of columnar `cells` at out[offset…].
 * Interior op digits: conv1x1 0, conv3x3 1, maxpool 2; a path of length L (interior vertices)
 * has index offset(L) + Σ 3^i · digit_i.
 */
export function nb101PathEncodeInto (cells: Nb101CellsLike, row: number, out: Float64Array | Float32Array, offset: number): void {
  for (let k = 0; k < NB101_PATHS; k++) out[offset + k] = 0
  const v = cells.vertices[row]
  const adjacency = cells.adjacency[row]
  const ops = cells.ops
  const base = 7 * row
  const last = v - 1
  // Depth-first over paths from vertex 0; `index` accumulates digits, `length` interior vertices.
  const visit = (u: number, length: number, index: number, power: number): void => {
    for (let w = u + 1; w < v; w++) {
      if (((adjacency >>> edgeBit(u, w)) & 1) === 0) continue
      if (w === last) { out[offset + NB101_OFFSET[length] + index] = 1; continue }
      if (length >= 5) continue
      visit(w, length + 1, index + power * (ops[base + w] - 1), power * 3)
    }
  }
  visit(0, 0, 0, 1)
}

/** Path encodings of columnar NAS-Bench-101 cells → Float32Array(count*364). */
export function nb101PathEncoding (cells: Nb101CellsLike): Float32Array {
  if (cells === null || typeof cells !== 'object') throw new TypeError(`nb101PathEncoding: cells must be columnar cells, got ${describe(cells)}`)
  const c = checkCells(cells, 'nb101PathEncoding')
  const out = new Float32Array(c.count * NB101_PATHS)
  for (let a = 0; a < c.count; a++) nb101PathEncodeInto(c, a, out, a * NB101_PATHS)
  return out
}
