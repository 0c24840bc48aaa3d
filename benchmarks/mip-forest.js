'use strict'
// MIP-BPE's forest read-outs (lib/models/forest-importance.ts, TypeScript over the native
// forest's flat arrays):
//  - forestMarginals (exact fANOVA over Ω's grid from the leaves' boxes) against brute force:
//    forestPredict of each tree on all 81,920 points of the paper's Ω, then per-value means;
//    equal within 1e-12, and the speed ratio.
//  - forestImportance (Eq. 7–8, MDI) on a forest fitted to 42,000 rows against scikit-learn's
//    feature_importances_ of a RandomForestRegressor on the same rows (skipped with a message
//    when scikit-learn is absent; the forests differ, so only the timing is compared).
// Usage: node benchmarks/mip-forest.js [--rows 42000] [--json out.json]
const fs = require('fs')
const { forestFit, forestPredict, forestImportance, forestMarginals, PAPER_OMEGA, omegaSize, Random, nativeInfo } = require('..')
const { time, findPython, runPython, machine, printTable, fmt, ratio, cliArgs } = require('./peers')

const { value: arg } = cliArgs()
const ROWS = Number(arg('--rows', '42000'))
const out = {}
const grid = PAPER_OMEGA.dims.map(d => [...d.values])
const d = grid.length
const random = new Random(7)

// A MIP-sized forest: 70 settings of Ω, r_s-like targets, fANOVA's sizes.
const n = 70
const x = new Float64Array(n * d)
const y = []
for (let i = 0; i < n; i++) {
  grid.forEach((vals, j) => { x[i * d + j] = vals[random.int(vals.length)] })
  y.push(0.4 + 0.04 * Math.log2(x[i * d] / 10) + 0.1 * Math.log2(x[i * d + 3] / 6) + 0.05 * random.normal())
}
const forest = forestFit(x, y, d, { trees: 16, maxFeatures: 0.7, maxDepth: 64, seed: 1, threads: 1 })
const exact = time(() => forestMarginals(forest, grid), 5)
const size = omegaSize(PAPER_OMEGA)
const points = new Float64Array(size * d)
for (let k = 0; k < size; k++) {
  let r = k
  for (let j = d - 1; j >= 0; j--) { const m = grid[j].length; points[k * d + j] = grid[j][r % m]; r = Math.floor(r / m) }
}
const brute = time(() => {
  let base = 0
  const perTree = []
  for (let t = 0; t < forest.sizes.length; t++) {
    const s = forest.sizes[t]
    const single = { columns: d, sizes: Int32Array.of(s), feature: forest.feature.slice(base, base + s), threshold: forest.threshold.slice(base, base + s), left: forest.left.slice(base, base + s), right: forest.right.slice(base, base + s), value: forest.value.slice(base, base + s), samples: forest.samples.slice(base, base + s) }
    perTree.push(forestPredict(single, points, { threads: 1 }))
    base += s
  }
  return grid.map((vals, j) => vals.map(v => {
    let sum = 0
    for (const pred of perTree) {
      let acc = 0; let c = 0
      for (let k = 0; k < size; k++) if (points[k * d + j] === v) { acc += pred[k]; c++ }
      sum += acc / c
    }
    return sum / perTree.length
  }))
}, 1)
let maxDiff = 0
grid.forEach((vals, j) => vals.forEach((_, k) => { maxDiff = Math.max(maxDiff, Math.abs(exact.result.columns[j].mean[k] - brute.result[j][k])) }))
out.marginals = { grid_points: size, trees: 16, exact_ms: exact.ms, brute_ms: brute.ms, speedup: brute.ms / exact.ms, max_abs_diff: maxDiff }
printTable(`fANOVA marginals over the paper's Ω (${size} points, 16 trees, 1 thread) — ${machine()}`, ['method', 'ms', 'max |diff|'], [
  { method: 'forestMarginals (exact, leaf boxes)', ms: fmt(exact.ms), 'max |diff|': maxDiff.toExponential(2) },
  { method: 'brute force (forestPredict per tree on the grid)', ms: fmt(brute.ms), 'max |diff|': '—' },
  { method: 'ratio', ms: ratio(brute.ms, exact.ms), 'max |diff|': '' }
])

// Importance on a large forest.
const xb = new Float64Array(ROWS * d)
const yb = new Float64Array(ROWS)
for (let i = 0; i < ROWS; i++) {
  for (let j = 0; j < d; j++) xb[i * d + j] = random.float()
  yb[i] = Math.sin(3 * xb[i * d]) + xb[i * d + 1] * xb[i * d + 2] + 0.1 * random.normal()
}
const big = forestFit(xb, yb, d, { trees: 16, maxFeatures: 0.7, seed: 2 })
const nodes = big.sizes.reduce((a, b) => a + b, 0)
const imp = time(() => forestImportance(big), 5)
const rows = [{ method: 'nasrank forestImportance', ms: fmt(imp.ms), nodes: String(nodes) }]
out.importance = { rows: ROWS, nodes, nasrank_ms: imp.ms }
const py = findPython(['numpy', 'sklearn'])
if (py === null) {
  console.log('\nscikit-learn is not installed (python3 -c "import sklearn" fails): its feature_importances_ is not timed.')
} else {
  const r = runPython(py, `
from sklearn.ensemble import RandomForestRegressor
X = xb.reshape(-1, ${d}); m = RandomForestRegressor(n_estimators=16, max_features=0.7, random_state=0).fit(X, yb)
t = time.perf_counter()
for _ in range(5): m.feature_importances_
print(json.dumps({"ms": (time.perf_counter() - t) / 5 * 1000, "nodes": int(sum(e.tree_.node_count for e in m.estimators_))}))`, { xb, yb })
  rows.push({ method: 'scikit-learn feature_importances_', ms: fmt(r.ms), nodes: String(r.nodes) })
  rows.push({ method: 'ratio', ms: ratio(r.ms, imp.ms), nodes: '' })
  out.importance.sklearn_ms = r.ms
}
printTable(`Eq. 7–8 importance of a 16-tree forest on ${ROWS} rows — ${machine()}`, ['method', 'ms', 'nodes'], rows)
out.machine = machine(); out.native = nativeInfo().sourceDigest
const j = arg('--json', null)
if (j) fs.writeFileSync(j, JSON.stringify(out, null, 2))
console.log('\n' + JSON.stringify(out))
