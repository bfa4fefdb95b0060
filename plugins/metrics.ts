// The bot's metrics: instruments for the domain (app.metrics), the request counters and the
// in-flight gauge filled from Fastify's hooks, and what GET /metrics serves (app.serveMetrics):
// the SDK's meter provider when telemetry is on, else the process's own.
import fp from 'fastify-plugin'
import type { Meter } from '@opentelemetry/api'
import type { FastifyRequest } from 'fastify'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { telemetry } from '../src/telemetry/telemetry.js'
import { ProblemError } from '../src/errors.js'
import {
  createInstruments, localMetrics, parleyMeter, recordResponse, type Instruments
} from '../src/telemetry/metrics.js'
import { observeProcess } from '../src/health/process-resources.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Instruments
    /** For plugins that observe their own state (see plugins/session-manager.ts). */
    metricsMeter: Meter
    /** Writes the Prometheus text exposition of every metric to a raw response. */
    serveMetrics: (request: IncomingMessage, response: ServerResponse) => void
  }
}

export default fp(async function metricsPlugin (app) {
  app.decorate('serveMetrics', telemetry.serveMetrics ?? localMetrics())
  const meter = parleyMeter()
  const instruments = createInstruments(meter)
  app.decorate('metrics', instruments)
  app.decorate('metricsMeter', meter)

  observeProcess(meter)

  // A request is in flight until it is answered or its client goes away: an aborted upload never
  // reaches onResponse, and counted out only there, each one raised the gauge for good.
  const inFlight = new WeakSet<FastifyRequest>()
  const done = (request: FastifyRequest): void => {
    if (inFlight.delete(request)) instruments.inFlight.add(-1)
  }
  app.addHook('onRequest', async (request) => {
    inFlight.add(request)
    instruments.inFlight.add(1)
  })
  app.addHook('onRequestAbort', async (request) => { done(request) })
  app.addHook('onResponse', async (request, reply) => {
    done(request)
    // http.server.request.duration is recorded here rather than by the SDK's http instrumentation,
    // whose server side is off (otel/sdk.ts).
    recordResponse(instruments, {
      method: request.method,
      route: request.routeOptions.url,
      status: reply.statusCode,
      seconds: reply.elapsedTime / 1000,
      scheme: request.protocol
    })
  })
  // A request refused before Fastify saw it (plugins/refusal-door.ts) is counted the same way.
  app.refusalDoor.onRefused(({ method, route, status, durationMs, scheme }) => {
    recordResponse(instruments, { method, route, status, seconds: durationMs / 1000, scheme })
  })
  app.addHook('onError', async (_request, reply, error) => {
    // A ProblemError is a deliberate answer (a 503 when shedding, say), not a failure.
    if (error instanceof ProblemError) return
    if ((error.statusCode ?? 500) >= 500 || reply.statusCode >= 500) instruments.errors.add(1, { type: error.name })
  })
}, { name: 'metrics', dependencies: ['refusal-door'] })
