// Spans around the steps of a turn, through the OpenTelemetry API only: without an SDK (tests,
// benchmarks, `node dist/src/server.js`) the tracer is a no-op and this costs next to nothing.
import { isSpanContextValid, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api'
import { packageInfo } from '../project.js'

const tracer = trace.getTracer(packageInfo.name, packageInfo.version)

/** The id of the trace the current work belongs to, if it is traced. */
export function currentTraceId (): string | undefined {
  const context = trace.getActiveSpan()?.spanContext()
  return context !== undefined && isSpanContextValid(context) ? context.traceId : undefined
}

function failed (span: Span, error: unknown, endTime?: number): void {
  span.recordException(error as Error)
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message })
  span.end(endTime)
}

/**
 * A span of work already done, from startTime to endTime (performance.now() times), under the active
 * span: for work that earns a span only once its time is known (src/db/statement-timing.ts).
 */
export function pastSpan (
  name: string,
  attributes: Attributes,
  times: { startTime: number, endTime: number, kind: SpanKind, error?: unknown }
): void {
  const span = tracer.startSpan(name, { attributes, kind: times.kind, startTime: times.startTime })
  if (times.error === undefined) span.end(times.endTime)
  else failed(span, times.error, times.endTime)
}

/** Runs fn (sync or async) as the active span `name`; errors mark the span and are rethrown. */
export function inSpan<T> (name: string, attributes: Attributes, fn: (span: Span) => T, kind = SpanKind.INTERNAL): T {
  return tracer.startActiveSpan(name, { attributes, kind }, span => {
    try {
      const result = fn(span)
      if (result instanceof Promise) {
        return result.then(
          value => { span.end(); return value },
          (error: unknown) => { failed(span, error); throw error }
        ) as T
      }
      span.end()
      return result
    } catch (error) {
      failed(span, error)
      throw error
    }
  })
}
