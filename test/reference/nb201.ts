// Slow, obvious NAS-Bench-201 references: a string parser by splitting, the network built
// as an explicit list of PyTorch-like modules (as xautodl's TinyNetwork builds it) with
// spatial sizes propagated through every layer, and the node-labelled DAG derived from the
// cell's node semantics rather than from a link table.

export const OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']

/** Parses by splitting on '+', '|' and '~'; null when the string is not of the official form. */
export function parseRef (s: string): number[] | null {
  const nodes = s.split('+')
  if (nodes.length !== 3) return null
  const out: number[] = []
  for (let n = 0; n < 3; n++) {
    const part = nodes[n]
    if (!part.startsWith('|') || !part.endsWith('|')) return null
    const items = part.slice(1, -1).split('|')
    if (items.length !== n + 1) return null
    for (let j = 0; j < items.length; j++) {
      const [op, input, ...rest] = items[j].split('~')
      if (rest.length > 0 || input !== String(j) || !OPS.includes(op)) return null
      out.push(OPS.indexOf(op))
    }
  }
  return out
}

export function formatRef (codes: ArrayLike<number>): string {
  const n = (e: number, j: number) => `${OPS[codes[e]]}~${j}`
  return `|${n(0, 0)}|+|${n(1, 0)}|${n(2, 1)}|+|${n(3, 0)}|${n(4, 1)}|${n(5, 2)}|`
}

// ---- the network as an explicit module list -------------------------------------------

type Module =
  | { kind: 'conv'; cin: number; cout: number; k: number; stride: number; pad: number; bias: boolean; inH: number; outH: number }
  | { kind: 'bn'; c: number; affine: boolean }
  | { kind: 'relu' }
  | { kind: 'avgpool'; k: number; stride: number; pad: number; inH: number; outH: number; c: number }
  | { kind: 'globalpool'; c: number }
  | { kind: 'linear'; in: number; out: number; bias: boolean }
  | { kind: 'identity' }
  | { kind: 'zero' }

class Builder {
  modules: Module[] = []
  constructor (public h: number) {}
  conv (cin: number, cout: number, k: number, stride: number, pad: number, inH: number): number {
    const outH = Math.floor((inH + 2 * pad - k) / stride) + 1
    this.modules.push({ kind: 'conv', cin, cout, k, stride, pad, bias: false, inH, outH })
    return outH
  }

  bn (c: number) { this.modules.push({ kind: 'bn', c, affine: true }) }
  relu () { this.modules.push({ kind: 'relu' }) }
  // ReLUConvBN as in xautodl's cell_operations
  reluConvBn (cin: number, cout: number, k: number, stride: number, pad: number, inH: number): number {
    this.relu()
    const outH = this.conv(cin, cout, k, stride, pad, inH)
    this.bn(cout)
    return outH
  }

  avgpool (c: number, k: number, stride: number, pad: number, inH: number): number {
    const outH = Math.floor((inH + 2 * pad - k) / stride) + 1
    this.modules.push({ kind: 'avgpool', k, stride, pad, inH, outH, c })
    return outH
  }
}

export const DATASETS: Record<string, { classes: number; size: number }> = {
  cifar10: { classes: 10, size: 32 },
  'cifar10-valid': { classes: 10, size: 32 },
  cifar100: { classes: 100, size: 32 },
  'ImageNet16-120': { classes: 120, size: 16 }
}

/** The module list of TinyNetwork(C=16, N=5, genotype, classes), with sizes. */
export function networkRef (codes: ArrayLike<number>, dataset: string): Module[] {
  const { classes, size } = DATASETS[dataset]
  const b = new Builder(size)
  // stem
  let h = b.conv(3, 16, 3, 1, 1, size)
  b.bn(16)
  const channels = [16, 16, 16, 16, 16, 32, 32, 32, 32, 32, 32, 64, 64, 64, 64, 64, 64]
  const reduction = [false, false, false, false, false, true, false, false, false, false, false, true, false, false, false, false, false]
  let cPrev = 16
  for (let l = 0; l < channels.length; l++) {
    const c = channels[l]
    if (reduction[l]) {
      // ResNetBasicblock(cPrev, c, stride 2)
      const ha = b.reluConvBn(cPrev, c, 3, 2, 1, h)
      const hb = b.reluConvBn(c, c, 3, 1, 1, ha)
      const hp = b.avgpool(cPrev, 2, 2, 0, h)
      const hs = b.conv(cPrev, c, 1, 1, 0, hp)
      if (hb !== hs) throw new Error('shortcut shape mismatch')
      h = hb
    } else {
      // InferCell: one module per edge, node j sums its inputs
      for (let node = 1; node <= 3; node++) {
        for (let input = 0; input < node; input++) {
          const e = node * (node - 1) / 2 + input
          const op = OPS[codes[e]]
          if (op === 'none') b.modules.push({ kind: 'zero' })
          else if (op === 'skip_connect') b.modules.push({ kind: 'identity' })
          else if (op === 'nor_conv_1x1') b.reluConvBn(c, c, 1, 1, 0, h)
          else if (op === 'nor_conv_3x3') b.reluConvBn(c, c, 3, 1, 1, h)
          else b.avgpool(c, 3, 1, 1, h)
        }
      }
    }
    cPrev = c
  }
  b.bn(cPrev)
  b.relu()
  b.modules.push({ kind: 'globalpool', c: cPrev })
  b.modules.push({ kind: 'linear', in: cPrev, out: classes, bias: true })
  return b.modules
}

/** Sum of parameter tensor sizes (weights, biases, BN gamma/beta). */
export function paramsRef (codes: ArrayLike<number>, dataset: string): number {
  let total = 0
  for (const m of networkRef(codes, dataset)) {
    if (m.kind === 'conv') total += m.cout * m.cin * m.k * m.k + (m.bias ? m.cout : 0)
    else if (m.kind === 'bn') total += m.affine ? 2 * m.c : 0
    else if (m.kind === 'linear') total += m.in * m.out + (m.bias ? m.out : 0)
  }
  return total
}

/** The official counter: Conv2d and Linear hooks only, per image. */
export function flopsRef (codes: ArrayLike<number>, dataset: string): number {
  let total = 0
  for (const m of networkRef(codes, dataset)) {
    if (m.kind === 'conv') total += m.k * m.k * m.cin * m.cout * m.outH * m.outH + (m.bias ? m.cout * m.outH * m.outH : 0)
    else if (m.kind === 'linear') total += m.in * m.out + (m.bias ? m.out : 0)
  }
  return total
}

// ---- node-labelled DAG ---------------------------------------------------------------

// Edge e as (tail, head) from the string's structure: node h lists inputs 0..h-1.
export const EDGES: Array<[number, number]> = []
for (let h = 1; h <= 3; h++) for (let t = 0; t < h; t++) EDGES.push([t, h])

/**
 * The 8-vertex DAG: vertex 0 input, 1..6 edges, 7 output. Data flows input → edges out of
 * node 0; edge a → edge b when a's head is b's tail; edges into node 3 → output. A none
 * edge passes nothing, so its vertex has no links.
 */
export function dag8Ref (codes: ArrayLike<number>): { A: number[][]; labels: (string | null)[] } {
  const A = Array.from({ length: 8 }, () => new Array(8).fill(0))
  const real = (v: number) => v === 0 || v === 7 || codes[v - 1] !== 0
  for (let from = 0; from < 8; from++) {
    for (let to = 0; to < 8; to++) {
      if (!real(from) || !real(to)) continue
      let linked = false
      if (from === 0 && to >= 1 && to <= 6) linked = EDGES[to - 1][0] === 0
      else if (from >= 1 && from <= 6 && to >= 1 && to <= 6) linked = EDGES[from - 1][1] === EDGES[to - 1][0]
      else if (from >= 1 && from <= 6 && to === 7) linked = EDGES[from - 1][1] === 3
      if (linked) A[from][to] = 1
    }
  }
  const labels = Array.from({ length: 8 }, (_, v) => v === 0 ? 'input' : v === 7 ? 'output' : real(v) ? OPS[codes[v - 1]] : null)
  return { A, labels }
}

export const DAG_LABELS = ['input', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3', 'output']

/** Per-architecture graph form: A 8×8, one-hot X 8×6, mask 8. */
export function graph201Ref (codes: ArrayLike<number>): { A: number[][]; X: number[][]; mask: number[] } {
  const { A, labels } = dag8Ref(codes)
  const X = labels.map(l => DAG_LABELS.map(d => (d === l ? 1 : 0)))
  const mask = labels.map(l => (l === null ? 0 : 1))
  return { A, X, mask }
}
