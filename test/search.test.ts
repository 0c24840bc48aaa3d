import t from 'tap'
import { evolve, type SpaceOps } from '../lib/search/evolution'
import { type Random } from '../lib/random'

// A toy space: 16-bit strings; fitness = weighted count of ones (optimum: all ones).
const BITS = 16
const toy: SpaceOps<number[]> = {
  sample: (random: Random) => Array.from({ length: BITS }, () => (random.float() < 0.3 ? 1 : 0)),
  mutate: (arch, random) => { const c = [...arch]; const i = random.int(BITS); c[i] = 1 - c[i]; return c },
  crossover: (a, b, random) => a.map((v, i) => (random.float() < 0.5 ? v : b[i])),
  key: arch => arch.join('')
}
const fitness = (archs: number[][]): Float64Array => Float64Array.from(archs.map(a => a.reduce((s, v, i) => s + v * (1 + i / BITS), 0)))

t.test('evolution finds the optimum of an easy space and ranks what it saw', async t => {
  let calls = 0
  const result = await evolve(toy, archs => { calls += archs.length; return fitness(archs) }, { population: 16, generations: 60, seed: 3 })
  t.equal(result.ranked[0].key, '1'.repeat(BITS), 'optimum found')
  t.equal(result.evaluations, calls, 'each distinct architecture is scored once')
  t.equal(new Set(result.ranked.map(r => r.key)).size, result.ranked.length, 'ranked entries are distinct')
  for (let i = 1; i < result.ranked.length; i++) {
    if (result.ranked[i].score > result.ranked[i - 1].score) t.fail('ranked best first')
  }
})

t.test('evolution is deterministic by seed', async t => {
  const a = await evolve(toy, fitness, { population: 8, generations: 10, seed: 7 })
  const b = await evolve(toy, fitness, { population: 8, generations: 10, seed: 7 })
  const c = await evolve(toy, fitness, { population: 8, generations: 10, seed: 8 })
  t.same(a.ranked.map(r => r.key), b.ranked.map(r => r.key))
  t.not(a.ranked.map(r => r.key).join(), c.ranked.map(r => r.key).join())
})

t.test('generations 0 scores only the initial population; progress is reported', async t => {
  const r = await evolve(toy, fitness, { population: 5, generations: 0 })
  t.ok(r.evaluations <= 5)
  const seen: number[] = []
  await evolve(toy, fitness, { population: 4, generations: 3, onGeneration: g => seen.push(g) })
  t.same(seen, [1, 2, 3])
})

t.test('bad options and bad fitness give clear errors', async t => {
  await t.rejects(evolve(toy, fitness, { population: 1 }), /population must be an integer >= 2/)
  await t.rejects(evolve(toy, fitness, { generations: -1 }), /generations must be an integer >= 0/)
  await t.rejects(evolve(toy, fitness, { probabilities: { select: 0.5, crossover: 0.5, mutate: 0.5 } }), /must sum to 1/)
  await t.rejects(evolve(toy, fitness, { probabilities: { select: -0.1, crossover: 0.6, mutate: 0.5 } }), /probabilities.select must be in \[0, 1\]/)
  await t.rejects(evolve(toy, fitness, { popSize: 3 } as object), /unknown option 'popSize'/)
  await t.rejects(evolve(toy, archs => new Float64Array(archs.length - 1)), /fitness returned/)
  await t.rejects(evolve(toy, archs => new Float64Array(archs.length).fill(NaN)), /fitness returned NaN/)
  const controller = new AbortController()
  controller.abort(new Error('stop now'))
  await t.rejects(evolve(toy, fitness, { signal: controller.signal }), /stop now/)
})
