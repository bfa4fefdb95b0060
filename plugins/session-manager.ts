// Owns the session manager and the periodic job that marks idle and over-age sessions expired.
import fp from 'fastify-plugin'
import type { Logger } from 'pino'
import { runWithLogger } from '../src/logging/log-context.js'
import { SessionManager } from '../src/sessions/session-manager.js'

declare module 'fastify' {
  interface FastifyInstance {
    sessionManager: SessionManager
  }
}

export default fp(async function sessionManagerPlugin (app) {
  const { SESSION_IDLE_TIMEOUT, SESSION_MAX_AGE, MAX_ACTIVE_SESSIONS, MAX_SESSIONS_PER_USER, SESSION_SWEEP_INTERVAL } = app.config
  const sessionManager = new SessionManager({
    db: app.db,
    auditTrail: app.auditTrail,
    now: app.clock,
    limits: { idleTimeoutMs: SESSION_IDLE_TIMEOUT * 1000, maxAgeMs: SESSION_MAX_AGE * 1000, maxActive: MAX_ACTIVE_SESSIONS, maxPerUser: MAX_SESSIONS_PER_USER }
  })
  app.decorate('sessionManager', sessionManager)

  const sweep = async (): Promise<void> => {
    try {
      await runWithLogger(app.log as Logger, () => sessionManager.expireIdle())
    } catch (error) {
      app.log.error({ module: 'session_manager', fn: 'sweep', err: error }, 'session sweep failed; will retry at the next interval')
    }
  }
  const timer = setInterval(sweep, SESSION_SWEEP_INTERVAL * 1000).unref()
  app.addHook('onReady', sweep)
  app.addHook('preClose', async () => clearInterval(timer))
}, { name: 'session-manager', dependencies: ['config', 'database'] })
