// Real receivers for what the bot sends out, started by tests on free ports of 127.0.0.1: an HTTP
// server standing for Slack or a webhook, and an SMTP server (smtp-server) for e-mail.
import type { Test } from 'tap'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { loadConfig } from '../src/config.js'

interface Received { headers: IncomingHttpHeaders, body: string }

/**
 * A real HTTP receiver on a free port whose URL path stands for a webhook secret; `answer` gives
 * the status of the nth request (1-based), undefined to leave it hanging.
 */
export async function httpReceiver (t: Test, answer: (nth: number) => number | undefined = () => 200) {
  const received: Received[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => {
      received.push({ headers: req.headers, body })
      const status = answer(received.length)
      if (status !== undefined) res.writeHead(status).end(status < 300 ? 'ok' : 'receiver broke')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    server.closeAllConnections()
    server.close()
  })
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/SECRET`
  return { url, received, json: (nth: number) => JSON.parse(received[nth]?.body ?? 'null') as Record<string, unknown> }
}

// Enough of quoted-printable and header folding to read what nodemailer wrote.
const readable = (raw: string): string => raw.replace(/\r\n[ \t]+/g, ' ').replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))

/** A real SMTP server on a free port; `reject` refuses a recipient of the nth mail (1-based). */
export async function smtpServer (t: Test, reject: (address: string, nth: number) => boolean = () => false) {
  const mails: Array<{ from: string, to: string[], message: string }> = []
  const logins: string[] = []
  let tries = 0
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth (auth, _session, callback) {
      logins.push(`${auth.username}:${auth.password}`)
      callback(null, { user: auth.username })
    },
    onMailFrom (_address, _session, callback) {
      tries++
      callback()
    },
    onRcptTo (address, _session, callback) {
      callback(reject(address.address, tries) ? Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }) : null)
    },
    onData (stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => {
        const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address
        mails.push({ from, to: session.envelope.rcptTo.map(r => r.address), message: readable(Buffer.concat(chunks).toString('utf8')) })
        callback()
      })
    }
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(resolve)))
  const port = String((server.server.address() as AddressInfo).port)
  const settings = (env: Record<string, string> = {}) => loadConfig({ SMTP_HOST: '127.0.0.1', SMTP_PORT: port, ALERTS_EMAIL_FROM: 'parley@example.com', ALERTS_EMAIL_TO: 'oncall@example.com, lead@example.com', ...env })
  return { mails, logins, settings }
}
