// Reading and deleting a conversation: the record of a session and its messages.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'
import { NotFoundError } from '../../src/errors.js'
import { SessionRecord, sessionRecord } from '../../src/sessions/session-record.js'
import { MessagesPage } from '../../src/chat/chat-schemas.js'
import { SessionId, UserId, withProblems } from '../../src/http/schemas.js'

const SessionParams = Type.Object({ id: SessionId })

const UserSessionsQuery = Type.Object({
  user_id: UserId,
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 25 })
}, { additionalProperties: false })

const MessagesQuery = Type.Object({
  limit: Type.Integer({
    minimum: 1,
    maximum: 100,
    default: 25,
    description: 'Turns to return, each with the user message and the reply'
  }),
  before: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: 2_147_483_647,
    description: 'Only turns before this one: pass next_before to page back'
  }))
}, { additionalProperties: false })

const sessionRoutes: FastifyPluginAsyncTypebox = async function (app) {
  app.get('/v1/sessions/:id', {
    config: { usesDatabase: true },
    onRequest: app.chatAccess,
    schema: {
      tags: ['sessions'],
      summary: 'A session and its state',
      params: SessionParams,
      response: withProblems({ 200: SessionRecord }, 401, 404)
    }
  }, async (request) => {
    const session = await app.sessionManager.get(request.params.id)
    if (session === undefined) throw new NotFoundError('Session', request.params.id)
    return sessionRecord(session)
  })

  // For support: a user whose client lost its session ids can be told which sessions they have.
  // Admins only: a session id reads the conversation as written, which an analyst may not.
  app.get('/v1/sessions', {
    config: { usesDatabase: true },
    onRequest: app.requireRole('admin'),
    schema: {
      tags: ['sessions'],
      summary: 'A user\'s sessions, the most recently used first',
      security: [{ apiKey: [] }],
      querystring: UserSessionsQuery,
      response: withProblems({ 200: Type.Object({ sessions: Type.Array(SessionRecord) }) }, 401, 403)
    }
  }, async (request) => {
    const sessions = await app.sessionManager.listByUser(request.query.user_id, request.query.limit)
    return { sessions: sessions.map(sessionRecord) }
  })

  app.get('/v1/sessions/:id/messages', {
    config: { usesDatabase: true },
    onRequest: app.chatAccess,
    schema: {
      tags: ['sessions'],
      summary: 'Messages of a session, oldest first, paged backwards from the latest; ' +
        'of an ended session, to an admin key only (audited)',
      params: SessionParams,
      querystring: MessagesQuery,
      response: withProblems({ 200: MessagesPage }, 401, 404)
    }
  }, async (request) => {
    const { id } = request.params
    const session = await app.sessionManager.get(id)
    if (session === undefined) throw new NotFoundError('Session', id)
    // The session id is the conversation's capability while it lasts: whoever holds one of an
    // ended session (a copy in a log, a shared screen) no longer reads it. An admin's key does, and
    // that reading of someone's transcript is audited, as in the console.
    const admin = request.principal?.role === 'admin'
    if (session.status !== 'active' && !admin) {
      throw new NotFoundError('Session', id,
        `Session ${id} has ended (${session.status}); its messages are no longer shown to its session id. ` +
        'An admin key reads them.')
    }
    if (admin) {
      await app.auditTrail.record({
        actor: request.actor,
        action: 'transcript.viewed',
        target: id,
        result: 'success',
        details: { role: 'admin', via: 'api' }
      })
    }
    const { limit, before } = request.query
    const messages = await app.transcript.list(id, { turns: limit, before })
    const oldest = messages[0]?.turn
    return {
      messages,
      next_before: oldest !== undefined && oldest > 1 && new Set(messages.map(m => m.turn)).size === limit
        ? oldest
        : null
    }
  })

  app.delete('/v1/sessions/:id', {
    config: { usesDatabase: true },
    onRequest: app.chatAccess,
    schema: {
      tags: ['sessions'],
      summary: 'Delete a session with all its messages, feedback and turn traces',
      params: SessionParams,
      response: withProblems({ 204: Type.Null() }, 401, 404)
    }
  }, async (request, reply) => {
    const { id } = request.params
    if (!await app.personalData.deleteSession(id, request.actor)) throw new NotFoundError('Session', id)
    return await reply.code(204).send(null)
  })
}

export default sessionRoutes
