// The SDK bootstrap in the real server process, loaded the way `npm start` loads it (--import in
// ESM): a chat turn becomes one trace, of its own with a link to the caller's span or, for callers
// the team trusts, under the caller's traceparent, with database spans, log lines carrying its id,
// and spans, logs and metrics received by a local OTLP receiver.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { projectRoot } from '../../src/project.js'
import { createServerDatabase, waitFor } from '../helper.js'
import { OtlpReceiver, type ReceivedSpan } from '../otlp-receiver.js'
import { startServer } from '../server-process.js'

const PRELOAD = ['--import', join(projectRoot, 'dist/otel/instrumentation.js')]
const SERVER_KIND = 2

function exportTo (endpoint: string): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_METRIC_EXPORT_INTERVAL: '500', LOG_DIR: '' }
}

// Statement spans come from the database plugin on both engines (src/db/statement-timing.ts).
const serverUrl = process.env.TEST_DATABASE_URL
const engines = serverUrl === undefined || serverUrl === '' ? ['pglite'] : ['pglite', 'postgres']
if (engines.length === 1) t.comment('TEST_DATABASE_URL is not set: the server PostgreSQL run is skipped')

for (const engine of engines) {
  t.test(`${engine}: PARLEY_TRACE_CALLERS=join: a chat turn is one trace under the caller's traceparent, with database spans and its logs`, async t => {
    const receiver = new OtlpReceiver()
    const endpoint = await receiver.start()
    t.teardown(() => receiver.stop())
    const database = engine === 'postgres' ? await createServerDatabase(serverUrl!) : undefined
    if (database !== undefined) t.teardown(() => database.drop())
    // Every statement a span, so that where each hangs in the tree is seen (by default only slow ones are).
    const server = await startServer(t, { ...exportTo(endpoint), PARLEY_TRACE_CALLERS: 'join', DB_QUERY_SPAN_MS: '0', ...(database === undefined ? {} : { DATABASE_URL: database.url }) }, PRELOAD)

    const traceId = randomBytes(16).toString('hex')
    const callerSpanId = randomBytes(8).toString('hex')
    const response = await fetch(`${server.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ message: 'how do I view traces?' })
    })
    t.equal(response.status, 200)
    const body = await response.json() as { trace_id?: string, session_id: string }
    t.equal(response.headers.get('x-trace-id'), traceId, 'the response names the trace')
    t.equal(body.trace_id, traceId, 'and so does the chat body')

    // A turn of that session: its statements (the session's SELECT, the turn's one write) are the turn's own spans.
    const nextTraceId = randomBytes(16).toString('hex')
    const next = await fetch(`${server.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${nextTraceId}-${callerSpanId}-01` },
      body: JSON.stringify({ message: '/help', session_id: body.session_id })
    })
    t.equal(next.status, 200)
    // A caller cannot opt its request out of tracing: its "not sampled" flag is not honoured.
    const unsampledTraceId = randomBytes(16).toString('hex')
    const unsampled = await fetch(`${server.base}/v1/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${unsampledTraceId}-${callerSpanId}-00` },
      body: JSON.stringify({ message: 'how do I view traces?' })
    })
    t.equal(unsampled.headers.get('x-trace-id'), unsampledTraceId, 'a caller\'s unsampled traceparent still names the trace')

    // A query string holds what people typed (the console's searches and user ids): not the span's.
    const queryTraceId = randomBytes(16).toString('hex')
    const paged = await fetch(`${server.base}/v1/sessions/${body.session_id}/messages?limit=5`, { headers: { traceparent: `00-${queryTraceId}-${callerSpanId}-01` } })
    t.equal(paged.status, 200)

    const scrape = await (await fetch(`${server.base}/metrics`)).text()
    t.match(scrape, /^chatbot_turns_total\{kind="answer"/m, 'GET /metrics serves the SDK\'s meter provider: the bot\'s metrics')
    t.match(scrape, /^http_server_request_duration_seconds_count\{/m, 'and the instrumentation\'s')

    t.equal(await server.stop('SIGTERM'), 0, 'SIGTERM exits 0, before SHUTDOWN_TIMEOUT would force it (exit 1)')

    const spans = receiver.spans.filter(span => span.traceId === traceId)
    const root = spans.find(span => span.parentSpanId === callerSpanId)
    t.ok(root, 'the server span is a child of the caller\'s span')
    t.equal(root?.kind, SERVER_KIND)
    t.equal(root?.attributes['http.request.method'], 'POST', 'HTTP attributes follow the stable conventions')
    t.equal(root?.resource['service.name'], 'parley')
    const ids = new Set(spans.map(span => span.spanId))
    t.ok(spans.length > 1 && spans.filter(span => span !== root).every(span => ids.has(span.parentSpanId!)), `every other span of the turn hangs in the same tree (${spans.map(span => span.name).join(', ')})`)
    t.equal(root?.name, 'POST /v1/chat', 'the server span is named by method and route')
    t.equal(root?.attributes['http.route'], '/v1/chat')
    t.equal(spans.filter(span => span.kind === SERVER_KIND).length, 1, 'one server span per request')
    t.notOk('client.address' in (root?.attributes ?? {}), 'the client\'s address is not recorded')
    const named = (name: string) => spans.find(span => span.name === name)
    const turn = named('chat.turn')
    t.match(turn?.attributes, { 'session.id': body.session_id, 'gen_ai.conversation.id': body.session_id, 'parley.reply.kind': 'answer' }, 'the turn span names its session and reply kind')
    t.match(named('retrieval knowledge-base')?.attributes, { 'gen_ai.operation.name': 'retrieval', 'gen_ai.data_source.id': 'knowledge-base', 'gen_ai.request.top_k': 3, 'parley.search.results': Number }, 'the search span follows the GenAI retrieval conventions')
    t.match(named('retrieval knowledge-base')?.attributes, { 'parley.answer.confidence': Number, 'parley.answer.threshold': 0.5, 'parley.answer.coverage': Number, 'parley.answer.relative_score': Number, 'parley.answer.lead': Number }, 'and says why the question was answered')
    t.notOk(JSON.stringify(named('retrieval knowledge-base')?.attributes).includes('view traces'), 'and does not carry the query text')
    // The turn opened a session, so its writes are a transaction, which has a span of its own.
    for (const step of ['retrieval knowledge-base', 'reply.persist']) t.equal(named(step)?.parentSpanId, turn?.spanId, `${step} is a step of the turn`)
    const statements = spans.filter(span => span.attributes['db.system'] === 'postgresql' || span.attributes['db.system.name'] === 'postgresql')
    t.ok(statements.length > 0, `database statements are spans of the turn (${statements.map(span => span.name).join(', ')})`)
    const parentOf = new Map(spans.map(span => [span.spanId, span.parentSpanId]))
    const under = (span: { spanId: string }, ancestor: string | undefined): boolean => {
      for (let id: string | undefined = span.spanId; id !== undefined; id = parentOf.get(id)) if (id === ancestor) return true
      return false
    }
    t.ok(statements.some(span => under(span, named('reply.persist')?.spanId)), 'the turn\'s writes are under reply.persist')
    t.notOk(spans.some(span => /^(session\.resolve|command\.parse|pg-pool\.connect|pg\.connect|pg\.query:.*)$/.test(span.name)), 'no span for parsing, for resolving a session apart from its statement, for a pool checkout, nor pg\'s instrumentation\'s second span of a statement')
    t.notOk(spans.some(span => /^(onRequest|preHandler|onResponse|onSend|handler) /.test(span.name)), 'no span per Fastify hook or route handler by default')
    t.ok(receiver.spans.some(span => span.traceId === unsampledTraceId && span.name === 'chat.turn'), 'and its turn is traced all the same')
    const nextSpans = receiver.spans.filter(span => span.traceId === nextTraceId)
    const nextTurn = nextSpans.find(span => span.name === 'chat.turn')
    const nextStatements = nextSpans.filter(span => span.attributes['db.system'] === 'postgresql' || span.attributes['db.system.name'] === 'postgresql')
    t.equal(nextStatements.length, 2, `a turn of an existing session: two statements (${nextSpans.map(span => span.name).join(', ')})`)
    t.ok(nextStatements.every(span => span.parentSpanId === nextTurn?.spanId), 'each a span of the turn itself: one statement needs no reply.persist around it')
    t.equal(turn?.parentSpanId, root?.spanId, 'the turn is a child of the server span')
    t.match(root?.resource, { 'service.version': String, 'deployment.environment.name': 'development', 'service.instance.id': /^[0-9a-f-]{36}$/ }, 'the resource names version, environment and instance')

    const lines = server.stdout().split('\n').filter(line => line.includes('"msg":"chat.reply_sent"')).map(line => JSON.parse(line) as Record<string, unknown>)
    t.equal(lines[0]?.trace_id, traceId, 'log lines carry the trace id')
    t.ok(spans.some(span => span.spanId === lines[0]?.span_id), 'and the id of the span they were written in')
    t.match(lines[0], { req_id: String, session_id: body.session_id }, 'and the request\'s logging context, which shares one AsyncLocalStorage with the tracing context')
    t.ok(receiver.logs.some(record => record.traceId === traceId && record.body === 'chat.reply_sent'), 'log records reach the collector with the trace id')
    t.ok(receiver.metricNames.has('http.server.request.duration'), `metrics are exported (${[...receiver.metricNames].slice(0, 8).join(', ')} …)`)
    t.ok(receiver.metricNames.has('chatbot_turns'), 'the bot\'s own metrics too')
    t.same([...receiver.metricInstances], [root?.resource['service.instance.id']], 'from the one instance that traced the turn: no worker thread runs an SDK of its own')
    t.notOk(receiver.spans.some(span => span.attributes['url.path'] === '/metrics'), 'the scrape is not traced')
    const queried = receiver.spans.find(span => span.traceId === queryTraceId && span.kind === SERVER_KIND)
    t.equal(queried?.attributes['url.path'], `/v1/sessions/${body.session_id}/messages`, 'url.path is the path, without the query string')
    t.notOk(JSON.stringify(queried?.attributes).includes('limit=5'), 'which no attribute carries')
  })
}

// The test runner's child-process tracking starts servers with --no-warnings: a deprecation would
// not show on stderr here, so it is made to throw.
t.test('the preload uses no deprecated API (module.register is DEP0205 on Node.js 26)', async t => {
  const run = spawnSync(process.execPath, ['--throw-deprecation', ...PRELOAD, '--eval', 'process.exit(0)'], { env: { PATH: process.env.PATH }, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
})

t.test('by default a caller\'s traceparent is a link: two turns sent with the same one are two traces, each kept with its own conversation', async t => {
  const receiver = new OtlpReceiver()
  const endpoint = await receiver.start()
  t.teardown(() => receiver.stop())
  const admin = randomBytes(16).toString('hex')
  const server = await startServer(t, { ...exportTo(endpoint), API_KEYS: `${admin}:admin` }, PRELOAD)
  const callerTraceId = randomBytes(16).toString('hex')
  const callerSpanId = randomBytes(8).toString('hex')
  const turns: Array<{ trace_id: string, session_id: string }> = []
  for (const message of ['how do I view traces?', 'how do sessions expire?']) {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json', traceparent: `00-${callerTraceId}-${callerSpanId}-01` }, body: JSON.stringify({ message }) })
    const body = await response.json() as { trace_id: string, session_id: string }
    t.equal(response.headers.get('x-trace-id'), body.trace_id)
    turns.push(body)
  }
  t.not(turns[0]!.trace_id, callerTraceId, 'the turn\'s trace is its own')
  t.not(turns[0]!.trace_id, turns[1]!.trace_id, 'and each turn has one')
  const headers = { authorization: `Bearer ${admin}` }
  for (const turn of turns) {
    let opened: { session_id?: string, spans?: unknown[] } = {}
    await waitFor(async () => {
      const response = await fetch(`${server.base}/console/api/traces/${turn.trace_id}`, { headers })
      opened = await response.json() as typeof opened
      return response.status === 200 && (opened.spans?.length ?? 0) > 0
    })
    t.equal(opened.session_id, turn.session_id, 'each turn trace is kept under its own conversation, with its spans')
  }
  t.equal(await server.stop('SIGTERM'), 0)
  for (const turn of turns) {
    const root = receiver.spans.find(span => span.traceId === turn.trace_id && span.kind === SERVER_KIND)
    t.equal(root?.parentSpanId ?? '', '', 'the server span is the root of its trace')
    t.match(root?.links, [{ traceId: callerTraceId, spanId: callerSpanId }], 'and links to the caller\'s span')
  }
  t.notOk(receiver.spans.some(span => span.traceId === callerTraceId), 'no span of Parley\'s is in the caller\'s trace')
  // By default (DB_QUERY_SPAN_MS=50) a statement is a span when it is slow: these were not.
  const turnSpans = receiver.spans.filter(span => span.traceId === turns[0]!.trace_id)
  const ms = (span: ReceivedSpan): number => Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6
  t.notOk(turnSpans.some(span => span.attributes['db.system.name'] === 'postgresql' && ms(span) < 50),
    `no fast statement is a span (${turnSpans.map(span => span.name).join(', ')})`)
  t.match(turnSpans.find(span => span.name === 'chat.turn')?.attributes, { 'parley.database_ms': Number }, 'the turn\'s span says how long its statements took')
  t.ok((turnSpans.find(span => span.name === 'chat.turn')?.attributes['parley.database_ms'] as number) > 0)
})

t.test('PARLEY_TRACE_HOOKS=true: a span per hook and around the handler, and log lines keep the request\'s context inside them', async t => {
  const receiver = new OtlpReceiver()
  const endpoint = await receiver.start()
  t.teardown(() => receiver.stop())
  const server = await startServer(t, { ...exportTo(endpoint), PARLEY_TRACE_HOOKS: 'true' }, PRELOAD)
  const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'hooks-1' }, body: JSON.stringify({ message: 'how do I view traces?' }) })
  const body = await response.json() as { trace_id: string, session_id: string }
  t.equal(await server.stop('SIGTERM'), 0)
  const spans = receiver.spans.filter(span => span.traceId === body.trace_id)
  const handler = spans.find(span => span.name.startsWith('handler '))
  t.ok(handler, `the route handler has a span (${spans.map(span => span.name).join(', ')})`)
  t.equal(spans.find(span => span.name === 'chat.turn')?.parentSpanId, handler?.spanId, 'and the turn runs inside it')
  const line = server.stdout().split('\n').filter(text => text.includes('"msg":"chat.reply_sent"')).map(text => JSON.parse(text) as Record<string, unknown>)[0]
  t.match(line, { client_request_id: 'hooks-1', req_id: /^[0-9a-f-]{36}$/, session_id: body.session_id, trace_id: body.trace_id }, 'the line inside the handler\'s span has both contexts')
})

t.test('with a collector listening, what is still queued at a stop is flushed to it', async t => {
  const receiver = new OtlpReceiver()
  const endpoint = await receiver.start()
  t.teardown(() => receiver.stop())
  // Nothing is exported before the stop: only the shutdown's flush sends the turn's spans and lines.
  const server = await startServer(t, { ...exportTo(endpoint), OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_BLRP_SCHEDULE_DELAY: '600000' }, PRELOAD)
  const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'how do I view traces?' }) })
  const { trace_id: traceId } = await response.json() as { trace_id: string }
  t.equal(receiver.spans.length, 0, 'nothing exported yet')
  t.equal(await server.stop('SIGTERM'), 0)
  t.ok(receiver.spans.some(span => span.traceId === traceId && span.name === 'chat.turn'), 'the turn\'s spans, at the stop')
  t.ok(receiver.logs.some(record => record.body === 'chat.reply_sent'), 'and its log records, from the log router\'s worker')
  t.notMatch(server.stderr(), 'not flushed at shutdown')
})

t.test('a flood of 429s: a few of each second\'s spans and lines are exported, the rest counted in a line', async t => {
  const receiver = new OtlpReceiver()
  const endpoint = await receiver.start()
  t.teardown(() => receiver.stop())
  const server = await startServer(t, { ...exportTo(endpoint), NEW_SESSIONS_PER_MINUTE: '1', UNSERVED_PER_SECOND: '3' }, PRELOAD)
  const turn = () => fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'how do I view traces?' }) })
  t.equal((await turn()).status, 200)
  const statuses = await Promise.all(Array.from({ length: 30 }, async () => (await turn()).status))
  t.same(new Set(statuses), new Set([429]), 'thirty refused, within a second or two')
  t.equal(await server.stop('SIGTERM'), 0)
  const refusedSpans = receiver.spans.filter(span => span.kind === SERVER_KIND && span.attributes['http.response.status_code'] === 429)
  t.ok(refusedSpans.length >= 3 && refusedSpans.length <= 9, `three spans a second exported (${refusedSpans.length})`)
  t.ok(receiver.spans.some(span => span.name === 'chat.turn'), 'the answered turn\'s spans all the same')
  const lines = receiver.logs.filter(record => record.body === 'request completed' && record.attributes.status === 429)
  const counted = receiver.logs.filter(record => record.body === 'unserved requests not logged one by one')
  const unlogged = counted.reduce((sum, record) => sum + Number(record.attributes.unlogged), 0)
  t.ok(lines.length >= 3 && lines.length <= 9, `three lines a second (${lines.length})`)
  t.equal(lines.length + unlogged, 30, 'and the others counted, each once')
})

t.test('with a Node.js option a worker thread may not be given, the SDK runs in the main thread alone', async t => {
  const receiver = new OtlpReceiver()
  const endpoint = await receiver.start()
  t.teardown(() => receiver.stop())
  const server = await startServer(t, exportTo(endpoint), ['--max-old-space-size=1024', ...PRELOAD])
  const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'how do I view traces?' }) })
  const { trace_id: traceId } = await response.json() as { trace_id: string }
  t.equal(await server.stop('SIGTERM'), 0)
  const turn = receiver.spans.find(span => span.traceId === traceId && span.name === 'chat.turn')
  t.ok(turn, 'the turn is traced')
  t.ok(receiver.logs.some(record => record.traceId === traceId && record.body === 'chat.reply_sent'), 'its log records come from the log router\'s worker')
  t.same([...receiver.metricInstances], [turn?.resource['service.instance.id']], 'and metrics from the one SDK, the main thread\'s')
})

t.test('with no collector, the server serves, says so once, and still exits on its own', async t => {
  const receiver = new OtlpReceiver()
  const endpoint = await receiver.start()
  await receiver.stop() // nothing listens there any more
  const server = await startServer(t, exportTo(endpoint), PRELOAD)
  for (let i = 0; i < 5; i++) {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: `hello ${i}` }) })
    t.equal(response.status, 200, `turn ${i}`)
    await response.arrayBuffer()
    await new Promise(resolve => setTimeout(resolve, 150))
  }
  // The exporters' flush has a budget of its own: a forced exit at SHUTDOWN_TIMEOUT would be exit 1.
  t.equal(await server.stop('SIGTERM'), 0, 'SIGTERM exits 0, before SHUTDOWN_TIMEOUT would force it')
  const reports = server.stderr().split('\n').filter(line => line.includes('telemetry could not be exported'))
  t.equal(reports.length, 1, 'one line about the missing collector')
  t.match(reports[0], endpoint)
  // Not the flush's budget either: nothing listens there, so nothing was waited for.
  t.match(server.stderr(), `parley: telemetry not flushed at shutdown: no collector listens at ${endpoint}\n`)
})

const NO_EXPORTERS = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' }

t.test('a scrape before any export: /metrics waits for the resource\'s detectors, and says nothing of exports', async t => {
  const server = await startServer(t, NO_EXPORTERS, PRELOAD)
  const scrape = await (await fetch(`${server.base}/metrics`)).text()
  t.match(scrape, /^target_info\{[^}]*service_name="parley"/m, 'target_info names the service')
  t.equal(await server.stop('SIGTERM'), 0)
  // Read unsettled, the resource made the SDK write a diag error, once told as an export failure.
  t.notMatch(server.stderr(), 'telemetry', 'nothing was to be exported, and nothing failed')
})

t.test('an SDK error that is not an export is said as what it is, once', async t => {
  const server = await startServer(t, { ...NO_EXPORTERS, OTEL_TRACES_SAMPLER: 'sometimes' }, PRELOAD)
  const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'hello' }) })
  t.equal(response.status, 200, 'the server serves')
  t.equal(await server.stop('SIGTERM'), 0)
  const said = server.stderr().split('\n').filter(line => line.includes('parley: telemetry'))
  t.match(said, [/^parley: telemetry: .*OTEL_TRACES_SAMPLER value "sometimes"/], 'the SDK\'s own words, once')
  t.equal(said.length, 1, 'and nothing said of an export')
})

t.test('empty or blank OTEL_* variables are unset, as the SDK reads them: the start-up line names what it uses', async t => {
  const blank = { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_PROTOCOL: ' ', OTEL_SERVICE_NAME: '', OTEL_METRIC_EXPORT_INTERVAL: '', OTEL_TRACES_SAMPLER: ' ', LOG_DIR: '' }
  const server = await startServer(t, blank, PRELOAD)
  // Written by the log worker a moment after the server says it listens.
  const startLines = (): string[] => server.stdout().split('\n').filter(line => line.includes('"msg":"parley started"'))
  t.ok(await waitFor(() => startLines().length > 0), 'the start-up line')
  t.match(startLines().map(line => JSON.parse(line) as unknown), [{ telemetry: { endpoint: 'http://localhost:4318', protocol: 'http/protobuf', service: 'parley', sampler: /^parentbased_always_on/ } }])
  const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'hello' }) })
  t.equal(response.status, 200, 'and serves')
  t.equal(await server.stop('SIGTERM'), 0)
})

t.test('OTEL_SDK_DISABLED is read as the SDK reads it: " TRUE" is off, and the start-up line says so', async t => {
  const server = await startServer(t, { OTEL_SDK_DISABLED: ' TRUE', LOG_DIR: '' }, PRELOAD)
  const startLines = (): string[] => server.stdout().split('\n').filter(line => line.includes('"msg":"parley started"'))
  t.ok(await waitFor(() => startLines().length > 0), 'the start-up line')
  t.match(startLines().map(line => JSON.parse(line) as unknown), [{ telemetry: 'off' }])
  t.equal(await server.stop('SIGTERM'), 0)
  t.notMatch(server.stderr(), 'telemetry', 'and no word of an exporter or a flush')
})

t.test('a metric export interval the exporters cannot work with stops the start with the variable named', async t => {
  for (const interval of ['0', '10abc']) {
    await t.rejects(startServer(t, { OTEL_METRIC_EXPORT_INTERVAL: interval, LOG_DIR: '' }, PRELOAD), new RegExp(
      `exited with 1 before listening:[^]*\nparley: OTEL_METRIC_EXPORT_INTERVAL must be a number of milliseconds above 0, not "${interval}"\n`))
  }
})

t.test('a collector that goes away and comes back: losses are counted and reported, export resumes', async t => {
  const receiver = new OtlpReceiver()
  const endpoint = await receiver.start()
  const port = Number(new URL(endpoint).port)
  t.teardown(() => receiver.stop())
  const server = await startServer(t, { ...exportTo(endpoint), PARLEY_TELEMETRY_REPORT_INTERVAL: '1' }, PRELOAD)
  const turn = async (message: string): Promise<string> => {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) })
    t.equal(response.status, 200, `"${message}" answered`)
    return (await response.json() as { trace_id: string }).trace_id
  }
  const arrived = async (traceId: string): Promise<boolean> => await waitFor(() => receiver.spans.some(span => span.traceId === traceId), 10_000, 50)

  t.ok(await arrived(await turn('before')), 'spans arrive while the collector is up')
  await receiver.stop()
  for (let i = 0; i < 3; i++) await turn(`while it is down ${i}`)
  // Metric exports fail on their own timer too, so the first report may name only them: wait for the spans.
  const spansReported = /parley: telemetry dropped in the last \d+ s: [^\n]*\b\d+ spans/
  await waitFor(() => spansReported.test(server.stderr()), 20_000, 100)
  t.match(server.stderr(), spansReported, 'the loss is reported on stderr')
  t.match(await (await fetch(`${server.base}/metrics`)).text(), /^chatbot_telemetry_dropped_total\{signal="spans"[^}]*\} [1-9]/m, 'and counted in /metrics')
  // Log records are exported by the log router's worker thread, which tells the main thread what it lost.
  const logRecordsLost = /^chatbot_telemetry_dropped_total\{signal="log_records"[^}]*\} [1-9]/m
  await waitFor(async () => logRecordsLost.test(await (await fetch(`${server.base}/metrics`)).text()), 20_000, 200)
  t.match(await (await fetch(`${server.base}/metrics`)).text(), logRecordsLost, 'lost log records are counted too')

  await receiver.start(port)
  t.ok(await arrived(await turn('after')), 'export resumes when the collector is back')
  t.equal(await server.stop('SIGTERM'), 0)
})
