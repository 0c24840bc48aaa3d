// Shapes shared by the tfjs models (lib/models/gcn.ts, comparator.ts) and the native
// scoring kernels (lib/models/gcn-native.ts). No tfjs here: importing these types costs
// nothing at run time.

/**
 * A batch of graphs in the padded form of the data contract (the encoders in lib/encode/
 * produce it; this interface is structurally identical to theirs).
 * NB-101: V = 7, F = 5; NB-201: V = 8, F = 6.
 */
export interface GraphBatch {
  count: number
  /** Padded vertex count V. */
  vertices: number
  /** Node-feature width F. */
  features: number
  /** count·V·V, directed: A[i·V + j] = 1 for an edge i → j (zero rows/columns for padding). */
  adjacency: Float32Array
  /** count·V·F node features (one-hot labels). */
  x: Float32Array
  /** count·V, 1 for a real vertex, 0 for padding. */
  mask: Float32Array
}

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
