// The sample-efficiency gain of predictor-based NAS (Mauch et al., "Efficient Sampling for
// Predictor-Based Neural Architecture Search", Eq. 11-17).
import { addon, named, type GainOut } from '../native'
import { boolean, checkOptions, describe, toFloat64, type NumericArray } from '../validate'

export interface SampleEfficiencyInput {
  /** The metric of every architecture of the search space S (errors by default). */
  space: NumericArray
  /** The metric of the architectures a method actually evaluates, C ⊆ S (as a multiset). */
  candidates: NumericArray
  /** Target values J at which the gain is measured. */
  targets: NumericArray
  /**
   * Optional intermediate set S′ with C ⊆ S′ ⊆ S, e.g. the subset the predictor scored.
   * The gain then splits into S→S′ (how the subset was sampled) plus S′→C (the predictor).
   */
  subset?: NumericArray
  /** Treat values as accuracies (reaching J means ≥ J) instead of errors (≤ J). */
  higherIsBetter?: boolean
}

export interface SampleEfficiencyGain {
  targets: Float64Array
  /** M_S(J): architectures of S that reach J. */
  reachingSpace: Float64Array
  /** M_C(J). */
  reachingCandidates: Float64Array
  /** E_S[τ] = (|S| + 1) / (M_S(J) + 1): expected uniform draws from S until one reaches J. */
  expectedTrialsSpace: Float64Array
  /** E_C[τ] = (|C| + 1) / (M_C(J) + 1). */
  expectedTrialsCandidates: Float64Array
  /** 10·log10(E_S[τ] / E_C[τ]) in dB: positive when C finds J in fewer trials than S. */
  gainDb: Float64Array
  /** With `subset`: M_S′(J), E_S′[τ], 10·log10(E_S/E_S′) and 10·log10(E_S′/E_C); the two sum to gainDb. */
  reachingSubset?: Float64Array
  expectedTrialsSubset?: Float64Array
  subsetGainDb?: Float64Array
  predictorGainDb?: Float64Array
}

const KEYS = ['space', 'candidates', 'targets', 'subset', 'higherIsBetter'] as const

function gainArgs (input: SampleEfficiencyInput, fn: string) {
  if (input === null || typeof input !== 'object') throw new TypeError(`${fn}: expected an object { space, candidates, targets }, got ${describe(input)}`)
  const checked = checkOptions<SampleEfficiencyInput>(input, fn, KEYS)
  // Every field read once, before any is converted: a getter cannot change an array already taken.
  const opts: Partial<SampleEfficiencyInput> = {}
  for (const key of KEYS) (opts as Record<string, unknown>)[key] = checked[key]
  for (const key of ['space', 'candidates', 'targets'] as const) {
    if (opts[key] === undefined) throw new TypeError(`${fn}: ${key} is required`)
  }
  const given = toFloat64(opts.targets, fn, 'targets')
  const targets = given === opts.targets ? Float64Array.from(given) : given
  const args = [
    toFloat64(opts.space, fn, 'space'),
    toFloat64(opts.candidates, fn, 'candidates'),
    targets,
    opts.subset === undefined ? null : toFloat64(opts.subset, fn, 'subset'),
    boolean(opts.higherIsBetter, false, fn, 'higherIsBetter')
  ] as const
  return { args, targets }
}

// \`targets\` is the array the computation used: a private copy, so a caller that mutates its
// own array (meanwhile, for the async form) still gets the targets the gains belong to.
function withTargets (out: GainOut, targets: Float64Array): SampleEfficiencyGain {
  return { targets, ...out }
}

/**
 * Sample-efficiency gain per target J in O((|S| + |T|) log |S|). Validates that C (and S′)
 * are sub-multisets of S: a candidate value absent from S means the inputs do not belong
 * together (e.g. accuracies mixed with errors).
 */
export function sampleEfficiencyGain (input: SampleEfficiencyInput): SampleEfficiencyGain {
  const { args, targets } = gainArgs(input, 'sampleEfficiencyGain')
  return withTargets(addon.sampleEfficiencyGain(...args), targets)
}

/** {@link sampleEfficiencyGain} off the main thread. */
export async function sampleEfficiencyGainAsync (input: SampleEfficiencyInput): Promise<SampleEfficiencyGain> {
  const { args, targets } = gainArgs(input, 'sampleEfficiencyGainAsync')
  return withTargets(await named('sampleEfficiencyGainAsync').sampleEfficiencyGain(...args, true), targets)
}
