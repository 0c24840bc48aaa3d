import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { Worker } from 'node:worker_threads'
import { kendallTau, kendallTauAsync, nativeInfo, pairwiseRankLoss, pairwiseRankLossAsync, setThreads } from '../lib/index'
import { normals, rng } from './reference/random'

const root = path.join(__dirname, '..')
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { nativeDigest } = require('../scripts/native-digest.js') as { nativeDigest(dir: string): string }
const prebuildDir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`)

t.test('info reports how the addon was built', async t => {
  const info = nativeInfo()
  t.equal(info.version, JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version)
  t.equal(info.sourceDigest, nativeDigest(root), 'loaded addon was compiled from these sources')
  t.type(info.cuda, 'boolean')
  t.type(info.cudaDevice, 'boolean')
  t.ok(Number.isInteger(info.threads) && info.threads >= 1)
  t.type(info.cpu.avx2, 'boolean')
  t.ok(fs.existsSync(info.path), `loaded from ${info.path}`)
})

t.test('the committed prebuild matches the native sources', { skip: !fs.existsSync(prebuildDir) && `no prebuild for ${process.platform}-${process.arch}` }, async t => {
  const files = fs.readdirSync(prebuildDir).filter(f => f.endsWith('.node'))
  t.ok(files.length > 0, 'a prebuilt addon is committed')
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const prebuilt = require(path.join(prebuildDir, file)) as { info(): { sourceDigest: string; buildSystem: string; cuda: boolean } }
    t.equal(prebuilt.info().sourceDigest, nativeDigest(root), `${file} is up to date: rebuild with \`npm run build:prebuild\` after changing native/`)
    t.equal(prebuilt.info().cuda, false, 'the prebuild is the portable CPU build')
  }
})

t.test('a binary compiled from other sources is refused, not loaded', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-stale-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  for (const item of ['package.json', 'binding.gyp', 'CMakeLists.txt', 'native', 'scripts', 'dist', 'build', 'prebuilds']) {
    if (fs.existsSync(path.join(root, item))) fs.cpSync(path.join(root, item), path.join(dir, item), { recursive: true })
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'))
  fs.appendFileSync(path.join(dir, 'native', 'sort.h'), '\n// an edit after the last build\n')
  const result = spawnSync(process.execPath, ['-e', "require('./dist/lib/index.js')"], { cwd: dir, encoding: 'utf8' })
  t.not(result.status, 0, 'loading fails')
  t.match(result.stderr, /compiled from other sources.*Rebuild it: `npm run build:native`/s)
})

t.test('importing the kernels loads no heavy dependency', async t => {
  const script = `
    const t0 = process.hrtime.bigint()
    const m = require(${JSON.stringify(root)})
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    m.kendallTau([1, 2, 3], [1, 3, 2])
    const heavy = Object.keys(require.cache).filter(f => /node_modules[\\\\/](@tensorflow|apache-arrow|vega)/.test(f))
    console.log(JSON.stringify({ ms, heavy, modules: Object.keys(require.cache).length }))`
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }))
  t.same(out.heavy, [], 'no tfjs, arrow or vega in the module cache')
  t.comment(`import time ${out.ms.toFixed(1)} ms, ${out.modules} modules`)
})

t.test('ESM named import works', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-esm-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(root, path.join(dir, 'node_modules', 'nasrank'))
  fs.writeFileSync(path.join(dir, 'main.mjs'), "import { kendallTau, nativeInfo } from 'nasrank'\nconsole.log(kendallTau([1, 2, 3, 4], [1, 2, 4, 3]), typeof nativeInfo)\n")
  t.equal(execFileSync(process.execPath, ['main.mjs'], { cwd: dir, encoding: 'utf8' }).trim(), `${kendallTau([1, 2, 3, 4], [1, 2, 4, 3])} function`)
})

t.test('works inside worker threads', async t => {
  const code = `
    const { parentPort } = require('node:worker_threads')
    const m = require(${JSON.stringify(root)})
    parentPort.postMessage(m.kendallTau([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]))`
  const results = await Promise.all([0, 1].map(() => new Promise<number>((resolve, reject) => {
    const w = new Worker(code, { eval: true })
    w.once('message', resolve)
    w.once('error', reject)
  })))
  const expected = kendallTau([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])
  t.same(results, [expected, expected])
})

t.test('many concurrent async calls resolve correctly, inputs are copied', async t => {
  const rand = rng(99)
  const x = normals(rand, 20000); const y = normals(rand, 20000)
  const expected = kendallTau(x, y)
  const pending = Array.from({ length: 16 }, () => kendallTauAsync(x, y))
  x.fill(0)  // mutating after the call must not affect the running computation
  const values = await Promise.all(pending)
  t.same(values, Array(16).fill(expected))
  const loss = await pairwiseRankLossAsync([3, 1, 2], [1, 2, 3], { reduction: 'sum' })
  t.equal(loss.comparable, 3)
})

t.test('thread count changes speed, never results', async t => {
  const rand = rng(4)
  const x = normals(rand, 300000); const y = normals(rand, 300000)
  const before = nativeInfo().threads
  t.teardown(() => setThreads(before))
  setThreads(1)
  const one = kendallTau(x, y)
  setThreads(3)
  t.equal(nativeInfo().threads, 3)
  t.equal(kendallTau(x, y), one)
  t.throws(() => setThreads(0), { name: 'RangeError', message: /threads must be an integer/ })
  t.throws(() => setThreads(1.5), { name: 'RangeError' })
  t.throws(() => setThreads('2' as never), { name: 'TypeError', message: /setThreads: threads must be an integer in \[1, 256\], got the string/ })
})

t.test('the raw addon validates arguments itself', async t => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { addon } = require('../lib/native') as typeof import('../lib/native')
  const raw = addon as unknown as Record<string, (...args: unknown[]) => unknown>
  t.throws(() => raw.kendallTau([1, 2], new Float64Array(2), 'b'), { name: 'TypeError', message: /x must be a Float64Array/ })
  t.throws(() => raw.kendallTau(new Float64Array(2), new Float64Array(2)), { name: 'TypeError', message: /variant must be a string/ })
  t.throws(() => raw.kendallTau(new Float64Array(2), new Float64Array(2), 'z'), { name: 'TypeError', message: /variant must be 'a' or 'b'/ })
  t.throws(() => raw.kendallTau(new Float64Array(2), new Float64Array(2), 'b', 'yes'), { name: 'TypeError', message: /async must be a boolean/ })
  t.throws(() => raw.pairwiseRankLoss(new Float64Array(2), new Float64Array(2), 'hinge', NaN, 'mean', 'fast', 'cpu'), { name: 'RangeError', message: /margin must be finite/ })
  t.throws(() => raw.tripletRankLoss(new Float64Array(3), new Float64Array(2), 'hinge', 1, 'mean', 'fast', 'cpu'), { name: 'RangeError', message: /dist has length 3/ })
  t.throws(() => raw.pairwiseRankLoss(new Float64Array(2), new Float64Array(2), 'hinge', 1, 'mean', 'fast', 'tpu'), { name: 'TypeError', message: /device must be 'cpu' or 'cuda'/ })
  t.throws(() => raw.sampleEfficiencyGain(), { name: 'TypeError', message: /space must be a Float64Array/ })
  t.throws(() => raw.setThreads(), { name: 'TypeError' })
})

t.test('device cuda without a CUDA build is a clear error', { skip: nativeInfo().cuda && 'this addon has CUDA' }, async t => {
  t.throws(() => pairwiseRankLoss([1, 2], [1, 2], { device: 'cuda', algorithm: 'brute' }), { message: /built without CUDA.*npm run build:cuda/ })
})
