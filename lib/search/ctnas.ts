// CTNAS, Chen et al., "Contrastive Neural Architecture Search with Neural Architecture
// Comparators", CVPR 2021 (Alg. 1–3), on NAS-Bench-201 and NAS-Bench-101 (the space's pieces:
// ./ctnas-space.ts), as a search method of the harness.
//
// One run with query budget B:
//   1. M = B − k random architectures are queried (their searched metric, 'val', labels the
//      Neural Architecture Comparator, lib/models/nac.ts); k = 10 are kept for the final pick.
//   2. The NAC is pretrained on pairs of the M: y = 1{R_a ≥ R_b} (paper, Sec. 4.1), BCE,
//      `pretrainEpochs` × ⌈M/256⌉ steps of 256 random pairs (random orientation).
//   3. T iterations (Alg. 1): the controller (lib/models/controller.ts) samples one
//      architecture α; its reward is NAC(α, β) against the current baseline β, plus the
//      detached entropy bonus 5e-4·H (paper); REINFORCE loss −log π·r, no reward baseline;
//      Adam (the iteration and the sampling are native/controller.cc; the TypeScript
//      Controller / Nb101Controller engine 'js' is their tested reference). Every `exploreEvery` iterations, data exploration (Alg. 3): 2·`explorePairs`
//      controller samples make `explorePairs` pairs, labelled y' = 1{p ≥ 0.5} by the NAC; the
//      `exploreKeep` most confident (largest |p − 0.5|) join the pseudo-labelled set, which
//      accumulates. Every `nacEvery` iterations one NAC step on a batch mixing pseudo and true
//      labelled pairs at ratio r = `pseudoRatio` (0.5, Sec. 6.3); a short pseudo set is used
//      whole. Every `baselineEvery` iterations the baseline curriculum (Alg. 2): over
//      H = B ∪ S (all past baselines and the latest exploration's architectures, deduplicated by
//      pruned form) s_i = mean_{j≠i} NAC(α_i, α_j), β = argmax (≥: the last maximum wins).
//      β₀ ~ π(θ₀).
//   4. Final pick: the final β first, then B ∪ `finalSamples` fresh samples ranked by Eq. 5,
//      queried in that order (already-queried ones skipped, they cost nothing) until k new
//      architectures are queried. The harness's incumbent is the best searched value among
//      all B queries, as for every method.
// Labelling rounds (settings.rounds = R > 1; ours, not the paper's, which labels M at once):
// M0 = B − R·k random labels, the T iterations split into R equal rounds; at the end of each
// of the first R − 1 rounds the pick of step 4 is queried and joins the NAC's labelled set
// (optionally `roundEpochs` epochs on the true labels follow), and the search goes on with its
// state; the last round's pick is the final pick. Every labelled architecture counts as a query.
// Variants (Table 4): settings.baseline = 'fixed' keeps β₀, 'random' replaces β with a fresh
// sample at each update. The paper's schedule (T = 10,000, every step every iteration) is the
// default; lighter schedules are settings and are recorded in every result row.
import { Random } from '../random'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Oracle } from './oracle'
import { writeFileAtomicSync } from '../bench/atomic'
import { intSetting, numberSetting, readSettings } from './settings'
import { oneOf } from '../validate'
import { Nac, Adam } from '../models/nac'
import { NacCode } from '../models/nac-code'
import { baselineUpdate } from '../models/linear-comparator'
import type { Controller } from '../models/controller'
import type { Nb101Controller } from '../models/controller-nb101'
import { ctnasSpace, type CtnasSpace } from './ctnas-space'
import type { SearchMethod, SearchRun, SearchTrajectory } from './types'

export interface CtnasSettings {
  /**
   * 'paper' (default): the paper's CTNAS (P). 'code': the authors' code where it differs (C,
   * chenyaofo/CTNAS): the code's NAC (lib/models/nac-code.ts), y = 1{R > R'}, pairs of a batch
   * against a random permutation of itself, one NAC epoch per data exploration, exploration
   * every 100 iterations of 2k samples against a shuffled copy keeping the top-k by raw p
   * (y' = 1{p > 0.5}; k = ⌊pseudoRatio·batchPairs⌋ the first time, then exploreKeep), pseudo
   * pairs ⌊pseudoRatio·b⌋ per b labelled pairs (default 1.0), −entropy·H in the loss, baseline
   * every 500 iterations from iteration 0 over 10 fresh samples only (not deduplicated), the
   * history best (best of those 10 ∪ the previous history best) as the output, β₀ uniform.
   */
  preset?: 'paper' | 'code'
  /** Architectures queried at the end of each round from the search's ranking (default 10). */
  topK?: number
  /** Random labelled architectures before the search, M0 (default budget − rounds·topK). */
  labelled?: number
  /**
   * Labelling rounds R (default 1: the paper's protocol, all labels at once). With R > 1 the T
   * iterations are split into R equal rounds; after each of the first R − 1 the top-k new
   * architectures of the Eq. 5 ranking are queried and join the NAC's labelled set; the search
   * continues with its state (NAC, controller, baselines, pseudo set); the last round's pick is
   * the final pick. Our protocol choice for a query budget, not the paper's.
   */
  rounds?: number
  /** NAC epochs of ⌈|labelled|/batch⌉ steps on the true labels after each round's new labels (default 0). */
  roundEpochs?: number
  /** Controller iterations T over all rounds (default 10,000). */
  iterations?: number
  /** NAC pretraining epochs of ⌈M/batch⌉ steps (default 1000). */
  pretrainEpochs?: number
  /** Pairs per NAC step (default 256). */
  batchPairs?: number
  /** GCN width (default 128). */
  hidden?: number
  /** NAC Adam learning rate (default 2e-4) and coupled weight decay (default 5e-4). */
  nacLr?: number
  weightDecay?: number
  /** One NAC step every this many iterations (default 1: Alg. 1 l.7). */
  nacEvery?: number
  /**
   * Data exploration every this many iterations (default 1; code preset 100, with a NAC epoch
   * after it), with this many pairs (512), keeping the most confident (256). Code preset:
   * explorePairs is unused; exploreKeep (default 100) is the k after the first exploration.
   */
  exploreEvery?: number
  explorePairs?: number
  exploreKeep?: number
  /**
   * Share of pseudo-labelled pairs in a NAC batch during search, in [0, 1) (default 0.5); 0
   * turns exploration off. Code preset: ⌊pseudoRatio·b⌋ pseudo pairs join each batch of b
   * labelled pairs, any value ≥ 0 (default 1.0); 0 turns exploration and the NAC epochs of the
   * search off (as the code).
   */
  pseudoRatio?: number
  /** Baseline update every this many iterations (default 1000; code preset 500, from iteration 0). */
  baselineEvery?: number
  /** 'curriculum' (default, Alg. 2), 'fixed' (β₀ kept), 'random' (a fresh sample each update). */
  baseline?: 'curriculum' | 'fixed' | 'random'
  /** Entropy bonus added (detached) to the reward (default 5e-4). */
  entropy?: number
  /** Controller Adam learning rate (default 2e-4, betas 0.5 / 0.999, weight decay as the NAC's). */
  controllerLr?: number
  /** Fresh controller samples ranked beside the past baselines at the end (default 100). */
  finalSamples?: number
}

const KEYS = ['preset', 'topK', 'labelled', 'rounds', 'roundEpochs', 'iterations', 'pretrainEpochs', 'batchPairs', 'hidden', 'nacLr', 'weightDecay', 'nacEvery', 'exploreEvery',
  'explorePairs', 'exploreKeep', 'pseudoRatio', 'baselineEvery', 'baseline', 'entropy', 'controllerLr', 'finalSamples'] as const

/**
 * Data exploration's selection (Alg. 3, Eq. 8–9): of pairs with NAC probabilities p, the
 * `keep` with the largest confidence |p − 0.5| (ties: the earlier pair), in that order, with
 * pseudo-labels y' = 1{p ≥ 0.5}.
 */
export function selectPseudoPairs (p: ArrayLike<number>, keep: number): { index: Int32Array, label: Uint8Array } {
  const n = p.length
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => Math.abs(p[b] - 0.5) - Math.abs(p[a] - 0.5) || a - b)
  const m = Math.min(keep, n)
  const index = Int32Array.from(order.slice(0, m))
  const label = Uint8Array.from(index, k => (p[k] >= 0.5 ? 1 : 0))
  return { index, label }
}

/**
 * The baseline curriculum's scores (Alg. 2, Eq. 5) for a linear-head comparator
 * p(i ≻ j) = σ(u_i + v_j): s_i = mean_{j≠i} p(i ≻ j), and the winner (≥: the last maximum).
 * One candidate: it wins with score null. None: RangeError.
 */
export function baselineScores (u: ArrayLike<number>, v: ArrayLike<number>): { scores: Float64Array, best: number, bestScore: number | null } {
  const n = u.length
  if (n === 0) throw new RangeError('baselineScores: the candidate set H is empty')
  if (v.length !== n) throw new RangeError(`baselineScores: u has ${n} values but v has ${v.length}`)
  // Native, no n×n buffer (lib/models/linear-comparator.ts).
  return baselineUpdate({ u: Float64Array.from(u), v: Float64Array.from(v) })
}

/** What a finished run looked like, for diagnostics (not part of the result rows). */
export interface CtnasFinalState {
  /** The paper preset's Nac or the code preset's NacCode. */
  nac: Nac | NacCode
  /** Code preset: the history best (the output); paper: the final β. */
  output: number
  /** Architecture ids (NB-201: indices; NB-101: ids of nac.graphs): the labelled architectures (the random M0, then earlier rounds' picks), every baseline in order, the final pool ranked by Eq. 5 (best first). */
  labelled: number[]
  baselines: number[]
  ranked: number[]
  /** Bench rows the final pick (the last round's) queried, in order. */
  picked: number[]
  /** Architecture id → bench row (−1: not in the bench). */
  rowByIndex: Int32Array
  /** NB-201: the Controller; NB-101: the Nb101Controller. */
  controller: Controller | Nb101Controller
  random: Random
}

export interface CtnasHooks {
  /** Called once, after the final pick was queried. */
  onFinal?: (state: CtnasFinalState) => void
  /** With SearchRun.checkpoint: save the state after pretraining and every this many controller iterations (default 1000). */
  checkpointEvery?: number
  /** Called after each controller iteration t (tests use it to interrupt a run). */
  onIteration?: (t: number) => void
}

export function ctnas (settings?: CtnasSettings, hooks: CtnasHooks = {}): SearchMethod {
  const fn = 'ctnas'
  const s = readSettings<CtnasSettings>(settings, fn, KEYS)
  const preset = oneOf(s.preset, 'paper', ['paper', 'code'] as const, fn, 'settings.preset')
  const code = preset === 'code'
  const pseudoRatio = s.pseudoRatio ?? (code ? 1 : 0.5)
  if (!code && (typeof pseudoRatio !== 'number' || !(pseudoRatio >= 0 && pseudoRatio < 1))) throw new RangeError(`${fn}: settings.pseudoRatio must be a number in [0, 1), got ${String(pseudoRatio)}`)
  if (code && (typeof pseudoRatio !== 'number' || !(pseudoRatio >= 0 && Number.isFinite(pseudoRatio)))) throw new RangeError(`${fn}: settings.pseudoRatio (code preset: pseudo pairs per labelled pair) must be a finite number ≥ 0, got ${String(pseudoRatio)}`)
  const resolved = Object.freeze({
    topK: intSetting(s.topK, 10, fn, 'topK', 1),
    labelled: s.labelled === undefined ? null : intSetting(s.labelled, 0, fn, 'labelled', 2),
    rounds: intSetting(s.rounds, 1, fn, 'rounds', 1),
    roundEpochs: intSetting(s.roundEpochs, 0, fn, 'roundEpochs', 0),
    iterations: intSetting(s.iterations, 10000, fn, 'iterations', 0),
    pretrainEpochs: intSetting(s.pretrainEpochs, 1000, fn, 'pretrainEpochs', 0),
    batchPairs: intSetting(s.batchPairs, 256, fn, 'batchPairs', 1),
    hidden: intSetting(s.hidden, 128, fn, 'hidden', 1),
    nacLr: numberSetting(s.nacLr, 2e-4, fn, 'nacLr', 0),
    weightDecay: s.weightDecay === 0 ? 0 : numberSetting(s.weightDecay, 5e-4, fn, 'weightDecay', 0),
    nacEvery: intSetting(s.nacEvery, 1, fn, 'nacEvery', 1),
    exploreEvery: intSetting(s.exploreEvery, code ? 100 : 1, fn, 'exploreEvery', 1),
    explorePairs: intSetting(s.explorePairs, 512, fn, 'explorePairs', 1),
    exploreKeep: intSetting(s.exploreKeep, code ? 100 : 256, fn, 'exploreKeep', 1),
    pseudoRatio,
    baselineEvery: intSetting(s.baselineEvery, code ? 500 : 1000, fn, 'baselineEvery', 1),
    baseline: oneOf(s.baseline, 'curriculum', ['curriculum', 'fixed', 'random'] as const, fn, 'settings.baseline'),
    entropy: s.entropy === 0 ? 0 : numberSetting(s.entropy, 5e-4, fn, 'entropy', 0),
    controllerLr: numberSetting(s.controllerLr, 2e-4, fn, 'controllerLr', 0),
    finalSamples: intSetting(s.finalSamples, 100, fn, 'finalSamples', 0),
    preset
  })
  if (resolved.rounds > 1 && resolved.iterations < resolved.rounds) throw new RangeError(`${fn}: settings.iterations (${resolved.iterations}) must be at least settings.rounds (${resolved.rounds}): every round searches`)
  if (!code && resolved.exploreKeep > resolved.explorePairs) throw new RangeError(`${fn}: settings.exploreKeep (${resolved.exploreKeep}) must not exceed settings.explorePairs (${resolved.explorePairs})`)
  return Object.freeze({
    name: 'ctnas',
    settings: resolved,
    spaces: Object.freeze(['nb201', 'nb101'] as const),
    run: async (run: SearchRun): Promise<SearchTrajectory> => await runCtnas(run, resolved, hooks)
  })
}

interface Resolved {
  topK: number
  labelled: number | null, rounds: number, roundEpochs: number, iterations: number, pretrainEpochs: number, batchPairs: number, hidden: number, nacLr: number,
  weightDecay: number, nacEvery: number, exploreEvery: number, explorePairs: number, exploreKeep: number, pseudoRatio: number,
  baselineEvery: number, baseline: 'curriculum' | 'fixed' | 'random', entropy: number, controllerLr: number, finalSamples: number, preset: 'paper' | 'code'
}

async function runCtnas (run: SearchRun, o: Resolved, hooks: CtnasHooks): Promise<SearchTrajectory> {
  const fn = 'ctnas'
  const bench = run.bench
  const space: CtnasSpace = ctnasSpace(bench)
  const R = o.rounds
  const M = o.labelled ?? run.budget - R * o.topK
  if (M < 2 || M + R * o.topK > run.budget) {
    throw new RangeError(R === 1
      ? `${fn}: the budget (${run.budget}) must cover at least 2 labelled architectures and topK = ${o.topK} (labelled ${o.labelled ?? 'budget − topK'} = ${M})`
      : `${fn}: the budget (${run.budget}) must cover at least 2 labelled architectures and rounds × topK = ${R} × ${o.topK} (labelled ${o.labelled ?? 'budget − rounds·topK'} = ${M})`)
  }
  // The iteration after which round r (1 … R − 1) ends and its pick joins the labels.
  const roundEnd = Array.from({ length: R - 1 }, (_, r) => Math.round((r + 1) * o.iterations / R))
  const roundsBefore = (t: number): number => roundEnd.filter(e => e <= t).length
  const oracle = new Oracle(run)
  let random = new Random(run.seed)
  const every = hooks.checkpointEvery ?? 1000
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`${fn}: hooks.checkpointEvery must be an integer ≥ 1, got ${String(hooks.checkpointEvery)}`)
  const ckFile = run.checkpoint ?? null
  const ckKey = ckFile !== null ? checkpointKey(run, o) : ''
  const resumed = ckFile !== null ? readCheckpoint(ckFile, ckKey, fn) : null
  if (resumed !== null) space.restore(resumed.space ?? null, ckFile as string)

  // 1. Labelled architectures (a resumed run queries the saved ones again, in order).
  const lab: number[] = []
  const acc: number[] = []
  const labRows: number[] = []
  const labelledAtResume = resumed !== null ? M + o.topK * roundsBefore(resumed.t) : M
  if (resumed !== null && resumed.labelled.length !== labelledAtResume) throw new RangeError(`${fn}: checkpoint ${ckFile as string} holds ${resumed.labelled.length} labelled rows, the run labels ${labelledAtResume} by iteration ${resumed.t}; delete it to start the run afresh`)
  while (lab.length < labelledAtResume) {
    const row = resumed !== null ? resumed.labelled[lab.length] : oracle.randomUnqueried(random)
    acc.push(oracle.query(row))
    lab.push(space.idOfRow(row))
    labRows.push(row)
  }
  const code = o.preset === 'code'
  const nac = code
    ? new NacCode(random.fork(), { hidden: o.hidden, lr: o.nacLr, weightDecay: o.weightDecay, graphs: space.graphs })
    : new Nac(random.fork(), { hidden: o.hidden, lr: o.nacLr, weightDecay: o.weightDecay, graphs: space.graphs })
  const B = o.batchPairs
  const labelledPairs = (count: number, a: number[], b: number[], y: number[]): void => {
    const n = lab.length
    for (let k = 0; k < count; k++) {
      const i = random.int(n)
      let j = random.int(n - 1)
      if (j >= i) j++
      a.push(lab[i]); b.push(lab[j]); y.push(acc[i] >= acc[j] ? 1 : 0)
    }
  }
  const pa: number[] = []; const pb: number[] = []; const py: number[] = []
  const pseudoPick = new Set<number>()
  // Code preset: one epoch = the labelled set shuffled into batches of B; each batch paired with
  // a random permutation of itself, y = 1{R > R'} (codePairs); ⌊b·pseudoRatio⌋ pseudo pairs
  // drawn without replacement join a batch of b (a short pseudo set is used whole).
  const codeEpoch = (withPseudo: boolean): void => {
    const order = permutation(lab.length, random)
    for (let s0 = 0; s0 < order.length; s0 += B) {
      const batch = order.slice(s0, s0 + B)
      const { a, b, y } = codePairs(batch.map(i => lab[i]), batch.map(i => acc[i]), random)
      if (withPseudo && o.pseudoRatio > 0 && pa.length > 0) {
        const want = Math.floor(batch.length * o.pseudoRatio)
        if (want >= pa.length) {
          for (let k = 0; k < pa.length; k++) { a.push(pa[k]); b.push(pb[k]); y.push(py[k]) }
        } else {
          pseudoPick.clear()
          while (pseudoPick.size < want) pseudoPick.add(random.int(pa.length))
          for (const k of pseudoPick) { a.push(pa[k]); b.push(pb[k]); y.push(py[k]) }
        }
      }
      nac.train({ a, b, y })
    }
  }
  // 2. Pretraining (and, with rounds, `roundEpochs` more after each round's new labels).
  const trainLabelled = async (epochs: number): Promise<void> => {
    if (code) {
      for (let epoch = 0; epoch < epochs; epoch++) {
        codeEpoch(false)
        if (epoch % 10 === 9) await yieldToEventLoop(run.signal)
      }
      return
    }
    const steps = Math.ceil(lab.length / B)
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (let k = 0; k < steps; k++) {
        const a: number[] = []; const b: number[] = []; const y: number[] = []
        labelledPairs(B, a, b, y)
        nac.train({ a, b, y })
      }
      if (epoch % 50 === 49) await yieldToEventLoop(run.signal)
    }
  }
  await trainLabelled(resumed !== null ? 0 : o.pretrainEpochs)

  // 3. Search.
  space.makeController(random.fork())
  const controller = space.controller
  const adam = new Adam(controller.params.length, o.controllerLr, 0.5, 0.999, o.weightDecay)
  const draw = (): number => space.sample(random).id
  const drawMany = (n: number): number[] => space.sampleMany(n, random)
  const pruned = space.prunedOf
  // β₀: P ~ π(θ₀); C uniform (the code's force_uniform: every decision uniform).
  let beta = code ? space.sampleUniform(random) : draw()
  const baselines: number[] = [beta]
  let explored: number[] = []
  // Code preset: the history best (the output) and the number of explorations so far.
  let historyBest = beta
  let explorations = 0
  let start = 1
  let round = 0
  if (resumed !== null) {
    round = roundsBefore(resumed.t)
    restore(nac.params, resumed.nac.params, 'nac.params', ckFile as string)
    restore(nac.adam.m, resumed.nac.m, 'nac.m', ckFile as string)
    restore(nac.adam.v, resumed.nac.v, 'nac.v', ckFile as string)
    nac.adam.t = resumed.nac.t
    restore(controller.params, resumed.controller.params, 'controller.params', ckFile as string)
    restore(adam.m, resumed.controller.m, 'controller.m', ckFile as string)
    restore(adam.v, resumed.controller.v, 'controller.v', ckFile as string)
    adam.t = resumed.controller.t
    beta = resumed.beta
    baselines.length = 0; baselines.push(...resumed.baselines)
    pa.push(...resumed.pa); pb.push(...resumed.pb); py.push(...resumed.py)
    explored = [...resumed.explored]
    random = Random.fromState(resumed.random)
    start = resumed.t + 1
    historyBest = resumed.historyBest ?? beta
    explorations = resumed.explorations ?? 0
    if (nac instanceof NacCode) nac.invalidate()
  }
  const save = (t: number): void => {
    if (ckFile === null) return
    const state: CtnasCheckpoint = {
      version: CHECKPOINT_VERSION,
      key: ckKey,
      t,
      random: Array.from(random.state()) as CtnasCheckpoint['random'],
      labelled: labRows,
      nac: { params: b64(nac.params), m: b64(nac.adam.m), v: b64(nac.adam.v), t: nac.adam.t },
      controller: { params: b64(controller.params), m: b64(adam.m), v: b64(adam.v), t: adam.t },
      beta,
      baselines,
      explored,
      pa,
      pb,
      py,
      historyBest,
      explorations,
      space: space.state()
    }
    fs.mkdirSync(path.dirname(ckFile), { recursive: true })
    writeFileAtomicSync(ckFile, JSON.stringify(state))
  }
  // The top-k new architectures of the current ranking (Eq. 5), queried: the current baseline
  // first, then past baselines ∪ `finalSamples` fresh samples by Eq. 5 (already-queried ones
  // skipped, they cost nothing); if that runs dry, fresh samples of the controller, then random rows.
  // Code preset: the history best first, and it joins the pool.
  const pick = (count: number): { ranked: number[], rows: number[] } => {
    const first = code ? historyBest : beta
    const pool = dedupe([...baselines, ...(code ? [historyBest] : []), ...drawMany(o.finalSamples)], pruned)
    const { u, v } = nac.heads(pool)
    const { scores } = pool.length > 1 ? baselineScores(u, v) : { scores: new Float64Array(1) }
    const order = pool.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b).map(i => pool[i])
    const ranked = [first, ...order.filter(i => pruned(i) !== pruned(first))]
    const rows: number[] = []
    for (const idx of ranked) {
      if (rows.length >= count || oracle.done) break
      const row = space.rowOfId(idx)
      if (row < 0 || oracle.has(row)) continue
      oracle.query(row)
      rows.push(row)
    }
    for (let tries = 0; rows.length < count && !oracle.done; tries++) {
      const row = tries < 1000 ? space.rowOfId(draw()) : oracle.randomUnqueried(random)
      if (row < 0 || oracle.has(row)) continue
      oracle.query(row)
      rows.push(row)
    }
    return { ranked, rows }
  }
  if (resumed === null) save(0)
  for (let t = start; t <= o.iterations; t++) {
    if (code) {
      // The code's order within its iteration it = t − 1: exploration and a NAC epoch, the
      // controller step, then the baseline update (derive).
      const it = t - 1
      if (o.pseudoRatio > 0 && it % o.exploreEvery === 0) {
        const k = explorations === 0 ? Math.floor(o.pseudoRatio * B) : o.exploreKeep
        const xa = drawMany(2 * k)
        const xb = permutation(xa.length, random).map(i => xa[i])
        const { index, label } = selectCodePseudoPairs(nac.compare(xa, xb), k)
        for (let q = 0; q < index.length; q++) { pa.push(xa[index[q]]); pb.push(xb[index[q]]); py.push(label[q]) }
        explored = xa
        explorations++
        codeEpoch(true)
      }
      const sample = space.sample(random)
      sample.step(nac.compare([sample.id], [beta])[0], adam, o.entropy)
      if (it % o.baselineEvery === 0) {
        const fresh = drawMany(CODE_DERIVE)
        if (o.baseline === 'random') beta = fresh[random.int(fresh.length)]
        else if (o.baseline === 'curriculum') { const h = nac.heads(fresh); beta = fresh[baselineScores(h.u, h.v).best] }
        baselines.push(beta)
        historyBest = codeHistoryBest(nac, fresh, historyBest)
      }
    } else {
      const sample = space.sample(random)
      const reward = nac.compare([sample.id], [beta])[0] + o.entropy * sample.entropy
      sample.step(reward, adam)

      if (o.pseudoRatio > 0 && t % o.exploreEvery === 0) {
        const xa: number[] = []; const xb: number[] = []
        const seqs = drawMany(2 * o.explorePairs)
        for (let k = 0; k < o.explorePairs; k++) { xa.push(seqs[2 * k]); xb.push(seqs[2 * k + 1]) }
        const p = nac.compare(xa, xb)
        const { index, label } = selectPseudoPairs(p, o.exploreKeep)
        for (let k = 0; k < index.length; k++) { pa.push(xa[index[k]]); pb.push(xb[index[k]]); py.push(label[k]) }
        explored = [...xa, ...xb]
      }
      if (t % o.nacEvery === 0) {
        const a: number[] = []; const b: number[] = []; const y: number[] = []
        const wantPseudo = o.pseudoRatio > 0 ? Math.round(B * o.pseudoRatio) : 0
        labelledPairs(B - wantPseudo, a, b, y)
        if (wantPseudo >= pa.length) {
          for (let k = 0; k < pa.length; k++) { a.push(pa[k]); b.push(pb[k]); y.push(py[k]) }
        } else {
          pseudoPick.clear()
          while (pseudoPick.size < wantPseudo) pseudoPick.add(random.int(pa.length))
          for (const k of pseudoPick) { a.push(pa[k]); b.push(pb[k]); y.push(py[k]) }
        }
        nac.train({ a, b, y })
      }
      if (t % o.baselineEvery === 0) {
        if (o.baseline === 'random') beta = draw()
        else if (o.baseline === 'curriculum') beta = curriculum(nac, [...baselines, ...explored], pruned)
        baselines.push(beta)
      }
    }
    if (round < roundEnd.length && t === roundEnd[round]) {
      // End of a labelling round: its picks become true labels of the NAC.
      for (const row of pick(o.topK).rows) {
        acc.push(oracle.query(row)) // already queried: the known value, no new query
        lab.push(space.idOfRow(row))
        labRows.push(row)
      }
      round++
      await trainLabelled(o.roundEpochs)
    }
    if (t % every === 0) save(t)
    hooks.onIteration?.(t)
    if (t % 100 === 0) await yieldToEventLoop(run.signal)
  }

  // 4. Final pick (the last round's): the final baseline, then past baselines and fresh samples by Eq. 5.
  const { ranked, rows: pickedRows } = pick(o.topK)
  hooks.onFinal?.({ nac, output: code ? historyBest : beta, labelled: lab, baselines, ranked, picked: pickedRows, rowByIndex: space.rowTable(), controller, random })
  return oracle.trajectory()
}

/** Architectures of a code-preset baseline update (the code's n_derive). */
export const CODE_DERIVE = 10

/**
 * Code preset, data exploration's selection (the code's generate_architecture_with_pseudo_labels):
 * of pairs with NAC probabilities p, the `keep` with the largest raw p (ties: the earlier pair),
 * in that order, with pseudo-labels y' = 1{p > 0.5}.
 */
export function selectCodePseudoPairs (p: ArrayLike<number>, keep: number): { index: Int32Array, label: Uint8Array } {
  const n = p.length
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => p[b] - p[a] || a - b)
  const index = Int32Array.from(order.slice(0, Math.min(keep, n)))
  const label = Uint8Array.from(index, k => (p[k] > 0.5 ? 1 : 0))
  return { index, label }
}

/**
 * Code preset, the pairs of one batch (the code's engine/nac.py train): each architecture i
 * against the one at a random permutation's position perm[i] (itself possible), y = 1{R_i > R_perm[i]}.
 */
export function codePairs (ids: number[], values: number[], random: Random): { a: number[], b: number[], y: number[], perm: number[] } {
  const perm = permutation(ids.length, random)
  const a: number[] = []; const b: number[] = []; const y: number[] = []
  for (let k = 0; k < ids.length; k++) { a.push(ids[k]); b.push(ids[perm[k]]); y.push(values[k] > values[perm[k]] ? 1 : 0) }
  return { a, b, y, perm }
}

/**
 * Code preset, the history best (the code's derive): the Eq. 5 winner (last maximum) of the
 * fresh samples followed by the previous history best, not deduplicated.
 */
export function codeHistoryBest (nac: { heads: (ids: ArrayLike<number>) => { u: Float64Array, v: Float64Array } }, fresh: number[], previous: number): number {
  const H = [...fresh, previous]
  const { u, v } = nac.heads(H)
  return H[baselineScores(u, v).best]
}

/** A uniform random permutation of 0..n−1 (Fisher–Yates from the top, one random.int per position). */
export function permutation (n: number, random: Random): number[] {
  const p = Array.from({ length: n }, (_, k) => k)
  for (let k = n - 1; k > 0; k--) {
    const j = random.int(k + 1)
    const x = p[k]; p[k] = p[j]; p[j] = x
  }
  return p
}

/** Alg. 2 over H = candidates deduplicated by pruned form (first seen kept). */
function curriculum (nac: Nac | NacCode, candidates: number[], pruned: (id: number) => number): number {
  const H = dedupe(candidates, pruned)
  const { u, v } = nac.heads(H)
  return H[baselineScores(u, v).best]
}

function dedupe (indices: number[], pruned: (id: number) => number): number[] {
  const seen = new Set<number>()
  const out: number[] = []
  for (const i of indices) if (!seen.has(pruned(i))) { seen.add(pruned(i)); out.push(i) }
  return out
}

async function yieldToEventLoop (signal?: AbortSignal): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
  if (signal?.aborted === true) throw signal.reason ?? new Error('search aborted')
}

// ---- checkpoints ---------------------------------------------------------------------------
// One JSON file: the iteration, the PRNG state, the labelled rows in query order, the NAC's and
// the controller's parameters and Adam states (float64, base64, little-endian), the baselines,
// the last exploration and the pseudo-labelled pairs. A resumed run continues bit for bit.

const CHECKPOINT_VERSION = 1

interface CtnasCheckpoint {
  version: number
  key: string
  t: number
  random: [number, number, number, number]
  labelled: number[]
  nac: { params: string, m: string, v: string, t: number }
  controller: { params: string, m: string, v: string, t: number }
  beta: number
  baselines: number[]
  explored: number[]
  pa: number[]
  pb: number[]
  py: number[]
  /** Code preset: the history best and the explorations so far. */
  historyBest?: number
  explorations?: number
  /** What the space needs to rebuild its ids (NB-101: the cells behind them; NB-201: null). */
  space?: unknown
}

function checkpointKey (run: SearchRun, o: Resolved): string {
  return JSON.stringify({ method: 'ctnas', settings: o, seed: run.seed, budget: run.budget, metric: run.metric, epochs: run.epochs ?? null, bench: run.bench.name, size: run.bench.size })
}

function b64 (a: Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')
}

function restore (target: Float64Array, data: string, what: string, file: string): void {
  const bytes = Buffer.from(data, 'base64')
  if (bytes.length !== target.byteLength) throw new RangeError(`ctnas: checkpoint ${file}: ${what} holds ${bytes.length / 8} values, the run needs ${target.length}`)
  const values = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length))
  for (let k = 0; k < values.length; k++) {
    if (!Number.isFinite(values[k])) throw new RangeError(`ctnas: checkpoint ${file}: ${what}[${k}] is not finite`)
  }
  target.set(values)
}

/** The saved state of this run, or null (no file, or the state of another run: it is then overwritten). */
function readCheckpoint (file: string, key: string, fn: string): CtnasCheckpoint | null {
  let text: string
  try { text = fs.readFileSync(file, 'utf8') } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw err
  }
  let state: CtnasCheckpoint
  try { state = JSON.parse(text) as CtnasCheckpoint } catch (err) {
    throw new RangeError(`${fn}: checkpoint ${file} is not valid JSON (${(err as Error).message}); delete it to start the run afresh`)
  }
  if (state === null || typeof state !== 'object' || state.version !== CHECKPOINT_VERSION || state.key !== key) return null
  const size = (JSON.parse(key) as { size: number }).size
  if (Array.isArray(state.labelled) && (new Set(state.labelled).size !== state.labelled.length || !state.labelled.every(r => Number.isInteger(r) && r >= 0 && r < size))) {
    throw new RangeError(`${fn}: checkpoint ${file}: the labelled rows are not distinct rows of the bench; delete it to start the run afresh`)
  }
  if (!Number.isInteger(state.t) || state.t < 0 || !Array.isArray(state.labelled) || !Array.isArray(state.baselines) ||
      !Array.isArray(state.pa) || state.pa.length !== state.pb?.length || state.pa.length !== state.py?.length || !Array.isArray(state.explored)) {
    throw new RangeError(`${fn}: checkpoint ${file} is malformed; delete it to start the run afresh`)
  }
  return state
}
