// RegressionNAS, CTNAS's Table 1 comparison (Chen et al., CVPR 2021): the NAC's trunk with a
// regression head, the same controller and REINFORCE, rewarded by the predicted accuracy
// instead of a comparison. The paper gives no details; ours (issue 19, "choose & document"):
//
//   predictor  Nac.regressionLossAndGrad: the NAC's GCN trunk, f = z·w_a (Linear(D → 1), no
//              bias), MSE against the labelled architectures' standardised searched metric;
//              `epochs` × ⌈M/256⌉ full-batch Adam steps (the NAC's optimiser);
//   reward     the predicted accuracy as a fraction (mean + sd·f, ÷100 on percent benches)
//              minus an exponential moving average of it (decay `emaDecay`, 0.9, started at
//              the first prediction), plus the entropy bonus 5e-4·H as CTNAS's;
//   final      the best predicted of `finalSamples` (100) fresh samples of the trained
//              controller that the bench holds (read uncounted, as Table 1's final arch).
import { Random } from '../random'
import type { Bench } from '../bench/bench'
import { Adam, Nac } from '../models/nac'
import { ctnasSpace, type CtnasSpace } from './ctnas-space'
import { meanSd } from '../report/table'

export interface RegressionNasSettings {
  iterations: number
  epochs: number
  hidden?: number
  lr?: number
  weightDecay?: number
  controllerLr?: number
  entropy?: number
  emaDecay?: number
  finalSamples?: number
}

export interface RegressionNasResult {
  /** The bench row of the final architecture. */
  finalRow: number
  /** The trained predictor, its space (ids of bench rows: space.idOfRow) for held-out scoring. */
  predictor: Nac
  space: CtnasSpace
  /** Predicted (standardised) scores of bench rows. */
  predict: (rows: ArrayLike<number>) => Float64Array
}

export async function regressionNas (bench: Bench, labelledRows: ArrayLike<number>, values: ArrayLike<number>, settings: RegressionNasSettings, seed: number): Promise<RegressionNasResult> {
  const fn = 'regressionNas'
  const M = labelledRows.length
  if (M < 2 || values.length !== M) throw new RangeError(`${fn}: need at least 2 labelled rows with one value each, got ${M} rows and ${values.length} values`)
  const space = ctnasSpace(bench)
  const random = new Random(seed)
  const ids = Array.from(labelledRows, r => space.idOfRow(r))
  const { mean, sd } = meanSd(Array.from(values))
  if (!(sd > 0)) throw new RangeError(`${fn}: the labelled values are all equal`)
  const z = Float64Array.from(values, v => (v - mean) / sd)
  const nac = new Nac(random.fork(), { hidden: settings.hidden, lr: settings.lr, weightDecay: settings.weightDecay, graphs: space.graphs })
  const steps = Math.ceil(M / 256) * settings.epochs
  for (let s = 0; s < steps; s++) {
    nac.trainRegression(ids, z)
    if (s % 100 === 99) await new Promise(resolve => setImmediate(resolve))
  }
  const scale = bench.scale === 'percent' ? 100 : 1
  const predicted = (id: number): number => (mean + sd * nac.heads([id]).u[0]) / scale
  space.makeController(random.fork())
  const adam = new Adam(space.controller.params.length, settings.controllerLr ?? 2e-4, 0.5, 0.999, settings.weightDecay ?? 5e-4)
  const decay = settings.emaDecay ?? 0.9
  const entropy = settings.entropy ?? 5e-4
  let ema: number | null = null
  for (let t = 1; t <= settings.iterations; t++) {
    const s = space.sample(random)
    const p = predicted(s.id)
    if (ema === null) ema = p
    s.step(p - ema + entropy * s.entropy, adam)
    ema = decay * ema + (1 - decay) * p
    if (t % 100 === 0) await new Promise(resolve => setImmediate(resolve))
  }
  const pool = space.sampleMany(settings.finalSamples ?? 100, random).filter(id => space.rowOfId(id) >= 0)
  if (pool.length === 0) throw new RangeError(`${fn}: none of the final samples is in ${bench.name}`)
  const { u } = nac.heads(pool)
  let best = 0
  for (let k = 1; k < pool.length; k++) if (u[k] > u[best]) best = k
  return {
    finalRow: space.rowOfId(pool[best]),
    predictor: nac,
    space,
    predict: rows => nac.heads(Array.from(rows, r => space.idOfRow(r))).u
  }
}
