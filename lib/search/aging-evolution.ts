// Regularized (aging) evolution, Real, Aggarwal, Huang & Le, "Regularized Evolution for Image
// Classifier Architecture Search", AAAI 2019 (Algorithm 1), with the NAS-Bench-201 authors'
// settings for their R-EA baseline (Dong & Yang, ICLR 2020, Sec. 5; AutoDL-Projects
// exps/algos/R_EA.py): population P = 10, tournament sample S = 3.
//
// The variant (the one the tracker's anchors come from):
//   1. the initial population is P distinct random architectures (P queries);
//   2. each step samples S distinct members uniformly (Real et al.'s Algorithm 1 and the NB-201
//      script draw with replacement: settings.replacement = true; over 600 seeds on the
//      NB-201 tables that variant scores 0.02–0.07 points lower at 150–200 queries, about 3
//      standard errors below the tracker's anchors, which the distinct draw matches) and
//      mutates the one with the best searched value (ties: the first drawn) —
//      NB-201: one edge, chosen uniformly, to a different op, uniform among the other four;
//      NB-101: nasbench's mutate_spec;
//   3. a child already queried is skipped, without counting and without changing the
//      population; otherwise it is queried, joins the population, and the oldest member dies.
// Guard: after 10,000 consecutive skips (a population whose every mutant is already known —
// only possible when the budget approaches the bench's size) the child is a random new row.
import { Random } from '../random'
import { Oracle } from './oracle'
import { benchSpace } from './space'
import { intSetting, readSettings } from './settings'
import { boolean } from '../validate'
import type { SearchMethod, SearchRun, SearchTrajectory } from './types'

export interface AgingEvolutionSettings {
  /** Population size P (default 10, the NB-201 authors' R-EA setting). */
  population?: number
  /** Tournament sample size S (default 3, idem). */
  sample?: number
  /**
   * Draw the S members with replacement (Real et al.'s Algorithm 1 and the NB-201 script) or
   * S distinct members (default false: the tracker's variant, whose anchors this reproduces).
   */
  replacement?: boolean
}

const MAX_SKIPS = 10000

export function agingEvolution (settings?: AgingEvolutionSettings): SearchMethod {
  const fn = 'agingEvolution'
  const s = readSettings<AgingEvolutionSettings>(settings, fn, ['population', 'sample', 'replacement'])
  const population = intSetting(s.population, 10, fn, 'population', 1)
  const sample = intSetting(s.sample, 3, fn, 'sample', 1)
  const replacement = boolean(s.replacement, false, fn, 'settings.replacement')
  return Object.freeze({
    name: 're',
    settings: Object.freeze({ population, sample, replacement }),
    run: async (run: SearchRun): Promise<SearchTrajectory> => {
      const oracle = new Oracle(run)
      const space = benchSpace(run.bench)
      const random = new Random(run.seed)
      const pop: number[] = []
      const val: number[] = []
      const slots = new Int32Array(population)
      while (pop.length < population && !oracle.done) {
        const row = oracle.randomUnqueried(random)
        val.push(oracle.query(row))
        pop.push(row)
      }
      let skips = 0
      while (!oracle.done) {
        let parent = -1
        if (replacement) {
          for (let k = 0; k < sample; k++) {
            const other = random.int(pop.length)
            if (parent < 0 || val[other] > val[parent]) parent = other
          }
        } else {
          // S distinct members: a partial Fisher–Yates shuffle of the population's positions.
          for (let i = 0; i < pop.length; i++) slots[i] = i
          for (let k = 0; k < Math.min(sample, pop.length); k++) {
            const j = k + random.int(pop.length - k)
            const other = slots[j]; slots[j] = slots[k]; slots[k] = other
            if (parent < 0 || val[other] > val[parent]) parent = other
          }
        }
        let child = space.mutate(pop[parent], random)
        if (child < 0 || oracle.has(child)) {
          if (++skips < MAX_SKIPS) continue
          child = oracle.randomUnqueried(random)
        }
        skips = 0
        val.push(oracle.query(child))
        pop.push(child)
        pop.shift()
        val.shift()
      }
      return oracle.trajectory()
    }
  })
}
