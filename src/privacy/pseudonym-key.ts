// The pseudonyms' key kept in the database when LOG_ID_SECRET is not set: made once by whichever
// process needs it first (the server, or a command that writes to the database, such as erase) and
// read by every other, so that a user has one pseudonym on every instance, across restarts, and in
// the audit entries a command writes.
import { randomBytes } from 'node:crypto'
import type { Queryable } from '../db/database.js'
import type { LogPrivacy } from '../logging/log-privacy.js'

/** The key kept in app_state, made now if there is none. */
export async function keptPseudonymKey (db: Queryable): Promise<string> {
  await db.query(
    "INSERT INTO app_state (key, value) VALUES ('log_id_secret', to_jsonb($1::text)) ON CONFLICT DO NOTHING",
    [randomBytes(32).toString('base64url')]
  )
  const { rows } = await db.query<{ secret: string }>(
    "SELECT value #>> '{}' AS secret FROM app_state WHERE key = 'log_id_secret'"
  )
  return rows[0]!.secret
}

/**
 * Gives privacy the kept key, unless LOG_ID_SECRET is the key. Even with LOG_USER_ID=plain: the
 * audit trail, the turn traces and the erased users name users by pseudonym whatever the logs do,
 * and every instance must make the same one.
 */
export async function usePseudonymKey (
  db: Queryable,
  privacy: LogPrivacy,
  config: { LOG_ID_SECRET: string }
): Promise<void> {
  if (config.LOG_ID_SECRET !== '') return
  privacy.useSecret(await keptPseudonymKey(db))
}
