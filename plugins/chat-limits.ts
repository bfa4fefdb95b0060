// What one client may do to the chat route without an API key (@fastify/rate-limit, counted in
// this process). A chat turn without session_id opens a session, and user_id is whatever the
// caller sends: one client opening sessions under made-up user ids could fill MAX_ACTIVE_SESSIONS,
// so an address may open NEW_SESSIONS_PER_MINUTE sessions a minute. And every turn is stored: a
// session may take TURNS_PER_SESSION_PER_MINUTE turns a minute and an address
// TURNS_PER_CLIENT_PER_MINUTE, so that one client cannot grow the database, or slow others' turns,
// faster than a person types. A caller with a valid key is trusted (its actions are audited under
// its key id). Behind a reverse proxy, set TRUST_PROXY so that the address is the client's
// (X-Forwarded-For) rather than the proxy's.
import fp from 'fastify-plugin'
import rateLimit from '@fastify/rate-limit'
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import { LimitExceededError } from '../src/errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The chat route's limits, a preHandler hook (after the body is read: the session is in it). */
    chatLimits: preHandlerAsyncHookHandler
  }
}

const sessionOf = (request: FastifyRequest): string | undefined =>
  (request.body as { session_id?: string } | undefined)?.session_id

interface Limit {
  name: string
  max: number
  key: (request: FastifyRequest) => string | undefined
  says: (max: number, retryAfter: number) => string
}

export default fp(async function chatLimitsPlugin (app) {
  await app.register(rateLimit, { global: false })
  const limits: Limit[] = [
    {
      name: 'new_sessions_per_client',
      max: app.config.NEW_SESSIONS_PER_MINUTE,
      key: request => sessionOf(request) === undefined ? request.ip : undefined,
      says: (max, retryAfter) =>
        `This address opened ${max} new sessions in the last minute (NEW_SESSIONS_PER_MINUTE); ` +
        `continue one with its session_id, or retry in ${retryAfter} s.`
    },
    {
      name: 'turns_per_session',
      max: app.config.TURNS_PER_SESSION_PER_MINUTE,
      key: sessionOf,
      says: (max, retryAfter) =>
        `This session took ${max} turns in the last minute (TURNS_PER_SESSION_PER_MINUTE); retry in ${retryAfter} s.`
    },
    {
      name: 'turns_per_client',
      max: app.config.TURNS_PER_CLIENT_PER_MINUTE,
      key: request => request.ip,
      says: (max, retryAfter) =>
        `This address sent ${max} chat turns in the last minute (TURNS_PER_CLIENT_PER_MINUTE); ` +
        `retry in ${retryAfter} s.`
    }
  ]
  // Manual limiters (createRateLimit): the route's own rateLimit config runs one limiter a request.
  const active = limits.filter(limit => limit.max > 0).map(limit => ({
    limit,
    check: app.createRateLimit({
      max: limit.max,
      timeWindow: 60_000,
      keyGenerator: request => limit.key(request) ?? ''
    })
  }))
  app.decorate('chatLimits', async function checkChatLimits (request: FastifyRequest) {
    if (request.principal !== null) return
    for (const { limit, check } of active) {
      if (limit.key(request) === undefined) continue
      const checked = await check(request)
      if (!checked.isAllowed && checked.isExceeded) {
        const retryAfter = Math.max(1, checked.ttlInSeconds)
        throw new LimitExceededError(limit.name, limit.max, retryAfter, limit.says(limit.max, retryAfter))
      }
    }
  })
}, { name: 'chat-limits', dependencies: ['config', 'auth', 'error-handler'] })
