// `nasrank bench ...`: converting and inspecting benchmark data from the command line.
// The library is loaded only when a command runs (help works without the addon).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Command } from 'commander'
import { openingStatus, UsageError } from '../cli-args'
import { StatusLine } from '../progress'

function api (): typeof import('../index') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../index')
}

/** A command's options by the flag as typed ('lenient', 'no-progress', 'to'), as the actions read them. */
type Options = Map<string, string | true>

function flags (entries: Record<string, string | boolean | undefined>): Options {
  const options: Options = new Map()
  for (const [name, value] of Object.entries(entries)) if (value !== undefined && value !== false) options.set(name, value)
  return options
}

function print (value: unknown): void {
  console.log(JSON.stringify(value, null, 2))
}

async function benchAction (sub: 'convert' | 'info' | 'query' | 'table', positional: string[], options: Options): Promise<void> {
  switch (sub) {
    case 'convert': {
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
        // On a TTY, say what the silent build is doing (synthetic-101 takes seconds).
        const status = new StatusLine()
        status.show(openingStatus(target))
        const bench = await openBench(target, { progress: true }).finally(() => status.clear())
        const summary = (metric: 'train' | 'val' | 'test') => {
          const values = bench.column({ metric }).sort() // a fresh Float64Array: numeric sort in place
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
      const epochs = options.get('epochs')
      const repeat = options.get('repeat')
      const query = {
        metric: options.get('metric') as never,
        epochs: epochs === undefined ? undefined : Number(epochs),
        repeat: repeat === undefined || repeat === 'mean' ? (repeat as 'mean' | undefined) : Number(repeat)
      }
      if (query.epochs !== undefined && !Number.isInteger(query.epochs)) throw new UsageError(`--epochs must be an integer, got ${String(epochs)}`)
      if (typeof query.repeat === 'number' && !Number.isInteger(query.repeat)) throw new UsageError(`--repeat must be an integer or 'mean', got ${String(repeat)}`)
      const { openNb101Store } = api()
      const store = openNb101Store(positional[0])
      const value = store.query(positional[1], query)
      print({ hash: positional[1].toLowerCase(), metric: query.metric ?? 'final_validation_accuracy', epochs: query.epochs ?? store.epochs[store.epochs.length - 1], repeat: query.repeat ?? 'mean', value })
      return
    }
    case 'table': {
      const to = options.get('to')
      if (typeof to === 'string' && fs.existsSync(to) && !options.has('force')) throw new UsageError(`--to ${to} exists; add --force to overwrite it`)
      const { loadNb201Table, writeNb201Table } = api()
      const dataset = options.get('dataset')
      const table = loadNb201Table(positional[0], { dataset: typeof dataset === 'string' ? dataset : undefined })
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
  }
}

/** `nasrank bench` and its commands. */
export function benchCommand (): Command {
  const bench = new Command('bench')
    .summary('convert and inspect benchmark data')
    .description('Converts and inspects benchmark data: NAS-Bench-101 TFRecord files and Arrow stores, NAS-Bench-201 ' +
      'tables, and the benchmarks every experiment opens by uri (synthetic-101, synthetic-201, nb101:<file>, nb201:<file>).')
  bench.addCommand(new Command('convert')
    .summary('a NAS-Bench-101 TFRecord file into an Arrow store')
    .description('Reads a NAS-Bench-101 TFRecord file (CRCs and module hashes checked) into the columnar Arrow store.')
    .argument('<file.tfrecord>', 'the official nasbench_only108.tfrecord (or any NAS-Bench-101 TFRecord file)')
    .argument('[store.arrow]', 'where to write the store (default <file>.nasrank.arrow)')
    .option('--lenient', 'skip and count bad records instead of stopping at the first')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, store: string | undefined, opts: { lenient?: boolean, progress: boolean }) => {
      await benchAction('convert', store === undefined ? [file] : [file, store], flags({ lenient: opts.lenient, 'no-progress': !opts.progress }))
    }))
  bench.addCommand(new Command('info')
    .summary('what a benchmark offers, or what a file is')
    .description('What a benchmark offers (uri: synthetic-101, synthetic-201, nb101:<file>, nb201:<file>): size, ' +
      'budgets, repeats, metric ranges, costs. For a plain file: what it is (NAS-Bench-101 TFRecord or store, ' +
      'NAS-Bench-201 CSV or Arrow table) and its uri, then the same summary or the store\'s provenance.')
    .argument('<uri|file>', 'a benchmark uri, or a benchmark file')
    .action(async (target: string) => { await benchAction('info', [target], new Map()) }))
  bench.addCommand(new Command('query')
    .summary('one value of one cell of a NAS-Bench-101 store')
    .description('One value of one cell of a NAS-Bench-101 store.')
    .argument('<store.arrow>', 'a store written by bench convert')
    .argument('<module-hash>', "the cell's module hash (32 hex digits)")
    .option('--metric <M>', 'the metric (default final_validation_accuracy)')
    .option('--epochs <E>', 'the training budget (default the largest)')
    .option('--repeat <R|mean>', 'a repeat index, or mean over the repeats (default mean)')
    .action(async (store: string, hash: string, opts: { metric?: string, epochs?: string, repeat?: string }) => {
      await benchAction('query', [store, hash], flags(opts))
    }))
  bench.addCommand(new Command('table')
    .summary('check a NAS-Bench-201 table and summarise it, or convert it')
    .description('Checks a NAS-Bench-201 table (CSV or Arrow; docs/bench-data.md) and summarises its columns, or ' +
      'converts it with --to (CSV to Arrow or back).')
    .argument('<table.csv|table.arrow>', 'the table, e.g. one written by tools/export_nb201.py')
    .option('--dataset <D>', 'the dataset to read from a table with several')
    .option('--to <out.csv|out.arrow>', 'write the table in the format of the file name')
    .option('--force', 'overwrite the --to file if it exists')
    .action(async (file: string, opts: { dataset?: string, to?: string, force?: boolean }) => {
      await benchAction('table', [file], flags(opts))
    }))
  return bench
}
