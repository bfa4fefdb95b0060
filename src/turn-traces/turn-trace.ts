// What Parley keeps of each chat turn so the console can show inside it with no collector: the
// turn's span tree and its log lines (already scrubbed), one row of turn_traces per request to
// POST /v1/chat. The shapes are TypeBox schemas because the console's routes serve them as they are.
import Type, { type Static } from 'typebox'
import type { Queryable } from '../db/database.js'
import { TurnPartsSchema } from '../logging/turn-parts.js'

// Where a turn's time went: measured by the logging context, which keeps its shape (src/logging/turn-parts.ts).
export { TurnPartsSchema }
export type { TurnParts } from '../logging/turn-parts.js'

export const TurnSpanSchema = Type.Object({
  span_id: Type.String(),
  parent_span_id: Type.Optional(Type.String({
    description: 'Absent for the turn\'s root span (or a span whose parent is the caller\'s)'
  })),
  name: Type.String(),
  kind: Type.Union([
    Type.Literal('internal'),
    Type.Literal('server'),
    Type.Literal('client'),
    Type.Literal('producer'),
    Type.Literal('consumer')
  ]),
  start_ms: Type.Number({ description: 'Offset from the start of the turn\'s earliest span' }),
  duration_ms: Type.Number(),
  status: Type.Union([Type.Literal('unset'), Type.Literal('ok'), Type.Literal('error')]),
  status_message: Type.Optional(Type.String()),
  attributes: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))
})
export type TurnSpan = Static<typeof TurnSpanSchema>

/** A log line as it was written (time, level, module, fn, msg and the line's own fields). */
export const TurnLogLineSchema = Type.Record(Type.String(), Type.Unknown())
export type TurnLogLine = Static<typeof TurnLogLineSchema>

/**
 * Why a turn's spans and log lines were not kept: let go while turns waited in line, and not rated
 * down or opened while its instance held them.
 */
export const TurnLetGoSchema = Type.Union([Type.Literal('pressure'), Type.Null()])

/**
 * SQL, for a query over bot messages `b`: joins each to its turn's trace `t`, whose duration is the
 * latency its user lived, from the request's arrival to the last byte of the reply. A turn with no
 * trace (older than TURN_TRACE_RETENTION_DAYS, or none kept) has only its own time, from the turn's
 * start to its reply stored: shorter, as it leaves out waiting for admission and writing the reply.
 */
export const JOIN_TURN_TRACE = 'LEFT JOIN turn_traces t ON t.session_id = b.session_id AND t.turn = b.turn'
export const LIVED_LATENCY_MS = 'coalesce(t.duration_ms, b.latency_ms)'

export const TurnTraceSchema = Type.Object({
  trace_id: Type.String({
    description: 'The turn\'s trace id; the request id when the turn was not traced (telemetry off)'
  }),
  session_id: Type.Union([Type.String(), Type.Null()]),
  turn: Type.Union([Type.Integer(), Type.Null()], { description: 'Null for a turn that failed before it was stored' }),
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  status_code: Type.Integer(),
  started_at: Type.String({ format: 'date-time' }),
  duration_ms: Type.Number({ description: 'From the request\'s arrival to the last byte of the reply' }),
  parts: Type.Union([TurnPartsSchema, Type.Null()], {
    description: 'Null for a turn recorded before its parts were measured'
  }),
  let_go: TurnLetGoSchema,
  spans: Type.Array(TurnSpanSchema),
  logs: Type.Array(TurnLogLineSchema),
  error: Type.Union([Type.String(), Type.Null()])
})
export type TurnTrace = Static<typeof TurnTraceSchema>

/** A turn trace as stored: its started_at a Date. */
export type StoredTurnTrace = Omit<TurnTrace, 'started_at'> & { started_at: Date }

/** One kept turn trace. */
export async function turnTraceById (db: Queryable, traceId: string): Promise<StoredTurnTrace | undefined> {
  const { rows } = await db.query<StoredTurnTrace>(
    `SELECT trace_id, session_id::text AS session_id, turn, status, status_code, started_at, duration_ms, parts, let_go,
       spans, logs, error FROM turn_traces WHERE trace_id = $1`, [traceId])
  return rows[0]
}
