// `nasrank bench ...`: converting and inspecting benchmark data from the command line.
// The library is loaded only when a command runs (help works without the addon).
import * as path from 'node:path'

export const BENCH_USAGE = `  nasrank bench convert <file.tfrecord> [<store.arrow>] [--lenient] [--no-progress]
                                        read a NAS-Bench-101 TFRecord file (CRCs checked) into
                                        the columnar Arrow store (default <file>.nasrank.arrow)
  nasrank bench info <uri | file>
                                        what a benchmark offers (uri: synthetic-101, synthetic-201,
                                        nb101:<file>, nb201:<file>); for a plain file, what it is
                                        (TFRecord, NB-101 store, NB-201 table) and its uri
  nasrank bench query <store.arrow> <module-hash> [--metric M] [--epochs E] [--repeat R|mean]
                                        one value (default final_validation_accuracy, largest
                                        epoch budget, mean over repeats)
  nasrank bench table <table.csv | table.arrow> [--dataset D] [--to out.csv | out.arrow]
                                        check a NAS-Bench-201 table and summarise it, or convert it`

/** Bad command-line usage (the CLI prints the usage text with it). */
export class BenchUsageError extends Error {
  readonly usage = true
}

function api (): typeof import('../index') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../index')
}

/** Splits `--name value` options and `--flag` switches from positional arguments. */
function parseArgs (args: string[], flags: readonly string[], valued: readonly string[]): { positional: string[]; options: Map<string, string | true> } {
  const positional: string[] = []
  const options = new Map<string, string | true>()
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (!a.startsWith('--')) { positional.push(a); continue }
    const name = a.slice(2)
    if (flags.includes(name)) options.set(name, true)
    else if (valued.includes(name)) {
      if (i + 1 >= args.length) throw new BenchUsageError(`--${name} needs a value`)
      options.set(name, args[++i])
    } else throw new BenchUsageError(`unknown option ${a}`)
  }
  return { positional, options }
}

function print (value: unknown): void {
  console.log(JSON.stringify(value, null, 2))
}

export async function benchCommand (args: string[]): Promise<void> {
  const [sub, ...rest] = args
  switch (sub) {
    case 'convert': {
      const { positional, options } = parseArgs(rest, ['lenient', 'no-progress'], [])
      if (positional.length < 1 || positional.length > 2) throw new BenchUsageError('bench convert needs <file.tfrecord> [<store.arrow>]')
      const { convertNb101 } = api()
      // Ctrl-C or SIGTERM: exit through process.exit so the temporary store file is removed.
      const onSigint = () => process.exit(130)
      const onSigterm = () => process.exit(143)
      process.once('SIGINT', onSigint)
      process.once('SIGTERM', onSigterm)
      try {
        const res = await convertNb101(positional[0], positional[1], { lenient: options.has('lenient'), progress: !options.has('no-progress') })
        if (res.skipped > 0) {
          console.error(`nasrank: WARNING: ${res.skipped} bad record(s) skipped (${res.skippedBytes} bytes); the first ${res.badRecords.length}:`)
          for (const b of res.badRecords) console.error(`  byte offset ${b.offset}: ${b.code}: ${b.message}`)
        }
        print({ ...res, badRecords: res.badRecords.length })
      } finally {
        process.removeListener('SIGINT', onSigint)
        process.removeListener('SIGTERM', onSigterm)
      }
      return
    }
    case 'info': {
      const { positional } = parseArgs(rest, [], [])
      if (positional.length !== 1) throw new BenchUsageError('bench info needs <uri | store.arrow | file.tfrecord>')
      let target = positional[0]
      // A plain file: say what it is (and which uri opens it) instead of guessing NB-101.
      let detected: ReturnType<ReturnType<typeof api>['detectBenchFile']> | null = null
      if (!/^(synthetic-|nb101:|nb201:)/.test(target)) {
        detected = api().detectBenchFile(target, 'bench info')
        if (detected.uri === null) throw new Error(`bench info: ${detected.file}: ${detected.description}`)
        if (detected.uri === 'nb201:') target = `nb201:${target}`
      }
      if (target.startsWith('synthetic-') || target.startsWith('nb101:') || target.startsWith('nb201:')) {
        const { openBench } = api()
        const bench = await openBench(target, { progress: true })
        const summary = (metric: 'train' | 'val' | 'test') => {
          const values = Array.from(bench.column({ metric })).sort((a, b) => a - b)
          const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))]
          return { min: values[0], median: at(0.5), p90: at(0.9), max: values[values.length - 1] }
        }
        print({
          ...(detected ? { file: detected.file, kind: detected.kind, description: detected.description } : {}),
          uri: bench.uri,
          name: bench.label,
          synthetic: bench.synthetic,
          space: bench.space,
          architectures: bench.size,
          epochs: bench.epochs,
          repeats: bench.repeats,
          metrics: Object.fromEntries(bench.metrics.map(m => [m, summary(m)])),
          scale: bench.scale,
          costs: bench.costs
        })
        return
      }
      const { loadNb101 } = api()
      const store = await loadNb101(positional[0], { progress: true })
      print({
        file: store.file,
        ...(detected ? { kind: detected.kind, description: detected.description, uri: `nb101:${positional[0]}` } : {}),
        cells: store.count,
        epochs: store.epochs,
        repeats: store.repeats,
        columns: store.columnNames.length,
        metadata: store.metadata
      })
      return
    }
    case 'query': {
      const { positional, options } = parseArgs(rest, [], ['metric', 'epochs', 'repeat'])
      if (positional.length !== 2) throw new BenchUsageError('bench query needs <store.arrow> <module-hash>')
      const { openNb101Store } = api()
      const store = openNb101Store(positional[0])
      const epochs = options.get('epochs')
      const repeat = options.get('repeat')
      const query = {
        metric: options.get('metric') as never,
        epochs: epochs === undefined ? undefined : Number(epochs),
        repeat: repeat === undefined || repeat === 'mean' ? (repeat as 'mean' | undefined) : Number(repeat)
      }
      if (query.epochs !== undefined && !Number.isInteger(query.epochs)) throw new BenchUsageError(`--epochs must be an integer, got ${String(epochs)}`)
      if (typeof query.repeat === 'number' && !Number.isInteger(query.repeat)) throw new BenchUsageError(`--repeat must be an integer or 'mean', got ${String(repeat)}`)
      const value = store.query(positional[1], query)
      print({ hash: positional[1].toLowerCase(), metric: query.metric ?? 'final_validation_accuracy', epochs: query.epochs ?? store.epochs[store.epochs.length - 1], repeat: query.repeat ?? 'mean', value })
      return
    }
    case 'table': {
      const { positional, options } = parseArgs(rest, [], ['dataset', 'to'])
      if (positional.length !== 1) throw new BenchUsageError('bench table needs <table.csv | table.arrow>')
      const { loadNb201Table, writeNb201Table } = api()
      const dataset = options.get('dataset')
      const table = loadNb201Table(positional[0], { dataset: typeof dataset === 'string' ? dataset : undefined })
      const to = options.get('to')
      if (typeof to === 'string') {
        writeNb201Table(table, to)
        print({ from: table.file, to: path.resolve(to), rows: table.count })
        return
      }
      const summary: Record<string, { min: number; max: number; mean: number }> = {}
      for (const c of table.columns) {
        const col = table.column(c)
        let min = Infinity; let max = -Infinity; let sum = 0
        for (const v of col) { if (v < min) min = v; if (v > max) max = v; sum += v }
        summary[c] = { min, max, mean: sum / col.length }
      }
      print({ file: table.file, format: table.format, dataset: table.dataset, rows: table.count, columns: summary })
      return
    }
    case undefined:
      throw new BenchUsageError('bench needs a command: convert, info, query or table')
    default:
      throw new BenchUsageError(`unknown bench command '${sub}'`)
  }
}
