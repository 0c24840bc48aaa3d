// Random search: architectures drawn uniformly without replacement from the bench, queried
// in draw order (Li & Talwalkar 2019; the NAS-Bench-201 paper's RS baseline). No settings.
import { Random } from '../random'
import { Oracle } from './oracle'
import { readSettings } from './settings'
import type { SearchMethod, SearchRun, SearchTrajectory } from './types'

export type RandomSearchSettings = Record<string, never>

export function randomSearch (settings?: RandomSearchSettings): SearchMethod {
  readSettings(settings, 'randomSearch', [])
  return Object.freeze({
    name: 'rs',
    settings: Object.freeze({}),
    run: async (run: SearchRun): Promise<SearchTrajectory> => {
      const oracle = new Oracle(run)
      const random = new Random(run.seed)
      while (!oracle.done) oracle.query(oracle.randomUnqueried(random))
      return oracle.trajectory()
    }
  })
}
