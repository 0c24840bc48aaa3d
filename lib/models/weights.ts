// JSON (de)serialisation of exported model weights. The in-memory format is the data
// contract's plain Float32Arrays; JSON holds them as number arrays (a float32 printed by
// JSON.stringify reads back to the identical float32), tagged with a format name.
import { describe } from '../validate'
import type { ComparatorHeadWeights, ComparatorWeights, DenseWeights, GcnEmbedWeights } from './types'

export const GCN_WEIGHTS_FORMAT = 'nasrank/gcn@1'
export const COMPARATOR_WEIGHTS_FORMAT = 'nasrank/gcn-comparator@1'

export interface DenseWeightsJSON { w: number[]; b: number[] }
export interface GcnWeightsJSON { format: typeof GCN_WEIGHTS_FORMAT; layers: DenseWeightsJSON[]; fc?: DenseWeightsJSON }
export interface ComparatorWeightsJSON {
  format: typeof COMPARATOR_WEIGHTS_FORMAT
  gcn: { layers: DenseWeightsJSON[] }
  head: { layers: DenseWeightsJSON[]; out: DenseWeightsJSON }
}

function denseToJSON (d: DenseWeights, fn: string, name: string): DenseWeightsJSON {
  if (d === null || typeof d !== 'object') throw new TypeError(`${fn}: ${name} must be an object {w, b}, got ${describe(d)}`)
  for (const key of ['w', 'b'] as const) {
    if (!(d[key] instanceof Float32Array)) throw new TypeError(`${fn}: ${name}.${key} must be a Float32Array, got ${describe(d[key])}`)
  }
  return { w: Array.from(d.w), b: Array.from(d.b) }
}

function layersToJSON (layers: DenseWeights[], fn: string, name: string): DenseWeightsJSON[] {
  if (!Array.isArray(layers)) throw new TypeError(`${fn}: ${name} must be an array, got ${describe(layers)}`)
  return layers.map((l, i) => denseToJSON(l, fn, `${name}[${i}]`))
}

function numbers (value: unknown, fn: string, name: string): Float32Array {
  if (!Array.isArray(value)) throw new TypeError(`${fn}: ${name} must be an array of numbers, got ${describe(value)}`)
  const out = new Float32Array(value.length)
  for (let i = 0; i < value.length; i++) {
    const v = value[i]
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`${fn}: ${name}[${i}] must be a finite number, got ${describe(v)}`)
    out[i] = v
  }
  return out
}

function object (value: unknown, fn: string, name: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${fn}: ${name} must be an object, got ${describe(value)}`)
  return value as Record<string, unknown>
}

function denseFromJSON (value: unknown, fn: string, name: string): DenseWeights {
  const o = object(value, fn, name)
  return { w: numbers(o.w, fn, `${name}.w`), b: numbers(o.b, fn, `${name}.b`) }
}

function layersFromJSON (value: unknown, fn: string, name: string): DenseWeights[] {
  if (!Array.isArray(value)) throw new TypeError(`${fn}: ${name} must be an array, got ${describe(value)}`)
  return value.map((l, i) => denseFromJSON(l, fn, `${name}[${i}]`))
}

function parse (json: unknown, fn: string, format: string): Record<string, unknown> {
  const o = object(typeof json === 'string' ? JSON.parse(json) : json, fn, 'json')
  if (o.format !== format) throw new TypeError(`${fn}: json.format must be '${format}', got ${describe(o.format)}`)
  return o
}

/** GCN weights (with or without the readout) as a JSON-serialisable object. */
export function gcnWeightsToJSON (weights: GcnEmbedWeights): GcnWeightsJSON {
  const fn = 'gcnWeightsToJSON'
  object(weights, fn, 'weights')
  const out: GcnWeightsJSON = { format: GCN_WEIGHTS_FORMAT, layers: layersToJSON(weights.layers, fn, 'weights.layers') }
  if (weights.fc !== undefined) out.fc = denseToJSON(weights.fc, fn, 'weights.fc')
  return out
}

/** Reads {@link gcnWeightsToJSON}'s output (an object or its JSON text) back into Float32Arrays. */
export function gcnWeightsFromJSON (json: unknown): GcnEmbedWeights {
  const fn = 'gcnWeightsFromJSON'
  const o = parse(json, fn, GCN_WEIGHTS_FORMAT)
  const out: GcnEmbedWeights = { layers: layersFromJSON(o.layers, fn, 'json.layers') }
  if (o.fc !== undefined) out.fc = denseFromJSON(o.fc, fn, 'json.fc')
  return out
}

/** Comparator weights (GCN extractor + head) as a JSON-serialisable object. */
export function comparatorWeightsToJSON (weights: ComparatorWeights): ComparatorWeightsJSON {
  const fn = 'comparatorWeightsToJSON'
  object(weights, fn, 'weights')
  object(weights.gcn, fn, 'weights.gcn')
  object(weights.head, fn, 'weights.head')
  return {
    format: COMPARATOR_WEIGHTS_FORMAT,
    gcn: { layers: layersToJSON(weights.gcn.layers, fn, 'weights.gcn.layers') },
    head: { layers: layersToJSON(weights.head.layers, fn, 'weights.head.layers'), out: denseToJSON(weights.head.out, fn, 'weights.head.out') }
  }
}

/** Reads {@link comparatorWeightsToJSON}'s output (an object or its JSON text). */
export function comparatorWeightsFromJSON (json: unknown): ComparatorWeights {
  const fn = 'comparatorWeightsFromJSON'
  const o = parse(json, fn, COMPARATOR_WEIGHTS_FORMAT)
  const gcn = object(o.gcn, fn, 'json.gcn')
  const head = object(o.head, fn, 'json.head')
  const headWeights: ComparatorHeadWeights = { layers: layersFromJSON(head.layers, fn, 'json.head.layers'), out: denseFromJSON(head.out, fn, 'json.head.out') }
  return { gcn: { layers: layersFromJSON(gcn.layers, fn, 'json.gcn.layers') }, head: headWeights }
}

