// `nasrank reproduce agnet`: the experiment on the shared runner (rows, report, resume), its
// plan errors, the weights files (round trip, SHA-256 and shape checks), and the built CLI.
import t, { type Test } from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { Bench } from '../lib/bench/bench'
import { synthetic201 } from '../lib/bench/synthetic'
import { synthetic101 } from '../lib/bench/synthetic'
import { Random } from '../lib/random'
import { AgNetGenerator } from '../lib/models/agnet'
import { runAgNetExperiment, AGNET_TABLES, AGNET_OUTPUTS } from '../lib/experiments/agnet'
import { CLI_AGNET_TABLES } from '../lib/experiments/agnet-args'
import { agnetLoadWeights, agnetSaveWeights, AGNET_NB201_WEIGHTS, agnet } from '../lib/search/agnet'
import { CLI_SEARCH_METHODS } from '../lib/experiments/search-args'
import { SEARCH_METHODS } from '../lib/search'

function tmp (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-agnet-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const CLI = path.resolve(__dirname, '..', 'dist', 'lib', 'cli.js')

t.test('the CLI lists match the library', async t => {
  t.same(CLI_AGNET_TABLES.map(Number), [...AGNET_TABLES])
  t.same([...CLI_SEARCH_METHODS].sort(), Object.keys(SEARCH_METHODS).sort())
  t.same([...AGNET_OUTPUTS], ['report.md', 'results.csv', 'best-so-far.svg'])
})

t.test('weights files: round trip, SHA-256 and shape are checked, errors name the file', async t => {
  const dir = tmp(t)
  const gen = new AgNetGenerator({ nodes: 8, classes: 7 }, new Random(1))
  const file = path.join(dir, 'w.json')
  const sha = agnetSaveWeights(file, gen, { made: 'test' })
  t.match(sha, /^[0-9a-f]{64}$/)
  const back = agnetLoadWeights(file, gen.shape)
  t.same(back.params.map(p => Array.from(p.data)), gen.params.map(p => Array.from(p.data)))
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'))
  const tampered = path.join(dir, 'tampered.json')
  const bytes = Buffer.from(doc.data, 'base64'); bytes[10] ^= 1
  fs.writeFileSync(tampered, JSON.stringify({ ...doc, data: bytes.toString('base64') }))
  t.throws(() => agnetLoadWeights(tampered, gen.shape), new RegExp(`${tampered.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the weights' SHA-256`))
  t.throws(() => agnetLoadWeights(file, { nodes: 7, classes: 5 }), /holds weights for 8 nodes × 7 classes, the space needs 7 × 5/)
  t.throws(() => agnetLoadWeights(path.join(dir, 'missing.json'), gen.shape), /cannot read the weights file .*missing.json/)
  fs.writeFileSync(path.join(dir, 'other.json'), '{"format":"x"}')
  t.throws(() => agnetLoadWeights(path.join(dir, 'other.json'), gen.shape), /is not an AG-Net weights file/)
  t.ok(fs.existsSync(AGNET_NB201_WEIGHTS), 'the shipped NB-201 weights are in the package')
  t.equal(agnetLoadWeights(AGNET_NB201_WEIGHTS, gen.shape).parameterCount, 42474)
  t.equal(agnet().settings.weights, 'shipped', 'the shipped weights are the default')
  t.equal(agnet({ pretrainSteps: 10 }).settings.weights, null, 'asking for pretraining turns them off')
})

t.test('Tables 2 and 6 on synthetic-201: rows, report, resume, plan errors', async t => {
  const out = tmp(t)
  const bench = new Bench(synthetic201())
  const plan = { bench, tables: [2, 6] as Array<2 | 6>, seeds: 1, budget: 32, baselines: ['rs'], agnet: { epochs: 1, lr: 1e-4 }, out }
  const first = await runAgNetExperiment(plan)
  t.equal(first.ran, 4, 'agnet, no-lso, no-backprop, rs × 1 seed')
  t.equal(first.partial, false)
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
  t.same([...new Set(rows.map(r => r.method))].sort(), ['agnet', 'no-backprop', 'no-lso', 'rs'])
  t.same([...new Set(rows.map(r => r.queries))].sort((a, b) => a - b), [16, 32], 'a row per iteration of 16')
  for (const r of rows) t.ok(r.queried <= 32)
  const report = fs.readFileSync(first.reportFile, 'utf8')
  t.match(report, /SYNTHETIC/)
  t.match(report, /## Table 2/)
  t.match(report, /## Table 6/)
  t.ok(fs.existsSync(path.join(out, 'best-so-far.svg')))
  const again = await runAgNetExperiment(plan)
  t.equal(again.ran, 0, 'resumed: nothing recomputed')
  t.equal(again.skipped, 4)

  await t.rejects(runAgNetExperiment({ ...plan, budget: 40 }), /--budget 40 must be 16 \+ m·16/)
  await t.rejects(runAgNetExperiment({ ...plan, tables: [5 as never] }), /--table must be among 2, 6/)
  await t.rejects(runAgNetExperiment({ ...plan, baselines: ['nope'] }), /unknown baseline 'nope'/)
  await t.rejects(runAgNetExperiment({ ...plan, agnet: { alpha: 2 } }), /settings.alpha/)
  await t.rejects(runAgNetExperiment({ ...plan, bench: new Bench(await synthetic101()), out: tmp(t) }), /run on NAS-Bench-201/)
})

t.test('the built CLI: help, usage errors (exit 2)', { skip: fs.existsSync(CLI) ? false : 'dist/ not built' }, async t => {
  const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
  const help = run('reproduce', 'agnet', '--help')
  t.equal(help.status, 0)
  t.match(String(help.stdout), /--pretrain-steps/)
  t.equal(run('reproduce', 'agnet', '--budget', '40').status, 2)
  t.match(String(run('reproduce', 'agnet', '--budget', '40').stderr), /--budget must be 16 \+ m·16/)
  const wrong = run('reproduce', 'agnet', '--bench', 'synthetic-101')
  t.equal(wrong.status, 2)
  t.match(String(wrong.stderr), /--bench: AG-Net's Tables 2 and 6 run on NAS-Bench-201/)
  t.equal(run('reproduce', 'agnet', '--table', '3').status, 2)
  t.equal(run('reproduce', 'agnet', '--weights', '/nonexistent/w.json').status, 2)
  t.match(String(help.stdout), /--candidate-z/)
  const z = run('reproduce', 'agnet', '--candidate-z', 'cauchy')
  t.equal(z.status, 2)
  t.match(String(z.stderr), /--candidate-z/)
  const dir = tmp(t)
  const file = path.join(dir, 'w.json')
  const pre = run('agnet', 'pretrain', '--steps', '2', '--seed', '3', '--out', file)
  t.equal(pre.status, 0, String(pre.stderr))
  t.match(String(pre.stdout), /42474 parameters, sha256 [0-9a-f]{64}/)
  t.equal(agnetLoadWeights(file, { nodes: 8, classes: 7 }).parameterCount, 42474)
  t.equal(JSON.parse(fs.readFileSync(file, 'utf8')).meta.steps, 2)
  t.equal(run('agnet', 'pretrain', '--space', 'nb101', '--out', file).status, 2)
})
