// The search space of a bench, as rows. Search baselines work on bench rows (integers): a
// row is an architecture the bench has measured, so sampling, mutation and neighbourhoods
// stay inside the bench and cost an array read. The space-specific moves come from the
// space modules (lib/spaces/nb201, lib/spaces/nb101) and are mapped back to rows.
import type { Bench } from '../bench/bench'
import type { Random } from '../random'
import * as nb101 from '../spaces/nb101'
import { NB201_SIZE } from '../spaces/nb201'
import { NB101_PATHS, NB201_PATHS, nb101PathEncodeInto, nb201PathEncodeInto } from '../encode/path'
import type { SpaceOps } from './evolution'

/** SpaceOps over the rows of one bench, with the neighbourhood and path encoding the baselines use. */
export interface BenchSpace extends SpaceOps<number> {
  readonly bench: Bench
  /** A uniformly random row. */
  sample: (random: Random) => number
  /** A row one mutation away (NB-201: one edge to a different op; NB-101: nasbench's mutate_spec), -1 if none is in the bench. */
  mutate: (row: number, random: Random) => number
  neighbors: (row: number) => number[]
  encode: (row: number, out: Float64Array, offset: number) => void
  encodingLength: number
}

const SPACES = new WeakMap<Bench, BenchSpace>()
/** Draws of a mutation that lands outside the bench before giving up (partial tables only). */
const MUTATE_ATTEMPTS = 100
const POW5 = [3125, 625, 125, 25, 5, 1]

/** The row space of a bench (built once per bench and cached). */
export function benchSpace (bench: Bench): BenchSpace {
  let space = SPACES.get(bench)
  if (space === undefined) {
    space = bench.space === 'nb201' ? nb201Space(bench) : nb101Space(bench)
    SPACES.set(bench, space)
  }
  return space
}

function nb201Space (bench: Bench): BenchSpace {
  const ops = bench.archs as Uint8Array
  const size = bench.size
  const rowByIndex = new Int32Array(NB201_SIZE).fill(-1)
  const indexOfRow = new Int32Array(size)
  for (let row = 0; row < size; row++) {
    const b = 6 * row
    const i = ops[b] * 3125 + ops[b + 1] * 625 + ops[b + 2] * 125 + ops[b + 3] * 25 + ops[b + 4] * 5 + ops[b + 5]
    rowByIndex[i] = row
    indexOfRow[row] = i
  }
  return {
    bench,
    sample: random => random.int(size),
    // The NB-201 authors' mutation (R-EA, AutoDL-Projects): one edge chosen uniformly gets
    // an op drawn uniformly among the other four.
    mutate: (row, random) => {
      const b = 6 * row
      for (let attempt = 0; attempt < MUTATE_ATTEMPTS; attempt++) {
        const e = random.int(6)
        const op = (ops[b + e] + 1 + random.int(4)) % 5
        const child = rowByIndex[indexOfRow[row] + (op - ops[b + e]) * POW5[e]]
        if (child >= 0) return child
      }
      return -1
    },
    crossover: (a, b, random) => {
      for (let attempt = 0; attempt < MUTATE_ATTEMPTS; attempt++) {
        let i = 0
        for (let e = 0; e < 6; e++) i += (random.float() < 0.5 ? ops[6 * a + e] : ops[6 * b + e]) * POW5[e]
        if (rowByIndex[i] >= 0) return rowByIndex[i]
      }
      return a
    },
    key: row => String(row),
    // The 24 one-edge changes, edge 0…5, then op ascending (those in the bench).
    neighbors: row => {
      const out: number[] = []
      const b = 6 * row
      for (let e = 0; e < 6; e++) {
        for (let op = 0; op < 5; op++) {
          if (op === ops[b + e]) continue
          const n = rowByIndex[indexOfRow[row] + (op - ops[b + e]) * POW5[e]]
          if (n >= 0) out.push(n)
        }
      }
      return out
    },
    encode: (row, out, offset) => nb201PathEncodeInto(ops, row, out, offset),
    encodingLength: NB201_PATHS
  }
}

function nb101Space (bench: Bench): BenchSpace {
  const cells = bench.archs as nb101.Nb101Cells
  const size = bench.size
  const rowOf = (spec: nb101.Nb101Spec): number => {
    try { return bench.rowOf(spec) } catch { return -1 }
  }
  return {
    bench,
    sample: random => random.int(size),
    // nasbench's mutate_spec (rate 1) on the row's cell, mapped back with bench.rowOf; a
    // mutant the bench lacks is drawn again.
    mutate: (row, random) => {
      const cell = nb101.cellAt(cells, row)
      for (let attempt = 0; attempt < MUTATE_ATTEMPTS; attempt++) {
        const child = rowOf(nb101.mutate(cell, random))
        if (child >= 0 && child !== row) return child
      }
      return -1
    },
    crossover: (a, b, random) => {
      for (let attempt = 0; attempt < MUTATE_ATTEMPTS; attempt++) {
        const child = rowOf(nb101.crossover(nb101.cellAt(cells, a), nb101.cellAt(cells, b), random))
        if (child >= 0) return child
      }
      return a
    },
    key: row => String(row),
    // One interior op changed to each of the two others, or one edge of the V×V matrix flipped;
    // valid cells in the bench only, deduplicated (pruning can map two moves to one cell), in move order.
    neighbors: row => {
      const cell = nb101.cellAt(cells, row)
      const v = cell.ops.length
      const seen = new Set<number>([row])
      const out: number[] = []
      const add = (matrix: number[][], ops: string[]): void => {
        const c = nb101.check(matrix, ops)
        if (!c.valid) return
        const n = rowOf(c.spec)
        if (n >= 0 && !seen.has(n)) { seen.add(n); out.push(n) }
      }
      for (let k = 1; k < v - 1; k++) {
        for (const op of nb101.INTERIOR_OPS) {
          if (op === cell.ops[k]) continue
          const ops = [...cell.ops]; ops[k] = op
          add(cell.matrix, ops)
        }
      }
      for (let i = 0; i < v; i++) {
        for (let j = i + 1; j < v; j++) {
          const matrix = cell.matrix.map(r => [...r]); matrix[i][j] = 1 - matrix[i][j]
          add(matrix, cell.ops)
        }
      }
      return out
    },
    encode: (row, out, offset) => nb101PathEncodeInto(cells, row, out, offset),
    encodingLength: NB101_PATHS
  }
}
