import type { Test } from 'tap'
// Slow, obvious reference implementations of the ReNAS ranking losses (Eq. 3 and 4):
// the double and triple loops of the definitions, term by term, in plain JS doubles.
// Returned as sums; reduce() applies the 'mean' reduction the way the package does.

export type PhiName = 'hinge' | 'logistic' | 'exp'

export interface RefResult {
  loss: number
  grad: Float64Array
  comparable: number
}

/** sign(a - b) by comparison (no subtraction, so no overflow and no NaN). */
export function sign (a: number, b: number): number {
  return a > b ? 1 : a < b ? -1 : 0
}

/** [phi(z), dphi/dz]. Hinge is active only when margin - z > 0 (subgradient 0 at the kink). */
export function phi (name: PhiName, margin: number, z: number): [number, number] {
  if (name === 'hinge') {
    const d = margin - z
    return d > 0 ? [d, -1] : [0, 0]
  }
  if (name === 'logistic') {
    // log(1 + e^-z) = max(-z, 0) + log1p(e^-|z|);  dphi/dz = -1 / (1 + e^z)
    const e = Math.exp(-Math.abs(z))
    const value = Math.max(-z, 0) + Math.log1p(e)
    const sig = (z > 0 ? e : 1) / (1 + e)
    return [value, -sig]
  }
  const v = Math.exp(-z)
  return [v, -v]
}

/** sum_{i<j} phi((p_i - p_j) * sign(y_i - y_j)), gradient with respect to pred. */
export function pairwiseRef (pred: ArrayLike<number>, target: ArrayLike<number>, name: PhiName, margin = 1): RefResult {
  const n = target.length
  const grad = new Float64Array(n)
  let loss = 0
  let comparable = 0
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const s = sign(target[i], target[j])
      if (s === 0) continue
      comparable++
      const z = (pred[i] - pred[j]) * s
      const [v, dz] = phi(name, margin, z)
      loss += v
      grad[i] += dz * s
      grad[j] -= dz * s
    }
  }
  return { loss, grad, comparable }
}

/**
 * sum_{i<j<k} phi((d_ij - d_ik) * sign(l_ij - l_ik)), l_ij = |y_i - y_j|, with dist the
 * n x n row-major matrix (only j > i is read); gradient n x n, zero off the strict upper
 * triangle.
 */
export function tripletRef (dist: ArrayLike<number>, target: ArrayLike<number>, name: PhiName, margin = 1): RefResult {
  const n = target.length
  const grad = new Float64Array(n * n)
  let loss = 0
  let comparable = 0
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const lij = Math.abs(target[i] - target[j])
      for (let k = j + 1; k < n; k++) {
        const lik = Math.abs(target[i] - target[k])
        const s = sign(lij, lik)
        if (s === 0) continue
        comparable++
        const z = (dist[i * n + j] - dist[i * n + k]) * s
        const [v, dz] = phi(name, margin, z)
        loss += v
        grad[i * n + j] += dz * s
        grad[i * n + k] -= dz * s
      }
    }
  }
  return { loss, grad, comparable }
}

/** Applies the reduction: 'mean' divides loss and gradient by comparable (0 when none). */
export function reduce (r: RefResult, reduction: 'mean' | 'sum'): RefResult {
  if (reduction === 'sum') return r
  if (r.comparable === 0) return { loss: 0, grad: new Float64Array(r.grad.length), comparable: 0 }
  const grad = new Float64Array(r.grad.length)
  for (let i = 0; i < grad.length; i++) grad[i] = r.grad[i] / r.comparable
  return { loss: r.loss / r.comparable, grad, comparable: r.comparable }
}

/** The part of a loss result the tests compare. */
interface Comparable { loss: number; grad: ArrayLike<number>; comparable: number }

// |a - b| <= tol * max(1, |b|); equal infinities and NaN == NaN count as agreement.
export function near (a: number, b: number, tol: number): boolean {
  if (Object.is(a, b) || a === b) return true
  if (Number.isNaN(a) && Number.isNaN(b)) return true
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b))
}

export function firstMismatch (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): number {
  for (let i = 0; i < b.length; i++) if (!near(a[i], b[i], tol)) return i
  return -1
}

export function agrees (t: Test, got: Comparable, want: Comparable, tol: number, what: string) {
  t.ok(near(got.loss, want.loss, tol), `${what}: loss ${got.loss} vs ${want.loss}`)
  t.equal(got.comparable, want.comparable, `${what}: comparable`)
  t.equal(got.grad.length, want.grad.length, `${what}: grad length`)
  const bad = firstMismatch(got.grad, want.grad, tol)
  t.equal(bad, -1, bad < 0 ? `${what}: grad` : `${what}: grad[${bad}] ${got.grad[bad]} vs ${want.grad[bad]}`)
}
