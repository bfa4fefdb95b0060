// The request's half of each chat turn's trace, in the app without an SDK (as tests and
// `node dist/src/server.js` run it): its log lines as written, status, session and turn, keyed by
// the request id since there is no trace; other routes keep nothing.
import t from 'tap'
import { ProblemError } from '../../src/errors.js'
import type { TurnParts } from '../../src/turn-traces/turn-trace.js'
import { buildTestApp, memoryLogger, openTestPGlite, waitFor } from '../helper.js'

const ADMIN = 'admin-key-0123456789abcdef'

interface Row { trace_id: string, session_id: string | null, turn: number | null, status: string, status_code: number, duration_ms: number, spans: unknown[], logs: Array<Record<string, unknown>>, error: string | null }

t.test('a chat turn\'s log lines, status, session and turn are kept under its request id', async t => {
  const db = await openTestPGlite(t)
  const { lines, logger } = memoryLogger('info')
  const app = await buildTestApp(t, { LOG_LEVEL: 'info', API_KEYS: `${ADMIN}:admin` }, { logger, database: db })
  const rows = async (): Promise<Row[]> => (await db.query<Row>('SELECT * FROM turn_traces ORDER BY started_at')).rows

  const first = await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces? mail me at someone@example.com' } })
  t.equal(first.statusCode, 200)
  const { session_id: sessionId } = first.json<{ session_id: string }>()
  const second = await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/help', session_id: sessionId } })
  t.equal(second.statusCode, 200)
  await app.inject({ method: 'GET', url: `/v1/sessions/${sessionId}` })
  // Written by the recorder's timer; flushed here rather than waited for.
  await app.turnTraces.flush()

  const [one, two] = await rows()
  t.equal((await rows()).length, 2, 'one row per chat turn, none for the session read')
  const reqIds = one!.logs.map(line => line.req_id)
  t.ok(reqIds.length > 0 && reqIds.every(id => id === one!.trace_id), 'keyed by the request id, which every kept line carries')
  t.match(one, { session_id: sessionId, turn: 1, status: 'ok', status_code: 200, spans: [], error: null })
  t.match(two, { session_id: sessionId, turn: 2, status: 'ok', status_code: 200 })
  t.ok(one!.duration_ms > 0)
  const messages = one!.logs.map(line => line.msg)
  for (const msg of ['chat.message_received', 'session.created', 'chat.reply_sent', 'request completed']) t.ok(messages.includes(msg), `the turn's ${msg} line is kept`)
  t.notOk(JSON.stringify(one!.logs).includes('someone@example.com'), 'as written: scrubbed by the logger')
  const written = lines.map(line => JSON.parse(line) as Record<string, unknown>).filter(line => line.req_id === one!.trace_id)
  t.same(one!.logs, written, 'exactly the lines written while serving the request')
  t.notOk(two!.logs.some(line => line.req_id !== two!.trace_id), 'a turn keeps only its own lines')
  t.equal(app.turnTraces.kept(), 2)

  await t.test('a turn refused for a session that does not exist names the session it was sent for', async t => {
    const unknown = '00000000-0000-4000-8000-000000000000'
    t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello', session_id: unknown } })).statusCode, 404)
    t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '', session_id: 'not a uuid' } })).statusCode, 400)
    await app.turnTraces.flush()
    const refused = (await rows()).slice(2)
    t.match(refused, [{ session_id: unknown, turn: null, status: 'ok', status_code: 404, error: null }, { session_id: null, turn: null, status_code: 400 }])
    t.ok(refused[1]!.logs.some(line => line.msg === 'request completed'), 'bad input is kept too, never a 500')
  })

  await t.test('a 5xx keeps its error message, scrubbed', async t => {
    const handleTurn = app.chatService.handleTurn
    app.chatService.handleTurn = async () => { throw new Error('could not reach someone@example.com') }
    t.teardown(() => { app.chatService.handleTurn = handleTurn })
    t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello' } })).statusCode, 500)
    await app.turnTraces.flush()
    const failed = (await rows()).at(-1)
    t.match(failed, { status: 'error', status_code: 500, error: 'could not reach [EMAIL]' })
  })

  await t.test('a 503 (a refused turn) is not kept: it answered nothing, and under overload its row would be more work', async t => {
    const handleTurn = app.chatService.handleTurn
    app.chatService.handleTurn = async () => { throw new ProblemError({ status: 503, type: 'overloaded', title: 'Service Unavailable', detail: 'The server is overloaded', retryAfterSeconds: 1 }) }
    t.teardown(() => { app.chatService.handleTurn = handleTurn })
    t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello' } })).statusCode, 503)
    await app.turnTraces.flush()
    t.equal((await rows()).length, 5)
  })

  await t.test('GET /status shows what was kept and dropped', async t => {
    const status = (await app.inject({ method: 'GET', url: '/status', headers: { authorization: `Bearer ${ADMIN}` } })).json()
    t.same(status.turn_traces, { enabled: true, kept: 5, queued: 0, held: 0, dropped: { queue_full: 0, write_failed: 0, pressure: 0, open_traces: 0, spans_truncated: 0, root_never_ended: 0 } })
  })

  await t.test('deleting a session deletes its turn traces with it', async t => {
    t.equal((await app.inject({ method: 'DELETE', url: `/v1/sessions/${sessionId}`, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 204)
    t.equal((await db.query('SELECT 1 FROM turn_traces WHERE session_id = $1', [sessionId])).rows.length, 0)
    t.equal((await rows()).length, 3, 'the others stay')
  })
})

t.test('a 429 (a client past its limits) is not kept: its row would let the client write at the rate it is refused', async t => {
  const db = await openTestPGlite(t)
  const app = await buildTestApp(t, { NEW_SESSIONS_PER_MINUTE: '1' }, { database: db })
  const codes = []
  for (let i = 0; i < 3; i++) codes.push((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello' } })).statusCode)
  t.same(codes, [200, 429, 429])
  await app.turnTraces.flush()
  t.same((await db.query<{ status_code: number }>('SELECT status_code FROM turn_traces')).rows, [{ status_code: 200 }])
})

t.test('a flood of client errors keeps the rows of the few a second it logs, not one a request', async t => {
  const db = await openTestPGlite(t)
  const app = await buildTestApp(t, { UNSERVED_PER_SECOND: '2' }, { database: db })
  const codes = []
  for (let i = 0; i < 6; i++) codes.push((await app.inject({ method: 'POST', url: '/v1/chat', payload: { mesage: 'hello' } })).statusCode)
  t.same(codes, Array(6).fill(400))
  await app.turnTraces.flush()
  t.same((await db.query<{ status_code: number }>('SELECT status_code FROM turn_traces')).rows, [{ status_code: 400 }, { status_code: 400 }])
  t.same(app.turnTraces.dropped(), { queue_full: 0, write_failed: 0, pressure: 0, open_traces: 0, spans_truncated: 0, root_never_ended: 0 }, 'and counts none lost')
})

t.test('a turn still in the queue when the app closes is written', async t => {
  const db = await openTestPGlite(t)
  const app = await buildTestApp(t, { LOG_LEVEL: 'info' }, { logger: memoryLogger('info').logger, database: db })
  t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello' } })).statusCode, 200)
  await app.close()
  t.equal((await db.query('SELECT 1 FROM turn_traces')).rows.length, 1)
})

t.test('TURN_TRACE_RETENTION_DAYS=0 keeps nothing', async t => {
  const db = await openTestPGlite(t)
  const app = await buildTestApp(t, { LOG_LEVEL: 'info', TURN_TRACE_RETENTION_DAYS: '0' }, { logger: memoryLogger('info').logger, database: db })
  t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello' } })).statusCode, 200)
  t.equal(app.turnTraces.queued(), 0)
  await app.close()
  t.equal((await db.query('SELECT 1 FROM turn_traces')).rows.length, 0)
  t.equal(app.turnTraces.enabled, false)
})

t.test('while turns wait in line, every turn has its row; an ordinary one\'s lines are let go, counted; an unanswered one\'s are kept', async t => {
  const db = await openTestPGlite(t)
  const app = await buildTestApp(t, {}, { database: db })
  await app.ready()
  // The embedded database admits one turn at a time: one held in the gate makes the others wait.
  let release = (): void => {}
  const held = app.turnAdmission.run(async () => { await new Promise<void>(resolve => { release = resolve }) })
  const chat = async (message: string) => await app.inject({ method: 'POST', url: '/v1/chat', payload: { message } })
  const answered = chat('how do I view traces?')
  const unanswered = chat('What is the capital of France?')
  const last = chat('how do sessions expire?')
  await waitFor(() => app.turnAdmission.queued() >= 3, 2_000, 10)
  t.equal(app.turnAdmission.queued(), 3, 'three turns in line')
  release()
  await held
  const replies = await Promise.all([answered, unanswered, last])
  t.same(replies.map(reply => reply.json().kind), ['answer', 'no_answer', 'answer'])
  await app.turnTraces.flush()
  const { rows } = await db.query<Row & { parts: TurnParts, let_go: string | null }>('SELECT * FROM turn_traces')
  t.equal(rows.length, 3, 'a row for every turn')
  const [first, second, third] = replies.map(reply => rows.find(row => row.session_id === reply.json().session_id))
  t.match(first, { let_go: 'pressure', logs: [] }, 'the first answer, with two turns behind it: its lines let go')
  t.match(second, { let_go: null }, 'the unanswered turn is kept whole')
  t.match(third, { let_go: null }, 'and so is the last, with no one behind it')
  for (const row of rows) {
    t.ok(row.parts.admission_ms > 0, 'each waited for admission behind the turn held in the gate')
    t.ok(row.parts.database_ms > 0 && row.parts.search_ms > 0, 'and spent time in the database and searching')
    t.ok(row.parts.admission_ms + row.parts.database_ms + row.parts.search_ms <= row.duration_ms, 'all within its duration')
  }
  t.equal(app.turnTraces.heldCount(), 1, 'its lines held, to be written if it is rated down')
  await app.close()
  t.equal(app.turnTraces.dropped().pressure, 1, 'lost when the app closes, and counted')
})
