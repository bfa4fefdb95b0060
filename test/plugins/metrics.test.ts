// GET /metrics without the SDK (the process's own meter provider): the bot's counters follow what
// the requests did, labels stay bounded, and the real promtool accepts the exposition.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { buildTestApp } from '../helper.js'

// Metrics belong to the process, so each figure is read before and after, as a difference.
function sample (text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`)
  const line = text.split('\n').find(line => line.startsWith(`${name}{`) && wanted.every(label => line.includes(label)))
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1))
}

t.test('turns, feedback, requests and searches are counted; active sessions are observed', async t => {
  const app = await buildTestApp(t)
  const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body
  const before = await scrape()
  const chat = async (message: string, sessionId?: string, userId?: string) => (await app.inject({ method: 'POST', url: '/v1/chat', payload: { message, session_id: sessionId, user_id: userId } })).json<{ session_id: string }>()
  const first = await chat('how do I view traces?', undefined, 'metrics-user')
  await chat('what is the capital of Mongolia?', first.session_id)
  await chat('/feedback up thanks', first.session_id)
  await chat('/nosuchcommand', first.session_id)
  await app.inject({ method: 'GET', url: `/v1/sessions/${crypto.randomUUID()}` })
  const { session_id: second } = await chat('/reset', first.session_id) // ends the first session after 5 turns

  const response = await app.inject({ method: 'GET', url: '/metrics' })
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^text\/plain/)
  const after = response.body
  const delta = (name: string, labels?: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels)
  t.equal(delta('chatbot_turns_total', { kind: 'answer' }), 1)
  t.equal(delta('chatbot_turns_total', { kind: 'no_answer' }), 1)
  t.equal(delta('chatbot_turns_total', { kind: 'command' }), 2)
  t.equal(delta('chatbot_turns_total', { kind: 'command_error' }), 1)
  t.equal(delta('chatbot_feedback_total', { rating: 'up' }), 1)
  t.equal(delta('chatbot_requests_total', { endpoint: '/v1/chat', status: '200' }), 5)
  t.equal(delta('chatbot_requests_total', { endpoint: '/v1/sessions/:id', status: '404' }), 1, 'by route template, never the raw URL')
  t.equal(delta('chatbot_response_time_seconds_count', { endpoint: '/v1/chat' }), 5)
  t.equal(delta('http_server_request_duration_seconds_count', { http_request_method: 'POST', http_route: '/v1/chat', http_response_status_code: '200', url_scheme: 'http' }), 5, 'and by the HTTP conventions')
  t.equal(delta('http_server_request_duration_seconds_count', { http_request_method: 'GET', http_route: '/v1/sessions/:id', http_response_status_code: '404' }), 1)
  t.equal(delta('chatbot_search_duration_seconds_count'), 2, 'the two questions searched')
  t.equal(sample(after, 'chatbot_active_sessions'), 1, `the one open session (${second})`)
  t.equal(sample(after, 'chatbot_active_users'), 1, 'one user with a recent turn')
  t.equal(delta('chatbot_session_turns_count'), 1, 'the ended session is recorded')
  t.equal(delta('chatbot_session_turns_sum'), 5, 'with its 5 turns')
  t.equal(delta('chatbot_session_duration_seconds_count'), 1)
  t.ok(sample(after, 'process_memory_usage_bytes') > 10_000_000, 'RSS is observed')
  t.match(after, /^process_cpu_utilization_ratio\{/m, 'and CPU')
  t.equal(delta('chatbot_requests_in_flight'), 0, 'every finished request, the earlier scrape too, left the in-flight count')
  t.notOk(/[0-9a-f]{8}-[0-9a-f]{4}-/.test(after), 'no session or request id in any label')
})

t.test('promtool accepts the exposition', async t => {
  const app = await buildTestApp(t)
  await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: 'how do I view traces?' } })
  const text = (await app.inject({ method: 'GET', url: '/metrics' })).body
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' })
  if (promtool.error !== undefined) {
    // .ci/run installs it (Debian package prometheus); elsewhere the check cannot run.
    t.comment(`promtool is not installed, the check is skipped: ${promtool.error.message}`)
    return
  }
  t.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`)
})
