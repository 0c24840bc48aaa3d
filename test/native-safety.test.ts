// The native boundary under hostile callers (tracker issue 13): worker threads terminated
// mid-call, getters and Proxies that detach or rewrite arrays the addon already read,
// SharedArrayBuffers rewritten by another thread, resource limits, and the messages of all
// of these. Anything that could abort or crash the process runs in a child `node`, so a
// crash is a failed exit code here rather than the end of tap.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'
import {
  comparatorProbability, forestFit, forestHold, forestPredict, gcnCompare, gcnEmbed, gcnScore, gcnScoreAsync, kendallTau, kendallTauAsync,
  nb101, pairwiseRankLoss, sampleEfficiencyGain, sampleEfficiencyGainAsync, setThreads, spearman
} from '../lib/index'
import { addon } from '../lib/native'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fx = require('./fixtures/native-calls.js') as {
  calls(N: unknown, n: number): Record<string, () => Promise<unknown>>
  graphs(count: number, V?: number, F?: number): { count: number; vertices: number; features: number; adjacency: Float32Array; x: Float32Array; mask: Float32Array }
  gcnWeights(F?: number, H?: number): { layers: Array<{ w: Float32Array; b: Float32Array }>; fc: { w: Float32Array; b: Float32Array } }
  head(D?: number, H?: number): { layers: Array<{ w: Float32Array; b: Float32Array }>; out: { w: Float32Array; b: Float32Array } }
}

const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist', 'lib', 'index.js')
const fixtures = path.join(__dirname, 'fixtures')

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

function detach (buffer: ArrayBufferLike): void {
  structuredClone(buffer, { transfer: [buffer as ArrayBuffer] })
}

function node (args: string[], options: { ulimitKb?: number; timeout?: number } = {}) {
  const cmd = options.ulimitKb
    ? spawnSync('bash', ['-c', `ulimit -v ${options.ulimitKb} && exec "$0" "$@"`, process.execPath, ...args], { encoding: 'utf8', timeout: options.timeout ?? 120_000 })
    : spawnSync(process.execPath, args, { encoding: 'utf8', timeout: options.timeout ?? 120_000 })
  return { status: cmd.status, signal: cmd.signal, out: `${cmd.stdout}${cmd.stderr}` }
}

// ---- 1. worker threads terminated while an …Async call is in flight ----------------------

t.test('terminating a worker with an async call in flight does not abort the process', async t => {
  const names = Object.keys(fx.calls(null, 0))
  t.ok(names.length >= 14, 'every async entry point is covered')
  for (const name of names) {
    const r = node([path.join(fixtures, 'native-calls.js'), dist, name])
    t.equal(r.status, 0, `${name}: the process exits normally (signal ${r.signal})`)
    t.notMatch(r.out, /terminate called/, `${name}: no std::terminate`)
    t.match(r.out, `${name}: worker exited`)
  }
})

t.test('terminating a worker inside synchronous calls (results being created, errors being thrown) does not abort the process', async t => {
  // Found by the SIGINT stress test of reproduce renas --jobs 2 (test/cli-interrupt.test.ts).
  for (const name of ['kendallTau', 'spearman', 'pairwiseRankLoss', 'tripletRankLoss', 'gcnScore', 'forestFit', 'nb101.hashBatch', 'throws a TypeError']) {
    const r = node([path.join(fixtures, 'sync-terminate.js'), dist, name])
    t.equal(r.status, 0, `${name}: the process exits normally (signal ${r.signal})`)
    t.notMatch(r.out, /terminate called/, `${name}: no std::terminate`)
    t.match(r.out, `${name}: survived`)
  }
})

// ---- 2. getters that detach or rewrite arrays the addon already took ---------------------

function flatForest () {
  const x = Float32Array.from({ length: 200 }, (_, i) => (i * 37 % 101) / 101)
  const y = Float64Array.from({ length: 100 }, (_, i) => x[2 * i] * 3 + x[2 * i + 1])
  return forestFit(x, y, 2, { trees: 4, seed: 7 })
}

t.test('a forest getter that detaches an array read before it: refused, not read after free', async t => {
  const base = flatForest()
  const keys = ['sizes', 'feature', 'left', 'right', 'threshold', 'value'] as const
  for (const victim of keys.slice(0, -1)) {
    const later = keys[keys.indexOf(victim) + 1]
    const f: Record<string, unknown> = { columns: 2 }
    for (const k of keys) f[k] = (base[k] as Int32Array | Float64Array).slice()
    Object.defineProperty(f, later, {
      get () { detach((f[victim] as Int32Array).buffer); gc(); return (base[later] as Int32Array | Float64Array).slice() }
    })
    t.throws(() => addon.forestPredict(f as never, new Float32Array([0.5, 0.5]), 2, 'mean', 1), { name: 'TypeError', message: `forestPredict: forest.${victim} is detached` },
      `forestPredict: ${later} detaches ${victim}`)
  }
  const f: Record<string, unknown> = { columns: 2 }
  for (const k of keys) f[k] = (base[k] as Int32Array | Float64Array).slice()
  Object.defineProperty(f, 'value', { get () { detach((f.feature as Int32Array).buffer); gc(); return base.value.slice() } })
  t.throws(() => addon.forestHold(f as never, 2), { name: 'TypeError', message: 'forestHold: forest.feature is detached' })
})

t.test('the audit reproducer: 32 MB forest arrays detached by a getter (SIGSEGV before)', async t => {
  const code = `
    require('v8').setFlagsFromString('--expose-gc'); const gc = require('vm').runInNewContext('gc')
    const { addon } = require(${JSON.stringify(path.join(root, 'dist', 'lib', 'native.js'))})
    const n = 1 << 23, f = { columns: 1, sizes: new Int32Array(n).fill(1), feature: new Int32Array(n).fill(-1),
      left: new Int32Array(n).fill(-1), right: new Int32Array(n).fill(-1), threshold: new Float64Array(n),
      get value () { structuredClone(f.feature.buffer, { transfer: [f.feature.buffer] }); gc(); return new Float64Array(n) } }
    try { addon.forestPredict(f, new Float32Array([0]), 1, 'mean', 1) } catch (e) { console.log(e.name + ': ' + e.message) }`
  const r = node(['-e', code])
  t.equal(r.status, 0, `exits normally (signal ${r.signal})`)
  t.match(r.out, 'TypeError: forestPredict: forest.feature is detached')
})

t.test('raw forestFit: a params getter detaching x is refused', async t => {
  const x = new Float32Array(20).fill(1)
  const y = new Float64Array(10).fill(1)
  const params = { maxFeatures: 2, minSamplesSplit: 2, minSamplesLeaf: 1, maxDepth: 0, bootstrap: false, seed: 1, get trees () { detach(x.buffer); gc(); return 3 } }
  t.throws(() => addon.forestFit(x, y, 2, params, 1), { name: 'TypeError', message: 'forestFit: x is detached' })
})

t.test('GCN and comparator: getters that detach or rewrite an earlier array', async t => {
  // weights.layers detaches graphs.x, which the old addon had already taken and checked.
  for (const [name, fn] of [['gcnScore', gcnScore], ['gcnEmbed', gcnEmbed]] as const) {
    const g = fx.graphs(3)
    const w = fx.gcnWeights()
    const hostile = { fc: w.fc, get layers () { detach(g.x.buffer); gc(); return w.layers } }
    t.throws(() => fn(g, hostile as never), { name: 'TypeError', message: `${name}: graphs.x is detached` }, `${name}: detached`)
    // A getter that writes NaN into an array checked before it: the check must see it.
    const g2 = fx.graphs(3)
    const sneaky = { fc: w.fc, get layers () { g2.x[4] = NaN; return w.layers } }
    t.throws(() => fn(g2, sneaky as never), { name: 'RangeError', message: `${name}: graphs.x[4] is NaN; values must be finite` }, `${name}: rewritten`)
  }
  // layers[0].w's getter detaches graphs.mask.
  const g = fx.graphs(3)
  const w = fx.gcnWeights()
  const layer0 = { b: w.layers[0].b, get w () { detach(g.mask.buffer); gc(); return w.layers[0].w } }
  t.throws(() => gcnScore(g, { layers: [layer0, w.layers[1]], fc: w.fc } as never), { name: 'TypeError', message: 'gcnScore: graphs.mask is detached' })
  // Async: the same, and the promise rejects instead of the worker reading freed memory.
  const g3 = fx.graphs(3)
  const hostile = { fc: w.fc, get layers () { detach(g3.adjacency.buffer); gc(); return w.layers } }
  await t.rejects(gcnScoreAsync(g3, hostile as never), { name: 'TypeError', message: 'gcnScoreAsync: graphs.adjacency is detached' })
  // comparatorProbability: head.out's getter detaches embA (read first by the old addon).
  const h = fx.head()
  const embA = new Float32Array(16).fill(0.25)
  const embB = new Float32Array(8).fill(0.5)
  const hh = { layers: h.layers, get out () { detach(embA.buffer); gc(); return h.out } }
  t.throws(() => comparatorProbability(embA, embB, hh as never), { name: 'TypeError', message: 'comparatorProbability: embA is detached' })
  // A Proxy is read through its traps once, and computes the same as the plain object.
  const g4 = fx.graphs(5)
  const plain = gcnScore(g4, w)
  t.same(gcnScore(new Proxy(g4, {}), new Proxy(w, {})), plain, 'Proxy arguments give the same scores')
})

// ---- 3. SharedArrayBuffer inputs -----------------------------------------------------------

function sharedCopy<T extends Float64Array | Float32Array | Int32Array> (a: T): T {
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T
  const out = new Ctor(new SharedArrayBuffer(a.byteLength))
  out.set(a as never)
  return out
}

t.test('shared inputs compute the same as plain ones (they are copied first)', async t => {
  const x = Float64Array.from({ length: 500 }, (_, i) => Math.sin(i))
  const y = Float64Array.from({ length: 500 }, (_, i) => Math.cos(i * 1.3))
  t.equal(kendallTau(sharedCopy(x), sharedCopy(y)), kendallTau(x, y))
  t.equal(spearman(sharedCopy(x), sharedCopy(y)), spearman(x, y))
  t.same(pairwiseRankLoss(sharedCopy(x), sharedCopy(y)), pairwiseRankLoss(x, y))
  const f = flatForest()
  const sf = { ...f, sizes: sharedCopy(f.sizes), feature: sharedCopy(f.feature), left: sharedCopy(f.left), right: sharedCopy(f.right), threshold: sharedCopy(f.threshold), value: sharedCopy(f.value) }
  const q = Float32Array.from({ length: 40 }, (_, i) => i / 40)
  t.same(forestPredict(sf, sharedCopy(q)), forestPredict(f, q))
  t.same(forestPredict(forestHold(sf), q), forestPredict(f, q))
  const g = fx.graphs(4)
  const w = fx.gcnWeights()
  t.same(gcnScore({ ...g, x: sharedCopy(g.x), adjacency: sharedCopy(g.adjacency), mask: sharedCopy(g.mask) }, w), gcnScore(g, w))
})

t.test('a thread rewriting a shared input cannot slip an invalid value past the checks', async t => {
  for (const [which, trials] of [['forestPredict', 200], ['pairwiseRankLoss', 400], ['tripletRankLoss', 200]] as const) {
    const r = node([path.join(fixtures, 'shared-writer.js'), dist, which, String(trials)])
    t.equal(r.status, 0, `${which}: ${r.out.trim().split('\n').pop()} (signal ${r.signal})`)
  }
})

// ---- 4. resource failures --------------------------------------------------------------------

// (AddressSanitizer reserves terabytes of shadow memory: no address-space limit under it.)
t.test('resource failures throw JS errors naming the function and size (3 GB address-space limit)', { skip: process.env.NASRANK_ASAN ? 'under ASan' : false }, async t => {
  const limit = 3_000_000
  const run = (body: string) => node(['-e', `const N = require(${JSON.stringify(dist)})
    try { ${body} } catch (e) { console.log(e.name + ': ' + e.message) }`], { ulimitKb: limit })
  // Failed thread creation: before, a joinable std::thread was destroyed (terminate).
  let r = run(`const x = Float32Array.from({ length: 300 }, Math.random), y = Float64Array.from({ length: 100 }, Math.random)
    N.forestFit(x, y, 3, { trees: 1000, threads: 256 }); console.log('fitted')`)
  t.equal(r.status, 0, `forestFit with 256 threads: exits normally (${r.out.trim()})`)
  t.match(r.out, /^(fitted|(Range)?Error: forestFit: )/)
  // std::bad_alloc on spearman's helper thread: before, it escaped the thread (terminate).
  r = run('const x = new Float64Array(3e7); for (let i = 0; i < x.length; i++) x[i] = i % 1000; console.log(N.spearman(x, x))')
  t.equal(r.status, 0, `spearman on 3e7 elements: exits normally (signal ${r.signal})`)
  t.match(r.out, /^(1|RangeError: spearman: out of memory \(n = 30000000\))\n/)
  // A bare Error('std::bad_alloc') before.
  r = run('const x = new Float64Array(3e7); for (let i = 0; i < x.length; i++) x[i] = i % 1000; console.log(N.pairwiseRankLoss(x, x).loss)')
  t.equal(r.status, 0, 'pairwiseRankLoss on 3e7 elements: exits normally')
  t.notMatch(r.out, /^Error: std::bad_alloc/)
  t.match(r.out, /^(\d|RangeError: pairwiseRankLoss: out of memory \(n = 30000000\))/)
})

t.test('threads are capped at 256', async t => {
  t.throws(() => forestFit(new Float32Array(4), new Float64Array(2), 2, { threads: 1024 }), { name: 'RangeError', message: 'forestFit: threads must be an integer in [1, 256], got 1024' })
  t.throws(() => addon.forestFit(new Float32Array(4), new Float64Array(2), 2, { trees: 1, maxFeatures: 1, minSamplesSplit: 2, minSamplesLeaf: 1, maxDepth: 0, bootstrap: false, seed: 0 }, 1024),
    { name: 'RangeError', message: 'forestFit: threads must be an integer in [1, 256], got 1024' })
  t.throws(() => setThreads(257), { name: 'RangeError', message: 'setThreads: threads must be an integer in [1, 256], got 257' })
  const r = node(['-e', `console.log(require(${JSON.stringify(dist)}).nativeInfo().threads)`], {})
  t.equal(r.status, 0)
  const big = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(dist)}).nativeInfo().threads)`], { encoding: 'utf8', env: { ...process.env, NASRANK_THREADS: '100000' } })
  t.equal(big.stdout.trim(), '256', 'NASRANK_THREADS is clamped to 256')
})

// ---- 9. sampleEfficiencyGainAsync returns the targets it computed with ------------------------

t.test('sampleEfficiencyGain(Async) returns a copy of the targets it used', async t => {
  const space = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8])
  const candidates = Float64Array.from([1, 2, 3])
  const targets = Float64Array.from([1.5, 3])
  const p = sampleEfficiencyGainAsync({ space, candidates, targets })
  targets.fill(100)
  const r = await p
  t.same(Array.from(r.targets), [1.5, 3], 'the targets the gains belong to')
  t.same(Array.from(r.reachingCandidates), [1, 3])
  const s = sampleEfficiencyGain({ space, candidates, targets: Float64Array.from([2]) })
  t.not(s.targets, targets)
})

// ---- 10. messages ----------------------------------------------------------------------------

t.test('messages name the public function and argument, and print integers as integers', async t => {
  t.throws(() => setThreads(undefined as never), { name: 'TypeError', message: 'setThreads: threads must be an integer in [1, 256], got undefined' })
  t.throws(() => setThreads(2 ** 32), { message: 'setThreads: threads must be an integer in [1, 256], got 4294967296' })
  t.throws(() => addon.setThreads(2 ** 32), { message: 'setThreads: threads must be an integer in [1, 256], got 4294967296' })
  t.throws(() => addon.setThreads(2.5), { message: 'setThreads: threads must be an integer in [1, 256], got 2.5' })
  t.throws(() => addon.crc32c(new Uint8Array(1), 2 ** 32), { message: 'crc32c: crc must be an integer in [0, 2^32), got 4294967296' })
  // Detached inputs, whatever their type.
  for (const make of [() => new Float64Array(8), () => new Float32Array(8), () => new Int32Array(8)]) {
    const x = make()
    detach(x.buffer)
    t.throws(() => kendallTau(x, new Float64Array(8)), { name: 'TypeError', message: 'kendallTau: x is detached (its ArrayBuffer was transferred)' }, x.constructor.name)
  }
  const d = new Float64Array(8)
  detach(d.buffer)
  await t.rejects(kendallTauAsync(new Float64Array(8), d), { name: 'TypeError', message: 'kendallTauAsync: y is detached (its ArrayBuffer was transferred)' })
  // The async twin's own name, not the addon's.
  await t.rejects(kendallTauAsync([1, NaN], [1, 2]), { name: 'RangeError', message: 'kendallTauAsync: x[1] is NaN; values must be finite' })
  // nb101.hashBatch, not nb101HashCells.
  const bad = { vertices: Uint8Array.of(3), adjacency: Uint32Array.of(0), ops: new Uint8Array(7) }
  t.throws(() => nb101.hashBatch(bad), { message: /^nb101\.hashBatch: / })
  t.throws(() => nb101.costBatch(bad), { message: /^nb101\.costBatch: / })
  await t.rejects(nb101.hashBatchAsync(bad), { message: /^nb101\.hashBatchAsync: / })
  // gcnCompare's two graph batches are told apart.
  const w = { gcn: fx.gcnWeights(), head: fx.head() }
  const gB = fx.graphs(1)
  gB.x[0] = NaN
  t.throws(() => gcnCompare(fx.graphs(2), gB, w), { message: 'gcnCompare: graphsB.x[0] is NaN; values must be finite' })
  // Never "got undefined undefined".
  t.throws(() => kendallTau(undefined as never, [1, 2]), { name: 'TypeError', message: /^kendallTau: x must be .*, got undefined$/ })
  t.throws(() => forestFit(new Float32Array(4), new Float64Array(2), undefined as never), { message: /^forestFit: columns .*got undefined$/ })
})
