// Log lines as OTLP log records, made in the log router's worker thread (src/logging/log-router.ts)
// from the lines it writes to the files anyway. The pino instrumentation would make them on the main
// thread, parsing every line back and encoding it there; bench:telemetry measured that work as a
// share of chat's own event loop, so it is done here, beside the file writes. While the collector
// does not take them (`npm start` exports to localhost:4318 with or without one), lines are not
// parsed at all: they are counted lost, and one line per probe interval finds out when it is back.
import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api'
import {
  detectResources, envDetector, hostDetector, osDetector, processDetector, resourceFromAttributes
} from '@opentelemetry/resources'
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs'
import { packageInfo } from '../project.js'
import { flushWithin, signalEndpoint } from './collector-probe.js'
import { ExportGate } from './export-gate.js'
import { logRecordExporter } from './exporters.js'

/**
 * What the main thread's SDK tells the worker: the resource of its traces, so that both describe one
 * service instance.
 */
export interface LogRecordsOptions {
  /** OTEL_EXPORTER_OTLP_PROTOCOL as the SDK read it. */
  protocol: string
  /**
   * Version, environment and instance id; the service name and OTEL_RESOURCE_ATTRIBUTES are read from
   * the environment here too.
   */
  resource: Record<string, string>
}

export interface LogRecordSender {
  send: (line: string) => void
  /**
   * Exports what is queued within budgetMs, and stops; with no collector listening, drops it at once
   * (a dead collector must not hold the shutdown).
   */
  close: (budgetMs: number) => Promise<void>
}

export interface LogRecordSenderTiming {
  /** While exports fail, how often a line is made a record to find out whether the collector is back. */
  probeIntervalMs?: number
  /** How soon lines skipped while exports fail are told to onLost (in one count, not one call a line). */
  skippedReportMs?: number
}

// The log data model's severity numbers; audit entries are information.
const SEVERITY: Record<string, number> = { trace: 1, debug: 5, info: 9, audit: 9, warn: 13, error: 17, fatal: 21 }

// A failed export takes seconds of the exporter's retries to end, so a collector that comes back is
// seen within about this much more.
const PROBE_INTERVAL_MS = 5000
const SKIPPED_REPORT_MS = 1000

/**
 * Makes records of lines; onLost hears how many records each failed export lost, and how many lines
 * were skipped while exports failed.
 */
export function logRecordSender (
  options: LogRecordsOptions,
  onLost: (count: number) => void,
  timing: LogRecordSenderTiming = {}
): LogRecordSender {
  const gate = new ExportGate({ probeIntervalMs: timing.probeIntervalMs ?? PROBE_INTERVAL_MS })
  const exporter = logRecordExporter(options.protocol, onLost, ok => gate.settled(ok))
  const provider = new LoggerProvider({
    resource: detectResources({ detectors: [envDetector, hostDetector, osDetector, processDetector] })
      .merge(resourceFromAttributes(options.resource)),
    processors: [new BatchLogRecordProcessor({ exporter })]
  })
  const logger = provider.getLogger(packageInfo.name, packageInfo.version)
  type LogRecord = Parameters<typeof logger.emit>[0]
  let skipped = 0
  let skippedReport: NodeJS.Timeout | undefined
  const reportSkipped = (): void => {
    clearTimeout(skippedReport)
    skippedReport = undefined
    if (skipped > 0) onLost(skipped)
    skipped = 0
  }
  return {
    send (line) {
      if (!gate.open()) {
        skipped++
        skippedReport ??= setTimeout(reportSkipped, timing.skippedReportMs ?? SKIPPED_REPORT_MS).unref()
        return
      }
      // Lines come from our own loggers, so they parse; a line that does not is not a record.
      let fields: Record<string, unknown>
      try {
        fields = JSON.parse(line) as Record<string, unknown>
      } catch {
        return
      }
      const { time, level, msg, trace_id: traceId, span_id: spanId, trace_flags: traceFlags, ...attributes } = fields
      const timestamp = typeof time === 'string' ? new Date(time) : new Date()
      logger.emit({
        timestamp,
        observedTimestamp: timestamp,
        severityNumber: SEVERITY[String(level)],
        severityText: typeof level === 'string' ? level : undefined,
        body: typeof msg === 'string' ? msg : undefined,
        attributes: attributes as LogRecord['attributes'],
        // An error line's fields (errorLogFields) are also the record's exception attributes.
        exception: typeof fields.error_type === 'string'
          ? { name: fields.error_type, message: String(fields.error_message), stack: String(fields.stack) }
          : undefined,
        // The line's trace, so the collector (and Loki) links the record to it.
        context: typeof traceId === 'string' && typeof spanId === 'string'
          ? trace.setSpanContext(ROOT_CONTEXT, {
            traceId,
            spanId,
            traceFlags: traceFlags === '01' ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true
          })
          : ROOT_CONTEXT
      })
    },
    async close (budgetMs) {
      reportSkipped()
      await flushWithin(provider.shutdown(), [signalEndpoint('LOGS')], budgetMs)
    }
  }
}
