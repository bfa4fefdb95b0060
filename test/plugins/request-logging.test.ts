// What the logs say about a chat turn: structured, with context, and without the user's personal data.
import t from 'tap'
import type { Logger } from 'pino'
import { runWithLogger } from '../../src/logging/log-context.js'
import { createLogger } from '../../src/logging/logger.js'
import { buildTestApp, manualClock } from '../helper.js'

type Line = Record<string, unknown>

async function appWithLogs (t: Parameters<typeof buildTestApp>[0], env: Record<string, string> = {}, clock?: () => Date) {
  const lines: Line[] = []
  const logger = createLogger({ level: 'debug', service: 'parley', version: '9.9.9', env: 'test', destination: { write: (line: string) => { lines.push(JSON.parse(line)) } } })
  const app = await buildTestApp(t, { LOG_ID_SECRET: 'test-secret', DB_SLOW_QUERY_MS: '1000', ...env }, { logger, clock })
  return { app, lines }
}

const PII = 'I am jane.doe@example.com, card 4111 1111 1111 1111, call +44 20 7946 0958'

t.test('a turn logs its events with context on every line', async t => {
  // A valid key (a wrong one is refused): the key itself is never logged, only its id.
  const { app, lines } = await appWithLogs(t, { API_KEYS: 'not-a-real-key-123456:analyst' })
  const res = await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': 'req-1', authorization: 'Bearer not-a-real-key-123456' }, payload: { message: `how do I view traces? ${PII}`, user_id: 'alice@example.com' } })
  const sessionId = res.json().session_id as string
  const turn = lines.filter(line => line.client_request_id === 'req-1')
  const byMsg = (msg: string) => turn.find(line => line.msg === msg)

  for (const line of turn) {
    t.match(line, { time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, level: /^(debug|info|warn|error|fatal)$/, service: 'parley', version: '9.9.9', env: 'test', module: String, fn: String }, `${String(line.msg)} has the common fields`)
  }
  t.match(byMsg('chat.message_received'), { module: 'chat', fn: 'handleTurn', input: 'question', user_id: /^u_[0-9a-f]{16}$/, text: /how do I view traces\? I am \[EMAIL\], card \[CARD\], call \[PHONE\]/ })
  t.match(byMsg('session.created'), { module: 'session_manager', new_session_id: sessionId })
  // The turn's one line has its search too: results, the best document, the answer decision and its measures.
  t.match(byMsg('chat.reply_sent'), { session_id: sessionId, kind: 'answer', sources: Number, top_score: Number, results: Number, top_doc_id: String, decision: 'answer', confidence: Number, search_ms: Number, latency_ms: Number })
  t.notOk(byMsg('search.performed'), 'and no line of its own')
  t.match(byMsg('request completed'), { module: 'http', method: 'POST', route: '/v1/chat', status: 200, duration_ms: Number, res_bytes: Number, session_id: sessionId, user_id: /^u_/ })
  t.equal(turn.filter(line => line.msg === 'request completed').length, 1, 'one completion line per request')

  const all = JSON.stringify(lines)
  for (const secret of ['jane.doe@example.com', '4111 1111 1111 1111', '7946 0958', 'alice@example.com', 'not-a-real-key-123456']) {
    t.notOk(all.includes(secret), `${secret} appears in no line`)
  }
})

t.test('a later turn that leaves its user out is named by its session\'s', async t => {
  const { app, lines } = await appWithLogs(t)
  const first = await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': 'first' }, payload: { message: 'how do I view traces?', user_id: 'alice' } })
  const sessionId = first.json().session_id as string
  await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': 'later' }, payload: { message: 'and the logs?', session_id: sessionId } })
  await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': 'anonymous' }, payload: { message: 'how do I view traces?' } })
  // The turn's lines from when its session is read (session.resumed, at debug, comes just before).
  const named = (reqId: string) => lines.filter(line => line.client_request_id === reqId && line.module === 'chat').map(line => line.user_id)
  const alice = named('first')[0]
  t.match(alice, /^u_[0-9a-f]{16}$/)
  t.ok(named('later').length >= 2, 'the later turn wrote its lines')
  t.same(new Set(named('later')), new Set([alice]), 'each of its lines names alice')
  t.equal(lines.find(line => line.client_request_id === 'later' && line.msg === 'request completed')?.user_id, alice, 'and its request line')
  t.ok(named('anonymous').length >= 2 && named('anonymous').every(user => user == null), 'a session without a user names none')
})

t.test('a streamed reply\'s line gives the bytes it sent, as one sent whole does', async t => {
  const { app, lines } = await appWithLogs(t)
  const streamed = await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': 'sse', accept: 'text/event-stream' }, payload: { message: 'how do I view traces?' } })
  const whole = await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': 'json' }, payload: { message: 'how do I view traces?' } })
  t.match(streamed.body, /^event: delta\n/)
  const sent = (reqId: string) => lines.find(line => line.client_request_id === reqId && line.msg === 'request completed')?.res_bytes
  t.equal(sent('sse'), Buffer.byteLength(streamed.body), 'the stream\'s bytes, counted')
  t.equal(sent('json'), Buffer.byteLength(whole.body), 'its content-length')
})

t.test('the route template, not the raw URL, and commands in the context', async t => {
  const { app, lines } = await appWithLogs(t)
  const first = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/help search' } })).json()
  await app.inject({ method: 'GET', url: `/v1/sessions/${first.session_id}/messages?limit=5` })
  t.match(lines.find(line => line.msg === 'chat.reply_sent'), { command: 'help', kind: 'command' })
  t.match(lines.filter(line => line.msg === 'request completed').map(line => line.route), ['/v1/chat', '/v1/sessions/:id/messages'])
})

t.test('the command parser: parsed commands at debug, refused ones at info, a typed word as chat text', async t => {
  const { app, lines } = await appWithLogs(t)
  await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': 'ok' }, payload: { message: '/history 3' } })
  await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': 'unknown' }, payload: { message: '/jane.doe@example.com hello' } })
  await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': 'usage' }, payload: { message: '/search' } })
  const line = (reqId: string, msg: string) => lines.find(entry => entry.client_request_id === reqId && entry.msg === msg)
  t.match(line('ok', 'command.parsed'), { level: 'debug', module: 'command_parser', fn: 'logParsed', command: 'history' })
  t.match(line('unknown', 'command.refused'), { level: 'info', module: 'command_parser', command: '(unknown)', reason: /^Unknown command \/?\[EMAIL\]\./ })
  t.match(line('usage', 'command.refused'), { command: 'search', reason: String })
  t.notOk(JSON.stringify(lines).includes('jane.doe'), 'the typed word is scrubbed wherever it is logged')
})

t.test('session events: created, resumed, reset and expired', async t => {
  const clock = manualClock()
  const { app, lines } = await appWithLogs(t, { SESSION_IDLE_TIMEOUT: '60' }, clock.now)
  const first = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello' } })).json()
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/reset', session_id: first.session_id } })
  const second = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello again' } })).json()
  clock.advance(61_000)
  // As the sweep runs it (plugins/session-manager.ts): outside a request, on the app's logger.
  t.equal(await runWithLogger(app.log as Logger, async () => await app.sessionManager.expireIdle()), 2, 'the reset session\'s successor and the new one lapse')
  const events = lines.filter(line => line.module === 'session_manager').map(line => line.msg)
  t.same(events, ['session.created', 'session.resumed', 'session.reset', 'session.created', 'session.created', 'session.expired'])
  t.match(lines.find(line => line.msg === 'session.reset'), { level: 'info', ended_session_id: first.session_id, status: 'reset' })
  t.match(lines.find(line => line.msg === 'session.expired'), { level: 'info', fn: 'expireIdle', expired: 2 })
  t.not(second.session_id, first.session_id)
})

t.test('LOG_CHAT_CONTENT and LOG_USER_ID', async t => {
  const off = await appWithLogs(t, { LOG_CHAT_CONTENT: 'off' })
  await off.app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'secret question', user_id: 'bob' } })
  t.notOk('text' in off.lines.find(line => line.msg === 'chat.message_received')!, 'no text at all when off')

  const full = await appWithLogs(t, { LOG_CHAT_CONTENT: 'full', LOG_USER_ID: 'plain' })
  await full.app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'mail a@b.example', user_id: 'bob' } })
  t.match(full.lines.find(line => line.msg === 'chat.message_received'), { text: 'mail a@b.example', user_id: 'bob' })
})

t.test('an unhandled error is logged once, scrubbed, with a fingerprint shared by its repeats', async t => {
  const { app, lines } = await appWithLogs(t)
  let call = 0
  app.sessionManager.recordTurn = async () => { throw new Error(`write failed for turn ${++call} of jane@example.com`) }
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hi' } })
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hi again' } })
  const errors = lines.filter(line => line.level === 'error')
  t.equal(errors.length, 2, 'one line per failed request')
  t.match(errors[0], { module: 'error_handler', error_type: 'Error', error_message: 'write failed for turn <n> of [EMAIL]', fingerprint: /^[0-9a-f]{16}$/, frame: /^test\/plugins\/request-logging\.test\.ts/ })
  t.equal(errors[0]!.fingerprint, errors[1]!.fingerprint, 'the same error groups under one fingerprint')
  t.notOk(JSON.stringify(errors).includes('jane@example.com'))
})

t.test('slow statements are logged with their timing', async t => {
  const { app, lines } = await appWithLogs(t, { DB_SLOW_QUERY_MS: '1' })
  await app.db.query('SELECT pg_sleep(0.01)')
  t.match(lines.find(line => line.msg === 'slow statement' && String(line.statement).includes('pg_sleep')), { level: 'warn', module: 'database', statement: 'SELECT pg_sleep(0.01)', duration_ms: Number, threshold_ms: 1 })
})

t.test('a flood of 429s or 400s: the first of each second have their line, the rest are counted in one', async t => {
  const { app, lines } = await appWithLogs(t, { NEW_SESSIONS_PER_MINUTE: '1', UNSERVED_PER_SECOND: '2' })
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) {
    const res = await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': `flood-${i}` }, payload: { message: 'how do I view traces?' } })
    statuses.push(res.statusCode)
  }
  t.same(statuses, [200, 429, 429, 429, 429, 429], 'one new session a minute, then 429s')
  const completed = (status: number) => lines.filter(line => line.msg === 'request completed' && line.status === status)
  t.same(completed(429).map(line => line.client_request_id), ['flood-1', 'flood-2'], 'the first two 429s have their lines')
  t.equal(completed(200).length, 1, 'an answer always has its line')
  for (let i = 0; i < 4; i++) {
    const res = await app.inject({ method: 'POST', url: '/v1/chat', headers: { 'x-request-id': `invalid-${i}` }, payload: { mesage: 'typo' } })
    t.equal(res.statusCode, 400)
  }
  t.same(completed(400).map(line => line.client_request_id), ['invalid-0', 'invalid-1'], 'the first two 400s too: a status of its own')
  // The seconds end on their timers, set while a request was served.
  await new Promise(resolve => setTimeout(resolve, 1100))
  await app.close()
  const counted = lines.filter(line => line.msg === 'unserved requests not logged one by one')
  t.match(counted, [
    { level: 'info', module: 'http', method: 'POST', route: '/v1/chat', status: 429, unlogged: 3, since: String, until: String },
    { status: 400, unlogged: 2 }
  ], 'the others counted, at the latest when the app closes')
  for (const line of counted) {
    t.notOk('req_id' in line || 'client_request_id' in line || 'trace_id' in line, 'a count is no one request\'s: it names none')
  }
})
