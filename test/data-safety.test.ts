// Data-file hazards (issue 13): FIFOs and devices, counts a file cannot hold, corruption
// (integrity digests), stale temporary files, short error messages, and file detection.
// Anything that could hang or allocate without bound runs in a child process with a time
// limit, so a regression fails instead of hanging the suite.
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  convertNb101, createNb201Table, DataFileError, detectBenchFile, encodeNb101Payload, frameTfRecord, loadNb101, loadNb201Table, maskCrc32c, crc32c,
  NB101_RUN_METRICS, nb101, openBench, openNb101Store, TfRecordWriter, writeNb201Table, type Nb101RecordInput, type Nb101Store
} from '../lib/index'
import { nb101StoreDigest } from '../lib/bench/nb101-store'
import { removeStaleTemps, tempPathFor } from '../lib/bench/atomic'
import { randomCell, randomMetrics, recordOf } from './reference/nb101-records'
import { rng } from './reference/random'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const A = require('apache-arrow') as typeof import('apache-arrow')
const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist', 'lib', 'index.js')
const cli = path.join(root, 'dist', 'lib', 'cli.js')

function tempDir (t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nasrank-safety-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Runs `body` (JS using `n` = the compiled package) in a child process; its last stdout line is JSON. */
function child (body: string, timeoutMs = 30_000): { timedOut: boolean; out: any; stderr: string; status: number | null } {
  const script = `const n = require(${JSON.stringify(dist)});\n(async () => { ${body} })().then(r => { console.log(JSON.stringify(r ?? null)); process.exit(0) }, e => { console.log(JSON.stringify({ threw: true, name: e && e.name, code: e && e.code, message: String(e && e.message) })); process.exit(0) })`
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: timeoutMs, cwd: root, maxBuffer: 64 << 20, killSignal: 'SIGKILL' })
  const lines = (r.stdout ?? '').trim().split('\n')
  let out: any = null
  try { out = JSON.parse(lines[lines.length - 1]) } catch { out = null }
  return { timedOut: r.error !== undefined || r.signal !== null, out, stderr: r.stderr ?? '', status: r.status }
}

function writeRecords (file: string, records: Nb101RecordInput[]): void {
  const w = new TfRecordWriter(file)
  for (const r of records) w.write(encodeNb101Payload(r))
  w.close()
}

/** A small valid TFRecord file: `cells` cells, one epoch budget, 3 repeats. */
function smallSource (dir: string, seed = 1, cells = 40, name = 'x.tfrecord', metricSeed = seed): string {
  const rand = rng(seed)
  const cs = Array.from({ length: cells }, () => randomCell(rand))
  const mrand = rng(metricSeed + 1000)
  const records: Nb101RecordInput[] = []
  for (let r = 0; r < 3; r++) for (const c of cs) records.push(recordOf(c, 108, randomMetrics(mrand, c, 108)))
  const file = path.join(dir, name)
  writeRecords(file, records)
  return file
}

/** Rewrites a store's table with changed columns/metadata and a digest that matches (so only the structural checks can catch it). */
function rewriteStore (store: Nb101Store, target: string, edit: (fields: import('apache-arrow').Field[], datas: import('apache-arrow').Data[], meta: Map<string, string>) => void): void {
  const fields = [...store.table.schema.fields]
  const datas = fields.map(f => store.table.getChild(f.name)!.data[0])
  const meta = new Map(store.table.schema.metadata)
  edit(fields, datas, meta)
  const schema = new A.Schema(fields, meta)
  const struct = A.makeData({ type: new A.Struct(fields), length: datas[0].length, nullCount: 0, children: datas })
  const table = new A.Table(schema, [new A.RecordBatch(schema, struct)])
  table.schema.metadata.set('nasrank.digest', nb101StoreDigest(table))
  fs.writeFileSync(target, A.tableToIPC(table, 'file'))
}

/** Every value a query can return, as bytes (NaN-safe comparison). */
function storeValues (s: Nb101Store): Buffer {
  const parts: Buffer[] = [Buffer.from(s.cells.hash), Buffer.from(s.cells.vertices), Buffer.from(s.cells.adjacency.buffer, s.cells.adjacency.byteOffset, s.cells.adjacency.byteLength),
    Buffer.from(s.cells.ops), Buffer.from(s.trainableParameters.buffer, s.trainableParameters.byteOffset, s.trainableParameters.byteLength), Buffer.from(JSON.stringify([s.epochs, s.repeats]))]
  for (const m of NB101_RUN_METRICS) {
    for (const e of s.epochs) {
      for (let r = 0; r < s.repeats; r++) {
        const c = s.column(m, { epochs: e, repeat: r })
        parts.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength))
      }
    }
  }
  return Buffer.concat(parts)
}

// ---- item 5: FIFOs and devices ---------------------------------------------------------------

t.test('FIFOs and devices are refused with an error naming the file, never read or waited on', async t => {
  const dir = tempDir(t)
  const fifo = path.join(dir, 'data.fifo')
  t.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo')
  const zero = path.join(dir, 'zero.arrow')
  fs.symlinkSync('/dev/zero', zero)
  const calls: Array<[string, string, string, string]> = [
    ['convertNb101(fifo)', `return await n.convertNb101(${JSON.stringify(fifo)}, ${JSON.stringify(path.join(dir, 'o.arrow'))}, { progress: false })`, 'ERR_TFRECORD_IO', 'convertNb101'],
    ['loadNb101(fifo)', `return await n.loadNb101(${JSON.stringify(fifo)}, { progress: false })`, 'ERR_TFRECORD_IO', 'loadNb101'],
    ['loadNb201Table(fifo)', `return n.loadNb201Table(${JSON.stringify(fifo)})`, 'ERR_TABLE_IO', 'loadNb201Table'],
    ["openBench('nb201:' + fifo)", `return await n.openBench(${JSON.stringify('nb201:' + fifo)})`, 'ERR_TABLE_IO', 'openBench'],
    ["openBench('nb101:' + fifo)", `return await n.openBench(${JSON.stringify('nb101:' + fifo)}, { progress: false })`, 'ERR_TFRECORD_IO', 'openBench'],
    ['openNb101Store(fifo)', `return n.openNb101Store(${JSON.stringify(fifo)})`, 'ERR_STORE_IO', 'openNb101Store'],
    ['openNb101Store(-> /dev/zero)', `return n.openNb101Store(${JSON.stringify(zero)})`, 'ERR_STORE_IO', 'openNb101Store'],
    ['loadNb201Table(-> /dev/zero)', `return n.loadNb201Table(${JSON.stringify(zero)})`, 'ERR_TABLE_IO', 'loadNb201Table'],
    ['detectBenchFile(fifo)', `return n.detectBenchFile(${JSON.stringify(fifo)})`, 'ERR_DETECT_IO', 'detectBenchFile']
  ]
  for (const [what, body, code, fn] of calls) {
    const r = child(body, 20_000)
    t.notOk(r.timedOut, `${what}: returns (does not block)`)
    t.match(r.out, { threw: true, code }, `${what}: ${code}`)
    const file = what.includes('zero') ? zero : fifo
    t.match(r.out?.message ?? '', new RegExp(`^${fn}: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: is a (FIFO|character device)`), `${what}: names the function, the file and what it is`)
  }
})

t.test('a store cache that is a FIFO or a symlink to /dev/zero is replaced by a fresh conversion', async t => {
  const dir = tempDir(t)
  const source = smallSource(dir)
  const cache = path.join(dir, 'x.nasrank.arrow')
  t.equal(spawnSync('mkfifo', [cache]).status, 0, 'mkfifo')
  let r = child(`const s = await n.loadNb101(${JSON.stringify(source)}, { progress: false }); return { count: s.count, converted: s.conversion !== null, rss: process.resourceUsage().maxRSS }`, 30_000)
  t.notOk(r.timedOut, 'FIFO cache: returns')
  t.match(r.out, { count: 40, converted: true }, 'FIFO cache: converted again')
  t.ok(fs.lstatSync(cache).isFile(), 'the FIFO is replaced by the store')
  fs.rmSync(cache)
  fs.symlinkSync('/dev/zero', cache)
  r = child(`const s = await n.loadNb101(${JSON.stringify(source)}, { progress: false }); return { count: s.count, converted: s.conversion !== null, rss: process.resourceUsage().maxRSS }`, 30_000)
  t.notOk(r.timedOut, '/dev/zero cache: returns')
  t.match(r.out, { count: 40, converted: true }, '/dev/zero cache: converted again')
  t.ok(r.out && r.out.rss < 1 << 20, `/dev/zero cache: bounded memory (max RSS ${r.out?.rss} KiB)`)
})

// ---- item 6: counts a file cannot hold -------------------------------------------------------

t.test('a record header claiming more than the file holds is a truncation, found before allocating', async t => {
  const dir = tempDir(t)
  const source = smallSource(dir, 2, 2000)
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(4_000_000_000n)
  const header = Buffer.alloc(12)
  len.copy(header)
  header.writeUInt32LE(maskCrc32c(crc32c(len)), 8)
  const at = fs.statSync(source).size
  fs.appendFileSync(source, Buffer.concat([header, Buffer.alloc(100, 7)]))
  const r = child(`try { await n.convertNb101(${JSON.stringify(source)}, undefined, { progress: false, maxRecordBytes: 2 ** 32 }); return { ok: true } } catch (e) { return { code: e.code, offset: e.offset, message: e.message, rss: process.resourceUsage().maxRSS } }`, 60_000)
  t.notOk(r.timedOut)
  t.match(r.out, { code: 'ERR_TFRECORD_TRUNCATED', offset: at }, 'truncation at the record')
  t.match(r.out?.message, /record at byte offset \d+: the file ends inside the record: it declares 4000000000 payload bytes .* but only 112 bytes remain/)
  t.ok(r.out && r.out.rss < 1 << 20, `memory stays bounded by the file (max RSS ${r.out?.rss} KiB; the header claims 4 GB)`)
  // Lenient: the same region is reported as a truncation.
  const res = await convertNb101(source, path.join(dir, 'l.arrow'), { progress: false, lenient: true, maxRecordBytes: 2 ** 32 })
  t.match(res.badRecords, [{ offset: at, code: 'ERR_TFRECORD_TRUNCATED' }])
  // A record longer than the caller's limit is still "too large".
  await t.rejects(convertNb101(source, path.join(dir, 's.arrow'), { progress: false, maxRecordBytes: 1000 }), { code: 'ERR_TFRECORD_TOO_LARGE', message: /more than the limit of 1000 bytes/ })
})

t.test('run columns a store cannot hold are refused on open (no billion-step loops, no huge arrays)', async t => {
  const dir = tempDir(t)
  const store = path.join(dir, 'x.arrow')
  await convertNb101(smallSource(dir), store, { progress: false })
  const good = openNb101Store(store)
  const crafted = path.join(dir, 'crafted.arrow')
  rewriteStore(good, crafted, (fields, datas) => {
    const k = fields.findIndex(f => f.name === 'final_test_accuracy_e108_r2')
    fields[k] = new A.Field('final_test_accuracy_e108_r999999999', fields[k].type, true)
    void datas
  })
  const r = child(`const s = n.openNb101Store(${JSON.stringify(crafted)}); return { value: s.query(s.hashAt(0)) }`, 20_000)
  t.notOk(r.timedOut, 'returns')
  t.match(r.out, { threw: true, code: 'ERR_STORE_SCHEMA', message: /openNb101Store: .*crafted\.arrow: unexpected column "final_test_accuracy_e108_r999999999"/ })
  const b = child(`return await n.openBench(${JSON.stringify('nb101:' + crafted)})`, 20_000)
  t.notOk(b.timedOut)
  t.match(b.out, { threw: true, code: 'ERR_STORE_SCHEMA', message: /^openBench: .*crafted\.arrow: / }, 'openBench names itself and the file, not "Invalid typed array length"')
  // A run missing some metric columns, and gaps in the repeats.
  const partial = path.join(dir, 'partial.arrow')
  rewriteStore(good, partial, (fields, datas) => {
    const k = fields.findIndex(f => f.name === 'total_time_e108_r1')
    fields.splice(k, 1); datas.splice(k, 1)
  })
  t.throws(() => openNb101Store(partial), { code: 'ERR_STORE_SCHEMA', message: /the run \(epochs 108, repeat 1\) has no column 'total_time_e108_r1'/ })
  // A store whose row count exceeds its buffers (a crafted length).
  const rows = path.join(dir, 'rows.arrow')
  rewriteStore(good, rows, (fields, datas) => {
    const k = fields.findIndex(f => f.name === 'final_test_accuracy_e108_r0')
    const d = datas[k]
    datas[k] = A.makeData({ type: d.type as any, length: d.length, nullCount: 0, data: (d.values as Float64Array).subarray(0, 10) }) as any
  })
  t.throws(() => openNb101Store(rows), { code: 'ERR_STORE_FORMAT', message: /column 'final_test_accuracy_e108_r0' holds 10 values for 40 rows/ })
})

t.test('nb101.sampleIndices refuses draw counts it could not hold', async t => {
  const r = child('const cells = n.nb101.enumerate ? { count: 10, vertices: new Uint8Array(10).fill(2), adjacency: new Uint32Array(10).fill(1), ops: new Uint8Array(70).fill(255).map((v, i) => i % 7 === 0 ? 0 : i % 7 === 1 ? 4 : 255), hash: new Uint8Array(160) } : null; return n.nb101.sampleIndices(cells, 2 ** 32, 1, { replace: true }).length', 30_000)
  t.notOk(r.timedOut)
  t.match(r.out, { threw: true, name: 'RangeError', message: /n = 4294967296 draws requested; at most 67108864/ })
  t.equal(nb101.sampleIndices({ count: 1, vertices: Uint8Array.of(2), adjacency: Uint32Array.of(1), ops: Uint8Array.of(0, 4, 255, 255, 255, 255, 255), hash: new Uint8Array(16) } as never, 5, 1, { replace: true }).length, 5)
})

// ---- item 7: integrity -----------------------------------------------------------------------

t.test('a flipped byte anywhere in a store is refused or changes nothing a query returns', async t => {
  const dir = tempDir(t)
  const store = path.join(dir, 'x.arrow')
  await convertNb101(smallSource(dir, 3, 60), store, { progress: false })
  const original = storeValues(openNb101Store(store))
  const bytes = fs.readFileSync(store)
  const rand = rng(7)
  let refused = 0
  let changed = 0
  const flipped = path.join(dir, 'flipped.arrow')
  for (let k = 0; k < 25; k++) {
    const at = Math.floor(rand() * bytes.length)
    const copy = Buffer.from(bytes)
    copy[at] ^= 1 << Math.floor(rand() * 8)
    fs.writeFileSync(flipped, copy)
    let s: Nb101Store | null = null
    try { s = openNb101Store(flipped) } catch (err) {
      t.ok(err instanceof DataFileError && /^openNb101Store: .*flipped\.arrow: /.test((err as Error).message), `offset ${at}: ${(err as Error).message.slice(0, 140)}`)
      refused++
      continue
    }
    if (!storeValues(s).equals(original)) { changed++; t.fail(`offset ${at}: opened with changed values`) }
  }
  t.equal(changed, 0, `no flip changed a value silently (${refused} of 25 refused; the rest hit bytes no query reads)`)
  t.ok(refused >= 15, `most flips are refused (${refused})`)
})

t.test('a flipped byte in an NB-201 Arrow table written by nasrank is refused or changes nothing', async t => {
  const dir = tempDir(t)
  const rand = rng(11)
  const n = 200
  const table = createNb201Table({ arch: Array.from({ length: n }, (_, i) => `|a~${i}|`), dataset: 'cifar10', columns: { test_accuracy: Array.from({ length: n }, () => rand() * 100), params: Array.from({ length: n }, () => rand()) } })
  const file = path.join(dir, 't.arrow')
  writeNb201Table(table, file)
  const values = (x: ReturnType<typeof loadNb201Table>) => JSON.stringify([x.arch, x.dataset, x.columns, x.columns.map(c => Array.from(x.column(c)))])
  const original = values(loadNb201Table(file))
  const bytes = fs.readFileSync(file)
  let refused = 0
  const flipped = path.join(dir, 'f.arrow')
  for (let k = 0; k < 15; k++) {
    const at = Math.floor(rand() * bytes.length)
    const copy = Buffer.from(bytes)
    copy[at] ^= 1 << Math.floor(rand() * 8)
    fs.writeFileSync(flipped, copy)
    let x
    try { x = loadNb201Table(flipped) } catch (err) {
      t.ok(err instanceof DataFileError, `offset ${at}: ${(err as Error).message.slice(0, 140)}`)
      refused++
      continue
    }
    t.equal(values(x), original, `offset ${at}: accepted only with unchanged values`)
  }
  t.ok(refused >= 8, `${refused} of 15 refused`)
  // Tables without a digest (other Arrow tools, older exports) are still read.
  const plain = path.join(dir, 'plain.arrow')
  fs.writeFileSync(plain, A.tableToIPC(A.tableFromArrays({ arch: ['|a~0|', '|b~0|'], x: Float64Array.of(1, 2) }), 'file'))
  t.equal(loadNb201Table(plain).count, 2)
})

t.test('older stores (no digest) are refused with "convert again"; loadNb101 converts them again', async t => {
  const dir = tempDir(t)
  const source = smallSource(dir)
  const first = await loadNb101(source, { progress: false })
  const storePath = first.file
  rewriteStore(first, storePath, (_f, _d, meta) => { meta.set('nasrank.version', '1') })
  // (rewriteStore adds a digest; a version-1 store never had one: remove it)
  const t1 = A.tableFromIPC(fs.readFileSync(storePath))
  t1.schema.metadata.delete('nasrank.digest')
  fs.writeFileSync(storePath, A.tableToIPC(t1, 'file'))
  t.throws(() => openNb101Store(storePath), { code: 'ERR_STORE_VERSION', message: /older nasrank \(store version 1, without an integrity digest\): convert the TFRecord file again/ })
  const again = await loadNb101(source, { progress: false })
  t.ok(again.conversion, 'loadNb101 converted the source again')
  t.equal(again.metadata['nasrank.version'], '2')
})

t.test('loadNb101 notices a source changed in place with the same size and mtime', async t => {
  const dir = tempDir(t)
  const source = smallSource(dir, 5, 30)
  // Whole seconds: every filesystem and utimes can restore this mtime exactly.
  const stamp = 1_700_000_000
  fs.utimesSync(source, stamp, stamp)
  const first = await loadNb101(source, { progress: false })
  t.ok(first.conversion)
  t.match(first.metadata, { 'nasrank.source_fingerprint': /^sha256-1MiB-head-tail:[0-9a-f]{64}$/, 'nasrank.source_sha256': /^[0-9a-f]{64}$/ })
  t.equal(first.metadata['nasrank.source_sha256'], require('node:crypto').createHash('sha256').update(fs.readFileSync(source)).digest('hex'), 'the full SHA-256 of the source is recorded')
  t.equal((await loadNb101(source, { progress: false })).conversion, null, 'unchanged: the store is reused')
  // The same cells with other measurements: the same byte size; given the old mtime (cp -p, rsync -t, tar).
  const st = fs.statSync(source)
  smallSource(dir, 5, 30, 'x.tfrecord', 99)
  fs.utimesSync(source, stamp, stamp)
  t.equal(fs.statSync(source).size, st.size, 'same size')
  t.equal(fs.statSync(source).mtimeMs, st.mtimeMs, 'same mtime')
  const after = await loadNb101(source, { progress: false })
  t.ok(after.conversion, 'the changed source is converted again, not answered from the old store')
  t.not(after.query(after.hashAt(0)), first.query(first.hashAt(0)), 'and the new values are read')
})

// ---- item 8: stale temporary files, SIGTERM ---------------------------------------------------

t.test('temporary files of dead writers are removed by the next convert or open; live and foreign ones stay', async t => {
  const dir = tempDir(t)
  const source = smallSource(dir)
  const store = path.join(dir, 'x.nasrank.arrow')
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!
  const mine = path.basename(tempPathFor(store))
  const tag = /\.tmp-\d+-([0-9a-f]{8})-/.exec(mine)![1]
  const names = {
    dead: `.x.nasrank.arrow.tmp-${dead}-${tag}-0123abcd`,
    deadOld: `.x.nasrank.arrow.tmp-${dead}-89abcdef`,
    live: `.x.nasrank.arrow.tmp-${process.pid}-${tag}-0123abcd`,
    otherHost: `.x.nasrank.arrow.tmp-${dead}-${tag === '00000000' ? '11111111' : '00000000'}-0123abcd`,
    otherFile: `.y.nasrank.arrow.tmp-${dead}-${tag}-0123abcd`
  }
  for (const n of Object.values(names)) fs.writeFileSync(path.join(dir, n), Buffer.alloc(1000))
  await convertNb101(source, store, { progress: false })
  const left = fs.readdirSync(dir)
  t.notOk(left.includes(names.dead), 'a dead writer\'s file is removed')
  t.notOk(left.includes(names.deadOld), 'also in the older name format')
  t.ok(left.includes(names.live), 'a live writer\'s file stays')
  t.ok(left.includes(names.otherHost), 'another host\'s file stays')
  t.ok(left.includes(names.otherFile), 'another target\'s file stays')
  fs.writeFileSync(path.join(dir, names.dead), 'x')
  openNb101Store(store)
  t.notOk(fs.readdirSync(dir).includes(names.dead), 'opening the store removes it too')
  t.same(removeStaleTemps(store), [], 'nothing left to remove')
})

t.test('bench convert: SIGTERM cleans up like Ctrl-C (exit 143, no temporary file, no store)', { skip: !fs.existsSync('/proc/self/fd') && 'needs /proc' }, async t => {
  const dir = tempDir(t)
  // Big enough (~40 MB) that the progress bar's first line (at 10%) comes well before the end.
  const rand = rng(8)
  const cs = Array.from({ length: 8000 }, () => randomCell(rand))
  const source = path.join(dir, 'x.tfrecord')
  const w = new TfRecordWriter(source)
  for (const e of [4, 12, 36, 108]) for (let r = 0; r < 3; r++) for (const c of cs) w.write(encodeNb101Payload(recordOf(c, e, randomMetrics(rand, c, e))))
  w.close()
  const store = path.join(dir, 'x.nasrank.arrow')
  const proc = spawn(process.execPath, [cli, 'bench', 'convert', '--no-progress', source, store], { stdio: ['ignore', 'pipe', 'pipe'] })
  // SIGTERM as soon as the CLI holds the source open: it is converting (handlers installed).
  const holdsSource = (): boolean => {
    try {
      return fs.readdirSync(`/proc/${proc.pid}/fd`).some(fd => { try { return fs.readlinkSync(`/proc/${proc.pid}/fd/${fd}`) === source } catch { return false } })
    } catch { return false }
  }
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => {
    const poll = setInterval(() => { if (holdsSource()) { clearInterval(poll); proc.kill('SIGTERM') } }, 2)
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000)
    proc.on('exit', (code, signal) => { clearInterval(poll); clearTimeout(timer); resolve({ code, signal }) })
  })
  t.equal(result.signal, null, 'not killed by the signal: the CLI handles SIGTERM')
  t.ok(result.code === 143 || result.code === 0, `exit ${result.code} (143: stopped; 0: finished before the signal)`)
  t.same(fs.readdirSync(dir).filter(f => f.includes('.tmp-')), [], 'no temporary file left')
  if (result.code === 143) t.notOk(fs.existsSync(store), 'no store')
})

// ---- item 10: short messages naming function, file and place -----------------------------------

t.test('CSV errors quote at most 80 characters of the input', async t => {
  const dir = tempDir(t)
  const big = 'c'.repeat(5_000_000)
  const noArch = path.join(dir, 'noarch.csv')
  fs.writeFileSync(noArch, `${big},x\n1,2\n`)
  const msg = (f: () => unknown) => { try { f(); return '' } catch (e) { return (e as Error).message } }
  let m = msg(() => loadNb201Table(noArch))
  t.ok(m.length < 400, `no arch column: ${m.length} characters`)
  t.match(m, /^loadNb201Table: .*noarch\.csv:1: no 'arch' column \(columns: c{40}…, x\)/)
  const fields = path.join(dir, 'fields.csv')
  fs.writeFileSync(fields, `arch,${Array.from({ length: 100_000 }, (_, i) => `col${i}`).join(',')}\na,1\n`)
  m = msg(() => loadNb201Table(fields))
  t.ok(m.length < 400, `wrong field count: ${m.length} characters`)
  t.match(m, /fields\.csv:2: this row has 2 fields; the header has 100001 \(arch, col0, .*… \(100001 in all\)\)/)
  const value = path.join(dir, 'value.csv')
  fs.writeFileSync(value, `arch,x\na,${'9'.repeat(1_000_000)}z\n`)
  // (in a child process with a time limit: the number pattern once took quadratic time here)
  const r = child(`return n.loadNb201Table(${JSON.stringify(value)})`, 20_000)
  t.notOk(r.timedOut, 'a 1 MB non-number is rejected quickly')
  m = r.out?.message ?? ''
  t.ok(m.length < 300, `bad value: ${m.length} characters`)
  t.match(m, /value\.csv:2: column 'x' is "9{80}…", not a number/)
})

t.test('openBench reports bad cells with its own name, the file and the row', async t => {
  const dir = tempDir(t)
  const store = path.join(dir, 'x.arrow')
  await convertNb101(smallSource(dir), store, { progress: false })
  const good = openNb101Store(store)
  const bad = path.join(dir, 'bad.arrow')
  rewriteStore(good, bad, (fields, datas) => {
    const k = fields.findIndex(f => f.name === 'ops')
    const ops = good.cells.ops.slice()
    ops[3 * 7] = 2  // row 3: the first op must be input (0)
    datas[k] = A.makeData({ type: datas[k].type as any, length: good.count, nullCount: 0, child: A.makeData({ type: new A.Uint8(), length: good.count * 7, nullCount: 0, data: ops }) }) as any
  })
  await t.rejects(openBench('nb101:' + bad), { code: 'ERR_STORE_CELL', message: /^openBench: .*bad\.arrow: row 3: op 0 has code 2/ })
  t.throws(() => openNb101Store(bad), { code: 'ERR_STORE_CELL', message: /^openNb101Store: .*bad\.arrow: row 3: / })
})

// ---- detection (issue 16 item 8) -------------------------------------------------------------

t.test('detectBenchFile and bench info say what a file is and which uri opens it', async t => {
  const dir = tempDir(t)
  const source = smallSource(dir, 9, 20)
  const store = path.join(dir, 's.arrow')
  await convertNb101(source, store, { progress: false })
  const csv = path.join(dir, 't.csv')
  fs.writeFileSync(csv, '\uFEFFindex,"arch",test_accuracy\n0,|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|,93.5\n')
  const tbl = path.join(dir, 't.arrow')
  writeNb201Table(loadNb201Table(csv), tbl)
  const foreign = path.join(dir, 'f.arrow')
  fs.writeFileSync(foreign, A.tableToIPC(A.tableFromArrays({ a: Float64Array.of(1) }), 'stream'))
  const junk = path.join(dir, 'junk.bin')
  fs.writeFileSync(junk, Buffer.from('hello world, not data at all'))
  const empty = path.join(dir, 'empty')
  fs.writeFileSync(empty, '')
  t.match(detectBenchFile(source), { kind: 'nb101-tfrecord', uri: 'nb101:' })
  t.match(detectBenchFile(store), { kind: 'nb101-store', uri: 'nb101:' })
  t.match(detectBenchFile(csv), { kind: 'nb201-csv', uri: 'nb201:' })
  t.match(detectBenchFile(tbl), { kind: 'nb201-arrow', uri: 'nb201:' })
  t.match(detectBenchFile(foreign), { kind: 'arrow', uri: null })
  t.match(detectBenchFile(junk), { kind: 'unknown', uri: null })
  t.match(detectBenchFile(empty), { kind: 'unknown', uri: null })
  const run = (f: string) => spawnSync(process.execPath, [cli, 'bench', 'info', f], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' })
  let r = run(csv)
  t.equal(r.status, 0, r.stderr)
  t.match(JSON.parse(r.stdout), { kind: 'nb201-csv', uri: `nb201:${csv}`, architectures: 1 })
  r = run(tbl)
  t.equal(r.status, 0, r.stderr)
  t.match(JSON.parse(r.stdout), { kind: 'nb201-arrow', uri: `nb201:${tbl}` })
  r = run(store)
  t.equal(r.status, 0, r.stderr)
  t.match(JSON.parse(r.stdout), { kind: 'nb101-store', uri: `nb101:${store}`, cells: 20 })
  r = run(junk)
  t.not(r.status, 0)
  t.match(r.stderr, /junk\.bin: not a benchmark file nasrank knows/)
  t.notMatch(r.stderr, /TFRecord .*CRC/, 'no NB-101 framing error for a non-TFRecord file')
})

t.test('the real NB-201 tables are detected', { skip: !fs.existsSync(path.join(root, '..', 'shared', 'data', 'nb201-cifar10-hp200.csv')) && 'no ../shared/data' }, async t => {
  t.match(detectBenchFile(path.join(root, '..', 'shared', 'data', 'nb201-cifar10-hp200.csv')), { kind: 'nb201-csv', uri: 'nb201:' })
})

void frameTfRecord
