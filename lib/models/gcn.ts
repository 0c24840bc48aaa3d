// The GCN predictor as a tfjs model (Sony Eq. 3, the data contract's layer):
//   Ã = A + diag(mask), D̃ = diag(row sums of Ã), Â = D̃^−½ Ã D̃^−½ (padded vertices: 0),
//   H₀ = X, H_{l+1} = ReLU(Â H_l W_l + b_l), e = masked mean of H_L over real vertices,
//   score = e·w_fc + b_fc.
// Options `norm: 'row'` (Â = D̃^−½ Ã, left only: Mauch et al.'s Eq. 3) and `pool: 'all'` (every
// vertex is a vertex: Ã = A + I over all V, and the mean runs over all V rows, padding included)
// give the variants of the native kernels' options of the same names.
// Trainable (its variables go to any tfjs optimizer) and exportable to the plain
// Float32Array weights that the native kernels (gcnScore / gcnEmbed) run.
//
// tfjs is loaded lazily: this module only imports types at the top level, and the model
// receives the tfjs module when it is created (GcnModel.create awaits the backend helper).
import { Random, checkSeed } from '../random'
import type * as TF from '@tensorflow/tfjs'
import { describe, oneOf } from '../validate'
import { ensureTfBackend, initTfBackend, type Tf, type TfBackendChoice } from './backend'
import { checkTf } from './tf'
import type { TfModule, TfTensor1D, TfTensor2D, TfTensor3D, TfVariable } from './tf-types'
import type { DenseWeights, GcnEmbedWeights, GcnWeights, GraphBatch } from './types'

// The public methods are declared with the structural tfjs types of tf-types.ts (so that the
// published .d.ts does not import tfjs); each runs an internal twin (…T, stripped from the .d.ts) typed with tfjs's own.

/** A GraphBatch as tfjs tensors: adjacency [B,V,V], x [B,V,F], mask [B,V]. */
export interface GraphTensors {
  adjacency: TfTensor3D
  x: TfTensor3D
  mask: TfTensor2D
}

/** @internal GraphTensors with tfjs's own types. */
export interface GraphTensorsT {
  adjacency: TF.Tensor3D
  x: TF.Tensor3D
  mask: TF.Tensor2D
}

/** @internal The tfjs tensors behind GraphTensors (the public type only describes them). */
export function asGraphTensorsT (g: GraphTensors): GraphTensorsT {
  return g as unknown as GraphTensorsT
}

export interface GcnModelOptions {
  /** Node-feature width F (5 for NB-101, 6 for NB-201). */
  features: number
  /** GCN layer widths (default [256, 256, 256]). */
  widths?: number[]
  /** Add the FC readout to one score (default true); false for a pure feature extractor. */
  readout?: boolean
  /** Seed of the Glorot-uniform initialisation (default 0); biases start at 0. */
  seed?: number
  /** tfjs backend to initialise first (default: keep the active one, else 'auto'). */
  backend?: TfBackendChoice
  /** Normalisation: 'sym' D̃^−½ Ã D̃^−½ (default) or 'row' D̃^−½ Ã (as gcnScore's option). */
  norm?: 'sym' | 'row'
  /** Pooling: 'real' vertices only (default) or 'all' V rows, padding included (as gcnScore's option). */
  pool?: 'real' | 'all'
}

export interface FromWeightsOptions {
  /** Variables trainable (default true). */
  trainable?: boolean
  /** tfjs backend to initialise first (default: keep the active one, else 'auto'). */
  backend?: TfBackendChoice
  /** As GcnModelOptions.norm (default 'sym'). */
  norm?: 'sym' | 'row'
  /** As GcnModelOptions.pool (default 'real'). */
  pool?: 'real' | 'all'
}

export interface BatchOptions {
  /** Graphs per forward pass (default 2048). */
  batchSize?: number
}

/** @internal Trainable dense parameters: w [in, out], b [out]. */
export interface DenseVariables {
  w: TF.Variable
  b: TF.Variable
}

// ---- helpers shared with comparator.ts -----------------------------------------------------

/** Glorot-uniform w (limit √(6/(in+out))) and zero b. */
export function glorotDense (inputs: number, outputs: number, random: Random): DenseWeights {
  const limit = Math.sqrt(6 / (inputs + outputs))
  const w = new Float32Array(inputs * outputs)
  for (let i = 0; i < w.length; i++) w[i] = (2 * random.float() - 1) * limit
  return { w, b: new Float32Array(outputs) }
}

export function positiveInteger (value: unknown, fn: string, name: string): number {
  if (typeof value !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(value)}`)
  if (!Number.isInteger(value) || value < 1 || value > 65536) throw new RangeError(`${fn}: ${name} must be an integer in [1, 65536], got ${value}`)
  return value
}

export function widthList (value: unknown, fallback: number[], fn: string, name: string, allowEmpty: boolean): number[] {
  if (value === undefined) return fallback.slice()
  if (!Array.isArray(value)) throw new TypeError(`${fn}: ${name} must be an array of layer widths, got ${describe(value)}`)
  if (value.length === 0 && !allowEmpty) throw new RangeError(`${fn}: ${name} must hold at least one width`)
  return value.map((w, i) => positiveInteger(w, fn, `${name}[${i}]`))
}

/** Checks one exported layer against its expected input width; returns its output width. */
export function checkDense (d: unknown, inputs: number, fn: string, name: string): number {
  if (d === null || typeof d !== 'object') throw new TypeError(`${fn}: ${name} must be an object {w, b}, got ${describe(d)}`)
  const { w, b } = d as Partial<DenseWeights>
  if (!(w instanceof Float32Array)) throw new TypeError(`${fn}: ${name}.w must be a Float32Array, got ${describe(w)}`)
  if (!(b instanceof Float32Array)) throw new TypeError(`${fn}: ${name}.b must be a Float32Array, got ${describe(b)}`)
  if (b.length === 0) throw new RangeError(`${fn}: ${name}.b must not be empty`)
  if (w.length !== inputs * b.length) {
    throw new RangeError(`${fn}: ${name}.w has length ${w.length} but must have ${inputs}×${b.length} = ${inputs * b.length} (input width × ${name}.b.length)`)
  }
  return b.length
}

/** @internal */
export function denseVariables (tf: Tf, weights: DenseWeights, inputs: number, trainable: boolean): DenseVariables {
  const outputs = weights.b.length
  return {
    w: tf.variable(tf.tensor2d(weights.w, [inputs, outputs]), trainable),
    b: tf.variable(tf.tensor1d(weights.b), trainable)
  }
}

/** @internal */
export function exportDense (v: DenseVariables): DenseWeights {
  return { w: Float32Array.from(v.w.dataSync()), b: Float32Array.from(v.b.dataSync()) }
}

/** Structural checks of a GraphBatch (contents are checked by the native kernels). */
export function checkGraphBatch (batch: unknown, fn: string, name = 'graphs', features?: number): GraphBatch {
  if (batch === null || typeof batch !== 'object') throw new TypeError(`${fn}: ${name} must be a GraphBatch object, got ${describe(batch)}`)
  const g = batch as GraphBatch
  for (const key of ['count', 'vertices', 'features'] as const) {
    const v = g[key]
    if (typeof v !== 'number') throw new TypeError(`${fn}: ${name}.${key} must be a number, got ${describe(v)}`)
    if (!Number.isInteger(v) || v < (key === 'count' ? 0 : 1)) throw new RangeError(`${fn}: ${name}.${key} must be an integer ≥ ${key === 'count' ? 0 : 1}, got ${v}`)
  }
  const { count, vertices: V, features: F } = g
  const expect = { adjacency: count * V * V, x: count * V * F, mask: count * V } as const
  for (const key of ['adjacency', 'x', 'mask'] as const) {
    const arr = g[key]
    if (!(arr instanceof Float32Array)) throw new TypeError(`${fn}: ${name}.${key} must be a Float32Array, got ${describe(arr)}`)
    if (arr.length !== expect[key]) throw new RangeError(`${fn}: ${name}.${key} has length ${arr.length} but must have ${expect[key]} (count ${count}, vertices ${V}, features ${F})`)
  }
  if (features !== undefined && F !== features) throw new RangeError(`${fn}: ${name}.features is ${F} but the model takes ${features} node features`)
  return g
}

/** Graphs [start, end) of a batch as tfjs tensors (the caller disposes them). */
export function graphTensors (tf: TfModule, batch: GraphBatch, start = 0, end = batch.count): GraphTensors {
  return graphTensorsT(checkTf(tf, 'graphTensors'), batch, start, end)
}

/** @internal graphTensors with tfjs's own types. */
export function graphTensorsT (tf: Tf, batch: GraphBatch, start = 0, end = batch.count): GraphTensorsT {
  const V = batch.vertices
  const F = batch.features
  const n = end - start
  return {
    adjacency: tf.tensor3d(batch.adjacency.subarray(start * V * V, end * V * V), [n, V, V]),
    x: tf.tensor3d(batch.x.subarray(start * V * F, end * V * F), [n, V, F]),
    mask: tf.tensor2d(batch.mask.subarray(start * V, end * V), [n, V])
  }
}

function batchSizeOption (options: BatchOptions | undefined, fn: string): number {
  if (options === undefined || options.batchSize === undefined) return 2048
  return positiveInteger(options.batchSize, fn, 'batchSize')
}

// ---- the model -------------------------------------------------------------------------------

export class GcnModel {
  /** @internal The tfjs module with tfjs's own types. */
  readonly tfjs: Tf
  readonly features: number
  readonly widths: readonly number[]
  readonly readout: boolean
  readonly norm: 'sym' | 'row'
  readonly pool: 'real' | 'all'
  private readonly layers: DenseVariables[]
  private readonly fc: DenseVariables | undefined

  private constructor (tf: Tf, features: number, weights: GcnEmbedWeights, readout: boolean, trainable: boolean, norm: 'sym' | 'row', pool: 'real' | 'all') {
    this.tfjs = tf
    this.features = features
    this.readout = readout
    this.norm = norm
    this.pool = pool
    const widths: number[] = []
    let inputs = features
    this.layers = weights.layers.map(l => {
      const v = denseVariables(tf, l, inputs, trainable)
      inputs = l.b.length
      widths.push(inputs)
      return v
    })
    this.widths = Object.freeze(widths)
    this.fc = readout && weights.fc !== undefined ? denseVariables(tf, weights.fc, inputs, trainable) : undefined
  }

  /** A freshly initialised model (Glorot-uniform weights from `seed`, zero biases). */
  static async create (options: GcnModelOptions): Promise<GcnModel> {
    const fn = 'GcnModel.create'
    if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${describe(options)}`)
    const features = positiveInteger(options.features, fn, 'features')
    const widths = widthList(options.widths, [256, 256, 256], fn, 'widths', false)
    const readout = options.readout ?? true
    if (typeof readout !== 'boolean') throw new TypeError(`${fn}: readout must be a boolean, got ${describe(readout)}`)
    const seed = options.seed ?? 0
    checkSeed(seed, fn)
    const norm = oneOf(options.norm, 'sym', ['sym', 'row'] as const, fn, 'norm')
    const pool = oneOf(options.pool, 'real', ['real', 'all'] as const, fn, 'pool')
    const { tf } = options.backend !== undefined ? await initTfBackend({ backend: options.backend }) : await ensureTfBackend()
    const rand = new Random(seed)
    const layers: DenseWeights[] = []
    let inputs = features
    for (const w of widths) {
      layers.push(glorotDense(inputs, w, rand))
      inputs = w
    }
    const fc = readout ? glorotDense(inputs, 1, rand) : undefined
    return new GcnModel(tf, features, { layers, fc }, readout, true, norm, pool)
  }

  /**
   * A model holding exported weights (the contract's format); F is layers[0].w.length /
   * layers[0].b.length. With `fc` present the model has a readout.
   */
  static async fromWeights (weights: GcnEmbedWeights, options?: FromWeightsOptions): Promise<GcnModel> {
    const fn = 'GcnModel.fromWeights'
    const { features, readout } = GcnModel.checkWeights(weights, fn)
    const trainable = options?.trainable ?? true
    const norm = oneOf(options?.norm, 'sym', ['sym', 'row'] as const, fn, 'norm')
    const pool = oneOf(options?.pool, 'real', ['real', 'all'] as const, fn, 'pool')
    const { tf } = options?.backend !== undefined ? await initTfBackend({ backend: options.backend }) : await ensureTfBackend()
    return new GcnModel(tf, features, weights, readout, trainable, norm, pool)
  }

  private static checkWeights (weights: GcnEmbedWeights, fn: string, features?: number): { features: number; readout: boolean } {
    if (weights === null || typeof weights !== 'object') throw new TypeError(`${fn}: weights must be an object {layers, fc?}, got ${describe(weights)}`)
    if (!Array.isArray(weights.layers) || weights.layers.length === 0) throw new TypeError(`${fn}: weights.layers must be a non-empty array of {w, b}`)
    const first = weights.layers[0] as Partial<DenseWeights> | undefined
    const inferred = first && first.w instanceof Float32Array && first.b instanceof Float32Array && first.b.length > 0 ? first.w.length / first.b.length : NaN
    const F = features ?? inferred
    if (!Number.isInteger(F) || F < 1) throw new RangeError(`${fn}: weights.layers[0].w length must be a multiple of weights.layers[0].b length (F × H₀)`)
    let inputs = F
    weights.layers.forEach((l, i) => { inputs = checkDense(l, inputs, fn, `weights.layers[${i}]`) })
    if (weights.fc !== undefined) {
      checkDense(weights.fc, inputs, fn, 'weights.fc')
      if (weights.fc.b.length !== 1) throw new RangeError(`${fn}: weights.fc.b must have exactly 1 entry (one score), got ${weights.fc.b.length}`)
    }
    return { features: F, readout: weights.fc !== undefined }
  }

  /** The tfjs module the model's variables live in. */
  get tf (): TfModule { return this.tfjs }

  /** Width of the pooled embedding (the last layer's width). */
  get embeddingWidth (): number {
    return this.widths[this.widths.length - 1]
  }

  /** The trainable variables (for an optimizer's varList). */
  variables (): TfVariable[] {
    return this.trainableVariables()
  }

  /** @internal variables() with tfjs's own types. */
  trainableVariables (): TF.Variable[] {
    const out: TF.Variable[] = []
    for (const l of this.layers) out.push(l.w, l.b)
    if (this.fc) out.push(this.fc.w, this.fc.b)
    return out
  }

  /** A GraphBatch (or graphs [start, end) of it) as tensors; the caller disposes them. */
  tensors (batch: GraphBatch, start = 0, end?: number): GraphTensors {
    const g = checkGraphBatch(batch, 'GcnModel.tensors', 'batch', this.features)
    return graphTensorsT(this.tfjs, g, start, end ?? g.count)
  }

  /** Â = D̃^−½ (A + diag(mask)) D̃^−½ with zero rows/columns for padded vertices (norm 'row': D̃^−½ Ã; pool 'all': mask ≡ 1): [B,V,V]. */
  normalizedAdjacency (g: GraphTensors): TfTensor3D {
    return this.normalizedAdjacencyT(asGraphTensorsT(g))
  }

  /** The pooled GCN features [B, H] (the comparator's feature extractor). */
  embed (g: GraphTensors): TfTensor2D {
    return this.embedT(asGraphTensorsT(g))
  }

  /** One score per graph [B] (needs the readout). */
  score (g: GraphTensors): TfTensor1D {
    return this.scoreT(asGraphTensorsT(g))
  }

  /** @internal */
  normalizedAdjacencyT (g: GraphTensorsT): TF.Tensor3D {
    const tf = this.tfjs
    return tf.tidy(() => {
      const V = g.mask.shape[1]
      const mask = this.pool === 'all' ? tf.onesLike(g.mask) : g.mask
      // pool 'real': padded vertices take no part (their rows and columns of A are 0).
      const adjacency = this.pool === 'all' ? g.adjacency : tf.mul(tf.mul(g.adjacency, mask.expandDims(2)), mask.expandDims(1))
      const aTilde = tf.add(adjacency, tf.mul(tf.eye(V).expandDims(0), mask.expandDims(2)))
      const deg = tf.sum(aTilde, 2)
      // Padded vertices have degree 0: rsqrt(0 + 1) · 0 = 0 keeps them out (and finite).
      const s = tf.mul(mask, tf.rsqrt(tf.add(deg, tf.sub(1, mask))))
      const left = tf.mul(aTilde, s.expandDims(2))
      return (this.norm === 'row' ? left : tf.mul(left, s.expandDims(1))) as TF.Tensor3D
    })
  }

  /** @internal */
  embedT (g: GraphTensorsT): TF.Tensor2D {
    const tf = this.tfjs
    return tf.tidy(() => {
      const [B, V] = g.mask.shape
      const aHat = this.normalizedAdjacencyT(g)
      let h: TF.Tensor3D = g.x
      for (const layer of this.layers) {
        const k = h.shape[2]
        const z = tf.matMul(aHat, h).reshape([B * V, k]) as TF.Tensor2D
        const n = layer.b.shape[0]
        h = tf.fused.matMul({ a: z, b: layer.w as TF.Tensor2D, bias: layer.b, activation: 'relu' }).reshape([B, V, n])
      }
      if (this.pool === 'all') return tf.mean(h, 1) as TF.Tensor2D
      const real = tf.maximum(tf.sum(g.mask, 1, true), 1)
      return tf.div(tf.sum(tf.mul(h, g.mask.expandDims(2)), 1), real) as TF.Tensor2D
    })
  }

  /** @internal */
  scoreT (g: GraphTensorsT): TF.Tensor1D {
    const fc = this.fc
    if (fc === undefined) throw new Error('GcnModel.score: this model has no readout (created with readout: false); use embed()')
    const tf = this.tfjs
    return tf.tidy(() => {
      const e = this.embedT(g)
      return tf.add(tf.matMul(e, fc.w.reshape([-1, 1])), fc.b).reshape([e.shape[0]]) as TF.Tensor1D
    })
  }

  /** Scores of every graph of a GraphBatch, in forward passes of `batchSize` graphs. */
  predict (batch: GraphBatch, options?: BatchOptions): Float32Array {
    if (this.fc === undefined) throw new Error('GcnModel.predict: this model has no readout (created with readout: false); use embedBatch()')
    return this.batched(batch, options, 'GcnModel.predict', 1, g => this.scoreT(g))
  }

  /** Pooled features of every graph of a GraphBatch: count × H row-major. */
  embedBatch (batch: GraphBatch, options?: BatchOptions): Float32Array {
    return this.batched(batch, options, 'GcnModel.embedBatch', this.embeddingWidth, g => this.embedT(g))
  }

  private batched (batch: GraphBatch, options: BatchOptions | undefined, fn: string, width: number, forward: (g: GraphTensorsT) => TF.Tensor): Float32Array {
    const g = checkGraphBatch(batch, fn, 'batch', this.features)
    const size = batchSizeOption(options, fn)
    const out = new Float32Array(g.count * width)
    for (let start = 0; start < g.count; start += size) {
      const end = Math.min(g.count, start + size)
      const result = this.tfjs.tidy(() => forward(graphTensorsT(this.tfjs, g, start, end)))
      out.set(result.dataSync() as Float32Array, start * width)
      result.dispose()
    }
    return out
  }

  /** The weights in the contract's plain format (needs the readout; see exportEmbedWeights). */
  exportWeights (): GcnWeights {
    if (this.fc === undefined) throw new Error('GcnModel.exportWeights: this model has no readout (created with readout: false); use exportEmbedWeights()')
    return { layers: this.layers.map(exportDense), fc: exportDense(this.fc) }
  }

  /** The GCN layers only (what gcnEmbed and the comparator's extractor need). */
  exportEmbedWeights (): GcnEmbedWeights {
    return { layers: this.layers.map(exportDense) }
  }

  /** Overwrites the variables with weights of the same architecture. */
  setWeights (weights: GcnEmbedWeights): void {
    const fn = 'GcnModel.setWeights'
    GcnModel.checkWeights(weights, fn, this.features)
    if (weights.layers.length !== this.layers.length) throw new RangeError(`${fn}: weights.layers has ${weights.layers.length} layers but the model has ${this.layers.length}`)
    weights.layers.forEach((l, i) => {
      if (l.b.length !== this.widths[i]) throw new RangeError(`${fn}: weights.layers[${i}] has width ${l.b.length} but the model's layer ${i} has ${this.widths[i]}`)
    })
    if (this.fc !== undefined && weights.fc === undefined) throw new TypeError(`${fn}: weights.fc is missing but the model has a readout`)
    const tf = this.tfjs
    const assign = (v: DenseVariables, d: DenseWeights) => {
      v.w.assign(tf.tensor2d(d.w, v.w.shape as [number, number]))
      v.b.assign(tf.tensor1d(d.b))
    }
    tf.tidy(() => {
      this.layers.forEach((v, i) => assign(v, weights.layers[i]))
      if (this.fc !== undefined && weights.fc !== undefined) assign(this.fc, weights.fc)
    })
  }

  /** Frees the variables. */
  dispose (): void {
    for (const v of this.trainableVariables()) v.dispose()
  }
}
