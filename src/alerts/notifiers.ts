// Where an alert notification goes: a Slack-compatible incoming webhook, a generic JSON webhook
// and e-mail. Each send either delivers or throws with a message fit for a log line; retrying is
// the dispatcher's business. Webhook URLs are credentials, so no message ever contains one.
import type { Config } from '../config.js'
import { htmlEscape } from '../mail/html-escape.js'
import { addresses, createSmtpTransport, type SmtpSettings } from '../mail/smtp.js'
import { log } from '../logging/log-context.js'
import type { AlertNotification } from './alert-notification.js'

export interface Notifier {
  readonly name: string
  /** Delivers the notification once; rejects on any failure (non-2xx answer, SMTP error, timeout). */
  send (notification: AlertNotification): Promise<void>
}

/** A hanging receiver must not hold a delivery (and the queue behind it) for long. */
const SEND_TIMEOUT_MS = 10_000

interface AlertMessage {
  /** e.g. "[FIRING] HighErrorRate (critical)" */
  title: string
  summary: string
  fields: Array<[label: string, value: string]>
}

// Enough digits to compare with the threshold; a ratio like 0.07512345 reads better as 0.07512.
const number = (value: number): string => String(Number(value.toPrecision(4)))

/** The one wording of a notification, rendered as Slack mrkdwn, plain text and HTML. */
function alertMessage (n: AlertNotification): AlertMessage {
  const state = n.status === 'resolved' ? 'RESOLVED' : n.repeat ? 'STILL FIRING' : 'FIRING'
  return {
    title: `[${state}] ${n.alert} (${n.severity})`,
    summary: n.summary,
    fields: [
      ['Value', `${number(n.value)} (threshold ${number(n.threshold)})`],
      ['Since', n.since],
      ...(n.status === 'resolved' ? [['Resolved', n.at] as [string, string]] : []),
      ['Hint', n.hint],
      ['Instance', `${n.service} on ${n.instance}`]
    ]
  }
}

const EMOJI = { critical: ':red_circle:', warning: ':large_orange_circle:', info: ':large_blue_circle:' }
// Slack reads <...> as links and mentions, so text from the alert must not be taken for markup.
const slackEscape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
// Slack refuses a section whose text is longer (a long LogQL hint could get there).
const SLACK_SECTION_LIMIT = 3000

export function slackNotifier (url: string, timeoutMs = SEND_TIMEOUT_MS): Notifier {
  return {
    name: 'slack',
    async send (n) {
      const message = alertMessage(n)
      const emoji = n.status === 'resolved' ? ':white_check_mark:' : EMOJI[n.severity]
      const headline = `${emoji} ${slackEscape(message.title)}`
      const fields = message.fields.map(([label, value]) => `*${label}:* ${slackEscape(value)}`)
      const body = [`*${headline}*`, slackEscape(message.summary), ...fields].join('\n')
      await postJson('slack', url, {
        text: `${headline}: ${slackEscape(message.summary)}`,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: body.slice(0, SLACK_SECTION_LIMIT) } }]
      }, timeoutMs)
    }
  }
}

/**
 * POSTs `{ "version": 1, ...AlertNotification }` as application/json: alert, severity
 * (critical|warning|info), status (firing|resolved), repeat, summary, value, threshold, since and
 * at (ISO times), hint, service, instance. `version` changes only if a field changes meaning.
 */
export function webhookNotifier (url: string, timeoutMs = SEND_TIMEOUT_MS): Notifier {
  return {
    name: 'webhook',
    async send (n) { await postJson('webhook', url, { version: 1, ...n }, timeoutMs) }
  }
}

async function postJson (name: string, url: string, payload: unknown, timeoutMs: number): Promise<void> {
  let response: Response
  let answer: string
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(timeoutMs)
    })
    answer = await response.text()
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') throw new Error(`${name}: no answer within ${timeoutMs} ms`)
    // undici's "fetch failed" says nothing; its cause names the host and port, never the path.
    const cause = (error as Error).cause as Error | undefined
    throw new Error(`${name}: request failed: ${cause?.message ?? (error as Error).message}`)
  }
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status} ${answer.slice(0, 200)}`.trim())
}

export interface EmailSettings extends SmtpSettings, Pick<Config, 'ALERTS_EMAIL_TO' | 'ALERTS_EMAIL_FROM'> {}

export function emailNotifier (settings: EmailSettings, timeoutMs = SEND_TIMEOUT_MS): Notifier {
  const transport = createSmtpTransport(settings, timeoutMs)
  const to = addresses(settings.ALERTS_EMAIL_TO)
  return {
    name: 'email',
    async send (n) {
      const message = alertMessage(n)
      let info: { rejected: unknown[] }
      try {
        const lines = message.fields.map(([label, value]) => `${label}: ${value}`)
        const rows = message.fields.map(([label, value]) => {
          const cell = label === 'Hint' ? `<code>${htmlEscape(value)}</code>` : htmlEscape(value)
          return `<tr><th align="left">${label}</th><td>${cell}</td></tr>`
        })
        info = await transport.sendMail({
          from: settings.ALERTS_EMAIL_FROM,
          to,
          subject: `${message.title} on ${n.instance}`,
          text: [message.title, '', message.summary, '', ...lines].join('\n'),
          html: `<h2>${htmlEscape(message.title)}</h2>\n<p>${htmlEscape(message.summary)}</p>\n` +
            `<table>\n${rows.join('\n')}\n</table>\n`
        })
      } catch (error) {
        throw new Error(`email: ${(error as Error).message}`)
      }
      // Some recipients got it: a retry would send them duplicates, so the rest is only reported.
      if (info.rejected.length > 0) {
        log('alerts', 'emailNotifier')
          .warn({ alert: n.alert, rejected: info.rejected }, 'alert e-mail rejected for some recipients')
      }
    }
  }
}

type NotifierSettings = EmailSettings & Pick<Config, 'ALERTS_SLACK_WEBHOOK_URL' | 'ALERTS_WEBHOOK_URL'>

/** The notifiers the configuration turns on: each channel is on when its destination is set. */
export function createNotifiers (config: NotifierSettings): Notifier[] {
  const notifiers: Notifier[] = []
  if (config.ALERTS_SLACK_WEBHOOK_URL !== '') notifiers.push(slackNotifier(config.ALERTS_SLACK_WEBHOOK_URL))
  if (config.ALERTS_WEBHOOK_URL !== '') notifiers.push(webhookNotifier(config.ALERTS_WEBHOOK_URL))
  if (config.SMTP_HOST !== '' && config.ALERTS_EMAIL_TO.trim() !== '') notifiers.push(emailNotifier(config))
  return notifiers
}
