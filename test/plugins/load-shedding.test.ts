// Load shedding: past a limit the bot answers 503 with Retry-After at once, keeps its probes and
// /status answering, and serves normally again as soon as the pressure is gone.
import t from 'tap'
import { buildTestApp, createServerDatabase, waitFor } from '../helper.js'
import { startServer } from '../server-process.js'

const ADMIN = 'shedding-admin-key-0123456789'

t.test('a blocked event loop sheds chat with a 503 problem, never the probes or /status, and recovers', async t => {
  const app = await buildTestApp(t, { MAX_EVENT_LOOP_DELAY_MS: '100', API_KEYS: `${ADMIN}:admin` })
  await app.ready()
  const chat = () => app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })
  t.equal((await chat()).statusCode, 200)
  // The event loop stuck 200 ms at a time, as CPU-bound work would, until under-pressure's
  // once-a-second sample sees the delay.
  const hog = setInterval(() => { const until = Date.now() + 200; while (Date.now() < until); }, 1)
  t.teardown(() => clearInterval(hog))
  t.ok(await waitFor(() => app.memoryUsage().eventLoopDelay > 100, 5000, 50), `delay seen: ${Math.round(app.memoryUsage().eventLoopDelay)} ms`)
  const shed = await chat()
  clearInterval(hog)
  t.equal(shed.statusCode, 503)
  t.equal(shed.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.equal(shed.headers['retry-after'], '5')
  t.match(shed.json(), { type: 'urn:parley:problem:overloaded', status: 503, reason: 'event_loop_delay', detail: /MAX_EVENT_LOOP_DELAY_MS/ })
  t.equal((await app.inject('/health')).statusCode, 200, '/health answers')
  t.equal((await app.inject('/metrics')).statusCode, 200, '/metrics answers')
  t.equal((await app.inject({ url: '/status', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 200, '/status answers')
  t.match((await app.inject('/metrics')).body, /^chatbot_shed_requests_total\{reason="event_loop_delay"[^}]*\} [1-9]/m, 'counted by reason')

  t.ok(await waitFor(() => app.memoryUsage().eventLoopDelay < 100, 5000, 100), 'the delay passes')
  t.equal((await chat()).statusCode, 200, 'chat is served again')
})

// Over the network, as the backlog really forms: PGlite answers a turn without yielding, so its
// requests queue in the sockets and are shed by how long they waited (MAX_REQUEST_WAIT_MS);
// server PostgreSQL's turns overlap and are shed past MAX_TURNS_IN_FLIGHT.
for (const engine of ['pglite', 'postgres'] as const) {
  const serverUrl = process.env.TEST_DATABASE_URL ?? ''
  t.test(`the real server on ${engine} under far more concurrency than it serves: sheds, stays healthy, recovers`, { skip: engine === 'postgres' && serverUrl === '' && 'needs TEST_DATABASE_URL' }, async t => {
    let env: Record<string, string> = {}
    if (engine === 'postgres') {
      const database = await createServerDatabase(serverUrl)
      t.teardown(() => database.drop())
      env = { DATABASE_URL: database.url }
    }
    const server = await startServer(t, env)
    const chat = async (): Promise<{ status: number, reason?: string }> => {
      const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'how do I view traces?' }) })
      const body = await response.json() as { reason?: string }
      return { status: response.status, reason: body.reason }
    }
    t.equal((await chat()).status, 200, 'warm')

    const load = Promise.all(Array.from({ length: 300 }, chat))
    const health = await fetch(`${server.base}/health`)
    t.equal(health.status, 200, '/health answers in the middle of the load')
    const answers = await load
    const count = (status: number) => answers.filter(answer => answer.status === status).length
    t.ok(count(503) > 0, `${count(503)} of 300 shed`)
    t.ok(count(200) > 0, `${count(200)} of 300 answered`)
    t.equal(count(200) + count(503), 300, 'nothing but answers and 503s: no 500, no reset connection')
    const reasons = new Set(answers.filter(answer => answer.status === 503).map(answer => answer.reason))
    t.ok([...reasons].every(reason => reason === 'request_wait' || reason === 'turns_in_flight'), `shed for: ${[...reasons].join(', ')}`)

    const after: number[] = []
    for (let i = 0; i < 20; i++) after.push((await chat()).status)
    t.same(after, Array(20).fill(200), 'full service once the load stops')
    t.equal(await server.stop('SIGTERM'), 0)
  })
}
