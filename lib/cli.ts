#!/usr/bin/env node
// The `nasrank` command line (commander). Every command has --help/-h and takes --opt=value;
// a usage error is one line with a pointer to the command's --help (exit 2), a data error one
// line (exit 1). Commands load the library only when they run, so help and version work
// without the native addon or tfjs.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Command, CommanderError } from 'commander'
import { benchCommand } from './bench/cli'
import { didYouMean, UsageError } from './cli-args'
import { renasCommand } from './experiments/renas-args'
import { ctnasCommand } from './experiments/ctnas-args'
import { searchCommand } from './experiments/search-args'
import { bpeCommand, reproduceMipCommand } from './experiments/mip-args'
import { gridCommand, workerCommand } from './experiments/grid-args'
import { samplingCommand } from './experiments/sampling-args'
import { agnetCommand, agnetToolCommand } from './experiments/agnet-args'

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

/** A data problem in the user's file (exit 1, no usage pointer). */
class DataError extends Error {}

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
  if (quoted) throw new DataError(`${where}: unterminated quoted field`)
  fields.push(field)
  return fields
}

function readColumns (file: string, names: string[]): Float64Array[] {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new DataError(`cannot read ${file}: ${(err as Error).message}`)
  }
  const lines = text.split(/\r?\n/)
  if (lines.length === 0 || lines[0].trim() === '') throw new DataError(`${file}: empty file (expected a header line)`)
  const header = splitCsvLine(lines[0], `${file}:1`)
  const index = names.map(name => {
    const k = header.indexOf(name)
    if (k < 0) throw new DataError(`${file}: no column '${name}' (columns: ${header.join(', ')})${didYouMean(name, header)}`)
    return k
  })
  const columns = names.map(() => [] as number[])
  for (let l = 1; l < lines.length; l++) {
    if (lines[l].trim() === '') continue
    const fields = splitCsvLine(lines[l], `${file}:${l + 1}`)
    index.forEach((k, c) => {
      const raw = fields[k]
      const value = raw === undefined || raw.trim() === '' ? NaN : Number(raw)
      if (!Number.isFinite(value)) throw new DataError(`${file}:${l + 1}: column '${names[c]}' is ${JSON.stringify(raw ?? '')}, not a finite number`)
      columns[c].push(value)
    })
  }
  return columns.map(c => Float64Array.from(c))
}

/** `nasrank a b`: the full name of a command, for pointers to its --help. */
function commandPath (cmd: Command): string {
  const names: string[] = []
  for (let c: Command | null = cmd; c !== null; c = c.parent) names.unshift(c.name())
  return names.join(' ')
}

function usageLine (message: string, cmd: Command): string {
  return `nasrank: ${message}; see '${commandPath(cmd)} --help'\n`
}

/**
 * A command that only groups others (`bench`, `reproduce`): without a sub-command, or with an
 * unknown one, a one-line usage error that lists them (commander would print the whole help).
 */
function group (cmd: Command, what: string): Command {
  return cmd.allowExcessArguments(true).action(() => {
    const names = cmd.commands.map(c => c.name())
    const given = cmd.args[0]
    if (given === undefined) throw new UsageError(`${cmd.name()} needs a ${what}: ${names.join(', ')}`)
    throw new UsageError(`unknown ${what} '${given}' for ${cmd.name()} (available: ${names.join(', ')})${didYouMean(given, names)}`)
  })
}

/**
 * Every command: errors through usageLine and thrown (exit status set by main), suggestions on.
 * (Commands are made with `new Command` and addCommand: commander 13 shares one output
 * configuration between a command and those made with its `.command()`.)
 */
function configure (cmd: Command): void {
  cmd.exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      outputError: (str, write) => {
        // commander: "error: unknown option '--sead'\n(Did you mean --seeds?)\n" → one line
        const message = str.trim().replace(/^error: /, '').replace(/\.$/, '').replace(/\s*\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)').replace(/\s*\n\s*/g, ' ')
        write(usageLine(message, cmd))
      }
    })
  for (const sub of cmd.commands) configure(sub)
}

export function program (): Command {
  const version = packageVersion()
  const nasrank = new Command('nasrank')
    .description('Predictor-based neural architecture search: ranking kernels, benchmarks, predictors and the papers\' experiments.')
    .version(version, '-V, --version', 'the package version')
    // Options after a subcommand belong to it (`nasrank bpe grid --omega …` is grid's --omega, not bpe's).
    .enablePositionalOptions()
    .addHelpText('after', '\nExamples:\n' +
      '  nasrank reproduce renas --quick           the ReNAS tables on the synthetic benchmarks, in minutes\n' +
      '  nasrank bench info synthetic-101          what a benchmark offers\n' +
      '  nasrank search --bench synthetic-201      random search and regularized evolution, 20 seeds\n' +
      '  nasrank corr results.csv pred true        Kendall tau, Spearman, Pearson of two columns\n' +
      '  nasrank worker --queue redis://head:6379  run cells of `--queue` runs on this server\n' +
      "\n'nasrank <command> --help' describes a command.")

  nasrank.addCommand(new Command('info')
    .description('what the native addon was built with (CUDA, threads, CPU features, source digest)')
    .action(() => {
      const { nativeInfo } = loadApi()
      console.log(JSON.stringify(nativeInfo(), null, 2))
    }))

  nasrank.addCommand(new Command('corr')
    .description('Kendall tau-b, tau-a, Spearman and Pearson between two numeric columns of a CSV file')
    .argument('<file.csv>', 'a CSV file with a header line')
    .argument('<colX>', 'the name of one column')
    .argument('<colY>', 'the name of the other')
    .action((file: string, xName: string, yName: string) => {
      const [x, y] = readColumns(file, [xName, yName])
      const { kendallTau, spearman, pearson } = loadApi()
      console.log(JSON.stringify({
        file,
        x: xName,
        y: yName,
        n: x.length,
        kendall_tau_b: kendallTau(x, y),
        kendall_tau_a: kendallTau(x, y, { variant: 'a' }),
        spearman: spearman(x, y),
        pearson: pearson(x, y)
      }, null, 2))
    }))

  nasrank.addCommand(group(benchCommand(), 'command'))

  const reproduce = new Command('reproduce')
    .summary("a paper's tables")
    .description("Runs a paper's tables as its experiment protocol has them (see each method's --help).")
  reproduce.addCommand(renasCommand(async args => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { reproduceRenas } = require('./experiments/renas-cli') as typeof import('./experiments/renas-cli')
    await reproduceRenas(args)
  }))
  reproduce.addCommand(reproduceMipCommand())
  reproduce.addCommand(ctnasCommand())
  reproduce.addCommand(samplingCommand())
  reproduce.addCommand(agnetCommand())
  nasrank.addCommand(group(reproduce, 'method'))

  nasrank.addCommand(searchCommand())
  nasrank.addCommand(bpeCommand())
  nasrank.addCommand(workerCommand())
  nasrank.addCommand(group(gridCommand(), 'command'))
  nasrank.addCommand(group(agnetToolCommand(), 'command'))

  nasrank.addCommand(new Command('version')
    .description('the package version')
    .action(() => { console.log(version) }))

  configure(nasrank)
  return nasrank
}

async function main (argv: string[]): Promise<void> {
  const nasrank = program()
  if (argv.length === 0) { nasrank.outputHelp(); return }
  // The command whose action runs, for the --help pointer of a usage error it throws.
  let running: Command = nasrank
  nasrank.hook('preAction', (_, action) => { running = action })
  try {
    await nasrank.parseAsync(argv, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) {
      // Already printed by configure's outputError (or the help/version text itself).
      process.exitCode = err.exitCode === 0 ? 0 : 2
      return
    }
    // A PlanError (experiments/runner.ts, not imported here: it loads the runner) is a usage error too.
    if (err instanceof UsageError || (err as Error).name === 'PlanError') {
      process.stderr.write(usageLine((err as Error).message, running))
      process.exitCode = 2
      return
    }
    const message = (err as Error).message ?? String(err)
    console.error(message.startsWith('nasrank:') ? message : `nasrank: ${message}`)
    process.exitCode = 1
  }
}

/**
 * A reader that stops early (`nasrank … --help | head`) closes the pipe: the next write fails
 * with EPIPE, asynchronously, as an 'error' event that would otherwise crash the process with a
 * stack trace. Nothing more can be shown, so leave quietly with the status so far.
 */
function quietOnClosedPipe (stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw err
  })
}

if (require.main === module) {
  quietOnClosedPipe(process.stdout)
  quietOnClosedPipe(process.stderr)
  void main(process.argv.slice(2))
}
