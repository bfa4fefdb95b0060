import t, { type Test } from 'tap'
import { ApiError } from '../../../web/shared/problem.js'
import { apiClient } from '../../../web/shared/request.js'

// `cache` is the browser's: Node's RequestInit type leaves it out.
interface Sent { url: string, init: RequestInit & { cache?: string } }

/** fetch answering with `answer`, keeping what was sent. */
function stubFetch (t: Test, answer: () => Response | Promise<Response>): Sent[] {
  const sent: Sent[] = []
  const original = globalThis.fetch
  globalThis.fetch = async (url: string | URL | Request, init?: RequestInit) => { sent.push({ url: String(url), init: init ?? {} }); return await answer() }
  t.teardown(() => { globalThis.fetch = original })
  return sent
}

/** What a request was rejected with. */
const failure = async (request: Promise<unknown>): Promise<unknown> => await request.then(() => undefined, (caught: unknown) => caught)

const problem = (status: number, detail: string) => new Response(JSON.stringify({ type: 'urn:parley:problem:x', status, detail }), { status, headers: { 'content-type': 'application/problem+json' } })

t.test('JSON in and out, with the client\'s headers, same-origin and uncached', async t => {
  const sent = stubFetch(t, () => Response.json({ ok: true }))
  const client = apiClient({ base: '/console/api', headers: { 'x-requested-with': 'parley-console' } })
  t.same(await client.json('/session', { method: 'POST', body: { api_key: 'k' } }), { ok: true })
  const [{ url, init }] = sent as [Sent]
  t.equal(url, '/console/api/session')
  t.equal(init.method, 'POST')
  t.equal(init.body, '{"api_key":"k"}')
  t.same(init.headers, { accept: 'application/json', 'x-requested-with': 'parley-console', 'content-type': 'application/json' })
  t.equal(init.credentials, 'same-origin')
  t.equal(init.cache, 'no-store')
})

t.test('a GET has no body and no content type; a 204 is undefined', async t => {
  const sent = stubFetch(t, () => new Response(null, { status: 204 }))
  t.equal(await apiClient().json('/v1/x'), undefined)
  t.equal(sent[0]!.init.method, 'GET')
  t.equal(sent[0]!.init.body, undefined)
  t.same(sent[0]!.init.headers, { accept: 'application/json' })
})

t.test('a problem is thrown as an ApiError with its detail', async t => {
  stubFetch(t, () => problem(404, 'Session s1 not found'))
  const error = await failure(apiClient().json('/v1/sessions/s1'))
  t.ok(error instanceof ApiError)
  t.match(error, { status: 404, message: 'Session s1 not found', type: 'urn:parley:problem:x' })
})

t.test('no answer at all is an ApiError of status 0', async t => {
  stubFetch(t, () => { throw new TypeError('Failed to fetch') })
  const error = await failure(apiClient().json('/v1/x'))
  t.match(error, { status: 0, message: /cannot be reached/ })
})

t.test('a 401 is told to the listeners, but not an authenticating request\'s', async t => {
  stubFetch(t, () => problem(401, 'The sign-in has expired.'))
  const client = apiClient()
  let told = 0
  const stop = client.onUnauthorized(() => { told++ })
  t.match(await failure(client.json('/overview')), { status: 401 })
  t.equal(told, 1, 'a signed-in call')
  t.match(await failure(client.json('/session', { authenticating: true })), { status: 401 })
  t.equal(told, 1, 'the sign-in check: its 401 is its answer')
  stop()
  t.match(await failure(client.json('/overview')), { status: 401 })
  t.equal(told, 1, 'no longer once stopped')
})

t.test('another status is not a 401', async t => {
  stubFetch(t, () => problem(403, 'Forbidden'))
  const client = apiClient()
  let told = 0
  client.onUnauthorized(() => { told++ })
  t.match(await failure(client.json('/x')), { status: 403 })
  t.equal(told, 0)
})

t.test('send gives the response itself, with the Accept asked for', async t => {
  const sent = stubFetch(t, () => new Response('event: done\ndata: {}\n\n', { headers: { 'content-type': 'text/event-stream' } }))
  const response = await apiClient().send('/v1/chat', { method: 'POST', body: { message: 'hi' } }, 'text/event-stream')
  t.equal(await response.text(), 'event: done\ndata: {}\n\n')
  t.match(sent[0]!.init.headers, { accept: 'text/event-stream', 'content-type': 'application/json' })
})
