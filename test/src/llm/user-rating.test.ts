// A rating of an answer the model wrote is a gen_ai.evaluation.result event on that answer's
// trace, under its model call's span; a rating of a passage (no model, or a fallback) is not. The
// spans are read from an in-memory exporter (no collector here); the model is the scripted one of
// bench/scripted-model.ts.
import t from 'tap'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { ATTR_GEN_AI_EVALUATION_NAME, ATTR_GEN_AI_EVALUATION_SCORE_LABEL, ATTR_GEN_AI_EVALUATION_SCORE_VALUE, ATTR_GEN_AI_RESPONSE_ID, EVENT_GEN_AI_EVALUATION_RESULT } from '@opentelemetry/semantic-conventions/incubating'
import { buildTestApp } from '../../helper.js'
import { startScriptedModel } from '../../../bench/scripted-model.js'

const spans = new InMemorySpanExporter()
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }))

t.test('thumbs down on a written answer: an evaluation event under the model call\'s span, in the answer\'s trace', async t => {
  const model = await startScriptedModel(t)
  const app = await buildTestApp(t, { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model' })
  model.script({ kind: 'answer', text: 'Open Jaeger and search by the trace id [1].' })
  const answer = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })).json()
  t.match(answer.generation, { by: 'model', span_id: /^[0-9a-f]{16}$/, response_id: 'chatcmpl-scripted' })
  const call = spans.getFinishedSpans().find(span => span.name === 'chat scripted-model')!
  t.equal(call.spanContext().spanId, answer.generation.span_id, 'the generation names its model call\'s span')

  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/feedback down wrong link', session_id: answer.session_id } })
  const finished = spans.getFinishedSpans()
  const evaluation = finished.find(span => span.name === 'evaluation user_rating')
  const ratingTurn = finished.find(span => span.name === 'chat.turn' && span.spanContext().traceId !== call.spanContext().traceId)
  t.ok(evaluation, 'an evaluation span')
  t.equal(evaluation?.spanContext().traceId, call.spanContext().traceId, 'in the answer\'s trace')
  t.equal(evaluation?.parentSpanContext?.spanId, call.spanContext().spanId, 'under its model call')
  t.equal(evaluation?.links[0]?.context.spanId, ratingTurn?.spanContext().spanId, 'linked to the rating\'s own turn')
  t.same(evaluation?.events.map(event => ({ name: event.name, attributes: event.attributes })), [{
    name: EVENT_GEN_AI_EVALUATION_RESULT,
    attributes: { [ATTR_GEN_AI_EVALUATION_NAME]: 'user_rating', [ATTR_GEN_AI_EVALUATION_SCORE_LABEL]: 'down', [ATTR_GEN_AI_EVALUATION_SCORE_VALUE]: 0, [ATTR_GEN_AI_RESPONSE_ID]: 'chatcmpl-scripted' }
  }], 'the event, named after the pinned conventions, with the score and the answer\'s response id')
  t.notMatch(JSON.stringify(evaluation?.attributes), 'wrong link', 'the comment, chat text, stays out of telemetry')
})

t.test('a rating of a passage (the model fell back, or none is configured) records no evaluation', async t => {
  const model = await startScriptedModel(t)
  const app = await buildTestApp(t, { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_MAX_RETRIES: '0' })
  model.script({ kind: 'status', status: 500 })
  spans.reset()
  const answer = (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })).json()
  t.match(answer.generation, { by: 'extractive', fallback_reason: 'server_error' })
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/feedback up', session_id: answer.session_id } })
  t.equal(spans.getFinishedSpans().filter(span => span.name === 'evaluation user_rating').length, 0)
})
