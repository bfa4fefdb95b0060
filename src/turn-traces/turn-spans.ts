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

// The SDK takes a span's start from Date.now(), whole milliseconds, and its end from that start
// plus a precise duration: a child can seem to end up to this much after its parent.
const CLOCK_GRAIN_MS = 1

/**
 * What the SDK's Span (@opentelemetry/sdk-trace 2.x) keeps beside the whole-millisecond start it
 * reports: the precise clock's reading when it started, unless the caller gave the start.
 * Underscored, so read only where every span of the trace has it (test/src/turn-traces/turn-spans.test.ts).
 */
interface SdkSpanClock { _performanceStartTime?: unknown, _startTimeProvided?: unknown }

/** Each span's start in ms, on one clock: the precise one where every span has it, else the reported one. */
function startsOf (spans: readonly ReadableSpan[]): number[] {
  const precise = spans.map(span => {
    const clock = span as unknown as SdkSpanClock
    return clock._startTimeProvided === false && typeof clock._performanceStartTime === 'number'
      ? clock._performanceStartTime
      : undefined
  })
  return precise.every(start => start !== undefined)
    ? precise as number[]
    : spans.map(span => ms(span.startTime))
}

/**
 * The spans of one trace as the console shows them: offsets from the earliest start (three
 * statements of an 11 ms turn are not drawn at one whole millisecond), each child within its
 * parent, exception messages scrubbed.
 */
export function toTurnSpans (spans: readonly ReadableSpan[]): TurnSpan[] {
  const starts = startsOf(spans)
  const earliest = Math.min(...starts)
  return withinParents(spans.map((span, i) => turnSpan(span, starts[i]! - earliest)))
}

function turnSpan (span: ReadableSpan, offsetMs: number): TurnSpan {
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
    start_ms: traceMs(offsetMs),
    duration_ms: traceMs(ms(span.duration)),
    status,
    ...(span.status.message === undefined || span.status.message === ''
      ? {}
      : { status_message: scrub(span.status.message) }),
    attributes
  }
}

/**
 * Each span that seems to end after its parent by less than the clock's grain moved back by as
 * much, not before its parent's start: a waterfall of a 7 ms turn drawn from whole-millisecond
 * starts put chat.turn past the request's end. Its duration is kept, and so is a longer overhang
 * (a streamed turn ends after its request's span).
 */
function withinParents (spans: TurnSpan[]): TurnSpan[] {
  const byId = new Map(spans.map(span => [span.span_id, span]))
  const parentOf = (span: TurnSpan): TurnSpan | undefined => byId.get(span.parent_span_id ?? '')
  const depth = (span: TurnSpan): number => {
    let levels = 0
    for (let at = parentOf(span); at !== undefined && levels < spans.length; at = parentOf(at)) levels++
    return levels
  }
  // Parents first, so that a child is placed within where its parent ended up.
  for (const span of [...spans].sort((a, b) => depth(a) - depth(b))) {
    const parent = parentOf(span)
    if (parent === undefined) continue
    const overhang = (span.start_ms + span.duration_ms) - (parent.start_ms + parent.duration_ms)
    if (overhang <= 0 || overhang >= CLOCK_GRAIN_MS) continue
    span.start_ms = traceMs(Math.max(parent.start_ms, span.start_ms - overhang))
  }
  return spans
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
    spans: () => toTurnSpans(spans),
    startedAt: new Date(ms(root.startTime)),
    // Until the later of the root and the turn: a streamed turn ends after its request's span.
    durationMs: traceMs(Math.max(ms(root.endTime), ms(turn.endTime)) - ms(root.startTime)),
    statusCode: typeof statusCode === 'number' ? statusCode : undefined,
    sessionId: typeof turn.attributes['session.id'] === 'string' ? turn.attributes['session.id'] : undefined,
    turn: typeof turn.attributes['parley.turn'] === 'number' ? turn.attributes['parley.turn'] : undefined,
    error: failed?.status.message === undefined ? undefined : scrub(failed.status.message)
  }
}
