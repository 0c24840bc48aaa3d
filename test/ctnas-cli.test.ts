// `nasrank reproduce ctnas` as users run it (the compiled bin): usage errors before any work
// (exit 2), a small search table and a small KTau table on synthetic-201, each resumed.
import t from 'tap'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { spawnSync } from 'node:child_process'

const bin = path.join(__dirname, '..', 'dist', 'lib', 'cli.js')
const run = (...args: string[]) => spawnSync(process.execPath, [bin, 'reproduce', 'ctnas', ...args], { encoding: 'utf8' })
const tmp = (t: Tap.Test): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-ctnas-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

t.test('usage errors before any work', async t => {
  const cases: Array<[string[], RegExp]> = [
    [['--bench', 'synthetic-101'], /--bench synthetic-101: --table search runs on NAS-Bench-201 .*; NB-101 benches: --table 1/],
    [['--table', '1', '--bench', 'synthetic-201'], /--bench synthetic-201: Table 1 runs on NAS-Bench-101 \(synthetic-101 or nb101:<file>\)/],
    [['--table', '1', '--budget', '1'], /--budget \(Table 1: the labelled architectures M\) must be at least 2, got 1/],
    [['--budget', '11'], /--budget must be at least 12/],
    [['--ratio', '1'], /--ratio must be a number in \[0, 1\), got '1'/],
    [['--ratio', '-0.1'], /--ratio must be a number in \[0, 1\)/],
    [['--schedule', 'slow'], /unknown --schedule 'slow' \(paper, fast, quick\)/],
    [['--table', '2'], /unknown --table '2' \(search, ktau, 1\)/],
    [['--variant', 'best'], /unknown --variant 'best' \(curriculum, fixed, random\)/],
    [['--baselines', 'rs,darts'], /unknown --baselines 'darts'/],
    [['--baselines', 'rs,rs'], /--baselines: 'rs' is given twice/],
    [['--iterations', '0'], /--iterations must be an integer >= 1/],
    [['--seeds', 'x'], /--seeds must be an integer >= 1/],
    [['--dataset', 'cifar100'], /--dataset picks the dataset of an nb201:<dir>/],
    [['--rounds', '0'], /--rounds must be an integer >= 1/],
    [['--top-k', 'x'], /--top-k must be an integer >= 1/],
    [['--rounds', '10', '--top-k', '10'], /--budget 100 must cover 2 random labelled architectures and --rounds × --top-k = 10 × 10 picked ones/],
    [['--round-epochs', '5'], /--round-epochs trains the NAC after each labelling round: give --rounds R > 1 with it/],
    [['--rounds', '3', '--round-epochs', '-1'], /--round-epochs must be an integer >= 0/],
    [['--schedule', 'quick', '--iterations', '20', '--rounds', '30', '--top-k', '2'], /--rounds 30 exceeds the 20 controller iterations: every round searches/],
    [['--table', 'ktau', '--rounds', '3'], /--rounds, --top-k and --round-epochs are settings of the search table, not of --table ktau/],
    [['--preset', 'torch'], /unknown --preset 'torch' \(paper, code\)/],
    [['--preset', 'code', '--table', 'ktau'], /--preset code is not implemented for --table ktau/],
    [['--preset', 'code', '--table', '1'], /--preset code is not implemented for --table 1 .*it runs with the search table/],
    [['--preset', 'code', '--ratio', '-1'], /--ratio must be a number ≥ 0 \(code preset/]
  ]
  for (const [args, message] of cases) {
    const r = run(...args)
    t.equal(r.status, 2, `${args.join(' ')}: exit 2 (${r.stderr})`)
    t.match(r.stderr, message)
  }
  const help = run('--help')
  t.equal(help.status, 0)
  t.match(help.stdout, /--schedule <name>/)
})

t.test('search table on synthetic-201: CTNAS beside rs, paired on seeds, resumable', async t => {
  const out = path.join(tmp(t), 'out')
  const args = ['--schedule', 'quick', '--iterations', '40', '--seeds', '1', '--budget', '30', '--baselines', 'rs', '--out', out]
  const r = run(...args)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /SYNTHETIC/)
  t.match(r.stdout, /\| ctnas \| 1 \|/)
  t.match(r.stdout, /ctnas − rs/)
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
  const mine = rows.filter(x => x.method === 'ctnas' && x.queries === 30) // one row per curve point
  t.equal(mine.length, 1)
  t.match(mine[0].settings, { iterations: 40, pretrainEpochs: 100, exploreEvery: 20, baseline: 'curriculum', pseudoRatio: 0.5 })
  t.equal(mine[0].queried, 30)
  const again = run(...args)
  t.equal(again.status, 0)
  t.match(again.stderr, /0 cells run, 2 reused/)
  // Labelling rounds: recorded in the row; every query counts.
  const outR = path.join(tmp(t), 'rounds')
  const rr = run('--schedule', 'quick', '--iterations', '40', '--seeds', '1', '--budget', '30', '--baselines', 'none', '--rounds', '4', '--top-k', '3', '--round-epochs', '5', '--out', outR)
  t.equal(rr.status, 0, rr.stderr)
  const rowsR = fs.readFileSync(path.join(outR, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
  const last = rowsR.filter(x => x.method === 'ctnas' && x.queries === 30)
  t.equal(last.length, 1)
  t.match(last[0].settings, { rounds: 4, topK: 3, roundEpochs: 5, labelled: null })
  t.equal(last[0].queried, 30)
  t.match(mine[0].settings, { rounds: 1, roundEpochs: 0, topK: 10 }, 'the one-shot protocol is recorded too')
  t.equal(mine[0].preset, 'paper', 'the preset in every row')
})

t.test('search table with --preset code: the code preset\'s schedule, its name in the report, the preset in every row', async t => {
  const out = path.join(tmp(t), 'code')
  const r = run('--preset', 'code', '--schedule', 'quick', '--iterations', '40', '--seeds', '1', '--budget', '30', '--baselines', 'rs', '--ratio', '1', '--out', out)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /\| ctnas \(code preset\) \| 1 \|/)
  t.match(r.stdout, /ctnas \(code preset\) − rs/)
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
  const mine = rows.filter(x => x.method === 'ctnas' && x.queries === 30)
  t.equal(mine.length, 1)
  t.equal(mine[0].preset, 'code')
  t.match(mine[0].settings, { preset: 'code', iterations: 40, pretrainEpochs: 100, exploreEvery: 20, exploreKeep: 50, baselineEvery: 50, pseudoRatio: 1 })
  t.equal(mine[0].queried, 30)
  t.notOk(rows.some(x => x.method === 'rs' && 'preset' in x), 'methods without presets have no preset field')
})

t.test('KTau table on synthetic-201: Eq. 12 of the NAC and of the regression predictor', async t => {
  const out = path.join(tmp(t), 'out')
  const args = ['--table', 'ktau', '--schedule', 'quick', '--seeds', '2', '--budget', '40', '--out', out]
  const r = run(...args)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /KTau of the comparator/)
  t.match(r.stdout, /NAC \(CTNAS\) \| 2 \|/)
  t.match(r.stdout, /Paired difference NAC − regression/)
  t.match(r.stdout, /ReNAS-4 \(beside; 200 epochs\) \| 2 \|/)
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
  t.equal(rows.length, 2)
  for (const row of rows) {
    t.equal(row.labelled, 30); t.equal(row.held_out, 100); t.equal(row.queries, 30)
    for (const k of ['nac_ktau', 'regression_ktau', 'nac_eq5_tau_b', 'nac_ktau_rest', 'regression_ktau_rest', 'renas4_ktau', 'renas4_tau_b', 'renas4_ktau_rest']) t.ok(Math.abs(row[k] as number) <= 1, k)
    t.equal(row.rest, 15625 - 30, 'the all-cells KTau is over every unlabelled architecture')
  }
  const again = run(...args)
  t.equal(again.status, 0)
  t.match(again.stderr, /0 cells run, 2 reused/)
  t.equal(again.stdout.split('\n').filter(l => l.startsWith('|')).join('\n'), r.stdout.split('\n').filter(l => l.startsWith('|')).join('\n'), 'the same table from the stored rows')
  // Two worker threads: the same rows as one thread.
  const out2 = path.join(tmp(t), 'out2')
  const two = run('--table', 'ktau', '--schedule', 'quick', '--seeds', '2', '--budget', '40', '--jobs', '2', '--out', out2)
  t.equal(two.status, 0, two.stderr)
  const strip = (row: Record<string, unknown>): Record<string, unknown> => { const { seconds, run, ...rest } = row; void seconds; void run; return rest }
  const rows2 = fs.readFileSync(path.join(out2, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
  const bySeed = (a: Record<string, unknown>, b: Record<string, unknown>): number => (a.seed as number) - (b.seed as number)
  t.same(rows2.sort(bySeed).map(strip), rows.sort(bySeed).map(strip), '--jobs 2 rows = --jobs 1 rows')
})

t.test('Table 1 on synthetic-101: Random, RegressionNAS, ReNAS, CTNAS on the same M, resumable', async t => {
  const out = path.join(tmp(t), 'out')
  const args = ['--table', '1', '--quick', '--iterations', '30', '--seeds', '1', '--budget', '40', '--out', out]
  const r = run(...args)
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /CTNAS Table 1 \(NAS-Bench-101\)/)
  t.match(r.stdout, /SYNTHETIC/)
  t.notMatch(r.stdout, /Paper: KTau/, 'no paper numbers beside a synthetic bench')
  for (const name of ['Random \\(best of M\\)', 'RegressionNAS', 'ReNAS', 'CTNAS']) t.match(r.stdout, new RegExp(`\\| ${name} \\|.*\\| 40 \\|`))
  const rows = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l) as Record<string, any>)
  t.equal(rows.length, 1)
  for (const row of rows) {
    t.equal(row.labelled, 40); t.equal(row.queries, 40); t.equal(row.held_out, 100)
    t.match(row.settings, { iterations: 30, pretrainEpochs: 100 })
    t.ok(Math.abs(row.nac_pretrained_ktau) <= 1)
    t.match(row.renas, { variant: 'renas-6', epochs: 200 })
    for (const k of ['regression', 'renas', 'ctnas']) {
      t.ok(Math.abs(row[k].ktau) <= 1, `${k} KTau in [−1, 1]`)
      t.ok(row[k].rank > 0 && row[k].rank <= 100, `${k} rank %`)
    }
  }
  const again = run(...args)
  t.equal(again.status, 0)
  t.match(again.stderr, /0 cells run, 1 reused/)
  // Two worker threads (cells rebuilt from the spec): seed 0's row is the one above (one seed
  // there: each cell's ReNAS scores all 423,624 architectures).
  const out2 = path.join(tmp(t), 'out2')
  const two = run('--table', '1', '--quick', '--iterations', '30', '--seeds', '2', '--budget', '40', '--jobs', '2', '--out', out2)
  t.equal(two.status, 0, two.stderr)
  const strip = (row: Record<string, any>): Record<string, unknown> => {
    const { run, regression, renas, ctnas, ...rest } = row
    void run
    const { seconds: s1, cpu_seconds: c1, ...reg } = regression; void s1; void c1
    const { seconds: s2, cpu_seconds: c2, ...ct } = ctnas; void s2; void c2
    const { seconds: s3, cpu_seconds: c3, ...re } = renas; void s3; void c3
    return { ...rest, regression: reg, renas: re, ctnas: ct }
  }
  const rows2 = fs.readFileSync(path.join(out2, 'results.jsonl'), 'utf8').trim().split('\n').map(l => JSON.parse(l) as Record<string, any>)
  t.equal(rows2.length, 2)
  t.same(strip(rows2.find(x => x.seed === 0) as Record<string, any>), strip(rows[0]), '--jobs 2 row = --jobs 1 row')
})
