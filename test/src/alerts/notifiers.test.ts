// The notifiers and the dispatcher against real receivers (node:http servers, an smtp-server SMTP
// server): what each channel delivers, how each failure reads (never with a webhook URL in it),
// and how the dispatcher retries, gives up, bounds its queues and shuts down.
import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import type { AlertNotification } from '../../../src/alerts/alert-notification.js'
import { NotificationDispatcher, type NotificationDispatcherOptions } from '../../../src/alerts/notification-dispatcher.js'
import { createNotifiers, emailNotifier, slackNotifier, webhookNotifier } from '../../../src/alerts/notifiers.js'
import { loadConfig } from '../../../src/config.js'
import { runWithLogger } from '../../../src/logging/log-context.js'
import { waitFor } from '../../helper.js'
import { httpReceiver, smtpServer } from '../../receivers.js'

const FIRING: AlertNotification = {
  alert: 'HighErrorRate',
  severity: 'critical',
  status: 'firing',
  repeat: false,
  summary: '5xx share of requests 7.5% > 5% over 5m',
  value: 0.075,
  threshold: 0.05,
  since: '2026-01-15T10:00:00.000Z',
  at: '2026-01-15T10:05:00.000Z',
  hint: '{service="parley"} | json | status >= 500',
  service: 'parley',
  instance: 'host-1'
}

/** A logger whose lines the test can read. */
function capturedLogger () {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } })
  return { logger: pino({ formatters: { level: label => ({ level: label }) } }, sink), lines }
}

t.test('Slack gets a mrkdwn section with everything on call needs, alert text escaped', async t => {
  const receiver = await httpReceiver(t)
  await slackNotifier(receiver.url).send(FIRING)
  await slackNotifier(receiver.url).send({ ...FIRING, status: 'resolved', value: 0.01, at: '2026-01-15T10:20:00.000Z' })
  t.equal(receiver.received[0]?.headers['content-type'], 'application/json')
  const firing = receiver.json(0) as { text: string, blocks: Array<{ type: string, text: { type: string, text: string } }> }
  t.equal(firing.text, ':red_circle: [FIRING] HighErrorRate (critical): 5xx share of requests 7.5% &gt; 5% over 5m')
  t.match(firing.blocks, [{ type: 'section', text: { type: 'mrkdwn' } }])
  const section = firing.blocks[0]?.text.text
  t.match(section, /^\*:red_circle: \[FIRING\] HighErrorRate \(critical\)\*\n/)
  for (const line of ['*Value:* 0.075 (threshold 0.05)', '*Since:* 2026-01-15T10:00:00.000Z', '*Hint:* {service="parley"} | json | status &gt;= 500', '*Instance:* parley on host-1']) {
    t.ok(section?.includes(line), line)
  }
  const resolved = receiver.json(1) as { text: string, blocks: Array<{ text: { text: string } }> }
  t.match(resolved.text, /^:white_check_mark: \[RESOLVED\] HighErrorRate \(critical\)/)
  t.match(resolved.blocks[0]?.text.text, /\*Value:\* 0\.01 \(threshold 0\.05\)\n\*Since:\* 2026-01-15T10:00:00\.000Z\n\*Resolved:\* 2026-01-15T10:20:00\.000Z/)
})

t.test('the generic webhook gets the notification itself, versioned', async t => {
  const receiver = await httpReceiver(t)
  await webhookNotifier(receiver.url).send({ ...FIRING, repeat: true })
  t.equal(receiver.received[0]?.headers['content-type'], 'application/json')
  t.same(receiver.json(0), { version: 1, ...FIRING, repeat: true })
})

t.test('a failed delivery rejects with a clear reason that never shows the URL', async t => {
  const broken = await httpReceiver(t, () => 500)
  const hanging = await httpReceiver(t, () => undefined)
  const gone = createServer().listen(0, '127.0.0.1')
  await new Promise(resolve => gone.once('listening', resolve))
  const gonePort = (gone.address() as AddressInfo).port
  await new Promise(resolve => gone.close(resolve))
  // The hanging receiver never answers: only the notifier's timeout ends its send.
  const errors = await Promise.all([
    webhookNotifier(broken.url).send(FIRING),
    slackNotifier(hanging.url, 200).send(FIRING),
    webhookNotifier(broken.url.replace(/:\d+/, `:${gonePort}`)).send(FIRING)
  ].map(async sending => await sending.then(() => new Error('delivered'), (error: Error) => error)))
  t.equal(errors[0]?.message, 'webhook: HTTP 500 receiver broke')
  t.equal(errors[1]?.message, 'slack: no answer within 200 ms')
  t.match(errors[2]?.message, /^webhook: request failed: connect ECONNREFUSED 127\.0\.0\.1:\d+$/)
  for (const error of errors) t.notMatch(error?.message, /SECRET|services/, 'no webhook path in the message')
})

t.test('e-mail: subject, envelope, plain text and escaped HTML, no AUTH without SMTP_USER', async t => {
  const smtp = await smtpServer(t)
  await emailNotifier(smtp.settings()).send({ ...FIRING, summary: 'errors from <script>alert(1)</script> & friends' })
  t.equal(smtp.mails.length, 1)
  const mail = smtp.mails[0] as typeof smtp.mails[number]
  t.equal(mail.from, 'parley@example.com')
  t.same(mail.to, ['oncall@example.com', 'lead@example.com'])
  t.match(mail.message, /^Subject: \[FIRING\] HighErrorRate \(critical\) on host-1\r$/m)
  t.match(mail.message, /^From: parley@example\.com\r$/m)
  t.match(mail.message, /^To: oncall@example\.com, lead@example\.com\r$/m)
  const html = mail.message.slice(mail.message.indexOf('Content-Type: text/html'))
  const text = mail.message.slice(mail.message.indexOf('Content-Type: text/plain'), mail.message.indexOf('Content-Type: text/html'))
  for (const line of ['errors from <script>alert(1)</script> & friends', 'Value: 0.075 (threshold 0.05)', 'Since: 2026-01-15T10:00:00.000Z', 'Hint: {service="parley"} | json | status >= 500', 'Instance: parley on host-1']) {
    t.ok(text.includes(line), `text: ${line}`)
  }
  t.ok(html.includes('<p>errors from &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends</p>'), 'the summary is escaped in HTML')
  t.notOk(html.includes('<script>'), 'no live script tag')
  t.ok(html.includes('<code>{service=&quot;parley&quot;} | json | status &gt;= 500</code>'), 'the hint is escaped in HTML')
  t.same(smtp.logins, [], 'no AUTH without SMTP_USER')
})

t.test('e-mail logs in when SMTP_USER is set, and an SMTP rejection rejects the send', async t => {
  const smtp = await smtpServer(t, (_, nth) => nth === 1)
  const notifier = emailNotifier(smtp.settings({ SMTP_USER: 'parley', SMTP_PASSWORD: 'hunter2' }))
  await t.rejects(notifier.send(FIRING), /^email: .*recipients were rejected.*550 mailbox unavailable/)
  await notifier.send(FIRING)
  t.equal(smtp.mails.length, 1)
  t.same(smtp.logins, ['parley:hunter2', 'parley:hunter2'])
})

t.test('e-mail refused for some recipients only is not resent to the others, and is logged', async t => {
  const smtp = await smtpServer(t, address => address === 'lead@example.com')
  const { logger, lines } = capturedLogger()
  await runWithLogger(logger, async () => { await emailNotifier(smtp.settings()).send(FIRING) })
  t.same(smtp.mails.map(mail => mail.to), [['oncall@example.com']])
  t.match(lines, [{ level: 'warn', module: 'alerts', alert: 'HighErrorRate', rejected: ['lead@example.com'], msg: 'alert e-mail rejected for some recipients' }])
})

t.test('createNotifiers turns on the channels whose destination is set', async t => {
  const names = (env: Record<string, string>) => createNotifiers(loadConfig(env)).map(notifier => notifier.name)
  t.same(names({}), [])
  t.same(names({ ALERTS_SLACK_WEBHOOK_URL: 'https://hooks.example.com/x', ALERTS_WEBHOOK_URL: 'https://example.com/hook', SMTP_HOST: 'mail.example.com', ALERTS_EMAIL_TO: 'a@example.com' }), ['slack', 'webhook', 'email'])
  t.same(names({ SMTP_HOST: 'mail.example.com' }), [], 'no e-mail without recipients')
  t.same(names({ ALERTS_EMAIL_TO: 'a@example.com' }), [], 'nor without a server')
})

/** A dispatcher logging into `lines`, closed when the test ends. */
function dispatcherFor (t: Test, options: NotificationDispatcherOptions) {
  const { logger, lines } = capturedLogger()
  const dispatcher = new NotificationDispatcher({ logger, ...options })
  t.teardown(() => dispatcher.close(100))
  const at = (level: string) => lines.filter(line => line.level === level)
  return { dispatcher, lines, at, stats: (name: string) => dispatcher.stats()[name] }
}

t.test('dispatch: a receiver failing twice gets the notification on the third attempt; the caller never waits', async t => {
  const receiver = await httpReceiver(t, nth => nth <= 2 ? 500 : 200)
  const { dispatcher, lines, at, stats } = dispatcherFor(t, { notifiers: [webhookNotifier(receiver.url)], retry: { initialDelayMs: 20 } })
  dispatcher.dispatch(FIRING)
  t.same(stats('webhook'), { sent: 0, failed: 0, dropped: 0, queued: 1 }, 'queued; no notifier code ran in the caller\'s turn')
  t.equal(receiver.received.length, 0)
  t.ok(await waitFor(() => stats('webhook')?.sent === 1), 'delivered')
  t.equal(receiver.received.length, 3)
  t.same(receiver.json(2), { version: 1, ...FIRING })
  const about = { module: 'alerts', fn: 'deliver', notifier: 'webhook', alert: 'HighErrorRate', status: 'firing' }
  t.match(at('warn'), [
    { ...about, attempt: 1, error: 'webhook: HTTP 500 receiver broke', retry_in_ms: 20 },
    { ...about, attempt: 2, error: 'webhook: HTTP 500 receiver broke', retry_in_ms: 40 }
  ])
  t.match(at('info'), [{ ...about, attempt: 3, msg: 'alert notification delivered after retrying' }])
  t.notOk(JSON.stringify(lines).includes('SECRET'), 'the URL is never logged')
})

t.test('dispatch: an always failing receiver is given up on while the other notifier delivers', async t => {
  const failing = await httpReceiver(t, () => 503)
  const working = await httpReceiver(t)
  const { dispatcher, at, stats } = dispatcherFor(t, { notifiers: [slackNotifier(failing.url), webhookNotifier(working.url)], retry: { attempts: 3, initialDelayMs: 50 } })
  t.doesNotThrow(() => dispatcher.dispatch(FIRING))
  t.ok(await waitFor(() => stats('webhook')?.sent === 1), 'the webhook got it')
  t.equal(stats('slack')?.failed, 0, 'while Slack was still being retried')
  t.ok(await waitFor(() => stats('slack')?.failed === 1), 'Slack is given up on')
  t.same(dispatcher.stats(), { slack: { sent: 0, failed: 1, dropped: 0, queued: 0 }, webhook: { sent: 1, failed: 0, dropped: 0, queued: 0 } })
  t.equal(failing.received.length, 3, 'after 3 attempts')
  t.match(at('warn'), [{ notifier: 'slack', attempt: 1 }, { notifier: 'slack', attempt: 2 }])
  t.match(at('error'), [{ notifier: 'slack', alert: 'HighErrorRate', attempt: 3, error: 'slack: HTTP 503 receiver broke', msg: 'alert notification not delivered, giving up' }])
  t.equal(at('error').length, 1)
})

t.test('dispatch: e-mail refused by the SMTP server is retried until it is accepted', async t => {
  const smtp = await smtpServer(t, (_, nth) => nth <= 2)
  const { dispatcher, at, stats } = dispatcherFor(t, { notifiers: [emailNotifier(smtp.settings())], retry: { initialDelayMs: 20 } })
  dispatcher.dispatch(FIRING)
  t.ok(await waitFor(() => stats('email')?.sent === 1), 'delivered')
  t.equal(smtp.mails.length, 1)
  t.match(smtp.mails[0]?.message, /^Subject: \[FIRING\] HighErrorRate \(critical\) on host-1\r$/m)
  t.match(at('warn'), [{ notifier: 'email', attempt: 1, error: /550 mailbox unavailable/ }, { notifier: 'email', attempt: 2 }])
})

t.test('dispatch: a full queue drops its oldest notification', async t => {
  const receiver = await httpReceiver(t)
  const { dispatcher, at, stats } = dispatcherFor(t, { notifiers: [webhookNotifier(receiver.url)], maxQueued: 2 })
  for (const alert of ['A', 'B', 'C', 'D']) dispatcher.dispatch({ ...FIRING, alert })
  t.same(stats('webhook'), { sent: 0, failed: 0, dropped: 2, queued: 2 })
  t.match(at('error'), [{ notifier: 'webhook', alert: 'A', max_queued: 2, msg: 'alert notification queue full, dropped the oldest' }, { alert: 'B' }])
  t.ok(await waitFor(() => stats('webhook')?.sent === 2))
  t.same(receiver.received.map((_, nth) => receiver.json(nth).alert), ['C', 'D'], 'the newest, in order')
})

t.test('close cuts a backoff wait short for a last attempt; later notifications are dropped', async t => {
  const receiver = await httpReceiver(t, () => 500)
  const { dispatcher, at, stats } = dispatcherFor(t, { notifiers: [webhookNotifier(receiver.url)], retry: { initialDelayMs: 60_000 } })
  dispatcher.dispatch(FIRING)
  t.ok(await waitFor(() => at('warn').length === 1), 'the first attempt failed; a retry is a minute away')
  await dispatcher.close(5_000)
  t.equal(receiver.received.length, 2, 'one last attempt, made within close\'s budget, not a minute later')
  t.match(at('error'), [{ attempt: 2, msg: 'alert notification not delivered, giving up' }])
  t.doesNotThrow(() => dispatcher.dispatch(FIRING))
  t.same(stats('webhook'), { sent: 0, failed: 1, dropped: 1, queued: 0 })
  t.match(at('warn').at(-1), { msg: 'alert notification dropped: the dispatcher is closed' })
})

t.test('close gives up on a hanging receiver at its budget', async t => {
  const receiver = await httpReceiver(t, () => undefined)
  const { dispatcher, at, stats } = dispatcherFor(t, { notifiers: [webhookNotifier(receiver.url)] })
  dispatcher.dispatch({ ...FIRING, alert: 'A' })
  dispatcher.dispatch({ ...FIRING, alert: 'B' })
  t.ok(await waitFor(() => receiver.received.length === 1), 'A is in flight')
  await dispatcher.close(200)
  t.match(at('error'), [{ fn: 'close', pending: { webhook: 2 }, timeout_ms: 200, msg: 'alert notifications abandoned at shutdown' }])
  t.same(stats('webhook'), { sent: 0, failed: 0, dropped: 1, queued: 1 }, 'B abandoned, A still in flight')
})
