// How models get tfjs: from the caller, or lazily through backend.ts (the one place that
// loads it). Nothing imports '@tensorflow/tfjs' at module load time.
import { loadTf, type Tf } from './backend'

export { loadTf, type Tf }

/** Checks that a value passed as `tf` looks like the tfjs module (clear error otherwise). */
export function checkTf (tf: unknown, fn: string): Tf {
  if (tf === undefined) return loadTf()
  const t = tf as Partial<Tf> | null
  if (t === null || typeof t !== 'object' || typeof t.customGrad !== 'function' || typeof t.tensor !== 'function' || typeof t.variableGrads !== 'function') {
    throw new TypeError(`${fn}: tf must be the @tensorflow/tfjs module (or undefined to load it), got ${t === null ? 'null' : typeof t}`)
  }
  return t as Tf
}
