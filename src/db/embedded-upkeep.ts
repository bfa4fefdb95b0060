// What autovacuum does for server PostgreSQL, done for the embedded database, which has none:
// PGlite runs PostgreSQL's single-user backend. Without it, the space of every row a turn rewrote
// (its session's) or retention and erasures deleted stayed in the data folder for good, the
// planner never knew the tables' sizes, and after some two billion write transactions the
// database would stop to avoid transaction ID wraparound. Every table, the catalogs too, is
// vacuumed often, so that each pass has little to do: it reads only the pages written since the
// last one and freezes old rows as it goes. One statement a table, with the event loop let run in
// between: the database runs on the thread that answers chat, and a plain VACUUM of the whole
// database after a busy minute held it for 97 to 122 ms in bench:load, every request waiting.
import type { Database } from './database.js'

export const UPKEEP_INTERVAL_MS = 15_000

/** Vacuums the embedded database; on server PostgreSQL (autovacuum's) does nothing. Whether it ran. */
export async function vacuumEmbedded (db: Pick<Database, 'engine' | 'exec' | 'query'>): Promise<boolean> {
  if (db.engine !== 'pglite') return false
  // Its TOAST table with each; a regclass's text is its name, quoted and qualified as needed.
  const { rows } = await db.query<{ name: string }>(
    "SELECT oid::regclass::text AS name FROM pg_class WHERE relkind IN ('r', 'm') ORDER BY oid")
  for (const { name } of rows) {
    await new Promise(resolve => setImmediate(resolve))
    try {
      await db.exec(`VACUUM ${name}`)
    } catch (error) {
      // Dropped since it was listed (a test's scratch table, a migration).
      if ((error as { code?: string }).code !== '42P01') throw error
    }
  }
  return true
}
