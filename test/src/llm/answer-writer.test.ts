// The model path against a real HTTP server speaking the Chat Completions protocol, whose model is
// scripted (bench/scripted-model.ts): for each way a model answers or fails, what the writer
// returns, the `chat {model}` span and its attributes (names checked against the pinned GenAI
// conventions), the metrics and the fallback count.
import t, { type Test } from 'tap'
import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { AggregationTemporality, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import * as conventions from '@opentelemetry/semantic-conventions/incubating'
import OpenAI from 'openai'
import { createInstruments } from '../../../src/telemetry/metrics.js'
import { AnswerWriter, CHARACTERS_PER_OUTPUT_TOKEN, type AnswerWriterOptions } from '../../../src/llm/answer-writer.js'
import { GenAi, GenAiMetric } from '../../../src/telemetry/gen-ai-conventions.js'
import { PROMPT_LABEL } from '../../../src/llm/grounded-prompt.js'
import { scrub } from '../../../src/logging/scrubber.js'
import { DailySpend } from '../../../src/llm/daily-spend.js'
import { openTestPGlite, waitFor } from '../../helper.js'
import { startScriptedModel } from '../../../bench/scripted-model.js'

class TestReader extends MetricReader {
  constructor () { super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE }) }
  protected async onForceFlush (): Promise<void> {}
  protected async onShutdown (): Promise<void> {}
}

const spans = new InMemorySpanExporter()
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }))
const reader = new TestReader()
const instruments = createInstruments(new MeterProvider({ readers: [reader] }).getMeter('test'))

const PASSAGES = [
  { title: 'Sessions', text: 'Sessions expire after 30 minutes of inactivity.' },
  { title: 'Traces', text: 'Every turn has a trace.' },
  { title: 'Keys', text: 'API keys have roles.' }
]

async function writerFor (t: Test, options: Partial<AnswerWriterOptions> & { maxRetries?: number } = {}) {
  const model = await startScriptedModel(t)
  const writer = new AnswerWriter({
    client: new OpenAI({ baseURL: model.url, apiKey: 'sk-test', maxRetries: options.maxRetries ?? 2 }),
    model: 'scripted-model',
    provider: 'openai',
    firstTokenTimeoutMs: 2000,
    timeoutMs: 5000,
    maxOutputTokens: 300,
    prices: { input: 2.5, output: 10 },
    breaker: { errorThresholdPercentage: 50, resetTimeoutMs: 60_000, volumeThreshold: 100 },
    instruments,
    ...options
  })
  t.teardown(() => { writer.close() })
  return { model, writer }
}

const lastSpan = (): ReadableSpan => spans.getFinishedSpans().at(-1)!

async function metricPoints (name: string): Promise<Array<{ attributes: Record<string, unknown>, value: unknown }>> {
  const { resourceMetrics } = await reader.collect() as { resourceMetrics: ResourceMetrics }
  const metric = resourceMetrics.scopeMetrics.flatMap(scope => scope.metrics).find(metric => metric.descriptor.name === name)
  return (metric?.dataPoints ?? []).map(point => ({ attributes: point.attributes, value: point.value }))
}

const fallbacks = async (reason: string): Promise<number> => (await metricPoints('chatbot_llm_fallbacks')).find(point => point.attributes.reason === reason)?.value as number ?? 0

t.test('the names followed are those of the pinned conventions', async t => {
  const pinned = conventions as unknown as Record<string, string>
  for (const [constant, name] of Object.entries({
    ATTR_GEN_AI_OPERATION_NAME: GenAi.operationName,
    ATTR_GEN_AI_DATA_SOURCE_ID: GenAi.dataSourceId,
    ATTR_GEN_AI_REQUEST_TOP_K: GenAi.requestTopK,
    ATTR_GEN_AI_SYSTEM_INSTRUCTIONS: GenAi.systemInstructions,
    ATTR_GEN_AI_PROVIDER_NAME: GenAi.providerName,
    ATTR_GEN_AI_REQUEST_MODEL: GenAi.requestModel,
    ATTR_GEN_AI_REQUEST_MAX_TOKENS: GenAi.requestMaxTokens,
    ATTR_GEN_AI_REQUEST_STREAM: GenAi.requestStream,
    ATTR_GEN_AI_RESPONSE_MODEL: GenAi.responseModel,
    ATTR_GEN_AI_RESPONSE_ID: GenAi.responseId,
    ATTR_GEN_AI_RESPONSE_FINISH_REASONS: GenAi.responseFinishReasons,
    ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: GenAi.responseTimeToFirstChunk,
    ATTR_GEN_AI_USAGE_INPUT_TOKENS: GenAi.usageInputTokens,
    ATTR_GEN_AI_USAGE_OUTPUT_TOKENS: GenAi.usageOutputTokens,
    ATTR_GEN_AI_CONVERSATION_ID: GenAi.conversationId,
    ATTR_GEN_AI_TOKEN_TYPE: GenAi.tokenType,
    ATTR_GEN_AI_INPUT_MESSAGES: GenAi.inputMessages,
    ATTR_GEN_AI_OUTPUT_MESSAGES: GenAi.outputMessages,
    METRIC_GEN_AI_CLIENT_TOKEN_USAGE: GenAiMetric.tokenUsage,
    METRIC_GEN_AI_CLIENT_OPERATION_DURATION: GenAiMetric.operationDuration,
    METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK: GenAiMetric.timeToFirstChunk
  })) t.equal(name, pinned[constant], constant)
})

t.test('an answer citing the passages it was given: its text, usage and cost, span and metrics', async t => {
  const { model, writer } = await writerFor(t)
  model.script({ kind: 'answer', text: 'Sessions expire after 30 minutes [1]; each turn is traced [2].', usage: { prompt_tokens: 1000, completion_tokens: 200 } })
  const streamed: string[] = []
  const result = await writer.write({ question: 'when do sessions expire?', passages: PASSAGES, conversationId: 'session-1', onText: text => streamed.push(text) })
  t.match(result, { ok: true, text: 'Sessions expire after 30 minutes [1]; each turn is traced [2].', cited: [1, 2], model: 'scripted-model-2026', prompt: PROMPT_LABEL })
  t.same(result.usage, { inputTokens: 1000, outputTokens: 200, costUsd: (1000 * 2.5 + 200 * 10) / 1e6 }, 'cost from the prices: $4.50 a turn at this size')
  t.ok(streamed.length > 3, 'the text arrives in pieces, as streamed')
  t.equal(streamed.join(''), result.ok ? result.text : '')

  const sent = model.requests[0]!.body
  t.match(sent, { model: 'scripted-model', stream: true, stream_options: { include_usage: true }, max_tokens: 300 })
  t.equal(model.requests[0]!.authorization, 'Bearer sk-test')
  t.match(sent.messages[0]!.content, /\[1\] Sessions\nSessions expire after 30 minutes of inactivity\.[\s\S]*\[3\] Keys/, 'the passages, numbered')
  t.same(sent.messages[1], { role: 'user', content: 'when do sessions expire?' })

  const span = lastSpan()
  t.equal(span.name, 'chat scripted-model')
  t.equal(span.kind, 2, 'a client span')
  t.match(span.attributes, {
    [GenAi.operationName]: 'chat',
    [GenAi.providerName]: 'openai',
    [GenAi.requestModel]: 'scripted-model',
    [GenAi.responseModel]: 'scripted-model-2026',
    [GenAi.usageInputTokens]: 1000,
    [GenAi.usageOutputTokens]: 200,
    [GenAi.responseFinishReasons]: ['stop'],
    [GenAi.conversationId]: 'session-1',
    'server.address': '127.0.0.1',
    'parley.prompt': PROMPT_LABEL
  })
  t.type(span.attributes[GenAi.responseTimeToFirstChunk], 'number')
  t.equal(span.status.code, 0, 'not an error')
  t.notMatch(JSON.stringify(span.attributes), /sessions expire|inactivity|traced/i, 'no question, passage or answer text on the span unless asked for')

  const tokens = await metricPoints(GenAiMetric.tokenUsage)
  t.match(tokens.find(point => point.attributes[GenAi.tokenType] === 'input'), { attributes: { [GenAi.requestModel]: 'scripted-model', [GenAi.providerName]: 'openai' }, value: { sum: 1000 } })
  t.match(tokens.find(point => point.attributes[GenAi.tokenType] === 'output'), { value: { sum: 200 } })
  t.match((await metricPoints(GenAiMetric.operationDuration))[0], { value: { count: 1 } })
  t.match((await metricPoints(GenAiMetric.timeToFirstChunk))[0], { value: { count: 1 } })
  t.equal((await metricPoints('chatbot_llm_cost_usd'))[0]?.value, 0.0045)
})

t.test('a reply that cites a passage it was not given, or none, is not used', async t => {
  const { model, writer } = await writerFor(t)
  model.script({ kind: 'answer', text: 'Sessions last a day [4].' }, { kind: 'answer', text: 'Sessions last a day.' })
  const before = await fallbacks('unknown_citation')
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'unknown_citation', usage: { inputTokens: 120 } }, 'its tokens were still spent and are counted')
  t.equal(await fallbacks('unknown_citation'), before + 1)
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'no_citation' })
  t.match(lastSpan().attributes, { 'error.type': 'no_citation' })
  t.equal(lastSpan().status.code, 2, 'an error span')
})

t.test('deadlines: a first token too slow, and a stream that stalls, stop the call', async t => {
  const { model, writer } = await writerFor(t, { firstTokenTimeoutMs: 300, timeoutMs: 1500 })
  model.script({ kind: 'answer', text: 'Late [1].', firstChunkDelayMs: 3000 }, { kind: 'stall', text: 'Sessions expire' })
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'first_token_timeout' }, 'given up at the first-token deadline, before the whole one')
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'timeout' })
  await new Promise(resolve => setTimeout(resolve, 50))
  t.same(model.requests.map(request => request.abandoned), [true, true], 'the model server saw both calls given up')
})

t.test('429 with Retry-After is retried after it; 500s are retried, then given up', async t => {
  const { model, writer } = await writerFor(t)
  model.script({ kind: 'status', status: 429, retryAfter: '1' }, { kind: 'answer', text: 'Thirty minutes [1].' })
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: true, text: 'Thirty minutes [1].' })
  t.equal(model.requests.length, 2)
  t.ok(model.requests[1]!.at - model.requests[0]!.at >= 950, `retried after Retry-After's second (${Math.round(model.requests[1]!.at - model.requests[0]!.at)} ms)`)

  model.script({ kind: 'status', status: 500 }, { kind: 'status', status: 502 }, { kind: 'status', status: 503 })
  const before = await fallbacks('server_error')
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'server_error' })
  t.equal(model.requests.length, 5, 'the first try and two retries (LLM_MAX_RETRIES)')
  t.equal(await fallbacks('server_error'), before + 1)

  model.script({ kind: 'status', status: 429 }, { kind: 'status', status: 429 }, { kind: 'status', status: 429 })
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'rate_limited' })
})

t.test('a deadline that passes while the client waits out a 429 or a 5xx to retry names that status', async t => {
  const { model, writer } = await writerFor(t, { firstTokenTimeoutMs: 300 })
  model.script({ kind: 'status', status: 429, retryAfter: '5' }, { kind: 'status', status: 503, retryAfter: '5' })
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'rate_limited' }, 'not first_token_timeout')
  t.equal(model.requests.length, 1, 'given up at the first-token deadline, not tried again after Retry-After')
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'server_error' })
  model.script({ kind: 'answer', text: 'Late [1].', firstChunkDelayMs: 1000 })
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'first_token_timeout' }, 'a model that answered 200 and is slow is just slow')
})

t.test('a malformed chunk, an endpoint that is not there, a caller that goes away', async t => {
  const { model, writer } = await writerFor(t)
  model.script({ kind: 'malformed' })
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'malformed' })

  const gone = await writerFor(t, { client: new OpenAI({ baseURL: 'http://127.0.0.1:9/v1', apiKey: 'x', maxRetries: 0 }) })
  t.match(await gone.writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'unreachable' })

  model.script({ kind: 'stall', text: 'Sessions' })
  const caller = new AbortController()
  const pending = writer.write({ question: 'q', passages: PASSAGES, signal: caller.signal, onText: () => { caller.abort() } })
  t.match(await pending, { ok: false, reason: 'canceled' })
  await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(model.requests.at(-1)!.abandoned, true, 'the model call stopped with the caller')
})

t.test('the circuit breaker stops calling a model that keeps failing, and tries it again after its pause', async t => {
  const { model, writer } = await writerFor(t, { maxRetries: 0, breaker: { errorThresholdPercentage: 50, resetTimeoutMs: 300, volumeThreshold: 3 } })
  model.script(...Array.from({ length: 3 }, () => ({ kind: 'status' as const, status: 500 })))
  for (let i = 0; i < 3; i++) t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'server_error' })
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'circuit_open' })
  t.equal(model.requests.length, 3, 'the open breaker made no call')
  t.same(writer.measure('llm_call_p95_seconds', 60_000).samples, 3, 'a call not made is not timed')
  t.same(writer.measure('llm_fallback_ratio', 60_000), { value: 1, samples: 4 }, 'but it fell back, as users see')
  await new Promise(resolve => setTimeout(resolve, 350))
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: true }, 'after LLM_BREAKER_RESET_SECONDS one call goes through, and answers')
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: true }, 'which closed the breaker')
  t.equal(model.requests.length, 5)
})

t.test('a caller that goes away is no fault of the model: it does not count towards LLMDegraded', async t => {
  const { model, writer } = await writerFor(t)
  model.script({ kind: 'stall', text: 'Sessions' })
  const caller = new AbortController()
  t.match(await writer.write({ question: 'q', passages: PASSAGES, signal: caller.signal, onText: () => { caller.abort() } }), { ok: false, reason: 'canceled' })
  t.same(writer.measure('llm_fallback_ratio', 60_000), { value: 0, samples: 1 })
})

t.test('opted in, the prompt and the answer are on the span, scrubbed', async t => {
  const { model, writer } = await writerFor(t, { captureContent: scrub })
  model.script({ kind: 'answer', text: 'Write to help@example.com [1].' })
  await writer.write({ question: 'my address is jane.doe@example.com, when do sessions expire?', passages: PASSAGES })
  const attributes = lastSpan().attributes
  // The conventions' JSON schemas: instructions apart, messages of parts, the output's finish reason.
  const instructions = JSON.parse(attributes[GenAi.systemInstructions] as string)
  t.match(instructions, [{ type: 'text', content: /^You are a support assistant[\s\S]*\[1\] Sessions\nSessions expire after 30 minutes/ }])
  t.same(JSON.parse(attributes[GenAi.inputMessages] as string), [{ role: 'user', parts: [{ type: 'text', content: 'my address is [EMAIL], when do sessions expire?' }] }])
  t.same(JSON.parse(attributes[GenAi.outputMessages] as string), [{ role: 'assistant', parts: [{ type: 'text', content: 'Write to [EMAIL] [1].' }], finish_reason: 'stop' }])
  t.notMatch(JSON.stringify(attributes), /example\.com/)
})

t.test('a model that ignores max_tokens is cut at its characters, and its answer is not used', async t => {
  const { model, writer } = await writerFor(t, { maxOutputTokens: 16 })
  model.script({ kind: 'endless' })
  let shown = ''
  const result = await writer.write({ question: 'q', passages: PASSAGES, onText: text => { shown += text } })
  t.match(result, { ok: false, reason: 'truncated' })
  t.ok(shown.length > 0 && shown.length <= 16 * CHARACTERS_PER_OUTPUT_TOKEN, `the reader was shown ${shown.length} characters, at most the cut`)
  t.equal(lastSpan().attributes['error.type'], 'truncated')
  t.ok(await waitFor(() => model.requests[0]!.abandoned), 'the endless stream is hung up on')
})

t.test('the day\'s budget: calls in flight reserve what they may cost, and a call given up is paid for', async t => {
  const spend = new DailySpend({ limitUsd: 0.01, db: await openTestPGlite(t), now: () => new Date() })
  const { model, writer } = await writerFor(t, { spend })
  // Each reserves its prompt and 300 output tokens at $10 per million: about $0.0035, so two fit in $0.01.
  model.script(...Array.from({ length: 15 }, () => ({ kind: 'answer' as const, text: 'Thirty minutes [1].', restAfterMs: 200 })))
  const results = await Promise.all(Array.from({ length: 15 }, async () => await writer.write({ question: 'q', passages: PASSAGES })))
  t.equal(model.requests.length, 2, '15 turns at once: the calls the budget holds are made')
  t.equal(results.filter(result => !result.ok && result.reason === 'budget_exhausted').length, 13, 'the others answer from the passage')
  t.ok(spend.spentUsd() <= 0.01, `spent ${spend.spentUsd()} of 0.01`)

  const before = spend.spentUsd()
  const stalling = await writerFor(t, { spend })
  stalling.model.script({ kind: 'stall', text: 'Sessions expire after thirty' })
  const caller = new AbortController()
  const canceled = await stalling.writer.write({ question: 'q', passages: PASSAGES, signal: caller.signal, onText: () => { caller.abort() } })
  t.match(canceled, { ok: false, reason: 'canceled', usage: { inputTokens: Number, outputTokens: 7, estimated: true } }, 'a call the user left is counted from its characters')
  t.ok(canceled.usage!.costUsd > 0 && Math.abs(spend.spentUsd() - before - canceled.usage!.costUsd) < 1e-12, 'and spent')
  t.equal(lastSpan().attributes['parley.usage_estimated'], true)
  t.equal(lastSpan().attributes[GenAi.usageInputTokens], undefined, 'not as the endpoint\'s own count')
})

t.test('an answer cut off at the token limit is not used', async t => {
  const { model, writer } = await writerFor(t)
  model.script({ kind: 'answer', text: 'Sessions expire after [1] thirty', finishReason: 'length' })
  t.match(await writer.write({ question: 'q', passages: PASSAGES }), { ok: false, reason: 'truncated', usage: { inputTokens: 120 } })
  t.match(lastSpan().attributes, { [GenAi.responseFinishReasons]: ['length'], 'error.type': 'truncated' })
})
