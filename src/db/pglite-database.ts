// Embedded PostgreSQL (WASM) so `npm start` needs no database service. PGlite is a single
// connection: it queues statements itself, and a transaction holds it exclusively.
import { mkdir } from 'node:fs/promises'
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
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
    },
    async exec (sql: string) {
      await client.exec(sql)
    }
  }
}

/**
 * Opens (creating if needed) the database in dataDir, which this process then owns until close()
 * (DataDirLockedError if another does); "memory://" keeps it in memory. A new
 * database costs several seconds of initdb; `template` (a dumpDataDir() archive) skips that.
 */
export async function openPGliteDatabase (dataDir: string, template?: Blob): Promise<Database & { dumpDataDir: () => Promise<Blob> }> {
  let unlock = async (): Promise<void> => {}
  if (!dataDir.startsWith('memory://')) {
    await mkdir(dataDir, { recursive: true })
    unlock = await lockDataDir(dataDir)
  }
  let pglite: PGlite
  try {
    pglite = await PGlite.create(dataDir, template === undefined ? {} : { loadDataDir: template })
  } catch (error) {
    await unlock()
    throw error
  }
  const queryable = wrap(pglite)
  return {
    engine: 'pglite',
    ...queryable,
    transaction: (fn) => pglite.transaction(tx => fn(wrap(tx))),
    listen: (channel, onNotification) => pglite.listen(channel, onNotification).then(unlisten => () => unlisten()),
    close: async () => {
      try {
        await pglite.close()
      } finally {
        await unlock()
      }
    },
    dumpDataDir: () => pglite.dumpDataDir('none')
  }
}
