// The search baselines by name: what the CLI, the experiment runner and users call.
import type { SearchMethod } from './types'
import { randomSearch, type RandomSearchSettings } from './random-search'
import { agingEvolution, type AgingEvolutionSettings } from './aging-evolution'
import { localSearch, type LocalSearchSettings } from './local-search'
import { bananas, type BananasSettings } from './bananas'
import { ctnas, type CtnasSettings } from './ctnas'
import { sampling, type SamplingSettings } from './sampling'
import { agnet, type AgNetSettings } from './agnet'
import { describe } from '../validate'

export interface SearchMethodSettings {
  rs: RandomSearchSettings
  re: AgingEvolutionSettings
  ls: LocalSearchSettings
  bananas: BananasSettings
  ctnas: CtnasSettings
  sampling: SamplingSettings
  agnet: AgNetSettings
}

/** Factories of the search methods: rs (random search), re (aging evolution), ls (local search), bananas (BANANAS), ctnas (CTNAS, NB-201), sampling (Mauch et al.'s GCN predictor loop), agnet (AG-Net, NB-201). */
export const SEARCH_METHODS: Readonly<{ [K in keyof SearchMethodSettings]: (settings?: SearchMethodSettings[K]) => SearchMethod }> = Object.freeze({
  rs: randomSearch,
  re: agingEvolution,
  ls: localSearch,
  bananas,
  ctnas,
  sampling,
  agnet
})

export type SearchMethodName = keyof typeof SEARCH_METHODS

/** A search method by name, with its settings (validated; unknown settings are errors). */
export function searchMethod (name: string, settings?: Record<string, unknown>): SearchMethod {
  if (typeof name !== 'string' || !Object.prototype.hasOwnProperty.call(SEARCH_METHODS, name)) {
    throw new RangeError(`searchMethod: unknown search method ${typeof name === 'string' ? `'${name}'` : describe(name)} (known: ${Object.keys(SEARCH_METHODS).join(', ')})`)
  }
  return (SEARCH_METHODS[name as SearchMethodName] as (s?: Record<string, unknown>) => SearchMethod)(settings)
}

export { runSearch, searchedMetric, removeRunCheckpoint, type RunSearchOptions, type SearchResult, type SearchCheckpoint } from './harness'
export { benchSpace, type BenchSpace } from './space'
export { Oracle } from './oracle'
export { randomSearchExpectation } from './expectation'
export { randomSearch, agingEvolution, localSearch, bananas, ctnas, sampling, agnet }
export { samplingLoop, samplingSettings, SAMPLERS, type Sampler, type SamplingIteration, type SamplingObserver, type ResolvedSamplingSettings } from './sampling'
export type { RandomSearchSettings, AgingEvolutionSettings, LocalSearchSettings, BananasSettings, CtnasSettings, SamplingSettings, AgNetSettings }
export type { SearchMethod, SearchRun, SearchTrajectory } from './types'
