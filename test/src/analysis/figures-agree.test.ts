// One scripted workload, three readers: the analytics API (from the database), `npm run analyze --
// usage` and the weekly report (from the log files) must give the same figures. They disagreed: a
// turn rated up then down counted once in the API and twice in the CLI, and unknown commands were
// the words typed in one and '(unknown)' in the other.
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import t from 'tap'
import { weeklyReport } from '../../../src/analysis/weekly-report.js'
import { main as analyze } from '../../../src/cli/analyze.js'
import { tempDir } from '../../helper.js'
import { startServer } from '../../server-process.js'
import { startScriptedModel } from '../../../bench/scripted-model.js'

const ANALYST = 'figures-analyst-key-0123456789'

t.test('the API, the CLI and the weekly report agree on turns, kinds, commands, answer rate and feedback', async t => {
  const logDir = join(await tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, API_KEYS: `${ANALYST}:analyst` })
  const chat = async (body: Record<string, string>): Promise<{ session_id: string, kind: string }> => {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    t.equal(response.status, 200)
    return await response.json() as { session_id: string, kind: string }
  }
  const first = await chat({ message: 'how do I view traces?', user_id: 'u1' })
  const session = { session_id: first.session_id }
  await chat({ message: '/feedback up', ...session })
  await chat({ message: '/feedback down too slow', ...session }) // replaces the rating: one down
  await chat({ message: '/serch traces', ...session })
  await chat({ message: '/unknowncmd', ...session })
  await chat({ message: 'what is the capital of Mongolia?', ...session })
  const second = await chat({ message: 'how long does an idle session last?', user_id: 'u2' })
  await chat({ message: '/feedback up', session_id: second.session_id })
  await chat({ message: '/help', session_id: second.session_id })

  const api = await (await fetch(`${server.base}/v1/analytics/usage`, { headers: { authorization: `Bearer ${ANALYST}` } })).json() as Record<string, unknown>
  t.equal(await server.stop(), 0)

  const stdout = new PassThrough()
  let cliText = ''
  stdout.on('data', chunk => { cliText += String(chunk) })
  t.equal(await analyze(['usage', '--dir', logDir, '--format', 'json'], {}, { stdout, stderr: new PassThrough() }), 0)
  const cli = JSON.parse(cliText) as Record<string, unknown>
  const weekly = (await weeklyReport({ dir: logDir, to: new Date(Date.now() + 86_400_000) })).this_week // the week to tonight: today included

  t.match(api, { turns: 9, feedback: { up: 1, down: 1 }, commands: { feedback: 3, '(unknown)': 2, help: 1 } }, 'the API: the latest rating of each turn')
  for (const field of ['turns', 'turns_by_kind', 'answer_rate', 'commands', 'feedback', 'sessions_active', 'active_users']) {
    t.same(cli[field], api[field], `the CLI's ${field} is the API's`)
  }
  t.same(weekly.feedback, api.feedback, 'the weekly report\'s feedback is the API\'s')
  t.equal(weekly.satisfaction, 0.5)
  t.equal(weekly.turns, api.turns)
  t.equal(weekly.answer_rate, api.answer_rate)
})

t.test('with a language model: the API, the CLI and the weekly report agree on its calls, fallbacks, tokens and cost', async t => {
  // The scripted model of bench/scripted-model.ts (no real model can run here): two answers written, one refused with a 500.
  const model = await startScriptedModel(t)
  model.script(
    { kind: 'answer', text: 'Open Jaeger and search by the trace id [1].', usage: { prompt_tokens: 800, completion_tokens: 20 } },
    { kind: 'status', status: 500 },
    { kind: 'answer', text: 'Sessions expire after 30 minutes of inactivity [1].', usage: { prompt_tokens: 700, completion_tokens: 30 } }
  )
  const logDir = join(await tempDir(t), 'logs')
  const server = await startServer(t, { LOG_DIR: logDir, API_KEYS: `${ANALYST}:analyst`, LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_MAX_RETRIES: '0', LLM_PRICE_INPUT_PER_MTOK: '2', LLM_PRICE_OUTPUT_PER_MTOK: '8' })
  for (const message of ['how do I view traces?', 'how do I view traces?', 'how long does an idle session last?', 'what is the capital of Mongolia?']) {
    const response = await fetch(`${server.base}/v1/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) })
    t.equal(response.status, 200)
  }
  const api = await (await fetch(`${server.base}/v1/analytics/usage`, { headers: { authorization: `Bearer ${ANALYST}` } })).json() as { language_model: { cost_usd: number } }
  t.equal(await server.stop(), 0)
  const cost = (800 * 2 + 20 * 8 + 700 * 2 + 30 * 8) / 1e6
  t.match(api.language_model, { calls: 3, written: 2, fallbacks: { server_error: 1 }, input_tokens: 1500, output_tokens: 50 }, 'the API: three calls, no call for what the knowledge base does not know')
  t.ok(Math.abs(api.language_model.cost_usd - cost) < 1e-12, `and their cost, from the prices: ${api.language_model.cost_usd}`)

  const stdout = new PassThrough()
  let cliText = ''
  stdout.on('data', chunk => { cliText += String(chunk) })
  t.equal(await analyze(['usage', '--dir', logDir, '--format', 'json'], {}, { stdout, stderr: new PassThrough() }), 0)
  const cli = JSON.parse(cliText) as { language_model: { cost_usd: number } }
  t.same({ ...cli.language_model, cost_usd: 0 }, { ...api.language_model, cost_usd: 0 }, 'the CLI\'s figures are the API\'s')
  t.ok(Math.abs(cli.language_model.cost_usd - cost) < 1e-12, 'and its cost')
  const weekly = (await weeklyReport({ dir: logDir, to: new Date(Date.now() + 86_400_000) })).this_week
  t.ok(Math.abs((weekly.model_cost_usd ?? 0) - cost) < 1e-12, 'the weekly report\'s cost')
  t.equal(weekly.model_written_rate, 2 / 3, 'and the share the model wrote')

  const text = new PassThrough()
  let table = ''
  text.on('data', chunk => { table += String(chunk) })
  t.equal(await analyze(['usage', '--dir', logDir], {}, { stdout: text, stderr: new PassThrough() }), 0)
  t.match(table, /answers asked for\s+3/, 'the CLI\'s table names the calls')
  t.match(table, /fell back\s+server_error 1/)
  t.match(table, /cost\s+\$0\.0034/)
})
