// The one interface every predictor implements, and the encoded-input form they consume.
// Predictors are space-agnostic: they own an injected encoder that turns the caller's
// architecture collection (whatever type A it is) into a dense float batch.
import type { Random } from '../random'

/**
 * A batch of encoded architectures: `count` items, each a dense float array of shape
 * `shape` (row-major), concatenated in `data` (length count · Π shape).
 * E.g. ReNAS: shape [C, H, W] in channel-major (CHW) order per cell; Peephole: [T, D] tokens.
 */
export interface EncodedBatch {
  count: number
  shape: readonly number[]
  data: Float32Array
}

/**
 * Turns architectures into an {@link EncodedBatch}. When the predictor is also given
 * `count(archs)`, it may call `encode(archs, start, end)` for the items start..end−1 only
 * (chunked prediction over large collections); the returned batch must then hold
 * exactly end − start items.
 */
export type Encoder<A> = (archs: A, start?: number, end?: number) => EncodedBatch

/**
 * Training-time augmentation supplied by the encoder's owner: returns the encoded data
 * (Float32Array of indices.length · Π shape, in the order of `indices`) of an augmented
 * version of the training architectures archs[indices[0]], archs[indices[1]], …
 * (e.g. a random equal-depth vertex permutation). It must draw all randomness from `rng`.
 */
export type Augment<A> = (archs: A, indices: Int32Array, rng: Random) => Float32Array

/** Called after every epoch; fit awaits a returned promise. */
export type EpochCallback = (epoch: number, info: { loss: number; epochs: number }) => void | Promise<void>

export interface FitOptions {
  /** Called after each epoch (1-based) with that epoch's mean training loss. */
  onEpoch?: EpochCallback
  /** Aborts training: fit rejects with an Error named 'AbortError' (the model is left partly trained). */
  signal?: AbortSignal
}

/** Where the time of a fit went (milliseconds, wall clock). */
export interface FitTiming {
  /** The whole fit call. */
  totalMs: number
  /** Encoding the architectures (the injected encoder). */
  encodeMs: number
  /** Building batches: shuffling, gathering, augmentation, tensor upload. */
  dataMs: number
  /** Inside the native ranking-loss kernels (forward and backward are one call); 0 for other losses. */
  nativeLossMs: number
  /** Model compute: tfjs forward and backward without the native loss time (neural predictors); tree building (random forest). */
  modelMs: number
  /** Optimizer update (Adam step and weight decay); 0 for the random forest. */
  optimizerMs: number
}

export interface FitReport {
  /** Epochs run (1 for the random forest). */
  epochs: number
  /** Optimizer steps (trees for the random forest). */
  steps: number
  /** Training architectures. */
  samples: number
  /** Mean training loss per epoch (empty for the random forest). */
  loss: number[]
  /** The last epoch's mean training loss (NaN for the random forest). */
  finalLoss: number
  timing: FitTiming
  /**
   * Share of the training step spent in the native loss:
   * nativeLossMs / (nativeLossMs + modelMs + optimizerMs); 0 without a native loss.
   */
  lossShare: number
}

/**
 * A performance predictor over architectures of type A.
 * - fit trains from scratch (re-initialised from the configured seed), so the same seed and
 *   data give the same predictions on the same tfjs backend.
 * - predict returns one score per architecture. Regression predictors (MSE, random forest)
 *   return values in the target's scale; ranking predictors return scores whose order is
 *   what matters.
 * - save writes `predictor.json` (kind, config, versions, state, weight manifest) and
 *   `weights.bin` (the concatenated weights) into `dir`, atomically; `loadPredictor(dir)`
 *   rebuilds the right predictor.
 */
export interface Predictor<A> {
  /** Display name, e.g. 'ReNAS-6', 'E2EPP-RF', 'Peephole-LSTM'. */
  readonly name: string
  /** The kind recorded in saved files, e.g. 'renas', 'random-forest', 'peephole'. */
  readonly kind: string
  /** True after a successful fit (or load). */
  readonly trained: boolean
  fit(archs: A, targets: ArrayLike<number>, options?: FitOptions): Promise<FitReport>
  predict(archs: A): Promise<Float64Array>
  save(dir: string): Promise<void>
  /** The resolved configuration (defaults filled in), as saved. */
  config(): Record<string, unknown>
  /** Frees tfjs memory (weights, optimizer state). The predictor is unusable afterwards. */
  dispose(): void
}

/** What every predictor constructor and loader accepts besides its configuration. */
export interface PredictorHooks<A> {
  /** Encoder (default: the identity on an {@link EncodedBatch}). */
  encode?: Encoder<A>
  /** Number of architectures in a collection; enables chunked encoding in predict. */
  count?: (archs: A) => number
  /** Training-time augmentation (neural predictors only). */
  augment?: Augment<A>
}
