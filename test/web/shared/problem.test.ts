import t from 'tap'
import { ApiError, errorText, hasStatus, problemError, responseError } from '../../../web/shared/problem.js'

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
