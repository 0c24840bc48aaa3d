// A small reverse-mode automatic differentiation tape over row-major Float64Array
// matrices, for models made of many small dense layers (the AG-Net generator: ~42k
// parameters, batch 16–32, a few hundred tiny ops per forward). At these sizes tfjs spends
// its time in per-op dispatch; plain loops are faster on CPU and exactly deterministic.
//
// A Mat is a [rows × cols] matrix (rows = batch). Ops record a backward closure when the
// tape records (training) and when one of their inputs needs a gradient; `backward` runs the
// closures in reverse. Params are Mats that persist across tapes and own their gradient.
import type { Random } from '../random'

export class Mat {
  readonly rows: number
  readonly cols: number
  readonly data: Float64Array
  /** Gradient buffer (allocated when the Mat takes part in a recorded op). */
  grad: Float64Array | null = null
  /** Whether gradients flow into this Mat. */
  needsGrad: boolean

  constructor (rows: number, cols: number, data?: Float64Array, needsGrad = false) {
    this.rows = rows
    this.cols = cols
    this.data = data ?? new Float64Array(rows * cols)
    if (this.data.length !== rows * cols) throw new RangeError(`Mat: data has ${this.data.length} values, expected ${rows}×${cols}`)
    this.needsGrad = needsGrad
  }

  g (): Float64Array {
    if (this.grad === null) this.grad = new Float64Array(this.data.length)
    return this.grad
  }
}

/** A trainable matrix (weights [in × out] or a bias [1 × out]). */
export class Param extends Mat {
  readonly name: string
  constructor (name: string, rows: number, cols: number) {
    super(rows, cols, undefined, true)
    this.name = name
    this.grad = new Float64Array(rows * cols)
  }

  /** PyTorch's default Linear/GRU initialisation: U(−bound, bound). */
  uniform (random: Random, bound: number): this {
    for (let i = 0; i < this.data.length; i++) this.data[i] = (2 * random.float() - 1) * bound
    return this
  }
}

export class Tape {
  /** False: forward only (no closures, no gradient buffers). */
  readonly record: boolean
  private readonly steps: Array<() => void> = []

  constructor (record = true) { this.record = record }

  private track (out: Mat, inputs: Mat[], back: () => void): Mat {
    if (this.record && inputs.some(m => m.needsGrad)) {
      out.needsGrad = true
      this.steps.push(back)
    }
    return out
  }

  /** Runs the recorded backward closures in reverse (seed the output gradients first). */
  backward (): void {
    for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]()
    this.steps.length = 0
  }

  /** A constant (no gradient). */
  constant (rows: number, cols: number, data?: Float64Array): Mat { return new Mat(rows, cols, data) }

  /**
   * Σ_k x_k · W[offset_k : offset_k + cols(x_k)] + b: a Linear layer over the concatenation of
   * the inputs (without materialising it). W is [Σ cols × out]; b is [1 × out] or null.
   */
  linear (xs: Mat[], W: Param, b: Param | null, rowStart = -1): Mat {
    const rows = xs[0].rows
    const out = W.cols
    let inSum = 0
    for (const x of xs) {
      if (x.rows !== rows) throw new RangeError(`linear(${W.name}): inputs have ${x.rows} and ${rows} rows`)
      inSum += x.cols
    }
    // rowStart >= 0: the inputs meet rows [rowStart, rowStart + Σ cols) of W (a part of a wider layer).
    if (rowStart < 0 ? inSum !== W.rows : rowStart + inSum > W.rows) throw new RangeError(`linear(${W.name}): inputs have ${inSum} columns, the weight ${W.rows} rows`)
    const y = new Mat(rows, out)
    const yd = y.data
    const wd = W.data
    if (b !== null) for (let r = 0; r < rows; r++) yd.set(b.data, r * out)
    let offset = Math.max(0, rowStart)
    const offsets: number[] = []
    for (const x of xs) {
      offsets.push(offset)
      const xd = x.data
      const n = x.cols
      for (let r = 0; r < rows; r++) {
        const yo = r * out
        for (let i = 0; i < n; i++) {
          const v = xd[r * n + i]
          if (v === 0) continue
          const wo = (offset + i) * out
          for (let j = 0; j < out; j++) yd[yo + j] += v * wd[wo + j]
        }
      }
      offset += n
    }
    const inputs: Mat[] = [...xs, W]
    if (b !== null) inputs.push(b)
    return this.track(y, inputs, () => {
      const gy = y.grad
      if (gy === null) return
      const gw = W.g()
      xs.forEach((x, k) => {
        const xd = x.data
        const n = x.cols
        const off = offsets[k]
        const gx = x.needsGrad ? x.g() : null
        for (let r = 0; r < rows; r++) {
          const yo = r * out
          for (let i = 0; i < n; i++) {
            const wo = (off + i) * out
            const v = xd[r * n + i]
            if (gx !== null) {
              let s = 0
              for (let j = 0; j < out; j++) s += gy[yo + j] * wd[wo + j]
              gx[r * n + i] += s
            }
            if (v !== 0) for (let j = 0; j < out; j++) gw[wo + j] += v * gy[yo + j]
          }
        }
      })
      if (b !== null) {
        const gb = b.g()
        for (let r = 0; r < rows; r++) for (let j = 0; j < out; j++) gb[j] += gy[r * out + j]
      }
    })
  }

  private unary (x: Mat, f: (v: number) => number, df: (v: number, y: number) => number): Mat {
    const y = new Mat(x.rows, x.cols)
    const xd = x.data
    const yd = y.data
    for (let i = 0; i < xd.length; i++) yd[i] = f(xd[i])
    return this.track(y, [x], () => {
      const gy = y.grad
      if (gy === null) return
      const gx = x.g()
      for (let i = 0; i < xd.length; i++) gx[i] += gy[i] * df(xd[i], yd[i])
    })
  }

  relu (x: Mat): Mat { return this.unary(x, v => v > 0 ? v : 0, v => v > 0 ? 1 : 0) }
  sigmoid (x: Mat): Mat { return this.unary(x, sigmoid, (_, y) => y * (1 - y)) }
  tanh (x: Mat): Mat { return this.unary(x, Math.tanh, (_, y) => 1 - y * y) }
  /** 1 − x. */
  oneMinus (x: Mat): Mat { return this.unary(x, v => 1 - v, () => -1) }

  /** Element-wise sum of equally shaped Mats. */
  add (...xs: Mat[]): Mat {
    const y = new Mat(xs[0].rows, xs[0].cols)
    const yd = y.data
    for (const x of xs) {
      if (x.data.length !== yd.length || x.rows !== y.rows) throw new RangeError('add: shapes differ')
      const xd = x.data
      for (let i = 0; i < yd.length; i++) yd[i] += xd[i]
    }
    return this.track(y, xs, () => {
      const gy = y.grad
      if (gy === null) return
      for (const x of xs) {
        if (!x.needsGrad) continue
        const gx = x.g()
        for (let i = 0; i < gy.length; i++) gx[i] += gy[i]
      }
    })
  }

  /** Element-wise product of two equally shaped Mats. */
  mul (a: Mat, b: Mat): Mat {
    if (a.data.length !== b.data.length || a.rows !== b.rows) throw new RangeError('mul: shapes differ')
    const y = new Mat(a.rows, a.cols)
    const ad = a.data
    const bd = b.data
    const yd = y.data
    for (let i = 0; i < yd.length; i++) yd[i] = ad[i] * bd[i]
    return this.track(y, [a, b], () => {
      const gy = y.grad
      if (gy === null) return
      if (a.needsGrad) { const ga = a.g(); for (let i = 0; i < gy.length; i++) ga[i] += gy[i] * bd[i] }
      if (b.needsGrad) { const gb = b.g(); for (let i = 0; i < gy.length; i++) gb[i] += gy[i] * ad[i] }
    })
  }

  /** x[r, :] · s[r] for a column s [rows × 1]. */
  scaleRows (x: Mat, s: Mat): Mat {
    if (s.cols !== 1 || s.rows !== x.rows) throw new RangeError('scaleRows: the scale must be [rows × 1]')
    const y = new Mat(x.rows, x.cols)
    const n = x.cols
    const xd = x.data
    const sd = s.data
    const yd = y.data
    for (let r = 0; r < x.rows; r++) for (let j = 0; j < n; j++) yd[r * n + j] = xd[r * n + j] * sd[r]
    return this.track(y, [x, s], () => {
      const gy = y.grad
      if (gy === null) return
      const gx = x.needsGrad ? x.g() : null
      const gs = s.needsGrad ? s.g() : null
      for (let r = 0; r < x.rows; r++) {
        let acc = 0
        for (let j = 0; j < n; j++) {
          if (gx !== null) gx[r * n + j] += gy[r * n + j] * sd[r]
          acc += gy[r * n + j] * xd[r * n + j]
        }
        if (gs !== null) gs[r] += acc
      }
    })
  }

  /** Columns [start, end) of x. */
  cols (x: Mat, start: number, end: number): Mat {
    const n = end - start
    const y = new Mat(x.rows, n)
    for (let r = 0; r < x.rows; r++) y.data.set(x.data.subarray(r * x.cols + start, r * x.cols + end), r * n)
    return this.track(y, [x], () => {
      const gy = y.grad
      if (gy === null) return
      const gx = x.g()
      for (let r = 0; r < x.rows; r++) for (let j = 0; j < n; j++) gx[r * x.cols + start + j] += gy[r * n + j]
    })
  }

  /** Column-wise concatenation. */
  concat (xs: Mat[]): Mat {
    const rows = xs[0].rows
    let cols = 0
    for (const x of xs) cols += x.cols
    const y = new Mat(rows, cols)
    let off = 0
    for (const x of xs) {
      for (let r = 0; r < rows; r++) y.data.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), r * cols + off)
      off += x.cols
    }
    return this.track(y, xs, () => {
      const gy = y.grad
      if (gy === null) return
      let o = 0
      for (const x of xs) {
        if (x.needsGrad) {
          const gx = x.g()
          for (let r = 0; r < rows; r++) for (let j = 0; j < x.cols; j++) gx[r * x.cols + j] += gy[r * cols + o + j]
        }
        o += x.cols
      }
    })
  }

  /** PyTorch's GRUCell: x [B × in], h [B × H]; weights Wi [in × 3H], Wh [H × 3H] (gates r, z, n). */
  gru (x: Mat, h: Mat, Wi: Param, bi: Param, Wh: Param, bh: Param): Mat {
    const H = h.cols
    const gi = this.linear([x], Wi, bi)
    const gh = this.linear([h], Wh, bh)
    const r = this.sigmoid(this.add(this.cols(gi, 0, H), this.cols(gh, 0, H)))
    const z = this.sigmoid(this.add(this.cols(gi, H, 2 * H), this.cols(gh, H, 2 * H)))
    const n = this.tanh(this.add(this.cols(gi, 2 * H, 3 * H), this.mul(r, this.cols(gh, 2 * H, 3 * H))))
    return this.add(this.mul(this.oneMinus(z), n), this.mul(z, h))
  }
}

export function sigmoid (v: number): number {
  return v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))
}

/** log σ(v), stable. */
export function logSigmoid (v: number): number {
  return v >= 0 ? -Math.log1p(Math.exp(-v)) : v - Math.log1p(Math.exp(v))
}

/** Adam (PyTorch form, optional L2 weight decay added to the gradient) over a list of Params. */
export class Adam {
  readonly params: Param[]
  lr: number
  readonly beta1: number
  readonly beta2: number
  readonly eps: number
  readonly weightDecay: number
  step = 0
  readonly m: Float64Array[]
  readonly v: Float64Array[]

  constructor (params: Param[], options: { lr: number, beta1?: number, beta2?: number, eps?: number, weightDecay?: number }) {
    this.params = params
    this.lr = options.lr
    this.beta1 = options.beta1 ?? 0.9
    this.beta2 = options.beta2 ?? 0.999
    this.eps = options.eps ?? 1e-8
    this.weightDecay = options.weightDecay ?? 0
    this.m = params.map(p => new Float64Array(p.data.length))
    this.v = params.map(p => new Float64Array(p.data.length))
  }

  zeroGrad (): void { for (const p of this.params) p.g().fill(0) }

  /** One update from the accumulated gradients, which it then zeroes. */
  update (): void {
    this.step++
    const c1 = 1 - this.beta1 ** this.step
    const c2 = 1 - this.beta2 ** this.step
    const { beta1, beta2, eps, lr, weightDecay } = this
    this.params.forEach((p, k) => {
      const w = p.data
      const g = p.g()
      const m = this.m[k]
      const v = this.v[k]
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] + weightDecay * w[i]
        m[i] = beta1 * m[i] + (1 - beta1) * gi
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi
        w[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps)
        g[i] = 0
      }
    })
  }
}
