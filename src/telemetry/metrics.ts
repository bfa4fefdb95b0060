// The bot's own metrics, through the OpenTelemetry metrics API. Labels are bounded sets (route
// templates, status codes, reply kinds, error types): never a user, session or free text.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { metrics, type Counter, type Gauge, type Histogram, type Meter, type UpDownCounter } from '@opentelemetry/api'
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus'
import { GenAiMetric, OPERATION_DURATION_BUCKETS, TOKEN_USAGE_BUCKETS } from './gen-ai-conventions.js'
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources'
import { MeterProvider } from '@opentelemetry/sdk-metrics'
import { packageInfo } from '../project.js'
import { withPrometheusNames } from './prometheus-names.js'

// Seconds buckets for request and search latency, from 1 ms to 10 s.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
// The buckets the HTTP semantic conventions advise for http.server.request.duration.
const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]

export interface Instruments {
  /** chatbot_requests_total{endpoint,status} */
  requests: Counter
  /** chatbot_response_time_seconds{endpoint} */
  responseTime: Histogram
  /**
   * http.server.request.duration{http.request.method,http.route,http.response.status_code,url.scheme}: the
   * stable HTTP semantic conventions (http_server_request_duration_seconds in Prometheus)
   */
  httpDuration: Histogram
  /** chatbot_requests_in_flight: the queue of requests being served */
  inFlight: UpDownCounter
  /** chatbot_turns_total{kind}: answer / no_answer / command / command_error */
  turns: Counter
  /** chatbot_feedback_total{rating} */
  feedback: Counter
  /**
   * chatbot_unanswered_total{topic}: no_answer turns by their nearest document's id (as many values as
   * documents), for the UnansweredTopic alert
   */
  unanswered: Counter
  /** chatbot_errors_total{type}: unhandled errors (500s) by error type */
  errors: Counter
  /** chatbot_search_duration_seconds and chatbot_search_results */
  searchDuration: Histogram
  searchResults: Histogram
  /** chatbot_session_duration_seconds and chatbot_session_turns, recorded as sessions end */
  sessionDuration: Histogram
  sessionTurns: Histogram
  /** chatbot_db_statement_duration_seconds, both engines, for the SlowQueries alert */
  statementDuration: Histogram
  /** chatbot_db_connection_errors_total: statements that failed for want of a connection */
  connectionErrors: Counter
  /** chatbot_shed_requests_total{reason}: refused with 503 by load shedding */
  shedRequests: Counter
  /** chatbot_turn_traces_dropped_total{reason}: turn traces (or their spans) the console will not have */
  turnTracesDropped: Counter
  /** The GenAI conventions' client metrics of the model that writes answers (src/telemetry/gen-ai-conventions.ts) */
  genAiTokenUsage: Histogram
  genAiOperationDuration: Histogram
  genAiTimeToFirstChunk: Histogram
  /** chatbot_llm_fallbacks_total{reason}: answers the model was asked for and did not write */
  llmFallbacks: Counter
  /** chatbot_llm_cost_usd_total{gen_ai_request_model}: what the model's calls cost, from LLM_PRICE_* */
  llmCost: Counter
  /**
   * chatbot_kb_evaluation_accuracy_ratio{run=latest|previous, question_set=saved|given}: the
   * accuracy of each question set's latest run of the test questions and of the last run before it
   * of the same questions (src/evaluation)
   */
  kbEvaluationAccuracy: Gauge
}

/**
 * Why a request was refused: a turn that could not be answered in time, under-pressure's limits, a
 * database that does not answer.
 */
export const SHED_REASONS = [
  'latency_goal', 'event_loop_delay', 'event_loop_utilization', 'heap_used', 'rss', 'database'
] as const
export type ShedReason = typeof SHED_REASONS[number]

/** A response as the request metrics count it: route is the route template, undefined when none matched. */
export interface ServedRequest {
  method: string
  route: string | undefined
  status: number
  seconds: number
  scheme: string
}

/** Counts a response in chatbot_requests_total, chatbot_response_time_seconds and http.server.request.duration. */
export function recordResponse (instruments: Instruments, served: ServedRequest): void {
  const { method, route, status, seconds, scheme } = served
  const endpoint = route ?? '(no route)'
  instruments.requests.add(1, { endpoint, status: String(status) })
  instruments.responseTime.record(seconds, { endpoint })
  instruments.httpDuration.record(seconds, {
    'http.request.method': method,
    'http.response.status_code': status,
    'url.scheme': scheme,
    ...(route === undefined ? {} : { 'http.route': route }),
    ...(status >= 500 ? { 'error.type': String(status) } : {})
  })
}

export function createInstruments (meter: Meter): Instruments {
  const instruments: Instruments = {
    requests: meter.createCounter('chatbot_requests', {
      description: 'HTTP requests served, by route template and status'
    }),
    responseTime: meter.createHistogram('chatbot_response_time_seconds', {
      unit: 's',
      description: 'Time to serve a request, by route template',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS }
    }),
    httpDuration: meter.createHistogram('http.server.request.duration', {
      unit: 's',
      description: 'Duration of HTTP server requests',
      advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS }
    }),
    inFlight: meter.createUpDownCounter('chatbot_requests_in_flight', { description: 'Requests being served now' }),
    turns: meter.createCounter('chatbot_turns', { description: 'Chat turns by reply kind' }),
    feedback: meter.createCounter('chatbot_feedback', { description: 'Feedback given with /feedback, by rating' }),
    unanswered: meter.createCounter('chatbot_unanswered', {
      description: 'no_answer turns by the id of their nearest document (topic), "none" when no document came near'
    }),
    errors: meter.createCounter('chatbot_errors', { description: 'Unhandled errors (HTTP 500) by error type' }),
    searchDuration: meter.createHistogram('chatbot_search_duration_seconds', {
      unit: 's',
      description: 'Knowledge-base search time',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS }
    }),
    searchResults: meter.createHistogram('chatbot_search_results', {
      description: 'Documents found per search',
      advice: { explicitBucketBoundaries: [0, 1, 2, 3, 5, 10, 20, 50] }
    }),
    sessionDuration: meter.createHistogram('chatbot_session_duration_seconds', {
      unit: 's',
      description: 'From the first to the last turn of sessions that ended',
      advice: { explicitBucketBoundaries: [0, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 86400] }
    }),
    sessionTurns: meter.createHistogram('chatbot_session_turns', {
      description: 'Turns per session, as sessions end',
      advice: { explicitBucketBoundaries: [0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89] }
    }),
    statementDuration: meter.createHistogram('chatbot_db_statement_duration_seconds', {
      unit: 's',
      description: 'Database statement time, both engines',
      advice: { explicitBucketBoundaries: LATENCY_BUCKETS }
    }),
    connectionErrors: meter.createCounter('chatbot_db_connection_errors', {
      description: 'Statements that failed for want of a database connection'
    }),
    shedRequests: meter.createCounter('chatbot_shed_requests', {
      description: 'Requests refused with 503 by load shedding, by reason'
    }),
    turnTracesDropped: meter.createCounter('chatbot_turn_traces_dropped', {
      description: 'Chat turns whose trace and log lines were not kept (or kept truncated), by reason'
    }),
    genAiTokenUsage: meter.createHistogram(GenAiMetric.tokenUsage, {
      unit: '{token}',
      description: 'Number of input and output tokens used',
      advice: { explicitBucketBoundaries: TOKEN_USAGE_BUCKETS }
    }),
    genAiOperationDuration: meter.createHistogram(GenAiMetric.operationDuration, {
      unit: 's',
      description: 'GenAI operation duration',
      advice: { explicitBucketBoundaries: OPERATION_DURATION_BUCKETS }
    }),
    genAiTimeToFirstChunk: meter.createHistogram(GenAiMetric.timeToFirstChunk, {
      unit: 's',
      description: 'Time to receive the first chunk of a streamed answer',
      advice: { explicitBucketBoundaries: OPERATION_DURATION_BUCKETS }
    }),
    llmFallbacks: meter.createCounter('chatbot_llm_fallbacks', {
      description: 'Answers the language model was asked for and did not write ' +
        '(the extractive reply was sent), by reason'
    }),
    llmCost: meter.createCounter('chatbot_llm_cost_usd', {
      unit: '{USD}',
      description: 'What the language model\'s calls cost, in US dollars, from the configured prices'
    }),
    kbEvaluationAccuracy: meter.createGauge('chatbot_kb_evaluation_accuracy', {
      unit: '1',
      description: 'Accuracy of the latest run of the knowledge base\'s test questions, of the saved set or of ' +
        'questions given with the run (question_set), (run="latest"), and of the last run before it of the same ' +
        'questions (run="previous"; the latest\'s where there is none)'
    })
  }
  // Known series start at 0, so rate() and increase() see the first one (a new series has no "before").
  instruments.connectionErrors.add(0)
  for (const reason of SHED_REASONS) instruments.shedRequests.add(0, { reason })
  return instruments
}

export type ServeMetrics = (request: IncomingMessage, response: ServerResponse) => void

/**
 * The exporter, with the unit suffixes it does not add: every scrape goes through collect(), so
 * the metrics it serializes carry their Prometheus names (src/telemetry/prometheus-names.ts), the
 * names the collector gives the same metrics. The OTLP exporters still send the instruments' own.
 */
class PrometheusNamesExporter extends PrometheusExporter {
  override async collect (
    options?: Parameters<PrometheusExporter['collect']>[0]
  ): ReturnType<PrometheusExporter['collect']> {
    const collected = await super.collect(options)
    // The host and process detectors' attributes settle a moment after the start, and the OTLP
    // exporters wait for them: read before, they are missing, and the SDK says so on diag.error.
    await collected.resourceMetrics.resource.waitForAsyncAttributes?.()
    const resourceMetrics = withPrometheusNames(collected.resourceMetrics)
    return { ...collected, resourceMetrics: { ...resourceMetrics, resource: openResource(resourceMetrics.resource) } }
  }
}

// What /metrics, which needs no key, tells of the process in target_info: which service and
// instance, not the host's name and id, the user it runs as, its executable or command line (the
// resource detectors' findings, which the OTLP exporters still send to the collector).
const OPEN_RESOURCE_ATTRIBUTE = /^(service\.|deployment\.environment|telemetry\.sdk\.|process\.runtime\.)/

function openResource (resource: Resource): Resource {
  const open = Object.entries(resource.attributes).filter(([key]) => OPEN_RESOURCE_ATTRIBUTE.test(key))
  return resourceFromAttributes(Object.fromEntries(open))
}

/** A metric reader that answers Prometheus scrapes through the app's route, not a server of its own. */
export function prometheusScrape (): { reader: PrometheusExporter, serve: ServeMetrics } {
  const reader = new PrometheusNamesExporter({ preventServerStart: true })
  return { reader, serve: (request, response) => reader.getMetricsRequestHandler(request, response) }
}

let local: ServeMetrics | undefined

/**
 * Without the SDK (telemetry off, tests) GET /metrics still works: a meter provider of the
 * process's own, made once, since metrics belong to the process rather than to one app instance.
 */
export function localMetrics (): ServeMetrics {
  if (local === undefined) {
    const { reader, serve } = prometheusScrape()
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
    local = serve
  }
  return local
}

export const parleyMeter = (): Meter => metrics.getMeter(packageInfo.name, packageInfo.version)
