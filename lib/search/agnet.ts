// AG-Net search (Lukasik, Jung & Keuper, "Learning Where To Look — Generative NAS is
// Surprisingly Efficient", ECCV 2022, Sect. 3–4.1), as a SearchMethod of the harness.
//
//   0. Pretraining (query-free, Sect. 4): the generator G learns to reconstruct random
//      architectures of the space, L_G = CE(nodes) + BCE(edges) between p_G(z), z ~ N(0, I),
//      and a randomly paired architecture (no encoder; Eq. 1); batch 32, Adam lr 2e-4,
//      betas (0.5, 0.999). Cached per (space, steps, seed) in the process.
//   1. Query `init` (16) random architectures.
//   2. Retrain G and the surrogate f jointly for `epochs` (NB-201: 30) epochs: each epoch N
//      draws with replacement ∝ w of the N queried architectures, batch 16, loss
//      mean(w · ((1−α)L_G + α·MSE(f(p_G(z)), acc))) (Eq. 2, α = 0.9), the MSE backpropagating
//      into G; w = 1/(kN + rank), rank = #{j : acc_j > acc_i} (Eq. 3, k = 0.01);
//      Adam lr 1e-3, betas (0.5, 0.999), one optimiser for the whole run (never reset).
//   3. Draw z ~ U(−3, 3)^32 in batches of 100, 200, …, 900 until more than `candidates` (100)
//      valid, unqueried, distinct architectures are found; shuffle and keep 100.
//   4. Query the `k` (16) best by the surrogate's score of the generator's logits.
//   5. Repeat until the budget is spent (no new candidates ⇒ stop; the run is shorter).
// Variants: 'no-lso' (w ≡ 1), 'no-backprop' (f trained on the true encoding g of the paired
// architecture and scores the decoded candidates' g; G's loss 2·CE + BCE, as the authors' code).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import { Random } from '../random'
import { Oracle } from './oracle'
import { intSetting, numberSetting, readSettings } from './settings'
import { oneOf } from '../validate'
import type { SearchMethod, SearchRun, SearchTrajectory } from './types'
import type { Bench } from '../bench/bench'
import { AGNET_LATENT, AgNetGenerator, AgNetHwSurrogate, AgNetSurrogate, reconstructionLoss, restore, snapshot, Adam, Mat, Tape, type AgNetShape } from '../models/agnet'
import { AGNET_NB101_CLASSES, AGNET_NB101_NODES, AGNET_NB201_CLASSES, AGNET_NB201_EDGES, AGNET_NB201_NODES, agnetEdgeCount, agnetEncodeGraphInto, agnetNb101CellGraph, agnetNb101Graph, agnetNb201Classes, agnetNb201DecodeGraph, AGNET_OUTPUT } from '../encode/agnet'
import * as nb101 from '../spaces/nb101'
import { sigmoid } from '../models/autodiff'
import { AgNetNative } from '../models/agnet-native'

export type AgNetVariant = 'agnet' | 'no-lso' | 'no-backprop'
export const AGNET_VARIANTS: readonly AgNetVariant[] = Object.freeze(['agnet', 'no-lso', 'no-backprop'] as const)

export interface AgNetSettings {
  /** 'agnet' (default), 'no-lso' (w ≡ 1) or 'no-backprop' (surrogate on the true encoding). */
  variant?: AgNetVariant
  /** Random architectures first (default 16). */
  init?: number
  /** Architectures queried per iteration (default 16; 1 is the paper's top-1 row). */
  k?: number
  /** Retraining epochs per iteration (default: 30 on NB-201, 15 on NB-101, the paper's). */
  epochs?: number
  /** Retraining batch size (default 16). */
  batchSize?: number
  /**
   * Retraining Adam learning rate (default 1e-3, the paper's). With a short (1,000-step)
   * pretraining, the first steps at 1e-3 drop the valid share of decoded cells from 86% to ~0%;
   * `retries` lets it recover (docs/agnet.md).
   */
  lr?: number
  /**
   * Linear learning-rate warm-up over the first W retraining steps of the search (nasrank's
   * option, not the paper's): step t (1, 2, … counted over the whole run, as the one Adam is
   * never reset) uses lr·min(1, t/W), for G, the surrogate and the HW surrogate alike. Adam's
   * bias-corrected first steps move every parameter by about ±lr whatever its gradient's size;
   * at the paper's lr that flips edge bits of the fixed NB-201 DAG for a few steps. Measured
   * (docs/agnet.md, "A learning-rate warm-up against the collapse"): W = 30 removes that first
   * dip, but the decodes still break once the lr is full, and quality at 96 queries on CIFAR-10
   * moved within its noise. Default 0: no warm-up, the paper's behaviour.
   */
  warmupSteps?: number
  /** Weight α of the surrogate's MSE in Eq. 2 (default 0.9). */
  alpha?: number
  /** k of the rank weights w = 1/(kN + rank) (default 0.01). */
  rankK?: number
  /** Candidates kept per iteration (default 100). */
  candidates?: number
  /**
   * Extra retraining rounds when an iteration finds no new candidate, before the run stops
   * (default 3; 0 is the paper's rule: stop at once). A short-pretrained generator can lose
   * its valid decodes for a few steps after retraining starts (docs/agnet.md).
   */
  retries?: number
  /** z ~ U(−range, range)^32 for candidates (default 3). */
  zRange?: number
  /**
   * Where candidate z come from: 'uniform' (the authors' code: U(−zRange, zRange)^32) or 'normal'
   * (z ~ N(0, I), the distribution G is pretrained and retrained on).
   */
  candidateZ?: 'uniform' | 'normal'
  /**
   * Pretraining steps of batch 32 when pretraining anew (pretrainSteps or pretrainSeed given;
   * default 30,000, the step count of the shipped weights' run — which also kept the best of
   * its checkpoints, see `weights`; the paper: 78,125 — docs/agnet.md).
   */
  pretrainSteps?: number
  /** Seed of the pretraining (default 0: one pretrained generator shared by every run). */
  pretrainSeed?: number
  /**
   * A weights file of `agnetSaveWeights` used instead of pretraining, or 'shipped' (the default
   * unless pretrainSteps or pretrainSeed is given): the package's weights/agnet-nb201.json,
   * made by agnetPretrain: seed 0, 30,000 steps scored every 1,000, the checkpoint with the most
   * distinct valid cells kept (step 26,000; `nasrank agnet pretrain`, docs/agnet.md).
   */
  weights?: string
  /**
   * What ranks the candidates: 'logits' (the paper: the jointly trained surrogate f on the
   * generator's logits) or 'encoding' (nasrank's change, chosen on CIFAR-10 — docs/agnet.md: the
   * paper's training is kept unchanged, and a second MLP of the same shape, trained in the same
   * batches on the true encoding g of the queried architectures (weighted MSE, no gradient into
   * G), scores the decoded candidates' g). Default 'logits'.
   */
  scorer?: 'logits' | 'encoding'
  /**
   * The hardware-aware variant (Eq. 4–6, Table 5): the bench's cost column holding the
   * latency to constrain (e.g. 'latency_pixel3', or 'flops' as a proxy). Costs are read without
   * counting queries. With it: a surrogate on g ++ a device one-hot predicting accuracy and
   * latency, α 0.95, λ 0.5, Adam lr 2e-4 with weight decay 1e-4, candidate batches 500…2,500,
   * and the joint ranking of `agnetHwScores` for the rank weights and for the queries.
   */
  latency?: string
  /** The latency limit L (> 0, in the column's unit); required with `latency`. */
  limit?: number
  /** Joint 0: rank by accuracy only (infeasible ×1000); Joint 1: accuracy rank + latency rank. */
  joint?: 0 | 1
  /** Weight λ of the accuracy MSE against the latency MSE in the HW surrogate's loss (default 0.5). */
  lambda?: number
  /** The devices of the one-hot, in order (default: the bench's latency_<device> columns, or the latency column alone). */
  devices?: string[]
  /**
   * How candidate edges are read from the edge logits: 'sample' (the paper: Bernoulli(σ)) or
   * 'threshold' (σ > 0.5). On NB-201 every one of the 28 edge bits must match the fixed DAG, so
   * Bernoulli noise on slightly moved logits makes most decodes invalid (docs/agnet.md).
   */
  edges?: 'sample' | 'threshold'
  /**
   * Where the generator runs: 'native' (default; native/agnet.cc: forward, backward, Adam and
   * candidate generation) or 'js' (the autodiff tape, the reference). The same random draws;
   * values agree to rounding.
   */
  engine?: 'native' | 'js'
}

const KEYS = ['variant', 'init', 'k', 'epochs', 'batchSize', 'lr', 'warmupSteps', 'alpha', 'rankK', 'candidates', 'retries', 'zRange', 'candidateZ', 'pretrainSteps', 'pretrainSeed', 'weights', 'scorer', 'latency', 'limit', 'joint', 'lambda', 'devices', 'edges', 'engine'] as const
const PRETRAIN_BATCH = 32
/** Default pretraining steps: those of the shipped weights' run (weights/agnet-nb201.json). */
export const AGNET_PRETRAIN_STEPS = 30000
const PRETRAIN_LR = 2e-4
const BETA1 = 0.5
const BETA2 = 0.999
/** Candidate z batches: 100, 200, …, 900 (at most 4,500 z). */
const Z_BATCHES = [100, 200, 300, 400, 500, 600, 700, 800, 900]

/** Candidate z batches of the HW variant: 500, 1,000, …, 2,500. */
const Z_BATCHES_HW = [500, 1000, 1500, 2000, 2500]

/**
 * The HW variant's joint ranking score (lower is better): (accuracy rank + joint·latency rank)
 * × 1000 when the latency is above the limit. Ranks count from 1: 1 + #{j : acc_j > acc_i} and
 * 1 + #{j : lat_j < lat_i} (ties share a rank), so the penalty also moves the most accurate
 * infeasible architecture behind every feasible one. A NaN latency counts as infeasible.
 */
export function agnetHwScores (acc: ArrayLike<number>, lat: ArrayLike<number>, limit: number, joint: 0 | 1): Float64Array {
  const n = acc.length
  if (lat.length !== n) throw new RangeError(`agnetHwScores: acc has ${n} values, lat ${lat.length}`)
  if (!(limit > 0)) throw new RangeError(`agnetHwScores: limit must be > 0, got ${limit}`)
  // Ranks from keys where smaller is better (NaN: last).
  const rankOf = (key: (i: number) => number): Float64Array => {
    const k = Float64Array.from({ length: n }, (_, i) => key(i))
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => k[a] < k[b] ? -1 : k[a] > k[b] ? 1 : a - b)
    const r = new Float64Array(n)
    let above = 0
    for (let p = 0; p < n; p++) {
      if (p > 0 && k[order[p]] !== k[order[p - 1]]) above = p
      r[order[p]] = 1 + above
    }
    return r
  }
  const accRank = rankOf(i => Number.isNaN(acc[i]) ? Infinity : -acc[i])
  const latRank = joint === 1 ? rankOf(i => Number.isNaN(lat[i]) ? Infinity : lat[i]) : null
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const s = accRank[i] + (latRank !== null ? latRank[i] : 0)
    out[i] = !(lat[i] <= limit) ? 1000 * s : s
  }
  return out
}

/**
 * The HW variant's incumbent among queried architectures: Joint 0 the best value with latency
 * ≤ limit (−1 when none is feasible); Joint 1 the least joint score (ties: the better value, then
 * the earlier query).
 */
export function agnetHwIncumbent (values: ArrayLike<number>, lat: ArrayLike<number>, limit: number, joint: 0 | 1): number {
  let best = -1
  if (joint === 0) {
    for (let i = 0; i < values.length; i++) if (lat[i] <= limit && (best < 0 || values[i] > values[best])) best = i
    return best
  }
  const s = agnetHwScores(values, lat, limit, 1)
  for (let i = 0; i < values.length; i++) if (best < 0 || s[i] < s[best] || (s[i] === s[best] && values[i] > values[best])) best = i
  return best
}

/**
 * The learning rate of retraining step t (1, 2, …) under a linear warm-up over W steps:
 * lr·min(1, t/W); W = 0 is no warm-up (lr at every step).
 */
export function agnetWarmupLr (lr: number, warmupSteps: number, step: number): number {
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`agnetWarmupLr: step must be an integer >= 1, got ${String(step)}`)
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0) throw new RangeError(`agnetWarmupLr: warmupSteps must be an integer >= 0, got ${String(warmupSteps)}`)
  return warmupSteps > 0 && step < warmupSteps ? lr * step / warmupSteps : lr
}

/** The rank weights of Eq. 3: w_i = 1/(kN + rank_i), rank_i = #{j : v_j > v_i} (ties share a rank). */
export function agnetRankWeights (values: ArrayLike<number>, k: number): Float64Array {
  const n = values.length
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[b] - values[a])
  const w = new Float64Array(n)
  let above = 0
  for (let p = 0; p < n; p++) {
    if (p > 0 && values[order[p]] < values[order[p - 1]]) above = p
    w[order[p]] = 1 / (k * n + above)
  }
  return w
}

/** `count` draws with replacement, index i with probability w_i / Σ w (inverse CDF). */
export function drawProportional (w: ArrayLike<number>, count: number, random: Random): Int32Array {
  const n = w.length
  const cdf = new Float64Array(n)
  let total = 0
  for (let i = 0; i < n; i++) { total += w[i]; cdf[i] = total }
  const out = new Int32Array(count)
  for (let c = 0; c < count; c++) {
    const u = random.float() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cdf[mid] > u) hi = mid; else lo = mid + 1 }
    out[c] = lo
  }
  return out
}

/** What the AG-Net loop needs of a search space. */
export interface AgNetSpace {
  readonly name: 'nb201' | 'nb101'
  readonly shape: AgNetShape
  /** Architectures in the space: {@link decode} returns indices below it (NB-201: 15,625; NB-101: 423,624). */
  readonly size: number
  /** A uniformly random architecture of the whole space (pretraining: no bench, no queries), as node classes and edge bits. */
  randomGraph: (random: Random, classes: Uint8Array, cAt: number, edges: Uint8Array, eAt: number) => void
  /**
   * A sampled graph (`nodes` classes, cut at the first output, and the edge bits of `nodes`
   * nodes) → its index in the space, or −1 when it is no architecture of the space. NB-201: the
   * index ops[0]·5⁵ + … + ops[5]; NB-101: nb101.spec must accept the graph, and the index is its
   * module hash's position in nb101.enumerate() (sorted by hash).
   */
  decode: (classes: Uint8Array, nodes: number, edges: Uint8Array) => number
}

export const AGNET_NB201_SPACE: AgNetSpace = Object.freeze({
  name: 'nb201' as const,
  shape: Object.freeze({ nodes: AGNET_NB201_NODES, classes: AGNET_NB201_CLASSES }),
  size: 15625,
  randomGraph: (random: Random, classes: Uint8Array, cAt: number, edges: Uint8Array, eAt: number) => {
    const ops = new Uint8Array(6)
    for (let e = 0; e < 6; e++) ops[e] = random.int(5)
    agnetNb201Classes(ops, 0, classes.subarray(cAt, cAt + AGNET_NB201_NODES))
    edges.set(AGNET_NB201_EDGES, eAt)
  },
  decode: (classes: Uint8Array, nodes: number, edges: Uint8Array) => {
    const ops = agnetNb201DecodeGraph(classes.subarray(0, nodes), edges.subarray(0, agnetEdgeCount(nodes)))
    return ops === null ? -1 : ops[0] * 3125 + ops[1] * 625 + ops[2] * 125 + ops[3] * 25 + ops[4] * 5 + ops[5]
  }
})

let nb101All: nb101.Nb101Cells | null = null
/** Every NB-101 cell, sorted by module hash (nb101.enumerateSync, read once per process). */
function nb101Cells (): nb101.Nb101Cells { return (nb101All ??= nb101.enumerateSync()) }

export const AGNET_NB101_SPACE: AgNetSpace = Object.freeze({
  name: 'nb101' as const,
  shape: Object.freeze({ nodes: AGNET_NB101_NODES, classes: AGNET_NB101_CLASSES }),
  size: nb101.CELL_COUNT,
  randomGraph: (random: Random, classes: Uint8Array, cAt: number, edges: Uint8Array, eAt: number) => {
    const cells = nb101Cells()
    agnetNb101CellGraph(cells, random.int(cells.count), classes, cAt, edges, eAt)
  },
  decode: (classes: Uint8Array, nodes: number, edges: Uint8Array) => {
    const graph = agnetNb101Graph(classes.subarray(0, nodes), edges)
    if (graph === null) return -1
    const verdict = nb101.check(graph.matrix, graph.ops)
    return verdict.valid ? nb101.indexOfHash(nb101Cells(), verdict.hash) : -1
  }
})

/** The AG-Net space of a bench's search space. */
export function agnetSpaceOf (space: string): AgNetSpace {
  if (space === 'nb201') return AGNET_NB201_SPACE
  if (space === 'nb101') return AGNET_NB101_SPACE
  throw new RangeError(`agnet: no AG-Net encoding for the search space '${space}' (nb101, nb201)`)
}

/**
 * The bench's row of every index of the space (−1: not in the bench). NB-201: the op codes'
 * index; NB-101: the position of the row's module hash in nb101.enumerate().
 */
export function agnetSpaceRows (space: AgNetSpace, bench: Bench): Int32Array {
  const known = SPACE_ROWS.get(bench.archs)
  if (known !== undefined && known.length === space.size) return known
  const rows = spaceRows(space, bench)
  SPACE_ROWS.set(bench.archs, rows)
  return rows
}

/** agnetSpaceRows per bench architecture table (a search reads them once per bench, not per seed). */
const SPACE_ROWS = new WeakMap<object, Int32Array>()

function spaceRows (space: AgNetSpace, bench: Bench): Int32Array {
  const rows = new Int32Array(space.size).fill(-1)
  if (space.name === 'nb201') {
    const ops = bench.archs as Uint8Array
    for (let row = 0; row < bench.size; row++) {
      const b = 6 * row
      rows[ops[b] * 3125 + ops[b + 1] * 625 + ops[b + 2] * 125 + ops[b + 3] * 25 + ops[b + 4] * 5 + ops[b + 5]] = row
    }
    return rows
  }
  const all = nb101Cells()
  const cells = bench.archs as nb101.Nb101Cells
  const hashes = Buffer.from(cells.hash.buffer, cells.hash.byteOffset, cells.hash.byteLength)
  if (hashes.equals(Buffer.from(all.hash.buffer, all.hash.byteOffset, all.hash.byteLength))) {
    // The whole space in nb101.enumerate() order (synthetic-101): row = index.
    for (let i = 0; i < rows.length; i++) rows[i] = i
    return rows
  }
  for (let row = 0; row < bench.size; row++) {
    const i = nb101.indexOfHash(all, hashes.toString('hex', 16 * row, 16 * row + 16))
    if (i >= 0) rows[i] = row
  }
  return rows
}

function normalZ (random: Random, rows: number): Mat {
  const z = new Float64Array(rows * AGNET_LATENT)
  for (let i = 0; i < z.length; i++) z[i] = random.normal()
  return new Mat(rows, AGNET_LATENT, z)
}

const PRETRAINED = new Map<string, Float64Array[]>()

export interface AgNetPretrainOptions {
  /** 'native' (default: native/agnet.cc) or 'js' (the autodiff tape, the reference). Same random draws; the values agree to rounding. */
  engine?: 'native' | 'js'
  /** Native worker threads (default: the addon's). */
  threads?: number
  /** Score the generator every this many steps (0: never; default 0) with {@link agnetGeneratorQuality}. */
  checkpointEvery?: number
  /** Which parameters to return: 'last' (default) or 'valid-unique' (the checkpoint, or the end, with the most distinct valid cells). */
  select?: 'last' | 'valid-unique'
  /** Called after each scored checkpoint. */
  onCheckpoint?: (step: number, quality: AgNetQuality) => void
}

/** How many of `draws` z ~ U(−3, 3)^32 decode (sampled edges, as the search) to valid and to distinct valid NB-201 cells. */
export interface AgNetQuality { draws: number, valid: number, distinct: number }

/** Candidate quality of a generator: `draws` z ~ U(−3, 3)^32 from a fixed stream, sampled as the search samples them. */
export function agnetGeneratorQuality (gen: AgNetGenerator | AgNetNative, draws = 4500, seed = 0, space: AgNetSpace = AGNET_NB201_SPACE): AgNetQuality {
  const nat = gen instanceof AgNetNative ? gen : AgNetNative.fromGenerator(gen)
  const random = new Random(seed, 7)
  const z = new Float64Array(draws * AGNET_LATENT)
  for (let i = 0; i < z.length; i++) z[i] = (2 * random.float() - 1) * 3
  let valid = 0
  let distinct = 0
  if (space.name === 'nb201') {
    const r = nat.generate(z, random, 'sample', new Uint8Array(15625))
    for (let i = 0; i < draws; i++) { if (r.index[i] >= 0) valid++; distinct += r.fresh[i] }
    return { draws, valid, distinct }
  }
  // Other spaces: the native forward, then sampling and decoding here (agnetSampleGraph, the same draws).
  const D = nat.length
  const out = new Mat(draws, D, nat.forward(z))
  const seen = new Uint8Array(space.size)
  const cls = new Uint8Array(space.shape.nodes)
  const edg = new Uint8Array(agnetEdgeCount(space.shape.nodes))
  for (let r = 0; r < draws; r++) {
    const nodes = agnetSampleGraph(space.shape, out, r, random, cls, edg)
    const i = space.decode(cls, nodes, edg)
    if (i < 0) continue
    valid++
    if (seen[i] === 0) { seen[i] = 1; distinct++ }
  }
  return { draws, valid, distinct }
}

/**
 * Pretrains a generator on random architectures (Eq. 1 only); cached per (space, steps, seed,
 * selection). With select 'valid-unique' the parameters returned are those of the scored
 * checkpoint (every `checkpointEvery` steps, and the end) with the most distinct valid cells.
 */
export function agnetPretrain (space: AgNetSpace, steps: number, seed: number, onStep?: (step: number, loss: number) => void, options: AgNetPretrainOptions = {}): AgNetGenerator {
  const gen = new AgNetGenerator(space.shape, new Random(seed, 1))
  const engine = options.engine ?? 'native'
  const every = options.checkpointEvery ?? 0
  const select = options.select ?? 'last'
  if (engine !== 'native' && engine !== 'js') throw new RangeError(`agnetPretrain: options.engine must be 'native' or 'js', got ${String(engine)}`)
  if (!Number.isInteger(every) || every < 0) throw new RangeError(`agnetPretrain: options.checkpointEvery must be an integer >= 0, got ${every}`)
  if (select !== 'last' && select !== 'valid-unique') throw new RangeError(`agnetPretrain: options.select must be 'last' or 'valid-unique', got ${String(select)}`)
  const key = `${space.name}:${steps}:${seed}:${engine}:${select}:${select === 'last' ? 0 : every}`
  const cached = PRETRAINED.get(key)
  if (cached !== undefined) { restore(gen.params, cached); return gen }
  const random = new Random(seed, 2)
  const nat = engine === 'native' ? AgNetNative.fromGenerator(gen, { threads: options.threads }) : null
  const opt = nat === null ? new Adam(gen.params, { lr: PRETRAIN_LR, beta1: BETA1, beta2: BETA2 }) : null
  nat?.setAdam({ lr: PRETRAIN_LR, beta1: BETA1, beta2: BETA2 })
  const { nodes: M } = space.shape
  const E = agnetEdgeCount(M)
  const B = PRETRAIN_BATCH
  const classes = new Uint8Array(B * M)
  const edges = new Uint8Array(B * E)
  const w = new Float64Array(B).fill(1 / B)
  let best: { distinct: number, params: Float64Array } | null = null
  const score = (step: number): void => {
    const probe = nat ?? AgNetNative.fromGenerator(gen)
    const q = agnetGeneratorQuality(probe, 4500, 0, space)
    options.onCheckpoint?.(step, q)
    if (select === 'valid-unique' && (best === null || q.distinct > best.distinct)) best = { distinct: q.distinct, params: Float64Array.from(probe.params) }
  }
  for (let step = 0; step < steps; step++) {
    for (let r = 0; r < B; r++) space.randomGraph(random, classes, r * M, edges, r * E)
    const z = normalZ(random, B)
    let ce: Float64Array
    let bce: Float64Array
    if (nat !== null) {
      const r = nat.trainStep(z.data, { target: { classes, edges, weights: w } })
      ce = r.ce as Float64Array
      bce = r.bce as Float64Array
    } else {
      const tape = new Tape(true)
      const { out } = gen.forward(tape, z)
      const loss = reconstructionLoss(space.shape, out, classes, edges, w)
      tape.backward()
      ;(opt as Adam).update()
      ce = loss.ce
      bce = loss.bce
    }
    if (onStep !== undefined) {
      let l = 0
      for (let r = 0; r < B; r++) l += (ce[r] + bce[r]) / B
      onStep(step, l)
    }
    if (every > 0 && (step + 1) % every === 0 && step + 1 < steps) score(step + 1)
  }
  if (every > 0 || select === 'valid-unique') score(steps)
  if (nat !== null) nat.copyTo(gen)
  const chosen = best as { distinct: number, params: Float64Array } | null
  if (chosen !== null) new AgNetNative(gen.shape, chosen.params).copyTo(gen)
  PRETRAINED.set(key, snapshot(gen.params))
  return gen
}

/**
 * Samples discrete graphs from the generator's output (node classes ~ Categorical(softmax),
 * the last node forced to the output, the graph cut at the first output; edges ~ Bernoulli(σ)).
 */
export function agnetSampleGraph (shape: AgNetShape, out: Mat, r: number, random: Random, classes: Uint8Array, edges: Uint8Array, edgeRule: 'sample' | 'threshold' = 'sample'): number {
  const { nodes: M, classes: C } = shape
  const D = out.cols
  const row = out.data.subarray(r * D, (r + 1) * D)
  let n = M
  const p = new Float64Array(C)
  for (let v = 0; v < M; v++) {
    let cls = AGNET_OUTPUT
    if (v < M - 1) {
      let max = -Infinity
      for (let c = 0; c < C; c++) if (row[v * C + c] > max) max = row[v * C + c]
      let sum = 0
      for (let c = 0; c < C; c++) { p[c] = Math.exp(row[v * C + c] - max); sum += p[c] }
      let u = random.float() * sum
      cls = C - 1
      for (let c = 0; c < C; c++) { u -= p[c]; if (u < 0) { cls = c; break } }
    }
    classes[v] = cls
    if (cls === AGNET_OUTPUT) { n = v + 1; break }
  }
  const E = agnetEdgeCount(n)
  if (edgeRule === 'threshold') for (let k = 0; k < E; k++) edges[k] = row[M * C + k] > 0 ? 1 : 0
  else for (let k = 0; k < E; k++) edges[k] = random.float() < sigmoid(row[M * C + k]) ? 1 : 0
  return n
}

function resolveSettings (settings: unknown) {
  const fn = 'agnet'
  const s = readSettings<AgNetSettings>(settings, fn, KEYS)
  const hw = s.latency !== undefined
  if (hw) {
    if (typeof s.latency !== 'string' || s.latency === '') throw new TypeError(`${fn}: settings.latency must be a cost column name (e.g. 'latency_pixel3' or 'flops'), got ${String(s.latency)}`)
    if (typeof s.limit !== 'number' || !Number.isFinite(s.limit) || s.limit <= 0) throw new RangeError(`${fn}: settings.limit (the latency limit L) must be a number > 0, got ${String(s.limit)}`)
    if (s.variant !== undefined && s.variant !== 'agnet') throw new RangeError(`${fn}: the hardware-aware variant (settings.latency) runs with variant 'agnet' only, got '${String(s.variant)}'`)
    if (s.scorer !== undefined && s.scorer !== 'logits') throw new RangeError(`${fn}: the hardware-aware variant scores on the logits (settings.scorer 'logits'), got '${String(s.scorer)}'`)
  } else {
    for (const k of ['limit', 'joint', 'lambda', 'devices', 'edges'] as const) if (s[k] !== undefined) throw new RangeError(`${fn}: settings.${k} belongs to the hardware-aware variant; give settings.latency too`)
  }
  if (s.joint !== undefined && s.joint !== 0 && s.joint !== 1) throw new RangeError(`${fn}: settings.joint must be 0 or 1, got ${String(s.joint)}`)
  if (s.lambda !== undefined && (typeof s.lambda !== 'number' || !(s.lambda >= 0 && s.lambda <= 1))) throw new RangeError(`${fn}: settings.lambda must be a number in [0, 1], got ${String(s.lambda)}`)
  if (s.devices !== undefined && (!Array.isArray(s.devices) || s.devices.length === 0 || s.devices.some(d => typeof d !== 'string' || d === '') || !s.devices.includes(s.latency as string))) {
    throw new RangeError(`${fn}: settings.devices must be a non-empty list of cost column names that includes settings.latency ('${String(s.latency)}'), got ${JSON.stringify(s.devices)}`)
  }
  const warmupSteps = intSetting(s.warmupSteps, 0, fn, 'warmupSteps', 0)
  return Object.freeze({
    latency: hw ? s.latency as string : null,
    limit: hw ? s.limit as number : null,
    joint: hw ? (s.joint ?? 0) : null,
    lambda: hw ? (s.lambda ?? 0.5) : null,
    devices: hw && s.devices !== undefined ? Object.freeze([...s.devices]) : null,
    variant: oneOf(s.variant, 'agnet', AGNET_VARIANTS, fn, 'settings.variant'),
    init: intSetting(s.init, 16, fn, 'init', 1),
    k: intSetting(s.k, 16, fn, 'k', 1),
    epochs: s.epochs === undefined ? undefined : intSetting(s.epochs, 30, fn, 'epochs', 1),
    batchSize: intSetting(s.batchSize, 16, fn, 'batchSize', 1),
    lr: numberSetting(s.lr, hw ? 2e-4 : 1e-3, fn, 'lr', 0),
    // Only when > 0, so the paper's settings (and their cells' keys in a results store) are unchanged.
    ...(warmupSteps > 0 ? { warmupSteps } : {}),
    alpha: alphaSetting(s.alpha, fn, hw ? 0.95 : 0.9),
    rankK: numberSetting(s.rankK, 0.01, fn, 'rankK', 0),
    candidates: intSetting(s.candidates, 100, fn, 'candidates', 1),
    retries: intSetting(s.retries, 3, fn, 'retries', 0),
    zRange: numberSetting(s.zRange, 3, fn, 'zRange', 0),
    candidateZ: oneOf(s.candidateZ, 'uniform', ['uniform', 'normal'] as const, fn, 'settings.candidateZ'),
    pretrainSteps: intSetting(s.pretrainSteps, AGNET_PRETRAIN_STEPS, fn, 'pretrainSteps', 0),
    pretrainSeed: intSetting(s.pretrainSeed, 0, fn, 'pretrainSeed', 0),
    edges: oneOf(s.edges, 'sample', ['sample', 'threshold'] as const, fn, 'settings.edges'),
    scorer: oneOf(s.scorer, 'logits', ['logits', 'encoding'] as const, fn, 'settings.scorer'),
    engine: oneOf(s.engine, 'native', ['native', 'js'] as const, fn, 'settings.engine'),
    weights: weightsSetting(s.weights ?? (s.pretrainSteps === undefined && s.pretrainSeed === undefined ? 'shipped' : undefined), fn)
  })
}

/** The package root: the nearest ancestor holding binding.gyp (from lib/ and dist/lib/). */
function packageRoot (): string {
  let dir = __dirname
  for (;;) {
    if (fs.existsSync(path.join(dir, 'binding.gyp'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) return __dirname
    dir = parent
  }
}

/** The shipped NB-201 generator (agnetPretrain, seed 0, 30,000 steps, checkpoint 26,000 selected by valid-unique; see docs/agnet.md). */
export const AGNET_NB201_WEIGHTS = path.join(packageRoot(), 'weights', 'agnet-nb201.json')

/** The shipped NB-101 generator (agnetPretrain on random NB-101 cells; docs/agnet.md, "NB-101"). */
export const AGNET_NB101_WEIGHTS = path.join(packageRoot(), 'weights', 'agnet-nb101.json')

/** The weights file of a setting: 'shipped' is the package's file for the space. */
export function agnetWeightsFile (weights: string, space: AgNetSpace = AGNET_NB201_SPACE): string {
  return weights !== 'shipped' ? weights : space.name === 'nb101' ? AGNET_NB101_WEIGHTS : AGNET_NB201_WEIGHTS
}

function weightsSetting (v: unknown, fn: string): string | null {
  if (v === undefined || v === null) return null
  if (typeof v !== 'string' || v === '') throw new TypeError(`${fn}: settings.weights must be a file path, got ${String(v)}`)
  return v
}

/** The weights file format: JSON with the parameter shapes, the values (float64, base64) and their SHA-256. */
export const AGNET_WEIGHTS_FORMAT = 'nasrank-agnet-weights'

/** Writes a generator's weights (atomically: a temporary file renamed) with how they were made. */
export function agnetSaveWeights (file: string, gen: AgNetGenerator, meta: Record<string, unknown>): string {
  const total = gen.parameterCount
  const all = new Float64Array(total)
  let at = 0
  for (const p of gen.params) { all.set(p.data, at); at += p.data.length }
  const bytes = Buffer.from(all.buffer)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  const doc = { format: AGNET_WEIGHTS_FORMAT, version: 1, shape: gen.shape, params: gen.params.map(p => ({ name: p.name, rows: p.rows, cols: p.cols })), sha256, meta, data: bytes.toString('base64') }
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(doc))
  fs.renameSync(tmp, file)
  return sha256
}

/** Reads a weights file into a new generator; the shape, names and SHA-256 must match (errors name the file). */
export function agnetLoadWeights (file: string, shape: AgNetShape): AgNetGenerator {
  let doc: { format?: unknown, shape?: AgNetShape, params?: Array<{ name: string, rows: number, cols: number }>, sha256?: unknown, data?: unknown }
  try { doc = JSON.parse(fs.readFileSync(file, 'utf8')) } catch (err) { throw new RangeError(`agnet: cannot read the weights file ${file}: ${(err as Error).message}`) }
  if (doc.format !== AGNET_WEIGHTS_FORMAT) throw new RangeError(`agnet: ${file} is not an AG-Net weights file (format ${String(doc.format)})`)
  const gen = new AgNetGenerator(shape, new Random(0))
  if (doc.shape?.nodes !== shape.nodes || doc.shape?.classes !== shape.classes) throw new RangeError(`agnet: ${file} holds weights for ${doc.shape?.nodes} nodes × ${doc.shape?.classes} classes, the space needs ${shape.nodes} × ${shape.classes}`)
  const names = gen.params.map(p => `${p.name} ${p.rows}×${p.cols}`).join(',')
  if (!Array.isArray(doc.params) || doc.params.map(p => `${p.name} ${p.rows}×${p.cols}`).join(',') !== names) throw new RangeError(`agnet: ${file} has other parameter shapes than this generator`)
  const bytes = Buffer.from(String(doc.data), 'base64')
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  if (sha256 !== doc.sha256) throw new RangeError(`agnet: ${file}: the weights' SHA-256 ${sha256} differs from the recorded ${String(doc.sha256)}`)
  if (bytes.length !== gen.parameterCount * 8) throw new RangeError(`agnet: ${file} holds ${bytes.length / 8} values, the generator has ${gen.parameterCount}`)
  const all = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
  let at = 0
  for (const p of gen.params) { p.data.set(all.subarray(at, at + p.data.length)); at += p.data.length }
  return gen
}

type Resolved = ReturnType<typeof resolveSettings>

/** What one iteration of the loop saw (diagnostics; not part of the method's settings or results). */
export interface AgNetIteration {
  /** Architectures queried before this iteration's retraining. */
  queried: number
  /** z decoded this iteration, how many gave a valid cell, and how many of those were new and distinct. */
  drawn: number
  valid: number
  found: number
  /** Consecutive iterations without a candidate so far (retries spent). */
  empty: number
  /** The scored pool (bench rows) and the surrogate's scores, in pool order (empty when nothing was found). */
  pool: readonly number[]
  scores: ArrayLike<number>
}

export interface AgNetHooks {
  /** Called after each iteration's candidates are scored (or found empty). */
  onIteration?: (it: AgNetIteration) => void
  /** Called before each retraining step (1, 2, … over the run) with the learning rate the generator's Adam will use. */
  onStep?: (st: { step: number, lr: number }) => void
}

export function agnet (settings?: AgNetSettings, hooks: AgNetHooks = {}): SearchMethod {
  const resolved = resolveSettings(settings)
  return Object.freeze({
    name: 'agnet',
    settings: resolved,
    spaces: Object.freeze(['nb201', 'nb101'] as const),
    run: async (run: SearchRun): Promise<SearchTrajectory> => runAgNet(run, resolved, hooks)
  })
}

function alphaSetting (v: unknown, fn: string, fallback: number): number {
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new RangeError(`${fn}: settings.alpha must be a number in [0, 1], got ${String(v)}`)
  return v
}


async function runAgNet (run: SearchRun, st: Resolved, hooks: AgNetHooks): Promise<SearchTrajectory> {
  const bench = run.bench
  const space = agnetSpaceOf(bench.space)
  const shape = space.shape
  const { nodes: M } = shape
  const E = agnetEdgeCount(M)
  // The paper's retraining epochs: 15 on NB-101, 30 on NB-201.
  const epochs = st.epochs ?? (space.name === 'nb101' ? 15 : 30)
  const oracle = new Oracle(run)
  const random = new Random(run.seed)
  const rowOf = agnetSpaceRows(space, bench)
  const scale = bench.scale === 'percent' ? 0.01 : 1
  // Same first draws as the harness's other methods for this seed (paired comparisons).
  while (oracle.count < st.init && !oracle.done) oracle.query(oracle.randomUnqueried(random))

  const gen = st.weights !== null ? agnetLoadWeights(agnetWeightsFile(st.weights, space), shape) : agnetPretrain(space, st.pretrainSteps, st.pretrainSeed)
  const model = new Random(run.seed, 3)
  const surrogate = new AgNetSurrogate(gen.length, model)
  // engine 'native': G trains in native/agnet.cc (its own Adam, the same hyperparameters: Adam is
  // per parameter, so splitting it from the surrogate's changes nothing); 'js': the tape.
  const nat = st.engine === 'native' ? AgNetNative.fromGenerator(gen) : null
  const genParams = nat === null ? gen.params : []
  nat?.setAdam({ lr: st.lr, beta1: BETA1, beta2: BETA2, weightDecay: st.latency !== null ? HW_WEIGHT_DECAY : 0 })
  const opt = new Adam([...genParams, ...surrogate.params], { lr: st.lr, beta1: BETA1, beta2: BETA2 })
  const engine: GenEngine = {
    forward: (tape, z) => nat === null ? gen.forward(tape, z).out : new Mat(z.rows, gen.length, nat.forward(z.data), true),
    update: (z, out) => { if (nat !== null) nat.trainStep(z.data, { dout: out.grad ?? new Float64Array(out.data.length) }) }
  }
  const backprop = st.variant !== 'no-backprop'
  const D = gen.length
  // scorer 'encoding' (not with no-backprop, whose f already sees g): a ranking MLP on the true g.
  const ranker = st.scorer === 'encoding' && backprop ? new AgNetSurrogate(D, new Random(run.seed, 4)) : null
  const rankOpt = ranker !== null ? new Adam(ranker.params, { lr: st.lr, beta1: BETA1, beta2: BETA2 }) : null
  // The hardware-aware variant: its own surrogate (g ++ device one-hot → accuracy, latency) and optimiser.
  const hw = st.latency !== null ? hwSetup(bench, st, D, run.seed) : null
  const optimiser = hw !== null ? new Adam([...genParams, ...hw.surrogate.params], { lr: st.lr, beta1: BETA1, beta2: BETA2, weightDecay: HW_WEIGHT_DECAY }) : opt

  const graphOf = (row: number, classes: Uint8Array, cAt: number, edges: Uint8Array, eAt: number): void => {
    if (space.name === 'nb101') { agnetNb101CellGraph(bench.archs as nb101.Nb101Cells, row, classes, cAt, edges, eAt); return }
    agnetNb201Classes(bench.archs as Uint8Array, 6 * row, classes.subarray(cAt, cAt + M))
    edges.set(AGNET_NB201_EDGES, eAt)
  }

  // Warm-up (settings.warmupSteps): every optimiser of the run steps at lr·min(1, t/W).
  const W = 'warmupSteps' in st ? st.warmupSteps as number : 0
  let trainStep = 0
  const warm = (): void => {
    const lr = agnetWarmupLr(st.lr, W, ++trainStep)
    const a = nat?.optimizer
    if (a != null) a.lr = lr
    opt.lr = lr
    optimiser.lr = lr
    if (rankOpt !== null) rankOpt.lr = lr
    hooks.onStep?.({ step: trainStep, lr: a != null ? a.lr : opt.lr })
  }

  let empty = 0
  while (!oracle.done) {
    // 2. Retrain G and f on the queried architectures, weighted by rank.
    const { rows, values } = oracle.queried()
    const n = rows.length
    const w = st.variant === 'no-lso'
      ? new Float64Array(n).fill(1)
      : hw !== null
        ? agnetRankWeights(Array.from(agnetHwScores(values, rows.map(r => hw.lat[r]), hw.limit, hw.joint), v => -v), st.rankK)
        : agnetRankWeights(values, st.rankK)
    for (let epoch = 0; epoch < epochs; epoch++) {
      const draws = drawProportional(w, n, model)
      for (let at = 0; at < n; at += st.batchSize) {
        const B = Math.min(st.batchSize, n - at)
        const classes = new Uint8Array(B * M)
        const edges = new Uint8Array(B * E)
        const target = new Float64Array(B)
        const gw = new Float64Array(B)
        for (let r = 0; r < B; r++) {
          const i = draws[at + r]
          graphOf(rows[i], classes, r * M, edges, r * E)
          target[r] = values[i] * scale
          gw[r] = w[i] / B
        }
        warm()
        if (hw !== null) {
          hwStep(hw, engine, shape, st, model, classes, edges, gw, target, rows, draws, at, B, optimiser)
          continue
        }
        const tape = new Tape(true)
        const z = normalZ(model, B)
        const out = engine.forward(tape, z)
        const surrogateIn = backprop ? out : trueEncoding(shape, classes, edges, B)
        const f = surrogate.forward(tape, surrogateIn)
        const fg = f.g()
        for (let r = 0; r < B; r++) fg[r] += gw[r] * st.alpha * 2 * (f.data[r] - target[r])
        if (backprop) reconstructionLoss(shape, out, classes, edges, Float64Array.from(gw, v => v * (1 - st.alpha)))
        else reconstructionLoss(shape, out, classes, edges, Float64Array.from(gw, v => v * (1 - st.alpha)), 2)
        tape.backward()
        engine.update(z, out)
        opt.update()
        if (ranker !== null && rankOpt !== null) {
          const rt = new Tape(true)
          const fr = ranker.forward(rt, trueEncoding(shape, classes, edges, B))
          const frg = fr.g()
          for (let r = 0; r < B; r++) frg[r] += gw[r] * 2 * (fr.data[r] - target[r])
          rt.backward()
          rankOpt.update()
        }
      }
      await yieldToEventLoop(run.signal)
    }

    // 3. Candidates: valid, unqueried, distinct architectures from z ~ U(−r, r)^32.
    const want = Math.min(st.k, oracle.budget - oracle.count)
    const found: Array<{ row: number, logits: Float64Array }> = []
    const inPool = new Set<number>()
    // Native dedup (NB-201): indices already seen (not in the bench, or queried).
    const seen = nat !== null && space.name === 'nb201' ? new Uint8Array(rowOf.length) : null
    if (seen !== null) for (let i = 0; i < rowOf.length; i++) if (rowOf[i] < 0 || oracle.has(rowOf[i])) seen[i] = 1
    const cls = new Uint8Array(M)
    const edg = new Uint8Array(E)
    let drawn = 0
    let valid = 0
    for (const size of hw !== null ? Z_BATCHES_HW : Z_BATCHES) {
      if (found.length > st.candidates) break
      drawn += size
      const z = new Float64Array(size * AGNET_LATENT)
      if (st.candidateZ === 'normal') for (let i = 0; i < z.length; i++) z[i] = model.normal()
      else for (let i = 0; i < z.length; i++) z[i] = (2 * model.float() - 1) * st.zRange
      if (nat !== null && seen !== null) {
        const g = nat.generate(z, model, st.edges, seen)
        for (let r = 0; r < size; r++) {
          if (g.index[r] < 0) continue
          valid++
          if (g.fresh[r] === 1) found.push({ row: rowOf[g.index[r]], logits: g.out.slice(r * D, (r + 1) * D) })
        }
        await yieldToEventLoop(run.signal)
        continue
      }
      // The JS path (engine 'js', and NB-101 on either engine: the native forward, then sampling and nb101's validity here).
      const out = nat !== null ? new Mat(size, D, nat.forward(z)) : gen.forward(new Tape(false), new Mat(size, AGNET_LATENT, z)).out
      for (let r = 0; r < size; r++) {
        const nodes = agnetSampleGraph(shape, out, r, model, cls, edg, st.edges)
        const index = space.decode(cls, nodes, edg)
        if (index < 0) continue
        valid++
        const row = rowOf[index]
        if (row < 0 || oracle.has(row) || inPool.has(row)) continue
        inPool.add(row)
        found.push({ row, logits: Float64Array.from(out.data.subarray(r * D, (r + 1) * D)) })
      }
      await yieldToEventLoop(run.signal)
    }
    const queriedBefore = oracle.count
    if (found.length === 0) {
      hooks.onIteration?.({ queried: queriedBefore, drawn, valid, found: 0, empty: empty + 1, pool: [], scores: [] })
      // No new candidates: retrain again up to `retries` times, then the run stops short.
      if (++empty > st.retries) break
      continue
    }
    empty = 0
    model.shuffle(found)
    const pool = found.slice(0, st.candidates)
    // 4. Score by the surrogate (on the logits; no-backprop: on the decoded encoding) and query the best.
    const x = new Float64Array(pool.length * D)
    pool.forEach((c, i) => {
      if (backprop && ranker === null) x.set(c.logits, i * D)
      else { graphOf(c.row, cls, 0, edg, 0); agnetEncodeGraphInto(M, shape.classes, cls, 0, edg, 0, x, i * D) }
    })
    let score: Float64Array
    if (hw !== null) {
      const pred = hw.surrogate.forward(new Tape(false), new Mat(pool.length, D, x), hw.device).data
      const acc = Float64Array.from(pool, (_, i) => pred[2 * i])
      const lat = Float64Array.from(pool, (_, i) => pred[2 * i + 1] / hw.latScale)
      score = agnetHwScores(acc, lat, hw.limit, hw.joint).map(v => -v)
    } else score = (ranker ?? surrogate).forward(new Tape(false), new Mat(pool.length, D, x)).data
    hooks.onIteration?.({ queried: queriedBefore, drawn, valid, found: found.length, empty, pool: pool.map(c => c.row), scores: score })
    const order = pool.map((_, i) => i).sort((a, b) => score[b] - score[a] || a - b)
    for (let i = 0; i < Math.min(want, pool.length); i++) oracle.query(pool[order[i]].row)
  }
  return oracle.trajectory()
}

const HW_WEIGHT_DECAY = 1e-4

interface HwState {
  surrogate: AgNetHwSurrogate
  device: number
  devices: readonly string[]
  /** The latency column over the bench's rows (NaN: unknown). */
  lat: Float64Array
  limit: number
  joint: 0 | 1
  lambda: number
  /** Latency targets are divided by this (1: the column's unit; the MSE term is normalised anyway). */
  latScale: number
}

function hwSetup (bench: Bench, st: Resolved, D: number, seed: number): HwState {
  const name = st.latency as string
  if (!bench.costs.includes(name)) throw new RangeError(`agnet: settings.latency: ${bench.name} has no cost column '${name}' (cost columns: ${bench.costs.join(', ') || 'none'})`)
  const devices = st.devices ?? (name.startsWith('latency_') ? bench.costs.filter(c => c.startsWith('latency_')).sort() : [name])
  for (const d of devices) if (!bench.costs.includes(d)) throw new RangeError(`agnet: settings.devices: ${bench.name} has no cost column '${d}' (cost columns: ${bench.costs.join(', ')})`)
  return {
    surrogate: new AgNetHwSurrogate(D, devices.length, new Random(seed, 5)),
    device: devices.indexOf(name),
    devices,
    lat: bench.cost(name),
    limit: st.limit as number,
    joint: st.joint as 0 | 1,
    lambda: st.lambda as number,
    latScale: 1
  }
}

/**
 * One HW training step (Eq. 4–6): (1−α)·L_G + α·(λ·MSE_acc + (1−λ)·MSE_lat), rank-weighted
 * means, each of the three terms divided by max(term, 1) (detached).
 */
/** How the loop runs G: the forward onto a tape (native: a leaf Mat that collects the output gradient) and the update after tape.backward(). */
interface GenEngine {
  forward: (tape: Tape, z: Mat) => Mat
  update: (z: Mat, out: Mat) => void
}

function hwStep (hw: HwState, gen: GenEngine, shape: AgNetShape, st: Resolved, model: Random, classes: Uint8Array, edges: Uint8Array, gw: Float64Array, target: Float64Array,
  rows: readonly number[], draws: Int32Array, at: number, B: number, opt: Adam): void {
  const tape = new Tape(true)
  const z = normalZ(model, B)
  const out = gen.forward(tape, z)
  const rl = reconstructionLoss(shape, out, classes, edges, Float64Array.from(gw, v => v * (1 - st.alpha)))
  let tg = 0
  for (let r = 0; r < B; r++) tg += gw[r] * (rl.ce[r] + rl.bce[r])
  if (tg > 1) { const g = out.g(); for (let i = 0; i < g.length; i++) g[i] /= tg }
  const f = hw.surrogate.forward(tape, out, hw.device)
  const acc = new Float64Array(B)
  const lat = new Float64Array(B)
  let ta = 0
  let tl = 0
  const known = new Uint8Array(B)
  for (let r = 0; r < B; r++) {
    const row = rows[draws[at + r]]
    acc[r] = f.data[2 * r] - target[r]
    const l = hw.lat[row] * hw.latScale
    if (Number.isFinite(l)) { known[r] = 1; lat[r] = f.data[2 * r + 1] - l }
    ta += gw[r] * acc[r] * acc[r]
    tl += known[r] === 1 ? gw[r] * lat[r] * lat[r] : 0
  }
  const fg = f.g()
  const na = Math.max(ta, 1)
  const nl = Math.max(tl, 1)
  for (let r = 0; r < B; r++) {
    fg[2 * r] += st.alpha * hw.lambda * gw[r] * 2 * acc[r] / na
    if (known[r] === 1) fg[2 * r + 1] += st.alpha * (1 - hw.lambda) * gw[r] * 2 * lat[r] / nl
  }
  tape.backward()
  gen.update(z, out)
  opt.update()
}

/** The true encoding g of B graphs given by node classes [B × M] and edge bits [B × E]. */
function trueEncoding (shape: AgNetShape, classes: Uint8Array, edges: Uint8Array, B: number): Mat {
  const { nodes: M, classes: C } = shape
  const E = agnetEdgeCount(M)
  const D = M * C + E
  const x = new Float64Array(B * D)
  for (let r = 0; r < B; r++) agnetEncodeGraphInto(M, C, classes, r * M, edges, r * E, x, r * D)
  return new Mat(B, D, x)
}

async function yieldToEventLoop (signal?: AbortSignal): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
  if (signal?.aborted === true) throw signal.reason ?? new Error('search aborted')
}
