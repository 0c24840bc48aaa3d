// Atomic file output: everything is written to a temporary file beside the target, which
// is renamed over the target only when complete. On failure (or process exit while writing)
// the temporary file is removed, so no half-written file is ever left behind.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as os from 'node:os'
import { createHash, randomBytes } from 'node:crypto'

const pending = new Set<string>()
let exitHookInstalled = false

function removeQuietly (file: string): void {
  try { fs.unlinkSync(file) } catch { /* already gone */ }
}

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => { for (const file of pending) removeQuietly(file) })
}

// Which machine a temporary file was written on (its PID means nothing on another host of a
// shared file system): the first 8 hex digits of SHA-256(hostname).
const HOST_TAG = createHash('sha256').update(os.hostname()).digest('hex').slice(0, 8)

/**
 * A temporary file in the target's directory (so the final rename stays on one file system):
 * `.<name>.tmp-<pid>-<host tag>-<random>`.
 */
export function tempPathFor (target: string): string {
  const dir = path.dirname(path.resolve(target))
  return path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${HOST_TAG}-${randomBytes(4).toString('hex')}`)
}

function escapeRegExp (s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function processAlive (pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'  // exists, owned by someone else
  }
}

/**
 * Removes the temporary files of `target` that a killed writer left behind (SIGKILL, power
 * loss): those named by {@link tempPathFor} on this host (or by older versions, without a
 * host tag), owned by this user, whose writing process is no longer alive. Files of live
 * processes, of other hosts and of other users are left alone. Returns the files removed.
 */
export function removeStaleTemps (target: string): string[] {
  const abs = path.resolve(target)
  const dir = path.dirname(abs)
  const pattern = new RegExp(`^\\.${escapeRegExp(path.basename(abs))}\\.tmp-([0-9]+)-(?:([0-9a-f]{8})-)?[0-9a-f]{8}$`)
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return []
  }
  const removed: string[] = []
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  for (const name of names) {
    const m = pattern.exec(name)
    if (!m) continue
    if (m[2] !== undefined && m[2] !== HOST_TAG) continue
    const pid = Number(m[1])
    if (processAlive(pid)) continue
    const file = path.join(dir, name)
    try {
      const st = fs.lstatSync(file)
      if (!st.isFile() || (uid !== undefined && st.uid !== uid)) continue
      fs.unlinkSync(file)
      removed.push(file)
    } catch { /* gone meanwhile, or not ours to remove */ }
  }
  return removed
}

/** Removes temporary files that were being written when the process exits (e.g. on an uncaught error). */
export function trackTemp (file: string): void {
  installExitHook()
  pending.add(file)
}

export function untrackTemp (file: string): void {
  pending.delete(file)
}

/**
 * Opens a temporary file for `target`, lets `write(fd)` fill it, fsyncs, and renames it over
 * `target`. Any error removes the temporary file and is rethrown.
 */
export async function writeAtomic (target: string, write: (fd: number) => Promise<void> | void): Promise<void> {
  removeStaleTemps(target)
  const temp = tempPathFor(target)
  trackTemp(temp)
  let fd: number | undefined
  try {
    fd = fs.openSync(temp, 'wx', 0o644)
    await write(fd)
    fs.fsyncSync(fd)
    fs.closeSync(fd)
    fd = undefined
    fs.renameSync(temp, target)
  } catch (err) {
    if (fd !== undefined) { try { fs.closeSync(fd) } catch { /* ignore */ } }
    removeQuietly(temp)
    throw err
  } finally {
    untrackTemp(temp)
  }
}

/** Synchronous {@link writeAtomic} for data already in memory. */
export function writeFileAtomicSync (target: string, data: Uint8Array | string): void {
  removeStaleTemps(target)
  const temp = tempPathFor(target)
  trackTemp(temp)
  try {
    const fd = fs.openSync(temp, 'wx', 0o644)
    try {
      fs.writeFileSync(fd, data)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temp, target)
  } catch (err) {
    removeQuietly(temp)
    throw err
  } finally {
    untrackTemp(temp)
  }
}

/** Writes all of `chunk` to `fd` (writeSync may write less than asked). */
export function writeAll (fd: number, chunk: Uint8Array): void {
  let done = 0
  while (done < chunk.byteLength) done += fs.writeSync(fd, chunk, done, chunk.byteLength - done)
}
