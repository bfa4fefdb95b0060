// Under overload the bot refuses work it cannot do in time, within milliseconds, with 503 and
// Retry-After, instead of queueing until every caller times out: @fastify/under-pressure for the
// process's limits and the database check, and a bound on chat turns in flight. Probes and
// /status are never refused, so an orchestrator can tell "busy" from "dead" and an operator can
// see why.
import fp from 'fastify-plugin'
import underPressure, { TYPE_EVENT_LOOP_DELAY, TYPE_EVENT_LOOP_UTILIZATION, TYPE_HEALTH_CHECK, TYPE_HEAP_USED_BYTES, TYPE_RSS_BYTES } from '@fastify/under-pressure'
import { ProblemError } from '../src/errors.js'
import { loopSaturation } from '../src/health/loop-saturation.js'
import { SlidingHistogram } from '../src/health/sliding-window.js'
import { TurnLimiter } from '../src/health/turn-limiter.js'
import { isProbe } from '../src/probe-routes.js'
import type { ShedReason } from '../src/telemetry/metrics.js'

/** The bound on chat turns in flight (its run() throws the 503 problem), and the count of sheds. */
export interface TurnGate extends Pick<TurnLimiter, 'run' | 'inFlight' | 'limit'> {
  /** Requests shed for any reason, for the QueueBacklog alert. */
  readonly shed: SlidingHistogram
}

declare module 'fastify' {
  interface FastifyInstance {
    turnGate: TurnGate
  }
}

const REASONS: Record<string, ShedReason> = {
  [TYPE_EVENT_LOOP_DELAY]: 'event_loop_delay',
  [TYPE_EVENT_LOOP_UTILIZATION]: 'event_loop_utilization',
  [TYPE_HEAP_USED_BYTES]: 'heap_used',
  [TYPE_RSS_BYTES]: 'rss',
  [TYPE_HEALTH_CHECK]: 'database'
}
const DETAILS: Record<ShedReason, string> = {
  turns_in_flight: 'The bot is answering as many turns as it can (MAX_TURNS_IN_FLIGHT), and no slot came free in time; retry after the given seconds.',
  request_wait: 'The bot is answering as many requests as it can (this one waited over MAX_REQUEST_WAIT_MS); retry after the given seconds.',
  event_loop_delay: 'The server is overloaded (event-loop delay over MAX_EVENT_LOOP_DELAY_MS); retry after the given seconds.',
  event_loop_utilization: 'The server is overloaded (event-loop utilization over MAX_EVENT_LOOP_UTILIZATION); retry after the given seconds.',
  heap_used: 'The server is short of memory (heap over MAX_HEAP_USED_BYTES); retry after the given seconds.',
  rss: 'The server is short of memory (RSS over MAX_RSS_BYTES); retry after the given seconds.',
  database: 'The database does not answer; retry after the given seconds.'
}

// The wait allowed behind others in one loop turn while the loop is saturated: enough for cheap
// requests ahead (a probe, a session read), not for a chat turn.
const SATURATED_WAIT_MS = 1

// Probes, and /status, which an operator needs most when the bot is overloaded.
const exempt = (url: string, route: string | undefined): boolean => isProbe(url) || route === '/status'

export default fp(async function loadSheddingPlugin (app) {
  const config = app.config
  const retryAfterSeconds = config.SHED_RETRY_AFTER
  const shed = new SlidingHistogram({ horizonMs: 3_600_000, now: () => app.clock().getTime() })
  const refuse = (reason: ShedReason): ProblemError => {
    app.metrics.shedRequests.add(1, { reason })
    shed.record()
    return new ProblemError({ status: 503, type: 'overloaded', title: 'Service Unavailable', detail: DETAILS[reason], extensions: { reason, retry_after_seconds: retryAfterSeconds }, retryAfterSeconds })
  }

  await app.register(underPressure, {
    maxEventLoopDelay: config.MAX_EVENT_LOOP_DELAY_MS,
    maxEventLoopUtilization: config.MAX_EVENT_LOOP_UTILIZATION,
    maxHeapUsedBytes: config.MAX_HEAP_USED_BYTES,
    maxRssBytes: config.MAX_RSS_BYTES,
    // The cached result of the database plugin's own check: no query per under-pressure tick.
    healthCheck: async () => app.databaseHealth.current().up,
    healthCheckInterval: 1000,
    pressureHandler: async (request, _reply, type) => {
      if (exempt(request.url, request.routeOptions.url)) return
      throw refuse(REASONS[type] ?? 'event_loop_delay')
    }
  })

  // PGlite answers a turn without yielding to the event loop, so its backlog never shows as turns
  // in flight: it waits in the sockets, and each loop turn serves every request that is ready, one
  // after another. A request reached later than MAX_REQUEST_WAIT_MS into such a batch has waited at
  // least that long: shedding it (cheap) ends the batch sooner, so the next requests are answered
  // in time instead of everyone waiting for everyone. setImmediate runs when the batch is over.
  //
  // That limit lets a burst through. A standing queue is another matter (CoDel's insight): when the
  // event loop has been busy through the last 100 ms, every request waited, in the sockets, about
  // as long as the last batch took, so a batch may take one turn and what comes after it in the
  // same loop turn is refused, which keeps the answered ones within about two turns' time. Only on
  // PGlite: on server PostgreSQL turns overlap, a request is reached late behind the others'
  // continuations rather than their whole turns, and bench:overload answered less and later with it.
  let batchStarted: number | undefined
  if (config.MAX_REQUEST_WAIT_MS > 0) {
    const saturation = app.db.engine === 'pglite' ? loopSaturation() : undefined
    app.addHook('onClose', async () => { saturation?.stop() })
    app.addHook('onRequest', async request => {
      const now = performance.now()
      if (batchStarted === undefined) {
        batchStarted = now
        setImmediate(() => { batchStarted = undefined })
      } else if (now - batchStarted > (saturation?.now() === true ? SATURATED_WAIT_MS : config.MAX_REQUEST_WAIT_MS) && !exempt(request.url, request.routeOptions.url)) {
        throw refuse('request_wait')
      }
    })
  }

  const limiter = new TurnLimiter({ limit: config.MAX_TURNS_IN_FLIGHT, maxWaitMs: config.MAX_REQUEST_WAIT_MS, refuse: () => refuse('turns_in_flight') })
  app.decorate('turnGate', {
    run: async turn => await limiter.run(turn),
    inFlight: () => limiter.inFlight(),
    limit: limiter.limit,
    shed
  } satisfies TurnGate)

  const meter = app.metricsMeter
  const inFlightGauge = meter.createObservableGauge('chatbot_turns_in_flight', { description: 'Chat turns being answered now' })
  const limitGauge = meter.createObservableGauge('chatbot_turns_in_flight_limit', { description: 'MAX_TURNS_IN_FLIGHT: turns past it are shed' })
  const observe = (result: { observe: (gauge: typeof inFlightGauge, value: number) => void }) => {
    result.observe(inFlightGauge, limiter.inFlight())
    result.observe(limitGauge, limiter.limit)
  }
  meter.addBatchObservableCallback(observe, [inFlightGauge, limitGauge])
  app.addHook('onClose', async () => { meter.removeBatchObservableCallback(observe, [inFlightGauge, limitGauge]) })
}, { name: 'load-shedding', dependencies: ['config', 'metrics', 'database', 'error-handler'] })
