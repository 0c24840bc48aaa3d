// An experiment's --out folder: held by one process at a time (a lock file naming its PID),
// its results.jsonl checked on open, and a manifest of the files nasrank wrote there, so a
// run never overwrites a file it did not write (an unrelated report.md) unless forced.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { createHash } from 'node:crypto'
import { ResultStore, writeFileAtomic } from './results'

export const LOCK_FILE = '.nasrank.lock'
export const MANIFEST_FILE = '.nasrank-manifest.json'

export interface OutDirOptions {
  /** Files the experiment's report writes (names relative to the folder). */
  outputs: readonly string[]
  /** Overwrite files in the folder that nasrank did not write (default false). */
  force?: boolean
  /** Warnings (skipped lines of results.jsonl, a stale lock taken over). */
  warn?: (message: string) => void
}

interface Manifest { format: 'nasrank-out', files: Record<string, string> }

/** Folders this process holds (a lock naming this PID but not in here is left from a dead run). */
const held = new Set<string>()

function sha256 (data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readManifest (dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE)
  if (!fs.existsSync(file)) return { format: 'nasrank-out', files: {} }
  let m: unknown
  try { m = JSON.parse(fs.readFileSync(file, 'utf8')) } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message}); remove it or choose another --out`)
  }
  if (m === null || typeof m !== 'object' || (m as Manifest).format !== 'nasrank-out' || typeof (m as Manifest).files !== 'object') {
    throw new Error(`${file}: not a nasrank manifest; remove it or choose another --out`)
  }
  return m as Manifest
}

/** Files among `outputs` that exist in `dir` but were not written there by nasrank (or changed since). */
function foreignFiles (dir: string, outputs: readonly string[], manifest: Manifest): string[] {
  return outputs.filter(name => {
    const file = path.join(dir, name)
    if (!fs.existsSync(file)) return false
    const recorded = manifest.files[name]
    return recorded === undefined || recorded !== sha256(fs.readFileSync(file))
  })
}

function refuseForeign (dir: string, foreign: string[]): never {
  throw new Error(`--out ${dir} holds ${foreign.join(', ')}, which nasrank did not write (or which changed since it did); ` +
    'choose another --out, move the file(s) away, or force the run (force: true) to overwrite them')
}

function lockHolder (file: string): { pid: number, host: string } | null {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8'))
    return { pid: Number(v.pid), host: String(v.host) }
  } catch { return null }
}

function inUse (dir: string, holder: { pid: number, host: string }): Error {
  return new Error(`--out ${dir} is in use by process ${holder.pid}${holder.host !== os.hostname() ? ` on ${holder.host}` : ''} ` +
    `(lock ${path.join(dir, LOCK_FILE)}); wait for it to finish or choose another --out`)
}

/** Whether the lock is held by a live process other than this run. */
function liveHolder (dir: string): { pid: number, host: string } | null {
  const holder = lockHolder(path.join(dir, LOCK_FILE))
  if (holder === null) return null
  if (holder.host !== os.hostname()) return holder // another machine: cannot tell, so it holds
  if (holder.pid === process.pid) return held.has(path.resolve(dir)) ? holder : null
  return alive(holder.pid) ? holder : null
}

/**
 * Everything about --out that can be checked before any expensive set-up (opening benches,
 * starting tfjs): it is a folder or absent, no live process holds it, its results.jsonl reads,
 * and no file the report writes belongs to someone else. Throws the error a run would.
 */
export function checkOutDir (dir: string, options: OutDirOptions): void {
  if (!fs.existsSync(dir)) return
  if (!fs.statSync(dir).isDirectory()) throw new Error(`--out ${dir} exists and is not a directory`)
  const holder = liveHolder(dir)
  if (holder !== null) throw inUse(dir, holder)
  if (options.force !== true) {
    const foreign = foreignFiles(dir, options.outputs, readManifest(dir))
    if (foreign.length > 0) refuseForeign(dir, foreign)
  }
  void new ResultStore(dir, options.warn)
}

/** An --out folder held by this process until release(). */
export class OutDir {
  readonly dir: string
  readonly store: ResultStore
  private readonly manifest: Manifest
  private released = false

  private constructor (dir: string, store: ResultStore, manifest: Manifest) {
    this.dir = dir
    this.store = store
    this.manifest = manifest
  }

  /** Takes the folder's lock (or fails at once naming the PID holding it), then checks it as checkOutDir does. */
  static open (dir: string, options: OutDirOptions): OutDir {
    if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) throw new Error(`--out ${dir} exists and is not a directory`)
    fs.mkdirSync(dir, { recursive: true })
    const lock = path.join(dir, LOCK_FILE)
    const key = path.resolve(dir)
    const content = JSON.stringify({ pid: process.pid, host: os.hostname(), started: new Date().toISOString() }) + '\n'
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(lock, content, { flag: 'wx' })
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        const holder = liveHolder(dir)
        if (holder !== null) throw inUse(dir, holder)
        const stale = lockHolder(lock)
        if (attempt > 0) throw inUse(dir, stale ?? { pid: NaN, host: os.hostname() }) // another process took it over first
        options.warn?.(`--out ${dir}: taking over the lock of process ${stale?.pid ?? '?'}, which is no longer running`)
        fs.rmSync(lock, { force: true })
      }
    }
    held.add(key)
    try {
      const manifest = readManifest(dir)
      if (options.force !== true) {
        const foreign = foreignFiles(dir, options.outputs, manifest)
        if (foreign.length > 0) refuseForeign(dir, foreign)
      }
      return new OutDir(dir, new ResultStore(dir, options.warn), manifest)
    } catch (err) {
      held.delete(key)
      fs.rmSync(lock, { force: true })
      throw err
    }
  }

  /** Writes one of the run's files atomically and records it in the manifest. */
  write (name: string, data: string | Uint8Array): string {
    if (this.released) throw new Error(`--out ${this.dir}: written after release`)
    const file = path.join(this.dir, name)
    writeFileAtomic(file, data)
    this.manifest.files[name] = sha256(data)
    writeFileAtomic(path.join(this.dir, MANIFEST_FILE), JSON.stringify(this.manifest, null, 1) + '\n')
    return file
  }

  /** Gives the lock back (idempotent). */
  release (): void {
    if (this.released) return
    this.released = true
    held.delete(path.resolve(this.dir))
    const holder = lockHolder(path.join(this.dir, LOCK_FILE))
    if (holder !== null && holder.pid === process.pid) fs.rmSync(path.join(this.dir, LOCK_FILE), { force: true })
  }
}
