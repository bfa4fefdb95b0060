// Opens the one database (embedded PGlite or server PostgreSQL), migrates it before anything
// else starts, and closes it last on shutdown.
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { resolve } from 'node:path'
import type { Database } from '../src/db/database.js'
import { openDatabase } from '../src/db/open-database.js'
import { withStatementTiming } from '../src/db/statement-timing.js'
import { AuditTrail } from '../src/audit/audit-trail.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
    auditTrail: AuditTrail
  }
}

export interface DatabasePluginOptions {
  /** Use this database instead of opening one from the configuration (tests share one). */
  database?: Database
  auditLog?: Logger
}

export default fp<DatabasePluginOptions>(async function databasePlugin (app, options) {
  const { DATABASE_URL, DATA_DIR, DATABASE_POOL_SIZE } = app.config
  const dataDir = DATA_DIR.startsWith('memory://') ? DATA_DIR : resolve(DATA_DIR)
  const opened = options.database ?? await openDatabase({ databaseUrl: DATABASE_URL, dataDir, poolSize: DATABASE_POOL_SIZE })
  // pg's instrumentation makes the server PostgreSQL's statement spans; PGlite's are made here.
  const db = withStatementTiming(opened, { slowMs: app.config.DB_SLOW_QUERY_MS, logger: app.log as Logger, spans: opened.engine === 'pglite' })
  app.decorate('db', db)
  app.decorate('auditTrail', new AuditTrail({ db, now: app.clock, auditLog: options.auditLog }))
  app.log.info({ module: 'database', fn: 'databasePlugin', engine: db.engine, location: db.engine === 'pglite' ? dataDir : undefined }, 'database ready')
  if (options.database === undefined) app.addHook('onClose', async () => await db.close())
}, { name: 'database', dependencies: ['config'] })
