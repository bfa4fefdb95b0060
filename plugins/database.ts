// Opens the one database (embedded PGlite or server PostgreSQL), migrates it before anything
// else starts, and closes it last on shutdown. Checks every few seconds that it still answers
// (app.databaseHealth), for /ready, load shedding and the DatabaseUnavailable alert. Vacuums the
// embedded database every 15 seconds and checkpoints it when due, as autovacuum and the
// checkpointer would (src/db/embedded-upkeep.ts).
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { resolve } from 'node:path'
import type { Database } from '../src/db/database.js'
import { openDatabase } from '../src/db/open-database.js'
import {
  CHECKPOINT_INTERVAL_MS, checkpointEmbedded, VACUUM_INTERVAL_MS, vacuumEmbedded
} from '../src/db/embedded-upkeep.js'
import { withStatementTiming } from '../src/db/statement-timing.js'
import { AuditTrail } from '../src/audit/audit-trail.js'
import { DatabaseHealth } from '../src/health/database-health.js'
import { log } from '../src/logging/log-context.js'
import { scrub } from '../src/logging/scrubber.js'

declare module 'fastify' {
  interface FastifyInstance {
    db: Database
    auditTrail: AuditTrail
    databaseHealth: DatabaseHealth
  }
}

// Often enough that DatabaseUnavailable (30 s of failing) sees several failures, rarely enough to cost nothing.
const CHECK_INTERVAL_MS = 5000
const RECHECK_INTERVAL_MS = 1000

export interface DatabasePluginOptions {
  /** Use this database instead of opening one from the configuration (tests share one). */
  database?: Database
  auditLog?: Logger
}

export default fp<DatabasePluginOptions>(async function databasePlugin (app, options) {
  const { DATABASE_URL, DATA_DIR, DATABASE_POOL_SIZE } = app.config
  const dataDir = DATA_DIR.startsWith('memory://') ? DATA_DIR : resolve(DATA_DIR)
  const opened = options.database ??
    await openDatabase({ databaseUrl: DATABASE_URL, dataDir, poolSize: DATABASE_POOL_SIZE })
  let timer: NodeJS.Timeout | undefined
  let closing = false
  // While the database is down it is checked every second, so that service resumes soon after it does.
  const schedule = (up: boolean): void => {
    clearTimeout(timer)
    if (closing) return
    const interval = up ? CHECK_INTERVAL_MS : RECHECK_INTERVAL_MS
    timer = setTimeout(() => { databaseHealth.check().then(schedule, () => {}) }, interval).unref()
  }
  const databaseHealth = new DatabaseHealth({
    db: opened,
    now: app.clock,
    onChange: ({ up, lastError }) => {
      if (up) log('database', 'check', app.log).info('the database answers again')
      else log('database', 'check', app.log).error({ reason: scrub(lastError ?? '') }, 'the database does not answer')
      schedule(up)
    }
  })
  const { statementDuration, connectionErrors } = app.metrics
  const observer = {
    completed: (sql: string, ms: number) => {
      statementDuration.record(ms / 1000)
      databaseHealth.recordStatement(sql, ms)
    },
    failed: (error: unknown) => { if (databaseHealth.recordFailure(error)) connectionErrors.add(1) }
  }
  const db = withStatementTiming(opened, {
    slowMs: app.config.DB_SLOW_QUERY_MS,
    logger: app.log as Logger,
    spanMs: app.config.DB_QUERY_SPAN_MS,
    observer
  })
  app.decorate('db', db)
  app.decorate('databaseHealth', databaseHealth)
  const up = app.metricsMeter.createObservableGauge('chatbot_database_up', {
    description: '1 while the database answers its health check, else 0'
  })
  const observeUp = (result: { observe: (value: number) => void }) => {
    result.observe(databaseHealth.current().up ? 1 : 0)
  }
  up.addCallback(observeUp)
  app.addHook('onReady', async () => { schedule(await databaseHealth.check()) })
  app.addHook('preClose', async () => {
    closing = true
    clearTimeout(timer)
    up.removeCallback(observeUp)
  })
  // On the database itself, not through the statement timing: the upkeep is no request's work, and
  // its first pass over a large folder is no slow statement to warn of.
  const logger = log('database', 'upkeep', app.log)
  const vacuum = async (): Promise<void> => {
    const started = performance.now()
    try {
      await vacuumEmbedded(opened)
      logger.debug({ duration_ms: Math.round(performance.now() - started) }, 'database vacuumed')
    } catch (error) {
      logger.error({ err: error }, 'vacuuming the database failed; will retry at the next interval')
    }
  }
  const checkpoint = async (): Promise<void> => {
    const started = performance.now()
    try {
      const checkpointed = await checkpointEmbedded(opened, app.clock())
      if (checkpointed === undefined) return
      const duration = Math.round(performance.now() - started)
      logger.debug({ wal_bytes: checkpointed.walBytes, duration_ms: duration }, 'database checkpointed')
    } catch (error) {
      logger.error({ err: error }, 'checkpointing the database failed; will retry at the next interval')
    }
  }
  // Kept by whoever opened the database, as its closing is: a test that lends one keeps it.
  if (options.database === undefined && opened.engine === 'pglite') {
    const timers = [
      setInterval(vacuum, VACUUM_INTERVAL_MS).unref(),
      setInterval(checkpoint, CHECKPOINT_INTERVAL_MS).unref()
    ]
    app.addHook('onReady', async () => { await vacuum(); await checkpoint() })
    app.addHook('preClose', async () => { for (const timer of timers) clearInterval(timer) })
  }
  app.decorate('auditTrail', new AuditTrail({ db, now: app.clock, auditLog: options.auditLog }))
  const location = db.engine === 'pglite' ? dataDir : undefined
  log('database', 'databasePlugin', app.log).info({ engine: db.engine, location }, 'database ready')
  if (options.database === undefined) app.addHook('onClose', async () => await db.close())
}, { name: 'database', dependencies: ['config', 'metrics'] })
