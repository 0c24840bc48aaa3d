#!/usr/bin/env node
'use strict'
// Where the time of the ReNAS experiments goes, on the synthetic default (synthetic-101):
//  1. one Table 1 column: fraction 0.1 % (424 training cells), every method (ReNAS-1..6, the
//     random forest, the Peephole LSTM), --seeds seeds (the paper's protocol: 20), each fitted
//     with --epochs epochs and evaluated on --eval held-out cells. Per method: training time
//     split into native ranking-loss kernels, tfjs model compute, optimizer and data handling,
//     then prediction time. The total for 20 seeds is extrapolated from the seeds run.
//  2. one EA run (ReNAS-6 fitness, population 64, 500 generations): time in the predictor
//     (tfjs forward over each generation's new cells) vs the search itself (sampling,
//     mutation, crossover, hashing, bookkeeping).
// Usage: node benchmarks/renas-experiment.js [--seeds 1] [--epochs 200] [--eval 5000] [--generations 500] [--json-only]
//   (run `npx tsc` first). Backend: tfjs wasm.

const { openBench, initTfBackend, ReNASPredictor, RandomForestPredictor, PeepholePredictor, RENAS_VARIANTS,
  nb101, nb101PeepholeTokens, renasEncode, evolve, kendallTau, Random, nativeInfo } = require('..')
const { machine, printTable, fmt, cliArgs } = require('./peers')

const { number: option, flag } = cliArgs()
const SEEDS = option('--seeds', 1)
const EPOCHS = option('--epochs', 200)
const EVAL = option('--eval', 5000)
const GENERATIONS = option('--generations', 500)
const JSON_ONLY = flag('--json-only')
const SCALES = { flopsScale: 1e-7, paramsScale: 1e-5 }

async function main () {
  const { tf, backend } = await initTfBackend({ backend: 'wasm' })
  let t0 = Date.now()
  const bench = await openBench('synthetic-101')
  const benchMs = Date.now() - t0
  const cells = bench.archs
  const truth = bench.column({ metric: 'test' })
  const hooks = channels => ({
    encode: (rows, s = 0, e = rows.length) => ({ count: e - s, shape: [channels, 7, 7], data: renasEncode(cells, { channels, indices: rows.subarray(s, e), ...SCALES }) }),
    count: rows => rows.length
  })
  const make = (method, seed) => {
    if (method in RENAS_VARIANTS) {
      const channels = RENAS_VARIANTS[method].input === 'tensor' ? 19 : 1
      return new ReNASPredictor({ variant: method, seed, epochs: EPOCHS, channels, tf, ...hooks(channels) })
    }
    if (method === 'random-forest') return new RandomForestPredictor({ seed, ...hooks(19) })
    return new PeepholePredictor({ seed, epochs: EPOCHS, tf, encode: (rows, s = 0, e = rows.length) => nb101PeepholeTokens(nb101.select(cells, rows.subarray(s, e))), count: r => r.length })
  }
  const methods = [...Object.keys(RENAS_VARIANTS), 'random-forest', 'peephole']
  const rows = []
  let columnMs = 0
  for (const method of methods) {
    const acc = { method, seeds: 0, fitMs: 0, lossMs: 0, modelMs: 0, optimizerMs: 0, dataMs: 0, predictMs: 0, ktau: 0 }
    for (let seed = 0; seed < SEEDS; seed++) {
      const perm = new Random(seed).shuffle(Uint32Array.from({ length: bench.size }, (_, i) => i))
      const train = perm.slice(0, 424)
      const evalRows = perm.slice(424, 424 + EVAL)
      const p = make(method, seed)
      const targets = bench.lookup(train, { metric: 'val' })
      t0 = Date.now()
      const report = await p.fit(train, targets)
      acc.fitMs += Date.now() - t0
      acc.lossMs += report.timing.nativeLossMs
      acc.modelMs += report.timing.modelMs
      acc.optimizerMs += report.timing.optimizerMs
      acc.dataMs += report.timing.dataMs + report.timing.encodeMs
      t0 = Date.now()
      const pred = await p.predict(evalRows)
      acc.predictMs += Date.now() - t0
      acc.ktau += kendallTau(pred, Float64Array.from(evalRows, r => truth[r]))
      acc.seeds++
      p.dispose()
    }
    for (const k of ['fitMs', 'lossMs', 'modelMs', 'optimizerMs', 'dataMs', 'predictMs', 'ktau']) acc[k] /= acc.seeds
    columnMs += (acc.fitMs + acc.predictMs) * 20
    rows.push(acc)
    if (!JSON_ONLY) console.error(`${method}: fit ${fmt(acc.fitMs)}, predict ${fmt(acc.predictMs)}, tau ${acc.ktau.toFixed(3)}`)
  }

  // One EA run with a trained ReNAS-6 as fitness.
  const perm = new Random(0).shuffle(Uint32Array.from({ length: bench.size }, (_, i) => i))
  const train = perm.slice(0, 424)
  const p = make('renas-6', 0)
  await p.fit(train, bench.lookup(train, { metric: 'val' }))
  let fitnessMs = 0
  const ops = {
    sample: random => nb101.cellAt(cells, random.int(cells.count)),
    mutate: (a, random) => nb101.mutate(a, random),
    crossover: (a, b, random) => nb101.crossover(a, b, random),
    key: a => nb101.hash(a)
  }
  t0 = Date.now()
  const result = await evolve(ops, async archs => {
    const s = Date.now()
    const rowsOf = Uint32Array.from(archs, a => bench.rowOf(nb101.hash(a)))
    const out = await p.predict(rowsOf)
    fitnessMs += Date.now() - s
    return out
  }, { population: 64, generations: GENERATIONS, seed: 0 })
  const eaMs = Date.now() - t0
  p.dispose()

  const summary = {
    benchmark: 'renas-experiment', machine: machine(), backend, threads: nativeInfo().threads,
    settings: { seeds: SEEDS, epochs: EPOCHS, eval: EVAL, generations: GENERATIONS, training: 424 },
    synthetic101BuildMs: benchMs,
    table1Column: rows,
    table1Column20SeedsMsExtrapolated: columnMs,
    ea: { totalMs: eaMs, fitnessMs, searchMs: eaMs - fitnessMs, evaluated: result.evaluations }
  }
  if (!JSON_ONLY) {
    printTable(`Table 1 column (0.1 %, ${SEEDS} seed(s) measured, ${EPOCHS} epochs, ${backend}) — per fit`,
      ['method', 'fit', 'native loss', 'tfjs model', 'optimizer', 'data', 'predict', 'tau'],
      rows.map(r => ({ method: r.method, fit: fmt(r.fitMs), 'native loss': fmt(r.lossMs), 'tfjs model': fmt(r.modelMs), optimizer: fmt(r.optimizerMs), data: fmt(r.dataMs), predict: fmt(r.predictMs), tau: r.ktau.toFixed(3) })))
    console.log(`one Table 1 column with 20 seeds (extrapolated): ${fmt(columnMs)}`)
    console.log(`EA (pop 64, ${GENERATIONS} generations, ${result.evaluations} cells scored): ${fmt(eaMs)} — predictor ${fmt(fitnessMs)}, search ${fmt(eaMs - fitnessMs)}`)
  }
  console.log(JSON.stringify(summary))
}

main().catch(err => { console.error(err); process.exit(1) })
