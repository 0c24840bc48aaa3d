// The --queue value: a Redis URL, checked and redacted. Light on purpose (no BullMQ, no addon):
// the command line validates it before loading anything.
import { UsageError } from '../cli-args'

/** A checked Redis URL and its printable form (no password). */
export interface QueueUrl { url: string, redacted: string }

/** The URL with its password (and any ?password=) replaced by ***. Also for text that is not a valid URL. */
export function redactUrl (text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)([^/@?#\s]*)@/gi, (_m, scheme: string, auth: string) => {
      const colon = auth.indexOf(':')
      return `${scheme}${colon < 0 ? (auth === '' ? '' : '***') : `${auth.slice(0, colon)}:***`}@`
    })
    .replace(/([?&]password=)[^&#]*/gi, '$1***')
}

/**
 * Checks a --queue value: redis://[user:password@]host[:port][/db] or rediss://… (TLS), or
 * env:NAME to read it from the environment variable NAME (keeps the password off the process
 * list). Errors name the flag and never echo a password.
 */
export function parseQueueUrl (raw: string, flag = '--queue'): QueueUrl {
  let value = raw
  if (raw.startsWith('env:')) {
    const name = raw.slice(4)
    value = process.env[name] ?? ''
    if (value === '') throw new UsageError(`${flag} env:${name}: the environment variable ${name} is not set`)
  }
  const shown = redactUrl(value)
  let u: URL
  try { u = new URL(value) } catch { throw new UsageError(`${flag} must be a Redis URL such as redis://host:6379/0 or rediss://:password@host:6380, got '${shown}'`) }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new UsageError(`${flag} must start with redis:// or rediss:// (TLS), got '${shown}'`)
  if (u.hostname === '') throw new UsageError(`${flag} names no host, got '${shown}'`)
  if (u.pathname !== '' && u.pathname !== '/' && !/^\/\d{1,5}$/.test(u.pathname)) throw new UsageError(`${flag}: the database after the host must be a number (redis://host:6379/2), got '${shown}'`)
  return { url: value, redacted: shown }
}

/** A command line with every URL's password redacted (for provenance and logs). */
export function redactArgv (argv: readonly string[]): string[] {
  return argv.map(redactUrl)
}
