// RFC 9457 problem+json as the error handler and the auth hooks write it, on a bare Fastify app:
// the body's members, the title a status takes, the instance without its query, and the caller's
// mistake named (scrubbed) on the request's log fields, a server fault not.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import t, { type Test } from 'tap'
import { problemBody, PROBLEM_CONTENT_TYPE, sendProblem } from '../../../src/http/problem.js'
import type { LogFields } from '../../../src/logging/log-context.js'

interface Asked { status: number, slug: string, detail: string, extensions?: Record<string, unknown>, title?: string }

/** An app whose route answers the problem its query asks for; /untracked has no log fields, as before the logging hook. */
async function app (t: Test): Promise<{ app: FastifyInstance, fields: LogFields[] }> {
  const fields: LogFields[] = []
  let next = 0
  const app = Fastify({ genReqId: () => `req-${++next}` })
  app.decorateRequest('logFields', null as unknown as LogFields)
  app.addHook('onRequest', async request => {
    if (!request.url.startsWith('/untracked')) {
      request.logFields = { req_id: request.id }
      fields.push(request.logFields)
    }
  })
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const asked = request.body as Asked
    return sendProblem(request, reply, asked.status, asked.slug, asked.detail, asked.extensions, asked.title)
  }
  app.post('/things/:id', handler)
  app.post('/untracked', handler)
  app.post('/body', async (request) => problemBody(request, request.body as Asked))
  t.teardown(() => app.close())
  await app.ready()
  return { app, fields }
}

t.test('the body: type, title, status, detail, instance, request id and extensions', async t => {
  const { app: server } = await app(t)
  const response = await server.inject({ method: 'POST', url: '/things/42?verbose=1&key=secret', payload: { status: 404, slug: 'not-found', detail: 'document 42 does not exist.', extensions: { resource: 'document', id: '42' } } })
  t.equal(response.statusCode, 404)
  t.equal(response.headers['content-type'], PROBLEM_CONTENT_TYPE)
  t.equal(PROBLEM_CONTENT_TYPE, 'application/problem+json; charset=utf-8')
  t.same(response.json(), {
    type: 'urn:parley:problem:not-found',
    title: 'Not Found',
    status: 404,
    detail: 'document 42 does not exist.',
    instance: '/things/42',
    request_id: 'req-1',
    resource: 'document',
    id: '42'
  }, 'the query string is not part of the instance')
})

t.test('each status takes its title; others a generic one; a given title wins', async t => {
  const { app: server } = await app(t)
  const titleOf = async (status: number, title?: string): Promise<string> =>
    (await server.inject({ method: 'POST', url: '/things/1', payload: { status, slug: 's', detail: 'd', title } })).json().title
  const titles: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 413: 'Content Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 503: 'Service Unavailable' }
  for (const [status, title] of Object.entries(titles)) t.equal(await titleOf(Number(status)), title, status)
  t.equal(await titleOf(500), 'Internal Server Error')
  t.equal(await titleOf(502), 'Internal Server Error', 'any unlisted 5xx')
  t.equal(await titleOf(418), 'Error', 'an unlisted 4xx')
  t.equal(await titleOf(404, 'Gone Fishing'), 'Gone Fishing')
})

t.test('a caller\'s mistake is named on the request\'s log fields, scrubbed; a 5xx is not', async t => {
  const { app: server, fields } = await app(t)
  await server.inject({ method: 'POST', url: '/things/1', payload: { status: 400, slug: 'bad-request', detail: 'body/email jane.doe@example.com is taken' } })
  t.equal(fields[0]?.problem, 'bad-request: body/email [EMAIL] is taken')
  const answered = await server.inject({ method: 'POST', url: '/things/1', payload: { status: 400, slug: 'bad-request', detail: 'body/email jane.doe@example.com is taken' } })
  t.equal(answered.json().detail, 'body/email jane.doe@example.com is taken', 'the caller is told what it sent, unscrubbed')
  await server.inject({ method: 'POST', url: '/things/1', payload: { status: 503, slug: 'database-unavailable', detail: 'retry' } })
  t.equal(fields[2]?.problem, undefined, 'a server fault\'s cause is on its error line instead')
  await server.inject({ method: 'POST', url: '/things/1', payload: { status: 499, slug: 'edge', detail: 'last 4xx' } })
  t.equal(fields[3]?.problem, 'edge: last 4xx')
  const untracked = await server.inject({ method: 'POST', url: '/untracked', payload: { status: 401, slug: 'unauthorized', detail: 'no key' } })
  t.equal(untracked.statusCode, 401, 'without log fields (a hook before the logging one) it still answers')
  t.equal(untracked.json().type, 'urn:parley:problem:unauthorized')
})

t.test('problemBody alone, as the last event of a stream under way', async t => {
  const { app: server } = await app(t)
  const response = await server.inject({ method: 'POST', url: '/body?x=1', payload: { status: 429, slug: 'limit-exceeded', detail: 'slow down', extensions: { retry_after_seconds: 3 } } })
  t.equal(response.statusCode, 200, 'the body only: the response is the caller\'s')
  t.same(response.json(), { type: 'urn:parley:problem:limit-exceeded', title: 'Too Many Requests', status: 429, detail: 'slow down', instance: '/body', request_id: 'req-1', retry_after_seconds: 3 })
})
