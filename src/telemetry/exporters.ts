// The OTLP exporters, made from the standard OTEL_* variables as the SDK would make them, but
// wrapped so that what a dead or slow collector costs is counted: failed exports and spans the
// queue had to drop are added up, reported on stderr once per interval, and counted in
// chatbot_telemetry_dropped_total{signal}. The SDK's own queues bound the memory this can take.
import type { Counter } from '@opentelemetry/api'
import { ExportResultCode, getStringFromEnv, getStringListFromEnv, type ExportResult } from '@opentelemetry/core'
import { OTLPLogExporter as OTLPJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { OTLPLogExporter as OTLPProtobufLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPMetricExporter as OTLPProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs'
import {
  PeriodicExportingMetricReader, type MetricReader, type PushMetricExporter, type ResourceMetrics
} from '@opentelemetry/sdk-metrics'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { parleyMeter } from './metrics.js'

export type Signal = 'spans' | 'log_records' | 'metric_exports'

export interface DropCounter {
  /** Adds drops the SDK reports outside the exporters (a full span queue). */
  add: (signal: Signal, count: number) => void
  /**
   * Starts the report: after an interval, when something was dropped in it; while losses go on,
   * each next interval twice the last, up to an hour; after one without, back to intervalMs.
   */
  startReporting: (intervalMs: number, where: string) => void
  /** Everything dropped since start, for /status. */
  totals: () => Record<Signal, number>
}

// A collector that stays away (`npm start` with none) loses everything all day: reported every
// minute, that was 1,440 lines a day on stderr saying the same. The loss is counted in /metrics
// and /status meanwhile.
const LONGEST_REPORT_INTERVAL_MS = 3_600_000

/** The wait before the next drop report: doubled after one that reported a loss, up to an hour. */
export function nextReportMs (waitedMs: number, intervalMs: number, reported: boolean): number {
  return reported ? Math.max(intervalMs, Math.min(2 * waitedMs, LONGEST_REPORT_INTERVAL_MS)) : intervalMs
}

export function dropCounter (): DropCounter {
  const pending: Record<Signal, number> = { spans: 0, log_records: 0, metric_exports: 0 }
  const totals: Record<Signal, number> = { spans: 0, log_records: 0, metric_exports: 0 }
  let counted: Counter | undefined
  return {
    totals: () => ({ ...totals }),
    add (signal, count) {
      pending[signal] += count
      totals[signal] += count
      // Created on first use, by then on the SDK's meter provider.
      counted ??= parleyMeter().createCounter('chatbot_telemetry_dropped', {
        description: 'Spans, log records and metric exports lost to a failing or slow collector'
      })
      counted.add(count, { signal })
    },
    startReporting (intervalMs, where) {
      let waitedMs = intervalMs
      const report = (): void => {
        const lost = Object.entries(pending).filter(([, count]) => count > 0)
        if (lost.length > 0) {
          const counts = lost.map(([signal, count]) => `${count} ${signal.replace('_', ' ')}`).join(', ')
          process.stderr.write(
            `parley: telemetry dropped in the last ${Math.round(waitedMs / 1000)} s: ${counts} ` +
            `(exporting to ${where}); chat is unaffected\n`
          )
          for (const [signal] of lost) pending[signal as Signal] = 0
        }
        waitedMs = nextReportMs(waitedMs, intervalMs, lost.length > 0)
        setTimeout(report, waitedMs).unref()
      }
      setTimeout(report, intervalMs).unref()
    }
  }
}

// Spans, log records and metrics are exported alike: export(batch, done).
interface Exporting<T> { export: (items: T, done: (result: ExportResult) => void) => void }

/** The same exporter, telling onLost how many items each failed export lost, and onSettled how each ended. */
function counting<T, E extends Exporting<T>> (
  exporter: E & Exporting<T>,
  onLost: (count: number) => void,
  size: (items: T) => number,
  onSettled?: (ok: boolean) => void
): E {
  const send = exporter.export.bind(exporter)
  exporter.export = (items: T, done: (result: ExportResult) => void) => {
    send(items, result => {
      const ok = result.code === ExportResultCode.SUCCESS
      if (!ok) onLost(size(items))
      onSettled?.(ok)
      done(result)
    })
  }
  return exporter
}

// As NodeSDK reads OTEL_*_EXPORTER: a list, trimmed (" none" too). Traces are off when it starts
// with "none" (the SDK exports over OTLP for "otlp,none"), metrics and logs when it names "none" anywhere.
const tracesEnabled = (): boolean => getStringListFromEnv('OTEL_TRACES_EXPORTER')?.[0] !== 'none'
const enabled = (variable: string): boolean => getStringListFromEnv(variable)?.includes('none') !== true
const json = (signal: string, protocol: string): boolean =>
  (getStringFromEnv(`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`) ?? protocol) === 'http/json'

export interface OtlpExporters {
  traceExporter?: SpanExporter
  metricReaders: MetricReader[]
  /**
   * Whether log records are exported (OTEL_LOGS_EXPORTER): by the log router's worker, see
   * src/telemetry/log-records.ts.
   */
  logRecords: boolean
}

/** Exporters for the signals OTEL_*_EXPORTER leaves on, over OTEL_EXPORTER_OTLP_[signal_]PROTOCOL. */
export function otlpExporters (protocol: string, drops: DropCounter): OtlpExporters {
  // Read as the SDK reads it (blank is unset), but a value it would ignore with a diagnostic no
  // one sees ("abc") stops the start, as one it cannot work with ("0") does.
  const given = getStringFromEnv('OTEL_METRIC_EXPORT_INTERVAL')
  const metricInterval = given === undefined ? 60_000 : Number(given)
  if (!(metricInterval > 0)) {
    throw new Error(`OTEL_METRIC_EXPORT_INTERVAL must be a number of milliseconds above 0, not "${given!}"`)
  }
  const traces = json('TRACES', protocol) ? new OTLPJsonTraceExporter() : new OTLPProtobufTraceExporter()
  const metricExporter: PushMetricExporter = json('METRICS', protocol)
    ? new OTLPJsonMetricExporter()
    : new OTLPProtobufMetricExporter()
  return {
    traceExporter: tracesEnabled()
      ? counting<ReadableSpan[], SpanExporter>(traces, count => drops.add('spans', count), spans => spans.length)
      : undefined,
    metricReaders: enabled('OTEL_METRICS_EXPORTER')
      ? [new PeriodicExportingMetricReader({
          exporter: counting<ResourceMetrics, PushMetricExporter>(
            metricExporter, () => drops.add('metric_exports', 1), () => 1),
          exportIntervalMillis: metricInterval
        })]
      : [],
    logRecords: enabled('OTEL_LOGS_EXPORTER')
  }
}

/**
 * The log-record exporter, by the same variables, telling onLost how many records each failed export
 * lost and onSettled whether each export reached the collector.
 */
export function logRecordExporter (
  protocol: string,
  onLost: (count: number) => void,
  onSettled?: (ok: boolean) => void
): LogRecordExporter {
  const exporter: LogRecordExporter = json('LOGS', protocol) ? new OTLPJsonLogExporter() : new OTLPProtobufLogExporter()
  return counting<ReadableLogRecord[], LogRecordExporter>(exporter, onLost, records => records.length, onSettled)
}
