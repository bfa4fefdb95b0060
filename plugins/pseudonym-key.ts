// Users' pseudonyms in the logs and the console are keyed hashes of their ids. Without LOG_ID_SECRET
// the key is made once and kept in the database, so that a pseudonym stays the same across restarts
// and on every instance sharing the database: a user found in last week's log lines is found in
// the console today. The key sits beside the user ids it hides, so it reveals nothing the database
// does not; the log files, which leave the database's hands, never hold it.
import fp from 'fastify-plugin'
import { log } from '../src/logging/log-context.js'
import { usePseudonymKey } from '../src/privacy/pseudonym-key.js'

export default fp(async function pseudonymKeyPlugin (app) {
  try {
    await usePseudonymKey(app.db, app.logPrivacy, app.config)
  } catch (error) {
    log('http', 'pseudonymKey', app.log).warn({ err: error },
      'the pseudonym key could not be kept in the database: ' +
      'user pseudonyms change at every restart until LOG_ID_SECRET is set')
  }
}, { name: 'pseudonym-key', dependencies: ['request-logging', 'database'] })
