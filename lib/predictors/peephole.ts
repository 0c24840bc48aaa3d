// Peephole-style baseline (Deng et al., 2017, as used in the ReNAS tables): an LSTM over the
// per-layer token sequence of an architecture, regressing accuracy with MSE.
//
// Input: per architecture a [T, D] token sequence (one row per layer/vertex, e.g. from
// nb101PeepholeTokens). Rows that are entirely zero are padding: the LSTM state is carried
// through them unchanged, so shorter sequences can be zero-padded to T.
//
// Model (all sizes configurable):
//   token projection: dense D → embed (linear; the paper's layer embedding), skipped if embed = 0
//   LSTM(units): gates i, f, g, o from [x_t, h_{t−1}] (one kernel [embed, 4u], one recurrent
//     kernel [u, 4u], bias with the forget block initialised to 1); no peephole connections
//     (the name is the paper's, not Gers & Schmidhuber's)
//   → dense hidden + ReLU (skipped if hidden = 0) → dense 1
// Loss: MSE on the z-scored targets; predictions come back in the target's scale.
// Kernels Glorot-uniform from the package PRNG (also the recurrent kernel, where Keras would use
// an orthogonal matrix), biases 0.
import { matMul2d } from '../models/matmul'
import type { Scalar, Tensor, Tensor2D } from '@tensorflow/tfjs'
import type { Tf } from '../models/tf'
import type { TfModule } from '../models/tf-types'
import { checkOptions, oneOf } from '../validate'
import { checkFinite, checkTargets, encodeAll, sameShape, sizeOf, standardize } from './encoded'
import { expectKind, readPredictor, savedInputShape, type LoadedPredictor } from './io'
import { Params, TfPredictor, checkFitOptions, checkTargetScale, numberIn, positiveInteger, predictInChunks, seedOption, seedStreams, train, type ModelState, type ParamSpec } from './neural'
import type { EncodedBatch, FitOptions, FitReport, Predictor, PredictorHooks } from './types'

export interface PeepholeConfig {
  /** Token projection size (default 32; 0 feeds the raw tokens to the LSTM). */
  embed?: number
  /** LSTM units (default 64). */
  units?: number
  /** Hidden dense layer after the LSTM (default 64; 0 for none). */
  hidden?: number
  /** Training epochs (default 200). */
  epochs?: number
  /** Batch size (default 64). */
  batchSize?: number
  /** Adam learning rate (default 1e-3). */
  learningRate?: number
  /** Weight decay (default 0). */
  weightDecay?: number
  /** 'l2' (default) or 'decoupled', as for ReNAS. */
  weightDecayMode?: 'l2' | 'decoupled'
  /** Seed of initialisation and shuffling (default 0). */
  seed?: number
  /** Architectures per forward pass in predict (default 4096). */
  predictBatchSize?: number
}

type Resolved = Required<PeepholeConfig>

const CONFIG_KEYS = ['embed', 'units', 'hidden', 'epochs', 'batchSize', 'learningRate', 'weightDecay', 'weightDecayMode', 'seed', 'predictBatchSize'] as const

export function resolvePeepholeConfig (config: unknown, fn = 'PeepholePredictor'): Resolved {
  const c = checkOptions<PeepholeConfig>(config, fn, [...CONFIG_KEYS, 'encode', 'count', 'augment', 'tf'])
  return {
    embed: positiveInteger(c.embed, 32, fn, 'embed', 0),
    units: positiveInteger(c.units, 64, fn, 'units'),
    hidden: positiveInteger(c.hidden, 64, fn, 'hidden', 0),
    epochs: positiveInteger(c.epochs, 200, fn, 'epochs'),
    batchSize: positiveInteger(c.batchSize, 64, fn, 'batchSize'),
    learningRate: numberIn(c.learningRate, 1e-3, fn, 'learningRate', v => v > 0, '> 0'),
    weightDecay: numberIn(c.weightDecay, 0, fn, 'weightDecay', v => v >= 0, '≥ 0'),
    weightDecayMode: oneOf(c.weightDecayMode, 'l2', ['l2', 'decoupled'] as const, fn, 'weightDecayMode'),
    seed: seedOption(c.seed, fn),
    predictBatchSize: positiveInteger(c.predictBatchSize, 4096, fn, 'predictBatchSize')
  }
}

export function peepholeSpecs (cfg: Resolved, tokenDim: number): ParamSpec[] {
  const glorot = (fanIn: number, fanOut: number) => ({ kind: 'glorot' as const, fanIn, fanOut })
  const zeros = { kind: 'constant' as const, value: 0 }
  const specs: ParamSpec[] = []
  let d = tokenDim
  if (cfg.embed > 0) {
    specs.push({ name: 'embed/kernel', shape: [d, cfg.embed], init: glorot(d, cfg.embed) }, { name: 'embed/bias', shape: [cfg.embed], init: zeros })
    d = cfg.embed
  }
  const u = cfg.units
  specs.push(
    { name: 'lstm/kernel', shape: [d, 4 * u], init: glorot(d, 4 * u) },
    { name: 'lstm/recurrent', shape: [u, 4 * u], init: glorot(u, 4 * u) },
    { name: 'lstm/bias', shape: [4 * u], init: { kind: 'lstm-bias', units: u } }
  )
  let h = u
  if (cfg.hidden > 0) {
    specs.push({ name: 'fc/kernel', shape: [u, cfg.hidden], init: glorot(u, cfg.hidden) }, { name: 'fc/bias', shape: [cfg.hidden], init: zeros })
    h = cfg.hidden
  }
  specs.push({ name: 'out/kernel', shape: [h, 1], init: glorot(h, 1) }, { name: 'out/bias', shape: [1], init: zeros })
  return specs
}

/** @internal Forward pass on tokens [N, T, D] → scores [N]. */
export function peepholeForward (tf: Tf, cfg: Resolved, p: Params, x: Tensor): Tensor {
  const [n, steps, dim] = x.shape
  const u = cfg.units
  // Padding mask: 1 where the token has any non-zero entry.
  const mask = tf.cast(tf.greater(tf.sum(tf.abs(x), 2), 0), 'float32') // [N, T]
  let seq: Tensor = x
  let d = dim
  if (cfg.embed > 0) {
    seq = tf.reshape(tf.add(matMul2d(tf, tf.reshape(x, [n * steps, dim]), p.get('embed/kernel')), p.get('embed/bias')), [n, steps, cfg.embed])
    d = cfg.embed
  }
  const xs = tf.unstack(seq, 1) // T × [N, d]
  const ms = tf.unstack(mask, 1) // T × [N]
  const kernel = p.get('lstm/kernel') as Tensor2D
  const recurrent = p.get('lstm/recurrent') as Tensor2D
  const bias = p.get('lstm/bias')
  let h: Tensor = tf.zeros([n, u])
  let c: Tensor = tf.zeros([n, u])
  for (let t = 0; t < steps; t++) {
    const z = tf.add(tf.add(matMul2d(tf, tf.reshape(xs[t], [n, d]), kernel), matMul2d(tf, h, recurrent)), bias)
    const [zi, zf, zg, zo] = tf.split(z, 4, 1)
    const cNew = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zg)))
    const hNew = tf.mul(tf.sigmoid(zo), tf.tanh(cNew))
    const m = tf.reshape(ms[t], [n, 1])
    const keep = tf.sub(1, m)
    c = tf.add(tf.mul(m, cNew), tf.mul(keep, c))
    h = tf.add(tf.mul(m, hNew), tf.mul(keep, h))
  }
  let out: Tensor = h
  if (cfg.hidden > 0) out = tf.relu(tf.add(matMul2d(tf, out, p.get('fc/kernel')), p.get('fc/bias')))
  return tf.reshape(tf.add(matMul2d(tf, out, p.get('out/kernel')), p.get('out/bias')), [n])
}

/** Peephole-style LSTM regressor on [T, D] token sequences. */
export class PeepholePredictor<A = EncodedBatch> extends TfPredictor<A> implements Predictor<A> {
  readonly kind = 'peephole'
  readonly name = 'Peephole-LSTM'
  private readonly cfg: Resolved

  constructor (options: PeepholeConfig & PredictorHooks<A> & { tf?: TfModule } = {}) {
    const cfg = resolvePeepholeConfig(options, 'PeepholePredictor')
    super(options, 'PeepholePredictor')
    this.cfg = cfg
  }

  config (): Record<string, unknown> {
    return { ...this.cfg }
  }

  private checkInput (batch: EncodedBatch, fn: string, expected: number[] | null, offset = 0): void {
    if (batch.shape.length !== 2) throw new RangeError(`${fn}: Peephole input items must be token sequences of shape [T, D], got [${batch.shape.join(', ')}]`)
    if (expected !== null && !sameShape(batch.shape, expected)) {
      throw new RangeError(`${fn}: items have shape [${batch.shape.join(', ')}], but the model was trained on [${expected.join(', ')}]`)
    }
    checkFinite(batch.data, fn, 'encoded input', sizeOf(batch.shape), offset)
  }

  async fit (archs: A, targets: ArrayLike<number>, options?: FitOptions): Promise<FitReport> {
    const fn = `${this.name}.fit`
    this.checkNotDisposed(fn)
    const opts = checkFitOptions(options, fn)
    const startMs = performance.now()
    const tf = this.tf
    const data = encodeAll(this.hooks, archs, fn)
    const encodeMs = performance.now() - startMs
    const y = checkTargets(targets, data.count, fn)
    if (data.count < 1) throw new RangeError(`${fn}: needs at least 1 architecture, got 0`)
    this.checkInput(data, fn, null)
    const cfg = this.cfg
    this.releaseParams()
    const [steps, dim] = data.shape
    const streams = seedStreams(cfg.seed)
    const params = Params.init(tf, peepholeSpecs(cfg, dim), streams.init)
    const { mean, std, z } = standardize(y)
    this.state = { inputShape: [steps, dim], targetMean: mean, targetStd: std }
    return this.adoptTrained(params, async () => train({
      tf,
      fn,
      params,
      settings: { epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, weightDecay: cfg.weightDecay, weightDecayMode: cfg.weightDecayMode, minBatch: 1 },
      data,
      archs,
      augment: this.hooks.augment,
      shuffleRng: streams.shuffle,
      augmentRng: streams.augment,
      toInput: (buffer, b) => tf.tensor3d(buffer, [b, steps, dim]),
      loss: (input: Tensor, batch: Int32Array): Scalar => {
        const zb = new Float32Array(batch.length)
        for (let k = 0; k < batch.length; k++) zb[k] = z[batch[k]]
        return tf.mean(tf.squaredDifference(peepholeForward(tf, cfg, params, input), tf.tensor1d(zb))) as Scalar
      },
      options: opts,
      encodeMs,
      startMs
    }))
  }

  async predict (archs: A): Promise<Float64Array> {
    const fn = `${this.name}.predict`
    const params = this.trainedParams(fn)
    const tf = this.tf
    const [steps, dim] = this.state.inputShape as number[]
    return predictInChunks(tf, this.hooks, archs, this.cfg.predictBatchSize, fn, this.state,
      (batch, start) => this.checkInput(batch, fn, this.state.inputShape, start),
      (data, count) => peepholeForward(tf, this.cfg, params, tf.tensor3d(data, [count, steps, dim])))
  }

  static async load<A = EncodedBatch> (dir: string, hooks: PredictorHooks<A> & { tf?: TfModule } = {}): Promise<PeepholePredictor<A>> {
    return PeepholePredictor.fromSaved<A>(await readPredictor(dir, 'PeepholePredictor.load'), hooks)
  }

  /** @internal */
  static fromSaved<A> (loaded: LoadedPredictor, hooks: PredictorHooks<A> & { tf?: TfModule }): PeepholePredictor<A> {
    const fn = 'PeepholePredictor.load'
    expectKind(loaded, 'peephole', fn)
    const p = new PeepholePredictor<A>({ ...(loaded.file.config as PeepholeConfig), ...hooks })
    const s = loaded.file.state as Partial<ModelState>
    const shape = savedInputShape(s, ['T', 'D'], fn)
    p.state = { inputShape: shape, ...checkTargetScale(s, fn) }
    p.params = Params.fromSaved(p.tf, peepholeSpecs(p.cfg, shape[1]), loaded, fn)
    return p
  }
}
