// Keeps each chat turn's spans in the process, so that the console can show a turn's span tree
// with no collector running: a span processor beside the OTLP exporter's, which groups ended spans
// by trace and, when a trace's local root span ends, hands the spans of a trace that holds a
// `chat.turn` span to a sink (the turn traces: plugins/turn-traces.ts), as the SDK made them.
// Every other request's spans are let go at that moment. Memory is bounded: what does not fit is
// counted as dropped.
import type { Context } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base'

// Traces with an ended span whose root has not ended yet: about the requests in flight. Turns are
// answered a few at a time (MAX_TURNS_IN_FLIGHT), so 512 leaves room for other requests and
// bursts; past it, the spans of further traces are not kept (their turns get logs only).
export const MAX_OPEN_TRACES = 512
// A turn has four to ten spans (server, turn, retrieval, a model call, its slow statements, or all of
// them with DB_QUERY_SPAN_MS=0); PARLEY_TRACE_HOOKS adds a dozen more. 256 holds any turn we write,
// while 512 traces of it stay within tens of megabytes.
export const MAX_SPANS_PER_TRACE = 256
// A root span that has not ended a minute after its trace's first span ended never will (a
// request the instrumentation lost track of): far past the time a turn may take (the latency goal).
export const OPEN_TRACE_TIMEOUT_MS = 60_000

/**
 * Why spans were not kept, each a count of traces: too many open at once (any request's), a turn with
 * too many spans (kept truncated), a chat trace whose root never ended.
 */
export type TurnSpanDropReason = 'open_traces' | 'spans_truncated' | 'root_never_ended'

/** A chat turn's trace, once its local root span (and its chat.turn span) ended. */
export interface EndedTurnTrace {
  traceId: string
  /** The local root: the request's server span, or the turn itself when it has no parent here. */
  root: ReadableSpan
  turn: ReadableSpan
  /** Every span kept of the trace, the root and the turn among them. */
  spans: readonly ReadableSpan[]
}

export interface TurnSpanSink {
  turn: (trace: EndedTurnTrace) => void
  /** What the collector could not keep, by reason (a count of traces). */
  dropped: (reason: TurnSpanDropReason, count: number) => void
}

interface OpenTrace {
  spans: ReadableSpan[]
  /** The chat.turn span, once it ended: only such traces are handed on. */
  turn?: ReadableSpan
  /** The root, when it ended before the turn: a streamed reply's request span ends as the stream begins. */
  endedRoot?: ReadableSpan
  truncated: boolean
  openedAt: number
}

/** Adds to a set that keeps its latest `max` values: the oldest goes first. */
function addBounded (set: Set<string>, value: string, max: number): void {
  if (set.size >= max) set.delete(set.values().next().value!)
  set.add(value)
}

/** Whether a span is the root of its trace in this process: no parent, or the caller's (a remote parent). */
export function isLocalRoot (span: ReadableSpan): boolean {
  return span.parentSpanContext === undefined || span.parentSpanContext.isRemote === true
}

export class TurnSpanCollector implements SpanProcessor {
  private readonly open = new Map<string, OpenTrace>()
  private readonly refused = new Set<string>()
  // Traces whose local root has ended, the latest first out: a span of one that ends later (work a
  // request left running, or a library that ran it in the wrong context) would otherwise open a
  // trace that no root closes, and hold a place among the open traces until the timeout.
  private readonly ended = new Set<string>()
  // Traces whose chat.turn span has started and not ended: their root may end first (a stream).
  private readonly turning = new Set<string>()
  private readonly now: () => number
  // What is lost is told to the sink, which counts it (the recorder's totals, /status, /metrics).
  private sink: TurnSpanSink | undefined
  private readonly limits: { maxOpenTraces: number, maxSpansPerTrace: number, timeoutMs: number }

  constructor (options: {
    now?: () => number
    maxOpenTraces?: number
    maxSpansPerTrace?: number
    timeoutMs?: number
  } = {}) {
    this.now = options.now ?? (() => performance.now())
    this.limits = {
      maxOpenTraces: options.maxOpenTraces ?? MAX_OPEN_TRACES,
      maxSpansPerTrace: options.maxSpansPerTrace ?? MAX_SPANS_PER_TRACE,
      timeoutMs: options.timeoutMs ?? OPEN_TRACE_TIMEOUT_MS
    }
  }

  /** Where chat turns' spans go; none (the app is not running, or keeps no turn traces): nothing is kept. */
  setSink (sink: TurnSpanSink | undefined): void {
    this.sink = sink
    if (sink === undefined) {
      this.open.clear()
      this.refused.clear()
      this.turning.clear()
      this.ended.clear()
    }
  }

  /** Traces waiting for their root span (for tests). */
  openTraces (): number {
    return this.open.size
  }

  onStart (span: Span, _parentContext: Context): void {
    if (this.sink === undefined || (span as unknown as ReadableSpan).name !== 'chat.turn') return
    // Bounded like the open traces: a turn is in flight for seconds at most.
    addBounded(this.turning, span.spanContext().traceId, this.limits.maxOpenTraces)
  }

  onEnd (span: ReadableSpan): void {
    if (this.sink === undefined) return
    const traceId = span.spanContext().traceId
    let trace = this.open.get(traceId)
    if (trace === undefined) {
      if (this.ended.has(traceId) && !isLocalRoot(span)) return
      // A root with no other span ended before it is a trace of one span: nothing to hold.
      if (isLocalRoot(span)) {
        this.remember(traceId)
        if (this.refused.delete(traceId)) return
        if (span.name === 'chat.turn') {
          this.handOn(traceId, span, { spans: [span], turn: span, truncated: false, openedAt: 0 })
        } else if (this.turning.has(traceId)) {
          this.open.set(traceId, { spans: [span], endedRoot: span, truncated: false, openedAt: this.now() })
        }
        return
      }
      const now = this.now()
      this.evictExpired(now)
      if (this.open.size >= this.limits.maxOpenTraces) {
        this.refuse(traceId)
        return
      }
      trace = { spans: [], truncated: false, openedAt: now }
      this.open.set(traceId, trace)
    }
    // The root is kept past the bound: a truncated tree still has its top.
    if (trace.spans.length < this.limits.maxSpansPerTrace || isLocalRoot(span)) trace.spans.push(span)
    else trace.truncated = true
    if (span.name === 'chat.turn') {
      trace.turn = span
      this.turning.delete(traceId)
      if (trace.endedRoot !== undefined) {
        this.open.delete(traceId)
        this.handOn(traceId, trace.endedRoot, trace)
      }
    }
    if (!isLocalRoot(span)) return
    this.remember(traceId)
    // A streamed reply: @fastify/otel ends the request's span when the stream is handed to the
    // response, while the turn goes on writing it. The trace waits for its turn.
    if (trace.turn === undefined && this.turning.has(traceId)) {
      trace.endedRoot = span
      return
    }
    this.open.delete(traceId)
    if (trace.turn !== undefined) this.handOn(traceId, span, trace)
  }

  private remember (traceId: string): void {
    addBounded(this.ended, traceId, this.limits.maxOpenTraces)
  }

  // A trace that found no room is counted once, not once per span: its id is remembered (within
  // the same bound) until its root ends.
  private refuse (traceId: string): void {
    if (this.refused.has(traceId)) return
    addBounded(this.refused, traceId, this.limits.maxOpenTraces)
    this.sink?.dropped('open_traces', 1)
  }

  private handOn (traceId: string, root: ReadableSpan, trace: OpenTrace): void {
    if (trace.truncated) this.sink?.dropped('spans_truncated', 1)
    this.sink?.turn({ traceId, root, turn: trace.turn!, spans: trace.spans })
  }

  // The oldest traces are first in the map: looking from the front until one is young enough costs
  // nothing per span, and a trace whose root never ends goes when the next trace opens.
  private evictExpired (now: number): void {
    for (const [traceId, trace] of this.open) {
      if (now - trace.openedAt < this.limits.timeoutMs) return
      this.open.delete(traceId)
      if (trace.turn !== undefined) this.sink?.dropped('root_never_ended', 1)
    }
  }

  async forceFlush (): Promise<void> {}

  async shutdown (): Promise<void> {
    this.open.clear()
    this.turning.clear()
  }
}
