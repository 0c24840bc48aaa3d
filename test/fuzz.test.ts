// Property-based fuzzing of every addon-backed export with hostile arguments (fast-check,
// fixed seed, bounded runs): SharedArrayBuffers, offset views, detached buffers, NaN,
// lying `length` properties, plain arrays, wrong typed-array types, Proxies, inherited
// properties, and one-shot getters that detach or rewrite another input (and run the GC)
// while the addon reads its arguments.
//
// The property, for every call: it returns, or throws/rejects an Error whose message starts
// with the public function's name; and when it returns, the result equals that of the
// synchronous function called on plain copies of the arguments as they are after the call
// (getters have fired by then), so a kernel that read an array before a getter detached or
// rewrote it is caught even when the read memory happened to still hold the old values.
import t from 'tap'
import fc from 'fast-check'
import * as v8 from 'node:v8'
import * as vm from 'node:vm'
import * as N from '../lib/index'
import { addon } from '../lib/native'
import { AgNetGenerator } from '../lib/models/agnet'
import { prepareBatch } from '../lib/bpe/images'
import { agnetFlatParams } from '../lib/models/agnet-native'
import { AGNET_INPUT, AGNET_NB201_EDGES, AGNET_OUTPUT, AGNET_TO_NB201_OP } from '../lib/encode/agnet'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fx = require('./fixtures/native-calls.js')

v8.setFlagsFromString('--expose-gc')
const gcFull = vm.runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void
// A scavenge frees the (young) clone a detaching transfer made, and so the old backing
// store: enough for a use-after-free to read freed memory, at a fraction of a full GC.
const gc = () => gcFull({ type: 'minor' })

const SEED = Number(process.env.NASRANK_FUZZ_SEED ?? 20261207)
const RUNS = Number(process.env.NASRANK_FUZZ_RUNS ?? 300)

type Typed = Float64Array | Float32Array | Int32Array | Uint32Array | Uint8Array
type Args = unknown[]

function rand (seed: number): () => number {
  let s = (seed >>> 0) || 1
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296 }
}
const f64 = (r: () => number, n: number) => Float64Array.from({ length: n }, () => Math.round(r() * 8) / 4)
const f32 = (r: () => number, n: number) => Float32Array.from({ length: n }, () => r() - 0.5)

const forest = N.forestFit(f32(rand(5), 3 * 60), f64(rand(6), 60), 3, { trees: 5, seed: 1 })
const cloneForest = () => ({ columns: forest.columns, sizes: forest.sizes.slice(), feature: forest.feature.slice(), threshold: forest.threshold.slice(), left: forest.left.slice(), right: forest.right.slice(), value: forest.value.slice(), samples: forest.samples.slice() })
/** Float64 parameters of the ranking GCN for the fixtures' graphs (F = 5): 2 layers of 4 units, biases, row norm, pool all. */
const rankParams = (r: () => number) => ({
  layers: [{ w: f64(r, 5 * 4), b: f64(r, 4) }, { w: f64(r, 4 * 4), b: f64(r, 4) }],
  fc: f64(r, 4),
  norm: 'row',
  pool: 'all'
})
const trainSettings = () => ({ epochs: 2, lr: 0.01, momentum: 0.9, ties: 'positive' })
const rawParams = () => ({ trees: 3, maxFeatures: 2, minSamplesSplit: 2, minSamplesLeaf: 1, maxDepth: 0, bootstrap: true, seed: 3 })

/** Uniform draws in [0, 1). */
const unit = (r: () => number, n: number) => Float64Array.from({ length: n }, () => r())
/** A controller of 4 units over 5 choices (205 parameters) and one sample of 3 decisions from it. */
const ctrl = {
  params: (r: () => number) => Float64Array.from({ length: 205 }, () => r() - 0.5),
  sampled: (r: () => number): Args => {
    const p = ctrl.params(r)
    const ops = new Uint8Array(3)
    const cache = new Float64Array(3 * 45)
    addon.controllerSample(p, 4, 5, unit(r, 3), null, ops, cache)
    return [p, new Float64Array(205), ops, cache]
  }
}
/** The NB-101 controller of 4 units (296 parameters, 18 × 71 cache) and one sample from it. */
const ctrl101 = {
  params: (r: () => number) => Float64Array.from({ length: 296 }, () => r() - 0.5),
  forced: (n: number) => Uint8Array.from([1 + (n % 5), 0, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
  sampled: (r: () => number): Args => {
    const p = ctrl101.params(r)
    const seq = new Uint8Array(18)
    const cache = new Float64Array(18 * 71)
    addon.nb101ControllerSample(p, 4, unit(r, 18), null, seq, cache)
    return [p, new Float64Array(296), seq, cache]
  }
}

/** The AG-Net NB-201 generator's parameters (made once), latent rows, Eq. 1 targets and the decoding tables. */
const agnetParams = agnetFlatParams(new AgNetGenerator({ nodes: 8, classes: 7 }, new N.Random(4)))
const agnet = {
  params: () => Float64Array.from(agnetParams),
  z: (r: () => number, rows: number) => Float64Array.from({ length: 32 * Math.max(1, rows) }, () => 6 * r() - 3),
  target: (r: () => number, rows: number) => ({ classes: Uint8Array.from({ length: rows * 8 }, () => Math.floor(r() * 7)), edges: Uint8Array.from({ length: rows * 28 }, () => (r() < 0.5 ? 1 : 0)), weights: f64(r, rows), ceScale: 1 }),
  decode: () => ({ dag: Uint8Array.from(AGNET_NB201_EDGES), classOps: Int32Array.from(AGNET_TO_NB201_OP), base: 5, input: AGNET_INPUT, output: AGNET_OUTPUT })
}

interface Spec {
  name: string
  call: (...a: Args) => unknown
  /** The synchronous twin the oracle calls on plain copies (default: call). */
  plain?: (...a: Args) => unknown
  make: (n: number, r: () => number) => Args
}

const m = (n: number) => Math.max(2, Math.round(Math.sqrt(n)))
const specs: Spec[] = [
  { name: 'kendallTau', call: N.kendallTau, make: (n, r) => [f64(r, n), f64(r, n)] },
  { name: 'kendallTauAsync', call: N.kendallTauAsync, plain: N.kendallTau, make: (n, r) => [f64(r, n), f64(r, n)] },
  { name: 'spearman', call: N.spearman, make: (n, r) => [f64(r, n), f64(r, n)] },
  { name: 'spearmanAsync', call: N.spearmanAsync, plain: N.spearman, make: (n, r) => [f64(r, n), f64(r, n)] },
  { name: 'pearson', call: N.pearson, make: (n, r) => [f64(r, n), f64(r, n)] },
  { name: 'pairwiseRankLoss', call: N.pairwiseRankLoss, make: (n, r) => [f64(r, n), f64(r, n)] },
  { name: 'pairwiseRankLossAsync', call: N.pairwiseRankLossAsync, plain: N.pairwiseRankLoss, make: (n, r) => [f64(r, n), f64(r, n)] },
  { name: 'tripletRankLoss', call: N.tripletRankLoss, make: (n, r) => [f64(r, m(n) * m(n)), f64(r, m(n))] },
  { name: 'tripletRankLossAsync', call: N.tripletRankLossAsync, plain: N.tripletRankLoss, make: (n, r) => [f64(r, m(n) * m(n)), f64(r, m(n))] },
  { name: 'pairwiseLogLoss', call: N.pairwiseLogLoss, make: (n, r) => [f64(r, n), f64(r, n), Float64Array.from({ length: n }, () => r() < 0.5 ? 0 : 1)] },
  {
    name: 'sampleEfficiencyGain',
    call: N.sampleEfficiencyGain as (...a: Args) => unknown,
    make: (n, r) => { const space = f64(r, n); return [{ space, candidates: space.slice(0, Math.ceil(n / 2)), targets: f64(r, 4) }] }
  },
  {
    name: 'sampleEfficiencyGainAsync',
    call: N.sampleEfficiencyGainAsync as (...a: Args) => unknown,
    plain: N.sampleEfficiencyGain as (...a: Args) => unknown,
    make: (n, r) => { const space = f64(r, n); return [{ space, candidates: space.slice(0, Math.ceil(n / 2)), targets: f64(r, 4), subset: space.slice(0, n - 1) }] }
  },
  { name: 'nb101.hashBatch', call: N.nb101.hashBatch as (...a: Args) => unknown, make: n => [fx.cells(N, n)] },
  { name: 'nb101.hashBatchAsync', call: N.nb101.hashBatchAsync as (...a: Args) => unknown, plain: N.nb101.hashBatch as (...a: Args) => unknown, make: n => [fx.cells(N, n)] },
  { name: 'nb101.costBatch', call: N.nb101.costBatch as (...a: Args) => unknown, make: n => [fx.cells(N, n), { perVertex: true }] },
  { name: 'nb101.costBatchAsync', call: N.nb101.costBatchAsync as (...a: Args) => unknown, plain: N.nb101.costBatch as (...a: Args) => unknown, make: n => [fx.cells(N, n)] },
  { name: 'nb101.paramsBatch', call: N.nb101.paramsBatch as (...a: Args) => unknown, make: n => [fx.cells(N, n)] },
  { name: 'renasEncode', call: N.renasEncode as (...a: Args) => unknown, make: n => [fx.cells(N, n), { channels: 1 }] },
  { name: 'renasEncodeAsync', call: N.renasEncodeAsync as (...a: Args) => unknown, plain: N.renasEncode as (...a: Args) => unknown, make: n => [fx.cells(N, n), { channels: 19 }] },
  { name: 'renasVertexOrder', call: N.renasVertexOrder as (...a: Args) => unknown, make: n => [fx.cells(N, n)] },
  { name: 'gcnScore', call: N.gcnScore as (...a: Args) => unknown, make: n => [fx.graphs(Math.ceil(n / 8)), fx.gcnWeights()] },
  { name: 'gcnScoreAsync', call: N.gcnScoreAsync as (...a: Args) => unknown, plain: N.gcnScore as (...a: Args) => unknown, make: n => [fx.graphs(Math.ceil(n / 8)), fx.gcnWeights()] },
  // gcnGraphsHold's own argument made hostile (the weights are the fixture's, valid), then scored from the held copy.
  { name: 'gcnGraphsHold', call: g => N.gcnScore(N.gcnGraphsHold(g as never), fx.gcnWeights()), plain: g => N.gcnScore(g as never, fx.gcnWeights()), make: n => [fx.graphs(Math.ceil(n / 8))] },
  { name: 'gcnGraphsHold', call: g => N.gcnScoreAsync(N.gcnGraphsHold(g as never), fx.gcnWeights(), { norm: 'row', pool: 'all' }), plain: g => N.gcnScore(g as never, fx.gcnWeights(), { norm: 'row', pool: 'all' }), make: n => [fx.graphs(Math.ceil(n / 8))] },
  { name: 'gcnEmbed', call: N.gcnEmbed as (...a: Args) => unknown, make: n => [fx.graphs(Math.ceil(n / 8)), fx.gcnWeights()] },
  { name: 'gcnEmbedAsync', call: N.gcnEmbedAsync as (...a: Args) => unknown, plain: N.gcnEmbed as (...a: Args) => unknown, make: n => [fx.graphs(Math.ceil(n / 8)), fx.gcnWeights()] },
  { name: 'comparatorProbability', call: N.comparatorProbability as (...a: Args) => unknown, make: (n, r) => [f32(r, 8 * Math.ceil(n / 4)), f32(r, 8), fx.head()] },
  {
    name: 'comparatorProbabilityAsync',
    call: N.comparatorProbabilityAsync as (...a: Args) => unknown,
    plain: N.comparatorProbability as (...a: Args) => unknown,
    make: (n, r) => [f32(r, 8 * Math.ceil(n / 4)), f32(r, 8 * Math.ceil(n / 4)), fx.head()]
  },
  { name: 'gcnCompare', call: N.gcnCompare as (...a: Args) => unknown, make: n => [fx.graphs(Math.ceil(n / 8)), fx.graphs(1), { gcn: fx.gcnWeights(), head: fx.head() }] },
  { name: 'gcnCompareAsync', call: N.gcnCompareAsync as (...a: Args) => unknown, plain: N.gcnCompare as (...a: Args) => unknown, make: n => [fx.graphs(2), fx.graphs(2), { gcn: fx.gcnWeights(), head: fx.head() }] },
  { name: 'forestFit', call: N.forestFit as (...a: Args) => unknown, make: (n, r) => [f32(r, 2 * n), f64(r, n), 2, { trees: 3, seed: 2 }] },
  { name: 'forestFitAsync', call: N.forestFitAsync as (...a: Args) => unknown, plain: N.forestFit as (...a: Args) => unknown, make: (n, r) => [f32(r, 2 * n), f64(r, n), 2, { trees: 3, seed: 2 }] },
  { name: 'forestPredict', call: N.forestPredict as (...a: Args) => unknown, make: (n, r) => [cloneForest(), f32(r, 3 * n)] },
  { name: 'forestPredictAsync', call: N.forestPredictAsync as (...a: Args) => unknown, plain: N.forestPredict as (...a: Args) => unknown, make: (n, r) => [cloneForest(), f32(r, 3 * n)] },
  { name: 'forestHold', call: (f: unknown) => N.forestPredict(N.forestHold(f as N.RegressionForest), new Float32Array(6)), make: () => [cloneForest()] },
  { name: 'crc32c', call: N.crc32c as (...a: Args) => unknown, make: (n, r) => [Uint8Array.from({ length: n }, () => r() * 256)] },
  {
    name: 'prepareBatch',
    call: prepareBatch as (...a: Args) => unknown,
    make: (n, r) => [
      { label: 'fuzz', n: 3, height: 4, width: 4, channels: 2, classes: 2, images: Uint8Array.from({ length: 3 * 32 }, () => r() * 256), labels: new Uint8Array(3), mean: [0.5, 0.25], std: [0.5, 1] },
      Int32Array.from({ length: Math.ceil(n / 8) }, () => Math.floor(r() * 3)),
      { image: 2, augment: false, cutout: 0 },
      undefined
    ]
  },
  { name: 'gcnTrain', call: N.gcnTrain as (...a: Args) => unknown, make: (n, r) => { const g = Math.ceil(n / 8) + 1; return [fx.graphs(g), Array.from({ length: g }, (_, k) => k), f64(r, g), rankParams(r), trainSettings()] } },
  {
    name: 'gcnTrainAsync',
    call: N.gcnTrainAsync as (...a: Args) => unknown,
    plain: N.gcnTrain as (...a: Args) => unknown,
    make: (n, r) => { const g = Math.ceil(n / 8) + 1; return [fx.graphs(g), Array.from({ length: g }, (_, k) => k), f64(r, g), rankParams(r), trainSettings()] }
  },
  { name: 'gcnScoreGrad', call: N.gcnScoreGrad as (...a: Args) => unknown, make: (n, r) => [fx.graphs(Math.ceil(n / 8)), rankParams(r)] },
  { name: 'rankPairLoss', call: N.rankPairLoss as (...a: Args) => unknown, make: (n, r) => [f64(r, n + 2), f64(r, n + 2)] },
  { name: 'comparatorRowMeans', call: N.comparatorRowMeans as (...a: Args) => unknown, make: (n, r) => [{ u: f64(r, n), v: f64(r, n), bias: 0.5 }] },
  { name: 'linearComparatorKendall', call: N.linearComparatorKendall as (...a: Args) => unknown, make: (n, r) => [{ u: f64(r, n + 2), v: f64(r, n + 2) }, f64(r, n + 2)] },
  // The CTNAS controller (raw addon: the Controller methods build these arrays themselves). H = 4, C = 5, 3 steps.
  { name: 'controllerSample', call: (p, d, o, c) => addon.controllerSample(p as Float64Array, 4, 5, d as Float64Array, null, o as Uint8Array, c as Float64Array), make: (n, r) => [ctrl.params(r), unit(r, 3), new Uint8Array(3), new Float64Array(3 * 45)] },
  { name: 'controllerSample', call: (p, f, o, c) => addon.controllerSample(p as Float64Array, 4, 5, null, f as Uint8Array, o as Uint8Array, c as Float64Array), make: (n, r) => [ctrl.params(r), Uint8Array.from([n % 5, 1, 4]), new Uint8Array(3), new Float64Array(3 * 45)] },
  { name: 'controllerBackward', call: (p, g, o, c) => addon.controllerBackward(p as Float64Array, g as Float64Array, 4, 5, o as Uint8Array, c as Float64Array, 0.5, 0.1), make: (n, r) => ctrl.sampled(r) },
  { name: 'controllerStep', call: (p, g, o, c, m, v) => addon.controllerStep(p as Float64Array, g as Float64Array, m as Float64Array, v as Float64Array, 4, 5, o as Uint8Array, c as Float64Array, 0.5, 0.1, 1, 1e-3, 0.5, 0.999, 5e-4, 1e-8), make: (n, r) => [...ctrl.sampled(r), new Float64Array(205), new Float64Array(205)] },
  { name: 'controllerSampleMany', call: (p, d) => addon.controllerSampleMany(p as Float64Array, 4, 5, 3, d as Float64Array), make: (n, r) => [ctrl.params(r), unit(r, 3 * (n + 1))] },
  // The NB-101 controller (raw addon). H = 4.
  { name: 'nb101ControllerSample', call: (p, d, o, c) => addon.nb101ControllerSample(p as Float64Array, 4, d as Float64Array, null, o as Uint8Array, c as Float64Array), make: (n, r) => [ctrl101.params(r), unit(r, 18), new Uint8Array(18), new Float64Array(18 * 71)] },
  { name: 'nb101ControllerSample', call: (p, f, o, c) => addon.nb101ControllerSample(p as Float64Array, 4, null, f as Uint8Array, o as Uint8Array, c as Float64Array), make: (n, r) => [ctrl101.params(r), ctrl101.forced(n), new Uint8Array(18), new Float64Array(18 * 71)] },
  { name: 'nb101ControllerBackward', call: (p, g, o, c) => addon.nb101ControllerBackward(p as Float64Array, g as Float64Array, 4, o as Uint8Array, c as Float64Array, 0.5, 0.1), make: (n, r) => ctrl101.sampled(r) },
  { name: 'nb101ControllerStep', call: (p, g, o, c, m, v) => addon.nb101ControllerStep(p as Float64Array, g as Float64Array, m as Float64Array, v as Float64Array, 4, o as Uint8Array, c as Float64Array, 0.5, 0.1, 1, 1e-3, 0.5, 0.999, 5e-4, 1e-8), make: (n, r) => [...ctrl101.sampled(r), new Float64Array(296), new Float64Array(296)] },
  { name: 'nb101ControllerSampleMany', call: (p, d) => addon.nb101ControllerSampleMany(p as Float64Array, 4, d as Float64Array), make: (n, r) => [ctrl101.params(r), unit(r, 18 * (n + 1))] },
  // The AG-Net generator (raw addon; NB-201 shape 8 × 7, 84 outputs per row). agnetTrainStep without Adam and
  // agnetGenerate on a fresh PRNG state: both leave their arguments as they were, as the oracle needs.
  { name: 'agnetForward', call: (p, z) => addon.agnetForward(p as Float64Array, 8, 7, z as Float64Array, 1), make: (n, r) => [agnet.params(), agnet.z(r, n)] },
  { name: 'agnetForward', call: (p, z) => addon.agnetForward(p as Float64Array, 8, 7, z as Float64Array, 2, true), plain: (p, z) => addon.agnetForward(p as Float64Array, 8, 7, z as Float64Array, 2), make: (n, r) => [agnet.params(), agnet.z(r, n)] },
  { name: 'agnetTrainStep', call: (p, z, target, dout) => addon.agnetTrainStep(p as Float64Array, 8, 7, z as Float64Array, target as never, dout as Float64Array, null, 1), make: (n, r) => { const b = 1 + (n % 4); return [agnet.params(), agnet.z(r, b), agnet.target(r, b), f64(r, b * 84)] } },
  { name: 'agnetGenerate', call: (p, z, d) => addon.agnetGenerate(p as Float64Array, 8, 7, z as Float64Array, Uint32Array.of(1, 2, 3, 4), 'sample', d as never, null, 1), make: (n, r) => [agnet.params(), agnet.z(r, 1 + (n % 5)), agnet.decode()] },
  // The raw addon, for object arguments the public wrappers rebuild (hostile getters reach it only so).
  { name: 'forestFit', call: (x, y, p) => addon.forestFit(x as Float32Array, y as Float64Array, 2, p as never, 1), make: (n, r) => [f32(r, 2 * n), f64(r, n), rawParams()] },
  { name: 'forestPredict', call: (f, x) => addon.forestPredict(f as never, x as Float32Array, 3, 'median', 2), make: (n, r) => [cloneForest(), f32(r, 3 * n)] },
  { name: 'gcnScore', call: (g, w) => addon.gcnScore(g as never, w as never, 2, 'cpu', false), make: n => [fx.graphs(Math.ceil(n / 8)), fx.gcnWeights()] },
  { name: 'comparatorProbability', call: (a, b, h) => addon.comparatorProbability(a as Float32Array, b as Float32Array, h as never, 1), make: (n, r) => [f32(r, 8 * Math.ceil(n / 4)), f32(r, 8), fx.head()] }
]

// ---- hostile mutations -----------------------------------------------------------------------

interface Leaf { parent: Record<string | number, unknown>; key: string | number; value: Typed; top: boolean }

function leaves (args: Args): Leaf[] {
  const out: Leaf[] = []
  const seen = new Set<unknown>()
  const walk = (parent: Record<string | number, unknown>, key: string | number, value: unknown, top: boolean) => {
    if (ArrayBuffer.isView(value)) { out.push({ parent, key, value: value as Typed, top }); return }
    if (value === null || typeof value !== 'object' || seen.has(value)) return
    seen.add(value)
    for (const k of Object.keys(value)) walk(value as Record<string, unknown>, Array.isArray(value) ? Number(k) : k, (value as Record<string, unknown>)[k], false)
  }
  args.forEach((a, i) => walk(args as unknown as Record<number, unknown>, i, a, true))
  return out
}

function detach (a: Typed): void {
  if (a.buffer instanceof ArrayBuffer && a.buffer.byteLength > 0) structuredClone(a.buffer, { transfer: [a.buffer] })
}

function sharedCopy (a: Typed): Typed {
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => Typed
  const out = new Ctor(new SharedArrayBuffer(Math.max(a.byteLength, 8)))
  out.set(a as never)
  return a.length === out.length ? out : (out.subarray(0, a.length) as Typed)
}

function offsetCopy (a: Typed): Typed {
  const Ctor = a.constructor as new (b: ArrayBuffer, o: number, l: number) => Typed
  const k = a.BYTES_PER_ELEMENT
  const out = new Ctor(new ArrayBuffer(a.byteLength + 3 * k), 2 * k, a.length)
  out.set(a as never)
  return out
}

let effectsOn = true
const KINDS = ['shared', 'offset', 'detach', 'nan', 'lyingLength', 'plainArray', 'wrongType', 'proxy', 'inherit', 'getterDetach', 'getterNaN', 'getterGc'] as const
type Kind = typeof KINDS[number]
interface Mutation { kind: Kind; leaf: number; victim: number; index: number }

function apply (args: Args, mutation: Mutation, log: string[]): void {
  const ls = leaves(args)
  if (ls.length === 0) return
  const leaf = ls[mutation.leaf % ls.length]
  const victim = ls[mutation.victim % ls.length]
  const set = (v: unknown) => { leaf.parent[leaf.key] = v }
  const where = `${leaf.top ? 'arg' : ''}${String(leaf.key)}`
  log.push(`${mutation.kind}(${where}${mutation.kind.startsWith('getter') ? ` -> ${String(victim.key)}` : ''})`)
  switch (mutation.kind) {
    case 'shared': return set(sharedCopy(leaf.value))
    case 'offset': return set(offsetCopy(leaf.value))
    case 'detach': return detach(leaf.value)
    case 'nan': if (leaf.value.length) (leaf.value as Float64Array)[mutation.index % leaf.value.length] = NaN; return
    case 'lyingLength': Object.defineProperty(leaf.value, 'length', { value: leaf.value.length + 1000 + mutation.index }); return
    case 'plainArray': return set(Array.from(leaf.value as Float64Array))
    case 'wrongType': return set(leaf.value instanceof Float64Array ? Float32Array.from(leaf.value) : Float64Array.from(leaf.value as Float32Array))
    case 'proxy':
      if (!leaf.top) {
        const p = leaf.parent
        replaceObject(args, p, new Proxy(p, {}))
      }
      return
    case 'inherit':
      if (!leaf.top) replaceObject(args, leaf.parent, Object.create(leaf.parent))
      return
    default: {
      if (leaf.top) return
      const value = leaf.value
      let fired = false
      const effect = () => {
        if (!effectsOn) return  // the oracle's copy reads every property; only the call's reads count
        if (mutation.kind === 'getterDetach') detach(victim.value)
        else if (mutation.kind === 'getterNaN' && victim.value.length) (victim.value as Float64Array)[mutation.index % victim.value.length] = NaN
        gc()
      }
      Object.defineProperty(leaf.parent, leaf.key, { enumerable: true, configurable: true, get () { if (!fired) { fired = true; effect() } return value } })
    }
  }
}

// Replaces every reference to `obj` inside args (one level of nesting is all the specs use).
function replaceObject (args: Args, obj: object, by: object): void {
  const seen = new Set<unknown>()
  const walk = (parent: Record<string | number, unknown>) => {
    if (seen.has(parent)) return
    seen.add(parent)
    for (const k of Object.keys(parent)) {
      const d = Object.getOwnPropertyDescriptor(parent, k)
      if (!d || !('value' in d)) continue
      if (d.value === obj) parent[k] = by
      else if (d.value !== null && typeof d.value === 'object' && !ArrayBuffer.isView(d.value)) walk(d.value as Record<string, unknown>)
    }
  }
  walk(args as unknown as Record<number, unknown>)
}

// Plain deep copy of the arguments as they are now (getters have fired; a detached array
// stays detached; shared memory becomes private; inherited properties become own ones).
function plainCopy (v: unknown): unknown {
  if (ArrayBuffer.isView(v)) {
    const a = v as Typed
    const Ctor = a.constructor as new (n: number) => Typed
    // eslint-disable-next-line no-new
    const detached = a.byteLength === 0 && a.buffer.byteLength === 0 && (() => { try { new Uint8Array(a.buffer, 0, 0); return false } catch { return true } })()
    const out = new Ctor(detached ? 1 : a.byteLength / a.BYTES_PER_ELEMENT)
    if (!detached) out.set(a as never)
    else detach(out)
    return out
  }
  if (Array.isArray(v)) return v.map(plainCopy)
  if (v === null || typeof v !== 'object') return v
  const out: Record<string, unknown> = {}
  for (const k in v) out[k] = plainCopy((v as Record<string, unknown>)[k])
  return out
}

function same (a: unknown, b: unknown): boolean {
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as Float64Array
    const y = b as Float64Array
    return x.length === y.length && x.every((v, i) => Object.is(v, y[i]))
  }
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b)
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a)
    return ka.length === Object.keys(b).length && ka.every(k => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  }
  return a === b
}

async function outcome (f: () => unknown): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await f() }
  } catch (error) {
    return { ok: false, error }
  }
}

const mutationArb = fc.record({ kind: fc.constantFrom(...KINDS), leaf: fc.nat(20), victim: fc.nat(20), index: fc.nat(1000) })

let calls = 0
const started = Date.now()

t.test('every addon-backed export survives hostile arguments', async t => {
  const threads = N.nativeInfo().threads
  N.setThreads(2)
  for (const spec of specs) {
    const failures: string[] = []
    const before = calls
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: 48 }), fc.nat(), fc.array(mutationArb, { maxLength: 3 }), async (n, seed, mutations) => {
      const args = spec.make(n, rand(seed + 1))
      const log: string[] = []
      for (const mu of mutations) {
        try {
          apply(args, mu, log)
        } catch {
          log.pop()  // not applicable here (e.g. copying an already detached array)
        }
      }
      calls++
      const hostile = await outcome(() => spec.call(...args))
      const what = `${spec.name}(n = ${n}) with ${log.join(', ') || 'plain arguments'}`
      if (!hostile.ok) {
        const e = hostile.error
        const okError = e instanceof Error && e.message.startsWith(`${spec.name}: `)
        if (!okError) failures.push(`${what}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`)
        return okError
      }
      calls++
      effectsOn = false
      const copy = plainCopy(args) as Args
      effectsOn = true
      const plain = await outcome(() => (spec.plain ?? spec.call)(...copy))
      const agree = plain.ok && same(hostile.value, plain.value)
      if (!agree) failures.push(`${what}: returned, but plain copies of the arguments after the call ${plain.ok ? 'give another result' : `throw ${String((plain as { error: unknown }).error)}`}`)
      return agree
    }), { seed: SEED, numRuns: RUNS, endOnFailure: true }).catch((err: Error) => {
      if (failures.length === 0) failures.push(err.message.split('\n').filter(l => /Counterexample|error/i.test(l)).join('\n'))
    })
    t.same(failures.slice(0, 3), [], `${spec.name}: ${calls - before} calls`)
  }
  N.setThreads(threads)
  t.comment(`fuzzed ${calls} calls in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${SEED}, ${RUNS} runs per export)`)
})
