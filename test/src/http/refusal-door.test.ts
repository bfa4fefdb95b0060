// The refusal door: a request a guard refuses is answered from the server's request event with its
// problem, the door's headers and a fresh request id, and told to the listeners; any other request
// reaches the server's own listener, untouched.
import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { RefusalDoor, type DoorRefusal } from '../../../src/http/refusal-door.js'
import type { Problem } from '../../../src/http/problem.js'

const BUSY: Problem = {
  status: 503,
  slug: 'overloaded',
  detail: 'Too many turns.',
  extensions: { reason: 'latency_goal' },
  retryAfterSeconds: 5
}

interface Answer { status: number, headers: IncomingHttpHeaders, body: string }

async function send (port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, response => {
      let body = ''
      response.setEncoding('utf8').on('data', chunk => { body += chunk }).once('end', () => {
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body })
      })
    })
    req.once('error', reject)
    req.end(method === 'POST' ? '{"message":"hi"}' : undefined)
  })
}

/** A server whose own listener answers 200 "served", behind a door built with `trustProxy`. */
async function serverBehindDoor (t: Test, trustProxy = '') {
  let served = 0
  const server = createServer((_request, response) => { served++; response.end('served') })
  const door = new RefusalDoor({ trustProxy })
  const remove = door.install(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => await new Promise(resolve => server.close(resolve)))
  const refusals: DoorRefusal[] = []
  door.onRefused(refusal => { refusals.push(refusal) })
  return { door, port: (server.address() as AddressInfo).port, refusals, served: () => served, remove }
}

t.test('a guarded request is refused with its problem while the guard says so, and told to the listeners', async t => {
  const { door, port, refusals, served } = await serverBehindDoor(t)
  let busy = true
  door.guard('POST', '/v1/chat', () => busy ? BUSY : undefined)
  door.addHeaders({ 'x-content-type-options': 'nosniff' })
  door.addHeaders({ 'cache-control': 'no-store' })

  const refused = await send(port, 'POST', '/v1/chat', { 'x-request-id': 'mine-1' })
  t.equal(refused.status, 503)
  t.match(refused.headers, {
    'content-type': 'application/problem+json; charset=utf-8',
    'retry-after': '5',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(refused.body))
  }, 'its own headers and every header the door was given')
  const body = JSON.parse(refused.body)
  t.match(body, {
    type: 'urn:parley:problem:overloaded',
    title: 'Service Unavailable',
    status: 503,
    detail: 'Too many turns.',
    instance: '/v1/chat',
    request_id: /^[0-9a-f-]{36}$/,
    reason: 'latency_goal'
  })
  t.equal(served(), 0, 'the server\'s own listener never saw it')
  t.equal(refusals.length, 1)
  t.match(refusals[0], {
    method: 'POST',
    route: '/v1/chat',
    status: 503,
    durationMs: Number,
    resBytes: Buffer.byteLength(refused.body),
    requestId: body.request_id,
    headers: { 'x-request-id': 'mine-1' },
    scheme: 'http'
  })

  t.equal((await send(port, 'GET', '/v1/chat')).body, 'served', 'another method of the url is not guarded')
  t.equal((await send(port, 'POST', '/v1/chat?x=1')).body, 'served', 'nor another url')
  busy = false
  t.equal((await send(port, 'POST', '/v1/chat')).body, 'served', 'nor a request the guard lets in')
  t.equal(served(), 3)
  t.equal(refusals.length, 1, 'only the refusal was told')
  busy = true
  const again = JSON.parse((await send(port, 'POST', '/v1/chat')).body)
  t.not(again.request_id, body.request_id, 'each refusal has a request id of its own')
})

t.test('the scheme is the socket\'s, or what a trusted proxy forwarded, as Fastify reads it', async t => {
  const untrusted = await serverBehindDoor(t)
  untrusted.door.guard('POST', '/v1/chat', () => BUSY)
  await send(untrusted.port, 'POST', '/v1/chat', { 'x-forwarded-proto': 'https' })
  t.equal(untrusted.refusals[0]?.scheme, 'http', 'a forwarded scheme from a client no one trusts is ignored')

  const proxied = await serverBehindDoor(t, '10.0.0.1, 127.0.0.1')
  proxied.door.guard('POST', '/v1/chat', () => BUSY)
  await send(proxied.port, 'POST', '/v1/chat', { 'x-forwarded-proto': 'http, https' })
  t.equal(proxied.refusals[0]?.scheme, 'https', 'the last proxy\'s word, from a trusted address')
})

t.test('taken away, the door leaves the server as it was', async t => {
  const { door, port, served, remove } = await serverBehindDoor(t)
  door.guard('POST', '/v1/chat', () => BUSY)
  t.equal((await send(port, 'POST', '/v1/chat')).status, 503)
  remove()
  t.equal((await send(port, 'POST', '/v1/chat')).body, 'served')
  t.equal(served(), 1)
})
