// A caller's traceparent as a link, not a parent: what the propagator takes in and sends out.
import t from 'tap'
import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api'
import { callerLink, OwnTracePropagator, traceCallers } from '../../otel/caller-trace-context.js'

const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'

t.test('PARLEY_TRACE_CALLERS is link unless join is asked for; anything else is an error naming both', async t => {
  t.equal(traceCallers(undefined), 'link')
  t.equal(traceCallers(''), 'link')
  t.equal(traceCallers('join'), 'join')
  t.throws(() => traceCallers('trust'), /PARLEY_TRACE_CALLERS must be link or join, not "trust"/)
})

t.test('the propagator takes no caller\'s context as a parent, and sends its own on', async t => {
  const propagator = new OwnTracePropagator()
  t.equal(trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { traceparent: CALLER }, defaultTextMapGetter)), undefined)
  const own = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 })
  const headers: Record<string, string> = {}
  propagator.inject(own, headers, defaultTextMapSetter)
  t.equal(headers.traceparent, `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`)
  t.ok(propagator.fields().includes('traceparent'))
})

t.test('the caller\'s span becomes a link; a missing or malformed traceparent none', async t => {
  t.match(callerLink({ traceparent: CALLER }), { context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', isRemote: true }, attributes: { 'parley.link': 'caller' } })
  t.equal(callerLink({}), undefined)
  t.equal(callerLink({ traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01' }), undefined)
  t.equal(callerLink({ traceparent: 'junk' }), undefined)
})
