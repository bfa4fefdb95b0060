import t from 'tap'
import { ApiError, errorText, hasStatus, problemError, responseError, retryAfterSeconds } from '../../../web/shared/problem.js'

t.test('a problem body gives its detail and type', async t => {
  const error = problemError(400, { type: 'urn:parley:problem:validation', title: 'Bad Request', status: 400, detail: 'body/message must not be blank' }, 'fallback')
  t.ok(error instanceof ApiError)
  t.equal(error.status, 400)
  t.equal(error.message, 'body/message must not be blank')
  t.equal(error.type, 'urn:parley:problem:validation')
})

t.test('anything else gives the fallback', async t => {
  for (const body of [undefined, null, 'text', { detail: 42 }, { detail: '' }]) {
    const error = problemError(502, body, 'The server answered 502 Bad Gateway')
    t.equal(error.message, 'The server answered 502 Bad Gateway', JSON.stringify(body))
    t.equal(error.type, undefined)
  }
})

t.test('a response is read as a problem only when it says JSON', async t => {
  const problem = new Response(JSON.stringify({ status: 404, detail: 'Session s1 not found' }), { status: 404, headers: { 'content-type': 'application/problem+json; charset=utf-8' } })
  t.equal((await responseError(problem)).message, 'Session s1 not found')
  const html = new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' } })
  t.equal((await responseError(html)).message, 'The server answered 502 Bad Gateway')
  const broken = new Response('{"detail": "cut', { status: 500, headers: { 'content-type': 'application/json' } })
  t.equal((await responseError(broken)).message, 'The server answered 500')
})

t.test('hasStatus and errorText', async t => {
  t.ok(hasStatus(new ApiError(401, 'no'), 401))
  t.notOk(hasStatus(new ApiError(403, 'no'), 401))
  t.notOk(hasStatus(Object.assign(new Error('no'), { status: 401 }), 401), 'only an ApiError')
  t.equal(errorText(new ApiError(0, 'The server cannot be reached.')), 'The server cannot be reached.')
  t.equal(errorText('plain'), 'plain')
})

t.test('Retry-After is read in seconds, as a number or an HTTP date', async t => {
  const now = Date.parse('2026-11-30T03:00:00Z')
  t.equal(retryAfterSeconds('5', now), 5)
  t.equal(retryAfterSeconds(' 0 ', now), 0)
  t.equal(retryAfterSeconds('Mon, 30 Nov 2026 03:00:12 GMT', now), 12, 'a date: the seconds until it')
  t.equal(retryAfterSeconds('Mon, 30 Nov 2026 02:59:00 GMT', now), 0, 'a date gone by: at once')
  for (const header of [null, '', '-1', '1.5', 'soon']) t.equal(retryAfterSeconds(header, now), undefined, String(header))
  const refused = new Response(JSON.stringify({ status: 503, detail: 'busy' }), { status: 503, headers: { 'content-type': 'application/problem+json', 'retry-after': '5' } })
  t.match(await responseError(refused), { status: 503, retryAfterSeconds: 5 }, 'the error carries it')
  t.equal((await responseError(new Response('', { status: 503 }))).retryAfterSeconds, undefined, 'absent: undefined')
})
