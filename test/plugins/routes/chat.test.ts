import t from 'tap'
import { buildTestApp, engines, manualClock } from '../../helper.js'

const chat = (payload: Record<string, unknown>) => ({ method: 'POST' as const, url: '/v1/chat', payload })

for (const engine of engines()) {
  t.test(`chat on ${engine.name}`, async t => {
    const clock = manualClock()
    const db = await engine.open(t)
    const app = await buildTestApp(t, { MAX_SESSIONS_PER_USER: '2', MAX_ACTIVE_SESSIONS: '4', SESSION_IDLE_TIMEOUT: '600' }, { database: db, clock: clock.now })
    const countMessages = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0]!.n

    let sessionId = ''
    await t.test('a question gets an answer from the bundled docs, with a session and sources', async t => {
      const res = await app.inject(chat({ message: 'how do I view traces?', user_id: 'u1' }))
      t.equal(res.statusCode, 200, res.body)
      const body = res.json()
      t.match(body, { turn: 1, kind: 'answer', session_id: /^[0-9a-f-]{36}$/ })
      t.equal(body.sources[0].doc_id, 'tracing-and-logs')
      t.match(body.reply, /trace/i)
      t.notOk('command' in body, 'a question names no command')
      const { rows } = await db.query<{ decision: { confidence: number, threshold: number } }>(
        'SELECT decision FROM messages WHERE session_id = $1 AND turn = 1 AND role = \'bot\'', [body.session_id])
      t.equal(body.confidence, rows[0]?.decision.confidence, 'the reply carries the stored decision\'s confidence')
      t.ok(body.confidence >= rows[0]!.decision.threshold, `${body.confidence} is at the threshold or above`)
      sessionId = body.session_id
    })

    await t.test('continuing the session counts turns and stores both sides', async t => {
      const res = await app.inject(chat({ message: 'how do I configure the port?', session_id: sessionId, user_id: 'u1' }))
      t.equal(res.statusCode, 200, res.body)
      t.match(res.json(), { session_id: sessionId, turn: 2 })
      t.equal(await countMessages(), 4)
    })

    await t.test('a question the knowledge base cannot answer is no_answer', async t => {
      const res = await app.inject(chat({ message: 'zebra quantum marmalade', session_id: sessionId }))
      t.match(res.json(), { kind: 'no_answer', turn: 3, reply: /Could you ask it in other words\?$/, confidence: 0 })
    })

    await t.test('commands', async t => {
      const send = async (message: string) => (await app.inject(chat({ message, session_id: sessionId }))).json()
      const help = await send('/help')
      t.match(help, { kind: 'command', command: 'help', reply: /\/search <query>/ })
      t.notOk('confidence' in help, 'a command is not decided')
      const search = await send('/search sessions expire --k 2')
      t.match(search, { kind: 'command', command: 'search' })
      t.ok(search.sources.length > 0 && search.sources.length <= 2, 'at most k sources')
      const history = await send('/history 2')
      t.match(history, { kind: 'command', command: 'history', reply: /\[5\] You: \/search sessions expire/ })
      t.notMatch(history.reply, /\[3\]/, 'only the last two turns')
      t.match(await send('/serch traces'), { kind: 'command_error', reply: /Did you mean \/search\?/ })
      t.match(await send('/history 500'), { kind: 'command_error', command: 'history', reply: /50/ })
      const feedback = await send('/feedback up very helpful')
      t.match(feedback, { kind: 'command', command: 'feedback', reply: /turn 3/ })
      const { rows } = await db.query('SELECT turn, rating, comment FROM feedback WHERE session_id = $1', [sessionId])
      t.same(rows, [{ turn: 3, rating: 'up', comment: 'very helpful' }])
    })

    await t.test('/feedback with nothing to rate is a command_error', async t => {
      const res = await app.inject(chat({ message: '/feedback down', user_id: 'u2' }))
      t.match(res.json(), { kind: 'command_error', command: 'feedback', reply: /no answer to rate/ })
    })

    await t.test('/reset closes the session and continues in a new one for the same user', async t => {
      const res = await app.inject(chat({ message: '/reset', session_id: sessionId }))
      const body = res.json()
      t.match(body, { kind: 'command', command: 'reset', turn: 0 })
      t.not(body.session_id, sessionId)
      const old = await app.inject(chat({ message: 'hello', session_id: sessionId }))
      t.equal(old.statusCode, 404)
      t.match(old.json(), { status: 404, detail: /has ended: it was reset \(\/reset\)/ })
      const { rows } = await db.query<{ user_id: string }>('SELECT user_id FROM sessions WHERE id = $1', [body.session_id])
      t.equal(rows[0]!.user_id, 'u1', 'the new session keeps the user, so per-user caps still hold')
      sessionId = body.session_id
    })

    await t.test('a user at MAX_SESSIONS_PER_USER gets a new session, and their least recently used one ends, audited', async t => {
      // u1 has 1 active session (the reset one), u2 has 1; the per-user cap is 2.
      clock.advance(1000)
      const second = await app.inject(chat({ message: 'hi', user_id: 'u1' }))
      t.equal(second.statusCode, 200)
      clock.advance(1000)
      const third = await app.inject(chat({ message: 'hi', user_id: 'u1' }))
      t.equal(third.statusCode, 200, 'not a 429: a client that lost its session ids does not lock its user out')
      const replaced = await app.inject(chat({ message: 'hello', session_id: sessionId }))
      t.equal(replaced.statusCode, 404)
      t.match(replaced.json(), { detail: /has ended: it was replaced by a newer session of its user, who keeps at most MAX_SESSIONS_PER_USER/ }, 'and says it was replaced, a session too many')
      t.match(await app.sessionManager.get(sessionId), { status: 'replaced', endedAt: clock.now() })
      const { rows } = await db.query('SELECT actor, action, target, result, details FROM audit_events WHERE action = $1', ['session.replace'])
      t.same(rows, [{ actor: 'parley', action: 'session.replace', target: sessionId, result: 'success', details: { replaced_by: third.json().session_id, limit: 'MAX_SESSIONS_PER_USER', max: 2 } }])
      t.equal((await app.inject(chat({ message: 'still here', session_id: second.json().session_id }))).statusCode, 200, 'the more recently used one goes on')
      sessionId = second.json().session_id
    })

    await t.test('the service cap refuses new sessions with a 429 that names the limit and when to retry', async t => {
      // 3 active sessions (u1's two, u2's); the global cap is 4.
      t.equal((await app.inject(chat({ message: 'hi', user_id: 'u3' }))).statusCode, 200)
      const sessionsBefore = (await db.query('SELECT id FROM sessions')).rows.length
      const before = await countMessages()
      const global = await app.inject(chat({ message: 'hi', user_id: 'u4' }))
      t.equal(global.statusCode, 429)
      t.match(global.json(), { limit: 'active_sessions', max: 4, detail: /MAX_ACTIVE_SESSIONS/ })
      t.equal(global.headers['retry-after'], '58', 'u2\'s session, idle for 2 s, may make room once idle for a minute')
      t.equal(await countMessages(), before, 'a refused turn writes no message')
      t.equal((await db.query('SELECT id FROM sessions')).rows.length, sessionsBefore, 'and no session')
      t.equal((await app.inject(chat({ message: 'still here', session_id: sessionId }))).statusCode, 200, 'existing sessions go on')
    })

    await t.test('another user cannot continue a session', async t => {
      const res = await app.inject(chat({ message: 'hi', session_id: sessionId, user_id: 'intruder' }))
      t.equal(res.statusCode, 404)
      t.match(res.json(), { detail: /does not exist/ }, 'which is not said to exist')
    })

    await t.test('idle sessions expire, and their slots free up', async t => {
      clock.advance(601_000)
      const res = await app.inject(chat({ message: 'hello again', session_id: sessionId }))
      t.equal(res.statusCode, 404)
      t.match(res.json(), { detail: /has ended: it expired \(idle for SESSION_IDLE_TIMEOUT/ })
      t.equal(await app.sessionManager.expireIdle(), 4)
      t.equal((await app.inject(chat({ message: 'hi', user_id: 'u1' }))).statusCode, 200)
    })

    await t.test('an unknown session id is 404', async t => {
      const res = await app.inject(chat({ message: 'hi', session_id: '00000000-0000-4000-8000-000000000000' }))
      t.equal(res.statusCode, 404)
      t.match(res.headers['content-type'], /application\/problem\+json/)
    })

    await t.test('concurrent turns of one session get distinct, gapless turn numbers', async t => {
      const first = (await app.inject(chat({ message: 'hi', user_id: 'u9' }))).json()
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        app.inject(chat({ message: `question ${i}`, session_id: first.session_id }))))
      const turns = results.map(r => r.json().turn).sort((a, b) => a - b)
      t.same(turns, [2, 3, 4, 5, 6, 7, 8, 9])
    })
  })
}

t.test('a turn that fails while persisting leaves nothing behind', async t => {
  const clock = manualClock()
  const app = await buildTestApp(t, {}, { clock: clock.now })
  const original = app.sessionManager.recordTurn.bind(app.sessionManager)
  app.sessionManager.recordTurn = async (db, id, messages) => {
    await original(db, id, messages)
    throw new Error('disk on fire')
  }
  const res = await app.inject(chat({ message: 'how do I view traces?', user_id: 'u1' }))
  t.equal(res.statusCode, 500)
  t.notMatch(res.body, /disk on fire/, '5xx never leak internals')
  const counts = await app.db.query<{ sessions: number, messages: number }>(
    'SELECT (SELECT count(*)::int FROM sessions) AS sessions, (SELECT count(*)::int FROM messages) AS messages')
  t.same(counts.rows[0], { sessions: 0, messages: 0 }, 'neither the new session nor any message was kept')
})

const postgres = engines().find(engine => engine.name === 'postgres')
t.test('the per-user cap holds across instances sharing server PostgreSQL', { skip: postgres === undefined && 'needs TEST_DATABASE_URL' }, async t => {
  const db = await postgres!.open(t)
  const env = { MAX_SESSIONS_PER_USER: '1', KB_SEED_DIR: '' }
  const instances = [await buildTestApp(t, env, { database: db }), await buildTestApp(t, env, { database: db })]
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    instances[i % 2]!.inject(chat({ message: 'hello', user_id: 'shared-user' }))))
  t.same(results.map(r => r.statusCode), Array(10).fill(200), 'each turn opens a session, ending the previous one')
  const { rows } = await db.query<{ status: string, n: number }>("SELECT status, count(*)::int AS n FROM sessions WHERE user_id = 'shared-user' GROUP BY status ORDER BY status")
  t.same(rows, [{ status: 'active', n: 1 }, { status: 'replaced', n: 9 }], 'and the cap of one holds, whichever instance served each')
})

t.test('a user id another caller sends opens sessions of its own, and ends none of the user\'s', async t => {
  const admin = 'admin-key-0123456789abcdef'
  const app = await buildTestApp(t, { MAX_SESSIONS_PER_USER: '1', KB_SEED_DIR: '', API_KEYS: `${admin}:admin` })
  const open = async (remoteAddress: string, headers: Record<string, string> = {}) =>
    (await app.inject({ ...chat({ message: 'hello', user_id: 'victim-42' }), remoteAddress, headers })).json<{ session_id: string }>().session_id
  const victims = await open('198.51.100.1')
  for (let i = 0; i < 5; i++) await open('203.0.113.66')
  t.match(await app.sessionManager.get(victims), { status: 'active' }, 'five sessions under the victim\'s id from another address end none of the victim\'s')
  const byKey = await open('198.51.100.1', { authorization: `Bearer ${admin}` })
  t.match(await app.sessionManager.get(victims), { status: 'active' }, 'nor does a keyed integration using the same id')
  const again = await open('198.51.100.1')
  t.match(await app.sessionManager.get(victims), { status: 'replaced' }, 'the victim\'s own new session, from their address, replaces their oldest as before')
  t.match(await app.sessionManager.get(again), { status: 'active', openedBy: /^address:/ })
  t.match(await app.sessionManager.get(byKey), { status: 'active', openedBy: /^key:key_/ })
  const { rows } = await app.db.query<{ opened_by: string }>('SELECT opened_by FROM sessions')
  t.notOk(rows.some(row => row.opened_by.includes('198.51.100.1')), 'no address is stored as written')
})
