// Answers the requests that are to be refused before Fastify sees them. Past capacity most chat
// turns are refused, and a refusal that went through Fastify (routing, a dozen hooks, the error
// handler, the problem's serialisation, the reply's headers one by one) cost the main thread
// 0.153 ms, against 0.057 ms answered from the server's request event (bench:profile --refusals,
// DEVELOPING.md): at twice the capacity there are two or three refusals an answer, and their
// cost is taken from the answers. The door sends the same problem+json, and tells the plugins
// that log, count and watch responses (their `onRefused` listeners), as Fastify's onResponse does.
import { randomUUID } from 'node:crypto'
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import proxyAddr from '@fastify/proxy-addr'
import { PROBLEM_CONTENT_TYPE, problemBody, type Problem } from './problem.js'

/** A request the door refused, as its log line, the metrics and the alerts read it. */
export interface DoorRefusal {
  method: string
  /** The route, as Fastify names it (the url the door guards). */
  route: string
  status: number
  durationMs: number
  resBytes: number
  requestId: string
  headers: IncomingHttpHeaders
  /** http or https, as Fastify's request.protocol says: a trusted proxy's X-Forwarded-Proto, else the socket's. */
  scheme: string
}

/** Why a request arriving now is refused: its problem, or undefined to let it in. */
export type DoorGuard = () => Problem | undefined

type RequestListener = (request: IncomingMessage, response: ServerResponse) => void

export class RefusalDoor {
  // By url, then method: a request the door does not guard costs two lookups.
  private readonly guards = new Map<string, Map<string, DoorGuard>>()
  private readonly listeners: Array<(refusal: DoorRefusal) => void> = []
  private headers: Readonly<Record<string, string>> = {}
  private readonly trusted: (address: string, hop: number) => boolean

  /** trustProxy: the proxies' addresses, as TRUST_PROXY and Fastify's option of that name take them. */
  constructor ({ trustProxy = '' }: { trustProxy?: string } = {}) {
    this.trusted = trustProxy === '' ? () => false : proxyAddr.compile(trustProxy.split(',').map(entry => entry.trim()))
  }

  /** Refuses `method url` (the whole url, as a route is called) whenever `guard` names a problem. */
  guard (method: string, url: string, guard: DoorGuard): void {
    let byMethod = this.guards.get(url)
    if (byMethod === undefined) this.guards.set(url, byMethod = new Map())
    byMethod.set(method, guard)
  }

  /** Headers every refusal carries beside its own (those the app's hooks give every response). */
  addHeaders (headers: Readonly<Record<string, string>>): void {
    this.headers = { ...this.headers, ...headers }
  }

  /** Told of each refusal once its response is written. */
  onRefused (listener: (refusal: DoorRefusal) => void): void {
    this.listeners.push(listener)
  }

  /** Puts the door in front of the server's request listeners (Fastify's); returns what takes it away. */
  install (server: Server): () => void {
    const inner = server.listeners('request') as RequestListener[]
    const door: RequestListener = (request, response) => {
      if (this.refuses(request, response)) return
      for (const listener of inner) listener.call(server, request, response)
    }
    server.removeAllListeners('request')
    server.on('request', door)
    return () => {
      server.removeListener('request', door)
      for (const listener of inner) server.on('request', listener)
    }
  }

  /** Answers the request if a guard refuses it; says whether it did. */
  refuses (request: IncomingMessage, response: ServerResponse): boolean {
    const guard = this.guards.get(request.url ?? '')?.get(request.method ?? '')
    if (guard === undefined) return false
    const arrived = performance.now()
    const problem = guard()
    if (problem === undefined) return false
    const requestId = randomUUID()
    const body = JSON.stringify(problemBody({ url: request.url!, id: requestId }, problem))
    const resBytes = Buffer.byteLength(body)
    response.writeHead(problem.status, {
      ...this.headers,
      'content-type': PROBLEM_CONTENT_TYPE,
      'content-length': resBytes,
      ...(problem.retryAfterSeconds === undefined ? {} : { 'retry-after': String(problem.retryAfterSeconds) })
    })
    // Node.js reads and drops the body it did not read once the response has ended, keeping the connection.
    response.end(body)
    const refusal: DoorRefusal = {
      method: request.method!,
      route: request.url!,
      status: problem.status,
      durationMs: performance.now() - arrived,
      resBytes,
      requestId,
      headers: request.headers,
      scheme: this.scheme(request)
    }
    for (const listener of this.listeners) listener(refusal)
    return true
  }

  private scheme ({ headers, socket }: IncomingMessage): string {
    const forwarded = headers['x-forwarded-proto']
    // The last proxy's word, as Fastify reads it.
    if (typeof forwarded === 'string' && this.trusted(socket.remoteAddress ?? '', 0)) {
      return forwarded.slice(forwarded.lastIndexOf(',') + 1).trim()
    }
    return (socket as TLSSocket).encrypted === true ? 'https' : 'http'
  }
}
