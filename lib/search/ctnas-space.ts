// What CTNAS's search (lib/search/ctnas.ts) needs of a search space, for NAS-Bench-201 and
// NAS-Bench-101: the NAC's input graphs, the architecture ids the NAC and the search share,
// their bench rows and pruned forms (the baseline curriculum deduplicates by it), and the
// space's controller (sample one architecture with log π / entropy kept for the REINFORCE
// step, or many without).
//
//   NB-201: ids are nasrank indices 0..15,624 (nacGraphTable), the controller is
//           lib/models/controller.ts through its native kernel; pruned form = nb201.prune.
//   NB-101: ids are positions in a growing NacGraphSet, one per distinct module hash met
//           (labelled rows first, then controller samples in the order drawn), so equal ids ⇔
//           equal pruned cells; the controller is lib/models/controller-nb101.ts (its native
//           engine, native/controller.cc, by default); a bench row
//           is found by binary search of the module hash (the NB-101 benches are sorted by it).
import { Random } from '../random'
import type { Bench } from '../bench/bench'
import { Adam, NacGraphSet, nacGraphTable, type NacGraphs } from '../models/nac'
import { Controller } from '../models/controller'
import { Nb101Controller } from '../models/controller-nb101'
import { nb101GraphBatch } from '../encode/graph'
import * as nb101 from '../spaces/nb101'
import { NB201_SIZE } from '../spaces/nb201'

/** One controller sample in the search's hands. */
export interface CtnasDraw {
  id: number
  entropy: number
  /** One REINFORCE update of this sample's log π with the given reward (and −coefEntropy·H in the loss: the code preset), then one Adam step. */
  step: (reward: number, adam: Adam, coefEntropy?: number) => void
}

export interface CtnasSpace {
  readonly graphs: NacGraphs
  /** The controller (built by makeController; its params are what Adam and the checkpoints hold). */
  readonly controller: Controller | Nb101Controller
  /** Builds the controller (called once, after the NAC's pretraining, with its own stream). */
  makeController: (random: Random) => void
  idOfRow: (row: number) => number
  /** The bench row of an id, −1 when the bench lacks it. */
  rowOfId: (id: number) => number
  /** The id of the pruned form (equal for functionally equal cells). */
  prunedOf: (id: number) => number
  sample: (random: Random) => CtnasDraw
  sampleMany: (n: number, random: Random) => number[]
  /** One architecture with every decision uniform (the code's force_uniform): a controller with zero weights; one float per decision. */
  sampleUniform: (random: Random) => number
  /** What a checkpoint must keep besides ids (NB-101: the cells behind the ids), and its restoration. */
  state: () => unknown
  restore: (state: unknown, file: string) => void
  /** id → bench row of every id so far (diagnostics). */
  rowTable: () => Int32Array
}

export function ctnasSpace (bench: Bench): CtnasSpace {
  if (bench.space === 'nb201') return nb201Space(bench)
  if (bench.space === 'nb101') return nb101Space(bench)
  throw new RangeError(`ctnas: ${bench.name} is a ${String(bench.space)} bench; CTNAS runs on nb201 and nb101 benches`)
}

const POW5 = [3125, 625, 125, 25, 5, 1]

// Controllers with all weights 0: every softmax is uniform, so a sample draws each decision
// uniformly (one float each), as the code's controller(force_uniform=True).
let UNIFORM_201: Controller | null = null
let UNIFORM_101: Nb101Controller | null = null
function uniform201 (): Controller {
  if (UNIFORM_201 === null) { UNIFORM_201 = new Controller(new Random(0)); UNIFORM_201.params.fill(0) }
  return UNIFORM_201
}
function uniform101 (): Nb101Controller {
  if (UNIFORM_101 === null) { UNIFORM_101 = new Nb101Controller(new Random(0)); UNIFORM_101.params.fill(0) }
  return UNIFORM_101
}

function nb201Space (bench: Bench): CtnasSpace {
  const ops = bench.archs as Uint8Array
  const rowByIndex = new Int32Array(NB201_SIZE).fill(-1)
  const indexOfRow = new Int32Array(bench.size)
  for (let row = 0; row < bench.size; row++) {
    let i = 0
    for (let e = 0; e < 6; e++) i += ops[6 * row + e] * POW5[e]
    rowByIndex[i] = row; indexOfRow[row] = i
  }
  const table = nacGraphTable()
  let controller: Controller | null = null
  const ctl = (): Controller => { if (controller === null) throw new Error('ctnas: the controller is not built yet'); return controller }
  const toIndex = (seq: ArrayLike<number>, at: number): number => {
    let i = 0
    for (let e = 0; e < 6; e++) i += seq[at + e] * POW5[e]
    return i
  }
  return {
    graphs: table,
    get controller () { return ctl() },
    makeController: random => { controller = new Controller(random) },
    idOfRow: row => indexOfRow[row],
    rowOfId: id => rowByIndex[id],
    prunedOf: id => table.pruned[id],
    sample: random => {
      const c = ctl()
      const s = c.sampleNative(random)
      return { id: toIndex(s.ops, 0), entropy: s.entropy, step: (reward, adam, coefEntropy = 0) => c.stepNative(s, reward, coefEntropy, adam) }
    },
    sampleMany: (n, random) => {
      const seqs = ctl().sampleManyNative(n, random)
      return Array.from({ length: n }, (_, k) => toIndex(seqs, 6 * k))
    },
    sampleUniform: random => toIndex(uniform201().sample(random).ops, 0),
    state: () => null,
    restore: () => {},
    rowTable: () => rowByIndex
  }
}

function nb101Space (bench: Bench): CtnasSpace {
  const cells = bench.archs as nb101.Nb101Cells
  const set = new NacGraphSet(nb101.MAX_VERTICES, 6)
  const idByHash = new Map<string, number>()
  const rows: number[] = []
  // Packed cells of the ids, for checkpoints: vertices, adjacency bits, 7 op codes.
  const vertices: number[] = []
  const adjacency: number[] = []
  const opCodes: number[] = []
  const addPacked = (packed: nb101.Nb101CellsLike, k: number, hex: string, row: number): number => {
    let id = idByHash.get(hex)
    if (id !== undefined) return id
    id = set.add(nb101GraphBatch(packed, [k]))
    idByHash.set(hex, id)
    rows.push(row)
    vertices.push(packed.vertices[k]); adjacency.push(packed.adjacency[k])
    for (let v = 0; v < 7; v++) opCodes.push(packed.ops[7 * k + v])
    return id
  }
  const addSpecs = (specs: nb101.Nb101Spec[]): number[] => {
    if (specs.length === 0) return []
    const packed = nb101.packSpecs(specs, 'ctnas')
    const hashes = nb101.hashBatch(packed)
    return specs.map((_, k) => {
      const hex = Buffer.from(hashes.buffer, hashes.byteOffset + 16 * k, 16).toString('hex')
      const known = idByHash.get(hex)
      return known ?? addPacked(packed, k, hex, nb101.indexOfHash(cells, hex))
    })
  }
  let controller: Nb101Controller | null = null
  const ctl = (): Nb101Controller => { if (controller === null) throw new Error('ctnas: the controller is not built yet'); return controller }
  return {
    graphs: set,
    get controller () { return ctl() },
    makeController: random => { controller = new Nb101Controller(random) },
    idOfRow: row => addPacked(cells, row, nb101.hashAt(cells, row), row),
    rowOfId: id => rows[id],
    prunedOf: id => id,
    sample: random => {
      const c = ctl()
      const s = c.sample(random)
      const id = addSpecs([s.spec])[0]
      return { id, entropy: s.entropy, step: (reward, adam, coefEntropy = 0) => c.step(s, reward, coefEntropy, adam) }
    },
    sampleMany: (n, random) => addSpecs(ctl().sampleMany(n, random).map(s => s.spec)),
    sampleUniform: random => addSpecs([uniform101().sample(random, undefined, false).spec])[0],
    state: () => ({ vertices: [...vertices], adjacency: [...adjacency], ops: [...opCodes] }),
    restore: (state, file) => {
      const s = state as { vertices?: unknown, adjacency?: unknown, ops?: unknown } | null
      const ok = s !== null && typeof s === 'object' && Array.isArray(s.vertices) && Array.isArray(s.adjacency) && Array.isArray(s.ops) &&
        s.adjacency.length === s.vertices.length && s.ops.length === 7 * s.vertices.length
      if (!ok) throw new RangeError(`ctnas: checkpoint ${file}: the NB-101 cells behind the ids are missing or malformed; delete it to start the run afresh`)
      const st = s as { vertices: number[], adjacency: number[], ops: number[] }
      if (set.count !== 0) throw new Error('ctnas: restore must come before any id is made')
      const packed = { count: st.vertices.length, vertices: Uint8Array.from(st.vertices), adjacency: Uint32Array.from(st.adjacency), ops: Uint8Array.from(st.ops) }
      const hashes = nb101.hashBatch(packed)
      for (let k = 0; k < packed.count; k++) {
        const hex = Buffer.from(hashes.buffer, hashes.byteOffset + 16 * k, 16).toString('hex')
        if (idByHash.has(hex)) throw new RangeError(`ctnas: checkpoint ${file}: cell ${k} repeats an earlier one; delete it to start the run afresh`)
        addPacked(packed, k, hex, nb101.indexOfHash(cells, hex))
      }
    },
    rowTable: () => Int32Array.from(rows)
  }
}
