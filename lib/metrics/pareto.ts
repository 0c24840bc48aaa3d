// Pareto fronts of points with several objectives, each minimised or maximised.
//
//   paretoFront(points, { minimize: ['cost'], maximize: ['rs'] })
//
// A point dominates another when it is at least as good in every objective and strictly
// better in one. The front is every point no other point dominates; points equal in every
// objective do not dominate each other, so duplicates are all kept. The front is returned
// sorted by the first objective (best first: ascending for minimize, descending for
// maximize), then by the next objectives, then by input position.
import { describe } from '../validate'

export interface ParetoOptions {
  /** Keys of objectives where smaller is better. */
  minimize?: readonly string[]
  /** Keys of objectives where larger is better. */
  maximize?: readonly string[]
}

interface Objectives { keys: string[], sign: number[] }

function objectives (options: ParetoOptions | undefined, fn: string): Objectives {
  if (options === null || typeof options !== 'object') throw new TypeError(`${fn}: options must be an object { minimize?, maximize? }, got ${describe(options)}`)
  for (const key of Object.keys(options)) {
    if (key !== 'minimize' && key !== 'maximize') throw new TypeError(`${fn}: unknown option '${key}' (minimize, maximize)`)
  }
  const keys: string[] = []
  const sign: number[] = []
  for (const [name, s] of [['minimize', 1], ['maximize', -1]] as const) {
    const list = options[name]
    if (list === undefined) continue
    if (!Array.isArray(list)) throw new TypeError(`${fn}: options.${name} must be an array of keys, got ${describe(list)}`)
    for (const k of list) {
      if (typeof k !== 'string' || k === '') throw new TypeError(`${fn}: options.${name} must hold non-empty strings, got ${describe(k)}`)
      if (keys.includes(k)) throw new RangeError(`${fn}: objective '${k}' is given twice`)
      keys.push(k)
      sign.push(s)
    }
  }
  if (keys.length === 0) throw new RangeError(`${fn}: give at least one objective in options.minimize or options.maximize`)
  return { keys, sign }
}

/** Objective values as "smaller is better" rows (maximised ones negated), checked finite. */
function matrix (points: readonly object[], o: Objectives, fn: string): Float64Array {
  if (!Array.isArray(points)) throw new TypeError(`${fn}: points must be an array of objects, got ${describe(points)}`)
  const d = o.keys.length
  const m = new Float64Array(points.length * d)
  points.forEach((p, i) => {
    if (p === null || typeof p !== 'object') throw new TypeError(`${fn}: points[${i}] must be an object, got ${describe(p)}`)
    o.keys.forEach((k, j) => {
      const v = (p as Record<string, unknown>)[k]
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${fn}: points[${i}].${k} must be a finite number, got ${describe(v)}`)
      m[i * d + j] = o.sign[j] * v
    })
  })
  return m
}

/** Positions (into `points`) of the non-dominated points, in the front's order (see the module comment). */
export function paretoFrontIndices (points: readonly object[], options: ParetoOptions): number[] {
  const o = objectives(options, 'paretoFrontIndices')
  const m = matrix(points, o, 'paretoFrontIndices')
  const d = o.keys.length
  const n = points.length
  // Sorted lexicographically (smaller-is-better), a point can only be dominated by one before it.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    for (let j = 0; j < d; j++) {
      const diff = m[a * d + j] - m[b * d + j]
      if (diff !== 0) return diff
    }
    return a - b
  })
  const front: number[] = []
  for (const i of order) {
    let dominated = false
    for (const f of front) {
      let noWorse = true
      let better = false
      for (let j = 0; j < d; j++) {
        const a = m[f * d + j]; const b = m[i * d + j]
        if (a > b) { noWorse = false; break }
        if (a < b) better = true
      }
      if (noWorse && better) { dominated = true; break }
    }
    if (!dominated) front.push(i)
  }
  return front
}

/** The non-dominated points themselves (the same objects), in the front's order. */
export function paretoFront<T extends object> (points: readonly T[], options: ParetoOptions): T[] {
  return paretoFrontIndices(points, options).map(i => points[i])
}
