// The OpenTelemetry SDK, started in the main thread before the app (otel/instrumentation.ts), so
// that the modules it instruments (http, undici, pg, pino) are patched as they are imported.
// Configured by the standard OTEL_* variables; our defaults only where the SDK's would mislead.
import { randomUUID } from 'node:crypto'
import { register } from 'node:module'
import { createAddHookMessageChannel } from 'import-in-the-middle'
import { register as registerSyncHooks, supportsSyncHooks } from 'import-in-the-middle/register-hooks.mjs'
import { diag, DiagLogLevel, type Span } from '@opentelemetry/api'
import { getBooleanFromEnv, getNumberFromEnv, getStringFromEnv } from '@opentelemetry/core'
import { getNodeAutoInstrumentations } from '@opentelemetry/auto-instrumentations-node'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { NodeSDK } from '@opentelemetry/sdk-node'
import {
  AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, type Sampler, type SpanProcessor
} from '@opentelemetry/sdk-trace-base'
import { FastifyOtelInstrumentation } from '@fastify/otel'
import type { FastifyRequest } from 'fastify'
import {
  dropCounter, flushWithin, isProbe, loadEnvFile, maskUrl, otlpEndpoint, otlpExporters, packageInfo, prometheusScrape,
  sharedContextManager, signalEndpoint, telemetry, TurnSpanCollector, UNSERVED_PER_SECOND, UnservedSpans
} from '../src/preload-api.js'
import { callerLink, OwnTracePropagator, traceCallers } from './caller-trace-context.js'

// .env first: the OTEL_* variables below may come from it.
loadEnvFile()

// ESM modules are patched through import-in-the-middle's loader hook, registered before any
// import of them. Told which modules the instrumentations hook, it wraps only those: wrapping
// every module (the hook's default) puts a proxy in front of each of the app's own imports.
// Where Node.js can run it (22.22.3, 24.11.1, 26 and later), the hook runs on this thread through
// module.registerHooks: module.register, deprecated since Node.js 26 (DEP0205), runs it on a
// thread of its own. Both take the same options, the channel that names the hooked modules too.
const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel()
if (supportsSyncHooks()) registerSyncHooks(registerOptions.data)
else register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions)

// Set where the SDK would find them unset: empty or blank, as its getStringFromEnv reads them.
process.env.OTEL_SERVICE_NAME = getStringFromEnv('OTEL_SERVICE_NAME') ?? packageInfo.name
// HTTP spans and metrics follow the stable semantic conventions (http.server.request.duration).
process.env.OTEL_SEMCONV_STABILITY_OPT_IN = getStringFromEnv('OTEL_SEMCONV_STABILITY_OPT_IN') ?? 'http'

// Whether a caller's traceparent is a link of the request's own trace or its parent (see there).
const callers = (() => {
  try {
    return traceCallers(process.env.PARLEY_TRACE_CALLERS)
  } catch (error) {
    process.stderr.write(`parley: ${(error as Error).message}\n`)
    process.exit(1)
  }
})()

// Within the 5 s a shutdown may take, with the rest of the app to close as well.
const SHUTDOWN_BUDGET_MS = 1000

// As shown on stderr and by GET /status: without the credentials an endpoint URL may carry.
const givenEndpoint = otlpEndpoint()
const endpoint = maskUrl(givenEndpoint)
const protocol = getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf'

const drops = dropCounter()
// How often lost telemetry is first reported on stderr (PARLEY_TELEMETRY_REPORT_INTERVAL, seconds).
drops.startReporting(Number(process.env.PARLEY_TELEMETRY_REPORT_INTERVAL ?? 60) * 1000, `${endpoint} (${protocol})`)

// The SDK reports each failed export through diag.error, most as the exception serialised to JSON
// (its global error handler): the first is worth a line at once (a missing collector), the rest go
// into the periodic report. Its other errors are plain messages (a sampler it cannot read, say),
// each said once as what it is, not as an export: a few distinct ones at most. A full span queue
// is only a diag warning.
let exportFailureReported = false
const otherErrorsSaid = new Set<string>()
const MOST_OTHER_ERRORS = 10
diag.setLogger({
  error: (message: string, ...args: unknown[]) => {
    const text = [message, ...args.map(String)].join(' ')
    if (!message.startsWith('{') && !/export/i.test(message)) {
      if (otherErrorsSaid.has(message) || otherErrorsSaid.size >= MOST_OTHER_ERRORS) return
      otherErrorsSaid.add(message)
      process.stderr.write(`parley: telemetry: ${text.slice(0, 200).replaceAll(givenEndpoint, endpoint)}\n`)
      return
    }
    if (exportFailureReported) return
    exportFailureReported = true
    // The serialised error carries its stack; its first line says enough.
    const reason = (/Error: ([^\\\n"]+)/.exec(text)?.[1] ?? text.slice(0, 200)).replaceAll(givenEndpoint, endpoint)
    process.stderr.write(
      `parley: telemetry could not be exported to ${endpoint} (${protocol}): ${reason}; ` +
      'chat is unaffected, losses are reported periodically\n'
    )
  },
  warn: (message: string) => {
    const full = /^Dropped (\d+) spans because maxQueueSize reached/.exec(message)
    if (full !== null) drops.add('spans', Number(full[1]))
  },
  info: () => {},
  debug: () => {},
  verbose: () => {}
}, DiagLogLevel.WARN)

// Version, environment and instance, unless OTEL_RESOURCE_ATTRIBUTES names them already: with
// several instances behind one name, the instance id tells their telemetry apart.
function resourceAttributes (): Record<string, string> {
  const given = process.env.OTEL_RESOURCE_ATTRIBUTES ?? ''
  const defaults = {
    'service.version': packageInfo.version,
    'deployment.environment.name': process.env.NODE_ENV ?? 'development',
    'service.instance.id': randomUUID()
  }
  return Object.fromEntries(Object.entries(defaults).filter(([key]) => !given.includes(`${key}=`)))
}

// A caller's traceparent, when joined (PARLEY_TRACE_CALLERS=join), is the parent, but its "not
// sampled" flag does not switch tracing off: a request left untraced is one the team cannot look
// into when its user complains. OTEL_TRACES_SAMPLER, when set, is the operator's choice and is left to the SDK
// (parentbased_always_on honours every caller's flag, for a mesh whose callers are trusted).
const DEFAULT_SAMPLER = 'parentbased_always_on, a caller\'s not-sampled flag ignored'
function sampler (): Sampler | undefined {
  if (getStringFromEnv('OTEL_TRACES_SAMPLER') !== undefined) return undefined
  return new ParentBasedSampler({ root: new AlwaysOnSampler(), remoteParentNotSampled: new AlwaysOnSampler() })
}

// Named "{method} {route}" as the HTTP conventions name server spans (@fastify/otel calls it
// "request"). The client's address and user agent are left out: they describe a person.
function nameServerSpan (span: Span, request: FastifyRequest): void {
  const route = request.routeOptions.url
  span.updateName(route === undefined ? request.method : `${request.method} ${route}`)
  // @fastify/otel's url.path is the whole URL, and a query string holds what people typed (the
  // console's searches, a customer's user id): the path alone, as the conventions define url.path.
  const path = request.url.split('?', 1)[0]
  span.setAttributes({
    'url.path': path,
    'url.scheme': request.protocol,
    'server.address': request.hostname,
    'network.protocol.version': request.raw.httpVersion
  })
  const caller = callers === 'link' ? callerLink(request.headers) : undefined
  if (caller !== undefined) span.addLink(caller)
}

// Read as NodeSDK reads it (TRUE, " true"), so that nothing is set up for an SDK that will not start.
if (!getBooleanFromEnv('OTEL_SDK_DISABLED')) {
  const traceHooks = process.env.PARLEY_TRACE_HOOKS === 'true'
  const scrape = prometheusScrape()
  const { traceExporter, metricReaders, logRecords } = (() => {
    try {
      return otlpExporters(protocol, drops)
    } catch (error) { // a setting the exporters cannot work with, named in the message
      process.stderr.write(`parley: ${(error as Error).message}\n`)
      process.exit(1)
    }
  })()
  const resource = resourceAttributes()
  // Chat turns' spans are kept in the process too, for the console (src/telemetry/turn-span-collector.ts).
  // Given span processors, the SDK no longer makes the exporter's batch processor from
  // traceExporter: made here, it reads the same OTEL_BSP_* variables, and its full queue is still
  // the diag warning counted above.
  const turnSpans = new TurnSpanCollector()
  const spanProcessors: SpanProcessor[] = [turnSpans]
  if (traceExporter !== undefined) {
    // A flood of unserved requests exports a few of their spans a second (src/telemetry/unserved-spans.ts).
    const perSecond = getNumberFromEnv('UNSERVED_PER_SECOND') ?? UNSERVED_PER_SECOND
    spanProcessors.push(new UnservedSpans(new BatchSpanProcessor(traceExporter), perSecond))
  }
  const instrumentations = [
    ...getNodeAutoInstrumentations({
      // One span per file read, DNS lookup or socket would bury the spans that matter.
      '@opentelemetry/instrumentation-fs': { enabled: false },
      '@opentelemetry/instrumentation-dns': { enabled: false },
      '@opentelemetry/instrumentation-net': { enabled: false },
      // Incoming requests are traced once, by @fastify/otel below, which knows the route. The http
      // instrumentation's server side would add a second span per request and, measured in
      // bench:telemetry, most of the per-request cost; its client side stays. The
      // http.server.request.duration metric it made is recorded in plugins/metrics.ts.
      '@opentelemetry/instrumentation-http': { disableIncomingRequestInstrumentation: true },
      // pino's lines get the active trace_id and span_id from the app's own mixin (src/logging/logger.ts),
      // at a sixteenth of this instrumentation's cost; the worker that writes them sends them on.
      '@opentelemetry/instrumentation-pino': { enabled: false },
      // Statements are spans where they matter, slow or failed, on both engines, made by the
      // database plugin (src/db/statement-timing.ts). pg's instrumentation made one for every
      // statement (and, measured in bench:load, 7 % of the turns per second went to it), and
      // three pool counters updated at every checkout and release, which
      // plugins/database-metrics.ts observes when metrics are collected instead.
      '@opentelemetry/instrumentation-pg': { enabled: false },
      // The model call is Parley's own `chat {model}` span and GenAI metrics (src/llm/answer-writer.ts),
      // with its deadlines and fallback reason and the conventions' version it pins. The openai
      // instrumentation would add a second span and a second series of the same metrics, under an
      // older attribute (gen_ai.system), and could record prompts unscrubbed.
      '@opentelemetry/instrumentation-openai': { enabled: false }
    }),
    // The server span of each request (it continues a caller's traceparent). A span per Fastify
    // hook, and one around the route handler (the server span names the route already, and a
    // chat turn has its own), are noise in most traces; PARLEY_TRACE_HOOKS=true brings them back.
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      instrumentHooks: traceHooks,
      instrumentHandler: traceHooks,
      ignorePaths: ({ url }) => isProbe(url),
      requestHook: nameServerSpan
    })
  ]
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME,
    resource: resourceFromAttributes(resource),
    // Exporters of our own (counting what they lose); given a reader, the SDK no longer makes
    // the OTLP one, so both are made, by the same variables, in src/telemetry/exporters.ts. Log records
    // are made by the log router's worker (src/telemetry/log-records.ts), so the SDK gets no processor.
    spanProcessors,
    sampler: sampler(),
    ...(callers === 'link' ? { textMapPropagator: new OwnTracePropagator() } : {}),
    // The tracing context shares the logging context's AsyncLocalStorage, made only now (after the
    // loader hook, for pino's instrumentation: sharedContextManager).
    contextManager: await sharedContextManager(),
    metricReaders: [scrape.reader, ...metricReaders],
    logRecordProcessors: [],
    instrumentations
  })
  sdk.start()
  // The app may import only once the loader knows every module the instrumentations hook.
  await waitForAllMessagesAcknowledged()
  telemetry.serveMetrics = scrape.serve
  telemetry.describe = () => ({
    endpoint,
    protocol,
    service: process.env.OTEL_SERVICE_NAME,
    sampler: getStringFromEnv('OTEL_TRACES_SAMPLER') ?? DEFAULT_SAMPLER,
    callers
  })
  telemetry.dropped = () => drops.totals()
  telemetry.countLost = (signal, count) => drops.add(signal, count)
  telemetry.turnSpans = turnSpans
  if (logRecords) telemetry.logRecords = { protocol, resource }
  // Where the SDK's own exporters send (the log records are the log router's worker's), each
  // address once: traces and metrics mostly share one.
  const collectors = [...new Set([
    ...traceExporter === undefined ? [] : [signalEndpoint('TRACES')],
    ...metricReaders.length === 0 ? [] : [signalEndpoint('METRICS')]
  ])]
  telemetry.shutdown = async () => {
    // A collector that is down must not hold the shutdown: what is not out in time is dropped, at
    // once when nothing listens where the exporters send.
    if (await flushWithin(sdk.shutdown(), collectors, SHUTDOWN_BUDGET_MS)) return
    const where = collectors.map(url => maskUrl(url)).join(', ')
    process.stderr.write(`parley: telemetry not flushed at shutdown: no collector listens at ${where}\n`)
  }
}
