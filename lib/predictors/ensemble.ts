// An ensemble of predictors trained on the same data from different seeds. Its score is the
// mean of the members' standardised scores: each member's score minus its mean over the
// training architectures, divided by its standard deviation there. Standardising makes
// members with different score scales (ranking losses fix only the order) count equally;
// taking the statistics from the training set, not from the batch being predicted, gives
// every architecture the same score however it is batched.
//
// Saved as a directory: member-0/ … member-{K−1}/ (each a saved predictor of its own kind)
// and predictor.json (kind 'ensemble') with the standardisation and each member's weights
// SHA-256, written last, so a reader never combines members of two different saves.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { Random, checkSeed } from '../random'
import { checkOptions, describe, integerIn } from '../validate'
import { JSON_FILE, expectKind, readPredictor, writePredictor, type LoadedPredictor } from './io'
import { checkFitOptions } from './neural'
import type { FitOptions, FitReport, Predictor } from './types'

/** Builds member `index` of an ensemble; `seed` is that member's own seed. */
export type MemberFactory<A> = (seed: number, index: number) => Predictor<A>

export interface EnsembleOptions<A> {
  /** Number of members (≥ 1). */
  size: number
  /** The ensemble's seed (default 0); member seeds are drawn from it. */
  seed?: number
  /** Builds an untrained member from its seed. */
  member: MemberFactory<A>
  /** Display name (default: the members' common name with ' ×K', e.g. 'ReNAS-4 ×5'). */
  name?: string
}

interface MemberRecord {
  dir: string
  kind: string
  /** SHA-256 of the member's weights.bin, as recorded in its predictor.json. */
  sha256: string
  /** Mean and standard deviation of the member's scores over the training architectures. */
  center: number
  scale: number
}

/** The seeds of the `size` members of an ensemble seeded with `seed`: one xoshiro stream, uint32 each. */
export function ensembleMemberSeeds (seed: number, size: number): number[] {
  const root = new Random(checkSeed(seed, 'ensembleMemberSeeds'))
  return Array.from({ length: integerIn(size, 1, 'ensembleMemberSeeds', 'size', 1) }, () => root.uint32())
}

function checkMember<A> (value: unknown, fn: string, index: number): Predictor<A> {
  const p = value as Predictor<A> | null
  if (p === null || typeof p !== 'object' || typeof p.fit !== 'function' || typeof p.predict !== 'function' || typeof p.save !== 'function' || typeof p.dispose !== 'function') {
    throw new TypeError(`${fn}: member(seed, ${index}) must return a predictor (fit, predict, save, dispose), got ${describe(value)}`)
  }
  return p
}

/** Mean and (population) standard deviation of a member's training scores; scale 1 when they are all equal. */
function standardisation (scores: Float64Array, fn: string, index: number): { center: number; scale: number } {
  let mean = 0
  for (const v of scores) {
    if (!Number.isFinite(v)) throw new RangeError(`${fn}: member ${index} predicted a non-finite score (${v}) for a training architecture`)
    mean += v
  }
  mean /= scores.length
  let ss = 0
  for (const v of scores) ss += (v - mean) ** 2
  const sd = Math.sqrt(ss / scores.length)
  return { center: mean, scale: sd > 0 ? sd : 1 }
}

export class EnsemblePredictor<A> implements Predictor<A> {
  readonly kind = 'ensemble'
  readonly name: string
  readonly members: ReadonlyArray<Predictor<A>>
  private readonly seed: number
  private standard: Array<{ center: number; scale: number }> | null = null
  private disposed = false

  constructor (options: EnsembleOptions<A>) {
    const fn = 'EnsemblePredictor'
    const o = checkOptions<EnsembleOptions<A>>(options, fn, ['size', 'seed', 'member', 'name'])
    if (o.size === undefined) throw new TypeError(`${fn}: size is required (the number of members)`)
    const size = integerIn(o.size, 1, fn, 'size', 1)
    if (typeof o.member !== 'function') throw new TypeError(`${fn}: member must be a function (seed, index) => predictor, got ${describe(o.member)}`)
    if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) throw new TypeError(`${fn}: name must be a non-empty string, got ${describe(o.name)}`)
    this.seed = o.seed === undefined ? 0 : checkSeed(o.seed, fn)
    const factory = o.member
    this.members = ensembleMemberSeeds(this.seed, size).map((s, i) => checkMember<A>(factory(s, i), fn, i))
    this.members.forEach((p, i) => {
      const first = this.members.indexOf(p)
      if (first !== i) throw new TypeError(`${fn}: member(seed, ${i}) returned the same predictor object as member(seed, ${first}); each member must be a new predictor`)
    })
    this.name = o.name ?? defaultName(this.members)
  }

  get trained (): boolean {
    return this.standard !== null
  }

  /** Trains every member from scratch on the same data, one after another. */
  async fit (archs: A, targets: ArrayLike<number>, options?: FitOptions): Promise<FitReport> {
    const fn = `${this.name}.fit`
    this.checkUsable(fn)
    const opts = checkFitOptions(options, fn)
    const startMs = performance.now()
    this.standard = null
    const reports: FitReport[] = []
    let epochsBefore = 0
    for (const [m, member] of this.members.entries()) {
      const remaining = this.members.length - m
      const onEpoch = opts.onEpoch === undefined
        ? undefined
        : async (epoch: number, info: { loss: number; epochs: number }): Promise<void> => {
          // Progress over the whole ensemble, assuming the members still to come train as long as this one.
          await opts.onEpoch?.(epochsBefore + epoch, { loss: info.loss, epochs: epochsBefore + info.epochs * remaining })
        }
      const report = await member.fit(archs, targets, { signal: opts.signal, onEpoch })
      reports.push(report)
      epochsBefore += report.epochs
    }
    // The members have checked archs and targets; reports[0].samples is the training-set size.
    const n = reports[0].samples
    const standard: Array<{ center: number; scale: number }> = []
    for (const [m, member] of this.members.entries()) {
      const scores = await member.predict(archs)
      if (scores.length !== n) throw new Error(`${fn}: member ${m} returned ${scores.length} scores for ${n} training architectures`)
      standard.push(standardisation(scores, fn, m))
    }
    this.standard = standard
    return combineReports(reports, n, performance.now() - startMs)
  }

  async predict (archs: A): Promise<Float64Array> {
    const fn = `${this.name}.predict`
    this.checkUsable(fn)
    const standard = this.standard
    if (standard === null) throw new Error(`${fn}: the predictor is not trained (call fit or loadPredictor first)`)
    let out: Float64Array | null = null
    for (const [m, member] of this.members.entries()) {
      const scores = await member.predict(archs)
      out ??= new Float64Array(scores.length)
      if (scores.length !== out.length) throw new Error(`${fn}: member ${m} returned ${scores.length} scores, member 0 ${out.length}`)
      const { center, scale } = standard[m]
      const weight = 1 / (scale * this.members.length)
      for (let i = 0; i < scores.length; i++) out[i] += (scores[i] - center) * weight
    }
    return out ?? new Float64Array(0)
  }

  /** Saves the members into dir/member-K, then the ensemble's predictor.json. */
  async save (dir: string): Promise<void> {
    const fn = `${this.name}.save`
    this.checkUsable(fn)
    const standard = this.standard
    if (standard === null) throw new Error(`${fn}: the predictor is not trained; nothing to save`)
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`${fn}: dir must be a non-empty string, got ${describe(dir)}`)
    const records: MemberRecord[] = []
    for (const [m, member] of this.members.entries()) {
      const memberDir = `member-${m}`
      await member.save(path.join(dir, memberDir))
      const saved = JSON.parse(await fs.promises.readFile(path.join(dir, memberDir, JSON_FILE), 'utf8')) as { weights: { sha256: string } }
      records.push({ dir: memberDir, kind: member.kind, sha256: saved.weights.sha256, ...standard[m] })
    }
    await writePredictor(dir, this.kind, this.config(), { members: records }, [])
  }

  config (): Record<string, unknown> {
    return { size: this.members.length, seed: this.seed, name: this.name, combine: 'mean-standardised', members: this.members.map(p => ({ kind: p.kind, config: p.config() })) }
  }

  dispose (): void {
    if (this.disposed) return
    this.disposed = true
    this.standard = null
    for (const member of this.members) member.dispose()
  }

  private checkUsable (fn: string): void {
    if (this.disposed) throw new Error(`${fn}: the predictor was disposed`)
  }

  /**
   * @internal Rebuilds a saved ensemble; `load` loads one member directory (loadPredictor
   * with the caller's hooks), so members of any registered kind come back as themselves.
   */
  static async fromSaved<A> (loaded: LoadedPredictor, load: (dir: string) => Promise<Predictor<A>>): Promise<EnsemblePredictor<A>> {
    const fn = 'EnsemblePredictor.load'
    expectKind(loaded, 'ensemble', fn)
    const dir = path.dirname(loaded.path)
    const records = (loaded.file.state as { members?: unknown }).members
    const valid = Array.isArray(records) && records.length >= 1 && records.every((r: Partial<MemberRecord>) =>
      r !== null && typeof r === 'object' && typeof r.dir === 'string' && /^member-\d+$/.test(r.dir) && typeof r.kind === 'string' &&
      typeof r.sha256 === 'string' && Number.isFinite(r.center) && typeof r.scale === 'number' && Number.isFinite(r.scale) && r.scale > 0)
    if (!valid) throw new Error(`${fn}: ${loaded.path}: state.members must be a non-empty list of { dir: 'member-K', kind, sha256, center, scale > 0 }`)
    const members: Array<Predictor<A>> = []
    try {
      for (const record of records as MemberRecord[]) {
        const memberDir = path.join(dir, record.dir)
        const saved = await readPredictor(memberDir, fn)
        if (saved.file.weights.sha256 !== record.sha256) {
          throw new Error(`${fn}: ${path.join(memberDir, JSON_FILE)} is not the member ${loaded.path} was saved with (weights SHA-256 ${saved.file.weights.sha256.slice(0, 12)}…, expected ${record.sha256.slice(0, 12)}…); the ensemble's save was interrupted or its members were replaced`)
        }
        if (saved.file.kind !== record.kind) throw new Error(`${fn}: ${memberDir} holds a '${saved.file.kind}' predictor, ${loaded.path} expects '${record.kind}'`)
        members.push(await load(memberDir))
      }
    } catch (err) {
      for (const member of members) member.dispose()
      throw err
    }
    const config = loaded.file.config as { seed?: unknown; name?: unknown }
    const ensemble = new EnsemblePredictor<A>({
      size: members.length,
      seed: typeof config.seed === 'number' ? config.seed : 0,
      name: typeof config.name === 'string' && config.name.length > 0 ? config.name : undefined,
      member: (_seed, index) => members[index]
    })
    ensemble.standard = (records as MemberRecord[]).map(r => ({ center: r.center, scale: r.scale }))
    return ensemble
  }
}

function defaultName (members: ReadonlyArray<Predictor<unknown>>): string {
  const name = members[0].name
  return members.every(p => p.name === name) ? `${name} ×${members.length}` : `Ensemble of ${members.length}`
}

/**
 * The members' reports as one: counts and times add up, the loss curves follow one another;
 * totalMs is the whole ensemble fit (with scoring the training set for the standardisation).
 */
function combineReports (reports: FitReport[], samples: number, totalMs: number): FitReport {
  const sum = (f: (r: FitReport) => number): number => reports.reduce((a, r) => a + f(r), 0)
  const timing = {
    totalMs,
    encodeMs: sum(r => r.timing.encodeMs),
    dataMs: sum(r => r.timing.dataMs),
    nativeLossMs: sum(r => r.timing.nativeLossMs),
    modelMs: sum(r => r.timing.modelMs),
    optimizerMs: sum(r => r.timing.optimizerMs)
  }
  const step = timing.nativeLossMs + timing.modelMs + timing.optimizerMs
  return {
    epochs: sum(r => r.epochs),
    steps: sum(r => r.steps),
    samples,
    loss: reports.flatMap(r => r.loss),
    finalLoss: sum(r => r.finalLoss) / reports.length,
    timing,
    lossShare: step > 0 ? timing.nativeLossMs / step : 0
  }
}
