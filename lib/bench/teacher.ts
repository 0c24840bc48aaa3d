// The synthetic teacher behind `synthetic-101` and `synthetic-201`: a deterministic,
// versioned function from an architecture to accuracies, so every command runs on a fresh
// machine without downloads. Its numbers are NOT benchmark results; everything that shows
// them labels them synthetic.
//
// Construction (version 1), per space:
//   latent z = wGraph * g + wCost * c + wOwn * e, each term standardised over the space:
//     g  a fixed random 2-layer GCN over the cell's graph (the package's GCN layer, seeded
//        weights), read out through random tanh units - learnable from the graph, but not
//        a simple function of op counts;
//     c  log(parameter count) - bigger cells tend to be better, as in the real benchmarks;
//     e  a per-architecture normal draw keyed by the architecture's identity - the part no
//        predictor can learn (it plays the role of training idiosyncrasy).
//   Final accuracy = the space's target marginal (inverse-CDF knots below) at the rank of z
//   among the connected cells, so the marginal is exact by construction; a cell whose
//   output is unreachable gets chance accuracy. Earlier epochs follow a saturating learning
//   curve whose speed depends on the cell's size (small cells learn faster, so low-budget
//   rankings differ from final ones), and every (metric, epochs, repeat) adds seeded noise.
import { type GraphBatch } from '../encode/graph'

export const TEACHER_VERSION = 1

export interface TeacherProfile {
  /** Bench name, e.g. 'synthetic-201'. */
  name: string
  /** 'fraction' (0..1, NAS-Bench-101's convention) or 'percent' (NAS-Bench-201's). */
  scale: 'fraction' | 'percent'
  /** Inverse CDF of the final test accuracy of connected cells: [quantile in %, accuracy]. */
  quantiles: ReadonlyArray<readonly [number, number]>
  /** Accuracy of a cell whose output is unreachable (10 classes: chance). */
  chance: number
  /** Epoch budgets on offer; the last one is the final. */
  epochs: readonly number[]
  repeats: number
  /** Standard deviation of the per-repeat noise on the final test accuracy. */
  noise: number
  /** Typical accuracy shortfall (in percentage points) early in training. */
  earlyGap: number
  /** Mean validation-minus-test offset (validation split is slightly easier or harder). */
  valOffset: number
  weights: { graph: number, cost: number, own: number }
}

// Targets: NAS-Bench-201 CIFAR-10 quantiles summarise ../shared/data/nb201-cifar10-test.csv
// (connected cells; 341 disconnected ones sit at 10.0). NAS-Bench-101's are a plausible
// shape (most cells 85-95 %, a long low tail), not measured data.
export const PROFILES: Readonly<Record<'synthetic-101' | 'synthetic-201', TeacherProfile>> = {
  'synthetic-201': {
    name: 'synthetic-201',
    scale: 'percent',
    quantiles: [[0, 46.247], [0.5, 55.826], [1, 62.562], [2, 69.981], [3, 73.603], [5, 75.7], [7.5, 79.107],
      [10, 80.611], [15, 85.963], [20, 86.852], [25, 88.093], [30, 88.753], [40, 89.67], [50, 90.837],
      [60, 91.55], [70, 92.04], [75, 92.197], [80, 92.38], [85, 92.62], [90, 92.947], [92.5, 93.11],
      [95, 93.28], [97.5, 93.54], [99, 93.78], [99.5, 93.902], [99.9, 94.172], [100, 94.373]],
    chance: 10,
    epochs: [12, 200],
    repeats: 3,
    noise: 0.25,
    earlyGap: 15,
    valOffset: -0.3,
    weights: { graph: 0.45, cost: 0.9, own: 0.3 }
  },
  'synthetic-101': {
    name: 'synthetic-101',
    scale: 'fraction',
    quantiles: [[0, 0.10], [0.05, 0.40], [0.2, 0.62], [0.5, 0.75], [1, 0.805], [2, 0.84], [5, 0.865], [10, 0.88],
      [20, 0.896], [30, 0.905], [40, 0.911], [50, 0.916], [60, 0.920], [70, 0.924], [80, 0.928], [90, 0.933],
      [95, 0.936], [99, 0.940], [100, 0.9432]],
    chance: 0.1,
    epochs: [4, 12, 36, 108],
    repeats: 3,
    noise: 0.0035,
    earlyGap: 15,
    valOffset: 0.002,
    weights: { graph: 0.45, cost: 0.9, own: 0.3 }
  }
}

export type Metric = 'train' | 'val' | 'test'
export const METRICS: readonly Metric[] = ['train', 'val', 'test']

/** Accuracies of every architecture: index [((arch * E) + epochIndex) * R + repeat]. */
export interface TeacherTable {
  profile: TeacherProfile
  count: number
  /** Noise-free final test accuracy (the teacher's ground truth; not exposed by queries). */
  truth: Float64Array
  train: Float32Array
  val: Float32Array
  test: Float32Array
}

export interface TeacherInput {
  graphs: GraphBatch
  /** Parameter count per architecture. */
  params: Float64Array
  /** 1 where the output is reachable from the input. */
  connected: Uint8Array
  /** Stable per-architecture identity (e.g. hash words or index), two uint32 per cell. */
  keys: Uint32Array
}

// ---- counter-based randomness: the same (seed, key, stream) always gives the same draw ----

function mix32 (h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

function hash4 (a: number, b: number, c: number, d: number): number {
  let h = mix32(a ^ 0x9e3779b9)
  h = mix32(h ^ b)
  h = mix32((h + Math.imul(c, 0x27d4eb2f)) | 0)
  return mix32(h ^ Math.imul(d | 0, 0x165667b1))
}

/** A standard normal draw determined by its four coordinates (Box-Muller on two hashes). */
export function hashNormal (a: number, b: number, c: number, d: number): number {
  const u1 = (hash4(a, b, c, d) + 1) / 4294967297
  const u2 = hash4(a ^ 0x5bd1e995, b, c, d) / 4294967296
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

// ---- the random graph network ------------------------------------------------------------

const HIDDEN = 24
const READOUT = 8

/**
 * The latent graph term g of every architecture: two GCN layers (the package's layer:
 * ReLU(Â H W + b), Â = D̃^-1/2 (A + diag(mask)) D̃^-1/2), masked mean pooling, then
 * READOUT random tanh units summed with random weights.
 */
export function randomGraphScore (graphs: GraphBatch, seed: number): Float64Array {
  const { count, vertices: V, features: F } = graphs
  const weight = (layer: number, rows: number, cols: number): Float64Array => {
    const w = new Float64Array(rows * cols)
    const scale = Math.sqrt(2 / rows)
    for (let i = 0; i < w.length; i++) w[i] = hashNormal(seed, 0x67636e, layer, i) * scale
    return w
  }
  const w1 = weight(1, F, HIDDEN)
  const b1 = weight(2, 1, HIDDEN).map(v => v * 0.1)
  const w2 = weight(3, HIDDEN, HIDDEN)
  const b2 = weight(4, 1, HIDDEN).map(v => v * 0.1)
  const u = weight(5, HIDDEN, READOUT)
  const v = weight(6, 1, READOUT)
  const out = new Float64Array(count)
  // Â's non-zero entries per row (column index and value): a cell has at most 9 edges, so
  // skipping the zeros (whose products add exactly nothing) more than halves the work
  // while keeping every sum's order, hence the table, bit for bit.
  const rowStart = new Int32Array(V + 1)
  const cols = new Int32Array(V * V)
  const vals = new Float64Array(V * V)
  const deg = new Float64Array(V)
  const h1 = new Float64Array(V * HIDDEN)
  const h2 = new Float64Array(V * HIDDEN)
  const tmp = new Float64Array(V * HIDDEN)
  const pooled = new Float64Array(HIDDEN)
  const layer = (hIn: Float64Array, fin: number, w: Float64Array, b: Float64Array, hOut: Float64Array, mask: Float32Array, mo: number): void => {
    // tmp = hIn W, then hOut = ReLU(Â tmp + b) on real vertices.
    tmp.fill(0)
    for (let i = 0; i < V; i++) {
      for (let k = 0; k < fin; k++) {
        const a = hIn[i * fin + k]
        if (a === 0) continue
        for (let j = 0; j < HIDDEN; j++) tmp[i * HIDDEN + j] += a * w[k * HIDDEN + j]
      }
    }
    for (let i = 0; i < V; i++) {
      if (mask[mo + i] === 0) { hOut.fill(0, i * HIDDEN, (i + 1) * HIDDEN); continue }
      for (let j = 0; j < HIDDEN; j++) {
        let s = b[j]
        for (let e = rowStart[i]; e < rowStart[i + 1]; e++) s += vals[e] * tmp[cols[e] * HIDDEN + j]
        hOut[i * HIDDEN + j] = s > 0 ? s : 0
      }
    }
  }
  for (let g = 0; g < count; g++) {
    const ao = g * V * V
    const mo = g * V
    for (let i = 0; i < V; i++) {
      let d = graphs.mask[mo + i]
      for (let j = 0; j < V; j++) d += graphs.adjacency[ao + i * V + j]
      deg[i] = d > 0 ? 1 / Math.sqrt(d) : 0
    }
    let nnz = 0
    for (let i = 0; i < V; i++) {
      rowStart[i] = nnz
      for (let j = 0; j < V; j++) {
        const a = graphs.adjacency[ao + i * V + j] + (i === j ? graphs.mask[mo + i] : 0)
        const value = a * deg[i] * deg[j]
        if (value !== 0) { cols[nnz] = j; vals[nnz++] = value }
      }
    }
    rowStart[V] = nnz
    const x = Float64Array.from(graphs.x.subarray(g * V * F, (g + 1) * V * F))
    layer(x, F, w1, b1, h1, graphs.mask, mo)
    layer(h1, HIDDEN, w2, b2, h2, graphs.mask, mo)
    let real = 0
    for (let i = 0; i < V; i++) real += graphs.mask[mo + i]
    for (let j = 0; j < HIDDEN; j++) {
      let sum = 0
      for (let i = 0; i < V; i++) sum += h2[i * HIDDEN + j]
      pooled[j] = real > 0 ? sum / real : 0
    }
    let score = 0
    for (let r = 0; r < READOUT; r++) {
      let s = 0
      for (let j = 0; j < HIDDEN; j++) s += pooled[j] * u[j * READOUT + r]
      score += Math.tanh(s) * v[r]
    }
    out[g] = score
  }
  return out
}

// ---- the table -----------------------------------------------------------------------------

function standardise (values: Float64Array, use: Uint8Array): Float64Array {
  let n = 0; let mean = 0
  for (let i = 0; i < values.length; i++) if (use[i] !== 0) { n++; mean += values[i] }
  mean /= Math.max(n, 1)
  let sq = 0
  for (let i = 0; i < values.length; i++) if (use[i] !== 0) sq += (values[i] - mean) ** 2
  const sd = Math.sqrt(sq / Math.max(n - 1, 1)) || 1
  return values.map(v => (v - mean) / sd)
}

/** y minus its least-squares fit on x (both standardised over `use`). */
function residual (y: Float64Array, x: Float64Array, use: Uint8Array): Float64Array {
  let xy = 0; let xx = 0
  for (let i = 0; i < y.length; i++) if (use[i] !== 0) { xy += x[i] * y[i]; xx += x[i] * x[i] }
  const beta = xx === 0 ? 0 : xy / xx
  return y.map((v, i) => v - beta * x[i])
}

function inverseCdf (quantiles: TeacherProfile['quantiles'], percent: number): number {
  for (let k = 1; k < quantiles.length; k++) {
    const [p1, v1] = quantiles[k]
    if (percent <= p1 || k === quantiles.length - 1) {
      const [p0, v0] = quantiles[k - 1]
      const t = p1 === p0 ? 0 : Math.min(1, Math.max(0, (percent - p0) / (p1 - p0)))
      return v0 + t * (v1 - v0)
    }
  }
  return quantiles[quantiles.length - 1][1]
}

const STREAM = { own: 1, train: 2, val: 3, test: 4, speed: 5 } as const

/** Builds the whole synthetic table of a space. Deterministic in (profile, seed, input). */
export function buildTeacherTable (profile: TeacherProfile, input: TeacherInput, seed = TEACHER_VERSION): TeacherTable {
  const n = input.graphs.count
  if (input.params.length !== n || input.connected.length !== n || input.keys.length !== 2 * n) {
    throw new RangeError(`buildTeacherTable: params, connected and keys must describe ${n} architectures`)
  }
  const logParams = standardise(input.params.map(p => Math.log(Math.max(p, 1))), input.connected)
  // The graph term is made uncorrelated with size, so `weights` set the mix exactly.
  const graph = standardise(residual(standardise(randomGraphScore(input.graphs, seed), input.connected), logParams, input.connected), input.connected)
  const own = new Float64Array(n)
  for (let i = 0; i < n; i++) own[i] = hashNormal(seed, input.keys[2 * i] ^ STREAM.own, input.keys[2 * i + 1], 0)
  const { weights } = profile
  const latent = new Float64Array(n)
  for (let i = 0; i < n; i++) latent[i] = weights.graph * graph[i] + weights.cost * logParams[i] + weights.own * own[i]

  // Rank the connected cells by latent (ties broken by index) and map ranks to the marginal.
  const order: number[] = []
  for (let i = 0; i < n; i++) if (input.connected[i] !== 0) order.push(i)
  order.sort((a, b) => latent[a] - latent[b] || a - b)
  const truth = new Float64Array(n).fill(profile.chance)
  const m = order.length
  for (let r = 0; r < m; r++) truth[order[r]] = inverseCdf(profile.quantiles, m === 1 ? 100 : (100 * r) / (m - 1))

  const E = profile.epochs.length
  const R = profile.repeats
  const top = profile.scale === 'percent' ? 100 : 1
  const final = profile.epochs[E - 1]
  const train = new Float32Array(n * E * R)
  const val = new Float32Array(n * E * R)
  const test = new Float32Array(n * E * R)
  const clip = (v: number): number => Math.min(top, Math.max(0, v))
  const unit = top / 100
  for (let i = 0; i < n; i++) {
    const k0 = input.keys[2 * i]
    const k1 = input.keys[2 * i + 1]
    // Early epochs: accuracy is short of the final by a gap that shrinks like e^(-e/T) and
    // is larger for bigger cells (they converge more slowly) - so rankings at a low budget
    // are informative but not the final ranking.
    const gapScale = profile.earlyGap * unit * (1 + 0.1 * logParams[i] + 0.05 * hashNormal(seed, k0 ^ STREAM.speed, k1, 0))
    for (let ei = 0; ei < E; ei++) {
      const e = profile.epochs[ei]
      const shortfall = (Math.exp(-e / (0.1 * final)) - Math.exp(-10)) / (1 - Math.exp(-10))
      const mean = truth[i] - Math.max(0, gapScale) * shortfall
      const spread = profile.noise * (1 + 2 * Math.exp(-e / 10))
      for (let r = 0; r < R; r++) {
        const at = (i * E + ei) * R + r
        const t = input.connected[i] !== 0 ? mean + spread * hashNormal(seed, k0 ^ STREAM.test, k1, ei * 8 + r) : profile.chance
        const v = input.connected[i] !== 0 ? mean + profile.valOffset + spread * hashNormal(seed, k0 ^ STREAM.val, k1, ei * 8 + r) : profile.chance
        // Training accuracy closes most of the remaining gap to 100 % as epochs grow.
        const gapKept = 0.25 + 0.75 * Math.exp(-e / (0.3 * final))
        const tr = input.connected[i] !== 0 ? top - (top - mean) * gapKept + 0.5 * spread * hashNormal(seed, k0 ^ STREAM.train, k1, ei * 8 + r) : profile.chance
        test[at] = clip(t)
        val[at] = clip(v)
        train[at] = clip(tr)
      }
    }
  }
  return { profile, count: n, truth, train, val, test }
}
