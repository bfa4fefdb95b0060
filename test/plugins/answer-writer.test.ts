// Chat turns with a language model configured, through the app: the model writes what the
// knowledge base knows, nothing is asked of it for what it does not know, and a model that fails
// leaves the turn answered from the passage, marked, never an error. The model is the scripted
// one of bench/scripted-model.ts (no real model can run here).
import t from 'tap'
import { loadConfig } from '../../src/config.js'
import { buildTestApp, openTestPGlite, waitFor } from '../helper.js'
import { startScriptedModel } from '../../bench/scripted-model.js'

const chat = { method: 'POST', url: '/v1/chat' } as const

t.test('an answer written by the model from the passages, citing them, stored with how it was written', async t => {
  const model = await startScriptedModel(t)
  const app = await buildTestApp(t, { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_PRICE_INPUT_PER_MTOK: '1', LLM_PRICE_OUTPUT_PER_MTOK: '4' })
  model.script({ kind: 'answer', text: 'Open Jaeger and search by the trace id [1].', usage: { prompt_tokens: 500, completion_tokens: 50 } })
  const response = await app.inject({ ...chat, payload: { message: 'how do I view traces?' } })
  t.equal(response.statusCode, 200)
  const body = response.json()
  t.equal(body.kind, 'answer')
  t.match(body.reply, /^Open Jaeger and search by the trace id \[1\]\.\n\nSources: \[1\] Viewing traces, logs and metrics$/)
  t.match(body.generation, { by: 'model', model: 'scripted-model-2026', prompt: 'grounded-answer@2', input_tokens: 500, output_tokens: 50, cost_usd: (500 * 1 + 50 * 4) / 1e6 })
  t.equal(model.requests.length, 1)
  t.match(model.requests[0]!.body.messages[0]!.content, /\[1\] /, 'the passages found were given to the model')
  const cited = (body.sources as Array<{ cited?: boolean }>).map(source => source.cited)
  t.ok(cited.length > 1, `the documents found, all given to the model (${cited.length})`)
  t.same(cited, cited.map((_, i) => i === 0), 'only the one it cited, [1], marked cited')

  const { rows } = await app.db.query<{ content: string, generation: unknown }>("SELECT content, generation FROM messages WHERE session_id = $1 AND role = 'bot'", [body.session_id])
  t.same(rows, [{ content: body.reply, generation: body.generation }], 'the transcript keeps the whole reply and how it was written')
})

t.test('no model call for what the knowledge base does not know, nor for commands and small talk', async t => {
  const model = await startScriptedModel(t)
  const app = await buildTestApp(t, { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model' })
  for (const message of ['What is the capital of France?', 'hi', '/help']) {
    const response = await app.inject({ ...chat, payload: { message } })
    t.equal(response.statusCode, 200)
    t.equal(response.json().generation, undefined, `${message}: nothing generated`)
  }
  t.equal(model.requests.length, 0, 'the model was never called')
})

t.test('a model that fails: the passage answers, marked with why', async t => {
  const model = await startScriptedModel(t)
  const app = await buildTestApp(t, { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_MAX_RETRIES: '0' })
  const plain = await buildTestApp(t)
  const extractive = (await plain.inject({ ...chat, payload: { message: 'how do I view traces?' } })).json()

  model.script({ kind: 'status', status: 500 }, { kind: 'answer', text: 'Traces live in Jaeger [7].' })
  for (const reason of ['server_error', 'unknown_citation']) {
    const response = await app.inject({ ...chat, payload: { message: 'how do I view traces?' } })
    t.equal(response.statusCode, 200, `${reason}: no error for the user`)
    const body = response.json()
    t.equal(body.reply, extractive.reply, `${reason}: the reply is the passage, as without a model`)
    t.match(body.generation, { by: 'extractive', fallback_reason: reason, prompt: 'grounded-answer@2' })
  }
})

t.test('LLM_BASE_URL needs LLM_MODEL; the key is never logged', async t => {
  t.throws(() => loadConfig({ LLM_BASE_URL: 'http://127.0.0.1:11434/v1' }), /LLM_MODEL must name the model/)
  const { describeConfig } = await import('../../src/config.js')
  const described = describeConfig(loadConfig({ LLM_BASE_URL: 'http://user:secret@127.0.0.1:11434/v1', LLM_MODEL: 'm', LLM_API_KEY: 'sk-very-secret' }))
  t.equal(described.LLM_API_KEY, '(set)')
  t.notMatch(JSON.stringify(described), /secret/)
})

t.test('LLM_DAILY_BUDGET_USD: no call that could pass the day\'s budget, the passage answers, marked; another instance sees the same bill', async t => {
  const model = await startScriptedModel(t)
  const database = await openTestPGlite(t)
  // 1000 input tokens at $1 per million: $0.001 a call, against a budget of $0.0015; a call
  // reserves its prompt's cost (a few thousand characters, about $0.0007) before it is made.
  const llm = { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_PRICE_INPUT_PER_MTOK: '1', LLM_DAILY_BUDGET_USD: '0.0015' }
  const usage = { prompt_tokens: 1000, completion_tokens: 0 }
  model.script({ kind: 'answer', text: 'Open Jaeger [1].', usage }, { kind: 'answer', text: 'Open Jaeger [1].', usage })
  const app = await buildTestApp(t, llm, { database })
  await app.ready()
  const ask = async (on: typeof app) => (await on.inject({ ...chat, payload: { message: 'how do I view traces?' } })).json()
  t.match((await ask(app)).generation, { by: 'model', cost_usd: 0.001 })
  const over = await ask(app)
  t.match(over.generation, { by: 'extractive', fallback_reason: 'budget_exhausted' }, 'then the passage: the next call\'s prompt would pass the budget')
  t.equal(model.requests.length, 1, 'and no call')
  t.match((await app.inject('/metrics')).body, /^chatbot_llm_fallbacks_total\{reason="budget_exhausted"[^}]*\} 1$/m, 'counted')
  t.match((await app.inject('/metrics')).body, /^chatbot_llm_budget_used_ratio(\{[^}]*\})? 0\.666/m, 'the share of the budget spent, for the stack\'s alert')

  // A second instance on the same database reads the day's spend from the transcript when it starts.
  const other = await buildTestApp(t, llm, { database })
  await other.ready()
  await waitFor(() => (other.answerWriter?.measure('llm_budget_used_ratio', 0).value ?? 0) > 0.6, 5000)
  t.match((await ask(other)).generation, { fallback_reason: 'budget_exhausted' }, 'the other instance makes no call either')
  t.equal(model.requests.length, 1)
})

t.test('a follow-up is asked of the model with the question it leans on', async t => {
  const model = await startScriptedModel(t)
  const admin = 'answer-writer-admin-0123456789'
  const app = await buildTestApp(t, { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', API_KEYS: `${admin}:admin` })
  const imported = await app.inject({
    method: 'POST',
    url: '/v1/kb/documents',
    headers: { authorization: `Bearer ${admin}` },
    payload: { documents: [{ id: 'refunds', title: 'Refunds', text: '# Refunds\n\nYou can request a refund within 30 days of purchase.\n\n## Refund method\n\nThe default refund method is the original card. You can change it to store credit in your account settings.' }] }
  })
  t.ok(imported.statusCode < 300, `the document is imported (${imported.statusCode})`)
  model.script({ kind: 'answer', text: 'Within 30 days [1].' }, { kind: 'answer', text: 'The original payment card [1].' })
  const first = (await app.inject({ ...chat, payload: { message: 'How do I get a refund?' } })).json()
  const followUp = (await app.inject({ ...chat, payload: { message: 'and what is the default?', session_id: first.session_id } })).json()
  t.match(followUp, { kind: 'answer', sources: [{ doc_id: 'refunds' }], generation: { by: 'model', prompt: 'grounded-answer@2' } })
  t.equal(model.requests[0]!.body.messages[1]!.content, 'How do I get a refund?', 'a first question is asked as it is')
  t.equal(model.requests[1]!.body.messages[1]!.content, 'Earlier question: How do I get a refund?\nFollow-up question: and what is the default?', 'a follow-up with the question before it')
})

t.test('while the model writes one answer, other users are answered: the turn holds no admission slot meanwhile', async t => {
  const model = await startScriptedModel(t)
  // The embedded database admits one turn at a time.
  const app = await buildTestApp(t, { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_FIRST_TOKEN_TIMEOUT_MS: '5000' })
  model.script({ kind: 'answer', text: 'Open Jaeger [1].', firstChunkDelayMs: 1500 })
  const slow = app.inject({ ...chat, payload: { message: 'how do I view traces?' } })
  await waitFor(() => model.requests.length === 1)
  const others = await Promise.all(Array.from({ length: 5 }, async () => await app.inject({ ...chat, payload: { message: '/help' } })))
  t.same(others.map(response => response.statusCode), [200, 200, 200, 200, 200], 'each answered while the model was still writing')
  t.equal(model.requests[0]!.firstChunkAt, undefined, 'the model had not written yet')
  t.match((await slow).json(), { kind: 'answer', generation: { by: 'model' } }, 'and the slow turn is answered too')
})
