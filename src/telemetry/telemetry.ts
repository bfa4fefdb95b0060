// The handle through which the app reaches the OpenTelemetry SDK, if the preload (otel/sdk.ts)
// started one before it. Kept free of SDK imports, so the app runs unchanged without telemetry.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Signal } from './exporters.js'
import type { LogRecordsOptions } from './log-records.js'
import type { TurnSpanSink } from './turn-span-collector.js'

export interface Telemetry {
  /** Answers a Prometheus scrape from the SDK's metrics; undefined when telemetry is off. */
  serveMetrics?: (request: IncomingMessage, response: ServerResponse) => void
  /** Where telemetry goes, for the start-up line; undefined when telemetry is off. */
  describe: () => Record<string, unknown> | undefined
  /** Spans, log records and metric exports lost to a failing collector since start; undefined when telemetry is off. */
  dropped?: () => Record<string, number>
  /**
   * Set when log lines are to be exported as log records, which the log router's worker does
   * (src/telemetry/log-records.ts).
   */
  logRecords?: LogRecordsOptions
  /** Adds telemetry lost outside the SDK's own exporters (the log router's log records). */
  countLost?: (signal: Signal, count: number) => void
  /**
   * The span processor that keeps chat turns' spans in the process (src/telemetry/turn-span-collector.ts):
   * the app sets where they go (plugins/turn-traces.ts); undefined when telemetry is off.
   */
  turnSpans?: { setSink: (sink: TurnSpanSink | undefined) => void }
  /** Flushes and stops the SDK's exporters; resolves at once when telemetry is off. */
  shutdown: () => Promise<void>
}

export const telemetry: Telemetry = {
  describe: () => undefined,
  shutdown: async () => {}
}
