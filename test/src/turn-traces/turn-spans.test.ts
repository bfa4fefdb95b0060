// A chat turn's ended trace made into the spans' half of its turn trace: offsets from the
// earliest span, parents within the process only, the turn's session and number, and every
// message scrubbed.
import t from 'tap'
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api'
import {
  BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan
} from '@opentelemetry/sdk-trace-base'
import { traceMs, turnSpanHalf } from '../../../src/turn-traces/turn-spans.js'
import type { EndedTurnTrace } from '../../../src/telemetry/turn-span-collector.js'

function setUp () {
  const exporter = new InMemorySpanExporter()
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test')
  /** The trace as the span collector would hand it on, once its spans have ended. */
  const ended = (root: Span, turn: Span): EndedTurnTrace => {
    const spans = exporter.getFinishedSpans()
    const find = (span: Span): ReadableSpan => spans.find(found => found.spanContext().spanId === span.spanContext().spanId)!
    return { traceId: root.spanContext().traceId, root: find(root), turn: find(turn), spans }
  }
  return { tracer, ended }
}

const child = (tracer: Tracer, parent: Span, name: string, attributes = {}): Span =>
  tracer.startSpan(name, { attributes }, trace.setSpan(ROOT_CONTEXT, parent))

t.test('the spans as the console shows them, and the turn\'s session, number and status', async t => {
  const { tracer, ended } = setUp()
  const root = tracer.startSpan('POST /v1/chat', { kind: SpanKind.SERVER })
  const turn = child(tracer, root, 'chat.turn', { 'session.id': '52c16b89-9200-4a05-9159-9deabba9423a' })
  child(tracer, turn, 'search', { 'parley.search.results': 3, 'parley.search.terms': ['a', 'b'] }).end()
  turn.setAttribute('parley.turn', 3)
  turn.end()
  root.setAttribute('http.response.status_code', 200)
  root.end()
  const half = turnSpanHalf(ended(root, turn))
  t.match(half, { sessionId: '52c16b89-9200-4a05-9159-9deabba9423a', turn: 3, statusCode: 200, error: undefined })
  const byName = Object.fromEntries(half.spans().map(span => [span.name, span]))
  t.equal(byName['POST /v1/chat']!.parent_span_id, undefined, 'the root has no parent')
  t.equal(byName['POST /v1/chat']!.kind, 'server')
  t.equal(byName['POST /v1/chat']!.start_ms, 0, 'offsets from the earliest span, the root')
  t.equal(byName['chat.turn']!.parent_span_id, byName['POST /v1/chat']!.span_id)
  t.equal(byName.search!.parent_span_id, byName['chat.turn']!.span_id)
  t.ok(half.spans().every(span => span.start_ms >= 0 && span.duration_ms >= 0))
  t.same(byName.search!.attributes, { 'parley.search.results': 3, 'parley.search.terms': '["a","b"]' },
    'attributes as they were, an array as its JSON')
  const { startTime } = ended(root, turn).root
  t.equal(half.startedAt.getTime(), Math.floor(startTime[0] * 1000 + startTime[1] / 1e6), 'the row starts when the root did')
})

t.test('a streamed turn lasts until the turn ended, not the request\'s span', async t => {
  const { tracer, ended } = setUp()
  const root = tracer.startSpan('POST /v1/chat', { kind: SpanKind.SERVER })
  const turn = child(tracer, root, 'chat.turn')
  root.end()
  await new Promise(resolve => setTimeout(resolve, 30))
  turn.end()
  const trace = ended(root, turn)
  const ms = (time: [number, number]): number => time[0] * 1000 + time[1] / 1e6
  t.equal(turnSpanHalf(trace).durationMs, traceMs(ms(trace.turn.endTime) - ms(trace.root.startTime)))
  t.ok(turnSpanHalf(trace).durationMs >= 29)
})

t.test('under a caller\'s traceparent, the caller\'s span is not named as a parent', async t => {
  const { tracer, ended } = setUp()
  const caller = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: true }
  const root = tracer.startSpan('POST /v1/chat', { kind: SpanKind.SERVER }, trace.setSpanContext(ROOT_CONTEXT, caller))
  const turn = child(tracer, root, 'chat.turn')
  turn.end()
  root.end()
  const half = turnSpanHalf(ended(root, turn))
  t.equal(half.traceId, caller.traceId)
  t.equal(half.spans().find(span => span.name === 'POST /v1/chat')!.parent_span_id, undefined)
})

t.test('a failed step keeps its exception and status message, scrubbed', async t => {
  const { tracer, ended } = setUp()
  const root = tracer.startSpan('POST /v1/chat', { kind: SpanKind.SERVER })
  const turn = child(tracer, root, 'chat.turn')
  turn.recordException(new Error('no route to someone@example.com'))
  turn.setStatus({ code: SpanStatusCode.ERROR, message: 'no route to someone@example.com' })
  turn.end()
  root.setAttribute('http.response.status_code', 500)
  root.end()
  const half = turnSpanHalf(ended(root, turn))
  t.match(half.spans().find(span => span.name === 'chat.turn'), {
    status: 'error',
    status_message: 'no route to [EMAIL]',
    attributes: { 'exception.type': 'Error', 'exception.message': 'no route to [EMAIL]' }
  })
  t.equal(half.error, 'no route to [EMAIL]', 'a 5xx\'s error is the half\'s')
})

t.test('a 4xx is the caller\'s error, not the turn\'s', async t => {
  const { tracer, ended } = setUp()
  const root = tracer.startSpan('POST /v1/chat', { kind: SpanKind.SERVER })
  const turn = child(tracer, root, 'chat.turn')
  turn.setStatus({ code: SpanStatusCode.ERROR, message: 'session not found' })
  turn.end()
  root.setAttribute('http.response.status_code', 404)
  root.end()
  t.equal(turnSpanHalf(ended(root, turn)).error, undefined)
})

t.test('a child that seems to end after its parent by less than a millisecond is drawn within it', async t => {
  const { tracer, ended } = setUp()
  const at = (msFromEpoch: number): [number, number] => [Math.floor(msFromEpoch / 1000), Math.round((msFromEpoch % 1000) * 1e6)]
  // As the SDK stamps them: whole-millisecond starts, precise durations.
  const root = tracer.startSpan('POST /v1/chat', { kind: SpanKind.SERVER, startTime: at(1_000_000) })
  const turn = tracer.startSpan('chat.turn', { startTime: at(1_000_001) }, trace.setSpan(ROOT_CONTEXT, root))
  const step = tracer.startSpan('reply.persist', { startTime: at(1_000_002) }, trace.setSpan(ROOT_CONTEXT, turn))
  const streamed = tracer.startSpan('chat.stream', { startTime: at(1_000_003) }, trace.setSpan(ROOT_CONTEXT, root))
  step.end(at(1_000_007.5))
  turn.end(at(1_000_007.434))
  root.end(at(1_000_007.423))
  streamed.end(at(1_000_040))
  const byName = Object.fromEntries(turnSpanHalf(ended(root, turn)).spans().map(span => [span.name, span]))
  t.match(byName['chat.turn'], { start_ms: 0.989, duration_ms: 6.434 }, 'moved back by its 0.011 ms overhang, its duration kept')
  t.match(byName['reply.persist'], { start_ms: 1.923, duration_ms: 5.5 }, 'and its child within where it now ends')
  t.match(byName['chat.stream'], { start_ms: 3, duration_ms: 37 }, 'a longer overhang is real, and kept')
})

t.test('spans one after another within a millisecond are drawn one after another, on the precise clock', async t => {
  const { tracer, ended } = setUp()
  const busy = (ms: number): void => { const until = performance.now() + ms; while (performance.now() < until); }
  const root = tracer.startSpan('POST /v1/chat', { kind: SpanKind.SERVER })
  const turn = child(tracer, root, 'chat.turn')
  for (const name of ['SELECT sessions', 'INSERT sessions', 'WITH sessions']) {
    const statement = child(tracer, turn, name)
    busy(0.2)
    statement.end()
  }
  turn.end()
  root.end()
  const spans = turnSpanHalf(ended(root, turn)).spans()
  const statements = spans.filter(span => span.kind === 'internal' && span.name !== 'chat.turn')
  t.equal(statements.length, 3)
  for (let i = 1; i < statements.length; i++) {
    const before = statements[i - 1]!
    t.ok(statements[i]!.start_ms >= before.start_ms + before.duration_ms - 0.001,
      `${statements[i]!.name} starts after ${before.name} ended (${statements[i]!.start_ms} ms, ${before.start_ms} + ${before.duration_ms})`)
  }
})
