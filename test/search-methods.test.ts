// The baselines against slow, obvious re-implementations (same seeded draws, architectures as
// strings), the row space, the path encodings (against brute-force path enumeration), the MLP,
// synthetic-101 end to end for every method, and the exporter's tables opened as one bench.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { Bench } from '../lib/bench/bench'
import { openBench } from '../lib/bench/open'
import { synthetic201 } from '../lib/bench/synthetic'
import { Random } from '../lib/random'
import { Mlp } from '../lib/models/mlp'
import { runSearch, searchMethod, benchSpace, SEARCH_METHODS } from '../lib/search/index'
import { nb201, NB201_OPS } from '../lib/spaces/nb201'
import * as nb101 from '../lib/spaces/nb101'
import { nb101PathEncoding, nb201PathEncoding, NB101_PATHS, NB201_PATHS } from '../lib/encode/path'

const bench = new Bench(synthetic201()) // rows = nasrank index order
const VAL = bench.column({ metric: 'val' })
const valOf = (arch: string): number => VAL[nb201.index(arch)]

/** Uniform draws without replacement by rejection, as the methods document. */
function drawNew (random: Random, seen: Set<string>): string {
  for (;;) { const a = nb201.format(nb201.fromIndex(random.int(nb201.size))); if (!seen.has(a)) return a }
}

/** Aging evolution written plainly: string architectures, one edge to another op, S distinct members. */
function referenceRE (seed: number, budget: number, P = 10, S = 3): string[] {
  const random = new Random(seed)
  const history: string[] = []
  const seen = new Set<string>()
  const query = (a: string): void => { history.push(a); seen.add(a) }
  const population: string[] = []
  while (population.length < P && history.length < budget) { const a = drawNew(random, seen); query(a); population.push(a) }
  while (history.length < budget) {
    const positions = population.map((_, i) => i)
    let parent: string | null = null
    for (let k = 0; k < S; k++) {
      const j = k + random.int(positions.length - k);
      [positions[j], positions[k]] = [positions[k], positions[j]]
      const member = population[positions[k]]
      if (parent === null || valOf(member) > valOf(parent)) parent = member
    }
    const codes = nb201.parse(parent as string)
    const e = random.int(6)
    codes[e] = (codes[e] + 1 + random.int(4)) % 5
    const child = nb201.format(codes)
    if (seen.has(child)) continue
    query(child)
    population.push(child)
    population.shift()
  }
  return history
}

/** NASLib's local search written plainly. */
function referenceLS (seed: number, budget: number, init = 10): string[] {
  const random = new Random(seed)
  const history: string[] = []
  const seen = new Set<string>()
  const query = (a: string): number => { if (!seen.has(a)) { history.push(a); seen.add(a) } return valOf(a) }
  let best = ''
  for (let i = 0; i < init; i++) { const a = drawNew(random, seen); query(a); if (best === '' || valOf(a) > valOf(best)) best = a }
  let chosen = best
  const neighbours = (a: string): string[] => {
    const batch = nb201.neighbors(a)
    return Array.from({ length: batch.length / 6 }, (_, k) => nb201.format(batch.subarray(6 * k, 6 * k + 6)))
  }
  let nbhd = random.shuffle(neighbours(chosen))
  while (history.length < budget) {
    if (nbhd.length === 0) {
      if (valOf(best) > valOf(chosen)) chosen = best
      else { const a = drawNew(random, seen); query(a); chosen = best = a }
      nbhd = random.shuffle(neighbours(chosen))
      continue
    }
    const n = nbhd.pop() as string
    if (query(n) > valOf(best)) best = n
  }
  return history
}

t.test('aging evolution and local search match their plain re-implementations query for query', async t => {
  for (const seed of [0, 1, 7]) {
    for (const [name, reference] of [['re', referenceRE], ['ls', referenceLS]] as const) {
      const r = await runSearch(searchMethod(name), bench, { budget: 150, seed, checkpoints: Array.from({ length: 150 }, (_, i) => i + 1) })
      const expected = reference(seed, 150)
      // The incumbent after every query pins the trajectory's values; the replay pins the order.
      let best = expected[0]
      const incumbents = expected.map(a => { if (valOf(a) > valOf(best)) best = a; return best })
      t.same(r.checkpoints.map(c => c.arch), incumbents, `${name} seed ${seed}`)
    }
  }
})

t.test('aging evolution: every query after the population is a one-edge mutant of an earlier one; replacement draws differ', async t => {
  const m = searchMethod('re')
  const traj = await m.run({ bench, budget: 120, seed: 4, metric: 'val' })
  t.equal(new Set(traj.rows).size, 120)
  for (let k = 10; k < 120; k++) {
    const child = nb201.fromIndex(traj.rows[k])
    const ok = Array.from(traj.rows.subarray(Math.max(0, k - 200), k)).some(p => nb201.fromIndex(p).reduce((d, c, e) => d + (c === child[e] ? 0 : 1), 0) === 1)
    if (!ok) { t.fail(`query ${k} is no mutant`); break }
  }
  const withReplacement = await searchMethod('re', { replacement: true }).run({ bench, budget: 120, seed: 4, metric: 'val' })
  t.not(Array.from(withReplacement.rows).join(), Array.from(traj.rows).join())
  // Population 1, sample 1: a pure hill-free random walk of mutations; still distinct queries.
  const walk = await searchMethod('re', { population: 1, sample: 1 }).run({ bench, budget: 50, seed: 2, metric: 'val' })
  t.equal(new Set(walk.rows).size, 50)
})

t.test('random search is uniform without replacement: each row equally often', async t => {
  const small = new Bench({ ...synthetic201(), size: 40, archs: nb201.all().subarray(0, 240) })
  const counts = new Array(40).fill(0)
  const m = searchMethod('rs')
  let distinct = true
  for (let seed = 0; seed < 2000; seed++) {
    small.resetQueries()
    const tr = await m.run({ bench: small, budget: 5, seed, metric: 'val' })
    distinct &&= new Set(tr.rows).size === 5
    counts[tr.rows[0]]++
  }
  t.ok(distinct, 'draws are distinct')
  // First draws: 2000 / 40 = 50 each; chi-square with 39 d.o.f. below its 99.9% point (72.1).
  const chi = counts.reduce((s, c) => s + (c - 50) ** 2 / 50, 0)
  t.ok(chi < 72.1, `chi-square ${chi.toFixed(1)}`)
})

t.test('the NB-201 row space: mutants and the 24 neighbours differ in exactly one edge', async t => {
  const space = benchSpace(bench)
  t.equal(benchSpace(bench), space, 'cached per bench')
  const random = new Random(3)
  for (let trial = 0; trial < 200; trial++) {
    const row = random.int(bench.size)
    const child = space.mutate(row, random)
    const a = nb201.fromIndex(row)
    const b = nb201.fromIndex(child)
    t.equal(a.reduce((d, c, e) => d + (c === b[e] ? 0 : 1), 0), 1)
  }
  const nb = space.neighbors(123)
  t.same(nb, Array.from({ length: 24 }, (_, k) => nb201.index(nb201.neighbors(nb201.fromIndex(123)).subarray(6 * k, 6 * k + 6))))
})

// All op sequences of 1…3 non-none ops, the order fixed here independently of lib/encode/path.
const NB201_SEQS: string[] = []
for (let len = 1; len <= 3; len++) {
  const ops = NB201_OPS.slice(1)
  const walk = (prefix: string[]): void => { if (prefix.length === len) { NB201_SEQS.push(prefix.join('>')); return } for (const o of ops) walk([...prefix, o]) }
  walk([])
}

t.test('NB-201 path encoding = the set of op sequences along input→output paths', async t => {
  t.equal(NB201_PATHS, 84)
  const random = new Random(5)
  for (let trial = 0; trial < 300; trial++) {
    const arch = nb201.fromIndex(random.int(nb201.size))
    const names = Array.from(arch, c => NB201_OPS[c])
    // Edges (0,1) (0,2) (1,2) (0,3) (1,3) (2,3): routes 0→3, 0→1→3, 0→2→3, 0→1→2→3.
    const routes = [[3], [0, 4], [1, 5], [0, 2, 5]]
    const expected = new Set(routes.filter(r => r.every(e => names[e] !== 'none')).map(r => r.map(e => names[e]).join('>')))
    const enc = nb201PathEncoding(arch)
    t.equal(enc.length, 84)
    // Feature k is sequence NB201_SEQS[k] (by length, then first op most significant).
    const got = new Set(NB201_SEQS.filter((_, k) => enc[k] === 1))
    t.same([...got].sort(), [...expected].sort(), nb201.format(arch))
  }
  // Two architectures with the same sequence set encode alike; different sets differ.
  const a = nb201.parse('|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|')
  const b = nb201.parse('|none~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|skip_connect~2|')
  t.same(nb201PathEncoding(a), nb201PathEncoding(b), 'conv3x3>skip via node 1 or via node 2')
  t.notSame(nb201PathEncoding(a), nb201PathEncoding(nb201.parse('|skip_connect~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|')), 'order along the path matters')
  t.throws(() => nb201PathEncoding(new Uint8Array(5)), /not a multiple of 6/)
})

t.test('NB-101 path encoding: one feature per distinct op sequence along input→output paths', async t => {
  t.equal(NB101_PATHS, 364)
  const random = new Random(9)
  const specs = Array.from({ length: 200 }, () => nb101.randomSpec(random))
  const enc = nb101PathEncoding(nb101.toCells(specs))
  specs.forEach((spec, k) => {
    const v = spec.ops.length
    const seqs = new Set<string>()
    const dfs = (u: number, seq: string[]): void => {
      for (let w = u + 1; w < v; w++) {
        if (spec.matrix[u][w] !== 1) continue
        if (w === v - 1) seqs.add(seq.join('>'))
        else dfs(w, [...seq, spec.ops[w]])
      }
    }
    dfs(0, [])
    const row = enc.subarray(k * 364, k * 364 + 364)
    t.equal(row.reduce((s, x) => s + x, 0), seqs.size)
    // Path lengths: the feature block of length L holds exactly the sequences of L interior ops.
    const blocks = [0, 1, 4, 13, 40, 121, 364]
    for (let L = 0; L <= 5; L++) {
      const inBlock = row.subarray(blocks[L], blocks[L + 1]).reduce((s, x) => s + x, 0)
      t.equal(inBlock, [...seqs].filter(s => (s === '' ? 0 : s.split('>').length) === L).length)
    }
  })
  t.throws(() => nb101PathEncoding(null as never), /cells must be/)
})

t.test('the MLP learns, is deterministic by seed, and validates its options', async t => {
  const d = 30
  const n = 80
  const random = new Random(1)
  const w = Array.from({ length: d }, () => random.normal())
  const x = new Float64Array(n * d)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 4; k++) x[i * d + random.int(d)] = 1
    for (let k = 0; k < d; k++) y[i] += w[k] * x[i * d + k]
  }
  const mean = y.reduce((s, v) => s + v, 0) / n
  const baseline = y.reduce((s, v) => s + Math.abs(v - mean), 0) / n
  const net = new Mlp(d, { layers: 3, width: 20, epochs: 150 })
  net.fit(x, y, new Random(2))
  const pred = net.predict(x, n)
  const mae = pred.reduce((s, p, i) => s + Math.abs(p - y[i]), 0) / n
  t.ok(mae < 0.2 * baseline, `training MAE ${mae.toFixed(3)} vs ${baseline.toFixed(3)} for the mean`)
  const again = new Mlp(d, { layers: 3, width: 20, epochs: 150 })
  again.fit(x, y, new Random(2))
  t.same(again.predict(x, n), pred, 'same seed, same net')
  const mse = new Mlp(d, { layers: 2, epochs: 100, loss: 'mse', batchSize: 7 })
  mse.fit(x, y, new Random(3))
  t.ok(mse.predict(x, n).reduce((s, p, i) => s + (p - y[i]) ** 2, 0) / n < 0.3 * y.reduce((s, v) => s + (v - mean) ** 2, 0) / n)
  t.throws(() => new Mlp(0), /inputs must be an integer >= 1/)
  t.throws(() => new Mlp(3, { width: 0 }), /width must be an integer >= 1/)
  t.throws(() => new Mlp(3, { lr: -1 }), /lr must be a positive finite number/)
  t.throws(() => new Mlp(3, { loss: 'huber' as never }), /loss must be 'mae' or 'mse'/)
  t.throws(() => new Mlp(3, { depth: 3 } as never), /unknown option 'depth'/)
  t.throws(() => net.fit(new Float64Array(5), y, new Random(0)), /x has 5 values, expected 80 rows × 30/)
})

t.test('synthetic-101: every method runs end to end on NAS-Bench-101 rows', async t => {
  const b101 = await openBench('synthetic-101')
  const space = benchSpace(b101)
  const random = new Random(4)
  const row = random.int(b101.size)
  const nb = space.neighbors(row)
  t.ok(nb.length > 0 && !nb.includes(row) && new Set(nb).size === nb.length, 'distinct neighbours')
  const child = space.mutate(row, random)
  t.ok(child >= 0 && child !== row, 'a mutant in the bench')
  for (const name of Object.keys(SEARCH_METHODS)) {
    // agnet: the shipped NB-101 generator, 2 retraining epochs (test time).
    const settings = name === 'bananas' ? { epochs: 50 } : name === 'sampling' ? { sampler: 'ev', width: 8, epochs: 10 } : name === 'agnet' ? { epochs: 2 }
      : name === 'ctnas' ? { iterations: 30, pretrainEpochs: 10, exploreEvery: 10, explorePairs: 16, exploreKeep: 8, baselineEvery: 10, hidden: 8, topK: 3 } : undefined
    const r = await runSearch(searchMethod(name, settings), b101, { budget: 30, seed: 1, checkpoints: [10, 30] })
    t.equal(r.queried, 30, `${name} spends its budget`)
    t.ok(r.checkpoints[1].val >= r.checkpoints[0].val, `${name}: the incumbent never gets worse`)
    t.match(r.checkpoints[1].arch, /^[0-9a-f]{32}$/, `${name}: arch is the module hash`)
  }
})

const python = ['python3', 'python'].find(exe => spawnSync(exe, ['-c', 'import csv, argparse'], { encoding: 'utf8' }).status === 0)

t.test('the exporter\'s tables (self-test API, hp 12 and 200) open as one bench per dataset', { skip: !python && 'no python3 on PATH' }, async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-export-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const tool = path.join(__dirname, '..', 'tools', 'export_nb201.py')
  for (const hp of ['12', '200']) t.equal(spawnSync(python as string, [tool, '--self-test', dir, '--hp', hp], { encoding: 'utf8' }).status, 0)
  const c10 = await openBench(`nb201:${dir}`, { dataset: 'cifar10' })
  t.same(c10.epochs, [12, 200])
  t.same(c10.metrics, ['train', 'val', 'test'], 'CIFAR-10 has val (from cifar10-valid) as the shared tables')
  t.equal(c10.size, 25)
  t.ok(c10.costs.includes('train_time') && c10.costs.includes('train_time_hp12'), 'budget-dependent costs of smaller budgets are suffixed')
  const r = await runSearch(searchMethod('re'), c10, { budget: 12, seed: 0, epochs: 12 })
  t.equal(r.queried, 12)
  await t.rejects(openBench(`nb201:${path.join(dir, 'nb201-cifar10-hp12.csv')},${path.join(dir, 'x.csv')}`), /must be named nb201-<dataset>-hp<hp>\.csv or \.arrow/)
  await t.rejects(openBench(`nb201:${path.join(dir, 'nb201-cifar10-hp12.csv')},${path.join(dir, 'nb201-cifar10-hp12.csv')}`), /are both dataset cifar10 at hp 12/)
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-empty-'))
  t.teardown(() => fs.rmSync(empty, { recursive: true, force: true }))
  await t.rejects(openBench(`nb201:${empty}`), /holds no nb201-<dataset>-hp<hp>\.csv or \.arrow table/)
})
