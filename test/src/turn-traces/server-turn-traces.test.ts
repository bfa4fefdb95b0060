// In the real server with the SDK preloaded as `npm start` loads it, and no collector at all
// (every OTLP exporter off): a chat turn's row holds its span tree and its log lines, and its
// messages carry the same trace id. Read from the data folder once the server has shut down, which
// also shows that what was queued is written on SIGTERM.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { projectRoot } from '../../../src/project.js'
import { openPGliteDatabase } from '../../../src/db/pglite-database.js'
import type { TurnSpan, TurnTrace } from '../../../src/turn-traces/turn-trace.js'
import { openDatabase } from '../../../src/db/open-database.js'
import { createServerDatabase, migratedDataDir } from '../../helper.js'
import { startServer } from '../../server-process.js'
import { startScriptedModel } from '../../../bench/scripted-model.js'

const PRELOAD = ['--import', join(projectRoot, 'dist/otel/instrumentation.js')]
const serverUrl = process.env.TEST_DATABASE_URL === '' ? undefined : process.env.TEST_DATABASE_URL
const NO_COLLECTOR = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }

t.test('a chat turn\'s row: its spans under a trusted caller\'s traceparent, its log lines, and its messages point at it', async t => {
  const dataDir = await migratedDataDir(t)
  // Every statement a span (by default only slow ones are), so that the row's tree shows them.
  const server = await startServer(t, { ...NO_COLLECTOR, DATA_DIR: dataDir, PARLEY_TRACE_CALLERS: 'join', DB_QUERY_SPAN_MS: '0' }, PRELOAD)
  const traceId = randomBytes(16).toString('hex')
  const callerSpanId = randomBytes(8).toString('hex')
  const chat = async (body: object, trace = randomBytes(16).toString('hex')) => await fetch(`${server.base}/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', traceparent: `00-${trace}-${callerSpanId}-01` },
    body: JSON.stringify(body)
  })
  const first = await chat({ message: 'how do I view traces?' }, traceId)
  t.equal(first.status, 200)
  const { session_id: sessionId, trace_id: returned } = await first.json() as { session_id: string, trace_id: string }
  t.equal(returned, traceId)
  const nextTraceId = randomBytes(16).toString('hex')
  t.equal((await chat({ message: '/help', session_id: sessionId }, nextTraceId)).status, 200)
  t.equal((await fetch(`${server.base}/health`)).status, 200)
  t.equal(await server.stop('SIGTERM'), 0)

  const db = await openPGliteDatabase(dataDir)
  t.teardown(() => db.close())
  const { rows } = await db.query<TurnTrace & { started_at: Date }>('SELECT * FROM turn_traces ORDER BY started_at')
  t.same(rows.map(row => row.trace_id), [traceId, nextTraceId], 'one row per chat turn, keyed by its trace id; none for /health')
  const row = rows[0]!
  t.match(row, { session_id: sessionId, turn: 1, status: 'ok', status_code: 200, error: null })

  const spans = row.spans
  const named = (name: string): TurnSpan | undefined => spans.find(span => span.name === name)
  const root = named('POST /v1/chat')
  t.ok(root, `the server span is there (${spans.map(span => span.name).join(', ')})`)
  t.equal(root?.parent_span_id, undefined, 'with no parent: the caller\'s span is not in the process')
  t.equal(root?.kind, 'server')
  t.equal(root?.start_ms, 0, 'offsets count from the earliest span, the server span')
  t.equal(root?.attributes['http.response.status_code'], 200)
  const turn = named('chat.turn')
  t.equal(turn?.parent_span_id, root?.span_id, 'the turn is a child of the server span')
  t.match(turn?.attributes, { 'session.id': sessionId, 'parley.turn': 1, 'parley.reply.kind': 'answer' })
  t.equal(named('retrieval knowledge-base')?.parent_span_id, turn?.span_id, 'the search is a step of the turn')
  const statements = spans.filter(span => span.attributes['db.system.name'] === 'postgresql')
  t.ok(statements.length >= 2, `the turn's SQL statements are spans (${statements.map(span => span.name).join(', ')})`)
  const byId = new Map(spans.map(span => [span.span_id, span]))
  const ancestors = (span: TurnSpan): string[] => {
    const names: string[] = []
    for (let parent = byId.get(span.parent_span_id ?? ''); parent !== undefined; parent = byId.get(parent.parent_span_id ?? '')) names.push(parent.name)
    return names
  }
  t.ok(statements.every(span => ancestors(span).includes('chat.turn')), 'each statement hangs under the turn')
  t.ok(spans.filter(span => span !== root).every(span => byId.has(span.parent_span_id!)), 'every other span has its parent in the row')
  // Within a microsecond: offsets and durations are rounded to it apart.
  for (const span of spans.filter(span => span !== root)) {
    const parent = byId.get(span.parent_span_id!)!
    t.ok(span.start_ms >= parent.start_ms && span.start_ms + span.duration_ms <= parent.start_ms + parent.duration_ms + 0.002, `${span.name} lies within ${parent.name}`)
  }
  t.ok(row.duration_ms >= (root?.duration_ms ?? Infinity), 'the row lasts as long as its server span')
  t.notOk(JSON.stringify(spans).includes('view traces'), 'no chat text in any span')

  const messages = row.logs.map(line => line.msg)
  for (const msg of ['chat.message_received', 'chat.reply_sent', 'request completed']) t.ok(messages.includes(msg), `the ${msg} line is kept`)
  t.ok(row.logs.every(line => line.trace_id === traceId), 'every kept line is of this trace')

  const { rows: stored } = await db.query<{ role: string, turn: number, trace_id: string | null }>('SELECT role, turn, trace_id FROM messages WHERE session_id = $1 ORDER BY turn, role', [sessionId])
  t.same(stored, [{ role: 'bot', turn: 1, trace_id: traceId }, { role: 'user', turn: 1, trace_id: traceId }, { role: 'bot', turn: 2, trace_id: nextTraceId }, { role: 'user', turn: 2, trace_id: nextTraceId }], 'both messages of each turn carry its trace id')
  t.match(rows[1], { session_id: sessionId, turn: 2 })
})

// On the server PostgreSQL, where a turn waits on the database's I/O and the next ones are read
// meanwhile (on the embedded database a turn holds the event loop, and requests rarely wait in line).
t.test('under pressure every turn keeps its duration and parts; a turn let go is written whole when rated down or opened', { skip: serverUrl === undefined ? 'TEST_DATABASE_URL is not set' : false }, async t => {
  const { url, drop } = await createServerDatabase(serverUrl!)
  t.teardown(drop)
  const admin = 'admin-key-0123456789abcdef'
  // One turn at a time, so that twenty at once wait in line behind each other.
  const server = await startServer(t, { ...NO_COLLECTOR, DATABASE_URL: url, MAX_TURNS_IN_FLIGHT: '1', API_KEYS: `${admin}:admin` }, PRELOAD)
  const chat = async (body: object) => await (await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as { session_id: string, trace_id: string, kind: string }
  // Warm first: a cold process's first turns are slow, and a slow turn is kept whole.
  for (let i = 0; i < 10; i++) await chat({ message: 'how do sessions expire?' })
  const burst = await Promise.all(Array.from({ length: 20 }, async () => await chat({ message: 'how do I view traces?' })))
  t.ok(burst.every(reply => reply.kind === 'answer'))
  const status = await (await fetch(`${server.base}/status`, { headers: { authorization: `Bearer ${admin}` } })).json() as { turn_traces: { held: number } }
  t.ok(status.turn_traces.held > 0, `some turns ended with others in line, their spans and lines held (${status.turn_traces.held})`)
  // Once the burst's rows are written (the recorder's timer), every turn is rated down but one, which an analyst opens.
  await new Promise(resolve => setTimeout(resolve, 1500))
  const [opened, ...rated] = burst
  for (const reply of rated) await chat({ message: '/feedback down wrong', session_id: reply.session_id })
  const trace = await (await fetch(`${server.base}/console/api/traces/${opened!.trace_id}`, { headers: { authorization: `Bearer ${admin}` } })).json() as TurnTrace
  t.equal(trace.let_go, null, 'opened: written whole before it is shown')
  t.ok(trace.spans.length > 0 && trace.logs.length > 0)
  t.equal(await server.stop('SIGTERM'), 0)

  const db = await openDatabase({ databaseUrl: url, dataDir: 'unused', poolSize: 1 })
  t.teardown(() => db.close())
  const { rows } = await db.query<TurnTrace>('SELECT * FROM turn_traces WHERE trace_id = ANY($1)', [burst.map(reply => reply.trace_id)])
  t.equal(rows.length, 20, 'every turn of the burst has its row')
  for (const row of rows) {
    const parts = row.parts!
    t.ok(parts.database_ms > 0 && parts.search_ms > 0, `${row.trace_id}: its parts`)
    t.ok(parts.admission_ms + parts.database_ms + parts.search_ms <= row.duration_ms, 'within its duration, from arrival to the last byte')
    t.equal(row.let_go, null, 'rated down or opened: no longer let go')
    t.ok(row.spans.length > 0 && row.logs.length > 0, 'with its spans and lines')
  }
  t.ok(Math.max(...rows.map(row => row.parts!.admission_ms)) > 0, 'turns behind others waited for admission')
})

t.test('with a model writing a streamed answer, its call is one span, Parley\'s, with the HTTP request under it, in the trace the last event names', async t => {
  const model = await startScriptedModel(t)
  const dataDir = await migratedDataDir(t)
  const server = await startServer(t, { ...NO_COLLECTOR, DATA_DIR: dataDir, LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model' }, PRELOAD)
  // Streamed: its last event names the trace, as the JSON response does.
  const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ message: 'how do I view traces?' }) })
  const done = (await response.text()).split('\n\n').find(event => event.startsWith('event: done\n'))
  const result = JSON.parse(done!.slice('event: done\ndata: '.length))
  t.match(result, { kind: 'answer', generation: { by: 'model' }, trace_id: /^[0-9a-f]{32}$/ })
  t.equal(await server.stop('SIGTERM'), 0)

  const db = await openPGliteDatabase(dataDir)
  t.teardown(() => db.close())
  const { rows } = await db.query<Pick<TurnTrace, 'spans' | 'trace_id'>>('SELECT trace_id, spans FROM turn_traces')
  t.equal(rows[0]?.trace_id, result.trace_id, 'the done event\'s trace id is the turn\'s trace')
  const spans = rows[0]!.spans
  const calls = spans.filter(span => span.name === 'chat scripted-model')
  t.equal(calls.length, 1, `one span for the model call (${spans.map(span => span.name).join(', ')})`)
  t.match(calls[0]?.attributes, { 'gen_ai.provider.name': 'openai', 'parley.prompt': 'grounded-answer@2' }, 'Parley\'s, after the pinned conventions')
  t.notOk(spans.some(span => 'gen_ai.system' in span.attributes), 'no span after the older conventions')
  t.ok(spans.some(span => span.parent_span_id === calls[0]?.span_id && span.kind === 'client' && span.name === 'POST'), 'the HTTP request to the model hangs under it')
})
