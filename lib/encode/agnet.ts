// The AG-Net vector encoding g (Lukasik, Jung & Keuper, "Learning Where To Look — Generative
// NAS is Surprisingly Efficient", ECCV 2022): M node one-hots over C classes first, then the
// M(M−1)/2 edge bits of the lower triangle, edge j→i (j < i) at index i(i−1)/2 + j.
//
// NAS-Bench-201: M = 8 nodes × C = 7 classes [output, input, conv1x1, conv3x3, avgpool, skip,
// none] + 28 edge bits = 84. Node 0 is the input, nodes 1–6 the six edge ops in the string
// order of nasrank's NB-201 architecture, node 7 the output; the edges are the fixed
// node-labelled DAG (NB201_DAG_LINKS). Decoding is valid exactly when the graph has 8 nodes,
// node 0 input, node 7 output, nodes 1–6 ops and the adjacency is the DAG.
import { NB201_DAG_LINKS } from '../spaces/nb201'
import type { Nb101Spec } from '../spaces/nb101'

export const AGNET_NB201_NODES = 8
export const AGNET_NB201_CLASSES = 7
export const AGNET_NB201_CLASS_NAMES = Object.freeze(['output', 'input', 'conv1x1', 'conv3x3', 'avgpool', 'skip', 'none'] as const)
export const AGNET_OUTPUT = 0
export const AGNET_INPUT = 1
/** nasrank's NB-201 op code (0 none, 1 skip, 2 conv1x1, 3 conv3x3, 4 avgpool) → AG-Net class. */
export const NB201_OP_TO_AGNET = Object.freeze([6, 5, 2, 3, 4])
/** AG-Net class → nasrank's NB-201 op code (−1: not an op). */
export const AGNET_TO_NB201_OP = Object.freeze([-1, -1, 2, 3, 4, 1, 0])

/** Number of edge slots of an M-node graph. */
export function agnetEdgeCount (nodes: number): number { return nodes * (nodes - 1) / 2 }
/** Index of edge j → i (j < i) among the edge slots. */
export function agnetEdgeIndex (j: number, i: number): number { return i * (i - 1) / 2 + j }
/** Length of the encoding: M·C + M(M−1)/2. */
export function agnetLength (nodes: number, classes: number): number { return nodes * classes + agnetEdgeCount(nodes) }

/** The NB-201 DAG as edge bits (28). */
export const AGNET_NB201_EDGES: Uint8Array = (() => {
  const bits = new Uint8Array(agnetEdgeCount(AGNET_NB201_NODES))
  for (const [j, i] of NB201_DAG_LINKS) bits[agnetEdgeIndex(j, i)] = 1
  return bits
})()

/** Node classes of an NB-201 architecture (6 op codes) as the 8 AG-Net node classes. */
export function agnetNb201Classes (ops: ArrayLike<number>, offset = 0, out: Uint8Array<ArrayBufferLike> = new Uint8Array(AGNET_NB201_NODES)): Uint8Array<ArrayBufferLike> {
  out[0] = AGNET_INPUT
  for (let e = 0; e < 6; e++) {
    const op = ops[offset + e]
    if (!Number.isInteger(op) || op < 0 || op > 4) throw new RangeError(`agnetNb201Classes: op ${e} must be an NB-201 op code 0…4, got ${op}`)
    out[e + 1] = NB201_OP_TO_AGNET[op]
  }
  out[7] = AGNET_OUTPUT
  return out
}

/** Writes the 84-feature AG-Net encoding of an NB-201 architecture (6 op codes at `offset` of `ops`). */
export function agnetNb201EncodeInto (ops: ArrayLike<number>, offset: number, out: Float64Array, at: number): void {
  const classes = agnetNb201Classes(ops, offset)
  const C = AGNET_NB201_CLASSES
  out.fill(0, at, at + agnetLength(AGNET_NB201_NODES, C))
  for (let v = 0; v < AGNET_NB201_NODES; v++) out[at + v * C + classes[v]] = 1
  const base = at + AGNET_NB201_NODES * C
  for (let k = 0; k < AGNET_NB201_EDGES.length; k++) out[base + k] = AGNET_NB201_EDGES[k]
}

/** The 84-feature AG-Net encoding of an NB-201 architecture (6 op codes). */
export function agnetNb201Encode (ops: ArrayLike<number>): Float64Array {
  const out = new Float64Array(agnetLength(AGNET_NB201_NODES, AGNET_NB201_CLASSES))
  agnetNb201EncodeInto(ops, 0, out, 0)
  return out
}

/**
 * A discrete graph (node classes, cut at the first output, and edge bits) → the NB-201 op
 * codes, or null when it is not an NB-201 cell.
 */
export function agnetNb201DecodeGraph (classes: ArrayLike<number>, edges: ArrayLike<number>): Uint8Array | null {
  if (classes.length !== AGNET_NB201_NODES || edges.length !== AGNET_NB201_EDGES.length) return null
  if (classes[0] !== AGNET_INPUT || classes[7] !== AGNET_OUTPUT) return null
  const ops = new Uint8Array(6)
  for (let e = 0; e < 6; e++) {
    const op = AGNET_TO_NB201_OP[classes[e + 1]]
    if (op === undefined || op < 0) return null
    ops[e] = op
  }
  for (let k = 0; k < edges.length; k++) if ((edges[k] !== 0 ? 1 : 0) !== AGNET_NB201_EDGES[k]) return null
  return ops
}

/** An 84-feature encoding (one-hot nodes, 0/1 edges: argmax per node, edge > 0.5) → NB-201 op codes, or null. */
export function agnetNb201Decode (g: ArrayLike<number>): Uint8Array | null {
  const M = AGNET_NB201_NODES
  const C = AGNET_NB201_CLASSES
  if (g.length !== agnetLength(M, C)) return null
  const classes: number[] = []
  for (let v = 0; v < M; v++) {
    let best = 0
    for (let c = 1; c < C; c++) if (g[v * C + c] > g[v * C + best]) best = c
    classes.push(best)
    if (best === AGNET_OUTPUT) break // the graph ends at its first output
  }
  const edges = Array.from({ length: agnetEdgeCount(M) }, (_, k) => g[M * C + k] > 0.5 ? 1 : 0)
  return agnetNb201DecodeGraph(classes, edges)
}

// ---- NAS-Bench-101 ---------------------------------------------------------------------
// M = 7 nodes × C = 5 classes [output, input, conv1x1, conv3x3, maxpool] + 21 edge bits = 56.
// The canonical cell's V vertices in stored order, then 7 − V padding rows of class output
// (and no edges). Decoding is valid when nb101's spec accepts the graph (the caller then looks
// its hash up in the bench).

export const AGNET_NB101_NODES = 7
export const AGNET_NB101_CLASSES = 5
export const AGNET_NB101_CLASS_NAMES = Object.freeze(['output', 'input', 'conv1x1', 'conv3x3', 'maxpool'] as const)
const NB101_LABEL_TO_AGNET: Readonly<Record<string, number>> = Object.freeze({ input: 1, 'conv1x1-bn-relu': 2, 'conv3x3-bn-relu': 3, maxpool3x3: 4, output: 0 })
const AGNET_TO_NB101_LABEL = Object.freeze(['output', 'input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3'])

/** The 56-feature AG-Net encoding of an NB-101 cell (matrix and op labels, as nb101 specs hold them). */
export function agnetNb101Encode (cell: Nb101Spec): Float64Array {
  const M = AGNET_NB101_NODES
  const C = AGNET_NB101_CLASSES
  const V = cell.ops.length
  if (V < 2 || V > M || cell.matrix.length !== V) throw new RangeError(`agnetNb101Encode: a cell has 2 to 7 vertices and a V×V matrix, got ${V} ops and ${cell.matrix.length} rows`)
  const g = new Float64Array(agnetLength(M, C))
  for (let v = 0; v < M; v++) {
    const cls = v < V ? NB101_LABEL_TO_AGNET[cell.ops[v]] : AGNET_OUTPUT
    if (cls === undefined) throw new RangeError(`agnetNb101Encode: unknown op '${cell.ops[v]}' at vertex ${v}`)
    g[v * C + cls] = 1
  }
  for (let i = 1; i < V; i++) for (let j = 0; j < i; j++) if (cell.matrix[j][i] !== 0) g[M * C + agnetEdgeIndex(j, i)] = 1
  return g
}

/**
 * A discrete graph (classes cut at the first output, and its edge bits) → an NB-101 matrix and
 * labels, or null when the graph is not a cell (first node not the input, an input inside).
 * Validity (connectivity, at most 9 edges after pruning) is nb101's to judge.
 */
export function agnetNb101Graph (classes: ArrayLike<number>, edges: ArrayLike<number>): Nb101Spec | null {
  const V = classes.length
  if (V < 2 || V > AGNET_NB101_NODES || classes[0] !== AGNET_INPUT || classes[V - 1] !== AGNET_OUTPUT) return null
  const ops: string[] = []
  for (let v = 0; v < V; v++) {
    if (v > 0 && classes[v] === AGNET_INPUT) return null
    const label = AGNET_TO_NB101_LABEL[classes[v]]
    if (label === undefined) return null
    ops.push(label)
  }
  const matrix = Array.from({ length: V }, () => new Array<number>(V).fill(0))
  for (let i = 1; i < V; i++) for (let j = 0; j < i; j++) if (edges[agnetEdgeIndex(j, i)] !== 0) matrix[j][i] = 1
  return { matrix, ops }
}

/** nasrank's NB-101 op code (0 input, 1 conv1x1, 2 conv3x3, 3 maxpool, 4 output) → AG-Net class. */
export const NB101_CODE_TO_AGNET = Object.freeze([AGNET_INPUT, 2, 3, 4, AGNET_OUTPUT])

/**
 * Cell `index` of columnar NB-101 cells (nb101.Nb101Cells) as AG-Net node classes (7, padded
 * with output rows after its V vertices) and edge bits (21, edge j→i at i(i−1)/2 + j): the same
 * graph as {@link agnetNb101Encode} of the cell, without building a spec.
 */
export function agnetNb101CellGraph (cells: { vertices: Uint8Array, adjacency: Uint32Array, ops: Uint8Array }, index: number,
  classes: Uint8Array, cAt: number, edges: Uint8Array, eAt: number): void {
  const M = AGNET_NB101_NODES
  const V = cells.vertices[index]
  if (!(V >= 2 && V <= M)) throw new RangeError(`agnetNb101CellGraph: cell ${index} has ${V} vertices (2 to 7 expected)`)
  for (let v = 0; v < M; v++) {
    const cls = v < V ? NB101_CODE_TO_AGNET[cells.ops[7 * index + v]] : AGNET_OUTPUT
    if (cls === undefined) throw new RangeError(`agnetNb101CellGraph: cell ${index} has op code ${cells.ops[7 * index + v]} at vertex ${v}`)
    classes[cAt + v] = cls
  }
  const adj = cells.adjacency[index]
  edges.fill(0, eAt, eAt + agnetEdgeCount(M))
  for (let i = 1; i < V; i++) {
    for (let j = 0; j < i; j++) {
      // nb101's packed bit of j → i (j < i): j·7 − j(j+1)/2 + (i − j − 1).
      if (((adj >>> (j * 7 - (j * (j + 1)) / 2 + (i - j - 1))) & 1) === 1) edges[eAt + agnetEdgeIndex(j, i)] = 1
    }
  }
}

/** Writes the one-hot encoding g of node classes and edge bits (any shape) at `at` of `out`. */
export function agnetEncodeGraphInto (nodes: number, classCount: number, classes: ArrayLike<number>, cAt: number, edges: ArrayLike<number>, eAt: number, out: Float64Array, at: number): void {
  const E = agnetEdgeCount(nodes)
  out.fill(0, at, at + agnetLength(nodes, classCount))
  for (let v = 0; v < nodes; v++) out[at + v * classCount + classes[cAt + v]] = 1
  for (let k = 0; k < E; k++) out[at + nodes * classCount + k] = edges[eAt + k] !== 0 ? 1 : 0
}
