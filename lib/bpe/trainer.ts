// The live trainer of MIP-BPE: trains NAS-Bench-201 cells with tfjs (any backend; the wasm
// backend on CPU machines) on an image set and returns the best validation top-1 over epochs.
//
// Network — NAS-Bench-201's skeleton, generalised (C channels, N cells per stage, any square
// image side, any input channels and classes): stem conv3×3 + BN; three stages of N cells at
// C, 2C, 4C channels, a ResNet reduction block between stages (ReLU-conv3×3 stride 2-BN,
// ReLU-conv3×3-BN, shortcut 2×2 average pool (⌈H/2⌉, padding excluded) + conv1×1; sum);
// BN-ReLU, global average pool, fully connected. A cell: node j = Σ_{i<j} op_ij(node i) over
// its six edges, ops none / skip / ReLU-conv1×1-BN / ReLU-conv3×3-BN / avg_pool_3×3 (stride 1,
// padding excluded). Convolutions have no bias; BN is affine, batch statistics in training
// and running statistics (momentum 0.1, unbiased variance, ε 1e-5, as PyTorch) in evaluation.
// Every edge of the six is built, as in NAS-Bench-201's count: params equal nb201.params and
// MACs equal nb201.flops at C 16, N 5, 32 px, 3 input channels, 10 classes (a test checks it).
// Initialisation (seeded xoshiro128**): conv weights N(0, 2/fan_out) (He, fan-out), FC
// U(±1/√fan_in), biases 0, BN γ 1, β 0. Parameters the loss does not reach (edges out of a node
// that does not feed the output) get no gradient and no update, as in PyTorch.
//
// Training (the MIP authors' augment.py, DARTS's recipe, without auxiliary head or drop path):
// SGD momentum 0.9 (PyTorch's form: buf = 0.9·buf + g; w −= lr·buf), weight decay 3e-4 on every
// parameter, gradients clipped to global norm 5 before the decay is added (as clip_grad_norm_
// then step), learning rate cosine-annealed per epoch to 0 (lr·½(1 + cos(π·e/E)), e = 0…E−1),
// cross-entropy; the training images reshuffled each epoch. Batches come from images.ts
// (area resize, crop + flip, normalise, cutout). R_b = the best validation top-1 over epochs
// (the final epoch's is kept too). A non-finite loss stops the run: diverged, chance accuracy.
// Cells with no input→output path are not trained: chance accuracy (100/classes), 0 seconds.
import type { Scalar, Tensor, Tensor1D, Tensor2D, Tensor4D, Variable } from '@tensorflow/tfjs'
import type { Tf } from '../models/backend'
import { conv2dSame } from '../models/conv'
import type { ImageSet } from '../data/idx'
import { Random } from '../random'
import { nb201, NB201_EDGES } from '../spaces/nb201'
import { checkImageSide, prepareBatch } from './images'

export interface NetShape {
  channels: number
  /** Cells per stage (N). */
  cells: number
  image: number
  inChannels: number
  classes: number
}

interface Bn { gamma: Variable, beta: Variable, mean: Variable, variance: Variable, pending?: [Tensor, Tensor], corr: number }

/** An NB-201 network (see the module comment). */
export interface Nb201Net {
  /** Trainable variables, in a fixed order. */
  readonly variables: Variable[]
  /** Trainable parameters (sum of the variables' sizes). */
  readonly params: number
  /** Multiply-accumulates of one forward pass of one image (convolutions and the classifier). */
  readonly flops: number
  /** Logits [n, classes]; training: batch-norm statistics from the batch (running ones updated by commitStats). */
  forward: (x: Tensor4D, training: boolean) => Tensor2D
  /** Folds the batch statistics of the last training forward pass into the running ones. */
  commitStats: () => void
  dispose: () => void
}

/** Builds the network for a cell (6 op codes). */
export function buildNb201Net (tf: Tf, arch: ArrayLike<number>, shape: NetShape, seed: number): Nb201Net {
  const rng = new Random(seed, 0x5eed)
  const variables: Variable[] = []
  const all: Variable[] = []
  const bns: Bn[] = []
  let flops = 0
  const variable = (values: Float32Array, dims: number[], trainable = true): Variable => {
    const init = tf.tensor(values, dims)
    const v = tf.variable(init, trainable)
    init.dispose()
    all.push(v)
    if (trainable) variables.push(v)
    return v
  }
  const convW = (k: number, cin: number, cout: number, out: number): Variable => {
    const sd = Math.sqrt(2 / (k * k * cout))
    const w = new Float32Array(k * k * cin * cout)
    for (let i = 0; i < w.length; i++) w[i] = sd * rng.normal()
    flops += k * k * cin * cout * out * out
    return variable(w, [k, k, cin, cout])
  }
  const bn = (c: number): Bn => {
    const b: Bn = { gamma: variable(new Float32Array(c).fill(1), [c]), beta: variable(new Float32Array(c), [c]), mean: variable(new Float32Array(c), [c], false), variance: variable(new Float32Array(c).fill(1), [c], false), corr: 1 }
    bns.push(b)
    return b
  }
  const applyBn = (b: Bn, x: Tensor4D, training: boolean): Tensor4D => {
    if (!training) return tf.add(tf.mul(tf.sub(x, b.mean), tf.mul(tf.rsqrt(tf.add(b.variance, 1e-5)), b.gamma)), b.beta)
    const { mean, variance } = tf.moments(x, [0, 1, 2])
    b.pending?.forEach(t => t.dispose())
    b.pending = [tf.keep(mean), tf.keep(variance)]
    const count = x.shape[0] * x.shape[1] * x.shape[2]
    b.corr = count > 1 ? count / (count - 1) : 1
    return tf.add(tf.mul(tf.sub(x, mean), tf.mul(tf.rsqrt(tf.add(variance, 1e-5)), b.gamma)), b.beta)
  }
  type Layer = (x: Tensor4D, training: boolean) => Tensor4D
  const reluConvBn = (k: number, cin: number, cout: number, stride: 1 | 2, out: number): Layer => {
    const w = convW(k, cin, cout, out); const b = bn(cout)
    return (x, training) => applyBn(b, conv2dSame(tf, tf.relu(x), w, true, stride), training)
  }
  const c0 = shape.channels
  const stages = [c0, 2 * c0, 4 * c0]
  const sides = [shape.image, Math.ceil(shape.image / 2), Math.ceil(Math.ceil(shape.image / 2) / 2)]
  const stemW = convW(3, shape.inChannels, c0, shape.image); const stemBn = bn(c0)
  const layers: Layer[] = [(x, training) => applyBn(stemBn, conv2dSame(tf, x, stemW, false), training)]
  const ops = Array.from(arch, Number)
  for (let s = 0; s < 3; s++) {
    const c = stages[s]; const hw = sides[s]
    if (s > 0) {
      const cin = stages[s - 1]
      const a = reluConvBn(3, cin, c, 2, hw)
      const b = reluConvBn(3, c, c, 1, hw)
      const sw = convW(1, cin, c, hw)
      layers.push((x, training) => tf.add(conv2dSame(tf, tf.avgPool(x, 2, 2, 'same'), sw), b(a(x, training), training)))
    }
    for (let n = 0; n < shape.cells; n++) {
      const edges: Array<{ from: number, to: number, op: number, f?: Layer }> = NB201_EDGES.map(([from, to], e) => ({
        from, to, op: ops[e],
        f: ops[e] === 2 ? reluConvBn(1, c, c, 1, hw) : ops[e] === 3 ? reluConvBn(3, c, c, 1, hw) : undefined
      }))
      layers.push((x, training) => {
        const nodes: Tensor4D[] = [x]
        for (let j = 1; j < 4; j++) {
          const terms: Tensor4D[] = []
          for (const e of edges) {
            if (e.to !== j || e.op === 0) continue
            const v = nodes[e.from]
            terms.push(e.op === 1 ? v : e.op === 4 ? tf.avgPool(v, 3, 1, 'same') : (e.f as Layer)(v, training))
          }
          nodes.push(terms.length === 0 ? tf.zerosLike(x) : terms.length === 1 ? terms[0] : tf.addN(terms))
        }
        return nodes[3]
      })
    }
  }
  const last = stages[2]
  const lastBn = bn(last)
  const bound = 1 / Math.sqrt(last)
  const fcW = variable(Float32Array.from({ length: last * shape.classes }, () => bound * (2 * rng.float() - 1)), [last, shape.classes])
  const fcB = variable(new Float32Array(shape.classes), [shape.classes])
  flops += last * shape.classes + shape.classes
  const params = variables.reduce((a, v) => a + v.size, 0)
  return {
    variables,
    params,
    flops,
    forward: (x, training) => {
      let h = x
      for (const l of layers) h = l(h, training)
      const pooled = tf.mean(tf.relu(applyBn(lastBn, h, training)), [1, 2]) as Tensor2D
      return tf.add(tf.matMul(pooled, fcW), fcB)
    },
    commitStats: () => {
      for (const b of bns) {
        if (b.pending === undefined) continue
        const [mean, variance] = b.pending
        tf.tidy(() => {
          b.mean.assign(tf.add(tf.mul(b.mean, 0.9), tf.mul(mean, 0.1)))
          b.variance.assign(tf.add(tf.mul(b.variance, 0.9), tf.mul(variance, 0.1 * b.corr)))
        })
        mean.dispose(); variance.dispose()
        b.pending = undefined
      }
    },
    dispose: () => {
      for (const b of bns) b.pending?.forEach(t => t.dispose())
      all.forEach(v => v.dispose())
    }
  }
}

export interface TrainSetting {
  epochs: number
  batch: number
  lr: number
  /** Cells per stage (Ω's layers). */
  cells: number
  channels: number
  image: number
  cutout: number
}

export interface TrainSplit {
  data: ImageSet
  train: Int32Array
  val: Int32Array
}

/** Held-out validation images of the training file: a fixed permutation (seed `splitSeed`), val first, then train. */
export function splitImages (data: ImageSet, val: number, train?: number, splitSeed = 2017): TrainSplit {
  if (!Number.isInteger(val) || val < 1) throw new RangeError(`--val: must be an integer ≥ 1, got ${val}`)
  if (train !== undefined && (!Number.isInteger(train) || train < 1)) throw new RangeError(`--train-images: must be an integer ≥ 1, got ${train}`)
  const nTrain = train ?? data.n - val
  if (val + nTrain > data.n) throw new RangeError(`--val ${val} + --train-images ${nTrain} is above the ${data.n} images of ${data.label}`)
  const perm = new Random(splitSeed, 0x5b17).shuffle(Int32Array.from({ length: data.n }, (_, i) => i))
  return { data, val: perm.slice(0, val), train: perm.slice(val, val + nTrain) }
}

export interface TrainResult {
  /** Best validation top-1 (%) over epochs: R_b. */
  best: number
  /** The last epoch's validation top-1 (%). */
  final: number
  /** Validation top-1 after each epoch. */
  curve: number[]
  /** Mean training loss of each epoch. */
  losses: number[]
  /** Wall seconds, and the process's CPU seconds over the run. */
  seconds: number
  cpuSeconds: number
  diverged: boolean
  /** True when the cell has no input→output path (not trained: chance accuracy). */
  untrained: boolean
  params: number
  flops: number
}

/** Checks a setting against the data (errors name the option). */
export function checkTrainSetting (s: TrainSetting, data: ImageSet, option = '--omega'): void {
  for (const k of ['epochs', 'batch', 'cells', 'channels'] as const) {
    if (!Number.isInteger(s[k]) || s[k] < 1) throw new RangeError(`${option}: ${k === 'cells' ? 'layers' : k} must be an integer ≥ 1, got ${s[k]}`)
  }
  if (!(s.lr > 0)) throw new RangeError(`${option}: lr must be > 0, got ${s.lr}`)
  checkImageSide(data, s.image, `${option} image`)
  if (!Number.isInteger(s.cutout) || s.cutout < 0 || s.cutout > s.image) throw new RangeError(`${option}: cutout ${s.cutout} must be an integer in 0 … image ${s.image}`)
}

/** Top-1 accuracy (%) of the net on images idx (evaluation mode, batches of 256). */
export function evaluateNet (tf: Tf, net: Nb201Net, split: TrainSplit, idx: Int32Array, image: number): number {
  let correct = 0
  const d = split.data
  for (let at = 0; at < idx.length; at += 256) {
    const part = idx.subarray(at, Math.min(idx.length, at + 256))
    const x = prepareBatch(d, part, { image, augment: false, cutout: 0 }, undefined)
    const pred = tf.tidy(() => tf.argMax(net.forward(tf.tensor4d(x, [part.length, image, image, d.channels]), false), 1).dataSync())
    for (let k = 0; k < part.length; k++) if (pred[k] === d.labels[part[k]]) correct++
  }
  return 100 * correct / idx.length
}

/** Trains one cell under one setting (see the module comment). Same seed ⇒ the same result on the same backend. */
export async function trainCell (tf: Tf, arch: ArrayLike<number>, setting: TrainSetting, split: TrainSplit, seed: number): Promise<TrainResult> {
  const d = split.data
  checkTrainSetting(setting, d)
  const shape: NetShape = { channels: setting.channels, cells: setting.cells, image: setting.image, inChannels: d.channels, classes: d.classes }
  const chance = 100 / d.classes
  const connected = nb201.prune(Uint8Array.from(arch)).some(x => x !== 0)
  const cost = nb201.networkCost({ channels: shape.channels, cells: shape.cells, image: shape.image, inChannels: shape.inChannels, classes: shape.classes })
  if (!connected) {
    let params = cost.params.base; let flops = cost.flops.base
    for (let e = 0; e < 6; e++) { params += cost.params.perEdge[arch[e]]; flops += cost.flops.perEdge[arch[e]] }
    return { best: chance, final: chance, curve: [], losses: [], seconds: 0, cpuSeconds: 0, diverged: false, untrained: true, params, flops }
  }
  const t0 = performance.now(); const c0 = process.cpuUsage()
  const net = buildNb201Net(tf, arch, shape, seed)
  const rng = new Random(seed, 0xda7a)
  const momentum = net.variables.map(v => { const z = tf.zerosLike(v); const m = tf.variable(z, false); z.dispose(); return m })
  const curve: number[] = []; const losses: number[] = []
  let diverged = false
  try {
    const order = Int32Array.from(split.train)
    for (let epoch = 0; epoch < setting.epochs && !diverged; epoch++) {
      const lr = setting.lr * 0.5 * (1 + Math.cos(Math.PI * epoch / setting.epochs))
      rng.shuffle(order)
      let lossSum = 0; let steps = 0
      for (let at = 0; at < order.length; at += setting.batch) {
        const part = order.subarray(at, Math.min(order.length, at + setting.batch))
        const x = prepareBatch(d, part, { image: setting.image, augment: true, cutout: setting.cutout }, rng)
        const y = Int32Array.from(part, i => d.labels[i])
        const loss = tf.tidy(() => {
          const xt = tf.tensor4d(x, [part.length, setting.image, setting.image, d.channels])
          const yt = tf.oneHot(tf.tensor1d(y, 'int32') as Tensor1D, d.classes)
          const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yt, net.forward(xt, true)) as Scalar, net.variables)
          const lv = value.dataSync()[0]
          if (!Number.isFinite(lv)) return lv
          // Variables the loss does not reach (convolutions on edges of a node that does not
          // feed the output) get no gradient and, as PyTorch's SGD does, no update at all.
          const gs = net.variables.map(v => grads[v.name] ?? null)
          const live = gs.filter((g): g is Tensor => g !== null)
          const norm = Math.sqrt(tf.addN(live.map(g => tf.sum(tf.square(g)))).dataSync()[0])
          const scale = Math.min(1, 5 / (norm + 1e-6))
          net.variables.forEach((v, k) => {
            if (gs[k] === null) return
            const gk = gs[k] as Tensor
            const g = tf.add(scale < 1 ? tf.mul(gk, scale) : gk, tf.mul(v, 3e-4))
            const buf = tf.add(tf.mul(momentum[k], 0.9), g)
            momentum[k].assign(buf)
            v.assign(tf.sub(v, tf.mul(buf, lr)))
          })
          return lv
        })
        if (!Number.isFinite(loss)) { diverged = true; break }
        net.commitStats()
        lossSum += loss; steps++
      }
      if (diverged) break
      losses.push(lossSum / steps)
      curve.push(evaluateNet(tf, net, split, split.val, setting.image))
    }
  } finally {
    net.dispose()
    momentum.forEach(m => m.dispose())
  }
  const cpu = process.cpuUsage(c0)
  const seconds = (performance.now() - t0) / 1000
  const cpuSeconds = (cpu.user + cpu.system) / 1e6
  if (diverged) return { best: chance, final: chance, curve, losses, seconds, cpuSeconds, diverged, untrained: false, params: net.params, flops: net.flops }
  return { best: Math.max(...curve), final: curve[curve.length - 1], curve, losses, seconds, cpuSeconds, diverged, untrained: false, params: net.params, flops: net.flops }
}
