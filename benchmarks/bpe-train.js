'use strict'
// A training step of the MIP trainer (lib/bpe/trainer.ts: an NB-201 network, SGD momentum 0.9,
// weight decay 3e-4, clip 5) in tfjs-wasm against the same network and step in PyTorch CPU, one
// thread each, and the share of a step spent preparing the batch (images.ts: area resize, crop,
// flip, normalise, cutout; native since native/images.cc, see benchmarks/images.js). CPU seconds per step (the machine is shared, so wall
// time is printed too but the ratio uses CPU time); both networks report their parameter count,
// which must agree. Run: npm run build && node benchmarks/bpe-train.js [--steps 10]
//
// --size [--preset cpu] [--archs 20] [--calibration-archs 2] [--f-cpu S]: sizes one MIP run of the preset
// from real trainings (no peer: a plan, not a comparison). The preset's trainer (its Ω, f and
// image counts) trains the --cost seconds calibration (one factor at a time around the cheapest
// setting, lib/bpe/cost-model.ts) and f on one cell; the fitted power law prices every setting,
// and the run's CPU time is extrapolated as |G|·(T(f) + K·(d−1)·E[T(b)]), E over round 1's
// Eq. 2 probabilities (later rounds fix dimensions, mostly to cheap values: an upper-side figure).
const { findPython, machine, printTable } = require('./peers')
const { spawnSync } = require('child_process')
const { initTfBackend } = require('../dist/lib/models/backend')
const { openImageData } = require('../dist/lib/data/idx')
const { prepareBatch } = require('../dist/lib/bpe/images')
const { buildNb201Net } = require('../dist/lib/bpe/trainer')
const { Random } = require('../dist/lib/random')
const { nb201 } = require('../dist/lib/spaces/nb201')

const steps = Number(process.argv[process.argv.indexOf('--steps') + 1]) || 10
const ARCH = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|'
const CASES = [
  { name: 'CPU preset cheapest: N 1, C 4, 14 px, batch 64', cells: 1, channels: 4, image: 14, batch: 64, cutout: 0 },
  { name: 'CPU preset largest: N 2, C 8, 28 px, batch 128', cells: 2, channels: 8, image: 28, batch: 128, cutout: 7 }
]

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

async function tfjsStep (tf, data, c) {
  const arch = nb201.parse(ARCH)
  const net = buildNb201Net(tf, arch, { channels: c.channels, cells: c.cells, image: c.image, inChannels: 1, classes: 10 }, 0)
  const momentum = net.variables.map(v => tf.variable(tf.zerosLike(v), false))
  const rng = new Random(1)
  const idx = Int32Array.from({ length: c.batch }, (_, i) => i)
  let prepMs = 0
  const step = () => {
    const p0 = cpuMs()
    const x = prepareBatch(data, idx, { image: c.image, augment: true, cutout: c.cutout }, rng)
    prepMs += cpuMs() - p0
    tf.tidy(() => {
      const xt = tf.tensor4d(x, [c.batch, c.image, c.image, 1])
      const yt = tf.oneHot(tf.tensor1d(Int32Array.from(idx, i => data.labels[i]), 'int32'), 10)
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(yt, net.forward(xt, true)), net.variables)
      value.dataSync()
      const gs = net.variables.map(v => grads[v.name])
      const norm = Math.sqrt(tf.addN(gs.map(g => tf.sum(tf.square(g)))).dataSync()[0])
      const scale = Math.min(1, 5 / (norm + 1e-6))
      net.variables.forEach((v, k) => {
        const g = tf.add(tf.mul(gs[k], scale), tf.mul(v, 3e-4))
        const buf = tf.add(tf.mul(momentum[k], 0.9), g)
        momentum[k].assign(buf)
        v.assign(tf.sub(v, tf.mul(buf, 0.05)))
      })
    })
    net.commitStats()
  }
  step(); step()
  prepMs = 0
  const c0 = cpuMs(); const w0 = performance.now()
  for (let s = 0; s < steps; s++) step()
  const out = { cpu: (cpuMs() - c0) / steps, wall: (performance.now() - w0) / steps, prep: prepMs / steps, params: net.params, flops: net.flops }
  net.dispose(); momentum.forEach(m => m.dispose())
  return out
}

const PY = String.raw`
import json, sys, time, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
cfg = json.loads(sys.argv[1])
OPS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']
EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
def rcb(cin, cout, k, s):
    return nn.Sequential(nn.ReLU(), nn.Conv2d(cin, cout, k, s, (k - 1) // 2, bias=False), nn.BatchNorm2d(cout))
class Cell(nn.Module):
    def __init__(self, ops, c):
        super().__init__()
        self.ops = ops
        self.m = nn.ModuleList([rcb(c, c, 1, 1) if o == 2 else rcb(c, c, 3, 1) if o == 3 else nn.AvgPool2d(3, 1, 1, count_include_pad=False) if o == 4 else nn.Identity() for o in ops])
    def forward(self, x):
        nodes = [x]
        for j in range(1, 4):
            t = [self.m[e](nodes[a]) for e, (a, b) in enumerate(EDGES) if b == j and self.ops[e] != 0]
            nodes.append(sum(t) if t else torch.zeros_like(x))
        return nodes[3]
class Red(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.a = rcb(cin, cout, 3, 2); self.b = rcb(cout, cout, 3, 1)
        self.s = nn.Sequential(nn.AvgPool2d(2, 2, ceil_mode=True), nn.Conv2d(cin, cout, 1, bias=False))
    def forward(self, x): return self.s(x) + self.b(self.a(x))
class Net(nn.Module):
    def __init__(self, ops, C, N):
        super().__init__()
        L = [nn.Conv2d(1, C, 3, 1, 1, bias=False), nn.BatchNorm2d(C)]
        for s, c in enumerate([C, 2 * C, 4 * C]):
            if s > 0: L.append(Red(c // 2, c))
            L += [Cell(ops, c) for _ in range(N)]
        self.f = nn.Sequential(*L); self.bn = nn.BatchNorm2d(4 * C); self.fc = nn.Linear(4 * C, 10)
    def forward(self, x): return self.fc(F.relu(self.bn(self.f(x))).mean((2, 3)))
ops = cfg['ops']
net = Net(ops, cfg['channels'], cfg['cells'])
opt = torch.optim.SGD(net.parameters(), 0.05, momentum=0.9, weight_decay=3e-4)
x = torch.randn(cfg['batch'], 1, cfg['image'], cfg['image']); y = torch.randint(0, 10, (cfg['batch'],))
def step():
    opt.zero_grad(); loss = F.cross_entropy(net(x), y); loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), 5); opt.step()
step(); step()
c0 = time.process_time(); w0 = time.perf_counter()
for _ in range(cfg['steps']): step()
print(json.dumps({'cpu': (time.process_time() - c0) / cfg['steps'] * 1000, 'wall': (time.perf_counter() - w0) / cfg['steps'] * 1000,
                  'params': sum(p.numel() for p in net.parameters()), 'torch': torch.__version__}))
`

async function main () {
  const { tf, backend, wasm } = await initTfBackend({ backend: 'wasm' })
  const data = openImageData('fashion-mnist')
  const py = findPython(['torch'])
  console.log(`Machine: ${machine()}; tfjs ${tf.version.tfjs} ${backend} (SIMD ${wasm.simd}, threads ${wasm.threads}); ${steps} steps after 2 warm-up steps; cell ${ARCH}`)
  if (py === null) console.log('PyTorch not found (python3 with torch): the peer column is skipped')
  const rows = []
  for (const c of CASES) {
    const j = await tfjsStep(tf, data, c)
    let p = null
    if (py !== null) {
      const r = spawnSync(py, ['-c', PY, JSON.stringify({ ...c, ops: [...nb201.parse(ARCH)], steps })], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } })
      if (r.status !== 0) throw new Error(`PyTorch peer failed: ${r.stderr}`)
      p = JSON.parse(r.stdout.trim().split('\n').pop())
      if (p.params !== j.params) throw new Error(`the networks differ: tfjs ${j.params} params, PyTorch ${p.params}`)
    }
    rows.push({
      setting: c.name, params: j.params, 'fwd MMAC/img': (j.flops / 1e6).toFixed(2),
      'tfjs-wasm CPU ms/step': j.cpu.toFixed(1), 'tfjs wall ms': j.wall.toFixed(1),
      'PyTorch CPU ms/step': p ? p.cpu.toFixed(1) : '—', 'PyTorch wall ms': p ? p.wall.toFixed(1) : '—',
      'tfjs / PyTorch (CPU)': p ? (j.cpu / p.cpu).toFixed(2) : '—',
      'data prep ms (share of tfjs step)': `${j.prep.toFixed(2)} (${(100 * j.prep / j.cpu).toFixed(1)} %)`,
      'tfjs GMAC/s (3× fwd)': (3 * j.flops * c.batch / j.cpu / 1e6).toFixed(2)
    })
    if (p) rows[rows.length - 1]['PyTorch'] = p.torch
  }
  printTable('Training step, one thread each', ['setting', 'params', 'fwd MMAC/img', 'tfjs-wasm CPU ms/step', 'tfjs wall ms', 'PyTorch CPU ms/step', 'PyTorch wall ms', 'tfjs / PyTorch (CPU)', 'data prep ms (share of tfjs step)', 'tfjs GMAC/s (3× fwd)'], rows)
}

async function size () {
  const arg = (name, fallback) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : fallback }
  const presetName = arg('--preset', 'cpu')
  const archs = Number(arg('--archs', '20'))
  const k = Number(arg('--k', '10'))
  const { TRAINER_PRESETS, trainerBpe, TRAINER_FULL } = require('../dist/lib/bpe/trainer-bpe')
  const { calibrateSecondsCost } = require('../dist/lib/bpe/cost-model')
  const { estimateMip, drawArchs } = require('../dist/lib/bpe/mip')
  const preset = TRAINER_PRESETS[presetName]
  const { tf, backend } = await initTfBackend({ backend: 'wasm' })
  const data = openImageData(arg('--data', 'fashion-mnist'))
  const ev = trainerBpe(tf, { data, omega: preset.omega, full: preset.full, val: preset.val, trainImages: preset.trainImages, fullName: preset.fullName, cost: 'seconds' })
  console.log(`Machine: ${machine()}; tfjs ${backend}; ${preset.description}; ${ev.trainImages} training images`)
  const t0 = cpuMs()
  const cal = await calibrateSecondsCost(ev, { archs: Number(arg('--calibration-archs', '2')) })
  const calCpu = (cpuMs() - t0) / 1000
  printTable('Calibration (mean CPU-s per training over the calibration cells)', ['setting', 'CPU-s'], cal.calibration.settings.map((key, i) => ({ setting: key, 'CPU-s': cal.calibration.seconds[i].toFixed(2) })))
  console.log(cal.calibration.label)
  // --f-cpu S reuses a measured f (CPU-s of one f training) instead of training it again.
  const f0 = cpuMs()
  const fr = process.argv.includes('--f-cpu') ? null : await ev.full(drawArchs(ev.pool, 1, 0, 7))
  const fCpu = fr === null ? Number(arg('--f-cpu')) : (cpuMs() - f0) / 1000
  const fValues = { ...TRAINER_FULL, image: data.height, ...preset.full }
  const fPred = cal.calibration.law.predictValues(fValues)
  const est = estimateMip(cal, { archs, k })
  const b = est.meanFlops
  const total = archs * fCpu + est.evaluated * archs * b
  console.log(`f (${JSON.stringify(fValues)}) on one cell: ${fCpu.toFixed(1)} CPU-s ${fr === null ? 'given (--f-cpu)' : 'measured'} (the law extrapolates ${fPred.toFixed(1)})${fr === null ? '' : `; top-1 ${fr.accuracy[0].toFixed(2)} %`}`)
  console.log(`One MIP run, |G| ${archs}, K ${k}: ${est.evaluated} settings, ${est.trainings} trainings; E[T(b)] under round 1's Eq. 2 ${b.toFixed(2)} CPU-s (cheapest ${est.minFlops.toFixed(2)}, dearest ${est.maxFlops.toFixed(2)})`)
  console.log(`Extrapolated CPU time of one run: f ${(archs * fCpu / 60).toFixed(1)} min + b ${(est.evaluated * archs * b / 60).toFixed(1)} min = ${(total / 3600).toFixed(2)} h of one core; two seeds side by side at --jobs 2 on 2 cores: ${(total / 3600).toFixed(2)} h wall if the cores are free (calibration itself took ${calCpu.toFixed(0)} CPU-s)`)
}

(process.argv.includes('--size') ? size() : main()).catch(err => { console.error(err); process.exit(1) })
