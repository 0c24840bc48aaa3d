// BANANAS, White, Neiswanger & Savani, "BANANAS: Bayesian Optimization with Neural
// Architectures for Neural Architecture Search", AAAI 2021. Defaults are the paper's
// (Sec. 5 and its code, naszilla/bananas) where it states them, else NASLib's
// (naslib/optimizers/discrete/bananas, the reference re-implementation):
//   - path encoding of the architecture (lib/encode/path.ts: 364 features on NB-101, 84 on NB-201);
//   - predictor: an ensemble of 5 feed-forward networks, each 10 hidden layers of width 20,
//     MAE loss, Adam lr 0.01, 200 epochs, batch 32 (paper / naszilla meta_neural_net), trained
//     on the searched values standardised to mean 0, sd 1;
//   - 10 random architectures first (num_init = 10), then 10 queries per iteration (k = 10);
//   - acquisition: independent Thompson sampling — per candidate one draw from
//     N(mean, sd) of the ensemble's predictions (sd over members, population form), the k
//     highest draws are queried;
//   - acquisition optimisation by mutation: 100 candidates, mutations (one each) of the 2
//     best architectures so far (NASLib num_candidates = 100, num_arches_to_mutate = 2,
//     max_mutations = 1). As in the paper's code (naszilla get_candidates with
//     allow_isomorphisms = False, patience_factor = 5), a candidate whose path encoding equals
//     a queried architecture's or another candidate's is dropped (settings.distinct =
//     'architecture' compares rows instead), and the next-best architectures are mutated too
//     (up to 5 × mutate parents) until the pool holds 100; random new architectures fill in
//     when fewer than k remain.
// The last iteration queries only what is left of the budget.
import { Random } from '../random'
import { Mlp } from '../models/mlp'
import { Oracle } from './oracle'
import { benchSpace } from './space'
import { intSetting, numberSetting, readSettings } from './settings'
import { oneOf } from '../validate'
import type { SearchMethod, SearchRun, SearchTrajectory } from './types'

export interface BananasSettings {
  /** Random architectures before the first model (default 10). */
  init?: number
  /** Architectures queried per iteration (default 10). */
  k?: number
  /** Candidates per iteration (default 100). */
  candidates?: number
  /** Best architectures mutated to make candidates (default 2). */
  mutate?: number
  /** Networks in the ensemble (default 5). */
  ensemble?: number
  /** Hidden layers per network (default 10). */
  layers?: number
  /** Units per hidden layer (default 20). */
  width?: number
  /** Training epochs (default 200). */
  epochs?: number
  /** Adam learning rate (default 0.01). */
  lr?: number
  /** Mini-batch size (default 32). */
  batchSize?: number
  /** Candidates must differ from each other and from queried architectures by 'encoding' (default) or 'architecture'. */
  distinct?: 'encoding' | 'architecture'
}

const KEYS = ['init', 'k', 'candidates', 'mutate', 'ensemble', 'layers', 'width', 'epochs', 'lr', 'batchSize', 'distinct'] as const
/** Parents tried (× mutate) to fill the candidate pool: naszilla's patience_factor. */
const PATIENCE = 5

export function bananas (settings?: BananasSettings): SearchMethod {
  const fn = 'bananas'
  const s = readSettings<BananasSettings>(settings, fn, KEYS)
  const resolved = Object.freeze({
    init: intSetting(s.init, 10, fn, 'init', 1),
    k: intSetting(s.k, 10, fn, 'k', 1),
    candidates: intSetting(s.candidates, 100, fn, 'candidates', 1),
    mutate: intSetting(s.mutate, 2, fn, 'mutate', 1),
    ensemble: intSetting(s.ensemble, 5, fn, 'ensemble', 1),
    layers: intSetting(s.layers, 10, fn, 'layers', 1),
    width: intSetting(s.width, 20, fn, 'width', 1),
    epochs: intSetting(s.epochs, 200, fn, 'epochs', 1),
    lr: numberSetting(s.lr, 0.01, fn, 'lr', 0),
    batchSize: intSetting(s.batchSize, 32, fn, 'batchSize', 1),
    distinct: oneOf(s.distinct, 'encoding', ['encoding', 'architecture'] as const, fn, 'settings.distinct')
  })
  return Object.freeze({
    name: 'bananas',
    settings: resolved,
    run: async (run: SearchRun): Promise<SearchTrajectory> => {
      const { init, k, candidates, mutate, ensemble, layers, width, epochs, lr, batchSize } = resolved
      const oracle = new Oracle(run)
      const space = benchSpace(run.bench)
      const random = new Random(run.seed)
      const dim = space.encodingLength
      while (oracle.count < init && !oracle.done) oracle.query(oracle.randomUnqueried(random))
      // Candidates are distinct from each other and from what was queried — by path encoding
      // (the paper's code: allow_isomorphisms = False) or by architecture.
      const byEncoding = resolved.distinct === 'encoding'
      const scratch = new Float64Array(dim)
      const keyOf = (row: number): string => {
        space.encode(row, scratch, 0)
        let key = ''
        for (let f = 0; f < dim; f++) if (scratch[f] !== 0) key += `${f},`
        return key
      }
      const seenKeys = new Set<string>()
      let keyed = 0
      const nets = Array.from({ length: ensemble }, () => new Mlp(dim, { layers, width, epochs, lr, batchSize, loss: 'mae' }))
      while (!oracle.done) {
        // Train the ensemble on everything queried so far.
        const { rows, values } = oracle.queried()
        const n = rows.length
        const x = new Float64Array(n * dim)
        for (let i = 0; i < n; i++) space.encode(rows[i], x, i * dim)
        let mean = 0
        for (const v of values) mean += v
        mean /= n
        let sd = 0
        for (const v of values) sd += (v - mean) ** 2
        sd = Math.sqrt(sd / n) || 1
        const y = Float64Array.from(values, v => (v - mean) / sd)
        for (const net of nets) net.fit(x, y, random)
        await yieldToEventLoop(run.signal)

        // Candidates: mutations of the best architectures, fresh and distinct.
        const want = Math.min(k, oracle.budget - oracle.count)
        const ranked = rows.map((_, i) => i).sort((a, b) => values[b] - values[a] || a - b).map(i => rows[i])
        for (let i = keyed; i < n; i++) seenKeys.add(keyOf(rows[i]))
        keyed = n
        const pool: number[] = []
        const inPool = new Set<string>()
        const fresh = (row: number): string | null => {
          if (row < 0 || oracle.has(row)) return null
          const key = byEncoding ? keyOf(row) : String(row)
          return seenKeys.has(key) || inPool.has(key) ? null : key
        }
        const perParent = Math.max(1, Math.floor(candidates / mutate))
        for (let p = 0; p < ranked.length && (p < mutate || (pool.length < candidates && p < PATIENCE * mutate) || pool.length < want); p++) {
          for (let c = 0; c < perParent; c++) {
            const child = space.mutate(ranked[p], random)
            const key = fresh(child)
            if (key !== null) { inPool.add(key); pool.push(child) }
          }
        }
        for (let tries = 0; pool.length < want; tries++) {
          const row = oracle.randomUnqueried(random)
          const key = tries < 100 * want ? fresh(row) : `row ${row}` // every encoding seen: any new row
          if (key !== null && !inPool.has(key)) { inPool.add(key); pool.push(row) }
        }
        // Independent Thompson sampling.
        const cx = new Float64Array(pool.length * dim)
        for (let i = 0; i < pool.length; i++) space.encode(pool[i], cx, i * dim)
        const preds = nets.map(net => net.predict(cx, pool.length))
        const draw = new Float64Array(pool.length)
        for (let i = 0; i < pool.length; i++) {
          let mu = 0
          for (const p of preds) mu += p[i]
          mu /= ensemble
          let v = 0
          for (const p of preds) v += (p[i] - mu) ** 2
          draw[i] = mu + Math.sqrt(v / ensemble) * random.normal()
        }
        const order = pool.map((_, i) => i).sort((a, b) => draw[b] - draw[a] || a - b)
        for (let i = 0; i < want; i++) oracle.query(pool[order[i]])
      }
      return oracle.trajectory()
    }
  })
}

/** Lets timers and abort signals run between model fits (a BANANAS run takes seconds). */
async function yieldToEventLoop (signal?: AbortSignal): Promise<void> {
  await new Promise(resolve => setImmediate(resolve))
  if (signal?.aborted === true) throw signal.reason ?? new Error('search aborted')
}
