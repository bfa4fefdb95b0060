// A chat turn's trace, as the span collector hands it over (src/telemetry/turn-span-collector.ts),
// made into what the turn traces keep and the console shows: spans as offsets from the trace's
// start, attributes as scalars, and every message a user's words may reach scrubbed.
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { scrub } from '../logging/scrubber.js'
import type { EndedTurnTrace } from '../telemetry/turn-span-collector.js'
import type { TurnSpan } from './turn-trace.js'
import type { TurnSpanHalf } from './turn-trace-recorder.js'

const KINDS: Record<SpanKind, TurnSpan['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer'
}

const ms = (time: [number, number]): number => time[0] * 1000 + time[1] / 1e6
/** A duration as turn traces keep it (both halves, spans and request): to the microsecond, in ms. */
export const traceMs = (value: number): number => Math.round(value * 1000) / 1000

/** The spans of one trace as the console shows them: offsets from the earliest start, exception messages scrubbed. */
export function toTurnSpans (spans: readonly ReadableSpan[]): TurnSpan[] {
  let earliest = Infinity
  for (const span of spans) earliest = Math.min(earliest, ms(span.startTime))
  return spans.map(span => {
    const attributes: TurnSpan['attributes'] = {}
    for (const [key, value] of Object.entries(span.attributes)) {
      if (value === undefined || value === null) continue
      // The schema holds scalars; an array attribute (none of ours, maybe an instrumentation's) is kept as its JSON.
      attributes[key] = typeof value === 'object' ? JSON.stringify(value) : value
    }
    // A failed step's exception, as the span recorded it: its type, and its message scrubbed like any logged error.
    const exception = span.events.find(event => event.name === 'exception')?.attributes
    if (exception !== undefined) {
      if (typeof exception['exception.type'] === 'string') attributes['exception.type'] = exception['exception.type']
      if (typeof exception['exception.message'] === 'string') {
        attributes['exception.message'] = scrub(exception['exception.message'])
      }
    }
    const parent = span.parentSpanContext
    const status: TurnSpan['status'] = span.status.code === SpanStatusCode.ERROR
      ? 'error'
      : span.status.code === SpanStatusCode.OK ? 'ok' : 'unset'
    return {
      span_id: span.spanContext().spanId,
      ...(parent === undefined || parent.isRemote === true ? {} : { parent_span_id: parent.spanId }),
      name: span.name,
      kind: KINDS[span.kind] ?? 'internal',
      start_ms: traceMs(ms(span.startTime) - earliest),
      duration_ms: traceMs(ms(span.duration)),
      status,
      ...(span.status.message === undefined || span.status.message === ''
        ? {}
        : { status_message: scrub(span.status.message) }),
      attributes
    }
  })
}

/** The spans' half of a turn trace (the request's half comes from its hooks: plugins/turn-traces.ts). */
export function turnSpanHalf ({ traceId, root, turn, spans }: EndedTurnTrace): TurnSpanHalf {
  const statusCode = root.attributes['http.response.status_code']
  // A 4xx marks the turn's span failed too (a session not found), but it is the caller's error, not the turn's.
  const failed = typeof statusCode === 'number' && statusCode < 500
    ? undefined
    : [root, turn].find(span => span.status.code === SpanStatusCode.ERROR)
  return {
    traceId,
    spans: toTurnSpans(spans),
    startedAt: new Date(ms(root.startTime)),
    // Until the later of the root and the turn: a streamed turn ends after its request's span.
    durationMs: traceMs(Math.max(ms(root.endTime), ms(turn.endTime)) - ms(root.startTime)),
    statusCode: typeof statusCode === 'number' ? statusCode : undefined,
    sessionId: typeof turn.attributes['session.id'] === 'string' ? turn.attributes['session.id'] : undefined,
    turn: typeof turn.attributes['parley.turn'] === 'number' ? turn.attributes['parley.turn'] : undefined,
    error: failed?.status.message === undefined ? undefined : scrub(failed.status.message)
  }
}
