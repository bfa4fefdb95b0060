// A caller's traceparent names a trace id it chose. Joined, two requests sent with the same one
// were one trace to Parley, and the second turn's spans overwrote the first's turn trace under the
// first's conversation. So by default (PARLEY_TRACE_CALLERS=link) a request starts a trace of its
// own and its server span links to the caller's span, as the OpenTelemetry specification advises
// for callers that are not trusted: the caller's trace is still one click away in Jaeger.
// PARLEY_TRACE_CALLERS=join continues the caller's trace, for a gateway or mesh the team runs
// (which sends a new trace for each request).
import {
  ROOT_CONTEXT, defaultTextMapGetter, isSpanContextValid, trace,
  type Context, type Link, type TextMapGetter, type TextMapPropagator, type TextMapSetter
} from '@opentelemetry/api'
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'

export type TraceCallers = 'link' | 'join'

/** PARLEY_TRACE_CALLERS as given, or an error naming what it may be. */
export function traceCallers (given: string | undefined): TraceCallers {
  if (given === undefined || given === '' || given === 'link') return 'link'
  if (given === 'join') return 'join'
  throw new Error(`PARLEY_TRACE_CALLERS must be link or join, not ${JSON.stringify(given)}`)
}

const w3c = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] })

/** Sends Parley's own context on outgoing calls (the model's endpoint); takes no caller's as a parent. */
export class OwnTracePropagator implements TextMapPropagator {
  inject (context: Context, carrier: unknown, setter: TextMapSetter): void {
    w3c.inject(context, carrier, setter)
  }

  extract (context: Context, _carrier: unknown, _getter: TextMapGetter): Context {
    return context
  }

  fields (): string[] {
    return w3c.fields()
  }
}

/** The caller's span, as a link of the request's server span; undefined when it sent none, or a malformed one. */
export function callerLink (
  headers: Record<string, unknown>,
  getter: TextMapGetter = defaultTextMapGetter
): Link | undefined {
  const caller = trace.getSpanContext(w3c.extract(ROOT_CONTEXT, headers, getter))
  return caller === undefined || !isSpanContextValid(caller)
    ? undefined
    : { context: caller, attributes: { 'parley.link': 'caller' } }
}
