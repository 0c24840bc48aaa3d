// What the tfjs predictors share: parameters initialised from the package PRNG (so the
// initial weights do not depend on the backend or on tfjs' global seeds), the training loop
// (seeded shuffling into near-equal batches, optional augmentation, Adam with weight decay,
// timing split, abort), and weight (de)serialisation.
import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs'
import { checkTf, type Tf } from '../models/tf'
import type { TfModule } from '../models/tf-types'
import type { NativeLossTiming } from '../losses/tf-ranking'
import { Random, checkSeed } from '../random'
import { describe } from '../validate'
import { abortError, forEachChunk, gather, resolveHooks, sizeOf, type ResolvedHooks } from './encoded'
import { takeWeight, writePredictor, type LoadedPredictor, type NamedWeight } from './io'
import type { Augment, EncodedBatch, FitOptions, FitReport, PredictorHooks } from './types'

export type Init =
  | { kind: 'glorot'; fanIn: number; fanOut: number }
  | { kind: 'constant'; value: number }
  | { kind: 'lstm-bias'; units: number } // zeros, forget-gate block (second quarter) = 1

export interface ParamSpec {
  name: string
  shape: number[]
  init: Init
}

function initialValues (spec: ParamSpec, rng: Random): Float32Array {
  const n = sizeOf(spec.shape)
  const out = new Float32Array(n)
  const init = spec.init
  if (init.kind === 'glorot') {
    // Glorot/Xavier uniform: U(−a, a), a = sqrt(6 / (fanIn + fanOut)).
    const a = Math.sqrt(6 / (init.fanIn + init.fanOut))
    for (let i = 0; i < n; i++) out[i] = (2 * rng.float() - 1) * a
  } else if (init.kind === 'constant') {
    out.fill(init.value)
  } else {
    out.fill(1, init.units, 2 * init.units)
  }
  return out
}

/** A named, ordered set of tf.Variables. Variable names are left to tfjs (they must be globally unique). */
export class Params {
  readonly specs: ParamSpec[]
  /** @internal */
  readonly vars: Variable[]
  private readonly byName: Map<string, Variable>

  private constructor (specs: ParamSpec[], vars: Variable[]) {
    this.specs = specs
    this.vars = vars
    this.byName = new Map(specs.map((s, i) => [s.name, vars[i]]))
  }

  /** @internal Fresh parameters, drawn in spec order from `rng`. */
  static init (tf: Tf, specs: ParamSpec[], rng: Random): Params {
    // tidy disposes the initial-value tensors; variables survive tidy.
    return new Params(specs, specs.map(s => tf.tidy(() => tf.variable(tf.tensor(initialValues(s, rng), s.shape, 'float32'), true))))
  }

  /** @internal Parameters from a saved predictor; every spec must be present with its exact shape. */
  static fromSaved (tf: Tf, specs: ParamSpec[], loaded: LoadedPredictor, fn: string): Params {
    const data = specs.map(s => takeWeight(loaded, s.name, 'float32', s.shape, fn))
    return new Params(specs, specs.map((s, i) => tf.tidy(() => tf.variable(tf.tensor(data[i] as Float32Array, s.shape, 'float32'), true))))
  }

  /** @internal */
  get (name: string): Variable {
    const v = this.byName.get(name)
    if (v === undefined) throw new Error(`internal: no parameter '${name}'`)
    return v
  }

  toWeights (): NamedWeight[] {
    return this.specs.map((s, i) => ({ name: s.name, shape: s.shape, data: Float32Array.from(this.vars[i].dataSync() as Float32Array) }))
  }

  dispose (): void {
    for (const v of this.vars) v.dispose()
  }
}

export interface TrainSettings {
  epochs: number
  batchSize: number
  learningRate: number
  weightDecay: number
  /**
   * 'l2': coupled L2 as in torch.optim.Adam(weight_decay=wd): wd·w is added to every
   * gradient before the Adam update. 'decoupled': AdamW, w ← w − lr·wd·w after the Adam step.
   * Both apply to every trainable tensor (kernels and biases), as PyTorch does by default.
   */
  weightDecayMode: 'l2' | 'decoupled'
  /** Smallest useful batch (2 for ranking losses). */
  minBatch: number
}

/** Near-equal batch sizes for n items: ceil(n / batchSize) batches whose sizes differ by at most 1. */
export function batchSizes (n: number, batchSize: number, minBatch: number): number[] {
  let nb = Math.max(1, Math.ceil(n / batchSize))
  if (Math.floor(n / nb) < minBatch) nb = Math.max(1, Math.floor(n / minBatch))
  const q = Math.floor(n / nb)
  const r = n - q * nb
  return Array.from({ length: nb }, (_, k) => q + (k < r ? 1 : 0))
}

/** @internal */
export interface TrainJob<A> {
  tf: Tf
  fn: string
  params: Params
  settings: TrainSettings
  /** The encoded training set and the architectures it came from (for augmentation). */
  data: EncodedBatch
  archs: A
  augment?: Augment<A>
  shuffleRng: Random
  augmentRng: Random
  /** Builds the model input from a gathered batch (count = b). */
  toInput: (buffer: Float32Array, b: number) => Tensor
  /** The training loss of one batch (called inside tf.variableGrads). */
  loss: (input: Tensor, batch: Int32Array, timing: NativeLossTiming) => Scalar
  options: FitOptions
  /** Time already spent encoding (reported in the timing). */
  encodeMs: number
  startMs: number
}

function yieldToEventLoop (): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}

/** @internal Runs the training loop; the parameters are updated in place. */
export async function train<A> (job: TrainJob<A>): Promise<FitReport> {
  const { tf, fn, params, settings, data, options } = job
  const signal = options.signal
  const n = data.count
  const itemSize = sizeOf(data.shape)
  const sizes = batchSizes(n, settings.batchSize, settings.minBatch)
  const order = Int32Array.from({ length: n }, (_, i) => i)
  const buffer = new Float32Array(Math.max(...sizes) * itemSize)
  const optimizer = tf.train.adam(settings.learningRate, 0.9, 0.999, 1e-8)
  const nativeTiming: NativeLossTiming = { ms: 0, calls: 0 }
  const varList = params.vars
  const lossHistory: number[] = []
  let dataMs = 0
  let modelMs = 0
  let optimizerMs = 0
  let steps = 0
  try {
    for (let epoch = 1; epoch <= settings.epochs; epoch++) {
      if (signal?.aborted) throw abortError(signal, fn)
      job.shuffleRng.shuffle(order)
      let epochLoss = 0
      let start = 0
      for (const b of sizes) {
        if (signal?.aborted) throw abortError(signal, fn)
        const t0 = performance.now()
        const batch = order.subarray(start, start + b)
        start += b
        let view: Float32Array
        if (job.augment) {
          const aug = job.augment(job.archs, batch.slice(), job.augmentRng)
          if (!(aug instanceof Float32Array) || aug.length !== b * itemSize) {
            throw new TypeError(`${fn}: augment must return a Float32Array of ${b} · ${itemSize} = ${b * itemSize} values, got ${aug instanceof Float32Array ? `length ${aug.length}` : describe(aug)}`)
          }
          view = aug
        } else {
          view = gather(data, batch, buffer).subarray(0, b * itemSize)
        }
        const input = job.toInput(view, b)
        const t1 = performance.now()
        const nativeBefore = nativeTiming.ms
        let lossValue: number
        let t2: number
        try {
          const { value, grads } = tf.variableGrads(() => job.loss(input, batch, nativeTiming), varList)
          try {
            lossValue = value.dataSync()[0]
            t2 = performance.now()
            if (Number.isFinite(lossValue)) {
              tf.tidy(() => {
                let update = grads
                if (settings.weightDecay > 0 && settings.weightDecayMode === 'l2') {
                  // New map: the original gradients stay in `grads` and are disposed below.
                  update = {}
                  for (const v of varList) {
                    const g = grads[v.name]
                    if (g !== undefined) update[v.name] = tf.add(g, tf.mul(v, settings.weightDecay))
                  }
                }
                optimizer.applyGradients(update as never) // (AdamOptimizer types the map as variables; it reads gradients)
                if (settings.weightDecay > 0 && settings.weightDecayMode === 'decoupled') {
                  const keep = 1 - settings.learningRate * settings.weightDecay
                  for (const v of varList) v.assign(tf.mul(v, keep))
                }
              })
            }
          } finally {
            tf.dispose(grads)
            value.dispose()
          }
        } finally {
          input.dispose()
        }
        const t3 = performance.now()
        if (!Number.isFinite(lossValue)) throw new RangeError(`${fn}: the training loss became ${lossValue} at epoch ${epoch} (learning rate ${settings.learningRate} too high, or non-finite inputs)`)
        dataMs += t1 - t0
        modelMs += (t2 - t1) - (nativeTiming.ms - nativeBefore)
        optimizerMs += t3 - t2
        epochLoss += lossValue * b
        steps++
      }
      const meanLoss = epochLoss / n
      lossHistory.push(meanLoss)
      if (options.onEpoch) await options.onEpoch(epoch, { loss: meanLoss, epochs: settings.epochs })
      await yieldToEventLoop()
    }
  } finally {
    optimizer.dispose()
  }
  const nativeLossMs = nativeTiming.ms
  const stepMs = nativeLossMs + modelMs + optimizerMs
  return {
    epochs: settings.epochs,
    steps,
    samples: n,
    loss: lossHistory,
    finalLoss: lossHistory.length > 0 ? lossHistory[lossHistory.length - 1] : NaN,
    timing: {
      totalMs: performance.now() - job.startMs,
      encodeMs: job.encodeMs,
      dataMs,
      nativeLossMs,
      modelMs,
      optimizerMs
    },
    lossShare: nativeLossMs > 0 && stepMs > 0 ? nativeLossMs / stepMs : 0
  }
}

/** The three sub-streams of a predictor's seed: initialisation, shuffling, augmentation. */
export function seedStreams (seed: number): { init: Random; shuffle: Random; augment: Random } {
  const root = new Random(seed)
  return { init: new Random(root.uint32()), shuffle: new Random(root.uint32()), augment: new Random(root.uint32()) }
}

/** Validators for the common training options. */
export function positiveInteger (value: unknown, fallback: number, fn: string, name: string, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new TypeError(`${fn}: ${name} must be an integer, got ${describe(value)}`)
  if (value < min) throw new RangeError(`${fn}: ${name} must be ≥ ${min}, got ${value}`)
  return value
}

export function numberIn (value: unknown, fallback: number, fn: string, name: string, check: (v: number) => boolean, requirement: string): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(value)}`)
  if (!Number.isFinite(value) || !check(value)) throw new RangeError(`${fn}: ${name} must be ${requirement}, got ${value}`)
  return value
}

export function seedOption (value: unknown, fn: string): number {
  return value === undefined ? 0 : checkSeed(value, fn)
}

export function checkFitOptions (options: unknown, fn: string): FitOptions {
  if (options === undefined) return {}
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${describe(options)}`)
  const o = options as FitOptions
  for (const key of Object.keys(o)) {
    if (key !== 'onEpoch' && key !== 'signal') throw new TypeError(`${fn}: unknown option '${key}' (known: onEpoch, signal)`)
  }
  if (o.onEpoch !== undefined && typeof o.onEpoch !== 'function') throw new TypeError(`${fn}: onEpoch must be a function, got ${describe(o.onEpoch)}`)
  if (o.signal !== undefined && (o.signal === null || typeof o.signal !== 'object' || typeof (o.signal as AbortSignal).aborted !== 'boolean')) {
    throw new TypeError(`${fn}: signal must be an AbortSignal, got ${describe(o.signal)}`)
  }
  return o
}

/** How a regression predictor maps its outputs back to the targets' scale (identity for ranking losses). */
export interface TargetScale {
  targetMean: number
  targetStd: number
}

/**
 * @internal
 * Scores `archs` in chunks of at most `chunk` items: `check` validates each encoded batch,
 * `forward` maps a run of items to one score each (inside tf.tidy), and the scores come back
 * in the targets' scale.
 */
export function predictInChunks<A> (tf: Tf, hooks: ResolvedHooks<A>, archs: A, chunk: number, fn: string, scale: TargetScale,
  check: (batch: EncodedBatch, start: number) => void, forward: (data: Float32Array, count: number) => Tensor): Float64Array {
  const parts: Array<{ start: number; values: Float32Array }> = []
  const total = forEachChunk(hooks, archs, chunk, fn, (batch, start) => {
    check(batch, start)
    const size = sizeOf(batch.shape)
    for (let s = 0; s < batch.count; s += chunk) {
      const e = Math.min(batch.count, s + chunk)
      const scores = tf.tidy(() => forward(batch.data.subarray(s * size, e * size), e - s))
      try {
        parts.push({ start: start + s, values: scores.dataSync() as Float32Array })
      } finally {
        scores.dispose()
      }
    }
  })
  const out = new Float64Array(total)
  for (const { start, values } of parts) {
    for (let i = 0; i < values.length; i++) out[start + i] = values[i] * scale.targetStd + scale.targetMean
  }
  return out
}

/** Checks the target scale of a saved predictor's state. */
export function checkTargetScale (state: Partial<TargetScale>, fn: string): TargetScale {
  const { targetMean, targetStd } = state
  if (typeof targetMean !== 'number' || !Number.isFinite(targetMean) || typeof targetStd !== 'number' || !(targetStd > 0)) {
    throw new Error(`${fn}: state.targetMean / targetStd must be finite numbers (std > 0)`)
  }
  return { targetMean, targetStd }
}

/** What a tfjs predictor keeps beside its weights: the item shape it was trained on and its target scale. */
export interface ModelState extends TargetScale {
  inputShape: number[] | null
}

/**
 * The life cycle the tfjs predictors share (ReNAS, Peephole): the injected encoder hooks and
 * tfjs module, the trained parameters with their {@link ModelState}, save and dispose.
 */
export abstract class TfPredictor<A> {
  abstract readonly kind: string
  abstract readonly name: string
  protected readonly hooks: ResolvedHooks<A>
  private readonly tfModule: Tf | undefined
  private readonly className: string
  protected params: Params | null = null
  protected state: ModelState = { inputShape: null, targetMean: 0, targetStd: 1 }
  private disposed = false

  protected constructor (options: PredictorHooks<A> & { tf?: TfModule }, className: string) {
    this.hooks = resolveHooks<A>({ encode: options.encode, count: options.count, augment: options.augment }, className)
    this.tfModule = options.tf === undefined ? undefined : checkTf(options.tf, className)
    this.className = className
  }

  get trained (): boolean {
    return this.params !== null
  }

  /** @internal */
  protected get tf (): Tf {
    return this.tfModule ?? checkTf(undefined, this.className)
  }

  abstract config (): Record<string, unknown>

  protected checkNotDisposed (fn: string): void {
    if (this.disposed) throw new Error(`${fn}: the predictor was disposed`)
  }

  /** The trained parameters, or a clear error (disposed / not trained). */
  protected trainedParams (fn: string): Params {
    this.checkNotDisposed(fn)
    if (this.params === null) throw new Error(`${fn}: the predictor is not trained (call fit or loadPredictor first)`)
    return this.params
  }

  /**
   * Runs one training of fresh `params` (made after the old ones were released with
   * {@link releaseParams}): they become the model when `run` succeeds, and are freed when it throws.
   */
  protected async adoptTrained (params: Params, run: () => Promise<FitReport>): Promise<FitReport> {
    try {
      const report = await run()
      this.params = params
      return report
    } catch (err) {
      params.dispose()
      throw err
    }
  }

  protected releaseParams (): void {
    this.params?.dispose()
    this.params = null
  }

  async save (dir: string): Promise<void> {
    const fn = `${this.name}.save`
    this.checkNotDisposed(fn)
    if (this.params === null) throw new Error(`${fn}: the predictor is not trained; nothing to save`)
    await writePredictor(dir, this.kind, this.config(), { ...this.state }, this.params.toWeights())
  }

  dispose (): void {
    this.releaseParams()
    this.disposed = true
  }
}
