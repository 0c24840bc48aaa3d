// The package entry. It loads only the native addon: no tfjs or other heavy dependency,
// so tools that want the ranking kernels alone import in milliseconds. (The predictors load
// tfjs lazily, on first use.)
import { addon, addonPath, type NativeInfo } from './native'
import { MAX_THREADS, describe, finiteNumber, type NumericArray } from './validate'
import * as backend from './models/backend'
import * as tfRanking from './losses/tf-ranking'
import type { TfBackendInfo, TfBackendOptions } from './models/backend'
import type { TfRankLossOptions, TfTripletLossOptions } from './losses/tf-ranking'
import type { TfModule, TfScalar, TfTensor, TfTensor2D } from './models/tf-types'

export { kendallTau, kendallTauAsync, spearman, spearmanAsync, pearson, type KendallTauOptions } from './metrics/correlation'
export { pairwiseRankLoss, pairwiseRankLossAsync, tripletRankLoss, tripletRankLossAsync, type RankLossOptions, type RankLossResult } from './losses/ranking'
export { pairwiseLogLoss, type PairwiseLogLossOptions, type PairwiseLogLossResult } from './losses/log-loss'
export { sampleEfficiencyGain, sampleEfficiencyGainAsync, type SampleEfficiencyInput, type SampleEfficiencyGain } from './metrics/sample-efficiency'
export { nb201, NB201_OPS, NB201_EDGES, NB201_SIZE, NB201_DATASETS, NB201_DAG_LABELS, NB201_DAG_LINKS, type Nb201Arch, type Nb201ArchInput, type Nb201Op, type Nb201Dataset, type Nb201Order, type Nb201Dag, type Nb201CostModel, type Nb201SampleOptions, type Nb201MutateOptions } from './spaces/nb201'
export { nb101GraphBatch, nb201GraphBatch, type GraphBatch } from './encode/graph'
export { nb201RenasTensor, NB201_RENAS_CHANNELS } from './encode/nb201-renas'
export { Random, type RandomOptions } from './random'
export type { NativeLossTiming, TfRankLossOptions, TfTripletLossOptions } from './losses/tf-ranking'
export type { Predictor, EncodedBatch, Encoder, Augment, FitOptions, FitReport, FitTiming, PredictorHooks, EpochCallback } from './predictors/types'
export { ReNASPredictor, RENAS_VARIANTS, resolveReNASConfig, type ReNASConfig, type ReNASOptions, type ReNASVariant } from './predictors/renas'
export { RandomForestPredictor, resolveRandomForestConfig, type RandomForestConfig } from './predictors/random-forest'
export { forestFit, forestFitAsync, forestHold, forestPredict, forestPredictAsync, HeldForest, type RegressionForest, type ForestFitOptions, type ForestPredictOptions } from './models/forest'
export { forestImportance, forestMarginals, type ForestMarginals, type ColumnMarginal, type ImportanceNormalisation } from './models/forest-importance'
export { paretoFront, paretoFrontIndices, type ParetoOptions } from './metrics/pareto'
export { runMip, estimateMip, randomBpeSearch, samplingProbabilities, relativeCosts, fitMipForest, mipMarginals, type BpeEvaluator, type BpeEvaluation, type MipOptions, type MipResult, type MipSample, type MipPrune } from './bpe/mip'
export { PAPER_OMEGA, BPE_DIMS, checkOmega, parseOmega, settingKey, settingValues, settingFromValues, omegaSize, OmegaError, type Omega, type BpeDim, type BpeDimName } from './bpe/omega'
export { syntheticBpe, nb201TablesBpe } from './bpe/evaluators'
export { readBpeTable, tableBpe, type BpeTable } from './bpe/table'
export { recordedEvaluator, type RecordedEvaluator } from './bpe/record'
export { fitPowerLaw, calibrateSecondsCost, type PowerLaw, type CalibratedEvaluator } from './bpe/cost-model'
export { runGrid, type GridOptions, type GridResult } from './bpe/grid'
export { readCifar10, CifarError } from './data/cifar'
export { runMipExperiment, type MipPlan } from './experiments/mip'
export { PeepholePredictor, resolvePeepholeConfig, type PeepholeConfig } from './predictors/peephole'
export { nb101PeepholeTokens, PEEPHOLE_TOKEN_DIM, type PeepholeTokenOptions } from './predictors/peephole-tokens'
export { EnsemblePredictor, ensembleMemberSeeds, type EnsembleOptions, type MemberFactory } from './predictors/ensemble'
export { loadPredictor, registerPredictor, predictorKinds, type LoadHooks, type PredictorLoader } from './predictors/registry'
export * as nb101 from './spaces/nb101'
export type { Nb101Spec, Nb101Cells, Nb101CellsLike, Nb101Rule, Nb101Op } from './spaces/nb101'
export { renasEncode, renasEncodeAsync, renasVertexOrder, RENAS_TYPE_CODES, type RenasEncodeOptions, type RenasOrderOptions } from './encode/renas'
export { gcnScore, gcnScoreAsync, gcnEmbed, gcnEmbedAsync, gcnGraphsHold, HeldGraphBatch, comparatorProbability, comparatorProbabilityAsync, gcnCompare, gcnCompareAsync, type GcnOptions, type ComparatorOptions } from './models/gcn-native'
// tfjs models: these modules import tfjs types only; tfjs itself loads when a model is created.
export { GcnModel, graphTensors, type GcnModelOptions, type GraphTensors, type BatchOptions, type FromWeightsOptions } from './models/gcn'
export { GcnComparator, type GcnComparatorOptions } from './models/comparator'
export type { TfBackendChoice, TfBackendOptions, TfBackendInfo } from './models/backend'
export type { TfModule, TfTensor, TfScalar, TfTensor1D, TfTensor2D, TfTensor3D, TfVariable, TfDataType } from './models/tf-types'
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
export { detectBenchFile, type BenchFileInfo, type BenchFileKind } from './bench/detect'
export { ProgressBar, StatusLine, formatBytes, formatCount, formatDuration, type ProgressBarOptions, type StatusLineOptions } from './progress'
export { openBench, hashPackedCell, BENCH_URIS, type OpenBenchOptions } from './bench/open'
export { Bench, METRICS, type BenchData, type BenchRowColumn, type Metric, type QueryOptions, type SpaceName } from './bench/bench'
export { evolve, type SpaceOps, type Fitness, type EvolutionOptions, type EvolutionResult, type Scored } from './search/evolution'
export {
  SEARCH_METHODS, searchMethod, runSearch, Oracle, searchedMetric, benchSpace, randomSearchExpectation, randomSearch, agingEvolution, localSearch, bananas, ctnas, agnet,
  sampling, samplingLoop, samplingSettings, SAMPLERS, type SamplingSettings, type Sampler, type SamplingIteration, type SamplingObserver,
  type SearchMethodName, type SearchMethodSettings, type RunSearchOptions, type SearchResult, type SearchCheckpoint, type BenchSpace,
  type RandomSearchSettings, type AgingEvolutionSettings, type LocalSearchSettings, type BananasSettings, type CtnasSettings, type AgNetSettings, type SearchMethod, type SearchRun, type SearchTrajectory
} from './search/index'
export { Mlp, type MlpOptions } from './models/mlp'
export { Nac, NacGraphSet, withDummyVertices, type NacOptions, type NacPairs, type NacGraphs } from './models/nac'
export { Controller, CONTROLLER_STEPS, CONTROLLER_CHOICES, type ControllerSample } from './models/controller'
export { Nb101Controller, nb101SeqToSpec, NB101_CONTROLLER_STEPS, NB101_CONTROLLER_NATIVE, type Nb101ControllerSample, type Nb101ControllerEngine, type Nb101ControllerOptions } from './models/controller-nb101'
export { selectPseudoPairs, baselineScores } from './search/ctnas'
export { comparatorKendall, scalarKendall, type KendallTies } from './metrics/comparator-kendall'
export { comparatorRowMeans, baselineUpdate, linearComparatorKendall, type LinearHeads, type LinearComparatorOptions } from './models/linear-comparator'
export { RankGcn, orderedPairLoss, fitNative, scoreNative, inputGradientNative, rankGcnParams, type RankGcnOptions, type RankGraphs, type NativeFitOptions } from './models/rank-gcn'
export { gcnTrain, gcnTrainAsync, gcnScoreGrad, rankPairLoss, type GcnScoreGradOptions, type RankGcnParams, type GcnTrainSettings, type GcnTrainOptions, type GcnTrainResult } from './models/gcn-native'
export { nb101PathEncoding, nb201PathEncoding, NB101_PATHS, NB201_PATHS } from './encode/path'
export type { NativeInfo } from './native'
export type { NumericArray } from './validate'

// tfjs-facing functions, declared with the structural tfjs types of models/tf-types.ts so that
// the published .d.ts never imports tfjs's own (which fail a strict consumer's type check).
// The functions check at run time that `tf` is the tfjs module and the tensors are tfjs tensors.

/**
 * Loads tfjs and activates a backend: with 'auto' (or NASRANK_TF_BACKEND) the first of
 * tfjs-node-gpu, tfjs-node, wasm that is installed and initialises. An explicit choice that
 * fails throws. Returns the tfjs module and the backend's name; a second call is cheap.
 */
export const initTfBackend: (options?: TfBackendOptions) => Promise<TfBackendInfo> = backend.initTfBackend
/** The @tensorflow/tfjs module nasrank uses (required on first call). */
export const loadTf: () => TfModule = backend.loadTf
/**
 * ReNAS Eq. 3 on a tfjs vector: Σ_{i<j} φ((p_i − p_j)·sign(y_i − y_j)) (reduced by `reduction`,
 * default 'mean' over the comparable pairs). `pred` is a rank-1 float tensor of length n,
 * `target` n finite numbers. Returns a scalar whose gradient with respect to `pred` is the
 * native kernel's exact (sub)gradient.
 */
export const pairwiseRankLossTf = tfRanking.pairwiseRankLossTf as unknown as (tf: TfModule, pred: TfTensor, target: NumericArray, options?: TfRankLossOptions) => TfScalar
/**
 * ReNAS Eq. 4 on a precomputed n×n distance matrix (only its strict upper triangle is read;
 * the gradient is zero elsewhere): Σ_{i<j<k} φ((d_ij − d_ik)·sign(l_ij − l_ik)), l_ij = |y_i − y_j|.
 */
export const tripletRankLossOnDistancesTf = tfRanking.tripletRankLossOnDistancesTf as unknown as (tf: TfModule, dist: TfTensor, target: NumericArray, options?: TfRankLossOptions) => TfScalar
/**
 * Euclidean distances between the rows of `features` [n, k]:
 * d_ij = sqrt(max(‖η_i − η_j‖², eps)), computed from the Gram matrix of the column-centred
 * features (‖a‖² + ‖b‖² − 2a·b; centring leaves distances unchanged and reduces float32
 * cancellation). Differentiable; O(n²k) in one matMul.
 */
export const pairwiseDistancesTf = tfRanking.pairwiseDistancesTf as unknown as (tf: TfModule, features: TfTensor, eps?: number) => TfTensor2D
/**
 * ReNAS Eq. 4 on features: the n×n distance matrix of the rows of `features` [n, k] (the
 * predictor's penultimate features η) is computed in tfjs ({@link pairwiseDistancesTf}),
 * the triplet loss and its gradient with respect to the distances come from the native
 * kernel, and tfjs autodiff carries that gradient back through the distance computation.
 */
export const tripletRankLossTf = tfRanking.tripletRankLossTf as unknown as (tf: TfModule, features: TfTensor, target: NumericArray, options?: TfTripletLossOptions) => TfScalar

/** What the loaded addon was built with: CUDA, threads, CPU features, source digest, path. */
export function nativeInfo (): NativeInfo {
  return { ...addon.info(), path: addonPath }
}

/**
 * Sets how many threads the native kernels use (default: the CPU count, or the
 * NASRANK_THREADS environment variable), at most 256 (MAX_THREADS; larger NASRANK_THREADS
 * values are clamped).
 */
export function setThreads (threads: number): void {
  if (typeof threads !== 'number') throw new TypeError(`setThreads: threads must be an integer in [1, ${MAX_THREADS}], got ${describe(threads)}`)
  const n = finiteNumber(threads, 0, 'setThreads', 'threads')
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) throw new RangeError(`setThreads: threads must be an integer in [1, ${MAX_THREADS}], got ${n}`)
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
