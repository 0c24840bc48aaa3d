#!/usr/bin/env node
'use strict'
// ReNAS-6 training step on 424 architectures (the paper's 0.1% of NAS-Bench-101), batch = all
// 424: every pair (L1) and every triplet (L2) of the training set in each step.
//
// 1. Where a training step's time goes (FitReport.timing averaged over --steps steps): the
//    native loss kernels (forward and backward are one call) vs tfjs (LeNet-5 forward and
//    backward, the distance matrix and its backward, data upload) vs the Adam update.
// 2. The loss alone, L = L1 + λ·L2 with its gradient with respect to the scores ε [n] and the
//    features η [n, 84]: the native customGrad ops against a tfjs peer that computes the same
//    sums by O(n²) / O(n³) broadcasting and differentiates them with tfjs autodiff, in the
//    same process, on the same backend, same inputs; both results are compared.
//    The full n³ broadcast (76M elements per tensor at n = 424, ~6 such tensors live in the
//    backward pass) exceeds the wasm heap, so the peer broadcasts over blocks of anchors i
//    (--block anchors × n × n per tensor, default 32), accumulating loss and gradient per
//    block: the same O(n³) elementwise work, bounded memory.
//
// Usage: node benchmarks/renas-train.js [--n 424] [--steps 5] [--reps 3] [--block 32] [--json-only]
//   (run `npx tsc` first: the package root resolves dist/lib/index.js)
// Inputs: random 19×7×7 binary feature tensors with a smooth synthetic target (the NB-101
// encoder lives on another branch); the shapes and the loss work are those of the real task.
// Backend: tfjs wasm (the CPU fallback; tfjs-node cannot be installed here).

const { ReNASPredictor, pairwiseRankLossTf, tripletRankLossTf, pairwiseDistancesTf, Random, nativeInfo } = require('..')
const { cliArgs } = require('./peers')

const { number: option, flag } = cliArgs()
const N = option('--n', 424)
const STEPS = option('--steps', 5)
const REPS = option('--reps', 3)
const BLOCK = option('--block', 32)
const JSON_ONLY = flag('--json-only')
const LAMBDA = 1
const MARGIN = 1

function synth (n, seed) {
  const r = new Random(seed)
  const w = new Random(999)
  const C = 19
  const a = Float64Array.from({ length: C }, () => w.normal())
  const data = new Float32Array(n * C * 49)
  const y = new Float64Array(n)
  for (let k = 0; k < n; k++) {
    let s = 0
    for (let c = 0; c < C; c++) {
      const density = 0.1 + 0.5 * r.float()
      let count = 0
      for (let i = 0; i < 49; i++) {
        const v = r.float() < density ? 1 : 0
        data[k * C * 49 + c * 49 + i] = v
        count += v
      }
      s += a[c] * count / 49
    }
    y[k] = Math.tanh(2 * s / Math.sqrt(C)) + 0.02 * r.normal()
  }
  return { batch: { count: n, shape: [C, 7, 7], data }, y }
}

function ms (t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6
}

// --- the tfjs broadcast peer -------------------------------------------------------------
// Eq. 3 by an n×n broadcast: Σ_{i<j} relu(m − (p_i − p_j)·s_ij) / #comparable.
function pairwiseSigns (y) {
  const n = y.length
  const s = new Float32Array(n * n)
  let comparable = 0
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const v = Math.sign(y[i] - y[j])
      s[i * n + j] = v
      if (v !== 0) comparable++
    }
  }
  return { s, comparable }
}
function pairwiseBroadcast (tf, pred, S, absS, comparable) {
  const n = pred.shape[0]
  const z = tf.mul(tf.sub(tf.reshape(pred, [n, 1]), tf.reshape(pred, [1, n])), S)
  return tf.div(tf.sum(tf.mul(tf.relu(tf.sub(MARGIN, z)), absS)), comparable)
}
// Eq. 4 for anchors i0..i1−1 by a (i1−i0)×n×n broadcast (sum, not yet divided).
function tripletSigns (y, i0, i1) {
  const n = y.length
  const s = new Float32Array((i1 - i0) * n * n)
  let comparable = 0
  for (let i = i0; i < i1; i++) {
    for (let j = i + 1; j < n; j++) {
      const lij = Math.abs(y[i] - y[j])
      for (let k = j + 1; k < n; k++) {
        const v = Math.sign(lij - Math.abs(y[i] - y[k]))
        s[((i - i0) * n + j) * n + k] = v
        if (v !== 0) comparable++
      }
    }
  }
  return { s, comparable }
}
function tripletBlock (tf, dist, S, i0, i1) {
  const n = dist.shape[0]
  const rows = tf.slice(dist, [i0, 0], [i1 - i0, n])
  const z = tf.mul(tf.sub(tf.reshape(rows, [i1 - i0, n, 1]), tf.reshape(rows, [i1 - i0, 1, n])), S)
  return tf.sum(tf.mul(tf.relu(tf.sub(MARGIN, z)), tf.abs(S)))
}

/** Peer: loss and gradients (w.r.t. ε and η) of L1 + λ·L2 by broadcasting. */
function peerLossAndGrads (tf, eps, eta, y, prepared) {
  const { pair, blocks, tripletComparable } = prepared
  // L1 and its gradient (one n×n broadcast).
  const l1 = tf.valueAndGrad(p => pairwiseBroadcast(tf, p, pair.S, pair.absS, pair.comparable))(eps)
  // L2: distances (the same op as the native path), then the loss and its gradient with
  // respect to the distance matrix block by block, then back through the distances.
  const dist = pairwiseDistancesTf(tf, eta)
  let l2sum = 0
  let gDist = tf.zerosLike(dist)
  for (const b of blocks) {
    const r = tf.valueAndGrad(d => tripletBlock(tf, d, b.S, b.i0, b.i1))(dist)
    l2sum += r.value.dataSync()[0]
    const next = tf.add(gDist, r.grad)
    tf.dispose([gDist, r.value, r.grad])
    gDist = next
  }
  const scale = tripletComparable > 0 ? LAMBDA / tripletComparable : 0
  const dy = tf.mul(gDist, scale)
  const gEta = tf.grad(f => pairwiseDistancesTf(tf, f))(eta, dy)
  const loss = l1.value.dataSync()[0] + scale * l2sum
  const out = { loss, gEps: l1.grad.dataSync(), gEta: gEta.dataSync() }
  tf.dispose([l1.value, l1.grad, dist, gDist, dy, gEta])
  return out
}

function nativeLossAndGrads (tf, eps, eta, y, timing) {
  const { value, grads } = tf.tidy(() => tf.valueAndGrads((p, f) => tf.add(
    pairwiseRankLossTf(tf, p, y, { margin: MARGIN, timing }),
    tf.mul(tripletRankLossTf(tf, f, y, { margin: MARGIN, timing }), LAMBDA)))([eps, eta]))
  const out = { loss: value.dataSync()[0], gEps: grads[0].dataSync(), gEta: grads[1].dataSync() }
  tf.dispose([value, grads])
  return out
}

function maxRel (a, b) {
  let scale = 1e-12
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]))
  let worst = 0
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale)
  return worst
}

async function main () {
  const tf = require('@tensorflow/tfjs')
  require('@tensorflow/tfjs-backend-wasm')
  await tf.setBackend('wasm')
  await tf.ready()
  const { batch, y } = synth(N, 1)

  // 1. Training steps (one batch of all n per epoch).
  const warm = new ReNASPredictor({ variant: 'renas-6', epochs: 1, batchSize: 1024, tf })
  await warm.fit(batch, y)
  warm.dispose()
  const p = new ReNASPredictor({ variant: 'renas-6', epochs: STEPS, batchSize: 1024, tf })
  const report = await p.fit(batch, y)
  const t = report.timing
  const perStep = {
    nativeLossMs: t.nativeLossMs / report.steps,
    tfForwardBackwardMs: t.modelMs / report.steps,
    optimizerMs: t.optimizerMs / report.steps,
    dataMs: t.dataMs / report.steps
  }
  perStep.stepMs = perStep.nativeLossMs + perStep.tfForwardBackwardMs + perStep.optimizerMs

  // 2. The loss alone: native customGrad vs the tfjs broadcast peer, on features from the model.
  const r = new Random(2)
  const eps = tf.tensor1d(Float32Array.from({ length: N }, () => r.normal()))
  const eta = tf.tensor2d(Float32Array.from({ length: N * 84 }, () => Math.max(0, r.normal())), [N, 84])
  const timing = { ms: 0, calls: 0 }
  nativeLossAndGrads(tf, eps, eta, y, timing) // warm-up
  let nativeBest = Infinity
  let nativeKernelBest = Infinity
  let native
  for (let k = 0; k < REPS; k++) {
    timing.ms = 0
    const t0 = process.hrtime.bigint()
    native = nativeLossAndGrads(tf, eps, eta, y, timing)
    nativeBest = Math.min(nativeBest, ms(t0))
    nativeKernelBest = Math.min(nativeKernelBest, timing.ms)
  }
  // Peer: constant sign tensors prepared once (not timed: a tfjs user would also precompute them).
  const ps = pairwiseSigns(y)
  const pair = { S: tf.tensor2d(ps.s, [N, N]), absS: tf.abs(tf.tensor2d(ps.s, [N, N])), comparable: ps.comparable }
  const blocks = []
  let tripletComparable = 0
  for (let i0 = 0; i0 < N; i0 += BLOCK) {
    const i1 = Math.min(N, i0 + BLOCK)
    const ts = tripletSigns(y, i0, i1)
    tripletComparable += ts.comparable
    blocks.push({ i0, i1, S: tf.tensor3d(ts.s, [i1 - i0, N, N]) })
  }
  const prepared = { pair, blocks, tripletComparable }
  let peerBest = Infinity
  let peer
  for (let k = 0; k < Math.max(1, Math.min(REPS, 2)); k++) {
    const t0 = process.hrtime.bigint()
    peer = peerLossAndGrads(tf, eps, eta, y, prepared)
    peerBest = Math.min(peerBest, ms(t0))
  }
  const agreement = {
    loss: Math.abs(native.loss - peer.loss) / Math.max(1, Math.abs(peer.loss)),
    gradEps: maxRel(native.gEps, peer.gEps),
    gradEta: maxRel(native.gEta, peer.gEta)
  }
  tf.dispose([eps, eta, pair.S, pair.absS, ...blocks.map(b => b.S)])
  p.dispose()

  const info = nativeInfo()
  const result = {
    benchmark: 'renas-train',
    env: { node: process.version, tfjs: tf.version.tfjs, backend: tf.getBackend(), threads: info.threads, cpu: info.cpu, build: info.buildSystem },
    n: N,
    pairs: N * (N - 1) / 2,
    triplets: N * (N - 1) * (N - 2) / 6,
    trainingStep: { steps: report.steps, ...perStep, lossShare: report.lossShare },
    loss: {
      nativeMs: nativeBest,
      nativeKernelMs: nativeKernelBest,
      peerMs: peerBest,
      peerBlock: BLOCK,
      ratio: peerBest / nativeBest,
      agreement
    }
  }
  if (!JSON_ONLY) {
    const f = v => `${v.toFixed(1)} ms`
    console.log(`ReNAS-6 training on n = ${N} (batch = all: ${result.pairs} pairs, ${result.triplets.toExponential(3)} triplets), tfjs ${tf.version.tfjs} ${tf.getBackend()}, ${info.threads} native threads, node ${process.version}`)
    console.log('Timings are provisional: 2 cores shared with other jobs.')
    console.log('')
    console.log(`Training step (mean of ${report.steps} steps):`)
    console.log('')
    console.log('| part | time | share |')
    console.log('|---|---:|---:|')
    console.log(`| native loss kernels (L1 + L2, forward + backward) | ${f(perStep.nativeLossMs)} | ${(100 * perStep.nativeLossMs / perStep.stepMs).toFixed(1)}% |`)
    console.log(`| tfjs forward + backward (LeNet-5, distances) | ${f(perStep.tfForwardBackwardMs)} | ${(100 * perStep.tfForwardBackwardMs / perStep.stepMs).toFixed(1)}% |`)
    console.log(`| Adam update + weight decay | ${f(perStep.optimizerMs)} | ${(100 * perStep.optimizerMs / perStep.stepMs).toFixed(1)}% |`)
    console.log(`| step total | ${f(perStep.stepMs)} | 100% |`)
    console.log(`| (batch assembly, not in the step) | ${f(perStep.dataMs)} | |`)
    console.log('')
    console.log('Loss L = L1 + λ·L2 with gradients w.r.t. ε and η (best of runs):')
    console.log('')
    console.log('| implementation | time | ratio |')
    console.log('|---|---:|---:|')
    console.log(`| native kernels in tf.customGrad (whole op) | ${f(nativeBest)} | 1× |`)
    console.log(`| … of which inside the native kernels | ${f(nativeKernelBest)} | |`)
    console.log(`| tfjs O(n²)/O(n³) broadcast + autodiff (anchor blocks of ${BLOCK}) | ${f(peerBest)} | ${result.loss.ratio.toFixed(1)}× slower |`)
    console.log('')
    console.log(`Agreement (max rel. diff): loss ${agreement.loss.toExponential(1)}, ∂/∂ε ${agreement.gradEps.toExponential(1)}, ∂/∂η ${agreement.gradEta.toExponential(1)}`)
    console.log('')
  }
  console.log(JSON.stringify(result))
  if (agreement.loss > 1e-3 || agreement.gradEps > 1e-3 || agreement.gradEta > 1e-2) {
    console.error('native and peer disagree')
    process.exitCode = 1
  }
}

main().catch(err => {
  console.error(err)
  process.exitCode = 1
})
