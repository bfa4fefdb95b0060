// The logging context of the work in progress (a request, a background job), carried by
// AsyncLocalStorage so domain code never passes loggers or ids by hand: whatever it logs through
// log() carries the request id, session, pseudonymous user and command of the turn it serves.
import { AsyncLocalStorage } from 'node:async_hooks'
import { pino, type Logger } from 'pino'
import type { TurnParts } from './turn-parts.js'

export interface LogFields {
  /** The request's id (Fastify's, from X-Request-Id or made up), on every line logged while serving it. */
  req_id?: string
  /** The caller's X-Request-Id, if it looks like an id: so its logs and ours join up. */
  client_request_id?: string
  session_id?: string
  /** Always the pseudonym (see LogPrivacy), never the caller's raw user id. */
  user_id?: string
  command?: string
  /** A 4xx's problem type and detail, on the request's completion line: why the caller was refused. */
  problem?: string
}

interface LogContext {
  logger: Logger
  fields: LogFields
  /** The lines written in this context, as written, when something keeps them (see captureLogLines). */
  capture?: string[]
  /** Where the time of a chat turn went, when something measures it (see measureTurnParts). */
  parts?: TurnParts
  /** What the work a turn called (its search) adds to the turn's own line, when one is written (see turnLineFields). */
  turnLine?: Record<string, unknown>
}

// A request that logs more than this (a loop gone wrong, debug level on) keeps its first lines
// only: what the console shows of one turn must not grow without bound. A turn logs about six.
export const MAX_CAPTURED_LINES = 200

// The process's one AsyncLocalStorage holds the logging context and, when the OpenTelemetry SDK
// runs, the tracing context too (src/logging/shared-storage-context-manager.ts). Node copies every storage into every
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

/**
 * From now on, every line written in the current context (and the work it starts) is also kept,
 * as written, in the array returned; undefined outside any context. The logger's streamWrite
 * hook fills it (src/logging/logger.ts): one storage lookup per line, nothing parsed.
 */
export function captureLogLines (): string[] | undefined {
  const context = current()
  if (context === undefined) return undefined
  context.capture ??= []
  return context.capture
}

/** Stops keeping the current context's lines (its turn trace has them); what was kept stays in the array. */
export function endLogCapture (): void {
  const context = current()
  if (context !== undefined) context.capture = undefined
}

/**
 * From now on, the time the current context's work spends in each part of a chat turn (waiting
 * for admission, in the database, searching, waiting for the model) is added up in the object
 * returned; undefined outside any context.
 */
export function measureTurnParts (): TurnParts | undefined {
  const context = current()
  if (context === undefined) return undefined
  context.parts ??= { admission_ms: 0, database_ms: 0, search_ms: 0, model_ms: 0 }
  return context.parts
}

/** Adds ms to a part of the current turn, when its parts are measured (measureTurnParts). */
export function addTurnTime (part: keyof TurnParts, ms: number): void {
  const parts = storage.getStore()?.log?.parts
  if (parts !== undefined) parts[part] += ms
}

/**
 * From now on, what the current context's work adds to currentTurnLine() (its search's results
 * and answer decision) is gathered in the object returned, for the turn's one line (chat.reply_sent)
 * to carry: one richer line instead of a line per step, each of which costs its serialisation on
 * the event loop and its hand-off to the log worker. Undefined outside any context.
 */
export function turnLineFields (): Record<string, unknown> | undefined {
  const context = current()
  if (context === undefined) return undefined
  context.turnLine ??= {}
  return context.turnLine
}

/** The current turn's line's gathered fields, when something gathers them (turnLineFields); else undefined. */
export function currentTurnLine (): Record<string, unknown> | undefined {
  return storage.getStore()?.log?.turnLine
}

/** Keeps a written line if the current context captures its lines (the logger's streamWrite hook). */
export function keepLine (line: string): string {
  const capture = storage.getStore()?.log?.capture
  if (capture !== undefined && capture.length < MAX_CAPTURED_LINES) capture.push(line)
  return line
}

/** The current context's fields, merged into each line by the root logger's mixin. */
export function currentLogFields (): LogFields {
  return current()?.fields ?? {}
}

let fallback: Logger | undefined

/** The logger used outside any context (start-up, tests that build domain objects directly). */
export function setFallbackLogger (logger: Logger): void {
  fallback = logger
}

// Per-module levels set at run time (PUT /v1/admin/log-level); other modules follow the root level.
const moduleLevels = new Map<string, string>()

/** Every module that logs: the `module` field of its lines, and the modules PUT /v1/admin/log-level can tune. */
export const LOG_MODULES = [
  'server', 'http', 'auth', 'error_handler', 'chat', 'command_parser', 'session_manager', 'search_engine', 'llm',
  'database', 'audit', 'alerts', 'reports', 'log_janitor', 'evaluation', 'privacy'
] as const
export type LogModule = typeof LOG_MODULES[number]

export function setModuleLevel (module: LogModule, level: string | undefined): void {
  if (level === undefined) moduleLevels.delete(module)
  else moduleLevels.set(module, level)
  levelsChanged++
}

export function moduleLevelOverrides (): Record<string, string> {
  return Object.fromEntries(moduleLevels)
}

/** A logger log() can derive from: any pino logger, Fastify's `app.log` and `request.log` included. */
export interface ParentLogger { child: (bindings: { module: string, fn: string }) => object }

// log()'s loggers, made once per base logger, module and function rather than at every call: a
// turn logs through half a dozen, and each pino child costs the serialisation of its bindings.
// The request's own fields come from the context (the root logger's mixin), not from a child per
// request, so one child of the app's logger serves every request. A base that goes away (a test's
// app) takes its loggers with it.
interface ModuleLogger { logger: Logger, levels: number }
const moduleLoggers = new WeakMap<object, Map<string, Map<string, ModuleLogger>>>()
// The loggers log() made, whose lines have their module and function as bindings.
const withModule = new WeakSet<object>()

/** Whether a logger's lines name their module and function (a logger made by log()). */
export function namesItsModule (logger: object): boolean {
  return withModule.has(logger)
}
// Module-level changes are rare; each bumps this, and a logger made before one takes it on when next used.
let levelsChanged = 0

/**
 * A logger for one module and function, based on the current context's logger; outside any
 * context, on `outside` if given, else on the process's fallback logger. Lines logged through it
 * follow the module's level set at run time, else the base's level (pino children inherit it).
 */
export function log (module: LogModule, fn: string, outside?: ParentLogger): Logger {
  const base: ParentLogger = current()?.logger ?? outside ?? fallback ?? silent
  let byModule = moduleLoggers.get(base)
  if (byModule === undefined) moduleLoggers.set(base, byModule = new Map())
  let byFn = byModule.get(module)
  if (byFn === undefined) byModule.set(module, byFn = new Map())
  let entry = byFn.get(fn)
  if (entry === undefined || entry.levels !== levelsChanged) {
    // A new child, so that one whose module had a level of its own follows the base's again once that is reset.
    entry = { logger: base.child({ module, fn }) as Logger, levels: levelsChanged }
    withModule.add(entry.logger)
    const level = moduleLevels.get(module)
    if (level !== undefined) entry.logger.level = level
    // Functions are names in the code, so the maps stay small; the bound is for safety's sake.
    if (byFn.size < MAX_FUNCTIONS_PER_MODULE) byFn.set(fn, entry)
  }
  return entry.logger
}

const MAX_FUNCTIONS_PER_MODULE = 1000
const silent = pino({ level: 'silent' })
