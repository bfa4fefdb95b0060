// The one way the app, the CLIs and the benchmarks open storage: PGlite in a folder by default,
// server PostgreSQL when DATABASE_URL is given, migrated either way before anything reads it.
import type { Database } from './database.js'
import { openPGliteDatabase } from './pglite-database.js'
import { openPostgresDatabase } from './postgres-database.js'
import { migrate } from './migrations.js'

export interface DatabaseOptions {
  databaseUrl: string
  /** Folder of the embedded database, or memory:// for one that lives only as long as the process. */
  dataDir: string
  poolSize: number
}

/** Picks the engine (server PostgreSQL when a URL is given) and brings the schema up to date. */
export async function openDatabase (options: DatabaseOptions): Promise<Database> {
  const db = options.databaseUrl !== ''
    ? await openPostgresDatabase(options.databaseUrl, options.poolSize)
    : await openPGliteDatabase(options.dataDir)
  try {
    await migrate(db)
  } catch (error) {
    await db.close()
    throw error
  }
  return db
}
