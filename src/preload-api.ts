// What the OpenTelemetry preload (otel/) takes from the app, in one place: otel/ imports from
// src/ only through this file, so that what the SDK's bootstrap relies on is seen, and kept,
// whole. It sits beside the app's other entries (app.ts, server.ts) rather than in a capability's
// folder because it gathers from several (telemetry, logging, health), which import each other
// one way only. The app's own telemetry (spans, metrics, exporters, the span collector) lives in
// src/telemetry and works without the preload.
import type { ContextManager } from '@opentelemetry/api'
export { loadEnvFile } from './env-file.js'
export { isProbe } from './health/probe-routes.js'
export { maskUrl } from './logging/mask-credentials.js'
export { packageInfo } from './project.js'
export { flushWithin, otlpEndpoint, signalEndpoint } from './telemetry/collector-probe.js'
export { dropCounter, otlpExporters } from './telemetry/exporters.js'
export { prometheusScrape } from './telemetry/metrics.js'
export { telemetry } from './telemetry/telemetry.js'
export { TurnSpanCollector } from './telemetry/turn-span-collector.js'
export { UNSERVED_PER_SECOND } from './telemetry/unserved-sampler.js'
export { UnservedSpans } from './telemetry/unserved-spans.js'

/**
 * The SDK's context manager, sharing the logging context's storage
 * (logging/shared-storage-context-manager.ts). Imported only when called: it loads the logging
 * modules, pino among them, which must come after the instrumentations' loader hook so that the
 * pino instrumentation patches them.
 */
export async function sharedContextManager (): Promise<ContextManager> {
  return new (await import('./logging/shared-storage-context-manager.js')).SharedStorageContextManager()
}
