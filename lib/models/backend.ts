// Lazy loading of tfjs and selection of its backend. Nothing here loads tfjs at import time:
// `loadTf()` / `initTfBackend()` require it on first call.
//
// Preference (DESIGN.md): @tensorflow/tfjs-node-gpu if installed, else @tensorflow/tfjs-node,
// else @tensorflow/tfjs-backend-wasm (a dependency; the tested default on machines where
// tfjs-node cannot install), overridable by the argument or NASRANK_TF_BACKEND.
// In Node the wasm backend finds its .wasm binaries beside its own module; no setWasmPaths
// is needed (pass `wasmPaths` to override). It runs single-threaded in Node (no Web
// Workers for the threaded build) and uses SIMD when the runtime has it.
//
// Public declarations describe tfjs through the structural types of tf-types.ts (index.ts
// exports initTfBackend and loadTf with those); the declarations marked internal here, with tfjs's
// own types, are for nasrank's code and are left out of the published .d.ts.
import type * as TF from '@tensorflow/tfjs'
import { checkOptions, describe, oneOf } from '../validate'
import type { TfModule } from './tf-types'

/** @internal The tfjs module with tfjs's own types (inside nasrank). */
export type Tf = typeof TF

export type TfBackendChoice = 'auto' | 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu'

export interface TfBackendOptions {
  /** Which backend to use (default: NASRANK_TF_BACKEND, else 'auto'). */
  backend?: TfBackendChoice
  /** Directory (ending in '/') or file map for the wasm binaries, passed to setWasmPaths. */
  wasmPaths?: string
}

export interface TfBackendInfo {
  /** The tfjs module, with the chosen backend active. */
  tf: TfModule
  /** tf.getBackend(): 'tensorflow' (tfjs-node, tfjs-node-gpu), 'wasm' or 'cpu'. */
  backend: string
  /** Which choice provided it ('external': set through tf.setBackend, not by this helper). */
  choice: Exclude<TfBackendChoice, 'auto'> | 'external'
  /** wasm only: SIMD and multi-threading support as detected by tfjs. */
  wasm?: { simd: boolean; threads: boolean }
}

const CHOICES = ['auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const
const AUTO_ORDER = ['tfjs-node-gpu', 'tfjs-node', 'wasm'] as const

/** @internal TfBackendInfo with tfjs's own module type. */
export interface TfBackendState extends Omit<TfBackendInfo, 'tf'> {
  tf: Tf
}

let tfModule: Tf | undefined
let current: TfBackendState | undefined

/** @internal The @tensorflow/tfjs module (required on first call). */
export function loadTf (): Tf {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (tfModule === undefined) tfModule = require('@tensorflow/tfjs') as Tf
  return tfModule
}

function installed (name: string): boolean {
  try {
    require.resolve(name)
    return true
  } catch {
    return false
  }
}

/**
 * tfjs's cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js…" on
 * its first tensor in Node, whichever backend a program goes on to use. When nasrank
 * chooses the backend it says which itself (the CLI's one "tfjs backend: …" line), so the
 * banner is switched off through the flag the cpu backend keeps for it (tfjs 4.x: firstUse).
 */
function quietCpuBanner (tf: Tf): void {
  const cpu = tf.findBackend('cpu') as unknown as { firstUse?: unknown } | null
  if (cpu !== null && typeof cpu.firstUse === 'boolean') cpu.firstUse = false
}

async function activate (tf: Tf, choice: Exclude<TfBackendChoice, 'auto'>, wasmPaths: string | undefined): Promise<TfBackendState> {
  switch (choice) {
    case 'tfjs-node-gpu':
    case 'tfjs-node': {
      const pkg = `@tensorflow/${choice}`
      if (!installed(pkg)) throw new Error(`${pkg} is not installed`)
      // Registers the 'tensorflow' backend with the shared tfjs-core.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(pkg)
      if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} is installed but its 'tensorflow' backend failed to initialise`)
      break
    }
    case 'wasm': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string): void }
      if (wasmPaths !== undefined) wasm.setWasmPaths(wasmPaths)
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise')
      break
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise')
      break
  }
  await tf.ready()
  const info: TfBackendState = { tf, backend: tf.getBackend(), choice }
  if (choice === 'wasm') {
    info.wasm = {
      simd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
      threads: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))
    }
  }
  return info
}

/**
 * @internal
 * Loads tfjs and activates a backend: with 'auto' the first of tfjs-node-gpu, tfjs-node,
 * wasm that is installed and initialises. An explicit choice that fails throws. Returns the
 * tfjs module and the backend's name. Calling it again with the same choice is cheap.
 */
export async function initTfBackend (options?: TfBackendOptions): Promise<TfBackendState> {
  const fn = 'initTfBackend'
  const opts = checkOptions<TfBackendOptions>(options, fn, ['backend', 'wasmPaths'])
  const fromEnv = process.env.NASRANK_TF_BACKEND === '' ? undefined : process.env.NASRANK_TF_BACKEND
  const wanted = oneOf(opts.backend ?? fromEnv, 'auto', CHOICES, fn, opts.backend === undefined && fromEnv !== undefined ? 'NASRANK_TF_BACKEND' : 'backend')
  if (opts.wasmPaths !== undefined && typeof opts.wasmPaths !== 'string') throw new TypeError(`${fn}: wasmPaths must be a string, got ${describe(opts.wasmPaths)}`)
  const tf = loadTf()
  quietCpuBanner(tf)
  if (current !== undefined && (wanted === 'auto' || wanted === current.choice) && tf.getBackend() === current.backend) return current
  const order: readonly Exclude<TfBackendChoice, 'auto'>[] = wanted === 'auto' ? AUTO_ORDER : [wanted]
  const failures: string[] = []
  for (const choice of order) {
    try {
      current = await activate(tf, choice, opts.wasmPaths)
      return current
    } catch (err) {
      failures.push(`${choice}: ${(err as Error).message}`)
    }
  }
  throw new Error(`${fn}: no usable tfjs backend (${failures.join('; ')})`)
}

/**
 * @internal
 * The active backend. If neither {@link initTfBackend} nor tf.setBackend chose one yet, the
 * default ('auto' / NASRANK_TF_BACKEND) is initialised; a backend set directly through
 * tf.setBackend is kept.
 */
export async function ensureTfBackend (): Promise<TfBackendState> {
  const tf = loadTf()
  if (current !== undefined && tf.getBackend() === current.backend) return current
  const chosen = (tf.engine() as unknown as { backendName: string | null }).backendName
  if (chosen === null || chosen === undefined) return initTfBackend()
  await tf.ready()
  return { tf, backend: chosen, choice: 'external' }
}
