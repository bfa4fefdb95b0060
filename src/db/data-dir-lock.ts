// One process owns an embedded database's folder. PGlite does not lock it: a second process (a
// second server, kb:import) opens the same files, each keeps its own copy in memory, and the last
// to write wins: documents imported are lost, and sequences repeat (a duplicate audit id).
// One server owns a log folder too: two writing one audit.log interleave two hash chains, which
// audit:verify cannot tell from entries removed, and each rotates, relinks and prunes the other's files.
//
// The lock is a file naming its owner's PID, created exclusively, as PostgreSQL's postmaster.pid
// is. A lock left by a process that died (a crash, SIGKILL) is taken over, since that PID no longer
// runs; a live owner is named in the error, with what to do. Written here rather than taken from
// proper-lockfile, whose locks go stale by age (a live owner must touch its lock every few seconds
// or lose it while its event loop is busy) and cannot name the process that holds them.
import { hostname } from 'node:os'
import { join } from 'node:path'
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises'

export const LOCK_FILE = 'parley.lock'
/** In LOG_DIR; named apart from LOCK_FILE so that one folder may be both DATA_DIR and LOG_DIR. */
export const LOG_LOCK_FILE = 'parley-logs.lock'

interface LockOwner { pid: number, hostname: string, started_at: string, command: string }

export class DataDirLockedError extends Error {
  /** Who holds the folder, without the way round it that the message suggests (a CLI names its own). */
  readonly inUse: string

  constructor (readonly dataDir: string, readonly owner: LockOwner) {
    const inUse = `${dataDir} is in use by process ${owner.pid} on ${owner.hostname} ` +
      `(${owner.command}, since ${owner.started_at}). ` +
      'One process at a time may open an embedded database: stop that process first'
    super(`${inUse}, or, to add documents to a running server, import through its API ` +
      '(npm run kb:import -- --url <server> <folder>).')
    this.inUse = inUse
    this.name = 'DataDirLockedError'
  }
}

export class LogDirLockedError extends Error {
  constructor (readonly logDir: string, readonly owner: LockOwner) {
    super(`${logDir} (LOG_DIR) is written by process ${owner.pid} on ${owner.hostname} ` +
      `(${owner.command}, since ${owner.started_at}). ` +
      'Each instance needs a log folder of its own: two writing one audit.log interleave their hash chains, which ' +
      'npm run audit:verify then reports as broken. ' +
      'Set LOG_DIR to a folder of this instance\'s own (LOG_DIR=./logs/<instance>), or stop that process first.')
    this.name = 'LogDirLockedError'
  }
}

// Locks this process holds: a second open of the same folder in one process is refused too.
const held = new Set<string>()

function alive (pid: number): boolean {
  if (pid === process.pid) return false // a lock with our PID that we do not hold: a restarted container
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' // alive, owned by another user
  }
}

async function readOwner (path: string): Promise<LockOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>
    return Number.isInteger(owner.pid) ? owner as LockOwner : undefined
  } catch {
    return undefined // gone meanwhile, or half-written by a process that died while writing it
  }
}

/** Takes the folder's lock; resolves to its release. Throws DataDirLockedError if a live process holds it. */
export async function lockDataDir (
  dataDir: string,
  command = process.argv.slice(1).join(' ')
): Promise<() => Promise<void>> {
  return await lockFolder(join(dataDir, LOCK_FILE), command, owner => new DataDirLockedError(dataDir, owner))
}

/**
 * Takes the log folder's lock (making the folder if need be); resolves to its release. Throws
 * LogDirLockedError if a live process holds it.
 */
export async function lockLogDir (
  logDir: string,
  command = process.argv.slice(1).join(' ')
): Promise<() => Promise<void>> {
  await mkdir(logDir, { recursive: true })
  return await lockFolder(join(logDir, LOG_LOCK_FILE), command, owner => new LogDirLockedError(logDir, owner))
}

async function lockFolder (
  path: string,
  command: string,
  refused: (owner: LockOwner) => Error
): Promise<() => Promise<void>> {
  const owner: LockOwner = { pid: process.pid, hostname: hostname(), started_at: new Date().toISOString(), command }
  if (held.has(path)) throw refused(owner)
  // Written whole beside the lock, then linked to its name: link fails if the lock exists, so no
  // process ever reads a half-written lock and takes it for a dead one.
  const draft = `${path}.${process.pid}`
  await writeFile(draft, JSON.stringify(owner))
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(draft, path)
        break
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw error
        const current = await readOwner(path)
        if (current !== undefined && alive(current.pid)) throw refused(current)
        await unlink(path).catch(() => {})
      }
    }
  } finally {
    await unlink(draft).catch(() => {})
  }
  held.add(path)
  return async () => {
    held.delete(path)
    await unlink(path).catch(() => {})
  }
}
