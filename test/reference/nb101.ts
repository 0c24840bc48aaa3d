// Slow, obvious references for NAS-Bench-101, transcribed from the official nasbench code
// (model_spec.py, api.py _check_spec, graph_util.py hash_module, generate_graphs.py,
// model_builder.py compute_vertex_channels / build_module / build_model_fn) onto plain JS
// arrays, with MD5 from node:crypto. Nothing here is shared with the package's code paths
// except lib/random's generator where a test must reproduce the same random draws.
import * as crypto from 'node:crypto'
import { Random } from '../../lib/index'

export type Matrix = number[][]
export const AVAILABLE_OPS = ['conv3x3-bn-relu', 'conv1x1-bn-relu', 'maxpool3x3']
const OP_NAMES = ['input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3', 'output']

export interface RefSpec { matrix: Matrix; ops: string[] }

/** The example cell of the NAS-Bench-101 README (Inception-like), as the README writes it. */
export const README_CELL: RefSpec = {
  matrix: [
    [0, 1, 1, 1, 0, 1, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 1, 0, 0],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 1],
    [0, 0, 0, 0, 0, 0, 0]
  ],
  ops: ['input', 'conv1x1-bn-relu', 'conv3x3-bn-relu', 'conv3x3-bn-relu', 'conv3x3-bn-relu', 'maxpool3x3', 'output']
}

/** ModelSpec._prune: null when the input does not reach the output. */
export function prune (matrix: Matrix, ops: string[]): RefSpec | null {
  const n = matrix.length
  const fromInput = new Set([0])
  let frontier = [0]
  while (frontier.length) {
    const top = frontier.pop()!
    for (let v = top + 1; v < n; v++) {
      if (matrix[top][v] && !fromInput.has(v)) { fromInput.add(v); frontier.push(v) }
    }
  }
  const fromOutput = new Set([n - 1])
  frontier = [n - 1]
  while (frontier.length) {
    const top = frontier.pop()!
    for (let v = 0; v < top; v++) {
      if (matrix[v][top] && !fromOutput.has(v)) { fromOutput.add(v); frontier.push(v) }
    }
  }
  const extraneous = new Set<number>()
  for (let v = 0; v < n; v++) if (!(fromInput.has(v) && fromOutput.has(v))) extraneous.add(v)
  if (extraneous.size > n - 2) return null
  const keep = [...Array(n).keys()].filter(v => !extraneous.has(v))
  return { matrix: keep.map(i => keep.map(j => matrix[i][j])), ops: keep.map(i => ops[i]) }
}

/** ModelSpec + NASBench._check_spec on a well-formed (square, upper-triangular, 0/1) input. */
export function isValid (matrix: Matrix, ops: string[]): boolean {
  const s = prune(matrix, ops)
  if (!s) return false
  const edges = s.matrix.reduce((a, row) => a + row.reduce((b, x) => b + x, 0), 0)
  if (s.ops.length > 7 || edges > 9) return false
  if (s.ops[0] !== 'input' || s.ops[s.ops.length - 1] !== 'output') return false
  return s.ops.slice(1, -1).every(o => AVAILABLE_OPS.includes(o))
}

const md5 = (text: string) => crypto.createHash('md5').update(text, 'utf8').digest('hex')

/** graph_util.hash_module. */
export function hashModule (matrix: Matrix, labeling: number[]): string {
  const v = matrix.length
  const inEdges = Array.from({ length: v }, (_, j) => matrix.reduce((a, row) => a + row[j], 0))
  const outEdges = matrix.map(row => row.reduce((a, x) => a + x, 0))
  let hashes = labeling.map((label, k) => md5(`(${outEdges[k]}, ${inEdges[k]}, ${label})`))
  for (let round = 0; round < v; round++) {
    const next: string[] = []
    for (let u = 0; u < v; u++) {
      const inN: string[] = []; const outN: string[] = []
      for (let w = 0; w < v; w++) {
        if (matrix[w][u]) inN.push(hashes[w])
        if (matrix[u][w]) outN.push(hashes[w])
      }
      next.push(md5(inN.sort().join('') + '|' + outN.sort().join('') + '|' + hashes[u]))
    }
    hashes = next
  }
  return md5('[' + [...hashes].sort().map(h => `'${h}'`).join(', ') + ']')
}

/** ModelSpec.hash_spec(available_ops) of a pruned spec. */
export function hashSpec (s: RefSpec): string {
  const labeling = [-1, ...s.ops.slice(1, -1).map(o => AVAILABLE_OPS.indexOf(o)), -2]
  return hashModule(s.matrix, labeling)
}

/** generate_graphs.py for graphs of up to maxVertices vertices: hash -> first [matrix, labeling]. */
export function generateGraphs (maxVertices: number): Map<string, { matrix: Matrix; labeling: number[] }> {
  const buckets = new Map<string, { matrix: Matrix; labeling: number[] }>()
  for (let v = 2; v <= maxVertices; v++) {
    const bitsCount = (v * (v - 1)) / 2
    for (let bits = 0; bits < 2 ** bitsCount; bits++) {
      const matrix: Matrix = Array.from({ length: v }, (_, x) => Array.from({ length: v }, (_, y): number => (x < y && (Math.floor(bits / 2 ** (x + (y * (y - 1)) / 2)) % 2 === 1) ? 1 : 0)))
      // is_full_dag and num_edges
      const rowsBad = matrix.slice(0, v - 1).some(row => row.every(x => x === 0))
      const colsBad = Array.from({ length: v - 1 }, (_, k) => k + 1).some(j => matrix.every(row => row[j] === 0))
      const edges = matrix.reduce((a, row) => a + row.reduce((b, x) => b + x, 0), 0)
      if (rowsBad || colsBad || edges > 9) continue
      // itertools.product(range(3), repeat=v-2), last position fastest
      for (let index = 0; index < 3 ** (v - 2); index++) {
        const labels: number[] = []
        let rest = index
        for (let k = 0; k < v - 2; k++) { labels.unshift(rest % 3); rest = Math.floor(rest / 3) }
        const labeling = [-1, ...labels, -2]
        const fingerprint = hashModule(matrix, labeling)
        if (!buckets.has(fingerprint)) buckets.set(fingerprint, { matrix, labeling })
      }
    }
  }
  return buckets
}

/** model_builder.compute_vertex_channels. */
export function computeVertexChannels (inputChannels: number, outputChannels: number, matrix: Matrix): number[] {
  const n = matrix.length
  const ch = new Array<number>(n).fill(0)
  ch[0] = inputChannels
  ch[n - 1] = outputChannels
  if (n === 2) return ch
  const inDegreeOut = matrix.slice(1).reduce((a, row) => a + row[n - 1], 0)
  const interior = Math.floor(outputChannels / inDegreeOut)
  let correction = outputChannels % inDegreeOut
  for (let v = 1; v < n - 1; v++) {
    if (matrix[v][n - 1]) {
      ch[v] = interior
      if (correction) { ch[v] += 1; correction -= 1 }
    }
  }
  for (let v = n - 3; v > 0; v--) {
    if (!matrix[v][n - 1]) {
      for (let dst = v + 1; dst < n - 1; dst++) if (matrix[v][dst]) ch[v] = Math.max(ch[v], ch[dst])
    }
    if (!(ch[v] > 0)) throw new Error('vertex channels must be positive')
  }
  // the official sanity checks
  let fanIn = 0
  for (let v = 1; v < n - 1; v++) {
    if (matrix[v][n - 1]) fanIn += ch[v]
    for (let dst = v + 1; dst < n - 1; dst++) if (matrix[v][dst] && ch[v] < ch[dst]) throw new Error('channels increase')
  }
  if (fanIn !== outputChannels) throw new Error('fan-in mismatch')
  return ch
}

/**
 * The official network's trainable parameters and conv/dense multiply-accumulates, by
 * walking build_module / build_model_fn layer by layer, plus the per-vertex split.
 */
export function networkCost (s: RefSpec): { params: number; flops: number; vertexParams: number[][]; vertexFlops: number[][] } {
  const n = s.matrix.length
  const convBn = (k: number, cin: number, cout: number, hw: number) => ({ p: k * k * cin * cout + 2 * cout, f: hw * hw * k * k * cin * cout })
  let params = 0; let flops = 0
  const stem = convBn(3, 3, 128, 32)
  params += stem.p; flops += stem.f
  const vertexParams: number[][] = []; const vertexFlops: number[][] = []
  let channels = 128; let hw = 32
  for (let stack = 0; stack < 3; stack++) {
    let outChannels = channels
    if (stack > 0) { hw /= 2; outChannels *= 2 }
    for (let m = 0; m < 3; m++) {
      const vp = new Array<number>(n).fill(0); const vf = new Array<number>(n).fill(0)
      const ch = computeVertexChannels(channels, outChannels, s.matrix)
      for (let t = 1; t < n - 1; t++) {
        if (s.matrix[0][t]) { const c = convBn(1, channels, ch[t], hw); vp[t] += c.p; vf[t] += c.f }
        const op = s.ops[t]
        if (op === 'conv3x3-bn-relu') { const c = convBn(3, ch[t], ch[t], hw); vp[t] += c.p; vf[t] += c.f }
        if (op === 'conv1x1-bn-relu') { const c = convBn(1, ch[t], ch[t], hw); vp[t] += c.p; vf[t] += c.f }
      }
      if (s.matrix[0][n - 1]) { const c = convBn(1, channels, outChannels, hw); vp[n - 1] += c.p; vf[n - 1] += c.f }
      params += vp.reduce((a, x) => a + x, 0); flops += vf.reduce((a, x) => a + x, 0)
      vertexParams.push(vp); vertexFlops.push(vf)
      channels = outChannels
    }
  }
  params += channels * 10 + 10
  flops += channels * 10
  return { params, flops, vertexParams, vertexFlops }
}

/** Longest-path depth from the input, by recursion over predecessors. */
export function depths (matrix: Matrix): number[] {
  const n = matrix.length
  const memo = new Map<number, number>()
  const depth = (v: number): number => {
    if (v === 0) return 0
    if (memo.has(v)) return memo.get(v)!
    let d = -Infinity
    for (let u = 0; u < n; u++) if (matrix[u][v]) d = Math.max(d, depth(u) + 1)
    memo.set(v, d)
    return d
  }
  return Array.from({ length: n }, (_, v) => depth(v))
}

/** The renasEncode vertex order of a pruned spec: original vertex at each of the 7 positions (255 = padding). */
export function renasOrder (s: RefSpec, augment: boolean, seed: number, stream: number): number[] {
  const n = s.matrix.length
  const d = depths(s.matrix)
  const sorted = [...Array(n).keys()].sort((a, b) => d[a] - d[b] || a - b)
  if (augment) {
    const rng = new Random(seed, stream)
    for (let start = 0; start < n;) {
      let end = start + 1
      while (end < n && d[sorted[end]] === d[sorted[start]]) end++
      for (let i = end - start - 1; i >= 1; i--) {
        const j = rng.int(i + 1)
        const tmp = sorted[start + i]; sorted[start + i] = sorted[start + j]; sorted[start + j] = tmp
      }
      start = end
    }
  }
  const order = new Array<number>(7).fill(255)
  for (let p = 0; p < n - 1; p++) order[p] = sorted[p]
  order[6] = sorted[n - 1]
  return order
}

/** ReNAS tensor of one cell as nested [channel][i][j] arrays. */
export function renasTensor (s: RefSpec, options: { channels: number; augment: boolean; seed: number; stream: number; flopsScale: number; paramsScale: number }): number[][][] {
  const order = renasOrder(s, options.augment, options.seed, options.stream)
  const cost = networkCost(s)
  const code = (v: number) => OP_NAMES.indexOf(s.ops[v]) + 1
  const out = Array.from({ length: options.channels }, () => Array.from({ length: 7 }, () => new Array<number>(7).fill(0)))
  for (let i = 0; i < 7; i++) {
    for (let j = 0; j < 7; j++) {
      const a = order[i]; const b = order[j]
      if (a === 255 || b === 255 || !s.matrix[a][b]) continue
      out[0][i][j] = code(b)
      if (options.channels === 19) {
        for (let k = 0; k < 9; k++) {
          out[1 + k][i][j] = Math.fround(cost.vertexFlops[k][b] * options.flopsScale)
          out[10 + k][i][j] = Math.fround(cost.vertexParams[k][b] * options.paramsScale)
        }
      }
    }
  }
  return out
}

/** A random raw 7-vertex cell (possibly invalid): upper-triangular bits with probability p, random labels. */
export function randomRaw (rand: () => number, n = 7, p = 0.5): RefSpec {
  const matrix = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (j > i && rand() < p ? 1 : 0)))
  const ops = ['input', ...Array.from({ length: n - 2 }, () => AVAILABLE_OPS[Math.floor(rand() * 3)]), 'output']
  return { matrix, ops }
}

/** Relabels a spec by a permutation (perm[new] = old vertex). */
export function permute (s: RefSpec, perm: number[]): RefSpec {
  return { matrix: perm.map(a => perm.map(b => s.matrix[a][b])), ops: perm.map(a => s.ops[a]) }
}

/** A uniformly chosen topological order of a pruned cell (input first, output last). */
export function randomTopologicalOrder (s: RefSpec, rand: () => number): number[] {
  const n = s.matrix.length
  const indeg = Array.from({ length: n }, (_, j) => s.matrix.reduce((a, row) => a + row[j], 0))
  const order: number[] = []
  const ready = [0]
  while (ready.length) {
    const k = Math.floor(rand() * ready.length)
    const v = ready.splice(k, 1)[0]
    order.push(v)
    for (let w = 0; w < n; w++) if (s.matrix[v][w] && --indeg[w] === 0) ready.push(w)
  }
  return order
}
