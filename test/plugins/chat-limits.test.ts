// One client may not fill the service with sessions nor the database with turns: new sessions
// are limited per address (the client's, behind a trusted proxy), turns per session and per
// address, key holders are not; at MAX_ACTIVE_SESSIONS a long-idle session makes room, one in use
// does not.
import t from 'tap'
import { buildTestApp, manualClock } from '../helper.js'

const chat = (payload: Record<string, unknown>, extra: { remoteAddress?: string, headers?: Record<string, string> } = {}) =>
  ({ method: 'POST' as const, url: '/v1/chat', payload, ...extra })

t.test('an address opens NEW_SESSIONS_PER_MINUTE sessions a minute; continuing one is not counted; another address has its own', async t => {
  const app = await buildTestApp(t, { NEW_SESSIONS_PER_MINUTE: '3', KB_SEED_DIR: '' })
  const opened = []
  for (let i = 0; i < 3; i++) opened.push(await app.inject(chat({ message: '/help', user_id: `made-up-${i}` })))
  t.same(opened.map(response => response.statusCode), [200, 200, 200])
  const refused = await app.inject(chat({ message: '/help', user_id: 'made-up-3' }))
  t.equal(refused.statusCode, 429)
  t.match(refused.headers['content-type'], /^application\/problem\+json/)
  t.match(refused.json(), { limit: 'new_sessions_per_client', max: 3, detail: /NEW_SESSIONS_PER_MINUTE/ })
  t.ok(Number(refused.headers['retry-after']) >= 1 && Number(refused.headers['retry-after']) <= 60, `Retry-After ${refused.headers['retry-after']}`)
  t.equal((await app.inject(chat({ message: '/help', session_id: opened[0]!.json().session_id }))).statusCode, 200, 'a session goes on')
  t.equal((await app.inject(chat({ message: '/help' }, { remoteAddress: '10.0.0.2' }))).statusCode, 200, 'another address')
  t.equal((await app.inject(chat({ message: '/help' }, { headers: { 'x-forwarded-for': '203.0.113.7' } }))).statusCode, 429, 'X-Forwarded-For is not believed without TRUST_PROXY')
})

t.test('a session takes TURNS_PER_SESSION_PER_MINUTE turns a minute, an address TURNS_PER_CLIENT_PER_MINUTE over all its sessions', async t => {
  const clock = manualClock()
  const app = await buildTestApp(t, { TURNS_PER_SESSION_PER_MINUTE: '3', TURNS_PER_CLIENT_PER_MINUTE: '6', KB_SEED_DIR: '' }, { clock: clock.now })
  const first = (await app.inject(chat({ message: '/help' }))).json<{ session_id: string }>().session_id
  const turns = []
  for (let i = 0; i < 4; i++) turns.push(await app.inject(chat({ message: '/help', session_id: first })))
  t.same(turns.map(response => response.statusCode), [200, 200, 200, 429], 'the first turn opened it; three more, then 429')
  t.match(turns[3]!.json(), { limit: 'turns_per_session', max: 3, detail: /TURNS_PER_SESSION_PER_MINUTE/ })
  const { rows } = await app.db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE session_id = $1', [first])
  t.equal(rows[0]!.n, 8, 'nothing of the refused turn is stored')
  const second = (await app.inject(chat({ message: '/help' }))).json<{ session_id: string }>().session_id
  // The address has sent five turns that were taken: a sixth, then no more.
  t.equal((await app.inject(chat({ message: '/help', session_id: second }))).statusCode, 200, 'another session of the address has turns of its own')
  const overClient = await app.inject(chat({ message: '/help', session_id: second }))
  t.equal(overClient.statusCode, 429, 'until the address has sent six')
  t.match(overClient.json(), { limit: 'turns_per_client', max: 6, detail: /TURNS_PER_CLIENT_PER_MINUTE/ })
  t.equal((await app.inject(chat({ message: '/help' }, { remoteAddress: '10.0.0.3' }))).statusCode, 200, 'another address is not held back')
})

t.test('behind a proxy named in TRUST_PROXY, the client is the X-Forwarded-For address', async t => {
  const app = await buildTestApp(t, { NEW_SESSIONS_PER_MINUTE: '1', TRUST_PROXY: '127.0.0.1', KB_SEED_DIR: '' })
  const from = (client: string) => app.inject(chat({ message: '/help' }, { headers: { 'x-forwarded-for': client } }))
  t.equal((await from('203.0.113.7')).statusCode, 200)
  t.equal((await from('203.0.113.7')).statusCode, 429)
  t.equal((await from('198.51.100.9')).statusCode, 200, 'each client behind the proxy has its own allowance')
})

t.test('a caller with a valid key is not limited', async t => {
  const key = 'chat-backend-key-0123456789'
  const app = await buildTestApp(t, { NEW_SESSIONS_PER_MINUTE: '1', TURNS_PER_SESSION_PER_MINUTE: '1', TURNS_PER_CLIENT_PER_MINUTE: '1', CHAT_REQUIRE_KEY: 'true', API_KEYS: `${key}:analyst`, KB_SEED_DIR: '' })
  const headers = { authorization: `Bearer ${key}` }
  const statuses = []
  for (let i = 0; i < 3; i++) statuses.push((await app.inject(chat({ message: '/help' }, { headers }))).statusCode)
  const session = (await app.inject(chat({ message: '/help' }, { headers }))).json<{ session_id: string }>().session_id
  for (let i = 0; i < 3; i++) statuses.push((await app.inject(chat({ message: '/help', session_id: session }, { headers }))).statusCode)
  t.same(statuses, [200, 200, 200, 200, 200, 200])
})

t.test('at MAX_ACTIVE_SESSIONS a session idle for a minute makes room (audited); sessions in use do not', async t => {
  const clock = manualClock()
  const app = await buildTestApp(t, { MAX_ACTIVE_SESSIONS: '2', KB_SEED_DIR: '' }, { clock: clock.now })
  const first = (await app.inject(chat({ message: '/help', user_id: 'a' }))).json().session_id
  clock.advance(30_000)
  await app.inject(chat({ message: '/help', user_id: 'b' }))
  const refused = await app.inject(chat({ message: '/help', user_id: 'c' }))
  t.equal(refused.statusCode, 429, 'both sessions were used within the minute')
  t.equal(refused.headers['retry-after'], '30', 'the first becomes replaceable 30 s from now')
  t.match(refused.json(), { limit: 'active_sessions', detail: /all in use/ })
  clock.advance(30_000)
  const third = await app.inject(chat({ message: '/help', user_id: 'c' }))
  t.equal(third.statusCode, 200)
  t.match(await app.sessionManager.get(first), { status: 'replaced' })
  const { rows } = await app.db.query('SELECT actor, target, details FROM audit_events WHERE action = $1', ['session.replace'])
  t.same(rows, [{ actor: 'parley', target: first, details: { replaced_by: third.json().session_id, limit: 'MAX_ACTIVE_SESSIONS', max: 2 } }])
})
