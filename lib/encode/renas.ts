// ReNAS feature tensor encoding of NAS-Bench-101 cells (Xu et al., "ReNAS: Relativistic
// Evaluation of Neural Architecture Search", CVPR 2021), computed natively in batches.
//
// Per cell, C×7×7 floats (C = 19, or 1 for the type-matrix-only ablation):
// - vertex order: by longest-path depth from the input (stable, so ties keep their index
//   order); cells with V < 7 vertices are padded with zero rows/columns inserted before the
//   output, which is always vertex 6. With `augment`, vertices of equal depth are shuffled.
// - with A the padded adjacency matrix (A[i][j] = 1 for an edge i → j), every channel is
//   A with each edge i → j carrying a value of its destination vertex j (the vertex vector
//   broadcast along the rows, masked by A, as the public reimplementation does):
//   channel 0: type codes (RENAS_TYPE_CODES: input 1, conv1x1 2, conv3x3 3, maxpool 4,
//   output 5 — nasrank op code + 1, so 0 means "no edge"; input's code never shows, as
//   nothing enters the input);
//   channels 1–9: FLOPs of the destination vertex in network cells 1…9 (× flopsScale);
//   channels 10–18: parameters of the destination vertex in cells 1…9 (× paramsScale).
//   Per-vertex FLOPs/params are those of nb101.cost(): an interior vertex's op plus the
//   1×1 projection of the cell input when the input feeds it; the output vertex's
//   input→output projection. Values are raw counts unless scaled (the public
//   reimplementation uses flopsScale 1e-7 and paramsScale 1e-5).
// - layout 'nchw' (default): [cell][channel][i][j]; 'nhwc': [cell][i][j][channel] (what
//   tfjs conv2d takes: tf.tensor4d(x, [count, 7, 7, C])).
import { constants } from 'node:buffer'
import { addon, named } from '../native'
import { checkSeed } from '../random'
import { checkCells, checkIndices, packSpecs, type Nb101CellsLike, type Nb101Spec } from '../spaces/nb101'
import { boolean, checkOptions, describe, finiteNumber, oneOf } from '../validate'

/** Channel-0 type codes (the ReNAS paper's): nasrank op code + 1. */
export const RENAS_TYPE_CODES = Object.freeze({ input: 1, 'conv1x1-bn-relu': 2, 'conv3x3-bn-relu': 3, maxpool3x3: 4, output: 5 })

export interface RenasEncodeOptions {
  /** 19 (default): type + 9 FLOP + 9 parameter matrices; 1: the type matrix only. */
  channels?: 19 | 1
  /** 'nchw' (default) or 'nhwc'. */
  layout?: 'nchw' | 'nhwc'
  /**
   * Shuffle vertices of equal depth (a seeded augmentation). Cell i of `cells` uses the
   * stream `new Random(seed, i)`, so a cell's permutation depends on the seed and its index
   * in `cells`, not on `indices` or batch size: change the seed per epoch for new ones.
   */
  augment?: boolean
  /** Seed of the augmentation (default 0). */
  seed?: number
  /** Multiplier of the FLOP channels (default 1: raw multiply–accumulates). */
  flopsScale?: number
  /** Multiplier of the parameter channels (default 1: raw counts). */
  paramsScale?: number
  /** Encode only these cells, in this order (default: all). */
  indices?: Uint32Array | number[]
}

const KEYS = ['channels', 'layout', 'augment', 'seed', 'flopsScale', 'paramsScale', 'indices'] as const
const LAYOUTS = ['nchw', 'nhwc'] as const

type Columns = Nb101CellsLike

function columns (cells: unknown, fn: string): Columns {
  return Array.isArray(cells) ? packSpecs(cells as Nb101Spec[], fn) : checkCells(cells, fn)
}

function encodeArgs (cells: Nb101CellsLike | readonly Nb101Spec[], options: RenasEncodeOptions | undefined, fn: string) {
  const c = columns(cells, fn)
  const opts = checkOptions<RenasEncodeOptions>(options, fn, KEYS)
  const channels = opts.channels === undefined ? 19 : opts.channels
  if (channels !== 19 && channels !== 1) throw new RangeError(`${fn}: channels must be 19 or 1, got ${describe(channels)}`)
  const indices = opts.indices === undefined ? null : checkIndices(opts.indices, c.count, fn)
  const n = indices ? indices.length : c.count
  const bytes = n * channels * 49 * 4
  const max = constants.MAX_LENGTH
  if (bytes > max) throw new RangeError(`${fn}: ${n} cells need ${bytes} bytes, more than one array may hold (${max}); encode in batches with options.indices`)
  return [c.vertices, c.adjacency, c.ops, indices, channels,
    oneOf(opts.layout, 'nchw', LAYOUTS, fn, 'layout'),
    boolean(opts.augment, false, fn, 'augment'),
    opts.seed === undefined ? 0 : checkSeed(opts.seed, fn),
    finiteNumber(opts.flopsScale, 1, fn, 'flopsScale'),
    finiteNumber(opts.paramsScale, 1, fn, 'paramsScale')] as const
}

/**
 * ReNAS feature tensors of a batch (columnar cells or an array of specs): Float32Array of
 * count·C·49 (see the module comment for channels, order, padding and layout).
 */
export function renasEncode (cells: Nb101CellsLike | readonly Nb101Spec[], options?: RenasEncodeOptions): Float32Array {
  return addon.renasEncode(...encodeArgs(cells, options, 'renasEncode'))
}

/** {@link renasEncode} off the main thread (for large batches). */
export function renasEncodeAsync (cells: Nb101CellsLike | readonly Nb101Spec[], options?: RenasEncodeOptions): Promise<Float32Array> {
  try {
    return named('renasEncodeAsync').renasEncode(...encodeArgs(cells, options, 'renasEncodeAsync'), true)
  } catch (err) {
    return Promise.reject(err)
  }
}

export interface RenasOrderOptions {
  augment?: boolean
  seed?: number
  indices?: Uint32Array | number[]
}

/**
 * The vertex order renasEncode uses: Uint8Array(count·7), entry p of a cell is the original
 * vertex at padded position p (255 for padding), e.g. to permute other per-vertex data the
 * same way.
 */
export function renasVertexOrder (cells: Nb101CellsLike | readonly Nb101Spec[], options?: RenasOrderOptions): Uint8Array {
  const fn = 'renasVertexOrder'
  const c = columns(cells, fn)
  const opts = checkOptions<RenasOrderOptions>(options, fn, ['augment', 'seed', 'indices'])
  const indices = opts.indices === undefined ? null : checkIndices(opts.indices, c.count, fn)
  return named(fn).renasOrder(c.vertices, c.adjacency, c.ops, indices, boolean(opts.augment, false, fn, 'augment'),
    opts.seed === undefined ? 0 : checkSeed(opts.seed, fn))
}
