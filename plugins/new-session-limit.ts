// A chat turn without session_id opens a session, and user_id is whatever the caller sends: one
// client opening sessions under made-up user ids could fill MAX_ACTIVE_SESSIONS. So an address may
// open NEW_SESSIONS_PER_MINUTE sessions a minute without an API key (@fastify/rate-limit, counted
// in this process); continuing a session is never limited, and a caller with a valid key is
// trusted (its actions are audited under its key id). Behind a reverse proxy, set TRUST_PROXY so
// that the address is the client's (X-Forwarded-For) rather than the proxy's.
import fp from 'fastify-plugin'
import rateLimit, { type RateLimitOptions } from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import { LimitExceededError } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The chat route's rateLimit config: new sessions per address; false when NEW_SESSIONS_PER_MINUTE=0. */
    newSessionLimit: RateLimitOptions | false
  }
}

const opensSession = (request: FastifyRequest): boolean =>
  (request.body as { session_id?: unknown } | undefined)?.session_id === undefined && request.principal === null

export default fp(async function newSessionLimitPlugin (app) {
  const max = app.config.NEW_SESSIONS_PER_MINUTE
  await app.register(rateLimit, { global: false })
  app.decorate('newSessionLimit', max === 0
    ? false
    : {
        max,
        timeWindow: 60_000,
        // After the body is read: whether the turn opens a session is in it.
        hook: 'preHandler',
        allowList: request => !opensSession(request),
        keyGenerator: request => request.ip,
        errorResponseBuilder: (_request, context) => {
          const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000))
          return new LimitExceededError('new_sessions_per_client', max, retryAfter,
            `This address opened ${max} new sessions in the last minute (NEW_SESSIONS_PER_MINUTE); continue one with its session_id, or retry in ${retryAfter} s.`)
        }
      })
}, { name: 'new-session-limit', dependencies: ['config', 'auth', 'error-handler'] })
