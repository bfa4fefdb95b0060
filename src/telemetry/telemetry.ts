// The handle through which the app reaches the OpenTelemetry SDK, if otel/instrumentation.js
// started one before it. Kept free of SDK imports, so the app runs unchanged without telemetry.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
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
  /**
   * The Node.js options for the app's worker threads (the log router, the embedded database):
   * the process's own without the preload that started the SDK. A worker inherits the process's
   * options, and with them would start an SDK of its own: instrumentations, a second instance
   * exporting its own metrics, and the loader hook through which it would load every module.
   */
  workerExecArgv: string[]
}

export const telemetry: Telemetry = {
  describe: () => undefined,
  shutdown: async () => {},
  workerExecArgv: process.execArgv
}

/** Node.js options without `--import` of the module at preloadUrl (named by a path, relative or not, or a URL). */
export function withoutPreload (execArgv: string[], preloadUrl: string): string[] {
  const isPreload = (specifier: string | undefined): boolean => specifier !== undefined &&
    (specifier === preloadUrl ||
      (!specifier.startsWith('file:') && pathToFileURL(resolve(specifier)).href === preloadUrl))
  const kept: string[] = []
  for (let i = 0; i < execArgv.length; i++) {
    const option = execArgv[i]!
    if (option === '--import' && isPreload(execArgv[i + 1])) i++
    else if (!(option.startsWith('--import=') && isPreload(option.slice('--import='.length)))) kept.push(option)
  }
  return kept
}
