// What autovacuum does for server PostgreSQL, done for the embedded database, which has none:
// PGlite runs PostgreSQL's single-user backend. Without it, the space of every row a turn rewrote
// (its session's) or retention and erasures deleted stayed in the data folder for good, the
// planner never knew the tables' sizes, and after some two billion write transactions the
// database would stop to avoid transaction ID wraparound. A plain VACUUM of the whole database,
// often, so that each pass has little to do: it reads only the pages written since the last one
// (a minute of turns: milliseconds) and freezes old rows as it goes.
import type { Database } from './database.js'

export const UPKEEP_INTERVAL_MS = 60_000

/** Vacuums the embedded database; on server PostgreSQL (autovacuum's) does nothing. Whether it ran. */
export async function vacuumEmbedded (db: Pick<Database, 'engine' | 'exec'>): Promise<boolean> {
  if (db.engine !== 'pglite') return false
  await db.exec('VACUUM')
  return true
}
