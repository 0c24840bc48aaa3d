// The package entry. It loads only the native addon: no tfjs or other heavy dependency,
// so tools that want the ranking kernels alone import in milliseconds.
import { addon, addonPath, type NativeInfo } from './native'
import { finiteNumber } from './validate'

export { kendallTau, kendallTauAsync, spearman, spearmanAsync, pearson, type KendallTauOptions } from './metrics/correlation'
export { pairwiseRankLoss, pairwiseRankLossAsync, tripletRankLoss, tripletRankLossAsync, type RankLossOptions, type RankLossResult } from './losses/ranking'
export { pairwiseLogLoss, type PairwiseLogLossOptions, type PairwiseLogLossResult } from './losses/log-loss'
export { sampleEfficiencyGain, sampleEfficiencyGainAsync, type SampleEfficiencyInput, type SampleEfficiencyGain } from './metrics/sample-efficiency'
export { gcnScore, gcnScoreAsync, gcnEmbed, gcnEmbedAsync, comparatorProbability, comparatorProbabilityAsync, gcnCompare, gcnCompareAsync, type GcnOptions, type ComparatorOptions } from './models/gcn-native'
// tfjs models: these modules import tfjs types only; tfjs itself loads when a model is created.
export { GcnModel, graphTensors, type GcnModelOptions, type GraphTensors, type BatchOptions, type FromWeightsOptions } from './models/gcn'
export { GcnComparator, type GcnComparatorOptions } from './models/comparator'
export { initTfBackend, loadTf, type TfBackendChoice, type TfBackendOptions, type TfBackendInfo } from './models/backend'
export { gcnWeightsToJSON, gcnWeightsFromJSON, comparatorWeightsToJSON, comparatorWeightsFromJSON, type GcnWeightsJSON, type ComparatorWeightsJSON } from './models/weights'
export type { GraphBatch as GcnGraphBatch, DenseWeights, GcnWeights, GcnEmbedWeights, ComparatorHeadWeights, ComparatorWeights } from './models/types'
export type { NativeInfo } from './native'
export type { NumericArray } from './validate'

/** What the loaded addon was built with: CUDA, threads, CPU features, source digest, path. */
export function nativeInfo (): NativeInfo {
  return { ...addon.info(), path: addonPath }
}

/**
 * Sets how many threads the native kernels use (default: the CPU count, or the
 * NASRANK_THREADS environment variable).
 */
export function setThreads (threads: number): void {
  const n = finiteNumber(threads, 0, 'setThreads', 'threads')
  if (!Number.isInteger(n) || n < 1 || n > 1024) throw new RangeError(`setThreads: threads must be an integer in [1, 1024], got ${n}`)
  addon.setThreads(n)
}
