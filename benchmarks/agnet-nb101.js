#!/usr/bin/env node
'use strict'
// AG-Net on NAS-Bench-101: where one search iteration's candidate generation spends its time
// (4,500 z ~ U(−3, 3)^32 on the shipped NB-101 weights): the native forward, then sampling and
// decoding in JS (node classes, edges, agnetNb101Graph, nb101.check with its module hash, the
// hash's index in the enumerated space), against the NB-201 generation, which runs all of it
// natively (AgNetNative.generate), in the same run. Also a training step of batch 16 on each
// shape. Usage: node benchmarks/agnet-nb101.js [--threads 2] [--repeat 5]   (run `npx tsc` first)
const { Random } = require('../dist/lib/random')
const { Mat } = require('../dist/lib/models/agnet')
const { AgNetNative } = require('../dist/lib/models/agnet-native')
const { agnetLoadWeights, agnetSampleGraph, AGNET_NB101_SPACE, AGNET_NB201_SPACE, AGNET_NB101_WEIGHTS, AGNET_NB201_WEIGHTS } = require('../dist/lib/search/agnet')
const { agnetEdgeCount } = require('../dist/lib/encode/agnet')
const { machine, printTable, fmt, ratio, cliArgs } = require('./peers')

const { number } = cliArgs()
const THREADS = number('--threads', 2)
const REPEAT = number('--repeat', 5)
const GEN = 4500

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

function zs (seed) {
  const r = new Random(seed)
  return Float64Array.from({ length: GEN * 32 }, () => (2 * r.float() - 1) * 3)
}

const n101 = AgNetNative.fromGenerator(agnetLoadWeights(AGNET_NB101_WEIGHTS, AGNET_NB101_SPACE.shape), { threads: THREADS })
const n201 = AgNetNative.fromGenerator(agnetLoadWeights(AGNET_NB201_WEIGHTS, AGNET_NB201_SPACE.shape), { threads: THREADS })
const z = zs(1)
AGNET_NB101_SPACE.decode(new Uint8Array(7), 2, new Uint8Array(21)) // enumerate the space once, outside the timings
let out101 = null
const fwd101 = best(() => { out101 = new Mat(GEN, n101.length, n101.forward(z)) }, REPEAT)
let valid = 0
const decode101 = best(() => {
  const random = new Random(2)
  const cls = new Uint8Array(7)
  const edg = new Uint8Array(agnetEdgeCount(7))
  valid = 0
  for (let r = 0; r < GEN; r++) {
    const nodes = agnetSampleGraph(AGNET_NB101_SPACE.shape, out101, r, random, cls, edg)
    if (AGNET_NB101_SPACE.decode(cls, nodes, edg) >= 0) valid++
  }
}, REPEAT)
let valid201 = 0
const gen201 = best(() => {
  const g = n201.generate(z, new Random(2), 'sample', new Uint8Array(15625))
  valid201 = 0
  for (let i = 0; i < GEN; i++) if (g.index[i] >= 0) valid201++
}, REPEAT)
const step = (nat, space, seed) => {
  const random = new Random(seed)
  const M = space.shape.nodes
  const classes = new Uint8Array(16 * M)
  const edges = new Uint8Array(16 * agnetEdgeCount(M))
  for (let r = 0; r < 16; r++) space.randomGraph(random, classes, r * M, edges, r * agnetEdgeCount(M))
  const zz = Float64Array.from({ length: 16 * 32 }, () => random.normal())
  nat.setAdam({ lr: 0 })
  return best(() => nat.trainStep(zz, { target: { classes, edges, weights: new Float64Array(16).fill(1 / 16) } }), REPEAT * 4)
}
const step101 = step(n101, AGNET_NB101_SPACE, 3)
const step201 = step(n201, AGNET_NB201_SPACE, 3)
console.log(`${machine()}; ${THREADS} threads; best of ${REPEAT}`)
const row = (work, ms, note) => ({ work, ms, note })
printTable('AG-Net candidate generation and training step, NB-101 against NB-201', ['work', 'ms', 'note'], [
  row('NB-101, 4,500 z: native forward', fmt(fwd101), ''),
  row('NB-101, 4,500 z: sampling + decode + nb101.check + hash index (JS)', fmt(decode101), `${valid} valid`),
  row('NB-101, 4,500 z: total', fmt(fwd101 + decode101), ''),
  row('NB-201, 4,500 z: AgNetNative.generate (all native)', fmt(gen201), `${valid201} valid`),
  row('NB-101 total / NB-201 generate', ratio(fwd101 + decode101, gen201), ''),
  row('train step batch 16: NB-101', fmt(step101), ''),
  row('train step batch 16: NB-201', fmt(step201), ''),
  row('NB-101 step / NB-201 step', ratio(step101, step201), '')
])
