import t from 'tap'
import { buildTestApp, engines, manualClock } from '../../helper.js'

for (const engine of engines()) {
  t.test(`session routes on ${engine.name}`, async t => {
    const clock = manualClock()
    const db = await engine.open(t)
    const admin = { authorization: 'Bearer admin-key-0123456789' }
    const app = await buildTestApp(t, { SESSION_IDLE_TIMEOUT: '60', API_KEYS: 'admin-key-0123456789:admin' }, { database: db, clock: clock.now })
    const first = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do sessions expire?', user_id: 'u1' } })).json()
    const id = first.session_id as string
    for (let i = 2; i <= 5; i++) {
      clock.advance(5_000)
      await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: `question ${i}`, session_id: id } })
    }

    await t.test('GET /v1/sessions/:id reports its state', async t => {
      const res = await app.inject({ method: 'GET', url: `/v1/sessions/${id}` })
      t.equal(res.statusCode, 200)
      t.same(res.json(), {
        session_id: id,
        user_id: 'u1',
        status: 'active',
        turns: 5,
        created_at: '2026-01-15T10:00:00.000Z',
        last_activity_at: '2026-01-15T10:00:20.000Z',
        expires_at: '2026-01-15T10:01:20.000Z',
        ended_at: null
      })
    })

    await t.test('messages page backwards from the latest turn, oldest first', async t => {
      const page1 = (await app.inject({ method: 'GET', url: `/v1/sessions/${id}/messages?limit=2` })).json()
      t.same(page1.messages.map((m: { turn: number, role: string }) => `${m.turn}${m.role}`), ['4user', '4bot', '5user', '5bot'])
      t.equal(page1.next_before, 4)
      const page2 = (await app.inject({ method: 'GET', url: `/v1/sessions/${id}/messages?limit=3&before=4` })).json()
      t.same(page2.messages.map((m: { turn: number }) => m.turn), [1, 1, 2, 2, 3, 3])
      t.equal(page2.next_before, null, 'turn 1 reached: no further page')
      t.match(page2.messages[1], { role: 'bot', kind: 'answer', sources: [{ doc_id: 'sessions' }] })
      const misspelt = await app.inject({ method: 'GET', url: `/v1/sessions/${id}/messages?limt=2` })
      t.match([misspelt.statusCode, misspelt.json()], [400, { detail: 'querystring/limt is not an allowed field' }], 'a misspelt parameter is named, not ignored')
    })

    await t.test('an expired session says it expired; its messages are shown to an admin key only, audited', async t => {
      clock.advance(81_000)
      const res = (await app.inject({ method: 'GET', url: `/v1/sessions/${id}` })).json()
      t.match(res, { status: 'expired', expires_at: null, ended_at: '2026-01-15T10:01:20.000Z' })
      const byId = await app.inject({ method: 'GET', url: `/v1/sessions/${id}/messages` })
      t.equal(byId.statusCode, 404, 'its session id no longer reads it')
      t.match(byId.json().detail, /has ended \(expired\).*An admin key reads them/)
      const byAdmin = await app.inject({ method: 'GET', url: `/v1/sessions/${id}/messages`, headers: admin })
      t.equal(byAdmin.json().messages.length, 10)
      const { rows } = await db.query('SELECT actor, target, details FROM audit_events WHERE action = $1', ['transcript.viewed'])
      t.match(rows, [{ actor: /^key_/, target: id, details: { role: 'admin', via: 'api' } }], 'an admin reading a transcript is audited')
    })

    await t.test('DELETE removes the session with its messages and audits it', async t => {
      const res = await app.inject({ method: 'DELETE', url: `/v1/sessions/${id}` })
      t.equal(res.statusCode, 204)
      t.equal(res.body, '')
      t.equal((await app.inject({ method: 'GET', url: `/v1/sessions/${id}` })).statusCode, 404)
      t.equal((await app.inject({ method: 'GET', url: `/v1/sessions/${id}/messages` })).statusCode, 404)
      t.equal((await db.query('SELECT 1 FROM messages WHERE session_id = $1', [id])).rows.length, 0)
      t.equal((await app.inject({ method: 'DELETE', url: `/v1/sessions/${id}` })).statusCode, 404)
      const { rows } = await db.query('SELECT actor, action, target, result FROM audit_events WHERE action = $1 ORDER BY id', ['session.delete'])
      t.same(rows, [
        { actor: 'anonymous', action: 'session.delete', target: id, result: 'success' },
        { actor: 'anonymous', action: 'session.delete', target: id, result: 'failure' }
      ])
    })
  })
}

t.test('GET /v1/sessions lists a user\'s sessions for a key with the admin role: an analyst may not hold session ids', async t => {
  const clock = manualClock()
  const admin = 'admin-key-0123456789'
  const analystKey = 'analyst-key-0123456789'
  const app = await buildTestApp(t, { API_KEYS: `${admin}:admin,${analystKey}:analyst`, MAX_SESSIONS_PER_USER: '2', KB_SEED_DIR: '' }, { clock: clock.now })
  const ids: string[] = []
  for (let i = 0; i < 3; i++) {
    clock.advance(1000)
    ids.push((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/help', user_id: 'lost-ids' } })).json().session_id)
  }
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/help', user_id: 'someone-else' } })
  const list = (query: string, key?: string) => app.inject({ method: 'GET', url: `/v1/sessions?${query}`, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } })
  t.equal((await list('user_id=lost-ids')).statusCode, 401, 'anonymous callers may not list sessions')
  t.equal((await list('user_id=lost-ids', analystKey)).statusCode, 403, 'nor analysts: a session id reads the conversation as written')
  const res = await list('user_id=lost-ids', admin)
  t.equal(res.statusCode, 200)
  t.same(res.json().sessions.map((s: { session_id: string, status: string }) => [s.session_id, s.status]), [[ids[2], 'active'], [ids[1], 'active'], [ids[0], 'replaced']], 'most recently used first, the replaced one too')
  t.equal((await list('user_id=lost-ids&limit=1', admin)).json().sessions.length, 1)
  t.same((await list('user_id=nobody', admin)).json(), { sessions: [] })
  const bad = await list('limit=1', admin)
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { detail: /user_id/ })
})
