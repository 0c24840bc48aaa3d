// The package entry. It loads only the native addon: no tfjs or other heavy dependency,
// so tools that want the ranking kernels alone import in milliseconds. (The predictors load
// tfjs lazily, on first use.)
import { addon, addonPath, type NativeInfo } from './native'
import { describe, finiteNumber } from './validate'

export { kendallTau, kendallTauAsync, spearman, spearmanAsync, pearson, type KendallTauOptions } from './metrics/correlation'
export { pairwiseRankLoss, pairwiseRankLossAsync, tripletRankLoss, tripletRankLossAsync, type RankLossOptions, type RankLossResult } from './losses/ranking'
export { pairwiseLogLoss, type PairwiseLogLossOptions, type PairwiseLogLossResult } from './losses/log-loss'
export { sampleEfficiencyGain, sampleEfficiencyGainAsync, type SampleEfficiencyInput, type SampleEfficiencyGain } from './metrics/sample-efficiency'
export { nb201, NB201_OPS, NB201_EDGES, NB201_SIZE, NB201_DATASETS, NB201_DAG_LABELS, NB201_DAG_LINKS, type Nb201Arch, type Nb201ArchInput, type Nb201Op, type Nb201Dataset, type Nb201Order, type Nb201Dag, type Nb201CostModel, type Nb201SampleOptions, type Nb201MutateOptions } from './spaces/nb201'
export { nb101GraphBatch, nb201GraphBatch, type GraphBatch } from './encode/graph'
export { Random, type RandomOptions } from './random'
export { pairwiseRankLossTf, tripletRankLossTf, tripletRankLossOnDistancesTf, pairwiseDistancesTf, type NativeLossTiming, type TfRankLossOptions, type TfTripletLossOptions } from './losses/tf-ranking'
export type { Predictor, EncodedBatch, Encoder, Augment, FitOptions, FitReport, FitTiming, PredictorHooks, EpochCallback } from './predictors/types'
export { ReNASPredictor, RENAS_VARIANTS, resolveReNASConfig, type ReNASConfig, type ReNASOptions, type ReNASVariant } from './predictors/renas'
export { RandomForestPredictor, resolveRandomForestConfig, type RandomForestConfig } from './predictors/random-forest'
export { forestFit, forestFitAsync, forestHold, forestPredict, forestPredictAsync, HeldForest, type RegressionForest, type ForestFitOptions, type ForestPredictOptions } from './models/forest'
export { PeepholePredictor, resolvePeepholeConfig, type PeepholeConfig } from './predictors/peephole'
export { nb101PeepholeTokens, PEEPHOLE_TOKEN_DIM, type PeepholeTokenOptions } from './predictors/peephole-tokens'
export { EnsemblePredictor, ensembleMemberSeeds, type EnsembleOptions, type MemberFactory } from './predictors/ensemble'
export { loadPredictor, registerPredictor, predictorKinds, type LoadHooks, type PredictorLoader } from './predictors/registry'
export * as nb101 from './spaces/nb101'
export type { Nb101Spec, Nb101Cells, Nb101CellsLike, Nb101Rule, Nb101Op } from './spaces/nb101'
export { renasEncode, renasEncodeAsync, renasVertexOrder, RENAS_TYPE_CODES, type RenasEncodeOptions, type RenasOrderOptions } from './encode/renas'
export { gcnScore, gcnScoreAsync, gcnEmbed, gcnEmbedAsync, comparatorProbability, comparatorProbabilityAsync, gcnCompare, gcnCompareAsync, type GcnOptions, type ComparatorOptions } from './models/gcn-native'
// tfjs models: these modules import tfjs types only; tfjs itself loads when a model is created.
export { GcnModel, graphTensors, type GcnModelOptions, type GraphTensors, type BatchOptions, type FromWeightsOptions } from './models/gcn'
export { GcnComparator, type GcnComparatorOptions } from './models/comparator'
export { initTfBackend, loadTf, type TfBackendChoice, type TfBackendOptions, type TfBackendInfo } from './models/backend'
export { gcnWeightsToJSON, gcnWeightsFromJSON, comparatorWeightsToJSON, comparatorWeightsFromJSON, type GcnWeightsJSON, type ComparatorWeightsJSON } from './models/weights'
export type { DenseWeights, GcnWeights, GcnEmbedWeights, ComparatorHeadWeights, ComparatorWeights } from './models/types'
export { crc32c, maskCrc32c, frameTfRecord, encodeModelMetrics, encodeNb101Payload, TfRecordWriter, writeNb101TfRecord, type Nb101EvaluationData, type Nb101ModelMetrics, type Nb101RecordInput } from './bench/tfrecord-writer'
export {
  convertNb101, loadNb101, openNb101Store, parseNb101Payload, defaultNb101StorePath, nb101ColumnName, Nb101Store,
  NB101_METRICS, NB101_RUN_METRICS, NB101_STORE_FORMAT, NB101_STORE_VERSION,
  type Nb101Metric, type Nb101RunMetric, type Nb101CellHasher, type Nb101StoreCells, type Nb101SpecLike, type Nb101ArchKey,
  type Nb101IngestProgress, type ConvertNb101Options, type Nb101ConvertResult, type Nb101BadRecord, type Nb101QueryOptions,
  type Nb101CellRecord, type LoadNb101Options, type Nb101ParsedRecord
} from './bench/nb101-store'
export { loadNb201Table, createNb201Table, writeNb201Table, Nb201Table, type LoadNb201TableOptions } from './bench/table'
export { DataFileError } from './bench/errors'
export { ProgressBar, StatusLine, formatBytes, formatCount, formatDuration, type ProgressBarOptions, type StatusLineOptions } from './progress'
export { openBench, hashPackedCell, BENCH_URIS, type OpenBenchOptions } from './bench/open'
export { Bench, METRICS, type BenchData, type BenchRowColumn, type Metric, type QueryOptions, type SpaceName } from './bench/bench'
export { evolve, type SpaceOps, type Fitness, type EvolutionOptions, type EvolutionResult, type Scored } from './search/evolution'
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

/**
 * Caps the scratch memory the native kernels keep between calls (default 256 MiB, or the
 * NASRANK_SCRATCH_MB environment variable). Kendall's tau needs 24 bytes per element;
 * keeping that memory mapped spares repeated calls the first-touch page faults of fresh
 * allocations. 0 disables the cache. Cached blocks beyond the new limit are freed now.
 */
export function setScratchLimit (bytes: number): void {
  if (typeof bytes !== 'number') throw new TypeError(`setScratchLimit: bytes must be a number, got ${describe(bytes)}`)
  const n = finiteNumber(bytes, -1, 'setScratchLimit', 'bytes')
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`setScratchLimit: bytes must be a non-negative integer, got ${n}`)
  addon.setScratchLimit(n)
}

/** Frees the scratch memory cached between calls (memory in use is unaffected); returns the bytes freed. */
export function releaseScratch (): number {
  return addon.releaseScratch()
}
