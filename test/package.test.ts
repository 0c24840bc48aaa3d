// The package as npm publishes it: what the tarball holds, and whether a strict TypeScript
// consumer (no skipLibCheck) compiles against its declarations. Offline: `npm pack` of the
// built tree (npm test builds first), extracted beside symlinks to this repository's
// node_modules, compiled with this repository's tsc.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

const root = path.join(__dirname, '..')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-pack-'))
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))

const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true' } })
const packed = pack.status === 0 ? JSON.parse(pack.stdout)[0] as { filename: string, files: Array<{ path: string }> } : undefined
const files = new Set(packed?.files.map(f => f.path) ?? [])

t.test('npm pack', async t => {
  t.equal(pack.status, 0, pack.stderr)
  t.ok(packed, 'a tarball')
})

t.test('the tarball holds the license, the NB-201 export tool and the sources of its source maps', async t => {
  t.ok(files.has('LICENSE'), 'LICENSE')
  t.match(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} the nasrank authors\n/)
  t.equal(JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).license, 'MIT')
  t.ok(files.has('tools/export_nb201.py'), 'tools/export_nb201.py, which users run to bring NAS-Bench-201 data')
  t.ok(files.has('dist/lib/cli.js') && files.has('dist/lib/index.d.ts'), 'the build')
  const maps = [...files].filter(f => f.endsWith('.map'))
  const missing: string[] = []
  for (const map of maps) {
    const { sources } = JSON.parse(fs.readFileSync(path.join(root, map), 'utf8')) as { sources: string[] }
    for (const source of sources) {
      const packedPath = path.posix.normalize(path.posix.join(path.posix.dirname(map), source))
      if (!files.has(packedPath)) missing.push(`${map} -> ${packedPath}`)
    }
  }
  t.same(missing, [], `every one of the ${maps.length} source maps finds its source in the tarball`)
  t.notOk([...files].some(f => f.startsWith('test/') || f.startsWith('dist/test/')), 'no tests')
})

t.test('a strict TypeScript consumer without skipLibCheck compiles against the published declarations', { skip: packed === undefined && 'npm pack failed' }, async t => {
  const consumer = path.join(dir, 'consumer')
  const modules = path.join(consumer, 'node_modules')
  fs.mkdirSync(path.join(modules, 'nasrank'), { recursive: true })
  const tar = spawnSync('tar', ['xzf', path.join(dir, packed!.filename), '-C', path.join(modules, 'nasrank'), '--strip-components=1'], { encoding: 'utf8' })
  t.equal(tar.status, 0, tar.stderr)
  // The dependencies as an install would provide them: this repository's.
  for (const name of fs.readdirSync(path.join(root, 'node_modules'))) {
    if (name === 'nasrank' || name.startsWith('.')) continue
    fs.symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name))
  }
  fs.writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, skipLibCheck: false, noEmit: true, module: 'Node16', moduleResolution: 'Node16', target: 'ES2022', types: ['node'] },
    files: ['index.ts']
  }))
  // Touches the tfjs-facing API, whose declarations are where tfjs's own types used to leak in.
  fs.writeFileSync(path.join(consumer, 'index.ts'), `import * as nasrank from 'nasrank'
import { GcnModel, GcnComparator, ReNASPredictor, PeepholePredictor, initTfBackend, loadTf, pairwiseRankLossTf, openBench, type TfModule, type TfTensor, type GraphTensors } from 'nasrank'

export async function main (): Promise<number> {
  const { tf, backend } = await initTfBackend({ backend: 'cpu' })
  const same: TfModule = loadTf()
  const model = await GcnModel.create({ features: 5, widths: [8] })
  const g: GraphTensors = model.tensors(nasrank.nb201GraphBatch(nasrank.nb201.all().subarray(0, 12)))
  const score: TfTensor = model.score(g)
  const loss = pairwiseRankLossTf(tf, score, [1, 2])
  const comparator = await GcnComparator.create({ features: 5 })
  const p = new ReNASPredictor({ variant: 'renas-1', tf })
  const q = new PeepholePredictor({ tf: same })
  const bench = await openBench('synthetic-201')
  const input: Float32Array = nasrank.nb201RenasTensor(nasrank.nb201.all(), [0, 1], 'tensor')
  const tau: number = input.length + nasrank.kendallTau(bench.columnFor(nasrank.nb201.all().subarray(0, 60)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
  return tau + score.shape[0] + loss.size + comparator.variables().length + backend.length + Number(p.trained) + Number(q.trained)
}
`)
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', consumer], { encoding: 'utf8' })
  t.equal(tsc.status, 0, `tsc --strict without skipLibCheck:\n${tsc.stdout}${tsc.stderr}`)
  t.equal(tsc.stdout, '', 'no errors')
})
