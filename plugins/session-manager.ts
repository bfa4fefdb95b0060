// Owns the session manager, the periodic job that marks idle and over-age sessions expired (and,
// on the embedded database, refreshes the table's statistics), and the name a caller opens
// sessions under (sessionOpener).
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { BatchObservableResult, Meter } from '@opentelemetry/api'
import type { Logger } from 'pino'
import { log, runWithLogger } from '../src/logging/log-context.js'
import { openerOf, SessionManager } from '../src/sessions/session-manager.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessionManager: SessionManager
    /** Who a request opens a session as: its key, or its address hashed (see openerOf). */
    sessionOpener: (request: FastifyRequest) => string
  }
}

export default fp(async function sessionManagerPlugin (app) {
  const {
    SESSION_IDLE_TIMEOUT, SESSION_MAX_AGE, MAX_ACTIVE_SESSIONS, MAX_SESSIONS_PER_USER, SESSION_SWEEP_INTERVAL
  } = app.config
  const sessionManager = new SessionManager({
    db: app.db,
    auditTrail: app.auditTrail,
    instruments: app.metrics,
    now: app.clock,
    pseudonym: userId => app.logPrivacy.pseudonym(userId),
    limits: {
      idleTimeoutMs: SESSION_IDLE_TIMEOUT * 1000,
      maxAgeMs: SESSION_MAX_AGE * 1000,
      maxActive: MAX_ACTIVE_SESSIONS,
      maxPerUser: MAX_SESSIONS_PER_USER
    }
  })
  app.decorate('sessionManager', sessionManager)
  const openerKey = app.logPrivacy.keyFor('session openers')
  app.decorate('sessionOpener', (request: FastifyRequest) => openerOf(request.principal?.keyId, request.ip, openerKey))
  observeSessions(app.metricsMeter, sessionManager, app)

  const sweep = async (): Promise<void> => {
    try {
      await runWithLogger(app.log as Logger, async () => {
        await sessionManager.expireIdle()
        await sessionManager.refreshStatistics()
      })
    } catch (error) {
      log('session_manager', 'sweep', app.log)
        .error({ err: error }, 'session sweep failed; will retry at the next interval')
    }
  }
  const timer = setInterval(sweep, SESSION_SWEEP_INTERVAL * 1000).unref()
  app.addHook('onReady', sweep)
  app.addHook('preClose', async () => clearInterval(timer))
}, { name: 'session-manager', dependencies: ['config', 'database', 'metrics', 'auth', 'pseudonym-key'] })

// Users counted as active: those with a turn in this window.
const ACTIVE_USERS_WINDOW_MS = 15 * 60_000

function observeSessions (meter: Meter, sessionManager: SessionManager, app: FastifyInstance): void {
  const activeSessions = meter.createObservableGauge('chatbot_active_sessions', {
    description: 'Active sessions, against MAX_ACTIVE_SESSIONS'
  })
  const sessionLimit = meter.createObservableGauge('chatbot_active_sessions_limit', {
    description: 'MAX_ACTIVE_SESSIONS: new sessions past it are refused'
  })
  const activeUsers = meter.createObservableGauge('chatbot_active_users', {
    description: 'Distinct user_ids with a turn in the last 15 minutes'
  })
  const observe = async (result: BatchObservableResult): Promise<void> => {
    const [sessions, users] = await Promise.all([
      sessionManager.countActive(),
      sessionManager.countActiveUsers(ACTIVE_USERS_WINDOW_MS)
    ])
    result.observe(activeSessions, sessions)
    result.observe(sessionLimit, app.config.MAX_ACTIVE_SESSIONS)
    result.observe(activeUsers, users)
  }
  const observed = [activeSessions, sessionLimit, activeUsers]
  meter.addBatchObservableCallback(observe, observed)
  // The meter outlives the app (tests build many in one process): a closed app stops observing.
  app.addHook('onClose', async () => { meter.removeBatchObservableCallback(observe, observed) })
}
