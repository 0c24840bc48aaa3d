'use strict'
// Random forest: nasrank's native CART forest (forestFit / forestPredict, the kernel behind
// RandomForestPredictor) vs scikit-learn's RandomForestRegressor on the same data in the
// same run, fit and predict times and the held-out Kendall tau of both.
//   nb201-onehot   90 × 30: random NB-201 cells' one-hot ops (Table 5's input), synthetic-201
//                  targets, 100 trees, scikit-learn's defaults (max_features 1.0)
//   nb101-tensor   N × 931: ReNAS's 19×7×7 tensor of random NB-101 cells, synthetic-101
//                  targets, 100 trees, max_features 1/3 (Table 1's forest), N = 424, 4236
//                  (42362, ~2 min with its peer: --cases nb101-tensor:42362)
//   uniform        N × 931 uniform random features (every value distinct), y = a smooth
//                  function of 5 columns + noise, 100 trees, max_features 1/3
// nasrank uses every core (NASRANK_THREADS); scikit-learn runs with n_jobs=-1 (every core)
// and, on the small inputs, also n_jobs=1 (its default), as joblib's start-up dominates there.
// Prediction: 2,000 held-out rows. Timings are one run each for the large inputs (best of 3
// for the small ones): run this once on a quiet machine.
// Usage: node benchmarks/random-forest.js [--cases nb201-onehot,nb101-tensor:424,...] [--json out.json]
const os = require('os')
const { forestFit, forestPredict, kendallTau, nativeInfo, openBench, renasEncode, Random } = require('..')
const { time, findPython, runPython, machine, printTable, fmt, ratio, cliArgs } = require('./peers')

const { value: arg, flag } = cliArgs()
const CASES = arg('--cases', 'nb201-onehot:90,nb101-tensor:424,uniform:424,nb101-tensor:4236,uniform:4236').split(',')
const TEST_ROWS = 2000
const load = () => os.loadavg().map(v => v.toFixed(2)).join(' ')

async function makeData (kind, n) {
  const random = new Random(n)
  if (kind === 'nb201-onehot') {
    const bench = await openBench('synthetic-201')
    const truth = bench.column({ metric: 'test' })
    const ops = bench.archs // Uint8Array, 6 op codes per cell
    const pick = count => Array.from({ length: count }, () => random.int(bench.size))
    const encode = idx => {
      const x = new Float32Array(idx.length * 30)
      idx.forEach((a, r) => { for (let e = 0; e < 6; e++) x[r * 30 + e * 5 + ops[a * 6 + e]] = 1 })
      return x
    }
    const train = pick(n); const test = pick(TEST_ROWS)
    return { cols: 30, x: encode(train), y: Float64Array.from(train, a => truth[a]), tx: encode(test), ty: Float64Array.from(test, a => truth[a]), maxFeatures: 1, skMaxFeatures: '1.0' }
  }
  if (kind === 'nb101-tensor') {
    const bench = await openBench('synthetic-101')
    const truth = bench.column({ metric: 'test' })
    const cells = bench.archs
    const pick = count => Uint32Array.from({ length: count }, () => random.int(bench.size))
    const train = pick(n); const test = pick(TEST_ROWS)
    const enc = idx => renasEncode(cells, { channels: 19, indices: idx, flopsScale: 1e-7, paramsScale: 1e-5 })
    return { cols: 931, x: enc(train), y: Float64Array.from(train, a => truth[a]), tx: enc(test), ty: Float64Array.from(test, a => truth[a]), maxFeatures: 1 / 3, skMaxFeatures: '1/3' }
  }
  const cols = 931
  const gen = count => {
    const x = new Float32Array(count * cols)
    const y = new Float64Array(count)
    for (let r = 0; r < count; r++) {
      for (let c = 0; c < cols; c++) x[r * cols + c] = random.float()
      const v = c => x[r * cols + c]
      y[r] = Math.sin(3 * v(0)) + 2 * v(7) * v(100) + v(500) - v(900) ** 2 + 0.1 * random.normal()
    }
    return { x, y }
  }
  const a = gen(n); const b = gen(TEST_ROWS)
  return { cols, x: a.x, y: a.y, tx: b.x, ty: b.y, maxFeatures: 1 / 3, skMaxFeatures: '1/3' }
}

async function main () {
  const python = findPython(['numpy', 'sklearn'])
  console.log(`load average at start: ${load()}`)
  console.log(`machine: ${machine()}; nasrank threads: ${nativeInfo().threads}`)
  if (!python) console.log('scikit-learn peer: SKIPPED (no python3 with numpy + scikit-learn found; set PYTHON=...)')
  const rows = []
  for (const spec of CASES) {
    const [kind, nText] = spec.split(':')
    const n = Number(nText)
    const d = await makeData(kind, n)
    const small = n * d.cols <= 1e6
    const repeat = small ? 3 : 1
    const fit = time(() => forestFit(d.x, d.y, d.cols, { trees: 100, maxFeatures: d.maxFeatures, seed: 0 }), repeat)
    const forest = fit.result
    const pred = time(() => forestPredict(forest, d.tx), small ? 3 : 1)
    const tau = kendallTau(pred.result, d.ty)
    let sk = null
    if (python) {
      const jobs = small ? '[None, -1]' : '[-1]'
      sk = runPython(python, `
import sklearn
from sklearn.ensemble import RandomForestRegressor
from scipy.stats import kendalltau
X = x.reshape(-1, ${d.cols}).astype(np.float32); TX = tx.reshape(-1, ${d.cols}).astype(np.float32)
out = {"version": sklearn.__version__}
for jobs in ${jobs}:
    fit = 1e30; pred = 1e30
    for r in range(${repeat}):
        t0 = time.perf_counter(); m = RandomForestRegressor(n_estimators=100, max_features=${d.skMaxFeatures}, random_state=0, n_jobs=jobs).fit(X, y); fit = min(fit, time.perf_counter() - t0)
        t0 = time.perf_counter(); p = m.predict(TX); pred = min(pred, time.perf_counter() - t0)
    out["jobs1" if jobs is None else "jobsAll"] = {"fit_ms": fit * 1e3, "predict_ms": pred * 1e3, "tau": float(kendalltau(p, ty).statistic), "nodes": int(sum(e.tree_.node_count for e in m.estimators_))}
print(json.dumps(out))`, { x: Float64Array.from(d.x), y: d.y, tx: Float64Array.from(d.tx), ty: d.ty })
    }
    const best = sk ? [sk.jobsAll, sk.jobs1].filter(Boolean).reduce((a, b) => (a.fit_ms + a.predict_ms <= b.fit_ms + b.predict_ms ? a : b)) : null
    const row = {
      input: `${kind} ${n} × ${d.cols}`,
      'max features': d.skMaxFeatures,
      'nasrank fit': fmt(fit.ms),
      'nasrank predict 2k': fmt(pred.ms),
      'sklearn fit (n_jobs -1 / 1)': sk ? `${fmt(sk.jobsAll.fit_ms)} / ${sk.jobs1 ? fmt(sk.jobs1.fit_ms) : '—'}` : 'skipped',
      'sklearn predict 2k (n_jobs -1 / 1)': sk ? `${fmt(sk.jobsAll.predict_ms)} / ${sk.jobs1 ? fmt(sk.jobs1.predict_ms) : '—'}` : 'skipped',
      'fit ratio (best sklearn / nasrank)': best ? ratio(Math.min(sk.jobsAll.fit_ms, sk.jobs1 ? sk.jobs1.fit_ms : Infinity), fit.ms) : '—',
      'predict ratio': best ? ratio(Math.min(sk.jobsAll.predict_ms, sk.jobs1 ? sk.jobs1.predict_ms : Infinity), pred.ms) : '—',
      'held-out tau (nasrank / sklearn)': `${tau.toFixed(3)} / ${sk ? sk.jobsAll.tau.toFixed(3) : '—'}`,
      nodes: `${forest.feature.length} / ${sk ? sk.jobsAll.nodes : '—'}`,
      _raw: { kind, n, cols: d.cols, nasrank_fit_ms: fit.ms, nasrank_predict_ms: pred.ms, tau, nodes: forest.feature.length, sklearn: sk }
    }
    rows.push(row)
    console.log(JSON.stringify(row._raw))
  }
  console.log(`load average at end: ${load()}`)
  const cols = ['input', 'max features', 'nasrank fit', 'sklearn fit (n_jobs -1 / 1)', 'fit ratio (best sklearn / nasrank)', 'nasrank predict 2k', 'sklearn predict 2k (n_jobs -1 / 1)', 'predict ratio', 'held-out tau (nasrank / sklearn)', 'nodes']
  printTable('RandomForestRegressor, 100 trees: nasrank vs scikit-learn', cols, rows)
  const json = { benchmark: 'random-forest', machine: machine(), threads: nativeInfo().threads, loadavg: os.loadavg(), rows: rows.map(r => r._raw) }
  console.log('\n' + JSON.stringify(json))
  const out = arg('--json')
  if (out) require('fs').writeFileSync(out, JSON.stringify(json, null, 2))
}

main().catch(err => { console.error(err); process.exitCode = 1 })
