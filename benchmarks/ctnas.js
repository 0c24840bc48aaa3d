'use strict'
// CTNAS on NAS-Bench-201: time to rank 100 architectures with the NAC (embed each once, Eq. 5
// row means over all pairs, sort; the paper's Table 3: 4.1 ms for CTNAS on NB-101, GPU), with
// numpy computing the same thing from the same weights in the same run (its scores are checked
// against ours); and, nasrank only, one NAC training step (256 pairs of 90 labelled
// architectures) and one controller iteration (sample, log π, BPTT, Adam). The PyTorch peers
// of the issue (the authors' code) need torch: skipped with a message when it is absent.
// Usage: node benchmarks/ctnas.js [--repeat 20] [--json out.json]
const fs = require('fs')
const { time, findPython, runPython, machine, printTable, fmt, ratio, cliArgs } = require('./peers')

const m = require('..')
const { nacGraphTable } = require('../dist/lib/models/nac')
const { Adam } = require('../dist/lib/models/nac')
const { value, number } = cliArgs()
const repeat = number('--repeat', 20)
const jsonOut = value('--json', null)

const random = new m.Random(1)
const nac = new m.Nac(random.fork())
const idx = Array.from({ length: 100 }, () => random.int(15625))

function rankJs () {
  const { u, v } = nac.heads(idx)
  const { scores } = m.baselineScores(u, v)
  const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || a - b)
  return { scores, order }
}
const js = time(rankJs, repeat)

const rows = [{ task: 'rank 100 NB-201 architectures (embed + Eq. 5 + sort)', nasrank: fmt(js.ms) }]
const json = { machine: machine(), repeat, rank100: { nasrank_ms: js.ms } }

const py = findPython(['numpy'])
if (py === null) {
  console.log('numpy peer: SKIPPED (no python3 with numpy)')
} else {
  const table = nacGraphTable()
  const V = 8
  const D = nac.hidden
  const norm = new Float64Array(100 * V * V)
  const feat = new Float64Array(100 * V)
  const col = new Float64Array(100 * V)
  idx.forEach((i, k) => {
    norm.set(table.norm.subarray(i * V * V, (i + 1) * V * V), k * V * V)
    for (let r = 0; r < V; r++) { feat[k * V + r] = table.feat[i * V + r]; col[k * V + r] = table.colSum[i * V + r] }
  })
  const params = Float64Array.from(nac.params)
  const code = `
D = ${D}; V = 8; n = 100
W0 = params[:7*D].reshape(7, D); W1 = params[7*D:7*D+D*D].reshape(D, D)
wa = params[7*D+D*D:7*D+D*D+D]; wb = params[7*D+D*D+D:]
A = norm.reshape(n, V, V); F = feat.reshape(n, V).astype(np.int64); C = col.reshape(n, V)
def rank():
    H1 = np.maximum(np.einsum('nij,njd->nid', A, W0[F]), 0)
    s = np.einsum('ni,nid->nd', C / V, H1)
    u = s @ (W1 @ wa); v = s @ (W1 @ wb)
    P = 1 / (1 + np.exp(-(u[:, None] + v[None, :])))
    np.fill_diagonal(P, 0)
    scores = P.sum(1) / (n - 1)
    return scores, np.argsort(-scores, kind='stable')
rank()
best = 1e9
for _ in range(${repeat}):
    t0 = time.perf_counter(); scores, order = rank(); best = min(best, (time.perf_counter() - t0) * 1000)
print(json.dumps({'ms': best, 'scores': scores.tolist()}))
`
  const peer = runPython(py, code, { params, norm, feat, col })
  let worst = 0
  peer.scores.forEach((s, k) => { worst = Math.max(worst, Math.abs(s - js.result.scores[k])) })
  if (worst > 1e-9) throw new Error(`numpy peer disagrees with nasrank's Eq. 5 scores (max |diff| ${worst})`)
  rows[0].numpy = fmt(peer.ms)
  rows[0]['numpy / nasrank'] = ratio(peer.ms, js.ms)
  json.rank100.numpy_ms = peer.ms
  json.rank100.max_abs_score_diff = worst
}
if (findPython(['torch']) === null) console.log('PyTorch peers (the authors\' cartesian_traverse and controller): SKIPPED (no python3 with torch; apt-get install python3-torch)')

// One NAC step and one controller iteration (nasrank only).
const lab = Array.from({ length: 90 }, () => random.int(15625))
const pairs = { a: [], b: [], y: [] }
for (let k = 0; k < 256; k++) { const i = random.int(90); const j = random.int(90); pairs.a.push(lab[i]); pairs.b.push(lab[j]); pairs.y.push(random.int(2)) }
const step = time(() => nac.train(pairs), repeat)
rows.push({ task: 'one NAC step (256 pairs of 90 architectures, fwd + bwd + Adam)', nasrank: fmt(step.ms) })
const controller = new m.Controller(random.fork())
const adam = new Adam(controller.params.length, 2e-4, 0.5, 0.999, 5e-4)
const iter = time(() => {
  const s = controller.sample(random)
  controller.grad.fill(0)
  controller.backward(s, 0.5)
  adam.step(controller.params, controller.grad)
}, repeat * 10)
rows.push({ task: 'one controller iteration (sample, BPTT, Adam)', nasrank: fmt(iter.ms) })
json.nacStep_ms = step.ms
json.controllerIteration_ms = iter.ms

console.log(`\nMachine: ${json.machine}`)
printTable('CTNAS timings (best of repeats)', ['task', 'nasrank', 'numpy', 'numpy / nasrank'], rows)
if (jsonOut !== null) fs.writeFileSync(jsonOut, JSON.stringify(json, null, 2))
