// The tfjs types that nasrank's public declarations mention, as minimal structural
// stand-ins. tfjs's own declarations do not compile under a strict consumer without
// skipLibCheck (tfjs-layers and tfjs-core 4.22: 15 errors), and our .d.ts would pull them in
// through any `import type ... from '@tensorflow/tfjs'`. A tfjs Tensor, Variable or the tfjs
// module itself is assignable to these; a consumer who wants tfjs's full types casts
// (`model.embed(g) as tf.Tensor2D`). Inside nasrank the code works with tfjs's own types.

export type TfDataType = 'float32' | 'int32' | 'bool' | 'complex64' | 'string'

/** A tfjs tensor (`tf.Tensor`), as far as nasrank's API needs to describe it. */
export interface TfTensor {
  readonly id: number
  readonly shape: number[]
  readonly size: number
  readonly dtype: TfDataType
  readonly rank: number
  readonly isDisposed: boolean
  dataSync (): ArrayLike<number> | string[] | Uint8Array[]
  data (): Promise<ArrayLike<number> | string[] | Uint8Array[]>
  arraySync (): unknown
  dispose (): void
}

/** A rank-0 tfjs tensor (`tf.Scalar`), e.g. a loss. */
export type TfScalar = TfTensor
/** A rank-1 tfjs tensor (`tf.Tensor1D`). */
export type TfTensor1D = TfTensor
/** A rank-2 tfjs tensor (`tf.Tensor2D`). */
export type TfTensor2D = TfTensor
/** A rank-3 tfjs tensor (`tf.Tensor3D`). */
export type TfTensor3D = TfTensor

/** A trainable tfjs variable (`tf.Variable`), e.g. for an optimizer's varList. */
export interface TfVariable extends TfTensor {
  readonly name: string
  trainable: boolean
}

/** The @tensorflow/tfjs module (`import * as tf from '@tensorflow/tfjs'`), as nasrank's API describes it. */
export interface TfModule {
  readonly version: Record<string, string>
  getBackend (): string
  setBackend (backendName: string): Promise<boolean>
  ready (): Promise<void>
  memory (): { numTensors: number, numBytes: number }
}
