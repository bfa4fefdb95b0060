// One log line per request when it completes, and the logging context (request id, session,
// pseudonymous user, command) that domain code adds to while it serves the request.
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import type { Logger } from 'pino'
import { countedStream } from '../src/http/counted-stream.js'
import { log, outsideAnyContext, runWithLogger, type LogFields } from '../src/logging/log-context.js'
import { LogPrivacy } from '../src/logging/log-privacy.js'
import { isUnserved, UnservedSampler, UNLOGGED_REQUESTS } from '../src/telemetry/unserved-sampler.js'
import { chatContentMode } from '../src/config.js'
import { PROBE_ROUTES } from '../src/health/probe-routes.js'

declare module 'fastify' {
  interface FastifyInstance {
    logPrivacy: LogPrivacy
  }
  interface FastifyRequest {
    logFields: LogFields
    /** Its `request completed` line was only counted, one of a flood's (src/telemetry/unserved-sampler.ts). */
    unlogged: boolean
  }
}

/** Every line logged while serving a request carries its id, and the caller's if it is one we keep. */
function requestFields (id: string, headers: IncomingHttpHeaders): LogFields {
  const given = headers['x-request-id']
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given)
    ? { req_id: id, client_request_id: given }
    : { req_id: id }
}

interface Completed { method: string, route: string, status: number, durationMs: number, resBytes: number }

/** The `request completed` line's fields. */
function completedLine (completed: Completed, fields: LogFields): Record<string, unknown> {
  const { method, route, status, durationMs, resBytes } = completed
  return { method, route, status, duration_ms: Math.round(durationMs * 10) / 10, res_bytes: resBytes, ...fields }
}

export default fp(async function requestLoggingPlugin (app) {
  const { LOG_USER_ID, LOG_ID_SECRET } = app.config
  // Without LOG_ID_SECRET the key comes from the database once it is open (plugins/pseudonym-key.ts).
  app.decorate('logPrivacy', new LogPrivacy({
    userIdMode: LOG_USER_ID,
    idSecret: LOG_ID_SECRET,
    chatContent: chatContentMode(app.config)
  }))

  app.decorateRequest('logFields', null as unknown as LogFields)
  app.decorateRequest('unlogged', false)
  app.addHook('onRequest', (request, _reply, done) => {
    // request.log is the app's logger (src/app.ts); the request's id is a field of its context.
    request.logFields = requestFields(request.id, request.headers)
    runWithLogger(request.log as Logger, done, request.logFields)
  })

  // A streamed body has no content-length: its bytes are counted on their way out.
  const streamedBytes = new WeakMap<FastifyRequest, number>()
  app.addHook('onSend', async (request, reply, payload) => {
    if (!(payload instanceof Readable) || reply.hasHeader('content-length')) return payload
    streamedBytes.set(request, 0)
    return countedStream(payload, bytes => { streamedBytes.set(request, bytes) })
  })

  // A flood of 4xx or 503 gets a few lines a second, and a count of the rest (src/telemetry/unserved-sampler.ts).
  // The count is no request's: written outside the context of the request whose turn closed the second.
  const unservedSampler = new UnservedSampler(app.config.UNSERVED_PER_SECOND, summary => {
    outsideAnyContext(() => { log('http', 'onResponse', app.log).info(summary, UNLOGGED_REQUESTS) })
  })
  app.addHook('onClose', async () => { unservedSampler.flush() })
  const logged = (method: string, route: string, status: number): boolean =>
    !isUnserved(status) || PROBE_ROUTES.has(route) || unservedSampler.admit(method, route, status)

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '(no route)'
    if (!logged(request.method, route, reply.statusCode)) {
      request.unlogged = true
      return
    }
    const line = completedLine({
      method: request.method,
      route,
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
      resBytes: streamedBytes.get(request) ?? Number(reply.getHeader('content-length') ?? 0)
    }, request.logFields)
    const logger = log('http', 'onResponse', request.log)
    // Probes would drown the lines people read; they stay available at debug.
    if (PROBE_ROUTES.has(route)) logger.debug(line, 'request completed')
    else logger.info(line, 'request completed')
  })

  // A request refused before Fastify saw it (plugins/refusal-door.ts) gets the same line.
  app.refusalDoor.onRefused(refusal => {
    if (!logged(refusal.method, refusal.route, refusal.status)) return
    const line = completedLine(refusal, requestFields(refusal.requestId, refusal.headers))
    log('http', 'onResponse', app.log).info(line, 'request completed')
  })
}, { name: 'request-logging', dependencies: ['config', 'refusal-door'] })
