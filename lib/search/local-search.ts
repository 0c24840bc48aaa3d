// Local search, White, Zela, Ru, Liu & Hutter, "How Powerful are Performance Predictors in
// Neural Architecture Search?" / "Local Search is State of the Art for NAS Benchmarks"
// (2020), in NASLib's variant (naslib/optimizers/discrete/ls):
//   1. query `init` random architectures (NASLib default num_init = 10); the best is chosen;
//   2. query the chosen architecture's neighbours (NB-201: the 24 one-edge op changes;
//      NB-101: one op change or one edge flip), in random order, all of them, tracking the
//      best architecture of this climb;
//   3. if that best improved on the chosen one, it becomes the chosen one (go to 2);
//      otherwise the climb is at a local optimum: restart from a new random architecture,
//      which becomes both chosen and best (go to 2).
// A neighbour queried before is not queried again: its known value is used (no count).
import { Random } from '../random'
import { Oracle } from './oracle'
import { benchSpace } from './space'
import { intSetting, readSettings } from './settings'
import type { SearchMethod, SearchRun, SearchTrajectory } from './types'

export interface LocalSearchSettings {
  /** Random architectures queried before the first climb (default 10, NASLib's num_init). */
  init?: number
}

export function localSearch (settings?: LocalSearchSettings): SearchMethod {
  const fn = 'localSearch'
  const s = readSettings<LocalSearchSettings>(settings, fn, ['init'])
  const init = intSetting(s.init, 10, fn, 'init', 1)
  return Object.freeze({
    name: 'ls',
    settings: Object.freeze({ init }),
    run: async (run: SearchRun): Promise<SearchTrajectory> => {
      const oracle = new Oracle(run)
      const space = benchSpace(run.bench)
      const random = new Random(run.seed)
      let best = -1
      let bestVal = -Infinity
      for (let i = 0; i < init && !oracle.done; i++) {
        const row = oracle.randomUnqueried(random)
        const v = oracle.query(row)
        if (best < 0 || v > bestVal) { best = row; bestVal = v }
      }
      let chosen = best
      let chosenVal = bestVal
      let nbhd = random.shuffle(space.neighbors(chosen))
      while (!oracle.done) {
        if (nbhd.length === 0) {
          if (bestVal > chosenVal) {
            chosen = best; chosenVal = bestVal
          } else {
            const row = oracle.randomUnqueried(random)
            chosen = best = row
            chosenVal = bestVal = oracle.query(row)
          }
          nbhd = random.shuffle(space.neighbors(chosen))
          continue
        }
        const n = nbhd.pop() as number
        const v = oracle.query(n)
        if (v > bestVal) { best = n; bestVal = v }
      }
      return oracle.trajectory()
    }
  })
}
