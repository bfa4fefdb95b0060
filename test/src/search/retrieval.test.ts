// retrieve(): a knowledge-base search as a turn makes it, seen from outside. What the search
// returned comes back as it was; its time goes to the turn's parts and, with instruments, to the
// search metrics with its number of results; explain() says why, on the `retrieval knowledge-base`
// span (caught by an in-memory exporter) and on the fields it gathers for the turn's line
// (chat.reply_sent, written by the turn), logging no line of its own.
import t from 'tap'
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { AggregationTemporality, MeterProvider, MetricReader, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { measureTurnParts, runWithLogger, turnLineFields } from '../../../src/logging/log-context.js'
import { createLogger } from '../../../src/logging/logger.js'
import type { TurnParts } from '../../../src/logging/turn-parts.js'
import { splitIntoPassages } from '../../../src/search/passages.js'
import { retrieve, type Explained } from '../../../src/search/retrieval.js'
import { SearchEngine, type SearchHit } from '../../../src/search/search-engine.js'
import { createInstruments } from '../../../src/telemetry/metrics.js'

class TestReader extends MetricReader {
  constructor () { super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE }) }
  protected async onForceFlush (): Promise<void> {}
  protected async onShutdown (): Promise<void> {}
}

const spans = new InMemorySpanExporter()
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }))

const engine = new SearchEngine()
engine.upsert({ id: 'returns', title: 'Returns', passages: splitIntoPassages('Items can be returned within thirty days.') })
engine.upsert({ id: 'refunds', title: 'Refunds', passages: splitIntoPassages('Refunds for items returned reach your card in a week.') })
engine.upsert({ id: 'delivery', title: 'Delivery', passages: splitIntoPassages('Parcels are delivered within two working days.') })

/** Search metrics of their own, read as histograms. */
function metrics () {
  const reader = new TestReader()
  const instruments = createInstruments(new MeterProvider({ readers: [reader] }).getMeter('test'))
  const histogram = async (name: string): Promise<Histogram[]> => {
    const { resourceMetrics } = await reader.collect() as { resourceMetrics: ResourceMetrics }
    const metric = resourceMetrics.scopeMetrics.flatMap(scope => scope.metrics).find(metric => metric.descriptor.name === name)
    return (metric?.dataPoints ?? []).map(point => point.value as Histogram)
  }
  return { instruments, histogram }
}

/** Runs fn as a turn does: its lines kept as written, its parts measured, its line's fields gathered. */
function inTurn<T> (fn: () => T): { result: T, lines: Array<Record<string, unknown>>, parts: TurnParts, line: Record<string, unknown> } {
  const lines: Array<Record<string, unknown>> = []
  const destination = { write: (line: string) => { lines.push(JSON.parse(line)) } }
  const logger = createLogger({ level: 'info', service: 'parley', version: 'test', env: 'test', destination })
  let parts: TurnParts | undefined
  let line: Record<string, unknown> | undefined
  const result = runWithLogger(logger, () => { parts = measureTurnParts(); line = turnLineFields(); return fn() }, { req_id: 'r-1' })
  return { result, lines, parts: parts!, line: line! }
}

/** Holds the thread for at least `ms` of the monotonic clock, as a slow search would. */
function busy (ms: number): void {
  const started = performance.now()
  while (performance.now() - started < ms) { /* searching */ }
}

const RETRIEVAL = { 'gen_ai.operation.name': 'retrieval', 'gen_ai.data_source.id': 'knowledge-base' }
const finished = (): ReadableSpan[] => spans.getFinishedSpans()

t.beforeEach(() => { spans.reset() })

t.test('a search with hits: returned as found, timed, counted, explained on its span and the turn\'s line', async t => {
  const { instruments, histogram } = metrics()
  const hits = engine.search('items returned', 3)
  t.same(hits.map(hit => hit.docId), ['returns', 'refunds'], 'two documents found')
  const found = { hits, extra: 'the caller\'s own' }
  let searches = 0
  const explainedWith: unknown[] = []
  const explain = (what: typeof found): Explained => {
    explainedWith.push(what)
    return { decision: 'answer', why: { confidence: 0.9, threshold: 0.5, coverage: 1 } }
  }

  const { result, lines, parts, line } = inTurn(() => retrieve(3, () => { searches++; busy(5); return found }, { instruments, explain }))
  t.equal(result, found, 'what the search returned, the very object')
  t.equal(searches, 1, 'searched once')
  t.equal(explainedWith.length, 1, 'explained once')
  t.equal(explainedWith[0], found, 'with what was found')

  t.same(lines, [], 'no line of its own')
  t.same({ ...line, search_ms: 0 }, {
    results: 2,
    top_doc_id: 'returns',
    decision: 'answer',
    confidence: 0.9,
    threshold: 0.5,
    coverage: 1,
    search_ms: 0
  }, 'the turn\'s line gets the results, the best document and why (its top_score is the reply\'s)')
  t.ok(parts.search_ms >= 5, `the search's own time is in it (${parts.search_ms} ms)`)
  t.equal(line.search_ms, Math.round(parts.search_ms * 100) / 100, 'the line has the turn\'s search time, to a hundredth of a millisecond')
  t.same({ ...parts, search_ms: 0 }, { admission_ms: 0, database_ms: 0, search_ms: 0, model_ms: 0 }, 'and no other part')

  t.match(await histogram('chatbot_search_duration_seconds'), [{ count: 1, sum: parts.search_ms / 1000 }], 'the time, in seconds')
  t.match(await histogram('chatbot_search_results'), [{ count: 1, sum: 2, min: 2, max: 2 }], 'the number of documents found')

  t.equal(finished().length, 1, 'one span')
  const span = finished()[0]!
  t.equal(span.name, 'retrieval knowledge-base')
  t.equal(span.kind, SpanKind.INTERNAL)
  t.equal(span.status.code, SpanStatusCode.UNSET)
  t.same(span.attributes, {
    ...RETRIEVAL,
    'gen_ai.request.top_k': 3,
    'parley.search.results': 2,
    'parley.search.top_score': hits[0]!.score,
    'parley.search.top_doc_id': 'returns',
    'parley.answer.decision': 'answer',
    'parley.answer.confidence': 0.9,
    'parley.answer.threshold': 0.5,
    'parley.answer.coverage': 1
  }, 'the request, the best document and why: never the words searched')
})

t.test('a search without hits, nor instruments, nor explain', async t => {
  const empty = { hits: [] as SearchHit[] }
  const { result, lines, parts, line } = inTurn(() => retrieve(5, () => empty))
  t.equal(result, empty)
  t.same(lines, [])
  t.match(line, { results: 0, top_doc_id: null })
  t.notOk('decision' in line || 'confidence' in line, 'no decision, since nothing explained it')
  t.equal(line.search_ms, Math.round(parts.search_ms * 100) / 100)
  t.same(finished().map(span => span.attributes), [{ ...RETRIEVAL, 'gen_ai.request.top_k': 5, 'parley.search.results': 0 }], 'no best document')
})

t.test('outside a turn, a refusal: counted and explained, with no turn to add its time to', async t => {
  const { instruments, histogram } = metrics()
  const found = { hits: engine.search('bicycles', 3) }
  t.same(found.hits, [], 'nothing found')
  const result = retrieve(3, () => found, { instruments, explain: () => ({ decision: 'no_answer', why: { confidence: 0.1, threshold: 0.5 } }) })
  t.equal(result, found)
  t.match(await histogram('chatbot_search_results'), [{ count: 1, sum: 0 }], 'a search that found nothing is counted too')
  t.match(await histogram('chatbot_search_duration_seconds'), [{ count: 1 }])
  t.same(finished().map(span => span.attributes), [{
    ...RETRIEVAL,
    'gen_ai.request.top_k': 3,
    'parley.search.results': 0,
    'parley.answer.decision': 'no_answer',
    'parley.answer.confidence': 0.1,
    'parley.answer.threshold': 0.5
  }])
})

t.test('two searches of one turn: their times add up', async t => {
  const { instruments, histogram } = metrics()
  const { lines, parts, line } = inTurn(() => {
    retrieve(3, () => { busy(2); return { hits: engine.search('returned', 3) } }, { instruments })
    retrieve(1, () => { busy(2); return { hits: engine.search('parcels', 1) } }, { instruments })
  })
  t.same(lines, [])
  t.match(line, { results: 1, top_doc_id: 'delivery' }, 'the turn\'s line names the later search')
  t.ok((line.search_ms as number) >= 4, `both timed (${String(line.search_ms)} ms)`)
  t.ok(Math.abs(parts.search_ms - (line.search_ms as number)) <= 0.01, 'the line\'s search time is both searches\', as the turn\'s parts have it')
  const [duration] = await histogram('chatbot_search_duration_seconds')
  t.equal(duration!.count, 2)
  t.ok(Math.abs(duration!.sum! - parts.search_ms / 1000) < 1e-12, 'as the metric has it')
  t.match(await histogram('chatbot_search_results'), [{ count: 2, sum: 3, min: 1, max: 2 }])
  t.same(finished().map(span => span.attributes['gen_ai.request.top_k']), [3, 1], 'a span each')
})

t.test('a search that fails: rethrown, its span marked, nothing logged, counted or explained', async t => {
  const { instruments, histogram } = metrics()
  let explained = 0
  const failing = () => { throw new Error('index unavailable') }
  const { lines, parts, line } = inTurn(() => {
    t.throws(() => retrieve(3, failing, { instruments, explain: () => { explained++; return { decision: 'answer', why: {} } } }),
      { message: 'index unavailable' })
  })
  t.equal(explained, 0)
  t.same(lines, [])
  t.same(line, {}, 'nothing for the turn\'s line')
  t.equal(parts.search_ms, 0)
  t.same(await histogram('chatbot_search_duration_seconds'), [])
  t.same(await histogram('chatbot_search_results'), [])
  const [span] = finished()
  t.equal(finished().length, 1)
  t.same(span!.status, { code: SpanStatusCode.ERROR, message: 'index unavailable' })
  t.same(span!.events.map(event => event.name), ['exception'])
  t.same(span!.attributes, { ...RETRIEVAL, 'gen_ai.request.top_k': 3 })
})
