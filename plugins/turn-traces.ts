// Each chat turn's trace and log lines, kept in the database for the console with no collector
// running (src/turn-traces/turn-trace-recorder.ts): this plugin keeps the lines POST /v1/chat
// writes (the logger's streamWrite hook fills the request's capture, src/logging/log-context.ts)
// and measures where the turn's time goes, hands the request's half of the record over once its
// last byte is sent (duration, parts, status, session, turn, a 5xx's error) and connects the span
// collector, when the SDK runs (src/telemetry/telemetry.ts). Writing happens on the recorder's timer, never
// in the request. TURN_TRACE_RETENTION_DAYS=0 turns it off.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { telemetry } from '../src/telemetry/telemetry.js'
import { currentTraceId } from '../src/telemetry/spans.js'
import { captureLogLines, endLogCapture, log, measureTurnParts } from '../src/logging/log-context.js'
import { scrub } from '../src/logging/scrubber.js'
import { TurnTraceRecorder } from '../src/turn-traces/turn-trace-recorder.js'
import { REFUSED_STATUSES } from '../src/telemetry/unserved-sampler.js'
import type { TurnParts } from '../src/turn-traces/turn-trace.js'
import { traceMs, turnSpanHalf } from '../src/turn-traces/turn-spans.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The turn traces being recorded: kept and dropped totals for /status and the console. */
    turnTraces: TurnTraceRecorder
  }
}

interface TurnInFlight {
  lines: string[]
  parts: TurnParts | undefined
  traceId: string | undefined
  kind?: string
  turn?: number
  sessionId?: string
  error?: Error
}

export default fp(async function turnTracesPlugin (app) {
  const recorder = new TurnTraceRecorder({
    db: app.db,
    maxQueue: app.config.TURN_TRACE_MAX_QUEUE,
    retentionDays: app.config.TURN_TRACE_RETENTION_DAYS,
    droppedCounter: app.metrics.turnTracesDropped,
    now: app.clock,
    onWriteFailed: (error, records) => {
      log('database', 'turnTraces', app.log).warn({ err: error, records }, 'turn_trace.write_failed')
    }
  })
  app.decorate('turnTraces', recorder)
  const clearOld = (): void => { recorder.deleteExpired().catch(() => {}) }
  app.addHook('onReady', async () => {
    recorder.start()
    clearOld()
  })
  app.addHook('onClose', async () => {
    await recorder.close()
    telemetry.turnSpans?.setSink(undefined)
  })
  if (!recorder.enabled) return

  // Only the chat route's requests are kept, and a request that is not one pays a WeakMap lookup.
  const turns = new WeakMap<FastifyRequest, TurnInFlight>()
  // Always the pseudonym, whatever LOG_USER_ID says: how an erasure of the user finds this turn.
  const userPseudonymOf = (request: FastifyRequest): string | null => {
    const userId = (request.body as { user_id?: unknown } | undefined)?.user_id
    return typeof userId === 'string' ? app.logPrivacy.pseudonym(userId) : null
  }

  app.addHook('onRequest', async (request) => {
    if (request.method !== 'POST' || request.routeOptions.url !== '/v1/chat') return
    const lines = captureLogLines()
    if (lines !== undefined) turns.set(request, { lines, parts: measureTurnParts(), traceId: currentTraceId() })
  })
  app.addHook('preSerialization', async (request, _reply, payload) => {
    const turn = turns.get(request)
    const result = payload as { session_id?: unknown, turn?: unknown, kind?: unknown } | null
    if (turn !== undefined && typeof result?.turn === 'number' && typeof result.session_id === 'string') {
      turn.turn = result.turn
      turn.sessionId = result.session_id
      turn.kind = typeof result.kind === 'string' ? result.kind : undefined
    }
    return payload
  })
  app.addHook('onError', async (request, _reply, error) => {
    const turn = turns.get(request)
    if (turn !== undefined) turn.error = error
  })
  // After plugins/request-logging's own onResponse, so its `request completed` line is kept.
  app.addHook('onResponse', async (request, reply) => {
    const turn = turns.get(request)
    if (turn === undefined) return
    turns.delete(request)
    endLogCapture()
    // A 503 answered no turn (refused by load shedding, or the database is down) and is counted in
    // chatbot_shed_requests_total: writing a row for each would add work exactly when there is too
    // much, and measured in bench:load each refusal's row led to more refusals. A 429 (a client past
    // its limits) answered none either, and is counted and logged: a row for each would let the
    // client being refused write to the database at the rate it is refused. Other client errors
    // (a 404 for a session not found, a 400) are kept, but not a flood's beyond the few logged a
    // second: 12,000 invalid bodies filled the queue, and real turns' traces were lost.
    if (REFUSED_STATUSES.has(reply.statusCode) || request.unlogged) return
    const failed = reply.statusCode >= 500
    const key = turn.traceId ?? request.id
    const traced = turn.traceId !== undefined
    // With turns waiting in line, writing every turn's spans and lines takes database time those
    // turns wait for (on the embedded database, a sixth of the answers at 50 clients in
    // bench:load): an ordinary turn's are held, not written (the recorder); a failed, slow or
    // unanswered one's are written.
    const ordinary = !failed && reply.elapsedTime < app.config.TURN_LATENCY_GOAL_MS &&
      turn.kind !== 'no_answer' && turn.kind !== 'command_error'
    recorder.addRequest({
      letGo: ordinary && app.turnAdmission.queued() > 0 ? 'pressure' : undefined,
      key,
      traced,
      // A turn that failed before its result names the session it was sent for (its logging context).
      sessionId: turn.sessionId ?? request.logFields.session_id ?? null,
      turn: turn.turn ?? null,
      statusCode: reply.statusCode,
      startedAt: new Date(Date.now() - reply.elapsedTime),
      durationMs: traceMs(reply.elapsedTime),
      logs: turn.lines,
      parts: turn.parts === undefined ? null : roundedParts(turn.parts),
      error: failed ? scrub(turn.error?.message ?? `HTTP ${reply.statusCode}`) : null,
      userPseudonym: userPseudonymOf(request)
    })
  })

  app.addHook('onReady', async () => {
    telemetry.turnSpans?.setSink({
      turn: trace => { recorder.addSpans(turnSpanHalf(trace)) },
      dropped: (reason, count) => { recorder.countDropped(reason, count) }
    })
  })
  // What is queued is written while the database is open; what in-flight requests add after it,
  // at onClose (above), which runs before the database plugin's (registered earlier, closed later).
  app.addHook('preClose', async () => { await recorder.flush() })
}, { name: 'turn-traces', dependencies: ['config', 'metrics', 'database', 'request-logging', 'load-shedding'] })

const roundedParts = (parts: TurnParts): TurnParts =>
  ({
    admission_ms: traceMs(parts.admission_ms),
    database_ms: traceMs(parts.database_ms),
    search_ms: traceMs(parts.search_ms),
    model_ms: traceMs(parts.model_ms)
  })
