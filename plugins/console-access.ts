// Who may use the console's API: a signed-in browser (an HttpOnly, SameSite=Strict cookie, see
// src/console/console-session.ts) or a caller sending its key as for every other route, with the
// admin or analyst role. A cookie is sent by the browser on its own, so a request that relies on
// it must also carry X-Requested-With: parley-console, which no other site's form or image can
// send, and which a script on another origin cannot send without a CORS preflight Parley refuses.
import fp from 'fastify-plugin'
import cookie from '@fastify/cookie'
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify'
import { parseApiKeys } from '../src/config.js'
import { ConsoleSessions, signedOut } from '../src/console/console-session.js'
import { ConversationRefs } from '../src/console/conversation-ref.js'
import { sendProblem } from '../src/http/problem.js'

export const CONSOLE_COOKIE = 'parley_console'
export const CONSOLE_REQUEST_HEADER = 'x-requested-with'
export const CONSOLE_REQUEST_VALUE = 'parley-console'

declare module 'fastify' {
  interface FastifyInstance {
    consoleSessions: ConsoleSessions
    /** How conversations are named to an analyst, who may not hold session ids. */
    conversationRefs: ConversationRefs
    /**
     * An onRequest hook for the console's API: a sign-in cookie (with the CSRF header) or a key,
     * of the admin or analyst role.
     */
    consoleAccess: onRequestAsyncHookHandler
    /** After consoleAccess, for the console's changes: the admin role on top. */
    consoleAdmin: onRequestAsyncHookHandler
  }
  interface FastifyRequest {
    /** When the request came with a sign-in cookie: when it expires. */
    consoleExpiresAt: Date | null
  }
}

export default fp(async function consoleAccessPlugin (app) {
  await app.register(cookie)
  const keys = parseApiKeys(app.config.API_KEYS)
  const sessions = new ConsoleSessions(keys, app.config.CONSOLE_SESSION_HOURS * 3_600_000)
  const byKey = app.requireRole('admin', 'analyst')
  app.decorate('consoleSessions', sessions)
  app.decorate('conversationRefs', new ConversationRefs(app.logPrivacy.keyFor('console conversation references')))
  app.decorateRequest('consoleExpiresAt', null)

  app.decorate('consoleAdmin', async function checkConsoleAdmin (
    this: unknown, request: FastifyRequest, reply: FastifyReply
  ) {
    const principal = request.principal
    if (reply.sent || principal === null || principal.role === 'admin') return
    return await app.denyAccess(request, reply, 403,
      `This route needs the admin role; the key has the ${principal.role} role.`, principal.keyId)
  })

  app.decorate('consoleAccess', async function checkConsoleAccess (
    this: unknown, request: FastifyRequest, reply: FastifyReply
  ) {
    const token = request.cookies[CONSOLE_COOKIE]
    // No cookie and no key: a browser not signed in, as the console page asks at every visit. No
    // credential was refused, so there is nothing for the audit trail (a signed-out visit wrote an
    // auth.denied entry each time).
    if (request.headers.authorization === undefined && token === undefined && keys.length > 0) {
      reply.header('www-authenticate', 'Bearer')
      return sendProblem(request, reply, 401, 'unauthorized',
        'Not signed in: sign in to the console (POST /console/api/session with an API key), ' +
        'or send "Authorization: Bearer <key>".')
    }
    if (request.headers.authorization !== undefined || token === undefined) return await byKey.call(app, request, reply)
    const signIn = sessions.verify(token, app.clock())
    if (signIn === undefined || await signedOut(app.db, token)) {
      return await app.denyAccess(request, reply, 401,
        'The console sign-in has expired, was signed out, or its key is no longer accepted: sign in again.',
        'console-cookie')
    }
    if (request.headers[CONSOLE_REQUEST_HEADER] !== CONSOLE_REQUEST_VALUE) {
      return sendProblem(request, reply, 403, 'forbidden',
        `A request signed in by cookie must send the header X-Requested-With: ${CONSOLE_REQUEST_VALUE} ` +
        '(requests forged by other sites cannot).')
    }
    request.principal = { keyId: signIn.keyId, role: signIn.role }
    request.consoleExpiresAt = signIn.expiresAt
  })
}, { name: 'console-access', dependencies: ['config', 'auth', 'error-handler', 'database', 'pseudonym-key'] })
