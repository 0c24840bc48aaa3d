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
  /** CPU features detected at run time (kernels dispatch on them). */
  cpu: { avx2: boolean; avx512f: boolean }
  /** Scratch memory kept between calls (see `setScratchLimit`, `releaseScratch`). */
  scratch: { cachedBytes: number; limitBytes: number }
  /** File the addon was loaded from. */
  path: string
}

type F64 = Float64Array
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

/** The addon's raw surface: typed arrays in, no defaults. lib/ wraps it for users. */
export interface Addon {
  info(): Omit<NativeInfo, 'path'>
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
    file = nodeGypBuild.resolve(packageDir)
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
