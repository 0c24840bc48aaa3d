// The probe experiment: cells that do (almost) nothing, for measuring what an executor costs
// per cell (benchmarks/grid.js) and for exercising a grid's failure handling (test/grid.test.ts)
// without training anything. Each cell waits `ms` milliseconds (a timer, no CPU) and returns a
// row drawn from the seeded PRNG, so rows are the same wherever a cell runs. A waiting cell
// notes 'waiting <ms> ms' (CellContext.note), which tests follow across executors. Cells listed in
// `fail` throw on purpose. A grid worker runs probe cells like any other experiment's.
import { Random } from '../random'
import { runExperiment, PlanError, type Cell, type ReportInput, type RunOptions, type RunResult } from './runner'

export interface ProbeSpec {
  /** Number of cells (1 … 1,000,000). */
  count: number
  /** Milliseconds each cell waits (0 … 600,000). */
  ms: number
  /** Seed of the rows' numbers. */
  seed: number
  /** Indices of cells that throw. */
  fail?: number[]
}

export const PROBE_OUTPUTS = ['report.md'] as const

function check (spec: unknown): ProbeSpec {
  const s = spec as Partial<ProbeSpec> | null
  const int = (v: unknown, name: string, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) throw new PlanError(`probe: ${name} must be an integer in [0, ${max}], got ${JSON.stringify(v)}`)
    return v
  }
  if (s === null || typeof s !== 'object' || Array.isArray(s)) throw new PlanError('probe: the spec must be an object { count, ms, seed }')
  const count = int(s.count, 'count', 1_000_000)
  const fail = s.fail ?? []
  if (!Array.isArray(fail)) throw new PlanError('probe: fail must be an array of cell indices')
  return { count, ms: int(s.ms, 'ms', 600_000), seed: int(s.seed, 'seed', 2 ** 31), fail: fail.map((k, i) => int(k, `fail[${i}]`, count - 1)) }
}

function planCells (spec: ProbeSpec): Cell[] {
  const failing = new Set(spec.fail)
  return Array.from({ length: spec.count }, (_, k): Cell => ({
    id: `probe/seed${spec.seed}/ms${spec.ms}/${k}${failing.has(k) ? '/fails' : ''}`,
    fields: { table: 'probe' },
    run: async context => {
      if (spec.ms > 0) {
        context?.note(`waiting ${spec.ms} ms`)
        await new Promise(resolve => setTimeout(resolve, spec.ms))
      }
      if (failing.has(k)) throw new Error(`probe cell ${k} fails on purpose`)
      const random = new Random(spec.seed, k)
      return { k, x: random.float(), y: random.normal() }
    }
  }))
}

/** The entry of worker threads and grid workers (executors.ts). */
export async function loadCells (spec: unknown): Promise<Cell[]> {
  return planCells(check(spec))
}

/** Runs a probe experiment through the shared runner (any executor); the report lists the rows' count and sums. */
export async function runProbe (spec: ProbeSpec, options: RunOptions): Promise<RunResult> {
  const checked = check(spec)
  return await runExperiment({ ...options, outputs: PROBE_OUTPUTS }, () => ({
    cells: planCells(checked),
    spec: { module: 'probe', data: checked },
    settings: { ...checked },
    report: async (input: ReportInput) => {
      const sum = input.rows.reduce((a, r) => a + (r.x as number), 0)
      return input.write('report.md', `# Probe\n\n${input.header}\n${input.done} of ${input.total} cells; sum of x ${sum}\n`)
    }
  }))
}
