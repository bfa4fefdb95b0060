// The one logger of the process, shared with Fastify: JSON lines with an ISO time, the level's
// name, the service identity, and the context of the work in progress on every line.
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino'
import { errorLogFields } from './error-fingerprint.js'
import { contextBindings, currentLogFields } from './log-context.js'
import { redactSecrets } from './secret-keys.js'

export interface LoggerOptions {
  level: string
  service: string
  version: string
  env: string
  /** Where lines go; stdout when omitted. */
  destination?: DestinationStream
}

// What every line carries: ISO time, the service's identity, the context of the work in progress.
// Secrets in logged objects are redacted by key (secret-keys.ts), and an error logged as `err`
// (by a library, say) is scrubbed and fingerprinted as the app's own error lines are; free text
// goes through scrub() where it is logged.
function commonOptions (options: Omit<LoggerOptions, 'level' | 'destination'>) {
  return {
    base: { service: options.service, version: options.version, env: options.env },
    timestamp: stdTimeFunctions.isoTime,
    mixin: () => ({ ...currentLogFields() }),
    serializers: { err: errorLogFields }
  }
}

export function createLogger (options: LoggerOptions): Logger {
  return pino({
    ...commonOptions(options),
    level: options.level,
    formatters: { level: label => ({ level: label }), log: redactSecrets }
  }, options.destination)
}

/**
 * The logger of audit entries: lines of level "audit", which the log router sends to audit.log
 * (hash-chained) as well as everywhere else. Audit entries are a record, not diagnostics, so
 * they are written whatever LOG_LEVEL says and the run-time level changes do not touch them.
 */
export function createAuditLogger (options: Omit<LoggerOptions, 'level'>): Logger {
  return pino({
    ...commonOptions(options),
    level: 'info',
    formatters: { level: () => ({ level: 'audit' }), log: redactSecrets },
    // Not a child of the request's logger, so the request id is taken from its context.
    mixin: () => ({ ...contextBindings(), ...currentLogFields() })
  }, options.destination)
}
