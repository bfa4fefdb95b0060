// The span processor that keeps chat turns' spans, on a real tracer provider: spans grouped by
// trace and handed on when the local root ends (a caller's remote parent included), only for
// traces with a chat.turn span, within its bounds, with what does not fit counted. What the turn
// traces make of them is test/src/turn-traces/turn-spans.test.ts.
import t from 'tap'
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api'
import { BasicTracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import {
  TurnSpanCollector, type EndedTurnTrace, type TurnSpanDropReason
} from '../../../src/telemetry/turn-span-collector.js'

function setUp (options: ConstructorParameters<typeof TurnSpanCollector>[0] = {}) {
  const collector = new TurnSpanCollector(options)
  const tracer = new BasicTracerProvider({ spanProcessors: [collector] }).getTracer('test')
  const turns: EndedTurnTrace[] = []
  const drops: Array<[TurnSpanDropReason, number]> = []
  collector.setSink({ turn: ended => turns.push(ended), dropped: (reason, count) => drops.push([reason, count]) })
  return { collector, tracer, turns, drops }
}

const child = (tracer: Tracer, parent: Span, name: string, attributes = {}): Span =>
  tracer.startSpan(name, { attributes }, trace.setSpan(ROOT_CONTEXT, parent))

/** A chat request's spans, the root left open: server span, turn, search and a statement. */
function chatRequest (tracer: Tracer, parentContext = ROOT_CONTEXT) {
  const root = tracer.startSpan('POST /v1/chat', { kind: SpanKind.SERVER }, parentContext)
  const turn = child(tracer, root, 'chat.turn', { 'session.id': '52c16b89-9200-4a05-9159-9deabba9423a' })
  const search = child(tracer, turn, 'search', { 'parley.search.results': 3 })
  search.end()
  const statement = child(tracer, turn, 'SELECT sessions', { 'db.system.name': 'postgresql' })
  statement.end()
  turn.setAttribute('parley.turn', 3)
  turn.end()
  root.setAttribute('http.response.status_code', 200)
  return root
}

t.test('a chat turn\'s spans are handed on, with its root and turn, when its root span ends', async t => {
  const { collector, tracer, turns } = setUp()
  const root = chatRequest(tracer)
  t.equal(turns.length, 0, 'nothing before the root ends')
  t.equal(collector.openTraces(), 1)
  root.end()
  t.equal(turns.length, 1)
  t.equal(collector.openTraces(), 0, 'and nothing is held after it')
  const [ended] = turns
  t.equal(ended!.traceId, root.spanContext().traceId)
  t.equal(ended!.root, root as unknown as ReadableSpan, 'the root')
  t.equal(ended!.turn.name, 'chat.turn')
  t.same(ended!.spans.map(span => span.name).sort(), ['POST /v1/chat', 'SELECT sessions', 'chat.turn', 'search'])
})

t.test('a streamed reply: the request\'s span ends as the stream begins, and the trace waits for its turn', async t => {
  const { collector, tracer, turns } = setUp()
  const root = tracer.startSpan('POST /v1/chat', { kind: SpanKind.SERVER })
  const turn = child(tracer, root, 'chat.turn', { 'parley.turn': 1 })
  child(tracer, turn, 'search').end()
  // @fastify/otel ends the request's span at onSend, when the stream is handed to the response.
  root.end()
  t.equal(turns.length, 0, 'not handed on while the turn is writing')
  await new Promise(resolve => setTimeout(resolve, 30))
  child(tracer, turn, 'chat scripted-model').end()
  turn.end()
  t.equal(turns.length, 1, 'handed on when the turn ends')
  t.equal(collector.openTraces(), 0)
  t.same(turns[0]!.spans.map(span => span.name).sort(), ['POST /v1/chat', 'chat scripted-model', 'chat.turn', 'search'], 'with every span')
  t.equal(turns[0]!.root, root as unknown as ReadableSpan, 'and the request\'s span as its root')

  // A request whose root ends first and that has no turn in flight is let go as before.
  const other = tracer.startSpan('GET /health', { kind: SpanKind.SERVER })
  child(tracer, other, 'SELECT 1').end()
  other.end()
  t.equal(collector.openTraces(), 0, 'nothing held for it')
})

t.test('under a caller\'s traceparent (a remote parent), the server span is the local root', async t => {
  const { tracer, turns } = setUp()
  const caller = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: true }
  chatRequest(tracer, trace.setSpanContext(ROOT_CONTEXT, caller)).end()
  t.equal(turns.length, 1)
  t.equal(turns[0]!.traceId, caller.traceId)
  t.equal(turns[0]!.root.name, 'POST /v1/chat')
})

t.test('other requests\' traces are let go when their root ends', async t => {
  const { collector, tracer, turns } = setUp()
  const root = tracer.startSpan('GET /v1/sessions/:id', { kind: SpanKind.SERVER })
  child(tracer, root, 'SELECT sessions').end()
  root.end()
  tracer.startSpan('SELECT 1').end()
  t.equal(turns.length, 0)
  t.equal(collector.openTraces(), 0)
})

t.test('a span that ends after its trace\'s root holds no place among the open traces', async t => {
  const { collector, tracer, turns, drops } = setUp({ maxOpenTraces: 2 })
  for (let i = 0; i < 5; i++) {
    const root = chatRequest(tracer)
    const late = child(tracer, root, 'SELECT late')
    root.end()
    late.end()
  }
  t.equal(collector.openTraces(), 0, 'no trace left open by a late span')
  t.equal(turns.length, 5)
  t.same(drops, [], 'so none is refused for want of room')
})

t.test('with no sink (the app keeps no turn traces), nothing is held', async t => {
  const { collector, tracer, turns } = setUp()
  collector.setSink(undefined)
  chatRequest(tracer)
  t.equal(collector.openTraces(), 0)
  t.equal(turns.length, 0)
})

t.test('bounds: open traces, spans per trace, and roots that never end', async t => {
  await t.test('a trace that finds no room is counted once and not kept', async t => {
    const { collector, tracer, turns, drops } = setUp({ maxOpenTraces: 2 })
    const open = [chatRequest(tracer), chatRequest(tracer)]
    const third = chatRequest(tracer)
    t.equal(collector.openTraces(), 2)
    t.same(drops, [['open_traces', 1]], 'three spans of the third ended: one trace dropped')
    third.end()
    t.equal(turns.length, 0, 'its root ends: nothing to hand on')
    for (const root of open) root.end()
    t.equal(turns.length, 2, 'the traces that had room are handed on')
    chatRequest(tracer).end()
    t.equal(turns.length, 3, 'and once they are gone there is room again')
    t.same(drops, [['open_traces', 1]], 'and no further drop was told')
  })

  await t.test('a trace past its spans is kept truncated, its root included, and counted', async t => {
    const { tracer, turns, drops } = setUp({ maxSpansPerTrace: 2 })
    chatRequest(tracer).end()
    t.same(turns[0]!.spans.map(span => span.name), ['search', 'SELECT sessions', 'POST /v1/chat'])
    t.same(drops, [['spans_truncated', 1]])
  })

  await t.test('a chat trace whose root never ends is evicted after the timeout, when the next trace opens', async t => {
    let now = 0
    const { collector, tracer, turns, drops } = setUp({ timeoutMs: 60_000, now: () => now })
    chatRequest(tracer)
    const other = tracer.startSpan('GET /v1/sessions', { kind: SpanKind.SERVER })
    child(tracer, other, 'SELECT sessions').end()
    now += 59_999
    chatRequest(tracer).end()
    t.equal(collector.openTraces(), 2, 'not yet')
    now += 1
    chatRequest(tracer).end()
    t.equal(collector.openTraces(), 0, 'both old traces evicted')
    t.same(drops, [['root_never_ended', 1]], 'only the chat trace is counted: the other was no turn')
    t.equal(turns.length, 2)
  })
})
