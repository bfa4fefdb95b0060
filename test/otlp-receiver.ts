// A local OTLP/HTTP receiver for tests: it takes the JSON encoding (OTEL_EXPORTER_OTLP_PROTOCOL=
// http/json) and decodes it here, independently of the SDK's exporters, so a test sees what a
// collector would receive.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  /** Nanoseconds since the epoch, in a string (OTLP/JSON's encoding of a 64-bit integer). */
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: Record<string, unknown>
  status?: { code?: number }
  events?: Array<{ name: string }>
  links?: Array<{ traceId: string, spanId: string }>
  resource: Record<string, unknown>
}

export interface ReceivedLog { traceId?: string, severityNumber?: number, severityText?: string, body: unknown, attributes: Record<string, unknown>, resource: Record<string, unknown> }

interface KeyValue { key: string, value: Record<string, unknown> }

// OTLP/JSON wraps each value in its type: { stringValue }, { intValue }, { arrayValue: { values } } …
function plain (value: Record<string, unknown> | undefined): unknown {
  if (value === undefined) return undefined
  if ('arrayValue' in value) return ((value.arrayValue as { values?: Array<Record<string, unknown>> }).values ?? []).map(plain)
  if ('intValue' in value) return Number(value.intValue)
  return Object.values(value)[0]
}

const attributes = (list: KeyValue[] | undefined): Record<string, unknown> => Object.fromEntries((list ?? []).map(({ key, value }) => [key, plain(value)]))

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = []
  readonly logs: ReceivedLog[] = []
  readonly metricNames = new Set<string>()
  /** The service.instance.id of every resource that exported metrics. */
  readonly metricInstances = new Set<unknown>()
  private server: Server | undefined

  async start (port = 0): Promise<string> {
    this.server = createServer((request, response) => {
      let body = ''
      request.setEncoding('utf8').on('data', (chunk: string) => { body += chunk })
      request.on('end', () => {
        this.receive(request.url ?? '', body)
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>(resolve => this.server!.listen(port, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop (): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise(resolve => this.server?.close(resolve))
  }

  private receive (path: string, body: string): void {
    const message = JSON.parse(body) as Record<string, Array<Record<string, unknown>>>
    if (path === '/v1/traces') {
      for (const { resource, scopeSpans } of message.resourceSpans ?? []) {
        for (const scope of scopeSpans as Array<{ spans: Array<Record<string, unknown>> }>) {
          for (const span of scope.spans) {
            this.spans.push({ ...span, attributes: attributes(span.attributes as KeyValue[]), resource: attributes((resource as { attributes: KeyValue[] }).attributes) } as unknown as ReceivedSpan)
          }
        }
      }
    } else if (path === '/v1/logs') {
      for (const { resource, scopeLogs } of message.resourceLogs ?? []) {
        for (const scope of scopeLogs as Array<{ logRecords: Array<Record<string, unknown>> }>) {
          for (const record of scope.logRecords) {
            this.logs.push({
              traceId: record.traceId as string | undefined,
              severityNumber: record.severityNumber as number | undefined,
              severityText: record.severityText as string | undefined,
              body: plain(record.body as Record<string, unknown>),
              attributes: attributes(record.attributes as KeyValue[]),
              resource: attributes((resource as { attributes: KeyValue[] }).attributes)
            })
          }
        }
      }
    } else if (path === '/v1/metrics') {
      for (const { resource, scopeMetrics } of message.resourceMetrics ?? []) {
        this.metricInstances.add(attributes((resource as { attributes: KeyValue[] }).attributes)['service.instance.id'])
        for (const scope of scopeMetrics as Array<{ metrics: Array<{ name: string }> }>) for (const metric of scope.metrics) this.metricNames.add(metric.name)
      }
    }
  }
}
