// --full nb201:<table> (lib/bpe/trainer-bpe.ts): f of the trainer evaluator from a NAS-Bench-201
// table the test writes — the 200-epoch val accuracy (else test) of the cells, the pool limited
// to the cells in the table, T̄_f the schedule's GFLOP, the cross-dataset label; bad
// combinations refused naming the option; a tiny real MIP run with it.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'
import { openBench } from '../lib/bench/open'
import { initTfBackend } from '../lib/models/backend'
import { openImageData } from '../lib/data/idx'
import { trainerBpe } from '../lib/bpe/trainer-bpe'
import { runMip } from '../lib/bpe/mip'
import { recordedEvaluator } from '../lib/bpe/record'
import { parseOmega } from '../lib/bpe/omega'
import { nb201 } from '../lib/spaces/nb201'

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-full-table-'))
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
const bin = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')

// 12 connected cells (every 1,000th index that is connected) and one unconnected.
const cells: number[] = []
for (let i = 7; cells.length < 12; i += 997) if (nb201.prune(nb201.fromIndex(i)).some(x => x !== 0)) cells.push(i)
const unconnected = [...Array(nb201.size).keys()].find(i => nb201.prune(nb201.fromIndex(i)).every(x => x === 0)) as number
const valOf = (i: number): number => 80 + (i % 113) / 10
const testOf = (i: number): number => 85 + (i % 71) / 10

function writeTable (name: string, columns: Array<'val_accuracy' | 'test_accuracy'>): string {
  const lines = [['arch', 'index', ...columns].join(',')]
  for (const i of [...cells, unconnected]) lines.push([nb201.format(nb201.fromIndex(i)), String(i), ...columns.map(c => (c === 'val_accuracy' ? valOf(i) : testOf(i)).toFixed(4))].join(','))
  const f = path.join(dir, name)
  fs.writeFileSync(f, lines.join('\n') + '\n')
  return f
}

const OMEGA = parseOmega('epochs=1;image=14;channels=4;layers=1;batch=64,128;lr=0.05,0.1')

t.test('f = the table\'s 200-epoch val (else test); pool = connected cells in the table; cross-dataset label', async t => {
  const { tf } = await initTfBackend({ backend: 'wasm' })
  const data = openImageData('fashion-mnist')
  const hp200 = writeTable('nb201-cifar10-hp200.csv', ['val_accuracy', 'test_accuracy'])
  const ev = trainerBpe(tf, { data, omega: OMEGA, trainImages: 100, val: 100, fullTable: await openBench(`nb201:${hp200}`) })
  t.same([...ev.pool].sort((a, b) => a - b), [...cells].sort((a, b) => a - b), 'only the table\'s connected cells')
  const archs = Int32Array.from(cells.slice(0, 4))
  const f = await ev.full(archs)
  t.same([...f.accuracy].map(x => +x.toFixed(4)), cells.slice(0, 4).map(i => +valOf(i).toFixed(4)))
  const gflop = 200 * 25000 * 3 * nb201.flops(nb201.fromIndex(cells[0])) / 1e9
  t.ok(Math.abs((f.costs as Float64Array)[0] - gflop) < 1e-9, `T̄_f of a cell = NB-201's 200-epoch schedule: ${gflop} GFLOP`)
  t.match(ev.fullLabel, /200-epoch val accuracy.*CROSS-DATASET: f is CIFAR-10 \(NB-201's training\), b is fashion-mnist-subset/)
  t.match(ev.warnings, [/--full .*CROSS-DATASET/])
  t.equal(ev.fullKey, `nb201-table:nb201:${hp200}`)
  // Without val: test.
  const testOnly = writeTable('nb201-cifar10-test-only-hp200.csv', ['test_accuracy'])
  const evt = trainerBpe(tf, { data, omega: OMEGA, trainImages: 100, val: 100, fullTable: await openBench(`nb201:${testOnly}`) })
  t.same([...(await evt.full(archs)).accuracy].map(x => +x.toFixed(4)), cells.slice(0, 4).map(i => +testOf(i).toFixed(4)))
  t.match(evt.fullLabel, /200-epoch test accuracy.*50,000-image schedule/)
  // Refusals.
  const hp12Bench = await openBench(`nb201:${writeTable('nb201-cifar10-hp12.csv', ['val_accuracy'])}`)
  const ev200 = await openBench(`nb201:${hp200}`)
  t.throws(() => trainerBpe(tf, { data, omega: OMEGA, fullTable: hp12Bench }), /has no 200-epoch schedule \(epochs 12\)/)
  t.throws(() => trainerBpe(tf, { data, omega: OMEGA, fullTable: ev200, full: { epochs: 2 } }), /--full: give either a setting .* or nb201:<table>, not both/)
  t.throws(() => trainerBpe(tf, { data, omega: OMEGA, fullTable: ev200, cost: 'seconds' }), /--full nb201:<table> with --cost seconds/)
})

t.test('a tiny real MIP run with f from the table; f is recorded under its own key', async t => {
  const { tf } = await initTfBackend({ backend: 'wasm' })
  const data = openImageData('fashion-mnist')
  const hp200 = path.join(dir, 'nb201-cifar10-hp200.csv')
  const rec = path.join(dir, 'rec')
  const ev = recordedEvaluator(trainerBpe(tf, { data, omega: OMEGA, trainImages: 100, val: 100, fullTable: await openBench(`nb201:${hp200}`) }), rec)
  const r = await runMip(ev, { archs: 3, k: 2 })
  t.ok(r.samples.length >= 2)
  t.ok(r.samples.every(s => s.rs >= -1 && s.rs <= 1))
  const rows = fs.readFileSync(path.join(rec, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l))
  t.equal(rows.filter(x => String(x.setting).startsWith('full=nb201-table:')).length, 3, 'f of |G| = 3 recorded under the table key')
})

t.test('CLI: --full nb201:<table> usage errors name the option', async t => {
  const run = (...args: string[]): ReturnType<typeof spawnSync> => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })
  const a = run('bpe', '--full', 'nb201:x.csv')
  t.not(a.status, 0); t.match(a.stderr, /--full nb201:<table> is an option of --bpe trainer/)
  const b = run('bpe', '--bpe', 'trainer', '--full', 'nb201:x.csv', '--cost', 'seconds')
  t.not(b.status, 0); t.match(b.stderr, /--full nb201:<table> with --cost seconds/)
  const c = run('bpe', '--bpe', 'trainer', '--full', `nb201:${path.join(dir, 'absent-hp200.csv')}`)
  t.not(c.status, 0); t.match(c.stderr, /--full nb201:.*absent-hp200\.csv/)
})
