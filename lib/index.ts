// The package entry. It loads only the native addon: no tfjs or other heavy dependency,
// so tools that want the ranking kernels alone import in milliseconds.
import { addon, addonPath, type NativeInfo } from './native'
import { describe, finiteNumber } from './validate'

export { kendallTau, kendallTauAsync, spearman, spearmanAsync, pearson, type KendallTauOptions } from './metrics/correlation'
export { pairwiseRankLoss, pairwiseRankLossAsync, tripletRankLoss, tripletRankLossAsync, type RankLossOptions, type RankLossResult } from './losses/ranking'
export { pairwiseLogLoss, type PairwiseLogLossOptions, type PairwiseLogLossResult } from './losses/log-loss'
export { sampleEfficiencyGain, sampleEfficiencyGainAsync, type SampleEfficiencyInput, type SampleEfficiencyGain } from './metrics/sample-efficiency'
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
