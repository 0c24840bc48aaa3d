// The GPU visit is one prepared script (benchmarks/gpu.sh → benchmarks/gpu.js). On a machine
// without a CUDA device its parity checks are skipped with a message, but the CPU side of
// every check runs here, so the script cannot rot between GPU visits.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { nativeInfo } from '../lib/index'

const root = path.join(__dirname, '..')

t.test('benchmarks/gpu.js --quick runs its CPU part and reports what it skipped', { skip: nativeInfo().cudaDevice && 'a CUDA device is present: run benchmarks/gpu.sh' }, async t => {
  const r = spawnSync(process.execPath, [path.join(root, 'benchmarks', 'gpu.js'), '--quick'], { encoding: 'utf8', timeout: 120_000 })
  t.equal(r.status, 0, `exit status 0 (stderr: ${r.stderr.slice(0, 500)})`)
  t.match(r.stdout, /parity checks SKIPPED: .*the CPU side of \d+ checks ran/)
  const last = JSON.parse(r.stdout.trim().split('\n').pop() as string)
  t.equal(last.gpu, false)
  t.type(last.skipped, 'string')
})

t.test('benchmarks/gpu.sh is a bash script that stops on errors', async t => {
  const r = spawnSync('bash', ['-n', path.join(root, 'benchmarks', 'gpu.sh')], { encoding: 'utf8' })
  t.equal(r.status, 0, r.stderr)
})
