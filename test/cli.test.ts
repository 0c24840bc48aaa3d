import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { kendallTau, pearson, spearman } from '../lib/index'
import { CLI_PAPER_FRACTIONS, CLI_RENAS_TABLES } from '../lib/experiments/renas-args'
import { PAPER_FRACTIONS, RENAS_TABLES } from '../lib/experiments/renas'
import { CLI_SAMPLERS, CLI_SEARCH_METHODS } from '../lib/experiments/search-args'
import { SEARCH_METHODS, SAMPLERS } from '../lib/search/index'

// The CLI as users run it: the compiled bin (npm test compiles first).
const bin = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' })

t.test('the bin runs as npx runs it: executed directly, through its shebang', async t => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'))
  const declared = path.join(__dirname, '..', pkg.bin.nasrank)
  t.equal(declared, bin, 'package.json bin is the compiled CLI')
  t.ok((fs.statSync(bin).mode & 0o111) !== 0, 'dist/lib/cli.js is executable after the build')
  const r = spawnSync(bin, ['version'], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr ?? String(r.error))
  t.match(r.stdout, pkg.version)
})

t.test('corr computes the four correlations of two CSV columns', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-cli-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'r.csv')
  fs.writeFileSync(file, 'arch,"pred",true\n"|a~0|,x",1.5,90\nb,0.5,91\nc,2.5,92.5\nd,2,92.5\n')
  const r = run('corr', file, 'pred', 'true')
  t.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  const x = [1.5, 0.5, 2.5, 2]; const y = [90, 91, 92.5, 92.5]
  t.equal(out.n, 4)
  t.equal(out.kendall_tau_b, kendallTau(x, y))
  t.equal(out.kendall_tau_a, kendallTau(x, y, { variant: 'a' }))
  t.equal(out.spearman, spearman(x, y))
  t.equal(out.pearson, pearson(x, y))

  fs.writeFileSync(path.join(dir, 'bad.csv'), 'a,b\n1,2\n3,oops\n')
  const bad = run('corr', path.join(dir, 'bad.csv'), 'a', 'b')
  t.equal(bad.status, 1, 'a data error, not a usage error')
  t.match(bad.stderr, /bad\.csv:3: column 'b' is "oops", not a finite number/)
  t.match(run('corr', file, 'pred', 'nope').stderr, /no column 'nope' \(columns: arch, pred, true\)/)
  t.match(run('corr', path.join(dir, 'missing.csv'), 'a', 'b').stderr, /cannot read .*missing\.csv/)
  fs.writeFileSync(path.join(dir, 'empty.csv'), '')
  t.match(run('corr', path.join(dir, 'empty.csv'), 'a', 'b').stderr, /empty file/)
})

t.test('info, version, help and unknown commands', async t => {
  const info = run('info')
  t.equal(info.status, 0)
  t.match(JSON.parse(info.stdout), { version: '0.1.0', cuda: Boolean })
  t.equal(run('version').stdout.trim(), '0.1.0')
  t.match(run('help').stdout, /Usage:/)
  const bogus = run('bogus')
  t.equal(bogus.status, 2)
  t.match(bogus.stderr, /unknown command 'bogus'/)
})

const tmpDir = (t: Test): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-cli-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

// Every command and group, as a user would ask for its help.
const COMMANDS = [[], ['info'], ['corr'], ['bench'], ['bench', 'convert'], ['bench', 'info'], ['bench', 'query'], ['bench', 'table'],
  ['reproduce'], ['reproduce', 'renas'], ['reproduce', 'sampling'], ['search'], ['version']]

t.test('--help and -h work on every command, print to stdout and exit 0', async t => {
  for (const command of COMMANDS) {
    for (const flag of ['--help', '-h']) {
      const r = run(...command, flag)
      t.equal(r.status, 0, `${command.join(' ')} ${flag}: ${r.stderr}`)
      t.equal(r.stderr, '', `${command.join(' ')} ${flag}: nothing on stderr`)
      t.match(r.stdout, `Usage: ${['nasrank', ...command].join(' ')} `, `${command.join(' ')} ${flag}: its own usage`)
    }
  }
  t.match(run('help', 'bench').stdout, /Usage: nasrank bench /)
  for (const line of ['--table <1|2|3|5>', '--bench <uri>', '--seeds <N>', '--fractions', '--epochs <N>', '--out <dir>', '--backend <name>', '--phi <name>', '--lambda <x>', '--margin <x>', '--jobs <N>', '--quick']) {
    t.match(run('reproduce', 'renas', '--help').stdout, line, `reproduce renas --help lists ${line}`)
  }
  const search = run('search', '--help').stdout
  for (const line of ['--method <list>', '--bench <uri>', '--dataset <D>', '--budget <N>', '--checkpoints', '--seeds <N>', '--seed-start <N>', '--epochs <E>', '--jobs <N>', '--out <dir>', '--force', '--sampler <S>', '--pool <N|all>', '--gcn-width <N>', '--gcn-epochs <N>']) {
    t.match(search, line, `search --help lists ${line}`)
  }
  t.equal(run('--version').stdout.trim(), '0.1.0')
  const bare = run()
  t.equal(bare.status, 0)
  t.match(bare.stdout, /Usage: nasrank /)
})

t.test('help and version load neither the native addon nor tfjs', async t => {
  const dir = tmpDir(t)
  const block = path.join(dir, 'block.js')
  // Any attempt to load the addon (node-gyp-build, a .node file) or tfjs fails loudly.
  fs.writeFileSync(block, `const Module = require('module'); const load = Module._load
Module._load = function (request, ...rest) {
  if (/node-gyp-build|@tensorflow|\\.node$/.test(request)) throw new Error('blocked: ' + request)
  return load.call(this, request, ...rest)
}\n`)
  const blocked = (...args: string[]) => spawnSync(process.execPath, ['-r', block, bin, ...args], { encoding: 'utf8' })
  for (const command of COMMANDS) {
    const r = blocked(...command, '--help')
    t.equal(r.status, 0, `${command.join(' ')} --help: ${r.stderr}`)
  }
  t.equal(blocked('version').status, 0)
  t.equal(blocked('reproduce', 'renas', '--seeds', '0').status, 2, 'usage errors are found before anything loads')
  const info = blocked('info')
  t.equal(info.status, 1, 'the block works: info needs the addon')
  t.match(info.stderr, /blocked/)
})

t.test('usage errors: one line naming the problem and the --help to read, exit 2', async t => {
  const cases: Array<[string[], RegExp, string]> = [
    [['bogus'], /unknown command 'bogus'/, 'nasrank'],
    [['benhc'], /unknown command 'benhc' \(did you mean bench\?\)/, 'nasrank'],
    [['bench'], /bench needs a command: convert, info, query, table/, 'nasrank bench'],
    [['bench', 'inof', 'x'], /unknown command 'inof' for bench .*\(did you mean info\?\)/, 'nasrank bench'],
    [['reproduce'], /reproduce needs a method: renas/, 'nasrank reproduce'],
    [['reproduce', 'darts'], /unknown method 'darts' for reproduce \(available: renas, mip, ctnas, sampling, agnet\)/, 'nasrank reproduce'],
    [['reproduce', 'renas', '--sead', '3'], /unknown option '--sead' \(did you mean --seeds\?\)/, 'nasrank reproduce renas'],
    [['reproduce', 'renas', '--table=4'], /unknown table '4'/, 'nasrank reproduce renas'],
    [['reproduce', 'renas', '--seeds=0'], /--seeds must be an integer >= 1, got '0'/, 'nasrank reproduce renas'],
    [['reproduce', 'renas', '--backend', 'wsam'], /unknown backend 'wsam' .*\(did you mean wasm\?\)/, 'nasrank reproduce renas'],
    [['reproduce', 'renas', '--out'], /option '--out <dir>' argument missing/, 'nasrank reproduce renas'],
    [['corr', 'a.csv', 'x'], /missing required argument 'colY'/, 'nasrank corr'],
    [['info', 'extra'], /too many arguments for 'info'/, 'nasrank info'],
    [['bench', 'query', 'x', 'y', '--epochs', 'many'], /--epochs must be an integer, got many/, 'nasrank bench query']
  ]
  for (const [args, message, command] of cases) {
    const r = run(...args)
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`)
    t.equal(r.stdout, '', `${args.join(' ')}: nothing on stdout`)
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${args.join(' ')}: one line (${r.stderr})`)
    t.match(r.stderr, message, args.join(' '))
    t.ok(r.stderr.trimEnd().endsWith(`see '${command} --help'`), `${args.join(' ')}: points to '${command} --help'`)
  }
})

t.test('corr: a bad file is a data error (exit 1, one line, no usage)', async t => {
  const dir = tmpDir(t)
  fs.writeFileSync(path.join(dir, 'bad.csv'), 'a,b\n1,2\n3,oops\n')
  for (const args of [[path.join(dir, 'bad.csv'), 'a', 'b'], [path.join(dir, 'bad.csv'), 'a', 'c'], [path.join(dir, 'missing.csv'), 'a', 'b']]) {
    const r = run('corr', ...args)
    t.equal(r.status, 1, args.join(' '))
    t.equal(r.stderr.split('\n').filter(Boolean).length, 1, `one line: ${r.stderr}`)
    t.notMatch(r.stderr, /--help|Usage/)
  }
  fs.writeFileSync(path.join(dir, 'r.csv'), 'pred,accuracy\n1,2\n')
  t.match(run('corr', path.join(dir, 'r.csv'), 'pred', 'acuracy').stderr, /no column 'acuracy' \(columns: pred, accuracy\) \(did you mean accuracy\?\)/)
})

t.test('reproduce renas: a --bench that the requested tables cannot use is a usage error before any work', async t => {
  const dir = tmpDir(t)
  const cases: Array<[string[], RegExp]> = [
    [['--table', '1', '--bench', 'nb201:/data/nb201.csv'], /--bench nb201:\/data\/nb201\.csv is a NAS-Bench-201 benchmark, which --table 1 does not use/],
    [['--table=5', '--bench', 'synthetic-101'], /--bench synthetic-101 is a NAS-Bench-101 benchmark, which --table 5 does not use/],
    [['--table', '1,2,3', '--bench', 'synthetic-201'], /NAS-Bench-201 benchmark, which --table 1,2,3 does not use/],
    [['--table', '5', '--bench', 'nb101:x.tfrecord', '--bench', 'synthetic-201'], /--bench nb101:x\.tfrecord is a NAS-Bench-101 benchmark/]
  ]
  for (const [args, message] of cases) {
    const out = path.join(dir, 'out')
    const r = spawnSync(process.execPath, [bin, 'reproduce', 'renas', ...args, '--out', out], { encoding: 'utf8', timeout: 60_000 })
    t.equal(r.status, 2, `${args.join(' ')}: usage error (${r.stderr})`)
    t.match(r.stderr, message)
    t.match(r.stderr, /Tables 1-3 take synthetic-101 or nb101:<file>, Table 5 takes synthetic-201 or nb201:<file>/)
    t.notOk(fs.existsSync(out), 'no work started')
  }
})

t.test('bench table --to refuses to overwrite an existing file unless --force', async t => {
  const dir = tmpDir(t)
  const csv = path.join(dir, 't.csv')
  fs.writeFileSync(csv, 'arch,test_accuracy\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,10\n')
  const to = path.join(dir, 'out.csv')
  fs.writeFileSync(to, 'precious\n')
  const refused = run('bench', 'table', csv, '--to', to)
  t.equal(refused.status, 2)
  t.match(refused.stderr, /--to .*out\.csv exists; add --force to overwrite it/)
  t.equal(fs.readFileSync(to, 'utf8'), 'precious\n', 'the file is untouched')
  const forced = run('bench', 'table', csv, `--to=${to}`, '--force')
  t.equal(forced.status, 0, forced.stderr)
  t.match(fs.readFileSync(to, 'utf8'), /^arch,/)
})

t.test('search: options validated before any work', async t => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'plain-file')
  fs.writeFileSync(file, 'x')
  const cases: Array<[string[], RegExp]> = [
    [[], /required option '--bench <uri>' not specified/],
    [['--bench', 'nb999:x'], /unknown benchmark 'nb999:x'/],
    [['--bench', 'synthetic-201', '--method', 'rs,evo'], /unknown --method 'evo' \(rs, re, ls, bananas, ctnas, sampling, agnet\)/],
    [['--bench', 'synthetic-201', '--method', 'rs,,re'], /--method must be a comma-separated list without empty items/],
    [['--bench', 'synthetic-201', '--budget', '0'], /--budget must be an integer >= 1, got '0'/],
    [['--bench', 'synthetic-201', '--checkpoints', '50,20'], /--checkpoints must be increasing, got '50,20'/],
    [['--bench', 'synthetic-201', '--checkpoints', '100,300'], /--checkpoints: 300 is beyond --budget 200/],
    [['--bench', 'synthetic-201', '--seeds', '-1'], /--seeds must be an integer >= 1, got '-1'/],
    [['--bench', 'synthetic-201', '--seed-start', '1.5'], /--seed-start must be an integer >= 0, got '1\.5'/],
    [['--bench', 'synthetic-201', '--epochs', 'x'], /--epochs must be an integer >= 1, got 'x'/],
    [['--bench', 'synthetic-201', '--jobs', '0'], /--jobs must be an integer >= 1/],
    [['--bench', 'synthetic-201', '--dataset', 'cifar100'], /--dataset picks the dataset of an nb201:<dir> holding several; synthetic-201 has one/],
    [['--bench', 'synthetic-201', '--out', file], /--out .*plain-file exists and is not a directory/],
    [['--bench', 'synthetic-201', '--metod', 'rs'], /unknown option '--metod' \(did you mean --method\?\)/],
    [['--bench', 'synthetic-201', '--sampler', 'ev'], /--sampler sets the sampling method; add sampling to --method/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--sampler', 'grid'], /unknown --sampler 'grid' \(whole, uniform, ml, ev\)/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--sampler', 'ev', '--pool', '3'], /--pool must be 'all' or an integer in \[4, \|S\|\) .*got '3'/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--sampler', 'random'], /--sampler random is random search, the rs method: give --method rs/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--pool', '100'], /--pool N sizes the uniform, ml or ev pool: give --sampler/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--sampler', 'whole', '--pool', '100'], /--sampler whole scores every architecture/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--sampler', 'ev', '--pool', '15625'], /--pool 15625 must be below the size of the space \(.* has 15625 architectures\)/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--lr', '0'], /--lr must be a number > 0/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--momentum', '1'], /--momentum must be a number in \[0, 1\)/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--gcn-width', '0'], /--gcn-width must be an integer >= 1/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--initial', '1'], /--initial must be an integer >= 2, got '1'/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--k', '0'], /--k must be an integer >= 1, got '0'/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--parents', '0'], /--parents must be an integer >= 1/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--alpha', '-0.5'], /--alpha must be a number in \[0, 1\], got '-0.5'/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--p-mutate', '0'], /--p-mutate must be a number in \(0, 1\], got '0'/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--sampler', 'ev', '--k', '10', '--pool', '8'], /--pool must be 'all' or an integer in \[10, \|S\|\)/],
    [['--bench', 'synthetic-201', '--method', 'sampling', '--initial', '10', '--budget', '12'], /--budget must be >= --initial \+ --k = 10 \+ 4 = 14 for the sampling method, got '12'/],
    [['--bench', 'synthetic-201', '--method', 'rs', '--alpha', '0.5'], /--alpha sets the sampling method; add sampling to --method/]
  ]
  for (const [args, message] of cases) {
    const r = run('search', ...args)
    t.equal(r.status, 2, `${args.join(' ')}: usage error (${r.stderr})`)
    t.match(r.stderr, message)
  }
})

t.test('the help constants of reproduce renas and search are the experiments\'', async t => {
  t.same(CLI_RENAS_TABLES, RENAS_TABLES)
  t.same(CLI_PAPER_FRACTIONS, PAPER_FRACTIONS)
  t.same([...CLI_SEARCH_METHODS].sort(), Object.keys(SEARCH_METHODS).sort())
  t.same([...CLI_SAMPLERS], [...SAMPLERS])
})

t.test('search runs the search experiment: report on stdout, resumable; a plan the bench cannot serve is a usage error', async t => {
  const dir = tmpDir(t)
  const out = path.join(dir, 'out')
  const args = ['search', '--bench', 'synthetic-201', '--method=rs,re', '--budget', '30', '--checkpoints', '10,30', '--seeds', '2', '--out', out]
  const r = run(...args)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /# Search experiment/)
  t.match(r.stdout, /10 queries/)
  t.match(r.stderr, /4 cells run, 0 reused; report: .*report\.md/)
  t.ok(fs.existsSync(path.join(out, 'results.jsonl')))
  const again = run(...args)
  t.equal(again.status, 0, again.stderr)
  t.match(again.stderr, /0 cells run, 4 reused/)
  const big = run('search', '--bench', 'synthetic-201', '--budget', '20000', '--out', path.join(dir, 'big'))
  t.equal(big.status, 2, big.stderr)
  t.match(big.stderr, /^nasrank: search: .*20000.*; see 'nasrank search --help'\n$/)
  t.match(run('search', '--bench', 'synthetic-201', '--method', 'rs,rs').stderr, /--method: 'rs' is given twice/)
})

// `script` runs a command on a pseudo-terminal, as a user's shell would.
const script = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0

t.test('long set-up steps say what they do on a TTY and nothing in a pipe', { skip: script ? false : 'no script(1) to make a pseudo-terminal' }, async t => {
  const piped = run('bench', 'info', 'synthetic-201')
  t.equal(piped.status, 0, piped.stderr)
  t.equal(piped.stderr, '', 'quiet in a pipe')
  const tty = spawnSync('script', ['-qfec', `${process.execPath} ${bin} bench info synthetic-201`, '/dev/null'], { encoding: 'utf8' })
  t.equal(tty.status, 0, tty.stdout)
  t.match(tty.stdout, /building the synthetic NAS-Bench-201 benchmark…/)
  t.match(tty.stdout, /\r\x1b\[K/, 'the status line is erased before the output')
  t.match(tty.stdout, /"architectures": 15625/)
})

t.test('a reader that closes the pipe early (nasrank … --help | head) ends the process quietly', async t => {
  const { spawn } = await import('node:child_process')
  for (const args of [['reproduce', 'sampling', '--help'], ['--help'], ['reproduce', 'ctnas', '--help']]) {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.destroy() // the reader is gone before the first write
    let err = ''
    child.stderr.on('data', d => { err += String(d) })
    const code = await new Promise<number | null>(resolve => child.on('close', resolve))
    t.equal(code, 0, `${args.join(' ')}: exit status 0`)
    t.notMatch(err, /EPIPE|Unhandled/, `${args.join(' ')}: no stack trace`)
  }
})
