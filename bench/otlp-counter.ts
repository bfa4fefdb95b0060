// A local OTLP/HTTP receiver for bench/telemetry.ts: it takes both encodings (http/protobuf, the
// SDK's default, and http/json), answers at once, and counts what arrives per sender and signal:
// requests, bytes on the wire, and the spans, log records and metrics inside, by instrumentation
// scope. It decodes just enough of the message to count (test/otlp-receiver.ts decodes JSON fully
// for the tests' checks). Each sender gets a path prefix of its own: an exporter given
// OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:<port>/<sender> posts to /<sender>/v1/traces …
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

export const SIGNALS = ['traces', 'logs', 'metrics'] as const
export type Signal = typeof SIGNALS[number]

export interface SignalCount {
  requests: number
  /** As received, before any gzip is undone. */
  bytes: number
  /** Spans, log records or metrics (one metric per instrument and export, whatever its data points). */
  items: number
  /** Items per instrumentation scope name. */
  scopes: Map<string, number>
}

export type SenderCount = Record<Signal, SignalCount>

// ---------------------------------------------------------------------------------------------
// Protobuf, as far as counting needs. The three export requests share one shape:
//   Export…ServiceRequest { repeated Resource… = 1 }
//   Resource… { Resource resource = 1; repeated Scope… = 2 }
//   Scope… { InstrumentationScope scope = 1 (name = 1); repeated Span / LogRecord / Metric = 2 }

const decoder = new TextDecoder()

/** Calls visit for each length-delimited field of buffer[start, end); skips the others. */
function eachField (buffer: Uint8Array, start: number, end: number, visit: (field: number, start: number, end: number) => void): void {
  let at = start
  const varint = (): number => {
    let value = 0
    let scale = 1
    for (;;) {
      if (at >= end) throw new Error('truncated protobuf varint')
      const byte = buffer[at++]!
      value += (byte & 0x7f) * scale
      if (byte < 0x80) return value
      scale *= 128
    }
  }
  while (at < end) {
    const tag = varint()
    const wire = tag % 8
    const field = Math.floor(tag / 8)
    if (wire === 0) varint()
    else if (wire === 1) at += 8
    else if (wire === 5) at += 4
    else if (wire === 2) {
      const length = varint()
      if (at + length > end) throw new Error('truncated protobuf field')
      visit(field, at, at + length)
      at += length
    } else throw new Error(`unexpected protobuf wire type ${wire}`)
  }
}

function countProtobuf (buffer: Uint8Array, count: SignalCount): void {
  eachField(buffer, 0, buffer.length, (field, start, end) => {
    if (field !== 1) return
    eachField(buffer, start, end, (field, start, end) => {
      if (field !== 2) return
      let scope = '(unnamed)'
      let items = 0
      eachField(buffer, start, end, (field, start, end) => {
        if (field === 2) items++
        else if (field === 1) eachField(buffer, start, end, (field, start, end) => { if (field === 1) scope = decoder.decode(buffer.subarray(start, end)) })
      })
      add(count, scope, items)
    })
  })
}

const JSON_KEYS: Record<Signal, [string, string, string]> = {
  traces: ['resourceSpans', 'scopeSpans', 'spans'],
  logs: ['resourceLogs', 'scopeLogs', 'logRecords'],
  metrics: ['resourceMetrics', 'scopeMetrics', 'metrics']
}

type Json = Record<string, unknown>

function countJson (signal: Signal, text: string, count: SignalCount): void {
  const [resources, scopes, items] = JSON_KEYS[signal]
  for (const resource of ((JSON.parse(text) as Json)[resources] ?? []) as Json[]) {
    for (const scope of (resource[scopes] ?? []) as Json[]) {
      add(count, ((scope.scope as Json | undefined)?.name as string | undefined) ?? '(unnamed)', ((scope[items] ?? []) as unknown[]).length)
    }
  }
}

function add (count: SignalCount, scope: string, items: number): void {
  count.items += items
  count.scopes.set(scope, (count.scopes.get(scope) ?? 0) + items)
}

// ---------------------------------------------------------------------------------------------

const emptyCount = (): SenderCount => Object.fromEntries(SIGNALS.map(signal => [signal, { requests: 0, bytes: 0, items: 0, scopes: new Map() }])) as SenderCount

export class OtlpCounter {
  private readonly senders = new Map<string, SenderCount>()
  private readonly lastReceived = new Map<string, number>()
  /** Requests that were not an OTLP export this receiver understood, with why. */
  readonly rejected: string[] = []
  private server: Server | undefined

  /** Listens on 127.0.0.1 and resolves to the base URL; senders append /<sender>. */
  async start (): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', () => {
        const match = /^\/([^/]+)\/v1\/(traces|logs|metrics)$/.exec(request.url ?? '')
        const contentType = request.headers['content-type'] ?? ''
        try {
          if (match === null) throw new Error(`unexpected path ${request.method} ${request.url}`)
          const [, sender, signal] = match as unknown as [string, string, Signal]
          const wire = Buffer.concat(chunks)
          const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire
          const count = this.count(sender)[signal]
          count.requests++
          count.bytes += wire.length
          this.lastReceived.set(sender, performance.now())
          if (contentType.startsWith('application/json')) countJson(signal, body.toString('utf8'), count)
          else countProtobuf(body, count)
          // An empty Export…ServiceResponse: everything accepted.
          if (contentType.startsWith('application/json')) response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
          else response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
        } catch (error) {
          if (this.rejected.length < 10) this.rejected.push(`${request.url} (${contentType}): ${(error as Error).message}`)
          response.writeHead(400).end()
        }
      })
    })
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  count (sender: string): SenderCount {
    let count = this.senders.get(sender)
    if (count === undefined) this.senders.set(sender, count = emptyCount())
    return count
  }

  /** Resolves once nothing has arrived from sender for quietMs (counted from the call at the earliest), or after maxMs. */
  async quiet (sender: string, quietMs: number, maxMs: number): Promise<void> {
    const called = performance.now()
    while (performance.now() - called < maxMs && performance.now() - Math.max(called, this.lastReceived.get(sender) ?? 0) < quietMs) {
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  async stop (): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise(resolve => this.server?.close(resolve))
  }
}
