'use strict'
// Runs every benchmark in turn (`npm run bench`); each prints a Markdown table and a JSON
// line, with its peers measured in the same run. Extra arguments are passed through.
const { spawnSync } = require('child_process')
const path = require('path')

const benchmarks = ['kendall.js', 'losses.js', 'nb101.js', 'spaces.js', 'gcn.js', 'renas-train.js', 'dense-grad.js', 'renas-experiment.js', 'tfrecord.js', 'nb201-table.js', 'renas-table5.js', 'random-forest.js', 'ctnas.js', 'agnet.js', 'images.js']
let failed = false
for (const file of benchmarks) {
  console.log(`\n## ${file}`)
  const r = spawnSync(process.execPath, [path.join(__dirname, file), ...process.argv.slice(2)], { stdio: 'inherit' })
  if (r.status !== 0) failed = true
}
process.exitCode = failed ? 1 : 0
