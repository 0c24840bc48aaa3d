// ReNAS (Xu et al., CVPR 2021): a LeNet-5 over the per-cell feature tensor, trained to rank.
//
// Input: per architecture a [C, H, W] tensor in channel-major (CHW) order — for NAS-Bench-101
// the 19×7×7 feature tensor (C = 19) or the 1×7×7 type matrix (C = 1). It is transposed to
// NHWC for tfjs.
//
// LeNet-5 for 7×7 inputs (ReLU variant; 'same' padding so the small input survives):
//   conv 5×5, 6 filters, 'same' → ReLU → max-pool 2×2 stride 2 'same' (7×7 → 4×4)
//   → conv 3×3, 16 filters, 'same' → ReLU → flatten (4·4·16 = 256)
//   → dense 120 → ReLU → dense 84 → ReLU  = η (penultimate features, used by L2)
//   → dense 1                                = ε (the score)
// Kernels: Glorot-uniform from the package PRNG; biases 0. The convolutions go through
// conv2dSame (lib/models/conv.ts), whose backward pass needs no Conv2DBackpropFilter kernel
// (the wasm backend has none).
//
// The six variants of the paper's ablation:
//   ReNAS-1: type matrix + MSE      ReNAS-2: tensor + MSE
//   ReNAS-3: type matrix + L1       ReNAS-4: tensor + L1
//   ReNAS-5: type matrix + L        ReNAS-6: tensor + L       (L = L1 + λ·L2)
// L1 = Eq. 3, the pairwise ranking loss on ε against the target accuracy;
// L2 = Eq. 4, the triplet loss on the distances ‖η_i − η_j‖ against |y_i − y_j|;
// both with φ = hinge (margin configurable), computed by the native kernels over all pairs
// and all triplets of each batch. MSE variants regress the z-scored targets and predict in
// the target's scale; the ranking variants' scores are only meaningful by their order.
import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs'
import type { Tf } from '../models/tf'
import type { TfModule } from '../models/tf-types'
import { conv2dSame } from '../models/conv'
import { matMul2d } from '../models/matmul'
import { pairwiseRankLossTf, tripletRankLossTf } from '../losses/tf-ranking'
import { checkOptions, oneOf } from '../validate'
import { checkBatch, checkFinite, checkTargets, encodeAll, sameShape, sizeOf, standardize } from './encoded'
import { expectKind, readPredictor, savedInputShape, type LoadedPredictor } from './io'
import { Params, TfPredictor, checkFitOptions, checkTargetScale, numberIn, positiveInteger, predictInChunks, seedOption, seedStreams, train, type ModelState, type ParamSpec } from './neural'
import type { EncodedBatch, FitOptions, FitReport, Predictor, PredictorHooks } from './types'

export type ReNASVariant = 'renas-1' | 'renas-2' | 'renas-3' | 'renas-4' | 'renas-5' | 'renas-6'

/** The paper's ablation: input representation and loss of each variant. */
export const RENAS_VARIANTS: Readonly<Record<ReNASVariant, { input: 'type' | 'tensor'; loss: 'mse' | 'l1' | 'l'; name: string }>> = Object.freeze({
  'renas-1': { input: 'type', loss: 'mse', name: 'ReNAS-1' },
  'renas-2': { input: 'tensor', loss: 'mse', name: 'ReNAS-2' },
  'renas-3': { input: 'type', loss: 'l1', name: 'ReNAS-3' },
  'renas-4': { input: 'tensor', loss: 'l1', name: 'ReNAS-4' },
  'renas-5': { input: 'type', loss: 'l', name: 'ReNAS-5' },
  'renas-6': { input: 'tensor', loss: 'l', name: 'ReNAS-6' }
})

const VARIANT_NAMES = Object.keys(RENAS_VARIANTS) as ReNASVariant[]

export interface ReNASConfig {
  /** Which ablation variant (default 'renas-6': tensor + L). */
  variant?: ReNASVariant
  /** Weight λ of the triplet loss in L = L1 + λ·L2 (default 1; ≥ 0; used by ReNAS-5/6 only). */
  lambda?: number
  /** φ of both ranking losses: 'hinge' (default, the paper's: (margin − z)+), 'logistic' or 'exp'. */
  phi?: 'hinge' | 'logistic' | 'exp'
  /** Hinge margin of L1 (default 1). */
  margin?: number
  /** Margin of L2 (default: the same as `margin`). */
  tripletMargin?: number
  /** Reduction of L1 and L2: 'mean' over the comparable pairs/triplets (default) or 'sum'. */
  reduction?: 'mean' | 'sum'
  /** Floor of the squared feature distance in L2 (default 1e-6; see tripletRankLossTf). */
  distanceEps?: number
  /** Training epochs (default 200, the paper's). */
  epochs?: number
  /** Batch size (default 1024, the paper's: with 424 training cells one batch holds all pairs and triplets). */
  batchSize?: number
  /** Adam learning rate (default 1e-3). */
  learningRate?: number
  /** Weight decay (default 5e-4). */
  weightDecay?: number
  /** 'l2' (default): torch.optim.Adam-style, wd·w added to the gradient. 'decoupled': AdamW-style. */
  weightDecayMode?: 'l2' | 'decoupled'
  /** Seed of initialisation, shuffling and augmentation (default 0). */
  seed?: number
  /** Expected input channels C (default 1 for the type-matrix variants, 19 for the tensor variants). */
  channels?: number
  /** Architectures per forward pass in predict (default 4096). */
  predictBatchSize?: number
}

export interface ReNASOptions<A> extends ReNASConfig, PredictorHooks<A> {
  /** The tfjs module (default: loaded lazily; the backend is the caller's choice). */
  tf?: TfModule
}

type Resolved = Required<ReNASConfig>

const CONFIG_KEYS = ['variant', 'lambda', 'phi', 'margin', 'tripletMargin', 'reduction', 'distanceEps', 'epochs', 'batchSize', 'learningRate', 'weightDecay', 'weightDecayMode', 'seed', 'channels', 'predictBatchSize'] as const
const OPTION_KEYS = [...CONFIG_KEYS, 'encode', 'count', 'augment', 'tf'] as const

/** Validates a ReNAS configuration and fills in the defaults. */
export function resolveReNASConfig (config: unknown, fn = 'ReNASPredictor'): Resolved {
  const c = checkOptions<ReNASOptions<unknown>>(config, fn, OPTION_KEYS)
  const variant = oneOf(c.variant, 'renas-6', VARIANT_NAMES, fn, 'variant')
  const { input, loss } = RENAS_VARIANTS[variant]
  const margin = numberIn(c.margin, 1, fn, 'margin', () => true, 'finite')
  const batchSize = positiveInteger(c.batchSize, 1024, fn, 'batchSize', loss === 'mse' ? 1 : 2)
  return {
    variant,
    lambda: numberIn(c.lambda, 1, fn, 'lambda', v => v >= 0, '≥ 0'),
    phi: oneOf(c.phi, 'hinge', ['hinge', 'logistic', 'exp'] as const, fn, 'phi'),
    margin,
    tripletMargin: numberIn(c.tripletMargin, margin, fn, 'tripletMargin', () => true, 'finite'),
    reduction: oneOf(c.reduction, 'mean', ['mean', 'sum'] as const, fn, 'reduction'),
    distanceEps: numberIn(c.distanceEps, 1e-6, fn, 'distanceEps', v => v > 0, '> 0'),
    epochs: positiveInteger(c.epochs, 200, fn, 'epochs'),
    batchSize,
    learningRate: numberIn(c.learningRate, 1e-3, fn, 'learningRate', v => v > 0, '> 0'),
    weightDecay: numberIn(c.weightDecay, 5e-4, fn, 'weightDecay', v => v >= 0, '≥ 0'),
    weightDecayMode: oneOf(c.weightDecayMode, 'l2', ['l2', 'decoupled'] as const, fn, 'weightDecayMode'),
    seed: seedOption(c.seed, fn),
    channels: positiveInteger(c.channels, input === 'type' ? 1 : 19, fn, 'channels'),
    predictBatchSize: positiveInteger(c.predictBatchSize, 4096, fn, 'predictBatchSize')
  }
}

/** The LeNet-5 parameter list for input [C, H, W]. */
export function lenetSpecs (channels: number, height: number, width: number): ParamSpec[] {
  const hp = Math.ceil(height / 2)
  const wp = Math.ceil(width / 2)
  const flat = hp * wp * 16
  const glorot = (fanIn: number, fanOut: number) => ({ kind: 'glorot' as const, fanIn, fanOut })
  const zeros = { kind: 'constant' as const, value: 0 }
  return [
    { name: 'conv1/kernel', shape: [5, 5, channels, 6], init: glorot(25 * channels, 25 * 6) },
    { name: 'conv1/bias', shape: [6], init: zeros },
    { name: 'conv2/kernel', shape: [3, 3, 6, 16], init: glorot(9 * 6, 9 * 16) },
    { name: 'conv2/bias', shape: [16], init: zeros },
    { name: 'fc1/kernel', shape: [flat, 120], init: glorot(flat, 120) },
    { name: 'fc1/bias', shape: [120], init: zeros },
    { name: 'fc2/kernel', shape: [120, 84], init: glorot(120, 84) },
    { name: 'fc2/bias', shape: [84], init: zeros },
    { name: 'out/kernel', shape: [84, 1], init: glorot(84, 1) },
    { name: 'out/bias', shape: [1], init: zeros }
  ]
}

/** @internal LeNet-5 forward pass on NHWC input: η [N, 84] and ε [N]. */
export function lenetForward (tf: Tf, p: Params, x: Tensor): { eta: Tensor2D; eps: Tensor } {
  const n = x.shape[0]
  let h: Tensor = tf.relu(tf.add(conv2dSame(tf, x, p.get('conv1/kernel'), false), p.get('conv1/bias')))
  h = tf.maxPool(h as never, 2, 2, 'same')
  h = tf.relu(tf.add(conv2dSame(tf, h, p.get('conv2/kernel')), p.get('conv2/bias')))
  h = tf.reshape(h, [n, -1])
  h = tf.relu(tf.add(matMul2d(tf, h, p.get('fc1/kernel')), p.get('fc1/bias')))
  const eta = tf.relu(tf.add(matMul2d(tf, h, p.get('fc2/kernel')), p.get('fc2/bias'))) as Tensor2D
  const eps = tf.reshape(tf.add(matMul2d(tf, eta, p.get('out/kernel')), p.get('out/bias')), [n])
  return { eta, eps }
}

/**
 * The ReNAS predictor (any of the six ablation variants). Architectures of type A reach it
 * through the injected encoder (default: A is an {@link EncodedBatch} of [C, H, W] items).
 */
export class ReNASPredictor<A = EncodedBatch> extends TfPredictor<A> implements Predictor<A> {
  readonly kind = 'renas'
  readonly name: string
  private readonly cfg: Resolved

  constructor (options: ReNASOptions<A> = {}) {
    const cfg = resolveReNASConfig(options, 'ReNASPredictor')
    super(options, 'ReNASPredictor')
    this.cfg = cfg
    this.name = RENAS_VARIANTS[cfg.variant].name
  }

  config (): Record<string, unknown> {
    return { ...this.cfg }
  }

  private checkInput (batch: EncodedBatch, fn: string, expected: number[] | null, offset = 0): void {
    if (batch.shape.length !== 3) throw new RangeError(`${fn}: ReNAS input items must have shape [C, H, W], got [${batch.shape.join(', ')}]`)
    const c = batch.shape[0]
    if (c !== this.cfg.channels) {
      const want = RENAS_VARIANTS[this.cfg.variant].input === 'type' ? 'the type matrix' : 'the feature tensor'
      throw new RangeError(`${fn}: ${this.name} expects ${want} with ${this.cfg.channels} channel(s) per item (option channels), got ${c} (shape [${batch.shape.join(', ')}])`)
    }
    if (expected !== null && !sameShape(batch.shape, expected)) {
      throw new RangeError(`${fn}: items have shape [${batch.shape.join(', ')}], but the model was trained on [${expected.join(', ')}]`)
    }
    checkFinite(batch.data, fn, 'encoded input', sizeOf(batch.shape), offset)
  }

  private toInput (buffer: Float32Array, b: number): Tensor {
    const [c, h, w] = this.state.inputShape as number[]
    const tf = this.tf
    return tf.tidy(() => tf.transpose(tf.tensor4d(buffer, [b, c, h, w]), [0, 2, 3, 1]))
  }

  async fit (archs: A, targets: ArrayLike<number>, options?: FitOptions): Promise<FitReport> {
    const fn = `${this.name}.fit`
    this.checkNotDisposed(fn)
    const opts = checkFitOptions(options, fn)
    const startMs = performance.now()
    const tf = this.tf
    const data = encodeAll(this.hooks, archs, fn)
    const encodeMs = performance.now() - startMs
    const cfg = this.cfg
    const { loss } = RENAS_VARIANTS[cfg.variant]
    const y = checkTargets(targets, data.count, fn)
    const minCount = loss === 'mse' ? 1 : 2
    if (data.count < minCount) throw new RangeError(`${fn}: needs at least ${minCount} architectures, got ${data.count}`)
    this.checkInput(data, fn, null)

    // Fresh start from the seed: same seed and data ⇒ same model.
    this.releaseParams()
    const [c, h, w] = data.shape
    const streams = seedStreams(cfg.seed)
    const params = Params.init(tf, lenetSpecs(c, h, w), streams.init)
    const { mean, std, z } = standardize(y)
    const state: ModelState = { inputShape: [c, h, w], targetMean: loss === 'mse' ? mean : 0, targetStd: loss === 'mse' ? std : 1 }
    this.state = state
    const rankOpts = { phi: cfg.phi, reduction: cfg.reduction }

    const lossFn = (input: Tensor, batch: Int32Array, timing: { ms: number; calls: number }): Scalar => {
      const { eta, eps } = lenetForward(tf, params, input)
      if (loss === 'mse') {
        const zb = new Float32Array(batch.length)
        for (let k = 0; k < batch.length; k++) zb[k] = z[batch[k]]
        return tf.mean(tf.squaredDifference(eps, tf.tensor1d(zb))) as Scalar
      }
      const yb = new Float64Array(batch.length)
      for (let k = 0; k < batch.length; k++) yb[k] = y[batch[k]]
      const l1 = pairwiseRankLossTf(tf, eps, yb, { ...rankOpts, margin: cfg.margin, timing })
      if (loss === 'l1' || cfg.lambda === 0) return l1
      const l2 = tripletRankLossTf(tf, eta, yb, { ...rankOpts, margin: cfg.tripletMargin, eps: cfg.distanceEps, timing })
      return tf.add(l1, tf.mul(l2, cfg.lambda)) as Scalar
    }

    return this.adoptTrained(params, async () => train({
      tf,
      fn,
      params,
      settings: { epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, weightDecay: cfg.weightDecay, weightDecayMode: cfg.weightDecayMode, minBatch: minCount },
      data,
      archs,
      augment: this.hooks.augment,
      shuffleRng: streams.shuffle,
      augmentRng: streams.augment,
      toInput: (buffer, b) => this.toInput(buffer, b),
      loss: lossFn,
      options: opts,
      encodeMs,
      startMs
    }))
  }

  async predict (archs: A): Promise<Float64Array> {
    const fn = `${this.name}.predict`
    const params = this.trainedParams(fn)
    const tf = this.tf
    return predictInChunks(tf, this.hooks, archs, this.cfg.predictBatchSize, fn, this.state,
      (batch, start) => this.checkInput(batch, fn, this.state.inputShape, start),
      (data, count) => lenetForward(tf, params, this.toInput(data, count)).eps)
  }

  /** Rebuilds a saved ReNAS predictor (see loadPredictor for the kind-agnostic entry). */
  static async load<A = EncodedBatch> (dir: string, hooks: PredictorHooks<A> & { tf?: TfModule } = {}): Promise<ReNASPredictor<A>> {
    return ReNASPredictor.fromSaved<A>(await readPredictor(dir, 'ReNASPredictor.load'), hooks)
  }

  /** @internal */
  static fromSaved<A> (loaded: LoadedPredictor, hooks: PredictorHooks<A> & { tf?: TfModule }): ReNASPredictor<A> {
    const fn = 'ReNASPredictor.load'
    expectKind(loaded, 'renas', fn)
    const p = new ReNASPredictor<A>({ ...(loaded.file.config as ReNASConfig), ...hooks })
    const s = loaded.file.state as Partial<ModelState>
    const shape = savedInputShape(s, ['C', 'H', 'W'], fn)
    if (shape[0] !== p.cfg.channels) throw new Error(`${fn}: state.inputShape has ${shape[0]} channels but config.channels is ${p.cfg.channels}`)
    p.state = { inputShape: shape, ...checkTargetScale(s, fn) }
    p.params = Params.fromSaved(p.tf, lenetSpecs(shape[0], shape[1], shape[2]), loaded, fn)
    return p
  }
}

/** Convenience: checks an encoded ReNAS batch (shape [C, H, W]). */
export function checkReNASBatch (batch: unknown, fn = 'checkReNASBatch'): EncodedBatch {
  const b = checkBatch(batch, fn, 'batch')
  if (b.shape.length !== 3) throw new RangeError(`${fn}: items must have shape [C, H, W], got [${b.shape.join(', ')}]`)
  return b
}
