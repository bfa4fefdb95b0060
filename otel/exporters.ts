// The OTLP exporters, made from the standard OTEL_* variables as the SDK would make them, but
// wrapped so that what a dead or slow collector costs is counted: failed exports and spans the
// queue had to drop are added up, reported on stderr once per interval, and counted in
// chatbot_telemetry_dropped_total{signal}. The SDK's own queues bound the memory this can take.
import type { Counter } from '@opentelemetry/api'
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import { OTLPLogExporter as OTLPJsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { OTLPLogExporter as OTLPProtobufLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http'
import { OTLPMetricExporter as OTLPProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto'
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { BatchLogRecordProcessor, type LogRecordExporter, type LogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs'
import { PeriodicExportingMetricReader, type MetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base'
import { parleyMeter } from '../src/telemetry/metrics.js'

type Signal = 'spans' | 'log_records' | 'metric_exports'

export interface DropCounter {
  /** Adds drops the SDK reports outside the exporters (a full span queue). */
  add: (signal: Signal, count: number) => void
  /** Starts the report: once per interval, and only when something was dropped. */
  startReporting: (intervalMs: number, where: string) => void
  /** Everything dropped since start, for /status. */
  totals: () => Record<Signal, number>
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
      counted ??= parleyMeter().createCounter('chatbot_telemetry_dropped', { description: 'Spans, log records and metric exports lost to a failing or slow collector' })
      counted.add(count, { signal })
    },
    startReporting (intervalMs, where) {
      setInterval(() => {
        const lost = Object.entries(pending).filter(([, count]) => count > 0)
        if (lost.length === 0) return
        process.stderr.write(`parley: telemetry dropped in the last ${Math.round(intervalMs / 1000)} s: ${lost.map(([signal, count]) => `${count} ${signal.replace('_', ' ')}`).join(', ')} (exporting to ${where}); chat is unaffected\n`)
        for (const [signal] of lost) pending[signal as Signal] = 0
      }, intervalMs).unref()
    }
  }
}

// Spans, log records and metrics are exported alike: export(batch, done).
interface Exporting<T> { export: (items: T, done: (result: ExportResult) => void) => void }

/** The same exporter, with what fails to export added to the drop counter. */
function counting<T, E extends Exporting<T>> (exporter: E & Exporting<T>, drops: DropCounter, signal: Signal, size: (items: T) => number): E {
  const send = exporter.export.bind(exporter)
  exporter.export = (items: T, done: (result: ExportResult) => void) => {
    send(items, result => {
      if (result.code !== ExportResultCode.SUCCESS) drops.add(signal, size(items))
      done(result)
    })
  }
  return exporter
}

const enabled = (variable: string): boolean => process.env[variable] !== 'none'
const json = (signal: string, protocol: string): boolean => (process.env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? protocol) === 'http/json'

export interface OtlpExporters {
  traceExporter?: SpanExporter
  logRecordProcessors: LogRecordProcessor[]
  metricReaders: MetricReader[]
}

/** Exporters for the signals OTEL_*_EXPORTER leaves on, over OTEL_EXPORTER_OTLP_[signal_]PROTOCOL. */
export function otlpExporters (protocol: string, drops: DropCounter): OtlpExporters {
  const traces = json('TRACES', protocol) ? new OTLPJsonTraceExporter() : new OTLPProtobufTraceExporter()
  const logs: LogRecordExporter = json('LOGS', protocol) ? new OTLPJsonLogExporter() : new OTLPProtobufLogExporter()
  const metricExporter: PushMetricExporter = json('METRICS', protocol) ? new OTLPJsonMetricExporter() : new OTLPProtobufMetricExporter()
  return {
    traceExporter: enabled('OTEL_TRACES_EXPORTER') ? counting<ReadableSpan[], SpanExporter>(traces, drops, 'spans', spans => spans.length) : undefined,
    logRecordProcessors: enabled('OTEL_LOGS_EXPORTER') ? [new BatchLogRecordProcessor({ exporter: counting<ReadableLogRecord[], LogRecordExporter>(logs, drops, 'log_records', records => records.length) })] : [],
    metricReaders: enabled('OTEL_METRICS_EXPORTER')
      ? [new PeriodicExportingMetricReader({ exporter: counting<ResourceMetrics, PushMetricExporter>(metricExporter, drops, 'metric_exports', () => 1), exportIntervalMillis: Number(process.env.OTEL_METRIC_EXPORT_INTERVAL ?? 60_000) })]
      : []
  }
}
