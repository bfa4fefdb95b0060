// The analytics API: usage and turn latency from the database on both engines, errors from the
// log files, for analysts and admins only, with bad periods refused naming the field.
import t from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { buildTestApp, engines, tempDir } from '../../helper.js'

const ANALYST = 'analytics-analyst-key-0123'
const auth = { authorization: `Bearer ${ANALYST}` }

for (const engine of engines()) {
  t.test(`${engine.name}: usage and performance are what the turns were`, async t => {
    const app = await buildTestApp(t, { API_KEYS: `${ANALYST}:analyst` }, { database: await engine.open(t) })
    const chat = async (message: string, session?: string, user?: string) => (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message, session_id: session, user_id: user } })).json<{ session_id: string }>().session_id
    const a = await chat('how do I view traces?', undefined, 'alice')
    await chat('/feedback up', a, 'alice')
    await chat('what is the capital of Mongolia?', a, 'alice')
    await chat('/feedback down no idea', a, 'alice')
    await chat('how do I add an admin API key?', a, 'alice')
    const b = await chat('What is the capital of Mongolia', undefined, 'bob')
    await chat('capital of mongolia?', b, 'bob')
    await chat('who won the 1998 football world cup?', b, 'bob')
    await chat('/help', b, 'bob')
    await chat('/nosuchcommand', b, 'bob')
    await chat('do purple giraffes sing to +44 20 7946 0958', b, 'bob')
    await chat('/history 2')

    const usage = await app.inject({ url: '/v1/analytics/usage', headers: auth })
    t.equal(usage.statusCode, 200)
    t.match(usage.json(), {
      turns: 12,
      turns_by_kind: { answer: 2, no_answer: 5, command: 4, command_error: 1 },
      answer_rate: 2 / 7,
      sessions_started: 3,
      sessions_active: 3,
      active_users: 2,
      feedback: { up: 1, down: 1 },
      commands: { feedback: 2, help: 1, history: 1 }
    })
    const unanswered = usage.json<{ unanswered: Array<{ example: string, count: number }> }>().unanswered
    t.same(unanswered.map(q => q.count), [3, 1, 1], 'three wordings of one question grouped')
    t.ok(unanswered.some(q => q.example === 'do purple giraffes sing to [PHONE]'), 'users\' words are scrubbed')
    t.notMatch(JSON.stringify(unanswered), /7946/)

    const performance = (await app.inject({ url: '/v1/analytics/performance', headers: auth })).json<{ bucket: string, totals: Array<{ series: string, count: number, p50_ms: number, p95_ms: number }>, rows: unknown[] }>()
    t.equal(performance.bucket, 'day', 'daily for the default 7 days')
    t.match(performance.totals.find(row => row.series === 'turn no_answer'), { count: 5 })
    for (const row of performance.totals) t.ok(row.p50_ms > 0 && row.p50_ms <= row.p95_ms, `${row.series}: p50 ${row.p50_ms} ≤ p95 ${row.p95_ms}`)
    const hourly = (await app.inject({ url: '/v1/analytics/performance?bucket=hour&from=2020-01-01T00:00:00Z&to=2020-01-02T00:00:00Z', headers: auth })).json<{ totals: unknown[] }>()
    t.same(hourly.totals, [], 'nothing in a period without turns')
  })
}

t.test('performance flags a reply kind whose p95 rose against the period before', async t => {
  const app = await buildTestApp(t, { API_KEYS: `${ANALYST}:analyst` })
  // Each period gets a few turns more than the fewest a regression is judged on, so that one turn
  // answered otherwise does not leave it unjudged (a flaky failure under load had exactly 20).
  let session: string | undefined
  for (let i = 0; i < 48; i++) {
    const turn = await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?', session_id: session } })
    t.equal(turn.statusCode, 200, `turn ${i + 1}`)
    session = turn.json<{ session_id: string }>().session_id
  }
  // The first 24 turns moved a week back and made fast, the last 24 slow. The route reads a turn's
  // trace's duration where it has one, the message's otherwise: the traces are written first and
  // both are set, or a trace the recorder's timer wrote meanwhile kept its real duration (a failure
  // under load, where the timer fired before the query).
  await app.turnTraces.flush({ all: true })
  await app.db.query("UPDATE messages SET created_at = created_at - interval '8 days', latency_ms = 5 WHERE turn <= 24")
  await app.db.query("UPDATE messages SET latency_ms = 50 WHERE turn > 24 AND role = 'bot'")
  await app.db.query('UPDATE turn_traces SET duration_ms = CASE WHEN turn <= 24 THEN 5 ELSE 50 END')
  const { regressions } = (await app.inject({ url: '/v1/analytics/performance', headers: auth })).json<{ regressions: Array<{ series: string, ratio: number, previous_p95_ms: number, p95_ms: number }> }>()
  t.match(regressions, [{ series: 'turn answer', ratio: 10, previous_p95_ms: 5, p95_ms: 50 }])
})

t.test('errors come from the log files; without them the route says so', async t => {
  const dir = await tempDir(t)
  const time = new Date(Date.now() - 60_000).toISOString()
  const sessionId = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b'
  const line = JSON.stringify({ level: 'error', time, module: 'error_handler', fn: 'onError', req_id: 'r1', session_id: sessionId, error_type: 'TypeError', error_message: 'boom', fingerprint: 'abc123', msg: 'unhandled TypeError: boom' })
  await writeFile(join(dir, `error.${time.slice(0, 10)}.1.log`), `${line}\n${line}\n`)
  const admin = 'analytics-admin-key-0123456789'
  const app = await buildTestApp(t, { API_KEYS: `${ANALYST}:analyst,${admin}:admin`, LOG_DIR: dir })
  const errors = await app.inject({ url: '/v1/analytics/errors', headers: auth })
  t.equal(errors.statusCode, 200)
  t.match(errors.json(), { total: 2, previous_total: 0, files_read: 1, patterns: [{ fingerprint: 'abc123', count: 2, trend: 'new', type: 'TypeError', sample_session_ids: [app.conversationRefs.ref(sessionId)] }] },
    'an analyst gets the console\'s reference to each session, not its id, which reads the conversation as written')
  t.match((await app.inject({ url: '/v1/analytics/errors', headers: { authorization: `Bearer ${admin}` } })).json(), { patterns: [{ sample_session_ids: [sessionId] }] }, 'an admin, the ids')

  const stdoutOnly = await buildTestApp(t, { API_KEYS: `${ANALYST}:analyst`, LOG_DIR: '' })
  const refused = await stdoutOnly.inject({ url: '/v1/analytics/errors', headers: auth })
  t.equal(refused.statusCode, 409)
  t.match(refused.json(), { detail: /LOG_DIR is empty/ })
})

t.test('analysts and admins only; a bad period is a 400 naming the field and the limit', async t => {
  const app = await buildTestApp(t, { API_KEYS: `${ANALYST}:analyst` })
  t.equal((await app.inject({ url: '/v1/analytics/usage' })).statusCode, 401)
  for (const [query, field, message] of [
    ['from=yesterday', 'from', /^must match format "date-time"$/],
    ['from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from',
      /^must be before querystring\/to \(2026-02-01T00:00:00\.000Z is not before 2026-01-01T00:00:00\.000Z\)$/],
    ['from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'to', /^must be at most 366 days after querystring\/from$/],
    ['bucket=week', 'bucket', /^must be one of hour, day$/],
    ['bucket=hour&bucket=day', 'bucket', /^must be given once, not 2 times$/],
    ['limit=5', 'limit', /^is not an allowed field$/],
    ['from=0000-01-01T00:00:00Z&to=0000-01-02T00:00:00Z', 'from', /^must be on or after 1970-01-01T00:00:00\.000Z$/],
    ['from=9999-12-30T00:00:00Z&to=9999-12-31T23:59:59.500Z', 'to', /^must be on or before 9999-12-31T23:59:59\.000Z$/]
  ] as const) {
    const response = await app.inject({ url: `/v1/analytics/performance?${query}`, headers: auth })
    t.equal(response.statusCode, 400, query)
    const problem = response.json()
    t.match(problem, { errors: [{ field: `querystring/${field}`, message }] }, query)
    t.equal(problem.errors.length, 1, `${query}: one field named`)
    t.equal(problem.detail, `querystring/${field} ${problem.errors[0].message as string}`, `${query}: the detail says it too`)
  }
})

t.test('every analytics route answers a well-formed 200 for any valid period: empty, one turn without a question, odd bounds', async t => {
  const logDir = await tempDir(t)
  const app = await buildTestApp(t, { API_KEYS: `${ANALYST}:analyst`, LOG_DIR: logDir, KB_SEED_DIR: '' })
  const routes = ['/v1/analytics/usage', '/v1/analytics/performance', '/v1/analytics/errors']
  const check = async (label: string): Promise<void> => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...routes),
      fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
      fc.integer({ min: 1, max: 366 * 86_400_000 }),
      async (url, from, spanMs) => {
        const to = new Date(from.getTime() + spanMs)
        const response = await app.inject({ url, query: { from: from.toISOString(), to: to.toISOString() }, headers: auth })
        t.equal(response.statusCode, 200, `${label}: ${url} from ${from.toISOString()} to ${to.toISOString()}: ${response.body.slice(0, 200)}`)
        t.match(response.json(), { from: from.toISOString(), to: to.toISOString() })
      }), { numRuns: 30 })
  }
  await check('a fresh install')
  t.equal((await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/help' } })).statusCode, 200)
  await check('one command turn, no question')
  const usage = (await app.inject({ url: '/v1/analytics/usage', headers: auth })).json()
  t.match(usage, { turns: 1, turns_by_kind: { command: 1 } })
  t.notOk('answer_rate' in usage, 'no answer rate without a question, rather than a made-up one')
})
