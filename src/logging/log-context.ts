// The logging context of the work in progress (a request, a background job), carried by
// AsyncLocalStorage so domain code never passes loggers or ids by hand: whatever it logs through
// log() carries the request id, session, pseudonymous user and command of the turn it serves.
import { AsyncLocalStorage } from 'node:async_hooks'
import { pino, type Logger } from 'pino'

export interface LogFields {
  session_id?: string
  /** Always the pseudonym (see LogPrivacy), never the caller's raw user id. */
  user_id?: string
  command?: string
}

interface LogContext {
  logger: Logger
  fields: LogFields
}

// The process's one AsyncLocalStorage holds the logging context and, when the OpenTelemetry SDK
// runs, the tracing context too (otel/context-manager.ts). Node copies every storage into every
// promise created, and a turn creates hundreds: a second storage of the SDK's own cost about
// 50 µs of CPU per request in bench:telemetry's profiles. Each slot is replaced independently.
interface Scope {
  log?: LogContext
  trace?: unknown
}

const storage = new AsyncLocalStorage<Scope>()

const current = (): LogContext | undefined => storage.getStore()?.log

/**
 * Runs fn with `logger` (e.g. a request's child logger) as the base for everything logged
 * inside; `fields` collects what the work learns about itself (its session, user, command).
 */
export function runWithLogger<T> (logger: Logger, fn: () => T, fields: LogFields = {}): T {
  return storage.run({ log: { logger, fields }, trace: storage.getStore()?.trace }, fn)
}

/** The storage's tracing slot, for OpenTelemetry's context manager: setting it keeps the logging context. */
export const traceSlot = {
  get: (): unknown => storage.getStore()?.trace,
  run: <T>(trace: unknown, fn: () => T): T => storage.run({ log: current(), trace }, fn),
  /** For the rest of the current synchronous execution and what it starts (AsyncLocalStorage's enterWith). */
  enter: (trace: unknown): void => { storage.enterWith({ log: current(), trace }) }
}

/** Runs fn outside any logging or tracing context (a crash's shutdown must not run as the request that threw). */
export function outsideAnyContext<T> (fn: () => T): T {
  return storage.exit(fn)
}

/** Adds fields to every later line of the current context (for the rest of the request). */
export function addLogFields (fields: LogFields): void {
  const context = current()
  if (context !== undefined) Object.assign(context.fields, fields)
}

/** The current context's fields, merged into each line by the root logger's mixin. */
export function currentLogFields (): LogFields {
  return current()?.fields ?? {}
}

/** The bindings of the current context's logger (a request's `req_id`), for loggers outside it. */
export function contextBindings (): Record<string, unknown> {
  return current()?.logger.bindings() ?? {}
}

let fallback: Logger | undefined

/** The logger used outside any context (start-up, tests that build domain objects directly). */
export function setFallbackLogger (logger: Logger): void {
  fallback = logger
}

// Per-module levels set at run time (PUT /v1/admin/log-level); other modules follow the root level.
const moduleLevels = new Map<string, string>()

export function setModuleLevel (module: string, level: string | undefined): void {
  if (level === undefined) moduleLevels.delete(module)
  else moduleLevels.set(module, level)
}

export function moduleLevelOverrides (): Record<string, string> {
  return Object.fromEntries(moduleLevels)
}

/** A logger log() can derive from: any pino logger, Fastify's `app.log` and `request.log` included. */
export interface ParentLogger { child: (bindings: { module: string, fn: string }) => object }

/**
 * A logger for one module and function, based on the current context's logger; outside any
 * context, on `outside` if given, else on the process's fallback logger. Lines logged through it
 * follow the module's level set at run time.
 */
export function log (module: string, fn: string, outside?: ParentLogger): Logger {
  const base: ParentLogger | undefined = current()?.logger ?? outside ?? fallback
  const logger = (base ?? silent).child({ module, fn }) as Logger
  const level = moduleLevels.get(module)
  if (level !== undefined) logger.level = level
  return logger
}

const silent = pino({ level: 'silent' })
