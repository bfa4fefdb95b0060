// The server spans of a flood of unserved requests (4xx, 503) are sampled as their log lines are
// (src/telemetry/unserved-sampler.ts): a client looping on its 429s sent 3.7 MB of spans a second to the
// collector, one a request, each saying what the first few of that second already say. A head
// sampler cannot tell, as the status is known only when the span ends: this processor sits before
// the exporter's and does not hand it the spans the sampler lets go. The console's turn traces
// (src/telemetry/turn-span-collector.ts) see every span: an unserved request has no chat turn.
import { SpanKind, type Context } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import {
  ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE
} from '@opentelemetry/semantic-conventions'
import { isUnserved, UnservedSampler } from './unserved-sampler.js'

export class UnservedSpans implements SpanProcessor {
  private readonly sampler: UnservedSampler

  /** perSecond: server spans of each route and unserved status exported a second (0: all). */
  constructor (private readonly exporting: SpanProcessor, perSecond: number) {
    this.sampler = new UnservedSampler(perSecond)
  }

  onStart (span: Span, parentContext: Context): void {
    this.exporting.onStart(span, parentContext)
  }

  onEnd (span: ReadableSpan): void {
    // Every turn's server span passes here: only an unserved one's method and route are read.
    const status = span.kind === SpanKind.SERVER ? span.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] : undefined
    if (typeof status === 'number' && isUnserved(status)) {
      const method = String(span.attributes[ATTR_HTTP_REQUEST_METHOD])
      const route = String(span.attributes[ATTR_HTTP_ROUTE] ?? '(no route)')
      if (!this.sampler.admit(method, route, status)) return
    }
    this.exporting.onEnd(span)
  }

  async forceFlush (): Promise<void> {
    await this.exporting.forceFlush()
  }

  async shutdown (): Promise<void> {
    await this.exporting.shutdown()
  }
}
