// The CTNAS neural architecture comparator (NAC) as a tfjs model: a shared GCN feature
// extractor embeds both architectures, the head maps [e_a, e_b] through dense ReLU layers
// to one logit, and P(a better than b) = σ(logit). Trainable with BCE; exportable to the
// plain weights that the native comparatorProbability / gcnCompare run.
import { Random } from '../random'
import type * as TF from '@tensorflow/tfjs'
import { describe } from '../validate'
import { ensureTfBackend, initTfBackend, type Tf, type TfBackendChoice } from './backend'
import {
  asGraphTensorsT, checkDense, checkGraphBatch, denseVariables, exportDense, glorotDense, GcnModel, graphTensorsT, positiveInteger, widthList,
  type BatchOptions, type DenseVariables, type FromWeightsOptions, type GraphTensors, type GraphTensorsT
} from './gcn'
import type { TfModule, TfTensor1D, TfTensor2D, TfVariable } from './tf-types'
import type { ComparatorWeights, DenseWeights, GraphBatch } from './types'

export interface GcnComparatorOptions {
  /** Node-feature width F. */
  features: number
  /** GCN feature-extractor widths (default [256, 256]: CTNAS's two-layer GCN). */
  widths?: number[]
  /** Hidden widths of the head (default [256]); [] for a single linear layer. */
  hidden?: number[]
  /** Seed of the Glorot-uniform initialisation (default 0). */
  seed?: number
  /** tfjs backend to initialise first (default: keep the active one, else 'auto'). */
  backend?: TfBackendChoice
}

// Public methods use the structural tfjs types (see gcn.ts); each runs an internal twin (…T).
export class GcnComparator {
  /** @internal The tfjs module with tfjs's own types. */
  readonly tfjs: Tf
  /** The shared feature extractor (no readout). */
  readonly gcn: GcnModel
  /** Hidden widths of the head. */
  readonly hidden: readonly number[]
  private readonly head: DenseVariables[]
  private readonly out: DenseVariables

  private constructor (tf: Tf, gcn: GcnModel, head: DenseWeights[], out: DenseWeights, trainable: boolean) {
    this.tfjs = tf
    this.gcn = gcn
    let inputs = 2 * gcn.embeddingWidth
    this.head = head.map(l => {
      const v = denseVariables(tf, l, inputs, trainable)
      inputs = l.b.length
      return v
    })
    this.hidden = Object.freeze(head.map(l => l.b.length))
    this.out = denseVariables(tf, out, inputs, trainable)
  }

  /** A freshly initialised comparator (Glorot-uniform weights from `seed`, zero biases). */
  static async create (options: GcnComparatorOptions): Promise<GcnComparator> {
    const fn = 'GcnComparator.create'
    if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object, got ${describe(options)}`)
    const features = positiveInteger(options.features, fn, 'features')
    const widths = widthList(options.widths, [256, 256], fn, 'widths', false)
    const hidden = widthList(options.hidden, [256], fn, 'hidden', true)
    const seed = options.seed ?? 0
    if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new TypeError(`${fn}: seed must be an integer, got ${describe(seed)}`)
    const { tf } = options.backend !== undefined ? await initTfBackend({ backend: options.backend }) : await ensureTfBackend()
    const gcn = await GcnModel.create({ features, widths, readout: false, seed })
    const rand = new Random(seed, 1)
    const head: DenseWeights[] = []
    let inputs = 2 * gcn.embeddingWidth
    for (const w of hidden) {
      head.push(glorotDense(inputs, w, rand))
      inputs = w
    }
    return new GcnComparator(tf, gcn, head, glorotDense(inputs, 1, rand), true)
  }

  /** A comparator holding exported weights ({gcn, head}). */
  static async fromWeights (weights: ComparatorWeights, options?: FromWeightsOptions): Promise<GcnComparator> {
    const fn = 'GcnComparator.fromWeights'
    if (weights === null || typeof weights !== 'object') throw new TypeError(`${fn}: weights must be an object {gcn, head}, got ${describe(weights)}`)
    const head = weights.head
    if (head === null || typeof head !== 'object' || !Array.isArray(head.layers)) throw new TypeError(`${fn}: weights.head must be an object {layers: {w, b}[], out: {w, b}}`)
    if (weights.gcn === null || typeof weights.gcn !== 'object' || !Array.isArray(weights.gcn.layers)) throw new TypeError(`${fn}: weights.gcn must be an object {layers: {w, b}[]}`)
    const trainable = options?.trainable ?? true
    const { tf } = options?.backend !== undefined ? await initTfBackend({ backend: options.backend }) : await ensureTfBackend()
    const gcn = await GcnModel.fromWeights({ layers: weights.gcn.layers }, { trainable })
    let inputs = 2 * gcn.embeddingWidth
    head.layers.forEach((l, i) => { inputs = checkDense(l, inputs, fn, `weights.head.layers[${i}]`) })
    checkDense(head.out, inputs, fn, 'weights.head.out')
    if (head.out.b.length !== 1) throw new RangeError(`${fn}: weights.head.out.b must have exactly 1 entry (one logit), got ${head.out.b.length}`)
    return new GcnComparator(tf, gcn, head.layers, head.out, trainable)
  }

  /** The tfjs module the comparator's variables live in. */
  get tf (): TfModule { return this.tfjs }

  /** All trainable variables: the extractor's, then the head's. */
  variables (): TfVariable[] {
    return this.trainableVariables()
  }

  /** @internal variables() with tfjs's own types. */
  trainableVariables (): TF.Variable[] {
    const out = this.gcn.trainableVariables()
    for (const l of this.head) out.push(l.w, l.b)
    out.push(this.out.w, this.out.b)
    return out
  }

  /**
   * The head's logits from embeddings ea [n, D], eb [n, D] (or either with one row, compared
   * with every row of the other).
   */
  headLogits (ea: TfTensor2D, eb: TfTensor2D): TfTensor1D {
    return this.headLogitsT(ea as unknown as TF.Tensor2D, eb as unknown as TF.Tensor2D)
  }

  /** Logits of P(a better than b) for graph tensors a and b. */
  logits (a: GraphTensors, b: GraphTensors): TfTensor1D {
    return this.logitsT(asGraphTensorsT(a), asGraphTensorsT(b))
  }

  /** P(a better than b) = σ(logit). */
  probability (a: GraphTensors, b: GraphTensors): TfTensor1D {
    return this.probabilityT(asGraphTensorsT(a), asGraphTensorsT(b))
  }

  /** @internal */
  headLogitsT (ea: TF.Tensor2D, eb: TF.Tensor2D): TF.Tensor1D {
    const tf = this.tfjs
    return tf.tidy(() => {
      const n = Math.max(ea.shape[0], eb.shape[0])
      const a = ea.shape[0] === n ? ea : tf.tile(ea, [n, 1])
      const b = eb.shape[0] === n ? eb : tf.tile(eb, [n, 1])
      let h = tf.concat([a, b], 1) as TF.Tensor2D
      for (const layer of this.head) h = tf.fused.matMul({ a: h, b: layer.w as TF.Tensor2D, bias: layer.b, activation: 'relu' }) as TF.Tensor2D
      return tf.add(tf.matMul(h, this.out.w.reshape([-1, 1])), this.out.b).reshape([n]) as TF.Tensor1D
    })
  }

  /** @internal */
  logitsT (a: GraphTensorsT, b: GraphTensorsT): TF.Tensor1D {
    return this.tfjs.tidy(() => this.headLogitsT(this.gcn.embedT(a), this.gcn.embedT(b)))
  }

  /** @internal */
  probabilityT (a: GraphTensorsT, b: GraphTensorsT): TF.Tensor1D {
    return this.tfjs.tidy(() => this.tfjs.sigmoid(this.logitsT(a, b)))
  }

  /**
   * P(a_i better than b_i) for two GraphBatches (b may hold a single graph), in forward
   * passes of `batchSize` pairs.
   */
  probabilityBatch (graphsA: GraphBatch, graphsB: GraphBatch, options?: BatchOptions): Float32Array {
    const fn = 'GcnComparator.probabilityBatch'
    const a = checkGraphBatch(graphsA, fn, 'graphsA', this.gcn.features)
    const b = checkGraphBatch(graphsB, fn, 'graphsB', this.gcn.features)
    if (a.count !== b.count && b.count !== 1 && a.count !== 1) throw new RangeError(`${fn}: graphsA holds ${a.count} graphs and graphsB ${b.count}; the counts must be equal or one of them 1`)
    const n = a.count === 0 || b.count === 0 ? 0 : Math.max(a.count, b.count)
    const size = options?.batchSize === undefined ? 2048 : positiveInteger(options.batchSize, fn, 'batchSize')
    const out = new Float32Array(n)
    const tf = this.tfjs
    for (let start = 0; start < n; start += size) {
      const end = Math.min(n, start + size)
      const result = tf.tidy(() => {
        const ta = a.count === 1 ? graphTensorsT(tf, a) : graphTensorsT(tf, a, start, end)
        const tb = b.count === 1 ? graphTensorsT(tf, b) : graphTensorsT(tf, b, start, end)
        return this.probabilityT(ta, tb)
      })
      out.set(result.dataSync() as Float32Array, start)
      result.dispose()
    }
    return out
  }

  /** The weights in the plain format of gcnCompare / comparatorProbability. */
  exportWeights (): ComparatorWeights {
    return {
      gcn: this.gcn.exportEmbedWeights(),
      head: { layers: this.head.map(exportDense), out: exportDense(this.out) }
    }
  }

  /** Frees the variables. */
  dispose (): void {
    for (const v of this.trainableVariables()) v.dispose()
  }
}
