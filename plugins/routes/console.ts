// The console's API (/console/api/*): sign in and out, find turns by their words and by what went
// wrong, open a conversation (audited) and a turn's trace, and the overview. An analyst sees
// users' words scrubbed and users by pseudonym; an admin sees what they wrote and their id.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import Type from 'typebox'
import { packageInfo } from '../../src/project.js'
import {
  conversation, searchTurns, turnTrace, usersOf, type Viewer
} from '../../src/console/console-queries.js'
import { rescrubMessages } from '../../src/transcript/transcript-repository.js'
import { overview } from '../../src/console/console-overview.js'
import {
  ConsoleSessionSchema, ConversationSchema, ConversationsPage, ConversationsQuery, OverviewQuery, OverviewSchema,
  SignInBody, TraceParams, TurnTraceView, type ConsoleSession
} from '../../src/console/console-schemas.js'
import { LimitExceededError, NotFoundError } from '../../src/errors.js'
import { boundedDate, describedPattern, UUID_PATTERN, withProblems } from '../../src/http/schemas.js'
import { CONVERSATION_REF_PATTERN } from '../../src/console/conversation-ref.js'
import { scrub, SCRUBBER_VERSION } from '../../src/logging/scrubber.js'
import { CONSOLE_COOKIE } from '../console-access.js'
import { signOut } from '../../src/console/console-session.js'

const SIGN_INS_PER_MINUTE = 10
const ConversationParams = Type.Object({
  session_id: Type.String({
    pattern: describedPattern(`${UUID_PATTERN}|${CONVERSATION_REF_PATTERN}`, 'must be a session id (a UUID) or ' +
      'a conversation reference (c_ and 59 letters, digits, - or _) as the console gives it'),
    description: 'A session id (admin), or the reference the console gives an analyst'
  })
})

const consoleRoutes: FastifyPluginAsyncTypebox = async function (app) {
  const { config } = app
  const cookiePath = '/console'
  const serviceName = process.env.OTEL_SERVICE_NAME ?? packageInfo.name
  const common = { tags: ['console'], security: [{ apiKey: [] }] }

  const refs = app.conversationRefs
  const privacy = app.logPrivacy
  const viewer = (request: FastifyRequest): Viewer => request.principal?.role === 'admin'
    ? {
        text: text => text,
        user: userId => ({ pseudonym: privacy.pseudonym(userId) ?? null, id: userId }),
        scrubbed: false,
        session: id => id,
        loggedUser: id => id
      }
    // Pseudonyms only, whatever LOG_USER_ID writes in the log files (and so in a trace's log lines).
    : {
        text: scrub,
        user: userId => ({ pseudonym: privacy.pseudonym(userId) ?? null }),
        scrubbed: true,
        session: id => refs.ref(id),
        loggedUser: id => privacy.pseudonymOfLogged(id)
      }

  // Messages stored before search_text existed, or scrubbed by older rules, get it, off the start-up path.
  app.addHook('onReady', async () => {
    rescrubMessages(app.db, scrub, SCRUBBER_VERSION).then(
      filled => { if (filled > 0) app.log.info({ module: 'console', filled }, 'console.search_text_filled') },
      (error: unknown) => { app.log.warn({ module: 'console', err: error }, 'console.search_text_unfilled') })
  })

  const sessionView = (request: FastifyRequest): ConsoleSession => ({
    role: request.principal!.role,
    key_id: request.principal!.keyId,
    expires_at: request.consoleExpiresAt?.toISOString() ?? null,
    chat_text: request.principal!.role === 'admin' ? 'full' : 'scrubbed',
    links: { jaeger: config.ALERTS_TRACE_URL || null, grafana: config.CONSOLE_GRAFANA_URL || null }
  })

  app.post('/console/api/session', {
    config: {
      rateLimit: {
        max: SIGN_INS_PER_MINUTE,
        timeWindow: 60_000,
        keyGenerator: request => request.ip,
        errorResponseBuilder: (_request, context) => {
          const retryAfter = Math.max(1, Math.ceil(context.ttl / 1000))
          return new LimitExceededError('console_sign_ins', SIGN_INS_PER_MINUTE, retryAfter,
            `This address tried to sign in ${SIGN_INS_PER_MINUTE} times in the last minute; retry in ${retryAfter} s.`)
        }
      }
    },
    schema: {
      tags: common.tags,
      summary: 'Sign in to the console with an API key: sets an HttpOnly, SameSite=Strict cookie',
      body: SignInBody,
      response: withProblems({ 200: ConsoleSessionSchema }, 401, 403, 415, 429)
    }
  }, async (request, reply) => {
    const key = app.findApiKey(request, request.body.api_key)
    if (key === undefined) return await app.denyAccess(request, reply, 401, 'The API key is not valid.', 'unknown-key')
    const { token, signIn } = app.consoleSessions.issue(key, app.clock())
    request.principal = { keyId: signIn.keyId, role: signIn.role }
    request.consoleExpiresAt = signIn.expiresAt
    await app.auditTrail.record({
      actor: request.actor,
      action: 'console.sign_in',
      result: 'success',
      details: { role: signIn.role }
    })
    reply.setCookie(CONSOLE_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: cookiePath,
      expires: signIn.expiresAt
    })
    return sessionView(request)
  })

  app.get('/console/api/session', {
    onRequest: app.consoleAccess,
    schema: {
      ...common,
      summary: 'Who is signed in, what they see of users, and where traces and logs link to',
      response: withProblems({ 200: ConsoleSessionSchema }, 401, 403)
    }
  }, async request => sessionView(request))

  // Signing out ends the sign-in on every instance (a copy of the cookie is refused from then on)
  // and has the browser forget it. Without a valid cookie there is nothing to end.
  app.delete('/console/api/session', {
    config: { usesDatabase: true },
    schema: {
      tags: common.tags,
      summary: 'Sign out: the sign-in cookie is refused from now on, and the browser forgets it',
      response: withProblems({ 204: Type.Null() })
    }
  }, async (request, reply) => {
    const token = request.cookies[CONSOLE_COOKIE]
    const signIn = token === undefined ? undefined : app.consoleSessions.verify(token, app.clock())
    if (token !== undefined && signIn !== undefined) {
      await signOut(app.db, token, signIn, app.clock())
      request.principal = { keyId: signIn.keyId, role: signIn.role }
      await app.auditTrail.record({
        actor: request.actor,
        action: 'console.sign_out',
        result: 'success',
        details: { role: signIn.role }
      })
    }
    reply.clearCookie(CONSOLE_COOKIE, { path: cookiePath })
    return await reply.code(204).send(null)
  })

  app.get('/console/api/conversations', {
    config: { usesDatabase: true },
    onRequest: app.consoleAccess,
    schema: {
      ...common,
      summary: 'Turns by their words (full-text), time, user (their id or pseudonym), reply kind, feedback, errors, ' +
        'latency and nearest document; newest first',
      querystring: ConversationsQuery,
      response: withProblems({ 200: ConversationsPage }, 401, 403)
    }
  }, async request => {
    const {
      q, from, to, user, kind, feedback, errors, min_latency_ms: minLatencyMs, source, limit, before
    } = request.query
    const seen = viewer(request)
    const users = user === undefined ? undefined : await usersOf(app.db, user, userId => privacy.pseudonym(userId))
    const page = await searchTurns(app.db, {
      q,
      from: from === undefined ? undefined : boundedDate('querystring/from', from),
      to: to === undefined ? undefined : boundedDate('querystring/to', to),
      ...users,
      kind,
      feedbackDown: feedback === 'down',
      errors,
      minLatencyMs,
      source,
      limit: limit ?? 25,
      before
    }, seen)
    // Whether the user exists tells an empty list's reader which filter to change; never their id.
    const found = users?.userIds[0]
    if (user === undefined) return page
    const pseudonym = found === undefined ? null : privacy.pseudonym(found) ?? null
    return { ...page, user: { found: found !== undefined, pseudonym } }
  })

  app.get('/console/api/conversations/:session_id', {
    config: { usesDatabase: true },
    onRequest: app.consoleAccess,
    schema: {
      ...common,
      summary: 'A conversation, every turn with its reply, sources, feedback and latency (each opening is audited)',
      params: ConversationParams,
      response: withProblems({ 200: ConversationSchema }, 401, 403, 404)
    }
  }, async request => {
    const given = request.params.session_id
    const seen = viewer(request)
    // An analyst names conversations by reference only: a session id they could not have been shown
    // is not found.
    const sessionId = given.startsWith('c_') ? refs.sessionId(given) : seen.scrubbed ? undefined : given
    const session = sessionId === undefined ? undefined : await app.sessionManager.get(sessionId)
    if (session === undefined && !given.startsWith('c_') && seen.scrubbed) {
      // Whether such a session exists or not: the same answer, which says how to name it.
      throw new NotFoundError('conversation', given,
        'An analyst opens a conversation by its reference (c_…), as the console\'s lists give it, not by a session id.')
    }
    if (session === undefined) throw new NotFoundError('conversation', given)
    const found = await conversation(app.db, session, seen)
    await app.auditTrail.record({
      actor: request.actor,
      action: 'transcript.viewed',
      target: session.id,
      result: 'success',
      details: { role: request.principal!.role, via: 'console' }
    })
    return found
  })

  app.get('/console/api/traces/:trace_id', {
    config: { usesDatabase: true },
    onRequest: app.consoleAccess,
    schema: {
      ...common,
      summary: 'A turn\'s spans and log lines, as Parley kept them, with links to Jaeger and Grafana when configured',
      params: TraceParams,
      response: withProblems({ 200: TurnTraceView }, 401, 403, 404)
    }
  }, async request => {
    const traceId = request.params.trace_id
    const seen = viewer(request)
    // A turn let go under pressure that this instance still holds is written whole first.
    await app.turnTraces.keepNow(traceId)
    const trace = await turnTrace(app.db, traceId, seen)
    if (trace === undefined) {
      throw new NotFoundError('trace', traceId, `No trace was kept for ${traceId}: ` +
        'turns older than TURN_TRACE_RETENTION_DAYS, or dropped under load, have none.')
    }
    // Its log lines hold the user's words: opening it is opening the transcript.
    await app.auditTrail.record({
      actor: request.actor,
      action: 'trace.viewed',
      target: traceId,
      result: 'success',
      details: { role: request.principal!.role, via: 'console', session_id: trace.session_id }
    })
    const logQuery = `{service_name="${serviceName}"} | trace_id="${traceId}"`
    const explore = {
      datasource: 'loki',
      queries: [{ refId: 'A', expr: logQuery }],
      range: { from: 'now-7d', to: 'now' }
    }
    const grafanaUrl = config.CONSOLE_GRAFANA_URL.replace(/\/$/, '')
    return {
      ...trace,
      session_id: trace.session_id === null ? null : seen.session(trace.session_id),
      links: {
        jaeger: config.ALERTS_TRACE_URL === '' ? null : `${config.ALERTS_TRACE_URL}${traceId}`,
        grafana: config.CONSOLE_GRAFANA_URL === ''
          ? null
          : `${grafanaUrl}/explore?left=${encodeURIComponent(JSON.stringify(explore))}`
      }
    }
  })

  app.get('/console/api/overview', {
    config: { usesDatabase: true },
    onRequest: app.consoleAccess,
    schema: {
      ...common,
      summary: 'Turns, answer rate, latency, error rate, active sessions, feedback and firing alerts ' +
        'over the last hour, day or week',
      querystring: OverviewQuery,
      response: withProblems({ 200: OverviewSchema }, 401, 403)
    }
  }, async request => {
    const [figures, activeSessions] = await Promise.all([
      overview(app.db, request.query.period ?? 'day', app.clock()),
      app.sessionManager.countActive()
    ])
    const firing = app.alerts.states().filter(state => state.state === 'firing')
    const { pressure, ...lost } = app.turnTraces.dropped()
    return {
      ...figures,
      active_sessions: activeSessions,
      alerts_firing: firing.map(state => ({
        name: state.alert,
        severity: state.severity,
        since: state.since ?? null,
        summary: state.summary ?? ''
      })),
      turn_traces: {
        kept: app.turnTraces.kept(),
        let_go: app.turnTraces.heldCount() + pressure,
        lost: Object.values(lost).reduce((sum, count) => sum + count, 0)
      }
    }
  })
}

export default consoleRoutes
