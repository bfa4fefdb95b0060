// Every way a model answers or fails, through a whole chat turn: for each, the reply the user gets,
// the transcript, the `chat {model}` span and its attributes (every gen_ai.* name one of the pinned
// conventions'), the metrics, the log line, the count of fallbacks and, once they have all
// happened, the LLMDegraded alert. The model is the scripted one of bench/scripted-model.ts, a real
// HTTP server speaking Chat Completions: no real model can run here.
import { request as httpRequest } from 'node:http'
import t from 'tap'
import { context, trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import * as conventions from '@opentelemetry/semantic-conventions/incubating'
import { SharedStorageContextManager } from '../../src/logging/shared-storage-context-manager.js'
import { createLogger } from '../../src/logging/logger.js'
import { buildTestApp, waitFor } from '../helper.js'
import { startScriptedModel, type Step } from '../../bench/scripted-model.js'

const spans = new InMemorySpanExporter()
context.setGlobalContextManager(new SharedStorageContextManager())
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }))
const PINNED_GEN_AI_NAMES = new Set(Object.values(conventions as Record<string, unknown>).filter(name => typeof name === 'string' && name.startsWith('gen_ai.')))
const ADMIN = 'model-scenarios-admin-0123456789'
const QUESTION = 'how do I view traces?'

interface Scenario {
  name: string
  steps: Step[]
  /** The fallback reason, or undefined when the model's answer is the reply. */
  reason?: string
  /** Closes the connection at the first streamed piece of text. */
  disconnect?: boolean
  /** What the llm.fallback line says of the endpoint's answer. */
  logged?: Record<string, unknown>
}

const SCENARIOS: Scenario[] = [
  { name: 'an answer citing its passages', steps: [{ kind: 'answer', text: 'Open Jaeger and paste the trace id [1].', usage: { prompt_tokens: 400, completion_tokens: 20 } }] },
  { name: 'a reply citing a passage it was not given', steps: [{ kind: 'answer', text: 'Traces live in Jaeger [7].' }], reason: 'unknown_citation' },
  { name: 'a reply citing nothing', steps: [{ kind: 'answer', text: 'Traces live in Jaeger.' }], reason: 'no_citation' },
  { name: 'an answer cut off at the token limit', steps: [{ kind: 'answer', text: 'Open Jaeger [1] and then', finishReason: 'length' }], reason: 'truncated' },
  { name: 'a slow first token', steps: [{ kind: 'answer', text: 'Late [1].', firstChunkDelayMs: 3000 }], reason: 'first_token_timeout' },
  { name: 'a stream that stalls', steps: [{ kind: 'stall', text: 'Open Jaeger ' }], reason: 'timeout' },
  { name: 'a 429 with Retry-After, then an answer', steps: [{ kind: 'status', status: 429, retryAfter: '0.1' }, { kind: 'answer', text: 'Open Jaeger [1].' }] },
  { name: '429s past the retries', steps: [{ kind: 'status', status: 429, retryAfter: '0.1' }, { kind: 'status', status: 429, retryAfter: '0.1' }], reason: 'rate_limited' },
  { name: '500s past the retries', steps: [{ kind: 'status', status: 500 }, { kind: 'status', status: 503 }], reason: 'server_error', logged: { status: 503, error: '503 scripted 503' } },
  { name: 'a model name the endpoint does not know', steps: [{ kind: 'status', status: 404 }], reason: 'refused', logged: { status: 404, error: '404 scripted 404' } },
  { name: 'a malformed chunk', steps: [{ kind: 'malformed' }], reason: 'malformed' },
  { name: 'a client that disconnects mid-stream', steps: [{ kind: 'stall', text: 'Open Jaeger ' }], reason: 'canceled', disconnect: true }
]

t.test('each way the model answers or fails, as the user, the transcript, the trace, the metrics, the logs and the alerts see it', async t => {
  const model = await startScriptedModel(t)
  const lines: Array<Record<string, any>> = []
  const logger = createLogger({ level: 'info', service: 'parley', version: 'test', env: 'test', destination: { write: (line: string) => { lines.push(JSON.parse(line)) } } })
  const app = await buildTestApp(t, {
    LLM_BASE_URL: model.url,
    LLM_MODEL: 'scripted-model',
    LLM_MAX_RETRIES: '1',
    LLM_FIRST_TOKEN_TIMEOUT_MS: '1000',
    LLM_TIMEOUT_MS: '2000',
    // The breaker would turn the later scenarios into circuit_open: it has a test of its own.
    LLM_BREAKER_ERROR_PERCENT: '100',
    LLM_PRICE_INPUT_PER_MTOK: '1',
    API_KEYS: `${ADMIN}:admin`,
    ALERTS_EVAL_INTERVAL: '3600'
  }, { logger })
  const base = new URL(await app.listen({ port: 0, host: '127.0.0.1' }))
  // The reply without a model, from an app closed at once: apps in one process share its meter provider.
  const plain = await buildTestApp(t)
  const extractive = (await plain.inject({ method: 'POST', url: '/v1/chat', payload: { message: QUESTION } })).json().reply
  await plain.close()
  const metrics = async () => (await app.inject('/metrics')).body
  const counted = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? 0)
  const fallbacksOf = (text: string, reason: string) => counted(text, new RegExp(`^chatbot_llm_fallbacks_total\\{reason="${reason}"[^}]*\\} (\\d+)$`, 'm'))
  const allFallbacks = (text: string) => [...text.matchAll(/^chatbot_llm_fallbacks_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
  const durationsOf = (text: string, errorType?: string) => counted(text, new RegExp(`^gen_ai_client_operation_duration_seconds_count\\{(?=[^}]*gen_ai_request_model="scripted-model")${errorType === undefined ? '(?![^}]*error_type)' : `(?=[^}]*error_type="${errorType}")`}[^}]*\\} (\\d+)$`, 'm'))

  for (const [i, scenario] of SCENARIOS.entries()) {
    await t.test(scenario.name, async t => {
      spans.reset()
      lines.length = 0
      const before = await metrics()
      const asked = model.requests.length
      const alertBefore = app.answerWriter!.measure('llm_fallback_ratio', 600_000)
      model.script(...scenario.steps)

      // The reply the user gets: always an answer, the model's or the passage's, never an error.
      const body = scenario.disconnect === true ? await disconnectAtFirstText(base) : (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: QUESTION } })).json()
      let sessionId = body?.session_id as string | undefined
      if (scenario.disconnect === true) {
        t.ok(await waitFor(() => model.requests.at(-1)?.abandoned === true), 'the model\'s stream was closed with the client\'s')
        await waitFor(async () => (await app.db.query("SELECT 1 FROM messages WHERE role = 'bot' AND generation->>'fallback_reason' = 'canceled'")).rows.length > 0)
        sessionId = (await app.db.query<{ session_id: string }>("SELECT session_id FROM messages WHERE role = 'bot' AND generation->>'fallback_reason' = 'canceled'")).rows[0]?.session_id
      } else {
        t.match(body, { kind: 'answer', sources: [{ doc_id: 'tracing-and-logs' }] }, 'an answer')
        if (scenario.reason === undefined) {
          t.match(body, { reply: /\[1\][\s\S]*\n\nSources: \[1\] Viewing traces, logs and metrics$/, generation: { by: 'model', prompt: 'grounded-answer@2' } }, 'written by the model, citing its source')
        } else {
          t.equal(body.reply, extractive, 'the passage, as without a model')
          t.match(body.generation, { by: 'extractive', fallback_reason: scenario.reason }, 'marked with why')
        }
      }

      // The transcript: the reply as the user got it, and how it was written.
      const { rows } = await app.db.query<{ content: string, generation: Record<string, unknown> }>("SELECT content, generation FROM messages WHERE session_id = $1 AND role = 'bot'", [sessionId])
      t.equal(rows.length, 1, 'the turn is stored once')
      if (scenario.disconnect !== true) t.same(rows[0], { content: body.reply, generation: body.generation }, 'as the user got it')
      t.match(rows[0]?.generation, scenario.reason === undefined ? { by: 'model' } : { by: 'extractive', fallback_reason: scenario.reason })

      // The span: `chat {model}` under the turn, in the conventions' names, an error when it fell back.
      const chatSpan = spans.getFinishedSpans().find(span => span.name === 'chat scripted-model')
      const turnSpan = spans.getFinishedSpans().find(span => span.name === 'chat.turn')
      t.equal(chatSpan?.parentSpanContext?.spanId, turnSpan?.spanContext().spanId, 'a step of the turn')
      t.match(chatSpan?.attributes, { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'scripted-model', 'gen_ai.conversation.id': sessionId, 'parley.prompt': 'grounded-answer@2' })
      const unknown = Object.keys(chatSpan?.attributes ?? {}).filter(name => name.startsWith('gen_ai.') && !PINNED_GEN_AI_NAMES.has(name))
      t.same(unknown, [], 'every gen_ai.* attribute is named as the pinned conventions name it')
      t.same(spansOf('retrieval knowledge-base').map(span => span.attributes['gen_ai.operation.name']), ['retrieval'], 'the search before it is a retrieval span')
      t.notMatch(JSON.stringify(chatSpan?.attributes), /view traces|Jaeger/, 'neither the question nor the answer on the span')
      if (scenario.reason === undefined) {
        t.equal(chatSpan?.status.code, 0, 'not an error')
        t.match(chatSpan?.attributes, { 'gen_ai.response.model': 'scripted-model-2026', 'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.input_tokens': Number, 'gen_ai.usage.output_tokens': Number, 'gen_ai.response.time_to_first_chunk': Number })
      } else {
        t.match(chatSpan, { status: { code: 2, message: scenario.reason }, attributes: { 'error.type': scenario.reason } }, 'an error, typed')
      }

      // The metrics, the log line and the count of fallbacks.
      const after = await metrics()
      const reason = scenario.reason
      t.equal(durationsOf(after, reason) - durationsOf(before, reason), 1, 'one gen_ai.client.operation.duration point, typed by its error')
      const logged = lines.filter(line => line.module === 'llm')
      if (reason === undefined) {
        t.equal(allFallbacks(after), allFallbacks(before), 'no fallback counted')
        t.match(logged, [{ msg: 'llm.answer_written', level: 'info', model: 'scripted-model', prompt: 'grounded-answer@2', cited: [1], input_tokens: Number }])
        t.ok(counted(after, /^gen_ai_client_token_usage_count\{(?=[^}]*gen_ai_token_type="input")[^}]*\} (\d+)$/m) > counted(before, /^gen_ai_client_token_usage_count\{(?=[^}]*gen_ai_token_type="input")[^}]*\} (\d+)$/m), 'its tokens counted')
      } else {
        t.equal(fallbacksOf(after, reason) - fallbacksOf(before, reason), 1, `chatbot_llm_fallbacks_total{reason="${reason}"} counts it`)
        t.match(logged, [{ msg: 'llm.fallback', level: 'warn', reason, model: 'scripted-model', ms: Number, ...scenario.logged }], 'one llm.fallback line, with why')
        t.match(logged[0], { session_id: sessionId, req_id: String }, 'in the turn\'s context, with the session it opened')
      }
      t.notMatch(JSON.stringify(logged), /view traces|Jaeger/, 'no chat text in the model\'s log lines')
      const calls = scenario.steps.length
      t.equal(model.requests.length - asked, calls, `${calls} call${calls === 1 ? '' : 's'} to the model`)
      const alertAfter = app.answerWriter!.measure('llm_fallback_ratio', 600_000)
      t.equal(alertAfter.samples, (alertBefore.samples ?? 0) + 1, 'the alert\'s measure saw the turn')
      t.equal(Math.round(alertAfter.value! * alertAfter.samples!), Math.round((alertBefore.value ?? 0) * (alertBefore.samples ?? 0)) + (reason === undefined || reason === 'canceled' ? 0 : 1), reason === 'canceled' ? 'a client that left is no fault of the model' : 'and counted it as it should')
      t.equal(i + 1, alertAfter.samples)
    })
  }

  await t.test('once they have all happened, LLMDegraded fires, and says where to look', async t => {
    await app.alerts.evaluate()
    const report = (await app.inject({ url: '/v1/admin/alerts', headers: { authorization: `Bearer ${ADMIN}` } })).json<{ alerts: Array<{ alert: string, state: string, value?: number }> }>()
    const degraded = report.alerts.find(alert => alert.alert === 'LLMDegraded')
    t.match(degraded, { state: 'firing', value: 9 / 12 }, '9 of 12 answers asked of the model fell back through its fault')
    t.match((await metrics()).split('\n').filter(line => line.startsWith('chatbot_alerts_firing{alertname="LLMDegraded"')), [/ 1$/], 'and /metrics says so')
  })
})

function spansOf (name: string): ReadableSpan[] {
  return spans.getFinishedSpans().filter(span => span.name === name)
}

/** A streamed turn whose client goes away at the first piece of text. */
async function disconnectAtFirstText (base: URL): Promise<undefined> {
  await new Promise<void>((resolve, reject) => {
    const request = httpRequest({ host: base.hostname, port: base.port, path: '/v1/chat', method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }, response => {
      response.once('data', () => {
        request.destroy()
        resolve()
      })
    })
    request.on('error', error => { if (!request.destroyed) reject(error) })
    request.end(JSON.stringify({ message: QUESTION }))
  })
  return undefined
}
