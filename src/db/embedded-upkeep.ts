// What server PostgreSQL's background processes do, done for the embedded database, which has
// none: PGlite runs PostgreSQL's single-user backend.
//
// Vacuuming, autovacuum's work. Without it, the space of every row a turn rewrote
// (its session's) or retention and erasures deleted stayed in the data folder for good, the
// planner never knew the tables' sizes, and after some two billion write transactions the
// database would stop to avoid transaction ID wraparound. Every table, the catalogs too, is
// vacuumed often, so that each pass has little to do: it reads only the pages written since the
// last one and freezes old rows as it goes. One statement a table, with the event loop let run in
// between: the database runs on the thread that answers chat, and a plain VACUUM of the whole
// database after a busy minute held it for 97 to 122 ms in bench:load, every request waiting.
import type { Database } from './database.js'

export const VACUUM_INTERVAL_MS = 15_000

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

// Checkpoints, the checkpointer's work. The single-user backend asks for one as its write-ahead
// log grows only under a postmaster, which PGlite has not, so it made one only at shutdown: the
// log grew by every turn's 5 kB for as long as the server ran (177 MB after 30,000 turns, none of
// its segments ever reused), kept the bytes of every deleted row, erasures' too, and a server
// killed midway replayed all of it at its next start. After a checkpoint PostgreSQL reuses or
// removes the segments before it. A checkpoint holds the thread that answers chat while it writes
// and flushes what changed since the last, so they come often enough to stay small
// (bench:durability): asked every CHECKPOINT_INTERVAL_MS, one is due once CHECKPOINT_WAL_BYTES of
// log were written since the last, or CHECKPOINT_TIMEOUT_S after it (PostgreSQL's default) if
// anything was.
export const CHECKPOINT_INTERVAL_MS = 5_000
export const CHECKPOINT_WAL_BYTES = 16 * 1024 * 1024
export const CHECKPOINT_TIMEOUT_S = 300
// A checkpoint's own record, which is all an idle database's log holds after its checkpoint.
const CHECKPOINT_RECORD_BYTES = 1024

export interface Checkpointed {
  /** The log written since the checkpoint before, which this one let PostgreSQL recycle. */
  walBytes: number
}

/**
 * Checkpoints the embedded database when its log has grown enough since the last checkpoint, or
 * enough time has passed by `now`; on server PostgreSQL (its checkpointer's work) does nothing.
 */
export async function checkpointEmbedded (
  db: Pick<Database, 'engine' | 'exec' | 'query'>,
  now = new Date()
): Promise<Checkpointed | undefined> {
  if (db.engine !== 'pglite') return undefined
  const { rows } = await db.query<{ since_redo: number, since_checkpoint: number, age_s: number }>(
    `SELECT (pg_current_wal_insert_lsn() - redo_lsn)::float8 AS since_redo,
       (pg_current_wal_insert_lsn() - checkpoint_lsn)::float8 AS since_checkpoint,
       extract(epoch FROM $1::timestamptz - checkpoint_time)::float8 AS age_s
     FROM pg_control_checkpoint()`, [now])
  const { since_redo: sinceRedo, since_checkpoint: sinceCheckpoint, age_s: ageS } = rows[0]!
  const due = sinceRedo >= CHECKPOINT_WAL_BYTES ||
    (ageS >= CHECKPOINT_TIMEOUT_S && sinceCheckpoint > CHECKPOINT_RECORD_BYTES)
  if (!due) return undefined
  await db.exec('CHECKPOINT')
  return { walBytes: sinceRedo }
}
