// Embedded PostgreSQL (WASM) so `npm start` needs no database service. PGlite is a single
// connection: it queues statements itself, and a transaction holds it exclusively.
import { closeSync, existsSync, fdatasyncSync, openSync } from 'node:fs'
import { mkdir, opendir } from 'node:fs/promises'
import { join } from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import type { Database, Queryable, QueryResult } from './database.js'
import { lockDataDir } from './data-dir-lock.js'

interface PGliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[], affectedRows?: number }>
  exec(sql: string): Promise<unknown>
}

function wrap (client: PGliteLike): Queryable {
  return {
    async query<R> (sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      const result = await client.query<R>(sql, params)
      // pg's rowCount: the rows a SELECT returned, or a write changed. PGlite's affectedRows is 0 for
      // a SELECT (and the statement-timing log line's row count read it).
      return { rows: result.rows, rowCount: result.rows.length > 0 ? result.rows.length : result.affectedRows ?? 0 }
    },
    async exec (sql: string) {
      await client.exec(sql)
    }
  }
}

/**
 * A commit acknowledged is a commit on disk, as PostgreSQL promises. PGlite starts PostgreSQL with
 * fsync off (-F), and its Node file system (Emscripten's NODEFS) has no fsync of its own: a turn's
 * 200 went out with its commit in the page cache only, and a power loss could lose every turn since
 * and tear the folder. PostgreSQL here runs with fsync on and flushes its write-ahead log with
 * fsync() (wal_sync_method=fsync: Emscripten makes fdatasync() a no-op but passes fsync() to the
 * file system's fsync), and NODEFS is given one that flushes the real file (or folder): every
 * commit's WAL before the commit returns, and every data file a checkpoint relies on.
 */
const DURABLE_START_PARAMS = [
  ...PGlite.defaultStartParams.filter(param => param !== '-F'),
  '-c', 'wal_sync_method=fsync'
]

interface NodeFsStream { nfd?: number, node: unknown }
interface EmscriptenNodeFs {
  stream_ops: { fsync?: (stream: NodeFsStream) => number }
  realPath: (node: unknown) => string
}

function flushToDisk (pglite: PGlite): void {
  const nodefs = (pglite as unknown as { mod: { NODEFS: EmscriptenNodeFs } }).mod.NODEFS
  nodefs.stream_ops.fsync = stream => {
    // A folder (PostgreSQL flushes pg_wal after it adds a segment) has no descriptor in NODEFS.
    if (stream.nfd !== undefined) fdatasyncSync(stream.nfd)
    else flushPath(nodefs.realPath(stream.node))
    return 0
  }
}

/** Every file and folder of a database initdb just wrote, flushed once: initdb runs with fsync off. */
async function flushTree (dir: string): Promise<void> {
  for await (const entry of await opendir(dir)) {
    if (entry.isDirectory()) await flushTree(join(dir, entry.name))
    else if (entry.isFile()) flushPath(join(dir, entry.name))
  }
  flushPath(dir)
}

function flushPath (path: string): void {
  const fd = openSync(path, 'r')
  try { fdatasyncSync(fd) } finally { closeSync(fd) }
}

/**
 * Opens (creating if needed) the database in dataDir, which this process then owns until close()
 * (DataDirLockedError if another does); "memory://" keeps it in memory. A new
 * database costs several seconds of initdb; `template` (a dumpDataDir() archive) skips that.
 */
export async function openPGliteDatabase (
  dataDir: string,
  template?: Blob
): Promise<Database & { dumpDataDir: () => Promise<Blob> }> {
  let unlock = async (): Promise<void> => {}
  const onDisk = !dataDir.startsWith('memory://')
  if (onDisk) {
    await mkdir(dataDir, { recursive: true })
    unlock = await lockDataDir(dataDir)
  }
  const created = onDisk && !existsSync(join(dataDir, 'PG_VERSION'))
  let pglite: PGlite | undefined
  try {
    pglite = await PGlite.create(dataDir, {
      ...(template === undefined ? {} : { loadDataDir: template }),
      ...(onDisk ? { startParams: DURABLE_START_PARAMS } : {})
    })
    if (onDisk) {
      flushToDisk(pglite)
      if (created) await flushTree(dataDir)
    }
  } catch (error) {
    await pglite?.close().catch(() => {})
    await unlock()
    throw error
  }
  const opened = pglite
  const queryable = wrap(opened)
  return {
    engine: 'pglite',
    ...queryable,
    transaction: (fn) => opened.transaction(tx => fn(wrap(tx))),
    listen: (channel, onNotification) => opened.listen(channel, onNotification).then(unlisten => () => unlisten()),
    close: async () => {
      try {
        await opened.close()
      } finally {
        await unlock()
      }
    },
    dumpDataDir: () => opened.dumpDataDir('none')
  }
}
