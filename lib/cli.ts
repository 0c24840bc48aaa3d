#!/usr/bin/env node
// The `nasrank` command line. Commands load only what they need.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { BENCH_USAGE, benchCommand, BenchUsageError } from './bench/cli'

const USAGE = `nasrank — predictor-based neural architecture search

Usage:
  nasrank info                          what the native addon was built with
  nasrank corr <file.csv> <colX> <colY> Kendall tau-b, tau-a, Spearman and Pearson
                                        between two numeric columns of a CSV file
${BENCH_USAGE}
  nasrank reproduce renas [--table 1|2|3|5] [--bench <uri>] [--seeds N] [--fractions …]
                          [--epochs N] [--out DIR] [--backend NAME] [--quick]
                                        the ReNAS paper's tables (default benchmarks: synthetic);
                                        'nasrank reproduce renas --help' lists the options
  nasrank version
  nasrank help`

class UsageError extends Error {}

// Loaded on demand, so `help` and `version` work even without a usable native addon.
function loadApi (): typeof import('./index') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./index')
}

function packageVersion (): string {
  let dir = __dirname
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir)
  return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version
}

/** Splits one CSV line (RFC 4180 quoting) into fields. */
function splitCsvLine (line: string, where: string): string[] {
  const fields: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { field += '"'; i++ } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') { fields.push(field); field = '' } else field += c
  }
  if (quoted) throw new UsageError(`${where}: unterminated quoted field`)
  fields.push(field)
  return fields
}

function readColumns (file: string, names: string[]): Float64Array[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`)
  }
  const lines = text.split(/\r?\n/)
  if (lines.length === 0 || lines[0].trim() === '') throw new UsageError(`${file}: empty file (expected a header line)`)
  const header = splitCsvLine(lines[0], `${file}:1`)
  const index = names.map(name => {
    const k = header.indexOf(name)
    if (k < 0) throw new UsageError(`${file}: no column '${name}' (columns: ${header.join(', ')})`)
    return k
  })
  const columns = names.map(() => [] as number[])
  for (let l = 1; l < lines.length; l++) {
    if (lines[l].trim() === '') continue
    const fields = splitCsvLine(lines[l], `${file}:${l + 1}`)
    index.forEach((k, c) => {
      const raw = fields[k]
      const value = raw === undefined || raw.trim() === '' ? NaN : Number(raw)
      if (!Number.isFinite(value)) throw new UsageError(`${file}:${l + 1}: column '${names[c]}' is ${JSON.stringify(raw ?? '')}, not a finite number`)
      columns[c].push(value)
    })
  }
  return columns.map(c => Float64Array.from(c))
}

async function main (argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE)
      return
    case 'version':
    case '--version': {
      console.log(packageVersion())
      return
    }
    case 'info': {
      const { nativeInfo } = loadApi()
      console.log(JSON.stringify(nativeInfo(), null, 2))
      return
    }
    case 'corr': {
      if (rest.length !== 3) throw new UsageError('corr needs <file.csv> <colX> <colY>')
      const [file, xName, yName] = rest
      const [x, y] = readColumns(file, [xName, yName])
      const { kendallTau, spearman, pearson } = loadApi()
      const result = {
        file,
        x: xName,
        y: yName,
        n: x.length,
        kendall_tau_b: kendallTau(x, y),
        kendall_tau_a: kendallTau(x, y, { variant: 'a' }),
        spearman: spearman(x, y),
        pearson: pearson(x, y)
      }
      console.log(JSON.stringify(result, null, 2))
      return
    }
    case 'reproduce': {
      const [method, ...options] = rest
      if (method !== 'renas') throw new UsageError(method === undefined ? 'reproduce needs a method: renas' : `unknown method '${method}' (available: renas)`)
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { reproduceRenas, RENAS_USAGE, UsageError: RenasUsageError } = require('./experiments/renas-cli') as typeof import('./experiments/renas-cli')
      if (options.includes('--help')) { console.log(RENAS_USAGE); return }
      try {
        await reproduceRenas(options)
      } catch (err) {
        if (err instanceof RenasUsageError) throw new UsageError(`${err.message}\n\n${RENAS_USAGE}`)
        throw err
      }
      return
    }
    case 'bench':
      await benchCommand(rest)
      return
    default:
      throw new UsageError(`unknown command '${command}'`)
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof UsageError || err instanceof BenchUsageError) {
    console.error(`nasrank: ${err.message}\n\n${USAGE}`)
    process.exitCode = 2
  } else {
    const message = (err as Error).message ?? String(err)
    console.error(message.startsWith('nasrank:') ? message : `nasrank: ${message}`)
    process.exitCode = 1
  }
})
