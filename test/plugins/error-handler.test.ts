// Bad input of every kind is a 4xx problem+json naming what was wrong; none is a 500, none writes.
import t from 'tap'
import type { InjectOptions } from 'fastify'
import { createLogger } from '../../src/logging/logger.js'
import { buildTestApp } from '../helper.js'

t.test('bad input gets a precise problem response and writes nothing', async t => {
  const app = await buildTestApp(t)
  const json = { 'content-type': 'application/json' }
  // field: what errors[] names, where the detail does not start with it.
  const cases: Array<{ name: string, request: InjectOptions & { url: string }, status: number, field?: string, detail: RegExp }> = [
    { name: 'invalid JSON', request: { method: 'POST', url: '/v1/chat', headers: json, payload: '{"message": "hi"' }, status: 400, field: 'body', detail: /^The body is not valid JSON: expected ',' or '}' after property value at position 16 \(line 1 column 17\)\.$/ },
    { name: 'a trailing comma', request: { method: 'POST', url: '/v1/chat', headers: json, payload: '{"message": "hi",}' }, status: 400, field: 'body', detail: /^The body is not valid JSON: expected double-quoted property name at position 17/ },
    { name: 'not JSON at all', request: { method: 'POST', url: '/v1/chat', headers: json, payload: 'my secret words' }, status: 400, field: 'body', detail: /^The body is not valid JSON: unexpected token 'm'\.$/ },
    { name: 'a __proto__ key', request: { method: 'POST', url: '/v1/chat', headers: json, payload: '{"message": "hi", "__proto__": {"admin": true}}' }, status: 400, field: 'body', detail: /^The body has a "__proto__" key, or a "constructor" key holding "prototype", which is refused/ },
    { name: 'a constructor.prototype key', request: { method: 'POST', url: '/v1/chat', headers: json, payload: '{"message": "hi", "constructor": {"prototype": {"admin": true}}}' }, status: 400, field: 'body', detail: /^The body has a "__proto__" key, or a "constructor" key holding "prototype", which is refused/ },
    { name: 'empty JSON body', request: { method: 'POST', url: '/v1/chat', headers: json, payload: '' }, status: 400, field: 'body', detail: /empty/i },
    { name: 'wrong content type', request: { method: 'POST', url: '/v1/chat', headers: { 'content-type': 'text/plain' }, payload: 'hi' }, status: 415, field: 'headers/content-type', detail: /application\/json/ },
    { name: 'form content type', request: { method: 'POST', url: '/v1/chat', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'message=hi' }, status: 415, field: 'headers/content-type', detail: /application\/json/ },
    { name: 'body over 64 KiB', request: { method: 'POST', url: '/v1/chat', headers: json, payload: JSON.stringify({ message: 'x'.repeat(70_000) }) }, status: 413, field: 'body', detail: /65536 bytes/ },
    { name: 'missing message', request: { method: 'POST', url: '/v1/chat', payload: { user_id: 'u1' } }, status: 400, detail: /body\/message is required/ },
    { name: 'empty message', request: { method: 'POST', url: '/v1/chat', payload: { message: '' } }, status: 400, detail: /body\/message must not be empty/ },
    { name: 'over-long message', request: { method: 'POST', url: '/v1/chat', payload: { message: 'x'.repeat(4001) } }, status: 400, detail: /body\/message must NOT have more than 4000 characters/ },
    { name: 'over-long user_id', request: { method: 'POST', url: '/v1/chat', payload: { message: 'hi', user_id: 'u'.repeat(129) } }, status: 400, detail: /body\/user_id must NOT have more than 128 characters/ },
    { name: 'NUL in message', request: { method: 'POST', url: '/v1/chat', payload: { message: 'a\u0000b' } }, status: 400, detail: /body\/message must not be blank or contain NUL characters/ },
    { name: 'number for a string', request: { method: 'POST', url: '/v1/chat', payload: { message: 123 } }, status: 400, detail: /body\/message must be string/ },
    { name: 'array for a string', request: { method: 'POST', url: '/v1/chat', payload: { message: ['hi'] } }, status: 400, detail: /body\/message must be string/ },
    { name: 'misspelt field', request: { method: 'POST', url: '/v1/chat', payload: { mesage: 'hi' } }, status: 400, detail: /^body\/mesage is not an allowed field; body\/message is required$/ },
    { name: 'extra field', request: { method: 'POST', url: '/v1/chat', payload: { message: 'hi', admin: true } }, status: 400, detail: /body\/admin is not an allowed field/ },
    { name: 'bad session uuid', request: { method: 'POST', url: '/v1/chat', payload: { message: 'hi', session_id: 'abc' } }, status: 400, detail: /body\/session_id must be a UUID/ },
    { name: 'urn uuid form', request: { method: 'POST', url: '/v1/chat', payload: { message: 'hi', session_id: 'urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427' } }, status: 400, detail: /body\/session_id must be a UUID/ },
    { name: 'turn cursor over int4', request: { method: 'GET', url: '/v1/sessions/00000000-0000-4000-8000-000000000000/messages?before=99999999999' }, status: 400, detail: /querystring\/before must be <= 2147483647/ },
    { name: 'body not an object', request: { method: 'POST', url: '/v1/chat', headers: json, payload: '[1,2]' }, status: 400, detail: /body must be object/ },
    { name: 'bad uuid in path', request: { method: 'GET', url: '/v1/sessions/not-a-uuid' }, status: 400, detail: /params\/id must be a UUID/ },
    { name: 'query over its limit', request: { method: 'GET', url: '/v1/sessions/00000000-0000-4000-8000-000000000000/messages?limit=1000' }, status: 400, detail: /querystring\/limit must be <= 100/ },
    { name: 'unknown route', request: { method: 'GET', url: '/v1/nothing-here?x=1' }, status: 404, detail: /There is no route GET \/v1\/nothing-here/ },
    { name: 'white space only', request: { method: 'POST', url: '/v1/chat', payload: { message: ' \n\t ' } }, status: 400, detail: /^body\/message must not be blank/ },
    { name: 'wrong method', request: { method: 'PATCH', url: '/v1/chat', payload: {} }, status: 405, detail: /^\/v1\/chat does not take PATCH; it takes POST\.$/ },
    { name: 'wrong method on a path with a parameter', request: { method: 'PUT', url: '/v1/sessions/00000000-0000-4000-8000-000000000000' }, status: 405, detail: /it takes GET, DELETE, HEAD\.$/ }
  ]
  for (const c of cases) {
    const res = await app.inject(c.request)
    t.equal(res.statusCode, c.status, `${c.name}: status (${res.body})`)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${c.name}: problem+json`)
    const body = res.json()
    t.match(body, { type: /^urn:parley:problem:/, title: String, status: c.status, detail: c.detail, instance: c.request.url.split('?')[0], request_id: String }, c.name)
    t.equal(res.statusMessage, body.title, `${c.name}: the status line says what the title says`)
    if ([400, 413, 415].includes(c.status)) {
      t.match(body.errors?.[0], { field: c.field ?? body.detail.split(' ')[0], message: String }, `${c.name}: errors[] names the field`)
    }
    if (c.status === 405) t.equal(res.headers.allow, body.detail.replace(/^.*it takes (.*)\.$/, '$1'), `${c.name}: Allow names the methods`)
  }
  const { rows } = await app.db.query<{ n: number }>('SELECT (SELECT count(*) FROM sessions) + (SELECT count(*) FROM messages) AS n')
  t.equal(Number(rows[0]!.n), 0, 'nothing was written by any rejected request')
})

t.test('an API route without query parameters refuses one by name; the pages and probes do not', async t => {
  const app = await buildTestApp(t)
  const opened = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/help' } })).json<{ session_id: string }>()
  const deleted = await app.inject({ method: 'DELETE', url: `/v1/sessions/${opened.session_id}?dryrun=1` })
  t.match([deleted.statusCode, deleted.json()], [400, { detail: 'querystring/dryrun is not an allowed field' }])
  t.equal((await app.inject({ method: 'GET', url: `/v1/sessions/${opened.session_id}` })).statusCode, 200, 'and the session is still there')
  t.equal((await app.inject({ method: 'GET', url: `/v1/sessions/${opened.session_id}?full=1` })).statusCode, 400, 'nor read one')
  for (const url of ['/health?probe=1', '/chat?utm_source=mail']) t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url)
})

t.test('a 4xx request line names the problem, so a refused caller can be told why from the logs', async t => {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({ level: 'info', service: 'parley', version: 'test', env: 'test', destination: { write: (line: string) => { lines.push(JSON.parse(line)) } } })
  const app = await buildTestApp(t, { KB_SEED_DIR: '' }, { logger })
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'x'.repeat(4001) } })
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hi' } })
  const completed = lines.filter(line => line.msg === 'request completed')
  t.match(completed[0], { status: 400, problem: 'validation: body/message must NOT have more than 4000 characters' })
  t.match(completed[1], { status: 200 })
  t.notOk('problem' in completed[1]!, 'an answered request names no problem')
})

t.test('every request has an id of its own; a caller\'s X-Request-Id is logged beside it when it looks like an id', async t => {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({ level: 'info', service: 'parley', version: 'test', env: 'test', destination: { write: (line: string) => { lines.push(JSON.parse(line)) } } })
  const app = await buildTestApp(t, { KB_SEED_DIR: '' }, { logger })
  const first = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'abc-123' } })
  const second = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'abc-123' } })
  const odd = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'a b\u0000c' } })
  const ids = [first, second, odd].map(response => response.json().request_id as string)
  for (const id of ids) t.match(id, /^[0-9a-f-]{36}$/)
  t.equal(new Set(ids).size, 3, 'two requests sending one X-Request-Id do not share a request id')
  const completed = lines.filter(line => line.msg === 'request completed')
  t.match(completed[0], { req_id: ids[0], client_request_id: 'abc-123' })
  t.match(completed[1], { req_id: ids[1], client_request_id: 'abc-123' })
  t.notOk('client_request_id' in completed[2]!, 'an id that does not look like one is not logged')
})
