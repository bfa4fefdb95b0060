// Users' pseudonyms in the logs and the console are keyed hashes of their ids. Without LOG_ID_SECRET
// the key is made once and kept in the database, so that a pseudonym stays the same across restarts
// and on every instance sharing the database: a user found in last week's log lines is found in
// the console today. The key sits beside the user ids it hides, so it reveals nothing the database
// does not; the log files, which leave the database's hands, never hold it.
import fp from 'fastify-plugin'
import { randomBytes } from 'node:crypto'
import { log } from '../src/logging/log-context.js'

export default fp(async function pseudonymKeyPlugin (app) {
  if (app.config.LOG_ID_SECRET !== '' || app.config.LOG_USER_ID !== 'hashed') return
  try {
    await app.db.query("INSERT INTO app_state (key, value) VALUES ('log_id_secret', to_jsonb($1::text)) ON CONFLICT DO NOTHING", [randomBytes(32).toString('base64url')])
    const { rows } = await app.db.query<{ secret: string }>("SELECT value #>> '{}' AS secret FROM app_state WHERE key = 'log_id_secret'")
    app.logPrivacy.useSecret(rows[0]!.secret)
  } catch (error) {
    log('http', 'pseudonymKey', app.log).warn({ err: error }, 'the pseudonym key could not be kept in the database: user pseudonyms change at every restart until LOG_ID_SECRET is set')
  }
}, { name: 'pseudonym-key', dependencies: ['request-logging', 'database'] })
