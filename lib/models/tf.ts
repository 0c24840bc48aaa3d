// The one place that loads tfjs. Nothing in the package imports '@tensorflow/tfjs' at module
// load time (importing 'nasrank' must stay light); models call loadTf() when they first need
// it, or take a tfjs module from the caller. The backend is whatever the caller selected
// (tf.setBackend); a backend selector can replace the body of loadTf() later.
import type * as tfjs from '@tensorflow/tfjs'

export type Tf = typeof tfjs

let cached: Tf | undefined

/** The @tensorflow/tfjs module, required on first use. */
export function loadTf (): Tf {
  if (cached === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    cached = require('@tensorflow/tfjs') as Tf
  }
  return cached
}

/** Checks that a value passed as `tf` looks like the tfjs module (clear error otherwise). */
export function checkTf (tf: unknown, fn: string): Tf {
  if (tf === undefined) return loadTf()
  const t = tf as Partial<Tf> | null
  if (t === null || typeof t !== 'object' || typeof t.customGrad !== 'function' || typeof t.tensor !== 'function' || typeof t.variableGrads !== 'function') {
    throw new TypeError(`${fn}: tf must be the @tensorflow/tfjs module (or undefined to load it), got ${t === null ? 'null' : typeof t}`)
  }
  return t as Tf
}
