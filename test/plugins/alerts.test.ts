// Each alert caused for real in a running app (failing and slow statements, a closed database,
// shed turns, a full session cap, thresholds lowered where a machine cannot be made to run out of
// memory or disk), delivered to a real webhook receiver and a real SMTP server.
import t, { type Test } from 'tap'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { AlertNotification } from '../../src/alerts/alert-notification.js'
import { buildTestApp, engines, manualClock, memoryLogger, openTestPGlite, tempDir, waitFor } from '../helper.js'
import { httpReceiver, smtpServer } from '../receivers.js'
import { startScriptedModel } from '../../bench/scripted-model.js'

const ADMIN = 'alerts-admin-key-0123456789'

async function alertingApp (t: Test, rules: string, env: Record<string, string> = {}, options: Parameters<typeof buildTestApp>[2] = {}) {
  const dir = await tempDir(t)
  await writeFile(join(dir, 'alerts.yml'), rules)
  const webhook = await httpReceiver(t)
  const clock = manualClock(new Date())
  const app = await buildTestApp(t, { ALERTS_CONFIG: join(dir, 'alerts.yml'), ALERTS_WEBHOOK_URL: webhook.url, ALERTS_EVAL_INTERVAL: '3600', API_KEYS: `${ADMIN}:admin`, ...env }, { clock: clock.now, ...options })
  await app.ready()
  const sent = (): AlertNotification[] => webhook.received.map(request => JSON.parse(request.body) as AlertNotification)
  const chat = async (message = 'how do I view traces?') => await app.inject({ method: 'POST', url: '/v1/chat', payload: { message } })
  /** Waits for the webhook to receive a notification matching alert and status. */
  const received = async (alert: string, status = 'firing') => {
    await waitFor(() => sent().some(n => n.alert === alert && n.status === status), 10_000)
    return sent().find(n => n.alert === alert && n.status === status)
  }
  return { app, clock, chat, sent, received }
}

t.test('HighErrorRate fires on real 5xx, says what and where, and resolves once the errors stop', async t => {
  const { logger, records } = memoryLogger('info')
  const { app, clock, chat, received } = await alertingApp(t, 'rules:\n  HighErrorRate:\n    when: [{ measure: http_5xx_ratio, above: 0.05, window: 1m, min_samples: 5 }]\n', {}, { logger })
  await app.db.query('ALTER TABLE messages RENAME TO messages_moved') // every turn now fails
  for (let i = 0; i < 6; i++) t.equal((await chat()).statusCode, 500)
  await app.alerts.evaluate()
  const firing = await received('HighErrorRate')
  t.match(firing, { severity: 'critical', repeat: false, value: 1, threshold: 0.05, summary: '5xx share of requests 100.0% > 5.00% over 1m (6 requests)', hint: /logs\/error\.log/, service: 'parley' })
  t.ok(Date.parse(firing!.since) <= Date.parse(firing!.at), 'since when')
  const report = (await app.inject({ url: '/v1/admin/alerts', headers: { authorization: `Bearer ${ADMIN}` } })).json<{ alerts: Array<{ alert: string, state: string }> }>()
  t.match(report.alerts[0], { alert: 'HighErrorRate', state: 'firing' }, 'GET /v1/admin/alerts lists it first')
  t.match((await app.inject('/metrics')).body, /^chatbot_alerts_firing\{alertname="HighErrorRate",severity="critical"[^}]*\} 1$/m, 'and /metrics shows it')

  await app.db.query('ALTER TABLE messages_moved RENAME TO messages')
  clock.advance(61_000) // the failures slide out of the window
  for (let i = 0; i < 5; i++) t.equal((await chat()).statusCode, 200)
  await app.alerts.evaluate()
  t.match(await received('HighErrorRate', 'resolved'), { severity: 'critical', summary: /^resolved; it was: 5xx share/ })
  const logged = records().filter(line => line.alert === 'HighErrorRate').map(line => [line.status, line.value, line.msg])
  t.same(logged, [
    ['firing', 1, 'alert HighErrorRate firing: 5xx share of requests 100.0% > 5.00% over 1m (6 requests)'],
    ['resolved', 1, 'alert HighErrorRate resolved; it was: 5xx share of requests 100.0% > 5.00% over 1m (6 requests)']
  ], 'the resolved line says its value is the one that crossed the threshold, not the one now')
})

t.test('an alert firing when the server stops is resolved by the next start, not announced again', async t => {
  const rules = 'rules:\n  HighErrorRate:\n    when: [{ measure: http_5xx_ratio, above: 0.05, window: 1m, min_samples: 5 }]\n'
  const database = await openTestPGlite(t)
  const before = await alertingApp(t, rules, {}, { database })
  await database.query('ALTER TABLE messages RENAME TO messages_moved')
  for (let i = 0; i < 6; i++) t.equal((await before.chat()).statusCode, 500)
  await before.app.alerts.evaluate()
  const firing = await before.received('HighErrorRate')
  await before.app.close()
  await database.query('ALTER TABLE messages_moved RENAME TO messages')

  const after = await alertingApp(t, rules, {}, { database })
  const listed = (await after.app.inject({ url: '/v1/admin/alerts', headers: { authorization: `Bearer ${ADMIN}` } }))
    .json<{ alerts: Array<{ alert: string, state: string, since: string }> }>()
  t.match(listed.alerts[0], { alert: 'HighErrorRate', state: 'firing', since: firing!.since }, 'still firing after the start')
  for (let i = 0; i < 5; i++) t.equal((await after.chat()).statusCode, 200)
  await after.app.alerts.evaluate()
  t.match(await after.received('HighErrorRate', 'resolved'), {
    since: firing!.since,
    summary: 'resolved; it was: 5xx share of requests 100.0% > 5.00% over 1m (6 requests)'
  }, 'resolved once the new process could judge it')
  t.same(after.sent().map(n => n.status), ['resolved'], 'and not announced as firing again')
})

t.test('a slow database fires ResponseTimeDegradation and SlowQueries, e-mailed through a real SMTP server', async t => {
  const smtp = await smtpServer(t)
  const smtpPort = String(smtp.settings().SMTP_PORT)
  const { app, chat, received } = await alertingApp(t, `
rules:
  ResponseTimeDegradation:
    when: [{ measure: chat_latency_p95_seconds, above: 0.15, window: 1m, min_samples: 3 }]
  SlowQueries:
    when: [{ measure: db_statement_p95_seconds, above: 0.1, window: 1m, min_samples: 1 }]
`, { SMTP_HOST: '127.0.0.1', SMTP_PORT: smtpPort, ALERTS_EMAIL_TO: 'oncall@example.com' })
  // Every message stored now takes 200 ms: a real slow statement inside every turn.
  await app.db.exec(`CREATE FUNCTION slow_down() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END $$ LANGUAGE plpgsql;
    CREATE TRIGGER slow_messages BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION slow_down();`)
  for (let i = 0; i < 3; i++) t.equal((await chat()).statusCode, 200)
  await app.alerts.evaluate()
  const latency = await received('ResponseTimeDegradation')
  t.ok(latency!.value > 0.15, `chat p95 ${latency!.value} s`)
  t.match(latency, { threshold: 0.15, summary: /^chat p95 latency \d+ ms > 150 ms over 1m \(3 chat turns\)$/, hint: /Jaeger/ })
  const slow = await received('SlowQueries')
  t.match(slow, { severity: 'warning', threshold: 0.1, hint: /slow statement/ })
  const subject = 'Subject: [FIRING] ResponseTimeDegradation (critical)'
  t.ok(await waitFor(() => smtp.mails.some(mail => mail.message.includes(subject)), 10_000), 'e-mailed')
  const mail = smtp.mails.find(mail => mail.message.includes(subject))
  t.same(mail?.to, ['oncall@example.com'])
  t.match(mail?.message, /chat p95 latency/)
})

t.test('DatabaseUnavailable fires after 30 s of failed checks; /ready says why, chat is shed, /health answers', async t => {
  const database = await openTestPGlite(t)
  const { app, clock, chat, received } = await alertingApp(t, 'rules: {}\n', {}, { database })
  await database.close()
  t.notOk(await app.databaseHealth.check(), 'the check fails')
  const ready = await app.inject('/ready')
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'not_ready', checks: { database: { ok: false, detail: /does not answer/ }, migrations: { ok: false } } })
  t.notMatch(ready.json().checks.database.detail, app.databaseHealth.current().lastError!, 'the open route does not pass the driver\'s error on')
  clock.advance(31_000)
  await app.alerts.evaluate()
  t.match(await received('DatabaseUnavailable'), { severity: 'critical', threshold: 30, summary: 'time the database health check has been failing 31 s > 30 s', hint: /DATABASE_URL/ })

  // Chat is refused by the same view of the database that /ready gave, at once; probes are not.
  const shed = await chat()
  t.match(shed.json(), { type: 'urn:parley:problem:database-unavailable', status: 503, reason: 'database' })
  t.equal(shed.headers['retry-after'], '5')
  t.equal((await app.inject('/health')).statusCode, 200, '/health still answers')
})

t.test('memory, CPU, disk and session cap alerts fire from the live process', async t => {
  const { app, clock, chat, received } = await alertingApp(t, `
rules:
  MemoryExhaustion: { when: [{ measure: memory_rss_ratio, above: 0.000001 }] }
  HighCpu: { when: [{ measure: cpu_cores_used, above: 0, window: 2s }] }
  LowDiskSpace: { when: [{ measure: log_disk_free_ratio, below: 1.01 }] }
`, { ALERTS_EVAL_INTERVAL: '1', MAX_ACTIVE_SESSIONS: '2', LOG_DIR: '' })
  t.equal((await chat()).statusCode, 200)
  t.equal((await chat()).statusCode, 200, 'two sessions of a cap of two')
  for (let i = 0; i < 3; i++) { await app.alerts.evaluate(); clock.advance(1000) }
  for (const alert of ['MemoryExhaustion', 'HighCpu', 'LowDiskSpace', 'SessionLimit']) {
    const notification = await received(alert)
    t.ok(notification !== undefined && notification.hint.length > 0, `${alert}: ${notification?.summary}`)
  }
  t.match(await received('SessionLimit'), { value: 1, threshold: 0.8, summary: 'active sessions against MAX_ACTIVE_SESSIONS 100.0% > 80.0%', hint: /MAX_ACTIVE_SESSIONS/ })
  const status = (await app.inject({ url: '/status', headers: { authorization: `Bearer ${ADMIN}` } })).json<{ alerts_firing: Array<{ alert: string }> }>()
  t.ok(status.alerts_firing.some(alert => alert.alert === 'SessionLimit'), '/status lists the firing alerts')
})

for (const engine of engines()) {
  t.test(`QueueBacklog fires when more than a handful of turns are refused for the latency goal, and HighErrorRate never does, on ${engine.name}`, async t => {
    // One turn at a time and a goal of 10 ms: a turn that finds a few ahead of it cannot make it.
    const { app, chat, received } = await alertingApp(t, 'rules: {}\n', { MAX_TURNS_IN_FLIGHT: '1', TURN_LATENCY_GOAL_MS: '10' }, { database: await engine.open(t) })
    // The process's meter outlives the app: the test counts what its own burst adds.
    const refusedInMetrics = async (): Promise<number> => Number(/^chatbot_shed_requests_total\{reason="latency_goal"[^}]*\} (\d+)$/m.exec((await app.inject('/metrics')).body)?.[1] ?? 0)
    const refusedBefore = await refusedInMetrics()
    // Small lines, from which the admission learns the service rate, until it refuses a few: a
    // handful of refusals, as a restart under load gives, is no alert.
    const lines = [await Promise.all(Array.from({ length: 5 }, () => chat()))]
    const refused = () => lines.flat().filter(response => response.statusCode === 503).length
    for (let line = 0; refused() === 0 && line < 20; line++) lines.push(await Promise.all(Array.from({ length: 5 }, () => chat())))
    t.ok(refused() > 0 && refused() <= 20, `a handful refused: ${refused()}`)
    await app.alerts.evaluate()
    const quiet = app.alerts.states().filter(state => state.alert === 'QueueBacklog' || state.alert === 'HighErrorRate')
    t.same(quiet.map(state => state.state), ['inactive', 'inactive'], 'neither QueueBacklog nor HighErrorRate')
    // Then bursts it refuses more from.
    for (let burst = 0; refused() <= 20 && burst < 20; burst++) lines.push(await Promise.all(Array.from({ length: 20 }, () => chat())))
    const all = lines.flat()
    const shed = all.filter(response => response.statusCode === 503)
    t.ok(shed.length > 20, `${shed.length} of ${all.length} turns refused`)
    t.equal(shed.length + all.filter(response => response.statusCode === 200).length, all.length, 'the others answered')
    t.match(shed[0]?.json(), { type: 'urn:parley:problem:overloaded', reason: 'latency_goal', retry_after_seconds: 5, detail: /TURN_LATENCY_GOAL_MS/ })
    t.equal(shed[0]?.headers['retry-after'], '5')
    await app.alerts.evaluate()
    t.match(await received('QueueBacklog'), { severity: 'warning', value: shed.length, threshold: 20, summary: `requests refused by load shedding ${shed.length} > 20 over 5m` })
    t.equal(app.alerts.states().find(state => state.alert === 'HighErrorRate')?.state, 'inactive', 'refusals are not errors: HighErrorRate judges failures')
    t.equal(await refusedInMetrics() - refusedBefore, shed.length, 'counted in /metrics')
  })
}

for (const engine of engines()) {
  t.test(`quality alerts on ${engine.name}: the answer rate falling, feedback down, one topic unanswered, each linking to the console`, async t => {
    const database = await engine.open(t)
    const { app, chat, received } = await alertingApp(t, 'rules: {}\n', { PUBLIC_URL: 'https://bot.example.com/' }, { database })
    const ask = async (message: string) => (await chat(message)).json<{ session_id: string, kind: string }>()
    // 11 questions near the knowledge-base document and never answered, and 10 answered: 48% answered.
    for (let i = 0; i < 11; i++) t.equal((await ask('can the knowledge base feed purple elephants and giraffes?')).kind, 'no_answer')
    for (let i = 0; i < 10; i++) {
      const answered = await ask('how do I view traces?')
      t.equal(answered.kind, 'answer')
      if (i < 6) await app.inject({ method: 'POST', url: '/v1/chat', payload: { message: '/feedback down', session_id: answered.session_id } })
    }
    await app.alerts.evaluate()
    t.match(await received('AnswerRateLow'), { severity: 'warning', summary: 'questions answered from the knowledge base 47.6% < 50.0% over 30m (21 questions)', hint: /https:\/\/bot\.example\.com\/console#\/conversations\?kind=no_answer/ })
    t.match(await received('FeedbackDownSpike'), { summary: 'answers rated down with /feedback 6 > 5 over 15m', hint: /https:\/\/bot\.example\.com\/console#\/conversations\?feedback=down/ })
    const topic = await received('UnansweredTopic')
    t.match(topic, { summary: 'no_answer turns nearest to one document 11 > 10 over 60m', hint: /Topic: "Knowledge base" \(knowledge-base\), 11 turns: https:\/\/bot\.example\.com\/console#\/conversations\?kind=no_answer&source=knowledge-base/ })
  })
}

t.test('LLMDegraded fires when the model\'s answers fall back or its calls are slow, and stays quiet while it answers well', async t => {
  const model = await startScriptedModel(t)
  const llm = { LLM_BASE_URL: model.url, LLM_MODEL: 'scripted-model', LLM_MAX_RETRIES: '0' }

  await t.test('its answers falling back', async t => {
    const { app, chat, received } = await alertingApp(t, 'rules: {}\n', llm)
    // Five server errors open the breaker; the calls after them fall back at once, and count too.
    model.script(...Array.from({ length: 5 }, () => ({ kind: 'status' as const, status: 500 })))
    for (let i = 0; i < 12; i++) t.match((await chat()).json(), { kind: 'answer', generation: { by: 'extractive' } })
    await app.alerts.evaluate()
    t.match(await received('LLMDegraded'), { severity: 'warning', value: 1, threshold: 0.2, summary: 'share of the language model\'s calls that fell back to the passage 100.0% > 20.0% over 10m (12 model calls)', hint: /chatbot_llm_fallbacks_total\{reason\}/ })
  })

  await t.test('its calls slow', async t => {
    const { app, chat, received } = await alertingApp(t, 'rules:\n  LLMDegraded:\n    when: [{ measure: llm_call_p95_seconds, above: 0.2, window: 10m, min_samples: 3 }]\n', llm)
    model.script(...Array.from({ length: 3 }, () => ({ kind: 'answer' as const, text: 'Open Jaeger [1].', firstChunkDelayMs: 300 })))
    for (let i = 0; i < 3; i++) t.match((await chat()).json(), { generation: { by: 'model' } })
    await app.alerts.evaluate()
    t.match(await received('LLMDegraded'), { summary: /^p95 duration of the language model's calls \d+ ms > 200 ms over 10m \(3 model calls\)$/ })
  })

  await t.test('answering well', async t => {
    const { app, chat, sent } = await alertingApp(t, 'rules: {}\n', llm)
    for (let i = 0; i < 12; i++) t.match((await chat()).json(), { generation: { by: 'model' } })
    await app.alerts.evaluate()
    t.same(sent().filter(n => n.alert === 'LLMDegraded'), [], 'no LLMDegraded')
    t.match(app.alerts.states().find(state => state.alert === 'LLMDegraded'), { state: 'inactive' })
  })
})
