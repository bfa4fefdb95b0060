// A user's rights over their data, for the admin who answers their request: everything Parley holds
// about a user id, exported as JSON (access), and the erasure of a user or of one conversation.
// Admin keys only, each use audited by the user's pseudonym and the key. The user id goes in the
// query or the body, never the path, which the request's span (url.path) and a problem response
// (instance) repeat.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ProblemError } from '../../src/errors.js'
import { withProblems } from '../../src/http/schemas.js'
import {
  ErasureBody, ErasureReportSchema, UserDataExportSchema, UserDataQuery
} from '../../src/privacy/personal-data-schemas.js'

/** A 400 like a schema's, naming the fields: an erasure is of a user or of a session, not both, not neither. */
function notExactlyOne (both: boolean): ProblemError {
  const errors = both
    ? [{
        field: 'body/session_id',
        message: 'must not be sent with body/user_id: a user\'s erasure covers all their sessions'
      }]
    : [
        { field: 'body/user_id', message: 'is required unless body/session_id is sent' },
        { field: 'body/session_id', message: 'is required unless body/user_id is sent' }
      ]
  const fields = errors.map(error => `${error.field} ${error.message}`).join('; ')
  const detail = `${fields}. Send exactly one of user_id and session_id.`
  return new ProblemError({ status: 400, type: 'validation', title: 'Bad Request', detail, extensions: { errors } })
}

const personalDataRoutes: FastifyPluginAsyncTypebox = async function (app) {
  const common = { tags: ['admin'], security: [{ apiKey: [] }] }

  app.post('/v1/admin/erasures', {
    config: { usesDatabase: true },
    onRequest: app.requireRole('admin'),
    schema: {
      ...common,
      summary: 'Erase everything held about a user (body {"user_id"}) or one session ({"session_id"}): ' +
        'sessions, messages, feedback, turn traces, and saved test questions taken from their words; ' +
        'audited by pseudonym, with how much went, never what',
      body: ErasureBody,
      response: withProblems({ 200: ErasureReportSchema }, 401, 403, 415)
    }
  }, async request => {
    const { user_id: userId, session_id: sessionId } = request.body
    if (userId !== undefined && sessionId !== undefined) throw notExactlyOne(true)
    if (userId !== undefined) return await app.personalData.erase({ userId }, request.actor)
    if (sessionId !== undefined) return await app.personalData.erase({ sessionId }, request.actor)
    throw notExactlyOne(false)
  })

  app.get('/v1/admin/user-data', {
    config: { usesDatabase: true },
    onRequest: app.requireRole('admin'),
    schema: {
      ...common,
      summary: 'Everything held about a user id, as JSON: their sessions with every message and rating, ' +
        'their turns\' timings, and saved test questions taken from their words (audited by pseudonym)',
      querystring: UserDataQuery,
      response: withProblems({ 200: UserDataExportSchema }, 401, 403)
    }
  }, async request => await app.personalData.exportUser(request.query.user_id, request.actor))
}

export default personalDataRoutes
