#!/usr/bin/env node
'use strict'
// The AG-Net generator: native (native/agnet.cc) against the JS autodiff tape (the reference)
// and a dense PyTorch CPU port (benchmarks/agnet_torch.py, float64, torch.set_num_threads equal
// to ours), in the same run, on the shipped NB-201 weights:
//   - a training step (forward, Eq. 1, backward, Adam) of batch 16 (search retraining) and 32
//     (pretraining);
//   - generating candidates from 4,500 z ~ U(−3, 3)^32 (forward, sampling, decoding, validity,
//     dedup: the most one search iteration draws).
// The tfjs twin (lib/models/agnet-tf.ts, float32, tfjs-wasm here) is timed in the same run: its
// train step is the forward, Eq. 1 and tfjs autodiff with tf.train.adam; its generation column
// is the forward of the 4,500 z alone (sampling, decoding and dedup not included, so the ratio
// understates the gap).
// Usage: node benchmarks/agnet.js [--threads 2] [--repeat 20]   (run `npx tsc` first)
const os = require('os')
const fs = require('fs')
const path = require('path')
const { spawnSync } = require('child_process')
const { Random } = require('../dist/lib/random')
const { Mat, Tape, Adam, reconstructionLoss } = require('../dist/lib/models/agnet')
const { AgNetNative } = require('../dist/lib/models/agnet-native')
const { AgNetTfGenerator } = require('../dist/lib/models/agnet-tf')
const { initTfBackend } = require('../dist/lib/models/backend')
const { agnetLoadWeights, AGNET_NB201_WEIGHTS, AGNET_NB201_SPACE, agnetSampleGraph } = require('../dist/lib/search/agnet')
const { AGNET_NB201_EDGES, agnetEdgeCount, agnetNb201DecodeGraph } = require('../dist/lib/encode/agnet')
const { machine, printTable, fmt, ratio, findPython, cliArgs } = require('./peers')

const { number } = cliArgs()
const THREADS = number('--threads', 2)
const REPEAT = number('--repeat', 20)
const GEN = 4500
const SHAPE = AGNET_NB201_SPACE.shape

function best (fn, repeat) {
  fn()
  let ms = Infinity
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint()
    fn()
    ms = Math.min(ms, Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return ms
}

async function main () {
  const load = os.loadavg().map(v => v.toFixed(2)).join(', ')
  const gen = agnetLoadWeights(AGNET_NB201_WEIGHTS, SHAPE)
  const random = new Random(1)
  const B = 32
  const M = SHAPE.nodes
  const E = agnetEdgeCount(M)
  const z = Float64Array.from({ length: B * 32 }, () => random.normal())
  const classes = new Uint8Array(B * M)
  const edges = new Uint8Array(B * E)
  for (let r = 0; r < B; r++) AGNET_NB201_SPACE.randomGraph(random, classes, r * M, edges, r * E)
  const zgen = Float64Array.from({ length: GEN * 32 }, () => (2 * random.float() - 1) * 3)
  const rows = []
  const ms = {}

  // Native and JS train steps (each on its own copy of the weights).
  for (const b of [16, 32]) {
    const target = { classes: classes.subarray(0, b * M), edges: edges.subarray(0, b * E), weights: new Float64Array(b).fill(1 / b) }
    const nat = AgNetNative.fromGenerator(gen, { threads: THREADS })
    nat.setAdam({ lr: 2e-4, beta1: 0.5, beta2: 0.999 })
    ms[`native${b}`] = best(() => nat.trainStep(z.subarray(0, b * 32), { target }), REPEAT)
    const js = agnetLoadWeights(AGNET_NB201_WEIGHTS, SHAPE)
    const opt = new Adam(js.params, { lr: 2e-4, beta1: 0.5, beta2: 0.999 })
    ms[`js${b}`] = best(() => {
      const tape = new Tape(true)
      const { out } = js.forward(tape, new Mat(b, 32, z.slice(0, b * 32)))
      reconstructionLoss(SHAPE, out, target.classes, target.edges, target.weights)
      tape.backward()
      opt.update()
    }, Math.max(2, Math.floor(REPEAT / 5)))
  }

  // Generation: native (one call) and JS (tape forward + agnetSampleGraph + decode + dedup).
  const nat = AgNetNative.fromGenerator(gen, { threads: THREADS })
  let natValid = 0
  let natDistinct = 0
  ms.nativeGen = best(() => {
    const g = nat.generate(zgen, new Random(2), 'sample', new Uint8Array(15625))
    natValid = g.index.reduce((s, v) => s + (v >= 0 ? 1 : 0), 0)
    natDistinct = g.fresh.reduce((s, v) => s + v, 0)
  }, Math.max(2, Math.floor(REPEAT / 5)))
  ms.jsGen = best(() => {
    const { out } = gen.forward(new Tape(false), new Mat(GEN, 32, zgen))
    const rnd = new Random(2)
    const cls = new Uint8Array(M)
    const edg = new Uint8Array(E)
    const seen = new Set()
    for (let r = 0; r < GEN; r++) {
      const n = agnetSampleGraph(SHAPE, out, r, rnd, cls, edg, 'sample')
      const ops = agnetNb201DecodeGraph(cls.subarray(0, n), edg.subarray(0, agnetEdgeCount(n)))
      if (ops !== null) seen.add(ops.join(''))
    }
  }, 1)

  // tfjs twin (wasm): train steps and the generation forward.
  const { tf, backend } = await initTfBackend({ backend: 'wasm' })
  const twin = new AgNetTfGenerator(tf, gen)
  const adam = tf.train.adam(2e-4, 0.5, 0.999, 1e-8)
  for (const b of [16, 32]) {
    const zt = tf.tensor2d(Float32Array.from(z.subarray(0, b * 32)), [b, 32])
    const w = new Float64Array(b).fill(1 / b)
    ms[`tfjs${b}`] = best(() => {
      tf.tidy(() => { adam.minimize(() => twin.reconstructionLoss(twin.forward(zt), classes.subarray(0, b * M), edges.subarray(0, b * E), w), false, twin.variables) })
    }, Math.max(2, Math.floor(REPEAT / 5)))
    zt.dispose()
  }
  const zgenT = tf.tensor2d(Float32Array.from(zgen), [GEN, 32])
  ms.tfjsGen = best(() => { tf.tidy(() => twin.forward(zgenT).dataSync()) }, 1)
  zgenT.dispose(); twin.dispose(); adam.dispose()

  // PyTorch peer.
  let torch = null
  let portDiff = null
  const python = findPython(['torch', 'numpy'])
  if (python !== null) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-agnet-'))
    try {
      const file = (name, arr) => { const f = path.join(dir, name); fs.writeFileSync(f, Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength)); return f }
      const args = [path.join(__dirname, 'agnet_torch.py'), file('params.f64', AgNetNative.fromGenerator(gen).params), file('z.f64', z), file('classes.u8', classes),
        file('edges.u8', edges), file('zgen.f64', zgen), String(THREADS), String(REPEAT), JSON.stringify(Array.from(AGNET_NB201_EDGES))]
      const r = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 26 })
      if (r.status !== 0) throw new Error(`python peer failed: ${r.stderr}`)
      torch = JSON.parse(r.stdout.trim().split('\n').pop())
      const mine = nat.forward(z)
      portDiff = torch.out.reduce((m, v, i) => Math.max(m, Math.abs(v - mine[i])), 0)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }

  const torchMs = { 16: torch?.step16, 32: torch?.step32 }
  for (const b of [16, 32]) {
    rows.push({
      work: `train step, batch ${b} (forward, Eq. 1, backward, Adam)`,
      native: fmt(ms[`native${b}`]),
      'JS tape': fmt(ms[`js${b}`]),
      PyTorch: fmt(torchMs[b]),
      'tfjs twin': fmt(ms[`tfjs${b}`]),
      'JS / native': ratio(ms[`js${b}`], ms[`native${b}`]),
      'tfjs / native': ratio(ms[`tfjs${b}`], ms[`native${b}`]),
      'PyTorch / native': ratio(torchMs[b], ms[`native${b}`])
    })
  }
  rows.push({
    work: `generate from ${GEN} z (forward, sample, decode, valid, dedup)`,
    native: fmt(ms.nativeGen),
    'JS tape': fmt(ms.jsGen),
    PyTorch: fmt(torch?.generate),
    'tfjs twin': `${fmt(ms.tfjsGen)} (forward only)`,
    'JS / native': ratio(ms.jsGen, ms.nativeGen),
    'tfjs / native': ratio(ms.tfjsGen, ms.nativeGen),
    'PyTorch / native': ratio(torch?.generate, ms.nativeGen)
  })
  console.log(`AG-Net generator (NB-201, 42,474 parameters, float64), ${THREADS} thread(s), best of ${REPEAT}; ${machine()}; load average before: ${load}, after: ${os.loadavg().map(v => v.toFixed(2)).join(', ')}`)
  printTable('AG-Net generator: native vs JS tape vs PyTorch vs the tfjs twin (same run)', ['work', 'native', 'JS tape', 'PyTorch', 'tfjs twin', 'JS / native', 'PyTorch / native', 'tfjs / native'], rows)
  console.log(`\nnative generation: ${natValid} valid, ${natDistinct} distinct of ${GEN}` + (torch !== null ? `; PyTorch: ${torch.valid} valid, ${torch.distinct} distinct (torch ${torch.torch}, ${torch.threads} threads)` : ''))
  console.log(python === null ? 'PyTorch peer skipped: no python3 with torch and numpy' : `PyTorch port check: max |out − native out| on 32 rows = ${portDiff.toExponential(2)}`)
  console.log(`tfjs twin: tfjs ${tf.version.tfjs} ${backend}, float32 (lib/models/agnet-tf.ts)`)
  console.log(`pretraining throughput at batch 32: native ${(1000 / ms.native32).toFixed(1)} steps/s → 78,125 steps in ${(78125 * ms.native32 / 60000).toFixed(1)} min`)
  console.log(JSON.stringify({ benchmark: 'agnet', threads: THREADS, repeat: REPEAT, ms, torch: torch === null ? null : { step16: torch.step16, step32: torch.step32, generate: torch.generate }, portDiff }))
}

main().catch(err => { console.error(err); process.exit(1) })
