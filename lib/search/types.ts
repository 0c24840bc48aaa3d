// The one search interface. A search method is given a bench (the oracle: it reads the
// searched metric of bench rows and each distinct row counts once), a query budget, a seed
// and an abort signal, and returns its trajectory: the distinct rows it queried, in order,
// with the value it saw. The harness (runSearch) turns a trajectory into the report's view:
// at each budget checkpoint the incumbent (best searched value so far) and that
// architecture's test accuracy, read uncounted, as the papers' protocol has it.
import type { Bench, Metric, SpaceName } from '../bench/bench'

/** What a search method is given for one run. */
export interface SearchRun {
  bench: Bench
  /** Distinct architectures the search may query. */
  budget: number
  seed: number
  /** The metric the search reads (the protocol: 'val'; 'test' only for benches without val). */
  metric: Metric
  /** Training budget of the queried results (default: the bench's largest). */
  epochs?: number
  signal?: AbortSignal
  /**
   * A file a method that supports it (ctnas) saves its state to every so often and resumes
   * from when the file holds a state of the same run (same settings, seed, budget and bench);
   * other methods ignore it. The caller removes it once the result is stored.
   */
  checkpoint?: string
}

/** What a search method returns: every distinct row it queried, in query order. */
export interface SearchTrajectory {
  rows: Int32Array
  /** The searched metric of each queried row (same order). */
  values: Float64Array
}

export interface SearchMethod {
  /** Short name as the CLI and results use it ('rs', 're', 'ls', 'bananas', ...). */
  readonly name: string
  /** The settings that define the method's behaviour (recorded in every result row). */
  readonly settings: Readonly<Record<string, unknown>>
  /** The search spaces the method runs on (absent: every space); others are refused before any work. */
  readonly spaces?: readonly SpaceName[]
  run: (run: SearchRun) => Promise<SearchTrajectory>
}
