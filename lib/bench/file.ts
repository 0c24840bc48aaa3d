// Reading data files safely: only regular files (after following symlinks), opened once
// (the type and size checks and the read use the same descriptor, so the file cannot be
// swapped in between), and never more than the size the format allows. A FIFO, a socket or
// a device (/dev/zero, /dev/stdin, a terminal) is refused with an error naming the file
// instead of blocking forever or reading without end.
import * as fs from 'node:fs'
import { constants as bufferConstants } from 'node:buffer'
import { DataFileError } from './errors'

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat
// can tell what it is. (It has no effect on regular files.) Not defined on Windows.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0)

/** What a non-regular file is, in words. */
function kindOf (st: fs.Stats): string {
  if (st.isDirectory()) return 'a directory'
  if (st.isFIFO()) return 'a FIFO (named pipe)'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  return 'not a regular file'
}

/** Caps a piece of input quoted in an error message (at `max` characters, then "…"). */
export function clip (s: string, max = 80): string {
  return s.length <= max ? s : s.slice(0, max) + '…'
}

/** JSON-quotes a piece of input for an error message, capped (see {@link clip}). */
export function quote (s: string, max = 80): string {
  return JSON.stringify(clip(s, max))
}

/** A list of names for an error message: at most `max` names (each capped), then "… (N in all)". */
export function listNames (names: readonly string[], max = 12): string {
  const shown = names.slice(0, max).map(n => clip(n, 40)).join(', ')
  return names.length > max ? `${shown}, … (${names.length} in all)` : shown
}

export interface OpenedFile {
  fd: number
  size: number
  stats: fs.Stats
}

/**
 * Opens `file` for reading and checks, on the open descriptor, that it is a regular file.
 * Errors are DataFileErrors `${fn}: ${file}: …` with `code` (the caller's I/O code).
 */
export function openRegularFile (fn: string, file: string, code: string): OpenedFile {
  let fd: number
  try {
    fd = fs.openSync(file, OPEN_FLAGS)
  } catch (err) {
    const reason = `cannot read the file: ${(err as Error).message}`
    throw new DataFileError(`${fn}: ${file}: ${reason}`, { code, file, reason })
  }
  let stats: fs.Stats
  try {
    stats = fs.fstatSync(fd)
  } catch (err) {
    fs.closeSync(fd)
    const reason = `cannot stat the file: ${(err as Error).message}`
    throw new DataFileError(`${fn}: ${file}: ${reason}`, { code, file, reason })
  }
  if (!stats.isFile()) {
    fs.closeSync(fd)
    const reason = `is ${kindOf(stats)}, not a regular file (data files are read from regular files only)`
    throw new DataFileError(`${fn}: ${file}: ${reason}`, { code, file, reason })
  }
  return { fd, size: stats.size, stats }
}

/** Reads up to `length` bytes at `position` (fewer only at the end of the file). */
export function readAt (fd: number, length: number, position: number): Buffer {
  const buf = Buffer.allocUnsafe(length)
  let done = 0
  while (done < length) {
    const n = fs.readSync(fd, buf, done, length - done, position + done)
    if (n === 0) break
    done += n
  }
  return done === length ? buf : buf.subarray(0, done)
}

/**
 * Reads a whole regular file, refusing files larger than `maxBytes` (what the format can
 * hold) before allocating anything. Exactly the size fstat reported is read (a file that
 * grows meanwhile is read up to that size).
 */
export function readRegularFile (fn: string, file: string, code: string, maxBytes: number, what: string): { data: Buffer; stats: fs.Stats } {
  const { fd, size, stats } = openRegularFile(fn, file, code)
  try {
    if (size > maxBytes) {
      const reason = `the file has ${size} bytes, more than ${what} can have (${maxBytes} bytes)`
      throw new DataFileError(`${fn}: ${file}: ${reason}`, { code, file, reason })
    }
    try {
      return { data: readAt(fd, size, 0), stats }
    } catch (err) {
      const reason = `cannot read the file: ${(err as Error).message}`
      throw new DataFileError(`${fn}: ${file}: ${reason}`, { code, file, reason })
    }
  } finally {
    fs.closeSync(fd)
  }
}

/** The largest Buffer this Node can allocate (files beyond it cannot be read whole). */
export const MAX_BUFFER_BYTES: number = bufferConstants.MAX_LENGTH
