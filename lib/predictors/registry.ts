// loadPredictor(dir): reads a saved predictor and rebuilds the right class from its `kind`.
// Later predictors plug in with registerPredictor(kind, loader).
import type { TfModule } from '../models/tf-types'
import { describe } from '../validate'
import { EnsemblePredictor } from './ensemble'
import { readPredictor, type LoadedPredictor } from './io'
import { PeepholePredictor } from './peephole'
import { RandomForestPredictor } from './random-forest'
import { ReNASPredictor } from './renas'
import type { Predictor, PredictorHooks } from './types'

export interface LoadHooks<A> extends PredictorHooks<A> {
  /** The tfjs module for neural predictors (default: loaded lazily). */
  tf?: TfModule
}

export type PredictorLoader = (loaded: LoadedPredictor, hooks: LoadHooks<any>) => Predictor<any> | Promise<Predictor<any>>

const loaders = new Map<string, PredictorLoader>([
  ['renas', (loaded, hooks) => ReNASPredictor.fromSaved(loaded, hooks)],
  ['random-forest', (loaded, hooks) => RandomForestPredictor.fromSaved(loaded, { encode: hooks.encode, count: hooks.count })],
  ['peephole', (loaded, hooks) => PeepholePredictor.fromSaved(loaded, hooks)],
  // Members are loaded as any saved predictor, with the same hooks.
  ['ensemble', (loaded, hooks) => EnsemblePredictor.fromSaved(loaded, dir => loadPredictor(dir, hooks))]
])

/** Registers the loader of a predictor kind (replacing any previous one). */
export function registerPredictor (kind: string, loader: PredictorLoader): void {
  if (typeof kind !== 'string' || kind.length === 0) throw new TypeError(`registerPredictor: kind must be a non-empty string, got ${describe(kind)}`)
  if (typeof loader !== 'function') throw new TypeError(`registerPredictor: loader must be a function, got ${describe(loader)}`)
  loaders.set(kind, loader)
}

/** The registered kinds. */
export function predictorKinds (): string[] {
  return [...loaders.keys()]
}

/**
 * Loads a predictor saved with `predictor.save(dir)`. Encoders are functions and are not
 * saved: pass the same `encode` (and `count`, `augment`) the predictor was built with.
 */
export async function loadPredictor<A = any> (dir: string, hooks: LoadHooks<A> = {}): Promise<Predictor<A>> {
  const loaded = await readPredictor(dir, 'loadPredictor')
  const loader = loaders.get(loaded.file.kind)
  if (loader === undefined) throw new Error(`loadPredictor: ${dir} holds a predictor of unknown kind '${loaded.file.kind}' (known: ${predictorKinds().join(', ')})`)
  return await loader(loaded, hooks) as Predictor<A>
}
