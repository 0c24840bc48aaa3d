// NAS-Bench-201 (Dong & Yang, ICLR 2020): the 15,625 cells of a 4-node DAG whose 6 edges
// each carry one of 5 operations, and everything nasrank needs from one — the official
// string form, a dense index, seeded sampling and mutation, the node-labelled DAG that GCN /
// NAC / AG-Net style encoders read, ReNAS's type matrix, and the parameter and FLOP counts of
// the trained network exactly as the official benchmark reports them.
//
// Data model (fixed by the project's contract, shared with the other modules):
//   - edge order e = 0..5: (1←0, 2←0, 2←1, 3←0, 3←1, 3←2), i.e. the order of the string form;
//   - op codes: 0 none, 1 skip_connect, 2 nor_conv_1x1, 3 nor_conv_3x3, 4 avg_pool_3x3;
//   - an architecture (Nb201Arch) is a Uint8Array(6) of op codes; many architectures are one
//     Uint8Array of count*6 codes (architecture k in [6k, 6k+6)), the "batch" form;
//   - nasrank index = Σ_e code_e · 5^(5−e) (edge 0 most significant), 0..15624. Index 0 is
//     the all-none cell, 15624 the all-avg_pool_3x3 cell; in index order the strings are NOT
//     sorted alphabetically. The official benchmark numbers its architectures in its own
//     order: `nb201.order(strings)` gives index/fromIndex over any such order.
import { checkOptions, describe, integerIn, oneOf } from '../validate'
import { randomFrom, type Random, type RandomOptions } from '../random'

/** The five operations, by op code. */
export const NB201_OPS = Object.freeze(['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const)
export type Nb201Op = typeof NB201_OPS[number]

/** The six edges as [tail, head] cell-node pairs, in edge order (1←0, 2←0, 2←1, 3←0, 3←1, 3←2). */
export const NB201_EDGES: ReadonlyArray<readonly [number, number]> = Object.freeze(([[0, 1], [0, 2], [1, 2], [0, 3], [1, 3], [2, 3]] as const).map(e => Object.freeze(e)))

/** Number of architectures in the space (5^6). */
export const NB201_SIZE = 15625

/** An architecture: Uint8Array(6) of op codes in edge order. */
export type Nb201Arch = Uint8Array

/** What the single-architecture functions accept: op codes (Uint8Array or number[]) or the official string. */
export type Nb201ArchInput = Nb201Arch | string | readonly number[]

/** Datasets of the benchmark. 'cifar10-valid' trains the same network as 'cifar10' (10 classes, 32×32). */
export type Nb201Dataset = 'cifar10' | 'cifar10-valid' | 'cifar100' | 'ImageNet16-120'
export const NB201_DATASETS: readonly Nb201Dataset[] = Object.freeze(['cifar10', 'cifar10-valid', 'cifar100', 'ImageNet16-120'] as const)

/**
 * Vertex labels of the node-labelled DAG (ops on nodes), by feature index: the one-hot
 * column of the GCN features, and (index + 1) the code in ReNAS's type matrix.
 */
export const NB201_DAG_LABELS = Object.freeze(['input', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3', 'output'] as const)

/** Vertices of the padded node-labelled DAG: 0 input, 1..6 edges 0..5, 7 output. */
export const NB201_DAG_VERTICES = 8

/**
 * Links of the node-labelled DAG over its 8 vertices, as [from, to]: input → each edge-vertex
 * whose tail is cell-node 0; edge-vertex (tail t, head h) → each edge-vertex whose tail is h;
 * each edge-vertex whose head is cell-node 3 → output. Derived from NB201_EDGES below.
 */
export const NB201_DAG_LINKS: ReadonlyArray<readonly [number, number]> = (() => {
  const links: Array<[number, number]> = []
  NB201_EDGES.forEach(([tail], e) => { if (tail === 0) links.push([0, e + 1]) })
  NB201_EDGES.forEach(([, head], a) => {
    NB201_EDGES.forEach(([tail], b) => { if (tail === head) links.push([a + 1, b + 1]) })
  })
  NB201_EDGES.forEach(([, head], e) => { if (head === 3) links.push([e + 1, 7]) })
  return Object.freeze(links.sort((p, q) => p[0] - q[0] || p[1] - q[1]).map(l => Object.freeze(l)))
})()

const EDGE_NAMES = NB201_EDGES.map(([t, h]) => `${h}←${t}`)
const CODES_TEXT = NB201_OPS.map((op, i) => `${i} ${op}`).join(', ')
const OPS_TEXT = NB201_OPS.join(', ')
const FORM = '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|'

// ---- the string form ------------------------------------------------------------------

function quote (s: string): string {
  return JSON.stringify(s.length > 120 ? s.slice(0, 120) + '…' : s)
}

function charAt (s: string, pos: number): string {
  return pos < s.length ? `'${s[pos]}'` : 'the end of the string'
}

/**
 * Parses the official string; returns the codes, or a message naming what is wrong and the
 * 0-based character position where it is.
 */
function parseOrExplain (str: string): Nb201Arch | string {
  if (str.length === 0) return `empty string; expected the form ${FORM}`
  const out = new Uint8Array(6)
  let pos = 0
  let e = 0
  const at = (p: number) => `at character ${p} of ${quote(str)}`
  for (let head = 1; head <= 3; head++) {
    if (head > 1) {
      if (pos >= str.length) return `the string ends after node ${head - 1}; expected '+' and node ${head} ${at(pos)}`
      if (str[pos] !== '+') return `expected '+' (start of node ${head}) but found ${charAt(str, pos)} ${at(pos)}`
      pos++
    }
    if (str[pos] !== '|') return `expected '|' (start of node ${head}) but found ${charAt(str, pos)} ${at(pos)}`
    pos++
    for (let tail = 0; tail < head; tail++, e++) {
      const edge = `edge ${EDGE_NAMES[e]}`
      const start = pos
      while (pos < str.length && str[pos] !== '~' && str[pos] !== '|' && str[pos] !== '+') pos++
      const op = str.slice(start, pos)
      if (op.length === 0) {
        if (str[pos] === '+' || pos >= str.length) {
          return `node ${head} has ${tail} input${tail === 1 ? '' : 's'} but needs ${head} (missing ${edge}) ${at(start)}`
        }
        return `missing op name for ${edge} ${at(start)}`
      }
      const code = (NB201_OPS as readonly string[]).indexOf(op)
      if (str[pos] !== '~') {
        return `expected '~${tail}' after the op of ${edge} but found ${charAt(str, pos)} ${at(pos)}` +
          (code < 0 ? ` (and '${op}' is not an op: known ${OPS_TEXT})` : '')
      }
      if (code < 0) return `unknown op '${op}' for ${edge} ${at(start)}; known ops: ${OPS_TEXT}`
      pos++ // '~'
      const numStart = pos
      while (pos < str.length && str[pos] !== '|' && str[pos] !== '+') pos++
      const num = str.slice(numStart, pos)
      if (num !== String(tail)) {
        return /^[0-9]+$/.test(num)
          ? `${edge} must read '${op}~${tail}' (${head === 1 ? 'node 1 has the single input ~0' : `node ${head} lists its inputs ~0..~${head - 1} in order`}) but reads '~${num}' ${at(numStart)}`
          : `expected input node number ${tail} after '~' for ${edge} but found ${quote(num)} ${at(numStart)}`
      }
      out[e] = code
      if (str[pos] !== '|') return `expected '|' after '${op}~${tail}' (${edge}) but found ${charAt(str, pos)} ${at(pos)}`
      pos++
    }
    // After node h's last input: '+' (h < 3) or the end (h = 3). Another op item means node h
    // lists too many inputs.
    if (pos < str.length && str[pos] !== '+' && /^[^|+~]*~/.test(str.slice(pos))) {
      return `node ${head} must have exactly ${head} input${head > 1 ? 's' : ''} but has more: unexpected ${quote(str.slice(pos, pos + 16))} ${at(pos)}`
    }
  }
  if (pos < str.length) {
    return str[pos] === '+'
      ? `a cell has 3 nodes after the input; unexpected 4th node ${at(pos)}`
      : `unexpected ${quote(str.slice(pos, pos + 16))} after node 3 ${at(pos)}`
  }
  return out
}

function codesError (x: unknown): string | null {
  if (x instanceof Uint8Array || Array.isArray(x)) {
    if (x.length !== 6) return `must hold 6 op codes (one per edge ${EDGE_NAMES.join(', ')}), got ${x.length}`
    for (let e = 0; e < 6; e++) {
      const v = x[e]
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 4) {
        return `[${e}] (edge ${EDGE_NAMES[e]}) is ${typeof v === 'number' ? v : describe(v)}; op codes are integers ${CODES_TEXT}`
      }
    }
    return null
  }
  return `must be the official string ${FORM} or 6 op codes (Uint8Array or number[]), got ${describe(x)}`
}

/** Reads one architecture argument into codes (the same array when it is a valid Uint8Array). */
export function readArch (x: unknown, fn: string, name = 'arch'): Nb201Arch {
  if (typeof x === 'string') {
    const r = parseOrExplain(x)
    if (typeof r === 'string') throw new RangeError(`${fn}: ${name}: ${r}`)
    return r
  }
  const err = codesError(x)
  if (err !== null) {
    const type = x instanceof Uint8Array || Array.isArray(x) ? RangeError : TypeError
    throw new type(`${fn}: ${name}${err.startsWith('[') ? '' : ' '}${err}`)
  }
  return x instanceof Uint8Array ? x : Uint8Array.from(x as number[])
}

/**
 * Reads a batch: a Uint8Array of count*6 op codes. Returns the number of architectures.
 * Messages name the offending element (architecture and edge).
 */
export function readBatch (ops: unknown, fn: string, name = 'ops'): number {
  if (!(ops instanceof Uint8Array)) {
    throw new TypeError(`${fn}: ${name} must be a Uint8Array of count*6 op codes (architecture k at [6k, 6k+6)), got ${describe(ops)}`)
  }
  if (ops.length % 6 !== 0) throw new RangeError(`${fn}: ${name} has length ${ops.length}, not a multiple of 6 (6 op codes per architecture)`)
  for (let i = 0; i < ops.length; i++) {
    if (ops[i] > 4) {
      throw new RangeError(`${fn}: ${name}[${i}] (architecture ${Math.floor(i / 6)}, edge ${EDGE_NAMES[i % 6]}) is ${ops[i]}; op codes are ${CODES_TEXT}`)
    }
  }
  return ops.length / 6
}

function checkIndex (i: unknown, fn: string, name: string, size: number): number {
  if (typeof i !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(i)}`)
  if (!Number.isInteger(i) || i < 0 || i >= size) throw new RangeError(`${fn}: ${name} must be an integer in [0, ${size - 1}], got ${i}`)
  return i
}

function checkCount (n: unknown, fn: string, name: string, max: number): number {
  if (typeof n !== 'number') throw new TypeError(`${fn}: ${name} must be a number, got ${describe(n)}`)
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${fn}: ${name} must be an integer in [0, ${max}], got ${n}`)
  return n
}

/**
 * Parses the official string `|op~0|+|op~0|op~1|+|op~0|op~1|op~2|` (exactly: no spaces, ops
 * from NB201_OPS, node h lists inputs 0..h-1 in order). Throws a RangeError naming what is
 * wrong and the 0-based character position, e.g. "unknown op 'conv3x3' for edge 2←1 at
 * character 17 of ...".
 */
function parse (str: string): Nb201Arch {
  if (typeof str !== 'string') throw new TypeError(`nb201.parse: str must be a string, got ${describe(str)}`)
  const r = parseOrExplain(str)
  if (typeof r === 'string') throw new RangeError(`nb201.parse: ${r}`)
  return r
}

/** The official string of an architecture. */
function format (arch: Nb201ArchInput): string {
  const a = readArch(arch, 'nb201.format')
  const o = NB201_OPS
  return `|${o[a[0]]}~0|+|${o[a[1]]}~0|${o[a[2]]}~1|+|${o[a[3]]}~0|${o[a[4]]}~1|${o[a[5]]}~2|`
}

/** null when `x` is a valid architecture (official string or 6 op codes), else what is wrong with it. */
function validate (x: unknown): string | null {
  if (typeof x === 'string') {
    const r = parseOrExplain(x)
    return typeof r === 'string' ? r : null
  }
  const err = codesError(x)
  return err === null ? null : (err.startsWith('[') ? `arch${err}` : `arch ${err}`)
}

/** nasrank index Σ_e code_e · 5^(5−e), in [0, 15624]. */
function index (arch: Nb201ArchInput): number {
  const a = readArch(arch, 'nb201.index')
  return a[0] * 3125 + a[1] * 625 + a[2] * 125 + a[3] * 25 + a[4] * 5 + a[5]
}

function decodeInto (i: number, out: Uint8Array, at: number): void {
  for (let e = 5; e >= 0; e--) { out[at + e] = i % 5; i = (i - i % 5) / 5 }
}

/** The architecture with the given nasrank index. */
function fromIndex (i: number): Nb201Arch {
  checkIndex(i, 'nb201.fromIndex', 'i', NB201_SIZE)
  const out = new Uint8Array(6)
  decodeInto(i, out, 0)
  return out
}

/** nasrank indices of a batch (Uint8Array of count*6 codes) → Uint16Array(count). */
function indexBatch (ops: Uint8Array): Uint16Array {
  const n = readBatch(ops, 'nb201.indexBatch')
  const out = new Uint16Array(n)
  for (let k = 0, b = 0; k < n; k++, b += 6) {
    out[k] = ops[b] * 3125 + ops[b + 1] * 625 + ops[b + 2] * 125 + ops[b + 3] * 25 + ops[b + 4] * 5 + ops[b + 5]
  }
  return out
}

/** The batch (count*6 codes) of the given nasrank indices. */
function fromIndexBatch (indices: ArrayLike<number>): Uint8Array {
  const fn = 'nb201.fromIndexBatch'
  if (indices === null || typeof indices !== 'object' || typeof (indices as ArrayLike<number>).length !== 'number') {
    throw new TypeError(`${fn}: indices must be an array or typed array of integers, got ${describe(indices)}`)
  }
  const out = new Uint8Array(indices.length * 6)
  for (let k = 0; k < indices.length; k++) decodeInto(checkIndex(indices[k], fn, `indices[${k}]`, NB201_SIZE), out, 6 * k)
  return out
}

let allCache: Uint8Array | null = null
/** All 15,625 architectures in nasrank index order: a fresh Uint8Array(15625*6); row k is fromIndex(k). */
function all (): Uint8Array {
  if (allCache === null) {
    allCache = new Uint8Array(NB201_SIZE * 6)
    for (let i = 0; i < NB201_SIZE; i++) decodeInto(i, allCache, 6 * i)
  }
  return allCache.slice()
}

/** Packs architectures (strings or codes) into one batch Uint8Array(count*6). */
function pack (archs: readonly Nb201ArchInput[]): Uint8Array {
  if (!Array.isArray(archs)) throw new TypeError(`nb201.pack: archs must be an array of architectures, got ${describe(archs)}`)
  const out = new Uint8Array(archs.length * 6)
  for (let k = 0; k < archs.length; k++) out.set(readArch(archs[k], 'nb201.pack', `archs[${k}]`), 6 * k)
  return out
}

/** Splits a batch into one Uint8Array(6) per architecture (copies). */
function unpack (ops: Uint8Array): Nb201Arch[] {
  const n = readBatch(ops, 'nb201.unpack')
  const out: Nb201Arch[] = new Array(n)
  for (let k = 0; k < n; k++) out[k] = ops.slice(6 * k, 6 * k + 6)
  return out
}

// ---- user-supplied orders -------------------------------------------------------------

/** Index ↔ architecture over a user-supplied order (e.g. the official benchmark's). */
export interface Nb201Order {
  /** Number of architectures in the order. */
  readonly size: number
  /** True when the order holds all 15,625 architectures (a permutation). */
  readonly complete: boolean
  /** Position → nasrank index (read it; do not modify it). */
  readonly toNasrank: Uint16Array
  /** nasrank index → position, −1 where the architecture is not in the order (length 15,625; read only). */
  readonly fromNasrank: Int32Array
  /** Position of an architecture in this order; RangeError if it is not in it. */
  index (arch: Nb201ArchInput): number
  /** Whether the architecture is in this order. */
  has (arch: Nb201ArchInput): boolean
  /** The architecture at a position. */
  fromIndex (i: number): Nb201Arch
}

/**
 * Builds an order from official strings (or codes, or one count*6 batch): position i holds
 * archs[i]. It must be a permutation of all 15,625 architectures or a subset without
 * duplicates; a bad entry or a duplicate throws, naming the positions involved.
 */
function order (archs: readonly Nb201ArchInput[] | Uint8Array): Nb201Order {
  const fn = 'nb201.order'
  let codes: Uint8Array
  if (archs instanceof Uint8Array) {
    readBatch(archs, fn, 'archs')
    codes = archs
  } else if (Array.isArray(archs)) {
    codes = new Uint8Array(archs.length * 6)
    for (let k = 0; k < archs.length; k++) codes.set(readArch(archs[k], fn, `archs[${k}]`), 6 * k)
  } else {
    throw new TypeError(`${fn}: archs must be an array of architecture strings (or codes), or a Uint8Array batch, got ${describe(archs)}`)
  }
  const size = codes.length / 6
  if (size > NB201_SIZE) throw new RangeError(`${fn}: archs has ${size} entries; the space has only ${NB201_SIZE}, so some repeat`)
  const toNasrank = new Uint16Array(size)
  const fromNasrank = new Int32Array(NB201_SIZE).fill(-1)
  for (let k = 0, b = 0; k < size; k++, b += 6) {
    const i = codes[b] * 3125 + codes[b + 1] * 625 + codes[b + 2] * 125 + codes[b + 3] * 25 + codes[b + 4] * 5 + codes[b + 5]
    if (fromNasrank[i] >= 0) {
      throw new RangeError(`${fn}: archs[${k}] repeats archs[${fromNasrank[i]}] (${format(codes.subarray(b, b + 6))}); an order may not hold an architecture twice`)
    }
    fromNasrank[i] = k
    toNasrank[k] = i
  }
  return {
    size,
    complete: size === NB201_SIZE,
    toNasrank,
    fromNasrank,
    index (arch: Nb201ArchInput): number {
      const pos = fromNasrank[index(readArch(arch, 'order.index'))]
      if (pos < 0) throw new RangeError(`order.index: ${format(arch)} is not in this order (${size} of ${NB201_SIZE} architectures)`)
      return pos
    },
    has (arch: Nb201ArchInput): boolean {
      return fromNasrank[index(readArch(arch, 'order.has'))] >= 0
    },
    fromIndex (i: number): Nb201Arch {
      return fromIndex(toNasrank[checkIndex(i, 'order.fromIndex', 'i', size)])
    }
  }
}

// ---- sampling and mutation ------------------------------------------------------------

export interface Nb201SampleOptions extends RandomOptions {
  /** Draw without replacement (count ≤ 15,625). Default false: independent uniform draws. */
  unique?: boolean
}

/**
 * `count` architectures drawn uniformly (each edge's op uniform and independent), as a batch
 * Uint8Array(count*6). Seeded: same options ⇒ same result.
 */
function sample (count: number, options?: Nb201SampleOptions): Uint8Array {
  const fn = 'nb201.sample'
  const opts = checkOptions<Nb201SampleOptions>(options, fn, ['seed', 'random', 'unique'])
  const unique = opts.unique ?? false
  if (typeof unique !== 'boolean') throw new TypeError(`${fn}: options.unique must be a boolean, got ${describe(unique)}`)
  checkCount(count, fn, 'count', unique ? NB201_SIZE : Math.floor(0x7FFFFFFF / 6))
  const random = randomFrom(opts, fn)
  const out = new Uint8Array(count * 6)
  if (!unique) {
    for (let k = 0; k < count; k++) decodeInto(random.int(NB201_SIZE), out, 6 * k)
    return out
  }
  // Partial Fisher–Yates over all indices: the first `count` entries are a uniform subset in uniform order.
  const pool = new Uint16Array(NB201_SIZE)
  for (let i = 0; i < NB201_SIZE; i++) pool[i] = i
  for (let k = 0; k < count; k++) {
    const j = k + random.int(NB201_SIZE - k)
    const t = pool[j]; pool[j] = pool[k]; pool[k] = t
    decodeInto(t, out, 6 * k)
  }
  return out
}

export interface Nb201MutateOptions extends RandomOptions {
  /** How many distinct edges change op (1..6, default 1). Each gets a different op, uniform among the other 4. */
  edges?: number
}

/**
 * A mutant: exactly `edges` distinct edges (chosen uniformly) get a different op (uniform
 * among the other four); the rest are unchanged. Returns a new Uint8Array(6); the input is
 * not modified. Seeded.
 */
function mutate (arch: Nb201ArchInput, options?: Nb201MutateOptions): Nb201Arch {
  const fn = 'nb201.mutate'
  const a = readArch(arch, fn)
  const opts = checkOptions<Nb201MutateOptions>(options, fn, ['seed', 'random', 'edges'])
  const edges = opts.edges === undefined ? 1 : opts.edges
  if (typeof edges !== 'number') throw new TypeError(`${fn}: options.edges must be a number, got ${describe(edges)}`)
  if (!Number.isInteger(edges) || edges < 1 || edges > 6) throw new RangeError(`${fn}: options.edges must be an integer in [1, 6], got ${edges}`)
  return mutateWith(a, edges, randomFrom(opts, fn))
}

function mutateWith (a: Uint8Array, edges: number, random: Random): Nb201Arch {
  const out = a.slice()
  const pick = [0, 1, 2, 3, 4, 5]
  for (let k = 0; k < edges; k++) {
    const j = k + random.int(6 - k)
    const e = pick[j]; pick[j] = pick[k]; pick[k] = e
    out[e] = (a[e] + 1 + random.int(4)) % 5
  }
  return out
}

/** All 24 architectures one edge-op change away, as a batch: edge 0..5, then new op code ascending. */
function neighbors (arch: Nb201ArchInput): Uint8Array {
  const a = readArch(arch, 'nb201.neighbors')
  const out = new Uint8Array(24 * 6)
  let k = 0
  for (let e = 0; e < 6; e++) {
    for (let op = 0; op < 5; op++) {
      if (op === a[e]) continue
      out.set(a, 6 * k)
      out[6 * k + e] = op
      k++
    }
  }
  return out
}

// ---- pruning ---------------------------------------------------------------------------

/**
 * Sets to none, in place, the ops of architecture [base, base+6) that lie on no
 * input → output path of non-none edges. Edges are in topological order of their heads
 * (forward pass) and tails (backward pass), so one sweep each way finds the live nodes.
 */
function pruneInto (a: Uint8Array, base: number): void {
  let fromInput = 0b0001 // bit n: cell-node n is reachable from node 0
  for (let e = 0; e < 6; e++) {
    const [tail, head] = NB201_EDGES[e]
    if (a[base + e] !== 0 && (fromInput >> tail) & 1) fromInput |= 1 << head
  }
  let toOutput = 0b1000 // bit n: cell-node 3 is reachable from node n
  for (let e = 5; e >= 0; e--) {
    const [tail, head] = NB201_EDGES[e]
    if (a[base + e] !== 0 && (toOutput >> head) & 1) toOutput |= 1 << tail
  }
  for (let e = 0; e < 6; e++) {
    const [tail, head] = NB201_EDGES[e]
    if (!((fromInput >> tail) & 1) || !((toOutput >> head) & 1)) a[base + e] = 0
  }
}

/**
 * The cell with every op that lies on no input → output path of non-none edges set to none:
 * its tail is unreachable from the input or its head cannot reach the output, so the op
 * cannot change what reaches the output (beyond the constant shift a conv's BatchNorm adds
 * to an all-zero input). The NB-201 counterpart of NAS-Bench-101's spec pruning: functionally
 * equal cells get one form (15,625 cells → 9,445 pruned forms). Idempotent.
 */
function prune (arch: Nb201ArchInput): Nb201Arch {
  const a = Uint8Array.from(readArch(arch, 'nb201.prune'))
  pruneInto(a, 0)
  return a
}

/** prune over a batch (Uint8Array of count*6 codes) → a new batch. */
function pruneBatch (ops: Uint8Array): Uint8Array {
  const n = readBatch(ops, 'nb201.pruneBatch')
  const out = Uint8Array.from(ops)
  for (let k = 0; k < n; k++) pruneInto(out, 6 * k)
  return out
}

// ---- node-labelled DAG and ReNAS type matrix ------------------------------------------

/** A node-labelled DAG (ops on vertices), the form GCN, NAC and AG-Net encoders read. */
export interface Nb201Dag {
  /** V×V adjacency, matrix[i][j] = 1 for a link i → j; vertices in topological order. */
  matrix: number[][]
  /** Vertex labels: 'input', op names, 'output' (and 'none' only with keepNone). */
  ops: string[]
  /** For each vertex, the cell edge (0..5) it stands for; −1 for input and output. */
  edges: number[]
}

/**
 * The node-labelled DAG of a cell: vertex 0 is the input, then one vertex per edge in edge
 * order, then the output. Links: input → edges leaving cell-node 0; edge (t→h) → edges
 * leaving h; edges into cell-node 3 → output. `none` edges carry no data, so their vertices
 * are dropped (V = 2 + the number of non-none edges). With `keepNone: true` all 8 vertices
 * stay (V = 8, as in the GraphBatch): a none vertex keeps the label 'none' and has no links.
 * Vertices that lie on no input→output path are kept (no pruning); a cell whose output is
 * unreachable gives a graph with no path.
 */
function toDag (arch: Nb201ArchInput, options?: { keepNone?: boolean }): Nb201Dag {
  const fn = 'nb201.toDag'
  const a = readArch(arch, fn)
  const opts = checkOptions<{ keepNone: boolean }>(options, fn, ['keepNone'])
  const keepNone = opts.keepNone ?? false
  if (typeof keepNone !== 'boolean') throw new TypeError(`${fn}: options.keepNone must be a boolean, got ${describe(keepNone)}`)
  const position = new Int32Array(8).fill(-1)
  const ops: string[] = []
  const edges: number[] = []
  for (let v = 0; v < 8; v++) {
    const e = v - 1
    if (v > 0 && v < 7 && a[e] === 0 && !keepNone) continue
    position[v] = ops.length
    ops.push(v === 0 ? 'input' : v === 7 ? 'output' : NB201_OPS[a[e]])
    edges.push(v === 0 || v === 7 ? -1 : e)
  }
  const n = ops.length
  const matrix = Array.from({ length: n }, () => new Array<number>(n).fill(0))
  for (const [from, to] of NB201_DAG_LINKS) {
    if ((from > 0 && a[from - 1] === 0) || (to < 7 && a[to - 1] === 0)) continue
    matrix[position[from]][position[to]] = 1
  }
  return { matrix, ops, edges }
}

/** Feature index (NB201_DAG_LABELS) of vertex v of an architecture, −1 for a none edge-vertex. */
function labelOf (a: ArrayLike<number>, base: number, v: number): number {
  if (v === 0) return 0
  if (v === 7) return 5
  const op = a[base + v - 1]
  return op === 0 ? -1 : op
}

function typeMatrixInto (a: ArrayLike<number>, base: number, out: Float32Array, at: number): void {
  for (const [from, to] of NB201_DAG_LINKS) {
    const lf = labelOf(a, base, from)
    const lt = labelOf(a, base, to)
    if (lf < 0 || lt < 0) continue
    out[at + from * 8 + to] = lt + 1
  }
}

/**
 * ReNAS's type matrix (channel 0 of its feature tensor) for NB-201, 8×8 row-major over the
 * node-labelled DAG's vertices (0 input, 1..6 edges, 7 output): T[i][j] = A[i][j] · code(j),
 * i.e. the vector of vertex type codes broadcast along the rows and masked by the adjacency,
 * as ReNAS builds it for NB-101 (torch.mul(adjacency, type_vector)). Codes: input 1,
 * skip_connect 2, nor_conv_1x1 3, nor_conv_3x3 4, avg_pool_3x3 5, output 6 (feature index + 1);
 * none vertices have no links, so their rows and columns are 0.
 */
function renasTypeMatrix (arch: Nb201ArchInput): Float32Array {
  const a = readArch(arch, 'nb201.renasTypeMatrix')
  const out = new Float32Array(64)
  typeMatrixInto(a, 0, out, 0)
  return out
}

/** renasTypeMatrix over a batch: Float32Array(count*64), architecture k at [64k, 64k+64). */
function renasTypeMatrices (ops: Uint8Array): Float32Array {
  const n = readBatch(ops, 'nb201.renasTypeMatrices')
  const out = new Float32Array(n * 64)
  for (let k = 0; k < n; k++) typeMatrixInto(ops, 6 * k, out, 64 * k)
  return out
}

// ---- parameters and FLOPs -------------------------------------------------------------

/**
 * Cost of a network: a base (everything outside the cells) plus, per op code, what one edge
 * with that op adds over the 15 cells. Additive because every cell op is C→C, stride 1.
 */
export interface Nb201CostModel {
  dataset: Nb201Dataset
  params: { base: number; perEdge: readonly number[] }
  flops: { base: number; perEdge: readonly number[] }
}

const costCache = new Map<Nb201Dataset, Nb201CostModel>()

/**
 * The shape of a network built on the NB-201 skeleton: `channels` C of the first stage (2C,
 * 4C after), `cells` N per stage, input `image` side and `inChannels`, `classes` of the
 * classifier. The official network is { channels 16, cells 5, image 32 (16 for
 * ImageNet16-120), inChannels 3, classes 10/100/120 }.
 */
export interface Nb201NetworkShape {
  channels?: number
  cells?: number
  image?: number
  inChannels?: number
  classes?: number
}

/**
 * Parameters and FLOPs of the NB-201 skeleton of any shape (see costModel for what is
 * counted); spatial sides halve per stage with floor division (stride 2, padding 1, as
 * PyTorch for even sides; odd sides round up: ⌈S/2⌉). The costs of the official shape are
 * the official numbers exactly (costModel is this function at that shape).
 */
function networkCost (shape: Nb201NetworkShape = {}, fn = 'nb201.networkCost'): { params: { base: number; perEdge: number[] }; flops: { base: number; perEdge: number[] } } {
  const o = checkOptions<Nb201NetworkShape>(shape, fn, ['channels', 'cells', 'image', 'inChannels', 'classes'])
  const c0 = integerIn(o.channels, 16, fn, 'channels', 1, 1 << 20)
  const cells = integerIn(o.cells, 5, fn, 'cells', 1, 1 << 20)
  const size = integerIn(o.image, 32, fn, 'image', 1, 1 << 20)
  const inChannels = integerIn(o.inChannels, 3, fn, 'inChannels', 1, 1 << 20)
  const classes = integerIn(o.classes, 10, fn, 'classes', 1, 1 << 20)
  const stages = [c0, 2 * c0, 4 * c0]
  const sides = [size, Math.ceil(size / 2), Math.ceil(Math.ceil(size / 2) / 2)]
  const convParams = (k: number, cin: number, cout: number) => k * k * cin * cout
  const convMacs = (k: number, cin: number, cout: number, out: number) => k * k * cin * cout * out * out
  let params = convParams(3, inChannels, c0) + 2 * c0
  let flops = convMacs(3, inChannels, c0, size)
  for (let s = 1; s < 3; s++) {
    const cin = stages[s - 1]; const cout = stages[s]; const out = sides[s]
    params += convParams(3, cin, cout) + 2 * cout + convParams(3, cout, cout) + 2 * cout + convParams(1, cin, cout)
    flops += convMacs(3, cin, cout, out) + convMacs(3, cout, cout, out) + convMacs(1, cin, cout, out)
  }
  const last = stages[2]
  params += 2 * last + last * classes + classes
  flops += last * classes + classes
  const perEdgeParams = [0, 0, 0, 0, 0]
  const perEdgeFlops = [0, 0, 0, 0, 0]
  for (let s = 0; s < 3; s++) {
    const c = stages[s]; const hw = sides[s]
    perEdgeParams[2] += cells * (convParams(1, c, c) + 2 * c)
    perEdgeParams[3] += cells * (convParams(3, c, c) + 2 * c)
    perEdgeFlops[2] += cells * convMacs(1, c, c, hw)
    perEdgeFlops[3] += cells * convMacs(3, c, c, hw)
  }
  return { params: { base: params, perEdge: perEdgeParams }, flops: { base: flops, perEdge: perEdgeFlops } }
}

/**
 * The official TinyNetwork (C = 16, N = 5) as counted by the official get_model_infos:
 *  - stem: conv3×3 3→16 (no bias) + BN;
 *  - 3 stages of 5 cells at C = 16, 32, 64 (spatial S, S/2, S/4; S = 32, or 16 for
 *    ImageNet16-120); nor_conv_k×k = ReLU, conv k×k C→C (no bias), BN(affine);
 *    skip_connect, avg_pool_3x3 and none have no parameters;
 *  - between stages a ResNet basic block Cin→2Cin: ReLU-conv3×3 stride 2-BN, ReLU-conv3×3-BN,
 *    shortcut avg-pool 2×2 stride 2 then conv1×1 (no bias, no BN);
 *  - BN + ReLU, global average pooling, linear 64→classes with bias.
 * Parameters: every weight and bias (BN: γ and β, 2C; running statistics are buffers, not
 * counted). FLOPs: multiply-accumulates of every conv (k²·Cin·Cout·Hout·Wout, no conv has a
 * bias) plus the classifier's in·out MACs and its `classes` bias additions — exactly what
 * the official counter sums (Conv2d and Linear modules only): BN, ReLU, the pools (cell
 * avg_pool_3x3, the shortcut avg-pool, global pooling) and the cell's additions count 0.
 * The official tables report these divided by 1e6 (M params, MFLOPs). Other shapes:
 * networkCost.
 */
function costModel (dataset: Nb201Dataset = 'cifar10'): Nb201CostModel {
  const ds = oneOf<Nb201Dataset>(dataset, 'cifar10', NB201_DATASETS, 'nb201.costModel', 'dataset')
  const cached = costCache.get(ds)
  if (cached) return cached
  const classes = ds === 'cifar100' ? 100 : ds === 'ImageNet16-120' ? 120 : 10
  const size = ds === 'ImageNet16-120' ? 16 : 32
  const cost = networkCost({ channels: 16, cells: 5, image: size, inChannels: 3, classes }, 'nb201.costModel')
  const model: Nb201CostModel = {
    dataset: ds,
    params: { base: cost.params.base, perEdge: Object.freeze(cost.params.perEdge) },
    flops: { base: cost.flops.base, perEdge: Object.freeze(cost.flops.perEdge) }
  }
  Object.freeze(model.params); Object.freeze(model.flops); Object.freeze(model)
  costCache.set(ds, model)
  return model
}

function costOf (part: 'params' | 'flops', arch: Nb201ArchInput, dataset: Nb201Dataset | undefined, fn: string): number {
  const a = readArch(arch, fn)
  const m = costModel(oneOf<Nb201Dataset>(dataset, 'cifar10', NB201_DATASETS, fn, 'dataset'))[part]
  let total = m.base
  for (let e = 0; e < 6; e++) total += m.perEdge[a[e]]
  return total
}

function costBatch (part: 'params' | 'flops', ops: Uint8Array, dataset: Nb201Dataset | undefined, fn: string): Float64Array {
  const n = readBatch(ops, fn)
  const m = costModel(oneOf<Nb201Dataset>(dataset, 'cifar10', NB201_DATASETS, fn, 'dataset'))[part]
  const w = Float64Array.from(m.perEdge)
  const out = new Float64Array(n)
  for (let k = 0, b = 0; k < n; k++, b += 6) {
    out[k] = m.base + w[ops[b]] + w[ops[b + 1]] + w[ops[b + 2]] + w[ops[b + 3]] + w[ops[b + 4]] + w[ops[b + 5]]
  }
  return out
}

/**
 * Trainable parameters of the network built from this cell (default dataset 'cifar10').
 * All-nor_conv_3x3 on CIFAR-10: 1,531,546 (the official 1.531546 M).
 */
function params (arch: Nb201ArchInput, dataset?: Nb201Dataset): number {
  return costOf('params', arch, dataset, 'nb201.params')
}

/**
 * FLOPs as the official benchmark counts them: multiply-accumulates of all convolutions and
 * the classifier (+ its bias additions), per image; see costModel. All-nor_conv_3x3 on
 * CIFAR-10: 220,119,690 (the official 220.11969 MFLOPs).
 */
function flops (arch: Nb201ArchInput, dataset?: Nb201Dataset): number {
  return costOf('flops', arch, dataset, 'nb201.flops')
}

/** params over a batch (Uint8Array of count*6 codes) → Float64Array(count). */
function paramsBatch (ops: Uint8Array, dataset?: Nb201Dataset): Float64Array {
  return costBatch('params', ops, dataset, 'nb201.paramsBatch')
}

/** flops over a batch (Uint8Array of count*6 codes) → Float64Array(count). */
function flopsBatch (ops: Uint8Array, dataset?: Nb201Dataset): Float64Array {
  return costBatch('flops', ops, dataset, 'nb201.flopsBatch')
}

/** The NAS-Bench-201 search space. */
export const nb201 = Object.freeze({
  size: NB201_SIZE,
  ops: NB201_OPS,
  edges: NB201_EDGES,
  datasets: NB201_DATASETS,
  parse,
  format,
  validate,
  index,
  fromIndex,
  indexBatch,
  fromIndexBatch,
  all,
  pack,
  unpack,
  order,
  sample,
  mutate,
  neighbors,
  prune,
  pruneBatch,
  toDag,
  renasTypeMatrix,
  renasTypeMatrices,
  costModel,
  networkCost,
  params,
  flops,
  paramsBatch,
  flopsBatch
})
