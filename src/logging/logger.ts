// The one logger of the process, shared with Fastify: JSON lines with an ISO time, the level's
// name, the service identity, and the context of the work in progress on every line.
import { pino, stdTimeFunctions, type DestinationStream, type LogFn, type Logger } from 'pino'
import { errorLogFields } from './error-fingerprint.js'
import { currentLogFields, keepLine, namesItsModule } from './log-context.js'
import { scrub } from './scrubber.js'
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
// Secrets in logged objects are redacted by key (secret-keys.ts). An error logged as `err` (or
// alone, as libraries do) becomes errorLogFields' scrubbed, fingerprinted fields, so every error
// line has the same shape wherever it was logged, and the line's message, which pino would take
// from the raw error message, is scrubbed too. Other free text goes through scrub() where it is logged.
// Every line names its module and function: log()'s loggers bind theirs; the lines Fastify logs
// itself through the root logger ("Server listening at …", a client error) are the http module's.
const FASTIFY_OWN = { module: 'http', fn: 'fastify' }

function commonOptions (options: Omit<LoggerOptions, 'level' | 'destination'>) {
  return {
    base: { service: options.service, version: options.version, env: options.env },
    timestamp: stdTimeFunctions.isoTime,
    mixin: (_fields: object, _level: number, logger: object) =>
      namesItsModule(logger) ? { ...currentLogFields() } : { ...FASTIFY_OWN, ...currentLogFields() },
    // streamWrite: a request whose lines are kept (a chat turn's, for its turn trace) gets each
    // line as written, scrubbed and redacted like every other.
    hooks: { logMethod: scrubErrorMessage, streamWrite: keepLine }
  }
}

function scrubErrorMessage (this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  // Every line passes here: those without an error go on untouched, without copying their arguments.
  const first: unknown = args[0]
  const error = first instanceof Error ? first : (first as { err?: unknown } | null)?.err
  if (!(error instanceof Error)) return method.apply(this, args)
  const [, message, ...rest] = args as [unknown, unknown, ...unknown[]]
  method.call(this, first as object, scrub(typeof message === 'string' ? message : error.message), ...rest)
}

/** pino's formatters.log: errors as the app logs them, then secrets redacted. */
function lineFields (fields: Record<string, unknown>): Record<string, unknown> {
  if (fields.err === undefined) return redactSecrets(fields)
  const { err, ...rest } = fields
  return redactSecrets({ ...rest, ...errorLogFields(err) })
}

export function createLogger (options: LoggerOptions): Logger {
  return pino({
    ...commonOptions(options),
    level: options.level,
    formatters: { level: label => ({ level: label }), log: lineFields }
  }, options.destination)
}

/**
 * The logger of audit entries: lines of level "audit", which the log router sends to audit.log
 * (hash-chained) as well as everywhere else. Audit entries are a record, not diagnostics, so
 * they are written whatever LOG_LEVEL says and the run-time level changes do not touch them.
 */
export function createAuditLogger (options: Omit<LoggerOptions, 'level'>): Logger {
  const common = commonOptions(options)
  return pino({
    ...common,
    // Audit entries are written by the audit trail alone (src/audit/audit-trail.ts).
    base: { ...common.base, module: 'audit', fn: 'record' },
    mixin: () => ({ ...currentLogFields() }),
    level: 'info',
    // Not a child of the request's logger: like every logger, it takes the request id from the context.
    formatters: { level: () => ({ level: 'audit' }), log: lineFields }
  }, options.destination)
}
