// The one logger of the process, shared with Fastify: JSON lines with an ISO time, the level's
// name, the service identity, and the context of the work in progress on every line.
import { context, INVALID_TRACEID, trace } from '@opentelemetry/api'
import { pino, type DestinationStream, type LogFn, type Logger } from 'pino'
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
    timestamp: isoTime(),
    mixin: (_fields: object, _level: number, logger: object) =>
      withTrace(namesItsModule(logger) ? { ...currentLogFields() } : { ...FASTIFY_OWN, ...currentLogFields() }),
    // streamWrite: a request whose lines are kept (a chat turn's, for its turn trace) gets each
    // line as written, scrubbed and redacted like every other.
    hooks: { logMethod: scrubErrorMessage, streamWrite: keepLine }
  }
}

/**
 * The active span's trace_id, span_id and trace_flags, as @opentelemetry/instrumentation-pino names
 * them (the log router sends them on as each OTLP log record's context). Added here, and that
 * instrumentation is off (otel/sdk.ts): its mixin wrapped ours and merged two objects a
 * line, 8 µs of a chat turn's three lines under load against 0.5 µs here (bench:profile). A span the
 * SDK made has valid ids; without the SDK there is no active span, or the invalid one.
 */
function withTrace (fields: Record<string, unknown>): Record<string, unknown> {
  const span = trace.getSpan(context.active())
  if (span === undefined) return fields
  const { traceId, spanId, traceFlags } = span.spanContext()
  if (traceId === INVALID_TRACEID) return fields
  fields.trace_id = traceId
  fields.span_id = spanId
  fields.trace_flags = `0${traceFlags.toString(16)}`
  return fields
}

/**
 * pino's stdTimeFunctions.isoTime, the same text, with the date and the time to the second formatted
 * once a second rather than at every line: a Date and its toISOString() were 11 µs of a chat turn's
 * three lines under load (bench:profile), the largest of pino's own costs after escaping strings.
 */
export function isoTime (clock: () => number = Date.now): () => string {
  let second = NaN
  let prefix = ''
  return () => {
    const now = clock()
    const millis = now % 1000
    if (now - millis !== second) {
      second = now - millis
      prefix = `,"time":"${new Date(second).toISOString().slice(0, 20)}`
    }
    return `${prefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z"`
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
    mixin: () => withTrace({ ...currentLogFields() }),
    level: 'info',
    // Not a child of the request's logger: like every logger, it takes the request id from the context.
    formatters: { level: () => ({ level: 'audit' }), log: lineFields }
  }, options.destination)
}
