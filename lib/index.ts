// The package entry. It loads only the native addon: no tfjs or other heavy dependency,
// so tools that want the ranking kernels alone import in milliseconds.
import { addon, addonPath, type NativeInfo } from './native'
import { finiteNumber } from './validate'

export { kendallTau, kendallTauAsync, spearman, spearmanAsync, pearson, type KendallTauOptions } from './metrics/correlation'
export { pairwiseRankLoss, pairwiseRankLossAsync, tripletRankLoss, tripletRankLossAsync, type RankLossOptions, type RankLossResult } from './losses/ranking'
export { pairwiseLogLoss, type PairwiseLogLossOptions, type PairwiseLogLossResult } from './losses/log-loss'
export { sampleEfficiencyGain, sampleEfficiencyGainAsync, type SampleEfficiencyInput, type SampleEfficiencyGain } from './metrics/sample-efficiency'
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
export { ProgressBar, formatBytes, formatCount, formatDuration, type ProgressBarOptions } from './progress'
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
