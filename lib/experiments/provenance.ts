// What a result depends on, recorded with it: the bench by its content (not by how its path
// was typed), and the run that computed it (command line, nasrank version, native build,
// tfjs backend, date, every setting).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import { addon, packageDir } from '../native'
import { type Bench, type BenchData } from '../bench/bench'
import { openBench } from '../bench/open'

const digests = new WeakMap<Bench, string>()

function hashArray (hash: ReturnType<typeof createHash>, name: string, a: ArrayBufferView & { length: number }): void {
  hash.update(`${name}:${a.constructor.name}:${a.length}\n`)
  hash.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength))
}

/**
 * SHA-256 (hex) of a bench's data: its space, epochs, repeats, every metric column and the
 * architectures of its rows. Equal for the same table however its uri spells the path, and
 * different when a number or a row changes. Computed once per Bench object.
 */
export function benchDigest (bench: Bench): string {
  const cached = digests.get(bench)
  if (cached !== undefined) return cached
  // The data behind the Bench (its metric columns are not public: a search must not read them).
  const data = (bench as unknown as { data: BenchData }).data
  const hash = createHash('sha256')
  hash.update(`nasrank-bench-digest/1\n${data.space}\n${data.scale}\n${data.size}\n${data.epochs.join(',')}\n${data.repeats}\n`)
  for (const metric of ['train', 'val', 'test'] as const) {
    const column = data.metrics[metric]
    if (column !== undefined) hashArray(hash, metric, column)
  }
  const archs = data.archs
  if (archs instanceof Uint8Array) hashArray(hash, 'ops', archs)
  else {
    hashArray(hash, 'vertices', archs.vertices)
    hashArray(hash, 'adjacency', archs.adjacency)
    hashArray(hash, 'ops', archs.ops)
  }
  const digest = hash.digest('hex')
  digests.set(bench, digest)
  return digest
}

/** The bench's identity in cell ids: space and the first 16 hex digits of its digest ('nb201@3fa2…'). */
export function benchKey (bench: Bench): string {
  return `${bench.space}@${benchDigest(bench).slice(0, 16)}`
}

/** A bench as another thread or process reopens it: by uri (and dataset), checked against the digest the plan was made with. */
export interface BenchRef { uri: string, digest: string, dataset?: string }

export function benchRef (bench: Bench, dataset?: string): BenchRef {
  return { uri: bench.uri, digest: benchDigest(bench), ...(dataset !== undefined ? { dataset } : {}) }
}

/** Reopens a bench by its reference; a bench whose data changed since the plan was made is an error. */
export async function reopenBench (ref: BenchRef): Promise<Bench> {
  const bench = await openBench(ref.uri, ref.dataset !== undefined ? { dataset: ref.dataset } : {})
  const digest = benchDigest(bench)
  if (digest !== ref.digest) throw new Error(`${ref.uri} changed since the run was planned (bench digest ${digest.slice(0, 16)}, planned with ${ref.digest.slice(0, 16)})`)
  return bench
}

/** Who computed a row and with what: recorded once per run in runs.jsonl, and in the report header. */
export interface Provenance {
  /** The command line as given (argv after `nasrank`), when a CLI started the run. */
  command?: string[]
  nasrank: string
  /** nativeInfo().sourceDigest of the loaded addon. */
  native_digest: string
  /** tfjs backend the cells ran on ('' when the experiment trains no tfjs model). */
  tfjs_backend: string
  /** ISO date the run started. */
  date: string
  /** Every setting of the plan (what the cell ids encode and more). */
  settings: Record<string, unknown>
}

let version: string | undefined
export function nasrankVersion (): string {
  version ??= JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version as string
  return version
}

export function provenance (settings: Record<string, unknown>, options: { command?: string[], tfjsBackend?: string } = {}): Provenance {
  return {
    ...(options.command !== undefined ? { command: [...options.command] } : {}),
    nasrank: nasrankVersion(),
    native_digest: addon.info().sourceDigest,
    tfjs_backend: options.tfjsBackend ?? '',
    date: new Date().toISOString(),
    settings
  }
}

/** A run's id: 12 hex digits of the digest of its provenance without the date (same command and settings, same id). */
export function provenanceId (p: Provenance): string {
  const { date: _date, ...rest } = p
  return createHash('sha256').update(stableJson(rest)).digest('hex').slice(0, 12)
}

/** JSON with object keys sorted (so equal settings give equal text). */
export function stableJson (value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return v
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
  })
}
