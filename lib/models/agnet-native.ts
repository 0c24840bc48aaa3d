// The AG-Net generator on the native addon (native/agnet.cc): the same architecture, parameter
// layout and initialisation as AgNetGenerator (lib/models/agnet.ts, which stays the reference),
// so weights move between the two by copying one flat Float64Array. Forward, the backward of
// Eq. 1 and/or of any output gradient (Eq. 2: the surrogate's MSE flows in as `dout`), Adam
// (PyTorch form, as lib/models/autodiff.ts), and candidate generation (sampling with the
// package's Random stream, NB-201 decoding, validity, dedup) in one call.
//
// Rows are split into fixed chunks of 8 whose gradients are summed in chunk order, so results
// do not depend on the thread count. Against the JS tape the values agree to rounding (the
// sums run in another order; AVX2/FMA where the CPU has it).
import { addon, named, type AgNetAdamIn, type AgNetGenerateOut, type AgNetStepOut } from '../native'
import type { Random } from '../random'
import { threadsOption } from '../validate'
import { AGNET_LATENT, type AgNetGenerator, type AgNetShape } from './agnet'
import { AGNET_INPUT, AGNET_NB201_CLASSES, AGNET_NB201_EDGES, AGNET_NB201_NODES, AGNET_OUTPUT, AGNET_TO_NB201_OP, agnetLength } from '../encode/agnet'

export interface AgNetNativeOptions {
  /** Worker threads (default: {@link setThreads} / NASRANK_THREADS / the CPU count). */
  threads?: number
}

/** Eq. 1 targets of a batch: node classes [B × M], edge bits [B × E], per-row weights, the CE factor. */
export interface AgNetTarget {
  classes: Uint8Array
  edges: Uint8Array
  weights: Float64Array
  /** Factor on the CE part (default 1; the no-backprop variant: 2). */
  ceScale?: number
}

export interface AgNetStepInput {
  /** Eq. 1 on these targets (its gradient seeds the output). */
  target?: AgNetTarget
  /** A further gradient on the output [B × length] (e.g. the surrogate's MSE, Eq. 2). */
  dout?: Float64Array
}

export interface AgNetAdamOptions { lr: number, beta1?: number, beta2?: number, eps?: number, weightDecay?: number }

/** What one native generation call returns (see {@link AgNetNative.generate}). */
export type AgNetGenerated = AgNetGenerateOut

const NB201_DECODE = Object.freeze({
  dag: AGNET_NB201_EDGES,
  classOps: Int32Array.from(AGNET_TO_NB201_OP),
  base: 5,
  input: AGNET_INPUT,
  output: AGNET_OUTPUT
})

/** A generator's parameters as one flat array (AgNetGenerator.params order). */
export function agnetFlatParams (gen: AgNetGenerator): Float64Array {
  const flat = new Float64Array(gen.parameterCount)
  let at = 0
  for (const p of gen.params) { flat.set(p.data, at); at += p.data.length }
  return flat
}

export class AgNetNative {
  readonly shape: AgNetShape
  /** The flat parameters (AgNetGenerator.params order), updated in place by {@link trainStep}. */
  readonly params: Float64Array
  /** Output width M·C + M(M−1)/2. */
  readonly length: number
  threads: number | undefined
  private adam: AgNetAdamIn | null = null

  constructor (shape: AgNetShape, params: Float64Array, options: AgNetNativeOptions = {}) {
    this.shape = { nodes: shape.nodes, classes: shape.classes }
    this.length = agnetLength(shape.nodes, shape.classes)
    this.params = params
    this.threads = threadsOption(options.threads, 'AgNetNative')
    // The addon checks the parameter count against the shape; check it now for a clear error.
    addon.agnetForward(params, shape.nodes, shape.classes, new Float64Array(AGNET_LATENT), 1)
  }

  /** A native twin holding a copy of `gen`'s parameters. */
  static fromGenerator (gen: AgNetGenerator, options?: AgNetNativeOptions): AgNetNative {
    return new AgNetNative(gen.shape, agnetFlatParams(gen), options)
  }

  /** Writes the parameters into `gen` (same shape). */
  copyTo (gen: AgNetGenerator): void {
    if (gen.parameterCount !== this.params.length) throw new RangeError(`AgNetNative.copyTo: the generator has ${gen.parameterCount} parameters, this one ${this.params.length}`)
    let at = 0
    for (const p of gen.params) { p.data.set(this.params.subarray(at, at + p.data.length)); at += p.data.length }
  }

  /** Starts (or restarts) Adam: zero moments, step 0. */
  setAdam (options: AgNetAdamOptions): void {
    const n = this.params.length
    this.adam = {
      m: new Float64Array(n),
      v: new Float64Array(n),
      step: 0,
      lr: options.lr,
      beta1: options.beta1 ?? 0.9,
      beta2: options.beta2 ?? 0.999,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0
    }
  }

  /** Adam's state (null before {@link setAdam}); `lr` may be changed between steps. */
  get optimizer (): AgNetAdamIn | null { return this.adam }

  private rows (z: Float64Array, fn: string): number {
    if (!(z instanceof Float64Array) || z.length === 0 || z.length % AGNET_LATENT !== 0) throw new RangeError(`${fn}: z must be a Float64Array of rows × ${AGNET_LATENT} values, got length ${(z as { length?: number })?.length}`)
    return z.length / AGNET_LATENT
  }

  /** The generator's output [rows × length] for z [rows × 32]. */
  forward (z: Float64Array): Float64Array {
    this.rows(z, 'AgNetNative.forward')
    return named('AgNetNative.forward').agnetForward(this.params, this.shape.nodes, this.shape.classes, z, this.threads)
  }

  /** {@link forward} off the main thread (inputs copied first). */
  forwardAsync (z: Float64Array): Promise<Float64Array> {
    try { this.rows(z, 'AgNetNative.forwardAsync') } catch (err) { return Promise.reject(err) }
    return named('AgNetNative.forwardAsync').agnetForward(this.params, this.shape.nodes, this.shape.classes, z, this.threads, true)
  }

  /** Output, parameter gradient (flat) and Eq. 1's per-row parts, without an update. */
  gradient (z: Float64Array, input: AgNetStepInput): Required<Pick<AgNetStepOut, 'out' | 'grad'>> & AgNetStepOut {
    this.rows(z, 'AgNetNative.gradient')
    const r = named('AgNetNative.gradient').agnetTrainStep(this.params, this.shape.nodes, this.shape.classes, z, targetIn(input.target), input.dout ?? null, null, this.threads)
    return r as Required<Pick<AgNetStepOut, 'out' | 'grad'>> & AgNetStepOut
  }

  /** One training step: forward, backward of the given losses, Adam (params updated in place). */
  trainStep (z: Float64Array, input: AgNetStepInput): AgNetStepOut {
    this.rows(z, 'AgNetNative.trainStep')
    const adam = this.adam
    if (adam === null) throw new Error('AgNetNative.trainStep: call setAdam first')
    if (input.target === undefined && input.dout === undefined) throw new RangeError('AgNetNative.trainStep: give a target, a dout or both')
    const r = named('AgNetNative.trainStep').agnetTrainStep(this.params, this.shape.nodes, this.shape.classes, z, targetIn(input.target), input.dout ?? null, adam, this.threads)
    adam.step++
    return r
  }

  /**
   * Candidates from z (NB-201): the forward, then per row in order, drawing from `random`
   * exactly as agnetSampleGraph does (node classes ~ softmax, edges thresholded or ~ Bernoulli),
   * decoding and validity; `index` is the NB-201 index (ops[0]·5⁵ + … + ops[5]) or −1, and
   * `fresh` marks valid indices not yet set in `seen` (15,625 flags, which it then sets).
   */
  generate (z: Float64Array, random: Random, edges: 'sample' | 'threshold', seen: Uint8Array | null = null): AgNetGenerated {
    const fn = 'AgNetNative.generate'
    this.rows(z, fn)
    if (this.shape.nodes !== AGNET_NB201_NODES || this.shape.classes !== AGNET_NB201_CLASSES) throw new RangeError(`${fn}: decoding is implemented for NB-201 (8 nodes × 7 classes), got ${this.shape.nodes} × ${this.shape.classes}`)
    const state = random.state()
    const out = named(fn).agnetGenerate(this.params, this.shape.nodes, this.shape.classes, z, state, edges, NB201_DECODE, seen, this.threads)
    random.setState(state)
    return out
  }
}

function targetIn (t: AgNetTarget | undefined): { classes: Uint8Array, edges: Uint8Array, weights: Float64Array, ceScale: number } | null {
  if (t === undefined) return null
  return { classes: t.classes, edges: t.edges, weights: t.weights, ceScale: t.ceScale ?? 1 }
}
