// Predictor-guided searches: the ReNAS evolutionary algorithm, exhaustive traversal and
// random search. They are space-agnostic: a space supplies sampling and variation through
// SpaceOps, and a fitness function (usually a predictor) scores batches of architectures.
// Only the caller decides what counts as a benchmark query; these functions never touch a
// benchmark.
import { Random, checkSeed } from '../random'
import { checkOptions, describe } from '../validate'

export interface SpaceOps<A> {
  sample: (random: Random) => A
  mutate: (arch: A, random: Random) => A
  crossover: (a: A, b: A, random: Random) => A
  /** A string identifying the architecture up to isomorphism (e.g. its hash). */
  key: (arch: A) => string
  /**
   * Optional: every architecture one move away (NAS-Bench-201: the 24 one-edge op changes;
   * NAS-Bench-101: one op change or one edge flip), in a fixed order. Local search needs it.
   */
  neighbors?: (arch: A) => A[]
  /** Optional: a fixed-length numeric encoding (e.g. the BANANAS path encoding) written at out[offset…]. */
  encode?: (arch: A, out: Float64Array, offset: number) => void
  /** Length of `encode`'s output. */
  encodingLength?: number
}

/** Scores a batch of architectures; higher is better. */
export type Fitness<A> = (archs: A[]) => Promise<Float64Array> | Float64Array

export interface Scored<A> { arch: A, key: string, score: number }

export interface EvolutionOptions {
  /** Population size (ReNAS: 64). */
  population?: number
  /** Generations after the initial population (ReNAS: 500). */
  generations?: number
  /** Probabilities of producing a child by selection (copy), crossover and mutation (ReNAS: 0.5/0.3/0.2). */
  probabilities?: { select: number, crossover: number, mutate: number }
  /** Tournament size for picking parents (default 2). */
  tournament?: number
  seed?: number
  /** Called after each generation with the best score so far. */
  onGeneration?: (generation: number, best: number) => void
  signal?: AbortSignal
}

export interface EvolutionResult<A> {
  /** Every distinct architecture the search scored, best first (ties: first seen first). */
  ranked: Array<Scored<A>>
  /** Number of fitness evaluations of distinct architectures. */
  evaluations: number
}

const EVOLUTION_KEYS = ['population', 'generations', 'probabilities', 'tournament', 'seed', 'onGeneration', 'signal'] as const

function positiveInteger (value: unknown, fallback: number, fn: string, name: string, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${fn}: ${name} must be an integer >= ${min}, got ${describe(value)}`)
  }
  return value
}

/**
 * The ReNAS evolutionary algorithm with a predictor as fitness. Each generation fills a
 * new brood of `population` children: with probability `select` a tournament winner is
 * copied, with `crossover` two tournament winners are recombined, otherwise one is mutated.
 * The next population is the best `population` distinct architectures of parents and
 * children ((μ + λ) survival); a copy therefore only keeps a good parent alive.
 */
export async function evolve<A> (ops: SpaceOps<A>, fitness: Fitness<A>, options?: EvolutionOptions): Promise<EvolutionResult<A>> {
  const fn = 'evolve'
  const opts = checkOptions<EvolutionOptions>(options, fn, EVOLUTION_KEYS)
  const population = positiveInteger(opts.population, 64, fn, 'population', 2)
  const generations = positiveInteger(opts.generations, 500, fn, 'generations', 0)
  const tournament = positiveInteger(opts.tournament, 2, fn, 'tournament')
  const p = opts.probabilities ?? { select: 0.5, crossover: 0.3, mutate: 0.2 }
  for (const name of ['select', 'crossover', 'mutate'] as const) {
    const v = p[name]
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`${fn}: probabilities.${name} must be in [0, 1], got ${describe(v)}`)
  }
  const total = p.select + p.crossover + p.mutate
  if (Math.abs(total - 1) > 1e-9) throw new RangeError(`${fn}: probabilities must sum to 1, got ${total}`)
  const random = new Random(opts.seed === undefined ? 0 : checkSeed(opts.seed, fn, 'seed'))

  const seen = new Map<string, Scored<A>>()
  const order: string[] = []
  const score = async (archs: A[]): Promise<Array<Scored<A>>> => {
    const fresh: A[] = []
    const freshKeys: string[] = []
    for (const arch of archs) {
      const key = ops.key(arch)
      if (!seen.has(key) && !freshKeys.includes(key)) { fresh.push(arch); freshKeys.push(key) }
    }
    if (fresh.length > 0) {
      const scores = await fitness(fresh)
      if (scores.length !== fresh.length) throw new RangeError(`${fn}: fitness returned ${scores.length} scores for ${fresh.length} architectures`)
      fresh.forEach((arch, i) => {
        if (!Number.isFinite(scores[i])) throw new RangeError(`${fn}: fitness returned ${scores[i]} for architecture ${freshKeys[i]}`)
        seen.set(freshKeys[i], { arch, key: freshKeys[i], score: scores[i] })
        order.push(freshKeys[i])
      })
    }
    return archs.map(arch => seen.get(ops.key(arch)) as Scored<A>)
  }

  const initial: A[] = []
  for (let i = 0; i < population; i++) initial.push(ops.sample(random))
  let current = survivors(await score(initial), population)
  const pick = (): A => {
    let best = current[random.int(current.length)]
    for (let t = 1; t < tournament; t++) {
      const other = current[random.int(current.length)]
      if (other.score > best.score) best = other
    }
    return best.arch
  }
  for (let g = 1; g <= generations; g++) {
    if (opts.signal?.aborted === true) throw opts.signal.reason ?? new Error(`${fn}: aborted`)
    const brood: A[] = []
    for (let i = 0; i < population; i++) {
      const r = random.float()
      if (r < p.select) brood.push(pick())
      else if (r < p.select + p.crossover) brood.push(ops.crossover(pick(), pick(), random))
      else brood.push(ops.mutate(pick(), random))
    }
    current = survivors([...current, ...await score(brood)], population)
    opts.onGeneration?.(g, current[0].score)
  }
  const rank = new Map(order.map((key, i) => [key, i]))
  const ranked = [...seen.values()].sort((a, b) => b.score - a.score || (rank.get(a.key) as number) - (rank.get(b.key) as number))
  return { ranked, evaluations: seen.size }
}

/** The best `size` distinct entries, best first (stable). */
function survivors<A> (entries: Array<Scored<A>>, size: number): Array<Scored<A>> {
  const unique = new Map<string, Scored<A>>()
  for (const e of entries) if (!unique.has(e.key)) unique.set(e.key, e)
  return [...unique.values()].sort((a, b) => b.score - a.score).slice(0, size)
}
