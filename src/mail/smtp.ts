// The one SMTP set-up (SMTP_* settings) behind every e-mail Parley sends: alerts and the weekly
// report. Timeouts are short so an unreachable server cannot hold a delivery for minutes.
import { createTransport } from 'nodemailer'
import type { Config } from '../config.js'

export type SmtpSettings = Pick<Config, 'SMTP_HOST' | 'SMTP_PORT' | 'SMTP_SECURE' | 'SMTP_USER' | 'SMTP_PASSWORD' | 'SMTP_TLS_REJECT_UNAUTHORIZED'>

export function createSmtpTransport (settings: SmtpSettings, timeoutMs: number) {
  return createTransport({
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
export const addresses = (list: string): string[] => list.split(',').map(address => address.trim()).filter(address => address !== '')
