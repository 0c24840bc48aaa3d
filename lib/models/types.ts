// Shapes shared by the tfjs models (lib/models/gcn.ts, comparator.ts) and the native
// scoring kernels (lib/models/gcn-native.ts). No tfjs here: importing these types costs
// nothing at run time.

import type { GraphBatch } from '../encode/graph'

export type { GraphBatch }

/** A dense layer y = x·W + b: `w` is in×out row-major, `b` has `out` entries. */
export interface DenseWeights {
  w: Float32Array
  b: Float32Array
}

/**
 * A trained GCN (data contract): layers[0].w is F×H₀, layers[l].w is H_{l−1}×H_l, and the
 * readout `fc` maps the pooled H_L-vector to one score (fc.w has H_L entries, fc.b one).
 */
export interface GcnWeights {
  layers: DenseWeights[]
  fc: DenseWeights
}

/** GCN weights used as a feature extractor (the readout, if present, is ignored). */
export interface GcnEmbedWeights {
  layers: DenseWeights[]
  fc?: DenseWeights
}

/**
 * The CTNAS comparator head: z = [e_a, e_b] (2·D), then ReLU(z·W + b) for every hidden layer,
 * then the logit out.w·h + out.b and P(a better than b) = σ(logit). layers[0].w is 2D×H₁
 * (rows 0..D−1 multiply e_a, rows D..2D−1 multiply e_b); with no hidden layer out.w has 2D
 * entries.
 */
export interface ComparatorHeadWeights {
  layers: DenseWeights[]
  out: DenseWeights
}

/** A whole neural architecture comparator: shared GCN feature extractor + head. */
export interface ComparatorWeights {
  gcn: GcnEmbedWeights
  head: ComparatorHeadWeights
}
