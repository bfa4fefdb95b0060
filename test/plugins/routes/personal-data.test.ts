// A user's erasure and export through the API, on both engines: admin keys only, bad bodies
// refused naming the field, the answer's counts, nothing of the user left in any table (a trace
// written after the erasure included), and the audit entry and the log lines naming the user by
// pseudonym only.
import t from 'tap'
import { createAuditLogger } from '../../../src/logging/logger.js'
import { LogPrivacy } from '../../../src/logging/log-privacy.js'
import { startScriptedModel } from '../../../bench/scripted-model.js'
import { buildTestApp, engines, memoryLines, memoryLogger, waitFor } from '../../helper.js'

const ADMIN = 'admin-key-0123456789abcdef'
const ANALYST = 'analyst-key-0123456789abcdef'
const USER_ID = 'customer-7f3a91'
const EMAIL = 'jane.doe@example.com'
const SECRET = 'pseudonym-secret'

for (const engine of engines()) {
  t.test(`erasure and export routes on ${engine.name}`, async t => {
    const db = await engine.open(t)
    const logged = memoryLogger('info')
    const audited = memoryLines()
    const auditLog = createAuditLogger({ service: 'parley', version: 'test', env: 'test', destination: audited.destination })
    const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin,${ANALYST}:analyst`, LOG_ID_SECRET: SECRET, LOG_LEVEL: 'info' }, { database: db, logger: logged.logger, auditLog })
    const admin = { authorization: `Bearer ${ADMIN}` }
    const pseudonym = new LogPrivacy({ userIdMode: 'hashed', idSecret: SECRET, chatContent: 'off' }).pseudonym(USER_ID)
    const chat = async (payload: Record<string, string>) => (await app.inject({ method: 'POST', url: '/v1/chat', payload })).json<{ session_id: string }>()
    const first = await chat({ message: `my mail is ${EMAIL}: how do sessions expire?`, user_id: USER_ID })
    await chat({ message: '/feedback down', session_id: first.session_id })
    const second = await chat({ message: 'hello', user_id: USER_ID })
    const other = await chat({ message: 'how do sessions expire?', user_id: 'someone-else' })
    await app.turnTraces.flush()
    const count = async (table: string, where: string, params: unknown[]) =>
      (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params)).rows[0]!.n

    await t.test('admin keys only, and a body of exactly one of user_id and session_id', async t => {
      const erase = async (payload: unknown, headers: Record<string, string> = admin) => await app.inject({ method: 'POST', url: '/v1/admin/erasures', payload: payload as object, headers })
      t.equal((await erase({ user_id: USER_ID }, {})).statusCode, 401)
      t.equal((await erase({ user_id: USER_ID }, { authorization: `Bearer ${ANALYST}` })).statusCode, 403)
      t.equal((await app.inject({ url: `/v1/admin/user-data?user_id=${USER_ID}`, headers: { authorization: `Bearer ${ANALYST}` } })).statusCode, 403, 'an analyst reads no one\'s data')

      const neither = await erase({})
      t.equal(neither.statusCode, 400)
      t.equal(neither.headers['content-type'], 'application/problem+json; charset=utf-8')
      t.match(neither.json(), { type: 'urn:parley:problem:validation', detail: /body\/user_id is required unless body\/session_id is sent/, errors: [{ field: 'body/user_id' }, { field: 'body/session_id' }] })
      const both = await erase({ user_id: USER_ID, session_id: first.session_id })
      t.match(both.json(), { status: 400, detail: /body\/session_id must not be sent with body\/user_id/, errors: [{ field: 'body/session_id' }] })
      t.match((await erase({ session_id: 'not-a-uuid' })).json(), { status: 400, detail: /body\/session_id must be a UUID/ })
      t.match((await erase({ user_id: 'x'.repeat(129) })).json(), { status: 400, detail: /body\/user_id must NOT have more than 128 characters/ })
      t.match((await erase({ user: USER_ID })).json(), { status: 400, detail: /body\/user is not an allowed field/ })
      t.match((await app.inject({ url: '/v1/admin/user-data', headers: admin })).json(), { status: 400, detail: /querystring\/user_id is required/ })
      t.match((await app.inject({ url: '/v1/admin/user-data?usr_id=u1', headers: admin })).json(),
        { status: 400, detail: 'querystring/user_id is required; querystring/usr_id is not an allowed field' }, 'a misspelt name: both said')
      const many = (await app.inject({ url: `/v1/admin/user-data?${Array.from({ length: 500 }, (_, i) => `p${i}=1`).join('&')}`, headers: admin })).json()
      t.equal(many.errors.length, 10, 'a query of 500 unknown parameters is answered with the first ten')
      t.equal(await count('sessions', 'user_id = $1', [USER_ID]), 2, 'nothing was erased')
    })

    await t.test('GET /v1/admin/user-data exports what is held about the user, audited by pseudonym', async t => {
      const res = await app.inject({ url: `/v1/admin/user-data?user_id=${encodeURIComponent(USER_ID)}`, headers: admin })
      t.equal(res.statusCode, 200)
      t.equal(res.headers['cache-control'], 'no-store')
      const exported = res.json()
      t.match(exported, { user_id: USER_ID, user_pseudonym: pseudonym, sessions: [{ session_id: second.session_id }, { session_id: first.session_id, turns: 2, feedback: [{ turn: 1, rating: 'down' }] }] })
      t.match(exported.sessions[1].messages[0], { turn: 1, role: 'user', content: `my mail is ${EMAIL}: how do sessions expire?` })
      t.equal(exported.turn_traces.length, 3, 'a trace of each of their turns')
      t.notOk(res.body.includes('someone-else'), 'nothing of another user')
    })

    await t.test('POST /v1/admin/erasures erases the user, says how much, and leaves nothing behind', async t => {
      const res = await app.inject({ method: 'POST', url: '/v1/admin/erasures', payload: { user_id: USER_ID }, headers: admin })
      t.equal(res.statusCode, 200)
      t.match(res.json(), { subject: 'user', user_pseudonym: pseudonym, session_id: null, erased: { sessions: 2, messages: 6, feedback: 1, turn_traces: 3, evaluation_questions: 0, evaluation_runs: 0 } })
      for (const [table, column] of [['sessions', 'id'], ['messages', 'session_id'], ['feedback', 'session_id'], ['turn_traces', 'session_id']] as const) {
        t.equal(await count(table, `${column} = ANY($1::uuid[])`, [[first.session_id, second.session_id]]), 0, `nothing in ${table}`)
      }
      t.equal(await count('sessions', 'id = $1', [other.session_id]), 1, 'another user\'s conversation stays')

      // A trace of theirs still in flight, written by the recorder after the erasure, is kept out.
      app.turnTraces.addRequest({ key: 'late', traced: false, sessionId: first.session_id, turn: 3, statusCode: 404, startedAt: new Date(), durationMs: 3, logs: ['{"msg":"late"}'], error: null, parts: null })
      await app.turnTraces.flush()
      t.equal(await count('turn_traces', 'trace_id = $1', ['late']), 0, 'no trace is written back')
      t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'still there?', session_id: first.session_id } })).statusCode, 404, 'the session is gone for its user too')

      const exported = (await app.inject({ url: `/v1/admin/user-data?user_id=${USER_ID}`, headers: admin })).json()
      t.same([exported.sessions, exported.turn_traces, exported.evaluation_questions], [[], [], []], 'nothing is left to export')

      const { rows } = await db.query<{ actor: string, action: string, target: string }>("SELECT actor, action, target FROM audit_events WHERE action LIKE 'personal_data.%' ORDER BY id")
      t.match(rows, [
        { actor: /^key_/, action: 'personal_data.export', target: pseudonym },
        { actor: /^key_/, action: 'personal_data.erase', target: pseudonym },
        { actor: /^key_/, action: 'personal_data.export', target: pseudonym }
      ], 'each export and erasure, by key and pseudonym')
      const entries = audited.lines.filter(line => line.includes('personal_data.'))
      t.equal(entries.length, 3, 'in the audit log too')
      for (const text of [entries.join(''), logged.lines.filter(line => !line.includes('"/v1/chat"') && !line.includes('chat.')).join('')]) {
        t.notOk(text.includes(USER_ID), 'the user id is in no audit entry, nor in the erasure\'s log lines')
        t.notOk(text.includes(EMAIL), 'nor what they wrote')
      }
    })

    await t.test('a session alone, by its id', async t => {
      const res = await app.inject({ method: 'POST', url: '/v1/admin/erasures', payload: { session_id: other.session_id.toUpperCase() }, headers: admin })
      t.match(res.json(), { subject: 'session', session_id: other.session_id, user_pseudonym: /^u_[0-9a-f]{16}$/, erased: { sessions: 1, messages: 2 } })
      t.equal(await count('sessions', 'true', []), 0)
      const again = await app.inject({ method: 'POST', url: '/v1/admin/erasures', payload: { session_id: other.session_id }, headers: admin })
      t.match(again.json(), { erased: { sessions: 0, messages: 0 } }, 'erasing what is gone erases nothing, and says so')
    })

    await t.test('both routes are in the OpenAPI document, for admins', async t => {
      const spec = (await app.inject({ url: '/docs/json' })).json<{ paths: Record<string, Record<string, { tags: string[], security: unknown[] }>> }>()
      t.match(spec.paths['/v1/admin/erasures']?.post, { tags: ['admin'], security: [{ apiKey: [] }] })
      t.match(spec.paths['/v1/admin/user-data']?.get, { tags: ['admin'], security: [{ apiKey: [] }] })
    })
  })
}

t.test('a turn at the model when its user is erased through the API: 409, and nothing of it stays', async t => {
  const model = await startScriptedModel(t)
  const db = (await engines()[0]!.open(t))
  // The model stalls until the turn's deadline: the turn is in flight, at the model, meanwhile.
  const app = await buildTestApp(t, { API_KEYS: `${ADMIN}:admin`, LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_MAX_RETRIES: '0', LLM_TIMEOUT_MS: '4000' }, { database: db })
  const admin = { authorization: `Bearer ${ADMIN}` }
  const count = async (sql: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0]!.n
  model.script({ kind: 'stall', text: 'Sessions expire ' }, { kind: 'stall', text: 'Sessions expire ' })
  const opened = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'hello', user_id: USER_ID } })).json<{ session_id: string }>()

  const inSession = app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do sessions expire?', session_id: opened.session_id, user_id: USER_ID } })
  const opening = app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do sessions expire?', user_id: USER_ID } })
  t.ok(await waitFor(() => model.requests.length === 2), 'both turns are at the model')
  const erased = await app.inject({ method: 'POST', url: '/v1/admin/erasures', payload: { user_id: USER_ID }, headers: admin })
  t.match(erased.json(), { erased: { sessions: 1, messages: 2 } })
  t.equal((await inSession).statusCode, 404, 'the turn of an erased session stores nothing')
  const refused = await opening
  t.equal(refused.statusCode, 409, 'the turn that would open a session for the erased user stores nothing')
  t.match(refused.json(), { type: 'urn:parley:problem:erased', detail: /was erased while this message was being answered/ })
  await app.turnTraces.flush({ all: true })
  t.equal(await count('sessions'), 0, 'no session')
  t.equal(await count('messages'), 0, 'no message')
  t.equal(await count('turn_traces'), 0, 'and no trace of either turn')
})
