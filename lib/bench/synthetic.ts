// The synthetic benchmarks `synthetic-201` and `synthetic-101`: the teacher's table over the
// real search spaces, so every command runs on a fresh machine with no downloads. Built in
// memory on first use (about half a second for NAS-Bench-201).
import { type BenchData } from './bench'
import { buildTeacherTable, PROFILES, TEACHER_VERSION, type TeacherTable } from './teacher'
import { nb101GraphBatch, nb201GraphBatch } from '../encode/graph'
import * as nb101 from '../spaces/nb101'
import { nb201, NB201_EDGES, NB201_SIZE } from '../spaces/nb201'

/** 1 where the output node is reachable from the input through non-`none` edges. */
export function nb201Connected (ops: Uint8Array): Uint8Array {
  const count = ops.length / 6
  const out = new Uint8Array(count)
  for (let a = 0; a < count; a++) {
    const reached = [true, false, false, false]
    NB201_EDGES.forEach(([tail, head], e) => {
      if (reached[tail] && ops[a * 6 + e] !== 0) reached[head] = true
    })
    out[a] = reached[3] ? 1 : 0
  }
  return out
}

function tableData (uri: string, table: TeacherTable, archs: BenchData['archs'], costs: Record<string, Float64Array>, rowOf: BenchData['rowOf'], describeRow: BenchData['describeRow'], space: BenchData['space']): BenchData {
  const { profile } = table
  return {
    uri,
    name: `${profile.name} v${TEACHER_VERSION}`,
    space,
    synthetic: true,
    scale: profile.scale,
    size: table.count,
    epochs: profile.epochs,
    repeats: profile.repeats,
    metrics: { train: table.train, val: table.val, test: table.test },
    costs,
    archs,
    rowOf,
    describeRow
  }
}

/** The synthetic NAS-Bench-201 table; rows in nasrank index order. */
export function synthetic201 (): BenchData {
  const ops = nb201.all()
  const keys = new Uint32Array(2 * NB201_SIZE)
  for (let i = 0; i < NB201_SIZE; i++) { keys[2 * i] = i; keys[2 * i + 1] = 0x201 }
  const params = nb201.paramsBatch(ops, 'cifar10')
  const table = buildTeacherTable(PROFILES['synthetic-201'], {
    graphs: nb201GraphBatch(ops),
    params,
    connected: nb201Connected(ops),
    keys
  })
  return tableData('synthetic-201', table, ops, { params, flops: nb201.flopsBatch(ops, 'cifar10') },
    arch => nb201.index(arch as Parameters<typeof nb201.index>[0]),
    row => nb201.format(nb201.fromIndex(row)),
    'nb201')
}

/** The synthetic NAS-Bench-101 table; rows in `nb101.enumerate()` order (sorted by hash). */
export async function synthetic101 (): Promise<BenchData> {
  const cells = await nb101.enumerate()
  const n = cells.count
  // The identity of a cell is its module hash: the first 8 bytes as two words.
  const keys = new Uint32Array(2 * n)
  const view = new DataView(cells.hash.buffer, cells.hash.byteOffset, cells.hash.byteLength)
  for (let i = 0; i < n; i++) { keys[2 * i] = view.getUint32(16 * i, true); keys[2 * i + 1] = view.getUint32(16 * i + 4, true) }
  const { params, flops } = nb101.costBatch(cells)
  const table = buildTeacherTable(PROFILES['synthetic-101'], {
    graphs: nb101GraphBatch(cells),
    params,
    connected: new Uint8Array(n).fill(1), // every valid cell connects input and output
    keys
  })
  let byHash: Map<string, number> | undefined
  const rowOf = (arch: unknown): number => {
    let hex: string
    if (typeof arch === 'string') hex = arch.toLowerCase()
    else if (arch !== null && typeof arch === 'object' && 'matrix' in arch && 'ops' in arch) {
      const a = arch as nb101.Nb101Spec
      hex = nb101.hash(nb101.spec(a.matrix, a.ops))
    } else {
      throw new TypeError(`synthetic-101: an architecture must be a module hash (32 hex digits) or a {matrix, ops} spec, got ${typeof arch}`)
    }
    if (byHash === undefined) {
      byHash = new Map()
      for (let i = 0; i < n; i++) byHash.set(nb101.hashAt(cells, i), i)
    }
    const row = byHash.get(hex)
    if (row === undefined) throw new RangeError(`synthetic-101: no cell with module hash ${JSON.stringify(hex)}`)
    return row
  }
  return tableData('synthetic-101', table, cells, { params, flops }, rowOf, row => nb101.hashAt(cells, row), 'nb101')
}
