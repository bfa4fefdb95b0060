// The sessions read across users, for the analytics API and the console; the session manager
// (session-manager.ts) writes them and reads them one at a time.
import type { Queryable } from '../db/database.js'

/** How many sessions were opened from `from`, up to and excluding `to`. */
export async function sessionsStarted (db: Queryable, period: { from: Date, to: Date }): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sessions WHERE created_at >= $1 AND created_at < $2', [period.from, period.to])
  return rows[0]?.n ?? 0
}

/** Every user id that has a session. */
export async function knownUserIds (db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ user_id: string }>(
    'SELECT DISTINCT user_id FROM sessions WHERE user_id IS NOT NULL')
  return rows.map(row => row.user_id)
}

/** Of these ids (lower-case UUIDs), those that name a session. */
export async function existingSessionIds (db: Queryable, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set()
  const { rows } = await db.query<{ id: string }>(
    'SELECT id::text AS id FROM sessions WHERE id = ANY($1::uuid[])', [ids])
  return new Set(rows.map(row => row.id))
}
