#!/usr/bin/env node
'use strict'
// Does retraining break the generator's decodes everywhere, or only for candidate z far from
// the z it is trained on? The shipped generator is retrained as a search's first iteration
// retrains it on its reconstruction term (Eq. 1 only: no surrogate, so no bench is needed):
// 16 random NB-201 cells, rank weights of Eq. 3 on random values, 30 epochs of one batch of 16
// draws ∝ w, z ~ N(0, I), Adam (lr, β (0.5, 0.999)). After steps 0, 1, 2, 5, 10, 20, 30 the
// share of valid decodes (sampled edges, as the search) of 4,500 candidate z is printed for
// z ~ U(−3, 3)^32 (the authors' candidates) and z ~ N(0, I) (the training distribution), and
// why the invalid U(−3, 3) decodes fail: cut (an output class drawn before node 7), edges (8
// nodes, but an edge bit off the NB-201 DAG) or class (an input class among nodes 1–6).
// --warmup W: the search's linear warm-up (settings.warmupSteps): step t at lr·min(1, t/W);
// --wd: Adam's weight decay (the HW variant: 1e-4); --steps: how many steps (checkpoints at
// 0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120 up to it).
// Usage: node tools/agnet-latent-validity.js [--seeds 5] [--lr 1e-3] [--warmup 0] [--wd 0] [--steps 30]
const { Random } = require('../dist/lib/random')
const { AgNetNative } = require('../dist/lib/models/agnet-native')
const { agnetLoadWeights, AGNET_NB201_WEIGHTS, AGNET_NB201_SPACE, agnetRankWeights, agnetWarmupLr, drawProportional } = require('../dist/lib/search/agnet')
const { AGNET_NB201_EDGES, agnetNb201Classes } = require('../dist/lib/encode/agnet')
const { cliArgs } = require('../benchmarks/peers')

const { number } = cliArgs()
const seeds = number('--seeds', 5)
const lr = number('--lr', 1e-3)
const warmup = number('--warmup', 0)
const wd = number('--wd', 0)
const steps = number('--steps', 30)
const draws = 4500
const shape = AGNET_NB201_SPACE.shape
const M = shape.nodes
const E = AGNET_NB201_EDGES.length

const why = { cut: 0, edges: 0, class: 0 }
function validity (nat, kind, seed) {
  const random = new Random(1000 + seed, 7)
  const z = new Float64Array(draws * 32)
  for (let i = 0; i < z.length; i++) z[i] = kind === 'uniform' ? (2 * random.float() - 1) * 3 : random.normal()
  const r = nat.generate(z, random, 'sample', null)
  let valid = 0
  for (let i = 0; i < draws; i++) {
    if (r.index[i] >= 0) { valid++; continue }
    if (kind !== 'uniform') continue
    if (r.length[i] < M) why.cut++
    else if (AGNET_NB201_EDGES.some((e, k) => r.edges[i * E + k] !== e)) why.edges++
    else why.class++
  }
  return valid / draws
}

const at = new Set([0, 1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 60, 90, 120, steps].filter(s => s <= steps))
const sum = new Map()
for (let seed = 0; seed < seeds; seed++) {
  const gen = agnetLoadWeights(AGNET_NB201_WEIGHTS, shape)
  const nat = AgNetNative.fromGenerator(gen)
  nat.setAdam({ lr, beta1: 0.5, beta2: 0.999, weightDecay: wd })
  const random = new Random(seed, 11)
  const ops = Array.from({ length: 16 }, () => Uint8Array.from({ length: 6 }, () => random.int(5)))
  const w = agnetRankWeights(Array.from({ length: 16 }, () => random.float()), 0.01)
  const line = []
  for (let step = 0; step <= steps; step++) {
    if (at.has(step)) {
      const u = validity(nat, 'uniform', seed)
      const n = validity(nat, 'normal', seed)
      line.push(`${step}: ${(100 * u).toFixed(0)}/${(100 * n).toFixed(0)}`)
      const s = sum.get(step) ?? [0, 0]
      sum.set(step, [s[0] + u, s[1] + n])
    }
    if (step === steps) break
    nat.optimizer.lr = agnetWarmupLr(lr, warmup, step + 1)
    const pick = drawProportional(w, 16, random)
    const classes = new Uint8Array(16 * M)
    const edges = new Uint8Array(16 * E)
    const weights = new Float64Array(16)
    for (let r = 0; r < 16; r++) {
      agnetNb201Classes(ops[pick[r]], 0, classes.subarray(r * M, (r + 1) * M))
      edges.set(AGNET_NB201_EDGES, r * E)
      weights[r] = w[pick[r]] / 16
    }
    const z = new Float64Array(16 * 32)
    for (let i = 0; i < z.length; i++) z[i] = random.normal()
    nat.trainStep(z, { target: { classes, edges, weights } })
  }
  console.log(`seed ${seed} (step: % valid U(-3,3) / N(0,I)) ${line.join('  ')}`)
}
console.log(`invalid U(-3,3) decodes over all checkpoints: ${why.cut} cut, ${why.edges} edges, ${why.class} class`)
console.log(`mean over ${seeds} seeds, lr ${lr}, warm-up ${warmup}, wd ${wd}: ` + [...sum].map(([s, [u, n]]) => `${s}: ${(100 * u / seeds).toFixed(1)}/${(100 * n / seeds).toFixed(1)}`).join('  '))
