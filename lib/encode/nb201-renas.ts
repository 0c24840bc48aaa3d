// NAS-Bench-201 cells in ReNAS's input form (Table 5), the 30-d one-hot of the ops, and the
// encoder hooks (encode/count/augment) that the ReNAS, forest and Peephole predictors take for
// both spaces. Shared by every experiment that trains these predictors on a bench's rows.
import * as nb101 from '../spaces/nb101'
import { nb201, NB201_OPS } from '../spaces/nb201'
import { renasEncode } from './renas'
import { type Random } from '../random'
import { type EncodedBatch } from '../predictors/types'

/**
 * NAS-Bench-201 in ReNAS's form, over the 8-vertex DAG of nb201.toDag (0 input, 1–6 the edge
 * ops, 7 output; a none vertex has no links) with adjacency A, of the pruned cell
 * (nb201.prune: ops on no input → output path become none, as the NAS-Bench-101 API prunes
 * its specs), so functionally equal cells share one input; on the real CIFAR-10 table
 * Kendall tau rises from 0.61 to 0.69 (benchmarks/renas-table5.js). The NB-101 tensor's channels
 * are A with each edge i → j carrying a value of its destination j; here:
 *  - channels 0–5, the type planes: plane c is A masked to destinations labelled
 *    NB201_DAG_LABELS[c] (input, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3,
 *    output). One 0/1 plane per label rather than the label code as a number, so the LeNet
 *    need not learn that code 4 is not "twice" code 2: on the real CIFAR-10 table (90
 *    architectures) Kendall tau rises from 0.56 to 0.61 (benchmarks/renas-table5.js);
 *  - tensor variants add channel 6, the FLOPs, and channel 7, the parameters of the
 *    destination op over the 15 cells, each relative to nor_conv_3x3's (1 = one 3×3 conv edge;
 *    FLOPs in raw units, 35 M per conv edge, swamp the type planes).
 * Items are [6, 8, 8] (type variants) or [8, 8, 8] (tensor variants), channel-major.
 */
export function nb201RenasTensor (ops: Uint8Array, rows: ArrayLike<number>, input: 'type' | 'tensor'): Float32Array {
  const { flops, params } = nb201.costModel('cifar10')
  const conv3 = NB201_OPS.indexOf('nor_conv_3x3')
  const channels = NB201_RENAS_CHANNELS[input]
  const out = new Float32Array(rows.length * channels * 64)
  const selected = new Uint8Array(rows.length * 6)
  for (let k = 0; k < rows.length; k++) selected.set(ops.subarray(6 * rows[k], 6 * rows[k] + 6), 6 * k)
  const pruned = nb201.pruneBatch(selected)
  for (let k = 0; k < rows.length; k++) {
    const base = k * channels * 64
    const arch = pruned.subarray(6 * k, 6 * k + 6)
    const type = nb201.renasTypeMatrix(arch)
    for (let cell = 0; cell < 64; cell++) {
      const code = type[cell]
      if (code === 0) continue
      out[base + (code - 1) * 64 + cell] = 1
      const j = cell % 8
      if (input === 'type' || j === 0 || j === 7) continue
      const op = arch[j - 1]
      out[base + 6 * 64 + cell] = flops.perEdge[op] / flops.perEdge[conv3]
      out[base + 7 * 64 + cell] = params.perEdge[op] / params.perEdge[conv3]
    }
  }
  return out
}

/** Channels of the NB-201 ReNAS input: 6 type planes, plus FLOPs and parameters for the tensor. */
export const NB201_RENAS_CHANNELS = Object.freeze({ type: 6, tensor: 8 } as const)

/** The 30-d one-hot of an NB-201 cell's six edge ops (5 ops each). */
export function nb201OneHot (ops: Uint8Array, rows: ArrayLike<number>): EncodedBatch {
  const data = new Float32Array(rows.length * 30)
  for (let k = 0; k < rows.length; k++) for (let e = 0; e < 6; e++) data[k * 30 + e * 5 + ops[6 * rows[k] + e]] = 1
  return { count: rows.length, shape: [30], data }
}

/** Predictor hooks over bench rows: a batch of rows → the encoded batch. */
export interface RowHooks {
  encode: (rows: Uint32Array, start?: number, end?: number) => EncodedBatch
  count: (rows: Uint32Array) => number
  augment?: (rows: Uint32Array, indices: Int32Array, rng: Random) => Float32Array
}

/** Scales that bring NAS-Bench-101 per-vertex FLOPs/params to order 1 (the public ReNAS code uses 1e-7 / 1e-5). */
export const NB101_RENAS_SCALES = Object.freeze({ flopsScale: 1e-7, paramsScale: 1e-5 })

/** NAS-Bench-101 rows as ReNAS tensors (19 channels, or 1: the type matrix), with equal-depth vertex augmentation. */
export function nb101RenasHooks (cells: nb101.Nb101Cells, channels: 1 | 19): Required<RowHooks> {
  return {
    encode: (rows: Uint32Array, start = 0, end = rows.length): EncodedBatch => ({
      count: end - start,
      shape: [channels, 7, 7],
      data: renasEncode(cells, { channels, indices: rows.subarray(start, end), ...NB101_RENAS_SCALES })
    }),
    count: (rows: Uint32Array) => rows.length,
    // Equal-depth vertex permutation, a fresh one per call.
    augment: (rows: Uint32Array, indices: Int32Array, rng: Random): Float32Array =>
      renasEncode(cells, { channels, indices: Array.from(indices, i => rows[i]), augment: true, seed: rng.int(2 ** 31), ...NB101_RENAS_SCALES })
  }
}

/** NAS-Bench-201 rows as ReNAS tensors (nb201RenasTensor). */
export function nb201RenasHooks (ops: Uint8Array, input: 'type' | 'tensor'): RowHooks {
  const channels = NB201_RENAS_CHANNELS[input]
  return {
    encode: (rows: Uint32Array, start = 0, end = rows.length): EncodedBatch => ({
      count: end - start, shape: [channels, 8, 8], data: nb201RenasTensor(ops, rows.subarray(start, end), input)
    }),
    count: (rows: Uint32Array) => rows.length
  }
}
