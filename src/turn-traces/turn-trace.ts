// What Parley keeps of each chat turn so the console can show inside it with no collector: the
// turn's span tree and its log lines (already scrubbed), one row of turn_traces per request to
// POST /v1/chat. The shapes are TypeBox schemas because the console's routes serve them as they are.
import Type, { type Static } from 'typebox'

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

const partMs = (description: string) => Type.Number({ minimum: 0, description })
/**
 * Where a turn's time went, each part summed over the turn; the rest of its duration is reading the
 * request, writing the reply and waiting for the CPU.
 */
export const TurnPartsSchema = Type.Object({
  admission_ms: partMs('Waiting in line for the turn gate (load shedding), before and after the model'),
  database_ms: partMs('In database statements, commits included'),
  search_ms: partMs('Searching the knowledge base'),
  model_ms: partMs('Waiting for the language model to write the answer')
})
export type TurnParts = Static<typeof TurnPartsSchema>

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
