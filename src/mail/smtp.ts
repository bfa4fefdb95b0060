// The one SMTP set-up (SMTP_* settings) behind every e-mail Parley sends: alerts and the weekly
// report. Timeouts are short so an unreachable server cannot hold a delivery for minutes.
import { createRequire } from 'node:module'
import type nodemailer from 'nodemailer'
import type { Config } from '../config.js'

// Loaded when a transport is first made (SMTP set), not at every start, which it would lengthen by 0.06 s.
let loaded: typeof nodemailer | undefined
const mailer = (): typeof nodemailer => (loaded ??= createRequire(import.meta.url)('nodemailer') as typeof nodemailer)

export type SmtpSettings = Pick<
  Config,
  'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_SECURE' | 'SMTP_USER' | 'SMTP_PASSWORD' | 'SMTP_TLS_REJECT_UNAUTHORIZED'
>

export function createSmtpTransport (settings: SmtpSettings, timeoutMs: number) {
  return mailer().createTransport({
    host: settings.SMTP_HOST,
    port: settings.SMTP_PORT,
    secure: settings.SMTP_SECURE,
    auth: settings.SMTP_USER === '' ? undefined : { user: settings.SMTP_USER, pass: settings.SMTP_PASSWORD },
    tls: { rejectUnauthorized: settings.SMTP_TLS_REJECT_UNAUTHORIZED },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs
  })
}

/** A comma-separated list of addresses, as the settings hold them. */
export const addresses = (list: string): string[] =>
  list.split(',').map(address => address.trim()).filter(address => address !== '')
