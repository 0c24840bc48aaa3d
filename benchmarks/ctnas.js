'use strict'
// CTNAS on NAS-Bench-201 (Chen et al., CVPR 2021), nasrank against its peers in the same run,
// same weights, scores checked:
//   1. Table 3: rank 100 architectures (embed + Eq. 5 + sort; paper 4.1 ms, NB-101, GPU).
//      nasrank: NAC embeddings (TypeScript) + the native Eq. 5 row means (1 thread).
//      Peers: the authors' `cartesian_traverse` in PyTorch CPU (every pair embeds both
//      architectures, batches of 1,024 pairs, float32 as the code; 1 thread), PyTorch embed-once,
//      numpy embed-once, tfjs-wasm embed-once.
//   2. |H| = 1,024 ranked (baseline update of Alg. 2 at scale), 2 threads; PyTorch embed-once.
//   3. All 15,625 NB-201 cells: Eq. 5 row means (2.4·10⁸ ordered pairs) and Eq. 12 KTau
//      (1.2·10⁸ pairs, exact counts), native at 2 threads vs the same loops in plain JS.
//   4. nasrank only: one NAC training step, one data exploration.
//   5. The REINFORCE controller (LSTMCell 64, 6 decisions, 5 choices): one iteration (sample,
//      log π, entropy, BPTT, Adam) and 1,024 samples, native (native/controller.cc) against the
//      TypeScript reference, PyTorch CPU (nn.LSTMCell + Linear + Embedding, autograd, torch Adam,
//      1 thread; float32 as the code, and float64) and a tfjs-wasm twin (tf.variableGrads +
//      tf.train.adam); every peer's log π of the same decisions is checked against ours.
//   6. The NB-101 controller (the code's NASBenchController: LSTMCell 64, 18 decisions, pointer
//      attention): one REINFORCE iteration (sample, log π, entropy, BPTT, Adam; reward 0.5,
//      entropy 5e-4 in the loss as the code) and 1,024 samples (a data exploration's draw), at
//      1 thread: native (Nb101Controller engine 'native') against the TypeScript engine (same
//      draws, final parameters checked), a PyTorch CPU port of the code's controller
//      (benchmarks/ctnas_controller_torch.py: Categorical sampling with .item() per decision,
//      autograd, torch Adam, torch.set_num_threads(1); float32 as the code, and float64) and a
//      tfjs-wasm twin written here (tf.variableGrads + tf.train.adam, probabilities read back per
//      decision); every peer's log π of the same 18 decisions is checked against ours.
//      `--only nb101-controller` runs this section alone.
// A missing peer (no python3 with numpy / torch, no tfjs wasm) is skipped with a message.
// Usage: node benchmarks/ctnas.js [--repeat 20] [--json out.json] [--only nb101-controller]   (run `npx tsc` first)
const fs = require('fs')
const { time, findPython, runPython, machine, printTable, fmt, ratio, cliArgs } = require('./peers')

const m = require('..')
const { nacGraphTable, Adam, sigmoid } = require('../dist/lib/models/nac')
const { value, number } = cliArgs()
const repeat = number('--repeat', 20)
const jsonOut = value('--json', null)
const only = value('--only', null)
if (only !== null && only !== 'nb101-controller') { console.error(`ctnas.js: --only must be nb101-controller, got ${only}`); process.exit(2) }

const random = new m.Random(1)
const nac = new m.Nac(random.fork())
const D = nac.hidden
const V = 8
const table = nacGraphTable()
const pick = n => Array.from({ length: n }, () => random.int(15625))

function rankJs (idx, threads) {
  const { u, v } = nac.heads(idx)
  const { scores } = m.baselineUpdate({ u, v }, { threads })
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b)
  return { scores, order }
}

// Graphs of the chosen cells as dense arrays for the peers.
function graphs (idx) {
  const n = idx.length
  const norm = new Float64Array(n * V * V)
  const feat = new Float64Array(n * V)
  idx.forEach((i, k) => {
    norm.set(table.norm.subarray(i * V * V, (i + 1) * V * V), k * V * V)
    for (let r = 0; r < V; r++) feat[k * V + r] = table.feat[i * V + r]
  })
  return { norm, feat }
}
const params = Float64Array.from(nac.params)
const maxDiff = (a, b) => a.reduce((w, x, k) => Math.max(w, Math.abs(x - b[k])), 0)

const json = { machine: machine(), repeat }
const rows = []

if (only === 'nb101-controller') {
  controller101Bench().then(crows => {
    console.log(`\nMachine: ${json.machine}; load average ${require('os').loadavg().map(x => x.toFixed(1)).join(' ')}`)
    printTable('CTNAS NB-101 controller, 1 thread (best of repeats; peer columns: time (peer / native))',
      ['task', 'native', 'TypeScript', 'PyTorch f32 (code)', 'PyTorch f64', 'tfjs-wasm'], crows)
    if (jsonOut !== null) fs.writeFileSync(jsonOut, JSON.stringify(json, null, 2))
  }).catch(err => { console.error(err); process.exit(1) })
  return // CommonJS: the rest of the file is the other sections
}

// ---- 1 and 2: ranking ----------------------------------------------------------------------
const idx100 = pick(100)
const idx1024 = pick(1024)
const js100 = time(() => rankJs(idx100, 1), repeat)
const js1024 = time(() => rankJs(idx1024, 2), Math.max(3, repeat / 4))
rows.push({ task: 'rank 100 (Table 3), 1 thread', nasrank: fmt(js100.ms) })
rows.push({ task: 'rank |H| = 1,024, 2 threads', nasrank: fmt(js1024.ms) })
json.rank100 = { nasrank_ms: js100.ms }
json.rank1024 = { nasrank_ms: js1024.ms }

const py = findPython(['numpy'])
const torchPy = findPython(['numpy', 'torch'])
if (py === null) console.log('numpy peer: SKIPPED (no python3 with numpy)')
else {
  const g = graphs(idx100)
  const peer = runPython(py, `
D = ${D}; V = 8; n = 100
W0 = params[:7*D].reshape(7, D); W1 = params[7*D:7*D+D*D].reshape(D, D)
wa = params[7*D+D*D:7*D+D*D+D]; wb = params[7*D+D*D+D:]
A = norm.reshape(n, V, V); F = feat.reshape(n, V).astype(np.int64)
def rank():
    Z = np.einsum('nij,njd->nid', A, np.maximum(np.einsum('nij,njd->nid', A, W0[F]), 0)) @ W1
    z = Z.mean(1)
    u = z @ wa; v = z @ wb
    P = 1 / (1 + np.exp(-(u[:, None] + v[None, :])))
    np.fill_diagonal(P, 0)
    scores = P.sum(1) / (n - 1)
    return scores, np.argsort(-scores, kind='stable')
rank()
best = 1e9
for _ in range(${repeat}):
    t0 = time.perf_counter(); scores, order = rank(); best = min(best, (time.perf_counter() - t0) * 1000)
print(json.dumps({'ms': best, 'scores': scores.tolist()}))
`, { params, norm: g.norm, feat: g.feat })
  const worst = maxDiff(peer.scores, js100.result.scores)
  if (worst > 1e-9) throw new Error(`numpy peer disagrees with nasrank's Eq. 5 scores (max |diff| ${worst})`)
  rows[0].numpy = `${fmt(peer.ms)} (${ratio(peer.ms, js100.ms)})`
  json.rank100.numpy_ms = peer.ms
}

if (torchPy === null) console.log("PyTorch peers (the authors' cartesian_traverse, embed-once): SKIPPED (no python3 with torch)")
else {
  const g100 = graphs(idx100)
  const g1024 = graphs(idx1024)
  const peer = runPython(torchPy, `
import torch
D = ${D}; V = 8; R = ${repeat}
P64 = torch.from_numpy(params)
class NAC(torch.nn.Module):
    # The paper preset as nasrank implements it: Z = Â·ReLU(Â X W0)·W1, mean over V, σ([z_a; z_b]·w).
    def __init__(self, dtype):
        super().__init__()
        p = P64.to(dtype)
        self.W0 = p[:7*D].reshape(7, D); self.W1 = p[7*D:7*D+D*D].reshape(D, D)
        self.w = p[7*D+D*D:].reshape(2*D, 1)
    def embed(self, A, F):
        X = self.W0[F]
        return (A @ torch.relu(A @ X) @ self.W1).mean(1)
    def forward(self, a, b):  # the code's ranker(a, b): embeds both sides of every pair
        za = self.embed(*a); zb = self.embed(*b)
        return torch.sigmoid(torch.cat([za, zb], 1) @ self.w).squeeze(1)

# The authors' utilities (chenyaofo/CTNAS), verbatim in substance.
def transpose_l(items): return list(map(list, zip(*items)))
def select(items, index): return [items[i] for i in index]
def index_generate(m, n, up_triangular=False, max_batch_size=1024):
    indexs = []
    for i in range(m):
        for j in range(n):
            indexs.append((i, j))
            if len(indexs) == max_batch_size:
                yield indexs; indexs = []
    if indexs: yield indexs
def batchify(items):
    if isinstance(items[0], (list, tuple)):
        return [torch.stack(item, dim=0) for item in transpose_l(items)]
    return torch.stack(items, dim=0)
def cartesian_traverse(arch0, arch1, ranker):
    m, n = len(arch0), len(arch1); outputs = []
    with torch.no_grad():
        for index in index_generate(m, n):
            i, j = transpose_l(index)
            outputs.append(ranker(batchify(select(arch0, i)), batchify(select(arch1, j))))
    return torch.cat(outputs, 0).view(m, n)

def load(norm, feat, n, dtype):
    return torch.from_numpy(norm).to(dtype).reshape(n, V, V), torch.from_numpy(feat).long().reshape(n, V)

def eq5(P):
    n = P.shape[0]
    P = P.clone(); P.fill_diagonal_(0)
    s = P.sum(1) / (n - 1)
    return s, torch.argsort(-s)

def timeit(f, r):
    f(); best = 1e9
    for _ in range(r):
        t0 = time.perf_counter(); out = f(); best = min(best, (time.perf_counter() - t0) * 1000)
    return best, out

out = {}
torch.set_num_threads(1)
for dtype, name in ((torch.float32, 'f32'), (torch.float64, 'f64')):
    net = NAC(dtype)
    A, F = load(norm100, feat100, 100, dtype)
    archs = [(A[k], F[k]) for k in range(100)]
    ms, (s, _) = timeit(lambda: eq5(cartesian_traverse(archs, archs, net)), max(2, R // 5))
    out['traverse_' + name] = ms; out['traverse_scores_' + name] = s.tolist()
    def once(A=A, F=F):
        with torch.no_grad():
            z = net.embed(A, F); u = z @ net.w[:D, 0]; v = z @ net.w[D:, 0]
            return eq5(torch.sigmoid(u[:, None] + v[None, :]))
    ms, (s, _) = timeit(once, R)
    out['once100_' + name] = ms
torch.set_num_threads(2)
net = NAC(torch.float32)
A, F = load(norm1024, feat1024, 1024, torch.float32)
def once1024():
    with torch.no_grad():
        z = net.embed(A, F); u = z @ net.w[:D, 0]; v = z @ net.w[D:, 0]
        return eq5(torch.sigmoid(u[:, None] + v[None, :]))
ms, (s, _) = timeit(once1024, max(3, R // 4))
out['once1024_f32_2threads'] = ms; out['once1024_scores'] = s.tolist()
out['torch'] = torch.__version__
print(json.dumps(out))
`, { params, norm100: g100.norm, feat100: g100.feat, norm1024: g1024.norm, feat1024: g1024.feat })
  const w64 = maxDiff(peer.traverse_scores_f64, js100.result.scores)
  const w32 = maxDiff(peer.traverse_scores_f32, js100.result.scores)
  const w1024 = maxDiff(peer.once1024_scores, js1024.result.scores)
  if (w64 > 1e-9 || w32 > 1e-4 || w1024 > 1e-4) throw new Error(`PyTorch peer disagrees with nasrank's Eq. 5 scores (f64 ${w64}, f32 ${w32}, |H| 1024 ${w1024})`)
  rows[0]['PyTorch cartesian_traverse (code, f32)'] = `${fmt(peer.traverse_f32)} (${ratio(peer.traverse_f32, js100.ms)})`
  rows[0]['PyTorch embed-once (f32)'] = `${fmt(peer.once100_f32)} (${ratio(peer.once100_f32, js100.ms)})`
  rows[1]['PyTorch embed-once (f32)'] = `${fmt(peer.once1024_f32_2threads)} (${ratio(peer.once1024_f32_2threads, js1024.ms)})`
  json.torch = { version: peer.torch, max_abs_score_diff_f64: w64, max_abs_score_diff_f32: w32 }
  Object.assign(json.rank100, { torch_traverse_f32_ms: peer.traverse_f32, torch_traverse_f64_ms: peer.traverse_f64, torch_once_f32_ms: peer.once100_f32, torch_once_f64_ms: peer.once100_f64 })
  json.rank1024.torch_once_f32_2threads_ms = peer.once1024_f32_2threads
}

// tfjs on the wasm backend, embed-once (the same graph ops as the PyTorch embed-once peer).
async function tfjsPeer () {
  let tf
  try { ({ tf } = await m.initTfBackend({ backend: 'wasm' })) } catch (err) { console.log(`tfjs-wasm peer: SKIPPED (${err.message})`); return }
  const W0 = tf.tensor2d(Float32Array.from(params.subarray(0, 7 * D)), [7, D])
  const W1 = tf.tensor2d(Float32Array.from(params.subarray(7 * D, 7 * D + D * D)), [D, D])
  const wa = tf.tensor2d(Float32Array.from(params.subarray(7 * D + D * D, 7 * D + D * D + D)), [D, 1])
  const wb = tf.tensor2d(Float32Array.from(params.subarray(7 * D + D * D + D)), [D, 1])
  const run = (idx) => {
    const n = idx.length
    const g = graphs(idx)
    const A = tf.tensor3d(Float32Array.from(g.norm), [n, V, V])
    const F = tf.tensor2d(Int32Array.from(g.feat), [n, V], 'int32')
    const scores = tf.tidy(() => {
      const X = tf.gather(W0, F.reshape([n * V])).reshape([n, V, D])
      const H1 = tf.relu(tf.matMul(A, X))
      const Z = tf.matMul(tf.matMul(A, H1).reshape([n * V, D]), W1).reshape([n, V, D]).mean(1)
      const u = tf.matMul(Z, wa); const v = tf.matMul(Z, wb).reshape([1, n])
      const P = tf.sigmoid(tf.add(u, v))
      const diag = tf.sigmoid(tf.add(u.reshape([n]), v.reshape([n])))
      return tf.div(tf.sub(P.sum(1), diag), n - 1)
    })
    const s = scores.dataSync()
    tf.dispose([A, F, scores])
    const order = Array.from(s.keys()).sort((a, b) => s[b] - s[a] || a - b)
    return { scores: s, order }
  }
  const t100 = time(() => run(idx100), repeat)
  const w = maxDiff(Array.from(t100.result.scores), js100.result.scores)
  if (w > 1e-4) throw new Error(`tfjs-wasm peer disagrees with nasrank's Eq. 5 scores (max |diff| ${w})`)
  rows[0]['tfjs-wasm embed-once'] = `${fmt(t100.ms)} (${ratio(t100.ms, js100.ms)})`
  json.rank100.tfjs_wasm_ms = t100.ms
}

// ---- 5: the controller --------------------------------------------------------------------
async function controllerBench () {
  const H = 64
  const C = m.CONTROLLER_CHOICES
  const T = m.CONTROLLER_STEPS
  const crng = new m.Random(11)
  const ctrl = new m.Controller(crng.fork(), H)
  const start = Float64Array.from(ctrl.params)
  const forced = [1, 4, 0, 2, 3, 3]
  const ourLogPi = ctrl.sampleNative(null, forced).logProb
  const iterations = 200
  const reward = 0.5
  const runIterations = (native) => {
    ctrl.params.set(start)
    const adam = new Adam(ctrl.params.length, 2e-4, 0.5, 0.999, 5e-4)
    const r = new m.Random(12)
    for (let k = 0; k < iterations; k++) {
      if (native) {
        ctrl.stepNative(ctrl.sampleNative(r), reward, 0, adam)
      } else {
        const s = ctrl.sample(r)
        ctrl.grad.fill(0)
        ctrl.backward(s, reward)
        adam.step(ctrl.params, ctrl.grad)
      }
    }
  }
  const nat = time(() => runIterations(true), repeat)
  // CPU time of the same work (the machine may be shared: wall time then overstates it).
  let natCpu = Infinity
  for (let k = 0; k < repeat; k++) { const c0 = process.cpuUsage(); runIterations(true); const d = process.cpuUsage(c0); natCpu = Math.min(natCpu, (d.user + d.system) / 1000) }
  const ts = time(() => runIterations(false), Math.max(1, Math.ceil(repeat / 4)))
  ctrl.params.set(start)
  const many = time(() => ctrl.sampleManyNative(1024, crng), repeat)
  const manyTs = time(() => ctrl.sampleMany(1024, crng), Math.max(1, Math.ceil(repeat / 4)))
  const perIt = (x) => x / iterations
  const rows = [
    { task: 'one iteration: sample, log π, entropy, BPTT, Adam', native: `${fmt(perIt(nat.ms))} (CPU ${fmt(perIt(natCpu))})`, TypeScript: `${fmt(perIt(ts.ms))} (${ratio(ts.ms, nat.ms)})` },
    { task: '1,024 samples (data exploration; grouped by prefix)', native: fmt(many.ms), TypeScript: `${fmt(manyTs.ms)} (${ratio(manyTs.ms, many.ms)})` }
  ]
  json.controller = { iterations, native_ms_per_iteration: perIt(nat.ms), native_cpu_ms_per_iteration: perIt(natCpu), ts_ms_per_iteration: perIt(ts.ms), sample1024_native_ms: many.ms, sample1024_ts_ms: manyTs.ms }

  const torchPy = findPython(['numpy', 'torch'])
  if (torchPy === null) console.log('controller PyTorch peer: SKIPPED (no python3 with torch)')
  else {
    const peer = runPython(torchPy, `
import torch
torch.set_num_threads(1)
H = ${H}; C = ${C}; T = ${T}; ITER = ${iterations}; R = ${repeat}
P64 = torch.from_numpy(params)
class Controller(torch.nn.Module):
    # nasrank's controller: LSTMCell(H) (gates i, f, g, o), Linear(H -> C), Embedding(C, H);
    # step 0 reads zeros, step t the embedding of decision t-1.
    def __init__(self, dtype):
        super().__init__()
        self.cell = torch.nn.LSTMCell(H, H); self.out = torch.nn.Linear(H, C); self.emb = torch.nn.Embedding(C, H)
        at = 0
        with torch.no_grad():
            for t in [self.cell.weight_ih, self.cell.bias_ih, self.cell.weight_hh, self.cell.bias_hh, self.out.weight, self.out.bias, self.emb.weight]:
                n = t.numel(); t.copy_(P64[at:at + n].reshape(t.shape)); at += n
        self.to(dtype); self.dtype = dtype
    def forward(self, forced=None):
        h = torch.zeros(1, H, dtype=self.dtype); c = torch.zeros(1, H, dtype=self.dtype); x = torch.zeros(1, H, dtype=self.dtype)
        logp = 0; ent = 0; ops = []
        for t in range(T):
            h, c = self.cell(x, (h, c))
            lp = torch.log_softmax(self.out(h), -1)
            p = lp.exp()
            a = forced[t] if forced is not None else int(torch.multinomial(p.detach(), 1))
            logp = logp + lp[0, a]; ent = ent - (p * lp).sum()
            ops.append(a); x = self.emb(torch.tensor([a]))
        return ops, logp, ent
out = {'torch': torch.__version__}
for name, dtype in [('f32', torch.float32), ('f64', torch.float64)]:
    ctrl = Controller(dtype)
    out['logpi_' + name] = float(ctrl(${JSON.stringify(forced)})[1])
    opt = torch.optim.Adam(ctrl.parameters(), lr=2e-4, betas=(0.5, 0.999), weight_decay=5e-4)
    def iterate():
        ops, logp, ent = ctrl()
        loss = -logp * ${reward}
        opt.zero_grad(); loss.backward(); opt.step()
    iterate()
    best = 1e9
    for _ in range(R):
        t0 = time.perf_counter()
        for _ in range(ITER): iterate()
        best = min(best, (time.perf_counter() - t0) * 1000 / ITER)
    out['iter_' + name] = best
print(json.dumps(out))
`, { params: start })
    for (const k of ['f32', 'f64']) {
      const d = Math.abs(peer[`logpi_${k}`] - ourLogPi)
      if (d > (k === 'f64' ? 1e-9 : 1e-4)) throw new Error(`PyTorch ${k} controller disagrees with nasrank's log π (${peer[`logpi_${k}`]} vs ${ourLogPi})`)
    }
    rows[0]['PyTorch f32 (code)'] = `${fmt(peer.iter_f32)} (${ratio(peer.iter_f32, perIt(nat.ms))})`
    rows[0]['PyTorch f64'] = `${fmt(peer.iter_f64)} (${ratio(peer.iter_f64, perIt(nat.ms))})`
    Object.assign(json.controller, { torch_f32_ms_per_iteration: peer.iter_f32, torch_f64_ms_per_iteration: peer.iter_f64 })
  }

  let tf
  try { ({ tf } = await m.initTfBackend({ backend: 'wasm' })) } catch (err) { console.log(`controller tfjs-wasm twin: SKIPPED (${err.message})`); return rows }
  let at = 0
  const take = (shape) => { const n = shape.reduce((a, b) => a * b, 1); const v = tf.variable(tf.tensor(Float32Array.from(start.subarray(at, at + n)), shape)); at += n; return v }
  const Wih = take([4 * H, H]); const bih = take([4 * H]); const Whh = take([4 * H, H]); const bhh = take([4 * H])
  const Wo = take([C, H]); const bo = take([C]); const E = take([C, H])
  const vars = [Wih, bih, Whh, bhh, Wo, bo, E]
  const wd = 5e-4
  const logPi = (ops, r) => {
    let h = tf.zeros([1, H]); let c = tf.zeros([1, H]); let x = null
    let lp = tf.scalar(0)
    const picked = []
    for (let t = 0; t < T; t++) {
      let g = tf.add(tf.add(tf.matMul(h, Whh, false, true), bhh), bih)
      if (x !== null) g = tf.add(g, tf.matMul(x, Wih, false, true))
      const [i, f, gg, o] = tf.split(g, 4, 1)
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(gg)))
      h = tf.mul(tf.sigmoid(o), tf.tanh(c))
      const logp = tf.logSoftmax(tf.add(tf.matMul(h, Wo, false, true), bo))
      let a = ops !== null ? ops[t] : C - 1
      if (ops === null) { // sample from π: the probabilities leave the device each step
        const p = tf.exp(logp).dataSync(); const u = r.float(); let acc = 0
        for (let k = 0; k < C; k++) { acc += p[k]; if (u < acc) { a = k; break } }
      }
      picked.push(a)
      // One-hot products instead of gather: gather's gradient needs a kernel wasm lacks.
      const hot = tf.oneHot(tf.tensor1d([a], 'int32'), C).toFloat()
      lp = tf.add(lp, tf.sum(tf.mul(logp, hot)))
      x = tf.matMul(hot, E)
    }
    return { lp, picked }
  }
  const twin = tf.tidy(() => logPi(forced, null).lp.dataSync()[0])
  if (Math.abs(twin - ourLogPi) > 1e-4) throw new Error(`tfjs controller twin disagrees with nasrank's log π (${twin} vs ${ourLogPi})`)
  const opt = tf.train.adam(2e-4, 0.5, 0.999)
  const r = new m.Random(12)
  const tfIters = 20
  const tt = time(() => {
    for (let k = 0; k < tfIters; k++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const l2 = vars.reduce((acc, v) => tf.add(acc, tf.sum(tf.square(v))), tf.scalar(0))
          return tf.add(tf.mul(logPi(null, r).lp, -reward), tf.mul(l2, wd / 2))
        }, vars)
        opt.applyGradients(grads)
      })
    }
  }, Math.max(1, Math.ceil(repeat / 4)))
  rows[0]['tfjs-wasm'] = `${fmt(tt.ms / tfIters)} (${ratio(tt.ms / tfIters, perIt(nat.ms))})`
  json.controller.tfjs_wasm_ms_per_iteration = tt.ms / tfIters
  return rows
}

// ---- 6: the NB-101 controller ------------------------------------------------------------
async function controller101Bench () {
  const H = 64
  const crng = new m.Random(11)
  const ctrl = new m.Nb101Controller(crng.fork(), H, { engine: 'native' })
  const start = Float64Array.from(ctrl.params)
  const forced = [3, 0, 1, 1, 2, 2, 0, 3, 4, 0, 1, 2, 3, 4, 4, 1, 0, 2]
  const ourLogPi = ctrl.sample(null, forced).logProb
  ctrl.engine = 'js'
  if (Math.abs(ctrl.sample(null, forced).logProb - ourLogPi) > 1e-9 * Math.abs(ourLogPi)) throw new Error('the NB-101 controller engines disagree on log π')
  const reward = 0.5
  const entropyCoef = 5e-4
  const runIterations = (engine, iterations) => {
    ctrl.engine = engine
    ctrl.params.set(start)
    const adam = new Adam(ctrl.params.length, 2e-4, 0.5, 0.999, 5e-4)
    const r = new m.Random(12)
    for (let k = 0; k < iterations; k++) ctrl.step(ctrl.sample(r), reward, entropyCoef, adam)
    return Float64Array.from(ctrl.params)
  }
  const natIters = 200
  const tsIters = 20
  const nat = time(() => runIterations('native', natIters), repeat)
  // CPU time of the same work (the machine may be shared: wall time then overstates it).
  let natCpu = Infinity
  for (let k = 0; k < repeat; k++) { const c0 = process.cpuUsage(); runIterations('native', natIters); const d = process.cpuUsage(c0); natCpu = Math.min(natCpu, (d.user + d.system) / 1000) }
  const ts = time(() => runIterations('js', tsIters), Math.max(1, Math.ceil(repeat / 4)))
  // The same run on both engines: the same decisions, parameters to rounding.
  const a = runIterations('js', tsIters); const b = runIterations('native', tsIters)
  const paramDiff = a.reduce((w, x, k) => Math.max(w, Math.abs(x - b[k])), 0)
  if (paramDiff > 1e-10) throw new Error(`native and TypeScript NB-101 controllers disagree after ${tsIters} iterations (max |Δθ| ${paramDiff})`)
  const natIt = nat.ms / natIters
  const tsIt = ts.ms / tsIters
  // Sampling alone: one sample with its cache, and 1,024 without (data exploration).
  ctrl.params.set(start)
  const sampleOne = (engine, n) => { ctrl.engine = engine; const r = new m.Random(13); for (let k = 0; k < n; k++) ctrl.sample(r) }
  const one = time(() => sampleOne('native', natIters), repeat)
  const oneTs = time(() => sampleOne('js', tsIters), Math.max(1, Math.ceil(repeat / 4)))
  const manyOf = (engine) => { ctrl.engine = engine; return ctrl.sampleMany(1024, new m.Random(14)) }
  const many = time(() => manyOf('native'), repeat)
  const manyTs = time(() => manyOf('js'), Math.max(1, Math.ceil(repeat / 8)))
  if (many.result.some((s, k) => s.seq.join() !== manyTs.result[k].seq.join())) throw new Error('native and TypeScript NB-101 sampleMany disagree')
  const rows = [
    { task: 'NB-101 one iteration: sample, log π, entropy, BPTT, Adam', native: `${fmt(natIt)} (CPU ${fmt(natCpu / natIters)})`, TypeScript: `${fmt(tsIt)} (${ratio(tsIt, natIt)})` },
    { task: 'NB-101 one sample (with the BPTT cache)', native: fmt(one.ms / natIters), TypeScript: `${fmt(oneTs.ms / tsIters)} (${ratio(oneTs.ms / tsIters, one.ms / natIters)})` },
    { task: 'NB-101 1,024 samples (data exploration)', native: fmt(many.ms), TypeScript: `${fmt(manyTs.ms)} (${ratio(manyTs.ms, many.ms)})` }
  ]
  json.controller101 = {
    native_ms_per_iteration: natIt, native_cpu_ms_per_iteration: natCpu / natIters, ts_ms_per_iteration: tsIt, engines_max_abs_param_diff: paramDiff,
    native_ms_per_sample: one.ms / natIters, ts_ms_per_sample: oneTs.ms / tsIters, sample1024_native_ms: many.ms, sample1024_ts_ms: manyTs.ms
  }

  const torchPy = findPython(['numpy', 'torch'])
  if (torchPy === null) console.log('NB-101 controller PyTorch peer: SKIPPED (no python3 with torch)')
  else {
    const path = require('path')
    const os = require('os')
    const { spawnSync } = require('child_process')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-ctnas101-'))
    let peer
    try {
      const file = path.join(dir, 'params.f64')
      fs.writeFileSync(file, Buffer.from(start.buffer, start.byteOffset, start.byteLength))
      const torchIters = 20
      const r = spawnSync(torchPy, [path.join(__dirname, 'ctnas_controller_torch.py'), file, String(H), String(torchIters), String(Math.max(1, Math.ceil(repeat / 4))), JSON.stringify(forced)], { encoding: 'utf8', maxBuffer: 1 << 26 })
      if (r.status !== 0) throw new Error(`python peer failed: ${r.stderr}`)
      peer = JSON.parse(r.stdout.trim().split('\n').pop())
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
    for (const k of ['f32', 'f64']) {
      const d = Math.abs(peer[`logpi_${k}`] - ourLogPi)
      if (d > (k === 'f64' ? 1e-9 : 1e-4) * Math.abs(ourLogPi)) throw new Error(`PyTorch ${k} NB-101 controller disagrees with nasrank's log π (${peer[`logpi_${k}`]} vs ${ourLogPi})`)
    }
    rows[0]['PyTorch f32 (code)'] = `${fmt(peer.iter_f32)} (${ratio(peer.iter_f32, natIt)})`
    rows[0]['PyTorch f64'] = `${fmt(peer.iter_f64)} (${ratio(peer.iter_f64, natIt)})`
    Object.assign(json.controller101, { torch: peer.torch, torch_f32_ms_per_iteration: peer.iter_f32, torch_f64_ms_per_iteration: peer.iter_f64, torch_logpi_f64_diff: Math.abs(peer.logpi_f64 - ourLogPi) })
  }

  let tf
  try { ({ tf } = await m.initTfBackend({ backend: 'wasm' })) } catch (err) { console.log(`NB-101 controller tfjs-wasm twin: SKIPPED (${err.message})`); return rows }
  // The twin: the same parameters (float32, as tfjs), the same steps and decisions.
  let at = 0
  const take = (shape) => { const n = shape.reduce((x, y) => x * y, 1); const v = tf.variable(tf.tensor(Float32Array.from(start.subarray(at, at + n)), shape)); at += n; return v }
  const Wih = take([4 * H, H]); const bih = take([4 * H]); const Whh = take([4 * H, H]); const bhh = take([4 * H])
  const nEmb = take([5, H]); const nodeEmb = take([7, H]); const opEmb = take([3, H])
  const We = take([H, H]); const Wh = take([H, H]); const v = take([H, 1])
  const Wop = take([3, H]); const bop = take([3]); const Wn = take([5, H]); const bn = take([5])
  if (at !== start.length) throw new Error('tfjs twin: parameter layout mismatch')
  const vars = [Wih, bih, Whh, bhh, nEmb, nodeEmb, opEmb, We, Wh, v, Wop, bop, Wn, bn]
  const wd = 5e-4
  const policy = (seq, r) => {
    let h = tf.zeros([1, H]); let c = tf.zeros([1, H]); let x = null
    let lp = tf.scalar(0); let ent = tf.scalar(0)
    const picked = []
    let n = 0
    const decide = (logits, choices, t) => {
      const logp = tf.logSoftmax(logits)
      let a = seq !== null ? (t === 0 ? seq[0] - 1 : seq[t]) : choices - 1
      if (seq === null) { // sample from π: the probabilities leave the device each decision
        const p = tf.exp(logp).dataSync(); const u = r.float(); let acc = 0
        for (let k = 0; k < choices; k++) { acc += p[k]; if (u < acc) { a = k; break } }
      }
      // One-hot products instead of gather (gather's gradient needs a kernel wasm lacks); built
      // here, as tf.oneHot refuses depth 1 (node 1's single predecessor).
      const oh = new Float32Array(choices); oh[a] = 1
      const hot = tf.tensor2d(oh, [1, choices])
      lp = tf.add(lp, tf.sum(tf.mul(logp, hot)))
      ent = tf.sub(ent, tf.sum(tf.mul(tf.exp(logp), logp)))
      return { a, hot }
    }
    for (let t = 0; t < 18; t++) {
      let g = tf.add(tf.add(tf.matMul(h, Whh, false, true), bhh), bih)
      if (x !== null) g = tf.add(g, tf.matMul(x, Wih, false, true))
      const [i, f, gg, o] = tf.split(g, 4, 1)
      c = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(gg)))
      h = tf.mul(tf.sigmoid(o), tf.tanh(c))
      let kind; let choices
      if (t === 0) { kind = 0; choices = 5 } else if (t <= 2 * n) { kind = (t & 1) === 1 ? 2 : 1; choices = kind === 2 ? (t + 1) >> 1 : 3 } else { kind = 2; choices = t === 2 * n + 1 ? n + 1 : n + 2 }
      let logits
      if (kind === 0) logits = tf.add(tf.matMul(h, Wn, false, true), bn).reshape([5])
      else if (kind === 1) logits = tf.add(tf.matMul(h, Wop, false, true), bop).reshape([3])
      else {
        const keys = tf.matMul(tf.slice(nodeEmb, [0, 0], [choices, H]), We, false, true) // [choices, H]
        logits = tf.matMul(tf.tanh(tf.add(keys, tf.matMul(h, Wh, false, true))), v).reshape([choices])
      }
      const { a, hot } = decide(logits, choices, t)
      picked.push(t === 0 ? a + 1 : a)
      if (t === 0) n = a + 1
      x = tf.matMul(hot, kind === 0 ? nEmb : kind === 1 ? opEmb : tf.slice(nodeEmb, [0, 0], [choices, H]))
    }
    return { lp, ent, picked }
  }
  const twin = tf.tidy(() => policy(forced, null).lp.dataSync()[0])
  if (Math.abs(twin - ourLogPi) > 1e-4 * Math.abs(ourLogPi)) throw new Error(`tfjs NB-101 controller twin disagrees with nasrank's log π (${twin} vs ${ourLogPi})`)
  const opt = tf.train.adam(2e-4, 0.5, 0.999)
  const r = new m.Random(12)
  const tfIters = 10
  const tt = time(() => {
    for (let k = 0; k < tfIters; k++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const l2 = vars.reduce((acc, w) => tf.add(acc, tf.sum(tf.square(w))), tf.scalar(0))
          const { lp, ent } = policy(null, r)
          return tf.add(tf.sub(tf.mul(lp, -reward), tf.mul(ent, entropyCoef)), tf.mul(l2, wd / 2))
        }, vars)
        opt.applyGradients(grads)
      })
    }
  }, Math.max(1, Math.ceil(repeat / 4)))
  rows[0]['tfjs-wasm'] = `${fmt(tt.ms / tfIters)} (${ratio(tt.ms / tfIters, natIt)})`
  json.controller101.tfjs_wasm_ms_per_iteration = tt.ms / tfIters
  json.controller101.tfjs_logpi_diff = Math.abs(twin - ourLogPi)
  return rows
}

async function main () {
  await tfjsPeer()

  // ---- 3: all 15,625 cells ------------------------------------------------------------------
  const all = Array.from({ length: 15625 }, (_, i) => i)
  const { u, v } = nac.heads(all)
  const truth = Float64Array.from(all, () => random.float())
  const rm = time(() => m.comparatorRowMeans({ u, v }, { threads: 2 }), 3)
  const rmJs = time(() => {
    const n = u.length; const s = new Float64Array(n)
    for (let i = 0; i < n; i++) { let a = 0; for (let j = 0; j < n; j++) if (j !== i) a += sigmoid(u[i] + v[j]); s[i] = a / (n - 1) }
    return s
  }, 1)
  const rmDiff = rm.result.reduce((w, x, k) => Math.max(w, Math.abs(x - rmJs.result[k]) / rmJs.result[k]), 0)
  if (rmDiff > 1e-12) throw new Error(`native row means disagree with plain JS (max rel diff ${rmDiff})`)
  const kt = time(() => m.linearComparatorKendall({ u, v }, truth, 'paper', { threads: 2 }), 3)
  const ktJs = time(() => {
    const n = u.length; let c = 0
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const p = sigmoid(u[i] + v[j]) - 0.5; const d = truth[i] - truth[j]
        c += (p > 0 ? 1 : p < 0 ? -1 : 0) * (d > 0 ? 1 : d < 0 ? -1 : 0)
      }
    }
    return c / (n * (n - 1) / 2)
  }, 1)
  if (kt.result.tau !== ktJs.result) throw new Error(`native Eq. 12 (${kt.result.tau}) disagrees with plain JS (${ktJs.result})`)
  rows.push({ task: 'Eq. 5 row means, all 15,625 (2.4·10⁸ pairs), 2 threads', nasrank: fmt(rm.ms), 'plain JS': `${fmt(rmJs.ms)} (${ratio(rmJs.ms, rm.ms)})` })
  rows.push({ task: 'Eq. 12 KTau, all 15,625 (1.2·10⁸ pairs), 2 threads', nasrank: fmt(kt.ms), 'plain JS': `${fmt(ktJs.ms)} (${ratio(ktJs.ms, kt.ms)})` })
  json.all15625 = { rowMeans_ms: rm.ms, rowMeans_js_ms: rmJs.ms, kendall_ms: kt.ms, kendall_js_ms: ktJs.ms }

  // ---- 4: training (nasrank only) -----------------------------------------------------------
  const lab = pick(90)
  const pairs = { a: [], b: [], y: [] }
  for (let k = 0; k < 256; k++) { const i = random.int(90); const j = random.int(90); pairs.a.push(lab[i]); pairs.b.push(lab[j]); pairs.y.push(random.int(2)) }
  const step = time(() => nac.train(pairs), repeat)
  rows.push({ task: 'one NAC step (256 pairs of 90 architectures, fwd + bwd + Adam)', nasrank: fmt(step.ms) })
  const controller = new m.Controller(random.fork())
  const ex = time(() => nac.compare(...(() => { const s = controller.sampleManyNative(1024, random); const a = []; const b = []; for (let k = 0; k < 512; k++) { let x = 0; let y = 0; for (let e = 0; e < 6; e++) { x = x * 5 + s[12 * k + e]; y = y * 5 + s[12 * k + 6 + e] } a.push(x); b.push(y) } return [a, b] })()), repeat)
  rows.push({ task: 'one data exploration (1,024 controller samples, 512 NAC pairs)', nasrank: fmt(ex.ms) })
  json.nacStep_ms = step.ms
  json.exploration_ms = ex.ms

  console.log(`\nMachine: ${json.machine}; load average ${require('os').loadavg().map(x => x.toFixed(1)).join(' ')}`)
  printTable('CTNAS timings (best of repeats; peer columns: time (peer / nasrank))',
    ['task', 'nasrank', 'PyTorch cartesian_traverse (code, f32)', 'PyTorch embed-once (f32)', 'numpy', 'tfjs-wasm embed-once', 'plain JS'], rows)
  const crows = await controllerBench()
  printTable('CTNAS controller, 1 thread (best of repeats; peer columns: time (peer / native))',
    ['task', 'native', 'TypeScript', 'PyTorch f32 (code)', 'PyTorch f64', 'tfjs-wasm'], crows)
  const c101 = await controller101Bench()
  printTable('CTNAS NB-101 controller, 1 thread (best of repeats; peer columns: time (peer / native))',
    ['task', 'native', 'TypeScript', 'PyTorch f32 (code)', 'PyTorch f64', 'tfjs-wasm'], c101)
  if (jsonOut !== null) fs.writeFileSync(jsonOut, JSON.stringify(json, null, 2))
}
main().catch(err => { console.error(err); process.exit(1) })
