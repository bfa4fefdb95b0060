import t from 'tap'
import { buildTestApp } from '../../helper.js'
import { SHED_REASONS } from '../../../src/telemetry/metrics.js'

t.test('GET /health answers 200 while the process can serve, with no key', async t => {
  const app = await buildTestApp(t, { API_KEYS: 'admin-key-0123456789:admin', CHAT_REQUIRE_KEY: 'true' })
  const response = await app.inject({ method: 'GET', url: '/health' })
  t.equal(response.statusCode, 200)
  t.same(response.json(), { status: 'ok' })
})

const ADMIN = 'admin-key-0123456789'
const ANALYST = 'analyst-key-0123456789'

t.test('GET /ready: 200 with every check passed; 503 naming what is missing', async t => {
  const app = await buildTestApp(t)
  const ready = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(ready.statusCode, 200)
  t.match(ready.json(), {
    status: 'ready',
    checks: { database: { ok: true }, migrations: { ok: true, detail: /^all \d+ applied$/ }, search_index: { ok: true, detail: /passages, loaded/ }, shutdown: { ok: true } }
  })
  await app.db.query('DELETE FROM schema_migrations WHERE version = 1')
  const behind = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(behind.statusCode, 503)
  t.equal(behind.headers['retry-after'], '5')
  t.match(behind.json(), { status: 'not_ready', checks: { migrations: { ok: false, detail: 'not applied: 1' }, database: { ok: true } } })
})

// Over the network: inject is refused once closing starts, and this is about what callers on open
// connections are told. The hook runs after the app's own preClose hooks, before the server closes.
t.test('GET /ready is 503 once the app starts closing, naming the shutdown, so load balancers stop sending', async t => {
  const app = await buildTestApp(t)
  let ready: Response | undefined
  let chat: Response | undefined
  app.addHook('preClose', async () => {
    ready = await fetch(`${base}/ready`)
    chat = await fetch(`${base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'hi' }) })
  })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  await app.close()
  t.equal(ready?.status, 503)
  t.match(await ready?.json(), { status: 'not_ready', checks: { shutdown: { ok: false, detail: 'shutting down' } } }, 'the route\'s own check answers')
  t.equal(ready?.headers.get('connection'), 'close')
  t.equal(chat?.status, 503, 'other requests are refused')
  t.match(await chat?.json(), { type: 'urn:parley:problem:shutting-down', reason: 'shutting_down', retry_after_seconds: 5 }, 'with a problem of ours')
})

t.test('GET /status: the health report, for the admin and analyst roles only', async t => {
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst`, MAX_ACTIVE_SESSIONS: '500', MAX_TURNS_IN_FLIGHT: '7' })
  t.equal((await app.inject({ method: 'GET', url: '/status' })).statusCode, 401)
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })
  await app.alerts.evaluate()
  const response = await app.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${ANALYST}` } })
  t.equal(response.statusCode, 200)
  const status = response.json()
  t.match(status, {
    version: /^\d+\.\d+\.\d+/,
    uptime_seconds: Number,
    database: { engine: 'pglite', reachable: true, connection_errors: 0, slowest_recent_statement: { statement: /^(SELECT|INSERT|UPDATE|WITH|BEGIN|DELETE)/i, duration_ms: Number } },
    sessions: { active: 1, cap: 500 },
    turns: { in_flight: 0, limit: 7, shed_last_5m: 0, shed_last_5m_by_reason: { latency_goal: 0, database: 0 } },
    memory: { rss_bytes: Number, heap_used_bytes: Number, limit_bytes: Number },
    cpu: { cores_used: Number },
    event_loop: { delay_p99_ms: Number, utilization: Number },
    telemetry: { enabled: false },
    alerts_firing: Array
  })
  t.same(Object.keys(status.turns.shed_last_5m_by_reason).sort(), [...SHED_REASONS].sort(), 'every reason named, none refused')
  t.ok(status.memory.rss_bytes < status.memory.limit_bytes, 'RSS against the memory limit')
  t.equal(status.database.pool, undefined, 'PGlite has no pool')
  t.same(status.log_destinations, {}, 'no log files in this app (the real server\'s are tested in test/src/server-logs.test.ts)')
  t.equal((await app.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 200)
})
