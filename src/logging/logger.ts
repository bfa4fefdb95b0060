// The one logger of the process, shared with Fastify: JSON lines with an ISO time, the level's
// name, the service identity, and the context of the work in progress on every line.
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino'
import { currentLogFields } from './log-context.js'

// Key-based redaction for places where secrets are known to sit; free text goes through scrub().
export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'res.headers["set-cookie"]',
  'headers.authorization', 'headers.cookie',
  '*.password', '*.token', '*.secret', '*.apiKey', '*.api_key', '*.authorization'
]

export interface LoggerOptions {
  level: string
  service: string
  version: string
  env: string
  /** Where lines go; stdout when omitted. */
  destination?: DestinationStream
}

export function createLogger (options: LoggerOptions): Logger {
  return pino({
    level: options.level,
    base: { service: options.service, version: options.version, env: options.env },
    timestamp: stdTimeFunctions.isoTime,
    formatters: { level: label => ({ level: label }) },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    mixin: () => ({ ...currentLogFields() })
  }, options.destination)
}
