// The one loader of the native addon. It finds the package root, loads the addon through
// node-gyp-build (a local build in build/Release if present, else the committed prebuild),
// and refuses a binary whose compiled-in source digest differs from the native sources
// shipped beside it: a stale binary would silently compute with old code.
import * as fs from 'node:fs'
import * as path from 'node:path'

export interface NativeInfo {
  /** Addon version. */
  version: string
  /** Digest of native/, binding.gyp and CMakeLists.txt the binary was compiled from. */
  sourceDigest: string
  /** 'node-gyp' (prebuilds, `npm run build:native`) or 'cmake-js' (`npm run build:cuda`). */
  buildSystem: string
  /** Compiled with the CUDA twins. */
  cuda: boolean
  /** A CUDA device is usable right now. */
  cudaDevice: boolean
  /** Worker threads the kernels use. */
  threads: number
  /** CPU features detected at run time (kernels dispatch on them; sse42: CRC32C instruction). */
  cpu: { avx2: boolean; avx512f: boolean; sse42: boolean }
  /** Scratch memory kept between calls (see `setScratchLimit`, `releaseScratch`). */
  scratch: { cachedBytes: number; limitBytes: number }
  /** File the addon was loaded from. */
  path: string
}

type F64 = Float64Array
type F32 = Float32Array
// Structural twins of lib/models/types.ts (kept here so the loader imports nothing).
interface GraphsIn { count: number; vertices: number; features: number; adjacency: F32; x: F32; mask: F32 }
interface DenseIn { w: F32; b: F32 }
interface GcnWeightsIn { layers: DenseIn[]; fc?: DenseIn }
interface HeadIn { layers: DenseIn[]; out: DenseIn }
export interface RankParamsIn { layers: Array<{ w: F64, b?: F64 }>, fc: F64, fcBias?: number, norm?: string, pool?: string }
export interface RankTrainIn { epochs: number, lr: number, momentum: number, ties: string }
export interface RankTrainOut { layers: Array<{ w: F64, b?: F64 }>, fc: F64, losses: F64 }
export interface RankGradOut { f: F64, dA: F64, dX: F64 }
interface LossOut { loss: number; grad: F64; comparable: number }
interface LogLossOut { loss: number; gradA: F64; gradB: F64 }
export interface GainOut {
  reachingSpace: F64
  reachingCandidates: F64
  expectedTrialsSpace: F64
  expectedTrialsCandidates: F64
  gainDb: F64
  reachingSubset?: F64
  expectedTrialsSubset?: F64
  subsetGainDb?: F64
  predictorGainDb?: F64
}

/** Result of the addon's single-spec analysis (pruned cell and hash when rule is 'ok'). */
export interface Nb101Analysis {
  rule: string
  detail: string
  vertices?: number
  adjacency?: number
  ops?: Uint8Array
  hash?: string
}
export interface Nb101Columns { count: number; vertices: Uint8Array; adjacency: Uint32Array; ops: Uint8Array; hash: Uint8Array; labelledGraphs: number }
export interface Nb101CostOut { params: F64; flops: F64; vertexParams?: F64; vertexFlops?: F64 }
/** Progress of a native NAS-Bench-101 ingest, reported every few MB. */
export interface IngestProgressRaw { bytesDone: number; bytesTotal: number; records: number; skipped: number }

/** One parsed NAS-Bench-101 record payload. */
export interface Nb101RecordRaw {
  hash: string
  epochs: number
  vertices: number
  adjacency: number
  ops: Uint8Array
  trainableParameters: number
  values: Record<string, number>
}

/** A whole NAS-Bench-101 file pivoted to one row per hash (rows sorted by hash bytes). */
export interface Nb101IngestRaw {
  cells: number
  fileBytes: number
  records: number
  skipped: number
  skippedBytes: number
  hardwareCrc: boolean
  hash: Uint8Array
  vertices: Uint8Array
  adjacency: Uint32Array
  ops: Uint8Array
  trainableParameters: Int32Array
  firstOffset: F64
  runs: Uint32Array
  valueNames: string[]
  slots: Array<{ epochs: number; repeat: number; values: F64[] }>
  bad: Array<{ offset: number; code: string; message: string }>
}

/** A flat regression forest as the addon returns and reads it (see lib/models/forest.ts). */
export interface ForestArraysRaw {
  sizes: Int32Array
  feature: Int32Array
  threshold: F64
  left: Int32Array
  right: Int32Array
  value: F64
  samples: Int32Array
}
export interface ForestParamsRaw {
  trees: number
  maxFeatures: number
  minSamplesSplit: number
  minSamplesLeaf: number
  /** 0: unlimited. */
  maxDepth: number
  bootstrap: boolean
  seed: number
}
type ForestIn = Pick<ForestArraysRaw, 'sizes' | 'feature' | 'threshold' | 'left' | 'right' | 'value'>
/** An opaque native handle made by forestHold. */
export type HeldForestHandle = { readonly __heldForest: unique symbol }
/** An opaque native handle made by gcnGraphsHold. */
export type HeldGraphsHandle = { readonly __heldGraphs: unique symbol }

export interface AgNetTargetIn { classes: Uint8Array, edges: Uint8Array, weights: F64, ceScale: number }
export interface AgNetAdamIn { m: F64, v: F64, step: number, lr: number, beta1: number, beta2: number, eps: number, weightDecay: number }
export interface AgNetStepOut { out: F64, ce?: F64, bce?: F64, grad?: F64 }
export interface AgNetDecodeIn { dag: Uint8Array, classOps: Int32Array, base: number, input: number, output: number }
export interface AgNetGenerateOut { out: F64, length: Int32Array, classes: Uint8Array, edges: Uint8Array, index: Int32Array, fresh: Uint8Array }

/** The addon's raw surface: typed arrays in, no defaults. lib/ wraps it for users. */
export interface Addon {
  info(): Omit<NativeInfo, 'path'>
  imageBatch(images: Uint8Array, side: number, channels: number, idx: Int32Array, image: number, mean: F64, std: F64, draws: Int32Array | null, cutout: number, threads?: number): F32
  setThreads(n: number): void
  setScratchLimit(bytes: number): void
  releaseScratch(): number
  kendallTau(x: F64, y: F64, variant: string, async?: false): number
  kendallTau(x: F64, y: F64, variant: string, async: true): Promise<number>
  spearman(x: F64, y: F64, async?: false): number
  spearman(x: F64, y: F64, async: true): Promise<number>
  pearson(x: F64, y: F64, async?: false): number
  pearson(x: F64, y: F64, async: true): Promise<number>
  pairwiseRankLoss(pred: F64, target: F64, phi: string, margin: number, reduction: string, algorithm: string, device: string, async?: false): LossOut
  pairwiseRankLoss(pred: F64, target: F64, phi: string, margin: number, reduction: string, algorithm: string, device: string, async: true): Promise<LossOut>
  tripletRankLoss(dist: F64, target: F64, phi: string, margin: number, reduction: string, algorithm: string, device: string, async?: false): LossOut
  tripletRankLoss(dist: F64, target: F64, phi: string, margin: number, reduction: string, algorithm: string, device: string, async: true): Promise<LossOut>
  pairwiseLogLoss(a: F64, b: F64, label: F64, reduction: string, async?: false): LogLossOut
  pairwiseLogLoss(a: F64, b: F64, label: F64, reduction: string, async: true): Promise<LogLossOut>
  sampleEfficiencyGain(space: F64, candidates: F64, targets: F64, subset: F64 | null, higherIsBetter: boolean, async?: false): GainOut
  sampleEfficiencyGain(space: F64, candidates: F64, targets: F64, subset: F64 | null, higherIsBetter: boolean, async: true): Promise<GainOut>
  nb101Analyze(matrix: Uint8Array, ops: Uint8Array, withHash?: boolean): Nb101Analysis
  nb101Enumerate(async?: false): Nb101Columns
  nb101Enumerate(async: true): Promise<Nb101Columns>
  nb101HashCells(vertices: Uint8Array, adjacency: Uint32Array, ops: Uint8Array, async?: false): Uint8Array
  nb101HashCells(vertices: Uint8Array, adjacency: Uint32Array, ops: Uint8Array, async: true): Promise<Uint8Array>
  nb101Cost(vertices: Uint8Array, adjacency: Uint32Array, ops: Uint8Array, perVertex: boolean, async?: false): Nb101CostOut
  nb101Cost(vertices: Uint8Array, adjacency: Uint32Array, ops: Uint8Array, perVertex: boolean, async: true): Promise<Nb101CostOut>
  renasEncode(vertices: Uint8Array, adjacency: Uint32Array, ops: Uint8Array, indices: Uint32Array | null, channels: number, layout: string,
    augment: boolean, seed: number, flopsScale: number, paramsScale: number, async?: false): Float32Array
  renasEncode(vertices: Uint8Array, adjacency: Uint32Array, ops: Uint8Array, indices: Uint32Array | null, channels: number, layout: string,
    augment: boolean, seed: number, flopsScale: number, paramsScale: number, async: true): Promise<Float32Array>
  renasOrder(vertices: Uint8Array, adjacency: Uint32Array, ops: Uint8Array, indices: Uint32Array | null, augment: boolean, seed: number): Uint8Array
  gcnScore(graphs: GraphsIn | HeldGraphsHandle, weights: GcnWeightsIn, threads: number | undefined, device: string, dedup: boolean, async?: false, norm?: string, pool?: string): F64
  gcnScore(graphs: GraphsIn | HeldGraphsHandle, weights: GcnWeightsIn, threads: number | undefined, device: string, dedup: boolean, async: true, norm?: string, pool?: string): Promise<F64>
  gcnEmbed(graphs: GraphsIn | HeldGraphsHandle, weights: GcnWeightsIn, threads: number | undefined, device: string, dedup: boolean, async?: false, norm?: string, pool?: string): F32
  gcnEmbed(graphs: GraphsIn | HeldGraphsHandle, weights: GcnWeightsIn, threads: number | undefined, device: string, dedup: boolean, async: true, norm?: string, pool?: string): Promise<F32>
  gcnGraphsHold(graphs: GraphsIn): { handle: HeldGraphsHandle, count: number, vertices: number, features: number }
  gcnTrain(graphs: GraphsIn, indices: Uint32Array, acc: F64, params: RankParamsIn, settings: RankTrainIn, threads: number | undefined, abort: Int32Array | undefined, async?: false): RankTrainOut
  gcnTrain(graphs: GraphsIn, indices: Uint32Array, acc: F64, params: RankParamsIn, settings: RankTrainIn, threads: number | undefined, abort: Int32Array | undefined, async: true): Promise<RankTrainOut>
  rankPairLoss(f: F64, acc: F64, ties: string, async?: false): { loss: number, grad: F64, pairs: number }
  gcnScoreGrad(graphs: GraphsIn, params: RankParamsIn, threads: number | undefined, async?: false, precision?: string, dedup?: boolean): RankGradOut
  gcnScoreGrad(graphs: GraphsIn, params: RankParamsIn, threads: number | undefined, async: true, precision?: string, dedup?: boolean): Promise<RankGradOut>
  comparatorProbability(embA: F32, embB: F32, head: HeadIn, threads: number | undefined, async?: false): F64
  comparatorProbability(embA: F32, embB: F32, head: HeadIn, threads: number | undefined, async: true): Promise<F64>
  forestFit(x: F32, y: F64, columns: number, params: ForestParamsRaw, threads: number | undefined, async?: false): ForestArraysRaw
  forestFit(x: F32, y: F64, columns: number, params: ForestParamsRaw, threads: number | undefined, async: true): Promise<ForestArraysRaw>
  forestPredict(forest: ForestIn | HeldForestHandle, x: F32, columns: number, selection: string, threads: number | undefined, async?: false): F64
  forestPredict(forest: ForestIn | HeldForestHandle, x: F32, columns: number, selection: string, threads: number | undefined, async: true): Promise<F64>
  forestHold(forest: ForestIn, columns: number): HeldForestHandle
  comparatorRowMeans(u: F64, v: F64, bias: number, threads: number | undefined, async?: false): F64
  comparatorRowMeans(u: F64, v: F64, bias: number, threads: number | undefined, async: true): Promise<F64>
  comparatorKendallCounts(u: F64, v: F64, bias: number, truth: F64, ties: string, threads: number | undefined, async?: false): { concordant: number, discordant: number, zero: number }
  controllerSample(params: F64, hidden: number, choices: number, draws: F64 | null, forced: Uint8Array | null, opsOut: Uint8Array, cacheOut: F64): { logProb: number, entropy: number }
  controllerBackward(params: F64, grad: F64, hidden: number, choices: number, ops: Uint8Array, cache: F64, coefLogProb: number, coefEntropy: number): void
  controllerStep(params: F64, grad: F64, m: F64, v: F64, hidden: number, choices: number, ops: Uint8Array, cache: F64, coefLogProb: number, coefEntropy: number,
    step: number, lr: number, beta1: number, beta2: number, weightDecay: number, eps: number): void
  controllerSampleMany(params: F64, hidden: number, choices: number, steps: number, draws: F64): Uint8Array
  nb101ControllerSample(params: F64, hidden: number, draws: F64 | null, forced: Uint8Array | null, seqOut: Uint8Array, cacheOut: F64): { logProb: number, entropy: number }
  nb101ControllerBackward(params: F64, grad: F64, hidden: number, seq: Uint8Array, cache: F64, coefLogProb: number, coefEntropy: number): void
  nb101ControllerStep(params: F64, grad: F64, m: F64, v: F64, hidden: number, seq: Uint8Array, cache: F64, coefLogProb: number, coefEntropy: number,
    step: number, lr: number, beta1: number, beta2: number, weightDecay: number, eps: number): void
  nb101ControllerSampleMany(params: F64, hidden: number, draws: F64): { seqs: Uint8Array, logProb: F64, entropy: F64 }
  crc32c(data: Uint8Array, crc?: number, impl?: 'auto' | 'portable' | 'hardware'): number
  nb101ParsePayload(payload: Uint8Array): Nb101RecordRaw
  agnetForward(params: F64, nodes: number, classes: number, z: F64, threads: number | undefined, async?: false): F64
  agnetForward(params: F64, nodes: number, classes: number, z: F64, threads: number | undefined, async: true): Promise<F64>
  agnetTrainStep(params: F64, nodes: number, classes: number, z: F64, target: AgNetTargetIn | null, dout: F64 | null, adam: AgNetAdamIn | null, threads: number | undefined): AgNetStepOut
  agnetGenerate(params: F64, nodes: number, classes: number, z: F64, state: Uint32Array, edgeRule: string, decode: AgNetDecodeIn, seen: Uint8Array | null, threads: number | undefined): AgNetGenerateOut
  nb101Ingest(path: string, lenient: boolean, chunkBytes: number, maxRecordBytes: number, onProgress: ((p: IngestProgressRaw) => void) | null): Promise<Nb101IngestRaw>
}

/** The package root: the nearest ancestor holding binding.gyp (works from lib/ and dist/lib/). */
function packageRoot (): string {
  let dir = __dirname
  for (;;) {
    if (fs.existsSync(path.join(dir, 'binding.gyp'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`nasrank: cannot find the package root (binding.gyp) above ${__dirname}`)
    dir = parent
  }
}

export const packageDir = packageRoot()

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as { (dir: string): Addon; resolve(dir: string): string }
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { nativeDigest } = require(path.join(packageDir, 'scripts', 'native-digest.js')) as { nativeDigest(root: string): string }

function loadAddon (): { addon: Addon; file: string } {
  let file: string
  try {
    // NASRANK_ADDON names another build of the same sources (scripts/asan.sh: a sanitizer build);
    // it is digest-checked like any other.
    file = process.env.NASRANK_ADDON ? path.resolve(process.env.NASRANK_ADDON) : nodeGypBuild.resolve(packageDir)
  } catch (err) {
    throw new Error(`nasrank: no native addon for ${process.platform}-${process.arch} (no prebuild and no local build). ` +
      `Build one with \`npm run build:native\` (needs a C++ compiler). Cause: ${(err as Error).message}`)
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const addon = require(file) as Addon
  const expected = nativeDigest(packageDir)
  const actual = addon.info().sourceDigest
  if (actual !== expected) {
    throw new Error(`nasrank: the native addon ${file} was compiled from other sources (digest ${actual}) ` +
      `than the native/ sources in ${packageDir} (digest ${expected}). Rebuild it: \`npm run build:native\` ` +
      '(and `npm run build:prebuild` to refresh the committed prebuild).')
  }
  return { addon, file }
}

const loaded = loadAddon()
export const addon: Addon = loaded.addon
export const addonPath: string = loaded.file

/**
 * Errors of the addon name its own functions and arguments (`nb101HashCells: cells.ops …`);
 * a public function that calls it under another name (an async twin, `nb101.hashBatch`,
 * `gcnCompare`) calls it through `named(fn)`, which renames the function, and optionally
 * leading argument names (`{ graphs: 'graphsB' }`), in the message of any error thrown or
 * rejected, so every message names the public function and argument.
 */
export function named (fn: string, args?: Record<string, string>): Addon {
  const rename = (err: unknown, internal: string): unknown => {
    if (err instanceof Error && err.message.startsWith(internal + ': ')) {
      let rest = err.message.slice(internal.length + 2)
      for (const [from, to] of Object.entries(args ?? {})) {
        if (rest.startsWith(from) && !/^\w/.test(rest.slice(from.length))) { rest = to + rest.slice(from.length); break }
      }
      err.message = `${fn}: ${rest}`
      if (typeof err.stack === 'string') err.stack = err.stack.replace(/^[^\n]*/, `${err.name}: ${err.message}`)
    }
    return err
  }
  return new Proxy(addon, {
    get (target, key) {
      const f = (target as unknown as Record<string | symbol, unknown>)[key]
      if (typeof f !== 'function' || typeof key !== 'string') return f
      return (...a: unknown[]) => {
        let out: unknown
        try {
          out = (f as (...x: unknown[]) => unknown).apply(target, a)
        } catch (err) {
          throw rename(err, key)
        }
        return out instanceof Promise ? out.catch(err => { throw rename(err, key) }) : out
      }
    }
  })
}
