// Load shedding: every turn that can be answered within the goal is answered; past a limit the bot
// answers 503 with Retry-After at once, keeps its probes and /status answering, and serves
// normally again as soon as the pressure is gone, a database outage included.
import { Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import type { Test } from 'tap'
import { buildTestApp, createServerDatabase, engines, migratedDataDir, testConfig, waitFor } from '../helper.js'
import { startScriptedModel } from '../../bench/scripted-model.js'
import { buildApp } from '../../src/app.js'
import { openPGliteDatabase } from '../../src/db/pglite-database.js'
import { createLogger } from '../../src/logging/logger.js'
import { MAX_TURNS_A_WRITE } from '../../src/sessions/turn-writes.js'
import { startServer } from '../server-process.js'
import { behindProxy } from '../tcp-proxy.js'

const ADMIN = 'shedding-admin-key-0123456789'

t.test('a blocked event loop sheds chat with a 503 problem and makes /ready say so, never refuses the probes or /status, and recovers', async t => {
  const app = await buildTestApp(t, { MAX_EVENT_LOOP_DELAY_MS: '100', API_KEYS: `${ADMIN}:admin` })
  await app.ready()
  const chat = () => app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })
  t.equal((await chat()).statusCode, 200)
  // The event loop stuck 200 ms at a time, as CPU-bound work would, until under-pressure's
  // once-a-second sample sees the delay.
  const hog = setInterval(() => { const until = Date.now() + 200; while (Date.now() < until); }, 1)
  t.teardown(() => clearInterval(hog))
  t.ok(await waitFor(() => app.overload() === 'event_loop_delay', 5000, 50), 'the delay is seen')
  const shed = await chat()
  const ready = await app.inject('/ready')
  clearInterval(hog)
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(shed.headers['retry-after'], '5')
  t.match(shed.json(), { type: 'urn:parley:problem:overloaded', status: 503, reason: 'event_loop_delay', detail: /MAX_EVENT_LOOP_DELAY_MS/ })
  t.equal(ready.statusCode, 503, '/ready says not ready while requests are refused: ready means able to serve')
  t.match(ready.json(), { status: 'not_ready', checks: { load: { ok: false, detail: /refusing requests \(event_loop_delay/ }, database: { ok: true } } })
  t.equal((await app.inject('/health')).statusCode, 200, '/health answers')
  t.equal((await app.inject('/metrics')).statusCode, 200, '/metrics answers')
  t.equal((await app.inject({ url: '/status', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 200, '/status answers')
  t.match((await app.inject('/metrics')).body, /^chatbot_shed_requests_total\{reason="event_loop_delay"[^}]*\} [1-9]/m, 'counted by reason')

  t.ok(await waitFor(() => app.overload() === undefined, 5000, 100), 'the delay passes')
  t.equal((await chat()).statusCode, 200, 'chat is served again')
  t.match((await app.inject('/ready')).json(), { status: 'ready', checks: { load: { ok: true, detail: 'serving' } } }, 'and /ready says ready again')
})

t.test('the start-up\'s own work is not load: right after ready, requests are served and /ready says so truthfully', async t => {
  const app = await buildTestApp(t, { MAX_EVENT_LOOP_DELAY_MS: '100' })
  // The app built but not ready: what a start does before it listens (a large index loaded, every
  // route's schemas compiled) holds the event loop, long after the delay's measure began.
  const until = Date.now() + 1500
  while (Date.now() < until);
  await new Promise(resolve => setTimeout(resolve, 50))
  await app.ready()
  const turns = await Promise.all(Array.from({ length: 6 }, async () => await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })))
  t.same(turns.map(turn => turn.statusCode), [200, 200, 200, 200, 200, 200], 'the first turns after a start are answered, not refused as overloaded')
  t.equal((await app.inject('/ready')).statusCode, 200)
  t.equal(app.turnAdmission.shed.count(60_000), 0, 'nothing was shed')
})

type App = Awaited<ReturnType<typeof buildTestApp>>

/**
 * Puts the admission where a turn arriving now would be refused: its service rate learnt (past the
 * warm-up's 50 turns, 20 more), one turn held in flight and as long a line behind it as the goal
 * lets in. Resolves to what drains the line again, and the line's length.
 */
async function fillTheLine (t: Test, app: App): Promise<{ drain: () => Promise<void>, length: number }> {
  const sleep = async (ms: number): Promise<void> => await new Promise(resolve => setTimeout(resolve, ms))
  await Promise.all(Array.from({ length: 75 }, async () => await app.turnAdmission.run(async () => { await sleep(5) })))
  let release = (): void => {}
  const held = new Promise<void>(resolve => { release = resolve })
  const running = app.turnAdmission.run(async () => { await held })
  // Each turn in line adds the time between two completions (5 ms or more) to the prediction.
  const line: Array<Promise<void>> = []
  while ((app.turnAdmission.predictedMs() ?? 0) <= app.config.TURN_LATENCY_GOAL_MS) line.push(app.turnAdmission.run(async () => {}))
  const drain = async (): Promise<void> => { release(); await Promise.all([running, ...line]) }
  t.teardown(drain)
  return { drain, length: line.length }
}

interface Exchange { status: number, body: string, retryAfter?: string, reusedSocket: boolean, connection?: string, headers: IncomingHttpHeaders }

/** One request over `agent` (one kept-alive connection), saying whether it went over a connection used before. */
async function exchange (agent: Agent, port: number, method: string, path: string, body?: string, given: Record<string, string> = {}): Promise<Exchange> {
  return await new Promise((resolve, reject) => {
    const headers = body === undefined ? given : { ...given, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }
    const request = httpRequest({ host: '127.0.0.1', port, method, path, agent, headers }, response => {
      let text = ''
      response.setEncoding('utf8').on('data', chunk => { text += chunk }).once('end', () => {
        resolve({ status: response.statusCode ?? 0, body: text, retryAfter: response.headers['retry-after'], reusedSocket: request.reusedSocket, connection: response.headers.connection, headers: response.headers })
      })
    })
    request.once('error', reject)
    request.end(body)
  })
}

t.test('a turn the admission would refuse is refused before its body is read: the same 503 problem, counted by reason, and the kept-alive connection serves the next request', async t => {
  const app = await buildTestApp(t, { MAX_TURNS_IN_FLIGHT: '1', TURN_LATENCY_GOAL_MS: '5000', API_KEYS: `${ADMIN}:admin` })
  const port = new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port
  let connections = 0
  app.server.on('connection', () => { connections++ })
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const shedCount = async (): Promise<number> =>
    Number(/^chatbot_shed_requests_total\{reason="latency_goal"[^}]*\} (\d+)/m.exec((await app.inject('/metrics')).body)?.[1] ?? 0)
  const counted = await shedCount()
  t.equal((await exchange(agent, Number(port), 'POST', '/v1/chat', JSON.stringify({ message: 'how do I view traces?' }))).status, 200, 'answered while there is room')
  const { drain, length } = await fillTheLine(t, app)

  // A body that parsing would refuse with 400, as large as the route takes: refused unread, with 503.
  const unread = await exchange(agent, Number(port), 'POST', '/v1/chat', `{"message": "${'x'.repeat(60_000)}", "not json`)
  t.equal(unread.status, 503, 'refused before the body is parsed (a parsed one would be a 400)')
  t.equal(unread.retryAfter, '5')
  t.match(JSON.parse(unread.body), { type: 'urn:parley:problem:overloaded', status: 503, reason: 'latency_goal', retry_after_seconds: 5, detail: /TURN_LATENCY_GOAL_MS/ })
  t.ok(unread.reusedSocket, 'over the connection of the first turn')
  const health = await exchange(agent, Number(port), 'GET', '/health')
  t.same([health.status, health.reusedSocket], [200, true], 'the next request on that connection is read and answered: the unread body was skipped')
  const valid = await exchange(agent, Number(port), 'POST', '/v1/chat', JSON.stringify({ message: 'how do I view traces?' }))
  t.same([valid.status, valid.reusedSocket], [503, true], 'a valid turn is refused too, on the same connection')
  t.equal(app.turnAdmission.queued(), length, 'neither took a place in line')

  t.equal(await shedCount() - counted, 2, 'chatbot_shed_requests_total{reason="latency_goal"} counts both')
  const report = (await app.inject({ url: '/status', headers: { authorization: `Bearer ${ADMIN}` } })).json()
  t.match(report.turns, { shed_last_5m: 2, shed_last_5m_by_reason: { latency_goal: 2, database: 0, event_loop_delay: 0 } }, '/status says how many were refused, and why')

  await drain()
  const after = await exchange(agent, Number(port), 'POST', '/v1/chat', JSON.stringify({ message: 'how do I view traces?' }))
  t.same([after.status, after.reusedSocket], [200, true], 'the line drained, the same connection is answered again')
  t.equal(connections, 1, 'one connection throughout')
})

t.test('a turn refused at the door, before Fastify, gets what one refused through Fastify gets: its headers, body, log line and counts', async t => {
  const lines: Array<Record<string, unknown>> = []
  const logger = createLogger({ level: 'info', service: 'parley', version: '9.9.9', env: 'test', destination: { write: (line: string) => { lines.push(JSON.parse(line)) } } })
  const app = await buildTestApp(t, { MAX_TURNS_IN_FLIGHT: '1', TURN_LATENCY_GOAL_MS: '5000', API_KEYS: `${ADMIN}:admin` }, { logger })
  const port = Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  t.teardown(() => agent.destroy())
  const refusedCount = async (): Promise<number> =>
    Number(/^chatbot_requests_total\{endpoint="\/v1\/chat",status="503"[^}]*\} (\d+)/m.exec((await app.inject('/metrics')).body)?.[1] ?? 0)
  await fillTheLine(t, app)
  const counted = await refusedCount()
  const atDoor: string[] = []
  app.refusalDoor.onRefused(refusal => { atDoor.push(refusal.requestId) })

  // Over the network, the door answers; app.inject calls Fastify's handler, whose hook refuses.
  const payload = JSON.stringify({ message: 'how do I view traces?' })
  const atTheDoor = await exchange(agent, port, 'POST', '/v1/chat', payload, { 'x-request-id': 'door-1' })
  const throughFastify = await app.inject({ method: 'POST', url: '/v1/chat', payload, headers: { 'content-type': 'application/json' } })
  t.equal(atTheDoor.status, 503)
  t.equal(throughFastify.statusCode, 503)
  const { request_id: doorId, ...doorRest } = JSON.parse(atTheDoor.body)
  t.same(atDoor, [doorId], 'the door answered the one over the network, Fastify the injected one')
  const { request_id: fastifyId, ...fastifyRest } = throughFastify.json()
  t.same(doorRest, fastifyRest, 'the same problem')
  t.not(doorId, fastifyId)
  const own = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding'])
  const headers = (all: Record<string, unknown>) => Object.fromEntries(Object.entries(all).filter(([name]) => !own.has(name)))
  t.same(headers(atTheDoor.headers), headers(throughFastify.headers), 'the same headers: security headers, cache-control, Retry-After, problem+json')

  const line = lines.find(line => line.msg === 'request completed' && line.req_id === doorId)
  t.match(line, { module: 'http', method: 'POST', route: '/v1/chat', status: 503, duration_ms: Number, res_bytes: Buffer.byteLength(atTheDoor.body), client_request_id: 'door-1' }, 'its request completed line, by its request id')
  t.equal(await refusedCount() - counted, 2, 'both counted in chatbot_requests_total{status="503"}')
  t.match((await app.inject({ url: '/status', headers: { authorization: `Bearer ${ADMIN}` } })).json().turns, { shed_last_5m_by_reason: { latency_goal: 2 } }, 'and as refusals')
})

// Over the network: the turns in flight come over the connections of eight listening sockets, from a
// client that keeps its connections open (node:http's keep-alive agent never lets one go). The
// server's own socket takes about one connection in eight: the turns end one after the other, so
// that the last ones are, but for one chance in eight, on the connections of the other sockets.
t.test('closing answers every turn in flight, on whichever socket it came, before the database closes, and ends their connections', async t => {
  const model = await startScriptedModel(t)
  const turns = 12
  // Every turn is with the model when the app starts closing.
  model.script(...Array.from({ length: turns }, (_, i) =>
    ({ kind: 'answer', text: 'Open Jaeger and search by the trace id [1].', firstChunkDelayMs: 200 + 40 * i }) as const))
  const dataDir = await migratedDataDir(t)
  const app = await buildApp({ config: testConfig({ DATA_DIR: dataDir, LISTEN_SOCKETS: '8', LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model' }) })
  await app.listenOnSockets({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  const agent = new Agent({ keepAlive: true })
  t.teardown(() => agent.destroy())
  const answers = Array.from({ length: turns }, async () =>
    await exchange(agent, port, 'POST', '/v1/chat', JSON.stringify({ message: 'how do I view traces?' })))
  t.ok(await waitFor(() => model.requests.length === turns), 'every turn is with the model')
  await app.close()
  const exchanges = await Promise.all(answers)
  t.same(exchanges.map(e => e.status), exchanges.map(() => 200), 'every turn in flight is answered')
  t.same(exchanges.map(e => e.connection), exchanges.map(() => 'close'), 'each answer closes its connection, so the close is not held')
  const db = await openPGliteDatabase(dataDir)
  t.teardown(() => db.close())
  const { rows } = await db.query<{ count: number }>("SELECT count(*)::int AS count FROM messages WHERE role = 'bot'")
  t.equal(rows[0]!.count, turns, 'and each is kept')
})

t.test('closing keeps the turns whose clients have gone: those in line too are stored before the database closes', async t => {
  const dataDir = await migratedDataDir(t)
  const app = await buildApp({ config: testConfig({ DATA_DIR: dataDir, MAX_TURNS_IN_FLIGHT: '1', TURN_LATENCY_GOAL_MS: '60000' }) })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  // The one place is taken, so every turn sent waits in line.
  let release = (): void => {}
  const holder = app.turnAdmission.run(async () => { await new Promise<void>(resolve => { release = resolve }) })
  const turns = 8
  const gone = Array.from({ length: turns }, () => {
    const body = JSON.stringify({ message: 'how do I view traces?' })
    const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/v1/chat', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } })
    request.once('error', () => {})
    request.end(body)
    return request
  })
  t.ok(await waitFor(() => app.turnAdmission.queued() === turns), 'every turn waits in line')
  for (const request of gone) request.destroy()
  const connections = async (): Promise<number> => await new Promise((resolve, reject) => app.server.getConnections((error, count) => error === null ? resolve(count) : reject(error)))
  t.ok(await waitFor(async () => await connections() === 0), 'and every client has gone')
  const closed = app.close()
  setTimeout(release, 50)
  await Promise.all([closed, holder])
  const db = await openPGliteDatabase(dataDir)
  t.teardown(() => db.close())
  const { rows } = await db.query<{ count: number }>("SELECT count(*)::int AS count FROM messages WHERE role = 'bot'")
  t.equal(rows[0]!.count, turns, 'each turn is stored, as when the server stays up')
})

interface Answer { status: number, reason?: string, retryAfter: string | null, sessionId?: string }

async function chatOver (base: string, body: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const json = await response.json() as { reason?: string, session_id?: string }
  return { status: response.status, reason: json.reason, retryAfter: response.headers.get('retry-after'), sessionId: json.session_id }
}

const tally = (answers: Answer[]): Record<number, number> => {
  const counts: Record<number, number> = {}
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1
  return counts
}

for (const engine of engines()) {
  t.test(`turns in flight on ${engine.name}: by default one at a time on PGlite, as many as a write holds on PostgreSQL`, async t => {
    // On PostgreSQL the turns in flight share their statements, so the pool's size does not bound them.
    const database = await engine.open(t)
    const app = await buildTestApp(t, { DATABASE_POOL_SIZE: '3' }, { database })
    t.equal(app.turnAdmission.limit, engine.name === 'pglite' ? 1 : MAX_TURNS_A_WRITE)
    const chosen = await buildTestApp(t, { MAX_TURNS_IN_FLIGHT: '7' }, { database })
    t.equal(chosen.turnAdmission.limit, 7, 'MAX_TURNS_IN_FLIGHT, when set')
  })
}

// Over the network, as users load it: the line forms in the server, not in app.inject.
const serverUrl = process.env.TEST_DATABASE_URL ?? ''
for (const engine of ['pglite', 'postgres'] as const) {
  const skip = engine === 'postgres' && serverUrl === '' && 'needs TEST_DATABASE_URL'
  const serverEnv = async (t: Test): Promise<Record<string, string>> => {
    if (engine === 'pglite') return {}
    const database = await createServerDatabase(serverUrl)
    t.teardown(() => database.drop())
    return { DATABASE_URL: database.url }
  }

  t.test(`the real server on ${engine}, with its defaults: 50 clients chatting at once, each in its own session, are all answered`, { skip }, async t => {
    // The default limit on new sessions per address (50 from this one, within its 60 a minute) too.
    const server = await startServer(t, { ...await serverEnv(t), NEW_SESSIONS_PER_MINUTE: '60' })
    const client = async (): Promise<Answer[]> => {
      const answers: Answer[] = []
      let sessionId: string | undefined
      for (const message of ['how do I view traces?', '/help', 'how long does an idle session last?', '/history 2', 'what is the capital of Mongolia?', 'how do I add an admin API key?']) {
        const answer = await chatOver(server.base, sessionId === undefined ? { message } : { message, session_id: sessionId })
        sessionId ??= answer.sessionId
        answers.push(answer)
      }
      return answers
    }
    const answers = (await Promise.all(Array.from({ length: 50 }, client))).flat()
    const refusals = answers.filter(answer => answer.status !== 200).map(answer => `${answer.status} ${answer.reason}`)
    t.same(tally(answers), { 200: 300 }, `every turn of every client answered: a closed loop is never overload (${refusals.slice(0, 5).join(', ')})`)
    t.equal(await server.stop('SIGTERM'), 0)
  })

  t.test(`the real server on ${engine}, given more at once than it can answer within the goal: answers and quick 503s only, then full service`, { skip }, async t => {
    const server = await startServer(t, { ...await serverEnv(t), TURN_LATENCY_GOAL_MS: '50' })
    t.equal((await chatOver(server.base, { message: 'how do I view traces?' })).status, 200, 'warm')
    const load = Promise.all(Array.from({ length: 300 }, async () => await chatOver(server.base, { message: 'how do I view traces?' })))
    t.equal((await fetch(`${server.base}/health`)).status, 200, '/health answers in the middle of the load')
    const answers = await load
    const counts = tally(answers)
    t.ok((counts[503] ?? 0) > 0, `${counts[503]} of 300 refused`)
    t.ok((counts[200] ?? 0) > 0, `${counts[200]} of 300 answered`)
    t.equal((counts[200] ?? 0) + (counts[503] ?? 0), 300, 'nothing but answers and 503s: no 500, no reset connection')
    const refused = answers.filter(answer => answer.status === 503)
    t.same(new Set(refused.map(answer => answer.reason)), new Set(['latency_goal']), 'refused for the latency goal')
    t.ok(refused.every(answer => answer.retryAfter === '5'), 'each with Retry-After')

    const after: number[] = []
    for (let i = 0; i < 20; i++) after.push((await chatOver(server.base, { message: 'how do I view traces?' })).status)
    t.same(after, Array(20).fill(200), 'full service once the load stops')
    t.equal(await server.stop('SIGTERM'), 0)
  })
}

t.test('the database cut under load: only answers and 503s with Retry-After, never a 500; operators keep their routes; chat is served as soon as /ready says ready', { skip: serverUrl === '' && 'needs TEST_DATABASE_URL' }, async t => {
  const database = await createServerDatabase(serverUrl)
  t.teardown(() => database.drop())
  const { proxy, url } = await behindProxy(t, database.url)
  const server = await startServer(t, { DATABASE_URL: url, API_KEYS: `${ADMIN}:admin` })
  const get = async (path: string): Promise<number> => (await fetch(`${server.base}${path}`, { headers: { authorization: `Bearer ${ADMIN}` } })).status

  const answers: Answer[] = []
  let loading = true
  const client = async (): Promise<void> => {
    let sessionId: string | undefined
    // eslint-disable-next-line no-unmodified-loop-condition -- set by the test once the outage is over
    while (loading) {
      const answer = await chatOver(server.base, sessionId === undefined ? { message: 'how do I view traces?' } : { message: 'how do I view traces?', session_id: sessionId })
      if (answer.status === 200) sessionId = answer.sessionId
      answers.push(answer)
      if (answer.status === 503) await new Promise(resolve => setTimeout(resolve, 20))
    }
  }
  const load = Promise.all(Array.from({ length: 16 }, client))
  t.ok(await waitFor(() => answers.filter(answer => answer.status === 200).length >= 32), 'the load is answered')
  await proxy.cut()
  t.ok(await waitFor(async () => await get('/ready') === 503), '/ready: not ready')
  t.ok(await waitFor(() => answers.some(answer => answer.status === 503)), 'turns are refused')
  for (const path of ['/health', '/status', '/metrics', '/v1/admin/alerts']) t.equal(await get(path), 200, `${path} answers during the outage`)

  await proxy.restore()
  t.ok(await waitFor(async () => await get('/ready') === 200, 10_000, 10), '/ready says ready again')
  const first = await chatOver(server.base, { message: 'how do I view traces?' })
  t.equal(first.status, 200, 'and the very next turn is answered')
  loading = false
  await load

  const counts = tally(answers)
  t.ok((counts[503] ?? 0) > 0 && (counts[200] ?? 0) > 0, `under load through the cut: ${JSON.stringify(counts)}`)
  t.equal((counts[200] ?? 0) + (counts[503] ?? 0), answers.length, 'nothing but answers and 503s: no 500')
  const refused = answers.filter(answer => answer.status === 503)
  t.ok(refused.every(answer => answer.reason === 'database' && answer.retryAfter === '5'), 'every 503 says why, with Retry-After')
  t.equal(await server.stop('SIGTERM'), 0)
})
