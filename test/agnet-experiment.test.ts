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
  await t.rejects(runAgNetExperiment({ ...plan, tables: [5 as never] }), /--table must be among 1, 2, 6/)
  await t.rejects(runAgNetExperiment({ ...plan, baselines: ['nope'] }), /unknown baseline 'nope'/)
  await t.rejects(runAgNetExperiment({ ...plan, agnet: { alpha: 2 } }), /settings.alpha/)
  await t.rejects(runAgNetExperiment({ ...plan, bench: new Bench(await synthetic101()), out: tmp(t) }), /Table 2 runs on NAS-Bench-201/)
  await t.rejects(runAgNetExperiment({ ...plan, tables: [1], out: tmp(t) }), /Table 1 runs on NAS-Bench-101/)
  await t.rejects(runAgNetExperiment({ ...plan, tables: [6], top1: true, out: tmp(t) }), /--top-k 1 adds a row to Table 1 or 2/)
})

t.test('the top-1 row: one query per iteration, 100 queries, beside Table 2', async t => {
  const out = tmp(t)
  const bench = new Bench(synthetic201())
  const r = await runAgNetExperiment({ bench, tables: [2], top1: true, seeds: 1, budget: 32, baselines: ['rs'], agnet: { epochs: 1, candidates: 5, lr: 1e-4 }, out })
  t.equal(r.ran, 3, 'agnet, agnet-top1, rs')
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
  const top = rows.filter(x => x.method === 'agnet-top1')
  t.same(top.map(x => x.queries), [16, 32, 48, 64, 80, 96, 100], 'checkpoints every 16, then 100')
  t.equal(top[0].settings.k, 1)
  t.equal(top[top.length - 1].queried, 100, 'the budget is spent')
  t.equal(top[top.length - 1].budget, 100)
  t.ok(rows.filter(x => x.method === 'agnet').every(x => x.budget === 32), 'the other methods keep --budget')
  t.match(fs.readFileSync(r.reportFile, 'utf8'), /### AG-Net, top-1 \(one query per iteration\), 100 queries/)
})

t.test('Table 1 on synthetic-101: AG-Net beside the baselines, the NB-101 generator from --out, resume', async t => {
  const out = tmp(t)
  const bench = new Bench(await synthetic101())
  const plan = { bench, tables: [1] as Array<1>, seeds: 1, budget: 32, baselines: ['rs', 're'], agnet: { epochs: 1, pretrainSteps: 20 }, out }
  const first = await runAgNetExperiment(plan)
  t.equal(first.ran, 3, 'agnet, rs, re × 1 seed')
  t.ok(fs.existsSync(path.join(out, 'agnet-pretrained-nb101-steps20-seed0.json')), 'the NB-101 generator is written to --out')
  t.equal(agnetLoadWeights(path.join(out, 'agnet-pretrained-nb101-steps20-seed0.json'), { nodes: 7, classes: 5 }).parameterCount, 42344)
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
  t.same([...new Set(rows.map(r => r.method))].sort(), ['agnet', 're', 'rs'])
  for (const r of rows) t.equal(r.dataset, 'synthetic')
  t.equal(Math.max(...rows.filter(r => r.method === 'agnet').map(r => r.queried)), 32, 'the budget is spent')
  const report = fs.readFileSync(first.reportFile, 'utf8')
  t.match(report, /## Table 1 \(NAS-Bench-101\)/)
  t.notMatch(report, /## Table 2/)
  t.equal((await runAgNetExperiment(plan)).ran, 0, 'resumed')
})

t.test('the built CLI: help, usage errors (exit 2)', { skip: fs.existsSync(CLI) ? false : 'dist/ not built' }, async t => {
  const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
  const help = run('reproduce', 'agnet', '--help')
  t.equal(help.status, 0)
  t.match(String(help.stdout), /--pretrain-steps/)
  t.equal(run('reproduce', 'agnet', '--budget', '40').status, 2)
  t.match(String(run('reproduce', 'agnet', '--budget', '40').stderr), /--budget must be 16 \+ m·16/)
  const wrong = run('reproduce', 'agnet', '--bench', 'synthetic-101', '--table', '2')
  t.equal(wrong.status, 2)
  t.match(String(wrong.stderr), /--table 2 runs on NAS-Bench-201/)
  t.match(String(run('reproduce', 'agnet', '--table', '1').stderr), /--table 1 runs on NAS-Bench-101/)
  t.match(String(run('reproduce', 'agnet', '--bench', 'nb301:x').stderr), /Tables 1 and 6 on NAS-Bench-101/)
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
  t.equal(run('agnet', 'pretrain', '--space', 'nb301', '--out', file).status, 2)
  t.match(String(run('reproduce', 'agnet', '--quick', '--table', '2').stderr), /--quick runs its own plan/)
  t.match(String(run('reproduce', 'agnet', '--top-k', '2').stderr), /--top-k takes 1/)
  t.match(String(run('reproduce', 'agnet', '--top-k', '1', '--table', '5').stderr), /--top-k 1 adds a row to Table 1 or 2/)
  t.match(String(run('reproduce', 'agnet', '--quick', '--bench', 'synthetic-101').stderr), /--quick runs on synthetic-201 and synthetic-101/)
  const pre101 = run('agnet', 'pretrain', '--space', 'nb101', '--steps', '2', '--out', file)
  t.equal(pre101.status, 0, String(pre101.stderr))
  t.match(String(pre101.stdout), /42344 parameters/)
  t.equal(JSON.parse(fs.readFileSync(file, 'utf8')).meta.space, 'nb101')
})

t.test('--quick smoke (shortened: 1 seed, 32 queries, 1 epoch): the three parts and their reports', { skip: fs.existsSync(CLI) ? false : 'dist/ not built' }, async t => {
  const out = tmp(t)
  const r = spawnSync(process.execPath, [CLI, 'reproduce', 'agnet', '--quick', '--seeds', '1', '--budget', '32', '--epochs', '1', '--out', out], { encoding: 'utf8' })
  t.equal(r.status, 0, String(r.stderr))
  for (const part of ['nb201', 'nb101', 'table5']) t.ok(fs.existsSync(path.join(out, part, 'report.md')), `${part}/report.md`)
  t.match(r.stdout, /## Table 2/)
  t.match(r.stdout, /## Table 6/)
  t.match(r.stdout, /## Table 1 \(NAS-Bench-101\)/)
  t.match(r.stdout, /flops column as a proxy/)
  const rows = fs.readFileSync(path.join(out, 'nb101', 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
  t.equal(rows.find(x => x.method === 'agnet').settings.weights, 'shipped', 'the shipped NB-101 generator')
  t.equal(rows.find(x => x.method === 'agnet').settings.epochs, 1)
})
