// The console's API over both engines: sign-in by cookie (and its CSRF guard), the turn search and
// its filters, a conversation (audited), a turn's trace, the overview, and what an analyst sees of
// users (scrubbed words, pseudonyms) against an admin (words as written, ids).
import t from 'tap'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildTestApp, engines, manualClock, openTestPGlite } from '../../helper.js'
import { rescrubMessages } from '../../../src/transcript/transcript-repository.js'
import { migrations } from '../../../src/db/migrations.js'
import { scrub, SCRUBBER_VERSION } from '../../../src/logging/scrubber.js'

const ADMIN_KEY = 'admin-key-0123456789'
const ANALYST_KEY = 'analyst-key-0123456789'
const CONSOLE = { 'x-requested-with': 'parley-console' }

function cookieOf (response: LightMyRequestResponse): string {
  const cookie = response.cookies.find(c => c.name === 'parley_console')
  if (cookie === undefined) throw new Error(`no sign-in cookie: ${response.body}`)
  return `parley_console=${cookie.value}`
}

async function signIn (app: FastifyInstance, key: string): Promise<string> {
  return cookieOf(await app.inject({ method: 'POST', url: '/console/api/session', payload: { api_key: key } }))
}

async function chat (app: FastifyInstance, message: string, extra: Record<string, string> = {}) {
  const response = await app.inject({ method: 'POST', url: '/v1/chat', payload: { message, ...extra } })
  if (response.statusCode !== 200) throw new Error(response.body)
  return response.json() as { session_id: string, turn: number, kind: string }
}

t.test('a signed-out visit to the console is not a refused credential: no audit entry; a wrong key still is', async t => {
  const db = await openTestPGlite(t)
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN_KEY}:admin` }, { database: db })
  const denied = async (): Promise<number> => (await db.query("SELECT id FROM audit_events WHERE action = 'auth.denied'")).rows.length
  for (const url of ['/console/api/session', '/console/api/overview']) {
    const anonymous = await app.inject({ url })
    t.equal(anonymous.statusCode, 401, `${url}: 401 without a cookie or a key`)
    t.match(anonymous.json(), { type: /unauthorized$/, detail: /Not signed in/ })
    t.equal(anonymous.headers['www-authenticate'], 'Bearer')
  }
  t.equal(await denied(), 0, 'nothing in the audit trail')
  t.equal((await app.inject({ url: '/console/api/session', headers: { authorization: 'Bearer not-a-key-of-ours-at-all' } })).statusCode, 401)
  t.equal(await denied(), 1, 'a key refused is audited')
})

for (const engine of engines()) {
  t.test(`the console's API on ${engine.name}`, async t => {
    const clock = manualClock(new Date())
    const db = await engine.open(t)
    // The turn traces are the rows the test writes: the recorder's own land on its timer, whenever
    // the machine's load lets them (test/plugins/turn-traces.test.ts tests those).
    const app = await buildTestApp(t, { API_KEYS: `${ADMIN_KEY}:admin,${ANALYST_KEY}:analyst`, CONSOLE_SESSION_HOURS: '1', LOG_ID_SECRET: 'pseudonym-secret', TURN_TRACE_RETENTION_DAYS: '0' }, { database: db, clock: clock.now })

    await t.test('signing in sets an HttpOnly, SameSite=Strict cookie that never holds the key', async t => {
      const wrong = await app.inject({ method: 'POST', url: '/console/api/session', payload: { api_key: 'not-a-key-0123456789' } })
      t.equal(wrong.statusCode, 401)
      t.match(wrong.json(), { type: /unauthorized$/, detail: 'The API key is not valid.' })
      t.equal(wrong.cookies.length, 0)
      const right = await app.inject({ method: 'POST', url: '/console/api/session', payload: { api_key: ANALYST_KEY } })
      t.equal(right.statusCode, 200)
      t.match(right.json(), { role: 'analyst', key_id: /^key_[0-9a-f]{12}$/, chat_text: 'scrubbed', links: { jaeger: null, grafana: null } })
      const cookie = right.cookies.find(c => c.name === 'parley_console')!
      t.match(cookie, { httpOnly: true, sameSite: 'Strict', path: '/console' })
      t.notMatch(right.headers['set-cookie'], ANALYST_KEY)
      t.notMatch(right.body, ANALYST_KEY)
      const { rows } = await db.query<{ action: string }>("SELECT action FROM audit_events WHERE action = 'console.sign_in'")
      t.equal(rows.length, 1, 'the sign-in is audited')
    })

    await t.test('a cookie needs the console\'s header, and a forged or expired one is refused', async t => {
      const cookie = await signIn(app, ADMIN_KEY)
      t.equal((await app.inject({ url: '/console/api/session', headers: { cookie, ...CONSOLE } })).statusCode, 200)
      const forged = await app.inject({ url: '/console/api/session', headers: { cookie: 'parley_console=key_000000000000.99999999999999.AAAA', ...CONSOLE } })
      t.equal(forged.statusCode, 401)
      const tampered = await app.inject({ url: '/console/api/session', headers: { cookie: cookie.replace(/\.(\d+)\./, (_, expires: string) => `.${Number(expires) + 3_600_000}.`), ...CONSOLE } })
      t.equal(tampered.statusCode, 401, 'a later expiry breaks the signature')
      const withoutHeader = await app.inject({ url: '/console/api/conversations', headers: { cookie } })
      t.equal(withoutHeader.statusCode, 403)
      t.match(withoutHeader.json().detail, /X-Requested-With: parley-console/)
      clock.advance(3_600_001)
      t.equal((await app.inject({ url: '/console/api/session', headers: { cookie, ...CONSOLE } })).statusCode, 401, 'expired after CONSOLE_SESSION_HOURS')
    })

    await t.test('a key works as for every other route; nothing without one', async t => {
      t.equal((await app.inject({ url: '/console/api/overview' })).statusCode, 401)
      const byKey = await app.inject({ url: '/console/api/session', headers: { authorization: `Bearer ${ADMIN_KEY}` } })
      t.equal(byKey.statusCode, 200)
      t.match(byKey.json(), { role: 'admin', expires_at: null, chat_text: 'full' })
    })

    await t.test('signing out clears the cookie, and a copy of it is refused from then on, by every instance', async t => {
      const cookie = await signIn(app, ADMIN_KEY)
      const other = await buildTestApp(t, { API_KEYS: `${ADMIN_KEY}:admin,${ANALYST_KEY}:analyst`, TURN_TRACE_RETENTION_DAYS: '0' }, { database: db, clock: clock.now })
      t.equal((await other.inject({ url: '/console/api/session', headers: { cookie, ...CONSOLE } })).statusCode, 200, 'another instance admits it')
      const out = await app.inject({ method: 'DELETE', url: '/console/api/session', headers: { cookie } })
      t.equal(out.statusCode, 204)
      t.match(out.cookies.find(c => c.name === 'parley_console'), { value: '', path: '/console' })
      for (const instance of [app, other]) {
        const copied = await instance.inject({ url: '/console/api/overview', headers: { cookie, ...CONSOLE } })
        t.equal(copied.statusCode, 401, 'the copy is refused')
        t.match(copied.json().detail, /signed out/)
      }
      // The same grant spelt otherwise: a leading zero in the expiry, a base64 pad on the signature.
      const [name, token] = cookie.split('=') as [string, string]
      const [id, expires, signature] = decodeURIComponent(token).split('.') as [string, string, string]
      const respellings = { 'a leading zero in the expiry': `${id}.0${expires}.${signature}`, 'a base64 pad on the signature': `${id}.${expires}.${signature}=` }
      for (const [how, respelt] of Object.entries(respellings)) {
        const answer = await app.inject({ url: '/console/api/overview', headers: { cookie: `${name}=${encodeURIComponent(respelt)}`, ...CONSOLE } })
        t.equal(answer.statusCode, 401, `${how}: refused, as another spelling of what was signed out`)
      }
      const { rows } = await db.query<{ details: { role: string } }>("SELECT details FROM audit_events WHERE action = 'console.sign_out'")
      t.match(rows, [{ details: { role: 'admin' } }], 'audited')
      t.equal((await app.inject({ method: 'DELETE', url: '/console/api/session' })).statusCode, 204, 'without a cookie there is nothing to end')
    })

    // Turns to find: an answer, a question nobody documented, feedback down, and a slow turn.
    const answered = await chat(app, 'how do sessions expire?', { user_id: 'customer-42' })
    clock.advance(1000)
    const unanswered = await chat(app, 'what is the capital of France? write to jane.doe@example.com', { user_id: 'customer-42', session_id: answered.session_id })
    clock.advance(1000)
    await chat(app, '/feedback down too vague', { session_id: answered.session_id })
    clock.advance(1000)
    const other = await chat(app, 'how do I view traces?', { user_id: 'someone-else' })
    clock.advance(1000)
    const started = clock.now()
    await db.query(`INSERT INTO turn_traces (trace_id, session_id, turn, status, status_code, started_at, duration_ms, spans, logs)
      VALUES ('slowtrace', $1, $2, 'ok', 200, $3, 4321, $4, $5)`, [other.session_id, other.turn, started,
      JSON.stringify([{ span_id: 'a', name: 'POST /v1/chat', kind: 'server', start_ms: 0, duration_ms: 4321, status: 'unset', attributes: { 'session.id': other.session_id, 'gen_ai.conversation.id': other.session_id } }]),
      JSON.stringify([{ msg: 'chat.message_received', level: 'info', text: 'write to jane.doe@example.com', session_id: other.session_id }, { msg: 'session.created', level: 'info', new_session_id: other.session_id },
        { msg: 'audit', level: 'info', action: 'session.replace', target: other.session_id, details: { replaced_by: other.session_id.toUpperCase() } }])])
    await db.query(`INSERT INTO turn_traces (trace_id, session_id, turn, status, status_code, started_at, duration_ms, spans, logs, error)
      VALUES ('failedtrace', NULL, NULL, 'error', 500, $1, 12, '[]', $2, 'database gone')`, [started,
      JSON.stringify([{ msg: 'chat.message_received', level: 'info', text: 'where is my refund' }])])

    const admin = { authorization: `Bearer ${ADMIN_KEY}` }
    const analyst = { authorization: `Bearer ${ANALYST_KEY}` }
    const search = async (query: string, headers = admin) => {
      const response = await app.inject({ url: `/console/api/conversations?${query}`, headers })
      if (response.statusCode !== 200) throw new Error(response.body)
      return response.json() as { turns: Array<Record<string, any>>, next_before: string | null, user?: { found: boolean, pseudonym: string | null } }
    }

    await t.test('turns are found by a word typed in them (stemmed), newest first', async t => {
      const found = await search('q=expiring')
      t.same(found.turns.map(turn => [turn.session_id, turn.turn]), [[answered.session_id, answered.turn]])
      t.match(found.turns[0], { kind: 'answer', message: 'how do sessions expire?', user: { id: 'customer-42', pseudonym: /^u_[0-9a-f]{16}$/ } })
      t.match((await search('q=France')).turns[0], { message: /jane\.doe@example\.com/ }, 'an admin sees the words as written')
      const all = await search('')
      t.equal(all.turns.length, 5, 'four stored turns and one that failed before it was stored')
      t.same(all.turns.map(turn => turn.at), [...all.turns.map(turn => turn.at)].sort().reverse())
    })

    await t.test('an analyst sees words scrubbed and users by pseudonym only', async t => {
      const found = await search('q=France', analyst)
      const [turn] = found.turns
      t.match(turn, { message: /write to \[EMAIL\]/, user: { pseudonym: /^u_/ } })
      t.notMatch(JSON.stringify(found), /jane\.doe|customer-42/)
      t.notOk('id' in turn!.user)
      // A session id reads the conversation as written (GET /v1/sessions/:id/messages): an analyst gets a reference instead.
      t.match(turn!.session_id, /^c_[A-Za-z0-9_-]{59}$/, 'a reference to the conversation, not its session id')
      t.notMatch(JSON.stringify(found), answered.session_id)
      t.equal((await app.inject({ url: `/v1/sessions/${turn!.session_id as string}/messages` })).statusCode, 400, 'which opens no transcript')
      const byPseudonym = await search(`user=${turn!.user.pseudonym as string}`, analyst)
      t.same(new Set(byPseudonym.turns.map(turn => turn.session_id)), new Set([turn!.session_id]), 'the pseudonym finds that user\'s turns, one conversation under one reference')
      t.same(byPseudonym.user, { found: true, pseudonym: turn!.user.pseudonym }, 'and says whom it found')
      // The id a customer gives the team ("dave") finds their turns, which still show no id.
      const byId = await search('user=customer-42', analyst)
      t.same(new Set(byId.turns.map(turn => turn.session_id)), new Set([turn!.session_id]), 'the id the customer gave finds the same turns')
      t.same(byId.user, { found: true, pseudonym: turn!.user.pseudonym }, 'named by pseudonym')
      t.notMatch(JSON.stringify(byId), /customer-42/, 'and no id is shown back')
      const unknown = await search('user=Customer-42', analyst)
      t.same(unknown, { turns: [], next_before: null, user: { found: false, pseudonym: null } }, 'an id no one sent says so, for the console\'s hint')
      t.same((await search('user=customer-42&kind=command_error', analyst)).user, { found: true, pseudonym: turn!.user.pseudonym }, 'a user found whose turns the other filters exclude says that instead')
      t.notOk('user' in await search('kind=answer', analyst), 'no user filter, no user')
      t.same(new Set((await search('user=customer-42')).turns.map(turn => turn.session_id)), new Set([answered.session_id]), 'an admin, who sees ids, finds by either')
      for (const personal of ['jane.doe@example.com', 'jane', 'doe']) {
        t.same((await search(`q=${encodeURIComponent(personal)}`, analyst)).turns, [], `an analyst's search cannot find what is scrubbed: "${personal}"`)
      }
      t.equal((await search('q=jane.doe@example.com')).turns.length, 1, 'an admin\'s can')
      t.equal((await search('q=France', analyst)).turns.length, 1, 'the words left are found')
    })

    await t.test('a scrubbed copy is stored only where scrubbing changed the message', async t => {
      const { rows } = await db.query<{ content: string, search_text: string | null }>('SELECT content, search_text FROM messages')
      const copied = rows.filter(row => row.search_text !== null)
      t.ok(copied.length > 0 && copied.length < rows.length, `${copied.length} of ${rows.length} messages have one`)
      t.ok(copied.every(row => row.search_text === scrub(row.content) && row.search_text !== row.content), 'each its message scrubbed')
      t.ok(rows.every(row => row.search_text !== null || scrub(row.content) === row.content), 'the others have nothing to scrub')
    })

    await t.test('messages stored before their scrubbed copy existed are scrubbed once migrated, and found', async t => {
      // As a database from before migration 6 holds them, then migration 12 over it.
      await db.query('UPDATE messages SET search_text = NULL')
      await db.query("DELETE FROM app_state WHERE key = 'search_text_scrubber'")
      await db.exec(migrations.find(migration => migration.version === 12)!.sql)
      const { rows: [all] } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM messages')
      t.equal(await rescrubMessages(db, scrub, SCRUBBER_VERSION, 3), all!.count, 'every message, a batch at a time')
      t.equal((await search('q=France', analyst)).turns.length, 1)
      t.same((await search('q=jane', analyst)).turns, [], 'scrubbed as new ones are')
      t.equal(await rescrubMessages(db, scrub, SCRUBBER_VERSION, 3), 0, 'and only once')
    })

    await t.test('messages scrubbed by older rules are scrubbed again, once, when the rules change', async t => {
      // As an older scrubber left a name that today's rules find.
      await db.query("UPDATE messages SET search_text = content || ' my name is Ottoline Quibble' WHERE id = (SELECT min(id) FROM messages)")
      await db.query("UPDATE app_state SET value = to_jsonb(1) WHERE key = 'search_text_scrubber'")
      t.equal((await search('q=Quibble', analyst)).turns.length, 1, 'found by the name the old rules left')
      const { rows: [all] } = await db.query<{ count: number }>('SELECT count(*)::int AS count FROM messages')
      t.equal(await rescrubMessages(db, scrub, SCRUBBER_VERSION, 3), all!.count, 'every message scrubbed again, a batch at a time')
      t.same((await search('q=Quibble', analyst)).turns, [], 'not found once scrubbed by the new rules')
      t.equal(await rescrubMessages(db, scrub, SCRUBBER_VERSION, 3), 0, 'and only once')
    })

    await t.test('filters: reply kind, feedback down, latency, errors, and paging', async t => {
      t.same((await search('kind=no_answer')).turns.map(turn => turn.turn), [unanswered.turn])
      const nearest = await search('source=sessions')
      t.ok(nearest.turns.length > 0 && nearest.turns.every(turn => turn.session_id === answered.session_id), 'the turns whose nearest document is one (UnansweredTopic links here)')
      t.ok(nearest.turns.some(turn => turn.turn === answered.turn))
      t.equal((await app.inject({ url: '/console/api/conversations?source=no%20such', headers: admin })).statusCode, 400)
      t.same((await search('feedback=down')).turns.map(turn => [turn.turn, turn.feedback]), [[unanswered.turn, 'down']], '/feedback rates the latest answer')
      t.same((await search('min_latency_ms=4000')).turns.map(turn => [turn.session_id, turn.latency_ms, turn.trace_id]), [[other.session_id, 4321, 'slowtrace']])
      const errors = await search('errors=true')
      t.match(errors.turns, [{ session_id: null, turn: null, error: true, message: 'where is my refund', trace_id: 'failedtrace' }])
      const first = await search('limit=2')
      t.equal(first.turns.length, 2)
      t.type(first.next_before, 'string')
      const rest = await search(`limit=10&before=${first.next_before!}`)
      t.equal(rest.turns.length, 3)
      t.equal(rest.next_before, null)
      t.equal((await app.inject({ url: '/console/api/conversations?before=12345', headers: admin })).statusCode, 200, 'a cursor of time alone is still read')
      const bad = await app.inject({ url: '/console/api/conversations?min_latency_ms=-1', headers: admin })
      t.equal(bad.statusCode, 400)
      t.match(bad.json().detail, /min_latency_ms/)
      const twice = await app.inject({ url: '/console/api/conversations?limit=2&limit=3', headers: admin })
      t.equal(twice.statusCode, 400)
      t.same(twice.json().errors, [{ field: 'querystring/limit', message: 'must be given once, not 2 times' }],
        'a parameter given twice is told as such, not as "must be integer"')
      const kinds = await app.inject({ url: '/console/api/conversations?kind=answer&kind=no_answer', headers: admin })
      t.equal(kinds.statusCode, 400, 'a choice given twice too')
      t.same(kinds.json().errors, [{ field: 'querystring/kind', message: 'must be given once, not 2 times' }])
    })

    await t.test('a conversation shows every turn, and opening it is audited', async t => {
      const ref = (await search('q=France', analyst)).turns[0]!.session_id as string
      const response = await app.inject({ url: `/console/api/conversations/${ref}`, headers: analyst })
      t.equal(response.statusCode, 200, 'an analyst opens it by its reference')
      const opened = response.json()
      t.match(opened, { session_id: ref, user: { pseudonym: /^u_/ }, status: 'active' })
      t.notMatch(response.body, answered.session_id)
      const bySessionId = await app.inject({ url: `/console/api/conversations/${answered.session_id}`, headers: analyst })
      t.equal(bySessionId.statusCode, 404, 'not by a session id, which they were never shown')
      t.match(bySessionId.json().detail, /by its reference \(c_…\)/, 'the answer says how to name it')
      const unknownId = await app.inject({ url: '/console/api/conversations/00000000-0000-4000-8000-000000000000', headers: analyst })
      t.equal(unknownId.json().detail, bySessionId.json().detail, 'the same for a session that does not exist: nothing learnt')
      // A middle character: the last one carries padding bits, so changing it may not change the reference.
      const forged = `${ref.slice(0, 10)}${ref[10] === 'A' ? 'B' : 'A'}${ref.slice(11)}`
      t.equal((await app.inject({ url: `/console/api/conversations/${forged}`, headers: analyst })).statusCode, 404, 'nor by a forged reference')
      t.match((await app.inject({ url: `/console/api/conversations/${answered.session_id}`, headers: admin })).json(), { session_id: answered.session_id }, 'an admin, by its id')
      t.same(opened.turns.map((turn: { turn: number, kind: string }) => [turn.turn, turn.kind]), [[1, 'answer'], [2, 'no_answer'], [3, 'command']])
      t.match(opened.turns[0], { message: 'how do sessions expire?', sources: [{ doc_id: 'sessions' }], has_trace: false })
      t.match(opened.turns[1], { message: /write to \[EMAIL\]/, feedback: { rating: 'down', comment: 'too vague' } })
      const { rows } = await db.query<{ actor: string, target: string }>("SELECT actor, target FROM audit_events WHERE action = 'transcript.viewed'")
      t.match(rows, [{ actor: /^key_/, target: answered.session_id }])
      t.equal((await app.inject({ url: '/console/api/conversations/0b5e7d4c-2f1a-4c3e-9d8b-6a7f5e4d3c2b', headers: admin })).statusCode, 404)
    })

    await t.test('a turn\'s trace: its spans and log lines, chat text scrubbed for an analyst; opening it is audited', async t => {
      const trace = (await app.inject({ url: '/console/api/traces/slowtrace', headers: analyst })).json()
      const { rows: audited } = await db.query<{ target: string, details: { role: string, session_id: string } }>("SELECT target, details FROM audit_events WHERE action = 'trace.viewed'")
      t.match(audited, [{ target: 'slowtrace', details: { role: 'analyst', session_id: other.session_id } }], 'its log lines hold the user\'s words')
      t.match(trace, { trace_id: 'slowtrace', session_id: /^c_/, turn: other.turn, duration_ms: 4321, spans: [{ name: 'POST /v1/chat' }], logs: [{ text: 'write to [EMAIL]' }], links: { jaeger: null, grafana: null } })
      t.notMatch(JSON.stringify(trace), other.session_id, 'no session id anywhere: not in a log field, not in a span attribute')
      t.notMatch(JSON.stringify(trace).toLowerCase(), other.session_id, 'in any case')
      t.match(trace, { spans: [{ attributes: { 'session.id': trace.session_id, 'gen_ai.conversation.id': trace.session_id } }], logs: [{ session_id: trace.session_id }, { new_session_id: trace.session_id }, { target: trace.session_id, details: { replaced_by: trace.session_id } }] }, 'each names the conversation by its reference, an audit entry\'s nested details too')
      t.match((await app.inject({ url: '/console/api/traces/slowtrace', headers: admin })).json(), { logs: [{ text: 'write to jane.doe@example.com', session_id: other.session_id }] })
      const missing = await app.inject({ url: '/console/api/traces/nosuchtrace', headers: admin })
      t.equal(missing.statusCode, 404)
      t.match(missing.json().detail, /TURN_TRACE_RETENTION_DAYS/)
    })

    await t.test('the overview counts turns, answers, feedback and failures', async t => {
      const figures = (await app.inject({ url: '/console/api/overview?period=day', headers: analyst })).json()
      t.match(figures, { period: 'day', turns: 4, answer_rate: 2 / 3, feedback: { up: 0, down: 1 }, active_sessions: 2, error_rate: 0.5, alerts_firing: [], turn_traces: { kept: Number, let_go: 0, lost: 0 } })
      t.equal(figures.series.length, 24)
      t.equal(figures.series.reduce((sum: number, point: { turns: number }) => sum + point.turns, 0), 4)
      const year = await app.inject({ url: '/console/api/overview?period=year', headers: analyst })
      t.equal(year.statusCode, 400)
      t.equal(year.json().detail, 'querystring/period must be one of hour, day, week', 'the allowed periods named')
    })

    await t.test('paging loses no turn among turns of the same instant', async t => {
      // The clock stands still: five turns stored at the same microsecond.
      const tied = await chat(app, 'how do sessions expire?', { user_id: 'tie-user' })
      for (let i = 0; i < 4; i++) await chat(app, 'how do I view traces?', { session_id: tied.session_id })
      const seen: number[] = []
      let before: string | null = ''
      for (let pages = 0; before !== null && pages < 10; pages++) {
        const page = await search(`user=tie-user&limit=2${before === '' ? '' : `&before=${before}`}`)
        seen.push(...page.turns.map(turn => turn.turn as number))
        before = page.next_before
      }
      t.same(seen, [5, 4, 3, 2, 1], 'each once, newest first')
    })

    await t.test('the list quotes the beginning of each message, the conversation shows it whole', async t => {
      const long = await chat(app, `${'how do sessions expire? '.repeat(150)}end`, { user_id: 'long-user' })
      await chat(app, '/history 1', { session_id: long.session_id })
      const page = await search('user=long-user')
      t.match(page.turns.map(turn => turn.message), ['/history 1', /^how do sessions expire\? [\s\S]*… \(3,603 characters\)$/])
      t.match(page.turns[0]!.reply, /… \(\d[\d,]* characters\)$/, 'a reply too')
      t.ok(page.turns.every(turn => turn.message.length < 400 && turn.reply.length < 400))
      const opened = (await app.inject({ url: `/console/api/conversations/${long.session_id}`, headers: admin })).json()
      t.equal(opened.turns[0].message.length, 3603)
    })
  })
}

t.test('links to Jaeger and Grafana when they are configured', async t => {
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN_KEY}:admin`, ALERTS_TRACE_URL: 'http://localhost:16686/trace/', CONSOLE_GRAFANA_URL: 'http://localhost:3001/' })
  await app.db.query("INSERT INTO turn_traces (trace_id, status, status_code, started_at, duration_ms) VALUES ('4bf92f3577b34da6a3ce929d0e0e4736', 'ok', 200, now(), 5)")
  const { links } = (await app.inject({ url: '/console/api/traces/4bf92f3577b34da6a3ce929d0e0e4736', headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json()
  t.equal(links.jaeger, 'http://localhost:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736')
  const explore = JSON.parse(new URL(links.grafana).searchParams.get('left')!)
  t.match(explore, { datasource: 'loki', queries: [{ expr: '{service_name="parley"} | trace_id="4bf92f3577b34da6a3ce929d0e0e4736"' }] })
})

t.test('sign-ins are limited per address', async t => {
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN_KEY}:admin` })
  const statuses = []
  for (let i = 0; i < 11; i++) statuses.push((await app.inject({ method: 'POST', url: '/console/api/session', payload: { api_key: 'wrong-key-0123456789' } })).statusCode)
  t.same(statuses, [...Array(10).fill(401), 429])
})

t.test('a conversation names how each reply was written: the model with its tokens and cost, or the passage and why', async t => {
  // The scripted model of bench/scripted-model.ts: no real model can run here.
  const { startScriptedModel } = await import('../../../bench/scripted-model.js')
  const model = await startScriptedModel(t)
  model.script({ kind: 'answer', text: 'Open Jaeger [1].', usage: { prompt_tokens: 400, completion_tokens: 10 } }, { kind: 'status', status: 500 })
  const app = await buildTestApp(t, { API_KEYS: `${ANALYST_KEY}:analyst`, LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_MAX_RETRIES: '0', LLM_PRICE_INPUT_PER_MTOK: '1', LLM_PRICE_OUTPUT_PER_MTOK: '4' })
  const { session_id: sessionId } = await chat(app, 'how do I view traces?')
  await chat(app, 'how do I view traces?', { session_id: sessionId })
  await chat(app, 'hello', { session_id: sessionId })
  const cookie = await signIn(app, ANALYST_KEY)
  const [{ session_id: ref }] = (await app.inject({ url: '/console/api/conversations?limit=1', headers: { cookie, ...CONSOLE } })).json().turns
  const conversation = (await app.inject({ url: `/console/api/conversations/${ref as string}`, headers: { cookie, ...CONSOLE } })).json()
  t.match(conversation.turns.map((turn: { generation: unknown }) => turn.generation), [
    { by: 'model', model: 'scripted-model-2026', input_tokens: 400, output_tokens: 10, cost_usd: (400 + 40) / 1e6 },
    { by: 'extractive', model: 'scripted-model', fallback_reason: 'server_error' },
    null
  ], 'written, fallen back, and small talk that no model wrote')
})

t.test('a reply in the knowledge base\'s words reaches an analyst as written, and is found so; a command\'s or a model\'s is scrubbed', async t => {
  // The scripted model of bench/scripted-model.ts: no real model can run here.
  const { startScriptedModel } = await import('../../../bench/scripted-model.js')
  const model = await startScriptedModel(t)
  const app = await buildTestApp(t, {
    API_KEYS: `${ADMIN_KEY}:admin,${ANALYST_KEY}:analyst`, KB_SEED_DIR: '', LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_MAX_RETRIES: '0'
  })
  const admin = { authorization: `Bearer ${ADMIN_KEY}` }
  const added = await app.inject({
    method: 'POST',
    url: '/v1/kb/documents',
    headers: admin,
    payload: { documents: [{ id: 'contact', title: 'How do I contact the clinic?', text: 'Call reception on 0161 496 0000 or write to front.desk@clinic.example.' }] }
  })
  t.equal(added.statusCode, 201, added.body)
  // The model fails the first answer (the passage is the reply) and writes the second.
  model.script({ kind: 'status', status: 500 }, { kind: 'answer', text: 'Ring 0161 496 0000 [1].' })
  const { session_id: sessionId } = await chat(app, 'how do I contact the clinic? I am on 07700 900123', { user_id: 'patient-1' })
  await chat(app, '/history 1', { session_id: sessionId })
  await chat(app, 'how do I contact the clinic?', { session_id: sessionId })

  const cookie = await signIn(app, ANALYST_KEY)
  const list = (await app.inject({ url: '/console/api/conversations', headers: { cookie, ...CONSOLE } })).json().turns
  const ref = list[0].session_id as string
  const conversation = (await app.inject({ url: `/console/api/conversations/${ref}`, headers: { cookie, ...CONSOLE } })).json()
  t.match(conversation.turns, [
    { kind: 'answer', message: 'how do I contact the clinic? I am on [PHONE]', reply: /^Call reception on 0161 496 0000 or write to front\.desk@clinic\.example\./ },
    { kind: 'command', reply: /I am on \[PHONE\]/ },
    { kind: 'answer', generation: { by: 'model' }, reply: /^Ring \[PHONE\] \[1\]/ }
  ], 'the passage as written; the user\'s words, even repeated by a command or a model, scrubbed')
  t.notMatch(JSON.stringify(conversation), /07700|900123/)
  t.match(list.map((turn: { reply: string }) => turn.reply), [/^Ring \[PHONE\]/, /\[PHONE\]/, /^Call reception on 0161 496 0000/], 'and so in the list')
  const search = async (q: string) => (await app.inject({ url: `/console/api/conversations?q=${encodeURIComponent(q)}`, headers: { cookie, ...CONSOLE } })).json().turns
  t.equal((await search('front.desk@clinic.example')).length, 1, 'found by the words shown')
  t.same(await search('07700'), [], 'not by the user\'s scrubbed number')
})
