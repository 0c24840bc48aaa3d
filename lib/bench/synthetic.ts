// The synthetic benchmarks `synthetic-201` and `synthetic-101`: the teacher's table over the
// real search spaces, so every command runs on a fresh machine with no downloads. Built in
// memory on first use (about half a second for NAS-Bench-201).
import { type BenchData } from './bench'
import { buildTeacherTable, PROFILES, TEACHER_VERSION, type TeacherTable } from './teacher'
import { nb201GraphBatch } from '../encode/graph'
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
