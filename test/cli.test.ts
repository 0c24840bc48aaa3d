import t from 'tap'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { kendallTau, pearson, spearman } from '../lib/index'

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
