#!/usr/bin/env node
'use strict'
// The gradients of ReNAS's dense layers (flatten 256 → 120 → 84 → 1, ReLU) on the tfjs wasm
// backend: matMul2d (lib/models/matmul.ts: explicit transposes, then untransposed products)
// against tfjs' own gradient of tf.matMul (the peer: products with transpose flags), same
// weights and inputs, for the batch sizes of Table 5 (90) and of Table 1 at 0.1 % (424).
// Usage: node benchmarks/dense-grad.js [--repeat 50]   (run `npx tsc` first)
const { initTfBackend } = require('..')
const { matMul2d } = require('../dist/lib/models/matmul')
const { machine, printTable, fmt, ratio, rng, cliArgs } = require('./peers')

const { number } = cliArgs()
const REPEAT = number('--repeat', 50)

async function main () {
  const { tf, backend } = await initTfBackend({ backend: 'wasm' })
  const rand = rng(1)
  const tensor = shape => tf.tensor(Float32Array.from({ length: shape.reduce((a, d) => a * d, 1) }, () => rand() - 0.5), shape)
  const weights = [tensor([256, 120]), tensor([120, 84]), tensor([84, 1])]
  const rows = []
  const json = []
  for (const n of [90, 424]) {
    const x = tensor([n, 256])
    const stack = mm => (xv, w1, w2, w3) => tf.sum(mm(tf.relu(mm(tf.relu(mm(xv, w1)), w2)), w3))
    const grads = {
      'tf.matMul (tfjs gradient)': tf.grads(stack((a, b) => tf.matMul(a, b))),
      matMul2d: tf.grads(stack((a, b) => matMul2d(tf, a, b)))
    }
    const ms = {}
    let reference = null
    for (const [name, g] of Object.entries(grads)) {
      const run = () => { const out = g([x, ...weights]); const data = out.map(t => t.dataSync()); tf.dispose(out); return data }
      const first = run()
      if (reference === null) reference = first
      else {
        // Largest difference relative to the largest entry of that gradient (float32 rounding).
        let worst = 0
        first.forEach((d, k) => {
          const scale = reference[k].reduce((a, v) => Math.max(a, Math.abs(v)), 1e-12)
          d.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - reference[k][i]) / scale) })
        })
        if (worst > 1e-3) throw new Error(`dense-grad: matMul2d's gradients differ from tfjs' by ${worst}`)
      }
      const t0 = performance.now()
      for (let r = 0; r < REPEAT; r++) run()
      ms[name] = (performance.now() - t0) / REPEAT
    }
    x.dispose()
    const peer = ms['tf.matMul (tfjs gradient)']
    rows.push({ batch: n, 'tf.matMul (tfjs gradient)': fmt(peer), matMul2d: fmt(ms.matMul2d), 'speed-up': ratio(peer, ms.matMul2d) })
    json.push({ batch: n, tfjs_ms: peer, matmul2d_ms: ms.matMul2d })
  }
  tf.dispose(weights)
  console.log(`machine: ${machine()}; tfjs backend ${backend}; forward + backward of the dense stack 256 → 120 → 84 → 1, mean of ${REPEAT}`)
  printTable('ReNAS dense layers, gradients of all inputs and weights', ['batch', 'tf.matMul (tfjs gradient)', 'matMul2d', 'speed-up'], rows)
  console.log(JSON.stringify({ benchmark: 'dense-grad', repeat: REPEAT, results: json }))
}

main().catch(err => { console.error(err); process.exitCode = 1 })
