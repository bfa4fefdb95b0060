// A flood of unserved requests exports a few of their server spans a second; every other span goes on.
import t from 'tap'
import { SpanKind } from '@opentelemetry/api'
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { UnservedSpans } from '../../../src/telemetry/unserved-spans.js'

function tracerExporting (perSecond: number) {
  const exported: ReadableSpan[] = []
  const exporting: SpanProcessor = {
    onStart: () => {},
    onEnd: span => { exported.push(span) },
    forceFlush: async () => {},
    shutdown: async () => {}
  }
  const tracer = new BasicTracerProvider({ spanProcessors: [new UnservedSpans(exporting, perSecond)] }).getTracer('test')
  const request = (status: number, route = '/v1/chat', kind = SpanKind.SERVER): void => {
    const attributes = { 'http.request.method': 'POST', 'http.route': route, 'http.response.status_code': status }
    tracer.startSpan(`POST ${route}`, { kind, attributes }).end()
  }
  const statuses = () => exported.map(span => span.attributes['http.response.status_code'])
  return { request, statuses }
}

t.test('the first server spans of each route and unserved status each second are exported, the rest let go', async t => {
  const { request, statuses } = tracerExporting(2)
  for (const status of [429, 429, 429, 429, 400, 400, 400, 200, 200, 200, 500, 500, 500]) request(status)
  request(429, '/v1/search')
  t.same(statuses(), [429, 429, 400, 400, 200, 200, 200, 500, 500, 500, 429], 'every answer and failure; two of each unserved status and route')
})

t.test('a span that is not a request\'s server span goes on whatever its status, and 0 exports all', async t => {
  const client = tracerExporting(1)
  for (let i = 0; i < 5; i++) client.request(429, '/v1/chat', SpanKind.CLIENT)
  t.equal(client.statuses().length, 5, 'a call to another service that was refused')
  const all = tracerExporting(0)
  for (let i = 0; i < 50; i++) all.request(429)
  t.equal(all.statuses().length, 50)
})
