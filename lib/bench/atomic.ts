// Atomic file output: everything is written to a temporary file beside the target, which
// is renamed over the target only when complete. On failure (or process exit while writing)
// the temporary file is removed, so no half-written file is ever left behind.
import * as fs from 'node:fs'
import * as path from 'node:path'
import { randomBytes } from 'node:crypto'

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

/** A temporary file in the target's directory (so the final rename stays on one file system). */
export function tempPathFor (target: string): string {
  const dir = path.dirname(path.resolve(target))
  return path.join(dir, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
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
