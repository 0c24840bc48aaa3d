import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { GcnModel, initTfBackend, loadTf } from '../lib/index'

const root = path.join(__dirname, '..')

t.test('auto picks tfjs-node-gpu, tfjs-node, then wasm', async t => {
  const info = await initTfBackend()
  const has = (name: string) => { try { require.resolve(name); return true } catch { return false } }
  const expected = has('@tensorflow/tfjs-node-gpu') || has('@tensorflow/tfjs-node') ? 'tensorflow' : 'wasm'
  t.equal(info.backend, expected)
  t.equal(info.tf, loadTf(), 'the shared tfjs module')
  t.equal(info.tf.getBackend(), expected, 'and it is active')
  if (info.backend === 'wasm') {
    t.type(info.wasm?.simd, 'boolean')
    t.type(info.wasm?.threads, 'boolean')
    t.comment(`wasm: simd ${info.wasm?.simd}, threads ${info.wasm?.threads}`)
  }
  t.equal(await initTfBackend(), info, 'a second call returns the active backend')
})

t.test('explicit choices, and models follow the active backend', async t => {
  const cpu = await initTfBackend({ backend: 'cpu' })
  t.equal(cpu.backend, 'cpu')
  t.equal(cpu.choice, 'cpu')
  const model = await GcnModel.create({ features: 3, widths: [4] })
  t.teardown(() => model.dispose())
  t.equal(model.tf.getBackend(), 'cpu', 'a model created without a backend option keeps the active one')
  const wasm = await initTfBackend({ backend: 'wasm' })
  t.equal(wasm.backend, 'wasm')
  // A backend chosen directly through tf.setBackend is kept by models.
  await wasm.tf.setBackend('cpu')
  const kept = await GcnModel.create({ features: 3, widths: [4] })
  t.teardown(() => kept.dispose())
  t.equal(kept.tf.getBackend(), 'cpu')
  await initTfBackend({ backend: 'wasm' })
})

t.test('errors', async t => {
  const has = (name: string) => { try { require.resolve(name); return true } catch { return false } }
  if (!has('@tensorflow/tfjs-node')) {
    await t.rejects(initTfBackend({ backend: 'tfjs-node' }), { message: /initTfBackend: no usable tfjs backend \(tfjs-node: @tensorflow\/tfjs-node is not installed\)/ })
  }
  await t.rejects(initTfBackend({ backend: 'webgpu' as never }), { name: 'TypeError', message: /initTfBackend: backend must be one of 'auto', 'tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'/ })
  await t.rejects(initTfBackend({ wasmPaths: 3 as never }), { name: 'TypeError', message: /wasmPaths must be a string/ })
  await t.rejects(initTfBackend({ gpu: true } as never), { name: 'TypeError', message: /unknown option 'gpu'/ })
})

t.test('NASRANK_TF_BACKEND overrides the default', async t => {
  const script = `require(${JSON.stringify(root)}).initTfBackend().then(i => console.log(i.backend, i.choice), e => { console.log('ERR', e.message) })`
  const run = (value: string) => execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NASRANK_TF_BACKEND: value } }).trim()
  t.equal(run('cpu'), 'cpu cpu')
  t.equal(run('wasm'), 'wasm wasm')
  t.match(run('gpu'), /ERR initTfBackend: NASRANK_TF_BACKEND must be one of/)
})

t.test('no tfjs "Hi, looks like you are running TensorFlow.js" banner when nasrank picks the backend', async t => {
  const banner = /looks like you are running TensorFlow\.js/
  const run = (script: string) => spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NASRANK_TF_BACKEND: '' } })
  // tfjs on its own prints it on the cpu backend's first tensor (so the checks below can fail).
  const plain = run(`const tf = require(require.resolve('@tensorflow/tfjs', { paths: [${JSON.stringify(root)}] })); tf.setBackend('cpu').then(() => tf.tensor([1, 2]).square().dataSync())`)
  t.equal(plain.status, 0, plain.stderr)
  t.match(plain.stderr, banner, 'tfjs alone prints the banner')
  for (const backend of ['cpu', 'wasm', 'auto']) {
    const r = run(`require(${JSON.stringify(root)}).initTfBackend({ backend: '${backend}' }).then(({ tf }) => { tf.tensor([1, 2]).square().dataSync(); tf.setBackend('cpu').then(() => tf.tensor([3]).dataSync()) })`)
    t.equal(r.status, 0, r.stderr)
    t.notMatch(r.stderr + r.stdout, banner, `${backend}: no banner`)
  }
})
