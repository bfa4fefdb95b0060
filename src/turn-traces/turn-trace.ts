// What Parley keeps of each chat turn so the console can show inside it with no collector: the
// turn's span tree and its log lines (already scrubbed), one row of turn_traces per request to
// POST /v1/chat. The shapes are TypeBox schemas because the console's routes serve them as they are.
import Type, { type Static } from 'typebox'

export const TurnSpanSchema = Type.Object({
  span_id: Type.String(),
  parent_span_id: Type.Optional(Type.String({ description: 'Absent for the turn\'s root span (or a span whose parent is the caller\'s)' })),
  name: Type.String(),
  kind: Type.Union([Type.Literal('internal'), Type.Literal('server'), Type.Literal('client'), Type.Literal('producer'), Type.Literal('consumer')]),
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

export const TurnTraceSchema = Type.Object({
  trace_id: Type.String({ description: 'The turn\'s trace id; the request id when the turn was not traced (telemetry off)' }),
  session_id: Type.Union([Type.String(), Type.Null()]),
  turn: Type.Union([Type.Integer(), Type.Null()], { description: 'Null for a turn that failed before it was stored' }),
  status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
  status_code: Type.Integer(),
  started_at: Type.String({ format: 'date-time' }),
  duration_ms: Type.Number(),
  spans: Type.Array(TurnSpanSchema),
  logs: Type.Array(TurnLogLineSchema),
  error: Type.Union([Type.String(), Type.Null()])
})
export type TurnTrace = Static<typeof TurnTraceSchema>
