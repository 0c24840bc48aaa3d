// openBench(uri): the one entry point to every benchmark.
//   synthetic-101, synthetic-201   the synthetic teacher over the real spaces (no files needed)
//   nb201:<table.csv|table.arrow>  a NAS-Bench-201 table (docs/bench-data.md)
//   nb101:<store.arrow|.tfrecord>  NAS-Bench-101 (the official tfrecord is converted once)
import { Bench } from './bench'
import { synthetic101, synthetic201 } from './synthetic'

export const BENCH_URIS = ['synthetic-101', 'synthetic-201', 'nb101:<path>', 'nb201:<path>'] as const

export interface OpenBenchOptions {
  /** Seed of the generator behind `repeat: 'sample'` queries (default 0). */
  seed?: number
}

export async function openBench (uri: string, options: OpenBenchOptions = {}): Promise<Bench> {
  if (typeof uri !== 'string') throw new TypeError(`openBench: uri must be a string, got ${typeof uri}`)
  const seed = options.seed ?? 0
  if (uri === 'synthetic-201') return new Bench(synthetic201(), seed)
  if (uri === 'synthetic-101') return new Bench(await synthetic101(), seed)
  throw new RangeError(`openBench: unknown benchmark '${uri}' (known: ${BENCH_URIS.join(', ')})`)
}
